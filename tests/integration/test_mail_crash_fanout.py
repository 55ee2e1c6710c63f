"""Exactly-once delivery of every copy a message fans out to, across kill -9:
mailbox rules, redirect and lredirect (a chain of two hops), a list, a
redirect to a remote address (kept in spool/remote by a smart host that always
defers) and a redirect to an address that does not exist (frozen in
spool/held). Clients send continuously; ternd is killed at random moments,
also while it recovers; afterwards every copy of every message is counted in
every Maildir and in the spool: each exactly once for a message answered 250,
and for any other message either all copies or none. Two of the mailboxes
are emptied by POP3 clients (RETR, DELE, QUIT) all along, so a copy made
again after its first was read and deleted would be seen."""

import collections
import os
import poplib
import random
import re
import threading
import time
import uuid
from pathlib import Path

import pytest

from ctrlclient import check
from smtpclient import SMTPConn, data_payload, maildir, read_messages
from test_ctrl_server import set_settings
from test_outbound import Sink

DOMAIN = "fan.test"
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "gina")
MEMBERS = ("erin", "frank", "gina")
TOKEN_RE = re.compile(rb"token (f\d+x\d+x[0-9a-f]{10})")


def provision(srv, sink_port):
    with srv.connect() as c:
        set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{sink_port}")
        c.ok("domainadd", DOMAIN)
        for u in USERS:
            c.ok("useradd", DOMAIN, u, f"{u}pw", "U")
        c.ok("useradd", DOMAIN, "team", "pw", "M")
        for u in MEMBERS:
            c.ok("mluseradd", DOMAIN, "team", f"{u}@{DOMAIN}", "RW")
        check(c.upload(("usersetmproc", DOMAIN, "alice"),
                       ["mailbox", f'"redirect"\t"bob@{DOMAIN}"', '"lredirect"\t"carol"',
                        '"redirect"\t"far@remote.example"', f'"redirect"\t"ghost@{DOMAIN}"',
                        # a slow last rule: the copies above are on their way while it runs
                        '"external"\t"0"\t"10"\t"/bin/sleep"\t"0.15"']), 0)
        check(c.upload(("usersetmproc", DOMAIN, "carol"), ["mailbox", '"redirect"\t"dave"']), 0)


def expected_copies(rcpts):
    """Where a message for these recipients must end up (once each)."""
    out = collections.Counter()
    for r in rcpts:
        if r.startswith("alice@"):
            for u in ("alice", "bob", "carol", "dave"):
                out[u] += 1
            out["spool/remote"] += 1
            out["spool/held"] += 1
        elif r.startswith("team@"):
            for u in MEMBERS:
                out[u] += 1
    return out


def message(tok, rcpts):
    body = "".join(f"filler line {i:03d} for {tok}\r\n" for i in range(30))
    return (f"From: <sender@example.org>\r\nTo: {', '.join(rcpts)}\r\n"
            f"Subject: fanout {tok}\r\n\r\ntoken {tok}\r\n{body}END {tok}\r\n").encode()


def send_one(port, tok, rcpts):
    with SMTPConn(port, timeout=5) as s:
        if s.greeting.code != 220 or s.ehlo().code != 250 or s.mail("sender@example.org").code != 250:
            return False
        for r in rcpts:
            if s.rcpt(r).code != 250:
                return False
        if s.cmd("DATA").code != 354:
            return False
        s.send(data_payload(message(tok, rcpts)))
        return s.read_reply().code == 250


class Senders:
    def __init__(self, srv, n=3):
        self.srv = srv
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked, self.attempted = {}, {}
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(n)]
        for t in self.threads:
            t.start()

    def run(self, i):
        sets = ([f"alice@{DOMAIN}"], [f"team@{DOMAIN}"], [f"alice@{DOMAIN}", f"team@{DOMAIN}"])
        k = 0
        while not self.stop.is_set():
            tok = f"f{i}x{k}x{uuid.uuid4().hex[:10]}"
            rcpts = sets[(i + k) % 3]
            k += 1
            with self.lock:
                self.attempted[tok] = rcpts
            try:
                ok = send_one(self.srv.smtp_port, tok, rcpts)
            except (OSError, EOFError, AssertionError):
                ok = False
                time.sleep(0.05)
            if ok:
                with self.lock:
                    self.acked[tok] = rcpts

    def n_acked(self):
        with self.lock:
            return len(self.acked)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(20)


