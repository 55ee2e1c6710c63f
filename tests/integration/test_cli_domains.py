"""Admin CLI, root and domain contexts: CREATE Domain / COMMIT / BACK,
UPDATE and SHOW Domain, LIST Domains layouts, domain aliases, the catch-all,
DELETE Domain and SAVE CONFIG - each checked through the controller too."""

import poplib
import re
import smtplib
import time

from cliclient import show_attrs, table_rows
from smtpclient import make_message, maildir, wait_token

COMMITTED = "committing changes and switching back to previous context"


def domains(c, *pats):
    return [r[0] for r in c.records("domainlist", *pats)]


def test_create_domain_exact_replies(cli, c, unique_name):
    d = unique_name("cr") + ".test"
    r = cli.cmd(f"CREATE Domain name {d} domainLocation /var/x wmFilterTemplatePath none postmasterPassword Pm-1")
    assert r.raw == b"+OK: command successful\r\n<domain-create#> "
    assert d not in domains(c)                       # nothing exists before COMMIT
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<#> ".encode()
    assert d in domains(c)
    assert [u[1] for u in c.records("userlist", d)] == ["postmaster"]


def test_created_domain_postmaster_can_use_pop3(server, cli, unique_name):
    d = unique_name("pm") + ".test"
    cli.ok(f"CREATE Domain name {d} postmasterPassword Pm-Secret.9", "domain-create")
    cli.ok("COMMIT", "")
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.user(f"postmaster@{d}")
    p.pass_("Pm-Secret.9")
    assert p.stat()[0] == 0
    p.quit()
    assert (server.root / "domains" / d).is_dir()


def test_create_domain_legacy_and_stepwise_forms(cli, c, unique_name):
    d1 = unique_name("lg") + ".test"
    # CLI2's create_domain: upper-case keywords, POSTMASTERPASSWD
    cli.ok(f'CREATE DOMAIN NAME "{d1}" DOMAINLOCATION "/x/{d1}" POSTMASTERPASSWD "pw-1"', "domain-create")
    cli.ok("COMMIT", "")
    assert d1 in domains(c)
    # NICK's style: attributes set inside the context
    d2 = unique_name("st") + ".test"
    cli.ok(f"create domain name {d2}", "domain-create")
    cli.err("COMMIT", "Missing required parameter postmasterPassword", "domain-create")
    cli.ok("SET groupwareSupport no postmasterPassword pw-2")
    cli.err("SET groupwareSupport yes", "Invalid value for groupwareSupport (this server supports only no)")
    r = cli.ok("SHOW")
    assert show_attrs(r)["name"] == f'"{d2}"'
    assert "postmasterPassword" not in show_attrs(r)          # secrets are never shown
    cli.ok("COMMIT", "")
    assert d2 in domains(c)


def test_create_domain_errors(cli, c, dom, unique_name):
    cli.err(f"CREATE Domain name {dom} postmasterPassword x", f"Domain {dom} already exists", "")
    cli.err(f"CREATE Domain name {dom.upper()} postmasterPassword x", f"Domain {dom} already exists", "")
    cli.err("CREATE Domain name bad..name postmasterPassword x",
            "Invalid value for name (not a valid domain name)", "")
    cli.err("CREATE Domain name a/b.test postmasterPassword x",
            "Invalid value for name (not a valid domain name)", "")
    d = unique_name("wm") + ".test"
    cli.err(f"CREATE Domain name {d} wmFilterTemplatePath /etc/x postmasterPassword x",
            "Invalid value for wmFilterTemplatePath (this server supports only none)", "")
    # created by someone else between CREATE and COMMIT
    cli.ok(f"CREATE Domain name {d} postmasterPassword x", "domain-create")
    c.ok("domainadd", d)
    cli.err("COMMIT", f"Commit failed: Domain {d} already exists", "domain-create")
    cli.ok("BACK", "")


def test_back_abandons_creation(cli, c, unique_name):
    d = unique_name("bk") + ".test"
    cli.ok(f"CREATE Domain name {d} postmasterPassword x", "domain-create")
    assert cli.cmd("BACK").raw == b"+OK: command successful\r\n<#> "
    assert d not in domains(c)
    cli.err(f"UPDATE Domain {d}", f"Domain {d} not found", "")


def test_list_domains_exact_layout(cli, c, unique_name):
    base = unique_name("ls")
    names = [f"{base}-a.test", f"{base}-b.test"]
    for n in names:
        c.ok("domainadd", n)
    r = cli.cmd(f"LIST Domains {base}-*")
    assert r.raw == (b"\r\nThe list of domains:\r\n\r\nname | status\r\n------------------------------\r\n"
                     + b"".join(f"{n} | enabled\r\n".encode() for n in names)
                     + b"\r\n+OK: command successful\r\n<#> ")
    assert [row.split()[0] for row in table_rows(r)] == names       # CLI2's slicing
    r = cli.ok(f"LIST AllDomains {base}-?.TEST")
    assert r.pieces[1] == "The list of all domains:"
    assert table_rows(r) == [f"{n} | enabled" for n in names]
    r = cli.ok("LIST Domains")
    assert set(names) <= {row.split()[0] for row in table_rows(r)}


