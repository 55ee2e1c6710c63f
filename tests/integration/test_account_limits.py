"""Account limits (the CLI's Limits context and accountDefaultLimits, or the
controller's uservars) enforced by the services:

- sending limits of authenticated SMTP senders (submission, SMTPS, AUTH on
  25): sentMessagesCount, sentRecipientsCount, sentMessagesSize (KB) per
  sentMessagesInterval seconds, counted per account in a fixed window,
  refused with 450 4.7.1 (RCPT for recipients, MAIL/DATA for messages and
  size), only accepted messages counting;
- services: without pop3 POP3 refuses every login path (PopEnable=0),
  without smtpOut MAIL FROM of the account gets 550 5.7.1
  (SmtpSendEnable=0), without smtpIn the account receives nothing;
- pop3ConnectionCount is 1 or 0 (more is refused: one session per
  maildrop; 0 is tested in test_cli_quotas.py), imapConnectionCount and
  webmailAttSize are refused (no IMAP or webmail service)."""

import base64
import hashlib
import os
import poplib
import re
import smtplib
import subprocess
import time
from pathlib import Path

import pytest

from cliclient import show_attrs
from smtpclient import maildir, message_files, new_token, tls_context, wait_count, wait_token

COMMITTED = "committing changes and switching back to previous context"


def uservars(c, dom, user):
    return dict(c.records("uservars", dom, user))


def message(sender, to, token, size=0):
    body = f"token {token}\r\n" + ("x" * 70 + "\r\n") * (size // 72)
    return f"From: {sender}\r\nTo: {to}\r\nSubject: limits {token}\r\n\r\n{body}"


def auth(s, user, pw):
    s.ehlo("limits.test")
    s.user, s.password = user, pw
    code, msg = s.auth("PLAIN", s.auth_plain, initial_response_ok=True)
    assert code == 235, (code, msg)
    return s


def submission(server, user, pw):
    s = smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10)
    s.starttls(context=tls_context())
    return auth(s, user, pw)


def smtps(server, user, pw):
    s = smtplib.SMTP_SSL("127.0.0.1", server.smtps_port, timeout=10, context=tls_context())
    return auth(s, user, pw)


def mx_auth(server, user, pw):
    s = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10)
    s.ehlo("limits.test")
    s.starttls(context=tls_context())
    return auth(s, user, pw)


def send(s, sender, rcpts, size=0):
    """One transaction; returns (stage, code, text) of the first refusal or
    ("ok", 250, token)."""
    token = new_token("lim")
    code, msg = s.mail(sender)
    if code != 250:
        return "mail", code, msg.decode()
    for r in rcpts:
        code, msg = s.rcpt(r)
        if code != 250:
            s.rset()
            return "rcpt", code, msg.decode()
    code, msg = s.docmd("DATA")
    if code != 354:
        s.rset()
        return "data", code, msg.decode()
    s.send(smtplib.quotedata(message(sender, rcpts[0], token, size)).encode() + b"\r\n.\r\n")
    code, msg = s.getreply()
    if code != 250:
        return "end", code, msg.decode()
    return "ok", 250, token


def refused(res, stage, what):
    st, code, text = res
    assert (st, code) == (stage, 450), res
    assert text.startswith("4.7.1 ") and what in text, res


class Accounts:
    def __init__(self, c, dom, *names):
        self.dom = dom
        self.pw = {}
        for n in names:
            self.pw[n] = f"{n}-Pw.{new_token('p')[-6:]}"
            c.ok("useradd", dom, n, self.pw[n], "U")

    def addr(self, n):
        return f"{n}@{self.dom}"


@pytest.fixture
def acc(c, dom):
    return Accounts(c, dom, "alice", "bob", "rcv1", "rcv2", "rcv3")


def set_limits(c, dom, user, **kw):
    for k, v in kw.items():
        name = k if k in ("PopEnable", "SmtpSendEnable") else f"Limits.{k}"
        c.ok("uservarsset", dom, user, name, str(v))


