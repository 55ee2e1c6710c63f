"""§4.4 domains and alias domains, §4.5 custom domains."""

import os
from pathlib import Path

import pytest

from ctrlclient import check


def add_user(c, dom, user, pw="pw", typ="U"):
    check(c.cmd("useradd", dom, user, pw, typ), 0, f"useradd {user}")


def domains(c, *patterns):
    return [r[0] for r in c.records("domainlist", *patterns)]


# ---------------------------------------------------------------- domainadd / domainlist

def test_domainadd_lowercases(c, unique_name):
    d = unique_name("Mixed") + ".Example.TEST"
    c.ok("domainadd", d)
    assert domains(c, d.lower()) == [d.lower()]
    assert c.listing("domainlist", d) == [f'"{d.lower()}"']
    add_user(c, d.lower(), "x")


def test_domainadd_duplicate(c, dom):
    c.expect(-231, "domainadd", dom)
    c.expect(-231, "domainadd", dom.upper())
    assert domains(c, dom) == [dom]


def test_domainadd_over_alias_domain(c, dom, unique_name):
    ad = unique_name("ad") + ".test"
    c.ok("aliasdomainadd", dom, ad)
    c.expect(-231, "domainadd", ad)
    assert domains(c, ad) == []


@pytest.mark.parametrize("bad,code", [
    ("bad domain.test", -260),
    ("bad\\domain.test", -260),
    ("a..b.test", -132),
    (".lead.test", -132),
    ("trail.test.", -132),
    ("", -132),
])
def test_domainadd_bad_syntax(c, bad, code):
    c.expect(code, "domainadd", bad)
    if bad:
        assert domains(c, bad) == []


def test_domainadd_slash_leaves_nothing_half_done(c, unique_name):
    d = unique_name("sl") + "/x.test"
    r = c.cmd("domainadd", d)
    if r.code < 0:
        assert d not in domains(c), "failed domainadd must not leave a domains entry"
    else:
        assert d in domains(c)
        add_user(c, d, "u")


def test_domainadd_arg_count(c):
    c.expect(-103, "domainadd")
    c.expect(-103, "domainadd", "a.test", "b.test")


def test_domainlist_patterns(c, unique_name):
    base = unique_name("dl")
    names = [f"{base}-alpha.test", f"{base}-beta.test", f"{base}-gamma.org"]
    for n in names:
        c.ok("domainadd", n)
    assert domains(c, f"{base}-*") == names
    assert domains(c, f"{base}-*.test") == names[:2]
    assert domains(c, f"{base.upper()}-ALPHA.TEST") == names[:1]
    assert domains(c, f"{base}-?eta.test") == names[1:2]
    # several patterns: a domain is listed if it matches any (file order kept)
    assert domains(c, f"{base}-gamma.*", f"{base}-alpha.*") == [names[0], names[2]]
    assert domains(c, f"{base}-nomatch") == []
    everything = domains(c)
    assert all(n in everything for n in names)
    assert everything.index(names[0]) < everything.index(names[1]) < everything.index(names[2])


# ---------------------------------------------------------------- domaindel

def test_domaindel_missing(c, unique_name):
    c.expect(-59, "domaindel", unique_name() + ".test")
    c.expect(-103, "domaindel")


