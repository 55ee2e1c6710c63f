"""mailproc.tab rules at delivery: mailbox, redirect, lredirect, external
(argv, no shell, message on stdin, exit code 16 stops), validation of
uploads, and a broken rule file never losing mail."""

import email
import smtplib
import time
from pathlib import Path

from ctrlclient import check


def maildir_msgs(root, dom, user):
    out = []
    for sub in ("new", "cur"):
        d = Path(root) / "domains" / dom / user / "Maildir" / sub
        if d.is_dir():
            out += [email.message_from_bytes(p.read_bytes()) for p in sorted(d.iterdir())]
    return out


def wait_for(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def send(server, rcpt, subject, sender="sender@remote.example"):
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.sendmail(sender, [rcpt], f"Subject: {subject}\r\nFrom: {sender}\r\n\r\nbody of {subject}\r\n")


def test_mailbox_and_redirect(server, c, dom):
    c.ok("useradd", dom, "alice", "pw", "U")
    c.ok("useradd", dom, "bob", "pw", "U")
    check(c.upload(("usersetmproc", dom, "alice"), ["mailbox", f'"redirect"\t"bob@{dom}"']), 0)
    send(server, f"alice@{dom}", "redir-1")
    assert wait_for(lambda: len(maildir_msgs(server.root, dom, "bob")) == 1)
    assert [m["Subject"] for m in maildir_msgs(server.root, dom, "alice")] == ["redir-1"]
    bob = maildir_msgs(server.root, dom, "bob")[0]
    assert bob["Return-Path"] == "<sender@remote.example>"
    assert bob["Delivered-To"] == f"bob@{dom}"


def test_lredirect_uses_account_as_sender_and_no_mailbox(server, c, dom):
    c.ok("useradd", dom, "fwd", "pw", "U")
    c.ok("useradd", dom, "dest", "pw", "U")
    check(c.upload(("usersetmproc", dom, "fwd"), ['"lredirect"\t"dest"']), 0)   # bare name: same domain
    send(server, f"fwd@{dom}", "lredir-1")
    assert wait_for(lambda: len(maildir_msgs(server.root, dom, "dest")) == 1)
    assert maildir_msgs(server.root, dom, "dest")[0]["Return-Path"] == f"<fwd@{dom}>"
    time.sleep(0.3)
    assert maildir_msgs(server.root, dom, "fwd") == []      # no "mailbox" rule


def test_external_gets_message_on_stdin_and_exit_16_stops(server, c, dom, tmp_path):
    c.ok("useradd", dom, "ext", "pw", "U")
    out = tmp_path / "ext-out"
    args = tmp_path / "ext-args"
    tmp_path.chmod(0o777)
    rules = [
        f'"external"\t"0"\t"10"\t"/usr/bin/tee"\t"{out}"',
        # argv, not a shell: the recipient arrives as one argument, verbatim
        f'"external"\t"0"\t"10"\t"/usr/bin/python3"\t"-c"\t"import sys; open(sys.argv[1], \'w\').write(sys.argv[2])"'
        f'\t"{args}"\t"@@RCPT"',
        '"external"\t"0"\t"10"\t"/usr/bin/python3"\t"-c"\t"import sys; sys.exit(16)"',
        "mailbox",
    ]
    check(c.upload(("usersetmproc", dom, "ext"), rules), 0)
    send(server, f"ext@{dom}", "ext-1")
    assert wait_for(lambda: out.exists() and b"body of ext-1" in out.read_bytes())
    assert wait_for(lambda: args.exists())
    assert args.read_text() == f"ext@{dom}"
    time.sleep(0.3)
    assert maildir_msgs(server.root, dom, "ext") == []      # exit code 16 stopped before "mailbox"


def test_bad_mailproc_upload_refused(server, c, dom):
    c.ok("useradd", dom, "val", "pw", "U")
    r = c.upload(("usersetmproc", dom, "val"), ["mailbox", '"explode"\t"now"'])
    assert r.code == -20 and "(line 2)" in r.text
    r = c.upload(("usersetmproc", dom, "val"), ['"external"\t"0"\t"10"\t"relative/prog"'])
    assert r.code == -20
    c.expect(-116, "usergetmproc", dom, "val")


def test_broken_rule_file_on_disk_still_stores(server, c, dom):
    c.ok("useradd", dom, "broken", "pw", "U")
    d = Path(server.root) / "domains" / dom / "broken"
    d.mkdir(parents=True, exist_ok=True)
    (d / "mailproc.tab").write_text('"nonsense"\n')
    send(server, f"broken@{dom}", "keep-me")
    assert wait_for(lambda: [m["Subject"] for m in maildir_msgs(server.root, dom, "broken")] == ["keep-me"])
