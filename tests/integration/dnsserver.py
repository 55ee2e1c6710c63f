"""dnsmasq on loopback for tests: answers the *.test zone from the records
given (dnsmasq options such as --mx-host, --host-record, --txt-record,
--auth-zone), never forwards anything, skips the test when dnsmasq is not
installed or does not start."""

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def dnsmasq(tmp_path, *records):
    """Yields "127.0.0.1:port" of a dnsmasq serving records; stops it after."""
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not Path(exe).exists():
        pytest.skip("dnsmasq not installed")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    args = [exe, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll", "--conf-file=/dev/null",
            f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--local=/test/", *records,
            f"--pid-file={tmp_path}/dnsmasq.pid", "--log-facility=-"]
    if os.geteuid() == 0:
        args.append("--user=root")
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    if p.poll() is not None:
        pytest.skip("dnsmasq did not start")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        p.terminate()
        p.wait(10)
