"""Admin CLI, domain side beyond accounts: account limits, the domain's
defaults for new accounts, groups (forwarders), mailing lists and their
subscribers - each change checked through the controller (userlist,
mluserlist, uservars, cfgfileget) and SMTP delivery, plus the log line
every change writes."""

import smtplib

import pytest

from cliclient import show_attrs, simple_items, table_rows
from smtpclient import make_message, maildir, new_token, wait_token

COMMITTED = "committing changes and switching back to previous context"


def uservars(c, dom, user):
    return dict(c.records("uservars", dom, user))


def users(c, dom):
    return {u[1]: u[3] for u in c.records("userlist", dom)}


def members(c, dom, lst):
    return sorted(r[0] for r in c.records("mluserlist", dom, lst))


def send(server, sender, rcpts, msg):
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.sendmail(sender, rcpts, msg)


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


# ---------------------------------------------------------------- lists

def test_list_created_through_cli_delivers_over_smtp(server, cli, c, dom):
    c.ok("useradd", dom, "alice", "Al1ce-pw", "U")
    c.ok("useradd", dom, "bob", "B0b-pw", "U")
    cli.ok(f"UPDATE Domain name {dom}", "domain")
    r = cli.cmd("ADD List name team password L1st-pw adminEmail alice@" + dom)
    assert r.raw == b"+OK: command successful\r\n<domain-list#> "
    r = cli.cmd(f'ADD User email alice@{dom} name "Alice A"')
    assert r.raw == b"+OK: command successful\r\n<domain-list-user#> "
    assert cli.cmd("DONE").raw == b"+OK: command successful\r\n<domain-list#> "
    cli.ok(f"ADD User bob@{dom}", "domain-list-user")
    cli.ok("SET name Bob", "domain-list-user")
    cli.ok("DONE", "domain-list")
    assert "team" not in users(c, dom)                    # nothing before COMMIT
    r = cli.cmd("LIST Users")
    assert r.raw == (f"\r\nThe list of users:\r\n\r\nemail | name\r\n------------------------------\r\n"
                     f"alice@{dom} | Alice A\r\nbob@{dom} | Bob\r\n\r\n"
                     f"+OK: command successful\r\n<domain-list#> ").encode()
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<domain#> ".encode()
    # live through the controller: an 'M' account with the two members
    assert users(c, dom)["team"] == "M"
    assert members(c, dom, "team") == [f"alice@{dom}", f"bob@{dom}"]
    v = uservars(c, dom, "team")
    assert v["ListAdminEmail"] == f"alice@{dom}"
    assert v["MemberName.alice@" + dom] == "Alice A"
    # and SMTP delivers a post to every member
    token = new_token()
    send(server, "someone@example.org", [f"team@{dom}"],
         make_message("someone@example.org", f"team@{dom}", "to the list", token=token))
    wait_token(maildir(server.root, dom, "alice"), token)
    wait_token(maildir(server.root, dom, "bob"), token)
    assert table_rows(cli.cmd("LIST Lists")) == ["team"]
    assert table_rows(cli.cmd("LIST Groups")) == []
    assert log_has(server, "cli: admin=", "peer=127.0.0.1", "COMMIT", "list team@" + dom, "password=***")
    assert not log_has(server, "L1st-pw")


