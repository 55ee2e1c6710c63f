"""Admin CLI: a listener's own access control (deny and allow rules, enable,
the six connection limits) - edited in <server-<svc>-listener#>, stored at
the listener's COMMIT, enforced by the daemon on the connections that
listener accepts (and on no other listener), kept across a restart, moved
by SET address, removed with the listener.

Test servers run in development mode: they bind 127.0.0.1 and ::1 on the
development ports + offset whatever the *Listen settings say, and a
listener's access control is keyed by the address a socket is bound to.
So each test first adds the live address (e.g. 127.0.0.1:<srv.cli_port>)
to the service's listeners: UPDATE Listener then targets a live listener.
"""

import json
import poplib
import smtplib
import socket
import subprocess
import time

import pytest

from cliclient import CliClient, show_attrs, table_rows
from conftest import REPO
from ctrlclient import check

COMMITTED = "committing changes and switching back to previous context"
ACCESS_DENIED_CLI = b"-ERR: Access denied for your address, closing connection\r\n"


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


def first_line(host, port, timeout=10):
    """The first line a raw connection gets, and whether the server closed it afterwards."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.settimeout(5)
        try:
            rest = s.recv(4096)
        except socket.timeout:
            rest = None                      # still open
        return data, rest == b""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_live_listener(cli, service, addr):
    """Make addr (a live development listener) one of the service's configured listeners."""
    cli.ok("CONFIG SERVER")
    cli.ok(f"CONFIG {service}")
    rows = table_rows(cli.cmd("LIST Listeners"))
    if not any(r.startswith(addr + " |") for r in rows):
        cli.ok(f"ADD Listener {addr}")
        cli.ok("COMMIT")


def test_listener_deny_rule_refuses_on_that_listener_only(fresh_server):
    srv = fresh_server
    v4 = f"127.0.0.1:{srv.cli_port}"
    cli = srv.cli(family=6)                 # the admin works over ::1: another listener
    add_live_listener(cli, "CLI", v4)
    r = cli.cmd(f"UPDATE Listener {v4}")
    assert r.raw == b"+OK: command successful\r\n<server-cli-listener#> "
    attrs = show_attrs(cli.cmd("SHOW"))
    assert attrs["enable"] == "yes" and attrs["maxConnections"] == "0" and attrs["timeInterval"] == "60"
    assert table_rows(cli.cmd("LIST DenyRules")) == []
    cli.ok("ADD DenyRule 127.0.0.1 priority 10", "server-cli-listener")
    assert table_rows(cli.cmd("LIST DenyRules")) == ["127.0.0.1/32 | yes | 10"]
    r = cli.cmd("SHOW DenyRule 127.0.0.1")
    assert b"ipSet = \"127.0.0.1/32\"\r\nenable = yes\r\npriority = 10\r\n" in r.raw
    # pending only: 127.0.0.1 still gets in
    srv.cli().close()
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<server-cli#> ".encode()
    assert log_has(srv, "COMMIT", f"cli listener {v4} changed (plain)", "access: 0 allow/1 deny rule(s)")
    # refused on that listener, like the service-level rules refuse
    with CliClient("127.0.0.1", srv.cli_port) as refused:
        assert refused.banner.raw == ACCESS_DENIED_CLI
    assert log_has(srv, "peer=127.0.0.1 refused by the CLI access rules")
    # the same peer on another listener of the same service: the TLS one
    srv.cli(tls=True).close()
    # ::1 on the same port is another listener too
    srv.cli(family=6).close()
    # a disabled rule is kept and listed, but skipped
    cli.ok(f"UPDATE Listener {v4}")
    cli.ok("UPDATE DenyRule 127.0.0.1 enable no")
    assert table_rows(cli.cmd("LIST DenyRules")) == ["127.0.0.1/32 | no | 10"]    # priority kept
    cli.ok("COMMIT", "server-cli")
    srv.cli().close()
    cli.ok(f"UPDATE Listener {v4}")
    assert table_rows(cli.cmd("LIST DenyRules")) == ["127.0.0.1/32 | no | 10"]
    # an allow rule with a lower priority number wins over a deny rule
    cli.ok("UPDATE DenyRule 127.0.0.1 enable yes priority 20")
    r = cli.cmd("ADD AllowRule 127.0.0.0/8")
    assert r.raw == b"+OK: command successful\r\n<server-cli-listener-allowrule#> "
    rule = show_attrs(cli.cmd("SHOW"))
    assert rule["enable"] == "yes"
    cli.ok("SET priority 5")
    cli.ok("DONE", "server-cli-listener")
    assert table_rows(cli.cmd("LIST AllowRules")) == ["127.0.0.0/8 | yes | 5 | - | -"]
    cli.ok("COMMIT", "server-cli")
    srv.cli().close()                       # allowed by the listener's allow rule
    # the allow rule disabled: skipped, the deny rule decides again
    cli.ok(f"UPDATE Listener {v4}")
    r = cli.cmd("UPDATE AllowRule 127.0.0.0/8")
    assert r.raw == b"+OK: command successful\r\n<server-cli-listener-allowrule#> "
    cli.ok("SET enable no")
    cli.ok("DONE")
    assert table_rows(cli.cmd("LIST AllowRules")) == ["127.0.0.0/8 | no | 5 | - | -"]
    cli.ok("COMMIT")
    with CliClient("127.0.0.1", srv.cli_port) as refused:
        assert refused.banner.raw == ACCESS_DENIED_CLI
    # the listener's rules survive a restart
    cli.close()
    srv.restart()
    with CliClient("127.0.0.1", srv.cli_port) as refused:
        assert refused.banner.raw == ACCESS_DENIED_CLI
    cli = srv.cli(family=6)
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG CLI")
    cli.ok(f"UPDATE Listener {v4}")
    assert table_rows(cli.cmd("LIST DenyRules")) == ["127.0.0.1/32 | yes | 20"]
    assert table_rows(cli.cmd("LIST AllowRules")) == ["127.0.0.0/8 | no | 5 | - | -"]
    cli.ok("REMOVE DenyRule 127.0.0.1")
    cli.ok("REMOVE AllowRule 127.0.0.0/8")
    cli.ok("COMMIT")
    srv.cli().close()
    cli.close()


