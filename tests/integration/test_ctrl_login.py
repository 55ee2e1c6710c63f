"""Greeting, login (clear and MD5), TLS upgrade, CTRLS, failed-login handling.

Login failures count towards the per-peer flood limit (10 in 5 minutes), so
the failure tests run against their own server (`failsrv`) and alternate
between 127.0.0.1 and ::1; the flood itself gets a fresh server.
"""

import re
import threading
import time

import pytest

from ctrlclient import Client, check, md5_answer, build_line

GREETING_RE = re.compile(r"^\+00000 (<[^>]*>) Tern .*CTRL Server; .+$")


@pytest.fixture(scope="module")
def failsrv(tmp_path_factory):
    from conftest import _start_server, _finish
    srv = _start_server(tmp_path_factory, "failsrv")
    try:
        yield srv
    finally:
        _finish(srv)


# ---------------------------------------------------------------- greeting

def test_greeting_format(server):
    with Client("127.0.0.1", server.port) as cl:
        assert GREETING_RE.match(cl.greeting), cl.greeting
        assert cl.timestamp.startswith("<") and cl.timestamp.endswith(">")
        assert ">" not in cl.timestamp[:-1]


def test_greeting_on_ipv6(server):
    with Client("::1", server.port) as cl:
        assert GREETING_RE.match(cl.greeting), cl.greeting


def test_greeting_timestamp_unique_per_connection(server):
    stamps = []
    for _ in range(8):
        with Client("127.0.0.1", server.port) as cl:
            stamps.append(cl.timestamp)
    assert None not in stamps
    assert len(set(stamps)) == len(stamps), stamps


def test_greeting_on_ctrls_port(server):
    with Client("127.0.0.1", server.tls_port, tls=True) as cl:
        assert GREETING_RE.match(cl.greeting), cl.greeting


# ---------------------------------------------------------------- good logins

def test_login_md5(server):
    with Client("127.0.0.1", server.port) as cl:
        check(cl.login("admin", "secret", md5=True), 0)
        check(cl.cmd("noop"), 0)


def test_login_md5_uppercase_hex(server):
    with Client("127.0.0.1", server.port) as cl:
        digest = md5_answer(cl.timestamp, "secret")
        cl.send_line(build_line("admin", "#" + digest[1:].upper()))
        check(cl.read_resp(), 0)
        check(cl.cmd("noop"), 0)


def test_login_clear_text_loopback(server):
    with Client("127.0.0.1", server.port) as cl:
        check(cl.login("admin", "secret", md5=False), 0)
        check(cl.cmd("noop"), 0)


def test_login_clear_text_ipv6_loopback(server):
    with Client("::1", server.port) as cl:
        check(cl.login("admin", "secret", md5=False), 0)
        check(cl.cmd("noop"), 0)


def test_login_account_name_case_insensitive(server):
    with Client("127.0.0.1", server.port) as cl:
        check(cl.login("ADMIN", "secret", md5=True), 0)


def test_login_unquoted_fields_bare_lf(server):
    with Client("127.0.0.1", server.port) as cl:
        cl.send_raw(b"admin\tsecret\n")
        check(cl.read_resp(), 0)
        cl.send_raw(b"noop\n")
        check(cl.read_resp(), 0)


def test_quit_closes(server):
    with server.connect() as cl:
        check(cl.cmd("quit"), 0)
        assert cl.at_eof()


def test_login_over_ctrls_port(server):
    with Client("127.0.0.1", server.tls_port, tls=True) as cl:
        check(cl.login("admin", "secret", md5=True), 0)
        check(cl.cmd("noop"), 0)
        assert cl.listing("domainlist") is not None


def test_login_over_ctrls_port_ipv6(server):
    with Client("::1", server.tls_port, tls=True) as cl:
        check(cl.login("admin", "secret", md5=False), 0)
        check(cl.cmd("noop"), 0)


# ---------------------------------------------------------------- #!TLS

def test_starttls_then_md5_login_with_original_timestamp(server):
    with Client("127.0.0.1", server.port) as cl:
        r = cl.starttls()
        assert r.line == "+00000 Ready to start TLS mode"
        assert cl.tls
        # no new greeting: the first line we read must answer the login
        check(cl.login("admin", "secret", md5=True), 0)
        check(cl.cmd("noop"), 0)
        check(cl.cmd("quit"), 0)
        assert cl.at_eof()


def test_starttls_clear_login(server):
    with Client("::1", server.port) as cl:
        assert cl.starttls().line == "+00000 Ready to start TLS mode"
        check(cl.login("admin", "secret", md5=False), 0)
        lines = cl.listing("domainlist")
        assert isinstance(lines, list)


