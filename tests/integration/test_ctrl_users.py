"""§4.1 user commands: useradd, userdel, userpasswd, userauth, userstat,
uservars, uservarsset, userlist (wildcards, paging), usercount,
usergetmproc, usersetmproc."""

import os
import time
from pathlib import Path

import pytest

from ctrlclient import PLACEHOLDER, check


def userlist(c, *filters):
    return c.records("userlist", *filters)


def add_user(c, dom, user, pw="pw", typ="U"):
    check(c.cmd("useradd", dom, user, pw, typ), 0, f"useradd {user}")


def stat(c, dom, user):
    return c.records("userstat", dom, user)


# ---------------------------------------------------------------- useradd

def test_useradd_and_userlist(c, dom):
    add_user(c, dom, "alice", "alicepw")
    assert userlist(c, dom) == [[dom, "alice", PLACEHOLDER, "U"]]
    # the raw line format: every field quoted, TAB separated
    assert c.listing("userlist", dom) == [f'"{dom}"\t"alice"\t"{PLACEHOLDER}"\t"U"']


def test_useradd_unhandled_domain(c, unique_name):
    c.expect(-59, "useradd", unique_name() + ".test", "bob", "pw", "U")


@pytest.mark.parametrize("bad", ["bad user", "", "a..b", ".lead", "trail.", "x@y", "semi;colon"])
def test_useradd_bad_user_name(c, dom, bad):
    c.expect(-216, "useradd", dom, bad, "pw", "U")
    assert userlist(c, dom) == []


def test_useradd_duplicate_case_insensitive(c, dom):
    add_user(c, dom, "Carol")
    c.expect(-13, "useradd", dom, "carol", "other", "U")
    c.expect(-13, "useradd", dom.upper(), "CAROL", "other", "U")
    assert [u[1] for u in userlist(c, dom)] == ["Carol"]
    # the original password is unchanged
    c.ok("userauth", dom, "Carol", "pw")


def test_useradd_over_existing_alias(c, dom):
    add_user(c, dom, "real")
    c.ok("aliasadd", dom, "info", "real")
    c.expect(-26, "useradd", dom, "info", "pw", "U")
    c.expect(-26, "useradd", dom, "INFO", "pw", "U")
    assert [u[1] for u in userlist(c, dom)] == ["real"]


def test_useradd_type_letters(c, dom):
    add_user(c, dom, "list1", typ="M")
    add_user(c, dom, "plain1", typ="X")
    add_user(c, dom, "lower1", typ="m")         # case-sensitive: 'm' is not M
    add_user(c, dom, "list2", typ="Mlist")       # first character decides
    got = {u[1]: u[3] for u in userlist(c, dom)}
    assert got == {"list1": "M", "plain1": "U", "lower1": "U", "list2": "M"}


def test_useradd_in_alias_domain_fails(c, dom, unique_name):
    alias_dom = unique_name("ad") + ".test"
    c.ok("aliasdomainadd", dom, alias_dom)
    c.expect(-17, "useradd", alias_dom, "zed", "pw", "U")
    assert userlist(c, dom) == []
    assert userlist(c, alias_dom) == []
    c.expect(-157, "userauth", dom, "zed", "pw")


@pytest.mark.parametrize("args", [(), ("d.test",), ("d.test", "u", "p"),
                                  ("d.test", "u", "p", "U", "extra")])
def test_useradd_wrong_arg_count(c, args):
    c.expect(-103, "useradd", *args)


# ---------------------------------------------------------------- userdel

def test_userdel(c, dom):
    add_user(c, dom, "gone")
    add_user(c, dom, "stays")
    c.ok("userdel", dom, "GONE")              # case-insensitive
    assert [u[1] for u in userlist(c, dom)] == ["stays"]
    c.expect(-157, "userauth", dom, "gone", "pw")
    # the name is free again
    add_user(c, dom, "gone", "newpw")
    c.ok("userauth", dom, "gone", "newpw")


def test_userdel_missing_user(c, dom):
    c.expect(-12, "userdel", dom, "nobody")


def test_userdel_unhandled_domain(c, unique_name):
    c.expect(-59, "userdel", unique_name() + ".test", "nobody")


def test_userdel_wrong_arg_count(c, dom):
    c.expect(-103, "userdel", dom)
    c.expect(-103, "userdel", dom, "a", "b")


