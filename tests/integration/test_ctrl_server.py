"""The daemon around the protocol: secrets at rest, audit log, session
limits, idle timeout, trash purge, production mode (settings-driven
listeners, privilege drop) and the clear-text login rule for remote peers."""

import os
import pwd
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import ADMIN_PASS, ternd_binary
from ctrlclient import Client, check, wait_port

IS_ROOT = os.geteuid() == 0


def set_settings(c, **values):
    """Change some server.tab variables, keeping the others."""
    lines = c.listing("cfgfileget", "server.tab")
    rows = {}
    order = []
    for line in lines:
        name, value = [f.strip('"') for f in line.split("\t")]
        rows[name] = value
        order.append(name)
    for k, v in values.items():
        k = k.replace("_", "-") if k.startswith("Enable") else k
        if k not in rows:
            order.append(k)
        rows[k] = str(v)
    check(c.upload(("cfgfileset", "server.tab"), [f'"{k}"\t"{rows[k]}"' for k in order]), 0, "server.tab")


def all_bytes_under(root):
    for p in Path(root).rglob("*"):
        if p.is_file() and not p.is_symlink():
            yield p, p.read_bytes()


def test_no_password_stored_in_clear(fresh_server):
    srv = fresh_server
    pw, rpw = "Zq8-unique-account-pw", "Rk3-unique-remote-pw"
    with srv.connect() as c:
        c.ok("domainadd", "secrets.test")
        c.ok("useradd", "secrets.test", "alice", pw, "U")
        c.ok("poplnkadd", "secrets.test", "alice", "pop.example.net", "ra", rpw, "CLR")
        c.ok("userpasswd", "secrets.test", "alice", pw + "2")
        c.ok("userauth", "secrets.test", "alice", pw + "2")
        for p, data in all_bytes_under(srv.root):
            assert pw.encode() not in data, f"password in clear in {p}"
            assert rpw.encode() not in data, f"remote password in clear in {p}"
        # once admin writes pause, the background worker replaces the sealed
        # password by a yescrypt hash
        deadline = time.time() + 15
        while True:
            db = sqlite3.connect(f"file:{srv.root}/tern.db?mode=ro", uri=True)
            row = db.execute("SELECT pwhash, pending FROM users WHERE name = 'alice'").fetchone()
            db.close()
            if row[0] or time.time() > deadline:
                break
            time.sleep(0.2)
        assert row[0] and row[0].startswith("$y$"), row
        assert row[1] is None
        c.ok("userauth", "secrets.test", "alice", pw + "2")
        c.expect(-24, "userauth", "secrets.test", "alice", pw)
    assert pw.encode() not in Path(srv.stderr_path).read_bytes()


def test_admin_changes_logged_with_secrets_masked(fresh_server):
    srv = fresh_server
    with srv.connect() as c:
        c.ok("domainadd", "audit.test")
        c.ok("useradd", "audit.test", "bob", "Sup3rSecretPw", "U")
        c.expect(-13, "useradd", "audit.test", "bob", "Sup3rSecretPw", "U")
    log = (srv.root / "logs" / "ternd.log").read_text()
    assert "admin=admin peer=127.0.0.1: domainadd audit.test -> +00000 OK" in log
    assert "useradd audit.test bob *** U -> +00000 OK" in log
    assert "useradd audit.test bob *** U -> -00013 User already exist" in log
    assert "Sup3rSecretPw" not in log


def test_session_limit(fresh_server):
    srv = fresh_server
    with srv.connect() as c:
        set_settings(c, CtrlMaxSessions=2)
        with srv.connect() as c2:
            extra = Client("127.0.0.1", srv.port)
            assert extra.greeting.startswith("-00129 Server too busy, retry later")
            extra.close()
            c2.ok("noop")
        # a slot is free again once the server has seen the close
        deadline = time.time() + 5
        while True:
            probe = Client("127.0.0.1", srv.port)
            if probe.greeting.startswith("+00000") or time.time() > deadline:
                break
            probe.close()
            time.sleep(0.1)
        assert probe.greeting.startswith("+00000"), probe.greeting
        check(probe.login("admin", ADMIN_PASS), 0)
        probe.ok("noop")
        probe.close()
        set_settings(c, CtrlMaxSessions=512)


