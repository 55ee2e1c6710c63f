"""SAVE CONFIG snapshots cover the whole configuration (format 2): per-domain
and per-account files, the server-wide configuration files, every access map,
the admin accounts and their permission records. RESTORE ConfigSnapshot brings
them back live; an old (format 1) snapshot still restores; a restore or a
controller upload that would break a domain's admin limits is refused and
changes nothing. LIST ConfigFiles is the one classification of the data root:
a configured root holds no file it does not classify."""

import fnmatch
import os
import re
import shutil
from pathlib import Path

from cliclient import CliClient, show_attrs, table_rows
from ctrlclient import xmail_encode

OK_CLI_DENIED = b"-ERR: Access denied for your address, closing connection\r\n"


def save(cli, label):
    r = cli.ok(f"SAVE CONFIG {label}")
    return r.data[0].split()[-1]


def restore(cli, name):
    r = cli.cmd(f"RESTORE ConfigSnapshot {name}")
    assert r.ok and r.context == "", r.raw
    m = re.search(r"(\d+) admin accounts, (\d+) permission records, (\d+) access rules, (\d+) files written, "
                  r"(\d+) files removed$", r.data[0])
    assert m, r.data
    return [int(x) for x in m.groups()]


def snapshot_names(cli):
    return [row.split(" | ")[0] for row in table_rows(cli.cmd("LIST ConfigSnapshots"))]


def set_domain(cli, dom, *sets, sub=None):
    cli.ok(f"UPDATE Domain name {dom}", "domain")
    if sub:
        cli.ok(f"CONFIG {sub}")
    for s in sets:
        cli.ok(f"SET {s}")
    if sub:
        cli.ok("COMMIT" if sub == "adminLimits" else "DONE", "domain")
    cli.ok("COMMIT", "")


def cli_deny_rule(cli, add):
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG CLI")
    cli.ok("CONFIG AccessControl")
    cli.ok("ADD DenyRule ::1 priority 10" if add else "REMOVE DenyRule ::1")
    cli.ok("DONE")
    cli.ok("COMMIT", "server")
    cli.ok("COMMIT", "")


def aacl(cli, *lines, user=None):
    cli.ok("ENTER AACL", "aacl")
    if user:
        cli.ok(f"UPDATE admin-user {user}", "aacl-adminUser")
    for l in lines:
        cli.ok(l)
    if user:
        cli.ok("DONE", "aacl")
    cli.ok("DONE", "")


def cli6_refused(srv):
    with CliClient("::1", srv.cli_port) as c6:
        return c6.banner.raw == OK_CLI_DENIED


