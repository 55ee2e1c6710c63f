"""Renames through the CLI (SET name / SET email of an existing object,
applied at COMMIT, or at DONE in the AACL), all done by the admin core's
rename verbs:

- an account: the controller's tables (userlist, aliaslist, mluserlist),
  SMTP (the new address receives, the old one is unknown), POP3 (the new
  name logs in and reads the mail received before) and the Maildir on
  disk agree; collisions, bad names and a mailbox held by a POP3 session
  give -ERR and change nothing (the pending edits stay);
- a domain with several accounts, aliases, an alias domain and a list (its
  files move with it; edits committed with the rename go to the new name);
- groups and lists, a list subscriber's address (SET email, UPDATE only);
- group SET enable: a disabled group is an unknown recipient (550 5.1.1);
- admin users and groups: memberships and permissions follow, the new name
  logs in; the first admin renamed stays the first admin;
- mail accepted while a domain is renamed reaches the moved Maildir;
- a directory that cannot move (immutable parent) puts the store back;
- crash safety: SIGKILL among a stream of renames leaves one whole
  account; the intent record (ROOT/rename.intent) left by a rename
  stopped between its commit and the move of the directory is completed
  at start-up, one stopped before its commit is dropped.
"""

import poplib
import smtplib
import sqlite3
import time

from cliclient import show_attrs, simple_items
from smtpclient import MailDomain, new_token, wait_token

COMMITTED = "committing changes and switching back to previous context"


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


def rcpt_code(server, addr):
    s = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10)
    try:
        s.ehlo("client.test")
        s.mail("sender@example.org")
        code, msg = s.rcpt(addr)
        return code, msg
    finally:
        s.quit()


def send(server, rcpts, token):
    s = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10)
    s.sendmail("sender@example.org", rcpts, f"Subject: r {token}\r\n\r\ntoken {token}\r\n")
    s.quit()


def pop_open(server, user, pw):
    """A POP3 session logged in with USER/PASS, or None when refused."""
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    try:
        p.user(user)
        p.pass_(pw)
    except poplib.error_proto:
        p.close()
        return None
    return p


def pop_retr_all(server, user, pw):
    """Every message of the mailbox as text."""
    p = pop_open(server, user, pw)
    assert p is not None, f"POP3 login of {user} refused"
    try:
        n, _ = p.stat()
        return [b"\n".join(p.retr(i)[1]).decode(errors="replace") for i in range(1, n + 1)]
    finally:
        p.quit()


def pop_login_fails(server, user, pw):
    p = pop_open(server, user, pw)
    if p is not None:
        p.quit()
    return p is None


def users_of(c, domain):
    return sorted(r[1] for r in c.records("userlist", domain))


def aliases_of(c, domain):
    return sorted((r[1], r[2]) for r in c.records("aliaslist", domain))


def members_of(c, domain, lst):
    return sorted(r[0] for r in c.records("mluserlist", domain, lst))


# ------------------------------------------------------------------ accounts

