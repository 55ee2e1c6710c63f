"""Nested admin groups: ADD/REMOVE parent-group and LIST parents in an admin
group's context, with cycle detection (a group never becomes its own
ancestor), and the permissions and per-interface logins of a member
computed over every group above it."""

import pytest

from cliclient import show_attrs, simple_items

from test_cli_permissions import make_admin, make_domains, perm_lines


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


def group(cli, name, *cmds, create=False):
    cli.ok(f"{'ADD' if create else 'UPDATE'} admin-group name {name}", "aacl-adminGroup")
    for c in cmds:
        cli.ok(c, "aacl-adminGroup")
    cli.ok("DONE", "aacl")


def parents(cli, name):
    cli.ok(f"UPDATE admin-group {name}", "aacl-adminGroup")
    items = simple_items(cli.cmd("LIST parents"))
    cli.ok("BACK", "aacl")
    return items


def test_nested_groups_permissions_and_logins(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    make_domains(cli, "a.test", "b.test")
    cli.ok("ENTER AACL", "aacl")
    group(cli, "top", "SET interfaces (ctrl)", create=True)
    group(cli, "mid", "ADD parent-group top", create=True)      # parents set at creation
    group(cli, "leaf", create=True)
    group(cli, "leaf", "ADD parent-group mid")
    assert log_has(srv, "admin group leaf changed:", "parents=(mid)")
    assert parents(cli, "leaf") == ["mid"] and parents(cli, "mid") == ["top"] and parents(cli, "top") == []
    attrs = show_attrs(cli.cmd("SHOW admin-group mid"))
    assert attrs["parents"] == "(top)"
    cli.ok("UPDATE admin-group top")
    assert simple_items(cli.cmd("LIST members")) == ["mid"]
    cli.ok("GRANT permission (createAccounts) domain a.test")
    cli.ok("DONE", "aacl")
    cli.ok("UPDATE admin-group mid")
    cli.ok("GRANT permission (manageAccounts) domain a.test")
    r = cli.cmd("SHOW effective-permissions")                   # its own and its parent's
    assert perm_lines(r) == ["The effective permissions of admin group mid:",
                             "Permissions on Domain \"a.test\":", "  createAccounts", "  manageAccounts"]
    cli.ok("DONE", "aacl")
    cli.ok("DONE", "")
    # carl: only the cli interface himself, member of leaf (leaf < mid < top)
    make_admin(cli, "carl", "C4rl-Secret", groups=("leaf",))
    cli.ok("ENTER AACL")
    cli.ok("UPDATE admin-user carl")
    cli.ok("SET interfaces (cli)")
    r = cli.cmd("SHOW effective-permissions")
    assert perm_lines(r) == ["The effective permissions of admin user carl:",
                             "Permissions on Domain \"a.test\":", "  createAccounts", "  manageAccounts"]
    cli.ok("DONE", "aacl")
    # the controller login comes from top, two levels up; so do the permissions
    c = srv.connect(user="carl", password="C4rl-Secret")
    c.ok("useradd", "a.test", "u1", "U1-pw.1", "U")
    assert c.cmd("useradd", "b.test", "u1", "U1-pw.1", "U").code == -150
    c.close()
    # a deny on the middle group wins over the grant above it
    cli.ok("UPDATE admin-group mid")
    cli.ok("DENY permission (createAccounts) domain a.test")
    cli.ok("DONE", "aacl")
    c = srv.connect(user="carl", password="C4rl-Secret")
    assert c.cmd("userdel", "a.test", "u1").code == -150
    c.ok("userpasswd", "a.test", "u1", "U1-pw.2")
    c.close()
    # cutting leaf from mid: no ctrl interface any more (carl keeps cli)
    group(cli, "leaf", "REMOVE parent-group mid")
    assert parents(cli, "leaf") == []
    with pytest.raises(Exception):
        srv.connect(user="carl", password="C4rl-Secret")
    srv.cli(user="carl", password="C4rl-Secret").close()
    cli.close()


def test_cycles_are_refused(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    cli.ok("ENTER AACL", "aacl")
    for g in ("g1", "g2", "g3"):
        group(cli, g, create=True)
    group(cli, "g2", "ADD parent-group g1")
    group(cli, "g3", "ADD parent-group g2")
    cli.ok("UPDATE admin-group g1", "aacl-adminGroup")
    cli.err("ADD parent-group g1", "Admin group g1 cannot be a member of itself", "aacl-adminGroup")
    cli.err("ADD parent-group g2", "Admin group g2 is a member of g1 already (directly or through other groups): "
            "a group cannot become its own ancestor", "aacl-adminGroup")
    cli.err("ADD parent-group g3", "Admin group g3 is a member of g1 already (directly or through other groups): "
            "a group cannot become its own ancestor", "aacl-adminGroup")
    cli.err("ADD parent-group nosuch", "Admin group nosuch not found", "aacl-adminGroup")
    cli.err("REMOVE parent-group g2", "Admin group is not in group g2", "aacl-adminGroup")
    assert simple_items(cli.cmd("LIST parents")) == []
    cli.ok("DONE", "aacl")
    assert parents(cli, "g1") == []
    # the same name for a user and a group: the user's parents are its own
    cli.ok("ADD admin-user name g1 password G1-Secret", "aacl-adminUser")
    cli.ok("ADD parent-group g3")
    cli.ok("DONE", "aacl")
    assert parents(cli, "g1") == []

    # a cycle made by two sessions at once is caught at DONE
    group(cli, "g4", create=True)
    cli.ok("UPDATE admin-group g1")
    cli.ok("ADD parent-group g4")                # pending: g1 under g4
    other = srv.cli()
    other.ok("ENTER AACL")
    group(other, "g4", "ADD parent-group g3")     # stored: g4 under g3 (under g2 under g1)
    other.close()
    cli.err("DONE", "Commit failed: admin group g1 cannot be a member of its own member (a group cannot "
            "become its own ancestor)", "aacl-adminGroup")
    cli.ok("BACK", "aacl")
    assert parents(cli, "g1") == [] and parents(cli, "g4") == ["g3"]
    cli.close()


def test_remove_group_with_member_groups(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    cli.ok("ENTER AACL", "aacl")
    group(cli, "outer", create=True)
    group(cli, "inner", "ADD parent-group outer", create=True)
    group(cli, "other", create=True)
    group(cli, "inner", "ADD parent-group other")
    assert parents(cli, "inner") == ["outer", "other"]
    cli.err("REMOVE admin-group outer", "Commit failed: admin group outer has members (REMOVE admin-group outer forced)",
            "aacl")
    cli.ok("REMOVE admin-group outer forced", "aacl")
    assert parents(cli, "inner") == ["other"]
    r = cli.cmd("LIST admin-groups")
    assert b"outer" not in r.raw and b"inner" in r.raw
    # a group named again after its removal starts with no members
    group(cli, "outer", create=True)
    cli.ok("UPDATE admin-group outer")
    assert simple_items(cli.cmd("LIST members")) == []
    cli.ok("BACK", "aacl")
    # nesting survives a restart
    cli.close()
    srv.restart()
    cli = srv.cli()
    cli.ok("ENTER AACL")
    assert parents(cli, "inner") == ["other"]
    cli.close()


def test_admin_names_start_with_a_letter_or_digit(fresh_server):
    """Names like "..", "-x" or ".hidden" are refused for admin users and
    groups (also as a rename); the session stays usable."""
    cli = fresh_server.cli()
    cli.ok("ENTER AACL", "aacl")
    for bad in ("..", "-x", ".hidden", "_a"):
        r = cli.cmd(f"ADD admin-user name {bad} password Pw-{bad}.1")
        assert r.status.startswith("-ERR: ") and r.context == "aacl", (bad, r)
        r = cli.cmd(f"ADD admin-group name {bad}")
        assert r.status.startswith("-ERR: ") and r.context == "aacl", (bad, r)
    cli.ok("ADD admin-user name 0k password Ok-Secret.1", "aacl-adminUser")
    cli.ok("DONE", "aacl")
    cli.ok("UPDATE admin-user name 0k", "aacl-adminUser")
    cli.err("SET name ..", context="aacl-adminUser")
    cli.err("SET name -x", context="aacl-adminUser")
    cli.ok("BACK", "aacl")
    cli.ok("SHOW admin-user name 0k", "aacl")
    cli.close()
