"""A box-drawn text table as rich draws its tables (``box.HEAVY_HEAD``), in time linear in the cells.

rich measures and renders each cell through its whole renderable machinery: about a millisecond a
row, 80 s for the 100,000 rows of a large ``lastseen status`` (#17). The same picture is drawn here
with string operations: each column as wide as its widest cell (header included); when that is
wider than the console, the widest columns are narrowed, a column at a time, until it fits; a cell
wider than its column is wrapped at spaces, a word longer than the column folded (rich's
``overflow="fold"``). Widths are terminal cells (``rich.cells``: wide characters count two).
Cells are plain text, shown as they are; the caller makes them printable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rich.cells import cell_len, chop_cells

__all__ = ["draw_table"]

_WORD = re.compile(r"\S+\s*|\s+")


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells: at spaces, a longer word folded."""
    if cell_len(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    for token in _WORD.findall(text):
        word = token.rstrip()
        if line and cell_len(line + word) <= width:
            line += token
            continue
        if line:
            lines.append(line.rstrip())
            line = ""
        if cell_len(word) > width:
            *full, line = chop_cells(word, width)
            lines += full
            line += token[len(word):]
        else:
            line = token
    if line.rstrip() or not lines:
        lines.append(line.rstrip())
    return lines


def _widths(natural: list[int], limit: int) -> list[int]:
    """Column widths for a table of at most ``limit`` cells across: the widest narrowed first."""
    widths = list(natural)
    excess = sum(widths) + 3 * len(widths) + 1 - limit
    while excess > 0:
        widest = max(range(len(widths)), key=widths.__getitem__)
        if widths[widest] <= 1:
            break
        widths[widest] -= 1
        excess -= 1
    return widths


#: The box's parts: top, header bar, below the header, body bar, bottom (each: left, fill, cross, right).
_BOXES = {
    False: (("┏", "━", "┳", "┓"), "┃", ("┡", "━", "╇", "┩"), "│", ("└", "─", "┴", "┘")),
    True: (("+", "-", "-", "+"), "|", ("|", "-", "+", "|"), "|", ("+", "-", "-", "+")),  # rich's box.ASCII
}


def draw_table(headers: Sequence[str], rows: Iterable[Sequence[str]], width: int,
               ascii_only: bool = False) -> Iterable[str]:
    """The lines of the table of ``headers`` and ``rows`` (each a cell per header), at most ``width`` wide;
    ``ascii_only`` (an output encoding that is not UTF): drawn with ``+-|``, as rich does then."""
    top, head_bar, below_head, bar, bottom = _BOXES[ascii_only]
    rows = [list(r) for r in rows]
    natural = [cell_len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            n = cell_len(cell)
            if n > natural[i]:
                natural[i] = n
    widths = _widths(natural, width)

    def rule(parts: tuple[str, str, str, str]) -> str:
        left, fill, cross, right = parts
        return left + cross.join(fill * (w + 2) for w in widths) + right

    def lines(cells: Sequence[str], bar: str) -> Iterable[str]:
        wrapped = [_wrap(c, w) for c, w in zip(cells, widths)]
        for k in range(max(len(w) for w in wrapped)):
            parts = []
            for column, w in zip(wrapped, widths):
                text = column[k] if k < len(column) else ""
                parts.append(text + " " * (w - cell_len(text)))
            yield f"{bar} " + f" {bar} ".join(parts) + f" {bar}"

    yield rule(top)
    header = [_wrap(h, w) for h, w in zip(headers, widths)]
    height = max(len(h) for h in header)
    for k in range(height):
        parts = []
        for column, w in zip(header, widths):
            text = column[k - (height - len(column))] if k >= height - len(column) else ""
            parts.append(text + " " * (w - cell_len(text)))
        # a header's lines sit at the bottom of its cell, as rich aligns them
        yield f"{head_bar} " + f" {head_bar} ".join(parts) + f" {head_bar}"
    yield rule(below_head)
    for row in rows:
        yield from lines(row, bar)
    yield rule(bottom)