def test_userdel_cascade(c, dom, unique_name):
    other = unique_name("o") + ".test"
    c.ok("domainadd", other)
    add_user(c, dom, "victim")
    add_user(c, dom, "keeper")
    add_user(c, other, "ouser")
    c.ok("aliasadd", dom, "v1", "victim")
    c.ok("aliasadd", dom, "v2", f"victim@{dom}")
    c.ok("aliasadd", dom, "k1", "keeper")
    c.ok("aliasadd", other, "vx", f"victim@{dom}")
    c.ok("aliasadd", other, "ox", "ouser")
    c.ok("exaliasadd", f"victim@{dom}", f"victim@remote-{dom}")
    c.ok("exaliasadd", f"keeper@{dom}", f"keeper@remote-{dom}")
    c.ok("poplnkadd", dom, "victim", "pop.example.net", "rv", "rpw", "CLR")
    c.ok("poplnkadd", dom, "keeper", "pop.example.net", "rk", "rpw", "CLR")
    add_user(c, dom, "list", typ="M")
    c.ok("mluseradd", dom, "list", f"victim@{dom}")

    c.ok("userdel", dom, "victim")

    assert sorted(a[1] for a in c.records("aliaslist", dom)) == ["k1"]
    assert sorted(a[1] for a in c.records("aliaslist", other)) == ["ox"]
    ex = c.records("exaliaslist", f"*@{dom}")
    assert [e[3] for e in ex] == ["keeper"]
    links = c.records("poplnklist", dom)
    assert [l[1] for l in links] == ["keeper"]
    assert [u[1] for u in userlist(c, dom)] == ["keeper", "list"]


def test_userdel_moves_mailbox_to_trash(server, c, dom):
    add_user(c, dom, "trashme")
    newdir = Path(server.root) / "domains" / dom / "trashme" / "Maildir" / "new"
    os.makedirs(newdir, exist_ok=True)
    marker = f"1700000000.M1P1.trashtest-{dom}"
    (newdir / marker).write_bytes(b"Subject: keep me\r\n\r\nbody\r\n")
    c.ok("userdel", dom, "trashme")
    left = [dp for dp, _, fns in os.walk(Path(server.root) / "domains" / dom) if marker in fns]
    assert not left, f"mailbox content still under domains/: {left}"
    trash = Path(server.root) / "trash"
    found = [Path(dp) / marker for dp, _, fns in os.walk(trash) if marker in fns]
    assert len(found) == 1, f"{marker} not found under {trash}"
    assert found[0].read_bytes() == b"Subject: keep me\r\n\r\nbody\r\n"
    sub = found[0].relative_to(trash).parts[0]
    time.sleep(0.2)
    assert f"trash/{sub}" in server.log, \
        f"log does not mention trash/{sub}:\n{server.log[-2000:]}"


# ---------------------------------------------------------------- userpasswd / userauth

def test_userpasswd(c, dom):
    add_user(c, dom, "pat", "oldpw")
    c.ok("userpasswd", dom, "pat", "newpw")
    c.ok("userauth", dom, "pat", "newpw")
    c.expect(-24, "userauth", dom, "pat", "oldpw")
    assert userlist(c, dom) == [[dom, "pat", PLACEHOLDER, "U"]]


def test_userpasswd_missing_user(c, dom):
    c.expect(-157, "userpasswd", dom, "nobody", "x")


def test_userpasswd_unhandled_domain(c, unique_name):
    c.expect(-59, "userpasswd", unique_name() + ".test", "nobody", "x")


def test_userpasswd_wrong_arg_count(c, dom):
    c.expect(-103, "userpasswd", dom, "u")
    c.expect(-103, "userpasswd", dom, "u", "p", "x")


def test_userauth(c, dom):
    add_user(c, dom, "ua", "Sec#ret pw")
    c.ok("userauth", dom, "ua", "Sec#ret pw")
    c.ok("userauth", dom, "UA", "Sec#ret pw")
    c.expect(-24, "userauth", dom, "ua", "sec#ret pw")       # case-sensitive
    c.expect(-24, "userauth", dom, "ua", "Sec#ret pw ")
    c.expect(-24, "userauth", dom, "ua", "")
    c.expect(-157, "userauth", dom, "nobody", "x")
    c.expect(-103, "userauth", dom, "ua")


