"""A strict raw client for Tern's admin CLI (the Axigen-compatible protocol
on port 7000).  Standard library only.

Every reply is read up to its prompt (or, for EXIT/QUIT and closing errors,
up to the end of the connection) and checked against the reply grammar of
the specification (axigen-cli.md section 6.1):

    reply  = [data lines CRLF...] status-line CRLF prompt
    status = "+OK: " text / "-ERR: " text
    prompt = "<" [A-Za-z0-9-]* "#> "   (before login "<login> " / "<password> ")

and the rules for successful output (section 1 item 9): no "-ERR" anywhere,
no data line ending in ">".
"""

import re
import socket
import ssl
import time

TIMEOUT = 10.0

PROMPT_RE = re.compile(r"^<(?:[A-Za-z0-9-]*#|login|password)> $")
STATUS_RE = re.compile(r"^(\+OK|-ERR): \S")
BYE = b"+OK: have a nice day\r\n"


class CliProtocolError(AssertionError):
    """The server sent something the CLI grammar does not allow."""


class Reply:
    """One reply: raw bytes, the CRLF-separated pieces, and the parts."""

    def __init__(self, raw, closed):
        self.raw = raw
        self.closed = closed          # the server closed after this reply
        text = raw.decode("utf-8")
        self.pieces = text.split("\r\n")
        last = self.pieces[-1]
        self.prompt = last if PROMPT_RE.match(last) else None
        if self.prompt is not None:
            self.status = self.pieces[-2] if len(self.pieces) >= 2 and STATUS_RE.match(self.pieces[-2]) else None
            self.data = self.pieces[:-2] if self.status is not None else self.pieces[:-1]
        else:
            # no prompt: EXIT/QUIT or a closing error; the last line is the status
            lines = [p for p in self.pieces if p != ""] if text.endswith("\r\n") else self.pieces
            self.status = lines[-1] if lines and STATUS_RE.match(lines[-1]) else None
            self.data = lines[:-1]

    @property
    def ok(self):
        return self.status is not None and self.status.startswith("+OK: ")

    @property
    def text(self):
        """The status text after "+OK: " / "-ERR: "."""
        if self.status is None:
            return None
        return self.status.split(": ", 1)[1]

    @property
    def context(self):
        """The prompt's context name ("" at root), or None."""
        if self.prompt is None:
            return None
        return self.prompt[1:-2].rstrip("#")

    def __repr__(self):
        return f"Reply({self.raw!r})"


def check_grammar(r, authed):
    """Raise CliProtocolError if the reply breaks the rules clients rely on."""
    if r.prompt is None and not r.closed:
        raise CliProtocolError(f"reply without prompt on an open connection: {r!r}")
    if r.prompt is not None and r.status is None and r.pieces != [r.prompt]:
        # only an empty line (and USER) is answered by the bare prompt
        raise CliProtocolError(f"reply without status line: {r!r}")
    if r.status is not None and r.ok:
        if "-ERR" in r.raw.decode("utf-8"):
            raise CliProtocolError(f"successful reply containing -ERR: {r!r}")
        for line in r.data:
            if line.endswith(">"):
                raise CliProtocolError(f"data line ending in '>': {line!r} in {r!r}")


class CliClient:
    def __init__(self, host, port, tls=False, timeout=TIMEOUT):
        self.timeout = timeout
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((host, port))
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        self.sock = s
        self.buf = b""
        self.authed = False
        self.eof = False
        self.banner = self.read_reply(check=False)   # the banner has no status line

    # ----------------------------------------------------------- raw I/O
    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def send_line(self, line):
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")

    def _complete(self):
        b = self.buf
        if b.endswith(BYE):
            return len(b)
        i = b.rfind(b"\r\n")
        last = b[i + 2:] if i >= 0 else b
        try:
            if PROMPT_RE.match(last.decode("utf-8")):
                return len(b)
        except UnicodeDecodeError:
            pass
        return None

    def read_reply(self, timeout=None, check=True):
        """Read one reply (up to a prompt, or to EOF)."""
        self.sock.settimeout(timeout or self.timeout)
        while True:
            n = self._complete()
            if n is not None:
                raw, self.buf = self.buf[:n], self.buf[n:]
                closed = raw.endswith(BYE)
                if closed:
                    self.eof = self._eof_after(2.0)
                r = Reply(raw, closed)
                if check:
                    check_grammar(r, self.authed)
                return r
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise CliProtocolError(f"no complete reply within the timeout; got {self.buf!r}") from None
            if not chunk:
                raw, self.buf = self.buf, b""
                self.eof = True
                r = Reply(raw, True)
                check_grammar(r, self.authed)
                return r
            self.buf += chunk

    def _eof_after(self, wait):
        self.sock.settimeout(wait)
        try:
            extra = self.sock.recv(65536)
        except (socket.timeout, OSError):
            return False
        if extra:
            self.buf += extra
            return False
        return True

    def at_eof(self, wait=5.0):
        if self.eof:
            return True
        return self._eof_after(wait)

    def recv_once(self, wait=0.5):
        """Exactly one recv() after a pause (for the one-write checks)."""
        time.sleep(wait)
        self.sock.settimeout(self.timeout)
        return self.sock.recv(1 << 20)

    # ----------------------------------------------------------- commands
    def cmd(self, line, timeout=None):
        self.send_line(line)
        return self.read_reply(timeout)

    def ok(self, line, context=None):
        r = self.cmd(line)
        if not r.ok:
            raise AssertionError(f"{line!r}: expected +OK, got {r!r}")
        if context is not None and r.context != context:
            raise AssertionError(f"{line!r}: expected prompt <{context}#>, got {r!r}")
        return r

    def err(self, line, text=None, context=None):
        r = self.cmd(line)
        if r.status is None or not r.status.startswith("-ERR: "):
            raise AssertionError(f"{line!r}: expected -ERR, got {r!r}")
        if text is not None and r.text != text:
            raise AssertionError(f"{line!r}: expected -ERR: {text}, got {r!r}")
        if context is not None and r.context != context:
            raise AssertionError(f"{line!r}: expected prompt <{context}#>, got {r!r}")
        return r

    def login(self, user, password):
        r = self.cmd(f"USER {user}")
        if r.raw != b"<password> ":
            raise AssertionError(f"USER: expected the password prompt, got {r!r}")
        r = self.cmd(password)
        if r.raw != b"+OK: Authentication successful\r\n<#> ":
            raise AssertionError(f"login: got {r!r}")
        self.authed = True
        return r

    def back_to_root(self):
        for _ in range(8):
            r = self.cmd("BACK")
            if r.context == "":
                return

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def table_rows(r):
    """Rows of a table LIST the way CLI2 slices them: lines [5:-3]."""
    return r.pieces[5:-3]


def simple_items(r):
    """Items of a simple LIST / SHOW the way CLI2 slices them: lines [2:-3]."""
    return r.pieces[2:-3]


def show_attrs(r):
    """SHOW output as a dict (CLI2's get_show: lines [2:-3] split on ' = ')."""
    out = {}
    for line in simple_items(r):
        k, v = line.split(" = ", 1)
        out[k] = v
    return out
