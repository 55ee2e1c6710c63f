"""START Service / STOP Service in the CLI's service contexts: a stopped
smtpIncoming or pop3 refuses new connections (a refusal line, then the
connection is closed) while open sessions go on; a stopped smtpOutgoing
makes no delivery attempt and keeps its queue, which is delivered on START;
the CLI service cannot be stopped from a CLI session. The state is runtime
only: a restart runs every service again. Each change is logged."""

import poplib
import smtplib
import socket
import time
from pathlib import Path

import pytest

from cliclient import table_rows
from smtpsink import SmtpSink
from test_ctrl_server import set_settings
from test_outbound import out_server, submit, wait  # noqa: F401


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


def refused_line(port, wait_s=5):
    """Connect and read until EOF: the refusal line of a stopped service."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as s:
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return data
            data += chunk


def service(cli, kw, ctx):
    cli.ok("CONFIG SERVER", "server")
    cli.ok(f"CONFIG {kw}", ctx)


def test_stop_start_smtp_incoming(fresh_server):
    srv = fresh_server
    c = srv.connect()
    c.ok("domainadd", "svc.test")
    c.ok("useradd", "svc.test", "bob", "pw", "U")
    cli = srv.cli()
    # a session opened before the STOP
    old = smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10)
    assert old.ehlo()[0] == 250
    service(cli, "SMTP-INCOMING", "server-smtpIncoming")
    r = cli.cmd("STOP Service")
    assert r.raw == b"+OK: command successful\r\n<server-smtpIncoming#> "
    assert log_has(srv, "cli: admin admin from 127.0.0.1 stopped service smtpIncoming")
    # new connections: refused on every listener of the service
    for port in (srv.smtp_port, srv.submission_port):
        assert refused_line(port) == b"421 Service stopped by the administrator\r\n"
    with pytest.raises(smtplib.SMTPConnectError) as ei:
        smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10)
    assert ei.value.smtp_code == 421
    # the open session goes on and delivers
    old.sendmail("x@far.example", ["bob@svc.test"], "Subject: during-stop\r\n\r\nbody\r\n")
    old.quit()
    inbox = Path(srv.root, "domains", "svc.test", "bob", "Maildir")
    assert wait(lambda: any(b"during-stop" in p.read_bytes() for p in inbox.rglob("*") if p.is_file()))
    # STOP again: already stopped, still +OK; other services unaffected
    cli.ok("STOP Service", "server-smtpIncoming")
    assert log_has(srv, "stopped service smtpIncoming (already stopped)")
    pop = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    assert pop.getwelcome().startswith(b"+OK")
    pop.quit()
    # START: new connections served again
    cli.ok("START Service", "server-smtpIncoming")
    assert log_has(srv, "cli: admin admin from 127.0.0.1 started service smtpIncoming")
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
        assert s.noop()[0] == 250
    # runtime only: a restart runs the service again
    cli.ok("STOP Service")
    assert refused_line(srv.smtp_port).startswith(b"421 ")
    cli.close()
    c.close()
    srv.restart()
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
        assert s.noop()[0] == 250


def test_stop_start_pop3(fresh_server):
    srv = fresh_server
    c = srv.connect()
    c.ok("domainadd", "p.test")
    c.ok("useradd", "p.test", "bob", "pw", "U")
    old = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    old.user("bob@p.test")
    old.pass_("pw")
    cli = srv.cli()
    service(cli, "POP3", "server-pop3")
    cli.ok("STOP Service", "server-pop3")
    assert log_has(srv, "stopped service pop3")
    assert refused_line(srv.pop3_port) == b"-ERR Service stopped by the administrator\r\n"
    with pytest.raises(poplib.error_proto):
        poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    # the logged-in session goes on
    assert old.stat() == (0, 0)
    assert old.noop().startswith(b"+OK")
    old.quit()
    # SMTP is not affected
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
        assert s.noop()[0] == 250
    cli.ok("START Service", "server-pop3")
    p = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    p.user("bob@p.test")
    p.pass_("pw")
    assert p.stat() == (0, 0)
    p.quit()
    cli.close()
    c.close()


def test_stop_start_smtp_outgoing_pauses_delivery(out_server):
    srv, c = out_server
    sink = SmtpSink("accept")
    try:
        set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{sink.port}")
        cli = srv.cli()
        service(cli, "SMTP-OUTGOING", "server-smtpOutgoing")
        r = cli.cmd("STOP Service")
        assert r.raw == b"+OK: command successful\r\n<server-smtpOutgoing#> "
        assert log_has(srv, "stopped service smtpOutgoing")
        # receiving still works; the message waits in the queue
        submit(srv, "alice@out.test", "friend@far.example", "paused-1")
        submit(srv, "alice@out.test", "other@far.example", "paused-2")
        remote = Path(srv.root, "spool", "remote")
        assert wait(lambda: len([p for p in remote.iterdir() if "." in p.name and
                                 not p.name.endswith((".log", ".state"))]) == 2)
        time.sleep(3)
        assert sink.connections == 0 and sink.messages == []
        # a forced attempt does not get through either while stopped
        cli.ok("BACK", "server")
        cli.ok("BACK", "")
        cli.ok("ENTER QUEUE", "queue")
        assert len(table_rows(cli.ok("LIST"))) == 2
        cli.ok("FORCE QUEUE", "queue")
        time.sleep(2)
        assert len(table_rows(cli.ok("LIST"))) == 2
        cli.ok("BACK", "")
        assert sink.messages == []
        # START: everything queued is delivered
        service(cli, "SMTP-OUTGOING", "server-smtpOutgoing")
        cli.ok("START Service", "server-smtpOutgoing")
        assert log_has(srv, "started service smtpOutgoing")
        assert wait(lambda: len(sink.messages) == 2, 20)
        subjects = sorted(ln for m in sink.messages for ln in m[2].split(b"\r\n") if ln.startswith(b"Subject:"))
        assert subjects == [b"Subject: paused-1", b"Subject: paused-2"]
        assert wait(lambda: not any(remote.iterdir()))
        cli.close()
    finally:
        sink.close()


def test_cli_service_cannot_be_stopped_from_the_cli(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    service(cli, "CLI", "server-cli")
    cli.err("STOP Service",
            "The cli service cannot be stopped from a CLI session: you would lock yourself out "
            "(restart the daemon to reset every service)", "server-cli")
    cli.ok("START Service", "server-cli")   # running: nothing to do
    # still served: a new CLI session logs in
    other = srv.cli()
    other.ok("CONFIG SERVER", "server")
    other.close()
    assert not log_has(srv, "stopped service cli")
    cli.close()


def test_restricted_admin_cannot_stop_services(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    cli.ok("CREATE Domain name r.test postmasterPassword Pm-Secret.1", "domain-create")
    cli.ok("COMMIT", "")
    cli.ok("ENTER AACL", "aacl")
    cli.ok("ADD admin-user name dom password D0m-Secret", "aacl-adminUser")
    cli.ok("DONE", "aacl")
    cli.ok("UPDATE admin-user dom", "aacl-adminUser")
    cli.ok("GRANT permission (manageAccounts) domain r.test")
    cli.ok("DONE", "aacl")
    cli.close()
    dom = srv.cli(user="dom", password="D0m-Secret")
    r = dom.cmd("CONFIG SERVER")
    if r.ok:
        r = dom.cmd("CONFIG SMTP-INCOMING")
        if r.ok:
            r = dom.cmd("STOP Service")
    assert not r.ok
    assert not log_has(srv, "stopped service smtpIncoming")
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
        assert s.noop()[0] == 250
    dom.close()
