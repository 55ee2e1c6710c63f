"""`tern ctrl`, the controller side of the tern client, end to end against a
real ternd: one command and scripts (--script, --stdin), the transcript and
the --json objects field by field, exit codes, the TERN_*/AXIGEN_*
fallbacks, TLS on the CTRLS port and through the #!TLS upgrade with real
certificate checks (the server's self-signed certificate, and a second
ternd serving an expired leaf of a CA made here with openssl), the guard on
commands that delete or overwrite, passwords never shown, a connection cut
in the middle of a script, and the man page.

The binary under test is $TERN_CLIENT, else build/tern."""

import json
import os
import re
import select
import shutil
import socket
import subprocess
import threading
import uuid

import pytest

from conftest import ADMIN_PASS, REPO, TernServer, _finish
# the CLI mode's helpers: the test CA and its certificates, the terminal driver
from test_tern_cli import ENV_NAMES, TERN, certs, jlines, pty_session  # noqa: F401

MAN = REPO / "docs" / "tern.1"
KEYS_SCRIPT = ["command", "line", "status", "code", "message", "data", "rows"]
KEYS_ONE = ["command", "status", "code", "message", "data", "rows"]


def run(*args, env=None, stdin=None, timeout=30):
    e = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    e.update(env or {})
    return subprocess.run([str(TERN), *args], input=stdin, capture_output=True, text=True, env=e,
                          timeout=timeout, stdin=None if stdin is not None else subprocess.DEVNULL)


def ctrl(server, *args, port=None, **kw):
    env = {"TERN_HOST": "127.0.0.1", "TERN_PORT": str(port or server.port), "TERN_USER": "admin",
           "TERN_PASS": ADMIN_PASS}
    env.update(kw.pop("env", None) or {})
    return run("ctrl", *args, env=env, **kw)


def uniq(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}.test"


def users(server, dom):
    r = ctrl(server, "userlist", dom)
    assert r.returncode == 0, r.stderr
    return sorted(line.split("\t")[1].strip('"') for line in r.stdout.splitlines())


# ---- one command ----

def test_one_command_plain_output_and_exit_codes(server):
    d = uniq("one")
    r = ctrl(server, "domainadd", d)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert ctrl(server, "useradd", d, "ann", "Ann-Pw1", "U").returncode == 0
    r = ctrl(server, "userlist", d)
    assert r.returncode == 0 and r.stdout == f'"{d}"\t"ann"\t"********"\t"U"\n'
    r = ctrl(server, "userauth", d, "ann", "wrong")
    assert r.returncode == 1 and r.stderr.strip() == "-00024 Invalid password" and r.stdout == ""
    r = ctrl(server, "bogus")
    assert r.returncode == 1 and r.stderr.startswith("-00103 ")
    assert ctrl(server, "userauth", d, "ann", "Ann-Pw1").returncode == 0


def test_one_command_json_field_by_field(server):
    d = uniq("js")
    r = ctrl(server, "--json", "domainadd", d)
    assert r.returncode == 0, r.stderr
    o = json.loads(r.stdout)
    assert o == {"command": f'"domainadd"\t"{d}"', "status": "ok", "code": "+00000", "message": "OK",
                 "data": [], "rows": None}
    assert list(o) == KEYS_ONE
    r = ctrl(server, "--json", "useradd", d, "bea", "Bea-Secret9", "U")
    o = json.loads(r.stdout)
    assert o["command"] == f'"useradd"\t"{d}"\t"bea"\t"***"\t"U"' and o["status"] == "ok"
    assert "Bea-Secret9" not in r.stdout + r.stderr
    ctrl(server, "useradd", d, "cid", "pw", "M")
    r = ctrl(server, "--json", "userlist", d)
    o = json.loads(r.stdout)
    assert o["code"] == "+00100" and o["message"] == "OK" and o["status"] == "ok"
    assert o["data"] == [f'"{d}"\t"bea"\t"********"\t"U"', f'"{d}"\t"cid"\t"********"\t"M"']
    assert o["rows"] == [[d, "bea", "********", "U"], [d, "cid", "********", "M"]]
    # an empty listing: rows is an empty list, not null
    o = json.loads(ctrl(server, "--json", "userlist", "nothing-here.test").stdout)
    assert o["code"] == "+00100" and o["data"] == [] and o["rows"] == []
    # an error answer
    r = ctrl(server, "--json", "userauth", d, "bea", "Not-It")
    assert r.returncode == 1
    o = json.loads(r.stdout)
    assert o == {"command": f'"userauth"\t"{d}"\t"bea"\t"***"', "status": "error", "code": "-00024",
                 "message": "Invalid password", "data": [], "rows": None}
    # a file listing has data but no rows
    r = ctrl(server, "--yes", "--json", "cfgfileset", f"{d}.txt", stdin='"a"\t"b"\n.dotted\n')
    assert r.returncode == 0, r.stderr
    o = json.loads(r.stdout)
    assert (o["code"], o["data"], o["rows"]) == ("+00000", [], None)
    o = json.loads(ctrl(server, "--json", "cfgfileget", f"{d}.txt").stdout)
    assert o["data"] == ['"a"\t"b"', ".dotted"] and o["rows"] is None


