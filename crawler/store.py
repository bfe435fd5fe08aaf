"""The capture index: SQLite at ``archive/lastseen.db`` (sqlite-utils), with migrations.

Tables (plural snake_case, Datasette-friendly, JSON in TEXT columns)::

    runs       one row per `lastseen run`: times, watchlist hash, report, alert results
    targets    every target ever seen, by name
    captures   one row per fetch of a target (failed ones too): final response, WARC
               location, payload digests, extracted title/links, text fingerprint
    exchanges  every HTTP exchange of a capture (redirect hops, retries) and its WARC records
    texts      extracted text, content-addressed by SHA-256 (identical pages share a row)
    events     the verdict of each capture against the target's last good capture
    recoveries what a run's start did to files an earlier run left (cut a torn WARC file...)

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
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from . import __version__
from .errors import ArchiveError


def _migration_1(db: sqlite_utils.Database) -> None:
    db["runs"].create(
        {
            "id": str, "started": str, "finished": str, "status": str, "watchlist": str,
            "watchlist_sha256": str, "targets_due": int, "report": str, "alerts": str, "software": str,
        },
        pk="id",
    )
    db["targets"].create(
        {"name": str, "url": str, "tags": str, "first_seen": str, "updated": str}, pk="name"
    )
    db["captures"].create(
        {
            "id": int, "run_id": str, "target": str, "url": str, "final_url": str, "status": int,
            "status_chain": str, "started": str, "finished": str, "duration_ms": int,
            "error_kind": str, "error": str, "ip": str, "content_type": str,
            "warc_file": str, "warc_offset": int, "warc_length": int, "warc_record_id": str,
            "record_type": str, "refers_to_record_id": str, "refers_to_uri": str, "refers_to_date": str,
            "payload_sha1": str, "payload_sha256": str, "payload_length": int, "truncated": str,
            "kind": str, "charset": str, "extract_key": str, "extract_error": str,
            "text_sha256": str, "fingerprint": str, "title": str, "links": str, "good": int,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("target", "targets", "name")],
    )
    db["texts"].create({"sha256": str, "text": str}, pk="sha256")
    db["exchanges"].create(
        {
            "id": int, "capture_id": int, "seq": int, "url": str, "method": str, "status": int,
            "started": str, "duration_ms": int, "ip": str, "warc_file": str,
            "request_offset": int, "request_length": int, "request_record_id": str,
            "response_offset": int, "response_length": int, "response_record_id": str,
            "record_type": str, "payload_sha1": str, "payload_sha256": str, "payload_length": int,
            "truncated": str,
        },
        pk="id",
        foreign_keys=[("capture_id", "captures", "id")],
    )
    db["events"].create(
        {
            "id": int, "run_id": str, "target": str, "capture_id": int, "compared_capture_id": int,
            "verdict": str, "reason": str, "alert": int, "summary": str,
            "insertions": int, "deletions": int, "unit": str, "fallback": int, "diff_ops": str,
        },
        pk="id",
        foreign_keys=[
            ("run_id", "runs", "id"), ("target", "targets", "name"),
            ("capture_id", "captures", "id"), ("compared_capture_id", "captures", "id"),
        ],
    )
    db["captures"].create_index(["target", "id"])
    db["captures"].create_index(["run_id"])
    db["captures"].create_index(["warc_file", "warc_offset"])
    db["exchanges"].create_index(["capture_id"])
    db["exchanges"].create_index(["warc_file"])
    db["events"].create_index(["target", "id"])
    db["events"].create_index(["run_id"])
    db.create_view(
        "capture_texts",
        "select captures.id as capture_id, captures.target, captures.started, captures.title, texts.text "
        "from captures join texts on texts.sha256 = captures.text_sha256",
    )


def _migration_2(db: sqlite_utils.Database) -> None:
    """Capture flags (truncated, disconnected, tls-unverified...) as a JSON list."""
    db["captures"].add_column("flags", str)


def _migration_3(db: sqlite_utils.Database) -> None:
    """TLS verification of the final response (1, 0, or null over plain HTTP) and the robots.txt decision."""
    db["captures"].add_column("tls_verified", int)
    db["captures"].add_column("tls_error", str)
    db["captures"].add_column("robots", str)


def _migration_4(db: sqlite_utils.Database) -> None:
    """events.delivered: 1 once an alerting event was included in a delivered alert (or shown)."""
    db["events"].add_column("delivered", int)


def _migration_5(db: sqlite_utils.Database) -> None:
    """Exchange roles (page, redirect, subresource, resource...), captures' main heading, the record of recoveries."""
    db["exchanges"].add_column("role", str)
    db["captures"].add_column("heading", str)
    db.execute("update exchanges set role = 'page'")
    db.execute(
        "update exchanges set role = 'redirect' where status between 300 and 399 and exists "
        "(select 1 from exchanges later where later.capture_id = exchanges.capture_id and later.seq > exchanges.seq)"
    )
    db["recoveries"].create(
        {
            "id": int, "run_id": str, "at": str, "action": str, "file": str, "cut_at": int,
            "bytes_removed": int, "rows_deleted": int, "aborted_run": str, "moved_to": str, "details": str,
        },
        pk="id",
    )
    db["recoveries"].create_index(["run_id"])


