"""§4.7 filelist / cfgfileget / cfgfileset on plain files inside the root,
forbidden paths, upload framing (dot-stuffing, line ends, limits, aborted
uploads)."""

import os
import socket
import struct
import time
from pathlib import Path

import pytest

from ctrlclient import check, build_line


def put(c, path, lines):
    r = c.upload(("cfgfileset", path), lines)
    check(r, 0, f"cfgfileset {path}")
    return r


# ---------------------------------------------------------------- filelist

def test_filelist_root_and_subdir(server, c, unique_name):
    name = unique_name("fl") + ".txt"
    put(c, name, ["hello", "world"])
    assert (Path(server.root) / name).read_bytes() == b"hello\nworld\n"
    rows = c.records("filelist", "", name[:-4] + ".*")
    assert rows == [[name, "12"]]
    assert c.records("filelist", "/", name) == [[name, "12"]]

    sub = Path(server.root) / unique_name("sub")
    (sub / "nested").mkdir(parents=True)
    (sub / "a.tab").write_bytes(b"12345")
    (sub / "B.tab").write_bytes(b"")
    (sub / "c.txt").write_bytes(b"x" * 1000)
    rows = c.records("filelist", sub.name, "*")
    assert sorted(rows) == sorted([["a.tab", "5"], ["B.tab", "0"], ["c.txt", "1000"]])
    # regular files only; pattern is case-sensitive
    assert sorted(c.records("filelist", sub.name, "*.tab")) == [["B.tab", "0"], ["a.tab", "5"]]
    assert c.records("filelist", sub.name, "b.*") == []
    assert c.records("filelist", "/" + sub.name, "a.tab") == [["a.tab", "5"]]
    assert c.records("filelist", sub.name + "/nested", "*") == []


def test_filelist_errors(c):
    c.expect(-211, "filelist", "no-such-directory-here", "*")
    c.expect(-214, "filelist", "..", "*")
    c.expect(-214, "filelist", "domains/../..", "*")
    c.expect(-214, "filelist", "a/..b", "*")
    c.expect(-103, "filelist", "")
    c.expect(-103, "filelist", "", "*", "x")


@pytest.mark.parametrize("d", ["tls", "/tls", "keys"])
def test_filelist_forbidden_dirs(server, c, d):
    if d == "keys" and not (Path(server.root) / "keys").is_dir():
        (Path(server.root) / "keys").mkdir()
    c.expect(-150, "filelist", d, "*")


# ---------------------------------------------------------------- cfgfileget

def test_cfgfileget_plain_file(server, c, unique_name):
    name = unique_name("g") + ".txt"
    (Path(server.root) / name).write_bytes(b'line one\n.dot line\n..two dots\n\n"q"\tx\r\nlast')
    r = c.cmd("cfgfileget", name)
    check(r, 100)
    assert r.lines == ["line one", ".dot line", "..two dots", "", '"q"\tx', "last"]


def test_cfgfileget_dot_stuffing_on_wire(server, c, unique_name):
    name = unique_name("g") + ".txt"
    (Path(server.root) / name).write_bytes(b".a\n.\n..\nb\n")
    c.send_line(build_line("cfgfileget", name))
    check(c.read_resp(), 100)
    raw = []
    while True:
        l = c.readline()
        if l == ".":
            break
        raw.append(l)
    assert raw == ["..a", "..", "...", "b"]


def test_cfgfileget_leading_slash_and_backslash(server, c, unique_name):
    d = Path(server.root) / unique_name("dir")
    d.mkdir()
    (d / "f.tab").write_text("content\n")
    assert c.listing("cfgfileget", f"/{d.name}/f.tab") == ["content"]
    assert c.listing("cfgfileget", f"{d.name}\\f.tab") == ["content"]


def test_cfgfileget_missing_and_directory(server, c, unique_name):
    c.expect(-19, "cfgfileget", unique_name("missing") + ".tab")
    d = Path(server.root) / unique_name("dir")
    d.mkdir()
    assert c.listing("cfgfileget", d.name) == []


@pytest.mark.parametrize("path", ["../etc/passwd", "x/../../y", "..", "a/../b.tab", "/../tern.db"])
def test_cfgfileget_dotdot(c, path):
    c.expect(-214, "cfgfileget", path)


