"""MaxMBSize checked again at delivery time: messages that all passed RCPT
while the mailbox was empty, and would together exceed the quota, are
stored only while they fit; the rest are frozen in spool/held with a log
line saying why (never dropped, never over quota), and an admin can submit
them again once the quota allows. The usage the checks see (cache) equals
userstat's exact count after deliveries, POP3 deletions and files added
behind the server's back."""

import os
import poplib
import smtplib
import time
from pathlib import Path

from ctrlclient import check
from smtpclient import SMTPConn, data_payload

def wait(pred, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline and not pred():
        time.sleep(0.05)
    return pred()


def md_files(root, dom, user):
    out = []
    for sub in ("new", "cur"):
        d = Path(root) / "domains" / dom / user / "Maildir" / sub
        if d.is_dir():
            out += [p for p in d.iterdir() if p.is_file()]
    return out


def held_ids(root, dom):
    """Frozen entries for recipients of domain dom (the server is shared)."""
    d = Path(root) / "spool" / "held"
    out = []
    for n in os.listdir(d):
        if n.endswith(".log"):
            continue
        try:
            head = (d / n).read_bytes().split(b"\n.\n", 1)[0]
        except FileNotFoundError:
            continue
        if f"@{dom}\n".encode() in head + b"\n":
            out.append(n)
    return sorted(out)


def userstat(c, dom, user):
    return {k: v for k, v in c.records("userstat", dom, user)}


def test_concurrent_messages_over_quota_are_frozen_not_stored(server, c, dom):
    c.ok("useradd", dom, "tight", "pw", "U")
    c.ok("useradd", dom, "copy", "pw", "U")
    c.ok("uservarsset", dom, "tight", "MaxMBSize", "10")     # 10 KB
    # the account's other rules run whatever the quota, and only once
    check(c.upload(("usersetmproc", dom, "tight"), ["mailbox", f'"redirect"\t"copy@{dom}"']), 0)
    body = "y" * 3000
    conns = []
    try:
        # six transactions pass RCPT while the mailbox is empty ...
        for i in range(6):
            s = SMTPConn(server.smtp_port, timeout=10)
            conns.append(s)
            assert s.ehlo().code == 250
            assert s.mail("x@remote.example").code == 250
            r = s.rcpt(f"tight@{dom}")
            assert r.code == 250, r
        # ... then all six send their data: together 18 KB for a 10 KB quota
        for i, s in enumerate(conns):
            assert s.cmd("DATA").code == 354
            s.send(data_payload(f"Subject: q{i}\r\n\r\nquota-{i}\r\n{body}\r\n".encode()))
            assert s.read_reply().code == 250
    finally:
        for s in conns:
            s.close()
    assert wait(lambda: len(md_files(server.root, dom, "tight")) + len(held_ids(server.root, dom)) == 6)
    stored = md_files(server.root, dom, "tight")
    held = held_ids(server.root, dom)
    assert 1 <= len(stored) < 6 and len(held) == 6 - len(stored), (len(stored), held)
    assert sum(p.stat().st_size for p in stored) <= 10 * 1024
    # every message is somewhere, once
    tags = sorted([p.read_text().split("quota-")[1][0] for p in stored] +
                  [(Path(server.root) / "spool" / "held" / h).read_text().split("quota-")[1][0] for h in held])
    assert tags == [str(i) for i in range(6)]
    # the admin sees why
    for h in held:
        log = (Path(server.root) / "spool" / "held" / f"{h}.log").read_text()
        assert f"<tight@{dom}> mailbox over quota" in log
        rows = [r for r in c.records("frozlist") if r[0] == h]
        assert len(rows) == 1 and rows[0][4] == f"<tight@{dom}>"
    assert wait(lambda: "mailbox over quota (MaxMBSize 10 KB); message kept in spool/held" in server.log)
    st = userstat(c, dom, "tight")
    assert int(st["MailboxMessages"]) == len(stored)
    # the quota goes up: the frozen messages can be submitted again and arrive
    c.ok("uservarsset", dom, "tight", "MaxMBSize", "100")
    # (the frozen copy keeps the message's id: submitting it waits until the
    # original has left the queue)
    assert wait(lambda: not any((Path(server.root) / "spool" / "queue" / h).exists() for h in held))
    for h in held:
        c.ok("frozsubmit", "0", "0", h)
    assert wait(lambda: len(md_files(server.root, dom, "tight")) == 6)
    assert held_ids(server.root, dom) == []
    tags = sorted(p.read_text().split("quota-")[1][0] for p in md_files(server.root, dom, "tight"))
    assert tags == [str(i) for i in range(6)]
    time.sleep(0.5)
    tags = sorted(p.read_text().split("quota-")[1][0] for p in md_files(server.root, dom, "copy"))
    assert tags == [str(i) for i in range(6)]


def quota_rcpt(server, dom, user, size):
    """The RCPT reply for a message of size bytes (SIZE=)."""
    with SMTPConn(server.smtp_port, timeout=10) as s:
        assert s.ehlo().code == 250
        assert s.mail("x@remote.example", f"SIZE={size}").code == 250
        return s.rcpt(f"{user}@{dom}").code


def test_usage_cache_follows_deliveries_deletions_and_outside_changes(server, c, dom):
    c.ok("useradd", dom, "cache", "pw", "U")
    c.ok("uservarsset", dom, "cache", "MaxMBSize", "20")     # 20 KB
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        for i in range(3):
            s.sendmail("x@remote.example", [f"cache@{dom}"], f"Subject: c{i}\r\n\r\n" + "z" * 4000 + "\r\n")
    assert wait(lambda: len(md_files(server.root, dom, "cache")) == 3)
    used = sum(p.stat().st_size for p in md_files(server.root, dom, "cache"))
    st = userstat(c, dom, "cache")
    assert (int(st["MailboxSize"]), int(st["MailboxMessages"])) == (used, 3)
    # about 12 KB used of 20: a 7 KB message fits, a 9 KB one does not
    assert quota_rcpt(server, dom, "cache", 20 * 1024 - used - 200) == 250
    assert quota_rcpt(server, dom, "cache", 20 * 1024 - used + 200) == 452
    # POP3 deletes two at QUIT: the RCPT check sees the room at once
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.user(f"cache@{dom}")
    p.pass_("pw")
    p.dele(1)
    p.dele(2)
    p.quit()
    left = md_files(server.root, dom, "cache")
    assert len(left) == 1
    used = left[0].stat().st_size
    assert quota_rcpt(server, dom, "cache", 20 * 1024 - used - 200) == 250
    assert quota_rcpt(server, dom, "cache", 20 * 1024 - used + 200) == 452
    # a file added behind the server's back (another program, a restore)
    time.sleep(0.05)
    extra = Path(server.root) / "domains" / dom / "cache" / "Maildir" / "cur" / "1.outside.host:2,"
    extra.write_bytes(b"Subject: outside\n\n" + b"o" * 6000 + b"\n")
    used += extra.stat().st_size
    assert quota_rcpt(server, dom, "cache", 20 * 1024 - used - 200) == 250
    assert quota_rcpt(server, dom, "cache", 20 * 1024 - used + 200) == 452
    st = userstat(c, dom, "cache")
    assert (int(st["MailboxSize"]), int(st["MailboxMessages"])) == (used, 2)
    # and removed behind its back
    time.sleep(0.05)
    extra.unlink()
    used -= 6000 + len(b"Subject: outside\n\n") + 1
    assert quota_rcpt(server, dom, "cache", 20 * 1024 - used - 200) == 250
    st = userstat(c, dom, "cache")
    assert (int(st["MailboxSize"]), int(st["MailboxMessages"])) == (used, 1)


def test_messages_that_fit_together_are_all_stored(server, c, dom):
    """Concurrent copies that fit the quota together are never frozen (a
    copy being stored is never counted twice, reserved and stored)."""
    for round_ in range(3):
        user = f"fit{round_}"
        c.ok("useradd", dom, user, "pw", "U")
        c.ok("uservarsset", dom, user, "MaxMBSize", "12")     # 12 KB
        conns = []
        try:
            for i in range(3):
                s = SMTPConn(server.smtp_port, timeout=10)
                conns.append(s)
                assert s.ehlo().code == 250 and s.mail("x@remote.example").code == 250
                assert s.rcpt(f"{user}@{dom}").code == 250
            for s in conns:
                assert s.cmd("DATA").code == 354
            for i, s in enumerate(conns):          # the data of all three at once
                s.send(data_payload(f"Subject: f{i}\r\n\r\n{'w' * 3500}\r\n".encode()))
            for s in conns:
                assert s.read_reply().code == 250
        finally:
            for s in conns:
                s.close()
        assert wait(lambda: len(md_files(server.root, dom, user)) == 3), held_ids(server.root, dom)
        assert held_ids(server.root, dom) == []
