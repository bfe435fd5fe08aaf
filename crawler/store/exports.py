"""Reads for ``lastseen export`` (:mod:`crawler.export`): the captures chosen, their exchanges' records,
the custody log's ``capture`` entries that list every record written for them, and an event's captures."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from ..custody import entry_captures
from .custody import ROWS as _CUSTODY_ROWS

_CAPTURE_COLUMNS = (
    "captures.id, captures.run_id, captures.target, captures.url, captures.final_url, captures.started, "
    "captures.status, captures.title, captures.role, captures.warc_file, captures.warc_offset, "
    "captures.warc_length, captures.warc_record_id, captures.record_type, captures.refers_to_record_id, "
    "captures.text_sha256, targets.tags"
)


class ExportQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``, ``self._reading``)."""

    def _rows(self, sql: str, args: Sequence = ()) -> list[dict]:
        with self._reading():
            cur = self.conn.execute(sql, tuple(args))
            names = [c[0] for c in cur.description]
            return [dict(zip(names, row)) for row in cur]

    def captures_started(self, start: str, end: str) -> list[dict]:
        """Captures whose start (ISO 8601 UTC as stored) is in ``[start, end)``, by id, with their target's tags.

        Stored starts carry seconds, microseconds or neither: compared as text after the bounds are cut to
        their seconds (the caller checks the exact instant)."""
        return self._rows(
            f"select {_CAPTURE_COLUMNS} from captures left join targets on targets.name = captures.target "
            # (`+`: sorted after, so that they are found by the index of starts, never by reading every capture)
            "where captures.started >= ? and captures.started <= ? order by +captures.id",
            (start[:19], end[:19] + "~"),
        )

    def captures_by_id(self, ids: Iterable[int]) -> list[dict]:
        """The captures of these ids (those the index holds), by id, with their target's tags."""
        wanted = sorted(set(ids))
        out: list[dict] = []
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            out += self._rows(
                f"select {_CAPTURE_COLUMNS} from captures left join targets on targets.name = captures.target "
                f"where captures.id in ({', '.join('?' * len(chunk))}) order by captures.id",
                chunk,
            )
        return out

    def exchange_records(self, capture_ids: Iterable[int]) -> dict[int, list[dict]]:
        """Each capture's exchanges' records (``warc_file``, ``offset``, ``length``, ``type``) by capture id."""
        wanted = sorted(set(capture_ids))
        out: dict[int, list[dict]] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            for row in self._rows(
                "select capture_id, warc_file, response_offset, response_length, record_type, request_offset, "
                "request_length from exchanges "
                f"where capture_id in ({', '.join('?' * len(chunk))}) order by capture_id, seq",
                chunk,
            ):
                records = out.setdefault(row["capture_id"], [])
                if row["response_offset"] is not None and row["response_length"]:
                    records.append(
                        {
                            "warc_file": row["warc_file"],
                            "offset": row["response_offset"],
                            "length": row["response_length"],
                            "type": row["record_type"],
                        }
                    )
                if row["request_offset"] is not None and row["request_length"]:
                    records.append(
                        {
                            "warc_file": row["warc_file"],
                            "offset": row["request_offset"],
                            "length": row["request_length"],
                            "type": "request",
                        }
                    )
        return out

    def capture_entries(self, warc_files: Iterable[str]) -> list[dict]:
        """What every ``capture`` entry of the custody log whose records are in these files says of each capture it
        lists (:func:`crawler.custody.entry_captures`: a ``"v": 3`` entry lists a commit's captures)."""
        files = sorted(set(warc_files))
        out: list[dict] = []
        for i in range(0, len(files), 500):
            chunk = files[i : i + 500]
            rows = self._custody_rows(
                f"{_CUSTODY_ROWS} where c.kind = 'capture' and json_extract(c.content, '$.warc_file') "
                f"in ({', '.join('?' * len(chunk))}) order by c.seq",
                chunk,
            )
            for entry in self._whole(rows):  # a content kept only in the copy read from its line (#17)
                out.extend(entry_captures(entry["content"]))
        return out

    def event_captures(self, run_id: str, target: str) -> dict | None:
        """Target ``target``'s event in run ``run_id`` (its last, if it had more): its id, verdict, the capture
        it judged, the one it was compared with and a re-fetch's first capture (``evidence.first_capture``)."""
        event = self.event_row(run_id, target)
        if event is None:
            return None
        row = {k: event[k] for k in ("id", "verdict", "capture_id", "compared_capture_id")}
        try:
            evidence = json.loads(event["evidence"] or "{}")
        except ValueError:
            evidence = {}
        row["first_capture_id"] = (
            evidence.get("first_capture") if isinstance(evidence, dict) else None
        )
        return row
