"""Issue #17: ``target_stats`` (schema 22), what `lastseen status` reads of each target, kept by triggers.

What `status` shows of a target (its last own capture, its last good one, how many own captures it has, the last
run that captured it, its failures in a row, whether its last event awaits confirmation) is read from one row a
target instead of every capture and event of the archive. It must be what those give: here against the grouped
passes `status` made before (kept below), over real runs with changes, failures awaiting confirmation and
failures confirmed; after recovery forgets the captures of a WARC file's torn tail; and in an index upgraded
from schema 21 (the migration's sum).
"""

from __future__ import annotations

import os
import sqlite3

from crawler import clock
from crawler.store import CaptureStore
from crawler.store.schema import MIGRATIONS

from .helpers import lastseen, write_watchlist
from .site import Site, closed_port

#: `status`'s reads before schema 22: grouped passes over every capture and event
GROUPED = (
    "select m.target, c.started, c.status, e.verdict, e.reason, m.good, m.run, m.captures from ("
    "select p.target as target, "
    "max(case when coalesce(p.role, 'page') in ('page', 'refetch') then p.id end) as last, "
    "max(case when p.good = 1 then p.started end) as good, "
    "sum(coalesce(p.role, 'page') in ('page', 'refetch')) as captures, "
    "max(r.started) as run "
    "from capture_rows p left join runs r on r.id = p.run_id group by p.target) m "
    "left join capture_rows c on c.id = m.last "
    "left join event_rows e on e.target = c.target and e.capture_id = c.id "
    "where m.last is not null or m.run is not null"
)
FAILURES = (
    "select e.target, count(*) from event_rows e where e.verdict in ('unreachable', 'blocked') and e.id > "
    "coalesce((select max(o.id) from event_rows o where o.target = e.target "
    "and o.verdict not in ('unreachable', 'blocked')), 0) group by e.target"
)
UNCONFIRMED = (
    "select e.target from event_rows e join (select target, max(id) as id from event_rows group by target) m "
    "on m.id = e.id where e.confirmed = 0"
)


def _expected(db) -> tuple[dict, set]:
    conn = sqlite3.connect(db)
    try:
        failures = dict(conn.execute(FAILURES).fetchall())
        rows = {name: (started, status, verdict, reason, good, run, captures, failures.get(name, 0))
                for name, started, status, verdict, reason, good, run, captures in conn.execute(GROUPED)}
        return rows, {name for (name,) in conn.execute(UNCONFIRMED)}
    finally:
        conn.close()


def _read(db) -> tuple[dict, set]:
    store = CaptureStore.open_readonly(db)
    try:
        records = store.target_records()
        return ({name: (r.last_capture, r.last_status, r.last_verdict, r.last_reason, r.last_good, r.last_run_start,
                        r.captures, r.consecutive_failures) for name, r in records.items()},
                {name for name, r in records.items() if r.unconfirmed})
    finally:
        store.close()


def _runs(tmp_path, monkeypatch, days: int, after_each=None) -> None:
    """``days`` daily runs: ``notice`` changes on day 2; ``press``'s server is gone from day 3 (unreachable, its
    failure awaiting confirmation on days 3 and 4, confirmed on day 5); ``down`` never answers."""
    site, press = Site(), Site()
    down = f"http://127.0.0.1:{closed_port()}/gone"
    try:
        site.set("/notice", "<h1>Tender 12/2026</h1><p>Cameras for the city centre.</p>")
        press.set("/press", "<h1>Press</h1><p>No release today.</p>")
        write_watchlist(tmp_path / "watchlist.yaml", [
            {"name": "notice", "url": site.url("/notice"), "every": "1d"},
            {"name": "press", "url": press.url("/press"), "every": "1d", "confirm_after": 3},
            {"name": "down", "url": down, "every": "1d", "confirm_after": 2},
        ])
        for day in range(1, days + 1):
            if day == 2:
                site.set("/notice", "<h1>Tender 12/2026</h1><p>Cameras and drones for the city centre.</p>")
            if day == 3:
                press.close()
            monkeypatch.setenv(clock.ENV_NOW, f"2026-05-{day:02d}T09:00:00Z")
            os.environ.pop(clock.ENV_OFFSET, None)  # never through monkeypatch: its undo would put it back
            clock._reset()
            ran = lastseen(tmp_path, "run", "--json", "--force")
            assert ran.exit_code in (0, 1), ran.stderr
            if after_each is not None:
                after_each(day)
    finally:
        site.close()
        if days < 3:
            press.close()
        clock._reset()


def test_status_reads_what_every_capture_and_event_give(tmp_path, monkeypatch):
    db = tmp_path / "archive" / "lastseen.db"
    seen = {}

    def check(day):
        seen[day] = _expected(db)
        assert _read(db) == seen[day], day

    _runs(tmp_path, monkeypatch, 5, check)
    assert "press" in seen[4][1] and "press" not in seen[5][1]  # awaiting confirmation, then confirmed
    rows = seen[5][0]
    assert rows["down"][7] == 5 and rows["press"][7] == 3 and rows["notice"][7] == 0  # failures in a row
    assert rows["notice"][6] == 5  # own captures


def test_after_recovery_forgets_a_tail_and_after_an_upgrade(tmp_path, monkeypatch):
    _runs(tmp_path, monkeypatch, 4)
    db = tmp_path / "archive" / "lastseen.db"
    store = CaptureStore(db)
    try:
        warc_file, offset = store.conn.execute(
            "select warc_file, warc_offset from captures where warc_file is not null order by id desc limit 1"
        ).fetchone()
        assert store.forget_beyond(warc_file, offset) >= 1  # the last captures of that file, as recovery does
    finally:
        store.close()
    assert _read(db) == _expected(db)
    conn = sqlite3.connect(db)  # back to schema 21: no summary, no triggers
    try:
        for name in ("target_stats_capture", "target_stats_capture_gone", "target_stats_event",
                     "target_stats_event_gone"):
            conn.execute(f"drop trigger {name}")
        conn.execute("drop table target_stats")
        conn.execute(f"pragma user_version = {len(MIGRATIONS) - 1}")
        conn.commit()
    finally:
        conn.close()
    CaptureStore(db).close()  # upgraded: the migration sums every target up
    assert _read(db) == _expected(db)