# ---------------------------------------------------------------- sending limits

def test_message_count_per_account_and_interval(server, c, acc):
    set_limits(c, acc.dom, "alice", sentMessagesCount=2, sentMessagesInterval=2)
    set_limits(c, acc.dom, "bob", sentMessagesCount=2, sentMessagesInterval=2)
    a, r = acc.addr("alice"), [acc.addr("rcv1")]
    # one account, three ways in: submission, AUTH on 25, SMTPS
    s1 = submission(server, a, acc.pw["alice"])
    assert send(s1, a, r)[0] == "ok"
    s2 = mx_auth(server, a, acc.pw["alice"])
    ok = send(s2, a, r)
    assert ok[0] == "ok"
    s3 = smtps(server, a, acc.pw["alice"])
    refused(send(s3, a, r), "mail", "2 messages per 2 seconds")
    refused(send(s1, a, r), "mail", "Sending limit reached")
    # another account keeps its own counters
    sb = submission(server, acc.addr("bob"), acc.pw["bob"])
    assert send(sb, acc.addr("bob"), r)[0] == "ok"
    assert send(sb, acc.addr("bob"), r)[0] == "ok"
    refused(send(sb, acc.addr("bob"), r), "mail", "Sending limit reached")
    # mail from outside to the limited account is not its sending
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as mx:
        mx.ehlo("outside.test")
        assert send(mx, "x@outside.example", [a])[0] == "ok"
    # the accepted messages were delivered; the window ends, alice sends again
    wait_token(maildir(server.root, acc.dom, "rcv1"), ok[2])
    time.sleep(2.2)
    assert send(s3, a, r)[0] == "ok"
    for s in (s1, s2, s3, sb):
        s.quit()


def test_last_message_taken_by_another_session_is_refused_at_data(server, c, acc):
    set_limits(c, acc.dom, "alice", sentMessagesCount=1, sentMessagesInterval=60)
    a, r = acc.addr("alice"), acc.addr("rcv1")
    s1 = submission(server, a, acc.pw["alice"])
    s2 = submission(server, a, acc.pw["alice"])
    assert s1.mail(a)[0] == 250 and s1.rcpt(r)[0] == 250
    first = send(s2, a, [r])
    assert first[0] == "ok"
    code, msg = s1.docmd("DATA")
    assert code == 450 and msg.startswith(b"4.7.1 ") and b"Sending limit reached" in msg, (code, msg)
    # the refused one never reaches the mailbox
    md = maildir(server.root, acc.dom, "rcv1")
    wait_token(md, first[2])
    s1.quit()
    s2.quit()


def test_recipient_limit_refuses_rcpt(server, c, acc):
    set_limits(c, acc.dom, "alice", sentRecipientsCount=3, sentMessagesInterval=2)
    a = acc.addr("alice")
    s = submission(server, a, acc.pw["alice"])
    assert send(s, a, [acc.addr("rcv1"), acc.addr("rcv2")])[0] == "ok"
    # one more recipient is allowed, the next one is refused at RCPT
    assert s.mail(a)[0] == 250
    assert s.rcpt(acc.addr("rcv3"))[0] == 250
    code, msg = s.rcpt(acc.addr("rcv1"))
    assert code == 450 and msg.startswith(b"4.7.1 ") and b"3 recipients per 2 seconds" in msg, (code, msg)
    code, msg = s.data(message(a, acc.addr("rcv3"), "one-rcpt").encode())
    assert code == 250, (code, msg)                         # sent to the accepted recipient only
    refused(send(s, a, [acc.addr("rcv1")]), "rcpt", "Recipient limit reached")
    # a refused RCPT did not count: after the window, three again
    time.sleep(2.2)
    assert send(s, a, [acc.addr("rcv1"), acc.addr("rcv2"), acc.addr("rcv3")])[0] == "ok"
    refused(send(s, a, [acc.addr("rcv1")]), "rcpt", "Recipient limit reached")
    s.quit()


