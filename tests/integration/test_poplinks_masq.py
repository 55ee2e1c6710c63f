"""POP3 links with the special local forms "?masq-domain,dom1,dom2" (every
To/Cc/Bcc address of the listed domains re-addressed to
local-part@masq-domain) and "&suffix,dom1,..." (the suffix appended to such
addresses), fetched from a POP3 server the test runs on loopback. A message
naming no address of the listed domains is frozen for the admin, never
dropped; remote deletion happens only after local storage."""

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from test_ctrl_server import set_settings


class Pop3Sink:
    """A small POP3 server with fixed messages (USER/PASS, STAT, UIDL,
    LIST, RETR, DELE, QUIT)."""

    def __init__(self, messages, user="remote", password="rpw"):
        self.messages = list(messages)
        self.deleted = set()
        self.user, self.password = user, password
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.sessions = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self.session(conn)
            except OSError:
                pass
            conn.close()

    def session(self, conn):
        self.sessions += 1
        f = conn.makefile("rb")
        conn.sendall(b"+OK sink ready\r\n")
        live = [i for i in range(len(self.messages)) if i not in self.deleted]
        marked, authed, user = set(), False, None
        while True:
            line = f.readline()
            if not line:
                return
            parts = line.strip().split(b" ")
            cmd, args = parts[0].upper(), parts[1:]
            if cmd == b"USER":
                user = args[0].decode() if args else None
                conn.sendall(b"+OK\r\n")
            elif cmd == b"PASS":
                authed = user == self.user and args and args[0].decode() == self.password
                conn.sendall(b"+OK\r\n" if authed else b"-ERR no\r\n")
            elif not authed and cmd != b"QUIT":
                conn.sendall(b"-ERR log in first\r\n")
            elif cmd == b"STAT":
                conn.sendall(b"+OK %d 0\r\n" % len(live))
            elif cmd in (b"UIDL", b"LIST"):
                out = b"+OK\r\n"
                for n, i in enumerate(live, 1):
                    out += b"%d %s\r\n" % (n, (b"uid%d" % i) if cmd == b"UIDL" else
                                           str(len(self.messages[i])).encode())
                conn.sendall(out + b".\r\n")
            elif cmd == b"RETR":
                i = live[int(args[0]) - 1]
                body = b"".join((b"." + l if l.startswith(b".") else l)
                                for l in self.messages[i].splitlines(keepends=True))
                conn.sendall(b"+OK\r\n" + body + b".\r\n")
            elif cmd == b"DELE":
                marked.add(live[int(args[0]) - 1])
                conn.sendall(b"+OK\r\n")
            elif cmd == b"QUIT":
                self.deleted |= marked
                conn.sendall(b"+OK bye\r\n")
                return
            else:
                conn.sendall(b"-ERR unknown\r\n")

    def close(self):
        self.stop = True
        self.sock.close()


def msg(tag, headers):
    return (headers + f"Subject: {tag}\r\nFrom: <someone@outside.example>\r\n\r\nbody {tag}\r\n").encode()


def box(root, dom, user):
    out = {}
    for sub in ("new", "cur"):
        d = Path(root) / "domains" / dom / user / "Maildir" / sub
        if d.is_dir():
            for p in d.iterdir():
                data = p.read_bytes()
                tag = data.split(b"\nSubject: ", 1)[1].split(b"\n", 1)[0].strip().decode()
                out[tag] = data
    return out


def held(root):
    d = Path(root) / "spool" / "held"
    out = {}
    for n in os.listdir(d):
        if not n.endswith(".log"):
            out[n] = (d / n).read_bytes()
    return out


