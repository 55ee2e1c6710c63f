"""Fixtures for the black-box CTRL integration tests.

The binary under test is $TERN_BIN if set, else <repo>/build/ternd.
Each server runs as
    ternd --root DIR --dev --port-offset N      (TERN_ADMIN_PASSWORD=secret)
with the controller on 127.0.0.1/::1 port 6017+N and CTRLS on 6018+N, and
(once the mail services exist) SMTP 2525+N, submission 2587+N, SMTPS 2465+N,
POP3 2110+N and POP3S 2995+N, and the admin CLI on 7000+N (7001+N with
implicit TLS).  start() waits for the controller ports, then up to
MAIL_START_TIMEOUT for the SMTP port and briefly for the CLI port; a binary
that never opened one of them is remembered so that later starts do not pay
that wait again.

Fixtures:
  server        module scoped, shared by the tests of one file
  fresh_server  function scoped, for tests that break things (flood, ipmap, crash)
  c             logged-in admin Client on `server` (IPv4, plain)
  dom           a fresh handled domain on `server` (added through `c`)
  cli           logged-in admin CLI client on `server` (cliclient.CliClient)
"""

import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ctrlclient  # noqa: E402
from ctrlclient import Client, check  # noqa: E402

REPO = HERE.parents[1]
ADMIN_USER = "admin"
ADMIN_PASS = "secret"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
MAIL_START_TIMEOUT = 5.0

# Development ports (before --port-offset).  CTRL/CTRLS are waited for at
# start-up; the mail ports only when the binary serves them.
CTRL_PORT, CTRLS_PORT = 6017, 6018
SMTP_PORT, SUBMISSION_PORT, SMTPS_PORT = 2525, 2587, 2465
POP3_PORT, POP3S_PORT = 2110, 2995
CLI_PORT, CLI_TLS_PORT = 7000, 7001
CLI_START_TIMEOUT = 3.0
# every development port ternd may open (README), all must be free
DEV_PORTS = (CTRL_PORT, CTRLS_PORT, SMTP_PORT, SUBMISSION_PORT, SMTPS_PORT,
             POP3_PORT, POP3S_PORT, CLI_PORT, CLI_TLS_PORT, 2143, 2993)
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "ThreadSanitizer")

_live = set()     # every Popen we started, for the last-resort cleanup
_no_mail_ports = set()   # binaries that did not open the SMTP port in time
_no_cli_port = set()     # binaries that did not open the CLI port in time


def ternd_binary():
    b = os.environ.get("TERN_BIN")
    if b:
        p = Path(b)
        if not p.is_absolute():
            p = REPO / p
        return p
    return REPO / "build" / "ternd"


def _bindable(port):
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def _ephemeral_range():
    try:
        lo, hi = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(lo), int(hi)
    except (OSError, ValueError):
        return 32768, 60999


def pick_offset():
    """An offset N such that every development port + N is free on both
    loopback addresses and lies outside the kernel's ephemeral range (so
    that the tests' own client sockets cannot take one of them between
    this check and a restart)."""
    lo, hi = _ephemeral_range()
    low, high = min(DEV_PORTS), max(DEV_PORTS)
    if lo - high > 12000:
        a, b = 10000, lo - high - 1          # all ports below the range
    else:
        a, b = hi + 1 - low, 65535 - high    # all ports above it
    if b - a < 1000:
        a, b = 20000, 40000                  # odd settings: old behaviour
    for _ in range(200):
        n = random.randint(a, b)
        if all(_bindable(p + n) for p in DEV_PORTS):
            return n
    raise RuntimeError("no free port set found")


class _PortTaken(Exception):
    """ternd exited at start-up because one of its ports was taken."""