# ---- scripts ----

def test_script_transcript_and_json(server, tmp_path):
    d = uniq("sc")
    script = tmp_path / "batch.tsv"
    script.write_text(f"# provisioning\n\ndomainadd\t{d}\n"
                      f'"useradd"\t"{d}"\t"dan"\t"Dan-Pass7"\t"U"\n'
                      f"  # indented comment\nuserlist\t{d}\nnoop\n")
    r = ctrl(server, "--script", str(script))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"ctrl> domainadd\t{d}", "+00000 OK",
        f'ctrl> "useradd"\t"{d}"\t"dan"\t"***"\t"U"', "+00000 OK",
        f"ctrl> userlist\t{d}", "+00100 OK", f'"{d}"\t"dan"\t"********"\t"U"', ".",
        "ctrl> noop", "+00000 OK"]
    assert "Dan-Pass7" not in r.stdout + r.stderr
    r = ctrl(server, "--json", "--script", str(script))
    assert r.returncode == 1  # the domain exists by now
    objs = jlines(r.stdout)
    assert len(objs) == 1 and list(objs[0]) == KEYS_SCRIPT
    assert objs[0] == {"command": f"domainadd\t{d}", "line": 3, "status": "error", "code": "-00231",
                       "message": objs[0]["message"], "data": [], "rows": None}
    assert f"{script}:3: command failed: -00231" in r.stderr
    r = ctrl(server, "--json", "--continue-on-error", "--script", str(script))
    objs = jlines(r.stdout)
    assert [(o["line"], o["status"], o["code"]) for o in objs] == [
        (3, "error", "-00231"), (4, "error", "-00013"), (6, "ok", "+00100"), (7, "ok", "+00000")]
    assert objs[2]["rows"] == [[d, "dan", "********", "U"]]
    assert r.returncode == 1


def test_bad_line_in_the_middle(server, tmp_path):
    d = uniq("mid")
    script = tmp_path / "mid.tsv"
    script.write_text(f"domainadd\t{d}\nuseradd\t{d}\tu1\tpw\tU\nbogus\tline\n"
                      f"useradd\t{d}\tu2\tpw\tU\n")
    r = ctrl(server, "--json", "--script", str(script))
    assert r.returncode == 1
    objs = jlines(r.stdout)
    assert [o["status"] for o in objs] == ["ok", "ok", "error"]
    assert objs[2]["line"] == 3 and objs[2]["code"] == "-00103" and objs[2]["command"] == "bogus\tline"
    assert f"{script}:3: command failed" in r.stderr
    assert users(server, d) == ["u1"]
    script.write_text(f"useradd\t{d}\tu3\tpw\tU\nbogus\nuseradd\t{d}\tu2\tpw\tU\n")
    r = ctrl(server, "--continue-on-error", "--script", str(script))
    assert r.returncode == 1
    assert "ctrl> bogus\n-00103 " in r.stdout and f"ctrl> useradd\t{d}\tu2" in r.stdout
    assert users(server, d) == ["u1", "u2", "u3"]


