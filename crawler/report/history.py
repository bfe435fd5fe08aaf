"""Target history pages: ``reports/targets/<slug>/index.html``, every capture of a target on a timeline.

Each row is one capture the target's events judged, oldest first: its number, time, verdict (and
reason), HTTP status, payload size and WARC record (file, offset, record id), and a link to the run
report's change page when its event has one. The captures are on pages of ``page_rows``, numbered from
the oldest: ``captures-1.html`` holds captures 1 to ``page_rows`` and is written once, by the run that
fills it, and never again; ``index.html`` shows the newest page (full or not) and links to the others.
A run writes only the history pages of the targets it captured (:func:`write_history_pages`).

Change pages live in the run's report folder (``reports/<run id>/<page>.html``, named by
:mod:`.render`: ``<slug>.html``, or ``<slug>-2.html`` when two targets of the run share a slug, in
the run's watchlist order). A run knows the names it gave; those other than ``<slug>.html`` are kept
beside the history page (``changes.json``: event id → link), so later runs link to them without the
run's order; any other is ``<slug>.html``, linked when that file is there.

The page carries one script of lastseen's own (``crawler/templates/history.js``, allowed by its SHA-256
in the CSP like ``report.js``): two selects of the captures that have text; for the chosen pair it
opens the change page when an event compared exactly those two captures, otherwise it shows the
``lastseen diff TARGET --from ID --to ID`` command. With scripts off the page shows that command with
the capture ids to put in it, and no control. Target names, URLs and everything else from the
archive are escaped text (:mod:`.render`'s environment); the only links are the report's own pages.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from ..errors import ArchiveError
from ..slugs import target_slug
from ..store import CaptureStore
from ..verdicts import facts
from .index import load_script, script_csp, script_source
from .render import _TEMPLATES, CSP, _environment, _page_name, _slug

__all__ = [
    "HISTORY_PAGE_ROWS",
    "HISTORY_SCRIPT",
    "TARGETS_DIR",
    "HistoryRow",
    "history_href",
    "run_change_pages",
    "write_history_pages",
]

#: Captures on a history page.
HISTORY_PAGE_ROWS = 100

#: The folder of the history pages, inside the reports folder.
TARGETS_DIR = "targets"

#: The history pages' script, exactly as inlined, and its CSP.
HISTORY_SCRIPT = load_script(_TEMPLATES / "history.js")
_HISTORY_CSP = script_csp(CSP, script_source(HISTORY_SCRIPT))

_CHANGES = "changes.json"


def history_href(target: str) -> str:
    """The history page of ``target``, relative to the reports folder."""
    return f"{TARGETS_DIR}/{target_slug(target)}/index.html"


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """A row of a history page: one event and the capture it judged (attributes: cheaper for the
    templates than a dict's keys, on 100,000 pages)."""

    event_id: int
    run_id: str
    verdict: str
    reason: str | None
    alert: int | None
    summary: str | None
    capture_id: int
    compared_capture_id: int | None
    has_diff: int
    started: str
    status: int | None
    payload_length: int | None
    warc_file: str | None
    warc_offset: int | None
    warc_record_id: str | None
    record_type: str | None
    has_text: int
    number: int  # its place in the target's history, from 1
    page: (
        str | None
    )  # the change (or capture) page's link, relative to the history page


@dataclass(frozen=True)
class _Named:
    """What :func:`crawler.report.render._page_name` reads of an event."""

    target: str
    verdict: str
    reason: str | None
    diff: object | None


def run_change_pages(
    store: CaptureStore, run_id: str, order: Mapping[str, int] | None = None
) -> dict[int, str]:
    """Event id → the file name of its page in run ``run_id``'s report, as :func:`~.views.write_run_report`
    named them (same order, same names)."""
    rows = list(store.events(run_id=run_id))
    if order:
        rows.sort(key=lambda r: order.get(r["target"], len(order)))
    used = {"index"}
    pages = {}
    for row in rows:
        name = _page_name(
            _Named(
                row["target"],
                row["verdict"],
                row["reason"],
                True if row["diff_ops"] else None,
            ),
            used,
        )
        if name is not None:
            pages[row["id"]] = name
    return pages


def write_history_pages(
    store: CaptureStore,
    reports_dir: Path,
    targets: Iterable[tuple[str, str]],
    *,
    generated: datetime,
    pages: Mapping[int, str] | None = None,
    page_rows: int = HISTORY_PAGE_ROWS,
    env: jinja2.Environment | None = None,
    signing_fingerprint: str | None = None,
) -> int:
    """Write the history pages of ``targets`` ((name, url) pairs); return how many targets.

    ``signing_fingerprint``: the watchlist's signing key's, shown in every page's footer (None: nothing).

    ``pages``: event id → change page name in its run's folder, for the events of the run being
    written (:func:`run_change_pages`); those not named ``<slug>.html`` are kept in the target's
    ``changes.json``.
    Raises :class:`~crawler.errors.ArchiveError` when the folder cannot be written.
    """
    env = env or _environment()
    template = env.get_template("history.html")
    page_rows = max(1, page_rows)
    root = Path(reports_dir) / TARGETS_DIR
    pages = pages or {}
    count = 0
    # The custody log's last entry and the signing key's fingerprint, in every page's footer.
    footer = {"chain_head": store.custody_head(), "signing_fingerprint": signing_fingerprint}
    try:
        root.mkdir(parents=True, exist_ok=True)
        for name, url in targets:
            _write_target(store, root, name, url, template, generated, pages, page_rows, footer)
            count += 1
    except OSError as exc:
        raise ArchiveError(
            f"cannot write the history pages in {root}: {exc.strerror or exc}; "
            "check that the directory is writable and the disk is not full"
        ) from exc
    return count


def _write_target(
    store, root: Path, name: str, url: str, template, generated, pages, page_rows, footer
) -> None:
    folder = root / target_slug(name)
    try:
        folder.mkdir()
        known: dict[str, str] = {}
    except FileExistsError:
        known = _read_changes(folder)
    total = store.event_count(name)
    if total == 0:
        return
    newest = (total - 1) // page_rows + 1
    rows = store.timeline(name, offset=(newest - 1) * page_rows, limit=page_rows)
    added = _remember(name, known, rows, pages)
    common = {
        "target": name,
        "url": url,
        "generated": generated,
        "total": total,
        "page_rows": page_rows,
        "pages": newest,
        "command": "lastseen diff " + shlex.quote(name),
        "csp": Markup(_HISTORY_CSP),
        "script": Markup(HISTORY_SCRIPT),
        **footer,
    }
    reports = root.parent

    def view(chunk: list[dict], number: int) -> list[dict]:
        first = (number - 1) * page_rows
        return [
            HistoryRow(
                **r, number=first + i, page=_change_link(r, known, name, reports, pages)
            )
            for i, r in enumerate(chunk, 1)
        ]

    shown = view(rows, newest)
    if (
        len(rows) == page_rows
    ):  # the newest page is full: its numbered page is written now, once
        html = template.render(common, rows=shown, number=newest, newest=False)
        _write(folder / f"captures-{newest}.html", html)
    number = newest - 1
    while (
        number >= 1 and not (folder / f"captures-{number}.html").exists()
    ):  # never written (upgrade)
        older = view(
            store.timeline(name, offset=(number - 1) * page_rows, limit=page_rows),
            number,
        )
        html = template.render(common, rows=older, number=number, newest=False)
        _write(folder / f"captures-{number}.html", html)
        number -= 1
    html = template.render(common, rows=shown, number=newest, newest=True)
    _write(folder / "index.html", html)
    if added:
        _write(folder / _CHANGES, json.dumps(known, sort_keys=True))


def _read_changes(folder: Path) -> dict[str, str]:
    try:
        known = json.loads((folder / _CHANGES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(known, dict):
        return {}
    return {str(k): v for k, v in known.items() if isinstance(v, str)}


def _remember(
    name: str, known: dict[str, str], rows: list[dict], pages: Mapping[int, str]
) -> bool:
    """Add this run's change pages (``pages``) of ``rows`` to ``known`` when not named ``<slug>.html``
    (two targets of the run shared a slug); did any change?"""
    added = False
    for r in rows:
        page = pages.get(r["event_id"])
        if page is not None and page != f"{_slug(name)}.html":
            known[str(r["event_id"])] = f"{r['run_id']}/{page}"
            added = True
    return added


def _change_link(
    row: dict, known: dict[str, str], name: str, reports: Path, pages: Mapping[int, str]
) -> str | None:
    """The event's change page, relative to the history page, when it has one.

    This run's are in ``pages``; an earlier run's not named ``<slug>.html`` are in ``known``; any
    other is ``<slug>.html`` in its run's folder, if that file is there (a report may be deleted)."""
    page = known.get(str(row["event_id"]))
    if page is None and row["event_id"] in pages:
        page = f"{row['run_id']}/{pages[row['event_id']]}"
    elif page is None:
        if not (facts(row["verdict"], row["reason"]).detail or row["has_diff"]):
            return None
        page = f"{row['run_id']}/{_slug(name)}.html"
        if not (reports / page).is_file():
            return None
    return f"../../{page}"


def _write(path: Path, content: str) -> None:
    """Write ``path`` whole or not at all (a temporary name beside it, then ``os.replace``); not fsynced
    (derived data). One writer at a time (runs hold the archive's lock), so the temporary name is fixed."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(content.encode("utf-8", errors="replace"))
    os.replace(tmp, path)