def test_restore_brings_back_files_maps_admins_and_permissions(fresh_server):
    srv = fresh_server
    root = Path(srv.root)
    cli = srv.cli()
    c = srv.connect()
    cli.ok("CREATE Domain name s.test postmasterPassword Pm-Secret.1", "domain-create")
    cli.ok("COMMIT", "")
    c.ok("useradd", "s.test", "ann", "Ann-pw.1", "U")
    c.ok("domainadd", "t.test")
    set_domain(cli, "s.test", "services (smtpIn smtpOut)")
    set_domain(cli, "s.test", "maxAccounts 5", sub="adminLimits")
    set_domain(cli, "s.test", "totalMessageSize 2048", sub="accountDefaultQuotas")
    assert c.upload(("usersetmproc", "s.test", "ann"), ["mailbox"]).code == 0
    assert c.upload(("cfgfileset", "smtpfwd.tab"), ['"far.test"\t"relay.far.test"']).code == 0
    cli_deny_rule(cli, True)
    assert cli6_refused(srv)
    # admins: hd restricted on s.test, old (deleted later), both through the CLI
    aacl(cli, "ADD admin-user name hd password Hd-Secret.1", "DONE",
         "ADD admin-user name old password Old-Secret.1", "DONE")
    aacl(cli, "GRANT permission (manageAccounts createAccounts)",
         "DENY permission (createAccounts) domain s.test", user="hd")
    hd = srv.connect(user="hd", password="Hd-Secret.1")
    assert hd.cmd("useradd", "s.test", "bob", "Bob-pw.1", "U").code == -150
    hd.close()

    name = save(cli, "full")
    snap = root / "snapshots" / name
    attrs = show_attrs(cli.cmd(f"SHOW ConfigSnapshot {name}"))
    for f in ("cli.ipmap.tab", "adminusers.tab", "aacl.tab", "files/smtpfwd.tab", "files/domains/s.test/services.tab",
              "files/domains/s.test/adminlimits.tab", "files/domains/s.test/userdef.tab",
              "files/userdef.tab"):
        assert f in attrs["files"].strip("()").split(), attrs["files"]
    acct_mailproc = [p for p in attrs["files"].strip("()").split() if p.endswith("/mailproc.tab")]
    assert len(acct_mailproc) == 1 and acct_mailproc[0].startswith("files/domains/s.test/")
    r = cli.cmd(f"SHOW ConfigSnapshot {name} file files/domains/s.test/services.tab")
    assert r.pieces[2:-3] == ["smtpIn smtpOut"], r.raw
    # password hashes never leave the server
    r = cli.cmd(f"SHOW ConfigSnapshot {name} file adminusers.tab")
    assert '"hd"\t"********"\t"********"' in r.pieces, r.raw
    assert b"$y$" not in r.raw and "$y$" in (snap / "adminusers.tab").read_text()
    assert c.cmd("cfgfileget", f"snapshots/{name}/adminusers.tab").code < 0
    r = cli.cmd(f"SHOW ConfigSnapshot {name} file aacl.tab")
    assert '"u"\t"hd"\t"createAccounts"\t"s.test"\t"deny"' in r.pieces, r.raw
    cli.err(f"SHOW ConfigSnapshot {name} file files/../tern.db",
            "Invalid value for file (one of the files SHOW lists)", "")

    # change everything, through the CLI and the controller
    set_domain(cli, "s.test", "services (pop3 smtpIn smtpOut)")
    set_domain(cli, "s.test", "maxAccounts 0", sub="adminLimits")
    assert c.upload(("usersetmproc", "s.test", "ann"), []).code == 0
    assert c.upload(("cfgfileset", "smtpfwd.tab"), []).code == 0
    assert c.upload(("custdomset", "new.test"), ['"smtp"']).code == 0
    cli_deny_rule(cli, False)
    assert not cli6_refused(srv)
    aacl(cli, "REVOKE permission (createAccounts) domain s.test", user="hd")
    aacl(cli, "REMOVE admin-user old")
    aacl(cli, "ADD admin-user name late password Late-Secret.1", "DONE")
    aacl(cli, "DENY permission (manageAccounts createAccounts manageDomainAliases)", user="late")
    hd = srv.connect(user="hd", password="Hd-Secret.1")
    hd.ok("useradd", "s.test", "bob", "Bob-pw.1", "U")
    hd.ok("userdel", "s.test", "bob")
    hd.close()
    assert not (root / "domains/s.test/services.tab").exists()
    assert not (root / "smtpfwd.tab").exists()

    admins, perms, rules, written, removed = restore(cli, name)
    assert admins == 1 and perms >= 3 and rules == 1 and written >= 6 and removed == 1
    # the files are back and live
    assert (root / "domains/s.test/services.tab").read_text() == "smtpIn smtpOut\n"
    assert c.listing("cfgfileget", "domains/s.test/adminlimits.tab") == ['"maxAccounts"\t"5"']
    assert c.listing("cfgfileget", "smtpfwd.tab") == ['"far.test"\t"relay.far.test"']
    assert c.listing("usergetmproc", "s.test", "ann", "U") == ["mailbox"]
    assert not (root / "custdomains/new.test.tab").exists()       # made after the snapshot
    cli.ok("UPDATE Domain name s.test", "domain")
    assert show_attrs(cli.cmd("SHOW"))["services"] == "(smtpIn smtpOut)"
    cli.ok("BACK", "")
    # the access map refuses again, the deny is enforced again
    assert cli6_refused(srv)
    hd = srv.connect(user="hd", password="Hd-Secret.1")
    assert hd.cmd("useradd", "s.test", "bob", "Bob-pw.1", "U").code == -150
    hd.ok("useradd", "t.test", "bob", "Bob-pw.1", "U")              # the server-wide grant holds
    hd.close()
    # a deleted admin comes back with its password; one made since keeps its denies
    srv.connect(user="old", password="Old-Secret.1").close()
    late = srv.connect(user="late", password="Late-Secret.1")
    assert late.cmd("useradd", "s.test", "zed", "Zed-pw.1", "U").code == -150
    late.close()
    assert "zed" not in [u[1] for u in c.records("userlist", "s.test")]
    assert "restored " + name in srv.log
    # and the restore itself can be undone: the state before it is a snapshot
    before = [n for n in snapshot_names(cli) if n.endswith(f"before-restore-{name[:6]}")]
    assert len(before) == 1
    restore(cli, before[0])
    assert not (root / "domains/s.test/services.tab").exists()
    assert (root / "custdomains/new.test.tab").exists()
    assert not cli6_refused(srv)
    cli.close()
    c.close()


