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
    cli.err("ADD DenyRule 10.0.0.1 enable maybe", "Invalid value for enable (yes or no)")
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


def pop3_greeting(srv, family):
    host = "::1" if family == 6 else "127.0.0.1"
    fam = socket.AF_INET6 if family == 6 else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect((host, srv.pop3_port))
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


def test_allow_rule_set_ipset_replaces_the_rule(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    cli.ok("CONFIG AccessControl", "server-pop3-access-control")
    cli.ok("ADD DenyRule ::1 priority 50")
    cli.ok("ADD AllowRule 10.1.1.1", "server-pop3-access-control-allowrule")
    cli.ok("SET priority 5")
    cli.ok("SET maxConnections 7")
    cli.ok("DONE")
    cli.ok("DONE")
    cli.ok("COMMIT", "server")
    assert pop3_greeting(srv, 6).startswith(b"-ERR Access denied")
    assert pop3_greeting(srv, 4).startswith(b"+OK")
    cli.ok("CONFIG POP3")
    cli.ok("CONFIG AccessControl")
    cli.ok("UPDATE AllowRule 10.1.1.1", "server-pop3-access-control-allowrule")
    assert show_attrs(cli.cmd("SHOW"))["ipSet"] == '"10.1.1.1/32"'
    cli.ok("SET ipSet 0:0::1")
    assert show_attrs(cli.cmd("SHOW"))["ipSet"] == '"0:0::1"'
    cli.ok("DONE")
    # pending: the rule under its new name only
    assert table_rows(cli.cmd("LIST AllowRules")) == ["::1/128 | yes | 5 | 7 | -"]
    cli.err("SHOW AllowRule 10.1.1.1", "AllowRule 10.1.1.1/32 not found")
    # a rename onto an existing rule, and a bad address, are refused (the rule stays open)
    cli.ok("ADD AllowRule 10.2.0.0/16")
    cli.ok("DONE")
    cli.ok("UPDATE AllowRule 10.2.0.0/16")
    cli.ok("SET ipSet ::1")
    cli.err("DONE", "AllowRule ::1/128 already exists", "server-pop3-access-control-allowrule")
    cli.ok("SET ipSet 10.2.0.0/99")
    cli.err("DONE", "Invalid value for ipSet (addr or addr/len)", "server-pop3-access-control-allowrule")
    cli.ok("BACK", "server-pop3-access-control")
    assert pop3_greeting(srv, 6).startswith(b"-ERR Access denied")   # nothing applied yet
    cli.ok("DONE")
    cli.ok("COMMIT", "server")
    assert pop3_greeting(srv, 6).startswith(b"+OK")     # the allow rule now covers ::1
    cli.ok("BACK", "")
    cli.close()
    srv.restart()
    assert pop3_greeting(srv, 6).startswith(b"+OK")
    cli = srv.cli()
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    cli.ok("CONFIG AccessControl")
    assert sorted(table_rows(cli.cmd("LIST AllowRules"))) == ["10.2.0.0/16 | yes | 100 | - | -",
                                                              "::1/128 | yes | 5 | 7 | -"]
    assert show_attrs(cli.cmd("SHOW AllowRule ::1"))["maxConnections"] == "7"
    cli.close()


def server_tab(c):
    out = {}
    for line in c.listing("cfgfileget", "server.tab"):
        name, value = [f.strip('"') for f in line.split("\t")]
        out[name] = value
    return out


def test_nameserver_set_priority_moves_the_entry(server, cli, c):
    old = server_tab(c).get("DnsServers", "")
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG DNR")
    cli.ok("REMOVE All")
    for i, addr in enumerate(["127.0.0.1:5301", "127.0.0.2", "::1"], 1):
        cli.ok(f"ADD Nameserver {i}", "server-dnr-nameserver")
        cli.ok(f"SET address {addr}")
        cli.ok("DONE", "server-dnr")
    cli.ok("UPDATE Nameserver 3", "server-dnr-nameserver")
    assert show_attrs(cli.cmd("SHOW"))["priority"] == "3"
    cli.ok("SET priority 1")
    cli.ok("DONE", "server-dnr")
    assert table_rows(cli.cmd("LIST Nameservers")) == ["1 | ::1 | - | -", "2 | 127.0.0.1:5301 | - | -",
                                                      "3 | 127.0.0.2 | - | -"]
    cli.ok("UPDATE Nameserver 1")
    cli.ok("SET priority 4")
    cli.err("DONE", "Invalid value for priority (a number from 1 to 3)", "server-dnr-nameserver")
    cli.err("SET priority 40", None, "server-dnr-nameserver")
    cli.ok("SET priority 2")
    cli.ok("SET address ::2")                # moved and changed at once
    cli.ok("DONE", "server-dnr")
    # a new entry placed by its priority
    cli.ok("ADD Nameserver 4")
    cli.ok("SET address 127.0.0.4")
    cli.ok("SET priority 1")
    cli.ok("DONE", "server-dnr")
    assert server_tab(c).get("DnsServers", "") == old                  # pending until COMMIT
    cli.ok("COMMIT", "server")
    assert server_tab(c)["DnsServers"] == "127.0.0.4,127.0.0.1:5301,::2,127.0.0.2"
    cli.ok("CONFIG DNR")
    assert table_rows(cli.cmd("LIST Nameservers")) == [
        "1 | 127.0.0.4 | - | -", "2 | 127.0.0.1:5301 | - | -", "3 | ::2 | - | -", "4 | 127.0.0.2 | - | -"]
    cli.ok("REMOVE All")
    for i, addr in enumerate([a for a in old.split(",") if a], 1):
        cli.ok(f"ADD Nameserver {i}")
        cli.ok(f"SET address {addr}")
        cli.ok("DONE")
    cli.ok("COMMIT")
    assert server_tab(c).get("DnsServers", "") == old
    cli.ok("BACK", "")


def free_port():
    with socket.socket() as s6:
        s6.bind(("127.0.0.1", 0))
        return s6.getsockname()[1]


def test_listener_set_address_moves_the_entry(server, cli, c):
    srv = server
    p1, p2 = free_port(), free_port()          # bound at COMMIT, as given
    a1, a2 = f"127.0.0.1:{p1}", f"[::1]:{p2}"
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    cli.ok(f"ADD Listener {a1}", "server-pop3-listener")
    cli.ok("COMMIT", "server-pop3")
    assert a1 in server_tab(c)["Pop3Listen"].split(",")
    cli.ok(f"UPDATE Listener {a1}", "server-pop3-listener")
    cli.ok("SET address 999.0.0.1:5")
    cli.err("COMMIT", "Invalid value for address (ip:port or [ipv6]:port)", "server-pop3-listener")
    plain_first = server_tab(c)["Pop3Listen"].split(",")[0]
    cli.ok(f"SET address {plain_first}")
    cli.err("COMMIT", f"Listener {plain_first} already exists", "server-pop3-listener")
    cli.ok(f"SET address ::1:{p2}")
    assert show_attrs(cli.cmd("SHOW"))["address"] == f'"::1:{p2}"'
    cli.ok("COMMIT", "server-pop3")
    plain = server_tab(c)["Pop3Listen"].split(",")
    assert a2 in plain and a1 not in plain
    rows = table_rows(cli.cmd("LIST Listeners"))
    assert f"{a2} | yes | no" in rows and not any(r.startswith(a1) for r in rows)
    cli.err(f"UPDATE Listener {a1}", f"Listener {a1} not found", "server-pop3")
    assert any(f"pop3 listener {a1} -> {a2} changed" in line and "listening sockets updated" in line
               for line in srv.log.splitlines())
    cli.ok(f"REMOVE Listener {a2}")
    cli.ok("COMMIT", "server")
    assert a2 not in server_tab(c)["Pop3Listen"].split(",")
    cli.ok("BACK", "")
