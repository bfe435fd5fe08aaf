"""What a run's start finds and must never make worse (#7): stale `.open` copies, a clock set wrong
once, an empty index, files lastseen did not write.

- A `.open` file beside its closed file (a backup taken mid-run, restored over the archive) is set
  aside whole in `warcs/set-aside/`; the closed file and its index rows are never touched.
- A run recorded as starting in the future gets this run's start, recorded and told; `status`
  reads such a time as now; `--force` always fetches.
- A zero-byte `lastseen.db` beside WARC files is refused (it would silently start a new history).
- Files in `warcs/` that lastseen did not write are left alone and never warned about.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.formatting import parse_iso

from .helpers import assert_contract, copy_project, lastseen, only_warc, write_watchlist
from .site import Site

FUTURE = "2099-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def site():
    site = Site()
    for i in range(2):
        site.set(f"/p{i}", f"<html><head><title>page {i}</title></head><body><p>page {i} says {i}</p></body></html>")
    yield site
    site.close()


@pytest.fixture(scope="module")
def base(site, tmp_path_factory) -> tuple[Path, dict]:
    """A directory with a watchlist (`every: 1h`) and the archive of one completed run (its --json)."""
    root = tmp_path_factory.mktemp("base")
    write_watchlist(root / "watchlist.yaml", [{"name": f"p{i}", "url": site.url(f"/p{i}")} for i in range(2)],
                    settings={"every": "1h"})
    ran = lastseen(root, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    return root, ran.json


@pytest.fixture
def project(base, tmp_path) -> Path:
    return copy_project(base[0], tmp_path)


def _warc(project: Path) -> Path:
    return only_warc(project)


def _listing(directory: Path) -> dict[str, tuple[int, int, bytes]]:
    return {str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _query(project: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


# -- a stale .open copy of a closed file -------------------------------------------------------------

def test_a_stale_open_file_beside_its_closed_file_is_set_aside_never_cut(project, base):
    warcs = project / "archive" / "warcs"
    closed = _warc(project)
    data = closed.read_bytes()
    stale = closed.with_name(closed.name + ".open")
    stale.write_bytes(data[: len(data) // 2])  # a backup taken while the run was writing it
    evidence = (closed.stat().st_mtime_ns, data)
    captures = _query(project, "select * from captures order by id")

    warned = lastseen(project, "status")
    assert warned.exit_code == 0
    assert warned.stderr == (
        f"warning: archive/warcs/{stale.name} is a stale copy of the closed {closed.name} (a backup restored "
        f"over the archive?); the next `lastseen run` sets it aside in archive/warcs/set-aside and leaves the "
        f"closed file\n"
    )

    ran = lastseen(project, "run", "--json", "--force")
    assert ran.exit_code == 0, ran.stderr
    assert_contract(ran.json)
    run_id = ran.json["run"]["id"]
    moved = warcs / "set-aside" / stale.name
    assert ran.json["run"]["recovered"] == [
        {"action": "set-aside", "file": f"archive/warcs/{stale.name}", "moved_to": f"archive/warcs/set-aside/{stale.name}"}]
    told = [line for line in ran.stderr.splitlines() if "set aside" in line]
    assert told == [(
        f"lastseen run {run_id}: recovered archive/warcs/{stale.name} set aside as archive/warcs/set-aside/"
        f"{stale.name}: archive/warcs/{closed.name} is already closed and was left as it is (a stale copy, e.g. "
        f"from a backup restored over the archive)"
    )]
    # The closed file and the completed run's rows are evidence: untouched. The stale copy is kept whole.
    assert (closed.stat().st_mtime_ns, closed.read_bytes()) == evidence
    assert not stale.exists() and moved.read_bytes() == data[: len(data) // 2]
    assert _query(project, "select * from captures where run_id = ? order by id", base[1]["run"]["id"]) == captures
    assert [e["verdict"] for e in ran.json["events"]] == ["unchanged", "unchanged"]  # not "new"
    assert _query(project, "select run_id, action, file, moved_to, cut_at, rows_deleted, details from recoveries") == [
        (run_id, "set-aside", f"warcs/{stale.name}", f"warcs/set-aside/{stale.name}", None, None, None)]

    status = lastseen(project, "status", "--json")
    assert status.exit_code == 0 and status.stderr == ""  # set aside: not awaiting recovery
    (shown,) = status.json["recovered"]
    assert {k: v for k, v in shown.items() if k != "at"} == {
        "action": "set-aside", "file": f"archive/warcs/{stale.name}",
        "moved_to": f"archive/warcs/set-aside/{stale.name}", "recovered_by": run_id}

    # Another stale copy of the same name: set aside beside the first, never over it.
    stale.write_bytes(data[:100])
    again = lastseen(project, "run", "--json", "--force")
    assert again.exit_code == 0, again.stderr
    second = f"{closed.name}.2.open"
    assert [r["moved_to"] for r in again.json["run"]["recovered"]] == [f"archive/warcs/set-aside/{second}"]
    assert moved.read_bytes() == data[: len(data) // 2] and (warcs / "set-aside" / second).read_bytes() == data[:100]
    assert (closed.stat().st_mtime_ns, closed.read_bytes()) == evidence


def test_files_lastseen_did_not_write_are_left_alone_and_not_warned_about(project):
    warcs = project / "archive" / "warcs"
    (warcs / "notes.warc.gz.open").write_bytes(b"someone's notes")
    (warcs / "other-crawler.warc.gz").write_bytes(b"\x1f\x8b not lastseen's")
    (warcs / "README.txt").write_text("do not delete")
    (warcs / "lastseen-notes.txt.open").write_text("not a WARC name")
    (warcs / "set-aside").mkdir()
    (warcs / "set-aside" / "lastseen-20200101000000000000-00000.warc.gz.open").write_bytes(b"set aside earlier")
    before = {k: v for k, v in _listing(warcs).items() if not k.startswith("lastseen-2")}

    status = lastseen(project, "status")
    assert status.exit_code == 0 and status.stderr == ""
    ran = lastseen(project, "run", "--json", "--force")
    assert ran.exit_code == 0, ran.stderr
    assert ran.json["run"]["recovered"] == [] and "recovered" not in ran.stderr
    assert {k: v for k, v in _listing(warcs).items() if not k.startswith("lastseen-2")} == before
    assert lastseen(project, "status").stderr == ""


# -- a clock set wrong once ------------------------------------------------------------------------------

def _future_dated(project: Path, base) -> str:
    run_id = base[1]["run"]["id"]
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    with conn:
        conn.execute("update runs set started = ? where id = ?", (FUTURE, run_id))
    conn.close()
    return run_id


def test_a_run_recorded_in_the_future_is_set_to_now_and_said(project, base):
    future_run = _future_dated(project, base)
    now = datetime.now(timezone.utc)
    status = lastseen(project, "status", "--json")
    assert status.exit_code == 0 and status.stderr == ""
    for row in status.json["targets"]:  # read as now, without writing: due again within `every`
        assert now < parse_iso(row["next_due"]) <= now + timedelta(hours=1, seconds=5), row
    assert _query(project, "select started from runs") == [(FUTURE,)]

    ran = lastseen(project, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert_contract(ran.json)
    run_id, started = ran.json["run"]["id"], ran.json["run"]["started"]
    recovered = {"action": "clock", "run": future_run, "recorded": FUTURE, "set_to": started}
    assert ran.json["run"]["recovered"] == [recovered]
    told = [line for line in ran.stderr.splitlines() if FUTURE in line]
    assert told == [(
        f"lastseen run {run_id}: recovered run {future_run} recorded as started at {FUTURE}, later than now (the "
        f"clock was wrong): its start set to {started}, so targets are due again in their `every`"
    )]
    assert ran.json["events"] == []  # its start is now this run's: due again in an hour, not in 2099
    assert dict(_query(project, "select id, started from runs"))[future_run] == started
    (row,) = _query(project, "select run_id, action, file, details from recoveries")
    assert row[:3] == (run_id, "clock", None)
    assert json.loads(row[3]) == {"run": future_run, "recorded": FUTURE, "set_to": started}

    status = lastseen(project, "status", "--json")
    (shown,) = status.json["recovered"]
    assert {k: v for k, v in shown.items() if k != "at"} == {**recovered, "recovered_by": run_id}
    for row in status.json["targets"]:
        assert parse_iso(row["next_due"]) <= parse_iso(started) + timedelta(hours=1)
    table = lastseen(project, "status")
    assert f"by run {run_id}: run {future_run} recorded as started at {FUTURE}" in table.stdout.replace("\n", " ")
    assert "2099" not in "".join(line for line in table.stdout.splitlines() if "next due" not in line
                                 and "recorded as started" not in line)


def test_force_fetches_whatever_the_clock_said(project, base):
    future_run = _future_dated(project, base)
    ran = lastseen(project, "run", "--json", "--force")
    assert ran.exit_code == 0, ran.stderr
    assert [(e["target"], e["verdict"]) for e in ran.json["events"]] == [("p0", "unchanged"), ("p1", "unchanged")]
    assert [r["run"] for r in ran.json["run"]["recovered"]] == [future_run]
    again = lastseen(project, "run", "--json", "--force")  # nothing left to repair
    assert again.json["run"]["recovered"] == [] and len(again.json["events"]) == 2


# -- an empty index ---------------------------------------------------------------------------------------

def test_a_zero_byte_index_beside_warc_files_is_refused(project):
    db = project / "archive" / "lastseen.db"
    db.write_bytes(b"")
    warcs = _listing(project / "archive" / "warcs")
    for args in (("run", "--json"), ("status",), ("report", "--since", "7d", "--out", "weekly")):
        ran = lastseen(project, *args)
        assert ran.exit_code == 1 and ran.stdout == "", (args, ran.stderr)
        assert ran.stderr == (
            "Error: the index archive/lastseen.db is empty (0 bytes) but archive/warcs holds 1 WARC file of "
            "earlier runs: using it would start a new history that forgets them. Restore lastseen.db from a "
            "backup, or rebuild it from the WARC files with `lastseen reindex --archive archive`\n"
        )
    assert db.read_bytes() == b"" and _listing(project / "archive" / "warcs") == warcs

    rebuilt = lastseen(project, "reindex")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    (kept,) = (project / "archive").glob("lastseen.db.broken-*")
    assert kept.read_bytes() == b""
    ran = lastseen(project, "run", "--json", "--force")
    assert ran.exit_code == 0, ran.stderr
    assert [e["verdict"] for e in ran.json["events"]] == ["unchanged", "unchanged"]


def test_a_zero_byte_index_with_no_warc_file_is_a_new_archive(project):
    archive = project / "archive"
    shutil.rmtree(archive)
    (archive / "warcs").mkdir(parents=True)
    (archive / "lastseen.db").write_bytes(b"")
    status = lastseen(project, "status", "--json")
    assert status.exit_code == 0 and [r["captures"] for r in status.json["targets"]] == [0, 0]
    ran = lastseen(project, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert [e["verdict"] for e in ran.json["events"]] == ["new", "new"]
