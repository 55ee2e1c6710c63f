"""Admin CLI: the TLS parameters (CONFIG SSLCONTROL under a listener) are
the server's Tls* settings, enforced on every TLS endpoint (SMTPS, SMTP
STARTTLS, POP3S, POP3 STLS, CTRLS, CLI 7001) for new connections as soon
as the listener's COMMIT stores them. Checked with Python's ssl module
against the real server."""

import os
import poplib
import smtplib
import socket
import ssl
import subprocess

import pytest

from cliclient import show_attrs

COMMITTED = "committing changes and switching back to previous context"
CTX = "server-pop3-listener-sslcontrol"

E128 = "ECDHE-ECDSA-AES128-GCM-SHA256"
E256 = "ECDHE-ECDSA-AES256-GCM-SHA384"


def server_tab(c):
    out = {}
    for line in c.listing("cfgfileget", "server.tab"):
        name, value = [f.strip('"') for f in line.split("\t")]
        out[name] = value
    return out


def client_ctx(lo=None, hi=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if lo:
        ctx.minimum_version = lo
    if hi:
        ctx.maximum_version = hi
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def handshake(port, lo=None, hi=None, ciphers=None):
    """(version, cipher) of an implicit-TLS connection; ssl.SSLError if refused."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with client_ctx(lo, hi, ciphers).wrap_socket(raw) as t:
            got = (t.version(), t.cipher()[0])
            t.recv(200)  # the greeting arrives over TLS
            return got


TLS12 = dict(lo=ssl.TLSVersion.TLSv1_2, hi=ssl.TLSVersion.TLSv1_2)
TLS13 = dict(lo=ssl.TLSVersion.TLSv1_3, hi=ssl.TLSVersion.TLSv1_3)


def implicit_ports(srv):
    return {"smtps": srv.smtps_port, "pop3s": srv.pop3s_port, "cli-tls": srv.cli_tls_port,
            "ctrls": srv.tls_port}


def set_tls(cli, *sets):
    """SSLCONTROL of the POP3S listener: SET each, DONE, COMMIT."""
    cli.ok("CONFIG SERVER", "server")
    cli.ok("CONFIG POP3", "server-pop3")
    cli.ok("UPDATE Listener 0.0.0.0:995", "server-pop3-listener")
    cli.ok("CONFIG SSLCONTROL", CTX)
    for s in sets:
        cli.ok(f"SET {s}", CTX)
    cli.ok("DONE", "server-pop3-listener")
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<server-pop3#> ".encode()
    cli.ok("BACK", "server")
    cli.ok("BACK", "")


DEFAULTS = ("allowedVersions (tls1_2 tls1_3)", "cipherSuite DEFAULT", "preferServerCipherSuiteOrder yes",
            "dhParamFile none", "maxChainDepth 9")


@pytest.fixture
def tls_defaults(server):
    yield
    cli = server.cli()
    set_tls(cli, *DEFAULTS)
    cli.close()


def test_show_layout_and_help(server, cli):
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG SMTP-INCOMING")
    cli.ok("UPDATE Listener 0.0.0.0:465", "server-smtpIncoming-listener")
    r = cli.cmd("CONFIG SSLCONTROL")
    assert r.raw == b"+OK: command successful\r\n<server-smtpIncoming-listener-sslcontrol#> "
    r = cli.cmd("SHOW")
    body = r.raw.decode()
    assert body.startswith("\r\nThe attributes of this TLS setup:\r\n")
    assert list(show_attrs(r).items()) == [
        ("allowedVersions", "(tls1_2 tls1_3)"),
        ("maxChainDepth", "9"),
        ("cipherSuite", '"DEFAULT"'),
        ("preferServerCipherSuiteOrder", "yes"),
        ("useEphemeralKey", "yes"),
        ("certFile", '"tls/server.crt"'),
        ("caFile", '"none"'),
        ("dhParamFile", '"none"'),
        ("requestClientAuth", "no"),
    ]
    r = cli.cmd("SHOW ATTR allowedVersions")
    assert r.raw.startswith(b"allowedVersions = (tls1_2 tls1_3)\r\n+OK")
    h = cli.cmd("HELP").raw.decode()
    assert "SET" in h and "DONE" in h
    assert "stored at its COMMIT" in h
    cli.ok("BACK", "server-smtpIncoming-listener")
    h = cli.cmd("HELP").raw.decode()
    assert "applied to new connections at once" in h
    cli.ok("BACK", "server-smtpIncoming")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")


def test_allowed_versions_enforced_everywhere(server, cli, c, tls_defaults):
    ports = implicit_ports(server)
    for name, port in ports.items():
        assert handshake(port, **TLS12)[0] == "TLSv1.2", name
    set_tls(cli, "allowedVersions (tls1_3)")
    assert server_tab(c)["TlsAllowedVersions"] == "(tls1_3)"
    for name, port in ports.items():
        with pytest.raises(ssl.SSLError):
            handshake(port, **TLS12)
        assert handshake(port, **TLS13)[0] == "TLSv1.3", name
        assert handshake(port)[0] == "TLSv1.3", name
    # STARTTLS and STLS on the plain ports too
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10) as s:
        s.ehlo()
        with pytest.raises(ssl.SSLError):
            s.starttls(context=client_ctx(**TLS12))
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10) as s:
        s.ehlo()
        assert s.starttls(context=client_ctx(**TLS13))[0] == 220
        assert s.sock.version() == "TLSv1.3"
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    with pytest.raises(ssl.SSLError):
        p.stls(context=client_ctx(**TLS12))
    p.sock.close()
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.stls(context=client_ctx(**TLS13))
    assert p.sock.version() == "TLSv1.3"
    p.quit()
    # only TLS 1.2
    set_tls(cli, "allowedVersions (tls1_2)")
    for name, port in ports.items():
        with pytest.raises(ssl.SSLError):
            handshake(port, **TLS13)
        assert handshake(port)[0] == "TLSv1.2", name
    # back to both
    set_tls(cli, "allowedVersions (TLS1_3 tls1_2)")
    assert server_tab(c)["TlsAllowedVersions"] == "(tls1_3 tls1_2)"
    assert handshake(server.smtps_port, **TLS12)[0] == "TLSv1.2"
    assert handshake(server.smtps_port, **TLS13)[0] == "TLSv1.3"
    assert "TLS settings applied to new connections" in server.log


def test_tls12_cipher_list_enforced(server, cli, c, tls_defaults):
    assert handshake(server.pop3s_port, ciphers=E256, **TLS12) == ("TLSv1.2", E256)
    set_tls(cli, f"cipherSuite {E128}")
    assert server_tab(c)["TlsCipherSuite"] == E128
    for name, port in implicit_ports(server).items():
        with pytest.raises(ssl.SSLError):
            handshake(port, ciphers=E256, **TLS12)
        assert handshake(port, ciphers=E128, **TLS12) == ("TLSv1.2", E128), name
        assert handshake(port, ciphers=f"{E256}:{E128}", **TLS12) == ("TLSv1.2", E128), name
        assert handshake(port, **TLS13)[0] == "TLSv1.3"   # TLS 1.3 suites are not this list's


def test_server_cipher_order(server, cli, tls_defaults):
    client_order = f"{E128}:{E256}"
    set_tls(cli, f"cipherSuite {E256}:{E128}", "preferServerCipherSuiteOrder yes")
    for port in implicit_ports(server).values():
        assert handshake(port, ciphers=client_order, **TLS12)[1] == E256
    set_tls(cli, "preferServerCipherSuiteOrder no")
    for port in implicit_ports(server).values():
        assert handshake(port, ciphers=client_order, **TLS12)[1] == E128
        assert handshake(port, ciphers=f"{E256}:{E128}", **TLS12)[1] == E256


def test_bad_values_refused_nothing_stored(server, cli, c, tls_defaults):
    root = server.root
    before = {k: v for k, v in server_tab(c).items() if k.startswith("Tls")}
    os.makedirs(os.path.join(root, "tlsparams"), exist_ok=True)
    subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "dh_param:ffdhe2048",
                    "-out", os.path.join(root, "tlsparams", "dh.pem")], check=True, capture_output=True)
    link = os.path.join(root, "tlsparams", "link.pem")
    if not os.path.lexists(link):
        os.symlink(os.path.join(root, "tlsparams", "dh.pem"), link)
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    cli.ok("UPDATE Listener 0.0.0.0:995")
    cli.ok("CONFIG SSLCONTROL", CTX)
    for cmd, text in (
        ("SET allowedVersions (tls1_1 tls1_2)",
         "Invalid value for allowedVersions (tls1_1 is refused: this server speaks TLS 1.2 and TLS 1.3 only)"),
        ("SET allowedVersions (tls1)",
         "Invalid value for allowedVersions (tls1 is refused: this server speaks TLS 1.2 and TLS 1.3 only)"),
        ("SET allowedVersions (ssl3 tls1_3)",
         "Invalid value for allowedVersions (ssl3 is refused: this server speaks TLS 1.2 and TLS 1.3 only)"),
        ("SET allowedVersions (tls9)",
         "Invalid value for allowedVersions (tls9 is not a protocol version (tls1_2, tls1_3))"),
        ("SET allowedVersions ()",
         "Invalid value for allowedVersions (at least one version is needed (tls1_2, tls1_3))"),
        ("SET cipherSuite NO-SUCH-CIPHER",
         "Invalid value for cipherSuite (NO-SUCH-CIPHER: no TLS 1.2 cipher of this server matches)"),
        ("SET cipherSuite \"\"", None),
        ("SET preferServerCipherSuiteOrder maybe", "Invalid value for preferServerCipherSuiteOrder (yes or no)"),
        ("SET maxChainDepth 0", "Invalid value for maxChainDepth (a number from 1 to 100)"),
        ("SET dhParamFile ../etc/passwd",
         "Invalid value for dhParamFile (../etc/passwd: a path relative to the data root, without '..')"),
        ("SET dhParamFile /etc/ssl/dh.pem",
         "Invalid value for dhParamFile (/etc/ssl/dh.pem: a path relative to the data root, without '..')"),
        ("SET dhParamFile keys/secret.key",
         "Invalid value for dhParamFile (keys/secret.key: not a file this server may read)"),
        ("SET dhParamFile tern.db", "Invalid value for dhParamFile (tern.db: not a file this server may read)"),
        ("SET dhParamFile tlsparams/link.pem",
         "Invalid value for dhParamFile (tlsparams/link.pem: not found or not readable "
         "(symbolic links are not followed))"),
        ("SET dhParamFile tlsparams/missing.pem",
         "Invalid value for dhParamFile (tlsparams/missing.pem: not found or not readable "
         "(symbolic links are not followed))"),
        ("SET dhParamFile tls/server.crt",
         "Invalid value for dhParamFile (tls/server.crt: no PEM Diffie-Hellman parameters in it)"),
    ):
        cli.err(cmd, text, CTX)
    cli.close()   # (a session closes after CliMaxErrors refusals)
    cli = server.cli()
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    cli.ok("UPDATE Listener 0.0.0.0:995")
    cli.ok("CONFIG SSLCONTROL", CTX)
    for cmd, text in (
        ("SET useEphemeralKey maybe", "Invalid value for useEphemeralKey (yes or no)"),
        ("SET caFile /etc/ssl/ca.pem",
         "Invalid value for caFile (/etc/ssl/ca.pem: a path relative to the data root, without '..')"),
        ("SET certFile /etc/x.pem",
         "Invalid value for certFile (/etc/x.pem: a path relative to the data root, without '..')"),
    ):
        cli.err(cmd, text, CTX)
    attrs = show_attrs(cli.cmd("SHOW"))
    assert attrs["allowedVersions"] == "(tls1_2 tls1_3)" and attrs["cipherSuite"] == '"DEFAULT"'
    assert attrs["dhParamFile"] == '"none"' and attrs["maxChainDepth"] == "9"
    cli.ok("DONE", "server-pop3-listener")
    cli.ok("COMMIT", "server-pop3")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")
    assert {k: v for k, v in server_tab(c).items() if k.startswith("Tls")} == before
    # the daemon still serves both versions and any default cipher
    assert handshake(server.pop3s_port, **TLS12)[0] == "TLSv1.2"
    assert handshake(server.pop3s_port, **TLS13)[0] == "TLSv1.3"
    # good values: a DH file under the root, a chain depth
    set_tls(cli, "dhParamFile tlsparams/dh.pem", "maxChainDepth 4")
    tab = server_tab(c)
    assert tab["TlsDhParamFile"] == "tlsparams/dh.pem" and tab["TlsMaxChainDepth"] == "4"
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    cli.ok("UPDATE Listener 0.0.0.0:995")
    cli.ok("CONFIG SSLCONTROL", CTX)
    attrs = show_attrs(cli.cmd("SHOW"))
    assert attrs["dhParamFile"] == '"tlsparams/dh.pem"' and attrs["maxChainDepth"] == "4"
    cli.ok("BACK", "server-pop3-listener")
    cli.ok("BACK", "server-pop3")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")
    assert handshake(server.smtps_port, **TLS12)[0] == "TLSv1.2"
    # pending SSLCONTROL edits dropped by BACK are not stored
    cli.ok("CONFIG SERVER")
    cli.ok("CONFIG POP3")
    cli.ok("UPDATE Listener 0.0.0.0:995")
    cli.ok("CONFIG SSLCONTROL", CTX)
    cli.ok("SET allowedVersions (tls1_3)", CTX)
    cli.ok("BACK", "server-pop3-listener")
    cli.ok("COMMIT", "server-pop3")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")
    assert server_tab(c)["TlsAllowedVersions"] == "(tls1_2 tls1_3)"
    assert handshake(server.smtps_port, **TLS12)[0] == "TLSv1.2"


def test_settings_survive_restart(fresh_server):
    srv = fresh_server
    cli = srv.cli()
    set_tls(cli, "allowedVersions (tls1_3)", f"cipherSuite {E128}")
    cli.close()
    srv.restart()
    with pytest.raises(ssl.SSLError):
        handshake(srv.smtps_port, **TLS12)
    assert handshake(srv.smtps_port)[0] == "TLSv1.3"
    assert handshake(srv.cli_tls_port)[0] == "TLSv1.3"


def test_controller_server_tab_checks_tls_values(server, c):
    """server.tab through the controller: the same checks; a bad TLS value
    refuses the whole upload, nothing changes."""
    lines = c.listing("cfgfileget", "server.tab")
    before = server_tab(c)
    for name, bad in (("TlsAllowedVersions", "(tls1_1)"), ("TlsCipherSuite", "NO-SUCH-CIPHER"),
                      ("TlsDhParamFile", "../x.pem"), ("TlsMaxChainDepth", "0")):
        rows = [l for l in lines if not l.startswith(f'"{name}"')] + [f'"{name}"\t"{bad}"']
        r = c.upload(("cfgfileset", "server.tab"), rows)
        assert r.code < 0, (name, r)
        assert server_tab(c) == before
    # each value good, the whole not: client certificates asked for without CAs
    rows = [l for l in lines if not l.startswith('"TlsRequestClientAuth"')] + ['"TlsRequestClientAuth"\t"1"']
    r = c.upload(("cfgfileset", "server.tab"), rows)
    assert r.code < 0, r
    assert server_tab(c) == before
    assert "server.tab refused: the TLS parameters are not usable (requestClientAuth yes needs a caFile" in server.log
    assert handshake(server.smtps_port, **TLS12)[0] == "TLSv1.2"


def test_controller_server_tab_tls_applies_live(fresh_server):
    """A server.tab upload with other TLS versions is in force for the next
    handshake (no restart), like a CLI COMMIT; putting the old table back
    restores the old versions."""
    srv = fresh_server
    c = srv.connect()
    lines = c.listing("cfgfileget", "server.tab")
    assert handshake(srv.smtps_port, **TLS12)[0] == "TLSv1.2"
    rows = [l for l in lines if not l.startswith('"TlsAllowedVersions"')] + ['"TlsAllowedVersions"\t"(tls1_3)"']
    r = c.upload(("cfgfileset", "server.tab"), rows)
    assert r.code >= 0, r
    with pytest.raises(ssl.SSLError):
        handshake(srv.smtps_port, **TLS12)
    assert handshake(srv.pop3s_port)[0] == "TLSv1.3"
    r = c.upload(("cfgfileset", "server.tab"), lines)
    assert r.code >= 0, r
    assert handshake(srv.smtps_port, **TLS12)[0] == "TLSv1.2"
