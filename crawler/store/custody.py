"""The custody log's table (migration 16): mixed into :class:`~crawler.store.CaptureStore`.

``custody`` holds one row per entry of the hash chain (:mod:`crawler.custody`), ``content`` as its
canonical JSON. Entries are appended inside the transaction that inserts the rows they describe
(:meth:`CustodyQueries.append_custody`), so the index never holds a row without its entry nor an
entry without its rows; the JSONL copy is written from here after the commit (:mod:`crawler.custodycopy`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from ..custody import GENESIS, canonical, make_entry

__all__ = ["CustodyQueries"]


def _entry(row) -> dict:
    seq, kind, time, prev, content, sha256 = row
    return {
        "seq": seq,
        "kind": kind,
        "time": time,
        "prev": prev,
        "content": json.loads(content),
        "sha256": sha256,
    }


class CustodyQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``)."""

    def archived_capture_count(self) -> int:
        """The captures whose records are in a WARC file (each must have a custody entry)."""
        return self.conn.execute("select count(*) from captures where warc_file is not null").fetchone()[0]

    def indexed_records(self) -> Iterator[tuple[str, int, str]]:
        """``(warc_file, offset, record_id)`` of every record the index points at: captures' and exchanges'."""
        return self.conn.execute(
            "select warc_file, warc_offset, warc_record_id from captures where warc_file is not null "
            "union select warc_file, request_offset, request_record_id from exchanges "
            "where warc_file is not null and request_offset is not null "
            "union select warc_file, response_offset, response_record_id from exchanges "
            "where warc_file is not null and response_offset is not null"
        )

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside sees the index as of one moment (a read transaction, rolled back after):
        ``verify`` checks a consistent state while a run appends."""
        self.conn.execute("begin")
        try:
            yield
        finally:
            self.conn.execute("rollback")

    def append_custody(self, kind: str, time: str, content: Mapping) -> dict:
        """Append an entry to the chain and return it; call inside the transaction of the rows it describes."""
        last = self.custody_head()
        seq, prev = (last["seq"] + 1, last["sha256"]) if last else (1, GENESIS)
        entry = make_entry(seq, kind, time, prev, content)
        self.conn.execute(
            "insert into custody (seq, kind, time, prev, content, sha256) values (?, ?, ?, ?, ?, ?)",
            (
                seq,
                kind,
                time,
                prev,
                canonical(entry["content"]).decode("utf-8"),
                entry["sha256"],
            ),
        )
        return entry

    def insert_custody(self, entry: Mapping) -> None:
        """Insert an entry as it is (``lastseen reindex`` restoring the log from its JSONL copy)."""
        self.conn.execute(
            "insert into custody (seq, kind, time, prev, content, sha256) values (?, ?, ?, ?, ?, ?)",
            (
                entry["seq"],
                entry["kind"],
                entry["time"],
                entry["prev"],
                canonical(entry["content"]).decode("utf-8"),
                entry["sha256"],
            ),
        )

    def custody_head(self) -> dict | None:
        """``{"seq", "sha256"}`` of the last entry, None while the log is empty."""
        # max(seq) is read from the end of the table's b-tree; the plan says so (no SCAN, tests/test_query_plans.py)
        row = self.conn.execute(
            "select seq, sha256 from custody where seq = (select max(seq) from custody)"
        ).fetchone()
        return {"seq": row[0], "sha256": row[1]} if row else None

    def custody_entries(self, *, after: int = 0) -> Iterator[dict]:
        """The entries with ``seq`` > ``after``, in order."""
        cur = self.conn.execute(
            "select seq, kind, time, prev, content, sha256 from custody where seq > ? order by seq",
            (after,),
        )
        for row in cur:
            yield _entry(row)

    def closed_files_in_custody(self) -> set[str]:
        """The WARC files (archive-relative) a ``file`` entry records as closed."""
        return {
            r[0]
            for r in self.conn.execute(
                "select json_extract(content, '$.file') from custody where kind = 'file'"
            )
        }

    def file_entry(self, file: str) -> tuple[str, int] | None:
        """``(sha256, size)`` the last ``file`` entry of ``file`` (archive-relative) records, None without one."""
        row = self.conn.execute(
            "select json_extract(content, '$.sha256'), json_extract(content, '$.size') from custody "
            "where kind = 'file' and json_extract(content, '$.file') = ? order by seq desc limit 1",
            (file,),
        ).fetchone()
        return (row[0], row[1]) if row else None
