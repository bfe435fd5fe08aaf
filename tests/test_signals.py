"""SIGINT and SIGTERM stop a run cleanly: what arrived is committed, the WARC closed, exit 130 / 143."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import uuid

import pytest

from .archive_checks import (
    TAG_ENV, committed_captures, open_file_growing, outputs, start_run, tagged_processes, verify_archive, wait_until,
)
from .helpers import write_watchlist

PAGES = 60


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_the_run_cleanly(tmp_path, site, signum):
    tag = uuid.uuid4().hex
    env = dict(os.environ, **{TAG_ENV: tag})
    for i in range(PAGES):
        site.set(f"/p{i}", f"<html><body><h1>page {i}</h1><p>{'text ' * 200}</p></body></html>", delay=0.15)
    names = {f"p{i}" for i in range(PAGES)}
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [{"name": f"p{i}", "url": site.url(f"/p{i}"), "every": "1d"} for i in range(PAGES)],
        settings={"concurrency": 4, "per_host_concurrency": 4},
    )
    # Its own process group, so SIGINT can go to the whole group as a terminal's Ctrl-C does.
    proc = start_run(tmp_path, env=env, start_new_session=True)
    archive = tmp_path / "archive"
    # Some captures committed (and the WARC growing), more in flight.
    assert wait_until(
        lambda: (committed_captures(archive) > 0 and open_file_growing(archive / "warcs")) or proc.poll() is not None,
        30,
    )
    assert proc.poll() is None, "the run finished before it could be interrupted"
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    status = proc.wait(30)
    requested = sum(site.hits(f"/p{i}") for i in range(PAGES))
    out, err = outputs(tmp_path)
    assert status == 128 + signum, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: interrupted by {signal.Signals(signum).name}"), err
    # It stopped at once rather than finishing the run: pages were left unrequested (how fast: `make bench`).
    assert requested < PAGES, f"{requested} of {PAGES} pages requested"
    assert wait_until(lambda: not tagged_processes(tag), 5), tagged_processes(tag)

    stats = verify_archive(archive)
    assert stats["runs"] == {"interrupted": 1} and stats["unfinished"] == 0
    captured = stats["targets"]
    assert 0 < len(captured) < PAGES
    assert f": {len(captured)} target" in lines[0] and f"of {PAGES} captured and committed" in lines[0]
    db = sqlite3.connect(archive / "lastseen.db")
    try:
        run_id, finished, report = db.execute("select id, finished, report from runs").fetchone()
    finally:
        db.close()
    assert finished is not None and report is None
    assert not (tmp_path / "reports" / run_id).exists()  # no report of a partial run
    # nor archive pages: the page writer forked before the fetch was told to write nothing, and exited
    assert not (tmp_path / "reports" / "index.html").exists()
    assert not (tmp_path / "reports" / "targets").exists()
    print(f"\n{signal.Signals(signum).name}: stopped with {len(captured)}/{PAGES} captured, {requested} requested")

    # The next run fetches exactly what the interrupted one did not.
    again = start_run(tmp_path, env=env, log=tmp_path / "again.log")
    assert again.wait(60) == 0, outputs(tmp_path, tmp_path / "again.log")[1]
    doc = json.loads(outputs(tmp_path, tmp_path / "again.log")[0])
    assert {e["target"] for e in doc["events"]} == names - captured
    stats = verify_archive(archive)
    assert stats["targets"] == names
    assert stats["runs"] == {"interrupted": 1, "completed": 1}
