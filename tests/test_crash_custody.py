"""A crash never makes `lastseen verify` cry tampering (#15): `lastseen run` SIGKILLed at each exact point of
closing a WARC file, of writing the custody log's JSONL copy and of a start's recovery, mid-run (the files
rotate) and at the run's end; then a normal run. Afterwards `lastseen verify` exits 0 with no problem and
nothing pending, every file passes `warcio check`, no ``.open`` file is left, every index row points at its
record, and the chain holds what happened: no recovery entry for a file whose entry already vouched for it.

The kills are made by tests/killpoint.py, which patches the call before or after the point in the child
process only; each killed run is checked to have died by SIGKILL, so every point is really reached.
"""

from __future__ import annotations

import gzip
import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .archive_checks import outputs, start_run, verify_archive
from .helpers import lastseen, write_watchlist

KILLPOINT = Path(__file__).with_name("killpoint.py")
PAGES = 12
ROTATE = (
    6_000  # bytes: a file holds a few captures, so the first file is closed mid-run
)


@pytest.fixture
def project(tmp_path, site):
    for i in range(PAGES):
        words = " ".join(f"w{i}-{n}" for n in range(300))
        site.set(
            f"/p{i}",
            f"<html><head><title>page {i}</title></head><body><p>{words}</p></body></html>",
        )
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [{"name": f"p{i}", "url": site.url(f"/p{i}")} for i in range(PAGES)],
    )
    return tmp_path


def _killed(project: Path, point: str, max_size: int = 0, n: int = 0) -> str:
    """Run ``lastseen run --json`` killed at ``point``; assert it died there; return its stderr."""
    log = project / f"killed-{n}.log"
    with (
        open(log.with_suffix(".out"), "wb") as out,
        open(log.with_suffix(".err"), "wb") as err,
    ):
        proc = subprocess.Popen(
            [sys.executable, str(KILLPOINT), point, str(max_size), "run", "--json"],
            cwd=project,
            stdout=out,
            stderr=err,
        )
    assert proc.wait(120) == -signal.SIGKILL, (
        f"not killed at {point}: {outputs(project, log)[1]}"
    )
    return outputs(project, log)[1]


def _then_run(project: Path) -> tuple[dict, str]:
    log = project / "after.log"
    proc = start_run(project, log=log)
    assert proc.wait(120) == 0, outputs(project, log)[1]
    out, err = outputs(project, log)
    return json.loads(out), err


def _verified(project: Path) -> dict:
    ran = lastseen(project, "verify", "--json")
    doc = ran.json
    assert (ran.exit_code, doc["problems"], doc["pending"], doc["open_files"]) == (
        0,
        [],
        [],
        [],
    ), doc
    assert doc["ok"] is True
    return doc


def _custody(project: Path, kind: str) -> list[dict]:
    db = sqlite3.connect(project / "archive" / "lastseen.db")
    try:
        rows = db.execute(
            "select content from custody where kind = ? order by seq", (kind,)
        ).fetchall()
    finally:
        db.close()
    return [json.loads(r[0]) for r in rows]


def _closed_files(project: Path) -> set[str]:
    return {
        f"warcs/{p.name}" for p in (project / "archive" / "warcs").glob("*.warc.gz")
    }


@pytest.mark.parametrize("max_size", [ROTATE, 0], ids=["mid-run", "run-end"])
@pytest.mark.parametrize(
    "point", ["file-entry", "torn-line", "before-rename", "after-rename"]
)
def test_a_kill_while_a_file_closes_leaves_an_archive_verify_finds_whole(
    project, point, max_size
):
    _killed(project, point, max_size)
    left_open = sorted(p.name for p in (project / "archive" / "warcs").glob("*.open"))
    # The entry of the file being closed was committed before the kill: whatever the point, it is in the index.
    (entry,) = _custody(project, "file")
    if point == "after-rename":
        assert left_open == []
    else:
        assert left_open == [entry["file"].removeprefix("warcs/") + ".open"]

    doc, err = _then_run(project)
    assert len(doc["events"]) == PAGES and all(e["capture_id"] for e in doc["events"])
    # A file its entry vouched for is only renamed: no recovery is told, stored or entered in the chain.
    assert doc["run"]["recovered"] == [] and "recovered" not in err
    assert _custody(project, "recovery") == []
    files = _custody(project, "file")
    assert files[0] == entry
    assert len({f["file"] for f in files}) == len(files)  # one entry per file
    assert {f["file"] for f in files} == _closed_files(project)
    verify_archive(project / "archive")
    _verified(project)


def test_a_kill_before_the_first_commit_is_a_recorded_cut_verify_finds_whole(project):
    """Records written, no row committed: the next start keeps them in a file its recovery's entry vouches for."""
    _killed(project, "commit")
    assert _custody(project, "file") == []
    doc, _ = _then_run(project)
    (cut,) = doc["run"]["recovered"]
    assert (
        cut["action"] == "cut"
        and cut["bytes_removed"] == 0
        and cut["rows_deleted"] == 0
    )
    (recovery,) = _custody(project, "recovery")
    assert recovery["cut_at"] > 0 and recovery["bytes_removed"] == 0
    assert {f["file"] for f in _custody(project, "file")} == _closed_files(project)
    verify_archive(project / "archive")
    _verified(project)


@pytest.mark.parametrize("point", ["recovery-entry", "before-rename", "after-rename"])
def test_a_kill_during_a_recovery_leaves_an_archive_verify_finds_whole(project, point):
    """A start killed once its cut's entries are committed (before the cut and rename, just before the rename,
    just after it) is finished by the next start: the file's bytes are what the recovery's ``file`` entry
    records, so it is only renamed, and the cut is in the chain once."""
    _killed(project, "commit", n=0)
    _killed(project, point, n=1)
    recovery = _custody(project, "recovery")
    assert len(recovery) == 1 and recovery[0]["bytes_removed"] == 0
    doc, err = _then_run(project)
    assert len(doc["events"]) == PAGES
    assert _custody(project, "recovery") == recovery
    assert doc["run"]["recovered"] == [] and "recovered" not in err
    assert {f["file"] for f in _custody(project, "file")} == _closed_files(project)
    verify_archive(project / "archive")
    _verified(project)


def test_a_record_slipped_into_a_file_its_entry_vouched_for_is_named_altered(project):
    """No kill changes a file once its entry is committed: a `.open` file whose bytes are no longer its entry's
    is cut and recorded like any other by the next start, and `verify` names the file whose two entries differ."""
    _killed(project, "before-rename")
    (entry,) = _custody(project, "file")
    forged = (
        b"WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000000>\r\n"
        b"WARC-Target-URI: urn:forged\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nforged\r\n\r\n"
    )
    with open(project / "archive" / (entry["file"] + ".open"), "ab") as fh:
        fh.write(gzip.compress(forged))
    _then_run(project)
    ran = lastseen(project, "verify", "--json")
    assert ran.exit_code == 4
    altered = [
        p
        for p in ran.json["problems"]
        if p["kind"] == "file-altered" and p["file"] == entry["file"]
    ]
    assert [(p["expected"], p["found"] != entry["sha256"]) for p in altered] == [
        (entry["sha256"], True)
    ]