def test_stdin_and_quit(server):
    d = uniq("in")
    r = ctrl(server, "--stdin", stdin=f"domainadd\t{d}\ndomainlist\t{d}\nquit\nnoop\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"ctrl> domainadd\t{d}", "+00000 OK", f"ctrl> domainlist\t{d}",
                                     "+00100 OK", f'"{d}"', ".", "ctrl> quit", "+00000 OK"]
    assert "stdin:3: quit; the lines after it were not run" in r.stderr
    r = ctrl(server, "--json", "--stdin", stdin="noop\nnope\n")
    assert r.returncode == 1
    assert [(o["line"], o["status"]) for o in jlines(r.stdout)] == [(1, "ok"), (2, "error")]
    assert "stdin:2: command failed" in r.stderr


# ---- connection, login, options ----

def test_connection_and_login_failures_exit_2(server):
    r = ctrl(server, "noop", env={"TERN_PASS": "Wrong-Pass5"})
    assert r.returncode == 2 and "login failed: -00105" in r.stderr
    assert "Wrong-Pass5" not in r.stdout + r.stderr
    r = ctrl(server, "--clear", "noop")
    assert r.returncode == 0, r.stderr
    r = ctrl(server, "--clear", "noop", env={"TERN_PASS": "Wrong-Pass5"})
    assert r.returncode == 2 and "Wrong-Pass5" not in r.stdout + r.stderr
    r = ctrl(server, "noop", port=1)
    assert r.returncode == 2 and "cannot connect" in r.stderr
    r = ctrl(server, "noop", env={"TERN_PASS": ""})
    assert r.returncode == 2 and "no password" in r.stderr  # no terminal to ask on
    assert run("ctrl", "--bogus").returncode == 2
    assert run("ctrl").returncode == 2
    assert run("ctrl", "--script", "x", "noop").returncode == 2
    assert run("ctrl", "--ssl", "--tls", "noop").returncode == 2
    r = ctrl(server, "--script", "/nonexistent/batch.tsv")
    assert r.returncode == 2 and "nonexistent" in r.stderr
    # the CLI port is not a controller
    r = ctrl(server, "noop", port=server.cli_port)
    assert r.returncode == 2 and "greeting" in r.stderr


def test_options_and_env_fallbacks(server):
    base = {"AXIGEN_HOST": "127.0.0.1", "AXIGEN_PORT": str(server.port), "AXIGEN_USER": "admin",
            "AXIGEN_PASS": ADMIN_PASS}
    assert run("ctrl", "noop", env=base).returncode == 0
    # TERN_* wins over AXIGEN_*, options win over both
    assert run("ctrl", "noop", env=dict(base, TERN_PORT="1")).returncode == 2
    assert run("ctrl", "--port", str(server.port), "noop", env=dict(base, TERN_PORT="1")).returncode == 0
    assert run("ctrl", "noop", env=dict(base, TERN_PASS="wrong")).returncode == 2
    assert run("ctrl", "--pass", ADMIN_PASS, "noop", env=dict(base, TERN_PASS="wrong")).returncode == 0
    assert run("ctrl", "noop", env=dict(base, TERN_USER="nobody")).returncode == 2
    assert run("ctrl", "--user", "admin", "noop", env=dict(base, TERN_USER="nobody")).returncode == 0
    assert run("ctrl", "--host", "localhost", "noop", env=base).returncode == 0
    assert run("ctrl", "noop", env=dict(base, TERN_HOST="127.0.0.2")).returncode == 2
    r = run("ctrl", "--host", "127.0.0.1", "--port", str(server.port), "--user", "admin", "--pass", ADMIN_PASS,
            "noop")
    assert r.returncode == 0
    # an argument that looks like an option after the command is an argument
    r = run("ctrl", "domainlist", "--json", env=base)
    assert r.returncode == 0 and r.stdout == ""


# ---- TLS ----

