"""The sending-limit counters survive restarts (ROOT/sendcounters.tab):

- an account at its limit stays refused (450 4.7.1) after a graceful
  restart, and after kill -9 once the documented write-back bound (about a
  second) has passed; its counts (messages, recipients, size) come back;
- RESET sendQuota is on disk before its +OK: kill -9 right after it and a
  restart keep the counters zeroed;
- a window that ended while the daemon was down is gone;
- a deleted account's counters go with it: a new account of the same name
  (which gets the same id) starts from zero, also across kill -9;
- a damaged state file (truncated, edited, garbage, empty) is logged, kept
  aside and ignored: the server starts and every account starts from zero."""

import re
import sqlite3
import time

from test_account_limits import Accounts, refused, send, set_limits, submission
from smtpclient import new_token

STATE = "sendcounters.tab"
FLUSH_WAIT = 2.5   # the write-back bound is about one second


def make_accounts(srv, *names, **limits):
    dom = new_token("sc").lower() + ".test"
    with srv.connect() as c:
        c.ok("domainadd", dom)
        acc = Accounts(c, dom, "rcv", *names)
        for n in names:
            set_limits(c, dom, n, **limits)
    return acc


def send_as(srv, acc, user, rcpts=None, size=0):
    s = submission(srv, acc.addr(user), acc.pw[user])
    try:
        return send(s, acc.addr(user), rcpts or [acc.addr("rcv")], size)
    finally:
        s.quit()


def send_quota(srv, dom, user):
    cl = srv.cli()
    try:
        cl.ok(f"UPDATE Domain name {dom}")
        cl.ok(f"UPDATE Account {user}")
        cl.ok("CONFIG Limits", "domain-account-limits")
        r = cl.ok("SHOW sendQuota", "domain-account-limits")
        return dict(re.findall(r"^(\w+) = (.*?)\r?$", r.raw.decode(), re.M))
    finally:
        cl.close()


def reset_send_quota(srv, dom, user):
    cl = srv.cli()
    try:
        cl.ok(f"UPDATE Domain name {dom}")
        cl.ok(f"UPDATE Account {user}")
        cl.ok("CONFIG Limits", "domain-account-limits")
        cl.ok("RESET sendQuota", "domain-account-limits")
    finally:
        cl.close()