def test_account_rename_follows_everywhere(server, cli, c):
    d = MailDomain(server, c, "ren%s.test" % new_token()[:8], users=("alice", "bob"))
    c.ok("aliasadd", d.name, "al", "alice")
    c.ok("useradd", d.name, "team", "Team-pw.1", "M")
    c.ok("mluseradd", d.name, "team", d.addr("alice"))
    c.ok("exaliasadd", d.addr("alice"), "al.ext@remote.example")
    c.ok("poplnkadd", d.name, "alice", "127.0.0.1:1", "ralice", "x", "CLR")
    c.ok("poplnkenable", "0", d.name, "alice")
    old_token = new_token()
    send(server, [d.addr("alice")], old_token)
    wait_token(d.md("alice"), old_token)

    cli.ok(f"UPDATE Domain name {d.name}", "domain")
    cli.ok("UPDATE Account alice", "domain-account")
    cli.ok("SET name Alicia")
    assert show_attrs(cli.cmd("SHOW"))["name"] == '"alicia"'      # pending, shown lower-case
    assert users_of(c, d.name) == ["alice", "bob", "team"]         # nothing before COMMIT
    r = cli.ok("COMMIT", "domain")
    assert r.text == COMMITTED, r

    # the controller's tables
    assert users_of(c, d.name) == ["alicia", "bob", "team"]
    assert aliases_of(c, d.name) == [("al", "alicia")]
    assert members_of(c, d.name, "team") == [d.addr("alicia")]
    assert c.records("exaliaslist", f"*@{d.name}") == [["remote.example", "al.ext", d.name, "alicia"]]
    assert [r[:4] for r in c.records("poplnklist", d.name)] == [[d.name, "alicia", "127.0.0.1:1", "ralice"]]
    # the Maildir moved with its mail
    assert not (server.root / "domains" / d.name / "alice").exists()
    wait_token(d.md("alicia"), old_token)
    # SMTP: the old address is unknown, the new one, its alias and the list deliver
    code, msg = rcpt_code(server, d.addr("alice"))
    assert code == 550 and b"5.1.1" in msg, (code, msg)
    assert rcpt_code(server, d.addr("alicia"))[0] == 250
    t2, t3, t4 = new_token(), new_token(), new_token()
    send(server, [d.addr("alicia")], t2)
    send(server, ["al@" + d.name], t3)
    send(server, ["team@" + d.name], t4)
    for t in (t2, t3, t4):
        wait_token(d.md("alicia"), t)
    assert not (server.root / "domains" / d.name / "alice").exists()
    # POP3: the new name with the old password reads the old mail; the old name is gone
    msgs = pop_retr_all(server, d.addr("alicia"), d.pw("alice"))
    assert any(old_token in m for m in msgs) and any(t2 in m for m in msgs)
    assert pop_login_fails(server, d.addr("alice"), d.pw("alice"))
    # the CLI sees the new name
    cli.ok("UPDATE Account alicia", "domain-account")
    cli.ok("BACK", "domain")
    cli.err("UPDATE Account alice", "Account alice not found", "domain")
    assert log_has(server, "rename account", f"alice@{d.name} -> alicia@{d.name}", f"by {server.admin_user}",
                   "from 127.0.0.1", "via cli")
    cli.ok("BACK", "")


def test_account_rename_with_other_edits_in_one_commit(server, cli, c):
    d = MailDomain(server, c, "rex%s.test" % new_token()[:8], users=("carl",))
    cli.ok(f"UPDATE Domain name {d.name}", "domain")
    cli.ok("UPDATE Account carl", "domain-account")
    cli.ok("SET name karl customerReference CR-9")
    cli.ok("ADD Alias kk")
    cli.ok("COMMIT", "domain")
    assert users_of(c, d.name) == ["karl"]
    assert dict(c.records("uservars", d.name, "karl"))["CustomerReference"] == "CR-9"
    assert aliases_of(c, d.name) == [("kk", "karl")]
    # setting the current name back undoes a pending rename
    cli.ok("UPDATE Account karl", "domain-account")
    cli.ok("SET name zed")
    cli.ok("SET name karl")
    cli.ok("COMMIT", "domain")
    assert users_of(c, d.name) == ["karl"]
    cli.ok("BACK", "")


def test_account_rename_refusals_change_nothing(server, cli, c):
    d = MailDomain(server, c, "rer%s.test" % new_token()[:8], users=("alice", "bob"))
    c.ok("aliasadd", d.name, "ally", "bob")
    c.ok("useradd", d.name, "news", "News-pw.1", "M")
    token = new_token()
    send(server, [d.addr("alice")], token)
    wait_token(d.md("alice"), token)
    before = (users_of(c, d.name), aliases_of(c, d.name))

    cli.ok(f"UPDATE Domain name {d.name}", "domain")
    cli.ok("UPDATE Account alice", "domain-account")
    # invalid names: refused at SET
    for bad in ("../x", "a/b", "*", ".alice", "al..ice", "a@b"):
        r = cli.cmd(f'SET name "{bad}"')
        assert r.status.startswith("-ERR: Invalid value for name"), (bad, r)
    # taken by an account, an alias, a list: refused at COMMIT, still in the account
    for taken, why in (("bob", "already exists"), ("ally", "already exists (an alias)"),
                       ("news", "already exists")):
        cli.ok(f"SET name {taken}")
        cli.err("COMMIT", f"Cannot rename account alice to {taken}: {taken} {why}", "domain-account")
    assert (users_of(c, d.name), aliases_of(c, d.name)) == before
    wait_token(d.md("alice"), token)

    # a live POP3 session holds the mailbox: refused; the pending edits stay
    cli.ok("SET name alina customerReference X1")
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.user(d.addr("alice"))
    p.pass_(d.pw("alice"))
    try:
        cli.err("COMMIT", "Cannot rename account alice: its mailbox is in use by a POP3 session; "
                          "try again when it ends", "domain-account")
        assert users_of(c, d.name) == before[0]
        assert "CustomerReference" not in dict(c.records("uservars", d.name, "alice"))
    finally:
        p.quit()
    cli.ok("COMMIT", "domain")                                  # same edits, now the mailbox is free
    assert users_of(c, d.name) == ["alina", "bob", "news"]
    assert dict(c.records("uservars", d.name, "alina"))["CustomerReference"] == "X1"
    wait_token(d.md("alina"), token)

    # ADD Account: the name is the one given to ADD
    cli.ok("ADD Account name newbie password Newbie-pw.1", "domain-account")
    cli.err("SET name other", None, "domain-account")
    cli.ok("BACK", "domain")
    cli.ok("BACK", "")


