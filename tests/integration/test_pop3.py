"""POP3 (2110+N, STLS) and POP3S (2995+N): greeting, CAPA, USER/PASS and
AUTH PLAIN, STAT / LIST / RETR / TOP / DELE / RSET / UIDL / NOOP / QUIT,
the mailbox lock, STLS (and discarding what was pipelined before the
handshake), the controller's userstat after a login, poplib and fetchmail
as real clients.

Messages are put into the Maildir the way any delivery agent does it
(tmp/ then rename into new/ or cur/), so that these tests depend on the
POP3 service only; one test goes through SMTP end to end."""

import email.utils
import os
import poplib
import re
import socket
import ssl
import subprocess
import time
from datetime import datetime, timezone

import pytest

from smtpclient import (SMTPConn, b64, expect, inject, make_message, message_files,
                        need_tool, new_token, parse, tls_context, wait_token)

TIMEOUT = 10.0


class POP3ProtocolError(AssertionError):
    pass


class POP3Conn:
    """A raw POP3 client: status lines and multi-line answers as bytes,
    dot-stuffing left on the wire so that tests can check it."""

    def __init__(self, port, host="127.0.0.1", tls=False, timeout=TIMEOUT):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((host, port))
        if tls:
            s = tls_context().wrap_socket(s)
        self.sock = s
        self.buf = b""
        self.closed = False
        self.greeting = self.status()

    def _recv(self):
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            data = b""
        if not data:
            self.closed = True
        return data

    def readline(self):
        while b"\n" not in self.buf:
            data = self._recv()
            if not data:
                raise EOFError(f"connection closed (pending {self.buf!r})")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        if not line.endswith(b"\r"):
            raise POP3ProtocolError(f"line not CRLF terminated: {line!r}")
        return line[:-1]

    def status(self):
        line = self.readline().decode("latin-1")
        if not (line == "+OK" or line.startswith("+OK ") or line == "-ERR"
                or line.startswith("-ERR ") or line.startswith("+ ") or line == "+"):
            raise POP3ProtocolError(f"not a POP3 status line: {line!r}")
        return line

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def cmd(self, line):
        self.send((line.encode("latin-1") if isinstance(line, str) else line) + b"\r\n")
        return self.status()

    def multi(self):
        """Lines of a multi-line answer up to the final '.', as sent."""
        out = []
        while True:
            line = self.readline()
            if line == b".":
                return out
            out.append(line)

    def cmd_multi(self, line):
        st = self.cmd(line)
        return st, (self.multi() if st.startswith("+OK") else None)

    def login(self, user, password):
        st = self.cmd(f"USER {user}")
        if not st.startswith("+OK"):
            return st
        return self.cmd(f"PASS {password}")

    def stls(self, extra=b""):
        self.send(b"STLS\r\n" + extra)
        st = self.status()
        if st.startswith("+OK"):
            if self.buf:
                raise POP3ProtocolError(f"data after the STLS go-ahead: {self.buf!r}")
            self.sock = tls_context().wrap_socket(self.sock)
        return st

    def pending(self, wait=0.3):
        if self.buf:
            return self.buf
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            return self._recv()
        except (socket.timeout, TimeoutError, ssl.SSLWantReadError):
            return b""
        finally:
            self.sock.settimeout(old)

    def at_eof(self, wait=5.0):
        if self.buf:
            raise POP3ProtocolError(f"data before close: {self.buf!r}")
        if self.closed:
            return True
        self.sock.settimeout(wait)
        try:
            data = self._recv()
        except (socket.timeout, TimeoutError):
            return False
        except OSError:
            return True
        if data:
            raise POP3ProtocolError(f"data instead of close: {data!r}")
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def ok(st, what=""):
    assert st.startswith("+OK"), f"{what}: expected +OK, got {st!r}"
    return st


def err(st, what=""):
    assert st.startswith("-ERR"), f"{what}: expected -ERR, got {st!r}"
    return st


def unstuff(lines):
    return [l[1:] if l.startswith(b".") else l for l in lines]


