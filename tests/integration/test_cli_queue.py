"""The CLI's queue context (<queue#>): LIST, LIST ID, LIST FILTER with
lastFilter, RETRY, NDR, DELETE, FREEZE, FORCE QUEUE - over the same queue as
the controller (etrn, frozlist) and outbound delivery to a loopback sink."""

import time
from pathlib import Path

import pytest

from cliclient import show_attrs, table_rows
from ctrlclient import check
from smtpsink import SmtpSink
from test_ctrl_server import set_settings
from test_outbound import maildir, out_server, wait  # noqa: F401
from test_outbound_routing import entries, send_many

HEADER = "id | size | age | retries | status | nextSchedule | sender | recipients"


@pytest.fixture
def queued(out_server):
    """Three messages deferred by a sink, and a logged-in CLI in <queue#>."""
    srv, c = out_server
    sink = SmtpSink(mode="defer")
    set_settings(c, DefaultSMTPGateways=f"127.0.0.1:{sink.port}", QueueRetrySchedule="3600",
                 DelayWarningTime=0)
    send_many(srv, ["a1@one.example", "a2@one.example", "b1@two.example"], "q")
    assert wait(lambda: sink.rcpt_attempts == 3)
    cli = srv.cli()
    cli.ok("ENTER QUEUE", "queue")
    yield srv, c, cli, sink
    cli.close()
    sink.close()


def rows(r):
    return [[cell.strip() for cell in line.split(" | ")] for line in table_rows(r)]


def by_rcpt(r):
    return {row[7]: row for row in rows(r)}


def test_list_layout_and_cells(queued):
    srv, c, cli, sink = queued
    r = cli.ok("LIST", "queue")
    assert r.pieces[1] == "The list of queue entries:"
    assert r.pieces[3] == HEADER and r.pieces[4].startswith("------")
    got = by_rcpt(r)
    assert set(got) == {"a1@one.example", "a2@one.example", "b1@two.example"}
    for row in got.values():
        assert len(row) == 8 and all(cell and " " not in cell for cell in row)
        assert row[3] == "1" and row[4] == "deferred" and row[6] == "alice@out.test"
        assert int(row[1]) > 0 and row[5].endswith("Z")
    ids = {row[0] for row in got.values()}
    assert ids == {p.name for p in entries(srv)}


def test_list_id_shows_the_failure(queued):
    srv, c, cli, sink = queued
    mid = by_rcpt(cli.ok("LIST"))["b1@two.example"][0]
    r = cli.ok(f"LIST ID {mid}", "queue")
    a = show_attrs(r)
    assert a["id"] == f'"{mid}"' and a["retries"] == "1" and a["status"] == "deferred"
    assert a["recipients"] == '"b1@two.example"' and a["sender"] == '"alice@out.test"'
    assert "451 4.3.0 try later" in a["message"]
    assert set(a) == {"id", "size", "age", "retries", "status", "nextSchedule", "sender", "recipients", "message"}
    cli.err("LIST ID 123.nope", "Message 123.nope not found", "queue")
    cli.err("LIST ID ../../tern.db", "Message ../../tern.db not found", "queue")


def test_filter_and_last_filter_retry(queued):
    srv, c, cli, sink = queued
    r = cli.ok("LIST FILTER recipient=one.example retries=1 status=deferred", "queue")
    assert sorted(row[7] for row in rows(r)) == ["a1@one.example", "a2@one.example"]
    r = cli.ok("LIST FILTER recipient!=one.example size<1M age<1h")
    assert [row[7] for row in rows(r)] == ["b1@two.example"]
    r = cli.ok("LIST FILTER recipient=one.example")
    sink.mode = "accept"
    r = cli.ok("RETRY lastFilter", "queue")
    assert r.text.startswith("2 message(s) rescheduled now")
    assert wait(lambda: len(sink.messages) == 2)
    time.sleep(0.5)
    assert sorted(m[1][0] for m in sink.messages) == ["a1@one.example", "a2@one.example"]
    assert [row[7] for row in rows(cli.ok("LIST"))] == ["b1@two.example"]
    cli.err("LIST FILTER bogus=1", "Invalid filter condition 'bogus=1'", "queue")
    cli.err("LIST FILTER size>12Q", "Invalid value in filter condition 'size>12Q'", "queue")
    cli.err("LIST FILTER", None, "queue")
    # a date filter, split on its spaces by the tokenizer or quoted
    assert len(rows(cli.ok('LIST FILTER next_schedule>"2 Jan 2007 17:34"'))) == 1
    assert len(rows(cli.ok("LIST FILTER next_schedule<2 Jan 2007 17:34"))) == 0


