#!/usr/bin/python3
"""RCPT latency for a mailbox with a quota (MaxMBSize) and many messages.

Starts a throw-away ternd (--bin, default build/ternd) on a fresh data root,
creates one account with a quota, puts --messages files into its Maildir
(cur/, written directly: the server sees them as a restore would leave them),
then times --rcpts RCPT commands for that account on one SMTP session
(MAIL, RCPT, RSET each), after one RCPT to warm up. Prints the median, the
90th percentile and the mean in milliseconds.

    bench/rcpt_quota_bench.py [--bin build/ternd] [--messages 20000] [--rcpts 300]
                              [--port-offset 33000]
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from ctrlclient import Client, check  # noqa: E402

PASSWORD = "benchpw"


def wait_port(port, proc, secs=30):
    for _ in range(secs * 20):
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Smtp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), 10)
        self.f = self.s.makefile("rb")
        self.reply()

    def reply(self):
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("connection closed")
            if line[3:4] != b"-":
                return int(line[:3])

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.reply()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(TOP, "build", "ternd"))
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--rcpts", type=int, default=300)
    ap.add_argument("--port-offset", type=int, default=33000)
    a = ap.parse_args()

    root = tempfile.mkdtemp(prefix="rcptbench-")
    log = open(os.path.join(root, "..", os.path.basename(root) + ".log"), "wb")
    env = dict(os.environ, TERN_ADMIN_PASSWORD=PASSWORD)
    proc = subprocess.Popen([a.bin, "--root", root, "--dev", "--port-offset", str(a.port_offset)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        ctrl_port, smtp_port = 6017 + a.port_offset, 2525 + a.port_offset
        if not wait_port(ctrl_port, proc) or not wait_port(smtp_port, proc):
            sys.exit("ternd did not start")
        c = Client("127.0.0.1", ctrl_port)
        check(c.login("admin", PASSWORD), 0, "login")
        c.ok("domainadd", "bench.test")
        c.ok("useradd", "bench.test", "big", "pw", "U")
        c.ok("uservarsset", "bench.test", "big", "MaxMBSize", str(1 << 20))   # 1 GB
        # the account's Maildir comes into being with the first delivery
        s = Smtp(smtp_port)
        s.cmd("EHLO bench.example")
        s.cmd("MAIL FROM:<x@remote.example>")
        assert s.cmd("RCPT TO:<big@bench.test>") == 250
        s.cmd("DATA")
        s.s.sendall(b"Subject: first\r\n\r\nfirst\r\n.\r\n")
        assert s.reply() == 250
        cur = os.path.join(root, "domains", "bench.test", "big", "Maildir", "cur")
        deadline = time.time() + 20
        while not (os.path.isdir(cur) and os.listdir(os.path.join(os.path.dirname(cur), "new"))):
            if time.time() > deadline:
                sys.exit("first message not delivered")
            time.sleep(0.05)
        blob = b"Subject: filler\n\n" + b"x" * max(0, a.size - 18) + b"\n"
        for i in range(a.messages):
            with open(os.path.join(cur, f"{1700000000 + i}.M{i}P1.bench:2,S"), "wb") as f:
                f.write(blob)
        time.sleep(0.1)
        s.cmd("MAIL FROM:<x@remote.example>")
        s.cmd("RCPT TO:<big@bench.test>")        # warm-up (the first check counts everything)
        s.cmd("RSET")
        times = []
        for _ in range(a.rcpts):
            assert s.cmd("MAIL FROM:<x@remote.example> SIZE=4096") == 250
            t = time.perf_counter()
            code = s.cmd("RCPT TO:<big@bench.test>")
            times.append((time.perf_counter() - t) * 1000)
            assert code == 250, code
            s.cmd("RSET")
        s.cmd("QUIT")
        times.sort()
        print(f"ternd {a.bin}: mailbox of {a.messages} messages x {a.size} B with MaxMBSize; "
              f"{a.rcpts} RCPTs: median {statistics.median(times):.3f} ms, "
              f"p90 {times[int(len(times) * 0.9)]:.3f} ms, mean {statistics.mean(times):.3f} ms")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        subprocess.run(["rm", "-rf", root, root + ".log"], check=False)


if __name__ == "__main__":
    main()