MIGRATIONS = [_migration_1, _migration_2, _migration_3, _migration_4, _migration_5]


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


@dataclass(frozen=True)
class StoredPayload:
    """The last response payload stored for a target (for revisit records)."""

    capture_id: int
    payload_sha1: str
    record_id: str
    uri: str
    date: str
    status: int


@dataclass(frozen=True)
class History:
    last_verdict: str | None
    good: GoodCapture | None
    payload: StoredPayload | None
    recent_verdicts: tuple[str, ...] = ()   # newest first, at most RECENT_VERDICTS


RECENT_VERDICTS = 10


@dataclass(frozen=True)
class TargetRecord:
    """What the index holds about one target, for ``lastseen status`` (times as stored: ISO 8601)."""

    last_capture: str | None = None     # when its last capture (successful or not) began
    last_status: int | None = None
    last_verdict: str | None = None
    last_reason: str | None = None
    last_good: str | None = None        # when its last good capture began
    last_run_start: str | None = None   # start of the last run that attempted it
    captures: int = 0
    consecutive_failures: int = 0       # unreachable verdicts since the last other verdict


#: Facts of a recovery with a column of their own in ``recoveries``; others go to ``details`` (JSON).
RECOVERY_COLUMNS = ("file", "cut_at", "bytes_removed", "rows_deleted", "aborted_run", "moved_to")


