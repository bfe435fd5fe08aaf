"""The time window of ``lastseen report``: ``--since DURATION|DATE [--until DATE]`` (pure).

- ``--since`` is a duration back from now (``7d``, ``36h``, ``1h30m``; at most 100 years) or an
  ISO 8601 date or date-time (``2026-03-01``, ``2026-03-01T09:30``, ``2026-03-01T09:30:00+02:00``).
- ``--until`` is an ISO 8601 date or date-time; absent, the window ends now.
- A date-time without an offset is UTC; one with an offset (or ``Z``) means that instant.
- A bare date for ``--since`` starts at that day's first instant (00:00 UTC); a bare date for
  ``--until`` takes in that whole day (until the next day's 00:00 UTC), so ``--since 2026-03-01
  --until 2026-03-01`` is that one day.
- An event belongs to the window when its capture started at or after the start and before the
  end (a date-time ``--until`` includes that instant itself: its end is one microsecond later).

A value that is neither, or an ``--until`` before ``--since``, is a usage error (exit 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .errors import UsageError
from .formatting import iso, utc

__all__ = ["SINCE_MAX", "Window", "parse_window"]

#: The longest ``--since`` duration: 100 years (seconds, as said in messages).
SINCE_MAX = (36525 * 86400, "36525d (100 years)")

#: A value that starts like a date is read as one (a bare number is a duration in seconds).
_LOOKS_LIKE_DATE = re.compile(r"[0-9]{4}-")

_DATE_FORMS = "2026-03-01, 2026-03-01T09:30 or 2026-03-01T09:30:00+02:00"


@dataclass(frozen=True)
class Window:
    """``[start, end)`` in UTC; ``end`` is the instant just after the window."""

    start: datetime
    end: datetime

    def __contains__(self, when: datetime) -> bool:
        return self.start <= when < self.end

    @property
    def last(self) -> datetime:
        """The last instant in the window (what a person reads as its end)."""
        return self.end - timedelta(microseconds=1)

    def folder(self) -> str:
        """``window-<from>-<to>``: the default ``--out`` folder name (ASCII letters, digits and ``-``)."""
        return f"window-{_compact(self.start)}-{_compact(self.last)}"


def _compact(when: datetime) -> str:
    return utc(when).strftime("%Y%m%dT%H%M%SZ")


def _parse_date(option: str, value: str, *, end_of_day: bool) -> datetime:
    text = value.strip()
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        if not re.fullmatch(
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.,]+(?:Z|z|[+-][0-9:]+)?", text
        ):
            raise ValueError
        parsed = datetime.fromisoformat(
            text[:-1] + "+00:00" if text[-1] in "Zz" else text
        )
    except (ValueError, OverflowError):
        raise UsageError(
            f"{option} {value!r} is not an ISO 8601 date or date-time; write e.g. {_DATE_FORMS}"
            f"{' or a duration such as 7d' if option == '--since' else ''}"
        ) from None
    when = utc(parsed)  # naive: UTC
    return when + timedelta(microseconds=1) if end_of_day else when


def _since_duration(value: str) -> float:
    from .watchlist import parse_duration

    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        if "too large" not in str(exc):
            raise UsageError(
                f"--since {value!r}: not a duration ({exc}) nor an ISO 8601 date such as "
                f"2026-03-01"
            ) from exc
        seconds = float("inf")
    if seconds > SINCE_MAX[0]:
        raise UsageError(f"--since {value!r}: must be at most {SINCE_MAX[1]}")
    return seconds


def parse_window(since: str, until: str | None, now: datetime) -> Window:
    """The window ``--since`` and ``--until`` say, ``now`` being the clock's time; a :class:`UsageError`
    naming the option and the forms it takes when a value is wrong or the window is empty."""
    now = utc(now)
    # Without --until the window takes in ``now`` itself, as a date-time --until does.
    end = (
        now + timedelta(microseconds=1)
        if until is None
        else _parse_date("--until", until, end_of_day=True)
    )
    if _LOOKS_LIKE_DATE.match(since.strip()):
        start = _parse_date("--since", since, end_of_day=False)
    else:  # a duration back from now, or from the end of --until
        start = (now if until is None else end) - timedelta(
            seconds=_since_duration(since)
        )
    if end <= start:
        raise UsageError(
            f"--until {until!r} is before --since {since!r} ({iso(end)} ≤ {iso(start)}): "
            f"the window is empty"
            if until is not None
            else f"--since {since!r} is in the future ({iso(start)}, now {iso(now)}): the window is empty"
        )
    return Window(start, end)