def test_userauth_via_alias_domain_not_user_alias(c, dom, unique_name):
    add_user(c, dom, "ub", "pwb")
    alias_dom = unique_name("ad") + ".test"
    c.ok("aliasdomainadd", dom, alias_dom)
    c.ok("userauth", alias_dom, "ub", "pwb")
    c.expect(-24, "userauth", alias_dom, "ub", "nope")
    c.ok("aliasadd", dom, "ubalias", "ub")
    c.expect(-157, "userauth", dom, "ubalias", "pwb")


def test_password_survives_special_chars(c, dom):
    pw = 'a"b\\c d\'e'
    add_user(c, dom, "spc", pw)
    c.ok("userauth", dom, "spc", pw)
    c.expect(-24, "userauth", dom, "spc", "a")


# ---------------------------------------------------------------- userstat

def _check_stat(rows, real):
    assert [r[0] for r in rows] == ["RealAddress", "MailboxSize", "MailboxMessages",
                                    "LastLoginTimeDate", "LastLoginIP"], rows
    assert all(len(r) == 2 for r in rows), rows
    vals = dict(rows)
    assert vals["RealAddress"] == real
    assert vals["MailboxSize"].isdigit() and vals["MailboxMessages"].isdigit()
    assert vals["LastLoginIP"] == "0.0.0.0"
    assert vals["LastLoginTimeDate"].strip() != ""
    return vals


def test_userstat_fresh_user(c, dom):
    add_user(c, dom, "st")
    vals = _check_stat(stat(c, dom, "st"), f"st@{dom}")
    assert vals["MailboxSize"] == "0" and vals["MailboxMessages"] == "0"


def test_userstat_counts_maildir(server, c, dom):
    add_user(c, dom, "box")
    base = Path(server.root) / "domains" / dom / "box" / "Maildir"
    for sub in ("new", "cur", "tmp"):
        os.makedirs(base / sub, exist_ok=True)
    (base / "new" / "1700000000.M1P1.host").write_bytes(b"x" * 100)
    (base / "cur" / "1700000001.M2P2.host:2,S").write_bytes(b"y" * 23)
    vals = _check_stat(stat(c, dom, "box"), f"box@{dom}")
    assert vals["MailboxMessages"] == "2"
    assert vals["MailboxSize"] == "123"


def test_userstat_through_aliases(c, dom, unique_name):
    add_user(c, dom, "target")
    c.ok("aliasadd", dom, "exact", "target")
    c.ok("aliasadd", dom, "sales-*", "target")
    _check_stat(stat(c, dom, "exact"), f"target@{dom}")
    _check_stat(stat(c, dom, "sales-east"), f"target@{dom}")
    alias_dom = unique_name("ad") + ".test"
    c.ok("aliasdomainadd", dom, alias_dom)
    _check_stat(stat(c, alias_dom, "target"), f"target@{dom}")


def test_userstat_missing(c, dom):
    c.expect(-157, "userstat", dom, "nobody")
    c.expect(-103, "userstat", dom)


def test_userstat_mailing_list(c, dom):
    add_user(c, dom, "ml", typ="M")
    vals = _check_stat(stat(c, dom, "ml"), f"ml@{dom}")
    assert vals["MailboxSize"] == "0" and vals["MailboxMessages"] == "0"


# ---------------------------------------------------------------- uservars / uservarsset

def test_uservars_and_set(c, dom):
    add_user(c, dom, "uv")
    before = c.records("uservars", dom, "uv")
    assert all(len(r) == 2 for r in before)
    names = [r[0] for r in before]
    c.ok("uservarsset", dom, "uv", "RealName", "Ursula Vance", "XTestVar", "42")
    after = c.records("uservars", dom, "uv")
    d = dict((r[0], r[1]) for r in after)
    assert d["RealName"] == "Ursula Vance"
    assert d["XTestVar"] == "42"
    # new variable appended at the end, existing ones keep their position
    assert after[-1] == ["XTestVar", "42"]
    if "RealName" in names:
        assert [r[0] for r in after][:len(names)] == names


def test_uservarsset_remove(c, dom):
    add_user(c, dom, "uvr")
    c.ok("uservarsset", dom, "uvr", "Keep", "1", "Drop", "2")
    c.ok("uservarsset", dom, "uvr", "Drop", ".|rm", "NeverExisted", ".|rm")
    d = dict((r[0], r[1]) for r in c.records("uservars", dom, "uvr"))
    assert d.get("Keep") == "1"
    assert "Drop" not in d and "NeverExisted" not in d


