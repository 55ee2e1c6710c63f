"""Admin CLI multi-line input (spec 6.8): ESET contactNotes and the
session's end marker (root SET multilineEOF). Text lines get no reply; the
marker line gets the status and the prompt; bad text is refused as a whole
at the marker and changes nothing; the connection stays usable."""

import socket


ENTER = b"+OK: enter the text, end with a line containing only '%s'\r\n"
DONE = b"+OK: command successful\r\n<domain-account-contactInfo#> "
COMMITTED = "committing changes and switching back to previous context"


def uservars(c, dom, user):
    return dict(c.records("uservars", dom, user))


def notes(cli):
    """SHOW ATTR contactNotes: one `name = value` line before the status."""
    r = cli.ok("SHOW ATTR contactNotes")
    line = r.raw.decode().split("\r\n")[0]
    name, value = line.split(" = ", 1)
    assert name == "contactNotes"
    return value


def read_line(cli):
    """The first reply of a multi-line command: one CRLF line, no prompt."""
    cli.sock.settimeout(10)
    while b"\r\n" not in cli.buf:
        chunk = cli.sock.recv(4096)
        assert chunk, "connection closed"
        cli.buf += chunk
    i = cli.buf.index(b"\r\n") + 2
    line, cli.buf = cli.buf[:i], cli.buf[i:]
    return line


def nothing_sent(cli, wait=0.4):
    cli.sock.settimeout(wait)
    try:
        data = cli.sock.recv(4096)
    except socket.timeout:
        return True
    cli.buf += data
    return False


def enter_contact(cli, dom, user, create=True):
    cli.ok(f"UPDATE Domain name {dom}", "domain")
    if create:
        cli.ok(f"ADD Account name {user} password Pw-{user}.1", "domain-account")
    else:
        cli.ok(f"UPDATE Account name {user}", "domain-account")
    cli.ok("CONFIG ContactInfo", "domain-account-contactInfo")


def eset(cli, lines, marker=b"."):
    cli.send_line("ESET contactNotes")
    assert read_line(cli) == ENTER % marker
    for ln in lines:
        cli.send(ln + b"\r\n")
    assert nothing_sent(cli), cli.buf   # text lines are not answered
    cli.send(marker + b"\r\n")
    return cli.read_reply()


def test_eset_notes_stored_with_the_account(cli, c, dom):
    enter_contact(cli, dom, "ann")
    r = eset(cli, [b"first line", b"..a line that began with a dot", b"tab\there", b"back\\slash",
                   b'a "quote"', b""])
    assert r.raw == DONE
    # the pending value: its stored form (\n \t \\ \" escapes) between quotes
    stored = 'first line\\n.a line that began with a dot\\ntab\\there\\nback\\\\slash\\na \\"quote\\"\\n'
    assert notes(cli) == f'"{stored}"'
    cli.ok("DONE", "domain-account")
    assert cli.ok("COMMIT", "domain").text == COMMITTED
    v = uservars(c, dom, "ann")
    assert v["ContactInfo.contactNotes"] == stored
    # an empty text clears the notes
    cli.ok("UPDATE Account name ann", "domain-account")
    cli.ok("CONFIG ContactInfo", "domain-account-contactInfo")
    assert eset(cli, []).raw == DONE
    cli.ok("DONE", "domain-account")
    cli.ok("COMMIT", "domain")
    assert uservars(c, dom, "ann").get("ContactInfo.contactNotes", "") == ""


def test_custom_end_marker_is_per_session(server, cli, c, dom):
    cli.ok("SET multilineEOF END-OF-NOTES", "")
    enter_contact(cli, dom, "bob")
    r = eset(cli, [b".", b"line two"], marker=b"END-OF-NOTES")
    assert r.raw == DONE
    cli.ok("DONE", "domain-account")
    cli.ok("COMMIT", "domain")
    assert uservars(c, dom, "bob")["ContactInfo.contactNotes"] == "\\nline two"
    # another session still ends with '.'
    other = server.cli()
    enter_contact(other, dom, "bob", create=False)
    assert eset(other, [b"x"]).raw == DONE
    other.close()


def test_set_multiline_eof_bad_values(cli):
    cli.err("SET multilineEOF \"two words\"",
            "Invalid value for multilineEOF (no spaces: the marker is a whole line)", "")
    cli.err("SET multilineEOF " + "x" * 40, "Invalid value for multilineEOF (1 to 31 characters)", "")
    cli.err("SET multilineEOF", context="")
    cli.ok("CONFIG Server", "server")
    cli.err("SET multilineEOF END", context="server")     # a root command only


