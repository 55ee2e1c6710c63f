"""Admin CLI, server side: the connection limits of a service's access
control (maxConnections, timeInterval, maxIntervalConnections and the peer*
ones) for the CLI, SMTP-Incoming and POP3, and POP3's access rules - each
set through the CLI, seen in the controller's server.tab, and enforced by
the daemon when a connection arrives (real sockets)."""

import socket
import time

import pytest

from cliclient import CliClient, show_attrs, table_rows

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
