"""Mailing lists: every member receives; a closed list (ClosedML=1) takes
posts only from members with W (matched on the envelope sender) or A
(matched on the SMTP AUTH identity)."""

import smtplib
import ssl
import time
from pathlib import Path


def count(root, dom, user):
    n = 0
    for sub in ("new", "cur"):
        d = Path(root) / "domains" / dom / user / "Maildir" / sub
        if d.is_dir():
            n += len(list(d.iterdir()))
    return n


def wait(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline and not pred():
        time.sleep(0.05)
    return pred()


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def test_closed_list_posting_rules(server, c, dom):
    for u in ("reader", "writer", "authposter"):
        c.ok("useradd", dom, u, "pw", "U")
    c.ok("useradd", dom, "team", "pw", "M")
    c.ok("mluseradd", dom, "team", f"reader@{dom}", "R")
    c.ok("mluseradd", dom, "team", f"writer@{dom}", "RW")
    c.ok("mluseradd", dom, "team", f"authposter@{dom}", "RA")
    # open list: anyone may post, every member receives
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.sendmail("outsider@remote.example", [f"team@{dom}"], "Subject: open\r\n\r\nhi\r\n")
    assert wait(lambda: all(count(server.root, dom, u) == 1 for u in ("reader", "writer", "authposter")))
    c.ok("uservarsset", dom, "team", "ClosedML", "1")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.ehlo("lists.test")
        s.mail("outsider@remote.example")
        code, msg = s.rcpt(f"team@{dom}")
        assert code == 550 and msg.startswith(b"5.7.2"), (code, msg)
        s.rset()
        s.mail(f"reader@{dom}")                      # R only: may not post
        assert s.rcpt(f"team@{dom}")[0] == 550
        s.rset()
        s.mail(f"writer@{dom}")                      # W: may post
        assert s.rcpt(f"team@{dom}")[0] == 250
    # A: may post when authenticated as the member, whatever the sender
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10) as s:
        s.starttls(context=ctx())
        s.login(f"authposter@{dom}", "pw")
        s.sendmail("any-sender@remote.example", [f"team@{dom}"], "Subject: via auth\r\n\r\nhi\r\n")
    assert wait(lambda: count(server.root, dom, "reader") == 2)


def test_external_alias_receives_into_local_account(server, c, dom):
    c.ok("useradd", dom, "home", "pw", "U")
    c.ok("exaliasadd", f"home@{dom}", "me@elsewhere.example")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        # no relay rights needed: the address is ours through the external alias
        s.sendmail("x@remote.example", ["me@elsewhere.example"], "Subject: exalias\r\n\r\nhi\r\n")
    assert wait(lambda: count(server.root, dom, "home") == 1)
    c.ok("exaliasdel", "me@elsewhere.example")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.ehlo("lists.test")
        s.mail("x@remote.example")
        assert s.rcpt("me@elsewhere.example")[0] == 550
