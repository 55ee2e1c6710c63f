"""Submission (2587+N, STARTTLS then AUTH), SMTPS (2465+N, implicit TLS)
and AUTH on the MX port after STARTTLS: AUTH PLAIN / LOGIN, refusals before
TLS and before AUTH, relaying for authenticated clients, smtplib, swaks and
msmtp as real clients."""

import os
import re
import smtplib
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest

from smtpclient import (SMTPConn, b64, expect, make_message, need_tool, new_token,
                        parse, tls_context, wait_token, with_token)


def tls_session(port):
    """Connected, EHLO'd, STARTTLS'd and EHLO'd again."""
    s = SMTPConn(port)
    expect(s.ehlo(), 250)
    expect(s.starttls(), 220, what="STARTTLS")
    expect(s.ehlo(), 250, what="EHLO in TLS")
    return s


def smtps_session(server):
    s = SMTPConn(server.smtps_port, tls=True)
    expect(s.ehlo(), 250)
    return s


def spooled(root, token):
    """Files under the data root, outside the mailboxes, holding token."""
    out = []
    for p in Path(root).rglob("*"):
        if "domains" in p.relative_to(root).parts[:1] or not p.is_file():
            continue
        try:
            if token.encode() in p.read_bytes():
                out.append(p)
        except OSError:
            pass
    return out


# ---------------------------------------------------------------- 2587 before TLS

def test_submission_greeting_and_ehlo(server):
    with SMTPConn(server.submission_port) as s:
        assert s.greeting.code == 220 and re.match(r"^\S+ ESMTP Tern(\s|$)", s.greeting.lines[0])
        expect(s.ehlo(), 250)
        for kw in ("STARTTLS", "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE"):
            assert kw in s.ext, s.ext
        assert "AUTH" not in s.ext, "AUTH offered before TLS on submission"


def test_submission_mail_before_auth_cleartext(server, mdom):
    with SMTPConn(server.submission_port) as s:
        expect(s.ehlo(), 250)
        expect(s.mail(mdom.addr("alice")), 530, "5.7.0", "MAIL before AUTH")
        expect(s.cmd("NOOP"), 250)


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_submission_auth_before_starttls(server, mdom, mech):
    with SMTPConn(server.submission_port) as s:
        expect(s.ehlo(), 250)
        if mech == "PLAIN":
            r = s.auth_plain(mdom.addr("alice"), mdom.pw("alice"))
        else:
            r = s.cmd("AUTH LOGIN")
        expect(r, (530, 538), ("5.7.0", "5.7.11"), "AUTH before STARTTLS")
        expect(s.mail(mdom.addr("alice")), 530, "5.7.0", "still not authenticated")


# ---------------------------------------------------------------- 2587 in TLS

def test_submission_ehlo_in_tls(server, mdom):
    with tls_session(server.submission_port) as s:
        assert {"PLAIN", "LOGIN"} <= s.auth_mechs(), s.ext
        assert "STARTTLS" not in s.ext
        expect(s.mail(mdom.addr("alice")), 530, "5.7.0", "MAIL before AUTH in TLS")
        expect(s.rcpt(mdom.addr("bob")), 503, "5.5.1")


@pytest.mark.parametrize("how", ["plain-initial", "plain-continued", "login"])
def test_submission_auth_success(server, mdom, how):
    with tls_session(server.submission_port) as s:
        user, pw = mdom.addr("alice"), mdom.pw("alice")
        if how == "login":
            r = s.cmd("AUTH LOGIN")
            expect(r, 334, what="AUTH LOGIN")
            expect(s.cmd(b64(user)), 334, what="username")
            r = s.cmd(b64(pw))
        elif how == "plain-continued":
            r = s.cmd("AUTH PLAIN")
            expect(r, 334, what="AUTH PLAIN without initial response")
            assert r.lines == [""] or r.lines[0].strip() == "", r
            r = s.cmd(b64(f"\0{user}\0{pw}"))
        else:
            r = s.auth_plain(user, pw)
        expect(r, 235, "2.7.0", f"AUTH {how}")
        expect(s.mail(user), 250, "2.1.0", "MAIL after AUTH")
        expect(s.rcpt(mdom.addr("bob")), 250, "2.1.5")


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_submission_auth_failures(server, mdom, mech):
    with tls_session(server.submission_port) as s:
        auth = s.auth_plain if mech == "PLAIN" else s.auth_login
        # (failed attempts may be delayed: two per mechanism)
        if mech == "PLAIN":
            expect(auth(mdom.addr("alice"), mdom.pw("alice") + "x"), 535, "5.7.8",
                   "wrong password")
            expect(auth(f"nobody@{mdom.name}", "whatever"), 535, "5.7.8", "unknown user")
        else:
            expect(auth(mdom.addr("alice"), mdom.pw("bob")), 535, "5.7.8",
                   "other user's password")
            expect(auth(mdom.addr("bob"), ""), 535, "5.7.8", "empty password")
        expect(s.mail(mdom.addr("alice")), 530, "5.7.0", "no AUTH after failures")
        expect(auth(mdom.addr("alice"), mdom.pw("alice")), 235, "2.7.0", "then the right one")
        expect(s.mail(mdom.addr("alice")), 250, "2.1.0")


