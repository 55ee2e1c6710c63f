"""Admin CLI, account contexts: ADD/UPDATE/REMOVE/SHOW Account, LIST
Accounts, passwords, contact info, quotas, account aliases, and the editing
model (pending copy, DONE, COMMIT, BACK, disconnects) - each change checked
through the controller, POP3 or SMTP."""

import poplib
import re
import smtplib
import socket
import time

import pytest

from cliclient import show_attrs, simple_items, table_rows
from smtpclient import make_message, maildir, wait_token

COMMITTED = "committing changes and switching back to previous context"


def uservars(c, dom, user):
    return dict(c.records("uservars", dom, user))


def users(c, dom):
    return [u[1] for u in c.records("userlist", dom)]


def pop3_login(server, addr, password):
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    try:
        p.user(addr)
        p.pass_(password)
        n = p.stat()[0]
        p.quit()
        return n
    except poplib.error_proto:
        p.close()
        return None


def token_of(msg):
    return msg.split(b"token ")[1].split(b"\r\n")[0].decode()


def test_add_account_exact_replies(server, cli, c, dom):
    assert cli.cmd(f"UPDATE Domain name {dom}").raw == b"+OK: command successful\r\n<domain#> "
    r = cli.cmd("ADD Account name john password J0hn-pw")
    assert r.raw == b"+OK: command successful\r\n<domain-account#> "
    assert "john" not in users(c, dom)                  # created at COMMIT
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<domain#> ".encode()
    assert "john" in users(c, dom)
    assert pop3_login(server, f"john@{dom}", "J0hn-pw") == 0
    r = cli.cmd("COMMIT")                                # CLI2 commits the domain too
    assert r.raw == f"+OK: {COMMITTED}\r\n<#> ".encode()


def test_list_accounts_exact_layout(cli, c, dom):
    c.ok("useradd", dom, "postmaster", "pw", "U")
    c.ok("useradd", dom, "john", "pw", "U")
    c.ok("useradd", dom, "news", "pw", "M")             # a mailing list is not an account
    cli.ok(f"UPDATE Domain {dom}", "domain")
    r = cli.cmd("LIST Accounts")
    assert r.raw == (b"\r\nThe list of accounts:\r\n\r\nname\r\n------------------------------\r\n"
                     b"postmaster\r\njohn\r\n\r\n+OK: command successful\r\n<domain#> ")
    assert table_rows(r) == ["postmaster", "john"]
    assert table_rows(cli.ok("LIST Accounts jo*")) == ["john"]
    assert table_rows(cli.ok("LIST Accounts nobody*")) == []
    assert table_rows(cli.ok("LIST Lists")) == ["news"]
    cli.err("UPDATE Account news", "Account news not found")


def test_show_account_exact_layout(cli, c, dom):
    c.ok("useradd", dom, "john", "pw", "U")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    r = cli.cmd("SHOW Account name john")
    assert r.raw == (b"\r\nThe attributes of this account:\r\n"
                     b"name = \"john\"\r\n"
                     b"accountClassName = \"\"\r\n"
                     b"accountType = basic\r\n"
                     b"customerReference = \"\"\r\n"
                     b"publishContactInfo = no\r\n"
                     b"\r\n+OK: command successful\r\n<domain#> ")
    # the keys CLI2's list-accounts.py indexes
    attrs = show_attrs(r)
    for key in ("name", "accountClassName", "accountType", "customerReference"):
        assert key in attrs
    r = cli.cmd("SHOW Account john ATTR accountType")
    assert r.raw == b"accountType = basic\r\n+OK: command successful\r\n<domain#> "
    cli.err("SHOW Account nobody", "Account nobody not found", "domain")


def test_change_password(server, cli, c, dom):
    c.ok("useradd", dom, "pat", "old-Pw.1", "U")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("UPDATE Account pat", "domain-account")
    cli.ok("SET password new-Pw.2 respectEnforcement no")
    assert pop3_login(server, f"pat@{dom}", "old-Pw.1") == 0    # still pending
    cli.ok("COMMIT", "domain")
    assert pop3_login(server, f"pat@{dom}", "new-Pw.2") == 0
    assert pop3_login(server, f"pat@{dom}", "old-Pw.1") is None
    log = server.log
    assert "new-Pw.2" not in log and "old-Pw.1" not in log
    assert re.search(rf"cli: admin=admin peer=127\.0\.0\.1: COMMIT -> \+OK: {COMMITTED}; "
                     rf"account pat@{re.escape(dom)} changed: password=\*\*\*", log)


