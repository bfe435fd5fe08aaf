"""PDF text, page by page, and its document information, with pypdf (runs in the worker process).

pypdf is pure Python (no C parser to crash the worker on a hostile file), reads pages one at a
time (so a cut-off document keeps the pages read before the cut) and decrypts the common
encryptions; pdfminer.six lays text out better in columns, but is several times slower and
reads no faster on page boundaries. Each page's text is what ``PageObject.extract_text`` gives.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from .formats import metadata

__all__ = ["read_pdf"]


def read_pdf(body: bytes, max_pages: int) -> Iterator[dict]:
    """Events: ``{"meta": {...}, "pages": n}``, then ``{"part": text}`` per page; ``{"flag": ...}`` on the way."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body), strict=False)
    if reader.is_encrypted:
        try:
            readable = bool(
                reader.decrypt("")
            )  # an empty user password opens many "protected" files
        except Exception:  # noqa: BLE001 - an unknown or broken encryption is unreadable the same way
            readable = False
        if not readable:
            yield {
                "flag": "doc-encrypted",
                "meta": {},
                "pages": _declared_pages(reader),
            }
            return
    yield {"meta": _metadata(reader), "pages": _declared_pages(reader), "paged": True}
    for number, page in enumerate(reader.pages):
        if number >= max_pages:
            yield {"flag": "doc-truncated"}
            return
        try:
            text = page.extract_text() or ""
        except RecursionError:
            yield {"flag": "doc-truncated"}
            return
        yield {"part": text}


def _declared_pages(reader) -> int | None:
    """The page count the page tree declares (read without walking it)."""
    try:
        count = reader.trailer["/Root"]["/Pages"].get("/Count")
        return int(count) if count is not None else None
    except Exception:  # noqa: BLE001 - a broken trailer declares nothing
        return None


def _metadata(reader) -> dict:
    """Title, author, producer, creator, creation and modification dates (ISO 8601), those present."""
    try:
        info = reader.metadata
    except Exception:  # noqa: BLE001 - a broken /Info dictionary is no metadata
        return {}
    if info is None:
        return {}
    pairs = []
    for key, attr in (
        ("title", "title"),
        ("author", "author"),
        ("producer", "producer"),
        ("creator", "creator"),
        ("created", "creation_date"),
        ("modified", "modification_date"),
    ):
        try:
            pairs.append((key, getattr(info, attr)))
        except Exception:  # noqa: BLE001 - an unparseable date is left out
            pass
    return metadata(pairs)
