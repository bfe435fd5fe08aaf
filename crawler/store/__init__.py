"""The capture index: SQLite at ``archive/lastseen.db`` (sqlite-utils), with migrations.

Tables (plural snake_case, Datasette-friendly, JSON in TEXT columns)::

    runs       one row per `lastseen run`: times, watchlist hash, report, alert results
    targets    every target ever seen, by name
    captures   one row per fetch of a target (failed ones too): final response, WARC
               location, payload digests, extracted title/description/links (with their
               anchor texts), text fingerprint; a view over ``capture_rows`` (:mod:`.capturerows`)
    exchanges  every HTTP exchange of a capture (redirect hops, retries) and its WARC records; a view
               over ``exchange_rows`` and ``warc_files`` (:mod:`.capturerows`)
    texts      extracted text, content-addressed by SHA-256 (identical pages share a row)
    events     the verdict of each capture against the target's last good capture; a view over ``event_rows``
    recoveries what a run's start did to files an earlier run left (cut a torn WARC file...)
    listing_items  the items each listing capture found, in the listing's order (:mod:`.listings`)
    custody    the custody log: a hash chain of entries per capture, closed file, recovery, export (:mod:`.custody`)
    timestamps RFC 3161 time-stamps of the custody log's head: tokens, and failed attempts (:mod:`.timestamps`)

Write order is the caller's contract: WARC records are fsynced before the rows
pointing at them are committed (see :mod:`crawler.monitor`).

Two ways in: ``CaptureStore(path)`` for a run (under the archive's lock:
creates and migrates the index), :meth:`CaptureStore.open_readonly` for
commands that only read (no lock, no migration, nothing written). All SQL of
lastseen lives here; every SQLite error becomes an :class:`ArchiveError`
naming the file.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from ..errors import ArchiveError
from .capturerows import TABLES, CaptureRowQueries
from .custody import CustodyQueries
from .exports import ExportQueries
from .history import HistoryQueries
from .listings import ListingQueries
from .payloads import PayloadQueries
from .records import (FAILING_VERDICTS, OWN_ROLES, RECENT_VERDICTS, STATE_HORIZON, GoodCapture, History,
                      StoredPayload, state_seen)
from .reports import ReportQueries
from .robots import RobotsQueries
from .schema import MIGRATIONS
from .sqlite import (
    _connect_readonly,
    _insert,
    _last_run_starts,
    _newer_schema_message,
    _Transaction,
    index_error_message,
)
from .timeline import TimelineQueries
from .timestamps import TimestampQueries
from .volatile import VolatileQueries


@dataclass(slots=True)  # not frozen: made for every target, a frozen dataclass's __init__ is three times slower
class TargetRecord:
    """What the index holds about one target, for ``lastseen status`` (times as stored: ISO 8601)."""

    last_capture: str | None = None     # when its last capture (successful or not) began
    last_status: int | None = None
    last_verdict: str | None = None
    last_reason: str | None = None
    last_good: str | None = None        # when its last good capture began
    last_run_start: str | None = None   # start of the last run that attempted it
    captures: int = 0
    consecutive_failures: int = 0       # unreachable or blocked verdicts since the last other verdict
    unconfirmed: bool = False           # its last event awaits confirmation (failures < confirm_after)


#: Facts of a recovery with a column of their own in ``recoveries``; others go to ``details`` (JSON).
RECOVERY_COLUMNS = ("file", "cut_at", "bytes_removed", "rows_deleted", "aborted_run", "moved_to")


def _translated(method):
    """Run ``method`` with its SQLite errors translated (:meth:`CaptureStore._reading`)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._reading():
            return method(self, *args, **kwargs)
    return wrapper


