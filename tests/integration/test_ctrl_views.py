"""cfgfileget/cfgfileset of the table views that render the store in XMail's
tab format (mailusers.tab, aliases.tab, extaliases.tab, domains.tab,
aliasdomain.tab, pop3links.tab, server.tab, ctrl.ipmap.tab)."""

import re

import pytest

from ctrlclient import Client, PLACEHOLDER, check, xmail_encode

MAILUSERS_RE = re.compile(r'^"([^"\t]*)"\t"([^"\t]*)"\t"([^"\t]*)"\t(\d+)\t"([^"\t]*)"\t"([UM])"$')


def add_user(c, dom, user, pw="pw", typ="U"):
    check(c.cmd("useradd", dom, user, pw, typ), 0, f"useradd {user}")


def check_bad_file(r, lineno):
    """-00020 for a refused upload; if the text names a line it must be the
    first bad one (1-based)."""
    check(r, -20)
    m = re.search(r"\(line (\d+)\)", r.text)
    if m:
        assert int(m.group(1)) == lineno, f"{r.line}: first bad line is {lineno}"


def view(c, name):
    return c.listing("cfgfileget", name)


def mailusers(c):
    lines = view(c, "mailusers.tab")
    rows = []
    for l in lines:
        if not l or l.startswith("#"):
            continue
        m = MAILUSERS_RE.match(l)
        assert m, f"bad mailusers.tab line {l!r}"
        rows.append(m.groups())
    return lines, rows


# ---------------------------------------------------------------- mailusers.tab

def test_xmail_encoding_helper():
    assert xmail_encode("alicepw") == "04090c06001512"


def test_mailusers_view_format(c, dom):
    add_user(c, dom, "alice", "alicepw")
    add_user(c, dom, "Lister", "x", "M")
    lines, rows = mailusers(c)
    mine = [l for l in lines if l.startswith(f'"{dom}"\t')]
    assert len(mine) == 2
    m = MAILUSERS_RE.match(mine[0])
    assert m.groups()[:3] == (dom, "alice", PLACEHOLDER)
    assert mine[0] == f'"{dom}"\t"alice"\t"{PLACEHOLDER}"\t{m.group(4)}\t"alice"\t"U"'
    m2 = MAILUSERS_RE.match(mine[1])
    assert (m2.group(2), m2.group(5), m2.group(6)) == ("Lister", "Lister", "M")
    ids = [int(r[3]) for r in rows]
    assert all(i > 0 for i in ids)
    assert len(set(ids)) == len(ids), "user ids must be unique"
    assert int(m2.group(4)) > int(m.group(4)), "ids grow in creation order"
    joined = "\n".join(lines)
    assert "alicepw" not in joined and xmail_encode("alicepw") not in joined


def test_mailusers_view_import(c, dom):
    add_user(c, dom, "keep", "keeppw")
    add_user(c, dom, "change", "oldpw")
    lines, rows = mailusers(c)
    next_id = max(int(r[3]) for r in rows) + 1
    new_lines = []
    for l in lines:
        if l.startswith(f'"{dom}"\t"change"\t'):
            l = l.replace(f'"{PLACEHOLDER}"', f'"{xmail_encode("newpw")}"')
        new_lines.append(l)
    new_lines.append(f'"{dom}"\t"imported"\t"04090c06001512"\t{next_id}\t"imported"\t"U"')
    check(c.upload(("cfgfileset", "mailusers.tab"), new_lines), 0)
    c.ok("userauth", dom, "imported", "alicepw")
    c.ok("userauth", dom, "keep", "keeppw")          # placeholder keeps the password
    c.ok("userauth", dom, "change", "newpw")
    c.expect(-24, "userauth", dom, "change", "oldpw")
    assert [u[1] for u in c.records("userlist", dom)] == ["keep", "change", "imported"]
    _, rows2 = mailusers(c)
    assert (dom, "imported", PLACEHOLDER, str(next_id), "imported", "U") in rows2
    # the imported account is a working account
    c.ok("uservarsset", dom, "imported", "RealName", "Imp")
    c.ok("userpasswd", dom, "imported", "again")
    c.ok("userauth", dom, "imported", "again")