class CaptureStore:
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

    def abort_unfinished_runs(self) -> list[str]:
        """Mark runs a crash left without a finish as aborted; return their ids."""
        ids = [r[0] for r in self.conn.execute("select id from runs where finished is null")]
        if ids:
            with self.transaction():
                self.conn.execute("update runs set status = 'aborted' where finished is null")
        return ids

    def upsert_targets(self, rows: Iterable[dict]) -> None:
        with self.transaction():
            for row in rows:
                self.conn.execute(
                    "insert into targets (name, url, tags, first_seen, updated) values (?, ?, ?, ?, ?) "
                    "on conflict(name) do update set url = excluded.url, tags = excluded.tags, "
                    "updated = excluded.updated",
                    (row["name"], row["url"], row["tags"], row["first_seen"], row["updated"]),
                )

    # -- history --------------------------------------------------------
    def history(self, target: str) -> History:
        recent = tuple(r[0] for r in self.conn.execute(
            "select verdict from events where target = ? order by id desc limit ?", (target, RECENT_VERDICTS)
        ))
        last_verdict = recent[0] if recent else None
        good = self.conn.execute(
            "select id, text_sha256, fingerprint, kind, payload_sha256, extract_key, title, links, charset, "
            "final_url, heading "
            "from captures where target = ? and good = 1 order by id desc limit 1",
            (target,),
        ).fetchone()
        payload = self.conn.execute(
            "select id, payload_sha1, record_type, warc_record_id, refers_to_record_id, final_url, "
            "refers_to_uri, started, refers_to_date, status from captures "
            "where target = ? and record_type is not null order by id desc limit 1",
            (target,),
        ).fetchone()
        stored = None
        if payload is not None:
            cid, sha1, rtype, rid, ref_id, final_url, ref_uri, started, ref_date, status = payload
            if rtype == "revisit":
                stored = StoredPayload(cid, sha1, ref_id, ref_uri, ref_date, status)
            else:
                stored = StoredPayload(cid, sha1, rid, final_url, started, status)
        return History(last_verdict, GoodCapture(*good) if good else None, stored, recent)

    def text(self, sha256: str | None) -> str | None:
        if sha256 is None:
            return None
        with self._reading():
            row = self.conn.execute("select text from texts where sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    # -- writes ---------------------------------------------------------
    def insert_capture(self, capture: dict, exchanges: list[dict], text: tuple[str, str] | None, event: dict) -> int:
        """Insert one capture with its exchanges, text and event; call inside a transaction."""
        if text is not None:
            self.conn.execute("insert or ignore into texts (sha256, text) values (?, ?)", text)
        cid = _insert(self.conn, "captures", capture)
        for ex in exchanges:
            ex["capture_id"] = cid
            _insert(self.conn, "exchanges", ex)
        event["capture_id"] = cid
        _insert(self.conn, "events", event)
        return cid

    def forget_beyond(self, warc_file: str, end: int, *, recovery: dict | None = None) -> int:
        """Delete captures (and their rows) whose records lie past ``end`` of ``warc_file``.

        Recovery calls this when a crashed ``.open`` file is cut back, so that no
        row points at bytes that do not exist. With ``recovery`` (``run_id``,
        ``at``, ``action`` and the action's facts), the record of what recovery
        does is inserted in the same transaction, with ``rows_deleted`` set:
        committed before the file is touched, so a kill never loses it.
        Returns the number of captures removed.
        """
        with self.transaction():
            ids = [
                r[0]
                for r in self.conn.execute(
                    "select distinct capture_id from exchanges where warc_file = ? and "
                    "(response_offset + response_length > ? or request_offset + request_length > ?)",
                    (warc_file, end, end),
                )
            ]
            ids += [
                r[0]
                for r in self.conn.execute(
                    "select id from captures where warc_file = ? and warc_offset + warc_length > ?",
                    (warc_file, end),
                )
            ]
            ids = sorted(set(ids))
            for cid in ids:
                self.conn.execute("delete from events where capture_id = ? or compared_capture_id = ?", (cid, cid))
                self.conn.execute("delete from exchanges where capture_id = ?", (cid,))
                self.conn.execute("delete from captures where id = ?", (cid,))
            if recovery is not None:
                self._insert_recovery({**recovery, "rows_deleted": len(ids)})
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
        """What the index holds about each target it has seen, by name."""
        with self._reading():
            last = {
                target: (started, status, verdict, reason)
                for target, started, status, verdict, reason in self.conn.execute(
                    "select c.target, c.started, c.status, e.verdict, e.reason from captures c "
                    "join (select target, max(id) as id from captures group by target) m on m.id = c.id "
                    "left join events e on e.capture_id = c.id"
                )
            }
            runs = _last_run_starts(self.conn)
            good = dict(self.conn.execute("select target, max(started) from captures where good = 1 group by target"))
            counts = dict(self.conn.execute("select target, count(*) from captures group by target"))
            failures = dict(self.conn.execute(
                "select e.target, count(*) from events e where e.verdict = 'unreachable' and e.id > "
                "coalesce((select max(o.id) from events o where o.target = e.target "
                "and o.verdict != 'unreachable'), 0) group by e.target"
            ))
        out = {}
        for name in set(last) | set(runs) | set(counts):
            started, status, verdict, reason = last.get(name, (None, None, None, None))
            out[name] = TargetRecord(
                last_capture=started, last_status=status, last_verdict=verdict, last_reason=reason,
                last_good=good.get(name), last_run_start=runs.get(name), captures=counts.get(name, 0),
                consecutive_failures=failures.get(name, 0),
            )
        return out

    # -- alerts owed ----------------------------------------------------
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
                self.conn.execute("update events set delivered = 1 where run_id = ? and alert = 1", (run_id,))
            for eid in event_ids:
                self.conn.execute("update events set delivered = 1 where id = ?", (eid,))

    # -- reads for reports ----------------------------------------------
    def capture(self, capture_id: int | None) -> dict | None:
        if capture_id is None:
            return None
        with self._reading():
            cur = self.conn.execute("select * from captures where id = ?", (capture_id,))
            row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row)) if row else None

    def events(self, *, run_id: str | None = None, since: str | None = None) -> Iterator[dict]:
        """Events (joined with their target's tags) of one run, or since an ISO time, oldest first."""
        sql = (
            "select events.*, targets.url as target_url, targets.tags as tags, captures.started as started "
            "from events join captures on captures.id = events.capture_id "
            "left join targets on targets.name = events.target "
        )
        with self._reading():
            if run_id is not None:
                cur = self.conn.execute(sql + "where events.run_id = ? order by events.id", (run_id,))
            else:
                cur = self.conn.execute(sql + "where captures.started >= ? order by events.id", (since or "",))
            names = [c[0] for c in cur.description]
            for row in cur:
                yield dict(zip(names, row))

    @contextlib.contextmanager
    def _reading(self):
        """Translate SQLite errors of a read into a one-line :class:`ArchiveError` naming the file."""
        try:
            yield
        except sqlite3.Error as exc:
            raise ArchiveError(index_error_message(self.path, exc, "read")) from exc


