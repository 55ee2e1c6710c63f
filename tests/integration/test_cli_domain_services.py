"""Core rows of the CLI closed in the resolver and domain contexts, each
enforced by the daemon:

- DNR: SHOW, SET timeout / retries (the DnsTimeout / DnsRetries settings,
  used by the resolver of outbound delivery and QUERY: a silent nameserver
  proves how often and how long it is asked), SET cacheSize (the
  DnsCacheSize setting; the cache itself: test_cli_dnr_cache.py), QUERY
  NS / TXT / PTR through c-ares against a dnsmasq on loopback;
- domain SET services: a domain without pop3 refuses the POP3 logins of its
  accounts, without smtpIn refuses RCPT for its addresses, without smtpOut
  refuses MAIL FROM of its authenticated users; imap/webmail are refused;
- group SET enable (a disabled group receives nothing: RCPT refused) and
  mailing list SET services (without smtpIn the list receives nothing);
- accountDefaultQuotas answers mboxCount with the same -ERR as the
  account's Quotas and stores totalMessageCount, messageCount and
  messageSize as the account's do (see test_cli_quotas.py)."""

import poplib
import smtplib
import socket
import time
from pathlib import Path

import pytest

from dnsserver import dnsmasq

from cliclient import show_attrs, simple_items
from smtpclient import MailDomain, new_token, tls_context, wait_token

COMMITTED = "committing changes and switching back to previous context"


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@pytest.fixture
def dns(tmp_path):
    """dnsmasq on loopback, authoritative for z.test and 127.0.0.0/24 (NS
    records in auth mode, TXT records, PTR from the host records)."""
    with dnsmasq(tmp_path, "--auth-zone=z.test,127.0.0.0/24", "--auth-server=ns1.z.test,127.0.0.1",
                 "--auth-sec-servers=ns2.elsewhere.test", "--txt-record=t.z.test,v=spf1 -all",
                 '--txt-record=t2.z.test,first,quo"te', "--host-record=host9.z.test,127.0.0.9") as addr:
        yield addr


def show_attr(cli, name):
    """The value SHOW ATTR <name> prints ("name = value")."""
    r = cli.cmd(f"SHOW ATTR {name}")
    line = r.raw.decode().split("\r\n")[0]
    assert line.startswith(name + " = ") and r.ok, r.raw
    return line[len(name) + 3:]


def dnr(cli):
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG DNR", "server-dnr")


def test_dnr_show_and_settings_are_stored(server, cli, c):
    dnr(cli)
    a = show_attrs(cli.cmd("SHOW"))
    assert a == {"timeout": "3", "retries": "1", "cacheSize": "1000"}
    assert cli.cmd("SHOW ATTR retries").raw == b"retries = 1\r\n+OK: command successful\r\n<server-dnr#> "
    # bad values lose nothing
    cli.err("SET timeout 0", None, "server-dnr")
    cli.err("SET timeout 61", None, "server-dnr")
    cli.err("SET retries -1", None, "server-dnr")
    cli.err("SET retries x", None, "server-dnr")
    cli.err("SET cacheSize 100001", None, "server-dnr")
    cli.err("SET cacheSize -1", None, "server-dnr")
    cli.ok("SET cacheSize 0")
    assert show_attrs(cli.cmd("SHOW")) == {"timeout": "3", "retries": "1", "cacheSize": "0"}
    cli.ok("SET timeout 7 retries 4")
    assert show_attrs(cli.cmd("SHOW")) == {"timeout": "7", "retries": "4", "cacheSize": "0"}
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<server#> ".encode()
    assert log_has(server, "COMMIT", "DnsTimeout=7", "DnsRetries=4", "DnsCacheSize=0")
    cli.ok("CONFIG DNR", "server-dnr")
    assert show_attrs(cli.cmd("SHOW")) == {"timeout": "7", "retries": "4", "cacheSize": "0"}
    cli.ok("SET timeout 3 retries 1 cacheSize 1000")
    cli.ok("COMMIT", "server")
    # durable: a restart keeps them
    server.restart()
    cl2 = server.cli()
    dnr(cl2)
    assert show_attrs(cl2.cmd("SHOW")) == {"timeout": "3", "retries": "1", "cacheSize": "1000"}
    cl2.close()