def test_list_reply_is_one_write(cli, c, unique_name):
    base = unique_name("ow")
    for i in range(200):
        c.ok("domainadd", f"{base}-{i:03d}.test")
    cli.send_line(f"LIST Domains {base}-*")
    data = cli.recv_once()
    assert data.endswith(b"+OK: command successful\r\n<#> ")
    assert data.count(b" | enabled\r\n") == 200


def test_show_domain_exact_layout(server, cli, dom):
    r = cli.cmd(f"SHOW Domain name {dom}")
    assert r.raw == (f"\r\nThe attributes of this domain:\r\n"
                     f"name = \"{dom}\"\r\n"
                     f"domainLocation = \"{server.root}/domains/{dom}\"\r\n"
                     "catchAllType = disabled\r\n"
                     "catchAllAccountName = \"\"\r\n"
                     "catchAllFolderName = \"\"\r\n"
                     "services = (pop3 smtpIn smtpOut)\r\n"
                     "\r\n+OK: command successful\r\n<#> ").encode()
    r = cli.cmd(f"SHOW Domain {dom} ATTR catchAllType")
    assert r.raw == b"catchAllType = disabled\r\n+OK: command successful\r\n<#> "
    cli.err(f"SHOW Domain {dom} ATTR nope", "Unknown attribute nope", "")
    cli.err("SHOW Domain name nowhere.test", "Domain nowhere.test not found", "")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    attrs = show_attrs(cli.ok("SHOW"))
    for key in ("catchAllType", "catchAllAccountName", "catchAllFolderName"):
        assert key in attrs


def test_update_domain_switch(cli, c, dom, unique_name):
    other = unique_name("sw") + ".test"
    c.ok("domainadd", other)
    cli.ok(f"UPDATE Domain name {dom}", "domain")
    cli.ok(f"update domain {other}", "domain")        # allowed without pending edits
    assert show_attrs(cli.ok("SHOW"))["name"] == f'"{other}"'
    cli.ok(f"ADD Alias al-{other}")
    cli.err(f"UPDATE Domain {dom}", f"Domain {other} has pending changes; COMMIT or BACK first", "domain")
    cli.ok("BACK", "")


def test_domain_aliases(server, cli, c, dom, unique_name):
    a1, a2 = unique_name("a") + ".test", unique_name("b") + ".test"
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok(f"ADD Alias {a1}")
    cli.ok(f"ADD Alias {a2.upper()}")
    cli.err(f"ADD Alias {a1}", f"Alias {a1} already exists")
    cli.err(f"ADD Alias {dom}", f"Alias {dom} already exists")
    r = cli.cmd("LIST Aliases")
    assert r.raw == (f"\r\nThe list of aliases for this domain:\r\n{a1}\r\n{a2}\r\n\r\n"
                     "+OK: command successful\r\n<domain#> ").encode()
    assert c.records("aliasdomainlist", dom) == []     # pending only
    cli.ok("COMMIT", "")
    assert sorted(r[1] for r in c.records("aliasdomainlist", dom)) == sorted([a1, a2])
    # mail to an alias domain reaches the account
    c.ok("useradd", dom, "carol", "pw-carol", "U")
    msg = make_message("x@remote.example", f"carol@{a1}", "via alias")
    tok = msg.split(b"token ")[1].split(b"\r\n")[0].decode()
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.sendmail("x@remote.example", [f"carol@{a1}"], msg)
    wait_token(maildir(server.root, dom, "carol"), tok)
    # removal, and BACK throws pending removals away
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok(f"REMOVE Alias {a1}")
    cli.err(f"REMOVE Alias {a1}", f"Alias {a1} not found")
    cli.err("REMOVE Alias never.test", "Alias never.test not found")
    assert cli.ok("LIST Aliases").pieces[2:-3] == [a2]
    cli.ok("BACK", "")
    assert len(c.records("aliasdomainlist", dom)) == 2
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok(f"REMOVE Alias {a1}")
    cli.ok("COMMIT", "")
    assert [r[1] for r in c.records("aliasdomainlist", dom)] == [a2]


