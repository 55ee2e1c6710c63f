"""Admin CLI, listener SSLCONTROL: the TLS parameters beyond versions and
ciphers -- client certificates (requestClientAuth, caFile, maxChainDepth),
the server's certificate (certFile, switched without a restart),
useEphemeralKey (no static-RSA key exchange under TLS 1.2) and TLS 1.3
suites in cipherSuite. Certificates are made with the openssl command in a
temporary directory; clients are Python's ssl, smtplib and poplib against
the real server's TLS endpoints."""

import hashlib
import os
import poplib
import shutil
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from cliclient import show_attrs

COMMITTED = "committing changes and switching back to previous context"
CTX = "server-smtpIncoming-listener-sslcontrol"
ALICE = "CN=alice-client"

CNF = """
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth,serverAuth
"""


# ------------------------------------------------------------------ certificates
def _openssl(d, *args):
    subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)


def _self_signed(d, name, subj, ext, key="ec"):
    kopt = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec" else ["-newkey", "rsa:2048"]
    _openssl(d, "req", "-x509", "-config", "cnf", "-extensions", ext, *kopt, "-nodes", "-keyout",
             f"{name}.key", "-out", f"{name}.crt", "-subj", subj, "-days", "3")


def _signed(d, name, subj, ca, ext):
    _openssl(d, "req", "-new", "-config", "cnf", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subj)
    _openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", "3", "-extfile", "cnf", "-extensions", ext)


def _cat(d, out, *names):
    with open(os.path.join(d, out), "w") as f:
        for n in names:
            with open(os.path.join(d, n)) as g:
                f.write(g.read())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """Two CAs; clients of each; a client two intermediates below CA A; an
    RSA and a second EC server identity (key and chain in one file)."""
    d = str(tmp_path_factory.mktemp("pki"))
    with open(os.path.join(d, "cnf"), "w") as f:
        f.write(CNF)
    _self_signed(d, "caA", "/CN=Tern Test CA A", "ca")
    _self_signed(d, "caB", "/CN=Other CA B", "ca")
    _signed(d, "alice", "/O=Tern Test/CN=alice-client", "caA", "leaf")
    _signed(d, "mallory", "/CN=mallory-client", "caB", "leaf")
    _signed(d, "int1", "/CN=Tern Test Intermediate 1", "caA", "ca")
    _signed(d, "int2", "/CN=Tern Test Intermediate 2", "int1", "ca")
    _signed(d, "deep", "/CN=deep-client", "int2", "leaf")
    _cat(d, "deep-chain.crt", "deep.crt", "int2.crt", "int1.crt")
    _self_signed(d, "rsa", "/CN=tern-rsa-test", "leaf", key="rsa")
    _cat(d, "rsa.pem", "rsa.key", "rsa.crt")
    _self_signed(d, "ec2", "/CN=tern-ec2-test", "leaf")
    _cat(d, "ec2.pem", "ec2.crt", "ec2.key")
    _cat(d, "mismatch.pem", "rsa.crt", "ec2.key")
    return d


def install(srv, pki, *names):
    """Copy pki files into ROOT/tlstest/."""
    dst = os.path.join(srv.root, "tlstest")
    os.makedirs(dst, exist_ok=True)
    for n in names:
        shutil.copy(os.path.join(pki, n), os.path.join(dst, n))


def fingerprint_pem(path):
    with open(path) as f:
        text = f.read()
    start = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(text[start:end])).hexdigest()


# ------------------------------------------------------------------ clients
TLS12 = dict(lo=ssl.TLSVersion.TLSv1_2, hi=ssl.TLSVersion.TLSv1_2)
TLS13 = dict(lo=ssl.TLSVersion.TLSv1_3, hi=ssl.TLSVersion.TLSv1_3)


