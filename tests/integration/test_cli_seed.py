"""The example sequence of seed 000 (create a domain, add an account with
contact info and a 5 GB quota, commit, save), replayed verbatim against a
fresh server, then its effect checked everywhere: the controller, SMTP
delivery, POP3, the quota and the configuration snapshot."""

import poplib
import smtplib

import pytest

from smtpclient import make_message, maildir, wait_token

COMMITTED = "+OK: committing changes and switching back to previous context"
OK = "+OK: command successful"

PM_PASSWORD = "Postmaster-Pw.1"
JOHN_PASSWORD = "John-Pw.2"

# (prompt the command is typed at, command, expected status, prompt after)
SEED = [
    ("#", "CREATE Domain name example.com domainLocation /axigen/var/domains/example.com "
          f"wmFilterTemplatePath none postmasterPassword {PM_PASSWORD}", OK, "domain-create#"),
    ("domain-create#", "COMMIT", COMMITTED, "#"),
    ("#", "UPDATE Domain name example.com", OK, "domain#"),
    ("domain#", f"ADD Account name john password {JOHN_PASSWORD}", OK, "domain-account#"),
    ("domain-account#", "CONFIG ContactInfo", OK, "domain-account-contactInfo#"),
    ("domain-account-contactInfo#", "SET firstName John", OK, "domain-account-contactInfo#"),
    ("domain-account-contactInfo#", "SET lastName Doe", OK, "domain-account-contactInfo#"),
    ("domain-account-contactInfo#", "DONE", OK, "domain-account#"),
    ("domain-account#", "CONFIG Quotas", OK, "domain-account-quotas#"),
    ("domain-account-quotas#", "SET totalMessageSize 5242880", OK, "domain-account-quotas#"),
    ("domain-account-quotas#", "DONE", OK, "domain-account#"),
    ("domain-account#", "COMMIT", COMMITTED, "domain#"),
    ("domain#", "BACK", OK, "#"),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    from conftest import _finish, _start_server
    srv = _start_server(tmp_path_factory, "ternseed")
    try:
        cli = srv.cli()
        prompt = "#"
        for at, line, status, after in SEED:
            assert prompt == at
            r = cli.cmd(line)
            assert r.raw == f"{status}\r\n<{after}> ".encode(), (line, r)
            prompt = after
        r = cli.cmd("SAVE CONFIG")
        assert r.ok and r.context == ""
        assert r.pieces[-2] == OK
        srv.snapshot = r.data[0].split()[-1]
        cli.cmd("EXIT")
        cli.close()
        yield srv
    finally:
        _finish(srv)


def test_controller_sees_the_account(seeded):
    c = seeded.connect()
    assert [r[0] for r in c.records("domainlist")] == ["example.com"]
    assert [u[1] for u in c.records("userlist", "example.com")] == ["postmaster", "john"]
    v = dict(c.records("uservars", "example.com", "john"))
    assert v["ContactInfo.firstName"] == "John"
    assert v["ContactInfo.lastName"] == "Doe"
    assert v["RealName"] == "John Doe"
    assert v["MaxMBSize"] == "5242880"
    c.close()


def test_smtp_delivers_and_pop3_reads(seeded):
    msg = make_message("sender@remote.example", "john@example.com", "seed")
    tok = msg.split(b"token ")[1].split(b"\r\n")[0].decode()
    with smtplib.SMTP("127.0.0.1", seeded.smtp_port, timeout=10) as s:
        s.sendmail("sender@remote.example", ["john@example.com"], msg)
    wait_token(maildir(seeded.root, "example.com", "john"), tok)
    p = poplib.POP3("127.0.0.1", seeded.pop3_port, timeout=10)
    p.user("john@example.com")
    p.pass_(JOHN_PASSWORD)
    n, _ = p.stat()
    assert n == 1
    _, lines, _ = p.retr(1)
    assert any(tok.encode() in line for line in lines)
    p.quit()
    # the postmaster created with the domain works too
    p = poplib.POP3("127.0.0.1", seeded.pop3_port, timeout=10)
    p.user("postmaster@example.com")
    p.pass_(PM_PASSWORD)
    p.quit()


def set_quota(srv, kb):
    cli = srv.cli()
    cli.ok("UPDATE Domain name example.com", "domain")
    cli.ok("UPDATE Account john", "domain-account")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    cli.ok(f"SET totalMessageSize {kb}")
    cli.ok("DONE", "domain-account")
    cli.ok("COMMIT", "domain")
    cli.close()


def rcpt_code(srv, size):
    with smtplib.SMTP("127.0.0.1", srv.smtp_port, timeout=10) as s:
        s.ehlo("seed.test")
        code, msg = s.mail("x@remote.example", [f"SIZE={size}"])
        assert code == 250, (code, msg)
        return s.rcpt("john@example.com")


def test_quota_is_enforced(seeded):
    # 5 GB leaves room for the largest message the server takes (20 MB)
    assert rcpt_code(seeded, 20 * 1024 * 1024)[0] == 250
    # the quota the CLI sets is the one delivery checks
    set_quota(seeded, 4)
    code, msg = rcpt_code(seeded, 5000)
    assert code == 552 and msg.startswith(b"5.2.2"), (code, msg)
    set_quota(seeded, 5242880)
    assert rcpt_code(seeded, 5000)[0] == 250


def test_snapshot_holds_the_result(seeded):
    snap = seeded.root / "snapshots" / seeded.snapshot
    assert '"example.com"\t"john"' in (snap / "mailusers.tab").read_text()
    assert '"example.com"\t"john"\t"MaxMBSize"\t"5242880"' in (snap / "uservars.tab").read_text()
    assert JOHN_PASSWORD not in (snap / "mailusers.tab").read_text()


def test_survives_restart(seeded):
    seeded.restart()
    cli = seeded.cli()
    cli.ok("UPDATE Domain example.com", "domain")
    cli.ok("UPDATE Account john", "domain-account")
    cli.ok("CONFIG ContactInfo", "domain-account-contactInfo")
    assert cli.ok("SHOW ATTR firstName").pieces[0] == 'firstName = "John"'
    cli.ok("BACK")
    cli.ok("CONFIG Quotas", "domain-account-quotas")
    assert cli.ok("SHOW ATTR totalMessageSize").pieces[0] == "totalMessageSize = 5242880"
    cli.close()


def test_log_names_admin_peer_and_masks_passwords(seeded):
    log = seeded.log
    assert PM_PASSWORD not in log and JOHN_PASSWORD not in log
    assert ("cli: admin=admin peer=127.0.0.1: COMMIT -> " + COMMITTED +
            "; domain example.com created with account postmaster (password ***)") in log
    assert ("account john@example.com created: password=*** ContactInfo.firstName=John "
            "ContactInfo.lastName=Doe MaxMBSize=5242880 RealName=John Doe") in log