def wait(pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def test_masquerading_link_readdresses_to_cc_bcc(fresh_server):
    srv = fresh_server
    c = srv.connect()
    c.ok("domainadd", "masq.test")
    for u in ("john", "mary"):
        c.ok("useradd", "masq.test", u, "pw", "U")
    sink = Pop3Sink([
        msg("m1", "To: \"Smith, John\" <john@corp.example>\r\n"
                  "Cc: mary@corp2.example, other@else.example,\r\n ghost@corp.example\r\n"),
        msg("m2", "To: undisclosed-recipients:;\r\nBcc:\r\n\tJOHN@CORP.EXAMPLE (the boss)\r\n"),
        msg("m3", "To: team: mary@corp.example, x@else.example;\r\ncc: John <john@corp2.example>\r\n"
                  "Reply-To: mary@corp.example\r\n"),
        msg("m4", "To: nobody@else.example\r\nX-Note: john@corp.example is not a recipient\r\n"),
    ])
    try:
        c.ok("poplnkadd", "?masq.test,corp.example,corp2.example", "unused", f"127.0.0.1:{sink.port}",
             "remote", "rpw", "CLR")
        set_settings(c, Pop3LinkInterval=1)
        assert wait(lambda: len(sink.deleted) == 4 and len(box(srv.root, "masq.test", "mary")) == 2
                    and len(box(srv.root, "masq.test", "john")) == 3)
        john = box(srv.root, "masq.test", "john")
        mary = box(srv.root, "masq.test", "mary")
        assert sorted(john) == ["m1", "m2", "m3"]
        assert sorted(mary) == ["m1", "m3"]
        assert b"Delivered-To: john@masq.test\n" in john["m1"]
        assert b"Delivered-To: mary@masq.test\n" in mary["m3"]
        # the original headers are kept as they were
        assert b'To: "Smith, John" <john@corp.example>' in john["m1"]
        # ghost@corp.example -> ghost@masq.test, no such account: frozen by delivery;
        # m4 names nobody of the listed domains: frozen for postmaster@masq.test
        def frozen():
            h = held(srv.root)
            return ([n for n, d in h.items() if b"\nT ghost@masq.test\n" in d and b"body m1" in d],
                    [n for n, d in h.items() if b"\nT postmaster@masq.test\n" in d and b"body m4" in d])
        assert wait(lambda: all(len(x) == 1 for x in frozen()))
        ghost, m4 = (x[0] for x in frozen())
        log = (Path(srv.root) / "spool" / "held" / f"{m4}.log").read_text()
        assert "no To/Cc/Bcc address of the link's domains" in log
        rows = [r for r in c.records("frozlist") if r[0] == m4]
        assert len(rows) == 1 and rows[0][4] == "<postmaster@masq.test>"
        assert "a message names no address of the link's domains; kept in spool/held" in srv.log
        # nothing is fetched twice on later passes
        time.sleep(2.5)
        assert sorted(box(srv.root, "masq.test", "john")) == ["m1", "m2", "m3"]
        assert len(held(srv.root)) == 2
    finally:
        sink.close()
        c.close()


def test_suffix_link_appends_to_matching_addresses(fresh_server):
    srv = fresh_server
    c = srv.connect()
    c.ok("domainadd", "corp.example.lan")
    c.ok("domainadd", "other.example.lan")
    c.ok("useradd", "corp.example.lan", "john", "pw", "U")
    c.ok("useradd", "corp.example.lan", "mary", "pw", "U")
    c.ok("useradd", "other.example.lan", "ann", "pw", "U")
    sink = Pop3Sink([
        msg("s1", "To: John <john@corp.example>, Ann <ann@other.example>\r\nCc: mary@Corp.Example\r\n"),
        msg("s2", "To: ann@other.example\r\nCc: outsider@unrelated.example\r\n"),
    ], user="r2", password="r2pw")
    try:
        c.ok("poplnkadd", "&.lan,corp.example,other.example", "unused", f"127.0.0.1:{sink.port}",
             "r2", "r2pw", "CLR")
        set_settings(c, Pop3LinkInterval=1)
        assert wait(lambda: len(sink.deleted) == 2 and len(box(srv.root, "other.example.lan", "ann")) == 2)
        assert wait(lambda: len(box(srv.root, "corp.example.lan", "mary")) == 1)
        assert sorted(box(srv.root, "corp.example.lan", "john")) == ["s1"]
        assert sorted(box(srv.root, "corp.example.lan", "mary")) == ["s1"]
        ann = box(srv.root, "other.example.lan", "ann")
        assert sorted(ann) == ["s1", "s2"]
        assert b"Delivered-To: ann@other.example.lan\n" in ann["s2"]
        # unrelated.example is not a domain of the link: no copy goes there
        assert held(srv.root) == {}
    finally:
        sink.close()
        c.close()


def test_malformed_special_form_fetches_nothing(fresh_server):
    srv = fresh_server
    c = srv.connect()
    sink = Pop3Sink([msg("x1", "To: a@corp.example\r\n")], user="r3", password="r3pw")
    try:
        c.ok("poplnkadd", "?masq.test", "unused", f"127.0.0.1:{sink.port}", "r3", "r3pw", "CLR")
        set_settings(c, Pop3LinkInterval=1)
        assert wait(lambda: "malformed local form" in srv.log)
        assert sink.sessions == 0 and sink.deleted == set()
    finally:
        sink.close()
        c.close()