def as_message(lines):
    return b"".join(l + b"\r\n" for l in unstuff(lines))


def fill(mdom, user="alice", n=3, extra_body=()):
    """Put n messages into the user's Maildir; returns {token: bytes}."""
    msgs = {}
    md = mdom.md(user)
    for i in range(n):
        tok = new_token(f"m{i}")
        body = [f"line {j} of message {i}" for j in range(5)] + list(extra_body)
        raw = make_message("sender@example.org", mdom.addr(user), f"msg {i}", body, token=tok)
        inject(md, raw, sub="cur" if i % 2 else "new", info="S" if i % 2 else "")
        msgs[tok] = raw
    return msgs


def session(server, mdom, user="alice", **kw):
    p = POP3Conn(server.pop3_port, **kw)
    ok(p.greeting, "greeting")
    ok(p.login(mdom.addr(user), mdom.pw(user)), "login")
    return p


def scan(p):
    """{number: size} from LIST."""
    st, lines = p.cmd_multi("LIST")
    ok(st, "LIST")
    out = {}
    for l in lines:
        m = re.fullmatch(rb"(\d+) (\d+)", l)
        assert m, f"bad LIST line {l!r}"
        out[int(m.group(1))] = int(m.group(2))
    return out


def retr_all(p):
    """{token: (number, message bytes)} of the whole maildrop."""
    out = {}
    for n in scan(p):
        st, lines = p.cmd_multi(f"RETR {n}")
        ok(st, f"RETR {n}")
        raw = as_message(lines)
        m = re.search(rb"token (\S+)", raw)
        assert m, raw[:500]
        out[m.group(1).decode()] = (n, raw)
    return out


# ---------------------------------------------------------------- greeting / CAPA / login

@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_greeting_and_capa(server, host):
    with POP3Conn(server.pop3_port, host=host) as p:
        ok(p.greeting, "greeting")
        st, lines = p.cmd_multi("CAPA")
        ok(st, "CAPA")
        caps = {l.decode().split()[0].upper(): l.decode().split()[1:] for l in lines if l.strip()}
        for cap in ("USER", "UIDL", "TOP", "STLS", "SASL"):
            assert cap in caps, f"{cap} missing from CAPA {lines}"
        assert "PLAIN" in [m.upper() for m in caps["SASL"]], lines
        ok(p.cmd("QUIT"), "QUIT")
        assert p.at_eof()


def test_user_pass_empty_mailbox(server, mdom):
    # the Maildir does not exist yet: an empty maildrop
    assert not mdom.md("alice").exists()
    with POP3Conn(server.pop3_port) as p:
        ok(p.cmd(f"USER {mdom.addr('alice')}"), "USER")
        ok(p.cmd(f"PASS {mdom.pw('alice')}"), "PASS")
        assert re.fullmatch(r"\+OK 0 0( .*)?", p.cmd("STAT")), "STAT of an empty maildrop"
        st, lines = p.cmd_multi("LIST")
        ok(st, "LIST")
        assert lines == []
        ok(p.cmd("NOOP"), "NOOP")
        ok(p.cmd("QUIT"), "QUIT")
        assert p.at_eof()


def test_wrong_password_is_delayed_and_retry_works(server, mdom):
    with POP3Conn(server.pop3_port) as p:
        ok(p.cmd(f"USER {mdom.addr('alice')}"))
        t0 = time.time()
        err(p.cmd("PASS wrong-password"), "wrong password")
        elapsed = time.time() - t0
        assert elapsed >= 0.5, f"failed login answered after {elapsed:.2f}s, expected ~1s"
        err(p.cmd("STAT"), "STAT after a failed login")
        ok(p.login(mdom.addr("alice"), mdom.pw("alice")), "second attempt")
        ok(p.cmd("STAT"))


def test_unknown_user_refused(server, mdom):
    with POP3Conn(server.pop3_port) as p:
        st = p.cmd(f"USER nobody@{mdom.name}")
        if st.startswith("+OK"):
            err(p.cmd("PASS whatever"), "unknown user")
        err(p.cmd("STAT"))


