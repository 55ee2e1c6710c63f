"""Admin CLI: bad input of every kind gets one -ERR line and the prompt of
the same context, pending edits survive, and the session stays usable
(spec 6.3); the error limit closes the session. Also HELP, generated from
the same table the parser uses."""

import re

import pytest

from smtpclient import set_settings


@pytest.fixture
def acct(cli, c, dom):
    """A CLI session inside <domain-account#> of a new account 'john' with a
    pending firstName."""
    c.ok("useradd", dom, "john", "pw-john", "U")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("UPDATE Account john", "domain-account")
    cli.ok("CONFIG ContactInfo", "domain-account-contactInfo")
    cli.ok("SET firstName Pending")
    return cli


def still_usable(cli, context=""):
    r = cli.ok("HELP")
    assert r.context == context


def test_unknown_command(cli):
    r = cli.cmd("FROBNICATE all the things")
    assert r.raw == b"-ERR: Unknown command\r\n<#> "
    still_usable(cli)


def test_command_of_another_context(cli, dom):
    assert cli.cmd("COMMIT").raw == b"-ERR: Unknown command in this context\r\n<#> "
    assert cli.cmd("BACK").raw == b"-ERR: Unknown command in this context\r\n<#> "
    assert cli.cmd("LIST Accounts").raw == b"-ERR: Unknown command in this context\r\n<#> "
    assert cli.cmd("USER admin").raw == b"-ERR: Unknown command in this context\r\n<#> "
    cli.ok(f"UPDATE Domain {dom}", "domain")
    assert cli.cmd("LIST Domains").raw == b"-ERR: Unknown command in this context\r\n<domain#> "
    assert cli.cmd("DONE").raw == b"-ERR: Unknown command in this context\r\n<domain#> "
    assert cli.cmd("SHOW Domain x.test").raw == b"-ERR: Unknown command in this context\r\n<domain#> "
    still_usable(cli, "domain")


def test_keywords_are_case_insensitive_values_are_not(cli, c, dom):
    cli.ok(f"update domain NAME {dom.upper()}", "domain")
    r = cli.ok("list accounts")
    assert r.pieces[1] == "The list of accounts:"
    cli.ok("Back", "")


def test_argument_errors(cli):
    assert cli.cmd("UPDATE Domain").raw == b"-ERR: Invalid parameters (missing argument)\r\n<#> "
    assert cli.cmd("LIST Domains a* b*").raw == b"-ERR: Invalid parameters (unexpected argument)\r\n<#> "
    assert cli.cmd("CREATE Domain name").raw == b"-ERR: Invalid parameters (a keyword without its value)\r\n<#> "
    assert cli.cmd("CREATE Domain postmasterPassword x").raw == \
        b"-ERR: Invalid parameters (missing argument)\r\n<#> "
    assert cli.cmd("SHOW Domain").raw == b"-ERR: Invalid parameters (missing argument)\r\n<#> "
    assert cli.cmd("HELP me").raw == b"-ERR: Invalid parameters (unexpected argument)\r\n<#> "
    still_usable(cli)


def test_unbalanced_quotes_keep_pending_edits(acct):
    ctx = "domain-account-contactInfo"
    r = acct.cmd('SET lastName "Doe')
    assert r.raw == b"-ERR: Invalid parameters (unbalanced quotes)\r\n<domain-account-contactInfo#> "
    r = acct.cmd("SET lastName 'Doe")
    assert r.text == "Invalid parameters (unbalanced quotes)"
    r = acct.cmd("SET lastName Doe\\")
    assert r.text == "Invalid parameters (backslash at the end of the line)"
    assert acct.ok("SHOW ATTR firstName").pieces[0] == 'firstName = "Pending"'
    assert acct.ok("SHOW ATTR lastName").pieces[0] == 'lastName = ""'
    still_usable(acct, ctx)


def test_quoting_forms(acct):
    acct.ok('SET lastName "van der Berg"')
    assert acct.ok("SHOW ATTR lastName").pieces[0] == 'lastName = "van der Berg"'
    acct.ok("SET company 'A \"quoted\" \\name'")
    assert acct.ok("SHOW ATTR company").pieces[0] == 'company = "A \\"quoted\\" \\\\name"'
    acct.ok('SET office Room\\ 4" "B')
    assert acct.ok("SHOW ATTR office").pieces[0] == 'office = "Room 4 B"'
    acct.ok('SET nickName ""')
    assert acct.ok("SHOW ATTR nickName").pieces[0] == 'nickName = ""'
    acct.ok('SET department "R&D \\"core\\""')
    assert acct.ok("SHOW ATTR department").pieces[0] == 'department = "R&D \\"core\\""'
    # a '#' is not a comment
    acct.ok("SET website http://x.example/#top")
    assert acct.ok("SHOW ATTR website").pieces[0] == 'website = "http://x.example/#top"'