def test_listener_limits_refuse_the_extra_connection(fresh_server):
    srv = fresh_server
    pop_addr = f"127.0.0.1:{srv.pop3_port}"
    smtp_addr = f"127.0.0.1:{srv.smtp_port}"
    cli = srv.cli()
    add_live_listener(cli, "POP3", pop_addr)
    cli.ok(f"UPDATE Listener {pop_addr}")
    cli.err("SET maxConnections -1", None, "server-pop3-listener")
    cli.ok("SET maxConnections 1")
    assert show_attrs(cli.cmd("SHOW"))["maxConnections"] == "1"
    cli.ok("COMMIT", "server-pop3")
    assert log_has(srv, "COMMIT", f"pop3 listener {pop_addr} changed", "limits 1 60 0 0 60 0")
    first = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    try:
        line, closed = first_line("127.0.0.1", srv.pop3_port)
        assert line == b"-ERR Too many connections to this service, closing connection\r\n"
        assert closed
        # another listener of POP3 (::1, same port) is not counted
        p6 = poplib.POP3("::1", srv.pop3_port, timeout=10)
        p6.quit()
    finally:
        first.quit()
    time.sleep(0.3)
    poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10).quit()     # room again
    cli.ok(f"UPDATE Listener {pop_addr}")
    cli.ok("SET maxConnections 0")
    cli.ok("COMMIT")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")
    # SMTP: one connection per client IP on this listener: the second gets 421
    add_live_listener(cli, "SMTP-INCOMING", smtp_addr)
    cli.ok(f"UPDATE Listener {smtp_addr}", "server-smtpIncoming-listener")
    cli.ok("SET peerMaxConnections 1")
    cli.ok("COMMIT")
    s1 = smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10)
    try:
        line, closed = first_line("127.0.0.1", srv.smtp_port)
        assert line.startswith(b"421 4.7.0 ") and b"Too many connections from your address" in line
        assert closed
    finally:
        s1.quit()
    time.sleep(0.3)
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s2:
        assert s2.ehlo()[0] == 250
    cli.ok(f"UPDATE Listener {smtp_addr}")
    cli.ok("SET peerMaxConnections 0")
    cli.ok("COMMIT")
    cli.close()


