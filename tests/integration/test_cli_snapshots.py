"""Admin CLI: SAVE CONFIG snapshots listed, shown and restored. A restore
brings back the server settings, deleted domains with their alias domains
and aliases, and account variables; it saves the current configuration
first and is logged like every change."""

import re

from cliclient import show_attrs, simple_items, table_rows

COMMITTED = "committing changes and switching back to previous context"


def server_tab(c):
    return dict((f.strip('"') for f in line.split("\t")) for line in c.listing("cfgfileget", "server.tab"))


def domains(c):
    return [r[0] for r in c.records("domainlist")]


def test_save_list_show_restore(fresh_server):
    srv = fresh_server
    c = srv.connect()
    cli = srv.cli()
    # a domain with an alias domain, an account alias and a quota; a setting
    cli.ok("CREATE Domain name snap.test postmasterPassword Pm-1")
    cli.ok("COMMIT", "")
    cli.ok("UPDATE Domain snap.test")
    cli.ok("ADD Alias snap-alias.test")
    cli.ok("ADD Account name john password J-1")
    cli.ok("ADD Alias jj")
    cli.ok("CONFIG Quotas")
    cli.ok("SET totalMessageSize 777")
    cli.ok("DONE")
    cli.ok("COMMIT", "domain")
    cli.ok("COMMIT", "")
    c.ok("domainadd", "keep.test")
    c.ok("useradd", "keep.test", "kim", "K-1", "U")
    c.ok("uservarsset", "keep.test", "kim", "MaxMBSize", "100")
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("SET maxErrors 33")
    cli.ok("COMMIT")
    cli.ok("COMMIT", "")
    r = cli.ok("SAVE CONFIG good")
    name = r.data[0].split()[-1]
    assert re.fullmatch(r"\d{6}-\d{8}T\d{6}Z-good", name)
    r = cli.cmd("LIST ConfigSnapshots")
    assert r.raw == (f"\r\nThe list of configuration snapshots:\r\n\r\nname | version | admin\r\n"
                     f"------------------------------\r\n{name} | {int(name[:6])} | admin\r\n\r\n"
                     f"+OK: command successful\r\n<#> ").encode()
    attrs = show_attrs(cli.cmd(f"SHOW ConfigSnapshot {name}"))
    assert attrs["name"] == f'"{name}"' and attrs["admin"] == '"admin"' and attrs["peer"] == '"127.0.0.1"'
    assert "domains.tab" in attrs["files"]
    items = simple_items(cli.cmd(f"SHOW ConfigSnapshot {name} file domains.tab"))
    assert '"snap.test"' in items
    cli.err(f"SHOW ConfigSnapshot {name} file ../../tern.db", "Invalid value for file (one of the files SHOW lists)", "")
    cli.err("SHOW ConfigSnapshot 000999-20200101T000000Z", "Snapshot 000999-20200101T000000Z not found", "")
    cli.err("RESTORE ConfigSnapshot ../x", "Snapshot ../x not found", "")

    # damage: the domain goes, a setting and a variable change
    cli.ok("DELETE Domain name snap.test")
    c.ok("uservarsset", "keep.test", "kim", "MaxMBSize", "5")
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("SET maxErrors 7")
    cli.ok("COMMIT")
    cli.ok("COMMIT", "")
    assert "snap.test" not in domains(c)
    assert server_tab(c)["SmtpMaxErrors"] == "7"

    r = cli.cmd(f"RESTORE ConfigSnapshot {name}")
    assert r.ok and r.context == ""
    m = re.fullmatch(rf"Configuration restored {name} \(the previous configuration was saved as "
                     rf"(\d{{6}}-\d{{8}}T\d{{6}}Z-before-restore-{name[:6]})\): \d+ settings, 1 domains, "
                     rf"1 alias domains, (\d+) aliases, 0 external aliases, (\d+) account variables, 0 admin accounts, "
                     rf"0 permission records, 0 access rules, \d+ files written, \d+ files removed", r.data[0])
    assert m, r.data
    before = m.group(1)
    # live through the controller
    assert "snap.test" in domains(c)
    assert any(sorted(r) == ["snap-alias.test", "snap.test"] for r in c.records("aliasdomainlist"))
    assert any(r[:2] == ["snap.test", "jj"] for r in c.records("aliaslist"))
    assert server_tab(c)["SmtpMaxErrors"] == "33"
    assert dict(c.records("uservars", "keep.test", "kim"))["MaxMBSize"] == "100"
    # the state before the restore is a snapshot too, and restoring it undoes the restore's settings
    assert before in [row.split(" | ")[0] for row in table_rows(cli.cmd("LIST ConfigSnapshots"))]
    cli.ok(f"RESTORE ConfigSnapshot {before}")
    assert server_tab(c)["SmtpMaxErrors"] == "7"
    assert f"cli: admin=admin peer=127.0.0.1: RESTORE ConfigSnapshot {name} -> +OK: command successful; " \
           f"restored {name}" in srv.log
    cli.close()
    c.close()
