"""Admin CLI: connection, banner, GET VERSION, login flow, EXIT/QUIT, login
failures and limits, TLS and IPv6, telnet line ends - byte-exact where the
specification fixes the bytes."""

import os
import platform
import re
import socket
import subprocess
import time

import pytest

from cliclient import BYE, CliClient
from conftest import ternd_binary
from smtpclient import set_settings

BANNER_RE = re.compile(
    rb"^Welcome to Tern's Command Line Interface \(Tern (\d+\.\d+\.\d+)\)\r\nYou must login first\.\r\n<login> $")


def raw_connect(server, family=socket.AF_INET, port=None):
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port or server.cli_port))
    return s


def recv_until(s, end, limit=1 << 20):
    data = b""
    while not data.endswith(end):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        assert len(data) < limit
    return data


def recv_all(s, timeout=5.0):
    s.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            raise AssertionError(f"connection still open after {data!r}") from None
        if not chunk:
            return data
        data += chunk


def test_banner_exact(server):
    s = raw_connect(server)
    data = recv_until(s, b"<login> ")
    m = BANNER_RE.match(data)
    assert m, data
    version = subprocess.run([str(ternd_binary()), "--version"], capture_output=True, text=True).stdout.split()[-1]
    assert m.group(1).decode() == version
    s.close()


def test_get_version_before_login_exact(server):
    s = raw_connect(server)
    recv_until(s, b"<login> ")
    s.sendall(b"GET VERSION\r\n")
    data = recv_until(s, b"<login> ")
    expected = f"10.5.0|{platform.system()}|{os.uname().machine}\r\n+OK: command successful\r\n<login> "
    assert data == expected.encode()
    s.close()


def test_whole_session_exact(server):
    """The byte-exact session of spec 3.7 (with Tern's banner and COMMIT text)."""
    s = raw_connect(server)
    assert BANNER_RE.match(recv_until(s, b"<login> "))
    steps = [
        (b"GET VERSION\r\n", f"10.5.0|{platform.system()}|{os.uname().machine}\r\n"
                             "+OK: command successful\r\n<login> ".encode()),
        (b"USER admin\r\n", b"<password> "),
        (b"secret\r\n", b"+OK: Authentication successful\r\n<#> "),
        (b"LIST Domains nothing-here-*\r\n",
         b"\r\nThe list of domains:\r\n\r\nname | status\r\n------------------------------\r\n"
         b"\r\n+OK: command successful\r\n<#> "),
        (b"QUIT\r\n", BYE),
    ]
    for send, want in steps:
        s.sendall(send)
        got = recv_until(s, want[-2:])
        assert got == want, (send, got)
    assert recv_all(s) == b""
    s.close()


def test_login_lowercase_user_and_prompts(server):
    c = server.cli(login=False)
    r = c.cmd("user admin")
    assert r.raw == b"<password> "
    r = c.cmd("secret")
    assert r.raw == b"+OK: Authentication successful\r\n<#> "
    c.close()


@pytest.mark.parametrize("word", ["EXIT", "QUIT", "exit", "quit", "Quit"])
def test_exit_quit_after_login(server, word):
    c = server.cli()
    r = c.cmd(word)
    assert r.raw == BYE
    assert c.at_eof()
    c.close()


def test_exit_before_login_and_in_nested_context(server, unique_name):
    c = server.cli(login=False)
    assert c.cmd("EXIT").raw == BYE and c.at_eof()
    c.close()
    # uncommitted edits are dropped
    d = unique_name("x") + ".test"
    c = server.cli()
    c.ok(f"CREATE Domain name {d} postmasterPassword pw1", "domain-create")
    assert c.cmd("QUIT").raw == BYE and c.at_eof()
    c.close()
    c = server.cli()
    c.err(f"UPDATE Domain {d}", f"Domain {d} not found")
    c.close()


def test_failed_login_then_success(server):
    c = server.cli(login=False)
    assert c.cmd("USER admin").raw == b"<password> "
    t0 = time.time()
    r = c.cmd("wrong-password")
    assert r.raw == b"-ERR: Authentication failed\r\n<login> "
    assert time.time() - t0 >= 0.8          # CliLoginFailDelay, default 1 s
    # unknown user: the same question and the same answer
    assert c.cmd("USER nosuchadmin").raw == b"<password> "
    assert c.cmd("secret").raw == b"-ERR: Authentication failed\r\n<login> "
    c.login("admin", "secret")
    assert c.ok("LIST Domains").context == ""
    c.close()
    assert "login failed (wrong account or password)" in server.log


