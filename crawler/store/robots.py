"""Queries of watched robots.txt files (:mod:`crawler.robotswatch`): mixed into :class:`~crawler.store.CaptureStore`.

A robots.txt fetched by ``settings.watch_robots`` is a capture with role ``robots`` (never a
target's: no event). ``captures.robots_changed`` (migration 14) holds, as JSON, how it differed
from the host's previous one (:func:`crawler.robotswatch.compare_robots`), null when it did not.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

__all__ = ["RobotsQueries"]


class RobotsQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``)."""

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
