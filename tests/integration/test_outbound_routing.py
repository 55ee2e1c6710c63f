"""Outbound routing and queue control: per-domain smart hosts (smtpfwd.tab),
gateway domains (smtpgw.tab), AUTH and TLS policy towards smart hosts,
per-destination session limits, session reuse, delay warnings, attempt
limits, the persisted schedule across restarts, the controller's etrn and
SMTP ETRN (RFC 1985). Everything on loopback: SMTP sinks from smtpsink.py,
DNS from the dnsmasq fixture of test_outbound."""

import smtplib
import socket
import time
from pathlib import Path

import pytest

from ctrlclient import check
from smtpsink import SmtpSink
from test_ctrl_server import set_settings
from test_outbound import ctx, dns, maildir, out_server, submit, wait  # noqa: F401


def cfgfile(c, name, lines):
    r = c.upload(("cfgfileset", name), lines)
    assert r.code == 0, (name, r)


def entries(srv, sub="remote"):
    d = Path(srv.root, "spool", sub)
    return [p for p in d.iterdir() if "." in p.name and not p.name.endswith((".log", ".state"))]


def send_many(srv, rcpts, subject):
    with smtplib.SMTP("127.0.0.1", srv.submission_port, timeout=10) as s:
        s.starttls(context=ctx())
        s.login("alice@out.test", "pw")
        for i, r in enumerate(rcpts):
            s.sendmail("alice@out.test", [r], f"Subject: {subject}-{i}\r\n\r\nbody {i}\r\n")