def test_password_is_the_whole_line(server):
    """The password line is not tokenised: quotes and spaces are part of it."""
    c = server.cli(login=False)
    c.cmd("USER admin")
    assert c.cmd('"secret"').raw == b"-ERR: Authentication failed\r\n<login> "
    c.cmd("USER admin")
    assert c.cmd(" secret").raw == b"-ERR: Authentication failed\r\n<login> "
    c.close()


def test_commands_need_login(server):
    c = server.cli(login=False)
    assert c.cmd("LIST Domains").raw == b"-ERR: You must login first\r\n<login> "
    assert c.cmd("UPDATE Domain example.com").raw == b"-ERR: You must login first\r\n<login> "
    assert c.cmd("FROBNICATE").raw == b"-ERR: Unknown command\r\n<login> "
    assert c.cmd("USER").raw == b"-ERR: Invalid parameters (missing argument)\r\n<login> "
    assert c.cmd("SET CONSOLE-CODES off").raw == b"+OK: command successful\r\n<login> "
    r = c.cmd("SET CONSOLE-CODES on")
    assert r.status.startswith("-ERR: ") and r.prompt == "<login> "
    assert c.cmd("SET QUIET off").ok
    r = c.cmd("HELP")
    assert r.pieces[1] == "The commands available for the Login context are:"
    assert "USER <user> - Log in as this admin user; the password follows on the next line." in r.data
    assert any(line.startswith("GET VERSION - ") for line in r.data)
    assert not any(line.startswith("LIST ") for line in r.data)
    r = c.cmd("SHOW")
    assert r.data[1:] == ["The attributes of this session:", "consoleCodes = off", "quiet = off", ""]
    c.login("admin", "secret")
    c.close()


def test_pipelined_login_and_commands(server):
    s = raw_connect(server)
    recv_until(s, b"<login> ")
    s.sendall(b"USER admin\r\nsecret\r\nLIST Domains nothing-*\r\nQUIT\r\n")
    data = recv_all(s)
    assert data == (b"<password> +OK: Authentication successful\r\n<#> "
                    b"\r\nThe list of domains:\r\n\r\nname | status\r\n------------------------------\r\n"
                    b"\r\n+OK: command successful\r\n<#> +OK: have a nice day\r\n")
    s.close()


@pytest.mark.parametrize("end", [b"\r\n", b"\n", b"\r\0", b"\r"])
def test_line_ends(server, end):
    s = raw_connect(server)
    recv_until(s, b"<login> ")
    s.sendall(b"USER admin" + end)
    assert recv_until(s, b"> ") == b"<password> "
    s.sendall(b"secret" + end)
    assert recv_until(s, b"> ") == b"+OK: Authentication successful\r\n<#> "
    s.sendall(b"LIST Domains none-*" + end)
    assert recv_until(s, b"<#> ").endswith(b"+OK: command successful\r\n<#> ")
    s.sendall(b"EXIT" + end)
    assert recv_all(s) == BYE
    s.close()


def test_telnet_negotiation_is_ignored(server):
    s = raw_connect(server)
    recv_until(s, b"<login> ")
    # WILL ECHO, DO SUPPRESS-GO-AHEAD, a subnegotiation, NOP, then the command
    s.sendall(b"\xff\xfb\x01\xff\xfd\x03\xff\xfa\x18\x00xterm\xff\xf0\xff\xf1USER admin\r\n")
    assert recv_until(s, b"> ") == b"<password> "
    s.sendall(b"sec\xff\xf1ret\r\n")   # IAC NOP inside the password
    assert recv_until(s, b"> ") == b"+OK: Authentication successful\r\n<#> "
    s.close()


def test_ipv6(server):
    c = server.cli(family=6)
    assert c.ok("LIST Domains").context == ""
    assert c.cmd("EXIT").raw == BYE
    c.close()


