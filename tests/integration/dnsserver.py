"""dnsmasq on loopback for tests: answers the *.test zone from the records
given (dnsmasq options such as --mx-host, --host-record, --txt-record,
--auth-zone), never forwards anything, skips the test when dnsmasq is not
installed or does not start."""

import os
import random
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest


def _free_port():
    """A port free for UDP and TCP on 127.0.0.1 (dnsmasq binds both), below
    the ephemeral range when there is room, so that no client connection
    takes it between our check and dnsmasq's bind, nor between a stop and a
    restart on the same port."""
    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    for _ in range(200):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            u.bind(("127.0.0.1", random.randrange(10000, low) if low > 11000 else 0))
            port = u.getsockname()[1]
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    pytest.skip("no free port for dnsmasq")


@contextmanager
def dnsmasq(tmp_path, *records, port=None):
    """Yields "127.0.0.1:port" of a dnsmasq serving records (on the port
    given, e.g. to serve other data at the same address, else a free one);
    stops it after."""
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not Path(exe).exists():
        pytest.skip("dnsmasq not installed")
    fixed = port is not None
    for attempt in range(3):
        if not fixed:
            port = _free_port()
        args = [exe, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll", "--conf-file=/dev/null",
                f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--local=/test/", *records,
                f"--pid-file={tmp_path}/dnsmasq.pid", "--log-facility=-"]
        if os.geteuid() == 0:
            args.append("--user=root")
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        if p.poll() is None:
            break
        time.sleep(0.3)  # e.g. the port was taken meanwhile: again (a new one unless fixed)
    else:
        pytest.skip("dnsmasq did not start")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        p.terminate()
        p.wait(10)
