"""Durability of SMTP acceptance: kill -9 while clients keep sending (a new
connection per message), restart, and check that every message answered
250 is in the Maildir exactly once, complete, and that nothing at all was
delivered twice."""

import collections
import re
import threading
import time
import uuid

import pytest

from smtpclient import SMTPConn, data_payload, maildir, read_messages

DOMAIN = "crash.test"
RECOVERY_TIMEOUT = 20.0


def provision(srv):
    with srv.connect() as c:
        c.ok("domainadd", DOMAIN)
        for u in ("alice", "bob"):
            c.ok("useradd", DOMAIN, u, f"{u}pw", "U")


def crash_message(tok, rcpts):
    body = "".join(f"filler line {i:03d} for {tok}\r\n" for i in range(40))
    return (f"From: <sender@example.org>\r\n"
            f"To: {', '.join(f'<{r}>' for r in rcpts)}\r\n"
            f"Subject: crash {tok}\r\n"
            f"Message-ID: <{tok}@tern-tests.example>\r\n\r\n"
            f"token {tok}\r\n{body}END {tok}\r\n").encode()


def send_one(port, tok, rcpts):
    """One message on a new connection; True when the end of data was
    answered 250."""
    with SMTPConn(port, timeout=5) as s:
        if s.greeting.code != 220:
            return False
        if s.ehlo().code != 250 or s.mail("sender@example.org").code != 250:
            return False
        for r in rcpts:
            if s.rcpt(r).code != 250:
                return False
        if s.cmd("DATA").code != 354:
            return False
        s.send(data_payload(crash_message(tok, rcpts)))
        return s.read_reply().code == 250


class Senders:
    """Threads sending continuously until stopped; records attempted and
    acknowledged tokens per recipient set."""

    def __init__(self, port, n=4):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = {}          # tok -> rcpts
        self.attempted = {}      # tok -> rcpts
        self.errors = collections.Counter()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(n)]

    def run(self, i):
        rcpts = [f"alice@{DOMAIN}"] if i % 2 == 0 else [f"alice@{DOMAIN}", f"bob@{DOMAIN}"]
        k = 0
        while not self.stop.is_set():
            tok = f"c{i}x{k}x{uuid.uuid4().hex[:10]}"
            k += 1
            with self.lock:
                self.attempted[tok] = rcpts
            try:
                ok = send_one(self.port, tok, rcpts)
            except (OSError, EOFError, AssertionError) as e:
                ok = False
                with self.lock:
                    self.errors[type(e).__name__] += 1
                time.sleep(0.02)
            if ok:
                with self.lock:
                    self.acked[tok] = rcpts

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(20)

    def n_acked(self):
        with self.lock:
            return len(self.acked)


def tokens_in(md):
    """Counter of tokens over all messages of a Maildir, and the list of
    incomplete or malformed files."""
    counts = collections.Counter()
    bad = []
    for p, data in read_messages(md):
        toks = set(re.findall(rb"token (c\d+x\d+x[0-9a-f]{10})", data))
        if len(toks) != 1:
            bad.append((p.name, "tokens", toks))
            continue
        tok = toks.pop().decode()
        if f"END {tok}".encode() not in data:
            bad.append((p.name, "truncated", len(data)))
        counts[tok] += 1
    return counts, bad


def wait_recovered(srv, expected, timeout=RECOVERY_TIMEOUT):
    """Poll until every acknowledged token is in each of its recipients'
    Maildirs (or timeout); returns {user: Counter}."""
    deadline = time.time() + timeout
    while True:
        counts = {u: tokens_in(maildir(srv.root, DOMAIN, u))[0] for u in ("alice", "bob")}
        missing = [(t, r) for t, rs in expected.items() for r in rs
                   if counts[r.split("@")[0]][t] == 0]
        if not missing or time.time() > deadline:
            return counts, missing
        time.sleep(0.1)


def check_mailboxes(srv, snd):
    counts, missing = wait_recovered(srv, snd.acked)
    time.sleep(1.0)        # give a duplicate delivery the chance to show up
    for u in ("alice", "bob"):
        c, bad = tokens_in(maildir(srv.root, DOMAIN, u))
        assert not bad, f"{u}: incomplete or malformed messages {bad[:5]}"
        dups = {t: n for t, n in c.items() if n > 1}
        assert not dups, f"{u}: delivered more than once: {dups}"
        unknown = set(c) - set(snd.attempted)
        assert not unknown, f"{u}: messages nobody sent: {unknown}"
        for t in c:
            assert f"{u}@{DOMAIN}" in snd.attempted[t], f"{u} got {t} meant for others"
    assert not missing, (f"{len(missing)} acknowledged deliveries lost "
                         f"(of {len(snd.acked)} acknowledged messages): {missing[:10]}")


def run_and_kill(srv, min_acked=40, max_wait=8.0):
    snd = Senders(srv.smtp_port)
    snd.start()
    deadline = time.time() + max_wait
    while snd.n_acked() < min_acked and time.time() < deadline:
        time.sleep(0.02)
    if snd.n_acked() == 0:
        snd.finish()
        pytest.fail(f"no message was acknowledged before the kill (errors: {dict(snd.errors)})")
    srv.kill9()              # while the senders are still going
    time.sleep(0.3)
    snd.finish()
    return snd


def test_kill9_during_continuous_sending(fresh_server):
    srv = fresh_server
    provision(srv)
    snd = run_and_kill(srv)
    srv.start()
    check_mailboxes(srv, snd)
    # the server works normally afterwards
    tok = f"c9x0x{uuid.uuid4().hex[:10]}"
    assert send_one(srv.smtp_port, tok, [f"alice@{DOMAIN}"])
    snd.attempted[tok] = [f"alice@{DOMAIN}"]
    snd.acked[tok] = [f"alice@{DOMAIN}"]
    check_mailboxes(srv, snd)


def test_kill9_twice_during_recovery(fresh_server):
    srv = fresh_server
    provision(srv)
    snd = run_and_kill(srv, min_acked=60)
    # restart and kill again at once, while the recovery may be running
    srv.start()
    srv.kill9()
    srv.start()
    check_mailboxes(srv, snd)


def test_kill9_right_after_250(fresh_server):
    srv = fresh_server
    provision(srv)
    snd = Senders(srv.smtp_port, n=0)
    for i in range(3):
        tok = f"c8x{i}x{uuid.uuid4().hex[:10]}"
        rcpts = [f"alice@{DOMAIN}", f"bob@{DOMAIN}"]
        snd.attempted[tok] = rcpts
        with SMTPConn(srv.smtp_port) as s:
            assert s.ehlo().code == 250
            assert s.mail("sender@example.org").code == 250
            for r in rcpts:
                assert s.rcpt(r).code == 250
            assert s.cmd("DATA").code == 354
            s.send(data_payload(crash_message(tok, rcpts)))
            r = s.read_reply()
            assert r.code == 250, r
            srv.kill9()          # no time for anything after the 250
        snd.acked[tok] = rcpts
        srv.start()
    check_mailboxes(srv, snd)
