"""What a change page says of documents (PDF, DOCX, XLSX, ODT, ODS): the page of each change, and the
metadata of both captures (pure; ``captures.document``, see docs/documents.md).

Pages are known for PDFs, and for DOCX and ODT files that have explicit page breaks: the index keeps
the line of the text where each page starts, and a change is on the page of the line it starts at.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from crawler.documents import page_of_line

__all__ = [
    "METADATA_LABELS",
    "change_pages",
    "document_of",
    "metadata_changes",
    "metadata_rows",
]

#: Metadata shown in the evidence box, in this order, with their labels.
METADATA_LABELS = {
    "title": "Document title",
    "author": "Author",
    "last_modified_by": "Last modified by",
    "producer": "Producer",
    "creator": "Creator",
    "created": "Created",
    "modified": "Modified",
}


def document_of(stored: str | None) -> dict | None:
    """``captures.document`` read (None: not a document, or unreadable JSON)."""
    if not stored:
        return None
    try:
        value = json.loads(stored)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _starts(document: dict | None) -> list[int] | None:
    starts = (document or {}).get("page_starts")
    if isinstance(starts, list) and starts and all(isinstance(s, int) for s in starts):
        return starts
    return None


def change_pages(
    change_lines: Sequence[tuple[int, int]], old: dict | None, new: dict | None
) -> list[str | None]:
    """For each change (the old and new line it starts at), where it is: ``"page 3"``, ``"page 3 (page 2
    before)"`` when the page moved, ``"page 2 before"`` when only the old capture has pages; else None."""
    old_starts, new_starts = _starts(old), _starts(new)
    out: list[str | None] = []
    for old_line, new_line in change_lines:
        before = page_of_line(old_starts, old_line) if old_starts else None
        after = page_of_line(new_starts, new_line) if new_starts else None
        if after is not None:
            out.append(
                f"page {after}"
                + (f" (page {before} before)" if before not in (None, after) else "")
            )
        else:
            out.append(f"page {before} before" if before is not None else None)
    return out


def metadata_rows(
    old: dict | None, new: dict | None
) -> list[tuple[str, str | None, str | None]]:
    """(label, before, after) of each metadata field either capture has, pages and format first."""
    if old is None and new is None:
        return []
    rows: list[tuple[str, str | None, str | None]] = []

    def field(document: dict | None, key: str) -> str | None:
        if document is None:
            return None
        value = (
            (document.get("metadata") or {}).get(key)
            if key in METADATA_LABELS
            else document.get(key)
        )
        return None if value is None else str(value)

    for key, label in (
        ("format", "Format"),
        ("pages", "Pages"),
        *METADATA_LABELS.items(),
    ):
        before, after = field(old, key), field(new, key)
        if before is not None or after is not None:
            rows.append((label, before, after))
    return rows


def metadata_changes(
    old: dict | None, new: dict | None
) -> list[tuple[str, str | None, str | None]]:
    """(label, before, after) of the metadata that differ between two captures of a document (never
    compared: shown beside the verdict, before → after); the page count of a scan is among them."""
    if old is None or new is None:
        return []
    return [
        (label, before, after)
        for label, before, after in metadata_rows(old, new)
        if before != after
    ]