def test_idle_timeout_closes_session(fresh_server):
    srv = fresh_server
    with srv.connect() as c:
        set_settings(c, CtrlIdleTimeout=5)
    idle = srv.connect(timeout=15)
    t0 = time.time()
    data = idle.sock.recv(100)
    assert data == b""
    assert 4 <= time.time() - t0 < 12
    idle.close()


def test_trash_is_purged_after_keep_days(fresh_server):
    srv = fresh_server
    with srv.connect() as c:
        c.ok("domainadd", "purge.test")
        c.ok("useradd", "purge.test", "old", "pw", "U")
        md = srv.root / "domains" / "purge.test" / "old" / "Maildir" / "new"
        md.mkdir(parents=True)
        (md / "1.msg").write_bytes(b"Subject: x\r\n\r\nbody\r\n")
        c.ok("userdel", "purge.test", "old")
        trashed = list((srv.root / "trash").iterdir())
        assert len(trashed) == 1 and (trashed[0] / "Maildir" / "new" / "1.msg").exists()
        set_settings(c, TrashKeepDays=1)
    srv.restart()          # housekeeping runs at start: one day has not passed
    assert len(list((srv.root / "trash").iterdir())) == 1
    with srv.connect() as c:
        set_settings(c, TrashKeepDays=0)
    srv.restart()
    deadline = time.time() + 5
    while list((srv.root / "trash").iterdir()) and time.time() < deadline:
        time.sleep(0.1)
    assert list((srv.root / "trash").iterdir()) == []
    assert "purged" in srv.log


def _start_production(root, env_extra=None, prefix=()):
    env = dict(os.environ, TERN_ADMIN_PASSWORD=ADMIN_PASS)
    env.update(env_extra or {})
    log = open(Path(root).parent / "prod.stderr", "ab")
    p = subprocess.Popen(list(prefix) + [str(ternd_binary()), "--root", str(root)], stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL, env=env)
    log.close()
    return p


def _stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
    return p.returncode


@pytest.mark.skipif(not IS_ROOT, reason="privilege drop needs root")
def test_production_mode_listeners_and_privilege_drop(fresh_server):
    srv = fresh_server
    port = srv.port + 2
    if wait_port("127.0.0.1", port, 0.05) or wait_port("127.0.0.1", port + 1, 0.05):
        pytest.skip("ports next to the fixture's are busy")
    with srv.connect() as c:
        set_settings(c, CtrlListen=f"127.0.0.1:{port}", CtrlsListen=f"127.0.0.1:{port + 1}",
                     RunAsUser="nobody")
        c.ok("domainadd", "prod.test")
    assert srv.stop() == 0
    # The unprivileged user must be able to reach the data root.
    for d in [srv.root] + list(srv.root.parents):
        if d == Path("/"):
            break
        d.chmod(d.stat().st_mode | 0o001)
    p = _start_production(srv.root)
    try:
        assert wait_port("127.0.0.1", port, 15), "production listener not up"
        status = Path(f"/proc/{p.pid}/status").read_text()
        uid = [l.split()[1:] for l in status.splitlines() if l.startswith("Uid:")][0]
        nobody = pwd.getpwnam("nobody").pw_uid
        assert all(int(u) == nobody for u in uid), uid
        # the development ports are not used without --dev
        assert not wait_port("127.0.0.1", srv.port, 0.2)
        c = Client("127.0.0.1", port)
        check(c.login("admin", ADMIN_PASS), 0)
        c.ok("useradd", "prod.test", "carol", "pw", "U")
        c.ok("userauth", "prod.test", "carol", "pw")
        c.close()
        t = Client("127.0.0.1", port + 1, tls=True)
        check(t.login("admin", ADMIN_PASS), 0)
        assert t.records("userlist", "prod.test") == [["prod.test", "carol", "********", "U"]]
        t.close()
        assert (srv.root / "tern.db").stat().st_uid == nobody
    finally:
        assert _stop(p) == 0
    # back to the fixture's development mode for teardown (runs as root again)
    srv.start()