def test_size_limit_at_mail_and_after_data(server, c, acc):
    set_limits(c, acc.dom, "alice", sentMessagesSize=4, sentMessagesInterval=2)   # 4 KB
    a, r = acc.addr("alice"), [acc.addr("rcv1")]
    s = submission(server, a, acc.pw["alice"])
    assert send(s, a, r, size=3000)[0] == "ok"
    # announced too large: refused at MAIL
    code, msg = s.mail(a, ["SIZE=2000"])
    assert code == 450 and msg.startswith(b"4.7.1 ") and b"4 KB per 2 seconds" in msg, (code, msg)
    # not announced: refused once the size is known, and not stored
    res = send(s, a, r, size=2000)
    refused(res, "end", "Size limit reached")
    # larger than the whole allowance: can never go, permanent (552)
    code, msg = s.mail(a, ["SIZE=5000"])
    assert code == 552 and msg.startswith(b"5.3.4 ") and b"sending size limit" in msg, (code, msg)
    st, code, text = send(s, a, r, size=5000)
    assert (st, code) == ("end", 552) and text.startswith("5.3.4 "), (st, code, text)
    # what fits is still accepted
    small = send(s, a, r, size=300)
    assert small[0] == "ok"
    md = maildir(server.root, acc.dom, "rcv1")
    wait_token(md, small[2])
    wait_count(md, 2)
    time.sleep(0.3)
    assert len(message_files(md)) == 2                      # the refused one was not stored
    time.sleep(2.2)
    assert send(s, a, r, size=3000)[0] == "ok"
    s.quit()


def test_no_limit_and_limits_changed_take_effect_at_next_message(server, c, acc):
    a, r = acc.addr("alice"), [acc.addr("rcv1")]
    s = submission(server, a, acc.pw["alice"])
    for _ in range(5):                                      # 0 / unset = no limit
        assert send(s, a, r)[0] == "ok"
    set_limits(c, acc.dom, "alice", sentMessagesCount=1, sentMessagesInterval=60)
    assert send(s, a, r)[0] == "ok"
    refused(send(s, a, r), "mail", "1 messages per 60 seconds")
    set_limits(c, acc.dom, "alice", sentMessagesCount=0)
    assert send(s, a, r)[0] == "ok"
    s.quit()


def test_counters_kept_over_restart(fresh_server):
    srv = fresh_server
    with srv.connect() as c:
        c.ok("domainadd", "restart.test")
        c.ok("useradd", "restart.test", "ann", "Ann-pw1", "U")
        c.ok("useradd", "restart.test", "rcv", "Rcv-pw1", "U")
        set_limits(c, "restart.test", "ann", sentMessagesCount=1, sentMessagesInterval=3600)
    s = submission(srv, "ann@restart.test", "Ann-pw1")
    assert send(s, "ann@restart.test", ["rcv@restart.test"])[0] == "ok"
    refused(send(s, "ann@restart.test", ["rcv@restart.test"]), "mail", "1 messages per 3600 seconds")
    s.quit()
    srv.restart()                         # the counts are kept on disk (test_send_counters_restart.py)
    s = submission(srv, "ann@restart.test", "Ann-pw1")
    refused(send(s, "ann@restart.test", ["rcv@restart.test"]), "mail", "Sending limit reached")
    s.quit()


# ---------------------------------------------------------------- through the CLI

