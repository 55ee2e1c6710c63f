"""Helpers for the black-box SMTP / POP3 tests: a strict raw SMTP client,
message builders, Maildir readers and the account provisioning used by
several test files.  Standard library only.

SMTPConn speaks the protocol byte by byte so that tests can send exactly
what they want (pipelined commands, bare LF, NUL, over-long lines) and check
the exact reply codes; every reply line is checked against RFC 5321's
grammar (three digits, '-' or ' ', CRLF, the same code on every line).
"""

import base64
import email
import email.policy
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import pytest

TIMEOUT = 10.0
DELIVERY_TIMEOUT = 10.0

REPLY_RE = re.compile(rb"^(\d{3})([ -])(.*)$", re.S)
ENH_RE = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)")


class SMTPProtocolError(AssertionError):
    """The server sent something that is not a valid SMTP reply."""


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Reply:
    """One (possibly multi-line) SMTP reply."""

    def __init__(self, code, lines):
        self.code = code
        self.lines = lines            # text after "NNN-" / "NNN " of each line

    @property
    def text(self):
        return "\n".join(self.lines)

    @property
    def enh(self):
        """Enhanced status code of the first line ("5.5.1") or None."""
        m = ENH_RE.match(self.lines[0]) if self.lines else None
        return ".".join(m.groups()) if m else None

    def __repr__(self):
        return f"Reply({self.code}, {self.lines!r})"


def expect(reply, code, enh=None, what=""):
    """Assert the reply code (int, or a tuple of allowed codes) and, when
    given, the enhanced status code."""
    codes = code if isinstance(code, tuple) else (code,)
    assert reply.code in codes, f"{what}: expected {code}, got {reply!r}"
    if enh is not None:
        enhs = enh if isinstance(enh, tuple) else (enh,)
        assert reply.enh in enhs, f"{what}: expected enhanced code {enh}, got {reply!r}"
    return reply


class SMTPConn:
    """A raw SMTP client connection.

    SMTPConn(port) connects to 127.0.0.1 (host="::1" for IPv6), optionally
    with implicit TLS, and reads the greeting into .greeting."""

    def __init__(self, port, host="127.0.0.1", tls=False, timeout=TIMEOUT,
                 read_greeting=True):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.buf = b""
        self.closed = False
        self.tls = False
        self.ext = {}
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            s = tls_context().wrap_socket(s)
            self.tls = True
        self.sock = s
        self.greeting = self.read_reply() if read_greeting else None

    # ------------------------------------------------------------ plumbing
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
                raise EOFError(f"connection closed by server (pending {self.buf!r})")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        if not line.endswith(b"\r"):
            raise SMTPProtocolError(f"reply line not CRLF terminated: {line!r}")
        return line[:-1]

    def read_reply(self):
        lines = []
        code = None
        while True:
            raw = self.readline()
            m = REPLY_RE.match(raw)
            if not m:
                raise SMTPProtocolError(f"not an SMTP reply line: {raw!r}")
            c = int(m.group(1))
            if code is not None and c != code:
                raise SMTPProtocolError(f"code changed inside a multi-line reply: "
                                        f"{code} then {raw!r}")
            code = c
            lines.append(m.group(3).decode("utf-8", "replace"))
            if m.group(2) == b" ":
                return Reply(code, lines)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def cmd(self, line):
        if isinstance(line, str):
            line = line.encode("latin-1")
        self.send(line + b"\r\n")
        return self.read_reply()

    def pending(self, wait=0.3):
        """Bytes the server sends within `wait` seconds without being asked
        (b"" when none, or when the connection was closed)."""
        if self.buf:
            data, self.buf = self.buf, b""
            return data
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            return self._recv()
        except (socket.timeout, TimeoutError):
            return b""
        except ssl.SSLWantReadError:
            return b""
        finally:
            try:
                self.sock.settimeout(old)
            except OSError:
                pass

    def at_eof(self, wait=5.0):
        """True when the server closed the connection within `wait`."""
        if self.buf:
            raise SMTPProtocolError(f"unexpected data before close: {self.buf!r}")
        if self.closed:
            return True
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            data = self._recv()
        except (socket.timeout, TimeoutError):
            return False
        except OSError:
            return True
        finally:
            try:
                self.sock.settimeout(old)
            except OSError:
                pass
        if data:
            raise SMTPProtocolError(f"unexpected data instead of close: {data!r}")
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------ commands
    def ehlo(self, name="client.example"):
        r = self.cmd(f"EHLO {name}")
        self.ext = {}
        if r.code == 250:
            for l in r.lines[1:]:
                parts = l.split(None, 1)
                if parts:
                    self.ext[parts[0].upper()] = parts[1] if len(parts) > 1 else ""
        return r

    def auth_mechs(self):
        return set(self.ext.get("AUTH", "").upper().split())

    def starttls(self, extra=b""):
        """STARTTLS (with `extra` bytes sent in the same write); on 220 the
        TLS handshake is done.  Returns the reply."""
        self.send(b"STARTTLS\r\n" + extra)
        r = self.read_reply()
        if r.code == 220:
            if self.buf:
                raise SMTPProtocolError(f"data after the STARTTLS go-ahead: {self.buf!r}")
            self.sock = tls_context().wrap_socket(self.sock)
            self.tls = True
            self.ext = {}
        return r

    def auth_plain(self, user, password, initial=True):
        token = b64(f"\0{user}\0{password}")
        if initial:
            return self.cmd(f"AUTH PLAIN {token}")
        r = self.cmd("AUTH PLAIN")
        if r.code != 334:
            return r
        return self.cmd(token)

    def auth_login(self, user, password):
        r = self.cmd("AUTH LOGIN")
        if r.code != 334:
            return r
        r = self.cmd(b64(user))
        if r.code != 334:
            return r
        return self.cmd(b64(password))

    def mail(self, addr, params=""):
        return self.cmd(f"MAIL FROM:<{addr}>" + (f" {params}" if params else ""))

    def rcpt(self, addr, params=""):
        return self.cmd(f"RCPT TO:<{addr}>" + (f" {params}" if params else ""))

    def data(self, message, stuff=True):
        """DATA; on 354 send the message (dot-stuffed unless stuff=False)
        and the terminating CRLF.CRLF.  Returns the final reply (or the reply
        to DATA when it is not 354)."""
        r = self.cmd("DATA")
        if r.code != 354:
            return r
        self.send(data_payload(message, stuff))
        return self.read_reply()

    def send_message(self, sender, rcpts, message, mail_params=""):
        """One whole transaction; asserts MAIL and every RCPT got 250 and
        returns the reply to the end of data."""
        expect(self.mail(sender, mail_params), 250, what="MAIL")
        for r in ([rcpts] if isinstance(rcpts, str) else rcpts):
            expect(self.rcpt(r), 250, what=f"RCPT {r}")
        return self.data(message)

    def quit(self):
        try:
            r = self.cmd("QUIT")
        except (EOFError, OSError):
            return None
        return r


