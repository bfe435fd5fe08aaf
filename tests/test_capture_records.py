"""Capture records (#17): one ``metadata`` record per batch of captures instead of one per capture.

- Real runs whose WARC files rotate every few captures: each file's batch records list exactly the captures
  whose records are in that file, each once, after them; `lastseen reindex` rebuilds the index's captures and
  exchanges from them; `lastseen verify` finds everything whole.
- A run SIGKILLed between its first captures' records and their batch's record (tests/killpoint.py, point
  ``commit``): no row was committed; after the next run, `lastseen reindex` names the file and the exchanges
  no capture record lists, rebuilds exactly the captures the index holds, and `verify` counts those records
  as written and never committed.
- An archive written before #17 (``tests/percapture/``, made by that code with ``make_archive.py``: a
  capture record per capture): `reindex` rebuilds its index as it was, and `verify`, `export` and `bundle`
  say what that code said of it (``tests/percapture/expected.json``).
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from crawler import clock, warcfiles
from crawler.capturerecords import read_captures
from crawler.formatting import plural

from .archive_checks import outputs, verify_archive
from .helpers import lastseen, warc_records, write_watchlist
from .percapture.make_archive import page

HERE = Path(__file__).parent
OLD = HERE / "percapture"
KILLPOINT = HERE / "killpoint.py"
LATER = "2026-03-02T09:30:00Z"  # after the old archive's second run: nothing due (every: 1d)
PAGES = 10


def _rows(db: Path, sql: str) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def _captures(db: Path) -> list[dict]:
    """Every captures row but its id and duration (from microsecond times), in time order, without migration 20's
    pointers (``reused``, ``record_seq``, ``refers_exchange``): how a row is stored, whole or filled from the rows
    they name, which differs between an index written row by row and one rebuilt; the values the view fills in from
    them are compared."""
    return [{k: v for k, v in r.items() if k not in ("id", "duration_ms", "reused", "record_seq", "refers_exchange")}
            for r in _rows(db, "select * from captures order by started, target, role")]


def _exchanges(db: Path) -> list[dict]:
    rows = _rows(db, "select x.*, c.started as c_started, c.target as c_target, c.role as c_role from exchanges x "
                     "join captures c on c.id = x.capture_id")
    return sorted(({k: v for k, v in r.items() if k not in ("id", "capture_id", "duration_ms")} for r in rows),
                  key=lambda r: (r["c_started"], r["c_target"], r["c_role"], r["seq"]))


def _listed(path: Path) -> list[tuple[int, list]]:
    """(offset, the capture records' captures) of each metadata record of a WARC file."""
    return [(offset, read_captures(payload, headers.get_header("WARC-Target-URI")))
            for offset, kind, headers, _, payload in warc_records(path) if kind == "metadata"]


def _pages(site, n: int = PAGES) -> list[dict]:
    for i in range(n):
        words = " ".join(f"w{i}-{k}" for k in range(200))
        site.set(f"/p{i}", f"<html><head><title>page {i}</title></head><body><p>{words}</p></body></html>")
    return [{"name": f"p{i}", "url": site.url(f"/p{i}")} for i in range(n)]


# -- batch records ----------------------------------------------------------------------------------------

def test_batch_records_list_each_capture_once_after_its_records_in_its_file(tmp_path, site, monkeypatch):
    init = warcfiles.WarcFileSet.__init__

    def small(self, *args, **kw):  # files rotate every few captures
        init(self, *args, **kw)
        self.max_size = 6_000

    monkeypatch.setattr(warcfiles.WarcFileSet, "__init__", small)
    write_watchlist(tmp_path / "watchlist.yaml", _pages(site))
    for _ in range(2):  # new, then unchanged (revisits)
        ran = lastseen(tmp_path, "run", "--json", "--force")
        assert ran.exit_code == 0, ran.stderr
    archive = tmp_path / "archive"
    db = archive / "lastseen.db"
    files = sorted((archive / "warcs").glob("*.warc.gz"))
    assert len(files) > 4
    seen = []
    for path in files:
        info = warc_records(path)[0]
        assert info[1] == "warcinfo" and b"\r\nlastseen-capture: 2\r\n" in b"\r\n" + info[4]
        kinds = [(offset, kind, headers.get_header("WARC-Record-ID")) for offset, kind, headers, _, _ in
                 warc_records(path)]
        batches = _listed(path)
        assert batches and kinds[-1][1] == "metadata"  # a file's last batch record is written before it closes
        for offset, captures in batches:
            for capture in captures:
                ids = [line.split(" ")[2] for line in capture.exchanges]
                # every record it names is in this file, before the batch record and after the one before it
                before = max([o for o, _ in batches if o < offset], default=0)
                assert {i for o, _, i in kinds if before < o < offset} >= set(ids)
                seen.append((capture.get("target"), capture.get("role"), capture.get("started"), ids[-1]))
    rows = _rows(db, "select target, role, started, warc_record_id from captures")
    assert sorted(seen) == sorted(tuple(r.values()) for r in rows)  # each capture listed once
    captures, exchanges = _captures(db), _exchanges(db)
    verify_archive(archive)

    # An export of one target carries no record that names another target: a batch record listing other targets'
    # captures stays out (who else the archive watches is not the export's to tell); one that lists only that
    # target's captures goes in. A whole export carries every batch record.
    def exported_targets(name: str, *args: str) -> list[set[str]]:
        ran = lastseen(tmp_path, "export", *args, "--out", name)
        assert ran.exit_code == 0, ran.stderr
        with zipfile.ZipFile(tmp_path / name) as zf:
            blocks = [zlib.decompress(data[pos:end], zlib.MAX_WBITS | 16) for n in zf.namelist()
                      if n.startswith("archive/") for data in [zf.read(n)] for pos, end in _spans(data)[1:]]
        return [{c.get("target") for c in read_captures(b.split(b"\r\n\r\n", 1)[1], None)}
                for b in blocks if b"\r\nWARC-Type: metadata\r\n" in b]

    in_archive = [{c.get("target") for c in captures} for path in files for _, captures in _listed(path)]
    assert any(len(t) > 1 and "p3" in t for t in in_archive)   # p3's captures share batches with others
    alone = exported_targets("p3.wacz", "--only", "p3")
    assert all(t == {"p3"} for t in alone)
    assert len(alone) == sum(t == {"p3"} for t in in_archive)
    assert sorted(map(sorted, exported_targets("all.wacz"))) == sorted(map(sorted, in_archive))

    ran = lastseen(tmp_path, "reindex")
    assert ran.exit_code == 0, ran.stderr
    assert "no capture record lists" not in ran.stdout and "best-effort" not in ran.stdout
    assert _captures(db) == captures and _exchanges(db) == exchanges
    verify_archive(archive)


def test_a_kill_before_the_batch_record_is_named_by_reindex_and_counted_by_verify(tmp_path, site):
    write_watchlist(tmp_path / "watchlist.yaml", _pages(site))
    log = tmp_path / "killed.log"
    with open(log.with_suffix(".out"), "wb") as out, open(log.with_suffix(".err"), "wb") as err:
        proc = subprocess.Popen([sys.executable, str(KILLPOINT), "commit", "0", "run", "--json"], cwd=tmp_path,
                                stdout=out, stderr=err)
    assert proc.wait(120) == -signal.SIGKILL, outputs(tmp_path, log)[1]
    archive = tmp_path / "archive"
    (killed,) = (archive / "warcs").glob("*.warc.gz.open")
    records = warc_records(killed)
    written = [r for r in records if r[1] in ("response", "revisit")]
    assert written and not [r for r in records if r[1] == "metadata"]  # records written, no batch record yet

    ran = lastseen(tmp_path, "run", "--json")   # recovers the file, captures every page
    assert ran.exit_code == 0, ran.stderr
    assert [c["action"] for c in ran.json["run"]["recovered"]] == ["cut"]
    db = archive / "lastseen.db"
    captures, exchanges = _captures(db), _exchanges(db)
    assert {c["target"] for c in captures if c["role"] == "page"} == {f"p{i}" for i in range(PAGES)}
    verified = lastseen(tmp_path, "verify", "--json")
    assert verified.exit_code == 0 and verified.json["problems"] == [], verified.stdout
    # the killed run's records: written, never committed, vouched for by the file entry of what was kept
    assert verified.json["checked"]["unlisted_records"] == 2 * len(written)

    ran = lastseen(tmp_path, "reindex")
    assert ran.exit_code == 0, ran.stderr
    name = killed.name.removesuffix(".open")
    assert f"archive/warcs/{name}: {plural(len(written), 'exchange')} no capture record lists" in ran.stdout, ran.stdout
    assert ("not rebuilt: exchanges written by a run that stopped before it recorded their capture (no index had "
            f"them) ({len(written)})") in ran.stdout
    assert "best-effort" not in ran.stdout  # not taken for a file written before capture records
    assert _captures(db) == captures and _exchanges(db) == exchanges
    verify_archive(archive)


# -- an archive written before #17: a capture record per capture ---------------------------------------------

@pytest.fixture
def old(tmp_path, monkeypatch):
    """A copy of tests/percapture/ at a time nothing is due; its index upgraded by a run that fetches nothing."""
    shutil.copytree(OLD / "archive", tmp_path / "archive")
    shutil.copy(OLD / "watchlist.yaml", tmp_path / "watchlist.yaml")
    monkeypatch.setenv(clock.ENV_NOW, LATER)
    monkeypatch.delenv(clock.ENV_OFFSET, raising=False)
    clock._reset()
    warcs = sorted(p.name for p in (tmp_path / "archive" / "warcs").iterdir())
    ran = lastseen(tmp_path, "run", "--json")
    assert ran.exit_code == 0 and ran.json["events"] == [], ran.stderr
    assert sorted(p.name for p in (tmp_path / "archive" / "warcs").iterdir()) == warcs
    yield tmp_path
    clock._reset()


def test_the_old_archive_has_a_capture_record_per_capture():
    for path in (OLD / "archive" / "warcs").glob("*.warc.gz"):
        assert b"lastseen-capture" not in warc_records(path)[0][4]
        for _, captures in _listed(path):
            assert len(captures) == 1 and captures[0].url.startswith(("http://127.0.0.1:", "http://lastseen-"))


def test_an_archive_written_before_batch_records_reindexes_as_it_was(old):
    db = old / "archive" / "lastseen.db"
    captures, exchanges = _captures(db), _exchanges(db)
    assert len(captures) == 15 and {c["role"] for c in captures} >= {"page", "refetch", "probe", "home", "robots"}
    ran = lastseen(old, "reindex")
    assert ran.exit_code == 0, ran.stderr
    assert "no capture record lists" not in ran.stdout and "best-effort" not in ran.stdout
    assert "not rebuilt: exchanges" not in ran.stdout and "not rebuilt: captures" not in ran.stdout
    assert _captures(db) == captures and _exchanges(db) == exchanges
    verify_archive(old / "archive")


def _last_entry(root: Path) -> dict:
    files = sorted((root / "archive" / "custody").glob("*.jsonl"))
    lines = [line for f in files for line in f.read_bytes().split(b"\n") if line]
    return json.loads(lines[-1])


def test_an_archive_written_before_batch_records_verifies_exports_and_bundles_as_before(old, tmp_path):
    expected = json.loads((OLD / "expected.json").read_text())
    verified = lastseen(old, "verify", "--json")
    assert verified.exit_code == 0 and verified.json["problems"] == [], verified.stdout
    assert {k: verified.json["checked"][k] for k in expected["verify"]} == expected["verify"]
    # every record of every capture, its own capture record among them
    bundle_root = tmp_path / "bundle"
    shutil.copytree(old / "archive", bundle_root / "archive")
    shutil.copy(old / "watchlist.yaml", bundle_root / "watchlist.yaml")

    exported = lastseen(old, "export", "--out", "all.wacz")
    assert exported.exit_code == 0, exported.stderr
    entry = _last_entry(old)
    assert entry["kind"] == "export"
    assert {k: entry["content"][k] for k in ("captures", "records")} == expected["export"]
    archived = {data[pos:end] for path in (old / "archive" / "warcs").glob("*.warc.gz")
                for data in [path.read_bytes()] for pos, end in _spans(data)}
    with zipfile.ZipFile(old / "all.wacz") as zf:
        warcs = [zf.read(n) for n in zf.namelist() if n.startswith("archive/")]
    members = [data[pos:end] for data in warcs for pos, end in _spans(data)[1:]]  # each file's own warcinfo aside
    assert len(members) == len(expected["export"]["records"]) and all(m in archived for m in members)
    assert sum(b"WARC-Type: metadata" in zlib.decompress(m, zlib.MAX_WBITS | 16) for m in members) == 15

    bundled = lastseen(bundle_root, "bundle", expected["bundle"]["event"], "--out", "out")
    assert bundled.exit_code == 0, bundled.stderr
    entry = _last_entry(bundle_root)
    assert entry["kind"] == "bundle"
    assert {k: entry["content"][k] for k in ("event", "captures", "records", "custody")} == {
        k: expected["bundle"][k] for k in ("event", "captures", "records", "custody")}
    (path,) = (bundle_root / "out").iterdir()
    with zipfile.ZipFile(path) as zf:
        assert sorted(n.split("/", 1)[1] for n in zf.namelist() if not n.endswith("/")) == expected["bundle"]["files"]
    assert lastseen(bundle_root, "verify").exit_code == 0


def test_an_archive_written_before_batch_records_goes_on_in_batch_records(old, site, monkeypatch):
    """A run of the current code on the old archive: its new file's captures in batch records, its unchanged
    page a revisit of a record of the old layout; `reindex`, `verify` and `export` read both layouts at once."""
    site.set("/edit", page("Press", "<p>We supplied 2000 cameras.</p>"))
    site.set("/same", page("Same", "<p>Never changes.</p>"))
    write_watchlist(old / "watchlist.yaml", [
        {"name": "edit", "url": site.url("/edit")}, {"name": "same", "url": site.url("/same")},
        {"name": "gone", "url": site.url("/gone")}, {"name": "dns", "url": "http://lastseen-fixture.invalid/"},
    ], settings={"every": "1d"})
    monkeypatch.setenv(clock.ENV_NOW, "2026-03-03T12:00:00Z")
    clock._reset()
    before = {p.name for p in (old / "archive" / "warcs").glob("*.warc.gz")}
    ran = lastseen(old, "run", "--json", "--force")
    assert ran.exit_code == 0, ran.stderr
    assert {e["target"]: e["verdict"] for e in ran.json["events"]} == {
        "edit": "unchanged", "same": "unchanged", "gone": "vanished", "dns": "unreachable"}
    archive = old / "archive"
    db = archive / "lastseen.db"
    (new,) = {p.name for p in (archive / "warcs").glob("*.warc.gz")} - before
    listed = _listed(archive / "warcs" / new)
    assert listed and all(captures for _, captures in listed)  # batch records
    revisits = _rows(db, "select c.warc_file from captures g join exchanges x on x.response_record_id = "
                         "g.refers_to_record_id join captures c on c.id = x.capture_id where g.run_id = "
                         f"'{ran.json['run']['id']}'")
    assert revisits and {r["warc_file"].removeprefix("warcs/") for r in revisits} <= before  # old records
    captures, exchanges = _captures(db), _exchanges(db)
    verified = lastseen(old, "verify", "--json")
    assert verified.exit_code == 0 and verified.json["problems"] == [], verified.stdout
    assert verified.json["checked"]["unlisted_records"] == 0

    exported = lastseen(old, "export", "--out", "all.wacz")
    assert exported.exit_code == 0, exported.stderr
    archived = {data[pos:end] for path in (archive / "warcs").glob("*.warc.gz")
                for data in [path.read_bytes()] for pos, end in _spans(data)[1:]}
    with zipfile.ZipFile(old / "all.wacz") as zf:
        members = {data[pos:end] for n in zf.namelist() if n.startswith("archive/")
                   for data in [zf.read(n)] for pos, end in _spans(data)[1:]}
    assert members == archived  # every record of both layouts, each file's warcinfo aside

    ran = lastseen(old, "reindex")
    assert ran.exit_code == 0, ran.stderr
    assert "no capture record lists" not in ran.stdout and "best-effort" not in ran.stdout
    assert _captures(db) == captures and _exchanges(db) == exchanges
    verify_archive(archive)


def _spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each gzip member of ``data``."""
    out, pos = [], 0
    while pos < len(data):
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        d.decompress(data[pos:])
        end = len(data) - len(d.unused_data)
        out.append((pos, end))
        pos = end
    return out
