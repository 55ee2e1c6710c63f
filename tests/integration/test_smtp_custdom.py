"""Custom domains: mail for a domain that is not handled locally but has
a custom domain file is accepted without relay rights and processed by
its rules (redirect, external); the catch-all .tab never opens relaying."""

import smtplib
import time
from pathlib import Path

from ctrlclient import check


def count(root, dom, user):
    n = 0
    for sub in ("new", "cur"):
        d = Path(root) / "domains" / dom / user / "Maildir" / sub
        if d.is_dir():
            n += len(list(d.iterdir()))
    return n


def wait(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline and not pred():
        time.sleep(0.05)
    return pred()


def test_custom_domain_redirect_and_external(server, c, dom, tmp_path):
    c.ok("useradd", dom, "catcher", "pw", "U")
    tmp_path.chmod(0o777)
    out = tmp_path / "cust-out"
    check(c.upload(("custdomset", "cust-redir.example"),
                   [f'"redirect"\t"catcher@{dom}"', f'"external"\t"0"\t"10"\t"/usr/bin/tee"\t"{out}"']), 0)
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
        # no AUTH, no relay network: accepted because of the custom domain
        s.sendmail("x@remote.example", ["anyone@cust-redir.example"], "Subject: cust\r\n\r\ncustom body\r\n")
    assert wait(lambda: count(server.root, dom, "catcher") == 1)
    assert wait(lambda: out.exists() and b"custom body" in out.read_bytes())


def test_catch_all_custom_domain_does_not_open_relay(server, c):
    check(c.upload(("cfgfileset", "custdomains/.tab"), ['"smtp"']), 0)
    try:
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as s:
            s.ehlo("relay.test")
            s.mail("x@remote.example")
            code, msg = s.rcpt("victim@elsewhere.example")
            assert code == 550 and msg.startswith(b"5.7.1"), (code, msg)
    finally:
        check(c.upload(("cfgfileset", "custdomains/.tab"), []), 0)
