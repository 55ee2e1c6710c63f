"""Core rows of the CLI closed in the resolver and domain contexts, each
enforced by the daemon:

- DNR: SHOW, SET timeout / retries (the DnsTimeout / DnsRetries settings,
  used by the resolver of outbound delivery and QUERY: a silent nameserver
  proves how often and how long it is asked), SET cacheSize (only 0: no
  cache), QUERY NS / TXT / PTR through c-ares against a dnsmasq on
  loopback;
- domain SET services: a domain without pop3 refuses the POP3 logins of its
  accounts, without smtpIn refuses RCPT for its addresses, without smtpOut
  refuses MAIL FROM of its authenticated users; imap/webmail are refused;
- group SET enable (a disabled group receives nothing: RCPT refused) and
  mailing list SET services (without smtpIn the list receives nothing);
- accountDefaultQuotas answers mboxCount, totalMessageCount, messageCount
  and messageSize with the same -ERR as the account's Quotas."""

import os
import poplib
import shutil
import smtplib
import socket
import subprocess
import time
from pathlib import Path

import pytest

from cliclient import show_attrs, simple_items

COMMITTED = "committing changes and switching back to previous context"


def log_has(server, *parts):
    return any(all(p in line for p in parts) for line in server.log.splitlines())


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@pytest.fixture
def dns(tmp_path):
    """dnsmasq on loopback, authoritative for z.test and 127.0.0.0/24 (NS
    records in auth mode, TXT records, PTR from the host records)."""
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not Path(exe).exists():
        pytest.skip("dnsmasq not installed")
    port = free_udp_port()
    args = [exe, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll", "--conf-file=/dev/null",
            f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--local=/test/",
            "--auth-zone=z.test,127.0.0.0/24", "--auth-server=ns1.z.test,127.0.0.1", "--auth-sec-servers=ns2.elsewhere.test",
            "--txt-record=t.z.test,v=spf1 -all", '--txt-record=t2.z.test,first,quo"te',
            "--host-record=host9.z.test,127.0.0.9",
            f"--pid-file={tmp_path}/dnsmasq.pid", "--log-facility=-"]
    if os.geteuid() == 0:
        args.append("--user=root")
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    if p.poll() is not None:
        pytest.skip("dnsmasq did not start")
    yield f"127.0.0.1:{port}"
    p.terminate()
    p.wait(10)


def dnr(cli):
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG DNR", "server-dnr")


def test_dnr_show_and_settings_are_stored(server, cli, c):
    dnr(cli)
    a = show_attrs(cli.cmd("SHOW"))
    assert a == {"timeout": "3", "retries": "1", "cacheSize": "0"}
    assert cli.cmd("SHOW ATTR retries").raw == b"retries = 1\r\n+OK: command successful\r\n<server-dnr#> "
    # bad values lose nothing
    cli.err("SET timeout 0", None, "server-dnr")
    cli.err("SET timeout 61", None, "server-dnr")
    cli.err("SET retries -1", None, "server-dnr")
    cli.err("SET retries x", None, "server-dnr")
    r = cli.cmd("SET cacheSize 100")
    assert r.status.startswith("-ERR") and "no cache" in r.status, r.status
    cli.ok("SET cacheSize 0")
    assert show_attrs(cli.cmd("SHOW")) == {"timeout": "3", "retries": "1", "cacheSize": "0"}
    cli.ok("SET timeout 7 retries 4")
    assert show_attrs(cli.cmd("SHOW")) == {"timeout": "7", "retries": "4", "cacheSize": "0"}
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<server#> ".encode()
    assert log_has(server, "COMMIT", "DnsTimeout=7", "DnsRetries=4")
    cli.ok("CONFIG DNR", "server-dnr")
    assert show_attrs(cli.cmd("SHOW")) == {"timeout": "7", "retries": "4", "cacheSize": "0"}
    cli.ok("SET timeout 3 retries 1")
    cli.ok("COMMIT", "server")
    # durable: a restart keeps them
    server.restart()
    cl2 = server.cli()
    dnr(cl2)
    assert show_attrs(cl2.cmd("SHOW")) == {"timeout": "3", "retries": "1", "cacheSize": "0"}
    cl2.close()


def silent_ns():
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


def test_dnr_timeout_and_retries_are_the_resolvers(server, cli):
    """A nameserver that never answers: the query is sent 1 + retries times
    and fails after the timeouts, with the stored values (the resolver of
    outbound delivery takes them from the same place) and with pending ones."""
    ns = silent_ns()
    try:
        addr = "127.0.0.1:%d" % ns.getsockname()[1]
        dnr(cli)
        cli.ok("REMOVE All")
        cli.ok("ADD Nameserver 1")
        cli.ok(f"SET address {addr}")
        cli.ok("DONE", "server-dnr")
        cli.ok("SET timeout 1 retries 0")
        cli.ok("COMMIT", "server")
        cli.ok("CONFIG DNR", "server-dnr")
        t0 = time.time()
        r = cli.cmd("QUERY MX a.silent.test")
        took = time.time() - t0
        assert r.status == "-ERR: Query failed: temporary failure (timeout or SERVFAIL)", r.status
        assert 0.8 < took < 2.5, took
        assert count_queries(ns) == 1
        # pending retries 1: asked twice, 1 s then 2 s
        cli.ok("SET retries 1")
        t0 = time.time()
        r = cli.cmd("QUERY MX silent.test")
        took = time.time() - t0
        assert r.status.startswith("-ERR: Query failed"), r.status
        assert count_queries(ns) == 2
        assert 2.5 < took < 5, took
        cli.ok("BACK", "server")
        cli.ok("CONFIG DNR")
        cli.ok("REMOVE All")
        cli.ok("SET timeout 3 retries 1")
        cli.ok("COMMIT", "server")
    finally:
        ns.close()


def test_dnr_query_ns_txt_ptr(cli, dns):
    dnr(cli)
    cli.ok("REMOVE All")
    cli.ok("ADD Nameserver 1")
    cli.ok(f"SET address {dns}")
    cli.ok("DONE", "server-dnr")
    r = cli.cmd("QUERY NS z.test")
    assert r.pieces[1] == "The NS records for z.test:", r.raw
    assert sorted(simple_items(r)) == ["ns1.z.test", "ns2.elsewhere.test"], r.raw
    r = cli.cmd("QUERY TXT t.z.test")
    assert r.raw == (b"\r\nThe TXT records for t.z.test:\r\n\"v=spf1 -all\"\r\n\r\n"
                     b"+OK: command successful\r\n<server-dnr#> "), r.raw
    assert simple_items(cli.cmd("QUERY TXT t2.z.test")) == ['"first" "quo\\"te"']
    r = cli.cmd("QUERY PTR 127.0.0.9")
    assert r.raw == (b"\r\nThe PTR records for 127.0.0.9:\r\nhost9.z.test\r\n\r\n"
                     b"+OK: command successful\r\n<server-dnr#> "), r.raw
    # no such record: success with zero items; no such name: -ERR
    assert simple_items(cli.cmd("QUERY TXT host9.z.test")) == []
    r = cli.cmd("QUERY PTR 127.0.0.77")
    assert r.status.startswith("-ERR: Query failed") or simple_items(r) == [], r.raw
    cli.err("QUERY PTR 300.1.1.1", "Invalid value for ip.address (an IPv4 or IPv6 address)", "server-dnr")
    cli.err("QUERY NS bad..name", "Invalid value for name (not a valid domain name)", "server-dnr")
    cli.err("QUERY SRV z.test", None, "server-dnr")
    cli.ok("BACK", "server")
