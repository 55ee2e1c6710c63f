"""The controller's POP3 links collect mail: Tern fetches a remote POP3
mailbox (here: another account of the same server, over loopback) into
the local account, deleting remotely only after local storage."""

import smtplib
import time
from pathlib import Path

import pytest

from test_ctrl_server import set_settings


def count(root, dom, user):
    n = 0
    for sub in ("new", "cur"):
        d = Path(root) / "domains" / dom / user / "Maildir" / sub
        if d.is_dir():
            n += len(list(d.iterdir()))
    return n


def bodies(root, dom, user):
    out = []
    for sub in ("new", "cur"):
        d = Path(root) / "domains" / dom / user / "Maildir" / sub
        if d.is_dir():
            out += [p.read_bytes() for p in d.iterdir()]
    return out


def wait(pred, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


@pytest.fixture
def setup(fresh_server):
    srv = fresh_server
    c = srv.connect()
    c.ok("domainadd", "remote.test")
    c.ok("domainadd", "local.test")
    c.ok("useradd", "remote.test", "box", "boxpw", "U")
    c.ok("useradd", "local.test", "me", "mepw", "U")
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
        for i in range(3):
            s.sendmail("a@b.example", ["box@remote.test"], f"Subject: fetch-{i}\r\n\r\n.line {i}\r\n")
    assert wait(lambda: count(srv.root, "remote.test", "box") == 3)
    yield srv, c
    c.close()


def test_fetch_and_delete_remote(setup):
    srv, c = setup
    c.ok("poplnkadd", "local.test", "me", f"127.0.0.1:{srv.pop3_port}", "box@remote.test", "boxpw", "STLS")
    set_settings(c, Pop3LinkInterval=1)
    assert wait(lambda: count(srv.root, "local.test", "me") == 3)
    assert wait(lambda: count(srv.root, "remote.test", "box") == 0)
    got = b"".join(bodies(srv.root, "local.test", "me"))
    for i in range(3):
        assert f"Subject: fetch-{i}".encode() in got
        assert f"\n.line {i}".encode() in got          # dot-unstuffed on the way in
    assert b"X-Tern-Fetched: from box@remote.test@127.0.0.1" in got
    assert "3 message(s) collected" in srv.log


def test_leave_keeps_remote_and_never_fetches_twice(setup):
    srv, c = setup
    c.ok("poplnkadd", "local.test", "me", f"127.0.0.1:{srv.pop3_port}", "box@remote.test", "boxpw", "CLR,Leave")
    set_settings(c, Pop3LinkInterval=1)
    assert wait(lambda: count(srv.root, "local.test", "me") == 3)
    time.sleep(2.5)                       # two more passes
    assert count(srv.root, "local.test", "me") == 3
    assert count(srv.root, "remote.test", "box") == 3


def test_wrong_password_and_disabled_link_fetch_nothing(setup):
    srv, c = setup
    c.ok("poplnkadd", "local.test", "me", f"127.0.0.1:{srv.pop3_port}", "box@remote.test", "wrong", "CLR")
    set_settings(c, Pop3LinkInterval=1)
    assert wait(lambda: "login refused" in srv.log)
    assert count(srv.root, "remote.test", "box") == 3
    c.ok("poplnkdel", "local.test", "me", f"127.0.0.1:{srv.pop3_port}", "box@remote.test")
    c.ok("poplnkadd", "local.test", "me", f"127.0.0.1:{srv.pop3_port}", "box@remote.test", "boxpw", "CLR")
    c.ok("poplnkenable", "0", "local.test", "me")
    time.sleep(2.5)
    assert count(srv.root, "local.test", "me") == 0
    c.ok("poplnkenable", "1", "local.test", "me")
    assert wait(lambda: count(srv.root, "local.test", "me") == 3)


def test_at_domain_form_sends_through_the_spool(setup):
    srv, c = setup
    # "@local.test": messages go to me@local.test whatever the link's local user record says
    c.ok("poplnkadd", "@local.test", "me", f"127.0.0.1:{srv.pop3_port}", "box@remote.test", "boxpw", "CLR")
    set_settings(c, Pop3LinkInterval=1)
    assert wait(lambda: count(srv.root, "local.test", "me") == 3)
    assert wait(lambda: count(srv.root, "remote.test", "box") == 0)
