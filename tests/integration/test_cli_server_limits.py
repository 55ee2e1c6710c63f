"""Admin CLI, server side: the connection limits of a service's access
control (maxConnections, timeInterval, maxIntervalConnections and the peer*
ones) for the CLI, SMTP-Incoming and POP3, and POP3's access rules - each
set through the CLI, seen in the controller's server.tab, and enforced by
the daemon when a connection arrives (real sockets)."""

import base64
import smtplib
import socket
import time

import pytest

from cliclient import CliClient, show_attrs, table_rows
from smtpclient import tls_context

LIMITS = {"maxConnections": "0", "timeInterval": "60", "maxIntervalConnections": "0",
          "peerMaxConnections": "0", "peerTimeInterval": "60", "peerMaxIntervalConnections": "0"}
SERVICES = {"cli": ("CLI", "server-cli", "Cli"), "smtp": ("SMTP-INCOMING", "server-smtpIncoming", "Smtp"),
            "pop3": ("POP3", "server-pop3", "Pop3")}
SETTING = {"maxConnections": "AccMaxConnections", "timeInterval": "AccTimeInterval",
           "maxIntervalConnections": "AccMaxIntervalConnections",
           "peerMaxConnections": "AccPeerMaxConnections", "peerTimeInterval": "AccPeerTimeInterval",
           "peerMaxIntervalConnections": "AccPeerMaxIntervalConnections"}


def server_tab(c):
    out = {}
    for line in c.listing("cfgfileget", "server.tab"):
        name, value = [f.strip('"') for f in line.split("\t")]
        out[name] = value
    return out


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


def set_limits(cli, svc, **vals):
    """CONFIG <svc> / CONFIG AccessControl / SET ... / DONE / COMMIT, from the root."""
    kw, ctx, _ = SERVICES[svc]
    cli.ok("CONFIG SERVER", "server")
    cli.ok(f"CONFIG {kw}", ctx)
    cli.ok("CONFIG AccessControl", f"{ctx}-access-control")
    for k, v in vals.items():
        cli.ok(f"SET {k} {v}")
    cli.ok("DONE", ctx)
    cli.ok("COMMIT", "server")
    cli.ok("BACK", "")


@pytest.fixture
def reset_limits(cli):
    """Back to no limits after the test, over the test's own admin session
    (a new one could be refused by the limits under test)."""
    yield
    cli.back_to_root()
    for svc in SERVICES:
        set_limits(cli, svc, **LIMITS)


