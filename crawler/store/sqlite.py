"""SQLite underneath the index: connections, transactions, and errors translated into one line.

Every ``sqlite3.Error`` lastseen meets becomes an :class:`~crawler.errors.ArchiveError`
whose message names the file and says what to do (free space, fix permissions,
``lastseen reindex`` for a damaged index).
"""

from __future__ import annotations

import json
import shlex
import sqlite3
from pathlib import Path

from .. import __version__
from ..errors import ArchiveError
from .schema import MIGRATIONS


def _last_run_starts(conn: sqlite3.Connection) -> dict[str, str]:
    """For each target, the start (as stored) of the last run that attempted it: the run of its last capture,
    found by the ``(target, id)`` index (not a read of every capture)."""
    rows = conn.execute(
        "select t.name, runs.started from targets t join runs on runs.id = "
        "(select run_id from captures where target = t.name order by id desc limit 1)"
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
    if is_damaged(err):
        return damaged_index_message(where, err)
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


def is_damaged(err: BaseException) -> bool:
    """Whether SQLite says the index file itself is damaged (corrupt pages, not a database)."""
    name = getattr(err, "sqlite_errorname", "") or ""
    text = str(err).lower()
    return (name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB"
            or "malformed" in text or "not a database" in text)


def damaged_index_message(path: Path | str, err: BaseException) -> str:
    """One line for a damaged index: which file, and how to rebuild it (or restore it)."""
    path = Path(path)
    archive = shlex.quote(str(path.parent))
    return (
        f"the index {path} is damaged ({err}); lastseen repairs nothing on its own. The WARC files are the "
        f"evidence and the index can be rebuilt from them: run `lastseen reindex --archive {archive}` (it keeps "
        f"the damaged file as {path.name}.broken-<time>), or restore {path.name} from a backup"
    )


def _insert(conn: sqlite3.Connection, table: str, row: dict) -> int:
    keys = list(row)
    cur = conn.execute(
        f"insert into {table} ({', '.join(keys)}) values ({', '.join('?' * len(keys))})",
        [json.dumps(v) if isinstance(v, (list, tuple, dict)) else v for v in (row[k] for k in keys)],
    )
    return cur.lastrowid
