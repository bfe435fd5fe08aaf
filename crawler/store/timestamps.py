"""Trusted timestamps of the custody chain's head (migration 17): mixed into :class:`~crawler.store.CaptureStore`.

``timestamps`` holds one row per attempt to time-stamp a head (:mod:`crawler.timestamps`): granted and
checked (``status`` ``ok``, ``token`` the DER ``TimeStampResp``) or not (``failed``, ``error``). The
functions taking a connection serve ``lastseen verify`` too, which may hold a bare read-only connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

__all__ = ["TimestampQueries", "custody_hash_at", "granted_tokens"]

_COLUMNS = (
    "id",
    "run_id",
    "seq",
    "sha256",
    "authority",
    "requested",
    "status",
    "gen_time",
    "serial",
    "token",
    "token_file",
    "ca_file",
    "error",
)


def _has_table(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "select 1 from sqlite_master where type = 'table' and name = 'timestamps'"
        ).fetchone()
        is not None
    )


def granted_tokens(conn: sqlite3.Connection) -> list[dict]:
    """Every granted token (status ``ok``), oldest first; none in an index older than migration 17."""
    if not _has_table(conn):
        return []
    rows = conn.execute(
        f"select {', '.join(_COLUMNS)} from timestamps where status = 'ok' order by id"
    )
    return [dict(zip(_COLUMNS, row)) for row in rows]


def custody_hash_at(conn: sqlite3.Connection, seq: int) -> str | None:
    """The ``sha256`` of custody entry ``seq``, None when there is none."""
    row = conn.execute("select sha256 from custody where seq = ?", (seq,)).fetchone()
    return row[0] if row else None


class TimestampQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``)."""

    def add_timestamp(self, row: Mapping) -> None:
        """Record one attempt (its own transaction)."""
        with self.transaction():
            names = [c for c in _COLUMNS if c != "id" and c in row]
            self.conn.execute(
                f"insert into timestamps ({', '.join(names)}) values ({', '.join('?' * len(names))})",
                [row[c] for c in names],
            )

    def head_token(self, seq: int, sha256: str) -> dict | None:
        """The granted token of the head ``seq`` / ``sha256``, None when it has none."""
        row = self.conn.execute(
            f"select {', '.join(_COLUMNS)} from timestamps where seq = ? and sha256 = ? "
            f"and status = 'ok' order by id limit 1",
            (seq, sha256),
        ).fetchone()
        return dict(zip(_COLUMNS, row)) if row else None

    def head_timestamp(self, seq: int, sha256: str) -> dict | None:
        """What became of the head ``seq`` / ``sha256``'s time-stamp (a report's footer): its granted token, else
        the last failed attempt, else None (never tried, or an index older than migration 17)."""
        if not _has_table(self.conn):
            return None
        row = self.conn.execute(
            f"select {', '.join(_COLUMNS)} from timestamps where seq = ? and sha256 = ? "
            f"order by status = 'ok' desc, id desc limit 1",
            (seq, sha256),
        ).fetchone()
        return dict(zip(_COLUMNS, row)) if row else None

    def granted_tokens(self) -> list[dict]:
        return granted_tokens(self.conn)