def test_starttls_discards_pipelined_plaintext(server):
    with Client("127.0.0.1", server.port) as cl:
        cl.send_raw(b"#!TLS\r\nadmin\tsecret\r\n")
        r = cl.read_resp()
        assert r.line == "+00000 Ready to start TLS mode"
        assert cl.buf == b""
        import ctrlclient
        cl.sock = ctrlclient.tls_context().wrap_socket(cl.sock)
        cl.tls = True
        # the pipelined plain-text login must not have been executed: the
        # real login inside TLS is the first thing answered
        check(cl.login("admin", "secret", md5=True), 0)
        check(cl.cmd("noop"), 0)
        check(cl.cmd("quit"), 0)
        assert cl.at_eof()


def test_starttls_on_ctrls_port_refused(server):
    with Client("127.0.0.1", server.tls_port, tls=True) as cl:
        cl.send_line("#!TLS")
        check(cl.read_resp(), -242)
        assert cl.at_eof()


# ---------------------------------------------------------------- failures
# (each answers -00105 and closes; alternate peers to stay under the limit)

def _expect_login_failure(cl, line):
    t0 = time.time()
    cl.send_raw(line)
    check(cl.read_resp(), -105, "login")
    elapsed = time.time() - t0
    assert cl.at_eof(), "connection must be closed after a failed login"
    return elapsed


def test_login_wrong_password_clear(failsrv):
    with Client("127.0.0.1", failsrv.port) as cl:
        elapsed = _expect_login_failure(cl, b'"admin"\t"wrong"\r\n')
    # deliberate delay of about one second per failure
    assert elapsed >= 0.5, f"failure answered after {elapsed:.2f}s, expected ~1s delay"


def test_login_unknown_account(failsrv):
    with Client("::1", failsrv.port) as cl:
        _expect_login_failure(cl, b'"nosuchadmin"\t"secret"\r\n')


def test_login_wrong_md5_digest(failsrv):
    with Client("127.0.0.1", failsrv.port) as cl:
        line = build_line("admin", md5_answer(cl.timestamp, "wrong"))
        _expect_login_failure(cl, line.encode() + b"\r\n")


def test_login_md5_without_brackets_fails(failsrv):
    with Client("::1", failsrv.port) as cl:
        line = build_line("admin", md5_answer(cl.timestamp[1:-1], "secret"))
        _expect_login_failure(cl, line.encode() + b"\r\n")


def test_login_three_fields_fails(failsrv):
    with Client("127.0.0.1", failsrv.port) as cl:
        _expect_login_failure(cl, b'"admin"\t"secret"\t"x"\r\n')


def test_login_empty_line_fails(failsrv):
    with Client("::1", failsrv.port) as cl:
        _expect_login_failure(cl, b"\r\n")


def test_login_command_instead_of_login_fails(failsrv):
    with Client("127.0.0.1", failsrv.port) as cl:
        _expect_login_failure(cl, b'"noop"\r\n')


def test_second_starttls_inside_tls_is_bad_login(failsrv):
    with Client("::1", failsrv.port) as cl:
        assert cl.starttls().line == "+00000 Ready to start TLS mode"
        _expect_login_failure(cl, b"#!TLS\r\n")


def test_login_password_case_sensitive(failsrv):
    with Client("127.0.0.1", failsrv.port) as cl:
        _expect_login_failure(cl, b'"admin"\t"SECRET"\r\n')


def test_failsrv_still_accepts_good_login(failsrv):
    # 5 failures per peer so far at most: both peers must still be served
    for fam in (4, 6):
        with failsrv.connect(family=fam) as cl:
            check(cl.cmd("noop"), 0)


# ---------------------------------------------------------------- flood

def test_login_flood_blocks_peer(fresh_server):
    srv = fresh_server
    errors = []

    def fail_once():
        try:
            with Client("127.0.0.1", srv.port, timeout=20) as cl:
                cl.send_line(build_line("admin", "bad-password"))
                r = cl.read_resp()
                if r.code != -105:
                    errors.append(r.line)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=fail_once) for _ in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors

    # the 10th failure: the connection is still greeted normally
    with Client("127.0.0.1", srv.port, timeout=20) as cl:
        assert cl.greeting.startswith("+00000 <"), cl.greeting
        cl.send_line(build_line("admin", "bad-password"))
        check(cl.read_resp(), -105)

    # from now on this peer is refused at accept time
    with Client("127.0.0.1", srv.port, read_greeting=False) as cl:
        check(cl.read_resp(), -130)
        assert cl.at_eof()
    # even with the right password it cannot log in
    with Client("127.0.0.1", srv.port, read_greeting=False) as cl:
        check(cl.read_resp(), -130)

    # another peer (::1) is unaffected
    with srv.connect(family=6) as cl:
        check(cl.cmd("noop"), 0)