def silent_ns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    return s


def count_queries(s):
    n = 0
    while True:
        try:
            s.recvfrom(4096)
            n += 1
        except socket.timeout:
            return n


def test_dnr_timeout_and_retries_are_the_resolvers(server, cli):
    """A nameserver that never answers: the query is sent 1 + retries times
    and fails after the timeouts, with the stored values (the resolver of
    outbound delivery takes them from the same place) and with pending ones."""
    ns = silent_ns()
    try:
        addr = "127.0.0.1:%d" % ns.getsockname()[1]
        dnr(cli)
        cli.ok("REMOVE All")
        cli.ok("ADD Nameserver 1")
        cli.ok(f"SET address {addr}")
        cli.ok("DONE", "server-dnr")
        cli.ok("SET timeout 1 retries 0")
        cli.ok("COMMIT", "server")
        cli.ok("CONFIG DNR", "server-dnr")
        t0 = time.time()
        r = cli.cmd("QUERY MX a.silent.test")
        took = time.time() - t0
        assert r.status == "-ERR: Query failed: temporary failure (timeout or SERVFAIL)", r.status
        assert 0.8 < took < 4, took
        assert count_queries(ns) == 1
        # pending retries 1: asked twice, 1 s then 2 s
        cli.ok("SET retries 1")
        t0 = time.time()
        r = cli.cmd("QUERY MX silent.test")
        took = time.time() - t0
        assert r.status.startswith("-ERR: Query failed"), r.status
        assert count_queries(ns) == 2
        assert 2.5 < took < 8, took
        cli.ok("BACK", "server")
        cli.ok("CONFIG DNR")
        cli.ok("REMOVE All")
        cli.ok("SET timeout 3 retries 1")
        cli.ok("COMMIT", "server")
    finally:
        ns.close()


def test_dnr_query_ns_txt_ptr(cli, dns):
    dnr(cli)
    cli.ok("REMOVE All")
    cli.ok("ADD Nameserver 1")
    cli.ok(f"SET address {dns}")
    cli.ok("DONE", "server-dnr")
    r = cli.cmd("QUERY NS z.test")
    assert r.pieces[1] == "The NS records for z.test:", r.raw
    assert sorted(simple_items(r)) == ["ns1.z.test", "ns2.elsewhere.test"], r.raw
    r = cli.cmd("QUERY TXT t.z.test")
    assert r.raw == (b"\r\nThe TXT records for t.z.test:\r\n\"v=spf1 -all\"\r\n\r\n"
                     b"+OK: command successful\r\n<server-dnr#> "), r.raw
    assert simple_items(cli.cmd("QUERY TXT t2.z.test")) == ['"first" "quo\\"te"']
    r = cli.cmd("QUERY PTR 127.0.0.9")
    assert r.raw == (b"\r\nThe PTR records for 127.0.0.9:\r\nhost9.z.test\r\n\r\n"
                     b"+OK: command successful\r\n<server-dnr#> "), r.raw
    # no such record: success with zero items; no such name: -ERR
    assert simple_items(cli.cmd("QUERY TXT host9.z.test")) == []
    r = cli.cmd("QUERY PTR 127.0.0.77")
    assert r.status.startswith("-ERR: Query failed") or simple_items(r) == [], r.raw
    cli.err("QUERY PTR 300.1.1.1", "Invalid value for ip.address (an IPv4 or IPv6 address)", "server-dnr")
    cli.err("QUERY NS bad..name", "Invalid value for name (not a valid domain name)", "server-dnr")
    cli.err("QUERY SRV z.test", None, "server-dnr")
    cli.ok("BACK", "server")


# ---------------------------------------------------------------- domain services

def pop_login(server, user, pw):
    """'+OK...' or the -ERR text of a POP3 USER/PASS login."""
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    try:
        p.user(user)
        try:
            return p.pass_(pw).decode()
        except poplib.error_proto as e:
            return e.args[0].decode()
    finally:
        try:
            p.quit()
        except (poplib.error_proto, OSError):
            pass


def rcpt(server, rcpts, sender="x@example.org"):
    """RCPT replies on port 25 (no message sent)."""
    s = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10)
    try:
        s.ehlo("svc.test")
        assert s.mail(sender)[0] == 250
        return [s.rcpt(r) for r in rcpts]
    finally:
        s.quit()


