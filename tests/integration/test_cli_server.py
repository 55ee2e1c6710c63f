"""Admin CLI, server side: the server context, the service contexts of the
services Tern has (cli, smtpIncoming, smtpOutgoing, pop3), listeners,
access control, the resolver (dnr) - each change checked through the
controller's server.tab, the daemon's behaviour (after a restart for
listeners) and the log."""

import socket

import pytest

from dnsserver import dnsmasq

from cliclient import CliClient, show_attrs, simple_items, table_rows

COMMITTED = "committing changes and switching back to previous context"


def server_tab(c):
    out = {}
    for line in c.listing("cfgfileget", "server.tab"):
        name, value = [f.strip('"') for f in line.split("\t")]
        out[name] = value
    return out


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


def test_server_context_settings_are_the_daemons(server, cli, c):
    r = cli.cmd("CONFIG SERVER")
    assert r.raw == b"+OK: command successful\r\n<server#> "
    attrs = show_attrs(cli.cmd("SHOW"))
    assert set(attrs) == {"primaryDomain", "serverName", "postmasterEmail"}
    cli.ok('SET serverName mx.cli-test.example')
    assert server_tab(c).get("SmtpServerDomain", "") != "mx.cli-test.example"   # pending
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<#> ".encode()
    assert server_tab(c)["SmtpServerDomain"] == "mx.cli-test.example"
    assert log_has(server, "cli: admin=", "peer=127.0.0.1", "COMMIT", "SmtpServerDomain=mx.cli-test.example")
    cli.ok("CONFIG SERVER")
    cli.ok("SET serverName \"\"")
    cli.ok("COMMIT", "")


def test_services_and_missing_services(cli, c):
    cli.ok("CONFIG SERVER", "server")
    r = cli.cmd("CONFIG IMAP")
    assert r.raw == b"-ERR: This server has no IMAP service\r\n<server#> "
    cli.err("CONFIG WEBADMIN", "This server has no WEBADMIN service", "server")
    for kw, ctx in (("CLI", "server-cli"), ("SMTP-INCOMING", "server-smtpIncoming"),
                    ("SMTP-OUTGOING", "server-smtpOutgoing"), ("pop3", "server-pop3")):
        r = cli.cmd(f"CONFIG {kw}")
        assert r.raw == f"+OK: command successful\r\n<{ctx}#> ".encode()
        cli.ok("START Service", ctx)   # running already: harmless (STOP: test_cli_service_control.py)
        cli.ok("BACK", "server")
    cli.ok("CONFIG SMTP-INCOMING")
    cli.err("SET maxMessageSize 0", None, "server-smtpIncoming")
    cli.ok("SET maxMessageSize 4096 allowStartTLS no")
    assert show_attrs(cli.cmd("SHOW"))["allowStartTLS"] == "no"
    cli.ok("RESET")
    assert show_attrs(cli.cmd("SHOW"))["maxMessageSize"] == server_tab(c)["MaxMessageSize"]
    cli.ok("SET maxMessageSize 4096 allowStartTLS no")
    cli.ok("COMMIT", "server")
    tab = server_tab(c)
    assert tab["MaxMessageSize"] == "4096" and tab["EnableSMTP-TLS"] == "0"
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("SET maxMessageSize 20480 allowStartTLS yes")
    cli.ok("COMMIT", "server")
    cli.ok("CONFIG SMTP-OUTGOING")
    cli.ok("SET enableIPv6 no")
    cli.ok("COMMIT")
    assert server_tab(c)["SmtpOutEnableIPv6"] == "0"
    cli.ok("CONFIG SMTP-OUTGOING")
    cli.ok("SET enableIPv6 yes")
    cli.ok("COMMIT")
    cli.ok("BACK", "")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def test_listeners_are_the_listen_settings(server, c):
    srv = server
    c = srv.connect()
    cli = srv.cli()
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3", "server-pop3")
    tab = server_tab(c)
    r = cli.cmd("LIST Listeners")
    assert r.pieces[:5] == ["", "The list of listeners:", "", "address | enable | sslEnable",
                            "------------------------------"]
    rows = table_rows(r)
    expect = [f"{a} | yes | no" for a in tab["Pop3Listen"].split(",")] + \
             [f"{a} | yes | yes" for a in tab["Pop3sListen"].split(",")]
    assert rows == expect
    port = free_port()
    addr = f"127.0.0.1:{port}"                  # bound as given (a live change: test_cli_listener_live.py)
    r = cli.cmd(f"ADD Listener {addr}")
    assert r.raw == b"+OK: command successful\r\n<server-pop3-listener#> "
    cli.ok("SET address 127.0.0.1:1")          # the name is the address: SET moves it (COMMIT)
    cli.ok(f"SET address {addr}")
    cli.ok("SET sslEnable yes")
    assert show_attrs(cli.cmd("SHOW"))["address"] == f'"{addr}"'
    r = cli.cmd("CONFIG SSLCONTROL")
    assert r.raw == b"+OK: command successful\r\n<server-pop3-listener-sslcontrol#> "
    tls = show_attrs(cli.cmd("SHOW"))
    assert tls["allowedVersions"] == "(tls1_2 tls1_3)"
    assert tls["certFile"] == '"tls/server.crt"'
    cli.err("SET allowedVersions (tls1_1 tls1_2)", None, "server-pop3-listener-sslcontrol")
    cli.err("SET certFile /etc/x.pem", "Invalid value for certFile (/etc/x.pem: a path relative to the data root, "
            "without '..')", "server-pop3-listener-sslcontrol")
    cli.ok("SET allowedVersions (tls1_2 tls1_3) requestClientAuth no")
    cli.ok("DONE", "server-pop3-listener")
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<server-pop3#> ".encode()
    assert server_tab(c)["Pop3sListen"].endswith("," + addr)
    assert f"{addr} | yes | yes" in table_rows(cli.cmd("LIST Listeners"))
    cli.err(f"ADD Listener {addr}", f"Listener {addr} already exists", "server-pop3")
    cli.err("ADD Listener 999.1.1.1:5", "Invalid value for address (ip:port or [ipv6]:port)", "server-pop3")
    cli.err("REMOVE Listener 127.0.0.1:1", "Listener 127.0.0.1:1 not found", "server-pop3")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")
    cli.close()
    assert log_has(srv, "COMMIT", f"pop3 listener {addr} added (TLS)", "listening sockets updated")
    # removing is pending until the service's COMMIT
    cli = srv.cli()
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    cli.ok(f"REMOVE Listener {addr}")
    assert addr in server_tab(c)["Pop3sListen"]
    assert f"{addr} | yes | yes" not in table_rows(cli.cmd("LIST Listeners"))
    cli.ok("COMMIT", "server")
    assert addr not in server_tab(c)["Pop3sListen"]
    # IPv6 forms: both spellings name the same listener, shown with brackets
    port = free_port()
    cli.ok("CONFIG CLI")
    cli.ok(f"ADD Listener ::1:{port}", "server-cli-listener")
    assert show_attrs(cli.cmd("SHOW"))["address"] == f'"[::1]:{port}"'
    cli.ok("COMMIT", "server-cli")
    cli.err(f"ADD Listener [::1]:{port}", f"Listener [::1]:{port} already exists")
    cli.ok(f"REMOVE Listener [0:0::1]:{port}")
    cli.ok("COMMIT", "server")
    assert f"[::1]:{port}" not in server_tab(c)["CliListen"]
    cli.close()