def tls_cases(server):
    """(options, port) for the implicit-TLS port and the #!TLS upgrade."""
    return [(["--ssl"], server.tls_port), (["--tls"], server.port)]


def test_tls_with_the_servers_self_signed_certificate(server):
    crt = str(server.root / "tls" / "server.crt")
    for mode, port in tls_cases(server):
        r = ctrl(server, *mode, "noop", port=port)
        assert r.returncode == 2 and "self-signed" in r.stderr, (mode, r.stderr)
        r = ctrl(server, *mode, "--ssl-allow-expired", "noop", port=port)
        assert r.returncode == 2 and "self-signed" in r.stderr
        r = ctrl(server, *mode, "--ssl-allow-self-signed", "--json", "domainlist", port=port)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["code"] == "+00100"
        assert ctrl(server, *mode, "--ca", crt, "noop", port=port).returncode == 0
        assert ctrl(server, *mode, "--ca", crt, "--host", "localhost", "noop", port=port).returncode == 0
        # the name is checked: the certificate does not name 127.0.0.2
        r = ctrl(server, *mode, "--ssl-allow-self-signed", "--host", "127.0.0.2", "noop", port=port)
        assert r.returncode == 2
        r = ctrl(server, *mode, "--ca", crt, "--host", "127.0.0.2", "noop", port=port)
        assert r.returncode == 2
    # MD5 and clear-text logins inside both kinds of TLS
    assert ctrl(server, "--tls", "--clear", "--ca", crt, "noop").returncode == 0
    assert ctrl(server, "--ssl", "--clear", "--ca", crt, "noop", port=server.tls_port).returncode == 0
    # the seed helper's variables
    axi = {"AXIGEN_HOST": "127.0.0.1", "AXIGEN_PORT": str(server.tls_port), "AXIGEN_PASS": ADMIN_PASS,
           "AXIGEN_SSL": "true"}
    assert run("ctrl", "noop", env=axi).returncode == 2
    assert run("ctrl", "noop", env=dict(axi, AXIGEN_SSL_ALLOW_EXPIRED="1")).returncode == 2
    assert run("ctrl", "noop", env=dict(axi, AXIGEN_SSL_ALLOW_SELF_SIGNED="yes")).returncode == 0
    assert run("ctrl", "--tls", "--port", str(server.port), "noop",
               env={**axi, "AXIGEN_SSL": "0", "AXIGEN_SSL_ALLOW_SELF_SIGNED": "on"}).returncode == 0
    # --tls given wins over AXIGEN_SSL; --tls and --ssl given together are a usage error
    assert ctrl(server, "--tls", "--ssl-allow-self-signed", "noop", env={"AXIGEN_SSL": "1"}).returncode == 0
    r = ctrl(server, "--tls", "--ssl", "noop")
    assert r.returncode == 2 and "exclude each other" in r.stderr
    # TLS against the plain port fails cleanly
    assert ctrl(server, "--ssl", "--ssl-allow-self-signed", "noop").returncode == 2


@pytest.fixture(scope="module")
def expired_server(tmp_path_factory, certs):  # noqa: F811
    """A second ternd whose certificate is an expired leaf of the test CA."""
    srv = TernServer(tmp_path_factory.mktemp("ternexpired"))
    (srv.root / "tls").mkdir(parents=True)
    shutil.copy(certs / "expired.pem", srv.root / "tls" / "server.crt")
    shutil.copy(certs / "leaf.key", srv.root / "tls" / "server.key")
    os.chmod(srv.root / "tls" / "server.key", 0o600)
    srv.start()
    try:
        yield srv
    finally:
        _finish(srv)


