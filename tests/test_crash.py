"""Crash safety for real: `lastseen run` SIGKILLed at random points, 20 times, then a normal run.

Afterwards every WARC file reads end to end (warcio's ArchiveIterator, digests
checked, and `warcio check`), `lastseen verify` exits 0 (no kill looks like
tampering; tests/test_crash_custody.py kills at each exact point), no ``.open`` file remains, every index row points
at its record, killed runs are marked aborted, every target has a capture, the
fetcher process never outlives its monitor, and the lock a killed run held is
taken over by the next run.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timezone

import pytest

from crawler.archive import Archive
from crawler.watchlist import fetch_options
from crawler.watchlist import load_watchlist
from crawler.warc import WarcWriter
from crawler.warcfiles import OPEN_SUFFIX, recover_open_files, warc_filename

from .archive_checks import (
    TAG_ENV, children, open_file_growing, outputs, runs_begun, start_run, tagged_processes, verify_archive, wait_until,
)
from .factories import make_exchange
from .helpers import lastseen, write_watchlist
from .site import closed_port

SEED = 20261122
PAGES = 200
KILLS = 20


def _page(i: int, version: int, rng: random.Random) -> str:
    words = " ".join(f"w{rng.randrange(10_000)}" for _ in range(150))
    return f"<html><head><title>page {i}</title></head><body><h1>page {i} v{version}</h1><p>{words}</p></body></html>"


def test_sigkill_at_random_points_loses_nothing(tmp_path, site):
    rng = random.Random(SEED)
    tag = uuid.uuid4().hex
    env = dict(os.environ, **{TAG_ENV: tag})
    for i in range(PAGES):
        # Mostly quick pages, a few slow ones: a run takes a second or three.
        delay = 0.3 if i % 40 == 0 else rng.uniform(0.0, 0.03)
        site.set(f"/p{i}", _page(i, 0, rng), delay=delay)
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [{"name": f"p{i}", "url": site.url(f"/p{i}")} for i in range(PAGES)],
        settings={"concurrency": 8, "per_host_concurrency": 8},
    )
    warcs = tmp_path / "archive" / "warcs"
    lock = tmp_path / "archive" / "lastseen.lock"
    during_open = killed = ran_out = stale_pids = fetchers_seen = 0
    for n in range(KILLS):
        for i in rng.sample(range(PAGES), PAGES // 5):  # some pages change between runs
            site.set(f"/p{i}", _page(i, n + 1, rng), delay=0.0)
        delay = rng.uniform(0.2, 2.6)
        stale = frozenset(p.name for p in warcs.glob("*.open"))  # a killed run's, until this run recovers it
        proc = start_run(tmp_path, env=env, log=tmp_path / f"kill-{n}.log")
        if n % 5 == 4:
            # every fifth kill lands while this run's WARC file grows, however slow the machine makes the start:
            # it waits for the file (or the run's end), not for a time
            wait_until(lambda: proc.poll() is not None or open_file_growing(warcs, besides=stale), 60, step=0.005)
        else:
            try:
                proc.wait(delay)  # the kill time, unless the run ends first
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is not None:  # finished before its kill time
            ran_out += 1
            assert proc.returncode == 0, outputs(tmp_path, tmp_path / f"kill-{n}.log")[1]
            continue
        growing = open_file_growing(warcs, besides=stale)  # this run's file: the run had begun
        fetchers = children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        killed += 1
        during_open += growing
        fetchers_seen += bool(fetchers)
        # The fetcher dies with its monitor (PR_SET_PDEATHSIG): nothing tagged survives.
        assert wait_until(lambda: not tagged_processes(tag), 5), tagged_processes(tag)
        # The kernel dropped the killed run's flock: the lock is free at once,
        # though the file still names the dead holder.
        if lock.exists():
            stale_pids += lock.read_text().strip() == str(proc.pid)
            fd = os.open(lock, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    final_log = tmp_path / "final.log"
    proc = start_run(tmp_path, env=env, log=final_log)
    assert proc.wait(60) == 0, outputs(tmp_path, final_log)[1]
    doc = json.loads(outputs(tmp_path, final_log)[0])
    assert len(doc["events"]) == PAGES and all(e["capture_id"] for e in doc["events"])
    assert not tagged_processes(tag)

    stats = verify_archive(tmp_path / "archive")
    # ... and `lastseen verify` finds it whole: no kill, wherever it fell, looks like tampering (#15).
    checked = lastseen(tmp_path, "verify", "--json")
    assert (checked.exit_code, checked.json["problems"], checked.json["pending"]) == (0, [], []), checked.stdout
    assert checked.json["checked"]["files"] == stats["files"]
    print(
        f"\n{killed} kills ({during_open} while a .open WARC was growing past its warcinfo, "
        f"{fetchers_seen} with a live fetcher child, {stale_pids} leaving a stale pid in the lock file), "
        f"{ran_out} runs finished before their kill time; {stats['files']} WARC "
        f"files, {stats['records']} records, {stats['captures']} captures, runs {stats['runs']}"
    )
    assert killed >= KILLS // 2
    assert during_open > 0
    assert fetchers_seen > 0
    assert stale_pids > 0  # ... and the next run took the lock over regardless
    assert stats["unfinished"] == 0
    db = sqlite3.connect(tmp_path / "archive" / "lastseen.db")
    try:
        statuses = [r[0] for r in db.execute("select status from runs order by rowid")]
    finally:
        db.close()
    assert statuses[-1] == "completed"
    assert set(statuses) <= {"aborted", "completed"}
    assert statuses.count("completed") >= ran_out + 1
    # Every run a kill interrupted after it began is marked aborted (a kill can
    # also land before the run's row exists, or after it was marked completed).
    assert statuses.count("aborted") >= during_open
    assert statuses.count("aborted") + statuses.count("completed") == len(statuses)
    assert stats["targets"] == {f"p{i}" for i in range(PAGES)}


def test_concurrent_runs_exit_3_or_wait_for_the_lock(tmp_path, site):
    held = threading.Event()  # the first run's slow page answers only once the losers have been checked
    site.set("/slow", "<html><body><p>slow page</p></body></html>", gate=held)
    site.set("/quick", "<html><body><p>quick page</p></body></html>")
    write_watchlist(tmp_path / "watchlist.yaml", [
        {"name": "slow", "url": site.url("/slow")}, {"name": "quick", "url": site.url("/quick")},
    ], settings={"timeout": "2m", "deadline": "3m"})
    lock = tmp_path / "archive" / "lastseen.lock"
    first = start_run(tmp_path, log=tmp_path / "first.log")
    assert wait_until(lambda: lock.exists() and lock.read_text().strip() == str(first.pid), 30)
    busy = start_run(tmp_path, log=tmp_path / "busy.log")
    short = start_run(tmp_path, "--wait", "1s", log=tmp_path / "short.log")
    stopped = start_run(tmp_path, "--wait", "30s", log=tmp_path / "stopped.log")
    waiter = start_run(tmp_path, "--wait", "2m", log=tmp_path / "waiter.log")

    assert busy.wait(30) == 3
    out, err = outputs(tmp_path, tmp_path / "busy.log")
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"Error: another lastseen run (pid {first.pid}) is using the archive")
    assert "--wait" in err
    assert short.wait(30) == 3
    assert "after waiting 1 s" in outputs(tmp_path, tmp_path / "short.log")[1]
    assert first.poll() is None, "the first run ended too soon for this test"
    os.kill(stopped.pid, signal.SIGTERM)
    assert stopped.wait(30) == 143
    out, err = outputs(tmp_path, tmp_path / "stopped.log")
    assert out == "" and err == (
        "Error: interrupted by SIGTERM while waiting for the archive's lock; this run did nothing\n"
    )
    # While the first run holds the lock, the waiter waits: it has begun no run and fetched nothing...
    assert waiter.poll() is None
    assert runs_begun(tmp_path / "archive") == 1
    assert site.hits("/slow") <= 1 and site.hits("/quick") <= 1
    assert first.poll() is None  # ... and the first run did hold it while those were read
    assert lock.read_text().strip() == str(first.pid)  # the losers touched nothing, not even the lock file
    held.set()
    assert first.wait(30) == 0, outputs(tmp_path, tmp_path / "first.log")[1]
    assert waiter.wait(30) == 0, outputs(tmp_path, tmp_path / "waiter.log")[1]  # ... then ran once it was free
    first_doc = json.loads(outputs(tmp_path, tmp_path / "first.log")[0])
    waiter_doc = json.loads(outputs(tmp_path, tmp_path / "waiter.log")[0])
    assert waiter_doc["run"]["finished"] >= first_doc["run"]["finished"]
    assert [e["verdict"] for e in waiter_doc["events"]] == ["unchanged", "unchanged"]
    assert site.hits("/slow") == 2 and site.hits("/quick") == 2
    stats = verify_archive(tmp_path / "archive")
    assert stats["runs"] == {"completed": 2}
    # two run reports, and the archive front page both runs wrote (#14)
    reports = tmp_path / "reports"
    assert len([p for p in reports.iterdir() if p.is_dir() and p.name not in ("targets", "assets")]) == 2
    assert (reports / "index.html").is_file()


def test_recovery_killed_half_way_is_finished_by_the_next_start(tmp_path):
    """Rows past a cut are deleted before the file is cut and renamed: a kill in between changes nothing."""
    t0 = datetime(2026, 11, 22, 10, 15, tzinfo=timezone.utc)
    archive = Archive.open(tmp_path)
    store = archive.store
    store.begin_run({"id": "r1", "started": "2026-11-22T10:15:00Z"})
    store.upsert_targets([{"name": "t", "url": "https://x.example/", "tags": "[]", "first_seen": "", "updated": ""}])
    # A run's WARC file as WarcFileSet writes it: ``<name>.open``, warcinfo first, each record synced.
    name = warc_filename(t0, 0)
    open_path = archive.warc_dir / (name + OPEN_SUFFIX)
    archive.warc_dir.mkdir(parents=True, exist_ok=True)
    fh = open(open_path, "xb", buffering=0)
    writer = WarcWriter(fh)
    writer.warcinfo(t0, name, {"software": "t"})
    refs = []
    for body in (b"kept", b"lost" * 500):
        ex = make_exchange(body, url="https://x.example/", request_headers=[], response_headers=[],
                           started=t0.timestamp(), duration=0.1)
        refs.append(writer.exchange(ex)[1])
        os.fsync(fh.fileno())
    with store.transaction():
        for ref in refs:
            store.insert_capture(
                {"run_id": "r1", "target": "t", "url": "https://x.example/", "started": "2026-11-22T10:15:00Z",
                 "warc_file": f"warcs/{name}", "warc_offset": ref.offset, "warc_length": ref.length,
                 "warc_record_id": ref.record_id, "record_type": ref.record_type},
                [], None, {"run_id": "r1", "target": "t", "verdict": "new"},
            )
    fh.close()  # killed: the file stays .open, and (power lost) its tail never reached the disk
    open_path.write_bytes(open_path.read_bytes()[: refs[1].offset + 20])
    archive.close()

    def killed(found):
        raise KeyboardInterrupt  # the recovering process dies here

    with pytest.raises(KeyboardInterrupt):
        recover_open_files(tmp_path / "warcs", forget=killed)
    assert open_path.exists()  # not renamed with rows still pointing past its end

    again = Archive.open(tmp_path)
    try:
        rows = again.store.conn.execute("select warc_offset from captures").fetchall()
        assert rows == [(refs[0].offset,)]
        assert [os.path.basename(r.facts["file"]) for r in again.recovered] == [name] and not open_path.exists()
    finally:
        again.close()
    assert verify_archive(tmp_path)["captures"] == 1


def test_a_fetcher_whose_monitor_is_already_gone_exits_at_once(tmp_path):
    """PR_SET_PDEATHSIG only covers a parent that dies later: the worker checks it still has its monitor."""
    watchlist = write_watchlist(tmp_path / "w.yaml", [{"name": "x", "url": "http://127.0.0.1:9/"}])
    settings = fetch_options(load_watchlist(watchlist))
    job = json.dumps({"settings": settings, "targets": [{"name": "x", "url": f"http://127.0.0.1:{closed_port()}/"}]})

    def worker(monitor_pid: int):
        return subprocess.run(
            [sys.executable, "-m", "crawler.fetch.worker"], input=job.encode(), capture_output=True, timeout=60,
            env=dict(os.environ, LASTSEEN_MONITOR_PID=str(monitor_pid)),
        )

    orphan = worker(1)  # its parent is this test, not pid 1: as if the monitor had died and it was re-parented
    assert orphan.returncode == 1 and orphan.stdout == b"" and orphan.stderr == b""
    control = worker(os.getpid())
    assert control.returncode == 0 and control.stdout, control.stderr
