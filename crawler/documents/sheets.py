"""Spreadsheets: XLSX with openpyxl (read-only), ODS with odfpy (run in the worker process).

One line per non-empty cell, in sheet, then row, then column order: ``Sheet1!C14: 1,200,000``,
the sheet's name (quoted as in a formula when it needs to be: ``'Q1 budget'!B2``), ``!``, the
cell's A1 reference, ``": "`` and its value *as displayed*. XLSX stores numbers and a number
format: the common formats are applied (``#,##0``, ``0.00``, ``0%``, currency signs and quoted
text around them; dates and times in ISO 8601; anything else as General). ODS stores the text
each cell displayed when saved, which is taken as it is. The keyed diff reads these lines
(``diff.unit: cell``): a change reads ``Sheet1!C14: 1,200,000 → 1,950,000``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator

from .formats import metadata

__all__ = ["MAX_CELLS", "cell_line", "display_value", "read_ods", "read_xlsx"]

#: Most non-empty cells read from one spreadsheet (a sheet of repeated cells is a bomb): past them, the
#: document is cut off (``doc-truncated``).
MAX_CELLS = 1_000_000


def read_xlsx(body: bytes, max_pages: int) -> Iterator[dict]:
    """Events: metadata, then one part per sheet (its cells' lines); cut after ``max_pages`` sheets."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    try:
        props = book.properties
        meta = metadata((
            ("title", props.title),
            ("author", props.creator),
            ("last_modified_by", props.lastModifiedBy),
            ("created", props.created),
            ("modified", props.modified),
        ))
        yield {"meta": meta, "paged": False}
        cells = 0
        for number, sheet in enumerate(book.worksheets):
            if number >= max_pages:
                yield {"flag": "doc-truncated"}
                return
            lines = []
            for row in sheet.iter_rows():
                for cell in row:
                    value = getattr(cell, "value", None)
                    if value is None or value == "":
                        continue
                    lines.append(
                        cell_line(
                            sheet.title,
                            cell.coordinate,
                            display_value(value, cell.number_format),
                        )
                    )
                cells += len(row)
                if cells > MAX_CELLS:
                    yield {"part": "\n".join(lines)}
                    yield {"flag": "doc-truncated"}
                    return
            yield {"part": "\n".join(lines)}
    finally:
        book.close()


def cell_line(sheet: str, reference: str, value: str) -> str:
    """``Sheet1!C14: value`` (the sheet's name quoted as a formula quotes it, the value on one line)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet):
        sheet = "'" + sheet.replace("'", "''") + "'"
    return f"{sheet}!{reference}: {' '.join(value.split())}"


_QUOTED = re.compile(r'"([^"]*)"')
_BRACKET = re.compile(r"\[([^\]]*)\]")
_PLACEHOLDERS = re.compile(r"[0#?]")


def display_value(value, number_format: str | None = "General") -> str:
    """A cell's value as a spreadsheet shows it, for the common number formats."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time() and not re.search(
            r"[hs]", _bare(number_format or ""), re.IGNORECASE
        ):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, (int, float)):
        return _number(value, number_format or "General")
    return str(value)


def _bare(fmt: str) -> str:
    """The format without its quoted text and bracketed parts (colours, locales, conditions)."""
    return _BRACKET.sub("", _QUOTED.sub("", fmt))


def _literal(part: str) -> str:
    """The text a format prints around the number: quoted text, escaped characters, currency signs."""
    part = _BRACKET.sub(
        lambda m: m.group(1)[1:].split("-")[0] if m.group(1).startswith("$") else "",
        part,
    )
    part = _QUOTED.sub(lambda m: m.group(1), part)
    part = re.sub(r"_.|\*.", "", part)  # padding to a character's width, repeated fill
    return part.replace("\\", "")


