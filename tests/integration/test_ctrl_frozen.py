"""Frozen messages: mail whose local recipient vanished while it waited is
kept in spool/held, and the controller's froz* commands list, show,
resubmit and delete it."""

import smtplib
import time
from pathlib import Path

from ctrlclient import check, split_record


def wait(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline and not pred():
        time.sleep(0.05)
    return pred()


def count(root, dom, user):
    n = 0
    for sub in ("new", "cur"):
        d = Path(root) / "domains" / dom / user / "Maildir" / sub
        if d.is_dir():
            n += len(list(d.iterdir()))
    return n


def freeze_one(srv, c, dom):
    """Queue a message for an account, then delete the account before the
    delivery runs: stop delivery by keeping the spool file out of reach is not
    possible from outside, so drop a spool entry the way a crash leaves it."""
    c.ok("useradd", dom, "gone", "pw", "U")
    # a spool entry as the SMTP side writes it, left in the queue by a "crash"
    sid = f"{int(time.time())}.999.deadbeef"
    body = (f"TERN-SPOOL 1\nI {sid}\nR {int(time.time())}\nP 127.0.0.1\nH test\nA -\n"
            f"F sender@remote.example\nL 0\nT gone@{dom}\n.\nSubject: frozen\n\nkept for the admin\n")
    c.ok("userdel", dom, "gone")
    q = Path(srv.root) / "spool" / "queue" / sid
    q.write_text(body)
    srv.restart()                     # recovery delivers the queue: the recipient is gone
    held = Path(srv.root) / "spool" / "held" / sid
    assert wait(lambda: held.exists()), srv.log[-2000:]
    return sid


def test_frozen_list_get_del(fresh_server):
    srv = fresh_server
    c = srv.connect()
    c.ok("domainadd", "froz.test")
    sid = freeze_one(srv, c, "froz.test")
    c.close()
    c = srv.connect()
    rows = [r for r in c.records("frozlist") if r[0] == sid]
    assert len(rows) == 1
    r = rows[0]
    assert len(r) == 9
    assert r[1:5] == ["0", "0", "<sender@remote.example>", "<gone@froz.test>"]
    assert r[7] == "1" and r[8] == "froz"
    assert int(r[6]) > 0
    log = c.listing("frozgetlog", "0", "0", sid)
    assert len(log) == 1 and "gone@froz.test" in log[0] and "does not exist" in log[0]
    msg = c.listing("frozgetmsg", "0", "0", sid)
    assert msg[0] == "TERN-SPOOL 1" and "kept for the admin" in msg
    c.ok("frozdel", "0", "0", sid)
    assert [r for r in c.records("frozlist") if r[0] == sid] == []
    check(c.cmd("frozgetmsg", "0", "0", sid), -19)
    c.close()


def test_frozen_resubmit_delivers_once_the_account_exists(fresh_server):
    srv = fresh_server
    c = srv.connect()
    c.ok("domainadd", "froz2.test")
    sid = freeze_one(srv, c, "froz2.test")
    c.close()
    c = srv.connect()
    c.ok("useradd", "froz2.test", "gone", "pw", "U")
    c.ok("frozsubmit", "0", "0", sid)
    assert wait(lambda: count(srv.root, "froz2.test", "gone") == 1)
    assert [r for r in c.records("frozlist") if r[0] == sid] == []
    c.close()