def test_cfgfileget_forbidden(server, c):
    root = Path(server.root)
    for p in ["tern.db", "/tern.db", "tern.db-wal", "tern.db-journal", "tern.db-shm"]:
        c.expect(-150, "cfgfileget", p)
    tls_files = [f for f in os.listdir(root / "tls")] if (root / "tls").is_dir() else []
    assert tls_files, "TLS material expected in DIR/tls/"
    for f in tls_files:
        c.expect(-150, "cfgfileget", f"tls/{f}")
        c.expect(-150, "cfgfileget", f"/tls/{f}")
        c.expect(-150, "cfgfileget", f"tls\\{f}")
    c.expect(-150, "cfgfileget", "tls")
    c.expect(-150, "cfgfileget", "keys/anything")


@pytest.mark.parametrize("name", ["tern.db.bak", "tern.db-mj4F2A9C"])
def test_tern_db_prefix_forbidden(server, c, name):
    """tern.db* (backups, SQLite side files) is store material: -00150."""
    p = Path(server.root) / name
    p.write_bytes((Path(server.root) / "tern.db").read_bytes()[:4096])
    try:
        c.expect(-150, "cfgfileget", name)
        r = c.upload(("cfgfileset", name), ["garbage"])
        check(r, -150)
        assert p.read_bytes()[:15] == b"SQLite format 3"
        assert [name, str(p.stat().st_size)] not in c.records("filelist", "", "tern.db*")
    finally:
        p.unlink()


def test_cfgfileget_symlink_outside_refused(server, c, tmp_path, unique_name):
    outside = tmp_path / "outside.txt"
    outside.write_text("outside secret\n")
    link = Path(server.root) / (unique_name("lnk") + ".txt")
    os.symlink(outside, link)
    r = c.cmd("cfgfileget", link.name)
    assert r.code < 0, f"symlink escaping the root was followed: {r.lines}"
    dlink = Path(server.root) / unique_name("dlnk")
    os.symlink(tmp_path, dlink)
    r = c.cmd("cfgfileget", f"{dlink.name}/outside.txt")
    assert r.code < 0, f"directory symlink escaping the root was followed: {r.lines}"
    r = c.cmd("filelist", dlink.name, "*")
    assert r.code < 0, f"filelist through an escaping symlink: {r.lines}"
    r = c.upload(("cfgfileset", link.name), ["overwritten"])
    assert r.code < 0
    assert outside.read_text() == "outside secret\n"
    # a symlink to the TLS directory is refused too
    tl = Path(server.root) / unique_name("tlslnk")
    os.symlink(Path(server.root) / "tls", tl)
    for f in os.listdir(Path(server.root) / "tls"):
        r = c.cmd("cfgfileget", f"{tl.name}/{f}")
        assert r.code < 0, f"TLS material readable through symlink {tl.name}/{f}"


# ---------------------------------------------------------------- cfgfileset

def test_cfgfileset_roundtrip_and_dot_unstuffing(server, c, unique_name):
    name = unique_name("s") + ".tab"
    lines = ['"a"\t"b"', ".leading dot", "..two", "", "   spaces  ", "last"]
    put(c, name, lines)
    assert (Path(server.root) / name).read_bytes() == \
        b'"a"\t"b"\n.leading dot\n..two\n\n   spaces  \nlast\n'
    assert c.listing("cfgfileget", name) == lines


def test_cfgfileset_raw_line_ends_and_single_dot(server, c, unique_name):
    name = unique_name("s") + ".tab"
    r = c.upload(("cfgfileset", name),
                 [b"crlf\r\n", b"lf\n", b"crcrlf\r\r\n", b".single\r\n", b"..double\r\n", b"\n"],
                 raw=True)
    check(r, 0)
    assert (Path(server.root) / name).read_bytes() == b"crlf\nlf\ncrcrlf\nsingle\n.double\n\n"


def test_cfgfileset_replace_and_delete(server, c, unique_name):
    name = unique_name("s") + ".tab"
    p = Path(server.root) / name
    put(c, name, ["one"])
    put(c, name, ["two", "three"])
    assert p.read_bytes() == b"two\nthree\n"
    put(c, name, [])
    assert not p.exists()
    c.expect(-19, "cfgfileget", name)
    put(c, name, [])          # deleting a missing file is fine


