"""The `tern` client's CLI mode, `tern check` and `tern reference`, end to
end against a real ternd (and, for the expired-certificate case, a tiny
TLS server on loopback presenting a certificate made here with openssl).

The binary under test is $TERN_CLIENT, else build/tern."""

import json
import os
import socket
import ssl
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from conftest import ADMIN_PASS, REPO

TERN = Path(os.environ.get("TERN_CLIENT", REPO / "build" / "tern"))
CORPUS = REPO / "tests" / "check_corpus"
ENV_NAMES = ("TERN_HOST", "TERN_PORT", "TERN_USER", "TERN_PASS", "AXIGEN_HOST", "AXIGEN_PORT", "AXIGEN_USER",
             "AXIGEN_PASS", "AXIGEN_SSL", "AXIGEN_SSL_ALLOW_SELF_SIGNED", "AXIGEN_SSL_ALLOW_EXPIRED")


def run(*args, env=None, stdin=None, timeout=30):
    e = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    e.update(env or {})
    return subprocess.run([str(TERN), *args], input=stdin, capture_output=True, text=True, env=e,
                          timeout=timeout, stdin=None if stdin is not None else subprocess.DEVNULL)


def tern(server, *args, **kw):
    env = {"TERN_HOST": "127.0.0.1", "TERN_PORT": str(server.cli_port), "TERN_USER": "admin",
           "TERN_PASS": ADMIN_PASS}
    env.update(kw.pop("env", None) or {})
    return run(*args, env=env, **kw)


