"""The custody log's table (migrations 16 and 19): mixed into :class:`~crawler.store.CaptureStore`.

``custody`` holds one row per entry of the hash chain (:mod:`crawler.custody`): ``seq``, ``kind``, ``time``,
``prev``, ``sha256`` and ``content``, its canonical JSON. Entries are appended inside the transaction that
inserts the rows they describe (:meth:`CustodyQueries.append_custody`), so the index never holds a row without
its entry nor an entry without its rows; the JSONL copy is written from here after the commit
(:mod:`crawler.custodycopy`).

A ``capture`` entry's content is kept only in the JSONL copy (#17, migration 19): its row holds
``{"warc_file": …}`` (what the partial index of capture entries reads), its whole content waits in
``custody_pending`` until its line is written and fsynced (:meth:`CustodyQueries.shed_custody` then records
the line's byte offset in ``custody_lines`` and deletes the pending row), so the index always holds what the
copy may not. Rows are never rewritten (a row made smaller in place would leave its page part empty).
:meth:`CustodyQueries.custody_entries` gives whole entries, reading such lines back; entries appended before
migration 19, or restored by ``lastseen reindex``, hold their content in the row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ..custody import GENESIS, canonical, entry_hash, make_entry
from ..errors import ArchiveError

__all__ = ["COPY_DIR", "ROWS", "CustodyQueries", "in_copy_only", "line_at"]

#: The JSONL copy's folder in the archive (:data:`crawler.custodycopy.CUSTODY_DIR`).
COPY_DIR = "custody"
ROWS = (
    "select c.seq, c.kind, c.time, c.prev, c.content, c.sha256, p.content, l.offset from custody c "
    "left join custody_pending p on p.seq = c.seq left join custody_lines l on l.seq = c.seq"
)


def in_copy_only(kind: str, content: Mapping) -> bool:
    """Whether a row's ``content`` stands for a whole content kept in the copy: a capture entry's without its
    ``records``."""
    return kind == "capture" and "records" not in content


def _stub(content: Mapping) -> dict:
    return {"warc_file": content.get("warc_file")}


def line_at(root: Path, time: str, offset: int, files: dict | None = None) -> bytes | None:
    """The line at byte ``offset`` of the month file of an entry's ``time`` (None if there is none); ``files``:
    the files opened so far, by month, kept open (the caller closes them)."""
    month = time[:7]
    try:
        fh = files.get(month) if files is not None else None
        if fh is None:
            fh = open(Path(root) / COPY_DIR / f"{month}.jsonl", "rb")
            if files is not None:
                files[month] = fh
        try:
            fh.seek(offset)
            line = fh.readline()
        finally:
            if files is None:
                fh.close()
    except OSError:
        return None
    return line[:-1] if line.endswith(b"\n") else None


class CustodyQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``, ``self.path``)."""

    def archived_capture_count(self) -> int:
        """The captures whose records are in a WARC file (each must have a custody entry)."""
        return self.conn.execute(  # (a row holding its record's place in its exchange's: record_seq)
            "select count(*) from capture_rows where warc_file is not null or record_seq is not null").fetchone()[0]

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
        whole = canonical(entry["content"]).decode("utf-8")
        kept = kind == "capture" and "records" in entry["content"]
        self.conn.execute(
            "insert into custody (seq, kind, time, prev, content, sha256) values (?, ?, ?, ?, ?, ?)",
            (seq, kind, time, prev, canonical(_stub(content)).decode("utf-8") if kept else whole, entry["sha256"]),
        )
        if kept:
            self.conn.execute("insert into custody_pending (seq, content) values (?, ?)", (seq, whole))
        return entry

    def insert_custody(self, entry: Mapping) -> None:
        """Insert an entry as it is, content whole (``lastseen reindex`` restoring the log from its JSONL copy)."""
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

    def shed_custody(self, lines: Iterable[tuple[int, int]]) -> None:
        """Entries whose lines are written and fsynced (``(seq, offset)``): where their line is, and their
        pending content deleted (their content is then only in the copy). Its own transaction."""
        lines = list(lines)
        if not lines:
            return
        with self.transaction():
            for seq, offset in lines:
                if self.conn.execute("delete from custody_pending where seq = ?", (seq,)).rowcount:
                    self.conn.execute("insert or replace into custody_lines (seq, offset) values (?, ?)",
                                      (seq, offset))

    def pending_custody(self, *, upto: int) -> list[dict]:
        """The whole entries with ``seq`` <= ``upto`` whose content waits in ``custody_pending`` (lines a killed
        run wrote but did not fsync and record)."""
        rows = self.conn.execute(
            "select c.seq, c.kind, c.time, c.prev, p.content, c.sha256 from custody_pending p "
            "join custody c on c.seq = p.seq where p.seq <= ? order by p.seq", (upto,))
        return [{"seq": seq, "kind": kind, "time": time, "prev": prev, "content": json.loads(content),
                 "sha256": sha256} for seq, kind, time, prev, content, sha256 in rows]

    def custody_head(self) -> dict | None:
        """``{"seq", "sha256"}`` of the last entry, None while the log is empty."""
        # max(seq) is read from the end of the table's b-tree; the plan says so (no SCAN, tests/test_query_plans.py)
        row = self.conn.execute(
            "select seq, sha256 from custody where seq = (select max(seq) from custody)"
        ).fetchone()
        return {"seq": row[0], "sha256": row[1]} if row else None

    def custody_rows(self, *, after: int = 0) -> Iterator[dict]:
        """The entries with ``seq`` > ``after``, in order, as the index holds them: ``content`` None for one
        kept only in the copy, then ``line`` is the byte offset of its line (None while not known) and ``stub``
        what its row holds (``{"warc_file"}``)."""
        yield from self._custody_rows(f"{ROWS} where c.seq > ? order by c.seq", (after,))

    def _custody_rows(self, sql: str, args) -> Iterator[dict]:
        for seq, kind, time, prev, content, sha256, pending, offset in self.conn.execute(sql, args):
            content = json.loads(pending if pending is not None else content)
            copy_only = in_copy_only(kind, content)
            yield {"seq": seq, "kind": kind, "time": time, "prev": prev,
                   "content": None if copy_only else content, "sha256": sha256,
                   "line": offset if copy_only else None, "stub": content if copy_only else None}

    def custody_entries(self, *, after: int = 0, lost: str = "raise") -> Iterator[dict]:
        """The entries with ``seq`` > ``after``, in order, whole: a content kept only in the copy is read from
        its line, which must be its entry's. A line gone or not its entry's raises :class:`ArchiveError`
        (``lost="skip"``: the entry is left out)."""
        yield from self._whole(self.custody_rows(after=after), lost)

    def _whole(self, rows: Iterable[dict], lost: str = "raise") -> Iterator[dict]:
        root, files = self.path.parent, {}
        try:
            yield from self._whole_rows(root, rows, lost, files)
        finally:
            for fh in files.values():
                fh.close()

    def _whole_rows(self, root: Path, rows: Iterable[dict], lost: str, files: dict) -> Iterator[dict]:
        for row in rows:
            if row["content"] is None:
                content = self._content_from_line(root, row, files)
                if content is None:
                    if lost == "skip":
                        continue
                    raise ArchiveError(
                        f"custody entry #{row['seq']} is kept only in {root / COPY_DIR}/{row['time'][:7]}.jsonl, "
                        f"whose line for it is missing or altered; `lastseen verify` names what differs (restore "
                        f"the file from a copy)"
                    )
                row["content"] = content
            del row["line"], row["stub"]
            yield row

    @staticmethod
    def _content_from_line(root: Path, row: dict, files: dict) -> dict | None:
        raw = line_at(root, row["time"], row["line"], files) if row["line"] is not None else None
        try:
            line = json.loads(raw) if raw is not None else None
        except ValueError:
            return None
        if not isinstance(line, dict) or line.get("seq") != row["seq"] or not isinstance(line.get("content"), dict):
            return None
        if entry_hash({**row, "content": line["content"]}) != row["sha256"]:
            return None
        return line["content"]

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