def test_mailusers_view_remove_line(c, dom):
    add_user(c, dom, "a1")
    add_user(c, dom, "a2")
    lines, _ = mailusers(c)
    new_lines = [l for l in lines if not l.startswith(f'"{dom}"\t"a1"\t')]
    assert len(new_lines) == len(lines) - 1
    check(c.upload(("cfgfileset", "mailusers.tab"), new_lines), 0)
    assert [u[1] for u in c.records("userlist", dom)] == ["a2"]
    c.expect(-157, "userauth", dom, "a1", "pw")
    c.ok("userauth", dom, "a2", "pw")


@pytest.mark.parametrize("bad", [
    '"{dom}"\t"bad"\t"0000"',                                   # too few fields
    '"{dom}"\t"bad"\t"zz"\t{id}\t"bad"\t"U"',                   # not hex
    '"{dom}"\t"bad"\t"123"\t{id}\t"bad"\t"U"',                  # odd hex length
    '"{dom}"\t"bad"\t"0000"\tnotanumber\t"bad"\t"U"',           # id not numeric
    '"{dom}"\t"bad user"\t"0000"\t{id}\t"bad"\t"U"',            # bad user name
    '"{dom}"\t"GOOD"\t"0000"\t{id}\t"GOOD"\t"U"',               # duplicate account
    '"{dom}"\t"newbie"\t"********"\t{id}\t"newbie"\t"U"',        # new account, no password
    '"{dom}"\t"bad"\t"0000"\t{id}\t"bad"\t"X"',                 # bad type
])
def test_mailusers_view_bad_upload_changes_nothing(c, dom, bad):
    add_user(c, dom, "orig", "origpw")
    lines, rows = mailusers(c)
    next_id = max(int(r[3]) for r in rows) + 1
    upload = [l for l in lines if not l.startswith(f'"{dom}"\t"orig"\t')]   # a deletion ...
    upload.append(f'"{dom}"\t"good"\t"04090c06001512"\t{next_id}\t"good"\t"U"')  # an add ...
    upload.append(bad.format(dom=dom, id=next_id + 1))                          # ... and junk
    r = c.upload(("cfgfileset", "mailusers.tab"), upload)
    check_bad_file(r, len(upload))
    assert [u[1] for u in c.records("userlist", dom)] == ["orig"]
    c.ok("userauth", dom, "orig", "origpw")
    c.expect(-157, "userauth", dom, "good", "alicepw")
    assert view(c, "mailusers.tab") == lines


# ---------------------------------------------------------------- other views

def test_aliases_view(c, dom):
    add_user(c, dom, "t")
    c.ok("aliasadd", dom, "a1", "t")
    lines = view(c, "aliases.tab")
    assert f'"{dom}"\t"a1"\t"t"' in lines
    new = lines + [f'"{dom}"\t"a2"\t"t@{dom}"']
    check(c.upload(("cfgfileset", "aliases.tab"), new), 0)
    assert c.records("aliaslist", dom) == [[dom, "a1", "t"], [dom, "a2", f"t@{dom}"]]
    assert c.records("userstat", dom, "a2")[0] == ["RealAddress", f"t@{dom}"]
    r = c.upload(("cfgfileset", "aliases.tab"), lines + [f'"{dom}"\t"a3"', '"x"'])
    check_bad_file(r, len(lines) + 1)
    assert [a[1] for a in c.records("aliaslist", dom)] == ["a1", "a2"]


def test_domains_view(c, dom, unique_name):
    lines = view(c, "domains.tab")
    assert f'"{dom}"' in lines
    newdom = unique_name("vd") + ".test"
    check(c.upload(("cfgfileset", "domains.tab"), lines + [f'"{newdom}"']), 0)
    assert [d[0] for d in c.records("domainlist", newdom)] == [newdom]
    add_user(c, newdom, "u")
    cur = view(c, "domains.tab")
    r = c.upload(("cfgfileset", "domains.tab"), cur + ['"bad domain.test"'])
    check_bad_file(r, len(cur) + 1)
    assert c.records("domainlist", "bad domain.test") == []