@pytest.fixture
def sinks():
    made = []

    def make(*a, **kw):
        s = SmtpSink(*a, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def tls_files(srv):
    return str(Path(srv.root, "tls", "server.crt")), str(Path(srv.root, "tls", "server.key"))


def test_smtpfwd_routes_per_domain_and_default_gateway_for_the_rest(out_server, sinks):
    srv, c = out_server
    a, b = sinks(), sinks()
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{b.port}", QueueRetrySchedule="1")
    cfgfile(c, "smtpfwd.tab", [
        "# per-domain smart hosts",
        f'"*.a.example"\t"127.0.0.1:{a.port}"',
        f'"a.example"\t"127.0.0.1:1,NeedTLS=1;127.0.0.1:{a.port}"',
    ])
    send_many(srv, ["x@a.example", "y@sub.a.example", "z@b.example"], "fwd")
    assert wait(lambda: len(a.messages) == 2 and len(b.messages) == 1)
    assert sorted(m[1][0] for m in a.messages) == ["x@a.example", "y@sub.a.example"]
    assert b.messages[0][1] == ["z@b.example"]


def test_one_session_carries_all_recipients_of_a_destination(out_server, sinks):
    srv, c = out_server
    a = sinks()
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{a.port}")
    submit_rcpts = ["r1@one.example", "r2@one.example", "r3@two.example"]
    with smtplib.SMTP("127.0.0.1", srv.submission_port, timeout=10) as s:
        s.starttls(context=ctx())
        s.login("alice@out.test", "pw")
        s.sendmail("alice@out.test", submit_rcpts, "Subject: multi\r\n\r\nx\r\n")
    assert wait(lambda: len(a.messages) == 1)
    assert sorted(a.messages[0][1]) == sorted(submit_rcpts)


def test_invalid_smtpfwd_line_is_ignored_not_fatal(out_server, sinks):
    srv, c = out_server
    b = sinks()
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{b.port}")
    cfgfile(c, "smtpfwd.tab", ['"bad.example"\t"host:notaport;"'])
    submit(srv, "alice@out.test", "q@bad.example", "badfwd")
    assert wait(lambda: len(b.messages) == 1)


def test_smtpgw_relays_through_the_gateway_domain(out_server, sinks, dns):
    srv, c = out_server
    a = sinks()
    # far.test's exchangers are 127.0.0.2 (dead) and 127.0.0.1 (the sink)
    set_settings(c, DnsServers=dns, SmtpOutPort=a.port, QueueRetrySchedule="1")
    cfgfile(c, "smtpgw.tab", ['"*.gw.example"\t"@far.test"'])
    submit(srv, "alice@out.test", "someone@in.gw.example", "gw")
    assert wait(lambda: len(a.messages) == 1, timeout=20)
    assert a.messages[0][1] == ["someone@in.gw.example"]


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_auth_to_smart_host_inside_tls(out_server, sinks, mech):
    srv, c = out_server
    cert, key = tls_files(srv)
    a = sinks(certfile=cert, keyfile=key, starttls=True, auth={"user": "relayuser", "password": "s3cret pw"})
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{a.port}")
    cfgfile(c, "userauth/smtp/127.0.0.1.tab", [f'"{mech}"\t"relayuser"\t"s3cret pw"'])
    submit(srv, "alice@out.test", "friend@far.example", "auth-" + mech)
    assert wait(lambda: len(a.messages) == 1)
    assert a.messages[0][3] == {"tls": True, "authed": True}
    assert a.auth_seen and a.auth_seen[0] == (mech, "relayuser", True)
    # the password never reaches the server's log
    assert "s3cret" not in Path(srv.root, "logs", "ternd.log").read_text()


def test_credentials_are_never_sent_in_clear(out_server, sinks):
    srv, c = out_server
    a = sinks(auth={"user": "u", "password": "p"}, tls_for_auth=False)  # AUTH offered without TLS
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{a.port}", QueueRetrySchedule="3600")
    cfgfile(c, "userauth/smtp/127.0.0.1.tab", ['"PLAIN"\t"u"\t"p"'])
    submit(srv, "alice@out.test", "friend@far.example", "noclear")
    assert wait(lambda: any(p.name.endswith(".log") for p in Path(srv.root, "spool", "remote").iterdir()))
    time.sleep(1)
    assert a.auth_seen == [] and a.messages == []
    logs = [p.read_text() for p in Path(srv.root, "spool", "remote").glob("*.log")]
    assert any("not encrypted" in l for l in logs)
    assert len(entries(srv)) == 1  # still queued, not bounced


def test_needtls2_refuses_a_host_without_starttls(out_server, sinks):
    srv, c = out_server
    a = sinks()
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{a.port},NeedTLS=2", QueueRetrySchedule="3600")
    submit(srv, "alice@out.test", "friend@far.example", "needtls")
    assert wait(lambda: any(Path(srv.root, "spool", "remote").glob("*.log")))
    time.sleep(0.5)
    assert a.messages == []
    logs = "".join(p.read_text() for p in Path(srv.root, "spool", "remote").glob("*.log"))
    assert "NeedTLS=2" in logs
    # the same with TLS offered goes through, encrypted
    cert, key = tls_files(srv)
    t = sinks(certfile=cert, keyfile=key, starttls=True)
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{t.port},NeedTLS=2")
    check(c.cmd("etrn", "*"), 0)
    assert wait(lambda: len(t.messages) == 1)
    assert t.messages[0][3]["tls"] is True


def test_per_destination_session_limit(out_server, sinks):
    srv, c = out_server
    a = sinks(hold=0.4)
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{a.port}", SmtpOutMaxPerDestination=2)
    send_many(srv, [f"u{i}@far.example" for i in range(8)], "limit")
    assert wait(lambda: len(a.messages) == 8, timeout=30)
    assert a.max_active <= 2
    assert a.max_active == 2  # the limit is used, not just respected


def test_idle_sessions_are_reused(out_server, sinks):
    srv, c = out_server
    a = sinks()
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{a.port}", SmtpOutThreads=1)
    for i in range(3):
        submit(srv, "alice@out.test", f"v{i}@far.example", f"reuse-{i}")
        assert wait(lambda: len(a.messages) == i + 1)
    assert a.connections == 1


def test_delay_warning_sent_once(out_server, sinks):
    srv, c = out_server
    a = sinks(mode="defer")
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{a.port}", QueueRetrySchedule="1", DelayWarningTime=1)
    submit(srv, "alice@out.test", "late@far.example", "delayed-1")
    assert wait(lambda: len(maildir(srv.root, "out.test", "alice")) == 1)
    assert wait(lambda: a.rcpt_attempts >= 4, timeout=20)
    msgs = maildir(srv.root, "out.test", "alice")
    assert len(msgs) == 1, "the delay warning goes out once"
    w = msgs[0]
    assert w["Return-Path"] == "<>"
    assert w.get_content_type() == "multipart/report"
    status = [p for p in w.walk() if p.get_content_type() == "message/delivery-status"][0]
    fields = [dict(p.items()) for p in status.get_payload()]
    per = fields[1]
    assert per["Action"] == "delayed" and per["Status"].startswith("4.")
    assert per["Final-Recipient"] == "rfc822; late@far.example"
    assert "Will-Retry-Until" in per
    assert len(entries(srv)) == 1  # still queued


def test_attempt_limit_bounces_and_freezes(out_server, sinks):
    srv, c = out_server
    a = sinks(mode="defer")
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{a.port}", QueueRetrySchedule="1", QueueMaxAttempts=2,
                 DelayWarningTime=0)
    submit(srv, "alice@out.test", "never@far.example", "maxatt")
    assert wait(lambda: len(maildir(srv.root, "out.test", "alice")) == 1, timeout=20)
    b = maildir(srv.root, "out.test", "alice")[0]
    assert "Action: failed" in b.as_string() and "gave up after 2 attempts" in b.as_string()
    assert a.rcpt_attempts == 2
    rows = c.records("frozlist")
    assert len(rows) == 1 and "never@far.example" in rows[0][4]


