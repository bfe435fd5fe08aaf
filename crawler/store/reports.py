"""Reads for the HTML reports: a capture, the events of a run or a window, a capture's screenshot and DOM records."""

from __future__ import annotations

from array import array
from collections.abc import Iterator

#: ``exchanges.url`` of a capture's full-page screenshot (a ``resource`` record): ``urn:screenshot:<page url>``.
SCREENSHOT_URN = "urn:screenshot:"
#: ... and of its rendered DOM: ``urn:dom:<page url>``.
DOM_URN = "urn:dom:"


class ReportQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``, ``self._reading``)."""

    def capture(self, capture_id: int | None) -> dict | None:
        if capture_id is None:
            return None
        with self._reading():
            cur = self.conn.execute("select * from captures where id = ?", (capture_id,))
            row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row)) if row else None

    def events(self, *, run_id: str | None = None, since: str | None = None,
               until: str | None = None) -> Iterator[dict]:
        """Events (joined with their target's tags) of one run, or captured at ``since`` or later and before
        ``until`` (ISO times, compared as stored strings: ``started`` holds microseconds), oldest first."""
        columns = "select events.*, targets.url as target_url, targets.tags as tags, captures.started as started "
        tags = "left join targets on targets.name = events.target "
        with self._reading():
            if run_id is not None:
                cur = self.conn.execute(
                    columns + "from events join captures on captures.id = events.capture_id " + tags
                    + "where events.run_id = ? order by events.id", (run_id,))
            else:
                # captures first (CROSS JOIN keeps SQLite's order): --since picks them by the index of their
                # start, then each one's event by its capture id; events first would read every event
                cur = self.conn.execute(
                    columns + "from captures cross join events on events.capture_id = captures.id " + tags
                    + "where captures.started >= ? and captures.started < ? order by events.id",
                    (since or "", until or "\uffff"))
            names = [c[0] for c in cur.description]
            for row in cur:
                yield dict(zip(names, row))

    def capture_rows(self, ids: list[int], columns: tuple[str, ...] | None = None) -> dict[int, dict]:
        """The ``captures`` rows of ``ids`` (as :meth:`capture` gives each), by id; a few hundred at a time.
        ``columns``: only these (``id`` among them; names of the view's columns, never user input): the view
        computes only what is read, a ninth of the time for a report index's few (#17)."""
        out: dict[int, dict] = {}
        ids = sorted(set(ids))
        selected = "*" if columns is None else ", ".join(columns)
        for at in range(0, len(ids), 500):
            part = ids[at:at + 500]
            with self._reading():
                cur = self.conn.execute(f"select {selected} from captures where id in ({','.join('?' * len(part))})",
                                        part)
                names = [c[0] for c in cur.description]
                for row in cur:
                    found = dict(zip(names, row))
                    out[found["id"]] = found
        return out

    def run_events(self, run_id: str, order: dict[str, int], *, chunk: int = 256) -> Iterator[dict]:
        """The events of run ``run_id`` as :meth:`events` gives them, in ``order`` (target name -> position;
        targets not in it last; the order they were recorded within a position), read ``chunk`` rows at a
        time: a run of 100,000 targets holds their ids, not their rows (#17)."""
        # Each event as one int, its position above its id (sorted: by position, then as recorded), the
        # target names let go as they are read; then the ids alone in an array of 8 bytes each.
        last = len(order)
        with self._reading():
            (top,) = self.conn.execute("select coalesce(max(id), 0) from events where run_id = ?",
                                       (run_id,)).fetchone()
            shift = top.bit_length()
            keys = [order.get(target, last) << shift | event_id for event_id, target in self.conn.execute(
                "select id, target from events where run_id = ?", (run_id,))]
        keys.sort()
        ids = array("q", (key & ((1 << shift) - 1) for key in keys))
        del keys
        columns = ("select events.*, targets.url as target_url, targets.tags as tags, captures.started as started "
                   "from events join captures on captures.id = events.capture_id "
                   "left join targets on targets.name = events.target where events.id in ")
        for at in range(0, len(ids), chunk):
            part = ids[at:at + chunk].tolist()
            with self._reading():
                cur = self.conn.execute(columns + f"({','.join('?' * len(part))})", part)
                names = [c[0] for c in cur.description]
                rows = {row[0]: dict(zip(names, row)) for row in cur}
            for event_id in part:
                yield rows.pop(event_id)

    def run_target_events(self, run_id: str, targets: list[str]) -> list[dict]:
        """The events of ``targets`` in run ``run_id`` as :meth:`events` gives them (a few hundred targets at most:
        those the archive's page writer is handed at once, :mod:`crawler.report.runstream`), as recorded."""
        out: list[dict] = []
        for at in range(0, len(targets), 500):
            part = targets[at:at + 500]
            with self._reading():
                cur = self.conn.execute(
                    "select events.*, targets.url as target_url, targets.tags as tags, captures.started as started "
                    "from events join captures on captures.id = events.capture_id "
                    "left join targets on targets.name = events.target "
                    f"where events.target in ({','.join('?' * len(part))}) and events.run_id = ?", [*part, run_id])
                names = [c[0] for c in cur.description]
                out += [dict(zip(names, row)) for row in cur]
        out.sort(key=lambda row: row["id"])
        return out

    def event_row(self, run_id: str, target: str) -> dict | None:
        """The ``events`` row of ``target`` in run ``run_id`` (a run captures a target once), or None."""
        with self._reading():
            cur = self.conn.execute(
                "select * from events where run_id = ? and target = ? order by id desc limit 1", (run_id, target))
            row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row)) if row else None

    def target_tags(self) -> dict[str, list[str]]:
        """Every target the index has seen (in the watchlist or no longer), by name: its tags."""
        import json

        with self._reading():
            rows = self.conn.execute("select name, tags from targets order by name").fetchall()
        return {name: list(json.loads(tags or "[]")) for name, tags in rows}

    def screenshot(self, capture_id: int | None) -> dict | None:
        """Where capture ``capture_id``'s screenshot record is, or None when it has none (HTTP captures).

        A dict of ``warc_file`` (relative to the archive root), ``offset`` and
        ``length`` (the record's gzip member) and ``record_id``.
        """
        return self._resource(capture_id, SCREENSHOT_URN)

    def rendered_dom(self, capture_id: int | None) -> dict | None:
        """Where a browser capture's rendered DOM record is (as :meth:`screenshot`), or None."""
        return self._resource(capture_id, DOM_URN)

    def _resource(self, capture_id: int | None, urn: str) -> dict | None:
        if capture_id is None:
            return None
        with self._reading():
            cur = self.conn.execute(
                "select warc_file, response_offset as offset, response_length as length, "
                "response_record_id as record_id from exchanges where capture_id = ? and role = 'resource' "
                "and substr(url, 1, ?) = ? order by seq, id limit 1",
                (capture_id, len(urn), urn),
            )
            row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row)) if row else None