def client_ctx(cert=None, lo=None, hi=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(*cert)
    if lo:
        ctx.minimum_version = lo
    if hi:
        ctx.maximum_version = hi
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def greet(port, cert=None, **kw):
    """(version, cipher, server certificate sha256, greeting) of an
    implicit-TLS connection; raises ssl.SSLError/OSError when refused."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with client_ctx(cert, **kw).wrap_socket(raw) as t:
            der = t.getpeercert(binary_form=True)
            data = t.recv(200)
            return t.version(), t.cipher()[0], hashlib.sha256(der).hexdigest(), data


def refused(port, cert=None, **kw):
    """True when the server ends the connection during the handshake (TLS
    1.2) or right after it, before any greeting (TLS 1.3: the client's
    certificate is checked after the client considers the handshake done)."""
    try:
        data = greet(port, cert, **kw)[3]
    except (ssl.SSLError, OSError):
        return True
    return data == b""


def implicit_ports(srv):
    return {"smtps": srv.smtps_port, "pop3s": srv.pop3s_port, "cli-tls": srv.cli_tls_port, "ctrls": srv.tls_port}


def server_tab(c):
    out = {}
    for line in c.listing("cfgfileget", "server.tab"):
        name, value = [f.strip('"') for f in line.split("\t")]
        out[name] = value
    return out


def tls_tab(c):
    return {k: v for k, v in server_tab(c).items() if k.startswith("Tls")}


def enter_ssl(cli):
    cli.ok("CONFIG SERVER", "server")
    cli.ok("CONFIG SMTP-INCOMING", "server-smtpIncoming")
    cli.ok("UPDATE Listener 0.0.0.0:465", "server-smtpIncoming-listener")
    cli.ok("CONFIG SSLCONTROL", CTX)


def leave_committing(cli):
    cli.ok("DONE", "server-smtpIncoming-listener")
    r = cli.cmd("COMMIT")
    assert r.raw == f"+OK: {COMMITTED}\r\n<server-smtpIncoming#> ".encode(), r
    cli.ok("BACK", "server")
    cli.ok("BACK", "")


def set_tls(cli, *sets):
    enter_ssl(cli)
    for s in sets:
        cli.ok(f"SET {s}", CTX)
    leave_committing(cli)


def commit_refused(cli, sets, text):
    """SETs accepted, COMMIT refused with text; back at the root."""
    enter_ssl(cli)
    for s in sets:
        cli.ok(f"SET {s}", CTX)
    cli.ok("DONE", "server-smtpIncoming-listener")
    cli.err("COMMIT", text, "server-smtpIncoming-listener")
    cli.ok("BACK", "server-smtpIncoming")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")


DEFAULTS = ("requestClientAuth no", "caFile none", "certFile tls/server.crt", "useEphemeralKey yes",
            "cipherSuite DEFAULT", "maxChainDepth 9", "allowedVersions (tls1_2 tls1_3)")


@pytest.fixture
def tls_defaults(server):
    yield
    cli = server.cli()
    set_tls(cli, *DEFAULTS)
    cli.close()


def log_text(srv):
    """The server's log file (srv.log also holds stderr, a copy)."""
    try:
        return (srv.root / "logs" / "ternd.log").read_text(errors="replace")
    except OSError:
        return ""


def log_count(srv, text, want=None, wait=5.0):
    """Occurrences of text in the server log (waiting up to wait seconds
    for at least want of them)."""
    deadline = time.time() + wait
    while True:
        n = log_text(srv).count(text)
        if want is None or n >= want or time.time() > deadline:
            return n
        time.sleep(0.1)


VERIFIED = "client certificate verified: subject="


# ------------------------------------------------------------------ tests
def test_client_certificates_every_endpoint(server, cli, pki, tls_defaults):
    install(server, pki, "caA.crt")
    alice = (os.path.join(pki, "alice.crt"), os.path.join(pki, "alice.key"))
    mallory = (os.path.join(pki, "mallory.crt"), os.path.join(pki, "mallory.key"))
    # off (default): any client certificate is ignored, none is asked for
    for port in implicit_ports(server).values():
        assert greet(port, mallory)[3]
    set_tls(cli, "caFile tlstest/caA.crt", "requestClientAuth yes")
    for name, port in implicit_ports(server).items():
        for ver in (TLS12, TLS13):
            n = log_count(server, VERIFIED)
            assert greet(port, alice, **ver)[3], name                  # good certificate
            assert log_count(server, VERIFIED, n + 1) == n + 1, name    # its subject logged
            assert greet(port, None, **ver)[3], name                   # no certificate: still served
            assert refused(port, mallory, **ver), name                 # another CA: refused
    log = log_text(server)
    line = [l for l in log.splitlines() if VERIFIED in l][-1]
    assert "tls 127.0.0.1: client certificate verified: subject=CN=alice-client,O=Tern Test " \
           "issuer=CN=Tern Test CA A" in line
    assert "client certificate refused: unable to get local issuer certificate" in log
    # STARTTLS and STLS ask too; the subject is logged with the peer's address
    n = log_count(server, VERIFIED)
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10) as s:
        s.ehlo()
        assert s.starttls(context=client_ctx(alice))[0] == 220
        assert s.ehlo()[0] == 250
    assert log_count(server, VERIFIED, n + 1) == n + 1
    assert "tls 127.0.0.1: " + VERIFIED in [l for l in log_text(server).splitlines() if VERIFIED in l][-1]
    with pytest.raises((smtplib.SMTPException, ssl.SSLError, OSError)):
        with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10) as s:
            s.ehlo()
            s.starttls(context=client_ctx(mallory, **TLS13))
            s.ehlo()
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.stls(context=client_ctx(alice))
    assert "USER" in p.capa() or p.capa()
    p.quit()
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.stls(context=client_ctx(None))
    assert "USER" in p.capa() or p.capa()
    p.quit()
    # back off: a certificate from another CA is no longer looked at
    set_tls(cli, "requestClientAuth no")
    assert greet(server.smtps_port, mallory)[3]