def jlines(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def uniq(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}.test"


JSON_KEYS = ["command", "context_before", "context_after", "status", "message", "data", "rows"]


# ---- commands, transcript, JSON ----

def test_one_command_transcript(server):
    r = tern(server, "LIST Domains")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "<#> LIST Domains"
    assert "The list of domains:" in lines
    assert "name | status" in lines
    assert lines[-1] == "+OK: command successful"
    assert ADMIN_PASS not in r.stdout + r.stderr


def test_json_shape_field_by_field(server):
    d = uniq("js")
    r = tern(server, "--json", f"CREATE Domain name {d} postmasterPassword pm-Secret1", "COMMIT",
             f"LIST Domains {d}", f"UPDATE Domain {d}", "LIST Accounts", "SHOW", "BACK")
    assert r.returncode == 0, r.stderr
    objs = jlines(r.stdout)
    assert len(objs) == 7
    for o in objs:
        assert list(o) == JSON_KEYS
        assert o["status"] == "ok"
    create, commit, listing, update, accounts, show, back = objs
    assert create == {"command": f"CREATE Domain name {d} postmasterPassword ***", "context_before": "<#>",
                      "context_after": "<domain-create#>", "status": "ok", "message": "command successful",
                      "data": [], "rows": None}
    assert commit["context_before"] == "<domain-create#>" and commit["context_after"] == "<#>"
    assert commit["message"] == "committing changes and switching back to previous context"
    assert listing["data"] == ["The list of domains:", "", "name | status", "------------------------------",
                               f"{d} | enabled"]
    assert listing["rows"] == [{"name": d, "status": "enabled"}]
    assert update["context_after"] == "<domain#>"
    assert accounts["rows"] == [{"name": "postmaster"}]
    assert accounts["context_before"] == accounts["context_after"] == "<domain#>"
    assert show["rows"] is None and show["data"][0] == "The attributes of this domain:"
    assert f'name = "{d}"' in show["data"]
    assert back["context_after"] == "<#>"
    r = tern(server, "--json", "HELP", "EXIT")
    bye = jlines(r.stdout)[1]
    assert bye["status"] == "ok" and bye["message"] == "have a nice day" and bye["context_after"] is None
    assert "pm-Secret1" not in r.stdout


def test_error_exit_code_and_continue_on_error(server):
    r = tern(server, "--json", "LIST Nothing", "LIST Domains")
    assert r.returncode == 1
    objs = jlines(r.stdout)
    assert len(objs) == 1
    assert objs[0]["status"] == "error" and objs[0]["message"].startswith("Unknown command")
    assert objs[0]["context_after"] == "<#>"
    r = tern(server, "--json", "--continue-on-error", "LIST Nothing", "LIST Domains")
    assert r.returncode == 1
    objs = jlines(r.stdout)
    assert [o["status"] for o in objs] == ["error", "ok"]


def test_script_and_stdin(server, tmp_path):
    d = uniq("sc")
    script = tmp_path / "prov.txt"
    script.write_text(f"# provisioning\n\nCREATE Domain name {d} postmasterPassword pw1\nCOMMIT\n"
                      f"UPDATE Domain {d}\nADD Account name ann password pw2\nCOMMIT\nBOGUS\nBACK\n")
    r = tern(server, "--json", "--script", str(script))
    assert r.returncode == 1
    objs = jlines(r.stdout)
    assert [o["command"] for o in objs][-1] == "BOGUS"
    assert objs[-1]["line"] == 8 and objs[-1]["status"] == "error"
    assert f"{script}:8: command failed" in r.stderr
    r = tern(server, f"UPDATE Domain {d}", "LIST Accounts", "--json")
    assert r.returncode == 0
    assert jlines(r.stdout)[1]["rows"] == [{"name": "ann"}, {"name": "postmaster"}] or \
        sorted(x["name"] for x in jlines(r.stdout)[1]["rows"]) == ["ann", "postmaster"]
    r = tern(server, "--stdin", stdin=f"UPDATE Domain {d}\nLIST Accounts\nBACK\n")
    assert r.returncode == 0, r.stderr
    assert "<domain#> LIST Accounts" in r.stdout and "ann" in r.stdout
    r = tern(server, "--stdin", "--continue-on-error", stdin="BOGUS\nLIST Domains\n")
    assert r.returncode == 1 and "<#> LIST Domains" in r.stdout and "stdin:1: command failed" in r.stderr


def test_seed_sequence_runs_live_after_passing_check(server, tmp_path):
    seed = (CORPUS / "good" / "seed000.txt").read_text()
    d = uniq("seed")
    script = tmp_path / "seed.txt"
    script.write_text(seed.replace("example.com", d))
    assert run("check", str(script)).returncode == 0
    r = tern(server, "--json", "--script", str(script))
    assert r.returncode == 0, r.stdout + r.stderr
    objs = jlines(r.stdout)
    assert all(o["status"] == "ok" for o in objs)
    assert [o["context_after"] for o in objs][-3:] == ["<domain#>", "<#>", "<#>"]
    r = tern(server, "--json", f"UPDATE Domain {d}", "UPDATE Account john", "CONFIG Quotas", "SHOW")
    assert "totalMessageSize = 5242880" in jlines(r.stdout)[3]["data"]


def test_get_version_before_login(server):
    r = tern(server, "--get-version", env={"TERN_PASS": ""})
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1 and r.stdout.split("|")[0] == "10.5.0"
    r = tern(server, "--get-version", "--json")
    o = jlines(r.stdout)[0]
    assert list(o) == JSON_KEYS
    assert o["context_before"] == "<login>" and o["context_after"] == "<login>"
    assert o["data"][0].startswith("10.5.0|")


def test_connection_and_login_failures_exit_2(server):
    r = tern(server, "LIST Domains", env={"TERN_PASS": "wrong"})
    assert r.returncode == 2 and "login failed" in r.stderr and "wrong" not in r.stdout + r.stderr
    r = tern(server, "LIST Domains", env={"TERN_PORT": "1"})
    assert r.returncode == 2 and "cannot connect" in r.stderr
    r = tern(server, "LIST Domains", env={"TERN_PASS": ""})
    assert r.returncode == 2 and "no password" in r.stderr  # no terminal to ask on
    r = run("--bogus-option")
    assert r.returncode == 2


def test_options_and_env_fallbacks(server):
    base = {"AXIGEN_HOST": "127.0.0.1", "AXIGEN_PORT": str(server.cli_port), "AXIGEN_USER": "admin",
            "AXIGEN_PASS": ADMIN_PASS}
    assert run("LIST Domains", env=base).returncode == 0
    # TERN_* wins over AXIGEN_*, options win over both
    assert run("LIST Domains", env=dict(base, TERN_PORT="1")).returncode == 2
    assert run("--port", str(server.cli_port), "LIST Domains", env=dict(base, TERN_PORT="1")).returncode == 0
    assert run("LIST Domains", env=dict(base, TERN_PASS="wrong")).returncode == 2
    r = run("--host", "127.0.0.1", "--port", str(server.cli_port), "--user", "admin", "--pass", ADMIN_PASS,
            "LIST Domains")
    assert r.returncode == 0
    assert run("--user", "nobody", "LIST Domains", env=base).returncode == 2
    assert run("--host", "localhost", "LIST Domains", env=base).returncode == 0


# ---- TLS ----

def test_tls_with_the_servers_self_signed_certificate(server):
    env = {"TERN_PORT": str(server.cli_tls_port)}
    r = tern(server, "--ssl", "LIST Domains", env=env)
    assert r.returncode == 2 and "self-signed" in r.stderr
    r = tern(server, "--ssl", "--ssl-allow-expired", "LIST Domains", env=env)
    assert r.returncode == 2 and "self-signed" in r.stderr
    r = tern(server, "--ssl", "--ssl-allow-self-signed", "LIST Domains", env=env)
    assert r.returncode == 0, r.stderr
    r = tern(server, "--ssl", "--ca", str(server.root / "tls" / "server.crt"), "LIST Domains", env=env)
    assert r.returncode == 0, r.stderr
    # the name is checked too: the certificate does not name 127.0.0.2
    r = tern(server, "--ssl", "--ssl-allow-self-signed", "--host", "127.0.0.2", "LIST Domains", env=env)
    assert r.returncode == 2
    # the seed helper's variables
    axi = {"AXIGEN_HOST": "127.0.0.1", "AXIGEN_PORT": str(server.cli_tls_port), "AXIGEN_PASS": ADMIN_PASS,
           "AXIGEN_SSL": "true"}
    assert run("LIST Domains", env=axi).returncode == 2
    assert run("LIST Domains", env=dict(axi, AXIGEN_SSL_ALLOW_EXPIRED="true")).returncode == 2
    assert run("LIST Domains", env=dict(axi, AXIGEN_SSL_ALLOW_SELF_SIGNED="true")).returncode == 0
    # plain client against the TLS port, and --ssl against the plain port, fail cleanly
    r = tern(server, "--ssl", "--ssl-allow-self-signed", "LIST Domains")
    assert r.returncode == 2


CA_CNF = """
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = {d}
database = {d}/index.txt
new_certs_dir = {d}/newcerts
serial = {d}/serial
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
"""


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    (d / "newcerts").mkdir()
    (d / "index.txt").write_text("")
    (d / "serial").write_text("1000\n")
    (d / "ca.cnf").write_text(CA_CNF.format(d=d))
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
            "-subj", "/CN=Tern Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
            "-subj", "/CN=127.0.0.1", cwd=d)
    openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "leaf.csr",
            "-out", "expired.pem", "-notext", "-extensions", "leaf", "-startdate", "20200101000000Z",
            "-enddate", "20210101000000Z", cwd=d)
    openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "leaf.csr",
            "-out", "valid.pem", "-notext", "-extensions", "leaf", "-days", "30", cwd=d)
    # self-signed and expired at once
    openssl("ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "leaf.key", "-in", "leaf.csr",
            "-out", "selfexpired.pem", "-notext", "-extensions", "leaf", "-startdate", "20200101000000Z",
            "-enddate", "20210101000000Z", cwd=d)
    return d