def wait(pred, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline and not pred():
        time.sleep(0.05)
    return pred()


def same_start(a, b):
    """intervalStart values within a second (both are read off clocks)."""
    t = [time.mktime(time.strptime(x.strip('"'), "%a, %d %b %Y %H:%M:%S -0000")) for x in (a, b)]
    return abs(t[0] - t[1]) <= 1


def log_file(srv):
    return (srv.root / "logs" / "ternd.log").read_text(errors="replace")


def user_id(srv, dom, user):
    db = sqlite3.connect(f"file:{srv.root / 'tern.db'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT id FROM users WHERE domain = ? AND name = ?", (dom, user)).fetchone()
        return row[0] if row else None
    finally:
        db.close()


def test_limit_holds_over_graceful_restart_and_reset_is_durable(fresh_server):
    srv = fresh_server
    acc = make_accounts(srv, "alice", sentMessagesCount=2, sentRecipientsCount=10, sentMessagesInterval=3600)
    assert send_as(srv, acc, "alice")[0] == "ok"
    assert send_as(srv, acc, "alice", size=3000)[0] == "ok"
    refused(send_as(srv, acc, "alice"), "mail", "Sending limit reached")
    before = send_quota(srv, acc.dom, "alice")
    assert (before["sentMessages"], before["sentRecipients"]) == ("2", "2"), before
    srv.restart()
    assert (srv.root / STATE).exists()
    refused(send_as(srv, acc, "alice"), "mail", "Sending limit reached")
    after = send_quota(srv, acc.dom, "alice")
    for k in ("sentMessages", "sentRecipients", "sentSize"):
        assert after[k] == before[k], (k, before, after)
    assert same_start(after["intervalStart"], before["intervalStart"]), (before, after)
    assert 3500 < int(after["intervalRemaining"]) <= 3600, after
    # RESET sendQuota, then kill -9 at once: the reset was on disk before +OK
    reset_send_quota(srv, acc.dom, "alice")
    srv.kill9()
    srv.restart()
    q = send_quota(srv, acc.dom, "alice")
    assert (q["sentMessages"], q["sentRecipients"], q["intervalRemaining"]) == ("0", "0", "0"), q
    assert send_as(srv, acc, "alice")[0] == "ok"
    assert send_as(srv, acc, "alice")[0] == "ok"
    refused(send_as(srv, acc, "alice"), "mail", "Sending limit reached")
    assert wait(lambda: "taken back from sendcounters.tab" in log_file(srv))


def test_limit_holds_over_kill9(fresh_server):
    srv = fresh_server
    acc = make_accounts(srv, "alice", "bob", sentMessagesCount=3, sentRecipientsCount=3, sentMessagesInterval=3600)
    a = acc.addr("alice")
    s = submission(srv, a, acc.pw["alice"])
    assert send(s, a, [acc.addr("rcv")])[0] == "ok"
    assert send(s, a, [acc.addr("rcv"), acc.addr("bob")])[0] == "ok"
    refused(send(s, a, [acc.addr("rcv")]), "rcpt", "Recipient limit reached")
    s.quit()
    assert send_as(srv, acc, "bob")[0] == "ok"
    before = {u: send_quota(srv, acc.dom, u) for u in ("alice", "bob")}
    time.sleep(FLUSH_WAIT)
    srv.kill9()
    srv.restart()
    refused(send_as(srv, acc, "alice"), "rcpt", "Recipient limit reached")
    for u in ("alice", "bob"):
        q = send_quota(srv, acc.dom, u)
        for k in ("sentMessages", "sentRecipients", "sentSize"):
            assert q[k] == before[u][k], (u, k, before[u], q)
        assert same_start(q["intervalStart"], before[u]["intervalStart"]), (before[u], q)
    # bob's window goes on where it was: two more, then refused
    assert send_as(srv, acc, "bob")[0] == "ok"
    assert send_as(srv, acc, "bob")[0] == "ok"
    refused(send_as(srv, acc, "bob"), "mail", "Sending limit reached")


def test_window_ended_while_down_is_gone(fresh_server):
    srv = fresh_server
    acc = make_accounts(srv, "alice", sentMessagesCount=1, sentMessagesInterval=5)
    assert send_as(srv, acc, "alice")[0] == "ok"
    refused(send_as(srv, acc, "alice"), "mail", "Sending limit reached")
    srv.stop()
    assert re.search(r"^\d+ \d+ \d+ \d+ 1 1 \d+$", (srv.root / STATE).read_text(), re.M)
    time.sleep(5.5)
    srv.start()
    assert send_quota(srv, acc.dom, "alice")["sentMessages"] == "0"
    assert send_as(srv, acc, "alice")[0] == "ok"


def test_deleted_account_counters_are_not_inherited(fresh_server):
    srv = fresh_server
    acc = make_accounts(srv, "alice", sentMessagesCount=1, sentMessagesInterval=3600)
    old_id = user_id(srv, acc.dom, "alice")
    assert send_as(srv, acc, "alice")[0] == "ok"
    refused(send_as(srv, acc, "alice"), "mail", "Sending limit reached")
    time.sleep(FLUSH_WAIT)   # the counts are on disk
    # deleted and made again while running: the new alice has the old id
    with srv.connect() as c:
        c.ok("userdel", acc.dom, "alice")
        c.ok("useradd", acc.dom, "alice", acc.pw["alice"], "U")
        set_limits(c, acc.dom, "alice", sentMessagesCount=1, sentMessagesInterval=3600)
    assert user_id(srv, acc.dom, "alice") == old_id
    assert send_quota(srv, acc.dom, "alice")["sentMessages"] == "0"
    assert send_as(srv, acc, "alice")[0] == "ok"
    refused(send_as(srv, acc, "alice"), "mail", "Sending limit reached")
    time.sleep(FLUSH_WAIT)
    # deleted, then kill -9 at once; made again after the restart
    with srv.connect() as c:
        c.ok("userdel", acc.dom, "alice")
    srv.kill9()
    srv.restart()
    with srv.connect() as c:
        c.ok("useradd", acc.dom, "alice", acc.pw["alice"], "U")
        set_limits(c, acc.dom, "alice", sentMessagesCount=1, sentMessagesInterval=3600)
    assert user_id(srv, acc.dom, "alice") == old_id
    assert send_quota(srv, acc.dom, "alice")["sentMessages"] == "0"
    assert send_as(srv, acc, "alice")[0] == "ok"
    # deleting the whole domain drops its accounts' counters too
    time.sleep(FLUSH_WAIT)
    assert re.search(rf"^{old_id} ", (srv.root / STATE).read_text(), re.M)
    with srv.connect() as c:
        c.ok("domaindel", acc.dom)
    assert not re.search(rf"^{old_id} ", (srv.root / STATE).read_text(), re.M)


def test_damaged_state_file_is_logged_and_ignored(fresh_server):
    srv = fresh_server
    acc = make_accounts(srv, "alice", sentMessagesCount=1, sentMessagesInterval=3600)
    assert send_as(srv, acc, "alice")[0] == "ok"
    srv.stop()
    good = (srv.root / STATE).read_bytes()
    assert good.startswith(b"# tern send counters 1\n") and b"\n.end 1 " in good
    edited = re.sub(rb"^(\d+ \d+ \d+ \d+) 1 ", rb"\1 0 ", good, flags=re.M)
    assert edited != good
    variants = {
        "truncated": good[:len(good) // 2],
        "no end line": good[:good.index(b".end")],
        "edited": edited,
        "garbage": bytes(range(256)) * 4,
        "empty": b"",
        "huge count": b"# tern send counters 1\n.end 2000000000 0\n",
    }
    for n, (what, data) in enumerate(variants.items()):
        (srv.root / STATE).write_bytes(data)
        (srv.root / (STATE + ".corrupt")).unlink(missing_ok=True)
        srv.start()
        assert srv.running, what
        # (the ports are bound before the file is read: wait for the line)
        assert wait(lambda: len(re.findall(r"sendcounters.tab is damaged \([^)]*\) and is ignored",
                                           log_file(srv))) == n + 1), what
        assert (srv.root / (STATE + ".corrupt")).read_bytes() == data, what
        # counters from zero: alice may send her one message again
        assert send_quota(srv, acc.dom, "alice")["sentMessages"] == "0", what
        assert send_as(srv, acc, "alice")[0] == "ok", what
        refused(send_as(srv, acc, "alice"), "mail", "Sending limit reached")
        srv.stop()
    # the file written after the damaged one is intact again; the temp file
    # of a write that a crash cut short is removed, never read
    tmp = srv.root / ".tmp.1.2.sendcounters.tab"
    tmp.write_bytes(good[:10])
    srv.start()
    refused(send_as(srv, acc, "alice"), "mail", "Sending limit reached")
    assert not tmp.exists()
