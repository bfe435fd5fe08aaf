"""Keyed diffs: texts of ``<key>: <value>`` lines compared by key (pure).

A JSON document (``$.items[3].price: 12.5``, :mod:`crawler.extract.jsontext`) or a
spreadsheet (``Sheet1!C14: 1,200,000``, one non-empty cell per line) is not prose: what
changed is the value of a path or of a cell. :func:`diff_keyed` pairs the lines of two
such texts by key and says, in order, which keys changed value (key, old, new), which
were added and which removed; :func:`diff_by_kind` picks it for the capture kinds of
:data:`UNIT_BY_KIND` (the table of differs) and the word diff (:func:`crawler.diff.diff_texts`)
for every other kind.

A line's key is what comes before its first ``": "`` outside a double-quoted part (a JSON
path quotes a key that needs it, ``$["a: b"]``, so a key may hold ``": "``; a value may
hold it anyway); a line without one is its own key with no value. The nth line of a key
pairs with the nth line of that key in the other text.

The result is a :class:`~crawler.diff.Diff` whose ops rebuild both texts exactly, like
the word diff's: a changed value is ``key: `` kept, the old value deleted, the new one
inserted; an added or removed key is its whole line inserted or deleted; a key whose line
moved elsewhere with its value unchanged is a move (``-2`` / ``2``, as in
:mod:`crawler.moves`). Its counts are keys: ``insertions`` the keys added, ``deletions``
the keys removed, ``changed_units`` the keys whose value changed, ``moves`` the keys that
moved unchanged. The pairing is one pass over both texts (linear): no time limit is needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import NamedTuple

from .diff import (
    DELETE,
    EQUAL,
    INSERT,
    KEYED_UNITS,
    MOVED_FROM,
    MOVED_TO,
    Diff,
    diff_texts,
)

__all__ = [
    "SEPARATOR",
    "UNIT_BY_KIND",
    "KeyChange",
    "count_keyed",
    "diff_by_kind",
    "diff_keyed",
    "keyed_changes",
    "said",
    "split_line",
]

SEPARATOR = ": "

#: The table of differs: capture kinds compared by key, and the unit their diff counts. Other kinds get the word diff.
UNIT_BY_KIND = {"json": "path", "xlsx": "cell", "ods": "cell"}
assert set(UNIT_BY_KIND.values()) <= KEYED_UNITS


@dataclass(frozen=True)
class KeyChange:
    """One key whose line differs: ``old`` is None when it was added, ``new`` when it was removed."""

    key: str
    old: str | None
    new: str | None

    @property
    def kind(self) -> str:
        """``changed``, ``added`` or ``removed``."""
        return (
            "added"
            if self.old is None
            else "removed"
            if self.new is None
            else "changed"
        )


def split_line(line: str) -> tuple[str, str | None]:
    """``(key, value)`` of one line; ``(line, None)`` when it has no separator outside double quotes."""
    at = line.find(SEPARATOR)
    if at < 0:
        return line, None
    if (
        '"' not in line[:at]
    ):  # no quote before the first separator: it is the one (the usual case)
        return line[:at], line[at + len(SEPARATOR) :]
    quoted = escaped = False
    for index, char in enumerate(line):
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == ":" and line.startswith(SEPARATOR, index):
            return line[:index], line[index + len(SEPARATOR) :]
    return line, None


class _Line(NamedTuple):
    ident: tuple[str, int]  # (key, its occurrence: 0 for the first line of that key)
    key: str
    value: str | None
    content: str  # the line without its line break
    end: str  # "\n", or "" for the last line


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    seen: dict[str, int] = {}
    parts = text.split("\n")
    for index, content in enumerate(parts):
        end = "\n" if index < len(parts) - 1 else ""
        if not content and not end:
            continue
        key, value = split_line(content)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(_Line((key, n), key, value, content, end))
    return out


def _aligned(
    old: str, new: str, unit: str
) -> Iterator[tuple[str, _Line | None, _Line | None]]:
    """Both texts' lines in one order: ``(step, old line, new line)``.

    Steps: ``pair`` (same key, both lines), ``removed``, ``added``, ``from`` (an old line whose key
    comes later in the new text: it moved) and ``to`` (a new line whose key was met earlier in the old
    text); each ``from`` / ``to`` carries its partner too, so a moved key is known changed or not.
    Cells of rows that shifted pair by their new row (:func:`_renumbered`).
    """
    a, b = _lines(old), _lines(new)
    if unit == "cell":
        a = _renumbered(a, b)
    pos_a = {line.ident: i for i, line in enumerate(a)}
    pos_b = {line.ident: j for j, line in enumerate(b)}
    moved_a: set = set()  # old lines given out of order: their new line follows later
    moved_b: set = set()  # new lines given out of order: their old line follows later
    i = j = 0
    while i < len(a) or j < len(b):
        if i < len(a) and a[i].ident in moved_b:
            yield "from", a[i], b[pos_b[a[i].ident]]
            i += 1
        elif j < len(b) and b[j].ident in moved_a:
            yield "to", a[pos_a[b[j].ident]], b[j]
            j += 1
        elif j == len(b) or (i < len(a) and a[i].ident not in pos_b):
            yield "removed", a[i], None
            i += 1
        elif i == len(a) or b[j].ident not in pos_a:
            yield "added", None, b[j]
            j += 1
        elif a[i].ident == b[j].ident:
            yield "pair", a[i], b[j]
            i, j = i + 1, j + 1
        elif (
            pos_b[a[i].ident] - j > pos_a[b[j].ident] - i
        ):  # the old line's partner is farther: it moved
            moved_a.add(a[i].ident)
            yield "from", a[i], b[pos_b[a[i].ident]]
            i += 1
        else:
            moved_b.add(b[j].ident)
            yield "to", a[pos_a[b[j].ident]], b[j]
            j += 1


def _outcome(step: str, before: _Line | None, after: _Line | None) -> str | None:
    """What one aligned step counts as: added, removed, changed, moved, or nothing (equal; a move's first half)."""
    if step in ("added", "removed"):
        return step
    if step == "from":
        return None  # counted with its other half ("to")
    if before.content == after.content:
        return "moved" if step == "to" else None
    if before.key != after.key and before.value == after.value:
        return "moved"  # a cell of a row shifted by rows inserted or deleted above it
    return "changed"


def keyed_changes(old: str, new: str, unit: str = "path") -> list[KeyChange]:
    """The keys whose lines differ, in order: changed (old and new value), added, removed.

    A key that moved and changed value is one change, where its new line is; a key that moved
    unchanged (or a cell whose row only shifted) is none.
    """
    changes: list[KeyChange] = []
    for step, before, after in _aligned(old, new, unit):
        outcome = _outcome(step, before, after)
        if outcome == "removed":
            changes.append(KeyChange(before.key, before.value or "", None))
        elif outcome == "added":
            changes.append(KeyChange(after.key, None, after.value or ""))
        elif outcome == "changed":
            changes.append(KeyChange(after.key, before.value or "", after.value or ""))
    return changes


def count_keyed(old: str, new: str, unit: str = "path") -> tuple[int, int, int, int]:
    """``(added, removed, changed, moved)`` keys between two keyed texts."""
    counts = {"added": 0, "removed": 0, "changed": 0, "moved": 0}
    for step, before, after in _aligned(old, new, unit):
        outcome = _outcome(step, before, after)
        if outcome is not None:
            counts[outcome] += 1
    return counts["added"], counts["removed"], counts["changed"], counts["moved"]


def diff_keyed(
    old: str, new: str, *, unit: str = "path", timeout: float | None = None
) -> Diff:
    """Diff two keyed texts by key (``timeout`` is accepted for the differs' shape: the pairing is linear)."""
    if unit not in KEYED_UNITS:
        raise ValueError(f"unit must be one of {sorted(KEYED_UNITS)}, not {unit!r}")
    ops: list[tuple[int, str]] = []
    counts = {"added": 0, "removed": 0, "changed": 0, "moved": 0, None: 0}
    for step, before, after in _aligned(old, new, unit):
        counts[_outcome(step, before, after)] += 1
        if step == "removed":
            ops.append((DELETE, before.content + before.end))
        elif step == "added":
            ops.append((INSERT, after.content + after.end))
        elif step in ("from", "to"):
            line = before if step == "from" else after
            same = before.content == after.content
            ops.append(
                (
                    (MOVED_FROM if step == "from" else MOVED_TO)
                    if same
                    else (DELETE if step == "from" else INSERT),
                    line.content + line.end,
                )
            )
        elif before.content == after.content:
            ops.extend(((EQUAL, before.content), *_ends(before.end, after.end)))
        elif (
            before.key != after.key
        ):  # a cell paired in its shifted row: the row number (and value) replaced
            ops.extend(_replaced(before.content, after.content))
            ops.extend(_ends(before.end, after.end))
        else:
            head = (
                before.key + SEPARATOR
                if before.value is not None and after.value is not None
                else ""
            )
            ops.append((EQUAL, head))
            ops.append((DELETE, before.content[len(head) :]))
            ops.append((INSERT, after.content[len(head) :]))
            ops.extend(_ends(before.end, after.end))
    return Diff(
        _merged(ops),
        counts["added"],
        counts["removed"],
        unit,
        False,
        counts["moved"],
        counts["changed"],
    )


def _replaced(old: str, new: str) -> list[tuple[int, str]]:
    """``old`` → ``new`` as the part they share at each end kept and the middle replaced."""
    n = min(len(old), len(new))
    head = next((k for k in range(n) if old[k] != new[k]), n)
    tail = next((k for k in range(n - head) if old[-1 - k] != new[-1 - k]), n - head)
    return [
        (EQUAL, old[:head]),
        (DELETE, old[head : len(old) - tail]),
        (INSERT, new[head : len(new) - tail]),
        (EQUAL, old[len(old) - tail :]),
    ]


#: A cell reference: sheet, ``!``, column letters, row number (``Sheet1!C14``, ``'Q1 2024'!AA7``).
_CELL_RE = re.compile(r"(?P<sheet>.+)!(?P<col>[A-Z]{1,3})(?P<row>[1-9][0-9]{0,6})")


def _renumbered(a: list[_Line], b: list[_Line]) -> list[_Line]:
    """The old cells, those of rows that shifted (rows inserted or deleted above them) keyed by their new row.

    Rows (a sheet's cells of one row number, as ``(column, value)`` pairs) are matched between the two
    texts by content, sheet by sheet (difflib); a row matched to another row number, or one of a run
    of rows replaced by as many rows, is the same row moved: its cells pair with the new row's, so an
    inserted row reads as its cells added, not as every cell below it changed. Texts whose keys are
    not all cell references are left as they are.
    """
    rows_a, rows_b = _rows(a), _rows(b)
    if rows_a is None or rows_b is None:
        return a
    renamed: dict[int, str] = {}
    for sheet, old_rows in rows_a.items():
        new_rows = rows_b.get(sheet)
        if not new_rows:
            continue
        mapped = _matched_rows(old_rows, new_rows)
        if all(old_row == new_row for old_row, new_row in mapped.items()):
            continue  # no row shifted: cells pair by their own references
        claimed = set(mapped.values())
        for old_row, cells in old_rows.items():
            new_row = mapped.get(old_row)
            for column, _value, index in cells:
                if new_row is not None and new_row != old_row:
                    renamed[index] = f"{sheet}!{column}{new_row}"
                elif (
                    new_row is None and old_row in claimed
                ):  # a row gone, its number now another's
                    renamed[index] = (
                        f"\x00{sheet}!{column}{old_row}"  # pairs with nothing: removed
                    )
    if not renamed:
        return a
    out: list[_Line] = []
    seen: dict[str, int] = {}
    for index, line in enumerate(a):
        key = renamed.get(index, line.key)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(line._replace(ident=(key, n)))
    return out


#: Rows (of one sheet, past those both texts share at each end) matched by content at most; more are
#: paired by their own numbers (difflib's matching costs up to the product of the two counts).
MAX_MATCHED_ROWS = 2000


def _matched_rows(old_rows: dict, new_rows: dict) -> dict[int, int]:
    """Old row number → new row number of the rows found again (same content, or replaced one for one)."""
    old_numbers, new_numbers = list(old_rows), list(new_rows)
    old_sigs = [_signature(old_rows[r]) for r in old_numbers]
    new_sigs = [_signature(new_rows[r]) for r in new_numbers]
    shortest = min(len(old_sigs), len(new_sigs))
    head = next((k for k in range(shortest) if old_sigs[k] != new_sigs[k]), shortest)
    tail = next(
        (k for k in range(shortest - head) if old_sigs[-1 - k] != new_sigs[-1 - k]),
        shortest - head,
    )
    # the rows both texts share at the start and at the end pair in order, whatever their numbers
    mapped = dict(zip(old_numbers[:head], new_numbers[:head], strict=True))
    if tail:
        mapped.update(zip(old_numbers[-tail:], new_numbers[-tail:], strict=True))
    old_mid, new_mid = (
        old_sigs[head : len(old_sigs) - tail],
        new_sigs[head : len(new_sigs) - tail],
    )
    if not old_mid or not new_mid or max(len(old_mid), len(new_mid)) > MAX_MATCHED_ROWS:
        return mapped
    matcher = SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            mapped.update(
                zip(
                    old_numbers[head + i1 : head + i2],
                    new_numbers[head + j1 : head + j2],
                    strict=True,
                )
            )
    return mapped


def _rows(
    lines: list[_Line],
) -> dict[str, dict[int, list[tuple[str, str, int]]]] | None:
    """sheet → row number → its cells ``(column, value, line index)``, in text order; None unless all are cells."""
    sheets: dict[str, dict[int, list[tuple[str, str, int]]]] = {}
    for index, line in enumerate(lines):
        match = _CELL_RE.fullmatch(line.key)
        if match is None or line.value is None:
            return None
        sheets.setdefault(match["sheet"], {}).setdefault(int(match["row"]), []).append(
            (match["col"], line.value, index)
        )
    return sheets


def _signature(cells: list[tuple[str, str, int]]) -> tuple:
    return tuple((column, value) for column, value, _index in cells)


def _ends(old_end: str, new_end: str) -> list[tuple[int, str]]:
    return (
        [(EQUAL, old_end)]
        if old_end == new_end
        else [(DELETE, old_end), (INSERT, new_end)]
    )


def _merged(ops: list[tuple[int, str]]) -> tuple[tuple[int, str], ...]:
    """Empty ops dropped, neighbours of the same op (but moves, one per line) joined (once: linear)."""
    runs: list[tuple[int, list[str]]] = []
    for op, text in ops:
        if not text:
            continue
        if runs and runs[-1][0] == op and op in (EQUAL, DELETE, INSERT):
            runs[-1][1].append(text)
        else:
            runs.append((op, [text]))
    return tuple((op, "".join(parts)) for op, parts in runs)


def diff_by_kind(old: str, new: str, kind: str | None, *, timeout: float) -> Diff:
    """The diff for a capture of ``kind``: by key for the kinds of :data:`UNIT_BY_KIND`, else word by word."""
    unit = UNIT_BY_KIND.get(kind or "")
    if unit is not None:
        return diff_keyed(old, new, unit=unit, timeout=timeout)
    return diff_texts(old, new, timeout=timeout)


def said(change: KeyChange, limit: int | None = None) -> str:
    """A change in words: ``Sheet1!C14: 1,200,000 → 1,950,000``, ``+ $.b: 2``, ``− $.a: 1``
    (values cut to ``limit`` characters)."""

    def cut(value: str) -> str:
        return (
            value if limit is None or len(value) <= limit else value[:limit] + "\u2026"
        )

    if change.old is None or change.new is None:
        value = change.new if change.old is None else change.old
        sign = "+" if change.old is None else "\u2212"
        return f"{sign} {change.key}" + (f"{SEPARATOR}{cut(value)}" if value else "")
    return f"{change.key}{SEPARATOR}{cut(change.old)} \u2192 {cut(change.new)}"
