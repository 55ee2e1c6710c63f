"""§4.2 mailing lists: mluseradd, mluserdel, mluserlist."""

import pytest

from ctrlclient import check


@pytest.fixture
def ml(c, dom):
    check(c.cmd("useradd", dom, "list", "pw", "M"), 0, "useradd list")
    check(c.cmd("useradd", dom, "plain", "pw", "U"), 0, "useradd plain")
    return dom


def test_mluseradd_and_list(c, ml):
    c.ok("mluseradd", ml, "list", "a@example.net")
    c.ok("mluseradd", ml, "list", "b@example.net", "R")
    c.ok("mluseradd", ml, "list", "c@example.net", "RA")
    c.ok("mluseradd", ml, "list", "d@example.net", "RW")
    assert c.records("mluserlist", ml, "list") == [
        ["a@example.net", "RW"], ["b@example.net", "R"],
        ["c@example.net", "RA"], ["d@example.net", "RW"]]
    assert c.listing("mluserlist", ml, "list")[0] == '"a@example.net"\t"RW"'


def test_mluseradd_extra_args_ignored(c, ml):
    c.ok("mluseradd", ml, "list", "x@example.net", "R", "extra", "more")
    assert c.records("mluserlist", ml, "list") == [["x@example.net", "R"]]


@pytest.mark.parametrize("perms", ["X", "W", "A", "RWX", "WR", "", "RR"])
def test_mluseradd_invalid_perms(c, ml, perms):
    c.expect(-230, "mluseradd", ml, "list", "p@example.net", perms)
    assert c.records("mluserlist", ml, "list") == []


def test_mluseradd_errors(c, ml, unique_name):
    c.expect(-132, "mluseradd", ml, "list", "not-an-address")
    c.expect(-132, "mluseradd", ml, "list", "a@")
    c.expect(-157, "mluseradd", ml, "nolist", "a@example.net")
    c.expect(-50, "mluseradd", ml, "plain", "a@example.net")
    c.expect(-59, "mluseradd", unique_name() + ".test", "list", "a@example.net")
    c.ok("mluseradd", ml, "list", "Dup@Example.net")
    c.expect(-52, "mluseradd", ml, "list", "dup@example.NET")
    c.expect(-103, "mluseradd", ml, "list")
    assert c.records("mluserlist", ml, "list") == [["Dup@Example.net", "RW"]]


def test_mluserdel(c, ml):
    for a in ("one@example.net", "two@example.net", "three@example.net"):
        c.ok("mluseradd", ml, "list", a)
    c.ok("mluserdel", ml, "list", "TWO@example.net")
    assert [r[0] for r in c.records("mluserlist", ml, "list")] == \
        ["one@example.net", "three@example.net"]
    c.expect(-53, "mluserdel", ml, "list", "two@example.net")
    c.expect(-157, "mluserdel", ml, "nolist", "one@example.net")
    c.expect(-50, "mluserdel", ml, "plain", "one@example.net")
    c.expect(-103, "mluserdel", ml, "list")
    c.expect(-103, "mluserdel", ml, "list", "one@example.net", "x")
    # re-adding after delete works
    c.ok("mluseradd", ml, "list", "two@example.net", "R")
    assert c.records("mluserlist", ml, "list")[-1] == ["two@example.net", "R"]


def test_mluserlist_errors(c, ml, unique_name):
    assert c.records("mluserlist", ml, "list") == []
    c.expect(-157, "mluserlist", ml, "nolist")
    assert c.cmd("mluserlist", ml, "plain").code < 0
    assert c.cmd("mluserlist", unique_name() + ".test", "list").code < 0
    c.expect(-103, "mluserlist", ml)
    c.expect(-103, "mluserlist", ml, "list", "x")


def test_mailing_list_listed_as_type_m(c, ml):
    rows = c.records("userlist", ml, "list")
    assert rows == [[ml, "list", "********", "M"]]
