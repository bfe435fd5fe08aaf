"""Documents (PDF, DOCX, XLSX, ODT, ODS) turned into text that is compared and diffed like a page's.

* :mod:`~crawler.documents.formats`: which document a body is, by its bytes (and Content-Type);
* :mod:`~crawler.documents.pdf`, :mod:`~crawler.documents.textdocs`, :mod:`~crawler.documents.sheets`:
  the readers (pypdf; python-docx and odfpy; openpyxl and odfpy), run in the worker only;
* :mod:`~crawler.documents.worker`: the worker process (its memory limit, its protocol);
* :mod:`~crawler.documents.pool`: the run's side: one worker, killed and replaced past the time limit.

:func:`read_document` is the entry point: bytes in, a :class:`Document` out, never an exception
for what the bytes are. What is compared is :attr:`Document.text` (pages, or sheets' cell lines,
one after the other); metadata never is (docs/documents.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .formats import FORMATS, MIME_TYPES, document_format
from .pool import shared_pool

__all__ = [
    "DOCUMENT_VERSION",
    "FORMATS",
    "MIME_TYPES",
    "SHEET_FORMATS",
    "Document",
    "DocumentLimits",
    "document_format",
    "page_of_line",
    "read_document",
]

#: Bumped when the text read from a document changes: captures read by another version are read again.
DOCUMENT_VERSION = 1
#: Formats whose text is one ``Sheet!A1: value`` line per cell.
SHEET_FORMATS = frozenset({"xlsx", "ods"})


@dataclass(frozen=True)
class DocumentLimits:
    """``settings.doc_timeout``, ``settings.doc_max_pages`` and the text kept (``settings.max_text``)."""

    timeout: float = 30.0
    max_pages: int = 2000
    max_chars: int = 2 * 2**20


@dataclass(frozen=True)
class Document:
    """One document's text and what is known of it."""

    format: str  #: "pdf", "docx", "xlsx", "odt", "ods"
    text: str | None  #: the compared text; None: compared by digest (flags say why)
    pages: (
        int | None
    )  #: PDF: its pages; DOCX/ODT: pages between explicit breaks; sheets: sheets
    page_starts: (
        tuple[int, ...] | None
    )  #: line of ``text`` where each page starts (None: no page numbers)
    metadata: (
        dict  #: title, author, producer, creator, created, modified... (never compared)
    )
    flags: tuple[
        str, ...
    ] = ()  #: doc-truncated, doc-encrypted, no-text, text-truncated
    error: str | None = None  #: why it could not be read at all

    def to_json(self) -> str:
        """``captures.document``: format, pages, page starts, metadata."""
        return json.dumps(
            {
                "format": self.format,
                "pages": self.pages,
                "page_starts": list(self.page_starts)
                if self.page_starts is not None
                else None,
                "metadata": self.metadata,
            },
            ensure_ascii=False,
            sort_keys=True,
        )


def read_document(
    body: bytes, fmt: str, limits: DocumentLimits = DocumentLimits()
) -> Document:
    """Read a document of format ``fmt`` in the worker process, within ``limits``."""
    reading = shared_pool().read(
        bytes(body),
        fmt,
        timeout=limits.timeout,
        max_pages=limits.max_pages,
        max_chars=limits.max_chars,
    )
    if reading.error is not None:
        return Document(fmt, None, None, None, {}, tuple(reading.flags), reading.error)
    lines: list[str] = []
    starts: list[int] = []
    for part in reading.parts:
        starts.append(len(lines))
        lines.extend(line for line in part.split("\n") if line)
    flags = list(reading.flags)
    pages = (
        reading.pages
        if fmt == "pdf" and reading.pages is not None
        else len(reading.parts) or None
    )
    if (
        "doc-encrypted" in flags or not reading.parts
    ):  # encrypted, or cut off before its first page
        return Document(fmt, None, pages, None, reading.meta, tuple(flags))
    if not lines and fmt == "pdf" and reading.parts:
        flags.append("no-text")  # pages, but no text layer: a scan
        return Document(fmt, None, pages, None, reading.meta, tuple(flags))
    text = "\n".join(lines)
    if len(text) > limits.max_chars:
        cut = text.rfind("\n", 0, limits.max_chars + 1)
        text = text[: cut if cut > 0 else limits.max_chars]
        if "text-truncated" not in flags:
            flags.append("text-truncated")
    paged = reading.paged and fmt not in SHEET_FORMATS
    return Document(
        fmt, text, pages, tuple(starts) if paged else None, reading.meta, tuple(flags)
    )


def page_of_line(page_starts, line: int) -> int | None:
    """The page (1-based) a line of the text is on; None without page numbers."""
    if not page_starts:
        return None
    page = 0
    for number, start in enumerate(page_starts):
        if start <= line:
            page = number + 1
        else:
            break
    return page or None
