"""§4.6 POP3 links: poplnkadd, poplnkdel, poplnklist, poplnkenable."""

import re

import pytest

from ctrlclient import PLACEHOLDER, check


@pytest.fixture
def pdom(c, dom):
    for u in ("alice", "bob"):
        check(c.cmd("useradd", dom, u, "pw", "U"), 0)
    return dom


def links(c, *f):
    return c.records("poplnklist", *f)


def test_poplnkadd_and_list(c, pdom):
    c.ok("poplnkadd", pdom, "alice", "pop.example.net", "ralice", "remote-secret", "CLR")
    c.ok("poplnkadd", pdom, "alice", "pop2.example.net:995", "ra2", "x", "POP3S,Leave")
    rows = links(c, pdom)
    assert rows == [
        [pdom, "alice", "pop.example.net", "ralice", PLACEHOLDER, "CLR", "ON"],
        [pdom, "alice", "pop2.example.net:995", "ra2", PLACEHOLDER, "POP3S,Leave", "ON"]]
    raw = c.listing("poplnklist", pdom)
    assert raw[0] == (f'"{pdom}"\t"alice"\t"pop.example.net"\t"ralice"\t'
                      f'"{PLACEHOLDER}"\t"CLR"\t"ON"')
    assert "remote-secret" not in "\n".join(raw)


def test_poplnkadd_duplicate(c, pdom):
    c.ok("poplnkadd", pdom, "alice", "pop.example.net", "r", "x", "CLR")
    c.expect(-44, "poplnkadd", pdom.upper(), "ALICE", "POP.example.net", "R", "y", "APOP")
    assert len(links(c, pdom)) == 1
    # another remote user on the same host is fine
    c.ok("poplnkadd", pdom, "alice", "pop.example.net", "r2", "x", "CLR")
    assert len(links(c, pdom)) == 2


def test_poplnkadd_unknown_local_user(c, pdom):
    c.expect(-157, "poplnkadd", pdom, "nobody", "pop.example.net", "r", "x", "CLR")
    assert links(c, pdom) == []


def test_poplnkadd_special_local_domain(c, unique_name):
    spool = "@" + unique_name("sp") + ".test"
    c.ok("poplnkadd", spool, "someone", "pop.example.net", "r", "x", "CLR")
    assert links(c, spool) == [[spool, "someone", "pop.example.net", "r", PLACEHOLDER, "CLR", "ON"]]
    c.ok("poplnkdel", spool, "someone", "pop.example.net", "r")
    assert links(c, spool) == []


def test_poplnkadd_arg_count(c, pdom):
    c.expect(-103, "poplnkadd", pdom, "alice", "h", "u", "p")
    c.expect(-103, "poplnkadd", pdom, "alice", "h", "u", "p", "CLR", "extra")
    assert links(c, pdom) == []


def test_poplnkdel(c, pdom):
    c.ok("poplnkadd", pdom, "alice", "h1.example.net", "r1", "x", "CLR")
    c.ok("poplnkadd", pdom, "alice", "h2.example.net", "r2", "x", "CLR")
    c.ok("poplnkdel", pdom, "Alice", "H1.example.net", "R1")
    assert [l[2] for l in links(c, pdom)] == ["h2.example.net"]
    c.expect(-46, "poplnkdel", pdom, "alice", "h1.example.net", "r1")
    c.expect(-46, "poplnkdel", pdom, "bob", "h2.example.net", "r2")
    c.expect(-103, "poplnkdel", pdom, "alice", "h2.example.net")
    assert [l[2] for l in links(c, pdom)] == ["h2.example.net"]


def test_poplnklist_filters_exact(c, pdom, unique_name):
    other = unique_name("o") + ".test"
    c.ok("domainadd", other)
    c.ok("useradd", other, "carol", "pw", "U")
    c.ok("poplnkadd", pdom, "alice", "h.example.net", "ra", "x", "CLR")
    c.ok("poplnkadd", pdom, "bob", "h.example.net", "rb", "x", "CLR")
    c.ok("poplnkadd", other, "carol", "h.example.net", "rc", "x", "CLR")
    assert [l[1] for l in links(c, pdom)] == ["alice", "bob"]
    assert [l[1] for l in links(c, pdom.upper(), "BOB")] == ["bob"]
    assert links(c, pdom[:-1] + "*") == []           # no wildcards
    every = [l[1] for l in links(c)]
    assert {"alice", "bob", "carol"} <= set(every)
    c.expect(-103, "poplnklist", pdom, "alice", "x")


