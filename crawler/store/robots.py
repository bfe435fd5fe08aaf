"""Queries of watched robots.txt files (:mod:`crawler.robotswatch`): mixed into :class:`~crawler.store.CaptureStore`.

A robots.txt fetched by ``settings.watch_robots`` is a capture with role ``robots`` (never a
target's: no event). ``captures.robots_changed`` (migration 14) holds, as JSON, how it differed
from the host's previous one (:func:`crawler.robotswatch.compare_robots`), null when it did not.
A change that alerts and was told (the run's alert message left, or the CLI printed it) gets
``"delivered": true`` in that JSON; one found by a run that never finished is carried into the next
run's message until then, like an event's alert.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

__all__ = ["RobotsQueries"]


class RobotsQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``)."""

    def robots_captures(self) -> list[tuple]:
        """Every robots.txt capture, oldest first (``reindex`` compares them again): ``(id, run_id, url,
        status, truncated, warc_file, warc_offset, record_type, refers_to_record_id)``."""
        return self.conn.execute(
            "select id, run_id, url, status, truncated, warc_file, warc_offset, record_type, refers_to_record_id "
            "from captures where role = 'robots' order by +id"   # (`+`: found by their index, then sorted)
        ).fetchall()

    def page_urls_of_run(self, run_id: str) -> list[str]:
        """The distinct URLs of the pages run ``run_id`` captured, in capture order."""
        rows = self.conn.execute(
            "select distinct url from captures where run_id = ? and role = 'page' order by id", (run_id,)
        ).fetchall()
        return [url for (url,) in rows if url]

    def set_robots_changed(self, updates: list[tuple[str, int]]) -> None:
        """Set ``captures.robots_changed`` from ``(change JSON, capture id)`` pairs, in one transaction."""
        with self.transaction():
            self.conn.executemany("update capture_rows set robots_changed = ? where id = ?", updates)

    def last_robots(self, url: str, *, before_run: str) -> SimpleNamespace | None:
        """The last robots.txt capture of ``url`` from an earlier run that had an answer (a 5xx or none is
        skipped): its status and where its payload is archived."""
        row = self.conn.execute(
            "select status, warc_file, warc_offset, record_type, refers_to_record_id from captures "
            "where role = 'robots' and url = ? and run_id != ? and status is not null and status < 500 "
            "order by id desc limit 1",
            (url, before_run),
        ).fetchone()
        if row is None:
            return None
        return SimpleNamespace(
            status=row[0],
            warc_file=row[1],
            warc_offset=row[2],
            record_type=row[3],
            refers_to_record_id=row[4],
        )

    def robots_alerts(self, run_id: str) -> list[tuple[str, dict]]:
        """The robots.txt of run ``run_id`` that newly shut archive crawlers out of watched paths: (url, change)."""
        rows = self.conn.execute(
            "select url, robots_changed from captures where run_id = ? and role = 'robots' "
            "and robots_changed is not null order by id",
            (run_id,),
        ).fetchall()
        out = []
        for url, changed in rows:
            change = json.loads(changed)
            if change.get("alert"):
                out.append((url, change))
        return out

    def owed_robots_alerts(self, exclude_run: str) -> list[dict]:
        """Robots.txt alerts of runs that never finished (killed, interrupted, failed), not yet delivered:
        ``{"id", "run_id", "url", "change"}``, oldest first."""
        rows = self.conn.execute(
            "select captures.id, captures.run_id, captures.url, captures.robots_changed from captures "
            "join runs on runs.id = captures.run_id "
            "where captures.role = 'robots' and captures.robots_changed is not null and captures.run_id != ? "
            "and runs.status in ('interrupted', 'aborted', 'failed') "
            "and json_extract(captures.robots_changed, '$.alert') "
            "and json_extract(captures.robots_changed, '$.delivered') is null order by captures.id",
            (exclude_run,),
        ).fetchall()
        return [{"id": i, "run_id": run, "url": url, "change": json.loads(changed)} for i, run, url, changed in rows]

    def mark_robots_delivered(self, *, run_id: str | None = None, capture_ids: list[int] = ()) -> None:
        """Robots.txt alerts told: those of run ``run_id`` and the captures ``capture_ids``."""
        args = []
        with self.transaction():
            rows = []
            if run_id is not None:
                rows += self.conn.execute(
                    "select id, robots_changed from captures where run_id = ? and role = 'robots' "
                    "and json_extract(robots_changed, '$.alert')", (run_id,)).fetchall()
            for cid in capture_ids:
                rows += self.conn.execute("select id, robots_changed from captures where id = ?", (cid,)).fetchall()
            for cid, changed in rows:
                change = json.loads(changed)
                change["delivered"] = True  # written as the judge writes it (json.dumps)
                args.append((json.dumps(change), cid))
            self.conn.executemany("update capture_rows set robots_changed = ? where id = ?", args)
