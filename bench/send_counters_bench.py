#!/usr/bin/python3
"""Authenticated sending with sending limits active: messages per second
through submission (STARTTLS + AUTH once per connection, then one message
after another), and how often ROOT/sendcounters.tab was rewritten meanwhile.

Usage: bench/send_counters_bench.py [--bin build/ternd] [--count 2000] [--conc 4] [--offset 33000]

Starts its own ternd on a temporary root (loopback ports 2525+offset ...),
creates one domain with --conc senders (limits far above the load, so every
message is charged and none refused) and one recipient, runs, stops."""

import argparse
import os
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import ctrlclient  # noqa: E402

PW = "Bench-Pw.1"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/ternd")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--conc", type=int, default=4)
    ap.add_argument("--offset", type=int, default=33000)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sendbench."))
    env = dict(os.environ, TERN_ADMIN_PASSWORD="secret")
    proc = subprocess.Popen([a.bin, "--root", str(root), "--dev", "--port-offset", str(a.offset)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    try:
        for port in (6017, 2587):
            deadline = time.time() + 20
            while not ctrlclient.wait_port("127.0.0.1", port + a.offset, 0.2):
                if time.time() > deadline or proc.poll() is not None:
                    sys.exit("ternd did not start")
        c = ctrlclient.Client("127.0.0.1", 6017 + a.offset)
        ctrlclient.check(c.login("admin", "secret"), 0, "login")
        c.ok("domainadd", "bench.test")
        c.ok("useradd", "bench.test", "rcv", PW, "U")
        for i in range(a.conc):
            c.ok("useradd", "bench.test", f"s{i}", PW, "U")
            for k, v in (("sentMessagesCount", 10**9), ("sentRecipientsCount", 10**9),
                         ("sentMessagesInterval", 3600)):
                c.ok("uservarsset", "bench.test", f"s{i}", f"Limits.{k}", str(v))
        c.close()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conns = []
        for i in range(a.conc):
            s = smtplib.SMTP("127.0.0.1", 2587 + a.offset, timeout=30)
            s.starttls(context=ctx)
            s.login(f"s{i}@bench.test", PW)
            conns.append(s)
        state = root / "sendcounters.tab"
        inodes, stop = set(), threading.Event()

        def watch():
            while not stop.is_set():
                try:
                    inodes.add(state.stat().st_ino)
                except FileNotFoundError:
                    pass
                time.sleep(0.02)

        w = threading.Thread(target=watch)
        w.start()
        per = a.count // a.conc
        body = "Subject: bench\r\n\r\n" + "x" * 1000 + "\r\n"

        def run(i):
            s = conns[i]
            for _ in range(per):
                s.sendmail(f"s{i}@bench.test", ["rcv@bench.test"], body)

        ts = [threading.Thread(target=run, args=(i,)) for i in range(a.conc)]
        t0 = time.time()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        dt = time.time() - t0
        stop.set()
        w.join()
        for s in conns:
            s.quit()
        print(f"{per * a.conc} messages, {a.conc} connections: {dt:.2f} s, {per * a.conc / dt:.0f} msg/s; "
              f"sendcounters.tab rewritten ~{len(inodes)} times ({len(inodes) / dt:.2f}/s)")
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
