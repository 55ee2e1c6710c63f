"""Outbound delivery through a smart host (DefaultSMTPGateways): a local
SMTP sink on loopback accepts, defers once, or rejects; retries follow
QueueRetrySchedule; permanent failures bounce as RFC 3464 reports; a
message past MaxQueueLifetime bounces and is frozen for the admin."""

import email
import smtplib
import ssl
import time
from pathlib import Path

import pytest

from dnsserver import dnsmasq

from smtpsink import SmtpSink

from test_ctrl_server import set_settings


def Sink(mode):
    """A loopback SMTP sink (smtpsink.SmtpSink) in the given mode."""
    return SmtpSink(mode=mode)


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def submit(srv, sender, rcpt, subject):
    with smtplib.SMTP("127.0.0.1", srv.submission_port, timeout=10) as s:
        s.starttls(context=ctx())
        s.login(sender, "pw")
        s.sendmail(sender, [rcpt], f"Subject: {subject}\r\nFrom: {sender}\r\n\r\n.dotted line\r\nbody\r\n")


def maildir(root, dom, user):
    out = []
    for sub in ("new", "cur"):
        d = Path(root) / "domains" / dom / user / "Maildir" / sub
        if d.is_dir():
            out += [email.message_from_bytes(p.read_bytes()) for p in d.iterdir()]
    return out


def wait(pred, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline and not pred():
        time.sleep(0.1)
    return pred()


@pytest.fixture
def out_server(fresh_server):
    srv = fresh_server
    c = srv.connect()
    c.ok("domainadd", "out.test")
    c.ok("useradd", "out.test", "alice", "pw", "U")
    yield srv, c
    c.close()


def test_smart_host_delivery(out_server):
    srv, c = out_server
    sink = Sink("accept")
    try:
        set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{sink.port}")
        submit(srv, "alice@out.test", "friend@far.example", "out-1")
        assert wait(lambda: len(sink.messages) == 1)
        sender, rcpts, data, _ = sink.messages[0]
        assert sender == "alice@out.test" and rcpts == ["friend@far.example"]
        assert b"Subject: out-1" in data and b"\r\n.dotted line\r\n" in data
        assert wait(lambda: not any(Path(srv.root, "spool", "remote").iterdir()))
    finally:
        sink.close()


def test_temporary_failure_is_retried(out_server):
    srv, c = out_server
    sink = Sink("defer-once")
    try:
        set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{sink.port}", QueueRetrySchedule="1")
        submit(srv, "alice@out.test", "friend@far.example", "retry-1")
        assert wait(lambda: len(sink.messages) == 1)
        assert sink.deferred == 1
        log = (Path(srv.root) / "spool" / "remote").glob("*.log")
        assert not list(log)  # finished entries leave nothing behind
        log_lines = (Path(srv.root) / "logs" / "ternd.log").read_text()
        assert "delivered" in log_lines
    finally:
        sink.close()


def test_permanent_failure_bounces_to_sender(out_server):
    srv, c = out_server
    sink = Sink("reject")
    try:
        set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{sink.port}")
        submit(srv, "alice@out.test", "nobody@far.example", "bounce-1")
        assert wait(lambda: len(maildir(srv.root, "out.test", "alice")) == 1)
        b = maildir(srv.root, "out.test", "alice")[0]
        assert b["Return-Path"] == "<>"
        assert b.get_content_type() == "multipart/report"
        assert b.get_param("report-type") == "delivery-status"
        parts = list(b.walk())
        ds = [p for p in parts if p.get_content_type() == "message/delivery-status"][0]
        text = ds.as_string()
        assert "Final-Recipient: rfc822; nobody@far.example" in text
        assert "Action: failed" in text and "Status: 5.1.1" in text
        assert any(p.get_content_type() == "text/rfc822-headers" for p in parts)
        assert "Subject: bounce-1" in b.as_string()
        assert wait(lambda: not any(Path(srv.root, "spool", "remote").iterdir()))
    finally:
        sink.close()


def test_expiry_bounces_and_freezes(out_server):
    srv, c = out_server
    sink = Sink("defer-always")
    try:
        set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{sink.port}", QueueRetrySchedule="1",
                     MaxQueueLifetime=3)
        submit(srv, "alice@out.test", "late@far.example", "expire-1")
        assert wait(lambda: len(maildir(srv.root, "out.test", "alice")) == 1, timeout=20)
        rows = c.records("frozlist")
        assert len(rows) == 1 and rows[0][4] == "<late@far.example>"
        log = c.listing("frozgetlog", "0", "0", rows[0][0])
        assert any("451 4.3.0 try later" in l for l in log)
    finally:
        sink.close()


