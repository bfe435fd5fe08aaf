"""A capture's row in ``capture_rows`` (schema 20, #17): only what is its own.

The ``captures`` view (:func:`crawler.store.schema.captures_view_sql`) reads back what a row leaves null:
what it repeats of the exchange holding its record (:data:`~crawler.store.schema.RECORD_COLUMNS`, that
exchange named by ``record_seq``) and what an unchanged recapture shares with the capture whose extraction
it reused (:data:`~crawler.store.schema.REUSED_COLUMNS`, that capture named by ``reused``), and what a
revisit repeats of the response it refers to (:data:`~crawler.store.schema.REFERS_COLUMNS`, that response's
exchange named by ``refers_exchange``). Each group is
left null only when every one of its values is equal to the other row's, so the view reads what a whole row
held.

An exchange's row in ``exchange_rows`` (schema 21) likewise: its WARC file as the id of its ``warc_files`` row,
and a revisit's URL and payload (:data:`~crawler.store.schema.EXCHANGE_REFERS_COLUMNS`) null when an earlier
``response`` exchange of that URL and payload holds them (``refers``); the ``exchanges`` view reads them back.
An event's row in ``event_rows`` leaves what it repeats of its target's previous event
(:data:`~crawler.store.schema.EVENT_SAME_COLUMNS`: an unchanged verdict's summary and evidence) null, ``same_as``
naming the event that holds it; the ``events`` view reads it back.
"""

from __future__ import annotations

import json

from .schema import EVENT_SAME_COLUMNS, EXCHANGE_REFERS_COLUMNS, RECORD_COLUMNS, REFERS_COLUMNS, REUSED_COLUMNS

#: The tables that hold the rows of views, by the view's name.
TABLES = {"captures": "capture_rows", "exchanges": "exchange_rows", "events": "event_rows"}


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
            "select id, response_record_id, url, started from exchange_rows where response_record_id = ? "
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

    def exchange_row(self, exchange: dict) -> dict:
        """The ``exchange_rows`` row of ``exchange`` (an ``exchanges`` row's columns): its WARC file's id
        (a ``warc_files`` row added for a new path), and a revisit's URL and payload null when a ``response``
        exchange of that URL and payload holds them all (``refers`` its id; else null, the row holding its own)."""
        row = {k: v for k, v in exchange.items() if k != "warc_file"}
        row["warc_file_id"] = self._warc_file_id(exchange.get("warc_file"))
        row["refers"] = None
        url, sha1 = exchange.get("url"), exchange.get("payload_sha1")
        if exchange.get("record_type") in (None, "response") or url is None or sha1 is None:
            return row
        held = self.conn.execute(  # by the partial (url, payload_sha1) index of response records
            "select id, payload_sha256, payload_length from exchange_rows where url = ? and payload_sha1 = ? "
            "and record_type = 'response' order by id limit 1", (url, sha1)).fetchone()
        if held is None or list(held[1:]) != [stored(exchange.get(k)) for k in EXCHANGE_REFERS_COLUMNS[2:]]:
            return row
        return {**row, **dict.fromkeys(EXCHANGE_REFERS_COLUMNS), "refers": held[0]}

    def event_row_of(self, event: dict) -> dict:
        """The ``event_rows`` row of ``event`` (an ``events`` row's columns): its summary and evidence null and
        ``same_as`` the event that holds them (the first of a chain), when its target's previous event has
        them equal, not both null; else with its own (``same_as`` null)."""
        row = {**event, "same_as": None}
        mine = [stored(event.get(k)) for k in EVENT_SAME_COLUMNS]
        if event.get("target") is None or all(v is None for v in mine):
            return row
        held = self.conn.execute(  # by the events' (target, id) index
            "select coalesce(e.same_as, e.id), coalesce(e.summary, s.summary), coalesce(e.evidence, s.evidence) "
            "from event_rows e left join event_rows s on s.id = e.same_as where e.target = ? "
            "order by e.id desc limit 1", (event["target"],)).fetchone()
        if held is None or list(held[1:]) != mine:
            return row
        return {**row, **dict.fromkeys(EVENT_SAME_COLUMNS), "same_as": held[0]}

    def _warc_file_id(self, path: str | None) -> int | None:
        """The id of WARC file ``path``'s ``warc_files`` row, added if it has none."""
        if path is None:
            return None
        found = self.conn.execute("select id from warc_files where path = ?", (path,)).fetchone()
        if found is not None:
            return found[0]
        return self.conn.execute("insert into warc_files (path) values (?)", (path,)).lastrowid
