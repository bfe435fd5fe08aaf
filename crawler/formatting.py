"""How values are written for people and for the ``--json`` contract: times and counts (pure).

One formatter per form, used everywhere:

- :func:`iso`: ``2026-11-22T10:15:00Z``, UTC, second precision (the JSON contract, reports, status);
- :func:`iso_precise`: ``2026-11-22T10:15:00.123456Z``, microseconds (index rows, WARC-Date);
- :func:`parse_iso`: either form back to an aware UTC ``datetime``;
- :func:`plural`: ``1 insertion``, ``3 insertions``.

A naive ``datetime`` is taken to be UTC already; a number is epoch seconds.
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["iso", "iso_precise", "parse_iso", "plural", "utc"]


def utc(value: float | datetime) -> datetime:
    """``value`` as an aware UTC datetime (epoch seconds, naive = UTC, or any aware time)."""
    if not isinstance(value, datetime):
        return datetime.fromtimestamp(value, timezone.utc)
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def iso(value: float | datetime | None) -> str | None:
    """UTC ISO 8601 with ``Z``, second precision; None stays None."""
    if value is None:
        return None
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_precise(value: float | datetime) -> str:
    """UTC ISO 8601 with microseconds and ``Z`` (the WARC 1.1 date form)."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str | None) -> datetime | None:
    """An ISO 8601 time written by :func:`iso` or :func:`iso_precise` (or None) as an aware datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return utc(parsed)


def plural(count: int, noun: str) -> str:
    """``"1 target"``, ``"2 targets"`` (English, regular nouns)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
