"""A damaged index, and `lastseen reindex`, which rebuilds it from the WARC files (#7).

The archive of several real runs against a changing site (an edit, a redirect,
a 404 and back, a DNS failure, revisits, a gzip-coded page, a target that left
the watchlist) has its index pages overwritten. Every command then says so in
one `Error:` line pointing at `lastseen reindex` and changes nothing; reindex
rebuilds runs, targets, captures, exchanges and texts equal to the original
index (compared with a copy taken before the damage), and the next run against
the unchanged site finds every target unchanged and writes revisit records.
"""

from __future__ import annotations

import base64
import fcntl
import gzip
import hashlib
import os
import re
import shutil
import sqlite3
import zlib
from pathlib import Path

import pytest

from .archive_checks import verify_archive
from .helpers import assert_contract, lastseen, write_watchlist
from .site import Site

DNS_URL = "http://lastseen-fixture.invalid/page"


def _page(title: str, body: str) -> str:
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"


@pytest.fixture(scope="module")
def site():
    site = Site()
    yield site
    site.close()


@pytest.fixture(scope="module")
def base(site, tmp_path_factory) -> Path:
    """A directory whose archive holds three real runs; ``original.db`` is a copy of its index."""
    root = tmp_path_factory.mktemp("reindex")
    site.set("/edit", _page("Press", "<p>We supplied 1000 cameras.</p><p class='ad'>ad one</p>"))
    site.set("/gone", _page("Gone soon", "<p>This page will vanish and come back.</p>"))
    site.redirect("/old", "/new")
    site.set("/new", _page("New place", "<p>The page moved here.</p>"))
    site.set("/same", _page("Same", "<p>Never changes.</p>"))
    site.set("/gz", _page("Zipped", "<p>Stored gzip-coded.</p>"), gzip=True)
    targets = [
        {"name": "edit", "url": site.url("/edit"), "ignore": [".ad"], "tags": ["press"]},
        {"name": "gone", "url": site.url("/gone")},
        {"name": "moved", "url": site.url("/old")},
        {"name": "same", "url": site.url("/same"), "select": "body"},
        {"name": "gz", "url": site.url("/gz")},
        {"name": "dns", "url": DNS_URL},
    ]
    write_watchlist(root / "watchlist.yaml", targets)
    first = lastseen(root, "run", "--json")
    assert first.exit_code == 0, first.stderr
    site.set("/edit", _page("Press", "<p>We supplied 2000 cameras.</p><p class='ad'>ad two</p>"))
    site.remove("/gone")
    second = lastseen(root, "run", "--json", "--force")
    assert second.exit_code == 0, second.stderr
    assert [e["verdict"] for e in second.json["events"]] == [
        "changed", "vanished", "unchanged", "unchanged", "unchanged", "unreachable"]
    site.set("/gone", _page("Gone soon", "<p>This page will vanish and come back.</p>"))
    write_watchlist(root / "watchlist.yaml", targets[:-1])  # dns leaves the watchlist
    third = lastseen(root, "run", "--json", "--force")
    assert third.exit_code == 0, third.stderr
    assert [e["verdict"] for e in third.json["events"]] == ["unchanged", "restored", "unchanged", "unchanged",
                                                            "unchanged"]
    shutil.copy(root / "archive" / "lastseen.db", root / "original.db")
    return root


@pytest.fixture
def project(base, tmp_path) -> Path:
    shutil.copy(base / "watchlist.yaml", tmp_path / "watchlist.yaml")
    shutil.copytree(base / "archive", tmp_path / "archive")
    return tmp_path