def test_uservars_names_case_sensitive(c, dom):
    add_user(c, dom, "uvc")
    c.ok("uservarsset", dom, "uvc", "Foo", "upper", "foo", "lower")
    d = dict((r[0], r[1]) for r in c.records("uservars", dom, "uvc"))
    assert d["Foo"] == "upper" and d["foo"] == "lower"


def test_uservarsset_empty_value(c, dom):
    add_user(c, dom, "uve")
    c.ok("uservarsset", dom, "uve", "Empty", "")
    assert ["Empty", ""] in c.records("uservars", dom, "uve")


def test_uservarsset_errors(c, dom, unique_name):
    add_user(c, dom, "uverr")
    c.expect(-103, "uservarsset", dom, "uverr", "OnlyName")
    c.expect(-103, "uservarsset", dom, "uverr", "a", "1", "b")
    c.expect(-103, "uservarsset", dom, "uverr")
    c.expect(-157, "uservarsset", dom, "nobody", "a", "1")
    c.expect(-59, "uservarsset", unique_name() + ".test", "x", "a", "1")
    d = dict((r[0], r[1]) for r in c.records("uservars", dom, "uverr"))
    assert "a" not in d and "b" not in d


def test_uservars_errors(c, dom, unique_name):
    c.expect(-157, "uservars", dom, "nobody")
    c.expect(-59, "uservars", unique_name() + ".test", "nobody")
    c.expect(-103, "uservars", dom)


# ---------------------------------------------------------------- userlist

def test_userlist_filters(c, unique_name):
    base = unique_name("wl")
    d1, d2 = f"{base}-abc.test", f"{base}-xyz.test"
    c.ok("domainadd", d1)
    c.ok("domainadd", d2)
    for u in ("alpha", "beta", "Bravo", "gamma"):
        add_user(c, d1, u)
    add_user(c, d2, "alpha")

    assert [u[1] for u in userlist(c, d1)] == ["alpha", "beta", "Bravo", "gamma"]
    assert [(u[0], u[1]) for u in userlist(c, f"{base}-*")] == \
        [(d1, "alpha"), (d1, "beta"), (d1, "Bravo"), (d1, "gamma"), (d2, "alpha")]
    assert [u[1] for u in userlist(c, d1, "b*")] == ["beta", "Bravo"]
    assert [u[1] for u in userlist(c, d1.upper(), "B*")] == ["beta", "Bravo"]
    assert [u[1] for u in userlist(c, d1, "?eta")] == ["beta"]
    assert [u[1] for u in userlist(c, d1, "[a-c]*")] == ["alpha", "beta", "Bravo"]
    assert [u[1] for u in userlist(c, d1, "[^a-c]*")] == ["gamma"]
    assert [(u[0], u[1]) for u in userlist(c, f"{base}-???.test", "alpha")] == \
        [(d1, "alpha"), (d2, "alpha")]
    assert userlist(c, d1, "alph") == []
    assert userlist(c, "no-such-" + base + ".test") == []
    every = [(u[0], u[1]) for u in userlist(c)]
    assert (d1, "gamma") in every and (d2, "alpha") in every
    assert all(u[2] == PLACEHOLDER for u in userlist(c))


def test_userlist_paging(c, dom):
    names = [f"p{i:02d}" for i in range(7)]
    for n in names:
        add_user(c, dom, n)
    assert [u[1] for u in userlist(c, dom, "*", "0", "3")] == names[0:3]
    assert [u[1] for u in userlist(c, dom, "*", "3", "3")] == names[3:6]
    assert [u[1] for u in userlist(c, dom, "*", "6", "3")] == names[6:7]
    assert userlist(c, dom, "*", "7", "3") == []
    assert userlist(c, dom, "*", "2", "0") == []
    # paging applies to the filtered list
    add_user(c, dom, "zz-other")
    assert [u[1] for u in userlist(c, dom, "p*", "5", "10")] == names[5:7]
    # start only: everything from start
    assert [u[1] for u in userlist(c, dom, "p*", "4")] == names[4:]


@pytest.mark.parametrize("paging", [("x", "3"), ("0", "y"), ("", "3"), ("-1x", "2")])
def test_userlist_paging_non_numeric(c, dom, paging):
    c.expect(-103, "userlist", dom, "*", *paging)


def test_userlist_too_many_args(c, dom):
    c.expect(-103, "userlist", dom, "*", "0", "1", "2")


# ---------------------------------------------------------------- usercount