def test_listener_disabled_is_closed_and_not_opened_after_restart(fresh_server):
    srv = fresh_server
    addr = f"127.0.0.1:{srv.pop3_port}"
    cli = srv.cli()
    add_live_listener(cli, "POP3", addr)
    established = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    cli.ok(f"UPDATE Listener {addr}")
    cli.err("SET enable maybe", None, "server-pop3-listener")
    cli.ok("SET enable no")
    cli.ok("COMMIT", "server-pop3")
    assert log_has(srv, "COMMIT", f"pop3 listener {addr} changed (plain) disabled", "listening sockets updated")
    assert f"{addr} | no | no" in table_rows(cli.cmd("LIST Listeners"))
    with pytest.raises(ConnectionRefusedError):                     # closed at once
        socket.create_connection(("127.0.0.1", srv.pop3_port), timeout=5)
    assert "USER" in established.capa()                             # the session on it goes on
    established.quit()
    cli.close()
    srv.restart()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", srv.pop3_port), timeout=5)
    poplib.POP3("::1", srv.pop3_port, timeout=10).quit()            # the other listener is open
    assert log_has(srv, f"not listening on {addr} for pop3: the listener is disabled")
    cli = srv.cli()
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    assert show_attrs(cli.cmd(f"SHOW Listener {addr}"))["enable"] == "no"
    cli.ok(f"UPDATE Listener {addr}")
    cli.ok("SET enable yes")
    cli.ok("COMMIT")
    poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10).quit()    # open again at once
    cli.close()
    srv.restart()
    poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10).quit()


def test_listener_rules_follow_set_address_and_go_with_remove(server, c):
    srv = server
    cli = srv.cli()
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG SMTP-INCOMING")
    pa, pb = free_port(), free_port()
    a, b = f"127.0.0.1:{pa}", f"127.0.0.1:{pb}"     # bound at COMMIT (test_cli_listener_live.py)
    cli.ok(f"ADD Listener {a}", "server-smtpIncoming-listener")
    cli.ok("ADD DenyRule 10.1.0.0/16 priority 7")
    cli.ok("ADD AllowRule 10.2.0.0/16", "server-smtpIncoming-listener-allowrule")
    cli.ok("SET maxConnections 3 peerMaxConnections 2")
    cli.ok("DONE")
    cli.ok("SET maxIntervalConnections 9")
    cli.ok("COMMIT", "server-smtpIncoming")
    cli.ok(f"UPDATE Listener {a}")
    assert table_rows(cli.cmd("LIST AllowRules")) == ["10.2.0.0/16 | yes | 100 | 3 | 2"]
    assert show_attrs(cli.cmd("SHOW"))["maxIntervalConnections"] == "9"
    cli.ok(f"SET address {b}")
    cli.ok("COMMIT")
    cli.err(f"UPDATE Listener {a}", f"Listener {a} not found", "server-smtpIncoming")
    cli.ok(f"UPDATE Listener {b}")
    assert table_rows(cli.cmd("LIST DenyRules")) == ["10.1.0.0/16 | yes | 7"]
    assert table_rows(cli.cmd("LIST AllowRules")) == ["10.2.0.0/16 | yes | 100 | 3 | 2"]
    assert show_attrs(cli.cmd("SHOW"))["maxIntervalConnections"] == "9"
    cli.ok("BACK", "server-smtpIncoming")
    # the listener's settings are in server.tab under its new address, and the file goes back unchanged
    tab = c.listing("cfgfileget", "server.tab")
    assert f'"Listener.smtp.127.0.0.1.{pb}"\t"1 0 60 9 0 60 0"' in tab
    assert f'"ListenerRuleLimits.smtp.127.0.0.1.{pb}"\t"10.2.0.0/16 3 60 0 2 60 0"' in tab
    assert not any(f"127.0.0.1.{pa}" in line for line in tab)
    check(c.upload(("cfgfileset", "server.tab"), tab), 0)
    # the old address starts empty when added again
    cli.ok(f"ADD Listener {a}")
    cli.ok("COMMIT")
    cli.ok(f"UPDATE Listener {a}")
    assert table_rows(cli.cmd("LIST DenyRules")) == []
    cli.ok("BACK")
    # removal (at the service's COMMIT) takes the access control along
    cli.ok(f"REMOVE Listener {b}")
    cli.ok(f"REMOVE Listener {a}")
    cli.ok("COMMIT", "server")
    assert log_has(srv, "COMMIT", f"listener {b} removed with its access control")
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok(f"ADD Listener {b}")
    assert table_rows(cli.cmd("LIST DenyRules")) == []
    assert table_rows(cli.cmd("LIST AllowRules")) == []
    assert show_attrs(cli.cmd("SHOW"))["maxIntervalConnections"] == "0"
    cli.ok("BACK")
    cli.close()