def test_max_chain_depth_applies(server, cli, pki, tls_defaults):
    """deep-client <- Intermediate 2 <- Intermediate 1 <- CA A: levels 0..3,
    which needs a chain depth of 2 or more."""
    install(server, pki, "caA.crt")
    deep = (os.path.join(pki, "deep-chain.crt"), os.path.join(pki, "deep.key"))
    set_tls(cli, "caFile tlstest/caA.crt", "requestClientAuth yes", "maxChainDepth 2")
    n = log_count(server, VERIFIED)
    for port in implicit_ports(server).values():
        assert greet(port, deep)[3]
    assert log_count(server, VERIFIED, n + 4) >= n + 4
    assert "subject=CN=deep-client issuer=CN=Tern Test Intermediate 2" in log_text(server)
    set_tls(cli, "maxChainDepth 1")
    for port in implicit_ports(server).values():
        assert refused(port, deep, **TLS12)
        assert refused(port, deep, **TLS13)
        assert greet(port, None)[3]
    assert "client certificate refused: certificate chain too long" in log_text(server)


def test_cert_file_switched_live(server, cli, c, pki, tls_defaults):
    install(server, pki, "rsa.pem", "ec2.pem")
    pid = server.proc.pid
    default_fp = fingerprint_pem(os.path.join(server.root, "tls", "server.crt"))
    for port in implicit_ports(server).values():
        assert greet(port)[2] == default_fp
    for name, fp in (("rsa.pem", fingerprint_pem(os.path.join(pki, "rsa.crt"))),
                     ("ec2.pem", fingerprint_pem(os.path.join(pki, "ec2.crt")))):
        set_tls(cli, f"certFile tlstest/{name}")
        assert tls_tab(c)["TlsCertFile"] == f"tlstest/{name}"
        for pname, port in implicit_ports(server).items():
            for ver in (TLS12, TLS13):
                assert greet(port, **ver)[2] == fp, (name, pname)
        with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10) as s:
            s.ehlo()
            s.starttls(context=client_ctx())
            assert hashlib.sha256(s.sock.getpeercert(binary_form=True)).hexdigest() == fp
        p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
        p.stls(context=client_ctx())
        assert hashlib.sha256(p.sock.getpeercert(binary_form=True)).hexdigest() == fp
        p.quit()
    assert server.proc.pid == pid      # no restart
    enter_ssl(cli)
    assert show_attrs(cli.cmd("SHOW"))["certFile"] == '"tlstest/ec2.pem"'
    cli.ok("BACK", "server-smtpIncoming-listener")
    cli.ok("BACK", "server-smtpIncoming")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")
    set_tls(cli, "certFile tls/server.crt")
    assert tls_tab(c)["TlsCertFile"] == "tls/server.crt"
    assert greet(server.pop3s_port)[2] == default_fp