def test_list_remove_user_and_sender_allow(server, cli, c, dom):
    c.ok("useradd", dom, "alice", "Al1ce-pw", "U")
    cli.ok(f"UPDATE Domain name {dom}")
    cli.ok("ADD List name news password N3ws-pw")
    cli.ok(f"ADD User alice@{dom}")
    cli.ok("DONE")
    cli.ok("ADD User out@example.net")
    cli.ok("DONE")
    cli.ok("SET senderAllow members description \"Our news\"")
    cli.ok("COMMIT", "domain")
    assert uservars(c, dom, "news")["ClosedML"] == "1"
    assert members(c, dom, "news") == [f"alice@{dom}", "out@example.net"]
    cli.ok("UPDATE List news", "domain-list")
    attrs = show_attrs(cli.cmd("SHOW"))
    assert attrs["name"] == '"news"'
    assert attrs["description"] == '"Our news"'
    assert attrs["senderAllow"] == "members"
    assert "password" not in attrs
    cli.ok("REMOVE User out@example.net")
    cli.err("REMOVE User out@example.net", "User out@example.net not found", "domain-list")
    assert members(c, dom, "news") == [f"alice@{dom}", "out@example.net"]   # pending until COMMIT
    cli.ok("COMMIT", "domain")
    assert members(c, dom, "news") == [f"alice@{dom}"]
    # BACK drops pending subscribers
    cli.ok("UPDATE List news")
    cli.ok("ADD User x@example.net")
    cli.ok("DONE")
    cli.ok("BACK", "domain")
    assert members(c, dom, "news") == [f"alice@{dom}"]


def test_list_errors(cli, c, dom):
    c.ok("useradd", dom, "alice", "Al1ce-pw", "U")
    cli.ok(f"UPDATE Domain name {dom}")
    cli.err("ADD List name alice password x", "Recipient alice already exists", "domain")
    cli.err("ADD List name team", "Invalid parameters (missing argument)", "domain")
    cli.err("ADD List name team password x adminEmail not-an-address",
            "Invalid value for adminEmail (not a valid e-mail address)", "domain")
    cli.err("UPDATE List nosuch", "List nosuch not found", "domain")
    cli.err("REMOVE List nosuch", "List nosuch not found", "domain")
    cli.ok("ADD List name team password x")
    cli.err("ADD User bad..address", "Invalid value for address (not a valid e-mail address)", "domain-list")
    cli.ok("ADD User a@example.net")
    cli.ok("DONE")
    cli.err("ADD User a@example.net", "User a@example.net already exists", "domain-list")
    cli.err("DONE", "Unknown command in this context", "domain-list")
    cli.ok("COMMIT", "domain")
    cli.err("ADD List name team password x", "Recipient team already exists", "domain")
    # REMOVE List acts at once, and a group of the same name is another kind
    cli.err("REMOVE Group team", "Group team not found", "domain")
    cli.ok("REMOVE List team", "domain")
    assert "team" not in users(c, dom)


# ---------------------------------------------------------------- groups

def test_group_forwarder_delivers_and_lists(server, cli, c, dom):
    c.ok("useradd", dom, "carol", "Car0l-pw", "U")
    c.ok("useradd", dom, "dave", "Dav3-pw", "U")
    cli.ok(f"UPDATE Domain name {dom}")
    r = cli.cmd("ADD Group name sales")
    assert r.raw == b"+OK: command successful\r\n<domain-group#> "
    cli.ok(f"ADD Address carol@{dom}")
    cli.ok(f"ADD Address DAVE@{dom}")
    cli.err(f"ADD Address dave@{dom}", f"Address dave@{dom} already exists", "domain-group")
    r = cli.cmd("LIST Addresses")
    assert r.raw == (f"\r\nThe list of addresses:\r\ncarol@{dom}\r\ndave@{dom}\r\n\r\n"
                     f"+OK: command successful\r\n<domain-group#> ").encode()
    assert cli.cmd("COMMIT").raw == f"+OK: {COMMITTED}\r\n<domain#> ".encode()
    assert members(c, dom, "sales") == [f"carol@{dom}", f"dave@{dom}"]
    assert uservars(c, dom, "sales")["CliKind"] == "group"
    r = cli.cmd("LIST Groups")
    assert r.raw == (b"\r\nThe list of groups:\r\n\r\nname\r\n------------------------------\r\nsales\r\n\r\n"
                     b"+OK: command successful\r\n<domain#> ")
    assert table_rows(cli.cmd("LIST Lists")) == []
    token = new_token()
    send(server, "x@example.org", [f"sales@{dom}"], make_message("x@example.org", f"sales@{dom}", "g", token=token))
    wait_token(maildir(server.root, dom, "carol"), token)
    wait_token(maildir(server.root, dom, "dave"), token)
    # remove a member: pending until COMMIT
    cli.ok("UPDATE Group sales", "domain-group")
    cli.ok(f"REMOVE Address dave@{dom}")
    assert simple_items(cli.cmd("LIST Addresses")) == [f"carol@{dom}"]
    cli.ok("COMMIT")
    assert members(c, dom, "sales") == [f"carol@{dom}"]
    attrs = show_attrs(cli.cmd("SHOW Group sales"))
    assert attrs["name"] == '"sales"'
    cli.err('SET name "other/x"', None, "domain")
    cli.ok("REMOVE Group sales", "domain")
    assert "sales" not in users(c, dom)
    assert log_has(server, "REMOVE Group sales", "group sales@" + dom + " deleted")