def test_expired_certificate_is_not_self_signed(expired_server, certs):  # noqa: F811
    srv = expired_server
    ca = ("--ca", str(certs / "ca.pem"))
    for mode, port in tls_cases(srv):
        r = ctrl(srv, *mode, *ca, "noop", port=port)
        assert r.returncode == 2 and "expired" in r.stderr, (mode, r.stderr)
        r = ctrl(srv, *mode, *ca, "--ssl-allow-self-signed", "noop", port=port)
        assert r.returncode == 2 and "expired" in r.stderr
        r = ctrl(srv, *mode, *ca, "--ssl-allow-expired", "--json", "domainlist", port=port)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["status"] == "ok"
        r = ctrl(srv, *mode, *ca, "noop", port=port, env={"AXIGEN_SSL_ALLOW_EXPIRED": "true"})
        assert r.returncode == 0, r.stderr
        # an unknown issuer stays refused whatever is allowed
        r = ctrl(srv, *mode, "--ssl-allow-expired", "--ssl-allow-self-signed", "noop", port=port)
        assert r.returncode == 2 and "issuer" in r.stderr
        # and so does a wrong name
        r = ctrl(srv, *mode, *ca, "--ssl-allow-expired", "--host", "127.0.0.2", "noop", port=port)
        assert r.returncode == 2


# ---- the guard on commands that delete or overwrite ----

def test_guarded_commands_need_yes_in_scripts(server, tmp_path):
    d = uniq("del")
    assert ctrl(server, "domainadd", d).returncode == 0
    for u in ("eve", "fay"):
        assert ctrl(server, "useradd", d, u, "pw", "U").returncode == 0
    script = tmp_path / "rm.tsv"
    script.write_text(f"userlist\t{d}\nuserdel\t{d}\teve\n# keep fay\naliasadd\t{d}\tx\tfay\n"
                      f"uservarsset\t{d}\tfay\tRealName\t.|rm\n")
    r = ctrl(server, "--script", str(script))
    assert r.returncode == 1 and r.stdout == ""  # nothing ran, not even line 1
    assert f"{script}:2: userdel:" in r.stderr and f"{script}:5: uservarsset:" in r.stderr
    assert ":4:" not in r.stderr and "--yes" in r.stderr
    r = ctrl(server, "--json", "--stdin", stdin=script.read_text())
    assert r.returncode == 1 and r.stdout == "" and "stdin:2: userdel" in r.stderr
    assert users(server, d) == ["eve", "fay"]
    r = ctrl(server, "--yes", "--json", "--script", str(script))
    assert r.returncode == 0, r.stderr
    assert [o["line"] for o in jlines(r.stdout)] == [1, 2, 4, 5]
    assert users(server, d) == ["fay"]
    # an upload cannot come from a script: the line fails, the rest runs with --continue-on-error
    script.write_text(f"cfgfileset\tx.txt\nuserlist\t{d}\n")
    r = ctrl(server, "--yes", "--json", "--continue-on-error", "--script", str(script))
    objs = jlines(r.stdout)
    assert r.returncode == 1 and objs[0]["status"] == "error" and objs[0]["code"] is None
    assert "uploads cannot run from a script" in objs[0]["message"] and objs[1]["status"] == "ok"


def test_guarded_command_line_without_a_terminal(server):
    d = uniq("gd")
    ctrl(server, "domainadd", d)
    ctrl(server, "useradd", d, "gil", "pw", "U")
    r = ctrl(server, "userdel", d, "gil")
    assert r.returncode == 1 and "--yes" in r.stderr
    r = ctrl(server, "--json", "userdel", d, "gil")
    assert r.returncode == 1
    assert json.loads(r.stdout) == {"command": f'"userdel"\t"{d}"\t"gil"', "status": "error", "code": None,
                                    "message": "refused: this command deletes or overwrites (use --yes)",
                                    "data": [], "rows": None}
    assert users(server, d) == ["gil"]
    # an upload overwrites: refused without --yes, and the file is not touched
    assert ctrl(server, "--yes", "cfgfileset", "guard.txt", stdin="one\n").returncode == 0
    r = ctrl(server, "cfgfileset", "guard.txt", stdin="")
    assert r.returncode == 1
    assert ctrl(server, "cfgfileget", "guard.txt").stdout == "one\n"
    r = ctrl(server, "--yes", "userdel", d, "gil")
    assert r.returncode == 0 and users(server, d) == []
    r = ctrl(server, "--yes", "domaindel", d)
    assert r.returncode == 0