def b64(s):
    if isinstance(s, str):
        s = s.encode("utf-8")
    return base64.b64encode(s).decode("ascii")


def dot_stuff(message):
    """Dot-stuff a CRLF message (lines starting with '.' get one more)."""
    out = re.sub(rb"(^|\r\n)\.", rb"\1..", message)
    return out


def data_payload(message, stuff=True):
    if isinstance(message, str):
        message = message.encode("utf-8")
    body = dot_stuff(message) if stuff else message
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


# ---------------------------------------------------------------- messages

def new_token(prefix="tok"):
    return f"{prefix}-{uuid.uuid4().hex}"


def make_message(sender, to, subject, body_lines=("hello",), token=None,
                 extra_headers=(), raw_body=None):
    """A CRLF message.  The token (default: a fresh one) goes into the
    Message-ID and as the first body line, so a copy can be found again."""
    token = token or new_token()
    to_list = [to] if isinstance(to, str) else list(to)
    headers = [
        f"From: <{sender}>" if sender else "From: <mailer-daemon@localhost>",
        "To: " + ", ".join(f"<{t}>" for t in to_list),
        f"Subject: {subject} {token}",
        f"Message-ID: <{token}@tern-tests.example>",
        "Date: Tue, 01 Oct 2024 10:00:00 +0000",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    headers += list(extra_headers)
    head = "\r\n".join(headers).encode("utf-8") + b"\r\n\r\n"
    if raw_body is not None:
        body = raw_body
    else:
        body = ("\r\n".join([f"token {token}", *body_lines]) + "\r\n").encode("utf-8")
    return head + body


def lf(data):
    """Normalise line endings to LF (Maildir files may use either)."""
    return data.replace(b"\r\n", b"\n")


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def split_added_headers(stored, original):
    """The stored message must be `added header lines` + the original
    message unchanged (line endings normalised).  Returns the added block
    parsed into a list of (name, value)."""
    s, o = lf(stored), lf(original)
    assert s.endswith(o), (f"stored message does not end with the submitted message\n"
                           f"stored:\n{stored[:3000]!r}\nsubmitted:\n{original[:3000]!r}")
    prefix = s[: len(s) - len(o)]
    assert prefix == b"" or prefix.endswith(b"\n"), f"bad prefix {prefix!r}"
    msg = email.message_from_bytes(prefix + b"\n", policy=email.policy.compat32)
    return [(k, str(v)) for k, v in msg.items()], prefix


def addr_of(value):
    """Address inside a header value: '<a@b>' / 'a@b' -> 'a@b' (lower)."""
    v = value.strip()
    m = re.search(r"<([^>]*)>", v)
    if m:
        v = m.group(1)
    return v.strip().lower()


# ---------------------------------------------------------------- Maildir

def maildir(root, domain, user):
    return Path(root) / "domains" / domain.lower() / user / "Maildir"


def message_files(md):
    out = []
    for sub in ("new", "cur"):
        d = Path(md) / sub
        try:
            names = sorted(os.listdir(d))
        except FileNotFoundError:
            continue
        for n in names:
            if n.startswith("."):
                continue
            p = d / n
            if p.is_file():
                out.append(p)
    return out


def read_messages(md):
    """[(path, bytes)] of every message in new/ and cur/ (files that vanish
    between listing and reading are skipped)."""
    out = []
    for p in message_files(md):
        try:
            out.append((p, p.read_bytes()))
        except FileNotFoundError:
            pass
    return out


def with_token(md, token):
    return [(p, d) for p, d in read_messages(md) if token.encode() in d]


def wait_token(md, token, count=1, timeout=DELIVERY_TIMEOUT):
    """Poll the Maildir until `count` messages containing token are there;
    returns them (fails the test on timeout)."""
    deadline = time.time() + timeout
    while True:
        found = with_token(md, token)
        if len(found) >= count:
            return found
        if time.time() > deadline:
            pytest.fail(f"{len(found)} of {count} message(s) with {token} in {md} "
                        f"after {timeout}s (present: {[p.name for p in message_files(md)]})")
        time.sleep(0.05)


def wait_count(md, count, timeout=DELIVERY_TIMEOUT):
    deadline = time.time() + timeout
    while True:
        msgs = read_messages(md)
        if len(msgs) >= count:
            return msgs
        if time.time() > deadline:
            pytest.fail(f"{len(msgs)} of {count} message(s) in {md} after {timeout}s")
        time.sleep(0.05)


_inject_counter = iter(range(1, 1 << 30))


def inject(md, raw, sub="new", info=""):
    """Deliver `raw` into a Maildir the way any MDA would: write in tmp/,
    then rename into new/ (or cur/ with an info suffix)."""
    md = Path(md)
    for d in ("tmp", "new", "cur"):
        (md / d).mkdir(parents=True, exist_ok=True)
    name = f"{int(time.time())}.M{next(_inject_counter)}P{os.getpid()}.tests"
    tmp = md / "tmp" / name
    tmp.write_bytes(raw)
    final = md / sub / (name + (f":2,{info}" if sub == "cur" else ""))
    os.rename(tmp, final)
    return final


# ---------------------------------------------------------------- accounts

class MailDomain:
    """A provisioned domain with some accounts (password = name + 'pw')."""

    def __init__(self, server, c, name, users=("alice", "bob")):
        self.server = server
        self.name = name
        self.passwords = {}
        c.ok("domainadd", name)
        for u in users:
            self.add_user(c, u)

    def add_user(self, c, user, password=None, typ="U"):
        password = password or f"{user}-Pw.{uuid.uuid4().hex[:6]}"
        c.ok("useradd", self.name, user, password, typ)
        self.passwords[user] = password
        return password

    def addr(self, user):
        return f"{user}@{self.name}"

    def pw(self, user):
        return self.passwords[user]

    def md(self, user):
        return maildir(self.server.root, self.name, user)


# ---------------------------------------------------------------- tools

_install_tried = set()


def need_tool(name, package=None):
    """Path of a command-line tool; tries apt-get once when missing and
    skips the test when it is still not there."""
    path = shutil.which(name)
    if path:
        return path
    pkg = package or name
    if pkg not in _install_tried and os.geteuid() == 0 and shutil.which("apt-get"):
        _install_tried.add(pkg)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            subprocess.run(["apt-get", "install", "-y", "-qq", pkg], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired):
            pass
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(f"{name} is not installed (Debian package {pkg})")


def set_settings(c, **values):
    """Change server.tab variables through the controller, keeping the
    others."""
    rows, order = {}, []
    for line in c.listing("cfgfileget", "server.tab"):
        name, value = [f.strip('"') for f in line.split("\t")]
        rows[name] = value
        order.append(name)
    for k, v in values.items():
        if k not in rows:
            order.append(k)
        rows[k] = str(v)
    r = c.upload(("cfgfileset", "server.tab"), [f'"{k}"\t"{rows[k]}"' for k in order])
    assert r.code == 0, f"cfgfileset server.tab {values}: {r}"