def test_submission_auth_protocol_errors(server, mdom):
    with tls_session(server.submission_port) as s:
        expect(s.cmd("AUTH FOOBAR"), 504, what="unknown mechanism")
        expect(s.cmd("AUTH LOGIN"), 334)
        expect(s.cmd("*"), 501, what="cancelled AUTH")
        expect(s.cmd("AUTH PLAIN !!!not-base64!!!"), 501, what="bad base64")
        expect(s.cmd("NOOP"), 250)
        expect(s.auth_plain(mdom.addr("alice"), mdom.pw("alice")), 235, "2.7.0")
        expect(s.auth_plain(mdom.addr("alice"), mdom.pw("alice")), 503, what="second AUTH")


def test_submission_relay_after_auth_is_spooled(server, mdom):
    tok = new_token("relay")
    foreign = "someone@foreign.example"
    msg = make_message(mdom.addr("alice"), foreign, "outbound", token=tok)
    with tls_session(server.submission_port) as s:
        expect(s.auth_plain(mdom.addr("alice"), mdom.pw("alice")), 235, "2.7.0")
        expect(s.mail(mdom.addr("alice")), 250, "2.1.0")
        expect(s.rcpt(foreign), 250, "2.1.5", "relay for an authenticated client")
        expect(s.data(msg), 250, "2.0.0")
    # accepted means on disk: somewhere in the data root outside the mailboxes
    assert spooled(server.root, tok), "relayed message not found in the data root"
    assert with_token(mdom.md("alice"), tok) == []


def test_submission_local_delivery(server, mdom):
    tok = new_token("sublocal")
    msg = make_message(mdom.addr("alice"), mdom.addr("bob"), "submitted", token=tok)
    with tls_session(server.submission_port) as s:
        expect(s.auth_login(mdom.addr("alice"), mdom.pw("alice")), 235, "2.7.0")
        r = s.send_message(mdom.addr("alice"), mdom.addr("bob"), msg)
        expect(r, 250, "2.0.0")
    (_, stored), = wait_token(mdom.md("bob"), tok)
    m = parse(stored)
    assert m["Return-Path"] == f"<{mdom.addr('alice')}>"


def test_submission_starttls_discards_injected_auth(server, mdom):
    cred = b64(f"\0{mdom.addr('alice')}\0{mdom.pw('alice')}").encode()
    with SMTPConn(server.submission_port) as s:
        expect(s.ehlo(), 250)
        r = s.starttls(extra=b"AUTH PLAIN " + cred + b"\r\n")
        expect(r, 220)
        r = expect(s.ehlo(), 250, what="first reply in TLS")
        assert "PIPELINING" in s.ext, f"first reply in TLS is not the EHLO answer: {r}"
        expect(s.mail(mdom.addr("alice")), 530, "5.7.0",
               "an AUTH pipelined before the handshake must not authenticate")
        assert s.pending() == b""


# ---------------------------------------------------------------- SMTPS 2465

def test_smtps_ehlo_and_auth_required(server, mdom):
    with smtps_session(server) as s:
        assert re.match(r"^\S+ ESMTP Tern(\s|$)", s.greeting.lines[0]), s.greeting
        assert {"PLAIN", "LOGIN"} <= s.auth_mechs(), s.ext
        assert "STARTTLS" not in s.ext, s.ext
        expect(s.mail(mdom.addr("alice")), 530, "5.7.0", "MAIL before AUTH")
        expect(s.auth_plain(mdom.addr("alice"), "wrong"), 535, "5.7.8")
        expect(s.auth_plain(mdom.addr("alice"), mdom.pw("alice")), 235, "2.7.0")
        expect(s.mail(mdom.addr("alice")), 250, "2.1.0")
        expect(s.rcpt("someone@foreign.example"), 250, "2.1.5")


def test_smtps_over_ipv6(server, mdom):
    with SMTPConn(server.smtps_port, host="::1", tls=True) as s:
        assert s.greeting.code == 220
        expect(s.ehlo(), 250)
        expect(s.auth_login(mdom.addr("bob"), mdom.pw("bob")), 235, "2.7.0")