def test_usercount(c, unique_name):
    base = unique_name("uc")
    d1, d2, d3 = f"{base}-a.test", f"{base}-b.test", f"{base}-empty.test"
    for d in (d1, d2, d3):
        c.ok("domainadd", d)
    for u in ("u1", "u2", "u3"):
        add_user(c, d1, u)
    add_user(c, d2, "v1")
    rows = c.records("usercount", f"{base}-*")
    assert rows == [[d1, "3"], [d2, "1"], [d3, "0"]]
    assert c.records("usercount", d2.upper()) == [[d2, "1"]]
    assert c.records("usercount", "nomatch-" + base) == []
    everything = dict((r[0], r[1]) for r in c.records("usercount"))
    assert everything[d1] == "3" and everything[d3] == "0"
    c.ok("userdel", d1, "u2")
    assert c.records("usercount", d1) == [[d1, "2"]]


def test_usercount_trailing_tab(c, dom):
    add_user(c, dom, "x1")
    r = c.raw_cmd(f'"usercount"\t"{dom}"\t')
    check(r, 100)
    assert r.lines == [f'"{dom}"\t"1"']


# ---------------------------------------------------------------- mailproc

def test_usersetmproc_user_and_domain(c, dom):
    add_user(c, dom, "mp")
    add_user(c, dom, "mp2")
    user_lines = ["mailbox", '"redirect"\t"other@example.net"']
    # (mailproc.tab uploads are validated: only real rules and comments;
    # dot-stuffing is covered by the plain-file upload tests)
    dom_lines = ['"lredirect"\t"all@example.net"', "# a comment", ""]
    check(c.upload(("usersetmproc", dom, "mp"), user_lines), 0)
    check(c.upload(("usersetmproc", dom, "mp", "D"), dom_lines), 0)
    assert c.listing("usergetmproc", dom, "mp", "U") == user_lines
    assert c.listing("usergetmproc", dom, "mp", "u") == user_lines
    assert c.listing("usergetmproc", dom, "mp", "D") == dom_lines
    # default DU: domain file first, then user file; order of flags irrelevant
    assert c.listing("usergetmproc", dom, "mp") == dom_lines + user_lines
    assert c.listing("usergetmproc", dom, "mp", "UD") == dom_lines + user_lines
    # the domain file is shared by every user of the domain
    assert c.listing("usergetmproc", dom, "mp2", "D") == dom_lines
    c.expect(-116, "usergetmproc", dom, "mp2", "U")
    assert c.listing("usergetmproc", dom, "mp2") == dom_lines


def test_usersetmproc_empty_upload_deletes(c, dom):
    add_user(c, dom, "mpd")
    check(c.upload(("usersetmproc", dom, "mpd", "U"), ["mailbox"]), 0)
    assert c.listing("usergetmproc", dom, "mpd", "U") == ["mailbox"]
    check(c.upload(("usersetmproc", dom, "mpd", "U"), []), 0)
    c.expect(-116, "usergetmproc", dom, "mpd", "U")
    c.expect(-116, "usergetmproc", dom, "mpd")
    # deleting a file that does not exist is fine
    check(c.upload(("usersetmproc", dom, "mpd", "U"), []), 0)


def test_usergetmproc_errors(c, dom, unique_name):
    add_user(c, dom, "mpe")
    c.expect(-116, "usergetmproc", dom, "mpe")
    c.expect(-157, "usergetmproc", dom, "nobody")
    c.expect(-59, "usergetmproc", unique_name() + ".test", "x")
    c.expect(-103, "usergetmproc", dom)
    check(c.upload(("usersetmproc", dom, "mpe"), ["mailbox"]), 0)
    # flags with neither U nor D
    c.expect(-103, "usergetmproc", dom, "mpe", "X")
    c.expect(-103, "usergetmproc", dom, "mpe", "")
    check(c.cmd("noop"), 0)


def test_usersetmproc_errors(c, dom, unique_name):
    r = c.upload(("usersetmproc", dom, "nobody"), ["mailbox"])
    assert r.stage == "pre"
    check(r, -157)
    r = c.upload(("usersetmproc", unique_name() + ".test", "x"), ["mailbox"])
    assert r.stage == "pre"
    check(r, -59)
    r = c.upload(("usersetmproc", dom), ["mailbox"])
    assert r.stage == "pre"
    check(r, -103)
    check(c.cmd("noop"), 0)