def test_commands_need_authorization(server, mdom):
    with POP3Conn(server.pop3_port) as p:
        for c in ("STAT", "LIST", "RETR 1", "DELE 1", "UIDL", "TOP 1 1", "RSET"):
            err(p.cmd(c), f"{c} before login")
        err(p.cmd(f"PASS {mdom.pw('alice')}"), "PASS without USER")
        err(p.cmd("FOOBAR"), "unknown command")
        ok(p.login(mdom.addr("alice"), mdom.pw("alice")))


def test_auth_plain(server, mdom):
    cred = b64(f"\0{mdom.addr('alice')}\0{mdom.pw('alice')}")
    with POP3Conn(server.pop3_port) as p:
        ok(p.cmd(f"AUTH PLAIN {cred}"), "AUTH PLAIN with initial response")
        ok(p.cmd("STAT"))
        ok(p.cmd("QUIT"))
    with POP3Conn(server.pop3_port) as p:
        st = p.cmd("AUTH PLAIN")
        assert st.startswith("+"), f"AUTH PLAIN continuation: {st!r}"
        ok(p.cmd(cred), "AUTH PLAIN continued")
        ok(p.cmd("STAT"))
        ok(p.cmd("QUIT"))
    with POP3Conn(server.pop3_port) as p:
        err(p.cmd("AUTH PLAIN " + b64(f"\0{mdom.addr('alice')}\0nope")), "wrong password")
        err(p.cmd("STAT"))


# ---------------------------------------------------------------- maildrop commands

def test_stat_list_retr(server, mdom):
    msgs = fill(mdom, n=3)
    with session(server, mdom) as p:
        st = p.cmd("STAT")
        m = re.fullmatch(r"\+OK (\d+) (\d+)", st)
        assert m, st
        sizes = scan(p)
        assert sorted(sizes) == [1, 2, 3]
        assert int(m.group(1)) == 3 and int(m.group(2)) == sum(sizes.values())
        got = retr_all(p)
        assert set(got) == set(msgs)
        for tok, (n, raw) in got.items():
            assert raw == msgs[tok], f"RETR {n} differs from the stored message"
            assert sizes[n] == len(msgs[tok]), f"LIST size of {n}"
            st = p.cmd(f"LIST {n}")
            assert st == f"+OK {n} {len(msgs[tok])}" or st.startswith(f"+OK {n} {len(msgs[tok])} "), st
        ok(p.cmd("QUIT"))
    # RETR alone deletes nothing
    assert len(message_files(mdom.md("alice"))) == 3


def test_retr_dot_stuffing(server, mdom):
    tok = new_token("dots")
    body = [".", "..", ".hidden", "normal", "..."]
    raw = make_message("x@example.org", mdom.addr("alice"), "dots", body, token=tok)
    inject(mdom.md("alice"), raw)
    with session(server, mdom) as p:
        st, lines = p.cmd_multi("RETR 1")
        ok(st)
        body_on_wire = lines[lines.index(b"") + 1:]
        assert body_on_wire == [f"token {tok}".encode(), b"..", b"...", b"..hidden",
                                b"normal", b"...."], body_on_wire
        assert as_message(lines) == raw
    # poplib undoes the stuffing
    cl = poplib.POP3("127.0.0.1", server.pop3_port, timeout=TIMEOUT)
    try:
        cl.user(mdom.addr("alice"))
        cl.pass_(mdom.pw("alice"))
        resp, lines, octets = cl.retr(1)
        assert b"\r\n".join(lines) + b"\r\n" == raw
    finally:
        cl.quit()


