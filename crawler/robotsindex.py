"""Watched robots.txt comparisons rebuilt from the archive, for ``lastseen reindex`` (:mod:`crawler.reindex`).

No WARC record says how a robots.txt differed from the host's previous one: the run compared them
(:meth:`crawler.judge.RunJudge.close_robots`). After the captures are rebuilt,
:func:`rebuild_robots_changes` compares again, in capture order, each robots.txt capture (role
``robots``) with the last earlier one of the same URL that had an answer, against the URLs of that
host's targets fetched in the same run, exactly as the run did (:func:`crawler.robotswatch.compare_robots`),
and stores the result in ``captures.robots_changed``. Alert state is not in the WARC files: a rebuilt
change that alerts is marked delivered (``"delivered": true``), so a reindex never re-sends old alerts.
"""

from __future__ import annotations

import json

from .codings import decode_content
from .errors import ExtractError
from .judge import origin_of
from .robotswatch import compare_robots, robots_text
from .warcfiles import archived_body

__all__ = ["rebuild_robots_changes"]


def rebuild_robots_changes(job) -> None:
    """Fill ``captures.robots_changed`` of the new index (a ``reindex`` filler)."""
    robots = job.store.robots_captures()
    last: dict[str, str | None] = {}  # robots.txt URL -> the text of its last answer (status < 500)
    updates = []
    for cid, run_id, url, status, truncated, warc_file, offset, record_type, refers_to in robots:
        job.check()
        text = None
        if status is not None:
            text = robots_text(status, _body(job, status, warc_file, offset, record_type, refers_to))
        new = None if truncated else text
        change = compare_robots(last.get(url), new, _watched(job.store, run_id, origin_of(url)))
        if change:
            if change.get("alert"):
                change["delivered"] = True
            updates.append((json.dumps(change), cid))
        if status is not None and status < 500:
            last[url] = text
    job.store.set_robots_changed(updates)


def _body(job, status: int, warc_file, offset, record_type, refers_to) -> bytes | None:
    """The decoded payload of a robots.txt capture (a revisit's original); None when it cannot be read."""
    if not 200 <= status < 300:
        return b""
    where = (warc_file, offset)
    if record_type == "revisit":
        original = job.store.response_record(refers_to) if refers_to else None
        where = (original["warc_file"], original["offset"]) if original else (None, None)
    stored = archived_body(job.root, *where)
    if stored is None:
        return None
    try:
        return decode_content(stored[0], stored[2], max_size=job.settings.max_body)[0]
    except ExtractError:
        return None


def _watched(store, run_id: str, origin: str) -> list[str]:
    """The URLs of the targets of ``origin`` fetched in run ``run_id`` (what its robots.txt was held against)."""
    return [u for u in store.page_urls_of_run(run_id) if origin_of(u) == origin]
