"""Account quotas and limits of the CLI, enforced by the services:

- totalMessageCount (the MaxMessages variable, the same value the
  controller's uservars shows and uservarsset sets): the message after the
  last one that fits is refused at RCPT with 452 4.2.2 (as a full mailbox
  of the size quota), and messages that all passed RCPT while the mailbox
  was empty are stored only while they fit, the rest frozen in spool/held
  with the reason (never over quota, never dropped);
- the per-folder messageCount / messageSize (FolderMaxMessages /
  FolderMaxMBSize) limit the one folder (the inbox): the tighter of total
  and per-folder applies;
- mboxCount and imapConnectionCount are refused (one folder, no IMAP);
  pop3ConnectionCount takes 0 (POP3 logins refused, at PASS and AUTH) or 1;
- accountDefaultQuotas / accountDefaultLimits carry the same attributes, a
  new account starts with them and RESET <attr> goes back to them;
- SHOW sendQuota prints the usage against the send limits, RESET sendQuota
  zeroes it (logged) and SMTP accepts the account's mail again;
- bad values are refused with -ERR and change nothing."""

import base64
import poplib
import re
import smtplib
import socket
import time
from pathlib import Path

import pytest

from cliclient import show_attrs
from smtpclient import SMTPConn, data_payload, maildir, message_files, new_token, tls_context, wait_count

COMMITTED = "committing changes and switching back to previous context"