def test_top(server, mdom):
    tok = new_token("top")
    body = [f"body line {i}" for i in range(1, 6)] + [".dotted"]
    raw = make_message("x@example.org", mdom.addr("alice"), "top", body, token=tok)
    inject(mdom.md("alice"), raw)
    head, _, rest = raw.partition(b"\r\n\r\n")
    head_lines = head.split(b"\r\n")
    body_lines = rest.split(b"\r\n")[:-1]
    with session(server, mdom) as p:
        st, lines = p.cmd_multi("TOP 1 0")
        ok(st, "TOP 1 0")
        assert unstuff(lines) == head_lines + [b""], lines
        st, lines = p.cmd_multi("TOP 1 2")
        ok(st, "TOP 1 2")
        assert unstuff(lines) == head_lines + [b""] + body_lines[:2], lines
        st, lines = p.cmd_multi("TOP 1 100")
        ok(st, "TOP 1 100")
        assert lines[-1] == b"..dotted", "TOP is dot-stuffed"
        assert unstuff(lines) == head_lines + [b""] + body_lines
        err(p.cmd("TOP 2 1"), "TOP of a missing message")
        err(p.cmd("TOP 1"), "TOP without line count")


def test_dele_rset_quit(server, mdom):
    fill(mdom, n=4)
    md = mdom.md("alice")
    with session(server, mdom) as p:
        got = retr_all(p)
        by_num = {n: tok for tok, (n, _) in got.items()}
        sizes = scan(p)
        ok(p.cmd("DELE 2"), "DELE 2")
        err(p.cmd("DELE 2"), "DELE of a deleted message")
        err(p.cmd("RETR 2"), "RETR of a deleted message")
        err(p.cmd("LIST 2"), "LIST of a deleted message")
        assert sorted(scan(p)) == [1, 3, 4]
        st = p.cmd("STAT")
        assert st == f"+OK 3 {sum(sizes.values()) - sizes[2]}", st
        ok(p.cmd("RSET"), "RSET")
        assert sorted(scan(p)) == [1, 2, 3, 4]
        ok(p.cmd("DELE 1"))
        ok(p.cmd("DELE 3"))
        # nothing is removed before QUIT
        assert len(message_files(md)) == 4
        ok(p.cmd("QUIT"), "QUIT")
        assert p.at_eof()
    left = {re.search(rb"token (\S+)", d).group(1).decode() for d in
            (f.read_bytes() for f in message_files(md))}
    assert left == {by_num[2], by_num[4]}
    with session(server, mdom) as p:
        assert re.fullmatch(r"\+OK 2 \d+", p.cmd("STAT"))
        assert set(retr_all(p)) == {by_num[2], by_num[4]}


def test_dele_without_quit_is_not_applied(server, mdom):
    fill(mdom, n=2)
    with session(server, mdom) as p:
        ok(p.cmd("DELE 1"))
        ok(p.cmd("DELE 2"))
    # connection dropped without QUIT: nothing deleted
    deadline = time.time() + 5
    while True:
        try:
            p2 = session(server, mdom)
            break
        except AssertionError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)      # the old session may still hold the lock briefly
    with p2:
        assert re.fullmatch(r"\+OK 2 \d+", p2.cmd("STAT"))
    assert len(message_files(mdom.md("alice"))) == 2


@pytest.mark.parametrize("line", ["RETR 0", "RETR 99", "RETR abc", "RETR", "LIST 99",
                                  "LIST 0", "DELE 99", "DELE", "TOP 99 1", "UIDL 99",
                                  "TOP 1 x", "RETR -1"])
def test_bad_message_numbers(server, mdom, line):
    fill(mdom, n=1)
    with session(server, mdom) as p:
        err(p.cmd(line), line)
        assert re.fullmatch(r"\+OK 1 \d+", p.cmd("STAT")), "session continues"