# ------------------------------------------------------------------ domains

def test_domain_rename_with_accounts_aliases_and_list(server, cli, c):
    old = "dold%s.test" % new_token()[:8]
    new = "dnew%s.test" % new_token()[:8]
    alias_dom = "dal%s.test" % new_token()[:8]
    d = MailDomain(server, c, old, users=("alice", "bob", "carol"))
    c.ok("aliasadd", old, "info", "bob")
    c.ok("aliasadd", old, "fwd", d.addr("carol"))
    c.ok("aliasdomainadd", old, alias_dom)
    c.ok("useradd", old, "news", "News-pw.1", "M")
    c.ok("mluseradd", old, "news", d.addr("alice"))
    c.ok("mluseradd", old, "news", "outside@elsewhere.example")
    tokens = {u: new_token() for u in ("alice", "bob", "carol")}
    for u, t in tokens.items():
        send(server, [d.addr(u)], t)
        wait_token(d.md(u), t)

    cli.ok(f"UPDATE Domain name {old}", "domain")
    cli.ok("SET services (pop3 smtpIn)")                           # domains/<old>/services.tab
    cli.ok("COMMIT", "")
    cli.ok(f"UPDATE Domain name {old}", "domain")
    cli.ok(f"SET name {new.upper()}")
    cli.ok("CONFIG accountDefaultQuotas", "domain-accountDefaultQuotas")
    cli.ok("SET totalMessageSize 4321")                            # written after the rename, in one COMMIT
    cli.ok("DONE", "domain")
    r = cli.ok("COMMIT", "")
    assert r.text == COMMITTED
    # the domain's files moved with it, the defaults went to the new name
    assert c.listing("cfgfileget", f"domains/{new}/services.tab") == ["pop3 smtpIn"]
    assert any("4321" in line for line in c.listing("cfgfileget", f"domains/{new}/userdef.tab"))

    domains = [r[0] for r in c.records("domainlist")]
    assert new in domains and old not in domains
    assert users_of(c, new) == ["alice", "bob", "carol", "news"]
    assert aliases_of(c, new) == [("fwd", f"carol@{new}"), ("info", "bob")]
    assert (alias_dom, new) in [(r[1], r[0]) for r in c.records("aliasdomainlist")]
    assert members_of(c, new, "news") == sorted([f"alice@{new}", "outside@elsewhere.example"])
    assert not (server.root / "domains" / old).exists()

    nd = MailDomain.__new__(MailDomain)
    nd.server, nd.name, nd.passwords = server, new, d.passwords
    for u, t in tokens.items():
        wait_token(nd.md(u), t)
    # old addresses are not ours any more; new ones, the aliases, the alias domain and the list deliver
    assert rcpt_code(server, d.addr("alice"))[0] == 550
    t1, t2, t3, t4 = (new_token() for _ in range(4))
    send(server, [f"alice@{new}"], t1)
    send(server, [f"info@{new}"], t2)
    send(server, [f"carol@{alias_dom}", f"fwd@{new}"], t3)
    send(server, [f"news@{new}"], t4)
    wait_token(nd.md("alice"), t1)
    wait_token(nd.md("bob"), t2)
    wait_token(nd.md("carol"), t3, count=2)
    wait_token(nd.md("alice"), t4)
    # POP3 with the new domain reads the mail received under the old one
    msgs = pop_retr_all(server, f"bob@{new}", d.pw("bob"))
    assert any(tokens["bob"] in m for m in msgs)
    assert pop_login_fails(server, d.addr("bob"), d.pw("bob"))
    assert log_has(server, "rename domain", f"{old} -> {new}", "via cli")

    # collisions: an existing domain, an alias domain; bad names
    other = MailDomain(server, c, "doth%s.test" % new_token()[:8], users=())
    cli.ok(f"UPDATE Domain name {new}", "domain")
    cli.ok(f"SET name {other.name}")
    cli.err("COMMIT", f"Cannot rename domain {new} to {other.name}: {other.name} already exists", "domain")
    cli.ok(f"SET name {alias_dom}")
    cli.err("COMMIT", f"Cannot rename domain {new} to {alias_dom}: {alias_dom} already exists", "domain")
    for bad in ("../etc", "a/b.test", ".x.test"):
        r = cli.cmd(f'SET name "{bad}"')
        assert r.status.startswith("-ERR: Invalid value for name"), (bad, r)
    # a mailbox of the domain open in POP3: refused until the session ends
    cli.ok("SET name renamed-" + new)
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.user(f"carol@{new}")
    p.pass_(d.pw("carol"))
    try:
        cli.err("COMMIT", f"Cannot rename domain {new}: a mailbox of the domain is in use by a POP3 session; "
                          "try again when it ends", "domain")
    finally:
        p.quit()
    cli.ok("BACK", "")
    assert users_of(c, new) == ["alice", "bob", "carol", "news"]
    assert users_of(c, other.name) == []


