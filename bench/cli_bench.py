#!/usr/bin/python3
"""Benchmark for Tern's admin CLI (port 7000, the Axigen-compatible protocol).

Over ONE connection, strictly one command at a time (each reply read up to
its prompt before the next command is sent), it measures:

  cycles    UPDATE Domain / UPDATE Account / SET / COMMIT / BACK cycles: the
            COMMIT stores a changed account variable durably (fsync) each
            time; printed as cycles/s and commands/s;
  reads     SHOW ATTR round trips inside an account (no storage writes);
  provision ADD Account + COMMIT for N new accounts (default 10,000), each
            COMMIT one durable transaction; then LIST Accounts checks the
            count.

By default it starts a throw-away ternd (build/ternd --dev, temporary data
root, port offset 31000) and stops it afterwards; --port points it at a
running server instead (then give --password or TERN_ADMIN_PASSWORD).

    /usr/bin/python3 bench/cli_bench.py                 # all, 10,000 accounts
    /usr/bin/python3 bench/cli_bench.py --accounts 2000 --cycles 500

Python 3 standard library only.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

perf = time.perf_counter
PROMPT = re.compile(rb"\r\n<[A-Za-z0-9-]*#> $|^<[A-Za-z0-9-]*#> $|<(login|password)> $")
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Cli:
    def __init__(self, host, port, timeout=30):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.read()

    def read(self):
        while not PROMPT.search(self.buf):
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise RuntimeError(f"connection closed; got {self.buf[-200:]!r}")
            self.buf += chunk
        r, self.buf = self.buf, b""
        return r

    def cmd(self, line, expect_ok=True):
        self.s.sendall(line.encode() + b"\r\n")
        r = self.read()
        if expect_ok and b"\r\n+OK: " not in b"\r\n" + r:
            raise RuntimeError(f"{line!r} -> {r[-300:]!r}")
        return r

    def login(self, user, password):
        self.s.sendall(f"USER {user}\r\n".encode())
        self.read()
        self.s.sendall(password.encode() + b"\r\n")
        r = self.read()
        if b"+OK: Authentication successful" not in r:
            raise RuntimeError(f"login failed: {r!r}")

    def close(self):
        try:
            self.s.sendall(b"EXIT\r\n")
        except OSError:
            pass
        self.s.close()


DEV_PORTS = (6017, 6018, 7000, 7001, 2525, 2587, 2465, 2110, 2995)


def free_offset(first):
    """An offset at which every development-mode port is free."""
    import random
    for off in [first] + [random.randrange(20000, 50000) for _ in range(50)]:
        ok = True
        for base in DEV_PORTS:
            for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                s = socket.socket(fam, socket.SOCK_STREAM)
                try:
                    s.bind((host, base + off))
                except OSError:
                    ok = False
                finally:
                    s.close()
        if ok:
            return off
    raise RuntimeError("no free port offset found")


def start_server(offset, password):
    offset = free_offset(offset)
    root = tempfile.mkdtemp(prefix="tern-cli-bench-")
    log = open(os.path.join(root, "ternd.log"), "wb")
    env = dict(os.environ, TERN_ADMIN_PASSWORD=password)
    p = subprocess.Popen([os.path.join(TOP, "build", "ternd"), "--root", os.path.join(root, "data"), "--dev",
                          "--port-offset", str(offset)], stdout=log, stderr=log, env=env)
    port = 7000 + offset
    deadline = time.time() + 30
    while time.time() < deadline:
        if p.poll() is not None:
            raise RuntimeError(f"ternd exited ({p.returncode}); see {root}/ternd.log")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p, root, port
        except OSError:
            time.sleep(0.1)
    p.kill()
    raise RuntimeError("ternd did not accept CLI connections within 30 s")


def rate(n, secs):
    return n / secs if secs > 0 else float("inf")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, help="CLI port of a running server (default: start one)")
    ap.add_argument("--user", default="admin")
    ap.add_argument("--password", default=os.environ.get("TERN_ADMIN_PASSWORD", "benchpw"))
    ap.add_argument("--offset", type=int, default=31000, help="port offset of the server started here")
    ap.add_argument("--cycles", type=int, default=2000)
    ap.add_argument("--reads", type=int, default=5000)
    ap.add_argument("--accounts", type=int, default=10000)
    a = ap.parse_args()

    proc = root = None
    port = a.port
    if port is None:
        proc, root, port = start_server(a.offset, a.password)
    try:
        c = Cli(a.host, port)
        c.login(a.user, a.password)
        dom = f"bench{os.getpid()}.test"
        c.cmd(f"CREATE Domain name {dom} postmasterPassword Bench-pm1")
        c.cmd("COMMIT")
        c.cmd(f"UPDATE Domain name {dom}")
        c.cmd("ADD Account name target password Bench-pw1")
        c.cmd("COMMIT")
        c.cmd("BACK")
        print(f"server: {a.host}:{port}  domain: {dom}  one connection, one command at a time")

        t = perf()
        for i in range(a.cycles):
            c.cmd(f"UPDATE Domain name {dom}")
            c.cmd("UPDATE Account name target")
            c.cmd(f"SET customerReference ref-{i}")
            c.cmd("COMMIT")
            c.cmd("BACK")
        dt = perf() - t
        print(f"cycles    {a.cycles} x (UPDATE Domain, UPDATE Account, SET, COMMIT, BACK): {dt:.2f} s, "
              f"{rate(a.cycles, dt):.0f} cycles/s, {rate(5 * a.cycles, dt):.0f} commands/s, "
              f"{1000 * dt / a.cycles:.2f} ms/cycle")

        c.cmd(f"UPDATE Domain name {dom}")
        c.cmd("UPDATE Account name target")
        t = perf()
        for _ in range(a.reads):
            c.cmd("SHOW ATTR customerReference")
        dt = perf() - t
        print(f"reads     {a.reads} x SHOW ATTR: {dt:.2f} s, {rate(a.reads, dt):.0f} commands/s, "
              f"{1e6 * dt / a.reads:.0f} us/command")
        c.cmd("BACK")

        t = perf()
        for i in range(a.accounts):
            c.cmd(f"ADD Account name u{i:06d} password Pw-{i:06d}")
            c.cmd("COMMIT")
        dt = perf() - t
        r = c.cmd("LIST Accounts")
        n = len(r.split(b"\r\n")[5:-3])
        want = a.accounts + 2   # postmaster and target
        print(f"provision {a.accounts} accounts x (ADD Account, COMMIT): {dt:.2f} s, "
              f"{rate(a.accounts, dt):.0f} accounts/s, {1000 * dt / max(a.accounts, 1):.2f} ms/account; "
              f"LIST Accounts shows {n} (expected {want}) in a reply of {len(r)} bytes")
        c.cmd("BACK")
        c.close()
        if n != want:
            print("cli_bench: wrong account count", file=sys.stderr)
            return 1
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