def test_limits_set_through_the_cli(server, cli, c, acc):
    cli.ok(f"UPDATE Domain name {acc.dom}")
    cli.ok("UPDATE Account alice", "domain-account")
    cli.ok("CONFIG Limits", "domain-account-limits")
    cli.ok("SET sentMessagesCount 1 sentRecipientsCount 5 sentMessagesSize 100 sentMessagesInterval 2")
    attrs = show_attrs(cli.cmd("SHOW"))
    assert attrs["sentMessagesCount"] == "1" and attrs["sentMessagesInterval"] == "2"
    cli.ok("DONE", "domain-account")
    r = cli.cmd("COMMIT")
    assert r.ok and r.text == COMMITTED, r
    v = uservars(c, acc.dom, "alice")
    assert v["Limits.sentMessagesCount"] == "1" and v["Limits.sentMessagesInterval"] == "2"
    a, rc = acc.addr("alice"), [acc.addr("rcv1")]
    s = submission(server, a, acc.pw["alice"])
    assert send(s, a, rc)[0] == "ok"
    refused(send(s, a, rc), "mail", "1 messages per 2 seconds")
    time.sleep(2.2)
    assert send(s, a, rc)[0] == "ok"
    s.quit()
    # the interval shows its default when nothing is stored
    cli.ok("UPDATE Account bob")
    cli.ok("CONFIG Limits")
    assert show_attrs(cli.cmd("SHOW"))["sentMessagesInterval"] == "3600"
    cli.err("SET sentMessagesInterval 0", None, "domain-account-limits")
    cli.ok("BACK")
    cli.ok("BACK")


def test_domain_defaults_apply_to_new_accounts(server, cli, c, dom):
    cli.ok(f"UPDATE Domain name {dom}")
    cli.ok("CONFIG accountDefaultLimits", "domain-accountDefaultLimits")
    cli.ok("SET services (smtpIn smtpOut) sentMessagesCount 1 sentMessagesInterval 60")
    cli.ok("DONE", "domain")
    cli.ok("COMMIT", "")
    tab = "\n".join(c.listing("cfgfileget", f"domains/{dom}/userdef.tab"))
    for k, v in (("PopEnable", "0"), ("SmtpSendEnable", "1"), ("ReceiveEnable", "1"),
                 ("Limits.sentMessagesCount", "1")):
        assert f'"{k}"\t"{v}"' in tab, tab
    # a new account through the CLI and one through the controller
    cli.ok(f"UPDATE Domain name {dom}")
    cli.ok("ADD Account name newcli password Newcli-pw1")
    cli.ok("COMMIT", "domain")
    c.ok("useradd", dom, "newctl", "Newctl-pw1", "U")
    c.ok("useradd", dom, "rcv", "Rcv-pw1", "U")
    for u, pw in (("newcli", "Newcli-pw1"), ("newctl", "Newctl-pw1")):
        v = uservars(c, dom, u)
        assert v["PopEnable"] == "0" and v["SmtpSendEnable"] == "1", v
        s = submission(server, f"{u}@{dom}", pw)
        assert send(s, f"{u}@{dom}", [f"rcv@{dom}"])[0] == "ok"
        refused(send(s, f"{u}@{dom}", [f"rcv@{dom}"]), "mail", "Sending limit reached")
        s.quit()
        p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
        p.user(f"{u}@{dom}")
        with pytest.raises(poplib.error_proto, match="disabled"):
            p.pass_(pw)
        p.quit()


# ---------------------------------------------------------------- services

def pop_logins(server, user, pw, apop_secret=None):
    """The answers of USER/PASS, AUTH PLAIN and (when given) APOP."""
    out = {}
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.user(user)
    try:
        out["pass"] = p.pass_(pw).decode()
    except poplib.error_proto as e:
        out["pass"] = e.args[0].decode()
    p.quit()
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    cred = base64.b64encode(f"\0{user}\0{pw}".encode()).decode()
    try:
        out["plain"] = p._shortcmd(f"AUTH PLAIN {cred}").decode()
    except poplib.error_proto as e:
        out["plain"] = e.args[0].decode()
    p.quit()
    if apop_secret:
        p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
        ts = re.search(rb"<[^>]+>", p.getwelcome()).group(0)
        digest = hashlib.md5(ts + apop_secret.encode()).hexdigest()
        try:
            out["apop"] = p._shortcmd(f"APOP {user} {digest}").decode()
        except poplib.error_proto as e:
            out["apop"] = e.args[0].decode()
        p.quit()
    return out