def test_terminal_asks_before_deleting_and_for_the_password(server):
    d = uniq("tty")
    ctrl(server, "domainadd", d)
    ctrl(server, "useradd", d, "hal", "pw", "U")
    base = ["ctrl", "--port", str(server.port)]
    out, rc = pty_session(server, base + ["--pass", ADMIN_PASS, "userdel", d, "hal"],
                          [("Run it? [y/N] ", "n")])
    assert rc == 1 and "deletes or overwrites" in out
    assert users(server, d) == ["hal"]
    out, rc = pty_session(server, base + ["userdel", d, "hal"],
                          [("Password for admin@127.0.0.1: ", ADMIN_PASS), ("Run it? [y/N] ", "y")])
    assert rc == 0, out
    assert ADMIN_PASS not in out
    assert users(server, d) == []


def test_check_ctrl_script_offline(server, tmp_path):
    """tern check --ctrl reports what the server would refuse, with the
    same table; a clean script runs clean against the server."""
    bad = tmp_path / "bad.tsv"
    bad.write_text("domainadd\tchk.test\nuserdel\tchk.test\n# comment\nbogus\ncfgfileset\ta.txt\n"
                   "userdel\tchk.test\tu\netrn\t*\nquit\nnoop\n")
    r = run("check", "--ctrl", "--json", str(bad))
    assert r.returncode == 2
    rep = json.loads(r.stdout)
    assert list(rep) == ["file", "commands", "errors", "warnings", "result", "issues"]
    assert rep["commands"] == 8 and rep["result"] == "errors"
    got = [(i["line"], i["level"], i["code"]) for i in rep["issues"]]
    assert got == [(2, "error", "missing-argument"), (2, "warning", "destructive"), (4, "error", "unknown-command"),
                   (5, "error", "upload"), (5, "warning", "destructive"), (6, "warning", "destructive"),
                   (9, "warning", "after-quit")]
    t = run("check", "--ctrl", str(bad))
    assert t.returncode == 2 and f"{bad}:4: error: unknown controller command" in t.stdout
    # every line check calls an error, the server refuses
    r = ctrl(server, "--yes", "--json", "--continue-on-error", "--script", str(bad))
    by_line = {o["line"]: o for o in jlines(r.stdout)}
    for line in (2, 4, 5):
        assert by_line[line]["status"] == "error", by_line[line]
    assert by_line[7]["status"] == "ok"  # etrn: a valid pattern is always accepted
    d = uniq("ok")
    good = tmp_path / "good.tsv"
    good.write_text(f"domainadd\t{d}\nuseradd\t{d}\tann\tpw\tU\naliasadd\t{d}\tanna\tann\n"
                    f"userlist\t{d}\nquit\n")
    r = run("check", "--ctrl", str(good))
    assert r.returncode == 0 and r.stdout == f"{good}: 5 commands, 0 errors, 0 warnings\n"
    assert ctrl(server, "--script", str(good)).returncode == 0
    assert run("check", "--ctrl").returncode == 2


def test_interactive_session_on_a_terminal(server):
    d = uniq("ses")
    out, rc = pty_session(server, ["ctrl", "--port", str(server.port), "--pass", ADMIN_PASS], [
        ("ctrl> ", f"domainadd {d}"),
        ("+00000 OK", f'useradd {d} ann "a secret" U'),
        ("+00000 OK", f"userlist {d}"),
        ('"ann"', "bogus"),
        ("-00103", f"userdel {d} ann"),
        ("Run it? [y/N] ", "n"),
        ("refused", f"userauth\t{d}\tann\ta secret"),
        ("+00000 OK", "quit"),
    ])
    assert rc == 1, out  # a command failed (bogus) and one was refused
    assert "+00100 OK" in out and f'"{d}"\t"ann"\t"********"\t"U"' in out
    assert users(server, d) == ["ann"]
    assert ctrl(server, "userauth", d, "ann", "a secret").returncode == 0


# ---- passwords ----

