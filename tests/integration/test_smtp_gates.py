"""Account variables that gate delivery, checked at RCPT time:
ReceiveEnable and MaxMBSize (quota)."""

import smtplib
import time
from pathlib import Path


def deliver_count(root, dom, user):
    n = 0
    for sub in ("new", "cur"):
        d = Path(root) / "domains" / dom / user / "Maildir" / sub
        if d.is_dir():
            n += len(list(d.iterdir()))
    return n


def test_receive_disabled_is_refused_at_rcpt(server, c, dom):
    c.ok("useradd", dom, "closed", "pw", "U")
    c.ok("uservarsset", dom, "closed", "ReceiveEnable", "0")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.ehlo("gates.test")
        s.mail("x@remote.example")
        code, msg = s.rcpt(f"closed@{dom}")
        assert code == 550 and msg.startswith(b"5.2.1"), (code, msg)
    c.ok("uservarsset", dom, "closed", "ReceiveEnable", "1")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.ehlo("gates.test")
        s.mail("x@remote.example")
        assert s.rcpt(f"closed@{dom}")[0] == 250


def test_quota_full_and_too_big(server, c, dom):
    c.ok("useradd", dom, "small", "pw", "U")
    c.ok("uservarsset", dom, "small", "MaxMBSize", "4")      # 4 KB
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.ehlo("gates.test")
        # a message announced larger than the whole quota: permanent
        s.mail("x@remote.example", ["SIZE=5000"])
        code, msg = s.rcpt(f"small@{dom}")
        assert code == 552 and msg.startswith(b"5.2.2"), (code, msg)
        s.rset()
        # fill the mailbox
        s.sendmail("x@remote.example", [f"small@{dom}"], "Subject: fill\r\n\r\n" + "x" * 3500 + "\r\n")
    deadline = time.time() + 10
    while deliver_count(server.root, dom, "small") < 1 and time.time() < deadline:
        time.sleep(0.05)
    assert deliver_count(server.root, dom, "small") == 1
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.ehlo("gates.test")
        s.mail("x@remote.example", ["SIZE=500"])
        code, msg = s.rcpt(f"small@{dom}")
        assert code == 452 and msg.startswith(b"4.2.2"), (code, msg)
    # the controller shows the real usage
    stat = dict(c.records("userstat", dom, "small"))
    assert int(stat["MailboxMessages"]) == 1 and int(stat["MailboxSize"]) > 3500
    c.ok("uservarsset", dom, "small", "MaxMBSize", "0")      # no limit
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.ehlo("gates.test")
        s.mail("x@remote.example")
        assert s.rcpt(f"small@{dom}")[0] == 250