def test_openssl_default_has_static_rsa():
    """The fact useEphemeralKey is about: OpenSSL's DEFAULT list on this
    machine holds TLS 1.2 suites with static RSA key exchange."""
    out = subprocess.run(["openssl", "ciphers", "-v", "DEFAULT"], check=True, capture_output=True,
                         text=True).stdout
    krsa = [l.split()[0] for l in out.splitlines() if " Kx=RSA " in l]
    assert "AES128-GCM-SHA256" in krsa


def test_use_ephemeral_key(server, cli, c, pki, tls_defaults):
    """A static-RSA suite needs an RSA certificate: tlstest/rsa.pem."""
    install(server, pki, "rsa.pem")
    krsa = "AES128-GCM-SHA256"
    set_tls(cli, "certFile tlstest/rsa.pem", "useEphemeralKey no")
    assert tls_tab(c)["TlsEphemeralKey"] == "0"
    for name, port in implicit_ports(server).items():
        assert greet(port, ciphers=krsa, **TLS12)[:2] == ("TLSv1.2", krsa), name
    set_tls(cli, "useEphemeralKey yes")
    assert tls_tab(c)["TlsEphemeralKey"] == "1"
    for name, port in implicit_ports(server).items():
        with pytest.raises(ssl.SSLError):
            greet(port, ciphers=krsa, **TLS12)
        assert greet(port, ciphers=f"{krsa}:ECDHE-RSA-AES256-GCM-SHA384", **TLS12)[:2] == \
            ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"), name
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10) as s:
        s.ehlo()
        with pytest.raises(ssl.SSLError):
            s.starttls(context=client_ctx(ciphers=krsa, **TLS12))
    # a list of static-RSA suites only cannot be had with useEphemeralKey yes
    before = tls_tab(c)
    commit_refused(cli, [f"cipherSuite {krsa}"],
                   "Commit failed: the TLS parameters are not usable (AES128-GCM-SHA256: no TLS 1.2 cipher with "
                   "an ephemeral (EC)DHE key exchange matches (useEphemeralKey yes)); nothing was changed")
    assert tls_tab(c) == before
    set_tls(cli, f"cipherSuite {krsa}", "useEphemeralKey no")
    assert greet(server.smtps_port, ciphers=f"ECDHE-RSA-AES256-GCM-SHA384:{krsa}", **TLS12)[1] == krsa