def _last_run_starts(conn: sqlite3.Connection) -> dict[str, str]:
    """For each target, the start (as stored) of the last run that attempted it."""
    rows = conn.execute(
        "select captures.target, max(runs.started) from captures join runs on runs.id = captures.run_id "
        "group by captures.target"
    )
    return dict(rows)


def _connect_readonly(path: Path) -> tuple[sqlite3.Connection, int]:
    """A read-only connection to ``path`` and its ``user_version``.

    ``mode=ro`` first: it reads a WAL index while a run writes it. But a
    reader of a WAL database needs its ``-shm`` file (and a ``-wal``), and
    SQLite creates them when they are missing, which it cannot in a directory
    that is not writable (a read-only copy or mount of the archive): the first
    read fails. A cleanly closed index has neither file (the last writer
    checkpoints and deletes them), so everything is in the database file and
    ``immutable=1`` (no locks, no WAL, the file trusted not to change) reads it
    exactly; and nothing can change it while the directory is not writable. A
    ``-wal`` with content but no way to read it is refused rather than ignored.
    """
    uri = path.absolute().as_uri()

    def connect(query: str) -> tuple[sqlite3.Connection, int]:
        conn = sqlite3.connect(f"{uri}?{query}", uri=True, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA query_only=1")
            return conn, conn.execute("PRAGMA user_version").fetchone()[0]
        except BaseException:
            conn.close()
            raise

    try:
        return connect("mode=ro")
    except sqlite3.Error as exc:
        first = exc
        name = getattr(exc, "sqlite_errorname", "")
        if not name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
            raise ArchiveError(index_error_message(path, exc, "read")) from exc
    wal = path.with_name(path.name + "-wal")
    try:
        wal_size = wal.stat().st_size
    except OSError:
        wal_size = 0
    if wal_size:
        raise ArchiveError(
            f"cannot read the index {path}: its write-ahead log {wal.name} holds changes that SQLite can only "
            f"read with write access to {path.parent} or with its {path.name}-shm file ({first}); read a "
            f"writable copy of the archive (pass --archive)"
        ) from first
    try:
        return connect("immutable=1")
    except sqlite3.Error as exc:
        raise ArchiveError(index_error_message(path, first, "read")) from exc


def _newer_schema_message(path: Path, version: int) -> str:
    return (
        f"the index {path} was written by a newer lastseen (schema {version}; this lastseen {__version__} "
        f"knows schema {len(MIGRATIONS)} at most); upgrade lastseen to use this archive"
    )


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; any SQLite error becomes an :class:`ArchiveError`."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None):
        self.conn = conn
        self.path = path

    def __enter__(self):
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise ArchiveError(index_error_message(self.path, err)) from err
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return False
            except sqlite3.Error as err:
                self._rollback()
                raise ArchiveError(index_error_message(self.path, err)) from err
        self._rollback()
        if isinstance(exc, sqlite3.Error):
            raise ArchiveError(index_error_message(self.path, exc)) from exc
        return False

    def _rollback(self) -> None:
        # SQLite may already have rolled back (a full disk, an I/O error).
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass


def index_error_message(path: Path | None, err: sqlite3.Error, verb: str = "write") -> str:
    """One line: which index could not be written (or read), why, and what to do about it."""
    where = path or "the index"
    if verb == "read":
        return (
            f"cannot read the index {where}: {err}; check that it is a lastseen index and readable "
            f"(or pass --archive)"
        )
    name = getattr(err, "sqlite_errorname", "")
    if name == "SQLITE_FULL":
        return (
            f"cannot {verb} the index {where}: the disk is full ({err}); free some space on the disk "
            f"holding the archive (or move it and pass --archive) and run again: what was committed "
            f"is kept, the rest is due again"
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return (
            f"cannot {verb} the index {where}: it is not writable ({err}); fix the permissions or mount "
            f"of the archive, or choose another with --archive, and run again"
        )
    return f"cannot {verb} the index {where}: {err}; check the disk holding the archive and run again"


def _insert(conn: sqlite3.Connection, table: str, row: dict) -> int:
    keys = list(row)
    cur = conn.execute(
        f"insert into {table} ({', '.join(keys)}) values ({', '.join('?' * len(keys))})",
        [json.dumps(v) if isinstance(v, (list, tuple, dict)) else v for v in (row[k] for k in keys)],
    )
    return cur.lastrowid
