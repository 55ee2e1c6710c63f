"""Minimal client for the XMail controller protocol (CTRL) as spoken by Tern.

Standard library only.  Used by the integration tests; deliberately strict:
every response line is checked against the RESSTRING grammar (§3.1 of the
spec) and, for known error numbers, against the exact message text (§5).
"""

import hashlib
import re
import socket
import ssl
import time

DEFAULT_TIMEOUT = 10.0

# Exact texts of the codes the tests expect (spec §5.1 / §5.2).
ERROR_TEXTS = {
    10: "Unable to create file",
    12: "User not found",
    13: "User already exist",
    17: "Unable to create directory",
    19: "Unable to open file",
    20: "Invalid file structure",
    24: "Invalid password",
    26: "Alias already exist",
    28: "Alias not found",
    44: "POP3 link already exist",
    46: "POP3 link not found",
    50: "User is not a mailing list",
    52: "Mailing list user already exist",
    53: "Mailing list user not found",
    59: "POP3 domain not handled",
    67: "External alias already exist",
    69: "External alias not found",
    103: "Bad CTRL command syntax",
    105: "Bad controller login",
    116: "User mail processing file not present",
    120: "Not a custom domain",
    130: "Server does not like Your IP",
    132: "Bad tag ( From: , etc ... ) address",
    150: "Server use is forbidden",
    157: "Record not found in TAB file",
    162: "Stream line too long",
    190: "Bad characters in command line",
    205: "Domain alias already exist",
    206: "Domain alias not found",
    211: "Listing directory not found",
    214: "Error in relative path syntax",
    216: "Name does not respect RFC822",
    230: "Invalid parameter",
    231: "Already exist",
    242: "TLS link already active",
    249: "TLS service disabled",
    260: "Invalid host name",
}

RESP_RE = re.compile(r"^([+-])(\d{5}) (.*)$", re.S)
PLACEHOLDER = "********"


class ProtocolError(AssertionError):
    """The server sent something that is not valid CTRL."""


class CtrlError(AssertionError):
    """A command answered something other than what the caller required."""

    def __init__(self, resp, what=""):
        self.resp = resp
        super().__init__(f"{what}: unexpected answer {resp.line!r}" if what
                         else f"unexpected answer {resp.line!r}")


class Resp:
    """One RESSTRING.  .code is signed: 0, 100, 101, -103 ..."""

    def __init__(self, line):
        m = RESP_RE.match(line)
        if not m:
            raise ProtocolError(f"not a RESSTRING: {line!r}")
        self.line = line
        self.num = int(m.group(2))
        self.code = self.num if m.group(1) == "+" else -self.num
        self.text = m.group(3)
        self.lines = None      # filled for +00100 answers by Client.cmd()

    @property
    def ok(self):
        return self.code >= 0

    def __repr__(self):
        return f"Resp({self.line!r})"


def md5_answer(timestamp, password):
    return "#" + hashlib.md5((timestamp + password).encode("latin-1")).hexdigest()