def make_old_format(snap):
    """What SAVE CONFIG wrote before format 2."""
    for f in ("cli.ipmap.tab", "pop3.ipmap.tab", "smtp.ipmap.tab", "adminusers.tab", "aacl.tab"):
        (snap / f).unlink()
    shutil.rmtree(snap / "files")
    m = snap / "MANIFEST"
    m.write_text("".join(l for l in m.read_text().splitlines(True) if not l.startswith("format\t")))


def test_old_format_snapshot_still_restores(fresh_server):
    srv = fresh_server
    root = Path(srv.root)
    cli = srv.cli()
    c = srv.connect()
    c.ok("domainadd", "o.test")
    c.ok("useradd", "o.test", "kim", "Kim-pw.1", "U")
    c.ok("uservarsset", "o.test", "kim", "MaxMBSize", "300")
    name = save(cli, "old")
    make_old_format(root / "snapshots" / name)
    attrs = show_attrs(cli.cmd(f"SHOW ConfigSnapshot {name}"))
    assert "aacl.tab" not in attrs["files"] and "files/" not in attrs["files"]
    # made after the snapshot: files and admins an old snapshot knows nothing of stay
    set_domain(cli, "o.test", "services (smtpIn smtpOut)")
    aacl(cli, "ADD admin-user name late password Late-Secret.1", "DONE")
    aacl(cli, "DENY permission (manageAccounts) domain o.test", user="late")
    c.ok("uservarsset", "o.test", "kim", "MaxMBSize", "400")
    admins, perms, rules, written, removed = restore(cli, name)
    assert (admins, perms, rules, written, removed) == (0, 0, 0, 0, 0)
    assert dict(c.records("uservars", "o.test", "kim"))["MaxMBSize"] == "300"
    assert (root / "domains/o.test/services.tab").read_text() == "smtpIn smtpOut\n"
    late = srv.connect(user="late", password="Late-Secret.1")
    assert late.cmd("uservarsset", "o.test", "kim", "MaxMBSize", "10").code == -150
    late.close()
    cli.close()
    c.close()


def ulist(c):
    return sorted(tuple(u) for u in c.records("userlist"))