class TernServer:
    """A running ternd.  restart() = SIGTERM (must exit 0) + start again on
    the same root and ports; kill9() = SIGKILL (stays down until restart())."""

    admin_user = ADMIN_USER
    admin_pass = ADMIN_PASS

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.root = self.workdir / "root"
        self.root.mkdir(parents=True, exist_ok=True)
        self.stderr_path = self.workdir / "ternd.stderr"
        self._set_ports(pick_offset())
        self.mail_ports_up = False
        self.cli_port_up = False
        self.proc = None
        self.started_once = False
        self.exit_codes = []     # (how, returncode) of every stop
        self.problems = []

    def _set_ports(self, offset):
        self.offset = offset
        self.port = CTRL_PORT + self.offset
        self.tls_port = CTRLS_PORT + self.offset
        self.smtp_port = SMTP_PORT + self.offset
        self.submission_port = SUBMISSION_PORT + self.offset
        self.smtps_port = SMTPS_PORT + self.offset
        self.pop3_port = POP3_PORT + self.offset
        self.pop3s_port = POP3S_PORT + self.offset
        self.cli_port = CLI_PORT + self.offset
        self.cli_tls_port = CLI_TLS_PORT + self.offset

    # -------------------------------------------------------------- process
    def start(self):
        """Start ternd. On the very first start, a port taken by another
        process between pick_offset() and the bind (other suites, benchmarks
        on the same machine) moves the server to a new offset."""
        for attempt in range(5):
            try:
                return self._start_once()
            except _PortTaken:
                if self.started_once or attempt == 4:
                    pytest.fail(f"ternd could not bind its ports:\n{self.log[-4000:]}")
                self._set_ports(pick_offset())

    def _start_once(self):
        binary = ternd_binary()
        if not binary.exists():
            pytest.fail(f"ternd binary not found at {binary} "
                        f"(build with `make -C {REPO}` or set TERN_BIN)")
        env = dict(os.environ)
        env["TERN_ADMIN_PASSWORD"] = ADMIN_PASS
        errf = open(self.stderr_path, "ab")
        errf.write(f"\n==== start {time.strftime('%H:%M:%S')} ====\n".encode())
        errf.flush()
        self.proc = subprocess.Popen(
            [str(binary), "--root", str(self.root), "--dev",
             "--port-offset", str(self.offset)],
            stdin=subprocess.DEVNULL, stdout=errf, stderr=errf, env=env,
            cwd=str(self.workdir))
        errf.close()
        _live.add(self.proc)
        deadline = time.time() + START_TIMEOUT
        for port in (self.port, self.tls_port):
            while True:
                if self.proc.poll() is not None:
                    _live.discard(self.proc)
                    if not self.started_once and "Address already in use" in self.log[-2000:]:
                        raise _PortTaken()
                    pytest.fail(f"ternd exited with {self.proc.returncode} during "
                                f"start-up:\n{self.log[-4000:]}")
                if ctrlclient.wait_port("127.0.0.1", port, 0.2):
                    break
                if time.time() > deadline:
                    self._kill()
                    pytest.fail(f"ternd did not listen on 127.0.0.1:{port} within "
                                f"{START_TIMEOUT}s:\n{self.log[-4000:]}")
        self._wait_mail_ports(binary)
        self._wait_cli_port(binary)
        self.started_once = True
        return self

    def _wait_cli_port(self, binary):
        """Tolerant wait for the CLI listener (bound with the controller's,
        so normally already up).  Never fails: CLI tests fail on connect."""
        key = str(binary)
        self.cli_port_up = False
        if key in _no_cli_port:
            return
        deadline = time.time() + CLI_START_TIMEOUT
        while not ctrlclient.wait_port("127.0.0.1", self.cli_port, 0.2):
            if self.proc.poll() is not None or time.time() > deadline:
                if self.proc.poll() is None:
                    _no_cli_port.add(key)
                return
        self.cli_port_up = True

    def _wait_mail_ports(self, binary):
        """Tolerant wait for the mail listeners: up to MAIL_START_TIMEOUT for
        SMTP (skipped for a binary that never opened it), then briefly for the
        other mail ports.  Never fails: tests that need a port fail on their
        own connect."""
        key = str(binary)
        self.mail_ports_up = False
        if key in _no_mail_ports:
            return
        deadline = time.time() + MAIL_START_TIMEOUT
        while not ctrlclient.wait_port("127.0.0.1", self.smtp_port, 0.2):
            if self.proc.poll() is not None or time.time() > deadline:
                if self.proc.poll() is None:
                    _no_mail_ports.add(key)
                return
        self.mail_ports_up = True
        deadline = time.time() + 2.0
        for port in (self.submission_port, self.smtps_port, self.pop3_port, self.pop3s_port):
            while (time.time() < deadline and self.proc.poll() is None
                   and not ctrlclient.wait_port("127.0.0.1", port, 0.2)):
                pass

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.proc:
            _live.discard(self.proc)

    def stop(self):
        """SIGTERM and wait; returns the exit code (None if it had to be
        killed)."""
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                _live.discard(self.proc)
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            self.exit_codes.append(("sigterm-timeout", None))
            self.problems.append(f"did not exit within {STOP_TIMEOUT}s of SIGTERM")
            _live.discard(self.proc)
            return None
        _live.discard(self.proc)
        self.exit_codes.append(("sigterm", rc))
        if rc != 0:
            self.problems.append(f"exit code {rc} after SIGTERM")
        return rc

    def restart(self):
        rc = None
        if self.proc is not None and self.proc.poll() is None:
            rc = self.stop()
            assert rc == 0, f"ternd exit code after SIGTERM: {rc}\n{self.log[-3000:]}"
        self.start()
        return rc

    def kill9(self):
        assert self.proc is not None and self.proc.poll() is None, "server not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        _live.discard(self.proc)
        self.exit_codes.append(("sigkill", self.proc.returncode))

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def log(self):
        text = ""
        try:
            text += self.stderr_path.read_text(errors="replace")
        except OSError:
            pass
        lf = self.root / "logs" / "ternd.log"
        try:
            text += "\n" + lf.read_text(errors="replace")
        except OSError:
            pass
        return text

    def sanitizer_report(self):
        log = self.log
        for m in SANITIZER_MARKERS:
            if m in log:
                i = log.index(m)
                return log[max(0, i - 200): i + 3000]
        return None

    # -------------------------------------------------------------- clients
    def connect(self, login=True, family=4, tls=False, md5=True,
                user=None, password=None, timeout=ctrlclient.DEFAULT_TIMEOUT):
        host = "127.0.0.1" if family == 4 else "::1"
        port = self.tls_port if tls else self.port
        c = Client(host, port, tls=tls, timeout=timeout)
        if login:
            r = c.login(user or self.admin_user, password or self.admin_pass, md5=md5)
            check(r, 0, "login")
        return c

    def cli(self, login=True, family=4, tls=False, user=None, password=None,
            timeout=ctrlclient.DEFAULT_TIMEOUT):
        """A CLI client (cliclient.CliClient), logged in unless login=False."""
        from cliclient import CliClient
        host = "127.0.0.1" if family == 4 else "::1"
        port = self.cli_tls_port if tls else self.cli_port
        cl = CliClient(host, port, tls=tls, timeout=timeout)
        if login:
            cl.login(user or self.admin_user, password or self.admin_pass)
        return cl

    def shutdown(self):
        """Fixture teardown: stop and report problems."""
        self.stop()
        self._kill()
        report = self.sanitizer_report()
        problems = list(self.problems)
        if report:
            problems.append("sanitizer report in server log:\n" + report)
        return problems


