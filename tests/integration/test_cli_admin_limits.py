"""A domain's administrative limits (<domain-adminLimits#>, CONFIG
adminLimits from a domain, left with COMMIT or BACK), enforced by the admin
core for the CLI and the XMail controller alike:

- maxAccounts (type U accounts), maxMaillists (lists), maxGroups (groups),
  0 = no limit: creating one more is refused (CLI: -ERR at the COMMIT,
  controller useradd: -00264 Too many elements); lowering a limit below
  what the domain holds removes nothing but blocks new objects;
- maxAccountMessageSizeQuota (KB), 0 = none: an account's totalMessageSize
  (MaxMBSize) above it, 0 (unlimited) or removed is refused (CLI CONFIG
  Quotas and controller uservarsset -00230); new accounts start at most at
  the ceiling;
- stored in domains/D/adminlimits.tab at the context's COMMIT (durable,
  survives a restart); BACK drops pending edits;
- maxAccountMessageCountQuota, maxAccountFolderMessageSizeQuota and
  maxAccountFolderMessageCountQuota: the same for totalMessageCount,
  messageSize and messageCount;
- limits Tern cannot honour (folder counts, public folders,
  classes, subdomains, licences) are refused on SET with the reason."""

import pytest

from cliclient import show_attrs

COMMITTED = "committing changes and switching back to previous context"
OK = b"+OK: command successful\r\n"


def users(c, dom):
    return {u[1]: u[3] for u in c.records("userlist", dom)}


def uservars(c, dom, user):
    return dict(c.records("uservars", dom, user))


def set_limits(cli, dom, **limits):
    cli.ok(f"UPDATE Domain name {dom}", "domain")
    cli.ok("CONFIG adminLimits", "domain-adminLimits")
    cli.ok("SET " + " ".join(f"{k} {v}" for k, v in limits.items()), "domain-adminLimits")
    cli.ok("COMMIT", "domain")
    cli.ok("COMMIT", "")


def limits_file(c, dom):
    r = c.cmd("cfgfileget", f"domains/{dom}/adminlimits.tab")
    return None if r.code == -19 else r.lines


def test_cas_call_pattern_byte_exact(cli, c, dom):
    assert cli.cmd(f"UPDATE Domain {dom}").raw == OK + b"<domain#> "
    assert cli.cmd("CONFIG adminLimits").raw == OK + b"<domain-adminLimits#> "
    assert cli.cmd("SET maxAccounts 25").raw == OK + b"<domain-adminLimits#> "
    assert cli.cmd("COMMIT").raw == f"+OK: {COMMITTED}\r\n<domain#> ".encode()
    # stored at the first COMMIT: the controller sees the file already
    assert limits_file(c, dom) == ['"maxAccounts"\t"25"']
    assert cli.cmd("COMMIT").raw == f"+OK: {COMMITTED}\r\n<#> ".encode()
    # keywords are case-insensitive, the prompt keeps the canonical case
    cli.ok(f"UPDATE Domain {dom}", "domain")
    assert cli.cmd("config ADMINLIMITS").raw == OK + b"<domain-adminLimits#> "
    r = cli.cmd("SHOW")
    assert r.raw == (b"\r\nThe attributes of this admin limit set:\r\nmaxAccounts = 25\r\nmaxMaillists = 0\r\n"
                     b"maxGroups = 0\r\nmaxAccountMessageSizeQuota = 0\r\nmaxAccountMessageCountQuota = 0\r\n"
                     b"maxAccountFolderMessageSizeQuota = 0\r\nmaxAccountFolderMessageCountQuota = 0\r\n\r\n" + OK +
                     b"<domain-adminLimits#> ")
    assert cli.cmd("SHOW ATTR maxAccounts").raw == b"maxAccounts = 25\r\n" + OK + b"<domain-adminLimits#> "
    help_text = cli.ok("HELP").raw.decode()
    assert "The commands available for the AdminLimits context are:" in help_text
    assert "SET [maxAccounts <number>] - Accounts the domain may hold, 0 = no limit" in help_text
    assert "SET [maxFolderRecipients <number>] - Not supported" in help_text
    assert "COMMIT - Store the limits and return to the domain." in help_text
    # 0 removes the limit; no limit at all removes the file
    cli.ok("SET maxAccounts 0", "domain-adminLimits")
    cli.ok("COMMIT", "domain")
    cli.ok("COMMIT", "")
    assert limits_file(c, dom) is None