def test_contact_info_and_quotas_become_variables(cli, c, dom):
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("ADD Account name jane password Jane-pw.1", "domain-account")
    r = cli.cmd("CONFIG ContactInfo")
    assert r.raw == b"+OK: command successful\r\n<domain-account-contactInfo#> "
    cli.ok('SET firstName Jane lastName "Doe Smith" company ACME')
    r = cli.cmd("SHOW ATTR lastName")
    assert r.raw == b'lastName = "Doe Smith"\r\n+OK: command successful\r\n<domain-account-contactInfo#> '
    attrs = show_attrs(cli.ok("SHOW"))
    assert attrs["firstName"] == '"Jane"' and attrs["lastName"] == '"Doe Smith"' and attrs["phone"] == '""'
    assert cli.cmd("DONE").raw == b"+OK: command successful\r\n<domain-account#> "
    r = cli.cmd("CONFIG Quotas")
    assert r.raw == b"+OK: command successful\r\n<domain-account-quotas#> "
    assert cli.ok("SHOW ATTR totalMessageSize").pieces[0] == "totalMessageSize = 10000"   # userdef default
    cli.ok("SET totalMessageSize 5242880")
    r = cli.cmd("SHOW ATTR totalMessageSize")
    assert r.raw == b"totalMessageSize = 5242880\r\n+OK: command successful\r\n<domain-account-quotas#> "
    cli.ok("DONE", "domain-account")
    cli.ok("SET customerReference CR-42")
    assert "jane" not in users(c, dom)
    cli.ok("COMMIT", "domain")
    v = uservars(c, dom, "jane")
    assert v["ContactInfo.firstName"] == "Jane"
    assert v["ContactInfo.lastName"] == "Doe Smith"
    assert v["ContactInfo.company"] == "ACME"
    assert v["RealName"] == "Jane Doe Smith"
    assert v["MaxMBSize"] == "5242880"
    assert v["CustomerReference"] == "CR-42"
    assert v["PopEnable"] == "1"                        # userdef.tab defaults kept
    # values set through the controller show in the CLI
    c.ok("uservarsset", dom, "jane", "ContactInfo.phone", "+1 555 0100")
    cli.ok("UPDATE Account jane", "domain-account")
    cli.ok("CONFIG ContactInfo", "domain-account-contactInfo")
    assert cli.ok("SHOW ATTR phone").pieces[0] == 'phone = "+1 555 0100"'
    assert cli.ok("SHOW ATTR firstName").pieces[0] == 'firstName = "Jane"'


def test_quota_reset_and_enforcement(server, cli, c, dom):
    c.ok("useradd", dom, "small", "pw-small", "U")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("UPDATE Account small", "domain-account")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    cli.ok("SET totalMessageSize 4")
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    assert uservars(c, dom, "small")["MaxMBSize"] == "4"
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.ehlo("cli.test")
        s.mail("x@remote.example", ["SIZE=5000"])
        code, msg = s.rcpt(f"small@{dom}")
        assert code == 552 and msg.startswith(b"5.2.2"), (code, msg)
    cli.ok("UPDATE Account small", "domain-account")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    cli.ok("RESET totalMessageSize")
    assert cli.ok("SHOW ATTR totalMessageSize").pieces[0] == "totalMessageSize = 10000"
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    assert uservars(c, dom, "small")["MaxMBSize"] == "10000"
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.ehlo("cli.test")
        s.mail("x@remote.example", ["SIZE=5000"])
        assert s.rcpt(f"small@{dom}")[0] == 250