# ---------------------------------------------------------------- limits and defaults

def test_account_limits_services_controls_receiving(server, cli, c, dom):
    c.ok("useradd", dom, "erin", "Er1n-pw", "U")
    cli.ok(f"UPDATE Domain name {dom}")
    cli.ok("UPDATE Account erin")
    r = cli.cmd("CONFIG Limits")
    assert r.raw == b"+OK: command successful\r\n<domain-account-limits#> "
    assert show_attrs(cli.cmd("SHOW"))["services"] == "(pop3 imap smtpIn smtpOut webmail)"
    cli.err("SET services (pop3 bogus)", None, "domain-account-limits")
    cli.err("SET sentMessagesCount -1", None, "domain-account-limits")
    cli.ok("SET services (POP3 smtpOut) sentMessagesCount 50")
    r = cli.cmd("SHOW ATTR services")
    assert r.raw == b"services = (pop3 smtpOut)\r\n+OK: command successful\r\n<domain-account-limits#> "
    cli.ok("DONE", "domain-account")
    assert "Limits.services" not in uservars(c, dom, "erin")   # applied at the account's COMMIT
    cli.ok("COMMIT", "domain")
    v = uservars(c, dom, "erin")
    assert v["Limits.services"] == "(pop3 smtpOut)"
    assert v["Limits.sentMessagesCount"] == "50"
    assert v["ReceiveEnable"] == "0"
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.ehlo()
        s.mail("x@example.org")
        code, _ = s.rcpt(f"erin@{dom}")
        assert code >= 400
    cli.ok("UPDATE Account erin")
    cli.ok("CONFIG Limits")
    cli.ok("SET services (pop3 smtpIn smtpOut)")
    cli.ok("DONE")
    cli.ok("COMMIT")
    assert uservars(c, dom, "erin")["ReceiveEnable"] == "1"


