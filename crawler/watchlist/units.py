"""Durations and sizes as written in a watchlist: ``"1h30m"`` and ``"5MB"``, parsed and formatted.

``parse_duration``/``format_duration`` and ``parse_size``/``format_size`` round-trip; errors are
:class:`ValueError` with a message listing the valid forms. :func:`describe` names a YAML value
in such messages ("a list", "a boolean (true)"...).
"""

from __future__ import annotations

import datetime
import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

__all__ = [
    "DURATION_FORMS",
    "DURATION_PATTERN",
    "SIZE_FORMS",
    "SIZE_PATTERN",
    "describe",
    "format_duration",
    "format_size",
    "mask_password",
    "parse_duration",
    "parse_size",
]

_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_DURATION_UNITS: dict[str, Fraction] = {
    "w": Fraction(7 * 86400),
    "d": Fraction(86400),
    "h": Fraction(3600),
    "m": Fraction(60),
    "s": Fraction(1),
    "ms": Fraction(1, 1000),
}
_DURATION_PART = re.compile(rf"({_NUMBER})(ms|s|m|h|d|w)")
DURATION_PATTERN = rf"(?:{_NUMBER}(?:ms|s|m|h|d|w))+|{_NUMBER}"
_DURATION_RE = re.compile(DURATION_PATTERN)
DURATION_FORMS = "30s, 500ms, 15m, 6h, 1d, 2w, 1h30m, or a bare number of seconds such as 90"

_SIZE_UNITS: dict[str, int] = {"": 1, "b": 1}
for _power, _letter in enumerate("kmgt", start=1):
    for _suffix in (_letter, _letter + "b", _letter + "ib"):
        _SIZE_UNITS[_suffix] = 1024**_power
_SIZE_RE = re.compile(rf"({_NUMBER})([a-z]*)", re.IGNORECASE)
SIZE_PATTERN = rf"{_NUMBER}(?:[bB]|[kKmMgGtT](?:[iI]?[bB])?)?"
SIZE_FORMS = "a whole number of bytes such as 1048576, or 512KB, 5MB, 1GB (1KB = 1024 bytes)"


#: ``scheme://user:`` then everything up to the *last* ``@``: a password, however it is written (an
#: unencoded ``/``, ``@`` or ``#`` in it included); masking too much is better than printing a secret.
_PASSWORD = re.compile(r"^(\s*[A-Za-z][A-Za-z0-9+.\-]*:[/\\]*[^/\\?#@:]*):.*@", re.DOTALL)


def mask_password(text: str) -> str:
    """``text`` with what may be a URL's password shown as ``***``: for every message that echoes a value."""
    return _PASSWORD.sub(r"\1:***@", text, count=1)


def describe(value: Any) -> str:
    """How a YAML value reads in an error message: 'a list', 'a boolean (true)'...

    A string that looks like a URL with a password is shown with the password masked.
    """
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({mask_password(value)!r})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"a date ({value.isoformat()})"
    return f"a {type(value).__name__}"


def parse_duration(value: Any) -> float:
    """Seconds in ``value``: ``"30s"``, ``"500ms"``, ``"6h"``, ``"1d"``, ``"2w"``, ``"1h30m"``, or a number.

    A bare number (or numeric string) is seconds. Raises :class:`ValueError` saying which
    forms are valid. Zero is returned as 0.0; callers that need a positive duration check.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"a duration must be text such as 6h or a number of seconds, not {describe(value)}; "
                         f"valid forms: {DURATION_FORMS}")
    if not isinstance(value, str):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"a duration must be finite, not {value!r}; valid forms: {DURATION_FORMS}")
        if value < 0:
            raise ValueError(f"a duration can't be negative ({value!r}); valid forms: {DURATION_FORMS}")
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"duration {value!r} is too large") from None
    text = value.strip()
    if text.startswith("-") and _DURATION_RE.fullmatch(text[1:]):
        raise ValueError(f"a duration can't be negative ({value!r}); valid forms: {DURATION_FORMS}")
    if not _DURATION_RE.fullmatch(text):
        raise ValueError(f"invalid duration {value!r}; write a number and a unit with no space, "
                         f"e.g. {DURATION_FORMS} (units: ms, s, m, h, d, w)")
    if text[-1].isdigit():  # bare number of seconds
        total = Fraction(text)
    else:
        total = sum((Fraction(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text)), Fraction(0))
    try:
        return float(total)  # exact arithmetic, then one rounding: format/parse round-trips
    except OverflowError:
        raise ValueError(f"duration {value!r} is too large") from None


def format_duration(seconds: float) -> str:
    """The canonical spelling of a duration: 5400 -> ``"1h30m"``; ``parse_duration`` inverts it."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a duration")
    if seconds == 0:
        return "0s"
    millis = round(seconds * 1000)
    if millis / 1000 != seconds:  # finer than a millisecond: plain decimal seconds
        return f"{format(Decimal(repr(float(seconds))), 'f')}s"
    parts = []
    remaining = Fraction(millis, 1000)
    for unit, size in _DURATION_UNITS.items():
        count = remaining // size
        if count:
            parts.append(f"{count}{unit}")
            remaining -= count * size
    return "".join(parts)


def parse_size(value: Any) -> int:
    """Bytes in ``value``: a whole number of bytes, or ``"512KB"``, ``"5MB"``, ``"1GB"`` (KiB-based).

    Units are case-insensitive; ``K``/``KB``/``KiB`` all mean 1024. Raises :class:`ValueError`.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"a size must be a number of bytes or text such as 5MB, not {describe(value)}; "
                         f"valid forms: {SIZE_FORMS}")
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise ValueError(f"invalid size {value!r}; valid forms: {SIZE_FORMS}")
        value = int(value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a size can't be negative ({value}); valid forms: {SIZE_FORMS}")
        return value
    match = _SIZE_RE.fullmatch(value.strip())
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"invalid size {value!r}; write {SIZE_FORMS}, with no space before the unit")
    total = Fraction(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    if total.denominator != 1:
        raise ValueError(f"size {value!r} is not a whole number of bytes; valid forms: {SIZE_FORMS}")
    return int(total)


def format_size(size: int) -> str:
    """The shortest exact spelling of ``size``: 52428800 -> ``"50MB"``, 1000 -> ``"1000"``."""
    for unit, power in (("TB", 4), ("GB", 3), ("MB", 2), ("KB", 1)):
        if size and size % 1024**power == 0:
            return f"{size // 1024**power}{unit}"
    return str(size)