def test_uidl(server, mdom):
    msgs = fill(mdom, n=3)
    with session(server, mdom) as p:
        got = retr_all(p)
        st, lines = p.cmd_multi("UIDL")
        ok(st, "UIDL")
        uids = {}
        for l in lines:
            m = re.fullmatch(rb"(\d+) ([\x21-\x7e]{1,70})", l)
            assert m, f"bad UIDL line {l!r}"
            uids[int(m.group(1))] = m.group(2).decode()
        assert sorted(uids) == [1, 2, 3]
        assert len(set(uids.values())) == 3, uids
        for n, u in uids.items():
            assert p.cmd(f"UIDL {n}") == f"+OK {n} {u}"
        ok(p.cmd("DELE 1"))
        err(p.cmd("UIDL 1"), "UIDL of a deleted message")
        st, lines = p.cmd_multi("UIDL")
        assert [l.split()[0] for l in lines] == [b"2", b"3"]
        ok(p.cmd("RSET"))
        ok(p.cmd("QUIT"))
    assert set(got) == set(msgs)


def uid_map(server, mdom):
    with session(server, mdom) as p:
        got = retr_all(p)
        st, lines = p.cmd_multi("UIDL")
        ok(st)
        uids = {int(l.split()[0]): l.split()[1].decode() for l in lines}
        ok(p.cmd("QUIT"))
    return {tok: uids[n] for tok, (n, _) in got.items()}


def test_uidl_stable_across_restart_and_changes(server, mdom):
    fill(mdom, n=3)
    before = uid_map(server, mdom)
    assert uid_map(server, mdom) == before, "UIDL changed between two sessions"
    server.restart()
    assert uid_map(server, mdom) == before, "UIDL changed across a restart"
    # a new message and a deletion do not change the others' UIDs
    extra = fill(mdom, n=1)
    with session(server, mdom) as p:
        got = retr_all(p)
        victim = sorted(before)[0]
        ok(p.cmd(f"DELE {got[victim][0]}"))
        ok(p.cmd("QUIT"))
    after = uid_map(server, mdom)
    assert set(after) == (set(before) - {victim}) | set(extra)
    for tok in set(before) - {victim}:
        assert after[tok] == before[tok]
    assert after[next(iter(extra))] not in before.values()


def test_mailbox_lock(server, mdom):
    fill(mdom, n=1)
    with session(server, mdom) as first:
        with POP3Conn(server.pop3_port) as second:
            st = second.login(mdom.addr("alice"), mdom.pw("alice"))
            err(st, "second session on a locked maildrop")
        # also through AUTH PLAIN
        with POP3Conn(server.pop3_port) as third:
            err(third.cmd("AUTH PLAIN " + b64(f"\0{mdom.addr('alice')}\0{mdom.pw('alice')}")),
                "AUTH PLAIN on a locked maildrop")
        # the first session is unaffected, and bob is not locked
        assert re.fullmatch(r"\+OK 1 \d+", first.cmd("STAT"))
        with session(server, mdom, user="bob") as other:
            ok(other.cmd("STAT"))
            ok(other.cmd("QUIT"))
        ok(first.cmd("QUIT"))
        assert first.at_eof()
    with session(server, mdom) as again:
        ok(again.cmd("STAT"), "login after the lock was released")
        ok(again.cmd("QUIT"))


def test_maildrop_is_a_snapshot(server, mdom):
    fill(mdom, n=2)
    with session(server, mdom) as p:
        before = scan(p)
        late = fill(mdom, n=1)            # arrives while the session is open
        assert scan(p) == before, "message numbers changed inside a session"
        assert re.fullmatch(r"\+OK 2 \d+", p.cmd("STAT"))
        err(p.cmd("RETR 3"), "a message that arrived after the login")
        ok(p.cmd("DELE 1"))
        ok(p.cmd("QUIT"))
    with session(server, mdom) as p:
        got = retr_all(p)
        assert len(got) == 2 and set(late) <= set(got)


def test_quit_before_login(server):
    with POP3Conn(server.pop3_port) as p:
        ok(p.cmd("QUIT"), "QUIT in AUTHORIZATION state")
        assert p.at_eof()