def test_cli_access_control_denies_a_peer(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG CLI")
    r = cli.cmd("CONFIG AccessControl")
    assert r.raw == b"+OK: command successful\r\n<server-cli-access-control#> "
    cli.ok("ADD DenyRule ::1 priority 10")
    r = cli.cmd("ADD AllowRule 127.0.0.0/8")
    assert r.raw == b"+OK: command successful\r\n<server-cli-access-control-allowrule#> "
    cli.ok("SET priority 5")
    cli.ok("DONE", "server-cli-access-control")
    r = cli.cmd("LIST AllowRules")
    assert r.raw == (b"\r\nThe list of allow rules:\r\n\r\nipSet | enable | priority | maxConnections | peerMaxConnections"
                     b"\r\n------------------------------\r\n127.0.0.0/8 | yes | 5 | - | -\r\n\r\n"
                     b"+OK: command successful\r\n<server-cli-access-control#> ")
    assert table_rows(cli.cmd("LIST DenyRules")) == ["::1/128 | yes | 10"]
    cli.err("ADD AllowRule 127.0.0.0/8", "AllowRule 127.0.0.0/8 already exists", "server-cli-access-control")
    cli.err("ADD AllowRule 10.0.0.0/99", "Invalid value for ipSet (addr or addr/len)", "server-cli-access-control")
    cli.ok("DONE", "server-cli")
    # nothing applied yet: ::1 still gets in
    c6 = srv.cli(family=6)
    c6.close()
    cli.ok("COMMIT", "server")
    with CliClient("::1", srv.cli_port) as refused:
        assert refused.banner.raw == b"-ERR: Access denied for your address, closing connection\r\n"
    srv.cli().close()                       # 127.0.0.1 is allowed
    assert log_has(srv, "refused by the CLI access rules")
    assert log_has(srv, "COMMIT", "access map cli: 2 rule(s)")
    cli.ok("CONFIG CLI")
    cli.ok("CONFIG AccessControl")
    cli.ok("REMOVE DenyRule ::1")
    cli.ok("DONE")
    cli.ok("COMMIT")
    srv.cli(family=6).close()
    cli.close()


def test_smtp_incoming_allow_rules_are_relay_networks(server, cli, c):
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("CONFIG AccessControl", "server-smtpIncoming-access-control")
    before = table_rows(cli.cmd("LIST AllowRules"))
    cli.err("ADD DenyRule 10.0.0.1/99", "Invalid value for ipSet (addr or addr/len)")
    cli.ok("ADD AllowRule 10.77.0.0/16", "server-smtpIncoming-access-control-allowrule")
    cli.ok("DONE")
    cli.ok("DONE", "server-smtpIncoming")
    cli.ok("COMMIT", "server")
    nets = server_tab(c)["SmtpRelayNetworks"].split(",")
    assert "10.77.0.0/16" in nets
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("CONFIG AccessControl")
    assert "10.77.0.0/16 | yes | 100 | - | -" not in before
    cli.ok("REMOVE AllowRule 10.77.0.0/16")
    cli.ok("DONE")
    cli.ok("COMMIT")
    assert "10.77.0.0/16" not in server_tab(c)["SmtpRelayNetworks"]
    cli.ok("BACK", "")


@pytest.fixture
def dns(tmp_path):
    with dnsmasq(tmp_path, "--mx-host=q.test,mx1.q.test,10", "--mx-host=q.test,mx0.q.test,5",
                 "--host-record=mx0.q.test,127.0.0.5", "--host-record=h.q.test,127.0.0.9,::9") as addr:
        yield addr


def test_dnr_nameservers_and_queries(server, cli, c, dns):
    old = server_tab(c).get("DnsServers", "")
    cli.ok("CONFIG SERVER")
    r = cli.cmd("CONFIG DNR")
    assert r.raw == b"+OK: command successful\r\n<server-dnr#> "
    cli.ok("REMOVE All")
    r = cli.cmd("ADD Nameserver 1")
    assert r.raw == b"+OK: command successful\r\n<server-dnr-nameserver#> "
    cli.err("DONE", "Missing required parameter address", "server-dnr-nameserver")
    cli.ok(f"SET address {dns}")
    cli.ok("DONE", "server-dnr")
    r = cli.cmd("LIST Nameservers")
    assert r.raw == (f"\r\nThe list of nameservers:\r\n\r\npriority | address | timeout | retries\r\n"
                     f"------------------------------\r\n1 | {dns} | - | -\r\n\r\n"
                     f"+OK: command successful\r\n<server-dnr#> ").encode()
    # queries use the pending list, through the server's resolver
    r = cli.cmd("QUERY MX q.test")
    assert r.raw == (b"\r\nThe MX records for q.test:\r\n5 mx0.q.test\r\n10 mx1.q.test\r\n\r\n"
                     b"+OK: command successful\r\n<server-dnr#> ")
    assert simple_items(cli.cmd("QUERY A h.q.test")) == ["127.0.0.9"]
    assert simple_items(cli.cmd("QUERY AAAA h.q.test")) == ["::9"]
    assert simple_items(cli.cmd("QUERY A nothing.q.test")) == [] or \
        cli.cmd("QUERY A nothing.q.test").status.startswith("-ERR: Query failed")
    cli.err("QUERY PTR not-an-ip", "Invalid value for ip.address (an IPv4 or IPv6 address)", "server-dnr")
    cli.err("QUERY A bad..name", "Invalid value for name (not a valid domain name)", "server-dnr")
    cli.ok("EMPTYCACHE")
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<server#> ".encode()
    assert server_tab(c)["DnsServers"] == dns
    assert log_has(server, "COMMIT", f"DnsServers={dns}")
    cli.ok("CONFIG DNR")
    cli.ok("REMOVE Nameserver 1")
    cli.err("REMOVE Nameserver 1", "Nameserver 1 not found", "server-dnr")
    cli.ok("COMMIT")
    assert server_tab(c).get("DnsServers", "") == old
    cli.ok("BACK", "")


# ---------------------------------------------------------------- AACL

def test_aacl_admin_users_and_interfaces(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    r = cli.cmd("ENTER AACL")
    assert r.raw == b"+OK: command successful\r\n<aacl#> "
    r = cli.cmd("LIST admin-users")
    assert r.raw == (b"\r\nThe list of admin users:\r\n\r\nname | description\r\n------------------------------\r\n"
                     b"admin | -\r\n\r\n+OK: command successful\r\n<aacl#> ")
    r = cli.cmd("ADD admin-user name ops password 0ps-Secret")
    assert r.raw == b"+OK: command successful\r\n<aacl-adminUser#> "
    cli.ok('SET description "Night shift" interfaces (cli)')
    attrs = show_attrs(cli.cmd("SHOW"))
    assert attrs == {"name": '"ops"', "description": '"Night shift"', "interfaces": "(cli)", "parents": "()"}
    cli.err("GRANT permission (manageAccounts) domain x.test", None, "aacl-adminUser")
    assert cli.cmd("DONE").raw == b"+OK: command successful\r\n<aacl#> "
    assert table_rows(cli.cmd("LIST admin-users")) == ["admin | -", "ops | Night_shift"]
    cli.err("ADD admin-user name ops password x", "Admin user ops already exists", "aacl")
    # ops may use the CLI but not the controller
    ops = srv.cli(user="ops", password="0ps-Secret")
    ops.close()
    for md5 in (True, False):
        with pytest.raises(Exception):
            srv.connect(user="ops", password="0ps-Secret", md5=md5)
    # widen to both, then remove
    cli.ok("UPDATE admin-user ops", "aacl-adminUser")
    cli.ok("SET interfaces (cli ctrl) password N3w-Secret")
    cli.ok("DONE", "aacl")
    srv.cli(user="ops", password="N3w-Secret").close()
    srv.connect(user="ops", password="N3w-Secret").close()
    cli.err("REMOVE admin-user admin", "Commit failed: you cannot remove the admin user you are logged in as", "aacl")
    cli.ok("REMOVE admin-user ops", "aacl")
    cli.err("UPDATE admin-user ops", "Admin user ops not found", "aacl")
    bad = CliClient("127.0.0.1", srv.cli_port)
    bad.cmd("USER ops")
    assert bad.cmd("N3w-Secret").status == "-ERR: Authentication failed"
    bad.close()
    assert cli.cmd("DONE").raw == b"+OK: command successful\r\n<#> "
    assert log_has(srv, "cli: admin=admin", "DONE", "admin user ops created: password=*** description=Night shift interfaces=(cli)")
    assert not log_has(srv, "0ps-Secret")
    assert not log_has(srv, "N3w-Secret")
    cli.close()


def test_aacl_admin_groups_grant_interfaces(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    cli.ok("ENTER AACL")
    r = cli.cmd("ADD admin-group name opsgrp")
    assert r.raw == b"+OK: command successful\r\n<aacl-adminGroup#> "
    cli.ok('SET interfaces (ctrl) description "Ops team"')
    cli.ok("DONE", "aacl")
    r = cli.cmd("LIST admin-groups")
    assert r.raw == (b"\r\nThe list of admin groups:\r\n\r\nname | description\r\n------------------------------\r\n"
                     b"opsgrp | Ops_team\r\n\r\n+OK: command successful\r\n<aacl#> ")
    cli.err("ADD admin-group name opsgrp", "Admin group opsgrp already exists", "aacl")
    cli.ok("ADD admin-user name carl password C4rl-pw")
    cli.ok("SET interfaces (cli)")
    cli.err("ADD parent-group nosuch", "Admin group nosuch not found", "aacl-adminUser")
    cli.ok("ADD parent-group opsgrp")
    assert simple_items(cli.cmd("LIST parents")) == ["opsgrp"]
    cli.ok("DONE", "aacl")
    # own interfaces (cli) plus the group's (ctrl)
    srv.cli(user="carl", password="C4rl-pw").close()
    srv.connect(user="carl", password="C4rl-pw").close()
    cli.ok("UPDATE admin-group opsgrp", "aacl-adminGroup")
    assert simple_items(cli.cmd("LIST members")) == ["carl"]
    cli.ok("BACK", "aacl")
    cli.err("REMOVE admin-group opsgrp", "Commit failed: admin group opsgrp has members (REMOVE admin-group opsgrp forced)")
    cli.ok("REMOVE admin-group opsgrp forced", "aacl")
    assert show_attrs(cli.cmd("SHOW admin-user carl"))["parents"] == "()"
    with pytest.raises(Exception):
        srv.connect(user="carl", password="C4rl-pw")
    srv.cli(user="carl", password="C4rl-pw").close()
    assert log_has(srv, "cli: admin=admin peer=127.0.0.1: DONE", "admin group opsgrp created: description=Ops team interfaces=(ctrl)")
    assert log_has(srv, "REMOVE admin-group opsgrp forced", "admin group opsgrp deleted")
    cli.close()


def test_zz_handlers_move_as_the_table_says(server):
    # The session logs any command whose handler moved elsewhere than its
    # table row says (the row is what tern check / tern reference read).
    assert "command table mismatch" not in server.log