def test_schedule_survives_restart(out_server, sinks):
    srv, c = out_server
    a = sinks(mode="defer")
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{a.port}", QueueRetrySchedule="3600")
    submit(srv, "alice@out.test", "later@far.example", "persist")
    assert wait(lambda: a.rcpt_attempts == 1)
    c.close()
    srv.stop()
    srv.start()
    time.sleep(2)
    assert a.rcpt_attempts == 1, "a restart must not retry before the entry is due"
    assert len(entries(srv)) == 1


def test_ctrl_etrn_flushes_matching_entries_only(out_server, sinks):
    srv, c = out_server
    a = sinks(mode="defer")
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{a.port}", QueueRetrySchedule="3600")
    send_many(srv, ["p@one.example", "q@two.example"], "etrn")
    assert wait(lambda: a.rcpt_attempts == 2)
    a.mode = "accept"
    check(c.cmd("etrn", "*@one.example"), 0)
    assert wait(lambda: len(a.messages) == 1)
    time.sleep(1)
    assert [m[1] for m in a.messages] == [["p@one.example"]]
    check(c.cmd("etrn", "two.*"), 0)  # no '@': matches the domain
    assert wait(lambda: len(a.messages) == 2)
    assert wait(lambda: entries(srv) == [])


def smtp_raw(srv, lines):
    s = socket.create_connection(("127.0.0.1", srv.smtp_port), timeout=10)
    f = s.makefile("rb")
    out = [f.readline()]
    for l in lines:
        s.sendall(l.encode() + b"\r\n")
        r = f.readline()
        while r[3:4] == b"-":
            out.append(r)
            r = f.readline()
        out.append(r)
    s.close()
    return [x.decode().rstrip("\r\n") for x in out]


def test_smtp_etrn(out_server, sinks):
    srv, c = out_server
    a = sinks(mode="defer")
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{a.port}", QueueRetrySchedule="3600")
    r = smtp_raw(srv, ["EHLO me", "ETRN far.example", "QUIT"])
    assert not any(l.endswith("ETRN") for l in r[1:-2])
    assert r[-2].startswith("502 ")
    set_settings(c, AllowSmtpETRN=1, SmtpEtrnDomains="far.example, *.far.example")
    send_many(srv, ["a@far.example", "b@x.far.example", "c@other.example"], "setrn")
    assert wait(lambda: a.rcpt_attempts == 3)
    a.mode = "accept"
    r = smtp_raw(srv, ["EHLO me", "ETRN @far.example", "ETRN other.example", "ETRN #q", "ETRN",
                       "ETRN bad..domain", "MAIL FROM:<x@y.example>", "ETRN far.example", "RSET",
                       "ETRN nothing.far.example", "QUIT"])
    assert any(l == "250-ETRN" or l == "250 ETRN" for l in r)
    tail = r[-10:]
    assert tail[0].startswith("253 ") and "2 pending messages" in tail[0], tail
    assert tail[1].startswith("459 ")
    assert tail[2].startswith("458 ")
    assert tail[3].startswith("501 ")
    assert tail[4].startswith("501 ")
    assert tail[5].startswith("250 ")
    assert tail[6].startswith("503 ")
    assert tail[7].startswith("250 ")
    assert tail[8].startswith("251 ")
    assert wait(lambda: len(a.messages) == 2)
    time.sleep(1)
    assert sorted(m[1][0] for m in a.messages) == ["a@far.example", "b@x.far.example"]