def test_upload_over_admin_limits_refused(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    c = srv.connect()
    c.ok("domainadd", "l.test")
    c.ok("domainadd", "free.test")
    c.ok("useradd", "l.test", "a1", "A1-pw.1", "U")
    set_domain(cli, "l.test", "maxAccounts 2", "maxMaillists 1", "maxAccountMessageSizeQuota 500",
               sub="adminLimits")
    table = c.listing("cfgfileget", "mailusers.tab")
    before = ulist(c)
    pw = xmail_encode("New-pw.1")
    new = lambda dom, user, t="U": f'"{dom}"\t"{user}"\t"{pw}"\t0\t"{user}"\t"{t}"'
    # two more accounts: the second is over maxAccounts (line numbers are 1-based)
    r = c.upload(("cfgfileset", "mailusers.tab"),
                 table + [new("free.test", "f1"), new("l.test", "a2"), new("l.test", "a3")])
    assert r.code == -264 and f"(line {len(table) + 3})" in r.text, r
    assert ulist(c) == before
    # two lists, one allowed
    r = c.upload(("cfgfileset", "mailusers.tab"), table + [new("l.test", "m1", "M"), new("l.test", "m2", "M")])
    assert r.code == -264 and f"(line {len(table) + 2})" in r.text, r
    assert ulist(c) == before
    assert "upload refused: domain l.test would have 2 lists, above maxMaillists 1" in srv.log
    # replacing an account keeps the count: allowed; within the limit too, quota capped at the ceiling
    a1 = [l for l in table if l.startswith('"l.test"\t"a1"')]
    rest = [l for l in table if l not in a1]
    r = c.upload(("cfgfileset", "mailusers.tab"), rest + [new("l.test", u) for u in ("b1", "b2", "b3")])
    assert r.code == -264 and f"(line {len(rest) + 3})" in r.text, r
    assert ulist(c) == before
    assert c.upload(("cfgfileset", "mailusers.tab"), rest + a1 + [new("l.test", "a2")]).code == 0
    assert "a2" in [u[1] for u in c.records("userlist", "l.test")]
    assert int(dict(c.records("uservars", "l.test", "a2"))["MaxMBSize"]) <= 500
    cli.close()
    c.close()


def test_restore_over_admin_limits_refused(fresh_server):
    srv = fresh_server
    root = Path(srv.root)
    cli = srv.cli()
    c = srv.connect()
    c.ok("domainadd", "q.test")
    c.ok("useradd", "q.test", "kim", "Kim-pw.1", "U")
    c.ok("uservarsset", "q.test", "kim", "MaxMBSize", "5000")
    name = save(cli, "big")
    old = save(cli, "big-old")
    make_old_format(root / "snapshots" / old)
    # a ceiling set since; lowering below what exists is allowed
    set_domain(cli, "q.test", "maxAccountMessageSizeQuota 1000", sub="adminLimits")
    c.ok("uservarsset", "q.test", "kim", "MaxMBSize", "800")
    users_before, snaps_before = ulist(c), snapshot_names(cli)
    # the old snapshot does not hold the domain's limits: the current ceiling holds
    r = cli.err(f"RESTORE ConfigSnapshot {old}", None, "")
    assert r.text == (f"Snapshot {old} not restored, nothing changed: account kim@q.test would get MaxMBSize "
                      f"5000 above the domain's maxAccountMessageSizeQuota 1000 (CONFIG adminLimits)"), r.raw
    assert dict(c.records("uservars", "q.test", "kim"))["MaxMBSize"] == "800"
    assert ulist(c) == users_before and snapshot_names(cli) == snaps_before
    assert (root / "domains/q.test/adminlimits.tab").exists()
    # a format-2 snapshot brings its own limits (none then) with the quota: consistent, allowed
    restore(cli, name)
    assert dict(c.records("uservars", "q.test", "kim"))["MaxMBSize"] == "5000"
    assert not (root / "domains/q.test/adminlimits.tab").exists()
    cli.close()
    c.close()


def classification(cli):
    rows = [r.split(" | ") for r in table_rows(cli.cmd("LIST ConfigFiles"))]
    assert rows and all(len(r) == 3 for r in rows)
    return [(p, cls) for p, cls, _ in rows]


def classify(table, rel):
    parts = rel.split("/")
    for pat, cls in table:
        pp = pat.split("/")
        tree = pp[-1] == "**"
        if tree:
            pp = pp[:-1]
        if len(parts) < len(pp) or (not tree and len(parts) != len(pp)):
            continue
        if all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, pp)):
            return cls
    return None