def submit_from(server, user, pw, to, token):
    """MAIL FROM of an authenticated user on submission: (code, text) of the
    refusal, or None when the message went through."""
    s = smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10)
    try:
        s.starttls(context=tls_context())
        s.ehlo("svc.test")
        s.login(user, pw)
        code, msg = s.mail(user)
        if code != 250:
            return code, msg.decode()
        assert s.rcpt(to)[0] == 250
        s.data(f"From: {user}\r\nTo: {to}\r\nSubject: svc\r\n\r\ntoken {token}\r\n")
        return None
    finally:
        s.quit()


def set_domain_services(cli, dom, value, ok=True):
    cli.ok(f"UPDATE Domain name {dom}", "domain")
    r = cli.cmd(f"SET services {value}")
    if not ok:
        cli.ok("BACK", "")
        return r
    assert r.ok, r.raw
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<#> ".encode(), r.raw
    return r


def test_domain_services_enforced(server, cli, c):
    d = MailDomain(server, c, "svc%s.test" % new_token()[:8])
    other = MailDomain(server, c, "svo%s.test" % new_token()[:8], users=("carol",))
    c.ok("aliasdomainadd", d.name, "al" + d.name)
    cli.ok(f"UPDATE Domain name {d.name}", "domain")
    assert show_attr(cli, "services") == "(pop3 smtpIn smtpOut)"
    assert "services" in show_attrs(cli.cmd("SHOW"))
    # imap / webmail do not exist here: refused, nothing changes
    r = cli.cmd("SET services (pop3 imap)")
    assert r.status.startswith("-ERR: Invalid value for services"), r.raw
    cli.err("SET services (webmail)", None, "domain")
    cli.ok("BACK", "")
    assert pop_login(server, d.addr("alice"), d.pw("alice")).startswith("+OK")
    assert not (Path(server.root) / "domains" / d.name / "services.tab").exists()

    # without pop3: every account of the domain is refused POP3; others not
    set_domain_services(cli, d.name, "(smtpIn smtpOut)")
    assert (Path(server.root) / "domains" / d.name / "services.tab").read_text() == "smtpIn smtpOut\n"
    assert pop_login(server, d.addr("alice"), d.pw("alice")) == \
        "-ERR [AUTH] POP3 access is disabled for this account"
    assert pop_login(server, d.addr("bob"), d.pw("bob")).startswith("-ERR [AUTH] POP3 access is disabled")
    assert pop_login(server, other.addr("carol"), other.pw("carol")).startswith("+OK")
    # a wrong password still reads as a failed login (nothing revealed)
    assert pop_login(server, d.addr("alice"), "wrong") == "-ERR [AUTH] Authentication failed"
    cli.ok(f"UPDATE Domain name {d.name}")
    assert show_attr(cli, "services") == "(smtpIn smtpOut)"
    cli.ok("BACK", "")
    # the root's SHOW Domain shows the stored value too
    assert show_attrs(cli.cmd(f"SHOW Domain {d.name}"))["services"] == "(smtpIn smtpOut)"

    # without smtpIn: RCPT refused for its addresses (alias domain too), others fine
    set_domain_services(cli, d.name, "(pop3 smtpOut)")
    assert pop_login(server, d.addr("alice"), d.pw("alice")).startswith("+OK")
    res = rcpt(server, [d.addr("alice"), "bob@al" + d.name, other.addr("carol"), "nobody@" + d.name])
    assert res[0][0] == 550 and b"smtpIn is not among its domain's services" in res[0][1], res
    assert res[1][0] == 550 and b"5.2.1" in res[1][1], res
    assert res[2][0] == 250, res
    assert res[3][0] == 550 and b"User unknown" in res[3][1], res
    # an alias in another domain pointing into it: refused as well (the account's domain)
    c.ok("aliasadd", other.name, "fwd", d.addr("alice"))
    assert rcpt(server, [other.addr("fwd")])[0][0] == 550
    # its users may still send (smtpOut) to others
    token = new_token()
    assert submit_from(server, d.addr("alice"), d.pw("alice"), other.addr("carol"), token) is None
    wait_token(other.md("carol"), token)

    # without smtpOut: MAIL FROM of its authenticated users refused
    set_domain_services(cli, d.name, "(pop3 smtpIn)")
    code, text = submit_from(server, d.addr("alice"), d.pw("alice"), other.addr("carol"), new_token())
    assert code == 550 and "5.7.1" in text, (code, text)
    assert submit_from(server, other.addr("carol"), other.pw("carol"), d.addr("bob"), new_token()) is None
    assert rcpt(server, [d.addr("alice")])[0][0] == 250

    # none; durable over a restart; then all again (the file goes away)
    set_domain_services(cli, d.name, "()")
    server.restart()
    cl2 = server.cli()
    cl2.ok(f"UPDATE Domain name {d.name}", "domain")
    assert show_attr(cl2, "services") == "()"
    cl2.ok("BACK", "")
    assert rcpt(server, [d.addr("bob")])[0][0] == 550
    assert pop_login(server, d.addr("bob"), d.pw("bob")).startswith("-ERR")
    set_domain_services(cl2, d.name, "(pop3 smtpIn smtpOut)")
    assert not (Path(server.root) / "domains" / d.name / "services.tab").exists()
    assert pop_login(server, d.addr("bob"), d.pw("bob")).startswith("+OK")
    assert rcpt(server, [d.addr("bob")])[0][0] == 250
    assert log_has(server, "COMMIT", "services=(pop3 smtpIn)")
    cl2.close()


