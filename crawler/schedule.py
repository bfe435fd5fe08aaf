"""When targets are due, and what the archive says of each target now (``lastseen status``).

A target's due time counts from the start of the last run that attempted it
(successfully or not), so cron intervals compare run start with run start.
A tolerance (1 % of ``every`` plus a minute) keeps a target with ``every: 6h``
under a six-hourly cron from being skipped every other run because the last
run started a few seconds late. Times are parameters, never read here.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .watchlist import Target, Watchlist


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def tolerance(every: float) -> float:
    return every * 0.01 + 60


def jitter_offset(target: Target, jitter: float) -> float:
    """A fixed offset in [0, jitter) seconds derived from the target's name.

    Spreads targets that share an ``every`` over different runs, the same
    offset every time (so a target is never starved), with no state to keep.
    """
    if not jitter:
        return 0.0
    digest = hashlib.sha256(target.name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * jitter


def effective_every(target: Target, watchlist: Watchlist) -> float | None:
    every = target.every if target.every is not None else watchlist.settings.every
    return every


def next_due(target: Target, watchlist: Watchlist, last_run_start: datetime | None) -> datetime | None:
    """When ``target`` is next due; None means "on every run" (no ``every``) or never attempted."""
    every = effective_every(target, watchlist)
    if not every or last_run_start is None:
        return None
    wait = every + jitter_offset(target, watchlist.settings.jitter) - tolerance(every)
    return last_run_start + timedelta(seconds=max(0.0, wait))


def is_due(target: Target, watchlist: Watchlist, last_run_start: datetime | None, now: datetime) -> bool:
    due = next_due(target, watchlist, last_run_start)
    return due is None or now >= due


def last_run_starts(conn: sqlite3.Connection) -> dict[str, datetime]:
    """For each target, the start of the last run that attempted it."""
    rows = conn.execute(
        "select captures.target, max(runs.started) from captures join runs on runs.id = captures.run_id "
        "group by captures.target"
    )
    return {name: parse_time(started) for name, started in rows}


@dataclass(frozen=True)
class TargetStatus:
    name: str
    url: str
    tags: tuple[str, ...]
    last_capture: datetime | None      # when the last capture (successful or not) began
    last_status: int | None
    last_verdict: str | None
    last_reason: str | None
    last_good: datetime | None         # when the last good capture began
    next_due: datetime | None          # None: due on the next run
    consecutive_failures: int          # unreachable verdicts since the last other verdict
    captures: int

    def to_json(self) -> dict:
        def iso(t):
            return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None

        return {
            "target": self.name, "url": self.url, "tags": list(self.tags),
            "last_capture": iso(self.last_capture), "last_status": self.last_status,
            "last_verdict": self.last_verdict, "last_reason": self.last_reason,
            "last_good": iso(self.last_good), "next_due": iso(self.next_due),
            "consecutive_failures": self.consecutive_failures, "captures": self.captures,
        }


def target_status(watchlist: Watchlist, conn: sqlite3.Connection | None, now: datetime) -> list[TargetStatus]:
    """The state of every watchlist target, in watchlist order (``conn`` None: no archive yet)."""
    last = {}
    runs = {}
    good = {}
    counts = {}
    failures = {}
    if conn is not None:
        for target, started, status, verdict, reason in conn.execute(
            "select c.target, c.started, c.status, e.verdict, e.reason from captures c "
            "join (select target, max(id) as id from captures group by target) m on m.id = c.id "
            "left join events e on e.capture_id = c.id"
        ):
            last[target] = (parse_time(started), status, verdict, reason)
        runs = last_run_starts(conn)
        good = {t: parse_time(s) for t, s in conn.execute(
            "select target, max(started) from captures where good = 1 group by target")}
        counts = dict(conn.execute("select target, count(*) from captures group by target"))
        failures = dict(conn.execute(
            "select e.target, count(*) from events e where e.verdict = 'unreachable' and e.id > "
            "coalesce((select max(o.id) from events o where o.target = e.target and o.verdict != 'unreachable'), 0) "
            "group by e.target"
        ))
    out = []
    for t in watchlist.targets:
        started, status, verdict, reason = last.get(t.name, (None, None, None, None))
        due = next_due(t, watchlist, runs.get(t.name))
        out.append(TargetStatus(
            name=t.name, url=t.url, tags=tuple(t.tags), last_capture=started, last_status=status,
            last_verdict=verdict, last_reason=reason, last_good=good.get(t.name),
            next_due=due if due is not None and due > now else None,
            consecutive_failures=failures.get(t.name, 0), captures=counts.get(t.name, 0),
        ))
    return out


__all__ = ["TargetStatus", "is_due", "jitter_offset", "last_run_starts", "next_due", "target_status"]