def greeting(port, family=socket.AF_INET, host="127.0.0.1"):
    """Connect and read the first reply line; returns (socket, line)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port))
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return s, data


def closed(s, wait=5.0):
    s.settimeout(wait)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def test_show_and_set_limits_in_every_access_control(server, cli, c, reset_limits):
    for svc, (kw, ctx, prefix) in SERVICES.items():
        cli.ok("CONFIG SERVER")
        cli.ok(f"CONFIG {kw}", ctx)
        cli.ok("CONFIG AccessControl", f"{ctx}-access-control")
        assert show_attrs(cli.cmd("SHOW")) == LIMITS
        assert cli.ok("SHOW ATTR peerTimeInterval").pieces[0] == "peerTimeInterval = 60"
        # bad values: a clear -ERR, nothing pending
        cli.err("SET maxConnections -1", None, f"{ctx}-access-control")
        cli.err("SET maxConnections lots", None, f"{ctx}-access-control")
        cli.err("SET timeInterval 0", None, f"{ctx}-access-control")
        cli.err("SET peerMaxIntervalConnections 1000001", None, f"{ctx}-access-control")
        assert show_attrs(cli.cmd("SHOW")) == LIMITS
        cli.ok("SET maxConnections 50")
        cli.ok("SET peerTimeInterval 30")
        cli.ok("DONE", ctx)
        # not applied before COMMIT
        assert server_tab(c).get(prefix + "AccMaxConnections", "0") == "0"
        # the pending values show again when the context is re-entered
        cli.ok("CONFIG AccessControl")
        assert cli.ok("SHOW ATTR maxConnections").pieces[0] == "maxConnections = 50"
        cli.ok("DONE")
        cli.ok("COMMIT", "server")
        tab = server_tab(c)
        assert tab[prefix + "AccMaxConnections"] == "50"
        assert tab[prefix + "AccPeerTimeInterval"] == "30"
        assert log_has(server, "COMMIT", f"{prefix}AccMaxConnections=50")
        cli.ok(f"CONFIG {kw}")
        cli.ok("CONFIG AccessControl")
        got = show_attrs(cli.cmd("SHOW"))
        assert got["maxConnections"] == "50" and got["peerTimeInterval"] == "30"
        cli.ok("BACK", ctx)
        cli.ok("BACK", "server")
        cli.ok("BACK", "")


def test_cli_peer_max_connections(server, cli, reset_limits):
    set_limits(cli, "cli", peerMaxConnections=2)      # this admin session is one of them
    second = server.cli()
    with CliClient("127.0.0.1", server.cli_port) as refused:
        assert refused.banner.raw == b"-ERR: Too many connections from your address, closing connection\r\n"
        assert refused.at_eof()
    # another address is another peer
    server.cli(family=6).close()
    second.close()
    time.sleep(0.3)
    server.cli().close()                              # room again
    assert log_has(server, "cli: peer=127.0.0.1 refused: Too many connections from your address")


def test_cli_max_connections_whole_service(server, cli, reset_limits):
    set_limits(cli, "cli", maxConnections=1)
    with CliClient("::1", server.cli_port) as refused:
        assert refused.banner.raw == b"-ERR: Too many connections to this service, closing connection\r\n"
    set_limits(cli, "cli", maxConnections=0)
    server.cli(family=6).close()


def test_cli_connection_rate_per_peer(server, cli, reset_limits):
    set_limits(cli, "cli", peerTimeInterval=3, peerMaxIntervalConnections=2)
    time.sleep(3.1)                                   # a fresh window
    t0 = time.monotonic()
    server.cli(login=False).close()
    server.cli(login=False).close()
    with CliClient("127.0.0.1", server.cli_port) as refused:
        assert refused.banner.raw == (b"-ERR: Too many new connections from your address, "
                                      b"try again later, closing connection\r\n")
    assert time.monotonic() - t0 < 3, "too slow to test the window"
    time.sleep(3.1)
    server.cli(login=False).close()                   # the next window


def test_smtp_peer_max_and_rate(server, cli, reset_limits):
    set_limits(cli, "smtp", peerMaxConnections=1)
    first, g1 = greeting(server.smtp_port)
    assert g1.startswith(b"220 ")
    second, g2 = greeting(server.smtp_port)
    assert g2.startswith(b"421 4.7.0 ") and b"Too many connections from your address" in g2
    assert closed(second)
    second.close()
    first.sendall(b"QUIT\r\n")
    assert closed(first)
    first.close()
    time.sleep(0.3)
    again, g3 = greeting(server.smtp_port)
    assert g3.startswith(b"220 ")
    again.close()
    # the whole service: a rate window shared by every address (submission port included)
    set_limits(cli, "smtp", peerMaxConnections=0, timeInterval=3, maxIntervalConnections=2)
    time.sleep(3.1)
    a, ga = greeting(server.smtp_port)
    b, gb = greeting(server.submission_port, socket.AF_INET6, "::1")
    x, gx = greeting(server.smtp_port, socket.AF_INET6, "::1")
    for s in (a, b, x):
        s.close()
    assert ga.startswith(b"220 ") and gb.startswith(b"220 ")
    assert gx.startswith(b"421 4.7.0 ") and b"Too many new connections to this service" in gx
    assert log_has(server, "smtp ::1: connection refused: Too many new connections to this service")
    time.sleep(3.1)
    y, gy = greeting(server.smtp_port)
    y.close()
    assert gy.startswith(b"220 ")


def test_pop3_limits_and_access_rules(server, cli, c, reset_limits):
    set_limits(cli, "pop3", peerMaxConnections=1)
    first, g1 = greeting(server.pop3_port)
    assert g1.startswith(b"+OK ")
    second, g2 = greeting(server.pop3_port)
    assert g2 == b"-ERR Too many connections from your address, closing connection\r\n"
    assert closed(second)
    second.close()
    first.close()
    set_limits(cli, "pop3", peerMaxConnections=0)
    # access rules: a deny rule for ::1 (map pop3)
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3", "server-pop3")
    cli.ok("CONFIG AccessControl", "server-pop3-access-control")
    cli.ok("ADD DenyRule ::1 priority 10")
    cli.ok("ADD AllowRule 127.0.0.0/8", "server-pop3-access-control-allowrule")
    cli.ok("DONE", "server-pop3-access-control")
    assert table_rows(cli.cmd("LIST DenyRules")) == ["::1/128 | yes | 10"]
    cli.err("ADD DenyRule ::1", "DenyRule ::1/128 already exists")
    cli.err("ADD AllowRule 10.0.0.0/99", "Invalid value for ipSet (addr or addr/len)")
    cli.ok("DONE", "server-pop3")
    s, g = greeting(server.pop3_port, socket.AF_INET6, "::1")   # not committed yet
    s.close()
    assert g.startswith(b"+OK ")
    cli.ok("COMMIT", "server")
    s, g = greeting(server.pop3_port, socket.AF_INET6, "::1")
    assert g == b"-ERR Access denied for your address, closing connection\r\n"
    assert closed(s)
    s.close()
    s, g = greeting(server.pop3_port)
    s.close()
    assert g.startswith(b"+OK ")
    assert log_has(server, "pop3 ::1: connection refused by the POP3 access rules")
    cli.ok("CONFIG POP3")
    cli.ok("CONFIG AccessControl")
    cli.ok("REMOVE DenyRule ::1")
    cli.ok("REMOVE AllowRule 127.0.0.0/8")
    cli.ok("DONE")
    cli.ok("COMMIT")
    s, g = greeting(server.pop3_port, socket.AF_INET6, "::1")
    s.close()
    assert g.startswith(b"+OK ")
    cli.ok("BACK", "")


# ---------------------------------------------------------------- service settings

POP3_DEFAULTS = {"maxErrors": "20", "maxAuthErrors": "5", "secureConnAuthTypes": "(plain)",
                 "plainConnAuthTypes": "(plain)", "secureConnAllowLogin": "yes", "plainConnAllowLogin": "yes",
                 "greetingsText": '""'}
SMTP_DEFAULTS = {"maxAuthErrors": "5", "maxReceivedHeaders": "50"}


def set_service(cli, svc, **vals):
    kw, ctx, _ = SERVICES[svc]
    cli.ok("CONFIG SERVER", "server")
    cli.ok(f"CONFIG {kw}", ctx)
    for k, v in vals.items():
        cli.ok(f"SET {k} {v}")
    cli.ok("COMMIT", "server")
    cli.ok("BACK", "")


@pytest.fixture
def reset_services(cli):
    yield
    cli.back_to_root()
    set_service(cli, "pop3", **POP3_DEFAULTS)
    set_service(cli, "smtp", **SMTP_DEFAULTS)


class Line:
    """A socket read line by line."""

    def __init__(self, port, host="127.0.0.1", tls=False):
        s = socket.create_connection((host, port), timeout=10)
        if tls:
            s = tls_context().wrap_socket(s)
        self.s, self.buf = s, b""

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.line()

    def multi(self, text):
        first = self.cmd(text)
        out = [first]
        while first.startswith(b"+OK") and out[-1] != b".\r\n":
            out.append(self.line())
        return out

    def at_eof(self):
        return not self.buf and closed(self.s)

    def close(self):
        self.s.close()


def test_pop3_service_settings_shown_and_checked(server, cli, c, reset_services):
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3", "server-pop3")
    attrs = show_attrs(cli.cmd("SHOW"))
    for k, v in POP3_DEFAULTS.items():
        assert attrs[k] == v, k
    cli.err("SET plainConnAuthTypes (cram-md5)",
            "Invalid value for plainConnAuthTypes (a parenthesised set of: plain)", "server-pop3")
    cli.err("SET maxAuthErrors 0", None, "server-pop3")
    cli.err("SET maxErrors many", None, "server-pop3")
    cli.err("SET plainConnAllowLogin maybe", None, "server-pop3")
    assert show_attrs(cli.cmd("SHOW")) == attrs
    cli.ok("SET greetingsText \"Welcome to the test post office\"")
    cli.ok("SET maxErrors 3")
    cli.ok("COMMIT", "server")
    tab = server_tab(c)
    assert tab["Pop3Banner"] == "Welcome to the test post office" and tab["Pop3MaxErrors"] == "3"
    p = Line(server.pop3_port)
    g = p.line()
    assert g.startswith(b"+OK Welcome to the test post office <") and g.endswith(b">\r\n")
    assert p.cmd("FOO") == b"-ERR Unknown command or not logged in\r\n"
    assert p.cmd("BAR") == b"-ERR Unknown command or not logged in\r\n"
    assert p.cmd("BAZ") == b"-ERR Unknown command or not logged in\r\n"
    assert p.line() == b"-ERR Too many errors, closing connection\r\n"
    assert p.at_eof()
    p.close()
    assert log_has(server, "pop3 127.0.0.1: too many bad commands (3), closing connection")


def test_pop3_max_auth_errors(server, cli, mdom, reset_services):
    set_service(cli, "pop3", maxAuthErrors=2)
    p = Line(server.pop3_port)
    p.line()
    assert p.cmd(f"USER {mdom.addr('alice')}").startswith(b"+OK")
    assert p.cmd("PASS wrong-1") == b"-ERR [AUTH] Authentication failed\r\n"
    assert p.cmd(f"USER {mdom.addr('alice')}").startswith(b"+OK")
    assert p.cmd("PASS wrong-2") == b"-ERR [AUTH] Authentication failed\r\n"
    assert p.line() == b"-ERR [AUTH] Too many failed logins, closing connection\r\n"
    assert p.at_eof()
    p.close()
    # the right password still works on a new connection
    p = Line(server.pop3_port)
    p.line()
    p.cmd(f"USER {mdom.addr('alice')}")
    assert p.cmd(f"PASS {mdom.pw('alice')}").startswith(b"+OK Logged in")
    p.cmd("QUIT")
    p.close()


def test_pop3_login_and_auth_types_per_connection_kind(server, cli, mdom, reset_services):
    user, pw = mdom.addr("alice"), mdom.pw("alice")
    token = base64.b64encode(f"\0{user}\0{pw}".encode()).decode()
    set_service(cli, "pop3", plainConnAllowLogin="no")
    p = Line(server.pop3_port)
    p.line()
    capa = p.multi("CAPA")
    assert b"USER\r\n" not in capa and b"SASL PLAIN\r\n" in capa
    assert p.cmd(f"USER {user}") == (b"-ERR [AUTH] USER/PASS is not allowed on a clear-text connection "
                                     b"(use STLS)\r\n")
    assert p.cmd(f"AUTH PLAIN {token}").startswith(b"+OK Logged in")
    p.cmd("QUIT")
    p.close()
    # on TLS (POP3S) USER/PASS is still allowed
    p = Line(server.pop3s_port, tls=True)
    p.line()
    assert b"USER\r\n" in p.multi("CAPA")
    p.cmd(f"USER {user}")
    assert p.cmd(f"PASS {pw}").startswith(b"+OK Logged in")
    p.cmd("QUIT")
    p.close()
    # no SASL mechanism on clear-text connections, none at all with TLS either
    set_service(cli, "pop3", plainConnAllowLogin="yes", plainConnAuthTypes="()", secureConnAllowLogin="no")
    p = Line(server.pop3_port)
    p.line()
    capa = p.multi("CAPA")
    assert b"SASL PLAIN\r\n" not in capa and b"USER\r\n" in capa
    assert p.cmd(f"AUTH PLAIN {token}") == (b"-ERR [AUTH] AUTH PLAIN is not allowed on a clear-text connection "
                                            b"(use STLS)\r\n")
    p.cmd(f"USER {user}")
    assert p.cmd(f"PASS {pw}").startswith(b"+OK Logged in")
    p.cmd("QUIT")
    p.close()
    p = Line(server.pop3s_port, tls=True)
    p.line()
    assert p.cmd(f"USER {user}") == b"-ERR [AUTH] USER/PASS is not allowed on this server\r\n"
    assert p.cmd(f"AUTH PLAIN {token}").startswith(b"+OK Logged in")
    p.cmd("QUIT")
    p.close()


def test_smtp_max_auth_errors(server, cli, mdom, reset_services):
    set_service(cli, "smtp", maxAuthErrors=2)
    user = mdom.addr("alice")
    bad = base64.b64encode(f"\0{user}\0nope".encode()).decode()
    s = Line(server.smtps_port, tls=True)
    assert s.line().startswith(b"220 ")
    s.s.sendall(b"EHLO client.test\r\n")
    while not s.line().startswith(b"250 "):
        pass
    assert s.cmd(f"AUTH PLAIN {bad}").startswith(b"535 5.7.8 ")
    assert s.cmd(f"AUTH PLAIN {bad}").startswith(b"535 5.7.8 ")
    last = s.line()
    assert last.startswith(b"421 4.7.0 ") and b"Too many failed authentications" in last
    assert s.at_eof()
    s.close()
    assert log_has(server, "2 failed AUTH attempts, closing connection")
    # below the limit the session goes on and AUTH still works
    set_service(cli, "smtp", maxAuthErrors=5)
    with smtplib.SMTP_SSL("127.0.0.1", server.smtps_port, context=tls_context(), timeout=10) as sm:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            sm.login(user, "nope")
        sm.login(user, mdom.pw("alice"))


def test_smtp_max_received_headers(server, cli, mdom, reset_services):
    set_service(cli, "smtp", maxReceivedHeaders=3)
    rcpt = mdom.addr("bob")

    def message(hops):
        head = "".join(f"Received: from hop{i}.test by hop{i + 1}.test; Mon, 1 Jan 2024 00:00:0{i} +0000\r\n"
                       for i in range(hops))
        return (head + f"From: a@x.test\r\nTo: {rcpt}\r\nSubject: hops {hops}\r\n\r\n"
                "Received: in the body does not count\r\nReceived: nor this\r\n")

    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as sm:
        sm.ehlo("client.test")
        # 2 + ours = 3: accepted (body lines are not headers)
        sm.sendmail("a@x.test", [rcpt], message(2))
        # 3 + ours = 4: refused, nothing stored
        with pytest.raises(smtplib.SMTPDataError) as ei:
            sm.sendmail("a@x.test", [rcpt], "received: from lower.test; x\r\n" + message(2))
        assert ei.value.smtp_code == 554 and b"5.4.6" in ei.value.smtp_error
    assert log_has(server, "refused: 4 Received: headers")
    deadline = time.time() + 10
    while time.time() < deadline:
        files = [f for sub in ("new", "cur") for f in (mdom.md("bob") / sub).glob("*")] \
            if (mdom.md("bob") / "new").exists() else []
        if files:
            break
        time.sleep(0.2)
    assert len(files) == 1
    assert b"Subject: hops 2" in files[0].read_bytes()
    time.sleep(0.5)
    assert len([f for sub in ("new", "cur") for f in (mdom.md("bob") / sub).glob("*")]) == 1


# ---------------------------------------------------------------- allow-rule limits

def test_allow_rule_limits_pop3(server, cli, c, reset_limits):
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    cli.ok("CONFIG AccessControl", "server-pop3-access-control")
    cli.ok("ADD AllowRule 127.0.0.0/8", "server-pop3-access-control-allowrule")
    cli.ok("SET priority 20")
    cli.ok("DONE")
    cli.ok("ADD AllowRule ::1", "server-pop3-access-control-allowrule")
    assert show_attrs(cli.cmd("SHOW")) == {"ipSet": '"::1/128"', "enable": "yes", "priority": "100", **LIMITS}
    cli.err("SET maxConnections -5", None, "server-pop3-access-control-allowrule")
    cli.err("SET peerTimeInterval 0", None, "server-pop3-access-control-allowrule")
    cli.ok("SET maxConnections 1")
    cli.ok("SET priority 10")
    cli.ok("DONE", "server-pop3-access-control")
    assert table_rows(cli.cmd("LIST AllowRules")) == ["127.0.0.0/8 | yes | 20 | - | -", "::1/128 | yes | 10 | 1 | -"]
    cli.ok("DONE", "server-pop3")
    cli.ok("COMMIT", "server")
    assert server_tab(c)["Pop3AccRuleLimits"] == "::1/128 1 60 0 0 60 0,127.0.0.0/8 0 60 0 0 60 0"
    # the rule's limit: one connection from ::1 ...
    first, g1 = greeting(server.pop3_port, socket.AF_INET6, "::1")
    second, g2 = greeting(server.pop3_port, socket.AF_INET6, "::1")
    assert g1.startswith(b"+OK ")
    assert g2 == b"-ERR Too many connections from your network, closing connection\r\n"
    assert closed(second)
    second.close()
    # ... while 127.0.0.1 (the other rule, no limits) is not held back
    others = [greeting(server.pop3_port) for _ in range(3)]
    assert all(g.startswith(b"+OK ") for _, g in others)
    for s, _ in others:
        s.close()
    first.close()
    time.sleep(0.3)
    again, g3 = greeting(server.pop3_port, socket.AF_INET6, "::1")
    again.close()
    assert g3.startswith(b"+OK ")
    # stored and shown back; UPDATE keeps the limits
    cli.ok("CONFIG POP3")
    cli.ok("CONFIG AccessControl")
    r = cli.cmd("SHOW AllowRule ::1")
    assert "maxConnections = 1" in r.pieces and "priority = 10" in r.pieces
    cli.ok("UPDATE AllowRule ::1")
    assert show_attrs(cli.cmd("SHOW"))["maxConnections"] == "1"
    cli.ok("SET peerMaxIntervalConnections 7")
    cli.ok("DONE")
    cli.ok("DONE")
    cli.ok("COMMIT")
    assert server_tab(c)["Pop3AccRuleLimits"] == "::1/128 1 60 0 0 60 7,127.0.0.0/8 0 60 0 0 60 0"
    # rules removed: the limits go with them
    cli.ok("CONFIG POP3")
    cli.ok("CONFIG AccessControl")
    cli.ok("REMOVE AllowRule ::1")
    cli.ok("REMOVE AllowRule 127.0.0.0/8")
    cli.ok("DONE")
    cli.ok("COMMIT")
    assert server_tab(c).get("Pop3AccRuleLimits", "") == ""
    cli.ok("BACK", "")


def test_allow_rule_peer_limit_smtp(server, cli, c, reset_limits):
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("CONFIG AccessControl")
    cli.ok("ADD AllowRule ::1", "server-smtpIncoming-access-control-allowrule")
    cli.ok("SET peerMaxConnections 1")
    cli.ok("DONE")
    cli.ok("DONE")
    cli.ok("COMMIT", "server")
    assert "::1/128 0 60 0 1 60 0" in server_tab(c)["SmtpAccRuleLimits"]
    a, ga = greeting(server.smtp_port, socket.AF_INET6, "::1")
    b, gb = greeting(server.smtp_port, socket.AF_INET6, "::1")
    x, gx = greeting(server.smtp_port)             # 127.0.0.1: not the rule's
    for s in (a, b, x):
        s.close()
    assert ga.startswith(b"220 ") and gx.startswith(b"220 ")
    assert gb.startswith(b"421 4.7.0 ") and b"Too many connections from your address" in gb
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("CONFIG AccessControl")
    cli.ok("REMOVE AllowRule ::1")
    cli.ok("DONE")
    cli.ok("COMMIT")
    assert server_tab(c).get("SmtpAccRuleLimits", "") == ""
    cli.ok("BACK", "")