class FakeCli:
    """A loopback TLS server speaking just enough of the CLI protocol."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stop:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            try:
                raw.settimeout(10)
                with self.ctx.wrap_socket(raw, server_side=True) as c:
                    self.session(c)
            except (OSError, ssl.SSLError):
                pass

    def session(self, c):
        f = c.makefile("rb")
        c.sendall(b"Welcome to the fake CLI\r\nYou must login first.\r\n<login> ")
        state = "login"
        for line in f:
            line = line.rstrip(b"\r\n").decode()
            if state == "login" and line.upper().startswith("USER "):
                state = "password"
                c.sendall(b"<password> ")
            elif state == "password":
                state = "root"
                c.sendall(b"+OK: Authentication successful\r\n<#> ")
            elif line.upper() in ("EXIT", "QUIT"):
                c.sendall(b"+OK: have a nice day\r\n")
                return
            elif line.upper() == "GET VERSION":
                c.sendall(b"10.5.0|Linux|x86_64\r\n+OK: command successful\r\n" +
                          (b"<login> " if state == "login" else b"<#> "))
            else:
                c.sendall(b"+OK: command successful\r\n<#> ")

    def close(self):
        self.stop = True
        self.sock.close()
        self.t.join(5)


def fake_run(port, *args):
    return run("--ssl", "--port", str(port), "--pass", "x", *args, "HELP")


def test_expired_certificate_is_not_self_signed(certs):
    srv = FakeCli(certs / "expired.pem", certs / "leaf.key")
    try:
        ca = ("--ca", str(certs / "ca.pem"))
        r = fake_run(srv.port, *ca)
        assert r.returncode == 2 and "expired" in r.stderr
        r = fake_run(srv.port, *ca, "--ssl-allow-self-signed")
        assert r.returncode == 2 and "expired" in r.stderr
        r = fake_run(srv.port, *ca, "--ssl-allow-expired")
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == ["<#> HELP", "+OK: command successful"]
        r = run("--ssl", "--port", str(srv.port), "--pass", "x", "--ca", str(certs / "ca.pem"), "HELP",
                env={"AXIGEN_SSL_ALLOW_EXPIRED": "true"})
        assert r.returncode == 0, r.stderr
        # an unknown issuer stays refused whatever is allowed
        r = fake_run(srv.port, "--ssl-allow-expired", "--ssl-allow-self-signed")
        assert r.returncode == 2 and "issuer" in r.stderr
    finally:
        srv.close()


def test_valid_certificate_from_trusted_ca(certs):
    srv = FakeCli(certs / "valid.pem", certs / "leaf.key")
    try:
        assert fake_run(srv.port, "--ca", str(certs / "ca.pem")).returncode == 0
        r = fake_run(srv.port)
        assert r.returncode == 2 and "issuer" in r.stderr
        r = run("--ssl", "--port", str(srv.port), "--ca", str(certs / "ca.pem"), "--get-version")
        assert r.returncode == 0 and r.stdout == "10.5.0|Linux|x86_64\n"
    finally:
        srv.close()


def test_self_signed_and_expired_needs_both(certs):
    srv = FakeCli(certs / "selfexpired.pem", certs / "leaf.key")
    try:
        assert fake_run(srv.port, "--ssl-allow-self-signed").returncode == 2
        assert fake_run(srv.port, "--ssl-allow-expired").returncode == 2
        r = fake_run(srv.port, "--ssl-allow-self-signed", "--ssl-allow-expired")
        assert r.returncode == 0, r.stderr
    finally:
        srv.close()


# ---- destructive commands, secrets ----

def test_destructive_commands_need_yes(server, tmp_path):
    d = uniq("del")
    assert tern(server, f"CREATE Domain name {d} postmasterPassword pw", "COMMIT").returncode == 0
    assert tern(server, f"UPDATE Domain {d}", "ADD Account name bob password pw", "COMMIT").returncode == 0
    script = tmp_path / "rm.txt"
    script.write_text(f"UPDATE Domain {d}\nREMOVE Account bob\nBACK\n")
    r = tern(server, "--script", str(script))
    assert r.returncode == 1 and f"{script}:2:" in r.stderr and "--yes" in r.stderr
    assert r.stdout == ""  # nothing ran
    r = tern(server, "--stdin", stdin=script.read_text())
    assert r.returncode == 1 and "stdin:2:" in r.stderr
    r = tern(server, "--json", f"UPDATE Domain {d}", "LIST Accounts")
    assert {"name": "bob"} in jlines(r.stdout)[1]["rows"]
    # from the command line without a terminal: refused, not run
    r = tern(server, "--json", f"UPDATE Domain {d}", "REMOVE Account bob")
    assert r.returncode == 1
    o = jlines(r.stdout)[1]
    assert o["status"] == "error" and "--yes" in o["message"] and o["context_after"] == "<domain#>"
    r = tern(server, "--yes", "--script", str(script))
    assert r.returncode == 0, r.stderr
    r = tern(server, "--json", f"UPDATE Domain {d}", "LIST Accounts")
    assert {"name": "bob"} not in jlines(r.stdout)[1]["rows"]
    r = tern(server, "--yes", f"DELETE Domain name {d}")
    assert r.returncode == 0, r.stdout


def test_secrets_are_masked(server):
    d = uniq("sec")
    r = tern(server, f"CREATE Domain name {d} postmasterPassword Hidden-One", "COMMIT", f"UPDATE Domain {d}",
             'ADD Account name carl password "Hidden Two"', "COMMIT")
    assert r.returncode == 0, r.stderr
    assert "Hidden" not in r.stdout + r.stderr
    assert "ADD Account name carl password ***" in r.stdout


# ---- tern check ----

def expectations(path):
    out = []
    for line in path.read_text().splitlines():
        if line.startswith("# expect:"):
            level, code, n = line.split()[2:5]
            out.append((level, code, int(n)))
    return out


GOOD = sorted((CORPUS / "good").glob("*.txt"))
BAD = sorted((CORPUS / "bad").glob("*.txt"))


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_check_good_scripts_are_clean(path):
    r = run("check", "--json", str(path))
    assert r.returncode == 0, r.stdout
    rep = json.loads(r.stdout)
    assert rep["errors"] == 0 and rep["warnings"] == 0 and rep["issues"] == [] and rep["result"] == "clean"
    assert rep["commands"] > 0


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_check_broken_scripts_report_the_line(path):
    exp = expectations(path)
    assert exp, f"{path} has no '# expect:' line"
    r = run("check", "--json", str(path))
    rep = json.loads(r.stdout)
    found = {(i["level"], i["code"], i["line"]) for i in rep["issues"]}
    for e in exp:
        assert e in found, (e, rep["issues"])
    want_rc = 2 if any(e[0] == "error" for e in exp) else 1
    assert r.returncode == want_rc
    assert rep["result"] == ("errors" if want_rc == 2 else "warnings")
    # the text form names the same lines
    t = run("check", str(path))
    assert t.returncode == want_rc
    for level, code, n in exp:
        assert any(line.startswith(f"{path}:{n}: {level}:") and line.endswith(f"[{code}]")
                   for line in t.stdout.splitlines()), t.stdout


def test_check_json_shape_and_usage(tmp_path):
    r = run("check", "--json", str(CORPUS / "bad" / "wrong_context.txt"))
    rep = json.loads(r.stdout)
    assert list(rep) == ["file", "commands", "errors", "warnings", "result", "issues"]
    assert list(rep["issues"][0]) == ["line", "level", "code", "message"]
    assert "<domain#>" in rep["issues"][0]["message"]
    assert run("check").returncode == 2
    assert run("check", str(tmp_path / "missing.txt")).returncode == 2
    # every mistake class of the corpus is one the seed's CAUTION box names
    codes = {c for p in BAD for _, c, _ in expectations(p)}
    assert {"unknown-command", "wrong-context", "missing-argument", "unknown-argument", "uncommitted",
            "unsaved", "destructive"} <= codes


def test_check_agrees_with_the_server(server, tmp_path):
    """Every line check calls an error is refused by the server, in the
    same context, and the good corpus runs clean."""
    script = tmp_path / "mixed.txt"
    d = uniq("agree")
    script.write_text(f"CREATE Domain name {d} postmasterPassword pw\nCOMMIT\nUPDATE Domain {d}\n"
                      "LIST Domains\nSET colour blue\nSHOW Account\nCONFIG Quotas\nSET catchAllType maybe\n"
                      "LIST Aliases extra\nLIST Accounts\nBACK\nSAVE CONFIG\n")
    rep = json.loads(run("check", "--json", str(script)).stdout)
    bad_lines = {i["line"] for i in rep["issues"] if i["level"] != "info"}
    assert bad_lines == {4, 5, 6, 7, 8, 9}
    r = tern(server, "--json", "--continue-on-error", "--script", str(script))
    objs = jlines(r.stdout)
    assert len(objs) == 12
    assert {o["line"] for o in objs if o["status"] == "error"} == bad_lines
    assert objs[-1]["status"] == "ok" and objs[-1]["context_after"] == "<#>"


# ---- tern reference ----

def test_reference_matches_the_servers_help(server):
    ref = json.loads(run("reference", "--json").stdout)
    ctxs = {c["prompt"]: c for c in ref["contexts"]}
    assert {"<login>", "<#>", "<domain-create#>", "<domain#>", "<domain-account#>",
            "<domain-account-contactInfo#>", "<domain-account-quotas#>"} <= set(ctxs)
    for c in ref["contexts"]:
        assert list(c) == ["name", "prompt", "title", "parent", "commands", "attributes"]
        for cmd in c["commands"]:
            assert set(cmd) >= {"words", "syntax", "help", "kind", "read_only", "changes", "destructive"}
            assert cmd["kind"] in ("read-only", "navigation", "pending", "changes", "destructive")
    root = {x["words"]: x for x in ctxs["<#>"]["commands"]}
    assert root["DELETE Domain"]["destructive"] and root["DELETE Domain"]["kind"] == "destructive"
    assert root["LIST Domains"]["read_only"] and root["SAVE CONFIG"]["changes"]
    assert root["CREATE Domain"]["enters"] == "<domain-create#>"
    # the server's HELP lists the same syntax lines for the root and domain contexts
    d = uniq("ref")
    tern(server, f"CREATE Domain name {d} postmasterPassword pw", "COMMIT")
    r = tern(server, "--json", "HELP", f"UPDATE Domain {d}", "HELP")
    help_root, _, help_dom = jlines(r.stdout)
    for prompt, h in (("<#>", help_root), ("<domain#>", help_dom)):
        served = {line.split(" - ")[0] for line in h["data"] if " - " in line}
        listed = {x["syntax"] for x in ctxs[prompt]["commands"]
                  if x["available"] and not x["syntax"].startswith("SET ")}
        served = {s for s in served if not s.startswith("SET ")}
        assert served == listed
    md = run("reference", "--markdown").stdout
    assert "## Domain `<domain#>`" in md and "| `REMOVE Account [name] <name>` | destructive |" in md
    txt = run("reference")
    assert txt.returncode == 0 and "Initial <#>" in txt.stdout
    assert run("reference", "--bogus").returncode == 2


def test_transcript_script_runs_as_is(server, tmp_path):
    """The seed's transcript (prompts, +OK lines, comments) is accepted by
    check and by --script alike."""
    d = uniq("tr")
    text = (CORPUS / "good" / "seed000_transcript.txt").read_text().replace("example.com", d)
    script = tmp_path / "transcript.txt"
    script.write_text(text)
    assert run("check", str(script)).returncode == 0
    r = tern(server, "--json", "--script", str(script))
    assert r.returncode == 0, r.stdout + r.stderr
    objs = jlines(r.stdout)
    assert objs[0]["command"].startswith(f"CREATE Domain name {d} ")
    assert [o["context_before"] for o in objs[:3]] == ["<#>", "<domain-create#>", "<#>"]
    # a transcript whose prompts disagree with the script's path is flagged
    script.write_text("<#> UPDATE Domain name example.com\n<#> LIST Accounts\n<domain#> BACK\n")
    rep = json.loads(run("check", "--json", str(script)).stdout)
    assert [(i["line"], i["code"]) for i in rep["issues"]] == [(2, "prompt-mismatch")]


# ---- on a terminal: password prompt, interactive session, confirmation ----

def pty_session(server, args, answers, timeout=20):
    """Run tern with a pseudo-terminal as its controlling terminal (and
    stdin/stdout/stderr); each (expected text, reply) pair waits for the
    text, then types the reply. Returns (everything shown, exit code)."""
    import fcntl
    import select
    import termios
    import time
    master, slave = os.openpty()

    def ctty():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update({"TERN_HOST": "127.0.0.1", "TERN_PORT": str(server.cli_port), "TERN_USER": "admin"})
    p = subprocess.Popen([str(TERN), *args], stdin=slave, stdout=slave, stderr=slave, env=env,
                         preexec_fn=ctty, close_fds=True)
    os.close(slave)
    seen = b""
    mark = 0  # each expectation is looked for after the previous one
    deadline = time.time() + timeout
    pending = list(answers)
    try:
        while time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            if pending and pending[0][0].encode() in seen[mark:]:
                mark = seen.index(pending[0][0].encode(), mark) + len(pending[0][0])
                os.write(master, pending[0][1].encode() + b"\n")
                pending.pop(0)
            if p.poll() is not None and not r:
                break
        rc = p.wait(5)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        os.close(master)
    assert not pending, (pending, seen)
    return seen.decode(errors="replace"), rc


def test_password_prompt_is_not_echoed(server):
    out, rc = pty_session(server, ["LIST Domains"], [("Password for admin@127.0.0.1: ", ADMIN_PASS)])
    assert rc == 0, out
    assert ADMIN_PASS not in out
    assert "<#> LIST Domains" in out and "+OK: command successful" in out


def test_interactive_session_asks_before_destructive(server):
    d = uniq("tty")
    tern(server, f"CREATE Domain name {d} postmasterPassword pw", "COMMIT", f"UPDATE Domain {d}",
         "ADD Account name dora password pw", "COMMIT")
    out, rc = pty_session(server, ["--pass", ADMIN_PASS], [
        ("<#> ", f"UPDATE Domain {d}"),
        ("<domain#> ", "REMOVE Account dora"),
        ("Run it? [y/N] ", "n"),
        ("destructive command refused", "LIST Accounts"),
        ("postmaster", "REMOVE Account dora"),
        ("Run it? [y/N] ", "y"),
        ("+OK: command successful", "EXIT"),
    ])
    assert "have a nice day" in out
    r = tern(server, "--json", f"UPDATE Domain {d}", "LIST Accounts")
    assert {"name": "dora"} not in jlines(r.stdout)[1]["rows"]