def test_max_accounts_cli_and_controller(cli, c, dom):
    c.ok("useradd", dom, "u1", "pw-1", "U")
    set_limits(cli, dom, maxAccounts=2)
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("ADD Account name u2 password pw-2", "domain-account")
    cli.ok("COMMIT", "domain")
    cli.ok("ADD Account name u3 password pw-3", "domain-account")
    r = cli.err("COMMIT", "Commit failed: Domain limit reached: maxAccounts = 2 (CONFIG adminLimits)",
                "domain-account")
    assert r.raw.endswith(b"<domain-account#> ")
    cli.ok("BACK", "domain")
    r = c.cmd("useradd", dom, "u4", "pw-4", "U")
    assert (r.code, r.text) == (-264, "Too many elements")
    assert set(users(c, dom)) == {"u1", "u2"}
    # lists are not accounts
    c.ok("useradd", dom, "ml", "pw-ml", "M")
    # lowering below usage keeps what exists and blocks new ones
    set_limits(cli, dom, maxAccounts=1)
    assert {u for u, t in users(c, dom).items() if t == "U"} == {"u1", "u2"}
    assert c.cmd("useradd", dom, "u5", "pw-5", "U").code == -264
    c.ok("userdel", dom, "u2")
    assert c.cmd("useradd", dom, "u5", "pw-5", "U").code == -264   # 1 account, limit 1
    c.ok("userdel", dom, "u1")
    c.ok("useradd", dom, "u5", "pw-5", "U")
    # no limit again
    set_limits(cli, dom, maxAccounts=0)
    c.ok("useradd", dom, "u6", "pw-6", "U")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("ADD Account name u7 password pw-7", "domain-account")
    cli.ok("COMMIT", "domain")
    assert {"u5", "u6", "u7"} <= set(users(c, dom))


def test_max_maillists_and_groups(cli, c, dom):
    set_limits(cli, dom, maxMaillists=1, maxGroups=1)
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("ADD List name l1 password pw-l1", "domain-list")
    cli.ok("COMMIT", "domain")
    cli.ok("ADD List name l2 password pw-l2", "domain-list")
    cli.err("COMMIT", "Commit failed: Domain limit reached: maxMaillists = 1 (CONFIG adminLimits)", "domain-list")
    cli.ok("BACK", "domain")
    # a controller-made mailing list is a list
    r = c.cmd("useradd", dom, "l3", "pw-l3", "M")
    assert (r.code, r.text) == (-264, "Too many elements")
    # groups have their own limit
    cli.ok("ADD Group name g1", "domain-group")
    cli.ok(f"ADD Address x@{dom}", "domain-group")
    cli.ok("COMMIT", "domain")
    cli.ok("ADD Group name g2", "domain-group")
    cli.err("COMMIT", "Commit failed: Domain limit reached: maxGroups = 1 (CONFIG adminLimits)", "domain-group")
    cli.ok("BACK", "domain")
    # turning the list into a group (CliKind) needs room among the groups
    r = c.cmd("uservarsset", dom, "l1", "CliKind", "group")
    assert (r.code, r.text) == (-264, "Too many elements")
    assert uservars(c, dom, "l1").get("CliKind") == "list"
    # accounts are not limited by list/group limits
    cli.ok("ADD Account name acct password pw-a", "domain-account")
    cli.ok("COMMIT", "domain")
    assert users(c, dom) == {"l1": "M", "g1": "M", "acct": "U"}
    # after removing the group, the list may become one
    cli.ok("REMOVE Group g1", "domain")
    c.ok("uservarsset", dom, "l1", "CliKind", "group")
    c.ok("useradd", dom, "l3", "pw-l3", "M")