@pytest.mark.parametrize("junk", [b"NOOP " + b"x" * 100_000, b"US\x00ER x", b"\xff\xfe\x00"])
def test_bad_input_survives(server, mdom, junk):
    """Garbage gets -ERR (or the connection is closed); either way the
    server keeps serving."""
    with POP3Conn(server.pop3_port) as p:
        p.send(junk + b"\r\n")
        try:
            err(p.status(), repr(junk[:20]))
            ok(p.login(mdom.addr("alice"), mdom.pw("alice")), "session goes on")
        except EOFError:
            pass
    with session(server, mdom) as p:
        ok(p.cmd("QUIT"))


# ---------------------------------------------------------------- TLS

def test_stls_capa_and_login(server, mdom):
    fill(mdom, n=1)
    with POP3Conn(server.pop3_port) as p:
        ok(p.stls(), "STLS")
        st, lines = p.cmd_multi("CAPA")
        ok(st)
        caps = [l.decode().split()[0].upper() for l in lines if l.strip()]
        assert "STLS" not in caps and "USER" in caps, lines
        err(p.cmd("STLS"), "STLS inside TLS")
        ok(p.login(mdom.addr("alice"), mdom.pw("alice")))
        assert re.fullmatch(r"\+OK 1 \d+", p.cmd("STAT"))
        ok(p.cmd("QUIT"))


def test_stls_discards_pipelined_commands(server, mdom):
    with POP3Conn(server.pop3_port) as p:
        ok(p.stls(extra=f"USER {mdom.addr('alice')}\r\nCAPA\r\n".encode()), "STLS")
        # the first answer inside TLS is the one to this CAPA
        st, lines = p.cmd_multi("CAPA")
        ok(st, "first answer in TLS")
        assert lines and not any(l.startswith((b"+OK", b"-ERR")) for l in lines), \
            f"answers to pipelined commands inside TLS: {lines}"
        assert b"STLS" not in [l.split()[0] for l in lines if l.strip()]
        assert p.pending() == b"", "answers to pipelined commands inside TLS"
        # the pipelined USER was not executed: PASS alone is out of sequence
        err(p.cmd(f"PASS {mdom.pw('alice')}"), "PASS after a discarded USER")
        ok(p.login(mdom.addr("alice"), mdom.pw("alice")))


def test_poplib_stls(server, mdom):
    msgs = fill(mdom, n=2)
    cl = poplib.POP3("127.0.0.1", server.pop3_port, timeout=TIMEOUT)
    try:
        caps = cl.capa()
        assert "STLS" in caps
        cl.stls(context=tls_context())
        cl.user(mdom.addr("alice"))
        cl.pass_(mdom.pw("alice"))
        count, size = cl.stat()
        assert count == 2 and size == sum(len(m) for m in msgs.values())
        got = set()
        for n in (1, 2):
            resp, lines, octets = cl.retr(n)
            raw = b"\r\n".join(lines) + b"\r\n"
            got.add(raw)
        assert got == set(msgs.values())
    finally:
        cl.quit()


def test_pop3s(server, mdom):
    msgs = fill(mdom, n=1)
    cl = poplib.POP3_SSL("127.0.0.1", server.pop3s_port, context=tls_context(),
                         timeout=TIMEOUT)
    try:
        assert cl.getwelcome().startswith(b"+OK")
        assert "STLS" not in cl.capa()
        cl.user(mdom.addr("alice"))
        cl.pass_(mdom.pw("alice"))
        assert cl.stat()[0] == 1
        resp, lines, octets = cl.retr(1)
        assert b"\r\n".join(lines) + b"\r\n" == next(iter(msgs.values()))
        cl.dele(1)
    finally:
        cl.quit()
    assert message_files(mdom.md("alice")) == []


def test_pop3s_over_ipv6(server, mdom):
    with POP3Conn(server.pop3s_port, host="::1", tls=True) as p:
        ok(p.greeting)
        ok(p.login(mdom.addr("bob"), mdom.pw("bob")))
        ok(p.cmd("QUIT"))


# ---------------------------------------------------------------- controller view

def userstat(c, mdom, user):
    return {r[0]: r[1] for r in c.records("userstat", mdom.name, user)}


