"""Paragraphs that moved without changing: found before the word diff, shown as moves (pure).

A paragraph (a line of the compared text, at least :data:`MIN_CHARS` long)
that appears exactly once in each text, at places a line diff does not pair
up, moved. :func:`set_aside` takes such lines out of both texts, so the word
diff sees the rest; :func:`put_back` puts them back into the diff's ops as two
moves: ``MOVED_FROM`` (``-2``) where the line was and ``MOVED_TO`` (``+2``)
where it is now. The ops still rebuild both texts exactly (``-2`` counts as
old text, ``+2`` as new); the report shows one marker at each place, and
:mod:`crawler.significance` counts the move a tenth of its length.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MAX_LINES", "MIN_CHARS", "MOVED_FROM", "MOVED_TO", "Aside", "put_back", "set_aside"]

MOVED_FROM, MOVED_TO = -2, 2
MIN_CHARS = 40        # a line shorter than this ("Contact", "Read more") is not a paragraph that moved
MAX_LINES = 5000      # texts with more lines are diffed without looking for moves


@dataclass(frozen=True)
class Aside:
    """The texts without their moved lines, and where each moved line was taken from."""

    old: str
    new: str
    taken_old: tuple[tuple[int, str], ...]   # (offset in ``old`` where it was, the text taken: line + "\n")
    taken_new: tuple[tuple[int, str], ...]


def set_aside(old: str, new: str) -> Aside | None:
    """Take the lines that moved out of both texts; None when none moved."""
    a, b = old.split("\n"), new.split("\n")
    if len(a) > MAX_LINES or len(b) > MAX_LINES or len(a) < 2 or len(b) < 2:
        return None
    count_a, count_b = Counter(a), Counter(b)
    gone, came = set(), set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            gone.update(a[i1:i2])
            came.update(b[j1:j2])
    moved = {line for line in gone & came
             if len(line.strip()) >= MIN_CHARS and count_a[line] == 1 and count_b[line] == 1}
    if not moved:
        return None
    old_rest, taken_old = _take(a, moved)
    new_rest, taken_new = _take(b, moved)
    return Aside(old_rest, new_rest, taken_old, taken_new)


def _take(lines: list[str], moved: set[str]) -> tuple[str, tuple[tuple[int, str], ...]]:
    kept: list[str] = []
    taken: list[tuple[int, str]] = []
    last = len(lines) - 1
    for i, line in enumerate(lines):
        if line in moved and i < last:
            taken.append((sum(len(k) + 1 for k in kept), line + "\n"))
        elif line in moved:  # the last line: take the line break before it with it
            if kept:
                at = sum(len(k) + 1 for k in kept) - 1
                taken.append((at, "\n" + line))
            else:
                taken.append((0, line))
        else:
            kept.append(line)
    return "\n".join(kept), tuple(taken)


def put_back(ops: Sequence[tuple[int, str]], aside: Aside) -> list[tuple[int, str]]:
    """``ops`` (a diff of ``aside.old`` against ``aside.new``) with the moved lines back as moves."""
    pending_old, pending_new = list(aside.taken_old), list(aside.taken_new)
    out: list[tuple[int, str]] = []
    o = n = 0   # offsets reached in aside.old and aside.new

    def flush() -> None:
        while pending_old and pending_old[0][0] <= o:
            out.append((MOVED_FROM, pending_old.pop(0)[1]))
        while pending_new and pending_new[0][0] <= n:
            out.append((MOVED_TO, pending_new.pop(0)[1]))

    for op, text in ops:
        while text:
            flush()
            # cut the op where the next moved line goes back in
            limits = [len(text)]
            if op <= 0 and pending_old:
                limits.append(pending_old[0][0] - o)
            if op >= 0 and pending_new:
                limits.append(pending_new[0][0] - n)
            size = max(1, min(limit for limit in limits if limit > 0) if any(x > 0 for x in limits) else 1)
            piece, text = text[:size], text[size:]
            out.append((op, piece))
            if op <= 0:
                o += len(piece)
            if op >= 0:
                n += len(piece)
    flush()
    out += [(MOVED_FROM, t) for _, t in pending_old] + [(MOVED_TO, t) for _, t in pending_new]
    return out