def test_smtplib_smtps(server, mdom):
    tok = new_token("smtplib-ssl")
    em = EmailMessage()
    em["From"] = mdom.addr("bob")
    em["To"] = mdom.addr("alice")
    em["Subject"] = f"smtplib {tok}"
    em.set_content(f"sent with smtplib over SMTPS {tok}\n")
    with smtplib.SMTP_SSL("127.0.0.1", server.smtps_port, context=tls_context(),
                          timeout=10) as cl:
        cl.login(mdom.addr("bob"), mdom.pw("bob"))
        refused = cl.send_message(em)
        assert refused == {}
    (_, stored), = wait_token(mdom.md("alice"), tok)
    assert parse(stored)["Subject"] == f"smtplib {tok}"


def test_smtplib_starttls_submission(server, mdom):
    tok = new_token("smtplib-tls")
    em = EmailMessage()
    em["From"] = mdom.addr("alice")
    em["To"] = mdom.addr("bob")
    em["Subject"] = f"smtplib {tok}"
    em.set_content(f"sent with smtplib over submission {tok}\n")
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10) as cl:
        cl.ehlo()
        cl.starttls(context=tls_context())
        cl.ehlo()
        cl.login(mdom.addr("alice"), mdom.pw("alice"))
        assert cl.send_message(em) == {}
    (_, stored), = wait_token(mdom.md("bob"), tok)
    assert parse(stored)["Subject"] == f"smtplib {tok}"


# ---------------------------------------------------------------- MX port with AUTH

def test_mx_port_auth_refused_before_tls(server, mdom):
    with SMTPConn(server.smtp_port) as s:
        expect(s.ehlo(), 250)
        r = s.auth_plain(mdom.addr("alice"), mdom.pw("alice"))
        assert 500 <= r.code < 600, f"AUTH in clear on the MX port: {r}"
        expect(s.mail(mdom.addr("alice")), 250, "2.1.0")
        expect(s.rcpt("someone@foreign.example"), 550, "5.7.1", "still no relay")


def test_mx_port_auth_after_starttls_relays(server, mdom):
    tok = new_token("mxrelay")
    msg = make_message(mdom.addr("alice"), "someone@foreign.example", "relay", token=tok)
    with tls_session(server.smtp_port) as s:
        expect(s.auth_plain(mdom.addr("alice"), mdom.pw("alice")), 235, "2.7.0")
        expect(s.mail(mdom.addr("alice")), 250, "2.1.0")
        expect(s.rcpt("someone@foreign.example"), 250, "2.1.5", "relay after AUTH")
        expect(s.data(msg), 250, "2.0.0")
    assert spooled(server.root, tok)


# ---------------------------------------------------------------- real clients

def test_swaks_starttls_auth_submission(server, mdom):
    swaks = need_tool("swaks")
    tok = new_token("swaks-auth")
    r = subprocess.run(
        [swaks, "--server", f"127.0.0.1:{server.submission_port}", "--timeout", "20",
         "--tls", "--auth", "PLAIN", "--auth-user", mdom.addr("alice"),
         "--auth-password", mdom.pw("alice"),
         "--from", mdom.addr("alice"), "--to", mdom.addr("bob"),
         "--header", f"Subject: swaks auth {tok}", "--body", f"via swaks {tok}\n"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out
    assert re.search(r"^<~ +235 ", out, re.M), out
    (_, stored), = wait_token(mdom.md("bob"), tok)
    assert parse(stored)["Subject"] == f"swaks auth {tok}"


def test_msmtp_submission(server, mdom, tmp_path):
    msmtp = need_tool("msmtp")
    tok = new_token("msmtp")
    rc = tmp_path / "msmtprc"
    rc.write_text(f"""defaults
logfile {tmp_path / 'msmtp.log'}

account tern
host 127.0.0.1
port {server.submission_port}
tls on
tls_starttls on
tls_certcheck off
auth plain
user {mdom.addr('alice')}
password {mdom.pw('alice')}
from {mdom.addr('alice')}
timeout 20

account default : tern
""")
    os.chmod(rc, 0o600)
    msg = make_message(mdom.addr("alice"), mdom.addr("bob"), "msmtp", token=tok)
    r = subprocess.run([msmtp, "-C", str(rc), "-a", "tern", mdom.addr("bob")],
                       input=msg.replace(b"\r\n", b"\n"),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert r.returncode == 0, r.stdout.decode(errors="replace")
    (_, stored), = wait_token(mdom.md("bob"), tok)
    m = parse(stored)
    assert m["Message-ID"] == f"<{tok}@tern-tests.example>"
    assert m["Return-Path"] == f"<{mdom.addr('alice')}>"