def test_cfgfileset_into_subdir_and_missing_dir(server, c, unique_name):
    d = Path(server.root) / unique_name("dir")
    d.mkdir()
    put(c, f"{d.name}/x.tab", ["in subdir"])
    assert (d / "x.tab").read_text() == "in subdir\n"
    put(c, f"/{d.name}/y.tab", ["leading slash"])
    assert (d / "y.tab").read_text() == "leading slash\n"
    r = c.upload(("cfgfileset", f"{unique_name('nodir')}/x.tab"), ["x"])
    assert r.stage == "final"
    check(r, -10)
    check(c.cmd("noop"), 0)


@pytest.mark.parametrize("path", ["../x.tab", "a/../b.tab", ".."])
def test_cfgfileset_dotdot(c, path):
    r = c.upload(("cfgfileset", path), ["x"])
    assert r.stage == "pre", "the path must be rejected before +00101"
    check(r, -214)
    check(c.cmd("noop"), 0)


def test_cfgfileset_forbidden(server, c):
    root = Path(server.root)
    db_head = (root / "tern.db").read_bytes()[:16]
    assert db_head.startswith(b"SQLite format 3")
    tls_files = sorted(os.listdir(root / "tls"))
    tls_before = {f: (root / "tls" / f).read_bytes() for f in tls_files}
    targets = ["tern.db", "/tern.db", "tern.db-wal"] + [f"tls/{f}" for f in tls_files] + \
              ["tls/new.pem", "keys/x.key"]
    for t in targets:
        r = c.upload(("cfgfileset", t), ["garbage"])
        check(r, -150, f"cfgfileset {t}")
    assert (root / "tern.db").read_bytes()[:16] == db_head
    assert {f: (root / "tls" / f).read_bytes() for f in tls_files} == tls_before
    assert not (root / "tls" / "new.pem").exists()
    # the empty upload (= delete) is refused as well
    r = c.upload(("cfgfileset", "tern.db"), [])
    check(r, -150)
    assert (root / "tern.db").exists()
    check(c.cmd("noop"), 0)
    assert isinstance(c.listing("domainlist"), list)


def test_upload_line_too_long(server, c, unique_name):
    name = unique_name("long") + ".tab"
    p = Path(server.root) / name
    put(c, name, ["old content"])
    long_line = "x" * 70000
    r = c.upload(("cfgfileset", name), ["first", long_line, "after", '"noop"'])
    check(r, -162)
    assert p.read_bytes() == b"old content\n"
    # nothing of the upload was executed as a command; session still in sync
    check(c.cmd("noop"), 0)
    assert c.listing("cfgfileget", name) == ["old content"]


def test_upload_line_at_limit_ok(server, c, unique_name):
    name = unique_name("lim") + ".tab"
    line = "y" * 60000
    put(c, name, [line])
    assert (Path(server.root) / name).read_bytes() == line.encode() + b"\n"


def test_upload_aborted_by_disconnect(server, unique_name):
    name = unique_name("abort") + ".tab"
    p = Path(server.root) / name
    with server.connect() as c1:
        put(c1, name, ["original"])
        c1.send_line(build_line("cfgfileset", name))
        check(c1.read_resp(), 101)
        c1.send_raw(b"new content\r\nmore\r\n")
        time.sleep(0.3)
    # closed without the terminating dot
    time.sleep(0.5)
    assert p.read_bytes() == b"original\n"
    with server.connect() as c2:
        assert c2.listing("cfgfileget", name) == ["original"]


def test_upload_aborted_by_reset(server, unique_name):
    name = unique_name("rst") + ".tab"
    p = Path(server.root) / name
    with server.connect() as c1:
        put(c1, name, ["original"])
        c1.send_line(build_line("cfgfileset", name))
        check(c1.read_resp(), 101)
        c1.send_raw(b"partial line without end")
        c1.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.5)
    assert p.read_bytes() == b"original\n"


def test_cfgfileset_arg_count(c):
    c.expect(-103, "cfgfileset")
    c.expect(-103, "cfgfileset", "a.tab", "b")
    c.expect(-103, "cfgfileget")
    c.expect(-103, "cfgfileget", "a.tab", "b")