def test_passwords_never_shown(server, tmp_path):
    d = uniq("pw")
    secrets = ["Ivy-Secret-1", "Ivy-Secret-2", "Ivy-Secret-3", "Remote-Secret-4"]
    script = tmp_path / "pw.tsv"
    script.write_text(f"domainadd\t{d}\nuseradd\t{d}\tivy\t{secrets[0]}\tU\n"
                      f"userpasswd\t{d}\tivy\t\"{secrets[1]}\"\nuserauth\t{d}\tivy\t{secrets[2]}\n"
                      f"poplnkadd\t{d}\tivy\tpop.remote.test\trem\t{secrets[3]}\tCLR\n")
    for extra in ([], ["--json"]):
        r = ctrl(server, "--continue-on-error", *extra, "--script", str(script))
        assert r.returncode == 1  # userauth fails (wrong password) and so does the second domainadd
        for s in secrets:
            assert s not in r.stdout + r.stderr, (extra, s)
    r = ctrl(server, "--json", "--script", str(script), "--continue-on-error")
    shown = [o["command"] for o in jlines(r.stdout)]
    assert shown[1] == f"useradd\t{d}\tivy\t***\tU"
    assert shown[2] == f'userpasswd\t{d}\tivy\t"***"'
    assert shown[4] == f"poplnkadd\t{d}\tivy\tpop.remote.test\trem\t***\tCLR"
    assert ctrl(server, "userauth", d, "ivy", secrets[1]).returncode == 0
    r = ctrl(server, "--json", "poplnklist", d)
    rows = json.loads(r.stdout)["rows"]
    assert len(rows) == 1 and rows[0][:4] == [d, "ivy", "pop.remote.test", "rem"]
    assert secrets[3] not in r.stdout
    for s in secrets:
        assert s not in server.log


# ---- a connection cut in the middle of a script ----

class CutProxy:
    """Forwards one connection to ternd and cuts it when the client has
    sent `cut_at` lines (the login line is line 1)."""

    def __init__(self, port, cut_at, reply_bytes=None):
        """With reply_bytes, line `cut_at` reaches the server and only the
        first reply_bytes bytes of its answer come back."""
        self.target, self.cut_at, self.reply_bytes = port, cut_at, reply_bytes
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        a, _ = self.sock.accept()
        b = socket.create_connection(("127.0.0.1", self.target))
        lines = 0
        try:
            while True:
                r, _, _ = select.select([a, b], [], [], 20)
                if not r:
                    return
                if b in r:
                    data = b.recv(65536)
                    if not data:
                        return
                    a.sendall(data)
                if a in r:
                    data = a.recv(65536)
                    if not data:
                        return
                    for i, ch in enumerate(data):
                        if ch == 10:
                            lines += 1
                            if lines == self.cut_at and self.reply_bytes is not None:
                                b.sendall(data[:i + 1])
                                self.partial_answer(a, b)
                                return
                            if lines == self.cut_at:
                                b.sendall(data[:i])  # the line never completes
                                return
                    b.sendall(data)
        finally:
            a.close()
            b.close()

    def partial_answer(self, a, b):
        got = b""
        b.settimeout(10)
        while len(got) < self.reply_bytes:
            chunk = b.recv(65536)
            if not chunk:
                break
            got += chunk
        a.sendall(got[:self.reply_bytes])

    def close(self):
        self.sock.close()
        self.t.join(10)


