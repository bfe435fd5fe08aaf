"""What the index says of a target before a new capture of it: plain values (:meth:`CaptureStore.history`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FAILING_VERDICTS", "OWN_ROLES", "RECENT_VERDICTS", "STATE_HORIZON", "GoodCapture", "History",
           "StoredPayload"]


@dataclass(frozen=True)
class GoodCapture:
    """The parts of a target's last good capture a new capture is compared with."""

    id: int
    text_sha256: str | None
    fingerprint: str | None
    kind: str | None
    payload_sha256: str | None
    extract_key: str | None
    title: str | None
    links: str | None
    charset: str | None
    final_url: str | None
    heading: str | None
    flags: str | None = None   # JSON list, as stored
    rendered_sha256: str | None = None   # a browser capture's rendered DOM
    warc_file: str | None = None         # where its final response (or revisit) record is
    warc_offset: int | None = None
    record_type: str | None = None
    refers_to_record_id: str | None = None
    content_type: str | None = None
    page_text_sha256: str | None = None  # the whole page's text, when it is not the compared text's
    link_texts: str | None = None        # JSON object: anchor text by link (None: extracted before they were kept)
    description: str | None = None
    document: str | None = None          # a document's format, pages, page starts and metadata (JSON)


@dataclass(frozen=True)
class StoredPayload:
    """The last response payload stored for a target (for revisit records), and where its record is."""

    capture_id: int
    payload_sha1: str
    record_id: str
    uri: str
    date: str              # the record's WARC-Date
    status: int
    warc_file: str | None = None   # the response record's file (relative to the archive), offset, length
    offset: int | None = None
    length: int | None = None


@dataclass(frozen=True)
class History:
    last_verdict: str | None
    good: GoodCapture | None
    payload: StoredPayload | None
    recent_verdicts: tuple[str, ...] = ()   # newest first, at most RECENT_VERDICTS
    state: str | None = None                # verdict of the last event not awaiting confirmation
    failures: int = 0                       # unreachable/blocked events in a row, newest first
    volatile: frozenset = frozenset()       # keys of the blocks learned as volatile (crawler.volatile)
    recent_keys: tuple = ()                 # changed keys of its last compared captures, oldest first


RECENT_VERDICTS = 10
#: How far back the state and the count of failures in a row are looked for (``confirm_after`` is at most this).
STATE_HORIZON = 100
FAILING_VERDICTS = ("unreachable", "blocked")


def state_seen(events: list[tuple[str, int | None]]) -> bool:
    """Whether a target's last events, ``(verdict, confirmed)`` newest first, show its state (a confirmed
    verdict) and where its failures in a row end: if not, :meth:`~crawler.store.CaptureStore.history` reads
    further back, up to :data:`STATE_HORIZON` (most targets need their last few only: #17)."""
    return any(c != 0 for _, c in events) and any(v not in FAILING_VERDICTS for v, _ in events)


#: Roles of captures that are the target's own (a probe of its host or its home page is not).
OWN_ROLES = ("page", "refetch")