def test_mailproc_smtprelay_routes_through_its_own_hosts(out_server, sinks):
    """A user's mailproc.tab `smtprelay` sends that user's mail to the hosts it
    names (first one dead), whatever the default gateway says; `smtp` routes
    normally; a local copy is kept by `mailbox`."""
    srv, c = out_server
    relay, default = sinks(), sinks()
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{default.port}", QueueRetrySchedule="1")
    c.ok("useradd", "out.test", "bob", "pw", "U")
    check(c.upload(("usersetmproc", "out.test", "bob"),
                   ["mailbox", f'"smtprelay"\t"127.0.0.1:1;127.0.0.1:{relay.port},NeedTLS=0"']), 0)
    submit(srv, "alice@out.test", "bob@out.test", "relayed")
    assert wait(lambda: len(relay.messages) == 1)
    assert relay.messages[0][1] == ["bob@out.test"] and b"Subject: relayed" in relay.messages[0][2]
    assert len(maildir(srv.root, "out.test", "bob")) == 1
    time.sleep(0.5)
    assert default.messages == []
    # the route survives a freeze and frozsubmit
    relay.mode = "defer"
    submit(srv, "alice@out.test", "bob@out.test", "relayed-2")
    assert wait(lambda: relay.rcpt_attempts >= 2)
    cli = srv.cli()
    cli.ok("ENTER QUEUE", "queue")
    mid = [l.split(" | ")[0] for l in cli.ok("LIST").pieces[5:-3]][0]
    cli.ok(f"FREEZE {mid}")
    relay.mode = "accept"
    check(c.cmd("frozsubmit", "0", "0", mid), 0)
    assert wait(lambda: len(relay.messages) == 2)
    assert default.messages == []
    time.sleep(0.5)
    assert len(maildir(srv.root, "out.test", "bob")) == 2  # no third local copy from the resubmission
    cli.close()


def test_hanging_smart_host_times_out_and_the_next_one_takes_it(out_server, sinks):
    """A host that accepts the connection and never answers costs at most
    SmtpOutTimeout; the next host gets the message; alone, it only defers."""
    srv, c = out_server
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(16)  # accepts (kernel backlog), never speaks
    good = sinks()
    try:
        set_settings(c, SmtpOutTimeout=2, QueueRetrySchedule="3600",
                     DefaultSMTPGateways=f"127.0.0.1:{hang.getsockname()[1]};127.0.0.1:{good.port}")
        t0 = time.time()
        submit(srv, "alice@out.test", "slow@far.example", "hang-1")
        assert wait(lambda: len(good.messages) == 1, timeout=20)
        assert time.time() - t0 < 15
        set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{hang.getsockname()[1]}")
        submit(srv, "alice@out.test", "slow@far.example", "hang-2")
        assert wait(lambda: any("no valid SMTP greeting" in p.read_text()
                                for p in Path(srv.root, "spool", "remote").glob("*.log")), timeout=20)
        assert len(entries(srv)) == 1 and maildir(srv.root, "out.test", "alice") == []
    finally:
        hang.close()


def test_mx_delivery_over_ipv6_and_the_ipv6_switch(out_server, sinks, dns):
    """v6.test's only exchanger has an AAAA record (::1): delivered over IPv6;
    with SmtpOutEnableIPv6=0 the exchanger has no usable address and the
    message waits."""
    srv, c = out_server
    v6 = sinks(host="::1")
    set_settings(c, DnsServers=dns, SmtpOutPort=v6.port, QueueRetrySchedule="3600")
    submit(srv, "alice@out.test", "six@v6.test", "ipv6-1")
    assert wait(lambda: len(v6.messages) == 1, timeout=20)
    assert v6.messages[0][1] == ["six@v6.test"]
    set_settings(c, SmtpOutEnableIPv6=0)
    submit(srv, "alice@out.test", "six@v6.test", "ipv6-2")
    assert wait(lambda: any("v6mx.test" in p.read_text() for p in Path(srv.root, "spool", "remote").glob("*.log")),
                timeout=20)
    time.sleep(0.5)
    assert len(v6.messages) == 1 and len(entries(srv)) == 1
