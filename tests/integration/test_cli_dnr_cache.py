"""The resolver's cache and per-nameserver timeout/retries, over real
sockets: a dnsmasq on loopback (authoritative for c.test, so that its
negative answers carry the SOA that RFC 2308 caching needs) is the
nameserver; it is restarted on the same port with other data, or stopped,
to tell an answer of the cache from one of the server.

- QUERY answers from the cache after the server's data changed or the
  server stopped; EMPTYCACHE (logged) makes the next QUERY ask again;
- a short TTL expires (positive answers, and NXDOMAIN by the SOA's TTL);
- cacheSize 0 keeps nothing; shrinking cacheSize at COMMIT drops the least
  recently used answers at once;
- outbound delivery shares the cache: mail to an MX domain still routes
  after the DNS server stopped, and the CLI sees the answers it cached;
- a nameserver's own timeout/retries (stored in its DnsServers entry, shown
  by LIST Nameservers and SHOW): a server that never answers, with timeout
  1, hands the query to the next server within about a second."""

import random
import smtplib
import socket
import struct
import threading
import time

import pytest

from cliclient import show_attrs, simple_items, table_rows
from dnsserver import dnsmasq
from smtpclient import tls_context
from smtpsink import SmtpSink
from test_ctrl_server import set_settings

COMMITTED = "committing changes and switching back to previous context"


def zone(ttl, *records):
    """dnsmasq options: authoritative for c.test, every record with ttl."""
    return ("--auth-zone=c.test", "--auth-server=ns1.c.test,127.0.0.1", f"--auth-ttl={ttl}", *records)


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


def ask_a(addr, name):
    """The A records the server at addr gives for name (a query of our own,
    to prove what the server says now)."""
    qid = random.randint(0, 65535)
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        msg += bytes([len(label)]) + label.encode()
    msg += b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.sendto(msg, ("127.0.0.1", port_of(addr)))
        r = s.recv(4096)
    finally:
        s.close()
    an = struct.unpack(">H", r[6:8])[0]
    off = len(msg)  # past the question (the same bytes as ours)
    out = []
    for _ in range(an):
        off += 2  # a compressed name
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", r[off:off + 10])
        off += 10
        if rtype == 1:
            out.append(socket.inet_ntoa(r[off:off + 4]))
        off += rdlen
    return out


def dnr(cli):
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG DNR", "server-dnr")


def use_servers(cli, *addrs):
    """Make addrs the nameservers (committed: outbound uses them too)."""
    dnr(cli)
    cli.ok("REMOVE All")
    for i, a in enumerate(addrs, 1):
        cli.ok(f"ADD Nameserver {i}")
        cli.ok(f"SET address {a}")
        cli.ok("DONE", "server-dnr")
    cli.ok("COMMIT", "server")
    cli.ok("CONFIG DNR", "server-dnr")


def query_a(cli, name):
    r = cli.cmd(f"QUERY A {name}")
    if not r.ok:
        return r.status
    assert r.pieces[1] == f"The A records for {name}:", r.raw
    return simple_items(r)


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


@pytest.fixture
def reset_dnr(server):
    """After the test: no nameservers, the default resolver settings, an
    empty cache (through a session of its own)."""
    yield
    cl = server.cli()
    dnr(cl)
    cl.ok("REMOVE All")
    cl.ok("SET timeout 3 retries 1 cacheSize 1000")
    cl.ok("COMMIT", "server")
    cl.ok("CONFIG DNR")
    cl.ok("EMPTYCACHE")
    cl.close()


