"""A capture's row in ``capture_rows`` (schema 20, #17): only what is its own.

The ``captures`` view (:func:`crawler.store.schema.captures_view_sql`) reads back what a row leaves null:
what it repeats of the exchange holding its record (:data:`~crawler.store.schema.RECORD_COLUMNS`, that
exchange named by ``record_seq``) and what an unchanged recapture shares with the capture whose extraction
it reused (:data:`~crawler.store.schema.REUSED_COLUMNS`, that capture named by ``reused``), and what a
revisit repeats of the response it refers to (:data:`~crawler.store.schema.REFERS_COLUMNS`, that response's
exchange named by ``refers_exchange``). Each group is
left null only when every one of its values is equal to the other row's, so the view reads what a whole row
held.
"""

from __future__ import annotations

import json

from .schema import RECORD_COLUMNS, REFERS_COLUMNS, REUSED_COLUMNS

#: The tables that hold the rows of views, by the view's name.
TABLES = {"captures": "capture_rows"}


def stored(value):
    """A value as it is stored (lists and objects as JSON: :func:`crawler.store.sqlite._insert`)."""
    return json.dumps(value) if isinstance(value, (list, tuple, dict)) else value


def record_columns(row: dict, exchanges: list[dict]) -> dict:
    """``row`` with the columns it repeats of the exchange whose response (or revisit) record is its record
    null and ``record_seq`` that exchange's, when they all are equal to that exchange's; else with its own
    (``record_seq`` null)."""
    record_id = row.get("warc_record_id")
    ex = next((ex for ex in exchanges if record_id is not None and ex.get("response_record_id") == record_id), None)
    if ex is None or any(stored(row.get(k)) != stored(ex.get(x)) for k, x in RECORD_COLUMNS.items()):
        return {**row, "record_seq": None}
    return {**row, **dict.fromkeys(RECORD_COLUMNS), "record_seq": ex["seq"]}


class CaptureRowQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``)."""

    def capture_row(self, capture: dict, exchanges: list[dict]) -> dict:
        """The ``capture_rows`` row of ``capture`` (a judged capture's columns, ``reused`` the id of the
        capture whose extraction it reused, if any) and its ``exchanges``."""
        return record_columns(self._refers_columns(self._reused_columns(capture)), exchanges)

    def _refers_columns(self, row: dict) -> dict:
        """``row`` with what it repeats of the response its revisit record refers to null and
        ``refers_exchange`` that response's exchange, when they all are equal to that exchange's; else with its
        own (``refers_exchange`` null)."""
        record_id = row.get("refers_to_record_id")
        held = None if record_id is None else self.conn.execute(
            "select id, response_record_id, url, started from exchanges where response_record_id = ? "
            "and record_type = 'response' order by id limit 1", (record_id,)).fetchone()
        if held is None or list(held[1:]) != [stored(row.get(k)) for k in REFERS_COLUMNS]:
            return {**row, "refers_exchange": None}
        return {**row, **dict.fromkeys(REFERS_COLUMNS), "refers_exchange": held[0]}

    def _reused_columns(self, capture: dict) -> dict:
        """``capture`` with the columns it shares with the capture it reused null and ``reused`` the row that
        holds them (the first of a chain of reuses), when they are all equal to that row's; else with its own
        (``reused`` null)."""
        reused = capture.get("reused")
        row = {**capture, "reused": None}
        if reused is None:
            return row
        held = self.conn.execute(
            f"select coalesce(reused, id), {', '.join(REUSED_COLUMNS)} from captures where id = ?", (reused,)
        ).fetchone()
        if held is None or list(held[1:]) != [stored(capture.get(k)) for k in REUSED_COLUMNS]:
            return row
        return {**row, **dict.fromkeys(REUSED_COLUMNS), "reused": held[0]}