def test_poplnkenable(server, c, pdom):
    c.ok("poplnkadd", pdom, "alice", "h1.example.net", "r1", "x", "CLR")
    c.ok("poplnkadd", pdom, "alice", "h2.example.net", "r2", "x", "CLR")
    c.ok("poplnkadd", pdom, "bob", "h1.example.net", "rb", "x", "CLR")

    def state():
        return [(l[1], l[2], l[6]) for l in links(c, pdom)]

    c.ok("poplnkenable", "0", pdom, "alice", "h1.example.net", "r1")
    assert state() == [("alice", "h1.example.net", "OFF"), ("alice", "h2.example.net", "ON"),
                       ("bob", "h1.example.net", "ON")]
    c.ok("poplnkenable", "1", pdom, "alice", "h1.example.net")
    assert state()[0] == ("alice", "h1.example.net", "ON")
    # without the remote fields: all links of that user
    c.ok("poplnkenable", "0", pdom, "alice")
    assert state() == [("alice", "h1.example.net", "OFF"), ("alice", "h2.example.net", "OFF"),
                       ("bob", "h1.example.net", "ON")]
    c.ok("poplnkenable", "1", pdom, "ALICE")
    assert all(s[2] == "ON" for s in state())


def test_poplnkenable_errors(c, pdom):
    c.ok("poplnkadd", pdom, "alice", "h1.example.net", "r1", "x", "CLR")
    for bad in ("yes", "2", "", "-1", "01x"):
        c.expect(-230, "poplnkenable", bad, pdom, "alice")
    assert links(c, pdom)[0][6] == "ON"
    c.expect(-46, "poplnkenable", "0", pdom, "bob")
    c.expect(-46, "poplnkenable", "0", pdom, "alice", "other.example.net")
    c.expect(-46, "poplnkenable", "0", pdom, "alice", "h1.example.net", "nobody")
    c.expect(-103, "poplnkenable", "0", pdom)
    assert links(c, pdom)[0][6] == "ON"


def test_pop3links_view_hides_password(c, pdom):
    c.ok("poplnkadd", pdom, "bob", "hv.example.net", "rbob", "topsecret", "APOP")
    lines = c.listing("cfgfileget", "pop3links.tab")
    mine = [l for l in lines if l.startswith(f'"{pdom}"')]
    assert mine == [f'"{pdom}"\t"bob"\t"hv.example.net"\t"rbob"\t"{PLACEHOLDER}"\t"APOP"']
    assert "topsecret" not in "\n".join(lines)
    # the XMail encoding of the password must not leak either
    from ctrlclient import xmail_encode
    assert xmail_encode("topsecret") not in "\n".join(lines)
    assert all(re.match(r'^"[^"]*"(\t"[^\t]*"){5}$', l) for l in mine)


def test_pop3links_view_upload(c, pdom):
    from ctrlclient import xmail_encode
    c.ok("poplnkadd", pdom, "alice", "old.example.net", "ra", "x", "CLR")
    lines = c.listing("cfgfileget", "pop3links.tab")
    new = lines + [f'"{pdom}"\t"bob"\t"new.example.net"\t"rb"\t"{xmail_encode("pw")}"\t"APOP"']
    check(c.upload(("cfgfileset", "pop3links.tab"), new), 0)
    assert links(c, pdom) == [
        [pdom, "alice", "old.example.net", "ra", PLACEHOLDER, "CLR", "ON"],
        [pdom, "bob", "new.example.net", "rb", PLACEHOLDER, "APOP", "ON"]]
    # a bad line (5 fields) refuses the whole upload
    bad = [l for l in new if f'"{pdom}"\t"alice"' not in l] + [f'"{pdom}"\t"bob"\t"h"\t"u"\t"pw"']
    r = c.upload(("cfgfileset", "pop3links.tab"), bad)
    check(r, -20)
    assert [l[1] for l in links(c, pdom)] == ["alice", "bob"]
