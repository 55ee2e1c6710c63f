"""Admin CLI: listener changes take effect at once (admin/live_listeners.h).

ADD Listener, REMOVE Listener (at the service's COMMIT), SET address, SET
enable and SET sslEnable of the cli, smtpIncoming and pop3 services open,
close and move the daemon's sockets at the COMMIT, without a restart and
without disturbing the sessions already established. A socket that cannot
be opened answers -ERR (the change is stored; the reply says why).

Test servers run in development mode (fixed dev ports + offset at
start-up); an address the admin adds is bound exactly as given, so the
tests use free loopback ports. The restart test starts the daemon in
production mode (no --dev) on the same data root: then the stored lists
are what binds.
"""

import os
import poplib
import signal
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from cliclient import CliClient, table_rows
from conftest import ADMIN_PASS, ternd_binary
from ctrlclient import check

COMMITTED = "committing changes and switching back to previous context"
SERVICES = [("CLI", "cli"), ("SMTP-INCOMING", "smtpIncoming"), ("POP3", "pop3")]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def greeting(port, kind, tls=False, host="127.0.0.1"):
    """What a fresh connection gets first (raises ConnectionRefusedError when nothing listens)."""
    s = socket.create_connection((host, port), timeout=10)
    try:
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        data = b""
        want = b"<login> " if kind == "cli" else b"\r\n"
        while want not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


def answers(port, kind, tls=False):
    data = greeting(port, kind, tls)
    if kind == "cli":
        return data.endswith(b"<login> ")
    if kind == "smtpIncoming":
        return data.startswith(b"220 ")
    return data.startswith(b"+OK")


def refused(port):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    return True


class Session:
    """An established session of the service, to prove it outlives its listener."""

    def __init__(self, srv, kind, port):
        self.kind = kind
        if kind == "cli":
            self.c = CliClient("127.0.0.1", port)
            self.c.login(srv.admin_user, srv.admin_pass)
        elif kind == "smtpIncoming":
            self.c = smtplib.SMTP("127.0.0.1", port, timeout=10)
            self.c.ehlo("live.test")
        else:
            self.c = poplib.POP3("127.0.0.1", port, timeout=10)

    def works(self):
        if self.kind == "cli":
            ok = self.c.cmd("CONFIG SERVER").ok
            return ok and self.c.cmd("BACK").ok
        if self.kind == "smtpIncoming":
            return self.c.noop()[0] == 250
        return "USER" in self.c.capa()            # answered over the old connection

    def close(self):
        if self.kind == "cli":
            self.c.close()
        else:
            self.c.quit()


def enter(cli, service):
    cli.back_to_root()
    cli.ok("CONFIG SERVER")
    cli.ok(f"CONFIG {service}")


@pytest.mark.parametrize("service,kind", SERVICES)
def test_listener_changes_are_live(server, service, kind):
    srv = server
    p, q = free_port(), free_port()
    a, b = f"127.0.0.1:{p}", f"127.0.0.1:{q}"
    cli = srv.cli()
    enter(cli, service)
    ctx = f"server-{kind}"
    # ADD Listener: answers at once
    cli.ok(f"ADD Listener {a}", f"{ctx}-listener")
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<{ctx}#> ".encode()
    assert answers(p, kind)
    assert any(f"listening: " in line and a in line and "live change" in line for line in srv.log.splitlines())
    sess = Session(srv, kind, p)
    # SET enable no: new connections refused, the established session goes on
    cli.ok(f"UPDATE Listener {a}")
    cli.ok("SET enable no")
    cli.ok("COMMIT", ctx)
    assert refused(p)
    assert sess.works()
    assert f"{a} | no | no" in table_rows(cli.cmd("LIST Listeners"))
    # enable yes: answers again
    cli.ok(f"UPDATE Listener {a}")
    cli.ok("SET enable yes")
    cli.ok("COMMIT", ctx)
    assert answers(p, kind)
    assert sess.works()
    # SET address: the old port is closed, the new one answers
    cli.ok(f"UPDATE Listener {a}")
    cli.ok(f"SET address {b}")
    cli.ok("COMMIT", ctx)
    assert refused(p)
    assert answers(q, kind)
    assert sess.works()
    # REMOVE Listener (at the service's COMMIT): refused
    cli.ok(f"REMOVE Listener {b}")
    assert answers(q, kind)                  # pending until the COMMIT
    cli.ok("COMMIT", "server")
    assert refused(q)
    assert sess.works()
    sess.close()
    cli.close()


