"""Challenge-response logins for accounts that opted in to a reversible
secret: SMTP AUTH CRAM-MD5 and POP3 APOP. Accounts without the opt-in
cannot use them."""

import base64
import hashlib
import hmac
import poplib
import re
import smtplib
import ssl

import pytest


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


@pytest.fixture
def accounts(c, dom):
    c.ok("useradd", dom, "cr", "plain-pw", "U")
    c.ok("uservarsset", dom, "cr", "EnableChallengeAuth", "1")
    c.ok("userpasswd", dom, "cr", "chal-pw")          # kept sealed from now on
    c.ok("useradd", dom, "nocr", "other-pw", "U")
    return dom


def cram(server, user, password):
    s = smtplib.SMTP("127.0.0.1", server.submission_port, timeout=10)
    try:
        s.starttls(context=ctx())
        s.ehlo("cram.test")
        assert "CRAM-MD5" in s.esmtp_features.get("auth", "").upper()
        code, chal = s.docmd("AUTH", "CRAM-MD5")
        assert code == 334
        challenge = base64.b64decode(chal)
        assert re.match(rb"^<[0-9a-f]+\.\d+@[^>]+>$", challenge), challenge
        digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
        code, _ = s.docmd(base64.b64encode(f"{user} {digest}".encode()).decode())
        return code
    finally:
        s.close()


def test_smtp_cram_md5(server, accounts):
    dom = accounts
    assert cram(server, f"cr@{dom}", "chal-pw") == 235
    assert cram(server, f"cr@{dom}", "plain-pw") == 535
    assert cram(server, f"nocr@{dom}", "other-pw") == 535     # no reversible secret


def test_pop3_apop(server, accounts):
    dom = accounts
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    ts = re.search(rb"<[^>]+>", p.getwelcome()).group(0)
    assert p.apop(f"cr@{dom}", "chal-pw").startswith(b"+OK")
    p.quit()
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    assert re.search(rb"<[^>]+>", p.getwelcome()).group(0) != ts     # a fresh challenge each time
    with pytest.raises(poplib.error_proto):
        p.apop(f"nocr@{dom}", "other-pw")
    p.close()


def test_opting_out_erases_the_secret(server, c, accounts):
    dom = accounts
    c.ok("uservarsset", dom, "cr", "EnableChallengeAuth", ".|rm")
    assert cram(server, f"cr@{dom}", "chal-pw") == 535
    c.ok("userauth", dom, "cr", "chal-pw")      # the hashed password still works
