"""§4.3 aliases and external aliases."""

import pytest

from ctrlclient import check


def add_user(c, dom, user, pw="pw", typ="U"):
    check(c.cmd("useradd", dom, user, pw, typ), 0, f"useradd {user}")


# ---------------------------------------------------------------- aliasadd / aliaslist

def test_aliasadd_and_list(c, dom):
    add_user(c, dom, "alice")
    c.ok("aliasadd", dom, "info", "alice")
    c.ok("aliasadd", dom, "sales", f"alice@{dom}")
    assert c.records("aliaslist", dom) == [
        [dom, "info", "alice"], [dom, "sales", f"alice@{dom}"]]
    assert c.listing("aliaslist", dom, "info") == [f'"{dom}"\t"info"\t"alice"']


def test_aliasadd_target_in_other_domain(c, dom, unique_name):
    other = unique_name("o") + ".test"
    c.ok("domainadd", other)
    add_user(c, other, "bob")
    c.ok("aliasadd", dom, "bobby", f"bob@{other}")
    assert c.records("aliaslist", dom) == [[dom, "bobby", f"bob@{other}"]]
    rows = c.records("userstat", dom, "bobby")
    assert rows[0] == ["RealAddress", f"bob@{other}"]


def test_aliasadd_missing_target(c, dom, unique_name):
    c.expect(-157, "aliasadd", dom, "a1", "nobody")
    c.expect(-157, "aliasadd", dom, "a2", f"nobody@{dom}")
    c.expect(-157, "aliasadd", dom, "a3", f"x@{unique_name()}.test")
    assert c.records("aliaslist", dom) == []


def test_aliasadd_unhandled_domain(c, dom, unique_name):
    add_user(c, dom, "alice")
    unhandled = unique_name("un") + ".test"
    c.expect(-59, "aliasadd", unhandled, "info", f"alice@{dom}")
    assert c.records("aliaslist", unhandled) == []


def test_aliasadd_over_user_and_duplicate(c, dom):
    add_user(c, dom, "alice")
    add_user(c, dom, "bob")
    c.expect(-13, "aliasadd", dom, "bob", "alice")
    c.ok("aliasadd", dom, "Team", "alice")
    c.expect(-26, "aliasadd", dom, "team", "bob")
    c.expect(-26, "aliasadd", dom.upper(), "TEAM", "bob")
    assert c.records("aliaslist", dom) == [[dom, "Team", "alice"]]


def test_wildcard_alias(c, dom):
    add_user(c, dom, "catch")
    add_user(c, dom, "exactuser")
    c.ok("aliasadd", dom, "list-*", "catch")
    c.ok("aliasadd", dom, "x?z", "exactuser")
    assert c.records("userstat", dom, "list-anything")[0] == ["RealAddress", f"catch@{dom}"]
    assert c.records("userstat", dom, "xyz")[0] == ["RealAddress", f"exactuser@{dom}"]
    c.expect(-157, "userstat", dom, "xyyz")
    assert [a[1] for a in c.records("aliaslist", dom)] == ["list-*", "x?z"]


@pytest.mark.parametrize("args", [(), ("d.test",), ("d.test", "a"), ("d.test", "a", "b", "c")])
def test_aliasadd_arg_count(c, args):
    c.expect(-103, "aliasadd", *args)


def test_aliasdel(c, dom):
    add_user(c, dom, "alice")
    c.ok("aliasadd", dom, "one", "alice")
    c.ok("aliasadd", dom, "two", "alice")
    c.ok("aliasdel", dom, "ONE")                 # case-insensitive
    assert c.records("aliaslist", dom) == [[dom, "two", "alice"]]
    c.expect(-28, "aliasdel", dom, "one")
    c.expect(-28, "aliasdel", dom, "t*")          # exact match, no wildcard expansion
    c.expect(-28, "aliasdel", "unhandled-" + dom, "two")
    assert c.records("aliaslist", dom) == [[dom, "two", "alice"]]
    c.expect(-103, "aliasdel", dom)
    c.expect(-103, "aliasdel", dom, "two", "x")
    # the freed name can be used for a user now
    add_user(c, dom, "one")