@pytest.mark.parametrize("service,kind", SERVICES)
def test_implicit_tls_listener_is_live(server, service, kind):
    srv = server
    p = free_port()
    a = f"127.0.0.1:{p}"
    cli = srv.cli()
    enter(cli, service)
    cli.ok(f"ADD Listener {a}")
    cli.ok("SET sslEnable yes")
    cli.ok("COMMIT", f"server-{kind}")
    assert f"{a} | yes | yes" in table_rows(cli.cmd("LIST Listeners"))
    assert answers(p, kind, tls=True)
    # sslEnable no: the same port now speaks plain text
    cli.ok(f"UPDATE Listener {a}")
    cli.ok("SET sslEnable no")
    cli.ok("COMMIT", f"server-{kind}")
    assert answers(p, kind)
    cli.ok(f"REMOVE Listener {a}")
    cli.ok("COMMIT", "server")
    assert refused(p)
    cli.close()


def test_port_in_use_is_a_clear_error_and_retried(server):
    srv = server
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    p = blocker.getsockname()[1]
    a = f"127.0.0.1:{p}"
    cli = srv.cli()
    enter(cli, "POP3")
    cli.ok(f"ADD Listener {a}")
    r = cli.err("COMMIT", None, "server-pop3")
    assert r.text == (f"Configuration stored, but the listening socket could not be opened ({a}: address "
                      "already in use); it is retried at the next listener COMMIT and at the next start")
    assert f"{a} | yes | no" in table_rows(cli.cmd("LIST Listeners"))     # stored
    assert any("cannot listen on" in line and a in line and "Address already in use" in line
               for line in srv.log.splitlines())
    # the port freed: the next COMMIT opens it
    blocker.close()
    cli.ok(f"UPDATE Listener {a}")
    cli.ok("COMMIT", "server-pop3")
    assert answers(p, "pop3")
    # not an address of this host: stored, reported
    cli.ok("ADD Listener 192.0.2.7:110")
    r = cli.err("COMMIT", None, "server-pop3")
    assert "192.0.2.7:110: not an address of this host" in r.text
    cli.ok(f"REMOVE Listener {a}")
    cli.ok("REMOVE Listener 192.0.2.7:110")
    cli.ok("COMMIT", "server")
    assert refused(p)
    cli.close()


def test_last_cli_listener_stays(fresh_server):
    srv = fresh_server
    p = free_port()
    a = f"127.0.0.1:{p}"
    cli = srv.cli()
    enter(cli, "CLI")
    cli.ok(f"ADD Listener {a}")
    cli.ok("COMMIT", "server-cli")
    others = [r.split(" | ")[0] for r in table_rows(cli.cmd("LIST Listeners")) if not r.startswith(a + " ")]
    for o in others:
        cli.ok(f"REMOVE Listener {o}")
    cli.ok("COMMIT", "server")
    cli.ok("CONFIG CLI")
    cli.ok(f"UPDATE Listener {a}")
    cli.ok("SET enable no")
    cli.err("COMMIT", "The last enabled CLI listener cannot be disabled: nobody could connect to the CLI any more",
            "server-cli-listener")
    cli.ok("BACK", "server-cli")
    assert answers(p, "cli")
    # nor removed: the service's COMMIT is refused, nothing changes
    cli.ok(f"REMOVE Listener {a}")
    cli.err("COMMIT", "The last enabled CLI listener cannot be removed: nobody could connect to the CLI any more",
            "server-cli")
    cli.back_to_root()
    enter(cli, "CLI")
    assert [r.split(" | ")[0] for r in table_rows(cli.cmd("LIST Listeners"))] == [a]
    assert answers(p, "cli")
    cli.close()


def _set_lists(c, lists):
    tab = c.listing("cfgfileget", "server.tab")
    out = [line for line in tab if line.split("\t")[0].strip('"') not in lists]
    out += [f'"{k}"\t"{v}"' for k, v in lists.items()]
    check(c.upload(("cfgfileset", "server.tab"), out), 0)