def test_utf8_values(acct):
    acct.ok('SET lastName "Müller-Żółć 東京"')
    assert acct.ok("SHOW ATTR lastName").pieces[0] == 'lastName = "Müller-Żółć 東京"'


def test_over_long_lines(acct):
    ctx = b"<domain-account-contactInfo#> "
    acct.send(b"SET lastName " + b"x" * 5000 + b"\r\n")
    assert acct.read_reply().raw == b"-ERR: Command line too long (at most 4096 bytes)\r\n" + ctx
    acct.send(b"SET lastName " + b"y" * 300000 + b"\r\n")
    assert acct.read_reply().raw == b"-ERR: Command line too long (at most 4096 bytes)\r\n" + ctx
    # a value that fits the line but not the attribute
    acct.send(b"SET lastName " + b"z" * 2000 + b"\r\n")
    assert acct.read_reply().text == "Invalid value for lastName"
    assert acct.ok("SHOW ATTR firstName").pieces[0] == 'firstName = "Pending"'
    still_usable(acct, "domain-account-contactInfo")


def test_nul_control_and_bad_utf8(cli):
    cli.send(b"LIST\x00 Domains\r\n")
    assert cli.read_reply().raw == b"-ERR: Invalid characters in the command line (NUL byte)\r\n<#> "
    cli.send(b"LIST\x07Domains\r\n")
    assert cli.read_reply().raw == b"-ERR: Invalid characters in the command line (control character)\r\n<#> "
    cli.send(b"LIST Domains \x7f\r\n")
    assert cli.read_reply().text == "Invalid characters in the command line (control character)"
    for bad in (b"\xc3\x28", b"\xff\xff", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x80"):
        cli.send(b"LIST Domains " + bad + b"\r\n")
        r = cli.read_reply()
        assert r.raw == b"-ERR: Invalid characters in the command line (not UTF-8)\r\n<#> ", bad
    still_usable(cli)


def test_telnet_commands_inside_a_line(cli):
    cli.send(b"LIST \xff\xf1Dom\xff\xfb\x01ains none-*\r\n")     # IAC NOP, IAC WILL ECHO
    r = cli.read_reply()
    assert r.ok and r.pieces[1] == "The list of domains:"
    # IAC SB ... IAC SE spanning what looks like a line end
    cli.send(b"LIST Dom\xff\xfa\x18\r\n\xff\xf0ains none-*\r\n")
    r = cli.read_reply()
    assert r.ok and r.pieces[1] == "The list of domains:"


def test_empty_lines_get_the_prompt(cli):
    assert cli.cmd("").raw == b"<#> "
    assert cli.cmd("   \t ").raw == b"<#> "
    still_usable(cli)


def test_attribute_errors(acct, dom):
    ctx = "domain-account-contactInfo"
    acct.err("SET noSuchThing 1", "Unknown attribute noSuchThing", ctx)
    acct.err("SET firstName", "Invalid parameters", ctx)
    acct.err("SET firstName a lastName", "Invalid parameters", ctx)
    acct.err("SHOW ATTR noSuchThing", "Unknown attribute noSuchThing", ctx)
    # an error anywhere in a SET changes nothing of that SET
    acct.err("SET lastName Doe bogus 1", "Unknown attribute bogus", ctx)
    assert acct.ok("SHOW ATTR lastName").pieces[0] == 'lastName = ""'
    acct.ok("DONE", "domain-account")
    acct.ok("CONFIG Quotas", "domain-account-quotas")
    acct.err("SET totalMessageSize lots", "Invalid value for totalMessageSize (a number from 0 to 4294967295)")
    acct.err("SET totalMessageSize -5", "Invalid value for totalMessageSize (a number from 0 to 4294967295)")
    acct.err("SET totalMessageSize 99999999999", "Invalid value for totalMessageSize (a number from 0 to 4294967295)")
    acct.err("SET mboxCount 5", "mboxCount cannot be set. Not supported: Tern keeps a single folder per account "
             "(the Maildir inbox; there is no IMAP), so the number of folders is always 1.")
    acct.err("RESET nothing", "Unknown attribute nothing")
    acct.ok("BACK", "domain-account")
    acct.err("SET accountType premium", "Invalid value for accountType (this server supports only basic)")
    acct.err("SET publishContactInfo yes", "Invalid value for publishContactInfo (this server supports only no)")
    acct.err('SET name "../someoneelse"', "Invalid value for name (not a valid local part)")
    acct.err('SET password ""', "Invalid value for password (empty)")


def test_not_yet_supported_commands_say_so(cli, dom):
    cli.err(f"CREATE Subdomain prefix a parentDomain {dom} postmasterPassword x",
            "CREATE Subdomain is not supported by this server yet", "")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("ADD Account name u1 password pw", "domain-account")
    cli.err("CONFIG Filters", "CONFIG Filters is not supported by this server yet", "domain-account")
    cli.err("INHERIT SETTINGS FROM accountClass x", "Account class x not found (this server has no account classes)")
    cli.ok("BACK", "domain")


def test_too_many_errors_close_the_session(fresh_server):
    ctrl = fresh_server.connect()
    set_settings(ctrl, CliMaxErrors=3)
    cli = fresh_server.cli()
    assert cli.cmd("BAD1").raw == b"-ERR: Unknown command\r\n<#> "
    cli.ok("LIST Domains")           # successes do not count
    assert cli.cmd("BAD2").raw == b"-ERR: Unknown command\r\n<#> "
    r = cli.cmd("BAD3")
    assert r.raw == b"-ERR: Unknown command\r\n<#> -ERR: Too many errors, closing connection\r\n"
    assert cli.at_eof()
    cli.close()
    ctrl.close()


HELP_LINE = re.compile(r"^(\S.*?) - (\S.*)$")


def help_lines(cli):
    r = cli.ok("HELP")
    assert r.pieces[0] == ""
    assert re.match(r"^The commands available for the [A-Za-z-]+ context are:$", r.pieces[1])
    assert r.pieces[-3] == ""
    lines = r.pieces[2:-3]
    for line in lines:
        assert HELP_LINE.match(line), line
        assert not line.endswith(">")
    return r.pieces[1], lines


def test_help_in_every_context(cli, dom):
    title, lines = help_lines(cli)
    assert title == "The commands available for the Initial context are:"
    assert "UPDATE Domain [name] <domainName> - Enter the context of an existing domain." in lines
    assert any(line.startswith("CREATE Domain name <name> ") for line in lines)
    assert any(line.startswith("CONFIG SERVER - ") for line in lines)
    assert not any(line.startswith(("BACK", "COMMIT")) for line in lines)
    assert any(line.startswith("ENTER QUEUE - ") for line in lines)
    cli.ok(f"CREATE Domain name h{dom}", "domain-create")
    title, lines = help_lines(cli)
    assert title == "The commands available for the Domain-Create context are:"
    assert any(line.startswith("SET [postmasterPassword <password>] - ") for line in lines)
    assert any(line.startswith("COMMIT - ") for line in lines)
    cli.ok("BACK", "")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    title, lines = help_lines(cli)
    assert title == "The commands available for the Domain context are:"
    assert any(line.startswith("ADD Account [name] <name> password <password> - ") for line in lines)
    assert any(line.startswith("SET [catchAllType <disabled|account>] - ") for line in lines)
    cli.ok("ADD Account name helpme password pw", "domain-account")
    title, lines = help_lines(cli)
    assert title == "The commands available for the Account context are:"
    assert any(line.startswith("SET [password <password>] - ") for line in lines)
    assert any(line.startswith("CONFIG ContactInfo - ") for line in lines)
    assert any(line.startswith("CONFIG Limits - ") for line in lines)
    assert not any(line.startswith("CONFIG Filters") for line in lines)
    cli.ok("CONFIG ContactInfo", "domain-account-contactInfo")
    title, lines = help_lines(cli)
    assert title == "The commands available for the ContactInfo context are:"
    assert any(line.startswith("SET [firstName <string>] - ") for line in lines)
    assert any(line.startswith("DONE - ") for line in lines)
    cli.ok("BACK", "domain-account")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    title, lines = help_lines(cli)
    assert title == "The commands available for the Quotas context are:"
    assert any(line.startswith("SET [totalMessageSize <number>] - ") for line in lines)
    # refused attributes are listed with their reason, never as settable
    assert all("Not supported" in line for line in lines if "mboxCount" in line)


# Commands listed by HELP that act when sent bare are skipped; every other
# listed command must be known to the parser in that context.
ACTING = ("EXIT/QUIT", "BACK", "COMMIT", "DONE", "SAVE CONFIG", "CONFIG ", "ENTER ", "HELP")


def test_help_and_parser_agree(server, c, dom):
    # Bare commands that need arguments fail; lift the error limit for this session.
    set_settings(c, CliMaxErrors=0)
    try:
        cli = server.cli()
        _help_and_parser_agree(cli, dom)
        cli.close()
    finally:
        set_settings(c, CliMaxErrors=20)


def _help_and_parser_agree(cli, dom):
    def check_context(context):
        _, lines = help_lines(cli)
        for line in lines:
            syntax = HELP_LINE.match(line).group(1)
            if syntax.startswith(ACTING):
                continue
            words = []
            for w in syntax.split():
                if w.startswith(("[", "<")) or not re.match(r"^[A-Za-z-]+$", w):
                    break
                words.append(w)
            if syntax.startswith("SET ["):     # SET [attr <value>]: the generic SET
                words = words[:1]
            r = cli.cmd(" ".join(words))
            assert not (r.text or "").startswith("Unknown command"), (context, line, r)
            assert r.context == context, (line, r)
    check_context("")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    check_context("domain")