def wait(pred, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline and not pred():
        time.sleep(0.05)
    return pred()


def uservars(c, dom, user):
    return dict(c.records("uservars", dom, user))


def held_ids(root, dom):
    """Frozen entries for recipients of domain dom (the server is shared)."""
    d = Path(root) / "spool" / "held"
    out = []
    for n in sorted(p.name for p in d.iterdir()):
        if n.endswith(".log"):
            continue
        try:
            head = (d / n).read_bytes().split(b"\n.\n", 1)[0]
        except FileNotFoundError:
            continue
        if f"@{dom}\n".encode() in head + b"\n":
            out.append(n)
    return out


class Dom:
    def __init__(self, c, name, users):
        self.name = name
        self.pw = {}
        c.ok("domainadd", name)
        for u in users:
            self.pw[u] = f"{u}-Pw.{new_token('p')[-6:]}"
            c.ok("useradd", name, u, self.pw[u], "U")

    def addr(self, u):
        return f"{u}@{self.name}"


@pytest.fixture
def d(c, unique_name):
    return Dom(c, unique_name("q") + ".test", ("alice", "bob"))


def quotas(cli, dom, user, *sets, commit=True):
    """UPDATE the account, CONFIG Quotas, run the SET lines, DONE, COMMIT."""
    cli.ok(f"UPDATE Domain name {dom}", "domain")
    cli.ok(f"UPDATE Account {user}", "domain-account")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    for s in sets:
        cli.ok(s)
    attrs = show_attrs(cli.cmd("SHOW"))
    cli.ok("DONE", "domain-account")
    if commit:
        cli.ok("COMMIT", "domain")
        cli.ok("BACK", "")
    return attrs


def rcpt(server, addr, size=None):
    """(code, text) of RCPT TO:<addr> in a fresh transaction."""
    with SMTPConn(server.smtp_port, timeout=10) as s:
        assert s.ehlo().code == 250
        assert s.mail("x@remote.example", *([f"SIZE={size}"] if size else [])).code == 250
        r = s.rcpt(addr)
        return r.code, r.text


def deliver(server, addr, body="hello", n=1):
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        for i in range(n):
            s.sendmail("x@remote.example", [addr], f"Subject: q{i}\r\n\r\n{body}\r\n")


# ---------------------------------------------------------------- totalMessageCount

def test_count_quota_refuses_the_next_message_at_rcpt(server, c, cli, d):
    attrs = quotas(cli, d.name, "alice", "SET totalMessageCount 3")
    assert attrs["totalMessageCount"] == "3"
    # one stored value: the controller sees it under its variable name
    assert uservars(c, d.name, "alice")["MaxMessages"] == "3"
    md = maildir(server.root, d.name, "alice")
    deliver(server, d.addr("alice"), n=3)
    wait_count(md, 3)
    code, line = rcpt(server, d.addr("alice"))
    assert code == 452 and "4.2.2" in line and "message count" in line, line
    # with smtplib too: the whole message is refused, nothing stored
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as ei:
            s.sendmail("x@remote.example", [d.addr("alice")], "Subject: four\r\n\r\nx\r\n")
        assert ei.value.recipients[d.addr("alice")][0] == 452
    # another account of the domain is not limited
    assert rcpt(server, d.addr("bob"))[0] == 250
    # the controller raises it: the CLI shows the same value, SMTP follows
    c.ok("uservarsset", d.name, "alice", "MaxMessages", "4")
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.ok("UPDATE Account alice")
    cli.ok("CONFIG Quotas")
    assert cli.ok("SHOW ATTR totalMessageCount").pieces[0] == "totalMessageCount = 4"
    cli.back_to_root()
    assert rcpt(server, d.addr("alice"))[0] == 250
    deliver(server, d.addr("alice"))
    wait_count(md, 4)
    assert rcpt(server, d.addr("alice"))[0] == 452
    # a POP3 deletion makes room again
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.user(d.addr("alice"))
    p.pass_(d.pw["alice"])
    p.dele(1)
    p.quit()
    assert wait(lambda: rcpt(server, d.addr("alice"))[0] == 250)
    # 0 = no limit
    quotas(cli, d.name, "alice", "SET totalMessageCount 0")
    assert uservars(c, d.name, "alice")["MaxMessages"] == "0"
    deliver(server, d.addr("alice"), n=2)
    wait_count(md, 5)


def concurrent(server, addr, n, tag, body="x"):
    """n transactions pass RCPT together, then each sends its data."""
    conns = []
    try:
        for i in range(n):
            s = SMTPConn(server.smtp_port, timeout=10)
            conns.append(s)
            assert s.ehlo().code == 250
            assert s.mail("x@remote.example").code == 250
            r = s.rcpt(addr)
            assert r.code == 250, r
        for i, s in enumerate(conns):
            assert s.cmd("DATA").code == 354
            s.send(data_payload(f"Subject: {tag}{i}\r\n\r\n{tag}-{i}\r\n{body}\r\n".encode()))
            assert s.read_reply().code == 250
    finally:
        for s in conns:
            s.close()


def test_count_quota_rechecked_at_delivery_freezes_what_does_not_fit(server, c, cli, d):
    quotas(cli, d.name, "alice", "SET totalMessageCount 2")
    md = maildir(server.root, d.name, "alice")
    concurrent(server, d.addr("alice"), 5, "cnt")
    assert wait(lambda: len(message_files(md)) + len(held_ids(server.root, d.name)) == 5)
    time.sleep(0.3)
    stored, held = message_files(md), held_ids(server.root, d.name)
    # never more than the quota, nothing lost
    assert (len(stored), len(held)) == (2, 3), (stored, held)
    tags = sorted([p.read_text().split("cnt-")[1][0] for p in stored] +
                  [(Path(server.root) / "spool" / "held" / h).read_text().split("cnt-")[1][0] for h in held])
    assert tags == [str(i) for i in range(5)]
    for h in held:
        log = (Path(server.root) / "spool" / "held" / f"{h}.log").read_text()
        assert f"<alice@{d.name}> mailbox over quota (MaxMessages 2 messages)" in log, log
    assert wait(lambda: "mailbox over quota (MaxMessages 2 messages); message kept in spool/held" in server.log)
    # the admin raises the quota and submits the frozen copies again
    quotas(cli, d.name, "alice", "SET totalMessageCount 5")
    assert wait(lambda: not any((Path(server.root) / "spool" / "queue" / h).exists() for h in held))
    for h in held:
        c.ok("frozsubmit", "0", "0", h)
    assert wait(lambda: len(message_files(md)) == 5)
    assert held_ids(server.root, d.name) == []


# ---------------------------------------------------------------- per folder

def test_per_folder_limits_the_inbox_and_the_tighter_one_applies(server, c, cli, d):
    # messageCount tighter than totalMessageCount
    attrs = quotas(cli, d.name, "alice", "SET totalMessageCount 10 messageCount 2")
    assert (attrs["totalMessageCount"], attrs["messageCount"]) == ("10", "2")
    v = uservars(c, d.name, "alice")
    assert (v["MaxMessages"], v["FolderMaxMessages"]) == ("10", "2")
    md = maildir(server.root, d.name, "alice")
    deliver(server, d.addr("alice"), n=2)
    wait_count(md, 2)
    assert rcpt(server, d.addr("alice"))[0] == 452
    # the total is the tighter one now
    quotas(cli, d.name, "alice", "SET totalMessageCount 2 messageCount 10")
    assert rcpt(server, d.addr("alice"))[0] == 452
    quotas(cli, d.name, "alice", "SET totalMessageCount 3")
    assert rcpt(server, d.addr("alice"))[0] == 250
    # at delivery the per-folder count is checked too (and named in the log)
    quotas(cli, d.name, "alice", "SET totalMessageCount 0 messageCount 3")
    concurrent(server, d.addr("alice"), 3, "fld")
    assert wait(lambda: len(message_files(md)) + len(held_ids(server.root, d.name)) == 5)
    time.sleep(0.3)
    assert len(message_files(md)) == 3 and len(held_ids(server.root, d.name)) == 2
    assert wait(lambda: "mailbox over quota (FolderMaxMessages 3 messages)" in server.log)

    # messageSize (KB) on bob, without a total size quota
    attrs = quotas(cli, d.name, "bob", "SET messageSize 4 totalMessageSize 0")
    assert (attrs["messageSize"], attrs["totalMessageSize"]) == ("4", "0")
    assert uservars(c, d.name, "bob")["FolderMaxMBSize"] == "4"
    code, line = rcpt(server, d.addr("bob"), size=5000)
    assert code == 552 and "5.2.2" in line, line
    assert rcpt(server, d.addr("bob"), size=3000)[0] == 250
    deliver(server, d.addr("bob"), body="y" * 3000)
    wait_count(maildir(server.root, d.name, "bob"), 1)
    code, line = rcpt(server, d.addr("bob"), size=1500)
    assert code == 452 and "Mailbox full" in line, line
    # a larger total does not loosen it; a smaller one is the limit
    quotas(cli, d.name, "bob", "SET totalMessageSize 100")
    assert rcpt(server, d.addr("bob"), size=1500)[0] == 452
    quotas(cli, d.name, "bob", "SET messageSize 0 totalMessageSize 3")
    assert rcpt(server, d.addr("bob"), size=100)[0] == 452
    quotas(cli, d.name, "bob", "SET totalMessageSize 0")
    assert rcpt(server, d.addr("bob"), size=100)[0] == 250


# ---------------------------------------------------------------- refused and 0/1 attributes

def pop3_auth_plain(server, user, pw):
    """The answer to AUTH PLAIN with an initial response (raw socket)."""
    with socket.create_connection(("127.0.0.1", server.pop3_port), timeout=10) as s:
        f = s.makefile("rb")
        assert f.readline().startswith(b"+OK")
        tok = base64.b64encode(f"\0{user}\0{pw}".encode()).decode()
        s.sendall(f"AUTH PLAIN {tok}\r\n".encode())
        line = f.readline().decode()
        s.sendall(b"QUIT\r\n")
        return line


def pop3_pass(server, user, pw):
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    try:
        p.user(user)
        return p.pass_(pw).decode()
    except poplib.error_proto as e:
        return e.args[0].decode()
    finally:
        p.quit()


def test_mbox_imap_refused_and_pop3_connection_count(server, c, cli, d):
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.ok("UPDATE Account alice")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    why = ("Not supported: Tern keeps a single folder per account (the Maildir inbox; there is no IMAP), so the "
           "number of folders is always 1.")
    for v in ("1", "5", "0"):
        cli.err(f"SET mboxCount {v}", f"mboxCount cannot be set. {why}", "domain-account-quotas")
    cli.err("RESET mboxCount", f"mboxCount cannot be reset. {why}")
    # a refused pair spoils the whole SET
    cli.err("SET totalMessageCount 9 mboxCount 2", None, "domain-account-quotas")
    assert "mboxCount" not in show_attrs(cli.cmd("SHOW"))
    assert show_attrs(cli.cmd("SHOW"))["totalMessageCount"] == "0"
    help_text = cli.ok("HELP").raw.decode()
    assert "SET [mboxCount <number>] - Not supported: Tern keeps a single folder" in help_text
    assert "SET [totalMessageCount <number>] - Maximum number of messages" in help_text
    assert "SET [messageCount <number>] - Message limit per folder" in help_text
    assert "SET [messageSize <number>] - Size limit per folder in KB" in help_text
    cli.ok("BACK", "domain-account")
    cli.ok("CONFIG Limits", "domain-account-limits")
    cli.err("SET imapConnectionCount 1",
            "imapConnectionCount cannot be set. Not supported: Tern has no IMAP service.")
    reason = ("POP3 sessions at a time: 1, or 0 to refuse the account's POP3 logins. No more than 1: POP3 locks "
              "the maildrop exclusively (RFC 1939), so a second session is always refused.")
    for v in ("2", "10"):
        cli.err(f"SET pop3ConnectionCount {v}",
                f"Invalid value for pop3ConnectionCount (a number from 0 to 1). {reason}")
    assert show_attrs(cli.cmd("SHOW"))["pop3ConnectionCount"] == "1"
    cli.ok("SET pop3ConnectionCount 0")
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    assert uservars(c, d.name, "alice")["Limits.pop3ConnectionCount"] == "0"
    text = pop3_pass(server, d.addr("alice"), d.pw["alice"])
    assert text.startswith("-ERR") and "pop3ConnectionCount 0" in text, text
    text = pop3_auth_plain(server, d.addr("alice"), d.pw["alice"])
    assert text.startswith("-ERR") and "pop3ConnectionCount 0" in text, text
    # a wrong password is still just a failed login (nothing told)
    assert "pop3ConnectionCount" not in pop3_pass(server, d.addr("alice"), "wrong")
    assert pop3_pass(server, d.addr("bob"), d.pw["bob"]).startswith("+OK")
    assert wait(lambda: f"login of alice@{d.name} refused, its pop3ConnectionCount limit is 0" in server.log)
    cli.ok("UPDATE Account alice")
    cli.ok("CONFIG Limits")
    cli.ok("SET pop3ConnectionCount 1")
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    assert pop3_pass(server, d.addr("alice"), d.pw["alice"]).startswith("+OK")
    # the controller's uservarsset takes the same values only
    r = c.cmd("uservarsset", d.name, "alice", "Limits.pop3ConnectionCount", "2")
    assert r.code < 0, r
    assert uservars(c, d.name, "alice")["Limits.pop3ConnectionCount"] == "1"


# ---------------------------------------------------------------- bad input

def test_bad_values_are_refused_and_change_nothing(server, c, cli, d):
    quotas(cli, d.name, "alice", "SET totalMessageCount 7 messageCount 6 messageSize 50")
    before = uservars(c, d.name, "alice")
    for attr in ("totalMessageCount", "messageCount", "messageSize"):
        # (a fresh session per attribute: CliMaxErrors closes one after 20 errors)
        with server.cli() as k:
            k.ok(f"UPDATE Domain name {d.name}")
            k.ok("UPDATE Account alice")
            k.ok("CONFIG Quotas")
            for bad in ("-1", "abc", "12x", "4294967296", "99999999999999999999999", "1" * 3000, "+5", "0x10"):
                k.err(f"SET {attr} {bad}", None, "domain-account-quotas")
            k.err(f"SET {attr}", "Invalid parameters")
            k.ok("DONE")
            k.ok("COMMIT", "domain")
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.ok("UPDATE Account alice")
    cli.ok("CONFIG Quotas")
    attrs = show_attrs(cli.cmd("SHOW"))
    assert (attrs["totalMessageCount"], attrs["messageCount"], attrs["messageSize"]) == ("7", "6", "50")
    r = cli.err("SET totalMessageCount -1")
    assert r.text == "Invalid value for totalMessageCount (a number from 0 to 4294967295)"
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    cli.ok("BACK", "")
    assert uservars(c, d.name, "alice") == before
    # the controller refuses the same values for the same variables
    for var in ("MaxMessages", "FolderMaxMessages", "FolderMaxMBSize"):
        for bad in ("-1", "abc", "4294967296", "1" * 30, ""):
            r = c.cmd("uservarsset", d.name, "alice", var, bad)
            assert r.code < 0, (var, bad, r)
    assert uservars(c, d.name, "alice") == before
    # the quota still holds
    assert rcpt(server, d.addr("alice"))[0] == 250


# ---------------------------------------------------------------- domain defaults and RESET

def test_domain_defaults_and_reset_inheritance(server, c, cli, d):
    # alice (made before the defaults) gets explicit values
    quotas(cli, d.name, "alice", "SET totalMessageCount 3 messageCount 2 messageSize 10")
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.ok("CONFIG accountDefaultQuotas", "domain-accountDefaultQuotas")
    cli.err("SET mboxCount 2", None)
    cli.err("SET totalMessageCount -3", None)
    cli.ok("SET totalMessageCount 7 messageCount 6 messageSize 500")
    attrs = show_attrs(cli.cmd("SHOW"))
    assert (attrs["totalMessageCount"], attrs["messageCount"], attrs["messageSize"]) == ("7", "6", "500")
    cli.ok("DONE", "domain")
    cli.ok("CONFIG accountDefaultLimits", "domain-accountDefaultLimits")
    cli.err("SET pop3ConnectionCount 3", None)
    cli.err("SHOW sendQuota", None)
    cli.ok("SET pop3ConnectionCount 0")
    cli.ok("DONE", "domain")
    cli.ok("COMMIT", "")
    tab = "\n".join(c.listing("cfgfileget", f"domains/{d.name}/userdef.tab"))
    for k, v in (("MaxMessages", "7"), ("FolderMaxMessages", "6"), ("FolderMaxMBSize", "500"),
                 ("Limits.pop3ConnectionCount", "0")):
        assert f'"{k}"\t"{v}"' in tab, tab
    # a new account starts with the defaults (CLI and controller alike)
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.ok("ADD Account name carol password Carol-Pw.1", "domain-account")
    cli.ok("CONFIG Quotas")
    attrs = show_attrs(cli.cmd("SHOW"))
    assert (attrs["totalMessageCount"], attrs["messageCount"], attrs["messageSize"]) == ("7", "6", "500")
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    v = uservars(c, d.name, "carol")
    assert (v["MaxMessages"], v["FolderMaxMessages"], v["FolderMaxMBSize"]) == ("7", "6", "500")
    assert v["Limits.pop3ConnectionCount"] == "0"
    assert "pop3ConnectionCount 0" in pop3_pass(server, f"carol@{d.name}", "Carol-Pw.1")
    c.ok("useradd", d.name, "dave", "Dave-Pw.1", "U")
    assert uservars(c, d.name, "dave")["MaxMessages"] == "7"
    # alice keeps her explicit values until RESET takes the defaults again
    v = uservars(c, d.name, "alice")
    assert (v["MaxMessages"], v["FolderMaxMessages"], v["FolderMaxMBSize"]) == ("3", "2", "10")
    cli.ok("UPDATE Account alice")
    cli.ok("CONFIG Quotas")
    for a in ("totalMessageCount", "messageCount", "messageSize"):
        cli.ok(f"RESET {a}")
    attrs = show_attrs(cli.cmd("SHOW"))
    assert (attrs["totalMessageCount"], attrs["messageCount"], attrs["messageSize"]) == ("7", "6", "500")
    cli.ok("DONE")
    cli.ok("CONFIG Limits")
    assert show_attrs(cli.cmd("SHOW"))["pop3ConnectionCount"] == "1"
    cli.ok("RESET pop3ConnectionCount")
    assert show_attrs(cli.cmd("SHOW"))["pop3ConnectionCount"] == "0"
    cli.err("RESET imapConnectionCount", None)
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    v = uservars(c, d.name, "alice")
    assert (v["MaxMessages"], v["FolderMaxMessages"], v["FolderMaxMBSize"]) == ("7", "6", "500")
    assert v["Limits.pop3ConnectionCount"] == "0"
    assert "pop3ConnectionCount 0" in pop3_pass(server, d.addr("alice"), d.pw["alice"])
    # an explicit value SET and RESET in one visit: the default wins
    cli.ok("CONFIG accountDefaultQuotas")
    cli.ok("SET messageCount 0")
    cli.ok("DONE")
    cli.ok("COMMIT", "")
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.ok("UPDATE Account bob")
    cli.ok("CONFIG Quotas")
    cli.ok("SET totalMessageCount 1")
    cli.ok("RESET totalMessageCount")
    assert cli.ok("SHOW ATTR totalMessageCount").pieces[0] == "totalMessageCount = 7"
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    cli.ok("BACK", "")
    assert uservars(c, d.name, "bob")["MaxMessages"] == "7"


def test_reset_without_default_removes_the_value(server, c, cli, d):
    quotas(cli, d.name, "alice", "SET totalMessageCount 1")
    deliver(server, d.addr("alice"))
    wait_count(maildir(server.root, d.name, "alice"), 1)
    assert rcpt(server, d.addr("alice"))[0] == 452
    attrs = quotas(cli, d.name, "alice", "RESET totalMessageCount")
    assert attrs["totalMessageCount"] == "0"
    assert "MaxMessages" not in uservars(c, d.name, "alice")
    assert rcpt(server, d.addr("alice"))[0] == 250


# ---------------------------------------------------------------- send quota

def submission(server, user, pw):
    s = smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10)
    s.starttls(context=tls_context())
    s.ehlo("quota.test")
    s.login(user, pw)
    return s