def quote(value):
    """Quote one field for a command line (§2.2): "..." with \\" for quotes."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = str(value)
    return '"' + value.replace('"', '\\"') + '"'


def build_line(*args):
    return "\t".join(quote(a) for a in args)


def split_record(line):
    """Split a record listing line: TAB separated, one quote stripped at each
    end of every field (values are not escaped, §3.2)."""
    out = []
    for f in line.split("\t"):
        if len(f) >= 2 and f.startswith('"') and f.endswith('"'):
            f = f[1:-1]
        out.append(f)
    return out


def dot_stuff(lines):
    return ["." + l if l.startswith(".") else l for l in lines]


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Client:
    """One controller connection.

    Client(host, port, tls=False) connects and reads the greeting
    (stored in .greeting / .greeting_resp / .timestamp).  If the server
    refuses at accept time the refusal RESSTRING is stored as .greeting_resp
    and .timestamp is None.
    """

    def __init__(self, host, port, tls=False, timeout=DEFAULT_TIMEOUT,
                 read_greeting=True):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.buf = b""
        self.closed = False
        self.tls = False
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            s = tls_context().wrap_socket(s)
            self.tls = True
        self.sock = s
        self.greeting = None
        self.greeting_resp = None
        self.timestamp = None
        if read_greeting:
            self.read_greeting()

    # ------------------------------------------------------------ plumbing
    def read_greeting(self):
        line = self.readline()
        self.greeting = line
        self.greeting_resp = Resp(line)
        m = re.match(r"^\+00000 (<[^>]*>)", line)
        self.timestamp = m.group(1) if m else None
        return self.greeting_resp

    def _recv(self):
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            data = b""
        except ssl.SSLError as e:
            # TLS close_notify races etc.: treat as EOF.
            if "EOF" in str(e) or "SHUTDOWN" in str(e).upper():
                data = b""
            else:
                raise
        if not data:
            self.closed = True
        return data

    def readline_bytes(self):
        """One line from the server, without CRLF.  The server must use CRLF."""
        while b"\n" not in self.buf:
            data = self._recv()
            if not data:
                raise EOFError(f"connection closed by server (pending {self.buf!r})")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        if not line.endswith(b"\r"):
            raise ProtocolError(f"server line not CRLF terminated: {line!r}")
        return line[:-1]

    def readline(self):
        return self.readline_bytes().decode("latin-1")

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def send_line(self, line):
        if isinstance(line, str):
            line = line.encode("latin-1")
        self.send_raw(line + b"\r\n")

    def read_resp(self):
        return Resp(self.readline())

    def read_listing(self):
        """Lines after +00100 up to the terminating '.', one leading dot
        removed from every line that starts with a dot."""
        out = []
        while True:
            line = self.readline()
            if line == ".":
                return out
            if line.startswith("."):
                line = line[1:]
            out.append(line)

    def at_eof(self, timeout=5.0):
        """True when the server has closed the connection (no more data).
        Raises if the server sends more data instead."""
        if self.buf:
            raise ProtocolError(f"unexpected data before close: {self.buf!r}")
        if self.closed:
            return True
        old = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            data = self._recv()
        except socket.timeout:
            return False
        except OSError:
            return True
        finally:
            try:
                self.sock.settimeout(old)
            except OSError:
                pass
        if data:
            raise ProtocolError(f"unexpected data instead of close: {data!r}")
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

    # ------------------------------------------------------------ session
    def starttls(self):
        """Send #!TLS; on +00000 perform the client side handshake."""
        self.send_line("#!TLS")
        r = self.read_resp()
        if r.code == 0:
            if self.buf:
                raise ProtocolError(f"data after TLS go-ahead: {self.buf!r}")
            self.sock = tls_context().wrap_socket(self.sock)
            self.tls = True
        return r

    def login(self, user, password, md5=True):
        if md5:
            if not self.timestamp:
                raise ProtocolError("no greeting timestamp for MD5 login")
            pw = md5_answer(self.timestamp, password)
        else:
            pw = password
        self.send_line(build_line(user, pw))
        return self.read_resp()

    def cmd(self, *args):
        """Send a command with quoted fields.  A +00100 listing is read into
        resp.lines (raw, dot-unstuffed)."""
        self.send_line(build_line(*args))
        return self.read_answer()

    def raw_cmd(self, line):
        """Send a raw command line (str/bytes, CRLF appended)."""
        self.send_line(line)
        return self.read_answer()

    def read_answer(self):
        r = self.read_resp()
        if r.code == 100:
            r.lines = self.read_listing()
        elif r.code == 101:
            # never leave the session waiting for an upload
            self.send_line(".")
            final = self.read_resp()
            raise ProtocolError(f"unexpected upload request (+00101), aborted "
                                f"with empty upload -> {final.line}")
        return r

    def expect(self, code, *args):
        r = self.cmd(*args)
        check(r, code, args[0] if args else "")
        return r

    def ok(self, *args):
        return self.expect(0, *args)

    def listing(self, *args):
        r = self.cmd(*args)
        if r.code != 100:
            raise CtrlError(r, f"{args!r} expected a listing")
        return r.lines

    def records(self, *args):
        return [split_record(l) for l in self.listing(*args)]

    def upload(self, args, lines, raw=False, terminator=True):
        """Run an upload command.  lines: list of str (dot-stuffed here unless
        raw=True, in which case they are sent verbatim, each followed by
        CRLF unless it already ends in LF).  Returns the final Resp, or the
        first Resp when it is not +00101 (then resp.stage == 'pre')."""
        self.send_line(build_line(*args))
        first = self.read_resp()
        if first.code != 101:
            if first.code == 100:
                first.lines = self.read_listing()
            first.stage = "pre"
            return first
        payload = bytearray()
        src = lines if raw else dot_stuff(lines)
        for l in src:
            if isinstance(l, str):
                l = l.encode("latin-1")
            payload += l if (raw and l.endswith(b"\n")) else l + b"\r\n"
        if terminator:
            payload += b".\r\n"
        self.send_raw(bytes(payload))
        if not terminator:
            return None
        final = self.read_resp()
        final.stage = "final"
        return final

    def quit(self):
        try:
            r = self.cmd("quit")
        except (EOFError, OSError):
            return None
        return r


def check(resp, code, what=""):
    """Assert resp has the signed code and, for errors, the exact text."""
    if resp.code != code:
        raise CtrlError(resp, f"{what!r}: expected {code:+06d}")
    if code < 0 and -code in ERROR_TEXTS:
        base = ERROR_TEXTS[-code]
        # -00020 for a bad upload may name the offending line:
        # "Invalid file structure (line 3)"; every other text is fixed.
        detail_ok = code == -20 and re.fullmatch(re.escape(base) + r" \(line \d+\)", resp.text)
        if resp.text != base and not detail_ok:
            raise CtrlError(resp, f"{what!r}: wrong text for {code}")
    if code in (0, 100, 101) and resp.text != "OK":
        raise CtrlError(resp, f"{what!r}: success text must be OK")
    return resp


def xmail_encode(password):
    """XMail's reversible mailusers.tab / pop3links.tab encoding (§7.1)."""
    return "".join("%02x" % (b ^ 0x65) for b in password.encode("latin-1"))


def wait_port(host, port, timeout=15.0):
    deadline = time.time() + timeout
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.time() < deadline:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(1.0)
        try:
            s.connect((host, port))
            return True
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    return False