# ------------------------------------------------------------- groups and lists

def test_group_list_and_subscriber_rename(server, cli, c):
    d = MailDomain(server, c, "rgl%s.test" % new_token()[:8], users=("alice", "bob"))
    cli.ok(f"UPDATE Domain name {d.name}", "domain")
    cli.ok("ADD Group name sales", "domain-group")
    cli.ok(f"ADD Address {d.addr('alice')}")
    cli.ok("COMMIT", "domain")
    c.ok("aliasadd", d.name, "shop", "sales")

    cli.ok("UPDATE Group sales", "domain-group")
    cli.ok("SET name sellers")
    cli.ok("COMMIT", "domain")
    assert "sellers" in users_of(c, d.name) and "sales" not in users_of(c, d.name)
    assert aliases_of(c, d.name) == [("shop", "sellers")]
    assert members_of(c, d.name, "sellers") == [d.addr("alice")]
    assert rcpt_code(server, "sales@" + d.name)[0] == 550
    t = new_token()
    send(server, ["sellers@" + d.name, "shop@" + d.name], t)
    wait_token(d.md("alice"), t, count=2)
    groups = cli.cmd("LIST Groups").raw.decode()
    assert "sellers" in groups and "sales" not in groups, groups

    # a list, then a subscriber's address (UPDATE User only)
    cli.ok("ADD List name news password News-pw.1", "domain-list")
    cli.ok("ADD User carol@ext.example name Carol", "domain-list-user")
    cli.ok("DONE", "domain-list")
    cli.ok(f"ADD User {d.addr('bob')}", "domain-list-user")
    cli.ok("DONE", "domain-list")
    cli.ok("COMMIT", "domain")
    cli.ok("UPDATE List news", "domain-list")
    cli.ok("SET name bulletin")
    cli.ok("UPDATE User carol@ext.example", "domain-list-user")
    cli.ok("SET email Caroline@Ext.example")
    cli.ok("DONE", "domain-list")
    cli.ok("UPDATE User " + d.addr("bob"), "domain-list-user")
    cli.ok("SET email carol@ext.example")                      # taken by the pending rename's source
    cli.err("DONE", f"Cannot change the address of user {d.addr('bob')}: carol@ext.example is a subscriber "
                    "already", "domain-list-user")
    cli.ok("BACK", "domain-list")
    cli.ok("COMMIT", "domain")
    assert "bulletin" in users_of(c, d.name) and "news" not in users_of(c, d.name)
    assert members_of(c, d.name, "bulletin") == sorted(["caroline@ext.example", d.addr("bob")])
    cli.ok("UPDATE List bulletin", "domain-list")
    rows = cli.cmd("LIST Users").raw.decode()
    assert "caroline@ext.example | Carol" in rows, rows
    # SET email on a new subscriber: the address is the one given to ADD
    cli.ok("ADD User dan@ext.example", "domain-list-user")
    cli.err("SET email other@ext.example", None, "domain-list-user")
    cli.ok("BACK", "domain-list")
    cli.ok("BACK", "domain")
    # group and list names taken
    cli.ok("UPDATE Group sellers", "domain-group")
    cli.ok("SET name bulletin")
    cli.err("COMMIT", "Cannot rename group sellers to bulletin: bulletin already exists", "domain-group")
    cli.ok("SET name alice")
    cli.err("COMMIT", "Cannot rename group sellers to alice: alice already exists", "domain-group")
    cli.ok("BACK", "domain")
    cli.ok("BACK", "")
    assert members_of(c, d.name, "sellers") == [d.addr("alice")]