def test_listener_bad_input_changes_nothing(server):
    srv = server
    addr = f"127.0.0.1:{srv.pop3_port}"
    cli = srv.cli()
    add_live_listener(cli, "POP3", addr)
    cli.ok(f"UPDATE Listener {addr}")
    cli.ok("ADD DenyRule 10.5.0.0/16 priority 3")
    cli.ok("COMMIT")
    cli.ok(f"UPDATE Listener {addr}")
    ctx = "server-pop3-listener"
    cli.err("ADD DenyRule 300.1.1.1", "Invalid value for ipSet (addr or addr/len)", ctx)
    cli.err("ADD DenyRule 10.0.0.0/40", "Invalid value for ipSet (addr or addr/len)", ctx)
    cli.err("ADD DenyRule 10.6.0.1 enable maybe", "Invalid value for enable (yes or no)", ctx)
    cli.err("ADD DenyRule 10.6.0.1 priority -4", "Invalid value for priority (a number from 0 to 100000)", ctx)
    cli.err("ADD DenyRule 10.5.0.0/16", "DenyRule 10.5.0.0/16 already exists", ctx)
    cli.err("ADD DenyRule", None, ctx)                               # wrong argument count
    cli.err("ADD DenyRule 10.6.0.1 priority 5 extra", None, ctx)
    cli.err("UPDATE DenyRule 10.9.9.9 priority 1", "DenyRule 10.9.9.9/32 not found", ctx)
    cli.err("REMOVE DenyRule 10.9.9.9", "DenyRule 10.9.9.9/32 not found", ctx)
    cli.err("SHOW DenyRule 10.9.9.9", "DenyRule 10.9.9.9/32 not found", ctx)
    cli.err("UPDATE AllowRule 10.9.9.9", "AllowRule 10.9.9.9/32 not found", ctx)
    cli.err("REMOVE AllowRule 10.9.9.9", "AllowRule 10.9.9.9/32 not found", ctx)
    cli.err("ADD AllowRule not-an-ip", "Invalid value for ipSet (addr or addr/len)", ctx)
    cli.err("SET maxConnections lots", None, ctx)
    cli.err("SET timeInterval 0", None, ctx)
    cli.ok("ADD AllowRule 10.7.0.0/16", "server-pop3-listener-allowrule")
    cli.err("SET enable perhaps", None, "server-pop3-listener-allowrule")
    cli.ok("SET ipSet 1.2.3")                                      # checked when handed up
    cli.err("DONE", "Invalid value for ipSet (addr or addr/len)", "server-pop3-listener-allowrule")
    cli.ok("SET ipSet 10.5.0.0/16")
    cli.ok("BACK", ctx)                                           # dropped
    assert table_rows(cli.cmd("LIST DenyRules")) == ["10.5.0.0/16 | yes | 3"]
    assert table_rows(cli.cmd("LIST AllowRules")) == []
    cli.ok("COMMIT", "server-pop3")
    cli.ok(f"UPDATE Listener {addr}")
    assert table_rows(cli.cmd("LIST DenyRules")) == ["10.5.0.0/16 | yes | 3"]
    assert table_rows(cli.cmd("LIST AllowRules")) == []
    assert show_attrs(cli.cmd("SHOW"))["maxConnections"] == "0"
    cli.ok("REMOVE DenyRule 10.5.0.0/16")
    cli.ok("COMMIT")
    cli.close()


