"""What a report shows, assembled from the index: report events and ``lastseen report``.

:func:`report_events` turns ``events`` rows into :class:`~crawler.report.render.ReportEvent`
view-models (texts and diffs loaded one event at a time, only where shown);
:func:`write_run_report` writes a run's report and :func:`build_report` the
report of a time window (``lastseen report --since``). Change what the report
shows here and in :mod:`crawler.report.render` and its templates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from ..diff import Diff
from ..formatting import iso, parse_iso
from ..store import CaptureStore
from ..verdicts import facts
from ..watchlist import Settings
from .render import CaptureView, ReportEvent, write_report

DEFAULT_MAX_PAGE = Settings().max_report_page

__all__ = ["build_report", "capture_view", "report_events", "write_run_report"]


def capture_view(row: dict | None) -> CaptureView | None:
    """A ``captures`` row as the report shows it."""
    if row is None:
        return None
    return CaptureView(
        id=row["id"], url=row["url"], final_url=row["final_url"], status=row["status"],
        status_chain=tuple(json.loads(row["status_chain"] or "[]")),
        started=parse_iso(row["started"]),
        warc_file=row["warc_file"], warc_offset=row["warc_offset"], warc_record_id=row["warc_record_id"],
        record_type=row["record_type"], payload_sha256=row["payload_sha256"], title=row["title"],
        error=row["error"],
        tls_verified=None if row.get("tls_verified") is None else bool(row["tls_verified"]),
        tls_error=row.get("tls_error"), flags=tuple(json.loads(row.get("flags") or "[]")),
    )


def report_events(store: CaptureStore, rows: Iterable[dict]) -> Iterator[ReportEvent]:
    """The report's events from index rows (texts loaded only where shown)."""
    for row in rows:
        current = store.capture(row["capture_id"])
        compared = store.capture(row["compared_capture_id"]) if row["compared_capture_id"] else None
        diff = None
        old_text = new_text = None
        if facts(row["verdict"], row["reason"]).detail or row["diff_ops"]:
            if row["diff_ops"]:
                diff = Diff.ops_from_json(
                    json.loads(row["diff_ops"]), unit=row["unit"], fallback=bool(row["fallback"])
                )
            old_text = store.text(compared["text_sha256"]) if compared else None
            new_text = store.text(current["text_sha256"])
        yield ReportEvent(
            target=row["target"], url=row["target_url"] or current["url"],
            tags=tuple(json.loads(row["tags"] or "[]")), verdict=row["verdict"], reason=row["reason"],
            alert=bool(row["alert"]), summary=row["summary"] or "", current=capture_view(current),
            compared=capture_view(compared), diff=diff, old_text=old_text, new_text=new_text,
        )


def write_run_report(
    store: CaptureStore, run_id: str, out_dir: Path, *, started: datetime, finished: datetime,
    generated: datetime, order: dict[str, int] | None = None, max_page: int | None = None,
) -> Path:
    """Write the report of run ``run_id``; events in ``order`` (target name → position) when given."""
    rows = store.events(run_id=run_id)
    if order:
        # Sort the light index rows (no texts) first; texts load one event at a time.
        rows = sorted(rows, key=lambda r: order.get(r["target"], len(order)))
    return write_report(
        out_dir, title=f"lastseen run {run_id}", run_id=run_id, started=started, finished=finished,
        events=report_events(store, rows), generated=generated, max_page=max_page,
    )


def build_report(store: CaptureStore, out_dir: Path, *, since: timedelta, now: Callable[[], datetime],
                 max_page: int | None = DEFAULT_MAX_PAGE) -> Path:
    """``lastseen report --since``: the same report for every event in a time window."""
    end = now()
    start = end - since
    events = report_events(store, store.events(since=iso(start)))
    return write_report(
        Path(out_dir), title=f"lastseen report {iso(start)} to {iso(end)}", run_id=None,
        started=start, finished=end, events=events, generated=end, max_page=max_page,
    )