def test_userstat_after_pop3_login(server, c, mdom):
    msgs = fill(mdom, n=3)
    st = userstat(c, mdom, "alice")
    assert st["MailboxMessages"] == "3"
    assert st["MailboxSize"] == str(sum(len(m) for m in msgs.values()))
    assert st["LastLoginIP"] == "0.0.0.0"
    with session(server, mdom) as p:
        ok(p.cmd("DELE 1"))
        ok(p.cmd("QUIT"))
    st = userstat(c, mdom, "alice")
    assert st["LastLoginIP"] == "127.0.0.1", st
    when = email.utils.parsedate_to_datetime(st["LastLoginTimeDate"])
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    age = abs((datetime.now(timezone.utc) - when).total_seconds())
    assert age < 120, f"LastLoginTimeDate {st['LastLoginTimeDate']} is not recent"
    assert st["MailboxMessages"] == "2"
    assert st["MailboxSize"] == str(sum(f.stat().st_size for f in message_files(mdom.md("alice"))))
    # bob never logged in
    assert userstat(c, mdom, "bob")["LastLoginIP"] == "0.0.0.0"


# ---------------------------------------------------------------- end to end

def test_smtp_then_pop3(server, mdom):
    tok = new_token("e2e")
    msg = make_message("far@example.org", mdom.addr("alice"), "end to end",
                       [".dot line", "plain line"], token=tok)
    with SMTPConn(server.smtp_port) as s:
        expect(s.ehlo(), 250)
        expect(s.send_message("far@example.org", mdom.addr("alice"), msg), 250, "2.0.0")
    wait_token(mdom.md("alice"), tok)
    cl = poplib.POP3("127.0.0.1", server.pop3_port, timeout=TIMEOUT)
    try:
        cl.user(mdom.addr("alice"))
        cl.pass_(mdom.pw("alice"))
        assert cl.stat()[0] == 1
        resp, lines, octets = cl.retr(1)
        raw = b"\r\n".join(lines) + b"\r\n"
        # sizes are the octets of the message as sent (CRLF line ends),
        # whatever the line ends in the Maildir file
        assert cl.list(1) == f"+OK 1 {len(raw)}".encode(), (cl.list(1), len(raw))
        assert cl.stat()[1] == len(raw)
        m = parse(raw)
        assert m["Return-Path"] == "<far@example.org>"
        assert m["Message-ID"] == f"<{tok}@tern-tests.example>"
        assert raw.endswith(msg.split(b"\r\n\r\n", 1)[1])
        cl.dele(1)
    finally:
        cl.quit()
    assert message_files(mdom.md("alice")) == []


def test_fetchmail(server, mdom, tmp_path):
    fetchmail = need_tool("fetchmail")
    msgs = fill(mdom, n=1)
    tok = next(iter(msgs))
    out = tmp_path / "fetched.eml"
    home = tmp_path / "fmhome"
    home.mkdir()
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        "set no bouncemail\n"
        "set no syslog\n"
        f"poll 127.0.0.1 service {server.pop3_port} protocol POP3 timeout 20\n"
        f"  user \"{mdom.addr('alice')}\" there with password \"{mdom.pw('alice')}\" is root here\n"
        "  sslproto TLS1.2+ no sslcertck\n"
        f"  mda \"/bin/sh -c 'cat > {out}'\"\n"
        "  fetchall\n")
    os.chmod(rc, 0o600)
    env = dict(os.environ, FETCHMAILHOME=str(home), HOME=str(home))
    r = subprocess.run([fetchmail, "-f", str(rc), "--nodetach", "-v",
                        "--idfile", str(home / "ids"), "--pidfile", str(home / "pid")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=60)
    log = r.stdout.decode(errors="replace")
    assert r.returncode == 0, log
    assert "STLS" in log, f"fetchmail did not use STLS:\n{log}"
    data = out.read_bytes()
    assert tok.encode() in data
    m = parse(data)
    assert m["Message-ID"] == f"<{tok}@tern-tests.example>"
    # fetchmail deletes what it fetched (no 'keep')
    assert message_files(mdom.md("alice")) == []