def test_tls13_suites_in_cipher_suite(server, cli, c, tls_defaults):
    for suite in ("TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"):
        set_tls(cli, f"cipherSuite {suite}:ECDHE-ECDSA-AES128-GCM-SHA256")
        assert tls_tab(c)["TlsCipherSuite"] == f"{suite}:ECDHE-ECDSA-AES128-GCM-SHA256"
        for name, port in implicit_ports(server).items():
            assert greet(port, **TLS13)[:2] == ("TLSv1.3", suite), name
            # the TLS 1.2 part is the rest of the list
            assert greet(port, **TLS12)[:2] == ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"), name
            with pytest.raises(ssl.SSLError):
                greet(port, ciphers="ECDHE-ECDSA-AES256-GCM-SHA384", **TLS12)
    # TLS 1.3 suites only: TLS 1.2 keeps OpenSSL's default list
    set_tls(cli, "cipherSuite TLS_AES_256_GCM_SHA384")
    assert greet(server.pop3s_port, **TLS13)[1] == "TLS_AES_256_GCM_SHA384"
    assert greet(server.pop3s_port, ciphers="ECDHE-ECDSA-AES256-GCM-SHA384", **TLS12)[0] == "TLSv1.2"
    # two suites: the server's order
    set_tls(cli, "cipherSuite TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:DEFAULT")
    assert greet(server.cli_tls_port, **TLS13)[1] == "TLS_AES_128_GCM_SHA256"
    # bad entries are named
    before = tls_tab(c)
    enter_ssl(cli)
    for cmd, text in (
        ("SET cipherSuite TLS_AES_512_GCM_SHA1024",
         "Invalid value for cipherSuite (TLS_AES_512_GCM_SHA1024: not a TLS 1.3 suite of this server "
         "(TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256, TLS_AES_128_CCM_SHA256))"),
        ("SET cipherSuite TLS_AES_128_GCM_SHA256:NO-SUCH-CIPHER:DEFAULT",
         "Invalid value for cipherSuite (NO-SUCH-CIPHER: no TLS 1.2 cipher of this server matches)"),
        ("SET cipherSuite ECDHE-ECDSA-AES128-GCM-SHA256:TLS_FOO",
         "Invalid value for cipherSuite (TLS_FOO: not a TLS 1.3 suite of this server "
         "(TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256, TLS_AES_128_CCM_SHA256))"),
    ):
        cli.err(cmd, text, CTX)
    cli.ok("BACK", "server-smtpIncoming-listener")
    cli.ok("BACK", "server-smtpIncoming")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")
    assert tls_tab(c) == before


def test_bad_files_refused_nothing_changed(server, cli, c, pki, tls_defaults):
    install(server, pki, "rsa.pem", "mismatch.pem", "caA.crt", "alice.crt", "ec2.pem")
    fp = greet(server.smtps_port)[2]
    before = tls_tab(c)
    path_err = "a path relative to the data root, without '..'"
    enter_ssl(cli)
    for cmd, text in (
        ("SET certFile tlstest/missing.pem",
         "Invalid value for certFile (tlstest/missing.pem: not found or not readable (symbolic links are not "
         "followed))"),
        ("SET certFile tlstest/mismatch.pem",
         "Invalid value for certFile (tlstest/mismatch.pem: the private key does not match the certificate)"),
        ("SET certFile ../tlstest/rsa.pem", f"Invalid value for certFile (../tlstest/rsa.pem: {path_err})"),
        ("SET certFile tlstest/../tlstest/rsa.pem",
         f"Invalid value for certFile (tlstest/../tlstest/rsa.pem: {path_err})"),
        (f"SET certFile {server.root}/tlstest/rsa.pem",
         f"Invalid value for certFile ({server.root}/tlstest/rsa.pem: {path_err})"),
        ("SET certFile tlstest/caA.crt",
         "Invalid value for certFile (tlstest/caA.crt: no unencrypted PEM private key in it)"),
        ("SET certFile keys/x.pem", "Invalid value for certFile (keys/x.pem: not a file this server may read)"),
        ("SET caFile tlstest/alice.crt",
         "Invalid value for caFile (tlstest/alice.crt: a certificate in it is not a CA certificate)"),
        ("SET caFile tlstest/nothing.pem",
         "Invalid value for caFile (tlstest/nothing.pem: not found or not readable (symbolic links are not "
         "followed))"),
        ("SET caFile ../caA.crt", f"Invalid value for caFile (../caA.crt: {path_err})"),
        ("SET requestClientAuth maybe", "Invalid value for requestClientAuth (yes or no)"),
    ):
        cli.err(cmd, text, CTX)
    cli.ok("BACK", "server-smtpIncoming-listener")
    cli.ok("BACK", "server-smtpIncoming")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")
    assert tls_tab(c) == before
    cli.close()
    cli = server.cli()
    # requestClientAuth yes without a caFile
    commit_refused(cli, ["requestClientAuth yes"],
                   "Commit failed: the TLS parameters are not usable (requestClientAuth yes needs a caFile (PEM CA "
                   "certificates under the data root) to verify client certificates); nothing was changed")
    commit_refused(cli, ["caFile tlstest/caA.crt", "requestClientAuth yes", "caFile none"],
                   "Commit failed: the TLS parameters are not usable (requestClientAuth yes needs a caFile (PEM CA "
                   "certificates under the data root) to verify client certificates); nothing was changed")
    # checked again at COMMIT: a file that went bad after SET
    shutil.copy(os.path.join(pki, "rsa.pem"), os.path.join(server.root, "tlstest", "later.pem"))
    enter_ssl(cli)
    cli.ok("SET certFile tlstest/later.pem", CTX)
    cli.ok("SET cipherSuite TLS_AES_128_GCM_SHA256:DEFAULT", CTX)
    cli.ok("DONE", "server-smtpIncoming-listener")
    shutil.copy(os.path.join(pki, "mismatch.pem"), os.path.join(server.root, "tlstest", "later.pem"))
    cli.err("COMMIT", "Commit failed: the TLS parameters are not usable (tlstest/later.pem: the private key does "
            "not match the certificate); nothing was changed", "server-smtpIncoming-listener")
    os.unlink(os.path.join(server.root, "tlstest", "later.pem"))
    cli.err("COMMIT", "Commit failed: the TLS parameters are not usable (tlstest/later.pem: not found or not "
            "readable (symbolic links are not followed)); nothing was changed", "server-smtpIncoming-listener")
    cli.ok("BACK", "server-smtpIncoming")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")
    assert tls_tab(c) == before
    # the server still serves its certificate and both versions
    assert greet(server.smtps_port)[2] == fp
    assert greet(server.smtps_port, **TLS12)[0] == "TLSv1.2"
    assert greet(server.smtps_port, **TLS13)[0] == "TLSv1.3"