def test_bad_text_is_refused_whole_and_changes_nothing(cli, c, dom):
    enter_contact(cli, dom, "cid")
    assert eset(cli, [b"kept"]).raw == DONE
    cli.ok("DONE", "domain-account")
    cli.ok("COMMIT", "domain")
    cli.ok("UPDATE Account name cid", "domain-account")
    cli.ok("CONFIG ContactInfo", "domain-account-contactInfo")
    cases = [
        ([b"good", b"bad\x00nul"], "a NUL byte in line 2"),
        ([b"\xc3\x28 not utf-8"], "invalid UTF-8 in line 1"),
        ([b"ok", b"ok", b"bell\x07"], "a control character in line 3"),
        ([b"y" * 5000, b"after"], "line 1 is longer than 4096 bytes"),
        ([b"z" * 100] * 50, "more than 4096 bytes of text"),
    ]
    for lines, why in cases:
        r = eset(cli, lines)
        assert r.status == f"-ERR: The text for contactNotes was refused ({why}); nothing was changed", r
        assert r.context == "domain-account-contactInfo"
        # the value from before is still the pending one, the session goes on
        assert notes(cli) == '"kept"'
    # text that fits the line limits but not the stored form (escapes double it)
    r = eset(cli, [b"\\" * 1000] * 3)
    assert r.status == "-ERR: The text for contactNotes is too long (at most 4096 bytes stored); " \
                       "nothing was changed"
    cli.ok("DONE", "domain-account")
    cli.ok("COMMIT", "domain")
    assert uservars(c, dom, "cid")["ContactInfo.contactNotes"] == "kept"


def test_disconnect_in_the_middle_changes_nothing(server, c, dom):
    cli = server.cli()
    enter_contact(cli, dom, "dan")
    cli.ok("DONE", "domain-account")
    cli.ok("COMMIT", "domain")
    cli.ok("UPDATE Account name dan", "domain-account")
    cli.ok("CONFIG ContactInfo", "domain-account-contactInfo")
    cli.send_line("ESET contactNotes")
    assert read_line(cli) == ENTER % b"."
    cli.send(b"half of a note\r\n")
    cli.close()
    again = server.cli()
    again.ok(f"UPDATE Domain name {dom}", "domain")
    again.ok("UPDATE Account name dan", "domain-account")
    again.ok("CONFIG ContactInfo", "domain-account-contactInfo")
    assert notes(again) == '""'
    again.close()
    assert "ContactInfo.contactNotes" not in uservars(c, dom, "dan")


def test_set_contact_notes_points_to_eset_and_help_lists_it(cli, dom):
    enter_contact(cli, dom, "eve")
    r = cli.err("SET contactNotes hello", context="domain-account-contactInfo")
    assert "ESET contactNotes" in r.text
    assert "ESET contactNotes" in cli.ok("HELP").raw.decode()
    # ESET is a contact-info command only
    cli.ok("DONE", "domain-account")
    cli.err("ESET contactNotes", context="domain-account")


# ---- the tern client ----

def test_tern_script_sends_multiline_text(server, c, dom, tmp_path):
    from test_tern_cli import tern
    cli = server.cli()
    enter_contact(cli, dom, "fay")
    cli.ok("DONE", "domain-account")
    cli.ok("COMMIT", "domain")
    cli.close()
    script = tmp_path / "notes.txt"
    script.write_text(f"UPDATE Domain name {dom}\nUPDATE Account name fay\nCONFIG ContactInfo\n"
                      "ESET contactNotes\n# not a comment here\n\n.starts with a dot\nREMOVE Domain x\n.\n"
                      "DONE\nCOMMIT\n")
    r = tern(server, "--json", "--script", str(script))
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert uservars(c, dom, "fay")["ContactInfo.contactNotes"] == \
        "# not a comment here\\n\\n.starts with a dot\\nREMOVE Domain x"
    # a custom marker, set in the script, ends the text
    script.write_text(f"SET multilineEOF EOT\nUPDATE Domain name {dom}\nUPDATE Account name fay\n"
                      "CONFIG ContactInfo\nESET contactNotes\n.\nEOT\nDONE\nCOMMIT\n")
    r = tern(server, "--script", str(script))
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert uservars(c, dom, "fay")["ContactInfo.contactNotes"] == "."
    # a text without its marker: nothing is sent at all
    script.write_text(f"UPDATE Domain name {dom}\nUPDATE Account name fay\nCONFIG ContactInfo\n"
                      "ESET contactNotes\nlost\nDONE\nCOMMIT\n")
    r = tern(server, "--script", str(script))
    assert r.returncode == 2 and f"{script}:4: the text of this command is not ended" in r.stderr
    assert uservars(c, dom, "fay")["ContactInfo.contactNotes"] == "."