def damage_index(db: Path, tables=("runs", "targets", "capture_rows", "event_rows")) -> None:
    """Overwrite the root pages of ``tables`` in the middle of a real index, as a failing disk would (the tables
    of the views: ``captures`` and, since schema 21, ``events``)."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    roots = [r for (r,) in conn.execute(
        f"select rootpage from sqlite_master where name in ({', '.join('?' * len(tables))})", tables)]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    assert len(roots) == len(tables) and all(1 < r < pages for r in roots)
    with open(db, "r+b") as fh:
        for root in roots:
            fh.seek((root - 1) * page)
            fh.write(bytes(range(256)) * (page // 256))


def _by_record(captures: list[dict]) -> list[dict]:
    """``captures`` rows with ``reused`` (the id of the capture whose extraction a recapture reused, which a
    rebuilt index numbers anew) as that capture's target and WARC record id, and without ``refers_exchange``
    (the id of the exchange of the response a revisit refers to, numbered anew: what it stands for is compared,
    the ``refers_to_*`` columns, and whether there is one)."""
    by_id = {c["id"]: (c["target"], c["warc_record_id"]) for c in captures}
    return [{**{k: v for k, v in c.items() if k != "refers_exchange"}, "reused": by_id.get(c["reused"]),
             "refers_exchange": c["refers_exchange"] is not None} for c in captures]


def _rows(db: Path, table: str, *, order: str = "rowid") -> list[dict]:
    conn = sqlite3.connect(db)
    try:
        cur = conn.execute(f"select * from {table} order by {order}")
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row)) for row in cur]
    finally:
        conn.close()


def _listing(directory: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _one_error_line(ran, db: str = "archive/lastseen.db") -> None:
    assert ran.exit_code == 1 and ran.stdout == "", (ran.exit_code, ran.stdout, ran.stderr)
    assert ran.stderr.startswith("Error: ") and ran.stderr.count("\n") == 1, ran.stderr
    assert db in ran.stderr and "damaged" in ran.stderr
    assert "`lastseen reindex --archive archive`" in ran.stderr and "malformed" in ran.stderr


# -- a damaged index ----------------------------------------------------------------------------------

def test_damaged_index_pages_give_one_error_line_pointing_at_reindex(project):
    db = project / "archive" / "lastseen.db"
    damage_index(db)
    damaged = db.read_bytes()
    warcs = _listing(project / "archive" / "warcs")
    for args in (("run", "--json"), ("run", "--force"), ("status",), ("status", "--json"),
                 ("report", "--since", "7d", "--out", "weekly")):
        _one_error_line(lastseen(project, *args))
    assert db.read_bytes() == damaged  # run repairs nothing on its own
    assert _listing(project / "archive" / "warcs") == warcs  # ... and fetched nothing
    assert not list(project.glob("*/*/index.html")) and not list(project.glob("*/index.html"))  # no report


def test_an_index_that_is_not_a_database_points_at_reindex(project):
    db = project / "archive" / "lastseen.db"
    db.write_bytes(b"this is not an SQLite index " * 200)
    for args in (("run",), ("status",), ("report", "--since", "7d", "--out", "weekly")):
        ran = lastseen(project, *args)
        assert ran.exit_code == 1 and ran.stderr.startswith("Error: ") and ran.stderr.count("\n") == 1
        assert "`lastseen reindex --archive archive`" in ran.stderr, ran.stderr


# -- reindex ------------------------------------------------------------------------------------------

#: Columns of ``runs`` that no WARC record holds: how the run ended, its report and alert results.
RUN_STATE = ("status", "finished", "report", "alerts")


def test_reindex_rebuilds_the_index_from_the_warc_files(project, base, site):
    archive = project / "archive"
    db = archive / "lastseen.db"
    original = base / "original.db"
    damage_index(db)
    damaged = db.read_bytes()

    ran = lastseen(project, "reindex")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stderr == ""
    out = ran.stdout
    assert out.startswith("lastseen reindex: rebuilt archive/lastseen.db from 3 WARC files: 3 runs, 6 targets, ")
    assert "events (each capture's verdict" in out and "alert state" in out and "recoveries" in out
    assert "1 target not in watchlist.yaml extracted with no select/ignore: dns" in out
    (kept,) = archive.glob("lastseen.db.broken-*")
    assert f"the old index is kept as archive/{kept.name}" in out
    assert kept.read_bytes() == damaged
    assert not list(archive.glob("lastseen.db.rebuilding*"))

    # runs: one per isPartOf, with what the warcinfo records say; how each ended is not in them.
    old_runs, new_runs = _rows(original, "runs", order="id"), _rows(db, "runs", order="id")
    assert [{k: v for k, v in r.items() if k not in RUN_STATE} for r in new_runs] == [
        {k: v for k, v in r.items() if k not in RUN_STATE} for r in old_runs]
    assert [(r["status"], r["report"], r["alerts"]) for r in new_runs] == [("rebuilt", None, None)] * 3
    for old, new in zip(old_runs, new_runs):
        assert old["started"] <= new["finished"] <= old["finished"]
    # targets, texts: the same rows.
    assert _rows(db, "targets", order="name") == _rows(original, "targets", order="name")
    assert _rows(db, "texts", order="sha256") == _rows(original, "texts", order="sha256")
    # captures: every column the recorder wrote, ids aside (the duration from microsecond times).
    # (in time order: the index gets a capture when it is judged, a page awaiting a probe later)
    old_caps, new_caps = (_by_record(_rows(path, "captures", order=BY_TIME)) for path in (original, db))
    assert len(new_caps) == len(old_caps) == 25  # the 404 fetched again; a probe and the home page for `edit`
    # and the robots.txt of each host with a due target, once per run (settings.watch_robots)
    assert sorted((c["run_id"], c["url"]) for c in new_caps if c["role"] == "robots") == sorted(
        {(c["run_id"], c["url"].split("/", 3)[0] + "//" + c["url"].split("/", 3)[2] + "/robots.txt")
         for c in old_caps if c["role"] == "page"})
    for old, new in zip(old_caps, new_caps):
        assert abs(old.pop("duration_ms") - new.pop("duration_ms")) <= 1
        assert {k: v for k, v in new.items() if k != "id"} == {k: v for k, v in old.items() if k != "id"}
    kinds = {(c["target"], c["record_type"], c["status"]) for c in new_caps}
    assert {("moved", "revisit", 200), ("gone", "response", 404), ("dns", None, None)} <= kinds
    # exchanges: every column but their ids (durations come from the capture records).
    ids = {c["id"]: i for i, c in enumerate(_rows(original, "captures", order=BY_TIME))}
    new_ids = {c["id"]: i for i, c in enumerate(_rows(db, "captures", order=BY_TIME))}

    def exchanges(path, index):
        return sorted(({**{k: v for k, v in r.items() if k not in ("id", "capture_id")},
                        "capture": index[r["capture_id"]]} for r in _rows(path, "exchanges", order="id")),
                      key=lambda r: (r["capture"], r["seq"]))

    assert exchanges(db, new_ids) == exchanges(original, ids)
    assert _rows(db, "events") == [] and _rows(db, "recoveries") == []
    verify_archive(archive)  # every rebuilt row points at its record

    # The next run compares with the right last good captures: nothing is new, nothing changed.
    write_watchlist(project / "watchlist.yaml", [
        {"name": "edit", "url": site.url("/edit"), "ignore": [".ad"], "tags": ["press"]},
        {"name": "gone", "url": site.url("/gone")}, {"name": "moved", "url": site.url("/old")},
        {"name": "same", "url": site.url("/same"), "select": "body"}, {"name": "gz", "url": site.url("/gz")},
    ])
    after = lastseen(project, "run", "--json", "--force")
    assert after.exit_code == 0, after.stderr
    assert_contract(after.json)
    assert [(e["target"], e["verdict"]) for e in after.json["events"]] == [
        ("edit", "unchanged"), ("gone", "unchanged"), ("moved", "unchanged"), ("same", "unchanged"),
        ("gz", "unchanged")]
    conn = sqlite3.connect(db)
    try:
        written = [r for (r,) in conn.execute(
            "select record_type from captures where run_id = ? order by id", (after.json["run"]["id"],))]
    finally:
        conn.close()
    # and the host's robots.txt (a 404, the same as last run's: a revisit too), indexed last (watch_robots)
    assert written == ["revisit"] * 6
    verify_archive(archive)


def test_reindex_while_a_run_holds_the_lock_exits_3_and_touches_nothing(project):
    archive = project / "archive"
    damage_index(archive / "lastseen.db")
    before = _listing(archive)
    fd = os.open(archive / "lastseen.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        ran = lastseen(project, "reindex")
        assert ran.exit_code == 3 and ran.stdout == ""
        assert ran.stderr.startswith("Error: another lastseen run") and ran.stderr.count("\n") == 1
        assert "`lastseen reindex` did nothing" in ran.stderr and "`lastseen reindex --wait 5m`" in ran.stderr
        waited = lastseen(project, "reindex", "--wait", "1s")
        assert waited.exit_code == 3 and "after waiting 1 s" in waited.stderr
    finally:
        os.close(fd)
    assert _listing(archive) == before


def test_reindex_with_no_index_and_without_a_watchlist(project, base):
    archive = project / "archive"
    (archive / "lastseen.db").unlink()
    (project / "watchlist.yaml").unlink()
    ran = lastseen(project, "reindex")
    assert ran.exit_code == 0, ran.stderr
    assert "there was no index to keep" in ran.stdout and not list(archive.glob("lastseen.db.broken-*"))
    assert "no watchlist: every target was extracted with no select/ignore" in ran.stdout
    # Without the watchlist, `edit` is extracted without its `ignore`, `same` without its `select`.
    rebuilt = {(c["target"], c["started"]): c for c in _rows(archive / "lastseen.db", "captures")}
    for old in _rows(base / "original.db", "captures"):
        if old["role"] not in ("page", "refetch"):
            continue  # a probe of the host is read whole, with or without the watchlist
        new = rebuilt[(old["target"], old["started"])]
        assert new["payload_sha256"] == old["payload_sha256"] and new["good"] == old["good"]
        assert (new["extract_key"] == old["extract_key"]) == (old["target"] not in ("edit", "same"))
    missing = lastseen(project, "reindex", "--watchlist", "nowhere.yaml")
    assert missing.exit_code == 2 and "nowhere.yaml" in missing.stderr  # a watchlist named is required


BY_TIME = "started, target"


def _without_capture_records(path: Path) -> None:
    """Rewrite a WARC file as lastseen wrote them before capture records: every metadata record dropped, and
    its warcinfo record without the field saying its captures are listed in batch records (#17)."""
    data, kept, pos = path.read_bytes(), [], 0
    while pos < len(data):
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        record = d.decompress(data[pos:])
        end = len(data) - len(d.unused_data)
        head, block = record[:-4].split(b"\r\n\r\n", 1)
        if b"\r\nWARC-Type: warcinfo" in head:
            assert b"lastseen-capture: 2\r\n" in block
            block = block.replace(b"lastseen-capture: 2\r\n", b"")
            digest = "sha1:" + base64.b32encode(hashlib.sha1(block).digest()).decode()
            head = re.sub(rb"WARC-Block-Digest: \S+", digest.encode().join([b"WARC-Block-Digest: ", b""]), head)
            head = re.sub(rb"Content-Length: \d+", b"Content-Length: %d" % len(block), head)
            kept.append(gzip.compress(head + b"\r\n\r\n" + block + b"\r\n\r\n"))
        elif b"\r\nWARC-Type: metadata\r\n" not in head + b"\r\n":
            kept.append(data[pos:end])
        pos = end
    path.write_bytes(b"".join(kept))
    assert gzip.decompress(path.read_bytes())  # still whole


def test_reindex_of_warc_files_written_before_capture_records(project, base):
    archive = project / "archive"
    for path in (archive / "warcs").glob("lastseen-*.warc.gz"):
        _without_capture_records(path)
    ran = lastseen(project, "reindex")
    assert ran.exit_code == 0, ran.stderr
    # Probes of a host are told by their capture records only; without them, a re-fetch is a page.
    old = [{**c, "role": "page"} for c in _by_record(_rows(base / "original.db", "captures", order=BY_TIME))
           if c["target"] != "dns" and c["role"] in ("page", "refetch")]
    new = _by_record(_rows(archive / "lastseen.db", "captures", order=BY_TIME))
    assert f"{len(new)} captures from WARC files written before capture records rebuilt best-effort" in ran.stdout
    assert "failed captures of those files left no record and cannot be rebuilt" in ran.stdout
    assert len(new) == len(old) == 16  # the DNS failures left no record
    approximate = ("id", "started", "finished", "duration_ms", "warc_offset")  # times from records; files rewritten
    assert [{k: v for k, v in c.items() if k not in approximate} for c in new] == [
        {k: v for k, v in c.items() if k not in approximate} for c in old]
    verify_archive(archive)