def test_service_allow_rule_disabled_is_skipped(fresh_server):
    srv = fresh_server
    cli = srv.cli(family=6)
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    cli.ok("CONFIG AccessControl", "server-pop3-access-control")
    cli.ok("ADD DenyRule 127.0.0.1 priority 20")
    cli.ok("ADD AllowRule 127.0.0.0/8")
    cli.ok("SET priority 5")
    cli.ok("DONE")
    cli.ok("DONE", "server-pop3")
    cli.ok("COMMIT", "server")
    poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10).quit()    # the allow rule comes first
    cli.ok("CONFIG POP3")
    cli.ok("CONFIG AccessControl")
    cli.ok("UPDATE AllowRule 127.0.0.0/8")
    cli.ok("SET enable no")
    cli.ok("DONE")
    assert table_rows(cli.cmd("LIST AllowRules")) == ["127.0.0.0/8 | no | 5 | - | -"]
    cli.ok("DONE")
    cli.ok("COMMIT", "server")
    line, closed = first_line("127.0.0.1", srv.pop3_port)
    assert line == b"-ERR Access denied for your address, closing connection\r\n" and closed
    # kept across a restart, still disabled
    cli.close()
    srv.restart()
    line, _ = first_line("127.0.0.1", srv.pop3_port)
    assert line.startswith(b"-ERR Access denied")
    cli = srv.cli(family=6)
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    cli.ok("CONFIG AccessControl")
    assert table_rows(cli.cmd("LIST AllowRules")) == ["127.0.0.0/8 | no | 5 | - | -"]
    r = cli.cmd("SHOW AllowRule 127.0.0.0/8")
    assert b"enable = no\r\npriority = 5\r\n" in r.raw
    cli.ok("REMOVE DenyRule 127.0.0.1")
    cli.ok("REMOVE AllowRule 127.0.0.0/8")
    cli.ok("DONE")
    cli.ok("COMMIT")
    poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10).quit()
    cli.close()


