"""SMTP session on the MX port (2525+N): greeting, EHLO keywords, the simple
verbs, reply codes for bad sequence / syntax / unknown commands, envelope
parameters, recipient checks, limits on command lines, pipelining and the
STARTTLS upgrade."""

import re

import pytest

from smtpclient import SMTPConn, expect, make_message, new_token, wait_token

DEFAULT_MAX_KB = 20480


def ehlo_conn(server, host="127.0.0.1"):
    s = SMTPConn(server.smtp_port, host=host)
    expect(s.ehlo(), 250, what="EHLO")
    return s


def enh_class_ok(reply):
    """RFC 2034: after EHLO with ENHANCEDSTATUSCODES every 2xx/4xx/5xx reply
    (except to EHLO/HELO) carries an enhanced code of the same class."""
    return reply.enh is not None and reply.enh[0] == str(reply.code)[0]


# ---------------------------------------------------------------- greeting / EHLO

@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_greeting(server, host):
    with SMTPConn(server.smtp_port, host=host) as s:
        g = s.greeting
        assert g.code == 220, g
        assert len(g.lines) == 1, g
        assert re.match(r"^\S+ ESMTP Tern(\s|$)", g.lines[0]), g


def test_ehlo_keywords_before_tls(server):
    with SMTPConn(server.smtp_port) as s:
        r = expect(s.ehlo("client.example"), 250, what="EHLO")
        assert len(r.lines) >= 2, r
        for kw in ("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "STARTTLS", "SIZE"):
            assert kw in s.ext, f"{kw} missing from {r.lines}"
        assert s.ext["SIZE"] == str(DEFAULT_MAX_KB * 1024), r
        # MX port: no AUTH before TLS
        assert "AUTH" not in s.ext, r
        assert not any(l.upper().startswith("AUTH=") for l in r.lines[1:]), r


def test_ehlo_keywords_after_starttls(server):
    with SMTPConn(server.smtp_port) as s:
        s.ehlo()
        expect(s.starttls(), 220, what="STARTTLS")
        r = expect(s.ehlo(), 250, what="EHLO in TLS")
        for kw in ("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE"):
            assert kw in s.ext, f"{kw} missing from {r.lines}"
        assert "STARTTLS" not in s.ext, r
        assert {"PLAIN", "LOGIN"} <= s.auth_mechs(), r


def test_helo(server, mdom):
    with SMTPConn(server.smtp_port) as s:
        r = s.cmd("HELO client.example")
        assert r.code == 250, r
        assert len(r.lines) == 1, r
        expect(s.mail("someone@example.org"), 250, "2.1.0", "MAIL after HELO")
        expect(s.rcpt(mdom.addr("alice")), 250, "2.1.5", "RCPT after HELO")


def test_ehlo_twice_resets_transaction(server, mdom):
    with ehlo_conn(server) as s:
        expect(s.mail("x@example.org"), 250, "2.1.0")
        expect(s.ehlo(), 250)
        expect(s.rcpt(mdom.addr("alice")), 503, "5.5.1", "RCPT after new EHLO")
        expect(s.mail("x@example.org"), 250, "2.1.0", "MAIL after new EHLO")


def test_noop_rset_quit(server):
    with ehlo_conn(server) as s:
        r = expect(s.cmd("NOOP"), 250, what="NOOP")
        assert enh_class_ok(r), r
        r = expect(s.cmd("RSET"), 250, what="RSET")
        assert enh_class_ok(r), r
        r = expect(s.cmd("QUIT"), 221, what="QUIT")
        assert enh_class_ok(r), r
        assert s.at_eof(), "connection still open after QUIT"


def test_noop_with_argument_and_lowercase_verbs(server, mdom):
    with SMTPConn(server.smtp_port) as s:
        expect(s.cmd("ehlo client.example"), 250)
        expect(s.cmd("noop some argument"), 250)
        expect(s.cmd("mail from:<x@example.org>"), 250, "2.1.0")
        expect(s.cmd(f"rcpt to:<{mdom.addr('alice')}>"), 250, "2.1.5")
        expect(s.cmd("rset"), 250)
        expect(s.cmd("quit"), 221)


def test_vrfy_disabled(server, mdom):
    with ehlo_conn(server) as s:
        expect(s.cmd(f"VRFY {mdom.addr('alice')}"), 252, what="VRFY existing")
        expect(s.cmd(f"VRFY nobody@{mdom.name}"), 252, what="VRFY missing")
        expect(s.cmd("NOOP"), 250)


@pytest.mark.parametrize("line", ["FOOBAR", "XYZZY arg", "MAILFROM:<a@b>", "HELP2"])
def test_unknown_command(server, line):
    with ehlo_conn(server) as s:
        expect(s.cmd(line), 500, "5.5.1", line)
        expect(s.cmd("NOOP"), 250, what="session continues")


def test_bad_sequence(server, mdom):
    with ehlo_conn(server) as s:
        expect(s.rcpt(mdom.addr("alice")), 503, "5.5.1", "RCPT before MAIL")
        expect(s.cmd("DATA"), 503, "5.5.1", "DATA before MAIL")
        expect(s.mail("x@example.org"), 250, "2.1.0")
        expect(s.cmd("DATA"), 503, "5.5.1", "DATA before RCPT")
        expect(s.mail("y@example.org"), 503, "5.5.1", "nested MAIL")
        expect(s.rcpt(mdom.addr("alice")), 250, "2.1.5", "transaction still usable")
        expect(s.cmd("RSET"), 250)
        expect(s.cmd("DATA"), 503, "5.5.1", "DATA after RSET")
        expect(s.rcpt(mdom.addr("alice")), 503, "5.5.1", "RCPT after RSET")


def test_only_rejected_recipients_then_data(server, mdom):
    with ehlo_conn(server) as s:
        expect(s.mail("x@example.org"), 250, "2.1.0")
        expect(s.rcpt(f"nobody@{mdom.name}"), 550, "5.1.1")
        r = s.cmd("DATA")
        assert r.code in (503, 554), f"DATA without any accepted recipient: {r}"
        expect(s.cmd("NOOP"), 250)


# Structural errors (no colon, no argument) are "invalid command arguments"
# (5.5.4); a malformed address may instead get the more precise RFC 3463
# code for a bad sender (5.1.7) or recipient (5.1.3) address.
@pytest.mark.parametrize("line,enh", [
    ("MAIL FROM", "5.5.4"),
    ("MAIL", "5.5.4"),
    ("MAIL FROM:<unterminated@example.org", ("5.5.4", "5.1.7")),
    ("MAIL FROM:<a@b> <c@d>", ("5.5.4", "5.1.7")),
    ("EHLO", "5.5.4"),
    ("HELO", "5.5.4"),
])
def test_syntax_errors(server, line, enh):
    with SMTPConn(server.smtp_port) as s:
        if not line.startswith(("EHLO", "HELO")):
            expect(s.ehlo(), 250)
        expect(s.cmd(line), 501, enh, line)
        expect(s.cmd("NOOP"), 250, what="session continues")
        if line.startswith("MAIL"):
            expect(s.mail("x@example.org"), 250, "2.1.0", "no transaction was started")


@pytest.mark.parametrize("line,enh", [
    ("RCPT TO", "5.5.4"),
    ("RCPT", "5.5.4"),
    ("RCPT TO:<alice@{d}", ("5.5.4", "5.1.3")),
    ("RCPT TO:", ("5.5.4", "5.1.3")),
    ("RCPT TO:<>", ("5.5.4", "5.1.3")),
])
def test_rcpt_syntax_errors(server, mdom, line, enh):
    with ehlo_conn(server) as s:
        expect(s.mail("x@example.org"), 250, "2.1.0")
        expect(s.cmd(line.format(d=mdom.name)), 501, enh, line)
        expect(s.rcpt(mdom.addr("alice")), 250, "2.1.5", "transaction continues")


# ---------------------------------------------------------------- envelope

def test_mail_with_esmtp_parameters(server, mdom):
    with ehlo_conn(server) as s:
        expect(s.mail("x@example.org", "SIZE=1234 BODY=8BITMIME RET=HDRS ENVID=QQ314159"),
               250, "2.1.0", "MAIL with parameters")
        expect(s.rcpt(mdom.addr("alice"),
                      f"NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;{mdom.addr('alice')}"),
               250, "2.1.5", "RCPT with NOTIFY/ORCPT")
        expect(s.rcpt(mdom.addr("bob"), "NOTIFY=NEVER"), 250, "2.1.5")
        expect(s.cmd("RSET"), 250)
        expect(s.mail("x@example.org", "BODY=7BIT"), 250, "2.1.0")


def test_null_sender_accepted(server, mdom):
    with ehlo_conn(server) as s:
        expect(s.cmd("MAIL FROM:<>"), 250, "2.1.0", "null reverse-path")
        expect(s.rcpt(mdom.addr("alice")), 250, "2.1.5")


def test_size_parameter_limit(server):
    limit = DEFAULT_MAX_KB * 1024
    with ehlo_conn(server) as s:
        expect(s.mail("x@example.org", f"SIZE={limit + 1}"), 552, "5.3.4", "SIZE over limit")
        expect(s.mail("x@example.org", f"SIZE={limit * 10}"), 552, "5.3.4", "SIZE far over")
        expect(s.mail("x@example.org", f"SIZE={limit}"), 250, "2.1.0", "SIZE at limit")


def test_rcpt_checks(server, c, mdom):
    c.ok("aliasadd", mdom.name, "info", "alice")
    c.ok("aliasadd", mdom.name, "sales", mdom.addr("bob"))
    with ehlo_conn(server) as s:
        expect(s.mail("x@example.org"), 250, "2.1.0")
        expect(s.rcpt(mdom.addr("alice")), 250, "2.1.5", "local user")
        expect(s.rcpt(f"info@{mdom.name}"), 250, "2.1.5", "alias")
        expect(s.rcpt(f"sales@{mdom.name}"), 250, "2.1.5", "alias (full target)")
        expect(s.rcpt(f"ALICE@{mdom.name.upper()}"), 250, "2.1.5", "case-insensitive")
        expect(s.rcpt(f"nobody@{mdom.name}"), 550, "5.1.1", "unknown local user")
        expect(s.rcpt("someone@foreign.example"), 550, "5.7.1", "relay without auth")
        expect(s.rcpt("someone@gmail.com"), 550, "5.7.1", "relay without auth")
        # rejected recipients leave the transaction usable
        expect(s.rcpt(mdom.addr("bob")), 250, "2.1.5")


def test_relay_denied_after_starttls_without_auth(server, mdom):
    with ehlo_conn(server) as s:
        expect(s.starttls(), 220)
        expect(s.ehlo(), 250)
        expect(s.mail(mdom.addr("alice")), 250, "2.1.0")
        expect(s.rcpt("someone@foreign.example"), 550, "5.7.1", "relay over TLS without auth")
        expect(s.rcpt(mdom.addr("bob")), 250, "2.1.5")


def test_recipient_limit_default(server, c, mdom):
    for i in range(101):
        c.ok("aliasadd", mdom.name, f"r{i}", "alice")
    with ehlo_conn(server) as s:
        expect(s.mail("x@example.org"), 250, "2.1.0")
        # all 101 RCPTs pipelined in one write
        s.send("".join(f"RCPT TO:<r{i}@{mdom.name}>\r\n" for i in range(101)))
        replies = [s.read_reply() for _ in range(101)]
        for i, r in enumerate(replies[:100]):
            assert r.code == 250 and r.enh == "2.1.5", f"RCPT {i}: {r}"
        expect(replies[100], 452, "4.5.3", "RCPT 101")
        expect(s.cmd("RSET"), 250)
        expect(s.mail("x@example.org"), 250, "2.1.0", "new transaction after the limit")
        expect(s.rcpt(mdom.addr("bob")), 250, "2.1.5")


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("size", [1200, 5000, 100_000])
def test_overlong_command_line(server, mdom, size):
    with ehlo_conn(server) as s:
        expect(s.mail("x@example.org"), 250, "2.1.0")
        s.send(b"NOOP " + b"x" * size + b"\r\n")
        expect(s.read_reply(), 500, "5.5.2", f"{size}-byte line")
        # exactly one reply, and the session (and its transaction) goes on
        expect(s.cmd("NOOP"), 250, what="NOOP after long line")
        assert s.pending() == b"", "extra replies after the over-long line"
        expect(s.rcpt(mdom.addr("alice")), 250, "2.1.5", "transaction survives")


def test_long_but_allowed_command_line(server):
    with ehlo_conn(server) as s:
        line = b"NOOP " + b"y" * 895          # 900 bytes + CRLF
        expect(s.cmd(line), 250, what="900-byte NOOP")


@pytest.mark.parametrize("line", [b"NOOP\x00", b"NO\x00OP", b"MAIL FROM:<a\x00b@example.org>",
                                  b"EHLO cl\x00ient"])
def test_nul_in_command(server, mdom, line):
    with ehlo_conn(server) as s:
        expect(s.cmd(line), 500, "5.5.2", repr(line))
        expect(s.cmd("NOOP"), 250, what="session continues")
        expect(s.mail("x@example.org"), 250, "2.1.0", "no transaction was started by the bad line")


# ---------------------------------------------------------------- pipelining

def test_pipelined_transaction(server, mdom):
    tok = new_token("pipe")
    msg = make_message("x@example.org", [mdom.addr("alice"), mdom.addr("bob")], "pipelined",
                       token=tok)
    with ehlo_conn(server) as s:
        assert "PIPELINING" in s.ext
        s.send(f"MAIL FROM:<x@example.org>\r\n"
               f"RCPT TO:<{mdom.addr('alice')}>\r\n"
               f"RCPT TO:<nobody@{mdom.name}>\r\n"
               f"RCPT TO:<{mdom.addr('bob')}>\r\n"
               f"DATA\r\n")
        expect(s.read_reply(), 250, "2.1.0", "MAIL")
        expect(s.read_reply(), 250, "2.1.5", "RCPT alice")
        expect(s.read_reply(), 550, "5.1.1", "RCPT nobody")
        expect(s.read_reply(), 250, "2.1.5", "RCPT bob")
        expect(s.read_reply(), 354, what="DATA")
        s.send(msg + b".\r\nNOOP\r\nQUIT\r\n")
        expect(s.read_reply(), 250, "2.0.0", "end of data")
        expect(s.read_reply(), 250, what="NOOP")
        expect(s.read_reply(), 221, what="QUIT")
    assert len(wait_token(mdom.md("alice"), tok)) == 1
    assert len(wait_token(mdom.md("bob"), tok)) == 1


def test_two_transactions_one_session(server, mdom):
    t1, t2 = new_token("first"), new_token("second")
    with ehlo_conn(server) as s:
        expect(s.send_message("x@example.org", mdom.addr("alice"),
                              make_message("x@example.org", mdom.addr("alice"), "one", token=t1)),
               250, "2.0.0")
        expect(s.send_message("y@example.org", mdom.addr("alice"),
                              make_message("y@example.org", mdom.addr("alice"), "two", token=t2)),
               250, "2.0.0")
        expect(s.cmd("QUIT"), 221)
    md = mdom.md("alice")
    assert len(wait_token(md, t1)) == 1
    assert len(wait_token(md, t2)) == 1


# ---------------------------------------------------------------- STARTTLS

def test_starttls_discards_pipelined_commands(server, mdom):
    with ehlo_conn(server) as s:
        r = s.starttls(extra=b"NOOP\r\nMAIL FROM:<injected@example.org>\r\n"
                             b"RCPT TO:<" + mdom.addr("alice").encode() + b">\r\n")
        expect(r, 220, what="STARTTLS")
        # the first reply inside TLS must be the one to our EHLO, not to an
        # injected command
        r = expect(s.ehlo(), 250, what="EHLO in TLS")
        assert len(r.lines) >= 2 and "PIPELINING" in s.ext, \
            f"first reply in TLS is not the EHLO answer: {r}"
        expect(s.rcpt(mdom.addr("alice")), 503, "5.5.1",
               "injected MAIL must not have opened a transaction")
        expect(s.cmd("NOOP"), 250)
        assert s.pending() == b"", "extra replies inside TLS"


def test_starttls_with_argument_is_syntax_error(server):
    with ehlo_conn(server) as s:
        expect(s.cmd("STARTTLS now"), 501, "5.5.4")
        expect(s.cmd("NOOP"), 250, what="still in clear")
        expect(s.starttls(), 220)
        expect(s.ehlo(), 250)


def test_starttls_resets_transaction(server, mdom):
    with ehlo_conn(server) as s:
        expect(s.mail("x@example.org"), 250, "2.1.0")
        expect(s.starttls(), 220)
        expect(s.ehlo(), 250)
        expect(s.rcpt(mdom.addr("alice")), 503, "5.5.1", "transaction before TLS is gone")


def test_quit_without_ehlo(server):
    with SMTPConn(server.smtp_port) as s:
        expect(s.cmd("QUIT"), 221)
        assert s.at_eof()