def test_pop_enable_refuses_every_login_path(server, c, dom):
    c.ok("useradd", dom, "pops", "plain-pw", "U")
    c.ok("uservarsset", dom, "pops", "EnableChallengeAuth", "1")
    c.ok("userpasswd", dom, "pops", "Pops-pw1")
    user = f"pops@{dom}"
    on = pop_logins(server, user, "Pops-pw1", "Pops-pw1")
    assert all(v.startswith("+OK") for v in on.values()), on
    c.ok("uservarsset", dom, "pops", "PopEnable", "0")
    off = pop_logins(server, user, "Pops-pw1", "Pops-pw1")
    assert set(off) == {"pass", "plain", "apop"}
    for v in off.values():
        assert v == "-ERR [AUTH] POP3 access is disabled for this account", off
    # a wrong password still reads as a failed login (nothing is told)
    bad = pop_logins(server, user, "wrong-pw")
    assert bad["pass"] == "-ERR [AUTH] Authentication failed", bad
    # the mail still arrives; PopEnable=1 opens POP3 again
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as mx:
        mx.ehlo("outside.test")
        assert send(mx, "x@outside.example", [user])[0] == "ok"
    c.ok("uservarsset", dom, "pops", "PopEnable", "1")
    assert all(v.startswith("+OK") for v in pop_logins(server, user, "Pops-pw1", "Pops-pw1").values())


def test_services_through_the_cli(server, cli, c, acc):
    a = acc.addr("alice")
    cli.ok(f"UPDATE Domain name {acc.dom}")
    cli.ok("UPDATE Account alice")
    cli.ok("CONFIG Limits")
    cli.ok("SET services (smtpIn)")
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    v = uservars(c, acc.dom, "alice")
    assert (v["ReceiveEnable"], v["PopEnable"], v["SmtpSendEnable"]) == ("1", "0", "0"), v
    # smtpOut absent: MAIL FROM refused on every port, after AUTH
    for connect in (submission, mx_auth, smtps):
        s = connect(server, a, acc.pw["alice"])
        code, msg = s.mail(a)
        assert code == 550 and msg.startswith(b"5.7.1 ") and b"Sending mail is disabled" in msg, (code, msg)
        s.quit()
    # pop3 absent: login refused; smtpIn present: still receives
    assert pop_logins(server, a, acc.pw["alice"])["pass"].startswith("-ERR [AUTH] POP3 access is disabled")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as mx:
        mx.ehlo("outside.test")
        assert send(mx, "x@outside.example", [a])[0] == "ok"
    # another account is not affected
    sb = submission(server, acc.addr("bob"), acc.pw["bob"])
    assert send(sb, acc.addr("bob"), [a])[0] == "ok"
    sb.quit()
    # all services back
    cli.ok("UPDATE Account alice")
    cli.ok("CONFIG Limits")
    cli.ok("SET services (pop3 smtpIn smtpOut)")
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    v = uservars(c, acc.dom, "alice")
    assert (v["ReceiveEnable"], v["PopEnable"], v["SmtpSendEnable"]) == ("1", "1", "1"), v
    s = submission(server, a, acc.pw["alice"])
    assert send(s, a, [acc.addr("rcv1")])[0] == "ok"
    s.quit()
    assert pop_logins(server, a, acc.pw["alice"])["pass"].startswith("+OK")


def test_smtp_send_enable_through_the_controller(server, c, acc):
    a = acc.addr("alice")
    c.ok("uservarsset", acc.dom, "alice", "SmtpSendEnable", "0")
    s = submission(server, a, acc.pw["alice"])
    code, msg = s.mail(a)
    assert code == 550 and msg.startswith(b"5.7.1 "), (code, msg)
    c.ok("uservarsset", acc.dom, "alice", "SmtpSendEnable", "1")
    assert send(s, a, [acc.addr("rcv1")])[0] == "ok"       # read again at the next MAIL
    s.quit()


# ---------------------------------------------------------------- fixed and refused attributes

