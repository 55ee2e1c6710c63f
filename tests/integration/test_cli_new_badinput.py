"""Admin CLI, bad input in the newer contexts: errors keep the context and
the pending edits; a lost connection in the middle of an edit commits
nothing."""

from cliclient import show_attrs, table_rows


def users(c, dom):
    return {u[1]: u[3] for u in c.records("userlist", dom)}


def server_tab(c):
    return dict((f.strip('"') for f in line.split("\t")) for line in c.listing("cfgfileget", "server.tab"))


def test_errors_keep_the_pending_copy(cli, c, dom):
    c.ok("useradd", dom, "ann", "Ann-pw1", "U")
    cli.ok(f"UPDATE Domain name {dom}")
    cli.ok("ADD List name keep password Kp-1")
    cli.ok("SET description first")
    cli.err("SET services (pop3", "Invalid parameters", "domain-list")           # unbalanced set
    cli.err("SET nosuch 1", "Unknown attribute nosuch", "domain-list")
    cli.err("SET senderAllow everybody", "Invalid value for senderAllow (one of: anybody|members)", "domain-list")
    cli.err("ADD User", "Invalid parameters (missing argument)", "domain-list")
    cli.err("COMMIT extra", "Invalid parameters (unexpected argument)", "domain-list")
    cli.err("LIST Accounts", "Unknown command in this context", "domain-list")
    assert show_attrs(cli.cmd("SHOW"))["description"] == '"first"'
    cli.ok("COMMIT", "domain")
    assert users(c, dom)["keep"] == "M"
    cli.ok("UPDATE Account ann")
    cli.ok("CONFIG Limits")
    cli.err("SET services (pop3 smtpIn", "Invalid parameters", "domain-account-limits")
    cli.err("SET services (pop3) sentMessagesCount x", None, "domain-account-limits")
    cli.err("COMMIT", "Unknown command in this context", "domain-account-limits")
    cli.ok("BACK", "domain-account")
    cli.ok("BACK", "domain")
    cli.ok("BACK", "")


def test_disconnect_mid_edit_commits_nothing(server, c, dom):
    cli = server.cli()
    cli.ok(f"UPDATE Domain name {dom}")
    cli.ok("ADD Group name half")
    cli.ok("ADD Address x@example.net")
    cli.sock.close()                            # no COMMIT
    cli = server.cli()
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("SET maxRecipients 7")
    cli.sock.close()
    assert "half" not in users(c, dom)
    assert server_tab(c)["SmtpMaxRecipients"] != "7"
    cli = server.cli()
    cli.ok(f"UPDATE Domain name {dom}")
    assert table_rows(cli.cmd("LIST Groups")) == []
    cli.close()


def test_server_side_bad_values(cli):
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG CLI")
    cli.err("SET maxErrors 101", "Invalid value for maxErrors (a number from 0 to 100)", "server-cli")
    cli.err("SET compatVersion 1", "Invalid value for compatVersion", "server-cli")     # the registry's check
    cli.ok("BACK", "server")
    cli.ok("CONFIG DNR")
    cli.err("ADD Nameserver 0", "Invalid value for priority (a number from 1 to 32)", "server-dnr")
    cli.err("ADD Nameserver 9", None, "server-dnr")
    cli.ok("ADD Nameserver 1")
    cli.ok("SET address 300.1.1.1")
    cli.err("DONE", "Invalid value for address (ip or ip:port)", "server-dnr-nameserver")
    cli.ok("BACK", "server-dnr")
    cli.err("QUERY SRV x.test", "Invalid value for type (A, AAAA, MX, NS, TXT or PTR)", "server-dnr")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")