def test_group_enable_no_is_an_unknown_recipient(server, cli, c):
    d = MailDomain(server, c, "rge%s.test" % new_token()[:8], users=("alice",))
    cli.ok(f"UPDATE Domain name {d.name}", "domain")
    cli.ok("ADD Group name crew", "domain-group")
    cli.ok(f"ADD Address {d.addr('alice')}")
    cli.ok("SET enable no")
    cli.ok("COMMIT", "domain")
    code, msg = rcpt_code(server, "crew@" + d.name)
    assert code == 550 and msg.startswith(b"5.1.1"), (code, msg)
    cli.ok("UPDATE Group crew", "domain-group")
    assert show_attrs(cli.cmd("SHOW"))["enable"] == "no"
    cli.ok("SET enable yes")
    cli.ok("COMMIT", "domain")
    t = new_token()
    send(server, ["crew@" + d.name], t)
    wait_token(d.md("alice"), t)
    cli.ok("BACK", "")


# ------------------------------------------------------------------ admins

def test_admin_user_and_group_rename(server, cli, c):
    pdom = "p%s.test" % new_token()[:8]
    c.ok("domainadd", pdom)
    cli.ok("ENTER AACL", "aacl")
    cli.ok("ADD admin-group name rgrp1", "aacl-adminGroup")
    cli.ok("DONE", "aacl")
    cli.ok("ADD admin-user name ops1 password Ops1-Secret", "aacl-adminUser")
    cli.ok('SET description "night shift" interfaces (cli)')
    cli.ok("ADD parent-group rgrp1")
    cli.ok("DONE", "aacl")
    cli.ok("UPDATE admin-user ops1", "aacl-adminUser")
    cli.ok(f"GRANT permission (createAccounts) domain {pdom}")
    cli.ok("DONE", "aacl")

    cli.ok("UPDATE admin-user ops1", "aacl-adminUser")
    cli.ok("SET name ops2")
    cli.ok("DONE", "aacl")
    cli.ok("UPDATE admin-group rgrp1", "aacl-adminGroup")
    cli.ok("SET name rgrp2")
    cli.ok("DONE", "aacl")
    r = cli.cmd("SHOW admin-user ops2").raw.decode()
    for part in ('name = "ops2"', 'description = "night shift"', "interfaces = (cli)", "parents = (rgrp2)",
                 f'Permissions on Domain "{pdom}":\r\n  createAccounts'):
        assert part in r, (part, r)
    cli.err("UPDATE admin-user ops1", "Admin user ops1 not found", "aacl")
    assert simple_items(cli.cmd("LIST members")) is not None
    cli.ok("UPDATE admin-group rgrp2", "aacl-adminGroup")
    assert simple_items(cli.cmd("LIST members")) == ["ops2"]
    cli.ok("BACK", "aacl")
    # the name is taken / invalid
    cli.ok("UPDATE admin-user ops2", "aacl-adminUser")
    cli.ok(f"SET name {server.admin_user}")
    cli.err("DONE", f"Cannot rename admin user ops2 to {server.admin_user}: {server.admin_user} already exists",
            "aacl-adminUser")
    r = cli.cmd('SET name "a/b"')
    assert r.status.startswith("-ERR: Invalid value for name"), r
    cli.ok("BACK", "aacl")
    cli.ok("BACK", "")

    # the new name logs in (with its interfaces: cli), the old one does not
    c2 = server.cli(user="ops2", password="Ops1-Secret")       # asserts the login
    c2.ok(f"UPDATE Domain name {pdom}", "domain")               # its permission on pdom followed
    c2.ok("ADD Account name fromops password Fromops-pw1", "domain-account")
    c2.ok("COMMIT", "domain")
    c2.close()
    assert "fromops" in users_of(c, pdom)
    c3 = server.cli(login=False)
    assert c3.cmd("USER ops1").raw == b"<password> "
    r = c3.cmd("Ops1-Secret")
    assert r.status is not None and r.status.startswith("-ERR"), r
    c3.close()


