"""LASTSEEN_NOW: runs, captures and WARC records dated by the injected clock (tests and benchmarks only)."""

from __future__ import annotations

import os
import sqlite3

import pytest

from crawler import clock

from .helpers import lastseen, only_warc, warc_records, write_watchlist


@pytest.fixture
def injected(monkeypatch):
    """Set (or unset) LASTSEEN_NOW for the runs that follow; the computed offset never outlives the test.

    The offset is written to os.environ by the clock itself (for the fetch process to inherit), so it
    is removed directly, never through monkeypatch (whose undo would put it back).
    """

    def set_now(value: str | None) -> None:
        os.environ.pop(clock.ENV_OFFSET, None)
        if value is None:
            monkeypatch.delenv(clock.ENV_NOW, raising=False)
        else:
            monkeypatch.setenv(clock.ENV_NOW, value)
        clock._reset()

    yield set_now
    os.environ.pop(clock.ENV_OFFSET, None)
    clock._reset()


def test_runs_and_warc_records_follow_the_injected_clock_and_due_ness_with_it(tmp_path, site, injected):
    site.set("/p", "<h1>Notice</h1><p>Deadline 1 March</p>")
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p", "url": site.url("/p"), "every": "1d"}])
    injected("2026-03-01T09:00:00Z")
    first = lastseen(tmp_path, "run", "--json")
    assert first.exit_code == 0, first.stderr
    assert first.json["run"]["started"].startswith("2026-03-01T09:00")
    db = sqlite3.connect(tmp_path / "archive" / "lastseen.db")
    assert db.execute("SELECT started FROM captures WHERE target = 'p'").fetchone()[0].startswith("2026-03-01T09:00")
    dates = {headers.get_header("WARC-Date")[:16] for _, _, headers, _, _ in warc_records(only_warc(tmp_path))}
    assert dates == {"2026-03-01T09:00"}

    injected("2026-03-01T12:00:00Z")  # three hours later: not due (every 1d)
    assert lastseen(tmp_path, "run", "--json").json["events"] == []
    injected("2026-03-02T09:30:00Z")  # a day later: due again
    later = lastseen(tmp_path, "run", "--json")
    assert [e["verdict"] for e in later.json["events"]] == ["unchanged"]
    assert later.json["run"]["started"].startswith("2026-03-02T09:30")
    latest = db.execute("SELECT started FROM captures WHERE target = 'p' ORDER BY id DESC").fetchone()[0]
    assert latest.startswith("2026-03-02T09:30")


def test_a_bad_lastseen_now_is_a_clear_error_naming_the_variable(tmp_path, site, injected):
    site.set("/p", "<p>x</p>")
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p", "url": site.url("/p")}])
    injected("next tuesday")
    ran = lastseen(tmp_path, "run", "--json")
    assert ran.exit_code == 2
    assert "LASTSEEN_NOW='next tuesday'" in ran.stderr and "ISO 8601" in ran.stderr


def test_without_the_variable_the_clock_is_the_real_one(injected):
    import time

    injected(None)
    before = time.time()
    assert before <= clock.time() <= time.time()
    assert clock.offset() == 0.0