def test_aliaslist_filters(c, unique_name):
    base = unique_name("al")
    d1, d2 = f"{base}-1.test", f"{base}-2.test"
    c.ok("domainadd", d1)
    c.ok("domainadd", d2)
    add_user(c, d1, "u1")
    add_user(c, d2, "u2")
    c.ok("aliasadd", d1, "abc", "u1")
    c.ok("aliasadd", d1, "abd", f"u2@{d2}")
    c.ok("aliasadd", d2, "xyz", "u2")
    assert [a[1] for a in c.records("aliaslist", f"{base}-*")] == ["abc", "abd", "xyz"]
    assert [a[1] for a in c.records("aliaslist", f"{base}-*", "ab?")] == ["abc", "abd"]
    assert [a[1] for a in c.records("aliaslist", f"{base}-*", "*", f"u2@{d2.upper()}")] == ["abd"]
    assert [a[1] for a in c.records("aliaslist", f"{base}-*", "*", "u?")] == ["abc", "xyz"]
    assert c.records("aliaslist", f"{base}-*", "nomatch") == []
    assert [a[0] for a in c.records("aliaslist", d2.upper())] == [d2]
    every = c.records("aliaslist")
    assert [d1, "abc", "u1"] in every
    c.expect(-103, "aliaslist", "a", "b", "c", "d")


# ---------------------------------------------------------------- external aliases

def test_exaliasadd_and_list(c, dom):
    add_user(c, dom, "alice")
    c.ok("exaliasadd", f"alice@{dom}", "alice@remote.example")
    c.ok("exaliasadd", f"alice@{dom}", "a.smith@other.example")
    rows = c.records("exaliaslist", f"*@{dom}")
    assert rows == [["remote.example", "alice", dom, "alice"],
                    ["other.example", "a.smith", dom, "alice"]]
    assert c.records("exaliaslist", f"alice@{dom}", "*@other.example") == \
        [["other.example", "a.smith", dom, "alice"]]
    assert c.records("exaliaslist", f"*@{dom}", "nobody@*") == []


def test_exaliasadd_bad_addresses(c, dom):
    add_user(c, dom, "alice")
    c.expect(-132, "exaliasadd", "alice", "x@remote.example")
    c.expect(-132, "exaliasadd", f"alice@{dom}", "remote.example")
    c.expect(-132, "exaliasadd", f"alice@{dom}", "x@")
    c.expect(-132, "exaliasadd", f"alice@{dom}", "a b@remote.example")
    assert c.records("exaliaslist", f"*@{dom}") == []


def test_exaliasadd_duplicate_remote(c, dom):
    add_user(c, dom, "alice")
    add_user(c, dom, "bob")
    c.ok("exaliasadd", f"alice@{dom}", "dup@remote.example")
    c.expect(-67, "exaliasadd", f"bob@{dom}", "DUP@Remote.Example")
    assert [r[3] for r in c.records("exaliaslist", f"*@{dom}")] == ["alice"]


def test_exaliasadd_unknown_local_account(c, dom):
    c.expect(-157, "exaliasadd", f"nobody@{dom}", "nobody@remote.example")
    assert c.records("exaliaslist", f"*@{dom}") == []


def test_exaliasdel(c, dom):
    add_user(c, dom, "alice")
    c.ok("exaliasadd", f"alice@{dom}", "e1@remote.example")
    c.ok("exaliasadd", f"alice@{dom}", "e2@remote.example")
    c.ok("exaliasdel", "E1@REMOTE.example")
    assert [r[1] for r in c.records("exaliaslist", f"*@{dom}")] == ["e2"]
    c.expect(-69, "exaliasdel", "e1@remote.example")
    c.expect(-132, "exaliasdel", "not-an-address")
    c.expect(-103, "exaliasdel")
    c.expect(-103, "exaliasdel", "a@b.c", "x")


def test_exaliaslist_pattern_must_be_address(c):
    c.expect(-132, "exaliaslist", "*")
    c.expect(-103, "exaliaslist", "*@a", "*@b", "*@c")


def test_exaliasadd_arg_count(c):
    c.expect(-103, "exaliasadd", "a@b.test")
    c.expect(-103, "exaliasadd", "a@b.test", "c@d.test", "e")
