"""The one clock lastseen reads for what it records (run times, WARC-Date, due-ness).

``LASTSEEN_NOW`` (ISO 8601, UTC unless it says otherwise) starts the clock at that
instant; it then runs at the real rate. It exists for tests and benchmarks that need
captures on several days ("five runs a week apart") and is documented as such; a user
never sets it. The offset is computed once, in the first process that reads the
variable, and handed to its children (the fetch process, the workers) in
``LASTSEEN_CLOCK_OFFSET``, so that parent and children agree to the microsecond.

Waiting (politeness delays, deadlines, ``Retry-After``) uses the real clock, never this one.
"""

from __future__ import annotations

import os
import time as _time
from datetime import datetime, timezone

from .errors import UsageError

__all__ = ["ENV_NOW", "ENV_OFFSET", "now", "offset", "time"]

ENV_NOW = "LASTSEEN_NOW"
ENV_OFFSET = "LASTSEEN_CLOCK_OFFSET"

_offset: float | None = None


def _parse(value: str) -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{ENV_NOW}={value!r} is not an ISO 8601 date or date-time (e.g. 2026-03-01T09:00:00Z); "
            f"unset it to use the real clock"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when


def offset() -> float:
    """Seconds added to the real clock: 0 unless ``LASTSEEN_NOW`` (or an inherited offset) is set."""
    global _offset
    if _offset is None:
        inherited = os.environ.get(ENV_OFFSET)
        if inherited:
            _offset = float(inherited)
        elif os.environ.get(ENV_NOW):
            _offset = _parse(os.environ[ENV_NOW]).timestamp() - _time.time()
            os.environ[ENV_OFFSET] = repr(_offset)  # children inherit the same clock
        else:
            _offset = 0.0
    return _offset


def time() -> float:
    """Seconds since the epoch, as :func:`time.time`, shifted by :func:`offset`."""
    shift = offset()  # first: on the first call it reads the real clock itself
    return _time.time() + shift


def now() -> datetime:
    """The current instant, timezone-aware UTC, shifted by :func:`offset`."""
    return datetime.fromtimestamp(time(), timezone.utc)


def _reset() -> None:
    """Forget the computed offset (tests that set the variables in-process)."""
    global _offset
    _offset = None