def test_every_file_of_a_configured_root_is_classified(fresh_server):
    """Configure every kind of thing the admin interfaces can, deliver mail,
    delete an account (trash), save a snapshot: then every file under the root
    must be classified by LIST ConfigFiles, and every configuration file must
    be in a new snapshot. A new configuration file that the list does not
    classify makes this test fail."""
    srv = fresh_server
    root = Path(srv.root)
    cli = srv.cli()
    c = srv.connect()
    cli.ok("CREATE Domain name k.test postmasterPassword Pm-Secret.1", "domain-create")
    cli.ok("COMMIT", "")
    for u in ("ann", "gone"):
        c.ok("useradd", "k.test", u, "U-pw.1", "U")
    set_domain(cli, "k.test", "services (smtpIn smtpOut)")
    set_domain(cli, "k.test", "maxAccounts 9", sub="adminLimits")
    set_domain(cli, "k.test", "totalMessageSize 2048", sub="accountDefaultQuotas")
    assert c.upload(("usersetmproc", "k.test", "ann"), ["mailbox"]).code == 0
    assert c.upload(("usersetmproc", "k.test", "ann", "D"), ["mailbox"]).code == 0
    assert c.upload(("custdomset", "cust.test"), ['"smtp"']).code == 0
    assert c.upload(("cfgfileset", "smtpfwd.tab"), ['"far.test"\t"relay.far.test"']).code == 0
    assert c.upload(("cfgfileset", "smtpgw.tab"), ['"gw.test"\t"relay.gw.test"']).code == 0
    assert c.upload(("cfgfileset", "userauth/smtp/relay.gw.test.tab"), ['"PLAIN"\t"u"\t"p"']).code == 0
    cli_deny_rule(cli, True)
    aacl(cli, "ADD admin-group name desk", "DONE", "ADD admin-user name hd password Hd-Secret.1", "DONE")
    import smtplib
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=20) as s:
        s.sendmail("x@ext.test", ["ann@k.test"], b"Subject: hi\r\n\r\nbody\r\n")
    import time
    deadline = time.time() + 20
    while not list((root / "domains/k.test").glob("*/Maildir/new/*")) and time.time() < deadline:
        time.sleep(0.1)
    c.ok("userdel", "k.test", "gone")
    name = save(cli, "walk")

    table = classification(cli)
    unclassified, config = [], []
    for dirpath, dirs, files in os.walk(root):
        for f in files:
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            if "/.tmp." in "/" + rel:
                continue
            cls = classify(table, rel)
            if cls is None:
                unclassified.append(rel)
            elif cls == "config-file":
                config.append(rel)
    assert not unclassified, f"files LIST ConfigFiles does not classify: {unclassified}"
    files = show_attrs(cli.cmd(f"SHOW ConfigSnapshot {name}"))["files"].strip("()").split()
    snap_files = sorted(p[len("files/"):] for p in files if p.startswith("files/"))
    assert snap_files == sorted(config)
    for want in ("userdef.tab", "smtpfwd.tab", "smtpgw.tab", "custdomains/cust.test.tab",
                 "userauth/smtp/relay.gw.test.tab", "domains/k.test/services.tab", "domains/k.test/adminlimits.tab",
                 "domains/k.test/userdef.tab", "domains/k.test/mailproc.tab"):
        assert want in config, (want, config)
    # the store, mail, queue, keys, logs, trash are there and classified as such
    assert classify(table, "tern.db") == "config-store"
    assert any(classify(table, r) == "mail" for r in
               (os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root / "domains") for f in fs))
    cli.close()
    c.close()


def test_restore_turning_lists_into_groups_past_the_limit_refused(fresh_server):
    srv = fresh_server
    root = Path(srv.root)
    cli = srv.cli()
    c = srv.connect()
    c.ok("domainadd", "g.test")
    c.ok("useradd", "g.test", "g1", "G1-pw.1", "M")
    c.ok("uservarsset", "g.test", "g1", "CliKind", "group")
    old = save(cli, "groups")
    make_old_format(root / "snapshots" / old)
    c.ok("uservarsset", "g.test", "g1", "CliKind", "list")
    c.ok("useradd", "g.test", "g2", "G2-pw.1", "M")
    c.ok("uservarsset", "g.test", "g2", "CliKind", "group")
    set_domain(cli, "g.test", "maxGroups 1", sub="adminLimits")
    snaps = snapshot_names(cli)
    r = cli.err(f"RESTORE ConfigSnapshot {old}", None, "")
    assert r.text == (f"Snapshot {old} not restored, nothing changed: domain g.test would have 2, above "
                      f"maxGroups 1 (CONFIG adminLimits)"), r.raw
    assert dict(c.records("uservars", "g.test", "g1"))["CliKind"] == "list"
    assert snapshot_names(cli) == snaps
    assert "configuration snapshot " + old + " not restored" in srv.log
    # with room for it, the same restore goes through
    set_domain(cli, "g.test", "maxGroups 2", sub="adminLimits")
    restore(cli, old)
    assert dict(c.records("uservars", "g.test", "g1"))["CliKind"] == "group"
    cli.close()
    c.close()