def test_extaliases_view(c, dom):
    add_user(c, dom, "loc")
    c.ok("exaliasadd", f"loc@{dom}", "rem@remote.example")
    lines = view(c, "extaliases.tab")
    assert f'"remote.example"\t"rem"\t"{dom}"\t"loc"' in lines


def test_aliasdomain_view(c, dom, unique_name):
    ad = unique_name("ad") + ".test"
    c.ok("aliasdomainadd", dom, ad)
    lines = view(c, "aliasdomain.tab")
    assert f'"{ad}"\t"{dom}"' in lines


def test_server_tab_roundtrip(c, unique_name):
    r = c.cmd("cfgfileget", "server.tab")
    check(r, 100)
    original = r.lines
    for l in original:
        if l and not l.startswith("#"):
            assert re.match(r'^"[^"\t]*"\t"[^\t]*"$', l), l
    value = unique_name("root") + ".test"
    new = [l for l in original if not l.startswith('"RootDomain"\t')] + \
          [f'"RootDomain"\t"{value}"']
    try:
        check(c.upload(("cfgfileset", "server.tab"), new), 0)
        assert f'"RootDomain"\t"{value}"' in view(c, "server.tab")
    finally:
        check(c.upload(("cfgfileset", "server.tab"), original), 0)
    assert view(c, "server.tab") == original


# ---------------------------------------------------------------- ctrl.ipmap.tab

IPMAP_LINE_RE = re.compile(r'^"[^"\t]+"\t"[^"\t]*"\t"(ALLOW|DENY|allow|deny|Allow|Deny)"\t\d+$')


def _ipmap_restore(srv, original):
    with srv.connect(family=6) as c6:
        check(c6.upload(("cfgfileset", "ctrl.ipmap.tab"), original), 0)


def _refused(srv, family):
    host = "127.0.0.1" if family == 4 else "::1"
    cl = Client(host, srv.port, read_greeting=False)
    with cl:
        r = cl.read_resp()
        if r.code == -130:
            check(r, -130)
            assert cl.at_eof()
            return True
        assert r.line.startswith("+00000 <"), r.line
        return False


def test_ctrl_ipmap_deny_ipv4_allow_ipv6(fresh_server):
    srv = fresh_server
    with srv.connect(family=6) as c6:
        r = c6.cmd("cfgfileget", "ctrl.ipmap.tab")
        assert r.code in (100, -19), r.line
        original = r.lines or []
        rules = ['"127.0.0.1"\t"255.255.255.255"\t"DENY"\t1',
                 '"::/0"\t"0"\t"DENY"\t1',
                 '"::1/128"\t"0"\t"ALLOW"\t2']
        check(c6.upload(("cfgfileset", "ctrl.ipmap.tab"), rules), 0)
    try:
        assert _refused(srv, 4), "IPv4 peer must be refused with -00130"
        assert not _refused(srv, 6)
        with srv.connect(family=6) as c6:
            check(c6.cmd("noop"), 0)
            shown = c6.listing("cfgfileget", "ctrl.ipmap.tab")
            assert rules[0] in shown, shown
            assert len([l for l in shown if l and not l.startswith("#")]) == 3
            assert all(IPMAP_LINE_RE.match(l) for l in shown if l and not l.startswith("#")), shown
        # the CTRLS port obeys the same map
        with Client("127.0.0.1", srv.tls_port, tls=True, read_greeting=False) as ct:
            check(ct.read_resp(), -130)
    finally:
        _ipmap_restore(srv, original)
    assert not _refused(srv, 4)
    with srv.connect(family=4) as c4:
        check(c4.cmd("noop"), 0)


