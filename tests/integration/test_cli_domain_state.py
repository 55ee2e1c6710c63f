"""Disabled domains: ENABLE Domain / DISABLE Domain at the CLI's root (and
the pre-10 REGISTER / UNREGISTER DOMAIN forms). A disabled domain keeps all
its data: SMTP refuses RCPT for its addresses and its alias domains (550
5.2.1, as for a disabled mailbox), POP3 and SMTP AUTH refuse its accounts,
mail already on its way is frozen in spool/held (never dropped) and goes
back to delivery when the domain is enabled again. The controller still
lists it; the CLI's LIST AllDomains shows it as `disabled` and LIST Domains
(the enabled domains) leaves it out. The state is durable (restart), an
older data root is upgraded, and SAVE CONFIG snapshots carry it."""

import poplib
import smtplib
import sqlite3
import time
from pathlib import Path

import pytest

from cliclient import table_rows
from smtpclient import MailDomain, SMTPConn, expect, make_message, new_token, wait_token, with_token

OK = b"+OK: command successful\r\n<#> "


def domains(c):
    return [r[0] for r in c.records("domainlist")]


def state_rows(cli, pattern):
    return table_rows(cli.ok(f"LIST AllDomains {pattern}"))


def enabled_rows(cli, pattern):
    return table_rows(cli.ok(f"LIST Domains {pattern}"))


def held_for(root, addr):
    """Frozen entries (name, log text) whose envelope names addr."""
    d = Path(root) / "spool" / "held"
    out = []
    if not d.is_dir():
        return out
    for p in sorted(d.iterdir()):
        if p.name.endswith(".log"):
            continue
        try:
            head = p.read_bytes().split(b"\n.\n", 1)[0]
        except FileNotFoundError:
            continue
        if f"{addr}\n".encode() in head + b"\n":
            log = d / (p.name + ".log")
            out.append((p.name, log.read_text() if log.exists() else ""))
    return out