def test_back_discards(cli, c, dom):
    c.ok("useradd", dom, "keep", "pw", "U")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    # BACK from a new account: nothing is created
    cli.ok("ADD Account name ghost password pw", "domain-account")
    cli.ok("CONFIG ContactInfo")
    cli.ok("SET firstName Ghost")
    cli.ok("DONE", "domain-account")
    assert cli.cmd("BACK").raw == b"+OK: command successful\r\n<domain#> "
    assert "ghost" not in users(c, dom)
    # BACK from a sub-context drops only its own edits
    cli.ok("UPDATE Account keep", "domain-account")
    cli.ok("CONFIG ContactInfo")
    cli.ok("SET firstName Kept")
    cli.ok("DONE")
    cli.ok("CONFIG ContactInfo")
    assert cli.ok("SHOW ATTR firstName").pieces[0] == 'firstName = "Kept"'
    cli.ok("SET firstName Dropped lastName Dropped")
    cli.ok("BACK", "domain-account")
    cli.ok("CONFIG Quotas")
    cli.ok("SET totalMessageSize 1")
    cli.ok("BACK", "domain-account")
    cli.ok("COMMIT", "domain")
    v = uservars(c, dom, "keep")
    assert v["ContactInfo.firstName"] == "Kept" and "ContactInfo.lastName" not in v
    assert v.get("MaxMBSize") == "10000"


def test_disconnect_mid_edit_changes_nothing(server, c, dom):
    c.ok("useradd", dom, "stay", "pw-stay", "U")
    before = uservars(c, dom, "stay")
    cli = server.cli()
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("UPDATE Account stay", "domain-account")
    cli.ok("SET password changed-pw")
    cli.ok("CONFIG Quotas")
    cli.ok("SET totalMessageSize 7")
    cli.ok("DONE")
    cli.ok("ADD Alias stay2")
    cli.sock.shutdown(socket.SHUT_RDWR)
    cli.close()
    cli = server.cli()
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("ADD Account name halfway password pw", "domain-account")
    cli.ok("CONFIG ContactInfo")
    cli.ok("SET firstName Half")
    cli.sock.close()
    time.sleep(0.3)
    assert uservars(c, dom, "stay") == before
    assert c.records("aliaslist", dom) == []
    assert "halfway" not in users(c, dom)
    assert pop3_login(server, f"stay@{dom}", "pw-stay") == 0


def test_remove_account_acts_at_once(server, cli, c, dom):
    c.ok("useradd", dom, "gone", "pw", "U")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    assert cli.cmd("REMOVE Account gone").raw == b"+OK: command successful\r\n<domain#> "
    cli.ok("BACK", "")                                    # BACK does not undo it
    assert "gone" not in users(c, dom)
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.err("REMOVE Account gone", "Account gone not found", "domain")
    assert f"account gone@{dom} deleted" in server.log


def test_account_errors(cli, c, dom):
    c.ok("useradd", dom, "john", "pw", "U")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.err("ADD Account name john password x", "Account john already exists", "domain")
    cli.err("ADD Account name JOHN password x", "Account john already exists", "domain")
    cli.err("ADD Account name bad..name password x", "Invalid value for name (not a valid account name)")
    cli.err("ADD Account name a/b password x", "Invalid value for name (not a valid account name)")
    cli.err('ADD Account name ok password ""', "Invalid value for password")
    cli.err("ADD Account name nopass", "Invalid parameters (missing argument)")
    cli.err("UPDATE Account nobody", "Account nobody not found", "domain")
    # created by the controller between ADD and COMMIT: the COMMIT fails, the edit stays
    cli.ok("ADD Account name race password x", "domain-account")
    c.ok("useradd", dom, "race", "pw", "U")
    cli.err("COMMIT", "Commit failed: Account race already exists", "domain-account")
    cli.ok("BACK", "domain")
    # account name same as current is a no-op; a new name is a rename pending
    # until COMMIT (test_cli_rename.py), undone by setting the current name
    cli.ok("UPDATE Account john", "domain-account")
    cli.ok("SET name john accountType basic publishContactInfo no")
    cli.ok("SET name jim")
    cli.ok("SET name john")
    cli.ok("COMMIT", "domain")