class CaptureStore(PayloadQueries, ReportQueries, VolatileQueries, ListingQueries, RobotsQueries,
                   TimelineQueries, CustodyQueries, HistoryQueries, ExportQueries, TimestampQueries,
                   CaptureRowQueries):
    """The SQLite index of an archive."""

    def __init__(self, path: Path):
        self.path = Path(path)
        conn = None
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            self.conn = conn
            self.db = sqlite_utils.Database(conn)
            self.migrate()
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, sqlite3.Error):
                raise ArchiveError(index_error_message(self.path, exc, "open")) from exc
            raise

    @classmethod
    def open_readonly(cls, path: Path) -> "CaptureStore":
        """The index opened for reading only, for commands that only read (status, report).

        Takes no lock, migrates nothing and writes nothing, so it works while a
        run writes the index (WAL: readers and the writer do not block each
        other) and on a read-only copy of the archive. An index whose schema is
        older than this release's raises :class:`ArchiveError` saying that
        ``lastseen run`` upgrades it; a newer one says to upgrade lastseen.
        """
        path = Path(path)
        if not path.is_file():
            raise ArchiveError(f"no archive index at {path}; run `lastseen run` first or pass --archive")
        conn, version = _connect_readonly(path)
        try:
            if version > len(MIGRATIONS):
                raise ArchiveError(_newer_schema_message(path, version))
            if version < len(MIGRATIONS):
                raise ArchiveError(
                    f"the index {path} has schema {version}, older than this lastseen's ({len(MIGRATIONS)}); "
                    f"`lastseen run` upgrades it (commands that only read never change the archive), "
                    f"then run this again"
                )
            store = cls.__new__(cls)
            store.path = path
            store.conn = conn
            store.db = sqlite_utils.Database(conn)
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self.conn.close()

    # -- schema ---------------------------------------------------------
    def migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise ArchiveError(_newer_schema_message(self.path, version))
        for number in range(version, len(MIGRATIONS)):
            with self.transaction():
                MIGRATIONS[number](self.db)
                self.conn.execute(f"PRAGMA user_version={number + 1}")

    def transaction(self):
        return _Transaction(self.conn, self.path)

    # -- runs -----------------------------------------------------------
    def begin_run(self, row: dict) -> None:
        with self.transaction():
            self.db["runs"].insert(row)

    def update_run(self, run_id: str, **values) -> None:
        with self.transaction():
            self.db["runs"].update(run_id, values)

    @_translated
    def abort_unfinished_runs(self) -> list[str]:
        """Mark runs a crash left without a finish as aborted; return their ids."""
        ids = [r[0] for r in self.conn.execute("select id from runs where finished is null")]
        if ids:
            with self.transaction():
                self.conn.execute("update runs set status = 'aborted' where finished is null")
        return ids

    @_translated
    def runs_started_after(self, when: str) -> list[tuple[str, str]]:
        """``(id, started)`` of runs recorded as starting after ``when`` (ISO 8601 UTC), oldest first."""
        return self.conn.execute("select id, started from runs where started > ? order by started", (when,)).fetchall()

    def set_run_start(self, run_id: str, started: str, *, recovery: dict) -> None:
        """Set a run's recorded start and store the record of why (``recovery``), in one transaction."""
        with self.transaction():
            self.conn.execute("update runs set started = ? where id = ?", (started, run_id))
            self._insert_recovery(recovery)

    def upsert_targets(self, rows: Iterable[dict]) -> None:
        with self.transaction():
            for row in rows:
                self.put_target(row)

    def put_target(self, row: dict) -> None:
        """Insert a ``targets`` row or update its url, tags and ``updated``; call inside a transaction."""
        self.conn.execute(
            "insert into targets (name, url, tags, first_seen, updated) values (?, ?, ?, ?, ?) "
            "on conflict(name) do update set url = excluded.url, tags = excluded.tags, "
            "updated = excluded.updated",
            (row["name"], row["url"], row["tags"], row["first_seen"], row["updated"]),
        )

    # -- history --------------------------------------------------------
    @_translated
    def history(self, target: str) -> History:
        sql = "select verdict, confirmed from events where target = ? order by id desc limit ?"
        events = self.conn.execute(sql, (target, RECENT_VERDICTS)).fetchall()
        if len(events) == RECENT_VERDICTS and not state_seen(events):
            events = self.conn.execute(sql, (target, STATE_HORIZON)).fetchall()
        recent = tuple(v for v, _ in events[:RECENT_VERDICTS])
        last_verdict = recent[0] if recent else None
        state = next((v for v, confirmed in events if confirmed != 0), None)
        failures = next((i for i, (v, _) in enumerate(events) if v not in FAILING_VERDICTS), len(events))
        good = self.conn.execute(
            "select id, text_sha256, fingerprint, kind, payload_sha256, extract_key, title, links, charset, "
            "final_url, heading, flags, rendered_sha256, warc_file, warc_offset, record_type, refers_to_record_id, "
            "content_type, page_text_sha256, link_texts, description, document from captures "
            "where target = ? and good = 1 "
            "order by id desc limit 1",
            (target,),
        ).fetchone()
        good = self.good_with_links(good)
        # the last payload stored and, joined in the same statement, where its response record is indexed
        payload = self.conn.execute(
            "select c.id, c.payload_sha1, c.record_type, c.warc_record_id, c.refers_to_record_id, c.final_url, "
            "c.refers_to_uri, c.refers_to_date, c.status, x.id is not null, f.path, x.response_offset, "
            "x.response_length, x.started, x.url from (select id, payload_sha1, record_type, warc_record_id, "
            "refers_to_record_id, final_url, refers_to_uri, refers_to_date, status from captures "
            "where target = ? and record_type is not null and coalesce(role, 'page') in ('page', 'refetch') "
            "order by id desc limit 1) as c left join exchange_rows as x on x.id = (select id from exchange_rows "
            "where response_record_id = case when c.record_type = 'revisit' then c.refers_to_record_id "
            "else c.warc_record_id end and record_type = 'response' limit 1) "
            "left join warc_files as f on f.id = x.warc_file_id",  # (a response's row holds its URL: no refers)
            (target,),
        ).fetchone()
        stored = None
        if payload is not None:
            cid, sha1, rtype, rid, ref_id, final_url, ref_uri, ref_date, status, found, *where = payload
            record_id = ref_id if rtype == "revisit" else rid
            if found:
                warc_file, offset, length, date, uri = where
            else:  # the original record is not indexed (an index rebuilt in part): say where it is not
                warc_file = offset = length = None
                date, uri = (ref_date, ref_uri) if rtype == "revisit" else (None, final_url)
            stored = StoredPayload(cid, sha1, record_id, uri, date, status, warc_file, offset, length)
        return History(last_verdict, GoodCapture(*good) if good else None, stored, recent, state, failures,
                       *self._volatile_state(target))

    def text(self, sha256: str | None) -> str | None:
        if sha256 is None:
            return None
        with self._reading():
            row = self.conn.execute("select text from texts where sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    # -- writes ---------------------------------------------------------
    def insert_capture(self, capture: dict, exchanges: list[dict], text: tuple[str, str] | None, event: dict) -> int:
        """Insert one capture with its exchanges, text and event; call inside a transaction."""
        cid = self.insert_capture_rows(capture, exchanges, text)
        event["capture_id"] = cid
        _insert(self.conn, "event_rows", self.event_row_of(event))
        return cid

    def insert_capture_rows(self, capture: dict, exchanges: list[dict], text: tuple[str, str] | None) -> int:
        """Insert one capture with its exchanges and text, no event; call inside a transaction."""
        for row in ([text] if text and isinstance(text[0], str) else text or ()):  # (sha256, text) pairs
            self.conn.execute("insert or ignore into texts (sha256, text) values (?, ?)", row)
        items = capture.pop("listing_items", None)   # a listing's: (url, key or None when capped) in order
        cid = _insert(self.conn, "capture_rows", self.capture_row(capture, exchanges))
        for ex in exchanges:
            ex["capture_id"] = cid
            _insert(self.conn, "exchange_rows", self.exchange_row(ex))
        self._insert_listing_items(cid, items or ())
        return cid

    def fill_extraction(self, capture_id: int, link_texts: str, description: str | None) -> None:
        """Store the anchor texts and description of a capture extracted before they were kept (its
        payload read again by a run); call inside a transaction. A capture that has them keeps its own."""
        self.conn.execute(  # a recapture's description is its reused row's (REUSED_COLUMNS): stored there
            "update capture_rows set link_texts = ?, description = ? where link_texts is null and id = "
            "(select coalesce(reused, id) from capture_rows where id = ?)", (link_texts, description, capture_id))

    # -- rebuilding the index from the WARC files (crawler.reindex) ------
    def captures_of(self, target: str) -> list[dict]:
        """Every ``captures`` row of ``target``, in the order they were inserted."""
        cur = self.conn.execute("select * from captures where target = ? order by id", (target,))
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row)) for row in cur]

    def insert_run(self, row: dict) -> None:
        """Insert a ``runs`` row; call inside a transaction."""
        _insert(self.conn, "runs", row)

    @_translated
    def response_record(self, record_id: str) -> dict | None:
        """The indexed response record ``record_id`` (file, offset, length, payload SHA-256 and length)."""
        cur = self.conn.execute(
            "select f.path as warc_file, response_offset as offset, response_length as length, payload_sha256, "
            "payload_length from exchange_rows left join warc_files f on f.id = warc_file_id "
            "where response_record_id = ? and record_type = 'response' limit 1",
            (record_id,),
        )
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row)) if row else None

    @_translated
    def counts(self, tables: Iterable[str]) -> dict[str, int]:
        """Rows in each of ``tables`` (names of this module's tables; ``captures``: the rows of the view's table)."""
        return {t: self.conn.execute(f"select count(*) from {TABLES.get(t, t)}").fetchone()[0] for t in tables}

    @_translated
    def bulk_load(self) -> None:
        """For a new index being filled that is not yet in use: no fsync per commit (:meth:`seal` syncs)."""
        self.conn.execute("PRAGMA synchronous=OFF")

    @_translated
    def seal(self) -> None:
        """Make the index one self-contained file (WAL checkpointed, rollback journal) and fsync it,
        so that it can be renamed into place; the next writer turns WAL back on."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.execute("PRAGMA journal_mode=DELETE")
        self.conn.execute("PRAGMA synchronous=FULL")
        with open(self.path, "rb+") as fh:
            os.fsync(fh.fileno())

    def forget_beyond(self, warc_file: str, end: int, *, recovery: dict | None = None,
                      custody: Iterable[tuple[str, str, dict]] = ()) -> int:
        """Delete captures (and their rows) whose records lie past ``end`` of ``warc_file``.

        Recovery calls this when a crashed ``.open`` file is cut back, so that no
        row points at bytes that do not exist. With ``recovery`` (``run_id``,
        ``at``, ``action`` and the action's facts), the record of what recovery
        does is inserted in the same transaction, with ``rows_deleted`` set, and so are the custody
        log's entries ``custody`` (``(kind, time, content)``):
        committed before the file is touched, so a kill never loses it.
        Returns the number of captures removed.
        """
        with self.transaction():
            ids = [
                r[0]
                for r in self.conn.execute(
                    "select distinct capture_id from exchange_rows where warc_file_id = "
                    "(select id from warc_files where path = ?) and "
                    "(response_offset + response_length > ? or request_offset + request_length > ?)",
                    (warc_file, end, end),
                )
            ]
            ids += [r[0] for r in self.conn.execute(  # (rows holding their record's place: record_seq null)
                "select id from capture_rows where warc_file = ? and warc_offset + warc_length > ?", (warc_file, end))]
            ids = sorted(set(ids))
            for cid in ids:
                self.conn.execute("delete from event_rows where capture_id = ? or compared_capture_id = ?", (cid, cid))
                self.conn.execute("delete from exchange_rows where capture_id = ?", (cid,))
                self.conn.execute("delete from capture_rows where id = ?", (cid,))
            if recovery is not None:
                self._insert_recovery({**recovery, "rows_deleted": len(ids)})
            for kind, time, content in custody:
                self.append_custody(kind, time, content)
        return len(ids)

    # -- recoveries -----------------------------------------------------
    def record_recovery(self, recovery: dict) -> None:
        """Store what a run's start did (``run_id``, ``at``, ``action`` and the action's facts)."""
        with self.transaction():
            self._insert_recovery(recovery)

    def _insert_recovery(self, recovery: dict) -> None:
        row = {k: recovery.get(k) for k in ("run_id", "at", "action")}
        facts = {k: v for k, v in recovery.items() if k not in row}
        row.update((k, facts.pop(k)) for k in RECOVERY_COLUMNS if k in facts)
        row["details"] = json.dumps(facts, ensure_ascii=False) if facts else None
        _insert(self.conn, "recoveries", row)

    def recoveries(self, *, since: str | None = None, run_id: str | None = None) -> list[dict]:
        """Recoveries at or after ``since`` (ISO 8601) or by one run, oldest first.

        Each a dict of ``id``, ``run_id``, ``at``, ``action`` and the facts stored
        for it (columns that are set, and ``details``).
        """
        sql = "select * from recoveries where at >= ? order by id"
        args = (since or "",)
        if run_id is not None:
            sql, args = "select * from recoveries where run_id = ? order by id", (run_id,)
        with self._reading():
            cur = self.conn.execute(sql, args)
            names = [c[0] for c in cur.description]
            rows = cur.fetchall()
        out = []
        for row in rows:
            stored = dict(zip(names, row))
            details = stored.pop("details")
            rec = {k: v for k, v in stored.items() if v is not None or k in ("run_id", "at", "action")}
            rec.update(json.loads(details) if details else {})
            out.append(rec)
        return out

    def count_recoveries(self, *, before: str) -> int:
        """How many recoveries happened before ``before`` (ISO 8601)."""
        with self._reading():
            return self.conn.execute("select count(*) from recoveries where at < ?", (before,)).fetchone()[0]

    # -- status ---------------------------------------------------------
    def last_run_starts(self) -> dict[str, str]:
        """For each target, the start (as stored) of the last run that attempted it."""
        with self._reading():
            return _last_run_starts(self.conn)

    def target_records(self) -> dict[str, TargetRecord]:
        """What the index holds about each target it has seen, by name.

        A row a target from ``target_stats`` (its last own capture, last good one, count and last run, kept
        by triggers: schema 22), then that capture's row and event (#17): the archive's history is not read."""
        with self._reading():
            rows = self.conn.execute(
                "select s.target, c.started, c.status, e.verdict, e.reason, s.last_good, s.last_run, s.own_captures "
                "from target_stats s left join capture_rows c on c.id = s.last_own "   # own columns: the rows
                "left join event_rows e on e.target = c.target and e.capture_id = c.id "
                "where s.last_own is not null or s.last_run is not null"
            ).fetchall()
            failures = {}  # failing events since the last one that did not fail: counted back where the last failed
            for (name,) in self.conn.execute(
                    "select s.target from target_stats s join event_rows e on e.id = s.last_event "
                    "where e.verdict in ('unreachable', 'blocked')").fetchall():
                count = 0
                for (verdict,) in self.conn.execute(
                        "select verdict from event_rows where target = ? order by id desc", (name,)):
                    if verdict not in ("unreachable", "blocked"):
                        break
                    count += 1
                failures[name] = count
            unconfirmed = self._unconfirmed()
        return {
            name: TargetRecord(
                last_capture=started, last_status=status, last_verdict=verdict, last_reason=reason,
                last_good=good, last_run_start=run, captures=captures,
                consecutive_failures=failures.get(name, 0), unconfirmed=name in unconfirmed,
            )
            for name, started, status, verdict, reason, good, run, captures in rows
        }

    def known_targets(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Every target the index has captured (watched, or once watched), by name: its last URL and tags."""
        with self._reading():
            rows = self.conn.execute("select name, url, tags from targets").fetchall()
        return {name: (url, tuple(json.loads(tags or "[]"))) for name, url, tags in rows}

    def unconfirmed_targets(self) -> set[str]:
        """Targets whose last event awaits confirmation (an unreachable or blocked state not yet confirmed)."""
        with self._reading():
            return self._unconfirmed()

    def _unconfirmed(self) -> set[str]:
        return {name for (name,) in self.conn.execute(  # each target's last event (target_stats, schema 22)
            "select s.target from target_stats s join event_rows e on e.id = s.last_event where e.confirmed = 0")}

    # -- alerts owed ----------------------------------------------------
    @_translated
    def owed_alerts(self, exclude_run: str) -> list[dict]:
        """Alerting events of runs that never finished (killed, interrupted, failed), not yet delivered."""
        cur = self.conn.execute(
            "select events.id, events.run_id, events.target, events.verdict, events.reason, events.summary, "
            "captures.url from events join runs on runs.id = events.run_id "
            "join captures on captures.id = events.capture_id "
            "where events.alert = 1 and events.delivered is null and events.run_id != ? "
            "and runs.status in ('interrupted', 'aborted', 'failed') order by events.id",
            (exclude_run,),
        )
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row)) for row in cur]

    def mark_delivered(self, *, run_id: str | None = None, event_ids: list[int] = ()) -> None:
        with self.transaction():
            if run_id is not None:
                self.conn.execute("update event_rows set delivered = 1 where run_id = ? and alert = 1", (run_id,))
            for eid in event_ids:
                self.conn.execute("update event_rows set delivered = 1 where id = ?", (eid,))

    @contextlib.contextmanager
    def _reading(self):
        """Translate SQLite errors of a read into a one-line :class:`ArchiveError` naming the file."""
        try:
            yield
        except sqlite3.Error as exc:
            raise ArchiveError(index_error_message(self.path, exc, "read")) from exc