class Readers:
    """POP3 clients that keep downloading and deleting the messages of some
    mailboxes. A token counts as read when the session's QUIT was answered
    +OK; a session cut short leaves its tokens "uncertain" (the deletions
    may or may not have happened)."""

    def __init__(self, srv, users):
        self.srv = srv
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.read = {u: collections.Counter() for u in users}
        self.uncertain = {u: set() for u in users}
        self.sessions = 0
        self.threads = [threading.Thread(target=self.run, args=(u,), daemon=True) for u in users]
        for t in self.threads:
            t.start()

    def run(self, user):
        while not self.stop.is_set():
            got = []
            try:
                p = poplib.POP3("127.0.0.1", self.srv.pop3_port, timeout=5)
                try:
                    p.user(f"{user}@{DOMAIN}")
                    p.pass_(f"{user}pw")
                    n = len(p.list()[1])
                    for i in range(1, n + 1):
                        data = b"\n".join(p.retr(i)[1])
                        got += [t.decode() for t in set(TOKEN_RE.findall(data))]
                        p.dele(i)
                    p.quit()
                except BaseException:
                    with self.lock:
                        self.uncertain[user].update(got)
                    raise
                with self.lock:
                    self.read[user].update(got)
                    self.sessions += 1
            except (OSError, EOFError, poplib.error_proto):
                time.sleep(0.05)
            time.sleep(0.05)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(20)


def spool_tokens(root, sub):
    """Counter of tokens over the messages in spool/<sub> (not the logs or
    outbound's state files)."""
    counts = collections.Counter()
    d = Path(root) / "spool" / sub
    for n in os.listdir(d):
        if n.endswith((".log", ".state")):
            continue
        try:
            data = (d / n).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            continue
        for t in set(TOKEN_RE.findall(data)):
            counts[t.decode()] += 1
    return counts


def count_all(root):
    """{place: Counter(token)} and a list of malformed copies."""
    places, bad = {}, []
    for u in USERS:
        c = collections.Counter()
        for p, data in read_messages(maildir(root, DOMAIN, u)):
            toks = set(TOKEN_RE.findall(data))
            if len(toks) != 1:
                bad.append((u, p.name))
                continue
            tok = toks.pop().decode()
            if f"END {tok}".encode() not in data:
                bad.append((u, p.name, "truncated"))
            c[tok] += 1
        places[u] = c
    for sub in ("remote", "held"):
        places[f"spool/{sub}"] = spool_tokens(root, sub)
    return places, bad


def queue_empty(root):
    return not os.listdir(Path(root) / "spool" / "queue")


def check_exactly_once(srv, snd, rd=None, timeout=40):
    deadline = time.time() + timeout
    while time.time() < deadline and not queue_empty(srv.root):
        time.sleep(0.2)
    assert queue_empty(srv.root), f"spool queue not drained: {os.listdir(Path(srv.root) / 'spool' / 'queue')[:5]}"
    time.sleep(0.5)
    places, bad = count_all(srv.root)
    assert not bad, f"malformed copies: {bad[:5]}"
    if rd:
        for u, c in rd.read.items():
            places[u].update(c)
            for t in rd.uncertain[u]:
                if places[u][t] == 0:
                    places[u][t] = 1     # read, and deleted when the server went away
    seen = set()
    for place, c in places.items():
        seen |= set(c)
        dups = {t: n for t, n in c.items() if n > 1}
        assert not dups, f"{place}: copies made more than once: {list(dups.items())[:5]}"
    unknown = seen - set(snd.attempted)
    assert not unknown, f"copies of messages nobody sent: {list(unknown)[:5]}"
    lost, partial = [], []
    for tok, rcpts in snd.attempted.items():
        exp = expected_copies(rcpts)
        got = {p: places[p][tok] for p in exp}
        if tok in snd.acked:
            if got != dict(exp):
                lost.append((tok, rcpts, got))
        elif any(got.values()) and got != dict(exp):
            partial.append((tok, rcpts, got))
        for p, c in places.items():
            if p not in exp:
                assert c[tok] == 0, f"{tok} for {rcpts} has a copy in {p}"
    assert not lost, f"{len(lost)} of {len(snd.acked)} acknowledged messages incomplete: {lost[:3]}"
    assert not partial, f"unacknowledged messages delivered in part: {partial[:3]}"
    work = os.listdir(Path(srv.root) / "spool" / "work")
    assert not work, f"delivery records left behind: {work[:5]}"
    return len(snd.acked)


def test_kill9_during_fanout_exactly_once(fresh_server):
    srv = fresh_server
    sink = Sink("defer-always")
    try:
        provision(srv, sink.port)
        rnd = random.Random()
        snd = Senders(srv)
        rd = Readers(srv, ("bob", "erin"))
        try:
            for cycle in range(4):
                target = snd.n_acked() + 15
                deadline = time.time() + 10
                while snd.n_acked() < target and time.time() < deadline:
                    time.sleep(0.02)
                time.sleep(rnd.uniform(0.0, 0.4))     # a random moment of the delivery work
                srv.kill9()
                time.sleep(0.2)
                srv.start()
                if cycle == 1:                       # again while it recovers
                    time.sleep(rnd.uniform(0.0, 0.15))
                    srv.kill9()
                    srv.start()
        finally:
            snd.finish()
        time.sleep(1.0)
        rd.finish()
        assert snd.n_acked() >= 40, f"only {snd.n_acked()} messages acknowledged"
        assert rd.sessions > 5, "the POP3 readers did not get to read"
        n = check_exactly_once(srv, snd, rd)
        # and once more after a clean restart: nothing runs again
        srv.restart()
        time.sleep(1.0)
        assert check_exactly_once(srv, snd, rd) == n
    finally:
        sink.close()