def test_account_aliases(server, cli, c, dom):
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("ADD Account name john password pw-john", "domain-account")
    cli.ok("ADD Alias jd")
    cli.ok("ADD Alias J.Doe")
    cli.err("ADD Alias jd", "Alias jd already exists")
    cli.err("ADD Alias john", "Account john already exists")
    r = cli.cmd("LIST Aliases")
    assert r.raw == (b"\r\nThe list of aliases for this account:\r\njd\r\nj.doe\r\n\r\n"
                     b"+OK: command successful\r\n<domain-account#> ")
    cli.ok("COMMIT", "domain")
    assert sorted(r[1:] for r in c.records("aliaslist", dom)) == [["j.doe", "john"], ["jd", "john"]]
    msg = make_message("x@remote.example", f"jd@{dom}", "alias")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.sendmail("x@remote.example", [f"jd@{dom}"], msg)
    wait_token(maildir(server.root, dom, "john"), token_of(msg))
    # aliases of other accounts are not this account's
    c.ok("useradd", dom, "mary", "pw", "U")
    c.ok("aliasadd", dom, "boss", "mary")
    cli.ok("UPDATE Account john", "domain-account")
    assert simple_items(cli.ok("LIST Aliases")) == ["jd", "j.doe"]
    cli.err("REMOVE Alias boss", "Alias boss not found")
    cli.err("ADD Alias boss", "Alias boss already exists")
    cli.err("ADD Alias mary", "Account mary already exists")
    cli.ok("REMOVE Alias jd")
    assert simple_items(cli.ok("LIST Aliases")) == ["j.doe"]
    cli.ok("COMMIT", "domain")
    assert sorted(r[1] for r in c.records("aliaslist", dom)) == ["boss", "j.doe"]


def test_commit_is_all_or_nothing(cli, c, dom):
    c.ok("useradd", dom, "john", "pw-john", "U")
    c.ok("useradd", dom, "mary", "pw", "U")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("UPDATE Account john", "domain-account")
    cli.ok("CONFIG ContactInfo")
    cli.ok("SET firstName Changed")
    cli.ok("DONE")
    cli.ok("ADD Alias taken")
    c.ok("aliasadd", dom, "taken", "mary")        # someone takes the alias meanwhile
    cli.err("COMMIT", "Commit failed: Alias taken already exists", "domain-account")
    assert "ContactInfo.firstName" not in uservars(c, dom, "john")
    cli.ok("REMOVE Alias taken")
    cli.ok("COMMIT", "domain")
    assert uservars(c, dom, "john")["ContactInfo.firstName"] == "Changed"


@pytest.mark.parametrize("style", ["cli2", "xkoi", "inam"])
def test_client_styles(cli, c, dom, style):
    """Command shapes real clients send (spec section 10)."""
    if style == "cli2":
        cli.ok(f'UPDATE DOMAIN NAME "{dom}"', "domain")
        cli.ok('ADD ACCOUNT NAME "cliuser" PASSWORD "p w"', "domain-account")
        cli.ok("COMMIT", "domain")
        cli.ok('UPDATE ACCOUNT NAME "cliuser"', "domain-account")
        cli.ok("CONFIG QUOTAS", "domain-account-quotas")
        cli.ok("SET TOTALMESSAGESIZE 2048")
        cli.ok("DONE", "domain-account")
        cli.ok("COMMIT", "domain")
        cli.ok("COMMIT", "")
        assert uservars(c, dom, "cliuser")["MaxMBSize"] == "2048"
    elif style == "xkoi":
        cli.ok(f"update domain {dom}", "domain")
        r = cli.ok("add account xk password pass1", "domain-account")
        assert "+OK: command successful" in r.raw.decode()
        r = cli.ok("commit", "domain")
        assert "committing changes and switching back to previous context" in r.raw.decode()
        cli.ok("update account xk", "domain-account")
        cli.ok("set accountType basic")
        cli.ok("CONFIG ContactInfo", "domain-account-contactInfo")
        cli.ok('set firstName "F"')
        cli.ok("done", "domain-account")
        cli.ok("set publishContactInfo no")
        cli.ok("commit", "domain")
        assert uservars(c, dom, "xk")["ContactInfo.firstName"] == "F"
    else:
        c.ok("useradd", dom, "inam", "pw", "U")
        for line in (f"UPDATE domain name {dom}", "UPDATE account name inam", "CONFIG quotas", "SHOW"):
            r = cli.ok(line)
            low = r.raw.decode().lower()
            assert not any(w in low for w in ("error", "unknown", "failed")), (line, r)
        assert "totalMessageSize" in show_attrs(r)
        cli.ok("BACK")
        cli.ok("BACK")
        r = cli.ok("LIST Accounts")
        assert "inam" in table_rows(r)
        cli.ok("BACK", "")
        for line in ("LIST domains", "LIST AllDomains"):
            low = cli.ok(line).raw.decode().lower()
            assert not any(w in low for w in ("error", "unknown", "failed")), line
