"""Local delivery through the MX port: what lands in the Maildir (trace
headers, the message unchanged), several recipients, aliases, alias domains,
mailing lists, 8-bit data, size and recipient limits, and swaks as a real
client."""

import re
import subprocess
import threading

from smtpclient import (SMTPConn, addr_of, expect, make_message, message_files,
                        need_tool, new_token, parse, set_settings,
                        split_added_headers, wait_token, with_token)


def send(server, sender, rcpts, msg, host="127.0.0.1", params=""):
    with SMTPConn(server.smtp_port, host=host) as s:
        expect(s.ehlo(), 250)
        r = s.send_message(sender, rcpts, msg, mail_params=params)
        s.quit()
    return r


def deliver_one(server, md, sender, rcpt, msg, token, **kw):
    r = send(server, sender, rcpt, msg, **kw)
    expect(r, 250, "2.0.0", "end of data")
    found = wait_token(md, token)
    assert len(found) == 1, [p.name for p, _ in found]
    return found[0]


def added_headers(stored, original):
    added, _ = split_added_headers(stored, original)
    return added


def values(added, name):
    return [v for k, v in added if k.lower() == name.lower()]


# ---------------------------------------------------------------- basics

def test_local_delivery_trace_headers(server, mdom):
    tok = new_token("basic")
    sender = "sender@example.org"
    msg = make_message(sender, mdom.addr("alice"), "basic", token=tok,
                       extra_headers=["Received: from upstream.example by relay.example; "
                                      "Tue, 01 Oct 2024 09:59:00 +0000"])
    path, stored = deliver_one(server, mdom.md("alice"), sender, mdom.addr("alice"), msg, tok)
    assert path.parent.name == "new", f"delivered into {path}"
    added = added_headers(stored, msg)
    names = [k.lower() for k, _ in added]
    assert names and names[0] == "return-path", f"Return-Path must be first: {added}"
    assert values(added, "Return-Path") == [f"<{sender}>"], added
    assert [addr_of(v) for v in values(added, "Delivered-To")] == [mdom.addr("alice")], added
    rec = values(added, "Received")
    assert len(rec) == 1, f"exactly one Received added by Tern: {added}"
    assert "by " in rec[0] and "127.0.0.1" in rec[0], rec[0]
    # the original headers are untouched and parse as before
    m = parse(stored)
    assert m["Message-ID"] == f"<{tok}@tern-tests.example>"
    assert m["Subject"] == f"basic {tok}"
    assert len(m.get_all("Received")) == 2
    assert not list((mdom.md("alice") / "tmp").iterdir()), "leftover in tmp/"


def test_dot_lines_round_trip(server, mdom):
    tok = new_token("dots")
    body = [".", "..", "...", ".leading dot", "..two leading dots", "trailing dot.",
            " . ", "", ".", "end"]
    msg = make_message("x@example.org", mdom.addr("alice"), "dots", body, token=tok)
    _, stored = deliver_one(server, mdom.md("alice"), "x@example.org", mdom.addr("alice"),
                            msg, tok)
    added_headers(stored, msg)       # asserts the body is byte-identical


def test_8bit_body(server, mdom):
    tok = new_token("8bit")
    raw_body = (f"token {tok}\r\n".encode() + "Grüße, ½ € — ok\r\n".encode("utf-8")
                + b"latin1: \xe9\xe8\xff\r\n" + bytes(range(0x80, 0x100)) + b"\r\n")
    msg = make_message("x@example.org", mdom.addr("alice"), "8bit", token=tok,
                       extra_headers=["Content-Transfer-Encoding: 8bit"], raw_body=raw_body)
    _, stored = deliver_one(server, mdom.md("alice"), "x@example.org", mdom.addr("alice"),
                            msg, tok, params="BODY=8BITMIME")
    added_headers(stored, msg)


def test_large_message(server, mdom):
    tok = new_token("large")
    lines = [f"{i:06d} " + "abcdefghij" * 7 for i in range(15000)]     # ~1.2 MB
    msg = make_message("x@example.org", mdom.addr("alice"), "large", lines, token=tok)
    _, stored = deliver_one(server, mdom.md("alice"), "x@example.org", mdom.addr("alice"),
                            msg, tok, params=f"SIZE={len(msg)}")
    added_headers(stored, msg)


def test_null_sender_return_path(server, mdom):
    tok = new_token("bounce")
    msg = make_message("", mdom.addr("alice"), "bounce", token=tok)
    with SMTPConn(server.smtp_port) as s:
        expect(s.ehlo(), 250)
        expect(s.cmd("MAIL FROM:<>"), 250, "2.1.0")
        expect(s.rcpt(mdom.addr("alice")), 250, "2.1.5")
        expect(s.data(msg), 250, "2.0.0")
    (_, stored), = wait_token(mdom.md("alice"), tok)
    assert values(added_headers(stored, msg), "Return-Path") == ["<>"]