def test_implicit_tls(server):
    c = server.cli(tls=True)
    assert BANNER_RE.match(c.banner.raw)
    assert c.ok("LIST Domains").context == ""
    assert c.cmd("QUIT").raw == BYE
    c.close()


def test_login_and_logout_are_logged(server):
    c = server.cli()
    c.cmd("QUIT")
    c.close()
    deadline = time.time() + 5
    while time.time() < deadline and "cli: admin=admin peer=127.0.0.1: logged out" not in server.log:
        time.sleep(0.05)
    assert "cli: admin=admin peer=127.0.0.1: logged in" in server.log
    assert "cli: admin=admin peer=127.0.0.1: logged out" in server.log


def test_too_many_failed_logins_close_the_connection(fresh_server):
    ctrl = fresh_server.connect()
    set_settings(ctrl, CliLoginFailDelay=0, CliMaxAuthErrors=3, CliMaxLoginFailures=100)
    c = fresh_server.cli(login=False)
    for _ in range(2):
        c.cmd("USER admin")
        assert c.cmd("bad").raw == b"-ERR: Authentication failed\r\n<login> "
    c.cmd("USER admin")
    r = c.cmd("bad")
    assert r.raw == b"-ERR: Authentication failed\r\n-ERR: Too many failed logins, closing connection\r\n"
    assert c.at_eof()
    c.close()
    ctrl.close()


def test_peer_blocked_after_repeated_failures(fresh_server):
    ctrl = fresh_server.connect()
    set_settings(ctrl, CliLoginFailDelay=0, CliMaxLoginFailures=4, CliLoginBlockTime=60)
    c = fresh_server.cli(login=False)
    for _ in range(3):
        c.cmd("USER admin")
        assert c.cmd("bad").raw == b"-ERR: Authentication failed\r\n<login> "
    c.cmd("USER admin")
    r = c.cmd("bad")
    assert r.raw.endswith(b"-ERR: Too many failed logins, closing connection\r\n")
    c.close()
    # the peer is blocked now, even with the right password
    s = raw_connect(fresh_server)
    assert recv_all(s) == b"-ERR: Too many failed logins from your address, try again later\r\n"
    s.close()
    # the controller is a different scope
    ctrl.close()
    fresh_server.connect().close()


def test_commands_before_login_are_limited(fresh_server):
    ctrl = fresh_server.connect()
    set_settings(ctrl, CliMaxAuthCommands=3)
    c = fresh_server.cli(login=False)
    for _ in range(3):
        assert c.cmd("GET VERSION").ok
    r = c.cmd("GET VERSION")
    assert r.raw == b"-ERR: Too many commands before login, closing connection\r\n"
    assert c.at_eof()
    c.close()
    ctrl.close()


def test_idle_timeout(fresh_server):
    ctrl = fresh_server.connect()
    set_settings(ctrl, CliIdleTimeout=1)
    c = fresh_server.cli()
    time.sleep(1.5)
    r = c.read_reply(timeout=5)
    assert r.raw == b"-ERR: Idle timeout, closing connection\r\n"
    assert c.at_eof()
    c.close()
    ctrl.close()


def test_custom_banner_and_version(fresh_server):
    ctrl = fresh_server.connect()
    set_settings(ctrl, CliBanner="Welcome to AXIGEN's Command Line Interface", CliCompatVersion="10.6.30")
    c = fresh_server.cli(login=False)
    assert c.banner.raw == b"Welcome to AXIGEN's Command Line Interface\r\nYou must login first.\r\n<login> "
    r = c.cmd("GET VERSION")
    assert r.pieces[0].startswith("10.6.30|")
    c.close()
    ctrl.close()


def test_listeners_survive_restart(fresh_server):
    fresh_server.restart()
    c = fresh_server.cli()
    assert c.ok("LIST Domains").context == ""
    c.close()


def test_admin_from_set_admin_can_log_in(fresh_server):
    env = dict(os.environ, TERN_ADMIN_PASSWORD="#hash-like pass")
    subprocess.run([str(ternd_binary()), "--root", str(fresh_server.root), "--set-admin", "ops"], env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = fresh_server.cli(user="ops", password="#hash-like pass")
    assert c.ok("LIST Domains").context == ""
    c.close()