NS_CLIENT = textwrap.dedent("""
    import socket, ssl, hashlib, sys
    def session(tls_upgrade, md5):
        s = socket.create_connection(("192.0.2.1", 6017), timeout=10)
        f = s.makefile("rb")
        greet = f.readline().decode()
        ts = greet[greet.index("<"):greet.index(">") + 1]
        if tls_upgrade:
            s.sendall(b"#!TLS\\r\\n")
            assert f.readline().startswith(b"+00000")
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
            f = s.makefile("rb")
        pw = "#" + hashlib.md5((ts + sys.argv[1]).encode()).hexdigest() if md5 else sys.argv[1]
        s.sendall(('"admin"\\t"%s"\\r\\n' % pw).encode())
        return f.readline().decode().strip()
    print(session(False, False))
    print(session(False, True))
    print(session(True, False))
""")


@pytest.mark.skipif(not IS_ROOT or not shutil.which("unshare") or not shutil.which("ip"),
                    reason="needs root, unshare and ip to build a private network namespace")
def test_cleartext_login_refused_for_remote_peer_without_tls(fresh_server, tmp_path):
    srv = fresh_server
    with srv.connect() as c:
        set_settings(c, CtrlListen="0.0.0.0:6017", CtrlsListen="0.0.0.0:6018", CtrlLoginFailDelay=0)
    assert srv.stop() == 0
    # A private network namespace whose loopback also carries 192.0.2.1
    # (TEST-NET-1): a peer that is not a loopback address, and no traffic
    # leaves the namespace.
    wrapper = ["unshare", "--net", "sh", "-c",
               'ip link set lo up && ip addr add 192.0.2.1/32 dev lo && exec "$@"', "sh"]
    p = _start_production(srv.root, prefix=wrapper)
    try:
        script = tmp_path / "client.py"
        script.write_text(NS_CLIENT)
        out = None
        for _ in range(50):
            r = subprocess.run(["nsenter", "-t", str(p.pid), "-n", sys.executable, str(script), ADMIN_PASS],
                               capture_output=True, text=True, timeout=30)
            if r.returncode == 0:
                out = r.stdout.split("\n")
                break
            time.sleep(0.2)
        assert out is not None, r.stderr
        assert out[0] == "-00105 Bad controller login"      # clear text, no TLS, remote peer
        assert out[1] == "+00000 OK"                         # MD5 challenge
        assert out[2] == "+00000 OK"                         # clear text inside TLS
    finally:
        assert _stop(p) == 0
    assert "clear-text login without TLS from a remote peer" in (srv.root / "logs" / "ternd.log").read_text()
    srv.start()


def test_set_admin_offline_and_online(fresh_server):
    srv = fresh_server
    env = dict(os.environ, TERN_ADMIN_PASSWORD="ops-pass-1")
    r = subprocess.run([str(ternd_binary()), "--root", str(srv.root), "--set-admin", "ops"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    with srv.connect(user="ops", password="ops-pass-1") as c:      # MD5 login
        c.ok("noop")
    with srv.connect(user="ops", password="ops-pass-1", md5=False) as c:
        c.ok("noop")
    # a bad name is refused, and the daemon on the same root keeps running
    r = subprocess.run([str(ternd_binary()), "--root", str(srv.root), "--set-admin", "bad name"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    # a second daemon on the same root is refused
    r = subprocess.run([str(ternd_binary()), "--root", str(srv.root), "--dev", "--port-offset", "1"],
                       env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "another ternd is running" in r.stderr
    with srv.connect() as c:
        c.ok("noop")
        c.expect(-150, "cfgfileget", "ctrlaccounts.tab")