def wait_for(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


def rcpt_reply(server, addr):
    with SMTPConn(server.smtp_port) as s:
        expect(s.ehlo(), 250)
        expect(s.mail("someone@outside.example"), 250)
        return s.rcpt(addr)


# ---------------------------------------------------------------- CLI

def test_disable_enable_exact_replies_and_lists(server, cli, c, mdom):
    d = mdom.name
    assert state_rows(cli, d) == [f"{d} | enabled"]
    r = cli.cmd(f"DISABLE Domain name {d}")
    assert r.raw == OK
    r = cli.cmd(f"LIST AllDomains {d}")
    assert r.raw == (b"\r\nThe list of all domains:\r\n\r\nname | status\r\n------------------------------\r\n"
                     + f"{d} | disabled\r\n".encode() + b"\r\n" + OK)
    # LIST Domains is the enabled domains (spec: root context)
    r = cli.cmd(f"LIST Domains {d}")
    assert r.raw == (b"\r\nThe list of domains:\r\n\r\nname | status\r\n------------------------------\r\n"
                     + b"\r\n" + OK)
    assert d in domains(c)                      # the controller's wire format does not change
    assert d in [r[0] for r in c.records("domainlist", d)]
    r = cli.cmd(f"ENABLE Domain name {d.upper()}")
    assert r.raw == OK
    assert state_rows(cli, d) == [f"{d} | enabled"]
    assert enabled_rows(cli, d) == [f"{d} | enabled"]
    # the keyword of DISABLE is optional
    assert cli.cmd(f"disable domain {d}").raw == OK
    assert state_rows(cli, d) == [f"{d} | disabled"]
    assert cli.cmd(f"enable domain name {d}").raw == OK


def test_idempotent_and_errors(cli, mdom):
    d = mdom.name
    assert cli.cmd(f"DISABLE Domain name {d}").raw == OK
    assert cli.cmd(f"DISABLE Domain name {d}").raw == OK          # already disabled: +OK, unchanged
    assert state_rows(cli, d) == [f"{d} | disabled"]
    assert cli.cmd(f"ENABLE Domain name {d}").raw == OK
    assert cli.cmd(f"ENABLE Domain name {d}").raw == OK            # already enabled: +OK
    assert state_rows(cli, d) == [f"{d} | enabled"]
    assert cli.cmd("DISABLE Domain name nosuch-dom.test").raw == \
        b"-ERR: Domain nosuch-dom.test not found\r\n<#> "
    assert cli.cmd("ENABLE Domain name NoSuch-Dom.test").raw == \
        b"-ERR: Domain nosuch-dom.test not found\r\n<#> "
    cli.err("DISABLE Domain name bad..name", "Domain bad..name not found", "")
    cli.err("ENABLE Domain name " + "a" * 300 + ".test", "Invalid value for name (longer than 253 characters)", "")
    cli.err("ENABLE Domain domainLocation /var/opt/x",
            "ENABLE Domain domainLocation is not supported: every domain lives under the data root; "
            "use ENABLE Domain name <name>", "")
    cli.err("ENABLE Domain", "Missing required parameter name", "")
    cli.err(f"ENABLE Domain {d}", "Invalid parameters (unexpected argument)", "")   # spec: `name` is required
    r = cli.err("DISABLE Domain")
    assert r.context == ""
    # an alias domain is not a domain of its own
    al = "al-" + d
    cli.ok(f"UPDATE Domain {d}", "domain")
    cli.ok(f"ADD Alias {al}")
    cli.ok("COMMIT", "")
    cli.err(f"DISABLE Domain {al}", f"Domain {al} not found", "")
    assert state_rows(cli, d) == [f"{d} | enabled"]


def test_legacy_register_unregister(cli, mdom):
    d = mdom.name
    assert cli.cmd(f'UNREGISTER DOMAIN NAME "{d}"').raw == OK
    assert state_rows(cli, d) == [f"{d} | disabled"]
    assert cli.cmd(f"REGISTER DOMAIN NAME {d}").raw == OK
    assert state_rows(cli, d) == [f"{d} | enabled"]
    cli.err("REGISTER DOMAIN DOMAINLOCATION /var/opt/axigen/domains/x", context="")
    help_text = cli.ok("HELP").raw.decode()
    assert "ENABLE Domain" in help_text and "DISABLE Domain" in help_text
    assert "REGISTER" not in help_text                           # accepted, not advertised


def test_disabled_domain_can_be_updated_and_deleted(server, cli, c, mdom):
    d = mdom.name
    cli.ok(f"DISABLE Domain {d}")
    cli.ok(f"UPDATE Domain {d}", "domain")
    cli.ok("ADD Account carol password Carol-Pw.1", "domain-account")
    cli.ok("COMMIT", "domain")
    cli.ok("BACK", "")
    assert "carol" in [u[1] for u in c.records("userlist", d)]
    c.ok("useradd", d, "dave", "Dave-Pw.1", "U")                  # the controller too
    assert state_rows(cli, d) == [f"{d} | disabled"]             # edits do not enable it
    cli.ok(f"DELETE Domain name {d}")
    assert d not in domains(c)
    assert state_rows(cli, d) == []
    cli.err(f"ENABLE Domain name {d}", f"Domain {d} not found", "")
    # a new domain of the same name starts enabled
    c.ok("domainadd", d)
    assert state_rows(cli, d) == [f"{d} | enabled"]


# ---------------------------------------------------------------- mail

def test_smtp_rcpt_refused_for_domain_and_alias_domains(server, cli, c, mdom):
    d = mdom.name
    al = "alias-" + d
    c.ok("aliasdomainadd", d, al)
    other = MailDomain(server, c, "other-" + d, users=("olga",))
    c.ok("aliasadd", other.name, "fwd", mdom.addr("alice"))      # another domain's alias to it
    cli.ok(f"DISABLE Domain {d}")
    for addr in (mdom.addr("alice"), f"ALICE@{d.upper()}", f"alice@{al}", f"nobody@{d}"):
        r = rcpt_reply(server, addr)
        expect(r, 550, "5.2.1", addr)
        assert "domain is disabled" in r.text, r
    # the other domains are not affected, in the same session
    with SMTPConn(server.smtp_port) as s:
        expect(s.ehlo(), 250)
        expect(s.mail("x@outside.example"), 250)
        expect(s.rcpt(mdom.addr("bob")), 550, "5.2.1")
        expect(s.rcpt(other.addr("olga")), 250)
        r = s.rcpt(other.addr("fwd"))                              # its only target is disabled
        expect(r, 550, "5.2.1")
        assert "domain is disabled" in r.text, r
    # smtplib as a real client: the refusal is permanent
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as sm:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as ei:
            sm.sendmail("x@outside.example", [mdom.addr("alice")], make_message("x@outside.example",
                                                                                 mdom.addr("alice"), "t"))
        assert ei.value.recipients[mdom.addr("alice")][0] == 550
    cli.ok(f"ENABLE Domain name {d}")
    tok = new_token()
    msg = make_message("x@outside.example", mdom.addr("alice"), "back", token=tok)
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as sm:
        assert sm.sendmail("x@outside.example", [f"alice@{al}"], msg) == {}
    wait_token(mdom.md("alice"), tok)


def test_pop3_and_smtp_auth_refused_while_disabled(server, cli, mdom):
    d = mdom.name
    cli.ok(f"DISABLE Domain {d}")
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.user(mdom.addr("alice"))
    with pytest.raises(poplib.error_proto) as ei:
        p.pass_(mdom.pw("alice"))
    assert ei.value.args[0] == b"-ERR [AUTH] The domain of this account is disabled"
    p.close()
    # a wrong password still gets the plain refusal (nothing is revealed)
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.user(mdom.addr("alice"))
    with pytest.raises(poplib.error_proto) as ei:
        p.pass_("wrong")
    assert ei.value.args[0] == b"-ERR [AUTH] Authentication failed"
    p.close()
    with SMTPConn(server.submission_port) as s:
        expect(s.ehlo(), 250)
        expect(s.starttls(), 220)
        expect(s.ehlo(), 250)
        expect(s.auth_plain(mdom.addr("alice"), mdom.pw("alice")), 535, "5.7.8")
    assert "login of alice@" in server.log and "its domain is disabled" in server.log
    cli.ok(f"ENABLE Domain name {d}")
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.user(mdom.addr("alice"))
    p.pass_(mdom.pw("alice"))
    assert p.stat()[0] == 0
    p.quit()
    with SMTPConn(server.submission_port) as s:
        expect(s.ehlo(), 250)
        expect(s.starttls(), 220)
        expect(s.ehlo(), 250)
        expect(s.auth_plain(mdom.addr("alice"), mdom.pw("alice")), 235, "2.7.0")


def test_mail_on_its_way_is_frozen_then_released(server, cli, c, mdom):
    """A list of another (enabled) domain has a member in the disabled
    domain: the message is accepted, the enabled member gets it, the
    disabled member's copy waits in spool/held (with the reason) and is
    delivered once the domain is enabled again."""
    d = mdom.name
    ld = MailDomain(server, c, "lists-" + d, users=("eve",))
    c.ok("useradd", ld.name, "team", "pw", "M")
    c.ok("mluseradd", ld.name, "team", ld.addr("eve"), "R")
    c.ok("mluseradd", ld.name, "team", mdom.addr("bob"), "R")
    cli.ok(f"DISABLE Domain {d}")
    tok = new_token()
    msg = make_message("x@outside.example", ld.addr("team"), "listmail", token=tok)
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as sm:
        assert sm.sendmail("x@outside.example", [ld.addr("team")], msg) == {}
    wait_token(ld.md("eve"), tok)
    held = wait_for(lambda: held_for(server.root, mdom.addr("bob")))
    assert len(held) == 1, held
    name, log = held[0]
    assert f"<{mdom.addr('bob')}> held while disabled: domain {d}" in log
    assert name in [r[0] for r in c.records("frozlist")]
    time.sleep(0.5)
    assert with_token(mdom.md("bob"), tok) == []
    assert "domain " + d + " is disabled; message kept in spool/held" in server.log
    # still frozen across a restart
    server.restart()
    time.sleep(0.5)
    assert held_for(server.root, mdom.addr("bob"))
    assert with_token(mdom.md("bob"), tok) == []
    with server.cli() as cl2:
        assert cl2.cmd(f"ENABLE Domain name {d}").raw == OK
    wait_token(mdom.md("bob"), tok)
    assert wait_for(lambda: not held_for(server.root, mdom.addr("bob")))
    assert len(with_token(ld.md("eve"), tok)) == 1                  # nobody got it twice
    assert "domainenable " + d in server.log


# ---------------------------------------------------------------- durability

def test_state_survives_restart_and_snapshots_carry_it(fresh_server):
    srv = fresh_server
    c = srv.connect()
    m = MailDomain(srv, c, "keep.test", users=("alice",))
    MailDomain(srv, c, "live.test", users=("bob",))
    with srv.cli() as cl:
        cl.ok("DISABLE Domain keep.test")
        r = cl.ok("SAVE CONFIG")
    snap = r.raw.decode().split("snapshot ")[1].split("\r\n")[0]
    state = (srv.root / "snapshots" / snap / "domainstate.tab").read_text()
    assert state == '"keep.test"\t"disabled"\n'
    c.close()
    srv.restart()
    with srv.cli() as cl:
        assert state_rows(cl, "*.test") == ["keep.test | disabled", "live.test | enabled"]
    expect(rcpt_reply(srv, m.addr("alice")), 550, "5.2.1")
    expect(rcpt_reply(srv, "bob@live.test"), 250)
    # restoring the snapshot after a DELETE brings the domain back disabled
    c = srv.connect()
    c.ok("domaindel", "keep.test")
    with srv.cli() as cl:
        cl.ok(f"RESTORE ConfigSnapshot name {snap}")
        assert state_rows(cl, "*.test") == ["live.test | enabled", "keep.test | disabled"]
    c.close()


def test_old_data_root_is_upgraded(fresh_server):
    """A directory written before domains had a state (no `enabled`
    column) opens; its domains are enabled and can be disabled."""
    srv = fresh_server
    c = srv.connect()
    m = MailDomain(srv, c, "old.test", users=("alice",))
    c.close()
    assert srv.stop() == 0
    db = sqlite3.connect(srv.root / "tern.db")
    cols = [r[1] for r in db.execute("PRAGMA table_info(domains)")]
    assert "enabled" in cols
    db.execute("ALTER TABLE domains DROP COLUMN enabled")
    db.commit()
    db.close()
    srv.start()
    assert "directory upgraded" in srv.log
    with srv.cli() as cl:
        assert state_rows(cl, "old.test") == ["old.test | enabled"]
        cl.ok("DISABLE Domain old.test")
        assert state_rows(cl, "old.test") == ["old.test | disabled"]
    expect(rcpt_reply(srv, m.addr("alice")), 550, "5.2.1")


def test_enable_again_releases_copies_frozen_meanwhile(fresh_server):
    """A copy frozen for a domain that is enabled by then (a delivery that
    read the state just before ENABLE) goes back to delivery at the next
    ENABLE Domain, which answers +OK for an enabled domain."""
    srv = fresh_server
    c = srv.connect()
    m = MailDomain(srv, c, "late.test", users=("bob",))
    ld = MailDomain(srv, c, "lists.test", users=("eve",))
    c.ok("useradd", ld.name, "team", "pw", "M")
    c.ok("mluseradd", ld.name, "team", ld.addr("eve"), "R")     # (a list whose only member is in a
    c.ok("mluseradd", ld.name, "team", m.addr("bob"), "R")      # disabled domain is refused at RCPT)
    c.close()
    with srv.cli() as cl:
        cl.ok("DISABLE Domain late.test")
    tok = new_token()
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as sm:
        assert sm.sendmail("x@outside.example", [ld.addr("team")],
                           make_message("x@outside.example", ld.addr("team"), "late", token=tok)) == {}
    assert wait_for(lambda: held_for(srv.root, m.addr("bob")))
    assert srv.stop() == 0
    db = sqlite3.connect(srv.root / "tern.db")           # enabled behind the frozen copy's back
    db.execute("UPDATE domains SET enabled = 1 WHERE name = 'late.test'")
    db.commit()
    db.close()
    srv.start()
    time.sleep(0.5)
    assert held_for(srv.root, m.addr("bob"))              # frozen copies wait for an admin
    with srv.cli() as cl:
        assert state_rows(cl, "late.test") == ["late.test | enabled"]
        assert cl.cmd("ENABLE Domain name late.test").raw == OK
    wait_token(m.md("bob"), tok)
    assert wait_for(lambda: not held_for(srv.root, m.addr("bob")))
    assert "domainenable late.test" in srv.log and "(no change, it was already so)" in srv.log