def test_first_admin_renamed_keeps_full_rights(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    cli.ok("ENTER AACL", "aacl")
    cli.ok(f"UPDATE admin-user {srv.admin_user}", "aacl-adminUser")
    cli.ok("SET name chief")
    cli.ok("DONE", "aacl")
    cli.ok("BACK", "")
    dom = "first%s.test" % new_token()[:8]
    cli.ok(f"CREATE Domain name {dom} postmasterPassword Pm-pw.123", "domain-create")  # still allowed
    cli.ok("COMMIT", "")
    cli.close()
    c2 = srv.cli(user="chief", password=srv.admin_pass)
    c2.ok("ENTER AACL", "aacl")
    c2.ok("ADD admin-user name helper password Helper-pw1", "aacl-adminUser")
    c2.ok("DONE", "aacl")
    c2.close()
    assert log_has(srv, f"rename admin user {srv.admin_user} -> chief")


# ------------------------------------------------------------------ crash safety

def _account_id(root, domain, name):
    db = sqlite3.connect(f"file:{root / 'tern.db'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT id FROM users WHERE domain = ? AND name = ?", (domain, name)).fetchone()[0]
    finally:
        db.close()


def test_interrupted_rename_is_completed_or_dropped_at_start(fresh_server):
    srv = fresh_server
    c = srv.connect()
    d = MailDomain(srv, c, "crash%s.test" % new_token()[:8], users=("alice", "bob"))
    ta, tb = new_token(), new_token()
    send(srv, [d.addr("alice")], ta)
    send(srv, [d.addr("bob")], tb)
    wait_token(d.md("alice"), ta)
    wait_token(d.md("bob"), tb)
    cli = srv.cli()
    cli.ok(f"UPDATE Domain name {d.name}", "domain")
    cli.ok("UPDATE Account alice", "domain-account")
    cli.ok("SET name alma")
    cli.ok("COMMIT", "domain")
    cli.close()
    c.close()
    uid = _account_id(srv.root, d.name, "alma")
    srv.kill9()
    # The state of a stop between the commit (step 2) and the move (step 3):
    # the store names the new directory, the old one is still there.
    base = srv.root / "domains" / d.name
    (base / "alma").rename(base / "alice")
    (srv.root / "rename.intent").write_text(f"account\t{uid}\t{d.name}\talice\talma\n")
    srv.start()
    assert not (srv.root / "rename.intent").exists()
    assert not (base / "alice").exists()
    msgs = pop_retr_all(srv, d.addr("alma"), d.pw("alice"))
    assert any(ta in m for m in msgs)
    assert log_has(srv, "rename: account", "completed at start-up")

    # A stop before the commit: the store still has the old name; nothing moves.
    srv.kill9()
    (srv.root / "rename.intent").write_text(f"account\t{uid}\t{d.name}\talma\tzora\n")
    srv.start()
    assert not (srv.root / "rename.intent").exists()
    assert (base / "alma").exists() and not (base / "zora").exists()
    c = srv.connect()
    assert users_of(c, d.name) == ["alma", "bob"]
    c.close()
    assert log_has(srv, "interrupted before its commit; nothing changed")


# ------------------------------------------------------------------ concurrency

def test_mail_during_domain_rename_is_not_lost(server, cli, c):
    """Messages arriving while a domain is renamed all end up in the moved
    Maildir: those accepted for the old address and delivered after the
    rename follow it (the directory's rename record); none is frozen or
    sent out as remote mail."""
    import threading
    from smtpclient import message_files
    old = "dcon%s.test" % new_token()[:8]
    new = "dcnw%s.test" % new_token()[:8]
    d = MailDomain(server, c, old, users=("alice",))
    accepted, stop = [], threading.Event()

    def sender():
        while not stop.is_set() and len(accepted) < 200:
            tok = new_token()
            try:
                s = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10)
                s.ehlo("client.test")
                s.mail("sender@example.org")
                code, _ = s.rcpt(d.addr("alice"))
                if code == 250:
                    code, _ = s.data(f"Subject: {tok}\r\n\r\ntoken {tok}\r\n".encode())
                    if code == 250:
                        accepted.append(tok)
                s.quit()
                if code != 250:
                    return
            except (smtplib.SMTPException, OSError):
                return

    th = threading.Thread(target=sender)
    th.start()
    while len(accepted) < 10:
        time.sleep(0.02)
    cli.ok(f"UPDATE Domain name {old}", "domain")
    cli.ok(f"SET name {new}")
    cli.ok("COMMIT", "")
    stop.set()
    th.join(30)
    assert not th.is_alive()
    md = server.root / "domains" / new / "alice" / "Maildir"
    deadline = time.time() + 30
    while True:
        stored = {p.read_bytes().split(b"token ")[-1].strip().decode() for p in message_files(md)}
        held = [r for r in c.records("frozlist") if d.addr("alice") in r[4]]
        if len(stored) + len(held) >= len(accepted) or time.time() > deadline:
            break
        time.sleep(0.2)
    assert stored == set(accepted) and not held, (len(stored), len(held), len(accepted))
    assert not (server.root / "domains" / old).exists()