def test_cache_answers_after_change_and_stop_and_emptycache_asks_again(server, cli, tmp_path, reset_dnr):
    with dnsmasq(tmp_path, *zone(600, "--host-record=w.c.test,127.0.0.21")) as ns:
        use_servers(cli, ns)
        cli.ok("EMPTYCACHE")
        assert query_a(cli, "w.c.test") == ["127.0.0.21"]
    # the same address now serves other data: the cached answer stays
    with dnsmasq(tmp_path, *zone(600, "--host-record=w.c.test,127.0.0.22"), port=port_of(ns)):
        assert ask_a(ns, "w.c.test") == ["127.0.0.22"]
        assert query_a(cli, "w.c.test") == ["127.0.0.21"]
        r = cli.cmd("EMPTYCACHE")
        assert r.raw == b"+OK: command successful\r\n<server-dnr#> ", r.raw
        assert log_has(server, "EMPTYCACHE", "resolver cache emptied (")
        assert query_a(cli, "w.c.test") == ["127.0.0.22"]  # asked again
        assert query_a(cli, "w.c.test") == ["127.0.0.22"]
    # the server is gone: the cached answer still comes; a name never asked fails
    assert query_a(cli, "w.c.test") == ["127.0.0.22"]
    assert query_a(cli, "never.c.test").startswith("-ERR: Query failed: temporary failure"), "server still up?"
    cli.ok("EMPTYCACHE")
    assert query_a(cli, "w.c.test").startswith("-ERR: Query failed: temporary failure")
    # a failure is not kept: the server back, the same names resolve at once
    with dnsmasq(tmp_path, *zone(600, "--host-record=never.c.test,127.0.0.23"), port=port_of(ns)):
        assert query_a(cli, "never.c.test") == ["127.0.0.23"]


def test_short_ttl_expires_positive_and_negative(cli, tmp_path, reset_dnr):
    with dnsmasq(tmp_path, *zone(2, "--host-record=s.c.test,127.0.0.31")) as ns:
        use_servers(cli, ns)
        cli.ok("EMPTYCACHE")
        assert query_a(cli, "s.c.test") == ["127.0.0.31"]
        # NXDOMAIN, with the zone's SOA (TTL and MINIMUM 2): cached too
        assert query_a(cli, "n.c.test") == "-ERR: Query failed: NXDOMAIN (no such domain)"
        t0 = time.time()
    with dnsmasq(tmp_path, *zone(2, "--host-record=s.c.test,127.0.0.32", "--host-record=n.c.test,127.0.0.33"),
                 port=port_of(ns)):
        assert ask_a(ns, "n.c.test") == ["127.0.0.33"]
        if time.time() - t0 < 1.5:  # still within the TTL: both from the cache
            assert query_a(cli, "s.c.test") == ["127.0.0.31"]
            assert query_a(cli, "n.c.test") == "-ERR: Query failed: NXDOMAIN (no such domain)"
        time.sleep(max(0.0, t0 + 2.3 - time.time()))
        assert query_a(cli, "s.c.test") == ["127.0.0.32"]
        assert query_a(cli, "n.c.test") == ["127.0.0.33"]


def test_cachesize_zero_disables_and_shrinking_evicts(server, cli, c, tmp_path, reset_dnr):
    recs = ("--host-record=a.c.test,127.0.0.41", "--host-record=b.c.test,127.0.0.42")
    with dnsmasq(tmp_path, *zone(600, *recs)) as ns:
        use_servers(cli, ns)
        cli.ok("SET cacheSize 0")
        assert show_attrs(cli.cmd("SHOW"))["cacheSize"] == "0"
        r = cli.cmd("COMMIT")
        assert r.raw == f"+OK: {COMMITTED}\r\n<server#> ".encode()
        assert log_has(server, "COMMIT", "DnsCacheSize=0")
        cli.ok("CONFIG DNR")
        assert query_a(cli, "a.c.test") == ["127.0.0.41"]
    with dnsmasq(tmp_path, *zone(600, "--host-record=a.c.test,127.0.0.51", "--host-record=b.c.test,127.0.0.52"),
                 port=port_of(ns)):
        assert query_a(cli, "a.c.test") == ["127.0.0.51"]  # nothing was kept
        # a cache of 2: a then b cached; shrinking to 1 at COMMIT drops a (the older)
        cli.ok("SET cacheSize 2")
        cli.ok("COMMIT", "server")
        cli.ok("CONFIG DNR")
        assert query_a(cli, "a.c.test") == ["127.0.0.51"]
        assert query_a(cli, "b.c.test") == ["127.0.0.52"]
    with dnsmasq(tmp_path, *zone(600, "--host-record=a.c.test,127.0.0.61", "--host-record=b.c.test,127.0.0.62"),
                 port=port_of(ns)):
        assert query_a(cli, "a.c.test") == ["127.0.0.51"]  # both cached
        assert query_a(cli, "b.c.test") == ["127.0.0.52"]  # b is now the most recent
        cli.ok("SET cacheSize 1")
        cli.ok("COMMIT", "server")
        assert dict((line.split("\t")[0].strip('"'), line.split("\t")[1].strip('"'))
                    for line in c.listing("cfgfileget", "server.tab"))["DnsCacheSize"] == "1"
        cli.ok("CONFIG DNR")
        assert query_a(cli, "b.c.test") == ["127.0.0.52"]  # kept
        assert query_a(cli, "a.c.test") == ["127.0.0.61"]  # dropped at COMMIT: asked again