def test_several_recipients_one_copy_each(server, c, mdom):
    mdom.add_user(c, "carol")
    tok = new_token("multi")
    rcpts = [mdom.addr(u) for u in ("alice", "bob", "carol")]
    msg = make_message("x@example.org", rcpts, "multi", token=tok)
    expect(send(server, "x@example.org", rcpts, msg), 250, "2.0.0")
    for u in ("alice", "bob", "carol"):
        found = wait_token(mdom.md(u), tok)
        assert len(found) == 1, (u, found)
        added = added_headers(found[0][1], msg)
        assert [addr_of(v) for v in values(added, "Delivered-To")] == [mdom.addr(u)], added
        assert values(added, "Return-Path") == ["<x@example.org>"]


def test_rejected_recipient_does_not_block_others(server, mdom):
    tok = new_token("partial")
    msg = make_message("x@example.org", mdom.addr("alice"), "partial", token=tok)
    with SMTPConn(server.smtp_port) as s:
        expect(s.ehlo(), 250)
        expect(s.mail("x@example.org"), 250, "2.1.0")
        expect(s.rcpt(f"ghost@{mdom.name}"), 550, "5.1.1")
        expect(s.rcpt(mdom.addr("alice")), 250, "2.1.5")
        expect(s.data(msg), 250, "2.0.0")
    assert len(wait_token(mdom.md("alice"), tok)) == 1
    assert not mdom.md("ghost").exists()


def test_case_insensitive_domain(server, mdom):
    tok = new_token("case")
    rcpt = f"alice@{mdom.name.upper()}"
    msg = make_message("x@example.org", rcpt, "case", token=tok)
    deliver_one(server, mdom.md("alice"), "x@example.org", rcpt, msg, tok)


def test_delivery_over_ipv6(server, mdom):
    tok = new_token("v6")
    msg = make_message("x@example.org", mdom.addr("bob"), "v6", token=tok)
    deliver_one(server, mdom.md("bob"), "x@example.org", mdom.addr("bob"), msg, tok, host="::1")


def test_concurrent_sessions(server, mdom):
    toks = [new_token(f"par{i}") for i in range(12)]
    results = {}

    def one(t):
        try:
            msg = make_message("x@example.org", mdom.addr("alice"), "parallel", token=t)
            results[t] = send(server, "x@example.org", mdom.addr("alice"), msg).code
        except Exception as e:     # reported below
            results[t] = repr(e)

    threads = [threading.Thread(target=one, args=(t,)) for t in toks]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert all(results.get(t) == 250 for t in toks), results
    for t in toks:
        assert len(wait_token(mdom.md("alice"), t)) == 1, t
    assert len(message_files(mdom.md("alice"))) == len(toks)


# ---------------------------------------------------------------- address resolution

def test_alias_delivers_to_target(server, c, mdom, unique_name):
    other = unique_name("o") + ".test"
    c.ok("domainadd", other)
    c.ok("useradd", other, "carol", "carolpw", "U")
    c.ok("aliasadd", mdom.name, "info", "alice")
    c.ok("aliasadd", mdom.name, "sales", mdom.addr("bob"))
    c.ok("aliasadd", mdom.name, "carol", f"carol@{other}")
    cases = [("info", mdom.md("alice"), mdom.addr("alice")),
             ("sales", mdom.md("bob"), mdom.addr("bob")),
             ("carol", mdom.server.root / "domains" / other / "carol" / "Maildir",
              f"carol@{other}")]
    for alias, md, target in cases:
        tok = new_token(alias)
        rcpt = f"{alias}@{mdom.name}"
        msg = make_message("x@example.org", rcpt, "alias", token=tok)
        _, stored = deliver_one(server, md, "x@example.org", rcpt, msg, tok)
        added = added_headers(stored, msg)
        assert [addr_of(v) for v in values(added, "Delivered-To")] in ([rcpt], [target]), added
    # no mailbox was created for the alias names themselves
    assert not mdom.md("info").exists() and not mdom.md("sales").exists()


def test_alias_domain(server, c, mdom, unique_name):
    ad = unique_name("ad") + ".test"
    c.ok("aliasdomainadd", mdom.name, ad)
    tok = new_token("aliasdom")
    rcpt = f"alice@{ad}"
    msg = make_message("x@example.org", rcpt, "alias domain", token=tok)
    deliver_one(server, mdom.md("alice"), "x@example.org", rcpt, msg, tok)
    assert not (server.root / "domains" / ad).exists()
    with SMTPConn(server.smtp_port) as s:
        expect(s.ehlo(), 250)
        expect(s.mail("x@example.org"), 250, "2.1.0")
        expect(s.rcpt(f"nobody@{ad}"), 550, "5.1.1", "unknown user in alias domain")
        expect(s.rcpt(f"bob@{ad.upper()}"), 250, "2.1.5")