def test_quota_ceiling_cli_and_controller(cli, c, dom):
    c.ok("useradd", dom, "big", "pw-b", "U")
    assert uservars(c, dom, "big")["MaxMBSize"] == "10000"          # the server's default
    set_limits(cli, dom, maxAccountMessageSizeQuota=1024)
    assert uservars(c, dom, "big")["MaxMBSize"] == "10000"          # existing quotas stay
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("UPDATE Account big", "domain-account")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    cli.ok("SET totalMessageSize 2048", "domain-account-quotas")
    cli.ok("DONE", "domain-account")
    ceiling = ("Commit failed: Quota above the domain's ceiling: maxAccountMessageSizeQuota = 1024 KB "
               "(totalMessageSize must be 1 to 1024)")
    cli.err("COMMIT", ceiling, "domain-account")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    cli.ok("SET totalMessageSize 0", "domain-account-quotas")           # unlimited is above any ceiling
    cli.ok("DONE", "domain-account")
    cli.err("COMMIT", ceiling, "domain-account")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    cli.ok("SET totalMessageSize 1024", "domain-account-quotas")
    cli.ok("DONE", "domain-account")
    cli.ok("COMMIT", "domain")
    assert uservars(c, dom, "big")["MaxMBSize"] == "1024"
    # the controller obeys the same ceiling
    r = c.cmd("uservarsset", dom, "big", "MaxMBSize", "4096")
    assert (r.code, r.text) == (-230, "Invalid parameter")
    assert c.cmd("uservarsset", dom, "big", "MaxMBSize", "0").code == -230
    assert c.cmd("uservarsset", dom, "big", "MaxMBSize", ".|rm").code == -230
    c.ok("uservarsset", dom, "big", "MaxMBSize", "500", "RealName", "Big")
    assert uservars(c, dom, "big")["MaxMBSize"] == "500"
    c.ok("uservarsset", dom, "big", "RealName", "Other")                 # other variables are free
    # new accounts start at the ceiling (the default 10000 is above it)
    c.ok("useradd", dom, "new1", "pw-n", "U")
    assert uservars(c, dom, "new1")["MaxMBSize"] == "1024"
    cli.ok("ADD Account name new2 password pw-n2", "domain-account")
    cli.ok("COMMIT", "domain")
    cli.ok("UPDATE Account new2", "domain-account")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    assert cli.cmd("SHOW ATTR totalMessageSize").raw == (b"totalMessageSize = 1024\r\n" + OK +
                                                        b"<domain-account-quotas#> ")
    cli.ok("BACK", "domain-account")
    cli.ok("BACK", "domain")
    # a default under the ceiling is kept
    cli.ok("CONFIG accountDefaultQuotas", "domain-accountDefaultQuotas")
    cli.ok("SET totalMessageSize 300", "domain-accountDefaultQuotas")
    cli.ok("DONE", "domain")
    cli.ok("COMMIT", "")
    c.ok("useradd", dom, "new3", "pw-n3", "U")
    assert uservars(c, dom, "new3")["MaxMBSize"] == "300"
    # no ceiling: unlimited is allowed again
    set_limits(cli, dom, maxAccountMessageSizeQuota=0)
    c.ok("uservarsset", dom, "big", "MaxMBSize", "0")


