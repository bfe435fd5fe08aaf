"""A full disk or an unwritable archive: a clear one-line error (exit 1), nothing torn, the next run completes.

The disks are small tmpfs mounts made for the test (tests run as root, where
permission bits do not stop writes; a real full file system is the honest
way to get ENOSPC out of write() and SQLite). Without mount rights the tests
fail, saying so: CI runs them as root.
"""

from __future__ import annotations

import contextlib
import io
import errno
import json
import os
import sqlite3
import subprocess
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawler.errors import ArchiveError
from crawler.warc import WarcWriter
from crawler.warcfiles import complete_members_end

from .archive_checks import TAG_ENV, outputs, start_run, tagged_processes, verify_archive
from .factories import make_exchange
from .helpers import lastseen, warc_records, write_watchlist
from .site import Site

PAGES = 60


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); these tests need root")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True, capture_output=True)


def fill(path: Path) -> Path:
    """Fill the file system holding ``path`` to the last byte."""
    filler = path / "filler"
    with open(filler, "wb", buffering=0) as fh:
        chunk = b"\0" * 65536
        try:
            while True:
                fh.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        try:
            while True:
                fh.write(b"\0")
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _serve_pages(site: Site) -> None:
    for i in range(PAGES):
        # Incompressible text: the WARC and the index grow by ~6-12 KB a page.
        site.set(f"/p{i}", f"<html><body><h1>page {i}</h1><p>{os.urandom(6000).hex()}</p></body></html>",
                 delay=0.03)


def _watchlist(tmp_path: Path, site: Site) -> set[str]:
    write_watchlist(
        tmp_path / "watchlist.yaml", [{"name": f"p{i}", "url": site.url(f"/p{i}")} for i in range(PAGES)],
        settings={"concurrency": 2, "per_host_concurrency": 2},
    )
    return {f"p{i}" for i in range(PAGES)}


def _run(tmp_path: Path, env: dict, name: str) -> tuple[int, str, str]:
    log = tmp_path / f"{name}.log"
    proc = start_run(tmp_path, env=env, log=log)
    status = proc.wait(60)
    return (status, *outputs(tmp_path, log))


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    return lines[0]


def _statuses(archive: Path) -> list[str]:
    db = sqlite3.connect(archive / "lastseen.db")
    try:
        return [r[0] for r in db.execute("select status from runs order by rowid")]
    finally:
        db.close()


def test_warc_disk_full_mid_run(tmp_path, site):
    _serve_pages(site)
    tag = uuid.uuid4().hex
    env = dict(os.environ, **{TAG_ENV: tag})
    archive = tmp_path / "archive"
    names = _watchlist(tmp_path, site)
    with tmpfs(archive / "warcs", "256k") as warcs:
        status, out, err = _run(tmp_path, env, "full")
        assert status == 1 and out == ""
        line = _one_error_line(err)
        assert "archive/warcs/lastseen-" in line and "the disk is full" in line and "free some space" in line
        assert not tagged_processes(tag)
        # The file being written was cut back to its last complete record, then finalised.
        stats = verify_archive(archive)
        assert stats["files"] == 1 and stats["runs"] == {"failed": 1}
        assert 0 < len(stats["targets"]) < PAGES
        print(f"\nWARC disk full after {len(stats['targets'])}/{PAGES} captures: {line}")

        # Completely full: refused at the start, before anything is begun.
        filler = fill(warcs)
        status, out, err = _run(tmp_path, env, "refused")
        line = _one_error_line(err)
        assert status == 1 and "archive directory archive is not writable: the disk is full" in line
        assert _statuses(archive) == ["failed"]

        filler.unlink()
        remount(warcs, "size=8m")
        status, out, err = _run(tmp_path, env, "after")
        assert status == 0, err
        assert len(json.loads(out)["events"]) == PAGES
        stats = verify_archive(archive)
        assert stats["targets"] == names and stats["runs"] == {"failed": 1, "completed": 1}


def test_index_disk_full_or_read_only(tmp_path, site):
    _serve_pages(site)
    tag = uuid.uuid4().hex
    env = dict(os.environ, **{TAG_ENV: tag})
    names = _watchlist(tmp_path, site)
    # The index on a small disk of its own; the WARC files on a roomy one. A new index takes about 390 KB with its
    # WAL (migration 20 made it ~30 KB more, migration 22's table and triggers some 15 KB); 496 KB leaves no room
    # for the run's first commit of captures, so the disk fills while the run's WARC file is open (measured with
    # migration 22: 464 KB fills before the file is opened, 472-528 KB while it is open).
    with tmpfs(tmp_path / "archive", "496k") as archive, tmpfs(archive / "warcs", "16m"):
        status, out, err = _run(tmp_path, env, "full")
        assert status == 1 and out == ""
        line = _one_error_line(err)
        assert "the index archive/lastseen.db" in line and "the disk is full" in line, line
        assert "free some space" in line
        assert not tagged_processes(tag)
        # The WARC file keeps its `.open` name: its custody `file` entry could not be committed, and a file
        # renamed without its entry would look slipped into the archive (#15); the next start recovers it.
        stats = verify_archive(archive, left_open=1)  # every committed row points at its record
        captured = len(stats["targets"])
        assert captured < PAGES
        print(f"\nindex disk full after {captured}/{PAGES} committed captures: {line}")

        remount(archive, "ro")
        status, out, err = _run(tmp_path, env, "read-only")
        line = _one_error_line(err)
        assert status == 1 and "archive/lastseen.lock" in line and "Read-only file system" in line, line

        remount(archive, "rw,size=16m")
        status, out, err = _run(tmp_path, env, "after")
        assert status == 0, err
        assert len(json.loads(out)["events"]) == PAGES
        stats = verify_archive(archive)
        assert stats["targets"] == names
        checked = lastseen(tmp_path, "verify", "--json")  # the recovered file is on the record: no false alarm
        assert (checked.exit_code, checked.json["problems"]) == (0, []), checked.stdout
        statuses = _statuses(archive)
        # The failed run could not even record its failure; the next start marked it aborted.
        assert statuses[-1] == "completed" and set(statuses[:-1]) <= {"failed", "aborted"}


class _Quota(io.FileIO):
    """A file on a disk with ``room`` bytes left: a short write, then ENOSPC (as write(2) does)."""

    room = 0

    def write(self, data):
        left = self.room - self.tell()
        if left <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(bytes(data[:left]))


def test_a_failed_write_is_cut_back_to_the_last_complete_record(tmp_path):
    path = tmp_path / "f.warc.gz"
    with _Quota(path, "w") as fh:
        fh.room = 10**6
        writer = WarcWriter(fh)
        writer.warcinfo(datetime(2026, 11, 22, tzinfo=timezone.utc), path.name, {"software": "t"})
        writer.exchange(make_exchange(b"fits"))
        complete = fh.tell()
        fh.room = complete + 300  # the next response record is larger than that
        with pytest.raises(ArchiveError, match="the disk is full"):
            writer.exchange(make_exchange(os.urandom(2000)))
        assert fh.tell() == complete and path.stat().st_size == complete and not writer.torn
        fh.room = 10**6  # space freed: the writer carries on from the boundary
        _, ref = writer.exchange(make_exchange(b"after"))
        assert ref.offset == complete
    assert complete_members_end(path) == path.stat().st_size
    assert [r[1] for r in warc_records(path)] == ["warcinfo", "response", "request", "response", "request"]