def test_domaindel_cascade(server, c, dom, unique_name):
    other = unique_name("o") + ".test"
    c.ok("domainadd", other)
    add_user(c, dom, "alice")
    add_user(c, dom, "list", typ="M")
    add_user(c, other, "bob")
    c.ok("aliasadd", dom, "info", "alice")
    c.ok("aliasadd", dom, "bobby", f"bob@{other}")
    c.ok("aliasadd", other, "toalice", f"alice@{dom}")
    c.ok("exaliasadd", f"alice@{dom}", f"alice@remote-{dom}")
    c.ok("poplnkadd", dom, "alice", "pop.example.net", "ra", "rpw", "CLR")
    ad = unique_name("ad") + ".test"
    c.ok("aliasdomainadd", dom, ad)
    newdir = Path(server.root) / "domains" / dom / "alice" / "Maildir" / "new"
    os.makedirs(newdir, exist_ok=True)
    marker = f"1700000001.M2P2.domdel-{dom}"
    (newdir / marker).write_text("hello\n")

    c.ok("domaindel", dom.upper())

    assert domains(c, dom) == []
    assert c.records("userlist", dom) == []
    assert c.records("aliaslist", dom) == []
    assert c.records("exaliaslist", f"*@{dom}") == []
    assert c.records("poplnklist", dom) == []
    assert c.records("aliasdomainlist", dom) == []
    c.expect(-157, "userauth", ad, "alice", "pw")
    c.expect(-59, "useradd", dom, "alice", "pw", "U")
    # other domain untouched (the dangling alias may stay)
    assert [u[1] for u in c.records("userlist", other)] == ["bob"]
    # the mailbox was moved to the trash, not deleted
    left = [dp for dp, _, fns in os.walk(Path(server.root) / "domains" / dom) if marker in fns]
    assert not left, f"mailbox content still under domains/: {left}"
    trash = Path(server.root) / "trash"
    found = [Path(dp) for dp, _, fns in os.walk(trash) if marker in fns]
    assert len(found) == 1, f"{marker} not under {trash}"
    sub = found[0].relative_to(trash).parts[0]
    assert f"trash/{sub}" in server.log
    # the domain can be created again, empty
    c.ok("domainadd", dom)
    assert c.records("userlist", dom) == []


# ---------------------------------------------------------------- alias domains

def test_aliasdomain_add_list_del(c, dom, unique_name):
    add_user(c, dom, "alice", "apw")
    ad = unique_name("AD") + ".Test"
    c.ok("aliasdomainadd", dom.upper(), ad)
    assert c.records("aliasdomainlist", dom) == [[dom, ad.lower()]]
    assert c.listing("aliasdomainlist", dom) == [f'"{dom}"\t"{ad.lower()}"']
    c.ok("userauth", ad.lower(), "alice", "apw")
    assert c.records("userstat", ad, "alice")[0] == ["RealAddress", f"alice@{dom}"]
    c.ok("aliasdomaindel", ad.upper())
    assert c.records("aliasdomainlist", dom) == []
    c.expect(-157, "userauth", ad.lower(), "alice", "apw")
    c.expect(-206, "aliasdomaindel", ad)


def test_aliasdomain_wildcard(c, dom):
    add_user(c, dom, "alice", "apw")
    pattern = f"*.w.{dom}"
    c.ok("aliasdomainadd", dom, pattern)
    c.ok("userauth", f"deep.sub.w.{dom}", "alice", "apw")
    c.ok("userauth", f"x.w.{dom}", "alice", "apw")
    c.expect(-157, "userauth", f"w.{dom}x", "alice", "apw")
    assert c.records("aliasdomainlist", dom) == [[dom, pattern]]
    c.ok("aliasdomaindel", pattern)


def test_aliasdomainadd_errors(c, dom, unique_name):
    other = unique_name("o") + ".test"
    c.ok("domainadd", other)
    ad = unique_name("ad") + ".test"
    c.expect(-59, "aliasdomainadd", unique_name() + ".test", ad)
    c.ok("aliasdomainadd", dom, ad)
    c.expect(-205, "aliasdomainadd", dom, ad)
    c.expect(-205, "aliasdomainadd", other, ad.upper())
    c.expect(-205, "aliasdomainadd", dom, other)          # alias is a real domain
    c.expect(-59, "aliasdomainadd", ad, unique_name() + ".test")   # alias of an alias
    assert c.records("aliasdomainlist", dom) == [[dom, ad]]
    assert c.records("aliasdomainlist", other) == []
    c.expect(-103, "aliasdomainadd", dom)
    c.expect(-103, "aliasdomaindel")
    c.expect(-206, "aliasdomaindel", unique_name() + ".test")