def _general(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def _number(value: float, fmt: str) -> str:
    section = fmt.split(";")[0] if not (value < 0 and ";" in fmt) else fmt.split(";")[1]
    bare = _bare(section)
    if (
        section.strip().lower() == "general"
        or not _PLACEHOLDERS.search(bare)
        or re.search(r"[ymdhs]", bare, re.IGNORECASE)
    ):
        return _general(value)
    if value < 0 and ";" in fmt:
        value = -value  # the negative section prints its own sign (or parentheses)
    masked = _QUOTED.sub(
        lambda m: "x" * len(m.group(0)),
        _BRACKET.sub(lambda m: "x" * len(m.group(0)), section),
    )
    first = min(m.start() for m in _PLACEHOLDERS.finditer(masked))
    last = max(m.end() for m in _PLACEHOLDERS.finditer(masked))
    prefix, body, suffix = section[:first], section[first:last], section[last:]
    if "%" in bare:
        value *= 100
    decimals = len(re.findall(r"[0#?]", body.split(".", 1)[1])) if "." in body else 0
    grouped = "," in body.split(".", 1)[0]
    number = f"{value:,.{decimals}f}" if grouped else f"{value:.{decimals}f}"
    return f"{_literal(prefix)}{number}{_literal(suffix)}"


def read_ods(body: bytes, max_pages: int) -> Iterator[dict]:
    """Events: metadata, then one part per sheet, each non-empty cell's displayed text; cut after ``max_pages``."""
    from odf import opendocument, teletype
    from odf.namespaces import OFFICENS, TABLENS, TEXTNS
    from openpyxl.utils import get_column_letter

    from .textdocs import odf_metadata

    document = opendocument.load(io.BytesIO(body))
    yield {"meta": odf_metadata(document), "paged": False}
    sheets = [
        t
        for t in document.spreadsheet.childNodes
        if getattr(t, "qname", None) == (TABLENS, "table")
    ]
    budget = MAX_CELLS
    for number, sheet in enumerate(sheets):
        if number >= max_pages:
            yield {"flag": "doc-truncated"}
            return
        name = sheet.attributes.get((TABLENS, "name")) or f"Sheet{number + 1}"
        lines = []
        row_number = 0
        for row in _rows(sheet, TABLENS):
            repeat = int(row.attributes.get((TABLENS, "number-rows-repeated")) or 1)
            cells = []
            column = 0
            for cell in row.childNodes:
                if getattr(cell, "qname", None) not in (
                    (TABLENS, "table-cell"),
                    (TABLENS, "covered-table-cell"),
                ):
                    continue
                span = int(
                    cell.attributes.get((TABLENS, "number-columns-repeated")) or 1
                )
                text = "\n".join(
                    teletype.extractText(p)
                    for p in cell.childNodes
                    if getattr(p, "qname", None) == (TEXTNS, "p")
                )
                if not text.strip():
                    text = cell.attributes.get((OFFICENS, "value")) or ""
                if text.strip():
                    cells += [(column + i, text) for i in range(min(span, budget + 1))]
                    budget -= span
                column += span
            for r in range(repeat if cells else 0):
                lines += [
                    cell_line(
                        name, f"{get_column_letter(c + 1)}{row_number + r + 1}", t
                    )
                    for c, t in cells
                    if c < _MAX_COLUMNS
                ]
                budget -= len(cells) if r else 0
                if budget < 0:
                    break
            row_number += repeat
            if budget < 0:
                yield {"part": "\n".join(lines)}
                yield {"flag": "doc-truncated"}
                return
        yield {"part": "\n".join(lines)}


_MAX_COLUMNS = 16384  # XFD, the last column a spreadsheet has


def _rows(element, tablens: str) -> Iterator[object]:
    """A table's rows, through row groups and header rows."""
    for child in element.childNodes:
        qname = getattr(child, "qname", None)
        if qname == (tablens, "table-row"):
            yield child
        elif qname in (
            (tablens, "table-row-group"),
            (tablens, "table-header-rows"),
            (tablens, "table-rows"),
        ):
            yield from _rows(child, tablens)