def test_connection_cut_mid_script_exits_2(server, tmp_path):
    d = uniq("cut")
    script = tmp_path / "cut.tsv"
    script.write_text(f"domainadd\t{d}\nuseradd\t{d}\tjo\tpw\tU\nuseradd\t{d}\tkim\tpw\tU\n"
                      f"useradd\t{d}\tlee\tpw\tU\n")
    # login = line 1, script lines 1..2 pass, script line 3 is cut
    proxy = CutProxy(server.port, 4)
    try:
        r = ctrl(server, "--json", "--continue-on-error", "--script", str(script), port=proxy.port)
    finally:
        proxy.close()
    assert r.returncode == 2
    objs = jlines(r.stdout)
    assert [(o["line"], o["status"], o["code"]) for o in objs] == [(1, "ok", "+00000"), (2, "ok", "+00000"),
                                                                  (3, "error", None)]
    assert objs[2]["message"] == "connection closed"
    assert f"{script}:3: connection closed; the later lines were not run" in r.stderr
    assert users(server, d) == ["jo"]
    # the transcript says so too
    proxy = CutProxy(server.port, 2)
    try:
        r = ctrl(server, "--script", str(script), port=proxy.port)
    finally:
        proxy.close()
    assert r.returncode == 2 and r.stdout == f"ctrl> domainadd\t{d}\n(connection closed)\n"
    # cut in the middle of a listing: nothing of the partial answer is reported as data
    script.write_text(f"noop\nuserlist\t{d}\nnoop\n")
    proxy = CutProxy(server.port, 3, reply_bytes=len("+00100 OK\r\n") + 5)
    try:
        r = ctrl(server, "--json", "--script", str(script), port=proxy.port)
    finally:
        proxy.close()
    assert r.returncode == 2
    objs = jlines(r.stdout)
    assert len(objs) == 2 and objs[0]["status"] == "ok"
    assert objs[1] == {"command": f"userlist\t{d}", "line": 2, "status": "error", "code": None,
                       "message": "connection closed", "data": [], "rows": None}


# ---- help and the man page ----

def options_of(text):
    return set(re.findall(r"--[a-z][a-z-]*[a-z]", text))


def test_help_mentions_every_option():
    top = run("--help")
    sub = run("ctrl", "--help")
    assert top.returncode == 0 and sub.returncode == 0
    ctrl_opts = {"--host", "--port", "--user", "--pass", "--ssl", "--tls", "--ssl-allow-self-signed",
                 "--ssl-allow-expired", "--ca", "--clear", "--script", "--stdin", "--json", "--continue-on-error",
                 "--yes", "--help"}
    assert ctrl_opts - {"--help"} <= options_of(sub.stdout)
    assert "tern ctrl" in top.stdout and {"--tls", "--clear"} <= options_of(top.stdout)
    for cmd in ("userdel", "domaindel", "cfgfileset", "frozdel"):
        assert cmd in sub.stdout


def man_text():
    """The page as plain text: long lines, no hyphenation, no overstrike."""
    return subprocess.run(["groff", "-man", "-Tascii", "-rLL=300n", "-rHY=0", "-P-c", "-P-b", "-P-u", "-ww",
                           str(MAN)], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff (Debian groff-base) is not installed")
def test_man_page_renders_without_warnings():
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(MAN)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    if shutil.which("man"):
        r = subprocess.run(["man", "--warnings", "-l", str(MAN)], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert "TERN(1)" in r.stdout


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff (Debian groff-base) is not installed")
def test_man_page_documents_every_option_mode_and_variable():
    page = man_text()
    assert page.returncode == 0
    assert page.stderr == "", page.stderr
    text = re.sub(r"\s+", " ", page.stdout)
    documented = options_of(text)
    for args in (["--help"], ["ctrl", "--help"]):
        printed = options_of(run(*args).stdout)
        assert printed and printed <= documented, (args, printed - documented)
    for word in ("tern ctrl", "tern check", "tern reference", "--get-version", "--version", "--markdown",
                 "TERN_HOST", "TERN_PORT", "TERN_USER", "TERN_PASS", "AXIGEN_HOST", "AXIGEN_PORT", "AXIGEN_USER",
                 "AXIGEN_PASS", "AXIGEN_SSL", "AXIGEN_SSL_ALLOW_SELF_SIGNED", "AXIGEN_SSL_ALLOW_EXPIRED",
                 "EXIT STATUS", "context_before", "context_after", "rows", "code", "#!TLS", "EXAMPLES"):
        assert word in text, word
    for cmd in ("userdel", "domaindel", "aliasdel", "aliasdomaindel", "exaliasdel", "mluserdel", "poplnkdel",
                "frozdel", "cfgfileset", "custdomset", "usersetmproc"):
        assert cmd in text, cmd
