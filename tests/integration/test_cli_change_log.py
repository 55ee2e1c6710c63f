"""Admin CLI: every change is logged with the admin, the peer address and
the command (passwords masked), in every context that changes something."""

import re

SECRET = "Sup3r-Secret-pw"


def test_every_change_is_logged(server, cli, c, dom):
    c.ok("useradd", dom, "alice", "Al1ce-pw", "U")
    steps = [
        (f"UPDATE Domain name {dom}", None),
        (f"ADD Account name bob password {SECRET}", None),
        ("COMMIT", f"account bob@{dom} created: password=***"),
        ("ADD Group name grp", None),
        (f"ADD Address alice@{dom}", None),
        ("COMMIT", f"group grp@{dom} created:"),
        (f"ADD List name lst password {SECRET}", None),
        (f"ADD User alice@{dom}", None),
        ("DONE", None),
        ("COMMIT", f"list lst@{dom} created: password=***"),
        ("CONFIG accountDefaultQuotas", None),
        ("SET totalMessageSize 10", None),
        ("DONE", None),
        ("COMMIT", f"domain {dom} defaults for new accounts: MaxMBSize=10"),
        (f"UPDATE Domain name {dom}", None),
        ("REMOVE Group grp", f"group grp@{dom} deleted"),
        ("REMOVE List lst", f"list lst@{dom} deleted"),
        ("REMOVE Account bob", f"account bob@{dom} deleted"),
        ("BACK", None),
        ("CONFIG SERVER", None),
        ("CONFIG CLI", None),
        ("SET maxAuthCommands 21", None),
        ("COMMIT", "cli changed: CliMaxAuthCommands=21"),
        ("CONFIG CLI", None),
        ("SET maxAuthCommands 20", None),
        ("COMMIT", "cli changed: CliMaxAuthCommands=20"),
        ("BACK", None),
        ("ENTER AACL", None),
        (f"ADD admin-user name logme password {SECRET}", None),
        ("DONE", "admin user logme created: password=***"),
        ("REMOVE admin-user logme", "admin user logme deleted"),
        ("DONE", None),
        ("SAVE CONFIG", "snapshot "),
    ]
    for line, detail in steps:
        r = cli.cmd(line)
        assert r.ok, (line, r)
        if detail:
            masked = re.sub(re.escape(SECRET), "***", line)
            assert any("cli: admin=admin peer=127.0.0.1: " + masked + " -> +OK" in l and detail in l
                       for l in server.log.splitlines()), (line, detail)
    assert SECRET not in server.log
