"""AACL permissions: GRANT/REVOKE/DENY permission and SHOW effective-permissions
on admin users and groups, enforced for the CLI and the controller alike
(the same admin accounts log in to both)."""

import pytest

from cliclient import CliClient

COMMITTED = "committing changes and switching back to previous context"
SUPPORTED = "createAccounts manageAccounts manageDomainAliases"


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


def users(c, d):
    return [r[1] for r in c.records("userlist", d)]


def make_domains(cli, *names):
    for d in names:
        cli.ok(f"CREATE Domain name {d} postmasterPassword Pm-Secret.1", "domain-create")
        cli.ok("COMMIT", "")


def make_admin(cli, name, pw, groups=()):
    cli.ok("ENTER AACL", "aacl")
    cli.ok(f"ADD admin-user name {name} password {pw}", "aacl-adminUser")
    for g in groups:
        cli.ok(f"ADD parent-group {g}")
    cli.ok("DONE", "aacl")
    cli.ok("DONE", "")


def perm_lines(r):
    """The lines between the title and the closing empty line."""
    lines = r.text_lines if hasattr(r, "text_lines") else r.raw.decode().split("\r\n")
    assert lines[0] == ""
    end = lines.index("", 1)
    return lines[1:end]


def test_domain_scoped_grant_cli_and_ctrl(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    make_domains(cli, "a.test", "b.test")
    make_admin(cli, "dom", "D0m-Secret")
    cli.ok("ENTER AACL")
    cli.ok("UPDATE admin-user dom", "aacl-adminUser")
    r = cli.cmd("GRANT permission (manageAccounts createAccounts) domain a.test")
    assert r.raw == b"+OK: command successful\r\n<aacl-adminUser#> "
    r = cli.cmd("SHOW effective-permissions")
    assert r.raw == (b"\r\nThe effective permissions of admin user dom:\r\n"
                     b"Permissions on Domain \"a.test\":\r\n  createAccounts\r\n  manageAccounts\r\n"
                     b"\r\n+OK: command successful\r\n<aacl-adminUser#> ")
    # unknown permissions and domains: a clear error, nothing stored
    cli.err("GRANT permission (manageServer) domain a.test",
            f"Invalid value for permission manageServer (this server has no such feature; it knows {SUPPORTED})",
            "aacl-adminUser")
    cli.err("GRANT permission (manageAccounts) domain nosuch.test", "Domain nosuch.test not found")
    cli.err("GRANT permission ()", "Invalid parameters (an empty permission list)")
    cli.err("GRANT permission (manageAccounts) domain", "Invalid parameters (unexpected argument)")
    r = cli.cmd("SHOW effective-permissions domain b.test")
    assert perm_lines(r) == ["The effective permissions of admin user dom on domain b.test:", "No permissions"]
    cli.ok("DONE", "aacl")
    # SHOW admin-user: the attributes, then one block per domain (CAS cuts the name at fixed offsets)
    lines = cli.cmd("SHOW admin-user dom").raw.decode().split("\r\n")
    assert lines[-6:] == ['Permissions on Domain "a.test":', "  createAccounts", "  manageAccounts", "",
                          "+OK: command successful", "<aacl#> "]
    assert lines[-6][len('Permissions on Domain "'):-2] == "a.test"
    assert 'name = "dom"' in lines
    cli.ok("DONE", "")
    assert log_has(srv, "cli: admin=admin", "GRANT permission",
                   "admin user dom: GRANT permission (manageAccounts createAccounts) domain a.test")

    # --- the CLI as dom ---
    d = srv.cli(user="dom", password="D0m-Secret")
    d.ok("UPDATE Domain a.test", "domain")
    d.ok("LIST Accounts", "domain")                                          # reads: any permission on it
    d.ok("ADD Account name ann password Ann-pw.1", "domain-account")
    assert d.cmd("COMMIT").raw == f"+OK: {COMMITTED}\r\n<domain#> ".encode()
    d.ok("UPDATE Account ann", "domain-account")
    d.ok("SET password Ann-pw.2")
    d.ok("COMMIT", "domain")
    d.err("SET catchAllType account", "Permission denied", "domain")          # domain settings: full admins
    d.err("ADD Alias alias-a.test", "Permission denied", "domain")             # no manageDomainAliases
    d.ok("BACK", "")
    d.err("UPDATE Domain b.test", "Permission denied", "")
    d.err("CREATE Domain name c.test postmasterPassword x", "Permission denied", "")
    d.err("ENTER AACL", "Permission denied", "")
    d.err("CONFIG SERVER", "Permission denied", "")
    d.err("LIST Domains", "Permission denied", "")
    d.ok("CHANGE password oldPassword D0m-Secret newPassword D0m-Secret.2", "")   # its own: always
    d.close()
    assert log_has(srv, "admin dom", "refused UPDATE Domain", "on b.test")

    # --- the controller as dom ---
    full = srv.connect()
    full.ok("aliasdomainadd", "a.test", "alias-a.test")
    full.close()
    c = srv.connect(user="dom", password="D0m-Secret.2")
    c.ok("useradd", "a.test", "bob", "Bob-pw.1", "U")
    assert c.cmd("userlist", "alias-a.test").code in (0, 100)          # an alias domain is its real domain
    assert c.cmd("aliasdomaindel", "alias-a.test").line == "-00150 Server use is forbidden"
    c.ok("userpasswd", "a.test", "bob", "Bob-pw.2")
    assert "bob" in users(c, "a.test")
    for args in (("useradd", "b.test", "eve", "Eve-pw.1", "U"),
                 ("userpasswd", "b.test", "postmaster", "x-1"),
                 ("userlist", "b.test"),
                 ("userlist",),                     # every domain: full admins only
                 ("domainadd", "c.test"),
                 ("cfgfileget", "server.tab"),
                 ("aliasdomainadd", "a.test", "alias-a.test"),
                 ("usersetmproc", "b.test", "postmaster"),   # refused before the upload starts
                 ("cfgfileset", "server.tab")):
        r = c.cmd(*args)
        assert r.line == "-00150 Server use is forbidden", (args, r)
    c.ok("noop")                                     # the session is still in step
    c.close()
    assert log_has(srv, "ctrl: admin dom", "refused useradd", "needs createAccounts on b.test")
    full = srv.connect()
    assert "eve" not in users(full, "b.test")
    assert "c.test" not in [r[0] for r in full.records("domainlist")]
    full.close()
    cli.close()


def test_groups_deny_revoke_and_restart(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    make_domains(cli, "g.test", "h.test")
    cli.ok("ENTER AACL")
    cli.ok("ADD admin-group name helpdesk")
    cli.ok("DONE", "aacl")
    cli.ok("UPDATE admin-group helpdesk", "aacl-adminGroup")
    cli.ok("GRANT permission (manageAccounts createAccounts)")          # server-wide
    r = cli.cmd("SHOW effective-permissions")
    assert perm_lines(r) == ["The effective permissions of admin group helpdesk:", "Server-wide permissions:",
                             "  createAccounts", "  manageAccounts"]
    cli.ok("DONE", "aacl")
    cli.ok("DONE", "")
    make_admin(cli, "hd", "Hd-Secret.1", groups=("helpdesk",))

    c = srv.connect(user="hd", password="Hd-Secret.1")
    c.ok("useradd", "g.test", "u1", "U1-pw.1", "U")                    # inherited from the group
    c.ok("useradd", "h.test", "u1", "U1-pw.1", "U")
    c.close()

    # a deny on the user wins over the group's grant, on that domain only
    cli.ok("ENTER AACL")
    cli.ok("UPDATE admin-user hd")
    cli.ok("DENY permission (createAccounts) domain h.test")
    r = cli.cmd("SHOW effective-permissions")
    # server-wide both (from the group), on h.test only what the deny leaves
    assert perm_lines(r) == ["The effective permissions of admin user hd:", "Server-wide permissions:",
                             "  createAccounts", "  manageAccounts",
                             "Permissions on Domain \"h.test\":", "  manageAccounts"]
    cli.ok("DONE", "aacl")
    cli.ok("DONE", "")
    c = srv.connect(user="hd", password="Hd-Secret.1")
    assert c.cmd("userdel", "h.test", "u1").code == -150
    c.ok("userpasswd", "h.test", "u1", "U1-pw.2")                      # manageAccounts still there
    c.ok("userdel", "g.test", "u1")
    c.close()
    d = srv.cli(user="hd", password="Hd-Secret.1")
    d.ok("UPDATE Domain h.test", "domain")
    d.err("REMOVE Account u1", "Permission denied", "domain")
    d.close()

    # persistence across a restart
    cli.close()
    srv.restart()
    c = srv.connect(user="hd", password="Hd-Secret.1")
    assert c.cmd("userdel", "h.test", "u1").code == -150
    c.close()

    # revoking the deny gives the group's grant back
    cli = srv.cli()
    cli.ok("ENTER AACL")
    cli.ok("UPDATE admin-user hd")
    cli.ok("REVOKE permission (createAccounts) domain h.test")
    cli.ok("DONE", "aacl")
    # revoking the group's grants leaves hd without records: a full administrator again
    cli.ok("UPDATE admin-group helpdesk")
    cli.ok("REVOKE permission (manageAccounts createAccounts)")
    r = cli.cmd("SHOW effective-permissions")
    assert perm_lines(r) == ["The effective permissions of admin group helpdesk:", "No permissions"]
    cli.ok("DONE", "aacl")
    cli.ok("UPDATE admin-user hd")
    r = cli.cmd("SHOW effective-permissions")
    assert perm_lines(r) == ["The effective permissions of admin user hd:",
                             "Full administrator: every permission, server-wide and on every domain"]
    cli.ok("DONE", "aacl")
    cli.ok("DONE", "")
    c = srv.connect(user="hd", password="Hd-Secret.1")
    c.ok("userdel", "h.test", "u1")
    c.ok("domainadd", "i.test")
    c.close()
    cli.close()


def test_first_admin_never_locked_out(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    make_domains(cli, "f.test")
    cli.ok("ENTER AACL")
    cli.ok("UPDATE admin-user admin")
    cli.err("DENY permission (manageAccounts)",
            "Commit failed: admin is the built-in first admin user and always has every permission",
            "aacl-adminUser")
    r = cli.cmd("SHOW effective-permissions")
    assert perm_lines(r) == ["The effective permissions of admin user admin:",
                             "Full administrator: every permission, server-wide and on every domain"]
    cli.ok("DONE", "aacl")
    # even through a group with a deny
    cli.ok("ADD admin-group name everyone")
    cli.ok("DONE", "aacl")
    cli.ok("UPDATE admin-group everyone")
    cli.ok("DENY permission (manageAccounts createAccounts manageDomainAliases)")
    cli.ok("DONE", "aacl")
    cli.ok("UPDATE admin-user admin")
    cli.ok("ADD parent-group everyone")
    cli.ok("DONE", "aacl")
    cli.ok("DONE", "")
    cli.close()
    c = srv.connect()
    c.ok("useradd", "f.test", "x1", "X1-pw.1", "U")
    c.ok("domainadd", "j.test")
    c.close()
    cli = srv.cli()
    cli.ok("ENTER AACL", "aacl")
    # a new admin user takes its permissions at its DONE (CAS: ADD admin-user
    # ... GRANT ... DONE, spec 7.1); a bad one is refused at once
    cli.ok("ADD admin-user name late password L4te-pw")
    cli.err("GRANT permission (bogus)", None, "aacl-adminUser")
    cli.err("GRANT permission (manageAccounts) domain nosuch.test", "Domain nosuch.test not found",
            "aacl-adminUser")
    cli.err("SHOW effective-permissions", "Admin user late is not stored yet (its pending permissions apply "
            "at DONE)", "aacl-adminUser")
    cli.ok("GRANT permission (manageAccounts createAccounts) domain f.test")
    cli.ok("DENY permission (createAccounts) domain f.test")
    cli.ok("DONE", "aacl")
    cli.ok("UPDATE admin-user late")
    r = cli.cmd("SHOW effective-permissions")
    assert perm_lines(r) == ["The effective permissions of admin user late:",
                             "Permissions on Domain \"f.test\":", "  manageAccounts"]
    cli.ok("DONE", "aacl")
    # the same for a new group; BACK drops the pending grants with it
    cli.ok("ADD admin-group name lategroup")
    cli.ok("GRANT permission (manageAccounts)")
    cli.ok("BACK", "aacl")
    cli.err("UPDATE admin-group lategroup", None, "aacl")
    cli.ok("ADD admin-group name lategroup")
    cli.ok("GRANT permission (manageDomainAliases) domain j.test")
    cli.ok("DONE", "aacl")
    cli.ok("UPDATE admin-group lategroup")
    r = cli.cmd("SHOW effective-permissions")
    assert perm_lines(r) == ["The effective permissions of admin group lategroup:",
                             "Permissions on Domain \"j.test\":", "  manageDomainAliases"]
    cli.ok("DONE", "aacl")
    cli.close()


def test_principal_removed_by_another_session(fresh_server):
    """Permission changes for an admin user another session removed are
    refused (no records a later admin of that name would inherit); a new
    user whose pending grant fails at DONE is stored and the reply says
    which part is missing."""
    srv = fresh_server
    a, b = srv.cli(), srv.cli()
    make_domains(a, "r.test")
    make_admin(a, "gone", "G0ne-pw.1")
    a.ok("ENTER AACL", "aacl")
    a.ok("UPDATE admin-user gone", "aacl-adminUser")
    b.ok("ENTER AACL", "aacl")
    b.ok("REMOVE admin-user gone")
    a.err("GRANT permission (manageAccounts) domain r.test", "Admin user gone not found", "aacl-adminUser")
    a.ok("BACK", "aacl")
    a.ok("ADD admin-user name gone password G0ne-pw.1")
    a.ok("DONE", "aacl")
    a.ok("UPDATE admin-user gone")
    assert perm_lines(a.cmd("SHOW effective-permissions")) == [
        "The effective permissions of admin user gone:",
        "Full administrator: every permission, server-wide and on every domain"]
    a.ok("BACK", "aacl")
    # a pending grant on a domain deleted before DONE
    a.ok("ADD admin-user name late2 password L4te-pw.2")
    a.ok("GRANT permission (manageAccounts) domain r.test")
    b.ok("BACK", "")
    b.ok("DELETE Domain name r.test")
    a.err("DONE", "Commit failed: admin user late2 is stored, but its pending GRANT and the ones after it are not "
          "(Domain r.test not found)", "aacl-adminUser")
    a.ok("BACK", "aacl")
    assert "late2 | -" in a.ok("LIST admin-users").pieces
    # a pending parent group removed before DONE
    a.ok("ADD admin-group name pg")
    a.ok("DONE", "aacl")
    a.ok("ADD admin-user name late3 password L4te-pw.3")
    a.ok("ADD parent-group pg")
    b.ok("ENTER AACL", "aacl")
    b.ok("REMOVE admin-group pg forced")
    a.err("DONE", "Commit failed: admin user late3 or one of its parent groups no longer exists", "aacl-adminUser")
    a.ok("BACK", "aacl")
    a.close()
    b.close()


def test_root_without_permission_table_upgrades(fresh_server):
    """A data root from before permissions (no aacl_perms table): its admins
    keep every right, and the table appears at the next start."""
    import sqlite3
    srv = fresh_server
    cli = srv.cli()
    make_domains(cli, "old.test")
    make_admin(cli, "legacy", "Leg4cy-pw")
    cli.close()
    assert srv.stop() == 0
    db = sqlite3.connect(str(srv.root / "tern.db"))
    db.execute("DROP TABLE aacl_perms")
    db.commit()
    db.close()
    srv.start()
    c = srv.connect(user="legacy", password="Leg4cy-pw")
    c.ok("useradd", "old.test", "o1", "O1-pw.1", "U")
    c.ok("domainadd", "new.test")
    c.close()
    cli = srv.cli()
    cli.ok("ENTER AACL")
    cli.ok("UPDATE admin-user legacy")
    cli.ok("GRANT permission (manageAccounts) domain old.test")
    cli.ok("DONE", "aacl")
    cli.close()
    c = srv.connect(user="legacy", password="Leg4cy-pw")
    assert c.cmd("domainadd", "newer.test").code == -150
    c.ok("userpasswd", "old.test", "o1", "O1-pw.2")
    c.close()