def test_listener_rows_are_in_the_reference():
    out = subprocess.run([str(REPO / "build" / "tern"), "reference", "--json"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    ctxs = {c["prompt"]: c for c in json.loads(out)["contexts"]}
    for svc in ("cli", "smtpIncoming", "pop3"):
        lst = ctxs[f"<server-{svc}-listener#>"]
        words = {x["words"] for x in lst["commands"]}
        assert {"LIST AllowRules", "LIST DenyRules", "ADD DenyRule", "UPDATE DenyRule", "REMOVE DenyRule",
                "SHOW DenyRule", "ADD AllowRule", "UPDATE AllowRule", "REMOVE AllowRule",
                "SHOW AllowRule"} <= words
        names = {a["name"] for a in lst["attributes"]}
        assert {"enable", "maxConnections", "timeInterval", "maxIntervalConnections", "peerMaxConnections",
                "peerTimeInterval", "peerMaxIntervalConnections"} <= names
        add = [x for x in lst["commands"] if x["words"] == "ADD AllowRule"][0]
        assert add["enters"] == f"<server-{svc}-listener-allowrule#>"
        rule = ctxs[f"<server-{svc}-listener-allowrule#>"]
        assert {a["name"] for a in rule["attributes"]} >= {"ipSet", "enable", "priority", "maxConnections"}


def test_smtp_relay_allow_rule_disabled_leaves_the_relay_networks(server, c):
    def relay_nets():
        for line in c.listing("cfgfileget", "server.tab"):
            name, value = [f.strip('"') for f in line.split("\t")]
            if name == "SmtpRelayNetworks":
                return value.split(",")
        return []

    cli = server.cli()
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("CONFIG AccessControl")
    cli.ok("ADD AllowRule 10.78.0.0/16")
    cli.ok("SET enable no")
    cli.ok("DONE")
    cli.ok("DONE")
    cli.ok("COMMIT", "server")
    assert "10.78.0.0/16" not in relay_nets()                  # disabled: no relaying for it
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("CONFIG AccessControl")
    assert "10.78.0.0/16 | no | 100 | - | -" in table_rows(cli.cmd("LIST AllowRules"))
    cli.ok("UPDATE AllowRule 10.78.0.0/16")
    assert show_attrs(cli.cmd("SHOW"))["enable"] == "no"
    cli.ok("SET enable yes")
    cli.ok("DONE")
    cli.ok("DONE")
    cli.ok("COMMIT", "server")
    assert "10.78.0.0/16" in relay_nets()
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("CONFIG AccessControl")
    cli.ok("REMOVE AllowRule 10.78.0.0/16")
    cli.ok("DONE")
    cli.ok("COMMIT", "server")
    assert "10.78.0.0/16" not in relay_nets()
    cli.close()


def test_last_enabled_cli_listener_cannot_be_disabled(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG CLI")
    rows = table_rows(cli.cmd("LIST Listeners"))
    addrs = [r.split(" | ")[0] for r in rows]
    assert len(addrs) >= 2
    for a in addrs[1:]:
        cli.ok(f"REMOVE Listener {a}")
    cli.ok("COMMIT", "server")
    cli.ok("CONFIG CLI")
    assert [r.split(" | ")[0] for r in table_rows(cli.cmd("LIST Listeners"))] == addrs[:1]
    cli.ok(f"UPDATE Listener {addrs[0]}")
    cli.ok("SET enable no")
    cli.err("COMMIT", "The last enabled CLI listener cannot be disabled: nobody could connect to the CLI any more",
            "server-cli-listener")
    cli.ok("BACK", "server-cli")
    assert table_rows(cli.cmd("LIST Listeners")) == [f"{addrs[0]} | yes | {rows[0].split(' | ')[2]}"]
    cli.close()


def test_snapshot_restores_listener_rules_and_disabled_state(fresh_server):
    """SAVE CONFIG keeps the listeners' own rules (disabled ones stay disabled);
    RESTORE brings them back and the daemon enforces them again."""
    srv = fresh_server
    v4 = f"127.0.0.1:{srv.cli_port}"
    cli = srv.cli(family=6)
    add_live_listener(cli, "CLI", v4)
    cli.ok(f"UPDATE Listener {v4}", "server-cli-listener")
    cli.ok("ADD DenyRule 127.0.0.1 priority 10", "server-cli-listener")
    cli.ok("ADD DenyRule 10.9.0.0/16 enable no priority 20", "server-cli-listener")
    cli.ok("COMMIT")
    assert first_line("127.0.0.1", srv.cli_port)[0] == ACCESS_DENIED_CLI
    cli.back_to_root()
    cli.ok("SAVE CONFIG listener-rules", "")
    rows = table_rows(cli.cmd("LIST ConfigSnapshots"))
    name = next(row.split(" | ")[0] for row in rows if "listener-rules" in row)
    # both rules removed: 127.0.0.1 gets in again
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG CLI")
    cli.ok(f"UPDATE Listener {v4}", "server-cli-listener")
    cli.ok("REMOVE DenyRule 127.0.0.1")
    cli.ok("REMOVE DenyRule 10.9.0.0/16")
    cli.ok("COMMIT")
    srv.cli().close()
    cli.back_to_root()
    cli.ok(f"RESTORE ConfigSnapshot {name}", "")
    assert first_line("127.0.0.1", srv.cli_port)[0] == ACCESS_DENIED_CLI
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG CLI")
    cli.ok(f"UPDATE Listener {v4}", "server-cli-listener")
    assert sorted(table_rows(cli.cmd("LIST DenyRules"))) == ["10.9.0.0/16 | no | 20", "127.0.0.1/32 | yes | 10"]
    cli.close()