def test_retry_one_and_force_queue(queued):
    srv, c, cli, sink = queued
    got = by_rcpt(cli.ok("LIST"))
    sink.mode = "accept"
    cli.ok(f"RETRY {got['b1@two.example'][0]}", "queue")
    assert wait(lambda: len(sink.messages) == 1)
    assert sink.messages[0][1] == ["b1@two.example"]
    r = cli.ok("FORCE QUEUE", "queue")
    assert r.text == "2 message(s) scheduled for delivery now"
    assert wait(lambda: len(sink.messages) == 3)
    assert wait(lambda: entries(srv) == [])
    assert table_rows(cli.ok("LIST")) == []
    cli.err("RETRY 1.2.nothere", "Message 1.2.nothere not found", "queue")


def test_ndr_bounces_and_removes(queued):
    srv, c, cli, sink = queued
    mid = by_rcpt(cli.ok("LIST"))["b1@two.example"][0]
    cli.ok(f"NDR {mid}", "queue")
    assert wait(lambda: len(maildir(srv.root, "out.test", "alice")) == 1)
    b = maildir(srv.root, "out.test", "alice")[0]
    assert b.get_content_type() == "multipart/report"
    text = b.as_string()
    assert "Action: failed" in text and "b1@two.example" in text and "cancelled by the administrator" in text
    assert "b1@two.example" not in by_rcpt(cli.ok("LIST"))
    assert not Path(srv.root, "spool", "remote", mid).exists()


def test_delete_last_filter_without_notice(queued):
    srv, c, cli, sink = queued
    cli.err("DELETE lastFilter", "No LIST FILTER in this session: lastFilter is empty", "queue")
    cli.ok("LIST FILTER recipient=one.example")
    r = cli.ok("DELETE lastFilter", "queue")
    assert r.text.startswith("2 message(s) deleted")
    assert [row[7] for row in rows(cli.ok("LIST"))] == ["b1@two.example"]
    time.sleep(0.5)
    assert maildir(srv.root, "out.test", "alice") == []  # no notice to the sender
    log = Path(srv.root, "logs", "ternd.log").read_text()
    assert "queue delete" in log and "via cli" in log


def test_freeze_moves_to_the_frozen_queue(queued):
    srv, c, cli, sink = queued
    mid = by_rcpt(cli.ok("LIST"))["a1@one.example"][0]
    cli.ok(f"FREEZE {mid}", "queue")
    assert "a1@one.example" not in by_rcpt(cli.ok("LIST"))
    frozen = c.records("frozlist")
    assert [f[0] for f in frozen] == [mid]
    log = c.listing("frozgetlog", "0", "0", mid)
    assert any("451" in l for l in log) and any("frozen by the administrator" in l for l in log)
    # frozsubmit sends it back through delivery into the outbound queue
    check(c.cmd("frozsubmit", "0", "0", mid), 0)
    assert wait(lambda: "a1@one.example" in by_rcpt(cli.ok("LIST")))


def test_queue_context_help_and_navigation(queued):
    srv, c, cli, sink = queued
    r = cli.ok("HELP", "queue")
    text = "\n".join(r.pieces)
    for cmd in ("LIST FILTER", "LIST ID", "RETRY", "NDR", "DELETE", "FORCE QUEUE", "FREEZE"):
        assert cmd in text
    cli.err("SET foo bar", None, "queue")
    cli.ok("BACK", "")
    cli.err("LIST FILTER size>1", None, "")
    cli.ok("ENTER QUEUE", "queue")


def test_tern_client_sees_the_same_queue(queued):
    """`tern --json` through the CLI: the queue rows parsed field by field;
    DELETE in a script runs only with --yes."""
    import json
    from test_tern_cli import tern
    srv, c, cli, sink = queued
    r = tern(srv, "--json", "ENTER QUEUE", "LIST")
    assert r.returncode == 0, r.stderr
    listing = [json.loads(line) for line in r.stdout.splitlines() if line.strip()][-1]
    assert listing["context_after"] == "<queue#>" and listing["status"] == "ok"
    got = sorted(listing["rows"], key=lambda row: row["recipients"])
    assert [row["recipients"] for row in got] == ["a1@one.example", "a2@one.example", "b1@two.example"]
    assert all(row["status"] == "deferred" and row["retries"] == "1" for row in got)
    mid = got[0]["id"]
    r = tern(srv, "--stdin", stdin=f"ENTER QUEUE\nDELETE {mid}\n")
    assert r.returncode != 0
    assert len(table_rows(cli.ok("LIST"))) == 3
    r = tern(srv, "--stdin", "--yes", stdin=f"ENTER QUEUE\nDELETE {mid}\n")
    assert r.returncode == 0, r.stdout + r.stderr
    assert mid not in {row[0] for row in rows(cli.ok("LIST"))}
    assert len(table_rows(cli.ok("LIST"))) == 2