def test_mailing_list(server, c, mdom):
    for u in ("carol", "dave"):
        mdom.add_user(c, u)
    mdom.add_user(c, "list", typ="M")
    c.ok("mluseradd", mdom.name, "list", mdom.addr("alice"), "RW")
    c.ok("mluseradd", mdom.name, "list", mdom.addr("bob"), "R")
    c.ok("mluseradd", mdom.name, "list", mdom.addr("carol"), "RA")
    c.ok("mluseradd", mdom.name, "list", "outsider@foreign.example", "RW")
    tok = new_token("list")
    rcpt = mdom.addr("list")
    msg = make_message("x@example.org", rcpt, "to the list", token=tok)
    expect(send(server, "x@example.org", rcpt, msg), 250, "2.0.0")
    for u in ("alice", "bob", "carol"):
        found = wait_token(mdom.md(u), tok)
        assert len(found) == 1, (u, [p.name for p, _ in found])
        m = parse(found[0][1])
        assert m["Message-ID"] == f"<{tok}@tern-tests.example>"
        assert tok in m.get_payload()
    # dave is not a member, the list account itself has no mailbox copy
    assert with_token(mdom.md("dave"), tok) == []
    assert with_token(mdom.md("list"), tok) == []


# ---------------------------------------------------------------- limits (own server)

def _settings_server(srv, **values):
    with srv.connect() as c:
        set_settings(c, **values)
    srv.restart()


def test_message_size_limit(fresh_server):
    srv = fresh_server
    with srv.connect() as c:
        c.ok("domainadd", "size.test")
        c.ok("useradd", "size.test", "alice", "pw", "U")
    _settings_server(srv, MaxMessageSize=64)
    md = srv.root / "domains" / "size.test" / "alice" / "Maildir"
    big_tok, small_tok = new_token("big"), new_token("small")
    big = make_message("x@example.org", "alice@size.test", "big",
                       ["z" * 76] * 1000, token=big_tok)            # ~78 KB
    small = make_message("x@example.org", "alice@size.test", "small",
                         ["z" * 76] * 600, token=small_tok)         # ~47 KB
    with SMTPConn(srv.smtp_port) as s:
        expect(s.ehlo(), 250)
        assert s.ext.get("SIZE") == str(64 * 1024), s.ext
        expect(s.mail("x@example.org", f"SIZE={64 * 1024 + 1}"), 552, "5.3.4", "SIZE over")
        # no SIZE announced: the server must refuse after the data
        expect(s.mail("x@example.org"), 250, "2.1.0")
        expect(s.rcpt("alice@size.test"), 250, "2.1.5")
        r = s.data(big)
        expect(r, 552, what="oversized data")
        # the session goes on
        r = s.send_message("x@example.org", "alice@size.test", small)
        expect(r, 250, "2.0.0", "message under the limit")
    wait_token(md, small_tok)
    assert with_token(md, big_tok) == [], "oversized message was delivered"


def test_recipient_limit_setting(fresh_server):
    srv = fresh_server
    users = ["u1", "u2", "u3", "u4"]
    with srv.connect() as c:
        c.ok("domainadd", "rl.test")
        for u in users:
            c.ok("useradd", "rl.test", u, "pw", "U")
    _settings_server(srv, SmtpMaxRecipients=3)
    tok = new_token("rlimit")
    msg = make_message("x@example.org", [f"{u}@rl.test" for u in users], "limit", token=tok)
    with SMTPConn(srv.smtp_port) as s:
        expect(s.ehlo(), 250)
        expect(s.mail("x@example.org"), 250, "2.1.0")
        for u in users[:3]:
            expect(s.rcpt(f"{u}@rl.test"), 250, "2.1.5", u)
        expect(s.rcpt("u4@rl.test"), 452, "4.5.3", "4th recipient")
        expect(s.data(msg), 250, "2.0.0")
    for u in users[:3]:
        assert len(wait_token(srv.root / "domains" / "rl.test" / u / "Maildir", tok)) == 1
    assert with_token(srv.root / "domains" / "rl.test" / "u4" / "Maildir", tok) == []


# ---------------------------------------------------------------- swaks

def test_swaks_delivery(server, mdom):
    swaks = need_tool("swaks")
    tok = new_token("swaks")
    r = subprocess.run(
        [swaks, "--server", f"127.0.0.1:{server.smtp_port}", "--timeout", "20",
         "--ehlo", "swaks.example", "--from", "swaks@example.org", "--to", mdom.addr("bob"),
         "--header", f"Subject: swaks {tok}", "--header", f"Message-Id: <{tok}@swaks>",
         "--body", f"delivered by swaks\n{tok}\n"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out
    # swaks prints server replies as "<-  250 ..." ("<~" inside TLS)
    assert re.search(r"^<[-~] +250 2\.0\.0", out, re.M), out
    (_, stored), = wait_token(mdom.md("bob"), tok)
    m = parse(stored)
    assert m["Subject"] == f"swaks {tok}"
    assert addr_of(m["Return-Path"]) == "swaks@example.org"
    assert "delivered by swaks" in m.get_payload()