def test_ctrl_ipmap_tie_later_line_wins_and_bad_upload(fresh_server):
    srv = fresh_server
    with srv.connect(family=6) as c6:
        r = c6.cmd("cfgfileget", "ctrl.ipmap.tab")
        original = r.lines or []
        # invalid map (3 fields) is refused and changes nothing
        r = c6.upload(("cfgfileset", "ctrl.ipmap.tab"),
                      ['"0.0.0.0/0"\t"0"\t"DENY"\t1', '"127.0.0.1"\t"255.255.255.255"\t"DENY"'])
        check_bad_file(r, 2)
    assert not _refused(srv, 4)
    with srv.connect(family=6) as c6:
        check(c6.upload(("cfgfileset", "ctrl.ipmap.tab"),
                        ['"127.0.0.1"\t"255.255.255.255"\t"ALLOW"\t5',
                         '"0.0.0.0/0"\t"0"\t"DENY"\t5']), 0)
    try:
        assert _refused(srv, 4), "on equal precedence the later line decides"
        assert not _refused(srv, 6), "no matching rule means allowed"
        with srv.connect(family=6) as c6:
            check(c6.upload(("cfgfileset", "ctrl.ipmap.tab"),
                            ['"0.0.0.0/0"\t"0"\t"DENY"\t5',
                             '"127.0.0.1"\t"255.255.255.255"\t"ALLOW"\t5']), 0)
        assert not _refused(srv, 4)
    finally:
        _ipmap_restore(srv, original)


# ---------------------------------------------------------------- server.tab effects

def test_server_tab_bad_value_refused(c):
    original = view(c, "server.tab")
    bad = [l for l in original if not l.startswith('"EnableCTRL-TLS"\t')] + \
          ['"EnableCTRL-TLS"\t"maybe"']
    r = c.upload(("cfgfileset", "server.tab"), bad)
    check_bad_file(r, len(bad))
    assert view(c, "server.tab") == original


def test_enable_ctrl_tls_off_refuses_upgrade(server, c):
    original = view(c, "server.tab")
    off = [l for l in original if not l.startswith('"EnableCTRL-TLS"\t')] + ['"EnableCTRL-TLS"\t"0"']
    check(c.upload(("cfgfileset", "server.tab"), off), 0)
    try:
        with Client("127.0.0.1", server.port) as cl:
            cl.send_line("#!TLS")
            check(cl.read_resp(), -249)
        # the CTRLS port is not an upgrade and keeps working
        with server.connect(tls=True) as ct:
            check(ct.cmd("noop"), 0)
    finally:
        check(c.upload(("cfgfileset", "server.tab"), original), 0)
    with Client("127.0.0.1", server.port) as cl:
        assert cl.starttls().line == "+00000 Ready to start TLS mode"
        check(cl.login("admin", "secret"), 0)


def test_extaliases_and_aliasdomain_view_upload(c, dom, unique_name):
    add_user(c, dom, "loc")
    ex = view(c, "extaliases.tab")
    check(c.upload(("cfgfileset", "extaliases.tab"),
                   ex + [f'"remote2.example"\t"who"\t"{dom}"\t"loc"']), 0)
    assert c.records("exaliaslist", f"*@{dom}") == [["remote2.example", "who", dom, "loc"]]
    r = c.upload(("cfgfileset", "extaliases.tab"), ex + ['"remote3.example"\t"who"\t"x"'])
    check_bad_file(r, len(ex) + 1)
    assert c.records("exaliaslist", f"*@{dom}") == [["remote2.example", "who", dom, "loc"]]

    ad = unique_name("vad") + ".test"
    cur = view(c, "aliasdomain.tab")
    check(c.upload(("cfgfileset", "aliasdomain.tab"), cur + [f'"{ad}"\t"{dom}"']), 0)
    assert c.records("aliasdomainlist", dom) == [[dom, ad]]
    c.ok("userauth", ad, "loc", "pw")
    r = c.upload(("cfgfileset", "aliasdomain.tab"), view(c, "aliasdomain.tab") + ['"only-one-field.test"'])
    check(r, -20)
    assert c.records("aliasdomainlist", dom) == [[dom, ad]]
