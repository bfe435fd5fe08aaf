"""When targets are due, and what the archive says of each target now (``lastseen status``).

A target's due time counts from the start of the last run that attempted it
(successfully or not), so cron intervals compare run start with run start.
A tolerance (1 % of ``every`` plus a minute) keeps a target with ``every: 6h``
under a six-hourly cron from being skipped every other run because the last
run started a few seconds late. A last run start later than now (the clock
was set wrong once) counts as now: the target is due again within its
``every`` instead of never (``lastseen run`` also repairs the recorded time).
Times are parameters, never read here, and what the index says comes in as
plain values (:mod:`crawler.store` reads it).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .watchlist import Target, Watchlist

from .formatting import iso, parse_iso

if TYPE_CHECKING:
    from .store import TargetRecord


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


#: A target awaiting confirmation of a failure is due again after at most this long (seconds).
CONFIRM_EVERY = 3600.0


def effective_every(target: Target, watchlist: Watchlist, unconfirmed: bool = False) -> float | None:
    """The target's ``every`` (seconds); ``min(every, 1h)`` while a failure awaits confirmation, so it is
    confirmed (or not) within hours, not days."""
    every = target.every if target.every is not None else watchlist.settings.every
    if unconfirmed and every:
        every = min(every, CONFIRM_EVERY)
    return every


def next_due(target: Target, watchlist: Watchlist, last_run_start: datetime | None,
             unconfirmed: bool = False) -> datetime | None:
    """When ``target`` is next due; None means "on every run" (no ``every``) or never attempted."""
    every = effective_every(target, watchlist, unconfirmed)
    if not every or last_run_start is None:
        return None
    wait = every + jitter_offset(target, watchlist.settings.jitter) - tolerance(every)
    return last_run_start + timedelta(seconds=max(0.0, wait))


def is_due(target: Target, watchlist: Watchlist, last_run_start: datetime | None, now: datetime,
           unconfirmed: bool = False) -> bool:
    due = next_due(target, watchlist, not_after(last_run_start, now), unconfirmed)
    return due is None or now >= due


def not_after(when: datetime | None, now: datetime) -> datetime | None:
    """``when``, or ``now`` if it is later: a time in the future was recorded by a wrong clock."""
    return now if when is not None and when > now else when


def parse_times(stored: Mapping[str, str | None]) -> dict[str, datetime | None]:
    """``{target: ISO time}`` as the index stores it (``CaptureStore.last_run_starts()``) → datetimes.

    The targets a run attempted share its start: each distinct time is parsed once (#17)."""
    parsed: dict[str | None, datetime | None] = {}
    out = {}
    for name, value in stored.items():
        if value not in parsed:
            parsed[value] = parse_iso(value)
        out[name] = parsed[value]
    return out


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ took three times as long (#17)
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
    consecutive_failures: int          # unreachable or blocked verdicts since the last other verdict
    captures: int
    confirm_after: int = 3             # failures in a row that confirm (and alert)
    unconfirmed: bool = False          # the failure awaits confirmation: due again within CONFIRM_EVERY
    items: tuple[TargetStatus, ...] | None = None  # a listing's items (None: not a listing)
    listed: bool | None = None         # an item: still in its listing's last items (None: not an item)
    items_capped: tuple[str, ...] = ()  # a listing: the URLs its last capture listed past max_items (not watched)
    in_watchlist: bool = True          # False: in the archive only (`status --all`), no longer watched

    def to_json(self) -> dict:
        doc = {
            "target": self.name, "url": self.url, "tags": list(self.tags),
            "last_capture": iso(self.last_capture), "last_status": self.last_status,
            "last_verdict": self.last_verdict, "last_reason": self.last_reason,
            "last_good": iso(self.last_good), "next_due": iso(self.next_due),
            "consecutive_failures": self.consecutive_failures, "captures": self.captures,
            "confirm_after": self.confirm_after, "unconfirmed": self.unconfirmed,
        }
        if self.listed is not None:
            doc["listed"] = self.listed
        if not self.in_watchlist:
            doc["in_watchlist"] = False
        if self.items is not None:
            doc["items"] = [item.to_json() for item in self.items]
            doc["items_capped"] = list(self.items_capped)
        return doc


def target_status(watchlist: Watchlist, records: Mapping[str, "TargetRecord"], now: datetime) -> list[TargetStatus]:
    """The state of every watchlist target, in watchlist order.

    ``records`` is what the index holds about each target by name
    (``CaptureStore.target_records()``; empty when there is no archive yet).
    """
    return [state_of(t, watchlist, records.get(t.name), now) for t in watchlist.targets]


def state_of(target: Target, watchlist: Watchlist, rec: TargetRecord | None, now: datetime, **more) -> TargetStatus:
    """The state of one target (a watchlist target, or a listing's item) from what the index holds of it."""
    if rec is None:  # never captured: due on the next run
        return TargetStatus(target.name, target.url, tuple(target.tags), None, None, None, None, None, None, 0, 0,
                            confirm_after=target.confirm_after, **more)
    unconfirmed = bool(rec.unconfirmed)
    due = next_due(target, watchlist, not_after(_run_start(rec.last_run_start), now), unconfirmed)
    return TargetStatus(
        target.name, target.url, tuple(target.tags), parse_iso(rec.last_capture), rec.last_status, rec.last_verdict,
        rec.last_reason, parse_iso(rec.last_good), due if due is not None and due > now else None,
        rec.consecutive_failures, rec.captures, target.confirm_after, unconfirmed, **more,
    )


#: The start of the last run that attempted a target, parsed once per run, not once per target (#17).
_run_start = functools.lru_cache(maxsize=256)(parse_iso)


__all__ = [
    "TargetStatus", "is_due", "jitter_offset", "next_due", "not_after", "parse_times", "state_of", "target_status",
]