def test_kill9_during_renames_leaves_one_whole_account(fresh_server):
    """SIGKILL at a random moment of a stream of renames: after the restart
    the account has exactly one name, its Maildir is under that name with
    the mail, the intent record is gone."""
    import random
    import threading
    srv = fresh_server
    c = srv.connect()
    d = MailDomain(srv, c, "k9%s.test" % new_token()[:8], users=("alice",))
    token = new_token()
    send(srv, [d.addr("alice")], token)
    wait_token(d.md("alice"), token)
    c.close()
    names = ["alice", "amy"]
    renames = [0]
    for round_ in range(3):
        stop = threading.Event()

        def renamer():
            try:
                cl = srv.cli()
                cl.ok(f"UPDATE Domain name {d.name}", "domain")
                while not stop.is_set():
                    cur = current[0]
                    nxt = names[1] if cur == names[0] else names[0]
                    cl.ok(f"UPDATE Account {cur}", "domain-account")
                    cl.ok(f"SET name {nxt}")
                    cl.ok("COMMIT", "domain")
                    current[0] = nxt
                    renames[0] += 1
            except Exception:
                pass                                            # the server died under it

        c = srv.connect()
        current = [[u for u in users_of(c, d.name)][0]]
        c.close()
        th = threading.Thread(target=renamer)
        th.start()
        time.sleep(random.uniform(0.1, 0.6))
        srv.kill9()
        stop.set()
        th.join(30)
        srv.start()
        assert not (srv.root / "rename.intent").exists()
        c = srv.connect()
        now = users_of(c, d.name)
        c.close()
        assert len(now) == 1 and now[0] in names, now
        other = names[1] if now[0] == names[0] else names[0]
        base = srv.root / "domains" / d.name
        assert (base / now[0] / "Maildir").is_dir() and not (base / other).exists(), (round_, now)
        msgs = pop_retr_all(srv, f"{now[0]}@{d.name}", d.pw("alice"))
        assert any(token in m for m in msgs), (round_, now)
    assert renames[0] >= 3, renames                         # the kills did fall among renames


