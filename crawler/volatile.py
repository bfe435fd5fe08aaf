"""Volatile parts of a page, learned from its captures: a clock, a visit counter, a rotating quote (pure).

The compared text has one block (paragraph, list item, cell...) a line. A block
is known across captures by a *key*:

- ``line:<shape>`` — its shape: the line with every run of digits read as ``#``
  ("This page has been accessed #,# times", "Generated in #.# s", "27 November
  2026" → "# November #"), so a counter or a clock keeps its key while its
  numbers change;
- ``after:<shape>`` — for a block whose words change wholesale (a rotating
  testimonial, "quote of the day"), the slot right after a block of that shape
  (``after:`` alone: the first line).

When a capture's compared text differs from the last good one, the keys of the
blocks that were replaced are the capture's *changed keys*
(:func:`changed_keys`, from a line diff: a line replaced in place whose shape stayed
gives ``line:``, otherwise ``after:`` of the line before it). Lines inserted or
deleted are never keys: a list that grows (a new press release, a new tender)
is what investigators watch for. A key is
learned as volatile when it is among the changed keys of at least
:data:`NEED` of the target's last :data:`WINDOW` compared captures, this one
included (:func:`learn`). From then on the blocks it names are left out of the
compared text (:func:`leave_out`), so the page is compared on the rest; the
report shows them greyed, and ``lastseen unlearn`` forgets them.

A real edit changes a block once, not in three captures out of four, so it is
never learned; and a learned key names one block, so a change anywhere else is
still seen.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = ["MAX_KEYS", "MAX_LINES", "NEED", "WINDOW", "changed_keys", "learn", "leave_out", "shape"]

NEED, WINDOW = 3, 4        # learned when changed in 3 of the last 4 compared captures
MAX_LINES = 5000           # line diffs of longer texts are not attempted (nothing is learned from them)
MAX_KEYS = 20              # a capture that changed more blocks than this is an edit, not noise: no keys
_DIGITS = re.compile(r"\d+")


def shape(line: str) -> str:
    """A block's shape: digits runs as ``#``, whitespace collapsed."""
    return " ".join(_DIGITS.sub("#", line).split())


def changed_keys(old: str, new: str) -> frozenset[str]:
    """The keys of the blocks replaced between two compared texts (none when too many changed)."""
    a, b = old.split("\n"), new.split("\n")
    if len(a) > MAX_LINES or len(b) > MAX_LINES:
        return frozenset()
    keys: set[str] = set()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        before = shape(a[i1 - 1]) if i1 > 0 else ""
        if tag == "replace" and i2 - i1 == j2 - j1:
            for old_line, new_line in zip(a[i1:i2], b[j1:j2]):
                if shape(old_line) == shape(new_line):
                    keys.add(f"line:{shape(old_line)}")
                else:
                    keys.add(f"after:{before}")
                before = shape(old_line)
        # Lines inserted or deleted (a list that grew: a new press release, a new tender) are never
        # noise to learn: only blocks replaced in place are.
        if len(keys) > MAX_KEYS:
            return frozenset()
    return frozenset(keys)


def learn(recent: Sequence[Iterable[str]], *, need: int = NEED, window: int = WINDOW) -> frozenset[str]:
    """Keys among the changed keys of at least ``need`` of the last ``window`` captures (newest last)."""
    counts = Counter(key for keys in recent[-window:] for key in set(keys))
    return frozenset(key for key, n in counts.items() if n >= need)


def leave_out(text: str, keys: Iterable[str]) -> tuple[str, list[str]]:
    """``text`` without the blocks the volatile ``keys`` name, and those blocks (in order)."""
    keys = set(keys)
    if not keys or not text:
        return text, []
    shapes = {k[5:] for k in keys if k.startswith("line:")}
    after = {k[6:] for k in keys if k.startswith("after:")}
    kept, left = [], []
    previous = ""
    for line in text.split("\n"):
        here = shape(line)
        if here in shapes or previous in after:
            left.append(line)
        else:
            kept.append(line)
        previous = here
    return "\n".join(kept), left
