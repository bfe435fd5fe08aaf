"""The archive's front page: ``reports/index.html``, written by every run that had something due.

It lists the last runs, newest first, with their counts per verdict and alerts, each linking to its
report; and every target of the run's watchlist with its last verdict, linking to its history page
(:mod:`.history`). Runs with nothing due are not listed.

Both lists are paginated. The runs are on pages of ``run_rows`` numbered from the oldest
(``runs-1.html`` holds the first ``run_rows`` runs): a run rewrites only the newest of them (the one
it joins) and ``index.html``, which shows the last ``run_rows`` runs; a full page is never written
again. The targets are on pages of ``target_rows`` in watchlist order (``targets-1.html``...),
rewritten by every run: a target's last verdict can change on any page, and a row is a few hundred
bytes of escaped text from one indexed query. The index says how many targets have each last verdict
and links the pages; when the watchlist fits on one page, the index lists them itself.

No script: the CSP forbids every script and every resource but the archive pages' stylesheet, a
file of the reports' own (:mod:`.assets`); target names and URLs are escaped text, and the only links
are the report's own pages.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from ..errors import ArchiveError
from ..slugs import target_slug
from ..store import CaptureStore
from ..verdicts import order as verdict_order
from . import history
from .assets import ArchiveAssets, archive_assets, write_assets
from .history import (
    TARGETS_DIR,
    WRITING,
    _Template,
    _write,
    history_href,
    run_change_pages,
    write_history_pages,
)
from .render import _environment
from .stream import HistoryStream

__all__ = [
    "ARCHIVE_TEMPLATES",
    "RUN_PAGE_ROWS",
    "TARGET_PAGE_ROWS",
    "write_archive_pages",
    "write_front_page",
]

#: Runs on a page of the run list (and on the front page).
RUN_PAGE_ROWS = 50

#: Targets on a page of the target list.
TARGET_PAGE_ROWS = 1000

_TARGET_PAGE = re.compile(r"targets-([0-9]+)\.html")


#: The templates of the archive's pages (loaded ahead by :mod:`crawler.pagewriter` while a run fetches).
ARCHIVE_TEMPLATES = ("base.html", "_macros.html", "_style.css", "_archive.css", "front.html", "history.html",
                     "_history.html")


def write_archive_pages(
    store: CaptureStore,
    reports_dir: Path,
    *,
    run_id: str,
    targets: Sequence[tuple[str, str]],
    captured: Iterable[tuple[str, str]],
    generated: datetime,
    order: Mapping[str, int] | None = None,
    history_rows: int | None = None,
    run_rows: int | None = None,
    target_rows: int | None = None,
    signing_fingerprint: str | None = None,
    env: jinja2.Environment | None = None,
    assets: ArchiveAssets | None = None,
    busy_cpus: int = 0,
    streamed: HistoryStream | None = None,
    change_pages: Mapping[int, str] | None = None,
) -> Path:
    """After run ``run_id``'s report: the history pages of the targets it ``captured`` (and of any
    target of ``targets`` that has captures but no history page yet), then the front page.

    ``targets``: (name, url) of the run's watchlist, in its order; ``order`` as for
    :func:`~crawler.report.views.write_run_report` (the names of this run's change pages follow it).
    Page sizes default to :data:`RUN_PAGE_ROWS`, :data:`TARGET_PAGE_ROWS` and
    :data:`~crawler.report.history.HISTORY_PAGE_ROWS`, read when called (tests patch them).
    ``signing_fingerprint``: the watchlist's signing key's, shown in every page's footer (None: nothing).
    ``env`` and ``assets``: a template environment with :data:`ARCHIVE_TEMPLATES` loaded and the shared files
    it renders, when the caller has them warm (:mod:`crawler.pagewriter`). ``busy_cpus``: as for
    :func:`~crawler.report.history.write_history_pages`. ``streamed``: the pages written while the run
    fetched (:mod:`.stream`), finished here. ``change_pages``: :func:`~.history.run_change_pages`'s, when the
    caller has them. Returns the front page's path.
    Raises :class:`~crawler.errors.ArchiveError` when a page cannot be written.
    """
    reports_dir = Path(reports_dir)
    env = env or _environment()
    assets = assets or archive_assets(env)
    last = store.last_events()
    due = dict(captured)
    root = reports_dir / TARGETS_DIR
    written = {entry.name for entry in os.scandir(root)} if root.is_dir() else set()
    # a writer killed half way (WRITING left behind) may have cut a page short: every page again
    redo = WRITING in written if streamed is None else streamed.redo
    for name, url in targets:  # captured before history pages existed: their page, once
        if (
            name not in due
            and name in last
            and (redo or target_slug(name) not in written)
        ):
            due[name] = url
    front: list[Path] = []

    def front_page() -> None:  # while the history pages' helper (if any) writes its share
        front.append(
            write_front_page(
                store,
                reports_dir,
                targets=targets,
                last=last,
                generated=generated,
                env=env,
                run_rows=RUN_PAGE_ROWS if run_rows is None else run_rows,
                target_rows=TARGET_PAGE_ROWS if target_rows is None else target_rows,
                writing=run_id,
                signing_fingerprint=signing_fingerprint,
                assets=assets,
            )
        )

    pages = run_change_pages(store, run_id, order) if change_pages is None else change_pages
    page_rows = history.HISTORY_PAGE_ROWS if history_rows is None else history_rows
    if streamed is not None:  # the footer of the pages written while the run fetched: those are done
        try:
            done = streamed.finish(store, _Template(env, assets, generated, max(1, page_rows), store.custody_head(),
                                                    signing_fingerprint), pages)
        except OSError as exc:
            raise ArchiveError(
                f"cannot write the history pages in {root}: {exc.strerror or exc}; "
                "check that the directory is writable and the disk is not full"
            ) from exc
        for name in done:
            due.pop(name, None)
    write_history_pages(
        store,
        reports_dir,
        due.items(),
        generated=generated,
        pages=pages,
        env=env,
        page_rows=page_rows,
        signing_fingerprint=signing_fingerprint,
        assets=assets,
        meanwhile=front_page,
        meanwhile_rows=len(targets),
        busy_cpus=busy_cpus,
    )
    return front[0]


def write_front_page(
    store: CaptureStore,
    reports_dir: Path,
    *,
    targets: Sequence[tuple[str, str]],
    last: Mapping[str, dict | None],
    generated: datetime,
    run_rows: int = RUN_PAGE_ROWS,
    target_rows: int = TARGET_PAGE_ROWS,
    env: jinja2.Environment | None = None,
    writing: str | None = None,
    signing_fingerprint: str | None = None,
    assets: ArchiveAssets | None = None,
) -> Path:
    """Write ``index.html``, the newest run page and the target pages; return the index's path.

    ``last``: each target's last event (:meth:`~crawler.store.CaptureStore.last_events`). ``writing``: the
    run whose report is being written meanwhile (by the monitor, beside these pages): linked already.
    ``assets``: the shared files (:func:`~.assets.archive_assets`), written here.
    """
    reports_dir = Path(reports_dir)
    env = env or _environment()
    assets = assets or archive_assets(env)
    template = env.get_template("front.html")
    run_rows, target_rows = max(1, run_rows), max(1, target_rows)
    runs = store.listed_runs()
    run_pages = (len(runs) - 1) // run_rows + 1 if runs else 0
    write = [run_pages] if runs else []
    number = run_pages - 1
    while (
        number >= 1 and not (reports_dir / f"runs-{number}.html").exists()
    ):  # full pages never written (upgrade)
        write.append(number)
        number -= 1
    shown = runs[-run_rows:][::-1]
    chunks = {k: runs[(k - 1) * run_rows : k * run_rows][::-1] for k in write}
    counts = store.run_counts(
        {r["id"] for r in shown} | {r["id"] for k in write for r in chunks[k]}
    )

    def run_view(r: dict) -> dict:
        link = f"{r['id']}/index.html"
        c = counts[r["id"]]
        # this run is still running while its pages are written: it is completed when they are read
        status = "completed" if r["status"] == "running" else r["status"]
        return {
            **r,
            "status": status,
            "report": link
            if r["id"] == writing or (reports_dir / link).is_file()
            else None,
            "events": c["events"],
            "alerts": c["alerts"],
            "verdicts": sorted(
                c["verdicts"].items(), key=lambda kv: verdict_order(kv[0])
            ),
        }

    rows = [_target_row(name, url, last.get(name)) for name, url in targets]
    summary = Counter(r.verdict for r in rows if r.verdict is not None)
    target_chunks = [
        rows[i : i + target_rows] for i in range(0, len(rows), target_rows)
    ]
    common = {
        "chain_head": store.custody_head(),
        "signing_fingerprint": signing_fingerprint,
        "generated": generated,
        "csp": Markup(assets.front_csp),
        "stylesheet": assets.stylesheet(0),
        "run_pages": run_pages,
        "target_pages": len(target_chunks),
        "run_rows": run_rows,
        "target_rows": target_rows,
        "total_runs": len(runs),
        "total_targets": len(rows),
        "summary": sorted(summary.items(), key=lambda kv: verdict_order(kv[0])),
        "never": sum(1 for r in rows if r.verdict is None),
    }
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
        write_assets(reports_dir, assets)
        for k in write:
            _write(
                reports_dir / f"runs-{k}.html",
                template.render(
                    common,
                    kind="runs",
                    number=k,
                    runs=[run_view(r) for r in chunks[k]],
                    targets=[],
                ),
            )
        for k, chunk in enumerate(target_chunks, 1):
            _write(
                reports_dir / f"targets-{k}.html",
                template.render(
                    common, kind="targets", number=k, runs=[], targets=chunk
                ),
            )
        for stale in reports_dir.iterdir():  # the watchlist shrank: its last pages go
            match = _TARGET_PAGE.fullmatch(stale.name)
            if match and int(match.group(1)) > len(target_chunks):
                stale.unlink()
        index = reports_dir / "index.html"
        _write(
            index,
            template.render(
                common,
                kind="index",
                number=None,
                runs=[run_view(r) for r in shown],
                targets=rows if len(target_chunks) <= 1 else [],
            ),
        )
    except OSError as exc:
        raise ArchiveError(
            f"cannot write the archive front page in {reports_dir}: {exc.strerror or exc}; "
            "check that the directory is writable and the disk is not full"
        ) from exc
    return index


@dataclass(frozen=True, slots=True)
class TargetRow:
    """A row of the target list (attributes: cheaper for the template than a dict's keys, 100,000 rows)."""

    name: str
    url: str
    verdict: str | None = None  # its last event's (None: not captured yet)
    reason: str | None = None
    alert: int | None = 0
    started: str | None = None  # its last capture's time
    href: str | None = None  # its history page, relative to the reports folder


def _target_row(name: str, url: str, last: dict | None) -> TargetRow:
    if last is None:
        return TargetRow(name, url)
    return TargetRow(name, url, **last, href=history_href(name))