def test_domain_defaults_for_new_accounts(server, cli, c, dom):
    cli.ok(f"UPDATE Domain name {dom}")
    r = cli.cmd("CONFIG accountDefaultQuotas")
    assert r.raw == b"+OK: command successful\r\n<domain-accountDefaultQuotas#> "
    cli.ok("SET totalMessageSize 2048")
    cli.ok("DONE", "domain")
    cli.ok("CONFIG accountDefaultLimits", "domain-accountDefaultLimits")
    cli.ok("SET sentMessagesCount 7 services (pop3 smtpOut)")
    cli.ok("DONE", "domain")
    cli.ok("COMMIT", "")
    tab = "\n".join(c.listing("cfgfileget", f"domains/{dom}/userdef.tab"))
    assert '"MaxMBSize"\t"2048"' in tab
    assert '"Limits.sentMessagesCount"\t"7"' in tab
    # a new account starts with them, through the CLI and through the controller
    cli.ok(f"UPDATE Domain name {dom}")
    cli.ok("ADD Account name frank password Fr4nk-pw")
    cli.ok("COMMIT", "domain")
    assert uservars(c, dom, "frank")["MaxMBSize"] == "2048"
    c.ok("useradd", dom, "gina", "G1na-pw", "U")
    assert uservars(c, dom, "gina")["Limits.sentMessagesCount"] == "7"
    assert uservars(c, dom, "gina")["ReceiveEnable"] == "0"        # no smtpIn in the default services
    # RESET in the account goes back to the default
    cli.ok("UPDATE Account frank")
    cli.ok("CONFIG Quotas")
    cli.ok("SET totalMessageSize 99")
    cli.ok("DONE")
    cli.ok("COMMIT")
    assert uservars(c, dom, "frank")["MaxMBSize"] == "99"
    cli.ok("UPDATE Account frank")
    cli.ok("CONFIG Quotas")
    cli.ok("RESET totalMessageSize")
    assert show_attrs(cli.cmd("SHOW"))["totalMessageSize"] == "2048"
    cli.ok("DONE")
    cli.ok("COMMIT")
    assert uservars(c, dom, "frank")["MaxMBSize"] == "2048"
    # INHERIT SETTINGS FROM domainDefaults does the same for every default
    cli.ok("UPDATE Account frank")
    cli.ok("CONFIG Quotas")
    cli.ok("SET totalMessageSize 5")
    cli.ok("DONE")
    cli.ok("COMMIT")
    assert uservars(c, dom, "frank")["MaxMBSize"] == "5"
    cli.ok("UPDATE Account frank")
    cli.ok("INHERIT SETTINGS FROM domainDefaults", "domain-account")
    cli.ok("COMMIT", "domain")
    v = uservars(c, dom, "frank")
    assert v["MaxMBSize"] == "2048" and v["Limits.sentMessagesCount"] == "7"
    # SHOW in the defaults context reads the stored defaults; BACK drops edits
    cli.ok("CONFIG accountDefaultQuotas")
    assert show_attrs(cli.cmd("SHOW"))["totalMessageSize"] == "2048"
    cli.err("SET totalMessageSize lots", None, "domain-accountDefaultQuotas")
    cli.ok("SET totalMessageSize 1")
    cli.ok("BACK", "domain")
    cli.ok("COMMIT", "")
    assert '"MaxMBSize"\t"2048"' in "\n".join(c.listing("cfgfileget", f"domains/{dom}/userdef.tab"))
    assert log_has(server, "COMMIT", f"domain {dom} defaults for new accounts: MaxMBSize=2048")


def test_help_of_new_contexts_from_table(cli, dom):
    cli.ok(f"UPDATE Domain name {dom}")
    cli.ok("ADD Group name g1")
    r = cli.cmd("HELP")
    assert r.pieces[1] == "The commands available for the Group context are:"
    assert "ADD Address <address> - Add a member address, local or outside (a group of outside addresses is a forwarder)." in r.pieces
    assert "COMMIT - Apply the group's pending changes and return to the domain." in r.pieces
    cli.ok("BACK", "domain")
    cli.ok("ADD List name l1 password x")
    r = cli.cmd("HELP")
    assert r.pieces[1] == "The commands available for the List context are:"
    assert any(p.startswith("ADD User [email] <email> [name <name>] - ") for p in r.pieces)


def test_zz_handlers_move_as_the_table_says(server):
    # The session logs any command whose handler moved elsewhere than its
    # table row says (the row is what tern check / tern reference read).
    assert "command table mismatch" not in server.log


def test_replies_of_the_new_contexts_are_one_write(cli, dom):
    # XKOI-style clients read each reply with one recv().
    cli.ok(f"UPDATE Domain name {dom}")
    cli.ok("ADD List name big password x")
    for i in range(150):
        cli.ok(f"ADD User member{i:03d}@example.net name Member_{i}")
        cli.ok("DONE")
    cli.send_line("LIST Users")
    data = cli.recv_once()
    assert data.startswith(b"\r\nThe list of users:\r\n\r\nemail | name\r\n")
    assert data.endswith(b"+OK: command successful\r\n<domain-list#> ")
    assert data.count(b"@example.net | Member_") == 150
    cli.ok("COMMIT", "domain")
    cli.send_line("SHOW List big")
    data = cli.recv_once()
    assert data.endswith(b"\r\n\r\n+OK: command successful\r\n<domain#> ")
