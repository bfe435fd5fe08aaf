"""The evidence box of a report page: what proves a capture, and the commands that check and replay it.

One row per fact of a capture (:data:`LABELS`): its times, HTTP statuses, URLs, WARC coordinates,
payload digest, TLS verification and flags, then the ``warcio extract --payload`` command (run in
the archive folder) that prints its archived payload and the pywb URL form that replays it; a
document's format, pages and metadata follow (:func:`crawler.report.documents.metadata_rows`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.formatting import iso

from .documents import metadata_rows
from .links import display_url

if TYPE_CHECKING:
    from .render import CaptureView

__all__ = ["LABELS", "capture_rows", "evidence_rows"]


LABELS = (
    # (label, monospace)
    ("Capture", True),
    ("Captured (UTC)", True),
    ("HTTP status", True),
    ("Status chain", True),
    ("Requested URL", True),
    ("Final URL", True),
    ("WARC file", True),
    ("WARC offset", True),
    ("WARC record ID", True),
    ("Record type", True),
    ("Payload SHA-256", True),
    ("TLS certificate", False),
    ("Flags", True),
    ("Page title", False),
    ("Error", False),
    ("Check it (warcio, in the archive folder)", True),
    ("Replay it (pywb URL)", True),
)


def _evidence_values(c: CaptureView | None) -> list[str | None]:
    if c is None:
        return [None] * len(LABELS)
    return [
        str(c.id),
        iso(c.started),
        None if c.status is None else str(c.status),
        " → ".join(str(s) for s in c.status_chain) or None,
        _url(c.url),
        _url(c.final_url),
        c.warc_file,
        None if c.warc_offset is None else str(c.warc_offset),
        c.warc_record_id,
        c.record_type,
        c.payload_sha256,
        _tls(c),
        ", ".join(c.flags) or None,
        c.title,
        c.error,
        f"warcio extract --payload {c.warc_file} {c.warc_offset}" if c.warc_file and c.warc_offset is not None
        else None,
        f"/<collection>/{c.started.strftime('%Y%m%d%H%M%S')}id_/{c.final_url or c.url}"
        if c.warc_file and c.started else None,
    ]


def _url(url: str | None) -> str | None:
    """``url`` decoded for reading, and as archived (``WARC-Target-URI``) when that differs."""
    if not url:
        return url
    shown = display_url(url)
    return shown if shown == url else f"{shown} (archived as {url})"


def _tls(c: CaptureView) -> str | None:
    if c.tls_verified is None:
        return None
    if c.tls_verified:
        return "verified"
    return "NOT verified" + (f": {c.tls_error}" if c.tls_error else "")


def evidence_rows(before: CaptureView | None, after: CaptureView) -> list[tuple]:
    """(label, before value, after value, monospace) rows of the side-by-side evidence table."""
    rows = zip(LABELS, _evidence_values(before), _evidence_values(after))
    documents = metadata_rows(before.document if before else None, after.document)
    return [(label, b, a, mono) for (label, mono), b, a in rows] + [(label, b, a, False) for label, b, a in documents]


def capture_rows(capture: CaptureView) -> list[tuple]:
    """(label, value, monospace) rows of one capture's evidence (a first capture's page)."""
    documents = [(label, value, False) for label, _, value in metadata_rows(None, capture.document)]
    return [(label, value, mono) for (label, mono), value in zip(LABELS, _evidence_values(capture))] + documents