def test_settings_survive_restart(fresh_server, pki):
    srv = fresh_server
    install(srv, pki, "rsa.pem", "caA.crt")
    alice = (os.path.join(pki, "alice.crt"), os.path.join(pki, "alice.key"))
    mallory = (os.path.join(pki, "mallory.crt"), os.path.join(pki, "mallory.key"))
    cli = srv.cli()
    set_tls(cli, "certFile tlstest/rsa.pem", "caFile tlstest/caA.crt", "requestClientAuth yes",
            "useEphemeralKey no", "cipherSuite TLS_AES_256_GCM_SHA384:DEFAULT")
    cli.close()
    srv.restart()
    rsa_fp = fingerprint_pem(os.path.join(pki, "rsa.crt"))
    for name, port in implicit_ports(srv).items():
        assert greet(port, alice, **TLS13)[1:3] == ("TLS_AES_256_GCM_SHA384", rsa_fp), name
        assert greet(port, ciphers="AES128-GCM-SHA256", **TLS12)[1] == "AES128-GCM-SHA256", name
        assert refused(port, mallory, **TLS12), name
    cli = srv.cli()
    enter_ssl(cli)
    attrs = show_attrs(cli.cmd("SHOW"))
    assert (attrs["certFile"], attrs["caFile"], attrs["requestClientAuth"], attrs["useEphemeralKey"],
            attrs["cipherSuite"]) == ('"tlstest/rsa.pem"', '"tlstest/caA.crt"', "yes", "no",
                                      '"TLS_AES_256_GCM_SHA384:DEFAULT"')
    cli.ok("BACK", "server-smtpIncoming-listener")
    cli.ok("BACK", "server-smtpIncoming")
    cli.ok("BACK", "server")
    cli.ok("BACK", "")
    cli.close()
    # the certificate file gone while stopped: the server starts with the
    # defaults (its own certificate, no client certificates) and says why
    srv.stop()
    os.unlink(os.path.join(srv.root, "tlstest", "rsa.pem"))
    srv.start()
    assert "TLS settings not usable (tlstest/rsa.pem: not found or not readable" in log_text(srv)
    default_fp = fingerprint_pem(os.path.join(srv.root, "tls", "server.crt"))
    for name, port in implicit_ports(srv).items():
        assert greet(port, mallory)[2] == default_fp, name
