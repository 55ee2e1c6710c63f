"""Admin CLI: SMTP-Incoming deny rules (access map smtp, refused with 554 at
the greeting), an allow rule's SET ipSet, a nameserver's SET priority - each
checked in the daemon's behaviour, the controller's view and after a restart."""

import smtplib
import socket

from cliclient import show_attrs, table_rows


def smtp_banner(host, port, wait_close=True):
    """The first reply line of a raw connection, and what followed it (b"": the server closed it)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect((host, port))
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if not wait_close:
            return data, None
        s.settimeout(5)
        rest = s.recv(4096)   # b"" when the server closed the connection
        return data, rest


def enter_smtp_access(cli):
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("CONFIG AccessControl", "server-smtpIncoming-access-control")


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


def test_smtp_deny_rule_refuses_peer_with_554(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    enter_smtp_access(cli)
    cli.ok("ADD DenyRule 127.0.0.1 priority 10")
    cli.err("ADD DenyRule 127.0.0.1", "DenyRule 127.0.0.1/32 already exists")
    cli.err("ADD DenyRule 10.0.0.1 enable no", "Invalid value for enable (rules are always enabled; only yes)")
    cli.err("ADD DenyRule 10.0.0.1 priority x", "Invalid value for priority (a number from 0 to 100000)")
    cli.err("ADD DenyRule 300.0.0.1", "Invalid value for ipSet (addr or addr/len)")
    assert table_rows(cli.cmd("LIST DenyRules")) == ["127.0.0.1/32 | yes | 10"]
    cli.ok("DONE", "server-smtpIncoming")
    # pending only: 127.0.0.1 still gets the greeting
    banner, _ = smtp_banner("127.0.0.1", srv.smtp_port, wait_close=False)
    assert banner.startswith(b"220 ")
    cli.ok("COMMIT", "server")
    cli.ok("BACK", "")
    banner, rest = smtp_banner("127.0.0.1", srv.smtp_port)
    assert banner.startswith(b"554 5.7.1 ") and b"Access denied" in banner
    assert rest == b""                          # closed after the 554
    with smtplib.SMTP("::1", srv.smtp_port, timeout=10) as s:   # ::1 is not covered
        assert s.ehlo()[0] == 250
    assert log_has(srv, "refused by the SMTP access rules")
    assert log_has(srv, "access map smtp: 1 rule(s)")

    # SHOW / UPDATE, and the relay networks (allow rules) are untouched by deny rules
    enter_smtp_access(cli)
    attrs = show_attrs(cli.cmd("SHOW DenyRule 127.0.0.1"))
    assert attrs == {"ipSet": '"127.0.0.1/32"', "enable": "yes", "priority": "10"}
    cli.ok("UPDATE DenyRule 127.0.0.1/32 priority 20")
    cli.err("UPDATE DenyRule 10.9.9.9", "DenyRule 10.9.9.9/32 not found")
    cli.ok("ADD DenyRule ::2 priority 5")
    assert sorted(table_rows(cli.cmd("LIST DenyRules"))) == ["127.0.0.1/32 | yes | 20", "::2/128 | yes | 5"]
    allow_before = table_rows(cli.cmd("LIST AllowRules"))
    cli.ok("DONE")
    cli.ok("COMMIT", "server")
    cli.ok("BACK", "")
    cli.close()

    # survives a restart
    srv.restart()
    banner, rest = smtp_banner("127.0.0.1", srv.smtp_port)
    assert banner.startswith(b"554 5.7.1 ") and rest == b""
    cli = srv.cli()
    enter_smtp_access(cli)
    assert sorted(table_rows(cli.cmd("LIST DenyRules"))) == ["127.0.0.1/32 | yes | 20", "::2/128 | yes | 5"]
    assert table_rows(cli.cmd("LIST AllowRules")) == allow_before
    assert show_attrs(cli.cmd("SHOW DenyRule 127.0.0.1"))["priority"] == "20"
    cli.ok("REMOVE DenyRule 127.0.0.1")
    cli.err("SHOW DenyRule 127.0.0.1", "DenyRule 127.0.0.1/32 not found")
    cli.ok("DONE")
    cli.ok("COMMIT", "server")
    cli.ok("BACK", "")
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
        assert s.ehlo()[0] == 250
    enter_smtp_access(cli)
    assert table_rows(cli.cmd("LIST DenyRules")) == ["::2/128 | yes | 5"]
    cli.ok("REMOVE DenyRule ::2")
    cli.ok("DONE")
    cli.ok("COMMIT", "server")
    cli.ok("BACK", "")
    cli.close()