def test_catch_all(server, cli, c, dom):
    c.ok("useradd", dom, "john", "pw-john", "U")
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("SET catchAllType account")
    cli.err("COMMIT", "Missing required parameter catchAllAccountName", "domain")
    cli.ok("SET catchAllAccountName ghost")
    cli.err("COMMIT", "Commit failed: Account ghost not found", "domain")
    cli.ok("SET catchAllAccountName JOHN")
    cli.err("SET catchAllType folder", "Invalid value for catchAllType (one of: disabled|account)")
    attrs = show_attrs(cli.ok("SHOW"))
    assert attrs["catchAllType"] == "account" and attrs["catchAllAccountName"] == '"john"'
    cli.ok("COMMIT", "")
    assert [r[1:] for r in c.records("aliaslist", dom)] == [["*", "john"]]
    attrs = show_attrs(cli.ok(f"SHOW Domain {dom}"))
    assert attrs["catchAllType"] == "account" and attrs["catchAllAccountName"] == '"john"'
    msg = make_message("x@remote.example", f"whoever@{dom}", "catch-all")
    tok = msg.split(b"token ")[1].split(b"\r\n")[0].decode()
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        s.sendmail("x@remote.example", [f"whoever@{dom}"], msg)
    wait_token(maildir(server.root, dom, "john"), tok)
    cli.ok(f"UPDATE Domain {dom}", "domain")
    cli.ok("SET catchAllType disabled")
    cli.ok("COMMIT", "")
    assert c.records("aliaslist", dom) == []


def test_delete_domain(server, cli, c, unique_name):
    d = unique_name("del") + ".test"
    c.ok("domainadd", d)
    c.ok("useradd", d, "u1", "pw", "U")
    cli.err(f"DELETE Domain name {d} dontKeepCopy",
            "dontKeepCopy is not supported: a deleted domain is kept in the trash for TrashKeepDays days", "")
    assert d in domains(c)
    assert cli.cmd(f"DELETE Domain name {d}").raw == b"+OK: command successful\r\n<#> "
    assert d not in domains(c)
    cli.err(f"DELETE Domain name {d}", f"Domain {d} not found", "")
    assert re.search(rf"cli: admin=admin peer=127\.0\.0\.1: DELETE Domain name {re.escape(d)} -> "
                     rf"\+OK: command successful; domain {re.escape(d)} deleted", server.log)


def test_save_config_snapshots(server, cli, c, dom):
    c.ok("useradd", dom, "snap", "pw-snap", "U")
    c.ok("uservarsset", dom, "snap", "ContactInfo.firstName", "Snap")
    r = cli.ok("SAVE CONFIG")
    m = re.fullmatch(r"Configuration saved as snapshot (\d{6})-(\d{8}T\d{6}Z)", r.data[0])
    assert m and len(r.data) == 1, r
    first = int(m.group(1))
    snap = server.root / "snapshots" / r.data[0].split()[-1]
    for f in ("mailusers.tab", "domains.tab", "aliases.tab", "server.tab", "uservars.tab", "MANIFEST"):
        assert (snap / f).is_file(), f
    users = (snap / "mailusers.tab").read_text()
    assert f'"{dom}"\t"snap"' in users and "pw-snap" not in users
    assert f'"{dom}"\t"snap"\t"ContactInfo.firstName"\t"Snap"' in (snap / "uservars.tab").read_text()
    assert "admin\tadmin" in (snap / "MANIFEST").read_text()
    # versions grow; labels; lower case works (seed/clients send "save config")
    r = cli.ok("save config before-upgrade")
    m2 = re.fullmatch(r"Configuration saved as snapshot (\d{6})-\d{8}T\d{6}Z-before-upgrade", r.data[0])
    assert m2 and int(m2.group(1)) == first + 1
    cli.err("SAVE CONFIG ../../etc",
            "Invalid value for path (a snapshot label: letters, digits, '.', '_' and '-')", "")
    cli.err("SAVE CONFIG /tmp/x", "Invalid value for path (a snapshot label: letters, digits, '.', '_' and '-')")
    assert not [p for p in (server.root / "snapshots").iterdir() if p.name.startswith(".tmp")]
    assert "cli: admin=admin peer=127.0.0.1: SAVE CONFIG -> +OK: command successful; snapshot" in server.log


def test_change_admin_password(fresh_server):
    cli = fresh_server.cli()
    cli.err("CHANGE password oldPassword wrong newPassword n3w-pass", "Wrong value for oldPassword", "")
    cli.ok("CHANGE password oldPassword secret newPassword n3w-pass", "")
    cli.close()
    c2 = fresh_server.cli(login=False)
    c2.cmd("USER admin")
    assert c2.cmd("secret").text == "Authentication failed"
    c2.login("admin", "n3w-pass")
    c2.close()
    time.sleep(0.1)
    log = fresh_server.log
    assert "n3w-pass" not in log
    assert "CHANGE password oldPassword *** newPassword *** -> +OK: command successful" in log
    # the controller uses the same admin accounts
    fresh_server.connect(password="n3w-pass").close()
