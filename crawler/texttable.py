"""A box-drawn text table as rich draws its tables (``box.HEAVY_HEAD``), in time linear in the cells.

rich measures and renders each cell through its whole renderable machinery: about a millisecond a
row, 80 s for the 100,000 rows of a large ``lastseen status`` (#17). The same picture is drawn here
with string operations: each column as wide as its widest cell (header included); when that is
wider than the console, the widest columns are narrowed, a column at a time, until it fits (no width:
never narrowed, each row one line, as ``lastseen status`` draws it for a pipe or a file); a cell
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


def _cells(text: str) -> int:
    """``text``'s width in terminal cells (printable ASCII: one each, without asking rich)."""
    return len(text) if text.isascii() else cell_len(text)


def _pad(text: str, width: int) -> str:
    return text.ljust(width) if text.isascii() else text + " " * (width - cell_len(text))


def _chop(word: str, width: int) -> list[str]:
    if word.isascii():
        return [word[i:i + width] for i in range(0, len(word), width)]
    return chop_cells(word, width)


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells: at spaces, a longer word folded."""
    if _cells(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    for token in _WORD.findall(text):
        word = token.rstrip()
        if line and _cells(line + word) <= width:
            line += token
            continue
        if line:
            lines.append(line.rstrip())
            line = ""
        if _cells(word) > width:
            *full, line = _chop(word, width)
            lines += full
            line += token[len(word):]
        else:
            line = token
    if line.rstrip() or not lines:
        lines.append(line.rstrip())
    return lines


def _widths(natural: list[int], limit: int | None) -> list[int]:
    """Column widths for a table of at most ``limit`` cells across (None: any): the widest narrowed first."""
    widths = list(natural)
    if limit is None:
        return widths
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


def draw_table(headers: Sequence[str], rows: Iterable[Sequence[str]], width: int | None,
               ascii_only: bool = False) -> Iterable[str]:
    """The lines of the table of ``headers`` and ``rows`` (each a cell per header), at most ``width`` wide
    (None: as wide as its widest cells, each row one line); ``ascii_only`` (an output encoding that is not
    UTF): drawn with ``+-|``, as rich does then."""
    top, head_bar, below_head, bar, bottom = _BOXES[ascii_only]
    between = f" {bar} "
    rows = [list(r) for r in rows]
    columns = list(zip(*rows)) if rows else [() for _ in headers]
    plain = ["".join(column).isascii() for column in columns]  # ASCII: a cell's width is its length
    natural = [max(cell_len(h), max(map(len if ascii else _cells, column), default=0))
               for h, column, ascii in zip(headers, columns, plain)]
    widths = _widths(natural, width)

    def rule(parts: tuple[str, str, str, str]) -> str:
        left, fill, cross, right = parts
        return left + cross.join(fill * (w + 2) for w in widths) + right

    wraps: dict[tuple[str, int], list[str]] = {}  # dates and verdicts repeat: each wrapped once

    def lines(cells: Sequence[str], size: Sequence[int]) -> list[str]:
        wrapped = []
        for c, n, w in zip(cells, size, widths):
            if n <= w:
                wrapped.append((c,))
            else:
                if (c, w) not in wraps:
                    wraps[c, w] = _wrap(c, w)
                wrapped.append(wraps[c, w])
        height = max(map(len, wrapped))
        pad = str.ljust if all(c.isascii() for c in cells) else _pad
        return [f"{bar} " + between.join([pad(column[k] if k < len(column) else "", w)
                                          for column, w in zip(wrapped, widths)]) + f" {bar}"
                for k in range(height)]

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
    if all(plain) and widths == natural:  # every row one line of ASCII: only padded, nothing measured (#17)
        yield from [f"{bar} " + between.join(map(str.ljust, row, widths)) + f" {bar}" for row in rows]
    else:
        for row in rows:
            size = [_cells(cell) for cell in row]
            if all(n <= w for n, w in zip(size, widths)):  # one line: no wrapping to work out
                yield f"{bar} " + between.join([c + " " * (w - n) for c, n, w in zip(row, size, widths)]) + f" {bar}"
            else:
                yield from lines(row, size)
    yield rule(bottom)