def test_back_discards_pending_limits(cli, c, dom):
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("CONFIG adminLimits", "domain-adminLimits")
    cli.ok("SET maxAccounts 1 maxGroups 2", "domain-adminLimits")
    assert show_attrs(cli.ok("SHOW"))["maxAccounts"] == "1"              # pending shown
    assert cli.cmd("BACK").raw == OK + b"<domain#> "
    cli.ok("CONFIG adminLimits", "domain-adminLimits")
    assert show_attrs(cli.ok("SHOW")) == {"maxAccounts": "0", "maxMaillists": "0", "maxGroups": "0",
                                          "maxAccountMessageSizeQuota": "0", "maxAccountMessageCountQuota": "0",
                                          "maxAccountFolderMessageSizeQuota": "0",
                                          "maxAccountFolderMessageCountQuota": "0"}
    cli.ok("BACK", "domain")
    assert limits_file(c, dom) is None
    c.ok("useradd", dom, "a1", "pw", "U")
    c.ok("useradd", dom, "a2", "pw", "U")
    # EXIT drops pending edits too
    cli.ok("CONFIG adminLimits", "domain-adminLimits")
    cli.ok("SET maxAccounts 1", "domain-adminLimits")
    assert cli.cmd("EXIT").raw == b"+OK: have a nice day\r\n"
    assert limits_file(c, dom) is None


def test_bad_values_and_unsupported_attributes(cli, c, dom):
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("CONFIG adminLimits", "domain-adminLimits")
    cli.err("SET maxAccounts -1", "Invalid value for maxAccounts (a number from 0 to 2147483647)", "domain-adminLimits")
    cli.err("SET maxGroups lots", "Invalid value for maxGroups (a number from 0 to 2147483647)")
    cli.err("SET maxAccountMessageSizeQuota 4294967296",
            "Invalid value for maxAccountMessageSizeQuota (a number from 0 to 4294967295)")
    cli.err("SET maxColours 3", "Unknown attribute maxColours")
    cli.err("SET maxFolderRecipients 5",
            "maxFolderRecipients cannot be set. Not supported: Tern has no public folders.")
    cli.err("SET maxAccountMessageCountQuota 4294967296",
            "Invalid value for maxAccountMessageCountQuota (a number from 0 to 4294967295)")
    cli.err("SET maxAccountFolderCountQuota 10",
            "maxAccountFolderCountQuota cannot be set. Not supported: Tern's mailboxes have one folder "
            "(no folder count to limit).")
    cli.err("SET maxAccountClasses 1", "maxAccountClasses cannot be set. Not supported: Tern has no account classes.")
    cli.err("SET maxPublicFolderMessageSizeQuota 1",
            "maxPublicFolderMessageSizeQuota cannot be set. Not supported: Tern has no public folders.")
    cli.err("SET maxSubdomains 1", "maxSubdomains cannot be set. Not supported: Tern has no subdomains.")
    cli.err("SET maxPremiumMailboxCount 1",
            "maxPremiumMailboxCount cannot be set. Not supported: Tern has no licence ceilings (every account is basic).")
    cli.err("SET availableServices (pop3)", None, "domain-adminLimits")
    cli.err("SHOW ATTR maxFolderRecipients",
            "maxFolderRecipients cannot be shown. Not supported: Tern has no public folders.")
    # a refused pair leaves the whole SET undone
    cli.err("SET maxAccounts 5 maxFolderRecipients 5", None, "domain-adminLimits")
    assert show_attrs(cli.ok("SHOW"))["maxAccounts"] == "0"
    cli.err("ADD reservedRcpt abuse", "ADD reservedRcpt is not supported by this server yet")
    cli.err("LIST subdomainMessageStorageLocations", "This server has no subdomains")
    cli.err("ADD Account name x password y", "Unknown command in this context", "domain-adminLimits")
    cli.err("DONE", None, "domain-adminLimits")                           # a COMMIT context
    cli.ok("COMMIT", "domain")                                            # nothing pending
    assert limits_file(c, dom) is None
    # the errors changed nothing
    for i in range(3):
        c.ok("useradd", dom, f"free{i}", "pw", "U")


