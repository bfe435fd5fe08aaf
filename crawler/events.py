"""Event ids: one change (or any verdict) named so that a person can copy it and a command can find it again.

An event is one target's outcome in one run, and a run captures a target once, so the pair names it::

    <run id>:<target name>        e.g. 20261122T101500Z-3f2a:vendor-page

The run id (``20261122T101500Z-3f2a``, :func:`crawler.monitor.make_run_id`) holds no ``:``, so the id
splits at its first ``:``; the target's name is everything after it, as written in the watchlist (a
listing's item ``listing/key`` keeps its ``/``; a ``:`` in a name is fine too). ``lastseen run --json``
gives each event its ``event_id``, the reports show it on each change page and in ``report.json``
(docs/run-json.md, docs/report-json.md).

:func:`find_event` reads the index (any :class:`~crawler.store.CaptureStore`, read-only will do) for the two
captures of an event: the capture it compared with (``before``, the target's last good capture then; None
for a first capture) and the run's own (``after``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import EventIdError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .store import CaptureStore

__all__ = ["RUN_ID_PATTERN", "EventIdError", "event_id", "find_event", "parse_event_id"]

#: A run's id, as :func:`crawler.monitor.make_run_id` makes it (and ``lastseen run --json``'s schema says).
RUN_ID_PATTERN = r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}"
_EVENT_ID = re.compile(f"({RUN_ID_PATTERN}):(.+)", re.DOTALL)
_EXAMPLE = "20261122T101500Z-3f2a:vendor-page"


def event_id(run_id: str, target: str) -> str:
    """The id of ``target``'s event in run ``run_id``: ``<run id>:<target name>``."""
    return f"{run_id}:{target}"


def parse_event_id(text: str) -> tuple[str, str]:
    """``(run id, target name)`` of an event id; :class:`EventIdError` (exit 2) when ``text`` is not one."""
    match = _EVENT_ID.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        shown = (
            text
            if isinstance(text, str) and len(text) <= 200
            else f"{str(text)[:200]}…"
        )
        raise EventIdError(
            f"{shown!r} is not an event id: an event id is <run id>:<target name>, e.g. {_EXAMPLE} "
            "(lastseen run --json prints each event's event_id; the report's change pages show it)"
        )
    return match.group(1), match.group(2)


def find_event(store: CaptureStore, text: str) -> tuple[dict | None, dict]:
    """The two ``captures`` rows of event ``text``: ``(before, after)``.

    ``before`` is the capture the event compared with (the target's last good capture when the run began;
    None for a first capture), ``after`` the run's capture of the target. :class:`EventIdError` when the
    id is malformed or the archive has no such event.
    """
    run_id, target = parse_event_id(text)
    row = store.event_row(run_id, target)
    if row is None:
        raise EventIdError(
            f"no event {text!r} in the archive {store.path.parent}: run {run_id} did not capture target "
            f"{target!r} (lastseen status lists the targets; lastseen run --json the events of a run)"
        )
    return store.capture(row["compared_capture_id"]), store.capture(row["capture_id"])