def test_bad_values_are_refused(cli, reset_dnr):
    dnr(cli)
    for bad in ("cacheSize -1", "cacheSize 100001", "cacheSize many"):
        r = cli.cmd(f"SET {bad}")
        assert r.status.startswith("-ERR: Invalid value for cacheSize"), r.status
    assert show_attrs(cli.cmd("SHOW"))["cacheSize"] == "1000"
    cli.ok("ADD Nameserver 1")
    cli.ok("SET address 127.0.0.1")
    for bad, what in (("timeout 0", "timeout"), ("timeout 61", "timeout"), ("timeout x", "timeout"),
                      ("retries 11", "retries"), ("retries -1", "retries")):
        r = cli.cmd(f"SET {bad}")
        assert r.status.startswith(f"-ERR: Invalid value for {what}"), r.status
    assert show_attrs(cli.cmd("SHOW")) == {"priority": "1", "address": '"127.0.0.1"', "timeout": "-",
                                           "retries": "-"}
    cli.ok("SET address 127.0.0.1;timeout=1")
    cli.err("DONE", "Invalid value for address (ip or ip:port)", "server-dnr-nameserver")
    cli.ok("BACK", "server-dnr")
    cli.ok("BACK", "server")


def silent_ns():
    """A UDP socket that receives queries and never answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    return s


def count_queries(s):
    n = 0
    while True:
        try:
            s.recvfrom(4096)
            n += 1
        except socket.timeout:
            return n


def test_per_server_timeout_and_retries(cli, c, tmp_path, reset_dnr):
    silent = silent_ns()
    try:
        dead = "127.0.0.1:%d" % silent.getsockname()[1]
        with dnsmasq(tmp_path, *zone(600, "--host-record=f.c.test,127.0.0.71",
                                     "--host-record=g.c.test,127.0.0.72")) as ns:
            dnr(cli)
            cli.ok("REMOVE All")
            cli.ok("SET timeout 5 retries 2")  # the resolver's: 5 s + 10 s + 20 s for the silent server
            cli.ok("ADD Nameserver 1")
            cli.ok(f"SET address {dead} timeout 1 retries 0")
            assert show_attrs(cli.cmd("SHOW")) == {"priority": "1", "address": f'"{dead}"',
                                                   "timeout": "1", "retries": "0"}
            cli.ok("DONE", "server-dnr")
            cli.ok("ADD Nameserver 2")
            cli.ok(f"SET address {ns}")
            cli.ok("DONE", "server-dnr")
            assert table_rows(cli.cmd("LIST Nameservers")) == [f"1 | {dead} | 1 | 0", f"2 | {ns} | - | -"]
            cli.ok("COMMIT", "server")
            tab = dict((line.split("\t")[0].strip('"'), line.split("\t")[1].strip('"'))
                       for line in c.listing("cfgfileget", "server.tab"))
            assert tab["DnsServers"] == f"{dead};timeout=1;retries=0,{ns}"
            cli.ok("CONFIG DNR")
            assert show_attrs(cli.cmd("SHOW Nameserver 1")) == {"priority": "1", "address": f'"{dead}"',
                                                                "timeout": "1", "retries": "0"}
            cli.ok("EMPTYCACHE")
            t0 = time.time()
            assert query_a(cli, "f.c.test") == ["127.0.0.71"]
            took = time.time() - t0
            assert 0.8 < took < 2.5, took
            assert count_queries(silent) == 1
            # retries 1: asked twice (1 s, then 2 s), then the next server
            cli.ok("UPDATE Nameserver 1")
            cli.ok("SET retries 1")
            cli.ok("DONE")
            assert table_rows(cli.cmd("LIST Nameservers"))[0] == f"1 | {dead} | 1 | 1"
            t0 = time.time()
            assert query_a(cli, "g.c.test") == ["127.0.0.72"]  # the pending list, through the resolver
            took = time.time() - t0
            assert 2.7 < took < 5, took
            assert count_queries(silent) == 2
            # "-" gives the entry back the resolver's values; the stored format stays the plain one
            cli.ok("UPDATE Nameserver 1")
            cli.ok("SET timeout - retries -")
            assert show_attrs(cli.cmd("SHOW"))["timeout"] == "-"
            cli.ok("DONE")
            assert table_rows(cli.cmd("LIST Nameservers")) == [f"1 | {dead} | - | -", f"2 | {ns} | - | -"]
            cli.ok("COMMIT", "server")
            tab = dict((line.split("\t")[0].strip('"'), line.split("\t")[1].strip('"'))
                       for line in c.listing("cfgfileget", "server.tab"))
            assert tab["DnsServers"] == f"{dead},{ns}"
    finally:
        silent.close()


def test_entries_stored_without_options_keep_working(cli, c, tmp_path, reset_dnr):
    """An entry written before per-server values existed (plain ip:port, as
    a controller or an older release stores it) lists as "-" and resolves."""
    with dnsmasq(tmp_path, *zone(600, "--host-record=o.c.test,127.0.0.81")) as ns:
        set_settings(c, DnsServers=f"{ns}")
        dnr(cli)
        assert table_rows(cli.cmd("LIST Nameservers")) == [f"1 | {ns} | - | -"]
        assert query_a(cli, "o.c.test") == ["127.0.0.81"]
        cli.ok("BACK", "server")


def test_concurrent_queries_and_flushes(server, cli, tmp_path, reset_dnr):
    """Several CLI sessions query at once while another empties the cache
    and resizes it: every answer is right, the daemon stays healthy."""
    names = [f"h{i}.c.test" for i in range(8)]
    recs = [f"--host-record={n},127.0.1.{i}" for i, n in enumerate(names)]
    with dnsmasq(tmp_path, *zone(600, *recs)) as ns:
        use_servers(cli, ns)
        errors = []

        def worker(k):
            try:
                cl = server.cli()
                dnr(cl)
                for j in range(24):
                    i = (j + k) % len(names)
                    got = query_a(cl, names[i])
                    if got != [f"127.0.1.{i}"]:
                        errors.append((names[i], got))
                cl.close()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for size in (3, 0, 1000, 5, 1000):
            cli.ok("EMPTYCACHE")
            cli.ok(f"SET cacheSize {size}")
            cli.ok("COMMIT", "server")
            cli.ok("CONFIG DNR")
        for t in threads:
            t.join(60)
        assert not errors, errors


# ---------------------------------------------------------------- outbound

def test_outbound_delivery_uses_the_cache(server, cli, c, tmp_path, reset_dnr):
    c.ok("domainadd", "cache-out.test")
    c.ok("useradd", "cache-out.test", "alice", "pw", "U")
    sink = SmtpSink(mode="accept")
    try:
        with dnsmasq(tmp_path, *zone(600, "--mx-host=far.c.test,mx.c.test,10",
                                     "--host-record=mx.c.test,127.0.0.1")) as ns:
            use_servers(cli, ns)
            cli.ok("EMPTYCACHE")
            set_settings(c, SmtpOutPort=sink.port, QueueRetrySchedule="1")
            send(server, "bob@far.c.test", "first")
            assert wait(lambda: len(sink.messages) == 1), "the first message was not delivered"
        # the DNS server is gone; the MX and its address come from the cache
        assert query_a(cli, "never.c.test").startswith("-ERR: Query failed"), "server still up?"
        send(server, "carol@far.c.test", "second")
        assert wait(lambda: len(sink.messages) == 2), "not routed after the DNS server stopped"
        assert [m[1] for m in sink.messages] == [["bob@far.c.test"], ["carol@far.c.test"]]
        # the CLI sees the answers outbound delivery cached; emptied, they are gone
        r = cli.cmd("QUERY MX far.c.test")
        assert simple_items(r) == ["10 mx.c.test"], r.raw
        cli.ok("EMPTYCACHE")
        assert cli.cmd("QUERY MX far.c.test").status.startswith("-ERR: Query failed")
    finally:
        sink.close()
        set_settings(c, QueueRetrySchedule="60,300,900,1800,3600")
        c.ok("domaindel", "cache-out.test")


def send(srv, rcpt, subject):
    with smtplib.SMTP("127.0.0.1", srv.submission_port, timeout=10) as s:
        s.starttls(context=tls_context())
        s.login("alice@cache-out.test", "pw")
        s.sendmail("alice@cache-out.test", [rcpt], f"Subject: {subject}\r\n\r\nbody\r\n")


def wait(pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline and not pred():
        time.sleep(0.1)
    return pred()
