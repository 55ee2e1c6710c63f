"""SMTP smuggling and bare line endings in DATA.

Only CRLF.CRLF ends a message.  A body that carries <LF>.<LF>, <CR>.<CR>,
<CR><LF>.<LF>, <LF>.<CR><LF> (and the other mixed forms) followed by a fake
"MAIL FROM / RCPT TO / DATA" must be one message: the smuggled commands are
never executed and the smuggled message is never delivered.  By default a
message with a bare LF or bare CR is refused after the end of data with
550 5.6.0 and nothing is delivered; the session goes on."""

import time

import pytest

from smtpclient import SMTPConn, expect, make_message, new_token, wait_token, with_token

VARIANTS = {
    "lf.lf": b"\n.\n",
    "cr.cr": b"\r.\r",
    "crlf.lf": b"\r\n.\n",
    "lf.crlf": b"\n.\r\n",
    "crlf.cr": b"\r\n.\r",
    "cr.crlf": b"\r.\r\n",
}


def head(sender, rcpt, subject):
    return (f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@tern-tests.example>\r\n\r\n").encode()


def open_tx(server, mdom):
    s = SMTPConn(server.smtp_port)
    expect(s.ehlo(), 250)
    expect(s.mail("outer@example.org"), 250, "2.1.0")
    expect(s.rcpt(mdom.addr("alice")), 250, "2.1.5")
    expect(s.cmd("DATA"), 354)
    return s


def follow_up(s, mdom):
    """A clean message in the same session, to both mailboxes; once it is
    delivered, anything the earlier data could have produced would be too."""
    tok = new_token("after")
    msg = make_message("after@example.org", [mdom.addr("alice"), mdom.addr("bob")],
                       "after", token=tok)
    expect(s.send_message("after@example.org", [mdom.addr("alice"), mdom.addr("bob")], msg),
           250, "2.0.0", "follow-up message")
    wait_token(mdom.md("alice"), tok)
    wait_token(mdom.md("bob"), tok)
    time.sleep(0.05)
    return tok


@pytest.mark.parametrize("mode", ["one-write", "bytewise"])
@pytest.mark.parametrize("name", list(VARIANTS))
def test_smuggling(server, mdom, name, mode):
    variant = VARIANTS[name]
    outer_tok, smug_tok = new_token("outer"), new_token("smuggled")
    before = head("outer@example.org", mdom.addr("alice"), f"outer {outer_tok}") + \
        f"first line {outer_tok}\r\nsecond line".encode()
    smuggled = (f"MAIL FROM:<evil@example.org>\r\n"
                f"RCPT TO:<{mdom.addr('bob')}>\r\n"
                f"DATA\r\n").encode() + \
        head("evil@example.org", mdom.addr("bob"), f"smuggled {smug_tok}") + \
        f"smuggled body {smug_tok}\r\n".encode()
    s = open_tx(server, mdom)
    try:
        if mode == "one-write":
            s.send(before + variant + smuggled + b".\r\n")
        else:
            s.send(before)
            time.sleep(0.02)
            for i in range(len(variant)):
                s.send(variant[i:i + 1])
                time.sleep(0.02)
            s.send(smuggled)
            time.sleep(0.02)
            s.send(b".\r\n")
        r = s.read_reply()
        expect(r, 550, "5.6.0", f"data with {name}")
        # exactly one reply: nothing after the fake end was run as a command
        assert s.pending(0.2) == b"", "the smuggled commands were answered"
        expect(s.cmd("NOOP"), 250)
        # no transaction is open (a smuggled MAIL would have left one)
        expect(s.rcpt(mdom.addr("bob")), 503, "5.5.1", "RCPT after the refused data")
        follow_up(s, mdom)
        s.quit()
    finally:
        s.close()
    assert with_token(mdom.md("bob"), smug_tok) == [], "smuggled message delivered"
    assert with_token(mdom.md("alice"), smug_tok) == [], "smuggled message delivered"
    assert with_token(mdom.md("alice"), outer_tok) == [], "message with bare line ending delivered"


@pytest.mark.parametrize("name,body", [
    ("bare-lf-in-body", b"line one\nline two\r\n"),
    ("bare-cr-in-body", b"line one\rline two\r\n"),
    ("bare-lf-at-end", b"line one\r\nlast line\n"),
    ("bare-lf-in-header", None),
])
def test_bare_line_endings_refused(server, mdom, name, body):
    tok = new_token(name)
    if body is None:
        data = (f"From: <x@example.org>\r\nSubject: {tok}\nX-Smuggle: yes\r\n\r\n"
                f"body {tok}\r\n").encode()
    else:
        data = head("x@example.org", mdom.addr("alice"), f"bare {tok}") + \
            f"token {tok}\r\n".encode() + body
    s = open_tx(server, mdom)
    try:
        s.send(data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        expect(s.read_reply(), 550, "5.6.0", name)
        assert s.pending(0.2) == b""
        follow_up(s, mdom)
    finally:
        s.close()
    assert with_token(mdom.md("alice"), tok) == [], f"{name}: message delivered"


def test_fake_terminators_then_real_end(server, mdom):
    """All the fake terminators in one message, each followed by a fake
    QUIT: still one reply, and the session is alive."""
    tok = new_token("allfakes")
    data = head("x@example.org", mdom.addr("alice"), f"fakes {tok}")
    for v in VARIANTS.values():
        data += b"text" + v + b"QUIT\r\n"
    s = open_tx(server, mdom)
    try:
        s.send(data + b".\r\n")
        expect(s.read_reply(), 550, "5.6.0")
        assert s.pending(0.2) == b""
        expect(s.cmd("NOOP"), 250, what="not disconnected by a smuggled QUIT")
        follow_up(s, mdom)
    finally:
        s.close()
    assert with_token(mdom.md("alice"), tok) == []


def test_dot_crlf_only_at_line_start_ends(server, mdom):
    """'x.\\r\\n' and ' .\\r\\n' do not end the message; a proper CRLF.CRLF
    split over several writes does."""
    tok = new_token("split")
    data = head("x@example.org", mdom.addr("alice"), f"split {tok}") + \
        f"token {tok}\r\nx.\r\n .\r\n..\r\nlast".encode()
    s = open_tx(server, mdom)
    try:
        s.send(data)
        for piece in (b"\r", b"\n", b".", b"\r", b"\n"):
            time.sleep(0.05)
            s.send(piece)
        expect(s.read_reply(), 250, "2.0.0")
        assert s.pending(0.2) == b""
    finally:
        s.close()
    (_, stored), = wait_token(mdom.md("alice"), tok)
    body = stored.replace(b"\r\n", b"\n")
    assert b"\nx.\n .\n.\nlast\n" in body, body[-200:]


@pytest.mark.parametrize("name", ["lf.lf", "crlf.lf", "cr.cr"])
def test_smuggling_without_waiting_for_354(server, mdom, name):
    """The whole transaction, data and smuggled commands in one write (a
    client that does not wait for 354): still four replies and nothing
    smuggled."""
    smug_tok = new_token("nowait")
    payload = (f"MAIL FROM:<outer@example.org>\r\n"
               f"RCPT TO:<{mdom.addr('alice')}>\r\n"
               f"DATA\r\n").encode() + \
        head("outer@example.org", mdom.addr("alice"), "outer nowait") + b"text" + \
        VARIANTS[name] + \
        (f"MAIL FROM:<evil@example.org>\r\nRCPT TO:<{mdom.addr('bob')}>\r\nDATA\r\n"
         f"Subject: {smug_tok}\r\n\r\n{smug_tok}\r\n.\r\n").encode()
    with SMTPConn(server.smtp_port) as s:
        expect(s.ehlo(), 250)
        s.send(payload)
        expect(s.read_reply(), 250, "2.1.0")
        expect(s.read_reply(), 250, "2.1.5")
        expect(s.read_reply(), 354)
        expect(s.read_reply(), 550, "5.6.0")
        assert s.pending(0.2) == b"", "the smuggled commands were answered"
        follow_up(s, mdom)
    assert with_token(mdom.md("bob"), smug_tok) == []
    assert with_token(mdom.md("alice"), smug_tok) == []


def test_connection_lost_during_data(server, mdom):
    """A client that disconnects in the middle of DATA delivers nothing."""
    tok = new_token("cut")
    s = open_tx(server, mdom)
    s.send(head("x@example.org", mdom.addr("alice"), f"cut {tok}") +
           f"token {tok}\r\nsome text\r\n".encode() * 50)
    s.close()
    with SMTPConn(server.smtp_port) as s2:
        expect(s2.ehlo(), 250)
        follow_up(s2, mdom)
    assert with_token(mdom.md("alice"), tok) == []


def test_very_long_data_line(server, mdom):
    """A 300 KB line inside DATA is either accepted whole or refused; the
    session survives either way."""
    tok = new_token("longline")
    line = b"L" * 300_000
    data = head("x@example.org", mdom.addr("alice"), f"long {tok}") + \
        f"token {tok}\r\n".encode() + line + b"\r\nend\r\n"
    s = open_tx(server, mdom)
    try:
        s.send(data + b".\r\n")
        r = s.read_reply()
        assert r.code == 250 or 500 <= r.code < 600, r
        assert s.pending(0.2) == b""
        expect(s.cmd("NOOP"), 250)
        follow_up(s, mdom)
    finally:
        s.close()
    found = with_token(mdom.md("alice"), tok)
    if r.code == 250:
        assert len(found) == 1 and line in found[0][1]
    else:
        assert found == []