def test_after_a_restart_the_stored_lists_bind(fresh_server, tmp_path):
    """Production mode (no --dev) on the same root: what the lists store is what is open,
    a disabled listener is not, and live changes work there too."""
    srv = fresh_server
    names = ["CtrlListen", "CtrlsListen", "CliListen", "CliTlsListen", "SmtpListen", "SubmissionListen",
             "SmtpsListen", "Pop3Listen", "Pop3sListen"]
    ports = {n: free_port() for n in names}
    off = free_port()
    c = srv.connect()
    _set_lists(c, {n: f"127.0.0.1:{ports[n]}" for n in names})
    c.close()
    # a live CLI change on the dev server: a second POP3 listener, disabled
    cli = srv.cli()
    enter(cli, "POP3")
    cli.ok(f"ADD Listener 127.0.0.1:{off}")
    cli.ok("SET enable no")
    cli.ok("COMMIT", "server-pop3")
    cli.close()
    assert srv.stop() == 0
    env = dict(os.environ, TERN_ADMIN_PASSWORD=ADMIN_PASS)
    errf = open(tmp_path / "prod.stderr", "wb")
    proc = subprocess.Popen([str(ternd_binary()), "--root", str(srv.root)], stdin=subprocess.DEVNULL,
                            stdout=errf, stderr=errf, env=env)
    try:
        deadline = time.time() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports["CliListen"]), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, (tmp_path / "prod.stderr").read_text()
                time.sleep(0.1)
        time.sleep(0.3)
        assert answers(ports["CliListen"], "cli")
        assert answers(ports["CliTlsListen"], "cli", tls=True)
        assert answers(ports["SmtpListen"], "smtpIncoming")
        assert answers(ports["SmtpsListen"], "smtpIncoming", tls=True)
        assert answers(ports["Pop3Listen"], "pop3")
        assert answers(ports["Pop3sListen"], "pop3", tls=True)
        assert refused(off)                         # stored, but disabled
        assert refused(srv.cli_port) and refused(srv.pop3_port)     # the dev ports are not in the lists
        # live in production mode too: enable it, then move the CLI's own listener away
        cli = CliClient("127.0.0.1", ports["CliListen"])
        cli.login(srv.admin_user, srv.admin_pass)
        enter(cli, "POP3")
        cli.ok(f"UPDATE Listener 127.0.0.1:{off}")
        cli.ok("SET enable yes")
        cli.ok("COMMIT", "server-pop3")
        assert answers(off, "pop3")
        q = free_port()
        enter(cli, "CLI")
        cli.ok(f"UPDATE Listener 127.0.0.1:{ports['CliListen']}")
        cli.ok(f"SET address 127.0.0.1:{q}")
        cli.ok("COMMIT", "server-cli")              # this session came in by the old port and goes on
        assert refused(ports["CliListen"])
        assert answers(q, "cli")
        assert cli.cmd("LIST Listeners").ok
        cli.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(15)
        errf.close()
    assert rc == 0
    srv.start()


def test_restore_and_server_tab_upload_apply_listeners_at_once(fresh_server):
    """A snapshot restore and a controller server.tab upload change the
    stored listener lists wholesale: the sockets follow at once too."""
    srv = fresh_server
    p = free_port()
    a = f"127.0.0.1:{p}"
    cli = srv.cli()
    enter(cli, "POP3")
    cli.ok(f"ADD Listener {a}", "server-pop3-listener")
    cli.ok("COMMIT", "server-pop3")
    assert answers(p, "pop3")
    cli.back_to_root()
    cli.ok("SAVE CONFIG with-listener", "")
    name = next(r.split(" | ")[0] for r in table_rows(cli.cmd("LIST ConfigSnapshots")) if "with-listener" in r)
    enter(cli, "POP3")
    cli.ok(f"REMOVE Listener {a}")
    cli.ok("COMMIT", "server")
    assert refused(p)
    cli.back_to_root()
    cli.ok(f"RESTORE ConfigSnapshot {name}", "")
    assert answers(p, "pop3")                       # the restored list is bound at once
    # the controller's server.tab without the listener: closed at once
    c = srv.connect()
    lines = c.listing("cfgfileget", "server.tab")
    rows = []
    for line in lines:
        if line.startswith('"Pop3Listen"'):
            k, v = line.split("\t", 1)
            v = v.strip('"').split(",")
            line = k + '\t"' + ",".join(x for x in v if x != a) + '"'
        rows.append(line)
    r = c.upload(("cfgfileset", "server.tab"), rows)
    assert r.code >= 0, r
    assert refused(p)
    cli.close()