def test_aliasdomainlist_filters(c, unique_name):
    base = unique_name("adl")
    real1, real2 = f"{base}-r1.test", f"{base}-r2.test"
    c.ok("domainadd", real1)
    c.ok("domainadd", real2)
    c.ok("aliasdomainadd", real1, f"{base}-a1.test")
    c.ok("aliasdomainadd", real1, f"{base}-b1.test")
    c.ok("aliasdomainadd", real2, f"{base}-a2.test")
    assert c.records("aliasdomainlist", f"{base}-r*") == [
        [real1, f"{base}-a1.test"], [real1, f"{base}-b1.test"], [real2, f"{base}-a2.test"]]
    assert c.records("aliasdomainlist", f"{base}-r*", f"{base}-a?.test") == [
        [real1, f"{base}-a1.test"], [real2, f"{base}-a2.test"]]
    assert c.records("aliasdomainlist", real2) == [[real2, f"{base}-a2.test"]]
    every = c.records("aliasdomainlist")
    assert [real1, f"{base}-b1.test"] in every
    # three or more filters: accepted, nothing matches
    assert c.records("aliasdomainlist", "*", "*", "*") == []


# ---------------------------------------------------------------- custom domains

def test_custdom_set_get_list_delete(c, unique_name):
    cd = unique_name("cust") + ".example"
    body = ['"smtprelay"\t"relay.example.net:25"', '.starts with dot', '', '"redirect"\t"x@y.test"']
    check(c.upload(("custdomset", cd), body), 0)
    assert c.listing("custdomget", cd) == body
    assert c.listing("custdomget", cd.upper()) == body
    assert [cd] in c.records("custdomlist")
    check(c.upload(("custdomset", cd), ['"redirect"\t"z@y.test"']), 0)
    assert c.listing("custdomget", cd) == ['"redirect"\t"z@y.test"']
    check(c.upload(("custdomset", cd), []), 0)
    c.expect(-120, "custdomget", cd)
    assert [cd] not in c.records("custdomlist")


def test_custdomget_parent_suffix(c, unique_name):
    base = unique_name("cs") + ".example"
    # make sure custdomains/ exists, then plant a leading-dot wildcard file
    check(c.upload(("custdomset", base + "-seed"), ["x"]), 0)
    check(c.upload(("cfgfileset", f"custdomains/.{base}.tab"), ['"smtp"']), 0)
    assert c.listing("custdomget", f"sub.{base}") == ['"smtp"']
    assert c.listing("custdomget", f"a.b.{base}") == ['"smtp"']
    c.expect(-120, "custdomget", base)
    check(c.upload(("cfgfileset", f"custdomains/.{base}.tab"), []), 0)
    c.expect(-120, "custdomget", f"sub.{base}")
    check(c.upload(("custdomset", base + "-seed"), []), 0)


def test_custdom_errors(c, unique_name):
    c.expect(-120, "custdomget", unique_name() + ".example")
    # a real *.tab file one level above custdomains/ must not be reachable
    probe = unique_name("probe")
    check(c.upload(("cfgfileset", f"{probe}.tab"), ["secret content"]), 0)
    r = c.cmd("custdomget", f"../{probe}")
    assert r.code < 0, f"custdomget ../{probe} must be refused, got {r.line} {r.lines}"
    check(c.upload(("cfgfileset", f"{probe}.tab"), []), 0)
    r = c.upload(("custdomset", "bad domain.example"), ["x"])
    assert r.stage == "pre"
    check(r, -260)
    r = c.upload(("custdomset", "../evil"), ["x"])
    assert r.stage == "pre" and r.code < 0
    c.expect(-103, "custdomlist", "x")
    c.expect(-103, "custdomget")
    c.expect(-103, "custdomget", "a.example", "b")
    check(c.cmd("noop"), 0)
