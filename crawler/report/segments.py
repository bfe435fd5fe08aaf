"""A diff as the report shows it: segments of equal, inserted and deleted text, long equal runs collapsed.

:func:`_segments` turns diff ops into :class:`_Segment` objects, collapsing unchanged runs to
a line or two each side of a change: :data:`CONTEXT_LINES` lines (the rest of the changed line
counts as one) or ``context`` characters, whichever is shorter (cut at a line break or a space,
never mid-word); :func:`_first_changes` keeps what fits in a page's budget.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

#: Lines of unchanged text kept each side of a change (the rest of the changed line counts as one).
CONTEXT_LINES = 2

_MIN_HIDDEN = 200  # collapse an unchanged run only when it hides at least this much
_SNAP_LINE = 160  # move a cut point up to this far to land on a line break
_SNAP = 40  # ... or else this far to land on whitespace


class _Segment(NamedTuple):
    """A piece of the rendered diff: ``equal``, ``ins``, ``del`` or ``skip`` (collapsed text).

    A named tuple, not a frozen dataclass: a change page makes some 130 of them (each line of both texts, in
    the side-by-side view), and a frozen dataclass's ``__init__`` was a sixth of the view's time (#17)."""

    kind: str
    text: str
    newline: bool = False  # an insertion/deletion of only whitespace with a line break
    marks: tuple[tuple[int, int], ...] = ()  # spans of ``text`` to highlight (keywords)

    @property
    def pieces(self) -> list[tuple[str, bool]]:
        """``text`` cut into (piece, highlighted) runs."""
        out, at = [], 0
        for start, end in self.marks:
            if start > at:
                out.append((self.text[at:start], False))
            out.append((self.text[start:end], True))
            at = end
        if at < len(self.text) or not out:
            out.append((self.text[at:], False))
        return out


def highlighted(segments: list[_Segment], spans_of) -> list[_Segment]:
    """``segments`` with ``spans_of(text)`` (``(start, end)`` pairs, sorted) marked in each."""
    out = []
    for seg in segments:
        spans = [] if seg.kind == "skip" else _merged(spans_of(seg.text))
        out.append(_Segment(seg.kind, seg.text, seg.newline, tuple(spans)) if spans else seg)
    return out


def _merged(spans) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _first_changes(segments: list[_Segment], budget: int) -> tuple[list[_Segment], int]:
    """The segments that fit in ``budget`` characters, and how many changes did not fit."""
    kept, used = [], 0
    for i, seg in enumerate(segments):
        if used + len(seg.text) > budget and kept:
            rest = segments[i:]
            return kept, sum(1 for s in rest if s.kind in ("ins", "del"))
        kept.append(seg)
        used += len(seg.text)
    return kept, 0


def _segments(ops: Sequence[tuple[int, str]], context: int | None,
              lines: int = CONTEXT_LINES) -> tuple[list[_Segment], bool]:
    """Diff ops as segments; with ``context``, long unchanged runs shrink to ``lines`` lines or
    ``context`` chars each side of a change, whichever is shorter."""
    merged: list[tuple[int, str]] = []
    for op, text in ops:
        if op in (-2, 2):  # a paragraph that moved unchanged (crawler.moves): one marker at each place
            if text:
                merged.append((op, text))
            continue
        op = (op > 0) - (op < 0)
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    ops = merged
    changes = [i for i, (op, _t) in enumerate(ops) if op != 0]
    first = changes[0] if changes else None
    last = changes[-1] if changes else None
    segments: list[_Segment] = []
    collapsed = False
    for i, (op, text) in enumerate(ops):
        if op in (-2, 2):
            kind = "moved-to" if op > 0 else "moved-from"
            segments.append(_Segment(kind, text.strip("\n") if op > 0 else _moved_words(text), True))
            continue
        if op != 0:
            blank_line = "\n" in text and not text.strip()
            segments.append(_Segment("ins" if op > 0 else "del", text, blank_line))
            continue
        if context is None:
            segments.append(_Segment("equal", text))
            continue
        if first is None:  # nothing changed at all: show the beginning
            keep_head, keep_tail = context, 0
        else:
            keep_head = context if i > first else 0
            keep_tail = context if i < last else 0
        head_end = _snap_forward(text, keep_head)
        tail_start = _snap_backward(text, len(text) - keep_tail)
        if first is not None:  # around a change: a line or two at most
            head_end = min(head_end, _lines_forward(text, lines))
            tail_start = max(tail_start, _lines_backward(text, lines))
        hidden = tail_start - head_end
        if hidden < _MIN_HIDDEN:
            segments.append(_Segment("equal", text))
            continue
        collapsed = True
        if head_end:
            segments.append(_Segment("equal", text[:head_end]))
        segments.append(_Segment("skip", f"… {hidden:,} characters unchanged …"))
        if tail_start < len(text):
            segments.append(_Segment("equal", text[tail_start:]))
    return segments, collapsed


def _moved_words(text: str) -> str:
    """The marker left where a paragraph was: its first words."""
    words = text.split()
    return " ".join(words[:8]) + (" …" if len(words) > 8 else "")


def _lines_forward(text: str, n: int) -> int:
    """The end of the first ``n`` lines of ``text`` (a line break that starts it ends the changed line)."""
    at = 1 if text.startswith("\n") else 0
    for _ in range(n):
        found = text.find("\n", at)
        if found < 0:
            return len(text)
        at = found + 1
    return at


def _lines_backward(text: str, n: int) -> int:
    """The start of the last ``n`` lines of ``text`` (a line break that ends it ends its last line)."""
    at = len(text) - 1 if text.endswith("\n") else len(text)
    for _ in range(n):
        found = text.rfind("\n", 0, at)
        if found < 0:
            return 0
        at = found
    return at + 1


def _snap_forward(text: str, i: int) -> int:
    """End a kept head after a line break (or else a space) near ``i``, not mid-word."""
    if i <= 0:
        return 0
    if i >= len(text):
        return len(text)
    for pattern, reach in (("\n", _SNAP_LINE), (r"\s", _SNAP)):
        m = re.search(pattern, text[i : i + reach])
        if m:
            return i + m.end()
    return i


def _snap_backward(text: str, i: int) -> int:
    """Start a kept tail after a line break (or else a space) near ``i``, not mid-word."""
    if i >= len(text):
        return len(text)
    if i <= 0:
        return 0
    for pattern, reach in (("\n", _SNAP_LINE), (r"\s", _SNAP)):
        start = max(0, i - reach)
        ends = [m.end() for m in re.finditer(pattern, text[start:i])]
        if ends:
            return start + ends[-1]
    return i


# -- rendering ----------------------------------------------------------------------------------

# C0/C1 controls (but tab, LF, FF, CR) and lone surrogates: not text, and some break parsers.