@pytest.mark.parametrize("where", ["account", "defaults"])
def test_fixed_and_refused_attributes(server, cli, c, acc, where):
    cli.ok(f"UPDATE Domain name {acc.dom}")
    if where == "account":
        cli.ok("UPDATE Account alice")
        cli.ok("CONFIG Limits", "domain-account-limits")
        ctx = "domain-account-limits"
    else:
        cli.ok("CONFIG accountDefaultLimits")
        ctx = "domain-accountDefaultLimits"
    attrs = show_attrs(cli.cmd("SHOW"))
    assert attrs["pop3ConnectionCount"] == "1"
    assert "imapConnectionCount" not in attrs and "webmailAttSize" not in attrs
    cli.ok("SET pop3ConnectionCount 1")
    cli.err("SET pop3ConnectionCount 2", "Invalid value for pop3ConnectionCount (a number from 0 to 1). POP3 "
            "sessions at a time: 1, or 0 to refuse the account's POP3 logins. No more than 1: POP3 locks the "
            "maildrop exclusively (RFC 1939), so a second session is always refused.", ctx)
    cli.err("SET imapConnectionCount 5",
            "imapConnectionCount cannot be set. Not supported: Tern has no IMAP service.", ctx)
    cli.err("SET webmailAttSize 1024",
            "webmailAttSize cannot be set. Not supported: Tern has no webmail service.", ctx)
    # a refused pair spoils the whole SET: nothing of it is kept
    cli.err("SET sentMessagesCount 9 imapConnectionCount 5", None, ctx)
    assert show_attrs(cli.cmd("SHOW"))["sentMessagesCount"] == "0"
    # HELP tells what each does
    r = cli.cmd("HELP")
    help_text = r.raw.decode()
    assert "SET [pop3ConnectionCount <number>] - POP3 sessions at a time: 1, or 0" in help_text
    assert "SET [imapConnectionCount <number>] - Not supported: Tern has no IMAP service." in help_text
    assert "SET [webmailAttSize <number>] - Not supported: Tern has no webmail service." in help_text
    assert re.search(r"SET \[sentMessagesCount <number>\] - [^\r]*450 4\.7\.1", help_text)
    assert "(stored" not in help_text
    cli.ok("SET sentMessagesCount 5 pop3ConnectionCount 1")
    cli.ok("DONE")
    cli.ok("COMMIT")
    v = uservars(c, acc.dom, "alice")
    assert not any(k in v for k in ("Limits.imapConnectionCount", "Limits.webmailAttSize")), v
    if where == "defaults":
        tab = "\n".join(c.listing("cfgfileget", f"domains/{acc.dom}/userdef.tab"))
        assert '"Limits.sentMessagesCount"\t"5"' in tab
        assert '"Limits.pop3ConnectionCount"\t"1"' in tab
        assert "imapConnectionCount" not in tab and "webmailAttSize" not in tab
    else:
        assert v["Limits.sentMessagesCount"] == "5"
        assert v["Limits.pop3ConnectionCount"] == "1"


def test_one_pop3_session_per_mailbox(server, acc):
    p1 = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p1.user(acc.addr("alice"))
    assert p1.pass_(acc.pw["alice"]).startswith(b"+OK")
    p2 = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p2.user(acc.addr("alice"))
    with pytest.raises(poplib.error_proto, match="IN-USE"):
        p2.pass_(acc.pw["alice"])
    p2.quit()
    p1.quit()


def test_tern_check_knows_the_refused_attributes(tmp_path):
    tern = Path(os.environ.get("TERN_CLIENT", Path(__file__).resolve().parents[2] / "build" / "tern"))
    script = tmp_path / "limits.txt"
    script.write_text("UPDATE Domain name example.com\nUPDATE Account a\nCONFIG Limits\n"
                      "SET sentMessagesCount 10 sentMessagesInterval 60 pop3ConnectionCount 1\n"
                      "SET imapConnectionCount 5\nSET webmailAttSize 10\nDONE\nCOMMIT\n")
    r = subprocess.run([str(tern), "check", str(script)], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "imapConnectionCount cannot be set" in out and "webmailAttSize cannot be set" in out, out
    assert "sentMessagesCount" not in out and "pop3ConnectionCount" not in out, out
