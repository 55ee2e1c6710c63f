#!/usr/bin/python3
"""Helpers for bench/run_queue_bench.sh (standard library only).

  fill ROOT TEMPLATE_ID N       write N deferred copies of one real spool/remote entry
  waitport PORT SINCE TIMEOUT   seconds from SINCE (epoch) until PORT answers with a 220 greeting
  send1 PORT STATS REPEAT [TIMEOUT]
                                relay one message at a time from probe@bench.invalid; seconds from
                                the server's 250 to the sink's count of it (the sink's stats file,
                                "matched" counters: run the sink with --match probe@bench.invalid;
                                a defer sink counts the attempt)
  clilist PORT USER PASSWORD    CLI: ENTER QUEUE, then time LIST up to the next prompt
  cliforce PORT USER PASSWORD   CLI: ENTER QUEUE, FORCE QUEUE; exit status 0 only on +OK
  mem PID                       Rss and Pss of PID from /proc/PID/smaps_rollup (kB)
"""

import os
import re
import secrets
import smtplib
import socket
import statistics
import sys
import time


def fill(root, template_id, n):
    """Copy a real deferred entry N times under new spool ids.

    A spool/remote entry is the file ID (the "TERN-SPOOL 1" envelope records, the "." line, then
    the message) and the files beside it named ID.<suffix> (ID.state, ID.log).  Each copy gets a
    new id in the server's own form, time.sequence.8-hex; the template's id is replaced by the new
    one wherever it occurs, and everything else is the template's bytes.  Nothing is fsynced: the
    caller syncs once."""
    rdir = os.path.join(root, "spool", "remote")
    tid = template_id.encode()
    files = []  # (suffix, content)
    for name in sorted(os.listdir(rdir)):
        if name == template_id or name.startswith(template_id + "."):
            with open(os.path.join(rdir, name), "rb") as f:
                files.append((name[len(template_id):], f.read()))
    if not any(sfx == "" for sfx, _ in files):
        raise SystemExit(f"fill: no spool/remote/{template_id}")
    base = int(template_id.split(".")[0]) - 1  # one second before the template: ids never collide
    t0 = time.time()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    dfd = os.open(rdir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(n):
            nid = f"{base}.{i + 1}.{secrets.token_hex(4)}"
            for sfx, content in files:
                fd = os.open(nid + sfx, flags, 0o600, dir_fd=dfd)
                try:
                    os.write(fd, content.replace(tid, nid.encode()))
                finally:
                    os.close(fd)
    finally:
        os.close(dfd)
    t1 = time.time()
    os.sync()
    t2 = time.time()
    print(f"generated entries: {n}")
    print(f"generation s: {t1 - t0:.1f}")
    print(f"sync s: {t2 - t1:.1f}")
    print("entry files: " + ", ".join(f"ID{sfx} {len(c)} B" for sfx, c in files))


def waitport(port, since, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.settimeout(5)
                if s.recv(512).startswith(b"220"):
                    print(f"{time.time() - since:.3f}")
                    return 0
        except OSError:
            pass
        time.sleep(0.005)
    print("timeout")
    return 1


def sink_stat(path, key):
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                if k == key:
                    return float(v)
    except FileNotFoundError:
        pass
    return 0.0


def send1(port, stats, repeat, timeout=120.0):
    """One message at a time: the server answers 250, then we wait until the sink has it."""
    lat = []
    body = ("Subject: queue bench probe\r\nFrom: <probe@bench.invalid>\r\n\r\n" + "x" * 70 + "\r\n") * 1
    for i in range(repeat):
        before = sink_stat(stats, "matched")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            s.sendmail("probe@bench.invalid", [f"probe{i}@relay.test"], body)
        acked = time.time()
        deadline = acked + timeout
        while sink_stat(stats, "matched") <= before and time.time() < deadline:
            time.sleep(0.002)
        if sink_stat(stats, "matched") <= before:
            print(f"probe {i}: not delivered within {timeout:.0f} s")
            print("relay latency s: n/a")
            return 1
        last = sink_stat(stats, "matched_last")
        lat.append(last - acked)
        print(f"probe {i}: {last - acked:.4f} s")
    print(f"relay latency s: median {statistics.median(lat):.4f} min {min(lat):.4f} max {max(lat):.4f}")
    return 0


PROMPT = re.compile(rb"(?:^|\r\n)<[A-Za-z0-9-]*#> $")


def read_until(sock, pred, buf=None, timeout=300.0):
    buf = buf if buf is not None else bytearray()
    sock.settimeout(timeout)
    while not pred(buf):
        chunk = sock.recv(262144)
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return bytes(buf)


def cli_command(s, line):
    """Send one CLI command; returns (ok, status line, whole reply)."""
    s.sendall(line + b"\r\n")
    r = read_until(s, lambda b: PROMPT.search(b[-80:]) is not None)
    status = [ln for ln in r.split(b"\r\n") if ln.startswith((b"+OK", b"-ERR"))]
    text = status[-1].decode(errors="replace") if status else repr(r)
    return bool(status) and status[-1].startswith(b"+OK"), text, r


def cli_queue(port, user, password):
    """Log in and enter the queue context: (socket, None) or (None, reason)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    read_until(s, lambda b: b.endswith(b"<login> "))
    s.sendall(f"USER {user}\r\n".encode())
    read_until(s, lambda b: b.endswith(b"<password> "))
    s.sendall(f"{password}\r\n".encode())
    r = read_until(s, lambda b: PROMPT.search(b[-80:]) is not None)
    if b"+OK" not in r:
        s.close()
        return None, f"CLI login failed: {r!r}"
    ok, text, _ = cli_command(s, b"ENTER QUEUE")
    if not ok:
        s.close()
        return None, f"ENTER QUEUE: {text}"
    return s, None


def cliforce(port, user, password):
    s, why = cli_queue(port, user, password)
    if s is None:
        print(f"FORCE QUEUE not available ({why})")
        return 1
    ok, text, _ = cli_command(s, b"FORCE QUEUE")
    s.close()
    print(f"FORCE QUEUE: {text}")
    return 0 if ok else 1


def clilist(port, user, password):
    s, why = cli_queue(port, user, password)
    if s is None:
        print(f"queue LIST not available ({why})")
        return 0
    t0 = time.time()
    s.sendall(b"LIST\r\n")
    r = read_until(s, lambda b: len(b) >= 2 and b.endswith(b"> ") and PROMPT.search(b[-80:]) is not None)
    t1 = time.time()
    lines = r.split(b"\r\n")
    status = [ln for ln in lines if ln.startswith((b"+OK", b"-ERR"))]
    if status and status[-1].startswith(b"+OK"):
        print(f"queue LIST s: {t1 - t0:.3f}")
        print(f"queue LIST lines: {len(lines) - 2}")
        print(f"queue LIST bytes: {len(r)}")
    else:
        print(f"queue LIST not available (LIST: {status[-1].decode() if status else 'no status'})")
    try:
        s.sendall(b"QUIT\r\n")
    except OSError:
        pass
    s.close()
    return 0


def mem(pid):
    rss = pss = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    print(f"{rss} {pss}")
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, a = argv[1], argv[2:]
    if cmd == "fill" and len(a) == 3:
        return fill(a[0], a[1], int(a[2])) or 0
    if cmd == "waitport" and len(a) == 3:
        return waitport(int(a[0]), float(a[1]), float(a[2]))
    if cmd == "send1" and len(a) in (3, 4):
        return send1(int(a[0]), a[1], int(a[2]), float(a[3]) if len(a) == 4 else 120.0)
    if cmd == "clilist" and len(a) == 3:
        return clilist(int(a[0]), a[1], a[2])
    if cmd == "cliforce" and len(a) == 3:
        return cliforce(int(a[0]), a[1], a[2])
    if cmd == "mem" and len(a) == 1:
        return mem(int(a[0]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
