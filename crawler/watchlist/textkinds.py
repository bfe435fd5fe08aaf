"""Kinds of the keys that decide what text is compared and when a change alerts.

``ignore_text`` (regular expressions), ``keywords`` (words and phrases),
``equate_scripts`` (``sr``) and ``alert_when`` (``{min_significance: 0.3}``):
each a :class:`~crawler.watchlist.kinds.Kind`, checked with a message that says
how to fix the value. The registry rows in :mod:`crawler.watchlist.fields` name them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .kinds import Kind, _require_str
from .units import describe

__all__ = ["ALERT_WHEN", "EQUATE_SCRIPTS", "KEYWORD", "REGEX", "SCRIPTS", "AlertWhen"]

#: Script families ``equate_scripts`` knows, with what they equate.
SCRIPTS = {"sr": "Serbian: Cyrillic and Latin (Gaj's alphabet) are the same text"}
MAX_PATTERN = 1000   # characters of one ignore_text regular expression


def _regex_convert(value: Any) -> str:
    pattern = _require_str(value, r'"Visited \d+ times" or "(?i)generated in [0-9.]+ s"')
    if not pattern.strip():
        raise ValueError("an ignore_text pattern must not be empty (it would match everywhere)")
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"an ignore_text pattern may be at most {MAX_PATTERN} characters, got {len(pattern)}")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc} (Python `re` syntax; escape "
                         f"literal characters such as . ( [ with a backslash)") from None
    if compiled.match(""):
        raise ValueError(f"the regular expression {pattern!r} matches the empty text, so it would remove "
                         f"nothing useful and match everywhere; make it require at least one character")
    return pattern


def _keyword_convert(value: Any) -> str:
    word = _require_str(value, '"Huawei" or "facial recognition"')
    word = " ".join(word.split())
    if not word:
        raise ValueError("a keyword must not be empty")
    if len(word) > 200:
        raise ValueError(f"a keyword may be at most 200 characters, got {len(word)}")
    from ..keywords import keyword_error  # (pure; imported when a watchlist has keywords)

    problem = keyword_error(word)
    if problem:
        raise ValueError(problem)
    return word


def _scripts_convert(value: Any) -> str:
    scripts = _require_str(value, '"sr"')
    if scripts not in SCRIPTS:
        known = ", ".join(f"`{k}` ({v})" for k, v in SCRIPTS.items())
        raise ValueError(f"unknown script family {scripts!r}; known: {known}")
    return scripts


@dataclass(frozen=True)
class AlertWhen:
    """``alert_when``: when a change alerts (only ``min_significance`` so far: 0, every change alerts)."""

    min_significance: float = 0.0


_ALERT_WHEN_KEYS = {"min_significance": "a number from 0 to 1: changes below it do not alert"}


def _alert_when_convert(value: Any) -> AlertWhen:
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping such as {{min_significance: 0.2}}, got {describe(value)}")
    unknown = sorted(str(k) for k in value if k not in _ALERT_WHEN_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)} in alert_when; known: "
                         + "; ".join(f"{k}: {v}" for k, v in _ALERT_WHEN_KEYS.items()))
    level = value.get("min_significance", 0.0)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 <= level <= 1:
        raise ValueError(f"min_significance must be a number from 0 to 1, got {describe(level)}")
    return AlertWhen(float(level))


REGEX = Kind("regular expression", _regex_convert, {"type": "string", "minLength": 1, "format": "regex"})
KEYWORD = Kind("keyword", _keyword_convert, {"type": "string", "minLength": 1})
EQUATE_SCRIPTS = Kind("script family (sr)", _scripts_convert, {"type": "string", "enum": list(SCRIPTS)})
ALERT_WHEN = Kind(
    "mapping", _alert_when_convert,
    {"type": "object", "additionalProperties": False,
     "properties": {"min_significance": {"type": "number", "minimum": 0, "maximum": 1}}},
    spell=lambda value: {"min_significance": value.min_significance}, mapping=True,
)
