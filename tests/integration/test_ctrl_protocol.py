"""§2 framing and tokenising, §3 response formats, §4.9 noop/quit."""

import time

from ctrlclient import check, build_line


def uservars(c, dom, user):
    return dict((r[0], r[1]) for r in c.records("uservars", dom, user))


def raw_uservars(c, dom, user):
    return c.listing("uservars", dom, user)


# ---------------------------------------------------------------- noop / quit

def test_noop(c):
    r = c.cmd("noop")
    assert r.line == "+00000 OK"
    c.expect(-103, "noop", "x")


def test_quit(server):
    with server.connect() as cl:
        r = cl.cmd("quit")
        assert r.line == "+00000 OK"
        assert cl.at_eof()


def test_quit_with_argument_is_syntax_error(c):
    c.expect(-103, "quit", "now")
    check(c.cmd("noop"), 0)
    check(c.raw_cmd("QUIT"), 0)
    assert c.at_eof()


# ---------------------------------------------------------------- line ends

def test_line_end_variants(c):
    for ending in (b"\r\n", b"\n", b"\r\r\n"):
        c.send_raw(b'"noop"' + ending)
        assert c.read_resp().line == "+00000 OK"


def test_cr_alone_does_not_end_line(c):
    c.send_raw(b"noop\rnoop\r\n")
    check(c.read_resp(), -103)
    check(c.cmd("noop"), 0)


def test_empty_listing_bytes(c, unique_name):
    c.send_line(build_line("userlist", unique_name() + ".nosuch"))
    data = b""
    deadline = time.time() + 5
    while not data.endswith(b".\r\n") and time.time() < deadline:
        chunk = c.sock.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data == b"+00100 OK\r\n.\r\n"


# ---------------------------------------------------------------- tokenising

def test_case_insensitive_command_names(c, dom):
    for name in ("NOOP", "NoOp", "noop"):
        check(c.cmd(name), 0)
    c.ok("UserAdd", dom, "ci", "pw", "U")
    assert c.records("USERLIST", dom) == [[dom, "ci", "********", "U"]]


def test_unquoted_fields(c, dom):
    check(c.raw_cmd(f"useradd\t{dom}\tbob\tpw\tU"), 0)
    r = c.raw_cmd(f"userlist\t{dom}")
    assert r.lines == [f'"{dom}"\t"bob"\t"********"\t"U"']
    check(c.raw_cmd(f"userauth\t{dom}\tbob\tpw"), 0)


def test_runs_of_tabs_collapse(c, dom):
    check(c.raw_cmd(f'\t\t"useradd"\t\t"{dom}"\t\t\t"tab"\t"pw"\t\t"U"\t'), 0)
    check(c.raw_cmd(f'"uservarsset"\t"{dom}"\t\t"tab"\t"V1"\t\t\t"one"\t\t'), 0)
    assert uservars(c, dom, "tab")["V1"] == "one"
    # an "empty field" between two TABs disappears, shifting the rest left:
    # this is 4 fields (useradd dom x pw) -> wrong count
    check(c.raw_cmd(f'"useradd"\t"{dom}"\t\t"x"\t"pw"'), -103)


def test_quoting_rules(c, dom):
    c.ok("useradd", dom, "q", "pw", "U")
    # \" becomes ", other backslashes stay as they are
    check(c.raw_cmd(f'"uservarsset"\t"{dom}"\t"q"\t"Quoted"\t"say \\"hi\\" and \\\\ backslash"'), 0)
    # text after the closing quote is dropped
    check(c.raw_cmd(f'"uservarsset"\t"{dom}"\t"q"\t"Trail"\t"abc"def'), 0)
    # unquoted field: verbatim, quotes included
    check(c.raw_cmd(f'"uservarsset"\t"{dom}"\t"q"\tUnq\tx"y'), 0)
    # quoted empty string is an empty value
    check(c.raw_cmd(f'"uservarsset"\t"{dom}"\t"q"\t"Empty"\t""'), 0)
    v = uservars(c, dom, "q")
    assert v["Quoted"] == 'say "hi" and \\\\ backslash'
    assert v["Trail"] == "abc"
    assert v["Unq"] == 'x"y'
    assert v["Empty"] == ""
    # listings do not escape embedded quotes
    raw = raw_uservars(c, dom, "q")
    assert '"Quoted"\t"say "hi" and \\\\ backslash"' in raw
    assert '"Unq"\t"x"y"' in raw


def test_client_quote_helper_roundtrip(c, dom):
    c.ok("useradd", dom, "h", "pw", "U")
    val = 'a"b\\c'
    c.ok("uservarsset", dom, "h", "V", val)
    assert uservars(c, dom, "h")["V"] == val


# ---------------------------------------------------------------- pipelining

def test_pipelined_commands(c, dom):
    c.send_raw((f'noop\r\n"domainlist"\t"{dom}"\r\nbogus\r\n'
                f'"useradd"\t"{dom}"\t"pipe"\t"pw"\t"U"\r\n'
                f'"userlist"\t"{dom}"\r\nNOOP\n').encode())
    check(c.read_answer(), 0)
    r = c.read_answer()
    check(r, 100)
    assert r.lines == [f'"{dom}"']
    check(c.read_answer(), -103)
    check(c.read_answer(), 0)
    r = c.read_answer()
    assert r.lines == [f'"{dom}"\t"pipe"\t"********"\t"U"']
    check(c.read_answer(), 0)


def test_pipelined_upload(server, c, unique_name):
    name = unique_name("pu") + ".tab"
    c.send_raw((f'"cfgfileset"\t"{name}"\r\nline1\r\n..dotted\r\n.\r\n'
                f'"cfgfileget"\t"{name}"\r\nnoop\r\n').encode())
    check(c.read_resp(), 101)
    check(c.read_resp(), 0)
    r = c.read_answer()
    assert r.lines == ["line1", ".dotted"]
    check(c.read_answer(), 0)


def test_many_sessions_in_parallel(server, dom):
    import threading
    errors = []

    def worker(i):
        try:
            with server.connect(family=4 if i % 2 else 6) as cl:
                for j in range(10):
                    check(cl.cmd("useradd", dom, f"par{i}x{j}", "pw", "U"), 0)
                check(cl.cmd("quit"), 0)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors
    with server.connect() as cl:
        users = cl.records("userlist", dom)
        assert len(users) == 80
        assert cl.records("usercount", dom) == [[dom, "80"]]
