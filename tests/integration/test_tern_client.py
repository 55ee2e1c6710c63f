"""The `tern ctrl` client against a real ternd: exit codes, listings,
uploads, TLS, scripts."""

import os
import subprocess
from pathlib import Path

import pytest

from conftest import ADMIN_PASS, REPO

TERN = Path(os.environ.get("TERN_CLIENT", REPO / "build" / "tern"))


def tern(server, *args, stdin=None, port=None, extra_env=None):
    env = dict(os.environ, TERN_HOST="127.0.0.1", TERN_PORT=str(port or server.port), TERN_USER="admin",
               TERN_PASS=ADMIN_PASS)
    env.update(extra_env or {})
    return subprocess.run([str(TERN), "ctrl", *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=30)


def test_commands_listing_and_exit_codes(server):
    r = tern(server, "domainadd", "client.test")
    assert r.returncode == 0, r.stderr
    assert tern(server, "useradd", "client.test", "ann", "pw", "U").returncode == 0
    r = tern(server, "userlist", "client.test")
    assert r.returncode == 0
    assert r.stdout == '"client.test"\t"ann"\t"********"\t"U"\n'
    r = tern(server, "--yes", "userdel", "client.test", "nobody")
    assert r.returncode == 1 and r.stderr.strip() == "-00012 User not found"
    r = tern(server, "noop", extra_env={"TERN_PASS": "wrong"})
    assert r.returncode == 2 and "login failed" in r.stderr
    r = tern(server, "noop", port=1)
    assert r.returncode == 2


def test_upload_with_dots_and_tls_modes(server):
    tern(server, "domainadd", "up.test")
    tern(server, "useradd", "up.test", "bo", "pw", "U")
    r = tern(server, "--yes", "usersetmproc", "up.test", "bo", stdin='"mailbox"\n# comment\n')
    assert r.returncode == 0, r.stderr
    r = tern(server, "--tls", "--ssl-allow-self-signed", "usergetmproc", "up.test", "bo")
    assert r.returncode == 0 and r.stdout == '"mailbox"\n# comment\n'
    r = tern(server, "--yes", "cfgfileset", "client-dots.txt", stdin="first\n.starts with dot\n..two dots\n")
    assert r.returncode == 0, r.stderr
    r = tern(server, "--ssl", "--ssl-allow-self-signed", "--clear", "cfgfileget", "client-dots.txt", port=server.tls_port)
    assert r.returncode == 0 and r.stdout == "first\n.starts with dot\n..two dots\n"
    r = tern(server, "--yes", "usersetmproc", "up.test", "bo", stdin="not a rule\n")
    assert r.returncode == 1 and "-00020" in r.stderr


def test_script_stops_at_first_error_unless_told(server, tmp_path):
    script = tmp_path / "batch.tsv"
    script.write_text('domainadd\t"batch.test"\nuseradd\tbatch.test\tu1\tpw\tU\nbogus\n'
                      'useradd\tbatch.test\tu2\tpw\tU\n')
    r = tern(server, "--script", str(script))
    assert r.returncode == 1 and ":3: command failed" in r.stderr
    assert tern(server, "userlist", "batch.test").stdout.count("\n") == 1
    script.write_text('bogus\nuseradd\tbatch.test\tu2\tpw\tU\n')
    r = tern(server, "--continue-on-error", "--script", str(script))
    assert r.returncode == 1
    assert tern(server, "userlist", "batch.test").stdout.count("\n") == 2