def test_interrupted_domain_rename_is_completed_at_start(fresh_server):
    srv = fresh_server
    c = srv.connect()
    old = "cdo%s.test" % new_token()[:8]
    new = "cdn%s.test" % new_token()[:8]
    d = MailDomain(srv, c, old, users=("alice",))
    token = new_token()
    send(srv, [d.addr("alice")], token)
    wait_token(d.md("alice"), token)
    c.close()
    cli = srv.cli()
    cli.ok(f"UPDATE Domain name {old}", "domain")
    cli.ok(f"SET name {new}")
    cli.ok("COMMIT", "")
    cli.close()
    srv.kill9()
    # stopped after the commit, before the directory moved
    (srv.root / "domains" / new).rename(srv.root / "domains" / old)
    (srv.root / "rename.intent").write_text(f"domain\t{old}\t{new}\n")
    srv.start()
    assert not (srv.root / "rename.intent").exists()
    assert not (srv.root / "domains" / old).exists()
    msgs = pop_retr_all(srv, f"alice@{new}", d.pw("alice"))
    assert any(token in m for m in msgs)
    t2 = new_token()
    send(srv, [f"alice@{new}"], t2)
    wait_token(srv.root / "domains" / new / "alice" / "Maildir", t2)
    assert log_has(srv, f"rename: domain {old} -> {new} interrupted by a stop; completed at start-up")


def test_directory_that_cannot_move_changes_nothing(server, cli, c):
    """The store is renamed first; when the directory then cannot move
    (here: its parent made immutable), the store goes back: -ERR, the old
    name works as before, no intent record is left."""
    import shutil
    import subprocess
    import pytest
    if not shutil.which("chattr"):
        pytest.skip("chattr not available")
    d = MailDomain(server, c, "rim%s.test" % new_token()[:8], users=("alice",))
    token = new_token()
    send(server, [d.addr("alice")], token)
    wait_token(d.md("alice"), token)
    base = server.root / "domains" / d.name
    if subprocess.run(["chattr", "+i", str(base)], capture_output=True).returncode != 0:
        pytest.skip("the file system has no immutable attribute")
    try:
        cli.ok(f"UPDATE Domain name {d.name}", "domain")
        cli.ok("UPDATE Account alice", "domain-account")
        cli.ok("SET name alix")
        r = cli.err("COMMIT", None, "domain-account")
        assert r.text.startswith("Cannot rename account alice: Internal server problem"), r
    finally:
        subprocess.run(["chattr", "-i", str(base)], check=True)
    assert users_of(c, d.name) == ["alice"]
    assert not (server.root / "rename.intent").exists()
    msgs = pop_retr_all(server, d.addr("alice"), d.pw("alice"))
    assert any(token in m for m in msgs)
    cli.ok("COMMIT", "domain")                                  # the same edit, now it can move
    assert users_of(c, d.name) == ["alix"]
    wait_token(server.root / "domains" / d.name / "alix" / "Maildir", token)
    cli.ok("BACK", "")


def test_userdel_racing_renames_leaves_no_orphan(server, c):
    """An account deleted (controller) while the CLI renames it: whichever
    wins, every directory left under the domain belongs to an account the
    store still has (userdel and renames hold the moves lock)."""
    import threading
    d = MailDomain(server, c, "race%s.test" % new_token()[:8], users=tuple(f"u{i}" for i in range(12)))
    for i in range(12):
        tok = new_token()
        send(server, [d.addr(f"u{i}")], tok)
        wait_token(d.md(f"u{i}"), tok)
    cli = server.cli()
    ctl = server.connect()
    cli.ok(f"UPDATE Domain name {d.name}", "domain")

    def rename_all():
        for i in range(12):
            cli.ok(f"UPDATE Account u{i}", "domain-account")
            cli.cmd(f"SET name v{i}")
            r = cli.cmd("COMMIT")
            if r.context != "domain":          # refused (deleted meanwhile): drop the edit
                cli.cmd("BACK")

    def delete_all():
        for i in range(12):
            for n in (f"v{i}", f"u{i}"):
                if ctl.cmd("userdel", d.name, n).code >= 0:
                    break

    t1, t2 = threading.Thread(target=rename_all), threading.Thread(target=delete_all)
    t1.start()
    t2.start()
    t1.join(60)
    t2.join(60)
    cli.close()
    left = sorted(u[1] for u in c.records("userlist", d.name))
    dirs = sorted(p.name for p in (server.root / "domains" / d.name).iterdir() if p.is_dir())
    assert set(dirs) <= set(left), (dirs, left)