def test_domain_and_account_services_combine(server, cli, c):
    """An account's own services and its domain's combine as AND."""
    d = MailDomain(server, c, "sva%s.test" % new_token()[:8])
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.ok("UPDATE Account alice", "domain-account")
    cli.ok("CONFIG Limits", "domain-account-limits")
    cli.ok("SET services (smtpIn smtpOut)")
    cli.ok("DONE", "domain-account")
    cli.ok("COMMIT", "domain")
    cli.ok("COMMIT", "")
    set_domain_services(cli, d.name, "(pop3 smtpOut)")
    # alice: no pop3 (her own), no smtpIn (the domain); bob: pop3 yes, smtpIn no
    assert pop_login(server, d.addr("alice"), d.pw("alice")).startswith("-ERR")
    assert pop_login(server, d.addr("bob"), d.pw("bob")).startswith("+OK")
    assert [r[0] for r in rcpt(server, [d.addr("alice"), d.addr("bob")])] == [550, 550]
    set_domain_services(cli, d.name, "(pop3 smtpIn smtpOut)")
    assert pop_login(server, d.addr("alice"), d.pw("alice")).startswith("-ERR")
    assert [r[0] for r in rcpt(server, [d.addr("alice"), d.addr("bob")])] == [250, 250]


def test_domain_services_bad_input_and_errors(server, cli, c):
    d = MailDomain(server, c, "svb%s.test" % new_token()[:8], users=("alice",))
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.err("SET services pop3)", None, "domain")
    cli.err("SET services (pop3 nosuch)", None, "domain")
    assert show_attr(cli, "services") == "(pop3 smtpIn smtpOut)"
    # BACK drops a pending change
    cli.ok("SET services (pop3)")
    assert show_attr(cli, "services") == "(pop3)"
    cli.ok("BACK", "")
    assert not (Path(server.root) / "domains" / d.name / "services.tab").exists()
    assert rcpt(server, [d.addr("alice")])[0][0] == 250
    # services commit with the domain's own changes: when those are refused
    # (catch-all to a missing account), services are not stored either and
    # stay pending; once the rest is right, both are stored
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.ok("SET services (pop3 smtpOut) catchAllType account catchAllAccountName nobody")
    r = cli.cmd("COMMIT")
    assert r.status.startswith("-ERR: Commit failed"), r.raw
    assert r.context == "domain"
    assert not (Path(server.root) / "domains" / d.name / "services.tab").exists()
    assert rcpt(server, [d.addr("alice")])[0][0] == 250
    assert show_attr(cli, "services") == "(pop3 smtpOut)"
    cli.ok("SET catchAllAccountName alice")
    cli.ok("COMMIT", "")
    assert (Path(server.root) / "domains" / d.name / "services.tab").read_text() == "pop3 smtpOut\n"
    assert rcpt(server, [d.addr("alice")])[0][0] == 550
    assert log_has(server, "COMMIT", f"domain {d.name} services=(pop3 smtpOut)", "catch-all=alice")
    # the controller's cfgfileget reads the file
    assert c.listing("cfgfileget", f"domains/{d.name}/services.tab") == ["pop3 smtpOut"]


