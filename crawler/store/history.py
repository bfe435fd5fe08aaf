"""Reads for the archive's front page and target history pages (:mod:`crawler.report.history`)."""

from __future__ import annotations

from collections.abc import Iterable

#: A history row: the event (verdict, the capture it judged and the one it was compared with) and its capture.
_TIMELINE = (
    "select events.id as event_id, events.run_id, events.verdict, events.reason, events.alert, events.summary, "
    "events.capture_id, events.compared_capture_id, events.diff_ops is not null and events.diff_ops != '' as has_diff, "
    "captures.started, captures.status, captures.payload_length, captures.warc_file, captures.warc_offset, "
    "captures.warc_record_id, captures.record_type, captures.text_sha256 is not null as has_text "
    "from events join captures on captures.id = events.capture_id where events.target = ? "
)


class HistoryQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``, ``self._reading``)."""

    def has_target(self, name: str) -> bool:
        """Whether the index has a ``targets`` row named ``name``."""
        return self.conn.execute("select 1 from targets where name = ?", (name,)).fetchone() is not None

    def event_count(self, target: str) -> int:
        """How many events (captures judged) target ``target`` has."""
        with self._reading():  # the table's index alone (the view joins each row to its previous one)
            return self.conn.execute(
                "select count(*) from event_rows where target = ?", (target,)
            ).fetchone()[0]

    def timeline(self, target: str, *, offset: int, limit: int) -> list[dict]:
        """Events ``offset`` to ``offset + limit`` of ``target``, oldest first, with their captures.

        The first one found by the ``(target, id)`` index alone, then ``limit`` rows from it: an offset in the
        query of the rows themselves read every row before it through the views (a year of daily captures:
        300 rows a target, to write the newest page's 65; #17)."""
        with self._reading():
            first = self.conn.execute("select id from event_rows where target = ? order by id limit 1 offset ?",
                                      (target, offset)).fetchone()
            if first is None:
                return []
            cur = self.conn.execute(
                _TIMELINE + "and events.id >= ? order by events.id limit ?",
                (target, first[0], limit),
            )
            names = [c[0] for c in cur.description]
            return [dict(zip(names, row)) for row in cur]

    def run_page_events(
        self, run_id: str
    ) -> list[tuple[int, str, str, str | None, bool]]:
        """Run ``run_id``'s events, oldest first, as (id, target, verdict, reason, has a diff): what names
        their report pages; not the diffs themselves (a large run's would all be held at once)."""
        with self._reading():
            return [
                (row[0], row[1], row[2], row[3], bool(row[4]))
                for row in self.conn.execute(
                    "select id, target, verdict, reason, diff_ops is not null and diff_ops != '' "
                    "from events where run_id = ? order by id",
                    (run_id,),
                )
            ]

    def last_events(self) -> dict[str, dict]:
        """Every target's latest event (verdict, reason, alert, capture time), by target name; targets
        without any are left out. One statement: a lookup in the ``(target, id)`` index per target."""
        sql = (
            "select targets.name, events.verdict, events.reason, events.alert, captures.started from targets "
            "join events on events.id = (select max(id) from events where events.target = targets.name) "
            "join captures on captures.id = events.capture_id"
        )
        keys = ("verdict", "reason", "alert", "started")
        with self._reading():
            return {row[0]: dict(zip(keys, row[1:])) for row in self.conn.execute(sql)}

    def listed_runs(self) -> list[dict]:
        """Runs that had something due, oldest first (``id``, ``started``, ``finished``, ``status``)."""
        with self._reading():
            cur = self.conn.execute(
                "select id, started, finished, status from runs where targets_due > 0 "
                "order by started, id"
            )
            return [
                dict(zip(("id", "started", "finished", "status"), row)) for row in cur
            ]

    def run_counts(self, run_ids: Iterable[str]) -> dict[str, dict]:
        """Per run: ``verdicts`` (verdict → events), ``events`` and ``alerts``."""
        counts: dict[str, dict] = {}
        sql = "select verdict, count(*), sum(alert) from events where run_id = ? group by verdict"
        with self._reading():
            for run_id in run_ids:
                rows = self.conn.execute(sql, (run_id,)).fetchall()
                counts[run_id] = {
                    "verdicts": {v: n for v, n, _ in rows},
                    "events": sum(n for _, n, _ in rows),
                    "alerts": sum(a or 0 for _, _, a in rows),
                }
        return counts

    def listing_item_targets(self, listing: str) -> list[tuple[str, str]]:
        """(name, url) of the items of listing ``listing`` the index knows (``LISTING/KEY``), by name."""
        with self._reading():
            cur = self.conn.execute(
                "select name, url from targets where name > ? and name < ? order by name",
                (f"{listing}/", f"{listing}0"),
            )
            return [(name, url) for name, url in cur]