def test_no_bounce_for_null_sender(out_server):
    srv, c = out_server
    sink = Sink("reject")
    try:
        set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{sink.port}", SmtpRelayNetworks="127.0.0.1/32")
        with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
            s.sendmail("", ["nobody@far.example"], "Subject: from null\r\n\r\nx\r\n")
        assert wait(lambda: sink.connections >= 1)
        assert wait(lambda: not any(Path(srv.root, "spool", "remote").iterdir()))
        time.sleep(0.5)
        assert "bounce" not in (Path(srv.root) / "logs" / "ternd.log").read_text()
    finally:
        sink.close()


def test_kill9_during_outbound_delivery_loses_nothing(out_server):
    srv, c = out_server
    sink = Sink("accept")
    try:
        set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{sink.port}", QueueRetrySchedule="1")
        c.close()
        acked = []
        with smtplib.SMTP("127.0.0.1", srv.submission_port, timeout=10) as s:
            s.starttls(context=ctx())
            s.login("alice@out.test", "pw")
            for i in range(40):
                token = f"crash-token-{i:03d}"
                s.sendmail("alice@out.test", [f"r{i}@far.example"], f"Subject: {token}\r\n\r\n{token}\r\n")
                acked.append(token)
                if i == 20:
                    srv.kill9()
                    break
        srv.start()
        def all_there():
            seen = b"".join(m[2] for m in sink.messages)
            return all(t.encode() in seen for t in acked)
        assert wait(all_there, timeout=30), "an acknowledged message never reached the smart host"
        assert wait(lambda: not [p for p in Path(srv.root, "spool", "remote").iterdir()], timeout=15)
    finally:
        sink.close()


@pytest.fixture
def dns(tmp_path):
    """dnsmasq on loopback answering for the *.test zone only."""
    with dnsmasq(tmp_path, "--mx-host=far.test,mx0.far.test,5", "--mx-host=far.test,mx1.far.test,10",
                 "--host-record=mx0.far.test,127.0.0.2", "--host-record=mx1.far.test,127.0.0.1",
                 "--host-record=amx.test,127.0.0.1", "--mx-host=v6.test,v6mx.test,10", "--host-record=v6mx.test,::1") as addr:
        yield addr


def test_mx_routing_preference_and_fallbacks(out_server, dns):
    srv, c = out_server
    sink = Sink("accept")
    try:
        set_settings(c, DnsServers=dns, SmtpOutPort=sink.port, QueueRetrySchedule="1")
        # far.test: MX 5 (127.0.0.2, nothing listens) then MX 10 (127.0.0.1): the second takes it
        submit(srv, "alice@out.test", "bob@far.test", "mx-1")
        # amx.test has no MX: its A record is the exchanger
        submit(srv, "alice@out.test", "carol@amx.test", "mx-2")
        assert wait(lambda: len(sink.messages) == 2)
        got = {tuple(m[1]) for m in sink.messages}
        assert got == {("bob@far.test",), ("carol@amx.test",)}
        log = c.listing("cfgfileget", "logs/ternd.log")
        assert any("delivered" in l for l in log)
        # a domain that does not exist bounces at once (5.1.2)
        submit(srv, "alice@out.test", "x@nowhere.test", "mx-3")
        assert wait(lambda: len(maildir(srv.root, "out.test", "alice")) == 1)
        b = maildir(srv.root, "out.test", "alice")[0]
        assert "Status: 5.1.2" in b.as_string() and "x@nowhere.test" in b.as_string()
    finally:
        sink.close()
