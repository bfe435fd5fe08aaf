"""Word-processing documents: DOCX with python-docx, ODT with odfpy (run in the worker process).

Paragraphs and headings in document order, one a line; a table's cells joined with ``" | "``,
one row a line (as a web page's tables are). A document is split into pages only where it
says so explicitly (a page break in the text, or a paragraph whose style breaks the page
before or after it): the pages a word processor would lay out are not in the file.
Core properties (title, author, last modified by, creation and modification dates) are its metadata.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from .formats import metadata

__all__ = ["read_docx", "read_odt"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read_docx(body: bytes, max_pages: int) -> Iterator[dict]:
    """Events (see :func:`crawler.documents.pdf.read_pdf`): metadata, then the text between page breaks."""
    import docx

    document = docx.Document(io.BytesIO(body))
    props = document.core_properties
    meta = metadata((
        ("title", props.title),
        ("author", props.author),
        ("last_modified_by", props.last_modified_by),
        ("created", props.created),
        ("modified", props.modified),
    ))
    root = document.element.body
    paged = any(True for _ in _page_breaks(root))
    yield {"meta": meta, "paged": paged}
    yield from _parts(_docx_blocks(root), max_pages)


def _page_breaks(root) -> Iterator[object]:
    for br in root.iter(f"{_W}br"):
        if br.get(f"{_W}type") == "page":
            yield br
    yield from root.iter(f"{_W}pageBreakBefore")


def _docx_blocks(root) -> Iterator[str | None]:
    """Lines of text, and None where a page breaks."""
    for child in root.iterchildren():
        if child.tag == f"{_W}p":
            yield from _docx_paragraph(child)
        elif child.tag == f"{_W}tbl":
            for row in child.iter(f"{_W}tr"):
                cells = [
                    " ".join(_docx_text(cell).split()) for cell in row.iter(f"{_W}tc")
                ]
                yield " | ".join(c for c in cells if c)


def _docx_paragraph(paragraph) -> Iterator[str | None]:
    props = paragraph.find(f"{_W}pPr")
    if props is not None and props.find(f"{_W}pageBreakBefore") is not None:
        yield None
    line: list[str] = []
    for node in paragraph.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if node.tag == f"{_W}t":
            line.append(node.text or "")
        elif node.tag == f"{_W}br" and node.get(f"{_W}type") == "page":
            yield "".join(line)
            line = []
            yield None
        else:
            line.append("\n" if node.tag != f"{_W}tab" else "\t")
    yield "".join(line)


def _docx_text(element) -> str:
    return "".join(
        node.text or "" if node.tag == f"{_W}t" else " "
        for node in element.iter(f"{_W}t", f"{_W}tab", f"{_W}br")
    )


def read_odt(body: bytes, max_pages: int) -> Iterator[dict]:
    """Events: metadata, then the text between explicit page breaks."""
    from odf import opendocument

    document = opendocument.load(io.BytesIO(body))
    breaking = _odt_breaking_styles(document)
    yield {"meta": odf_metadata(document), "paged": bool(breaking)}
    yield from _parts(_odt_blocks(document.text, breaking), max_pages)


def _odt_breaking_styles(document) -> dict[str, str]:
    """Paragraph style name -> ``"before"`` or ``"after"``, for styles that break the page."""
    from odf.namespaces import FONS, STYLENS

    out = {}
    for styles in (document.automaticstyles, document.styles):
        for style in styles.childNodes:
            if style.qname != (STYLENS, "style"):
                continue
            for props in style.childNodes:
                if props.qname != (STYLENS, "paragraph-properties"):
                    continue
                for where in ("before", "after"):
                    if props.attributes.get((FONS, f"break-{where}")) == "page":
                        out[style.attributes.get((STYLENS, "name"))] = where
    return out


def _odt_blocks(element, breaking: dict[str, str]) -> Iterator[str | None]:
    from odf import teletype
    from odf.namespaces import TABLENS, TEXTNS

    for child in element.childNodes:
        qname = getattr(child, "qname", None)
        if qname in ((TEXTNS, "p"), (TEXTNS, "h")):
            where = breaking.get(child.attributes.get((TEXTNS, "style-name")))
            if where == "before":
                yield None
            yield teletype.extractText(child)
            if where == "after":
                yield None
        elif qname == (TABLENS, "table"):
            for row in child.getElementsByType(_odf_class("table", "TableRow")):
                cells = [
                    " ".join(
                        teletype.extractText(p)
                        for p in cell.childNodes
                        if hasattr(p, "qname")
                    )
                    for cell in row.childNodes
                    if getattr(cell, "qname", None) == (TABLENS, "table-cell")
                ]
                yield " | ".join(" ".join(c.split()) for c in cells if c.strip())
        elif qname is not None:
            yield from _odt_blocks(child, breaking)  # lists, sections, frames


def _odf_class(module: str, name: str):
    return getattr(__import__(f"odf.{module}", fromlist=[name]), name)


def odf_metadata(document) -> dict:
    """An OpenDocument's title, authors, generator and dates (meta.xml)."""
    from odf import teletype
    from odf.namespaces import DCNS, METANS

    names = {
        (DCNS, "title"): "title",
        (METANS, "initial-creator"): "author",
        (DCNS, "creator"): "last_modified_by",
        (METANS, "creation-date"): "created",
        (DCNS, "date"): "modified",
        (METANS, "generator"): "producer",
    }
    out = {}
    for node in document.meta.childNodes:
        key = names.get(getattr(node, "qname", None))
        if key:
            value = " ".join(teletype.extractText(node).split())
            if value:
                out[key] = value[:500]
    return out


def _parts(blocks: Iterator[str | None], max_pages: int) -> Iterator[dict]:
    """Lines grouped into parts at each page break (None); cut after ``max_pages`` parts."""
    lines: list[str] = []
    count = 0
    for block in blocks:
        if block is not None:
            lines.append(block)
            continue
        if not lines and count == 0:
            continue  # a break before any text starts no page
        count += 1
        if count >= max_pages:
            yield {"part": "\n".join(lines)}
            yield {"flag": "doc-truncated"}
            return
        yield {"part": "\n".join(lines)}
        lines = []
    yield {"part": "\n".join(lines)}