def send_quota(cli):
    r = cli.ok("SHOW sendQuota", "domain-account-limits")
    assert r.pieces[1] == "The send quota of this account:", r.raw
    return show_attrs(r)


def test_show_and_reset_send_quota(server, c, cli, d):
    a = d.addr("alice")
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.ok("UPDATE Account alice")
    cli.ok("CONFIG Limits")
    cli.ok("SET sentMessagesCount 2 sentRecipientsCount 5 sentMessagesInterval 3600")
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    cli.ok("UPDATE Account alice")
    cli.ok("CONFIG Limits", "domain-account-limits")
    help_text = cli.ok("HELP").raw.decode()
    assert "SHOW sendQuota - Print what the account has sent" in help_text
    assert "RESET sendQuota - Zero the account's send counters" in help_text
    q = send_quota(cli)
    assert q == {"sentMessages": "0", "sentMessagesCount": "2", "sentRecipients": "0", "sentRecipientsCount": "5",
                 "sentSize": "0", "sentMessagesSize": "0", "sentMessagesInterval": "3600", "intervalStart": '""',
                 "intervalRemaining": "0", "sendingEnabled": "yes"}, q
    s = submission(server, a, d.pw["alice"])
    s.sendmail(a, [d.addr("bob"), a], "Subject: one\r\n\r\n" + "z" * 3000 + "\r\n")
    s.sendmail(a, [d.addr("bob")], "Subject: two\r\n\r\nhello\r\n")
    with pytest.raises(smtplib.SMTPSenderRefused) as ei:
        s.sendmail(a, [d.addr("bob")], "Subject: three\r\n\r\nhello\r\n")
    assert ei.value.smtp_code == 450
    q = send_quota(cli)
    assert (q["sentMessages"], q["sentRecipients"]) == ("2", "3"), q
    assert 3 <= int(q["sentSize"]) <= 5, q
    assert re.fullmatch(r'"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d -0000"', q["intervalStart"]), q
    assert 3500 < int(q["intervalRemaining"]) <= 3600, q
    # RESET sendQuota acts at once (no COMMIT), is logged, and SMTP accepts again
    cli.ok("RESET sendQuota", "domain-account-limits")
    q = send_quota(cli)
    assert (q["sentMessages"], q["sentRecipients"], q["sentSize"], q["intervalRemaining"]) == ("0", "0", "0", "0")
    assert wait(lambda: re.search(rf"RESET sendQuota -> \+OK.*send counters of alice@{re.escape(d.name)} zeroed "
                                  r"\(were: 2 messages, 3 recipients, \d+ bytes\)", server.log))
    s.rset()
    s.sendmail(a, [d.addr("bob")], "Subject: after reset\r\n\r\nhello\r\n")
    s.quit()
    assert send_quota(cli)["sentMessages"] == "1"
    cli.ok("BACK", "domain-account")
    cli.ok("BACK", "domain")
    # a new account (not committed yet) has no counters
    cli.ok("ADD Account name erin password Erin-Pw.1", "domain-account")
    cli.ok("CONFIG Limits")
    r = cli.err("SHOW sendQuota")
    assert "does not exist yet" in r.text
    cli.err("RESET sendQuota", None)
    cli.back_to_root()
