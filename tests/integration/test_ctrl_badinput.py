"""Malformed command lines: over-long lines, bytes > 127, NUL, unknown
commands, wrong argument counts, empty lines, unbalanced quotes.  Every case
must answer one error line and keep the session usable."""

import pytest

from ctrlclient import check


def assert_alive(c):
    check(c.cmd("noop"), 0, "noop after bad input")


def test_line_of_4092_bytes_accepted(c):
    prefix = '"aliaslist"\t"'
    line = prefix + "x" * (4092 - len(prefix) - 1) + '"'
    assert len(line) == 4092
    r = c.raw_cmd(line)
    check(r, 100)
    assert r.lines == []
    assert_alive(c)


def test_line_of_4093_bytes_too_long(c):
    prefix = '"aliaslist"\t"'
    line = prefix + "x" * (4093 - len(prefix) - 1) + '"'
    assert len(line) == 4093
    check(c.raw_cmd(line), -162)
    assert_alive(c)


@pytest.mark.parametrize("size", [5000, 70000, 1_000_000])
def test_very_long_line(c, size):
    c.send_raw(b'"noop"\t' + b"A" * size + b"\r\n")
    check(c.read_resp(), -162)
    # exactly one answer for the long line, then the session is in sync
    assert_alive(c)
    assert_alive(c)


def test_long_line_tail_is_discarded(c, dom):
    c.send_raw(b'"noop"' + b"\t" + b"y" * 6000 + f'\t"domaindel"\t"{dom}"'.encode() + b"\r\n")
    check(c.read_resp(), -162)
    assert_alive(c)
    assert [d[0] for d in c.records("domainlist", dom)] == [dom]


@pytest.mark.parametrize("bad", [b'"noop"\xe9', b'"useradd"\t"d\xc3\xa9.test"\t"u"\t"p"\t"U"',
                                 b"\xff", b'"noop"\t"\x80"'])
def test_high_bytes(c, bad):
    c.send_raw(bad + b"\r\n")
    check(c.read_resp(), -190)
    assert_alive(c)


@pytest.mark.parametrize("bad", [b'"noop"\x00', b'\x00"noop"', b'"noop"\x00\t"x"',
                                 b'"domainlist"\t"a\x00b"'])
def test_nul_byte(c, bad):
    c.send_raw(bad + b"\r\n")
    check(c.read_resp(), -190)
    assert_alive(c)


def test_high_byte_does_not_change_state(c, dom):
    c.send_raw(f'"useradd"\t"{dom}"\t"us\xe9r"\t"p"\t"U"\r\n'.encode("latin-1"))
    check(c.read_resp(), -190)
    c.send_raw(f'"useradd"\t"{dom}"\t"user"\t"p\x00w"\t"U"\r\n'.encode("latin-1"))
    check(c.read_resp(), -190)
    assert c.records("userlist", dom) == []


@pytest.mark.parametrize("line", [
    b"", b"   ", b'"   "', b"\t", b"\t\t\t", b"nosuchcommand", b'"nosuchcommand"\t"x"',
    b'"noop"\t"extra"', b"noop x", b'"userlist"\t"a"\t"b"\t"c"\t"d"\t"e"',
    b'""', b'"domainadd"', b"helo example.test",
])
def test_syntax_errors(c, line):
    c.send_raw(line + b"\r\n")
    check(c.read_resp(), -103)
    assert_alive(c)


@pytest.mark.parametrize("line", [b'"noop', b'"domainlist"\t"abc', b'"userlist"\t"abc\t"*"', b'"NOOP'])
def test_unbalanced_quote(c, line):
    c.send_raw(line + b"\r\n")
    check(c.read_resp(), -103)
    assert_alive(c)


def test_unbalanced_quote_changes_nothing(c, dom):
    c.send_raw(f'"useradd"\t"{dom}"\t"bob\t"pw"\t"U"\r\n'.encode())
    check(c.read_resp(), -103)
    c.send_raw(f'"useradd"\t"{dom}"\t"bob"\t"pw"\t"U\r\n'.encode())
    check(c.read_resp(), -103)
    assert c.records("userlist", dom) == []


def test_etrn_arguments_and_frozen_path_tricks(c):
    # etrn needs at least one pattern; with patterns it answers +00000
    check(c.cmd("etrn"), -103, "etrn")
    check(c.cmd("etrn", "*.test"), 0, "etrn")
    check(c.cmd("etrn", "*@a.test", "b.test"), 0, "etrn")
    # frozen-message names are plain spool ids: no path can leave the spool
    for cmd in ("frozgetmsg", "frozgetlog", "frozdel", "frozsubmit"):
        check(c.cmd(cmd, "0", "0", "../../../../tern.db"), -214, cmd)
        check(c.cmd(cmd, "0", "0", "/etc/passwd"), -214, cmd)
        check(c.cmd(cmd, "x", "0", "msg"), -103, cmd)
    for cmd in ("frozgetmsg", "frozgetlog", "frozdel"):
        check(c.cmd(cmd, "0", "0", "no-such-msg"), -19, cmd)
    check(c.cmd("frozsubmit", "0", "0", "no-such-msg"), -164)
    assert_alive(c)


def test_many_errors_keep_session(c):
    for i in range(50):
        c.send_raw(b"bogus%d\r\n" % i)
    for i in range(50):
        check(c.read_resp(), -103)
    assert_alive(c)
