"""A diff by paragraph: old and new side by side, and the changes only (pure).

The compared texts' paragraphs are their lines. :func:`paired_rows` cuts the word
diff's ops at line breaks into each side's lines (pieces of equal, deleted,
inserted or moved text) and pairs them, computing no second diff: lines that
share unchanged words face each other (a paragraph split or joined is one row,
its lines one under the other); between two such rows, the old lines left and
the new lines left face each other in order (a paragraph rewritten), the rest
face an empty cell (inserted or deleted); a paragraph that moved unchanged
stands alone on its side.

:func:`paragraph_views` is what a change's page shows: the rows with long
unchanged runs collapsed to :data:`~crawler.report.segments.CONTEXT_LINES`
lines each side of a change, and the changes only (consecutive changed rows,
numbered, their unchanged words cut to about a line around the change), each
bounded to a quarter of the page (``settings.max_report_page``; the inline
view has the other half); and whether the change is a rewrite
(:func:`new_share` at least :data:`REWRITTEN`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import NamedTuple

from .segments import (
    CONTEXT_LINES,
    _Segment,
    _snap_backward,
    _snap_forward,
    highlighted,
)

__all__ = [
    "QUOTE_CHARS",
    "REWRITTEN",
    "Row",
    "new_share",
    "paired_rows",
    "paragraph_views",
]

#: A change whose new text is at least this share new (inserted, not kept or moved) is a rewrite:
#: its page says so, with the percentage, before the diff.
REWRITTEN = 0.8

#: Characters of unchanged text kept each side of a change in a row of the side-by-side view.
ROW_CHARS = 300

#: ... and in the changes-only view: about a line.
QUOTE_CHARS = 80

_MATCH_LINES = (
    1000  # lines in a replaced block above which its lines are paired in order only
)
_ROW_COST = 110  # markup of a row, counted against the page's budget
_CHANGE_COST = 200  # ... and of a change (changes only)
_CUT = _Segment("cut", "…")


class Row(NamedTuple):
    """A row of the side-by-side view (a named tuple: a change page makes one a line, #17).

    ``kind``: ``equal``, ``changed``, ``inserted``, ``deleted``, ``moved-from``, ``moved-to``, or
    ``skip`` (``lines`` unchanged lines of ``chars`` characters, collapsed). ``old`` and ``new``: the
    pieces of each side's line(s) (None: no line on that side); a piece is a segment ``equal``,
    ``del`` / ``ins``, ``moved-from`` / ``moved-to`` or ``cut`` (unchanged text left out).
    """

    kind: str
    old: tuple[_Segment, ...] | None = None
    new: tuple[_Segment, ...] | None = None
    lines: int = 0
    chars: int = 0

    @property
    def size(self) -> int:
        return sum(len(p.text) for side in (self.old, self.new) if side for p in side)


@dataclass
class _Line:
    pieces: list[_Segment] = field(default_factory=list)
    # the op of the line break that ends it (None: the text's last line)
    end: int | None = None

    @property
    def moved(self) -> bool:
        return bool(self.pieces) and all(
            p.kind.startswith("moved") for p in self.pieces
        )


_WORD = re.compile(r"\w")  # unchanged words link lines; punctuation alone does not
_KIND = {0: "equal", -1: "del", 1: "ins", -2: "moved-from", 2: "moved-to"}


def _lines(
    ops: Sequence[tuple[int, str]],
) -> tuple[list[_Line], list[_Line], list[tuple[int, int]]]:
    """Each side's lines, and the (old line, new line) pairs that share unchanged words, in order."""
    old, new = [_Line()], [_Line()]
    links: list[tuple[int, int]] = []
    for op, text in ops:
        sides = [s for s, on in ((old, op <= 0), (new, op >= 0)) if on]
        for k, part in enumerate(text.split("\n")):
            if k:
                for side in sides:
                    side[-1].end = op
                    side.append(_Line())
            if part:
                for side in sides:
                    side[-1].pieces.append(_Segment(_KIND[op], part))
                if (
                    op == 0
                    and _WORD.search(part)
                    and (not links or links[-1] != (len(old) - 1, len(new) - 1))
                ):
                    links.append((len(old) - 1, len(new) - 1))
    for side in (old, new):  # after a final line break: no line
        if len(side) > 1 and not side[-1].pieces:
            side.pop()
    return old, new, links


def _unchanged(line: _Line | None) -> bool:
    """No line (the text's end), an empty line, or one keeping unchanged text."""
    return (
        line is None or not line.pieces or any(p.kind == "equal" for p in line.pieces)
    )


def _cell(
    lines: list[_Line], change: str, following: _Line | None
) -> tuple[_Segment, ...]:
    """One side's lines as one cell: line breaks between them kept (a break inserted or deleted marked);
    ``following``: the line after them on that side, if any."""
    out: list[_Segment] = []
    for i, line in enumerate(lines):
        out.extend(line.pieces)
        final = i == len(lines) - 1
        # a line break inserted or deleted, marked "↵"; at the end of a cell, not when the line is all
        # inserted or deleted (its break goes with it) or the next one is (the break is that line's)
        kept = not line.pieces or (_unchanged(line) and _unchanged(following))
        if line.end in (-1, 1) and (not final or kept):
            out.append(_Segment(change, "" if final else "\n", True))
        elif not final:
            out.append(_Segment("equal", "\n"))
    return tuple(out) or (_Segment("equal", ""),)


def _row(
    old: list[_Line], new: list[_Line], old_next: _Line | None, new_next: _Line | None
) -> Row:
    left = _cell(old, "del", old_next) if old else None
    right = _cell(new, "ins", new_next) if new else None
    if left is None or right is None:
        line = (old or new)[0]
        moved = "moved-from" if left is not None else "moved-to"
        kind = moved if line.moved else ("deleted" if left is not None else "inserted")
    elif all(p.kind == "equal" for p in (*left, *right)) and _text(left) == _text(
        right
    ):
        kind = "equal"
    elif not new[-1].pieces and all(p.kind == "del" for p in left):
        kind = "deleted"  # a paragraph's words deleted, an empty line left
    elif not old[-1].pieces and all(p.kind == "ins" for p in right):
        kind = "inserted"
    else:
        kind = "changed"
    return Row(kind, left, right)


def _text(pieces: Sequence[_Segment]) -> str:
    return "".join(p.text for p in pieces)


def _key(line: _Line, side: str) -> str | tuple[str, int]:
    """A line's text, to find it on the other side (a moved paragraph is found on neither)."""
    return (side, id(line)) if line.moved else _text(line.pieces)


def paired_rows(ops: Sequence[tuple[int, str]]) -> list[Row]:
    """Every line of both texts, in rows: old opposite new (see the module docstring)."""
    old, new, links = _lines([(op, text) for op, text in ops if text])
    # [first old, last old, first new, last new] of lines linked by unchanged words
    groups: list[list[int]] = []
    for i, j in links:
        if groups and (i == groups[-1][1] or j == groups[-1][3]):
            groups[-1][1], groups[-1][3] = i, j
        else:
            groups.append([i, i, j, j])
    rows: list[Row] = []
    o = n = 0

    def row(a: list[_Line], b: list[_Line], end_a: int, end_b: int) -> None:
        if len(a) == 1 and len(b) == 1 and a[0].end not in (-1, 1) and b[0].end not in (-1, 1):
            # most rows: one unchanged line facing itself (what _row makes of it, without its cells' work)
            left, right = a[0].pieces, b[0].pieces
            if left and all(p.kind == "equal" for p in left) and all(p.kind == "equal" for p in right) \
                    and _text(left) == _text(right):
                rows.append(Row("equal", tuple(left), tuple(right)))
                return
        following = (
            old[end_a] if end_a < len(old) else None,
            new[end_b] if end_b < len(new) else None,
        )
        rows.append(_row(a, b, *following))

    def in_order(a: int, a1: int, b: int, b1: int) -> None:
        """Plain old and new lines face each other in order; moves stand alone."""
        while a < a1 or b < b1:
            if a < a1 and (old[a].moved or b >= b1):
                row([old[a]], [], a + 1, 0)
                a += 1
            elif b < b1 and (new[b].moved or a >= a1):
                row([], [new[b]], 0, b + 1)
                b += 1
            else:
                row([old[a]], [new[b]], a + 1, b + 1)
                a, b = a + 1, b + 1

    def gap(o1: int, n1: int) -> None:
        """Lines linked to nothing (a block the word diff replaced): the same line on both sides faces
        itself, unchanged; the others face each other in order."""
        blocks: list[tuple[int, int, int]] = [(o1 - o, n1 - n, 0)]
        if o < o1 and n < n1 and max(o1 - o, n1 - n) <= _MATCH_LINES:
            a = [_key(line, "old") for line in old[o:o1]]
            b = [_key(line, "new") for line in new[n:n1]]
            blocks = SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
        a, b = o, n
        for i, j, size in blocks:
            in_order(a, o + i, b, n + j)
            for k in range(size):
                same = (_Segment("equal", _key(old[o + i + k], "old")),)
                rows.append(Row("equal", same, same))
            a, b = o + i + size, n + j + size

    for o0, o1, n0, n1 in groups:
        gap(o0, n0)
        row(old[o0 : o1 + 1], new[n0 : n1 + 1], o1 + 1, n1 + 1)
        o, n = o1 + 1, n1 + 1
    gap(len(old), len(new))
    return rows


#: Unchanged lines inside an unchanged run, between two with words, past which the run's lines become rows directly
_DIRECT_LINES = 4


def _rows(ops: Sequence[tuple[int, str]]) -> list[Row]:
    """:func:`paired_rows`, with the whole lines deep inside each long unchanged run made rows directly (#17).

    Inside an unchanged run, from its first whole line with words to its last but the run's final whole line,
    every line faces itself, an
    ``equal`` row of its text, whatever is around: the lines before and after it are paired as they would be
    with them there (each of those two lines is its own linked group, so the pairing restarts after it). A
    change page's texts are mostly such lines, and pairing them one by one was most of the view's time."""
    out: list[Row] = []
    pending: list[tuple[int, str]] = []
    for op, text in ops:
        if op == 0 and text.count("\n") > _DIRECT_LINES + 1:
            parts = text.split("\n")
            # whole lines with words, but the run's last whole line: what follows the block is never empty, so
            # both texts go on after it as they would (an empty rest would start a line on a side that has none)
            inner = [i for i in range(1, len(parts) - 2) if _WORD.search(parts[i])]
            if len(inner) >= 2 and inner[-1] - inner[0] + 1 >= _DIRECT_LINES:
                a, b = inner[0], inner[-1]
                out += paired_rows([*pending, (0, "\n".join(parts[:a]) + "\n")])
                for line in parts[a:b + 1]:
                    same = (_Segment("equal", line),)
                    out.append(Row("equal", same, same))
                pending = [(0, "\n".join(parts[b + 1:]))]
                continue
        pending.append((op, text))
    out += paired_rows(pending)
    return out


# -- what a change's page shows -------------------------------------------------------------------


def new_share(ops: Sequence[tuple[int, str]]) -> float:
    """The share of the new text's characters (but whitespace) that were inserted; 0 for no new text."""
    inserted = kept = 0
    for op, text in ops:
        if op >= 0:
            n = len(text) - sum(map(text.count, " \n\t"))
            if op == 1:
                inserted += n
            else:
                kept += n
    return inserted / (inserted + kept) if inserted + kept else 0.0


def paragraph_views(
    ops: Sequence[tuple[int, str]],
    max_page: int | None,
    spans_of: Callable[[str], list[tuple[int, int]]] | None = None,
) -> dict:
    """The side-by-side rows (collapsed) and the changes only, each within a quarter of ``max_page``.

    ``spans_of(text)``: the spans of ``text`` to highlight (keywords), or None.
    """
    share = new_share(ops)
    rows = _rows(ops)
    budget = None if max_page is None else max_page // 4
    shown, rows_omitted = _within(_collapsed(rows, CONTEXT_LINES), budget)
    changes = _changes(rows)
    kept, changes_omitted = _within_changes(changes, budget)
    starts = _change_starts(rows)
    if spans_of is not None:
        shown = [_highlighted(r, spans_of) for r in shown]
        kept = [tuple(_highlighted(r, spans_of) for r in group) for group in kept]
    return {
        "rows": shown,
        "rows_omitted": rows_omitted,
        "changes": kept,
        "changes_total": len(changes),
        "changes_omitted": changes_omitted,
        # (old line, new line) where each change shown starts: the line of each text it is at
        "change_lines": starts[: len(kept)],
        # "rewritten: 92 % of the text is new": rounded down, so a page that kept some text never says 100 %
        "rewritten": int(share * 100) if share >= REWRITTEN else None,
    }


def _highlighted(row: Row, spans_of) -> Row:
    sides = [
        None if side is None else tuple(highlighted(list(side), spans_of))
        for side in (row.old, row.new)
    ]
    return Row(row.kind, sides[0], sides[1], row.lines, row.chars)


def _collapsed(rows: list[Row], lines: int) -> list[tuple[Row, str | None]]:
    """Runs of equal rows cut to ``lines`` rows each side of a change; with each row, the end of its
    line to keep when it is long (an unchanged line nearer the change before it keeps its ``start``)."""
    out: list[tuple[Row, str | None]] = []
    i = 0
    while i < len(rows):
        if rows[i].kind != "equal":
            out.append((rows[i], None))
            i += 1
            continue
        j = i
        while j < len(rows) and rows[j].kind == "equal":
            j += 1
        run = rows[i:j]
        head = lines if i > 0 else 0  # after a change
        tail = lines if j < len(rows) else 0  # before one
        if len(run) - head - tail < 2:  # a marker for one line would hide nothing
            head, tail = len(run), 0
        out.extend(
            (row, "start" if i and (j == len(rows) or 2 * k < len(run)) else "end")
            for k, row in enumerate(run[:head])
        )
        hidden = run[head : len(run) - tail]
        if hidden:
            text = sum(len(p.text) for row in hidden for p in row.old or ())
            chars = text + len(hidden)  # and their line breaks
            out.append((Row("skip", lines=len(hidden), chars=chars), None))
        out.extend((row, "end") for row in run[len(run) - tail :] if tail)
        i = j
    return out


def _side_lines(cell: tuple[_Segment, ...] | None) -> int:
    """Lines of one side a row holds (a cell's lines are separated by ``"\n"`` segments)."""
    return 0 if cell is None else 1 + sum(1 for p in cell if p.text == "\n")


def _change_starts(rows: list[Row]) -> list[tuple[int, int]]:
    """For each change (:func:`_changes`), the old and new line (0-based) it starts at."""
    out: list[tuple[int, int]] = []
    old = new = 0
    prev = None
    for row in rows:
        if row.kind != "equal" and (prev is None or prev.kind == "equal"):
            out.append((old, new))
        old += _side_lines(row.old)
        new += _side_lines(row.new)
        prev = row
    return out


def _changes(rows: list[Row]) -> list[list[Row]]:
    """Consecutive rows that are not equal: one change each."""
    groups: list[list[Row]] = []
    for prev, row in zip([None, *rows], rows):
        if row.kind == "equal":
            continue
        if prev is None or prev.kind == "equal":
            groups.append([])
        groups[-1].append(row)
    return groups


def _trimmed(row: Row, chars: int, side: str | None = None) -> Row:
    return Row(
        row.kind,
        _cut(row.old, chars, side),
        _cut(row.new, chars, side),
        row.lines,
        row.chars,
    )


def _cut(
    pieces: tuple[_Segment, ...] | None, chars: int, side: str | None
) -> tuple[_Segment, ...] | None:
    """Unchanged pieces longer than ``chars`` cut to ``chars`` next to the changes (of an unchanged line,
    its ``side``: ``start`` or ``end``), never mid-word; what is left out is a ``cut`` piece."""
    if pieces is None:
        return None
    changed = [i for i, p in enumerate(pieces) if p.kind != "equal"]
    out: list[_Segment] = []
    for i, p in enumerate(pieces):
        text = p.text
        if p.kind != "equal" or len(text) <= chars:
            out.append(p)
            continue
        before = changed[0] > i if changed else side == "end"
        after = changed[-1] < i if changed else side == "start"
        head = _Segment("equal", text[: _snap_forward(text, chars)])
        tail = _Segment("equal", text[_snap_backward(text, len(text) - chars) :])
        if before and not after:
            out += [_CUT, tail]
        elif after and not before:
            out += [head, _CUT]
        elif len(text) > 3 * chars:
            out += [head, _CUT, tail]
        else:
            out.append(p)
    return tuple(out)


def _within(
    rows: list[tuple[Row, str | None]], budget: int | None
) -> tuple[list[Row], int]:
    """The rows, their long lines cut, that fit in ``budget`` characters (at least one), and how many
    changed rows did not."""
    out: list[Row] = []
    used = 0
    for i, (row, side) in enumerate(rows):
        row = _trimmed(row, ROW_CHARS, side)
        used += row.size + _ROW_COST
        if budget is not None and used > budget and i:
            return out, sum(1 for r, _ in rows[i:] if r.kind not in ("equal", "skip"))
        out.append(row)
    return out, 0


def _within_changes(
    changes: list[list[Row]], budget: int | None
) -> tuple[list[tuple[Row, ...]], int]:
    """The changes, their unchanged words cut to about a line, that fit in ``budget`` (at least one row),
    and how many changed rows did not."""
    out: list[tuple[Row, ...]] = []
    used = 0
    for i, group in enumerate(changes):
        used += _CHANGE_COST
        quoted: list[Row] = []
        for k, row in enumerate(group):
            row = _trimmed(row, QUOTE_CHARS)
            used += row.size + _ROW_COST
            if budget is not None and used > budget and (out or quoted):
                if quoted:
                    out.append(tuple(quoted))
                return out, len(group) - k + sum(len(g) for g in changes[i + 1 :])
            quoted.append(row)
        out.append(tuple(quoted))
    return out, 0