# ---------------------------------------------------------------- groups and lists

def test_group_enable_and_list_services(server, cli, c):
    d = MailDomain(server, c, "svg%s.test" % new_token()[:8], users=("carol", "dave"))
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.ok("ADD Group name sales", "domain-group")
    cli.ok(f"ADD Address {d.addr('carol')}")
    assert show_attrs(cli.cmd("SHOW"))["enable"] == "yes"
    cli.err("SET enable maybe", None, "domain-group")
    cli.ok("SET enable no")
    cli.ok("COMMIT", "domain")
    assert dict(c.records("uservars", d.name, "sales"))["ReceiveEnable"] == "0"
    res = rcpt(server, ["sales@" + d.name, d.addr("carol")])
    assert res[0][0] == 550 and b"group or list is disabled" in res[0][1], res
    assert res[1][0] == 250
    c.ok("aliasadd", d.name, "team", "sales")
    assert rcpt(server, ["team@" + d.name])[0][0] == 550
    cli.ok("UPDATE Group sales", "domain-group")
    assert show_attr(cli, "enable") == "no"
    cli.ok("SET enable yes")
    cli.ok("COMMIT", "domain")
    token = new_token()
    s = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10)
    s.sendmail("x@example.org", ["sales@" + d.name], f"Subject: g\r\n\r\ntoken {token}\r\n")
    s.quit()
    wait_token(d.md("carol"), token)

    # a list: services (smtpIn) or (); pop3/smtpOut/imap refused
    cli.ok("ADD List name news password N3ws-pw", "domain-list")
    r = cli.cmd("SHOW")
    assert show_attrs(r)["services"] == "(smtpIn)", r.raw
    for bad in ("(pop3)", "(smtpOut)", "(imap smtpIn)", "(webmail)"):
        r = cli.cmd(f"SET services {bad}")
        assert r.status.startswith("-ERR: Invalid value for services"), (bad, r.raw)
    cli.ok("SET services ()")
    cli.ok("COMMIT", "domain")
    assert dict(c.records("uservars", d.name, "news"))["ReceiveEnable"] == "0"
    res = rcpt(server, ["news@" + d.name])
    assert res[0][0] == 550 and b"disabled" in res[0][1], res
    cli.ok("UPDATE List news", "domain-list")
    assert show_attr(cli, "services") == "()"
    cli.ok("SET services (smtpIn)")
    cli.ok("COMMIT", "domain")
    assert rcpt(server, ["news@" + d.name])[0][0] == 250
    cli.ok("BACK", "")


# ---------------------------------------------------------------- default quotas

def test_default_quotas_refuse_what_account_quotas_refuse(cli, c):
    d = MailDomain(server=None, c=c, name="svq%s.test" % new_token()[:8], users=("alice",))
    cli.ok(f"UPDATE Domain name {d.name}")
    cli.ok("UPDATE Account alice", "domain-account")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    r = cli.cmd("SET mboxCount 10")
    assert r.status.startswith("-ERR"), r.raw
    acct = r.status
    cli.ok("BACK", "domain-account")
    cli.ok("BACK", "domain")
    cli.ok("CONFIG accountDefaultQuotas", "domain-accountDefaultQuotas")
    r = cli.cmd("SET mboxCount 10")
    assert r.status == acct, r.raw
    assert r.status.startswith("-ERR: mboxCount cannot be set. Not supported: Tern keeps a single folder"), r.raw
    # nothing of it is pending: DONE + COMMIT store only what was set
    assert list(show_attrs(cli.cmd("SHOW"))) == ["totalMessageSize", "totalMessageCount", "messageCount",
                                                 "messageSize"]
    cli.ok("SET totalMessageSize 2048")
    cli.ok("DONE", "domain")
    cli.ok("COMMIT", "")
    tab = c.listing("cfgfileget", f"domains/{d.name}/userdef.tab")
    assert any("MaxMBSize" in l and "2048" in l for l in tab), tab
    assert not any("mboxCount" in l or "Messages" in l for l in tab), tab