def _start_server(tmp_path_factory, name):
    srv = TernServer(tmp_path_factory.mktemp(name))
    srv.start()
    return srv


def _finish(srv):
    problems = srv.shutdown()
    if problems:
        pytest.fail("server problems: " + "; ".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = _start_server(tmp_path_factory, "tern")
    try:
        yield srv
    finally:
        _finish(srv)


@pytest.fixture
def fresh_server(tmp_path_factory):
    srv = _start_server(tmp_path_factory, "ternfresh")
    try:
        yield srv
    finally:
        _finish(srv)


def _revive(srv, request):
    """A module-scoped server that died (crash, sanitizer abort) is restarted
    so that the rest of the module still runs; the death is reported at the
    module's teardown together with any sanitizer report."""
    if srv.proc is not None and not srv.running:
        rc = srv.proc.returncode
        _live.discard(srv.proc)
        srv.problems.append(f"server died (exit code {rc}) before {request.node.name}")
        srv.start()


@pytest.fixture(autouse=True)
def _revive_module_server(request):
    if "server" in request.fixturenames:
        _revive(request.getfixturevalue("server"), request)


@pytest.fixture
def c(server, request):
    _revive(server, request)
    try:
        cl = server.connect()
    except (EOFError, OSError, ctrlclient.ProtocolError) as e:
        # The server may be dying of something the previous test did (a
        # sanitizer abort after its last reply): wait for the exit, revive
        # it and try once more, so that one crash does not fail the
        # following tests too.
        try:
            server.proc.wait(5)
        except subprocess.TimeoutExpired:
            raise e from None
        _revive(server, request)
        cl = server.connect()
    try:
        yield cl
    finally:
        cl.close()


@pytest.fixture
def cli(server, request):
    _revive(server, request)
    cl = server.cli()
    try:
        yield cl
    finally:
        cl.close()


_counter = itertools.count(1)


def unique(prefix="t"):
    return f"{prefix}{next(_counter)}{uuid.uuid4().hex[:6]}"


@pytest.fixture
def unique_name():
    return unique


@pytest.fixture
def dom(c):
    d = unique("d") + ".test"
    check(c.cmd("domainadd", d), 0, "domainadd")
    return d


def pytest_sessionfinish(session, exitstatus):
    # Last resort: never leave a ternd behind.
    for p in list(_live):
        if p.poll() is None:
            p.kill()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def mdom(server, c):
    """A fresh domain on `server` with the accounts alice and bob
    (smtpclient.MailDomain: .addr(u), .pw(u), .md(u) -> Maildir path)."""
    from smtpclient import MailDomain
    return MailDomain(server, c, unique("m") + ".test")
