"""What ``lastseen verify`` says and reads (:mod:`crawler.verify`): the kinds of problem (:data:`KINDS`, the one
table the human lines, the JSON Schema and docs/evidence.md use), a :class:`Problem`, what is counted
(:data:`COUNTS`), and the :class:`Context` every check reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["COUNTS", "KINDS", "Context", "Problem"]

#: Every kind of problem, and what it means (docs/evidence.md; the JSON Schema's enum).
KINDS = {
    "chain-broken": "a custody entry does not hash to its sha256, or does not link to the entry before it",
    "chain-missing": "the index holds captures but no custody entry: an archive without its chain",
    "line-altered": "a line of the JSONL copy is not exactly its index entry, or its content (kept only in the copy) "
    "does not hash to its entry",
    "line-missing": "an index entry before the copy's last line has no line in the copy, or one whose content only "
    "the copy keeps has none",
    "line-reordered": "a line of the JSONL copy comes after a line with a greater seq",
    "line-misplaced": "a line is in another month's file than its entry's time says",
    "line-extra": "a line of the JSONL copy no index entry has (or a second line of one)",
    "unchained": "an index row points at a record no capture entry lists",
    "file-unrecorded": "a closed WARC file no file entry records",
    "file-missing": "a WARC file the custody log records is not in the archive",
    "file-altered": "a closed WARC file's SHA-256 or size is not its file entry's",
    "record-altered": "a record's uncompressed bytes are not those its entry hashed",
    "record-moved": "a record is in its file but not at the offset its entry gives",
    "record-missing": "a record an entry lists is not in its file",
    "record-unreadable": "the bytes where a record should be are not a whole gzip member",
    "digest-mismatch": "a record's WARC-Block-Digest or WARC-Payload-Digest is not the digest of its bytes",
    "record-unexplained": "a record in a closed WARC file that no entry lists",
    "timestamp-missing": "the file of a trusted timestamp token the index holds is not in the archive",
    "timestamp-mismatch": "a token's file is not the index's token, or the head it stamps is not the custody "
    "entry at its seq",
    "timestamp-invalid": "a trusted timestamp token that openssl ts -verify refuses with the authority's "
    "certificates kept in the archive",
    "export-altered": "an export or bundle still at the path its entry records is not the file it recorded",
    "signature-invalid": "a signed export's signature is missing, not the one recorded, or does not verify",
}


#: What ``checked`` counts (``--json``).
COUNTS = {
    "entries": "custody entries of the index, their chain checked",
    "lines": "lines of the JSONL copy compared with their entries",
    "files": "closed WARC files hashed",
    "bytes": "bytes of those files",
    "records": "records re-read and compared with their entries",
    "index_rows": "index rows whose record was looked up in the entries",
    "timestamps": "trusted timestamp tokens checked with openssl ts -verify",
    "unlisted_records": "records no capture entry lists in files their file entry vouches for (written, never "
    "committed: a failed commit, or a killed run's file cut back by the next run)",
    "exports": "exports and bundles found at the path their entry records, hashed again",
    "exports_elsewhere": "exports and bundles no longer at their recorded path (handed out or moved: not a "
    "problem)",
}


@dataclass(frozen=True)
class Problem:
    """One thing that does not hold: its kind (:data:`KINDS`), where (file relative to the archive, byte
    offset, record id, custody entry seq: None when it does not apply), what was expected and found."""

    kind: str
    file: str | None
    offset: int | None = None
    record_id: str | None = None
    seq: int | None = None
    expected: str | int | None = None
    found: str | int | None = None
    message: str = ""

    def line(self) -> str:
        """The one line ``lastseen verify`` prints for it."""
        where = [self.file or "-"]
        if self.offset is not None:
            where.append(f"offset {self.offset}")
        if self.record_id:
            where.append(self.record_id)
        if self.seq is not None:
            where.append(f"entry #{self.seq}")
        said = [self.message] if self.message else []
        if self.expected is not None or self.found is not None:
            said.append(f"expected {_shown(self.expected)}, found {_shown(self.found)}")
        return f"{self.kind}: {' '.join(where)}: {'; '.join(said)}"


def _shown(value) -> str:
    return "nothing" if value is None else str(value)


@dataclass
class Context:
    """What the checks read. ``entries``: the index's custody entries (one snapshot), in order; ``lines``:
    the JSONL copy read before it, ``(file, byte offset, raw line)``; ``in_scope(entry)``: whether a capture
    entry's records are re-read (``--since``, ``--only``)."""

    root: Path
    store: object
    entries: list[dict]
    lines: list[tuple[str, int, bytes]]
    in_scope: Callable[[dict], bool]
    running: bool  # a run held the archive's lock when verify began
    #: whether a closed WARC file with no ``file`` entry in the snapshot was closed by a run since (or one runs)
    closed_later: Callable[[str], bool] = lambda name: False
    whole: bool = True  # no --since nor --only: every record is re-read
    checked: Counter = field(default_factory=Counter)
    pending: list[dict] = field(default_factory=list)
    open_files: list[dict] = field(default_factory=list)
    #: entries whose content the index keeps only in the copy (#17): seq -> ``{"file", "offset"}`` of the line it
    #: was read from (or where it should be), ``line`` (parsed; None: no line holds it), ``stub`` (its row's)
    copy_only: dict = field(default_factory=dict)
    workers: int = 2