def test_limits_survive_a_restart(fresh_server):
    c = fresh_server.connect()
    d = "persist-limits.test"
    c.ok("domainadd", d)
    cli = fresh_server.cli()
    set_limits(cli, d, maxAccounts=1, maxGroups=3, maxAccountMessageSizeQuota=2048)
    cli.close()
    c.close()
    fresh_server.restart()
    c = fresh_server.connect()
    cli = fresh_server.cli()
    cli.ok(f"UPDATE Domain {d}", "domain")
    cli.ok("CONFIG adminLimits", "domain-adminLimits")
    assert show_attrs(cli.ok("SHOW")) == {"maxAccounts": "1", "maxMaillists": "0", "maxGroups": "3",
                                          "maxAccountMessageSizeQuota": "2048", "maxAccountMessageCountQuota": "0",
                                          "maxAccountFolderMessageSizeQuota": "0",
                                          "maxAccountFolderMessageCountQuota": "0"}
    cli.ok("BACK", "domain")
    c.ok("useradd", d, "one", "pw", "U")
    assert uservars(c, d, "one")["MaxMBSize"] == "2048"
    assert c.cmd("useradd", d, "two", "pw", "U").code == -264
    # a deleted domain takes its limits with it
    c.ok("domaindel", d)
    c.ok("domainadd", d)
    c.ok("useradd", d, "one", "pw", "U")
    c.ok("useradd", d, "two", "pw", "U")
    cli.close()
    c.close()


def test_count_and_folder_ceilings(cli, c, dom):
    """maxAccountMessageCountQuota, maxAccountFolderMessageSizeQuota and
    maxAccountFolderMessageCountQuota limit totalMessageCount (MaxMessages),
    messageSize (FolderMaxMBSize) and messageCount (FolderMaxMessages) the
    way the size ceiling limits totalMessageSize, for the CLI and the
    controller; new accounts start at the ceilings."""
    c.ok("useradd", dom, "cnt", "pw-c", "U")
    set_limits(cli, dom, maxAccountMessageCountQuota=100, maxAccountFolderMessageSizeQuota=2048,
               maxAccountFolderMessageCountQuota=50)
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("CONFIG adminLimits", "domain-adminLimits")
    shown = show_attrs(cli.cmd("SHOW"))
    assert (shown["maxAccountMessageCountQuota"], shown["maxAccountFolderMessageSizeQuota"],
            shown["maxAccountFolderMessageCountQuota"]) == ("100", "2048", "50")
    cli.ok("BACK", "domain")
    cli.ok("UPDATE Account cnt", "domain-account")
    for attr, bad, limit, unit in (("totalMessageCount", 101, "maxAccountMessageCountQuota = 100", ""),
                                   ("messageSize", 4096, "maxAccountFolderMessageSizeQuota = 2048", " KB"),
                                   ("messageCount", 0, "maxAccountFolderMessageCountQuota = 50", "")):
        cli.ok("CONFIG Quotas", "domain-account-quotas")
        cli.ok(f"SET {attr} {bad}", "domain-account-quotas")
        cli.ok("DONE", "domain-account")
        top = limit.split(" = ")[1]
        cli.err("COMMIT", f"Commit failed: Quota above the domain's ceiling: {limit}{unit} "
                          f"({attr} must be 1 to {top})", "domain-account")
        cli.ok("CONFIG Quotas", "domain-account-quotas")
        cli.ok(f"SET {attr} {top}", "domain-account-quotas")
        cli.ok("DONE", "domain-account")
    cli.ok("COMMIT", "domain")
    v = uservars(c, dom, "cnt")
    assert (v["MaxMessages"], v["FolderMaxMBSize"], v["FolderMaxMessages"]) == ("100", "2048", "50")
    # the controller obeys the same ceilings
    assert c.cmd("uservarsset", dom, "cnt", "MaxMessages", "500").code == -230
    assert c.cmd("uservarsset", dom, "cnt", "FolderMaxMessages", "0").code == -230
    c.ok("uservarsset", dom, "cnt", "MaxMessages", "20")
    # new accounts start at the ceilings
    c.ok("useradd", dom, "fresh", "pw-f", "U")
    v = uservars(c, dom, "fresh")
    assert (v["MaxMessages"], v["FolderMaxMBSize"], v["FolderMaxMessages"]) == ("100", "2048", "50")
    cli.ok("BACK", "")
