"""SMTP abuse limits: errors before disconnect, connections per client
address, the command timeout. Each is a setting."""

import socket
import time

from test_ctrl_server import set_settings


def read_reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            return None, lines
        lines.append(line.decode().rstrip("\r\n"))
        if line[3:4] != b"-":
            return int(line[:3]), lines


def test_too_many_errors_disconnects(fresh_server):
    srv = fresh_server
    with srv.connect() as c:
        set_settings(c, SmtpMaxErrors=3)
    s = socket.create_connection(("127.0.0.1", srv.smtp_port), timeout=10)
    f = s.makefile("rb")
    assert read_reply(f)[0] == 220
    codes = []
    for _ in range(3):
        s.sendall(b"BOGUS\r\n")
        codes.append(read_reply(f)[0])
    assert codes[:2] == [500, 500]
    assert codes[2] == 500
    code, lines = read_reply(f)
    assert code == 421 and "Too many errors" in lines[-1]
    assert f.read() == b""                     # closed by the server
    s.close()


def test_connections_per_ip(fresh_server):
    srv = fresh_server
    with srv.connect() as c:
        set_settings(c, SmtpMaxConnsPerIP=3)
    held = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", srv.smtp_port), timeout=10)
        assert s.makefile("rb").readline().startswith(b"220")
        held.append(s)
    extra = socket.create_connection(("127.0.0.1", srv.smtp_port), timeout=10)
    line = extra.makefile("rb").readline()
    assert line.startswith(b"421 4.7.0") and b"Too many connections" in line
    extra.close()
    held.pop().close()
    # the slot comes back once the server has seen the close
    deadline = time.time() + 5
    while True:
        s = socket.create_connection(("127.0.0.1", srv.smtp_port), timeout=10)
        line = s.makefile("rb").readline()
        s.close()
        if line.startswith(b"220") or time.time() > deadline:
            break
        time.sleep(0.1)
    assert line.startswith(b"220")
    for s in held:
        s.close()


def test_command_timeout(fresh_server):
    srv = fresh_server
    with srv.connect() as c:
        set_settings(c, SmtpTimeout=5)
    s = socket.create_connection(("127.0.0.1", srv.smtp_port), timeout=15)
    f = s.makefile("rb")
    assert read_reply(f)[0] == 220
    t0 = time.time()
    code, lines = read_reply(f)
    assert code == 421 and "Timeout" in lines[-1]
    assert 4 <= time.time() - t0 < 12
    s.close()
