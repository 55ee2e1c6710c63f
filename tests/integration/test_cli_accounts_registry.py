"""Admin CLI: SHOW RegistryInformation in an account, in the layout CLI2's
last-login.py and list-accounts.py parse (spec 6.6)."""

import poplib
import time
from datetime import datetime

from cliclient import show_attrs


def cli2_date(value):
    # last-login.py: drop the last token, parse the rest
    return datetime.strptime(value.rsplit(" ", 1)[0], "%a, %d %b %Y %H:%M:%S")


def test_registry_information(server, cli, c, dom):
    c.ok("useradd", dom, "reg", "R3g-pw", "U")
    cli.ok(f"UPDATE Domain name {dom}")
    cli.ok("UPDATE Account name reg")
    r = cli.cmd("SHOW RegistryInformation")
    assert r.pieces[:2] == ["", "The registry information of this account:"]
    assert r.pieces[-3:] == ["", "+OK: command successful", "<domain-account#> "]
    attrs = show_attrs(r)
    for k in ("Creation Date", "POP3 Last Login Date", "IMAP Last Login Date", "WebMail Last Login Date",
              "Active Sync Last Login Date", "OLK Last Login Date"):
        assert cli2_date(attrs[k]).year == 1970, (k, attrs[k])      # never: the epoch
    assert attrs["POP3 Last Login IP"] == "0.0.0.0"
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=10)
    p.user(f"reg@{dom}")
    p.pass_("R3g-pw")
    p.quit()
    deadline = time.time() + 10
    while True:
        attrs = show_attrs(cli.cmd("SHOW RegistryInformation"))
        if attrs["POP3 Last Login IP"] != "0.0.0.0" or time.time() > deadline:
            break
        time.sleep(0.2)
    assert attrs["POP3 Last Login IP"] == "127.0.0.1"
    assert abs((cli2_date(attrs["POP3 Last Login Date"]) - datetime.utcnow()).total_seconds()) < 120
    assert cli2_date(attrs["IMAP Last Login Date"]).year == 1970
    assert attrs["Mbox message count"] == "0"
    cli.ok("BACK", "domain")
