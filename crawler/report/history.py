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

The page links the archive pages' shared stylesheet and carries one line of script, the loader of
lastseen's own ``history.js`` (:mod:`.assets`: files under ``reports/assets/``, named by their
SHA-256; the loader allowed by its hash with ``'strict-dynamic'``): two selects of the captures that
have text; for the chosen pair it opens the change page when an event compared exactly those two
captures, otherwise it shows the ``lastseen diff TARGET --from ID --to ID`` command. With scripts off
the page shows that command with the capture ids to put in it, and no control. Target names, URLs and
everything else from the archive are escaped text (:mod:`.render`'s environment); the only links are
the report's own pages.

Writing. A page is written in place: over the bytes of the page there before, then cut to its new
length (:func:`_overwrite`), or created in a folder this writer has just made. A new file renamed over
the old page cost a new inode and newly allocated blocks each time: about 0.2 ms of CPU a page on ext4,
most of what writing a page cost (bench/README.md, "#17 the page writer's and the monitor's CPU"). A
page that is a symbolic link or has other hard links is replaced instead (written whole under a
temporary name, then ``os.replace``), never written through. The pages are not fsynced (derived
data). While it writes, ``targets/.writing`` exists; a writer that finds it left behind (the run was
killed) writes every target's pages again, so a page cut short is never left for good.

Two cores. When there are many pages to write (:data:`SHARE_MIN`) and a CPU to spare, a forked helper
process writes a share of them (its own read-only index connection) while this one writes the rest and
then whatever the caller gives it to do meanwhile (the front page): a first run of 100,000 targets
writes its pages in about half the time. A run writes its report beside its pages, on a CPU of its own:
there the helper needs a third CPU (``busy_cpus``). The shares are weighed so that both finish together
(:data:`FRONT_ROW_COST`). A helper that fails leaves ``targets/.writing`` behind (every page is written
again next run) and its error is raised here.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from ..errors import ArchiveError
from ..slugs import target_slug
from ..store import CaptureStore
from ..verdicts import facts
from .assets import ArchiveAssets, archive_assets, write_assets
from .historyrows import HistoryRows
from .render import _environment, _page_name, _slug

__all__ = [
    "FRONT_ROW_COST",
    "HISTORY_PAGE_ROWS",
    "SHARE_MIN",
    "TARGETS_DIR",
    "WRITING",
    "HistoryRow",
    "history_href",
    "run_change_pages",
    "write_history_pages",
]

#: Captures on a history page.
HISTORY_PAGE_ROWS = 100

#: The folder of the history pages, inside the reports folder.
TARGETS_DIR = "targets"

#: Present in the folder of the history pages while they are written: left behind, they are all
#: written again.
WRITING = ".writing"

_CHANGES = "changes.json"

#: A helper process shares the pages when it would write at least this many targets' (fewer are not worth
#: a fork). Read when called (tests patch it).
SHARE_MIN = 500

#: What the caller's work meanwhile costs per row, in history pages (bench ``history``: the front page's
#: 100,000 target rows take about a sixth of the time of 100,000 history pages): the shares are weighed
#: with it so that the helper and this process finish together.
FRONT_ROW_COST = 1 / 6


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
    rows = store.run_page_events(run_id)
    if order:
        rows.sort(key=lambda r: order.get(r[1], len(order)))
    used = {"index"}
    pages = {}
    for event_id, target, verdict, reason, has_diff in rows:
        name = _page_name(
            _Named(target, verdict, reason, True if has_diff else None), used
        )
        if name is not None:
            pages[event_id] = name
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
    assets: ArchiveAssets | None = None,
    meanwhile: Callable[[], object] | None = None,
    meanwhile_rows: int = 0,
    busy_cpus: int = 0,
) -> int:
    """Write the history pages of ``targets`` ((name, url) pairs); return how many targets.

    ``signing_fingerprint``: the watchlist's signing key's, shown in every page's footer (None: nothing).
    ``meanwhile``: called once this process has written its share of the pages, while a helper may still
    write the rest (module docstring); ``meanwhile_rows`` weighs it (:data:`FRONT_ROW_COST`). ``busy_cpus``:
    CPUs the caller's other work keeps busy meanwhile (a run writes its report beside these pages): the helper
    is forked only when a CPU is left for it beside them and this process.

    ``pages``: event id → change page name in its run's folder, for the events of the run being
    written (:func:`run_change_pages`); those not named ``<slug>.html`` are kept in the target's
    ``changes.json``. ``assets``: the shared files (:func:`~.assets.archive_assets`), written here.
    Raises :class:`~crawler.errors.ArchiveError` when the folder cannot be written.
    """
    env = env or _environment()
    assets = assets or archive_assets(env)
    page_rows = max(1, page_rows)
    root = Path(reports_dir) / TARGETS_DIR
    pages = pages or {}
    count = 0
    template = _Template(env, assets, generated, page_rows, store.custody_head(), signing_fingerprint)
    targets = list(targets)
    mine = _my_share(len(targets), meanwhile_rows, busy_cpus)
    helper = None
    try:
        write_assets(reports_dir, assets)
        root.mkdir(parents=True, exist_ok=True)
        marker = root / WRITING
        marker.touch()
        if mine < len(targets):
            helper = _Helper.start(store.path, root, targets[mine:], template, pages, page_rows)
        try:
            for name, url in targets[:mine]:
                _write_target(store, root, name, url, template, pages, page_rows)
                count += 1
            if meanwhile is not None:
                meanwhile()
        finally:
            if helper is not None:
                count += helper.wait()
        marker.unlink()
    except OSError as exc:
        raise ArchiveError(
            f"cannot write the history pages in {root}: {exc.strerror or exc}; "
            "check that the directory is writable and the disk is not full"
        ) from exc
    return count


def _my_share(count: int, meanwhile_rows: int, busy_cpus: int = 0) -> int:
    """How many of ``count`` targets this process writes; a helper writes the rest (none without a
    CPU of its own or ``os.fork``, or when its share would be under :data:`SHARE_MIN`)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if cpus - busy_cpus < 2 or not hasattr(os, "fork"):
        return count
    mine = min(count, max(0, round((count - meanwhile_rows * FRONT_ROW_COST) / 2)))
    return count if count - mine < SHARE_MIN else mine


class _Helper:
    """A forked process writing a share of the history pages; :meth:`wait` says how many, or raises."""

    def __init__(self, pid: int, pipe: int, share: int) -> None:
        self.pid, self.pipe, self.share = pid, pipe, share

    @classmethod
    def start(cls, store_path: Path, root: Path, share: list, template, pages, page_rows) -> _Helper:
        read_end, write_end = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # never the caller's index connection, its exit handlers or its lock
            os.close(read_end)
            code, said = 1, b""
            gc.freeze()  # the collector never walks what the caller holds (shared pages stay shared)
            try:
                from ..fetch.worker import die_with_parent

                die_with_parent(parent)
                index = CaptureStore.open_readonly(store_path)
                try:
                    for name, url in share:
                        _write_target(index, root, name, url, template, pages, page_rows)
                finally:
                    index.close()
                code = 0
            except OSError as exc:
                said = f"{exc.strerror or exc}: {exc.filename}".encode("utf-8", "replace")
            except BaseException as exc:  # noqa: BLE001 - said to the caller, whatever happened
                said = repr(exc).encode("utf-8", "replace")
            finally:
                try:
                    os.write(write_end, said[:4000])
                finally:
                    os._exit(code)
        os.close(write_end)
        return cls(pid, read_end, len(share))

    def wait(self) -> int:
        """The helper's count of targets, once it has exited; :class:`ArchiveError` when it failed."""
        with os.fdopen(self.pipe, "rb") as pipe:
            said = pipe.read().decode("utf-8", "replace")
        while True:
            try:
                _, status = os.waitpid(self.pid, 0)
                break
            except InterruptedError:
                continue
        if os.waitstatus_to_exitcode(status) != 0:
            raise ArchiveError(
                f"the helper process writing the history pages of {self.share:,} targets failed: "
                f"{said or f'exit status {os.waitstatus_to_exitcode(status)}'}; the next run writes every "
                "history page again; check that the reports folder is writable and the disk is not full"
            )
        return self.share


class _Template:
    """The history page: its frame rendered once (``history.html``: head, stylesheet, footer), each page's
    title and body by the macros of ``_history.html`` (no template context built per page: a first run
    of 100,000 targets renders 100,000 pages)."""

    _TITLE, _BODY = (
        "\x00title\x00",
        "\x00body\x00",
    )  # never in a rendered value (_finalize)

    def __init__(
        self, env, assets: ArchiveAssets, generated, page_rows: int, chain_head, signing_fingerprint=None
    ) -> None:
        frame = env.get_template(
            "history.html"
        ).render(
            generated=generated,
            csp=Markup(assets.history_csp),
            stylesheet=assets.stylesheet(2),
            chain_head=chain_head,  # the custody log's last entry, in every page's footer
            signing_fingerprint=signing_fingerprint,  # and the signing key's fingerprint, with one
            slot_title=Markup(self._TITLE),
            slot_body=Markup(self._BODY),
        )
        self._head, rest = frame.split(self._TITLE)
        self._middle, self._tail = rest.split(self._BODY)
        self._parts = env.get_template("_history.html").module
        self._rows = HistoryRows(env)  # the table's rows, without jinja's loop (#17)
        self._script = Markup(assets.loader)
        self.page_rows = page_rows

    def render(
        self, *, target, url, total, pages, number, newest, command, rows
    ) -> str:
        parts = self._parts
        return "".join(
            (
                self._head,
                parts.title(target, number, newest),
                self._middle,
                parts.body(
                    target,
                    url,
                    total,
                    pages,
                    number,
                    newest,
                    self.page_rows,
                    command,
                    self._rows(rows),
                    self._script,
                ),
                self._tail,
            )
        )


def _write_target(
    store, root: Path, name: str, url: str, template: _Template, pages, page_rows, stream=None
) -> None:
    """``stream``: while the run fetches (:mod:`.stream`), each page goes to it, its change pages named by it."""
    folder = root / target_slug(name)
    try:
        folder.mkdir()
        known: dict[str, str] = {}
        write = _overwrite  # a folder of ours, just made: written in place
    except FileExistsError:
        known = _read_changes(folder)
        write = _overwrite
    total = store.event_count(name)
    if total == 0:
        return
    newest = (total - 1) // page_rows + 1
    rows = store.timeline(name, offset=(newest - 1) * page_rows, limit=page_rows)
    if stream is not None:
        write, pages = stream.write, stream.pages(name, rows)
    own = f"{_slug(name)}.html"  # its change page's name in a run where no other target shares its slug
    added = _remember(own, known, rows, pages)
    context = {
        "target": name,
        "url": url,
        "total": total,
        "pages": newest,
        "command": "lastseen diff " + shlex.quote(name),
    }
    reports = root.parent

    def view(chunk: list[dict], number: int) -> list[HistoryRow]:
        first = (number - 1) * page_rows
        return [
            HistoryRow(
                **r, number=first + i, page=_change_link(r, known, own, reports, pages)
            )
            for i, r in enumerate(chunk, 1)
        ]

    shown = view(rows, newest)
    if (
        len(rows) == page_rows
    ):  # the newest page is full: its numbered page is written now, once
        html = template.render(**context, rows=shown, number=newest, newest=False)
        write(folder / f"captures-{newest}.html", html)
    number = newest - 1
    while (
        number >= 1 and not (folder / f"captures-{number}.html").exists()
    ):  # never written (upgrade)
        older = view(
            store.timeline(name, offset=(number - 1) * page_rows, limit=page_rows),
            number,
        )
        html = template.render(**context, rows=older, number=number, newest=False)
        write(folder / f"captures-{number}.html", html)
        number -= 1
    html = template.render(**context, rows=shown, number=newest, newest=True)
    write(folder / "index.html", html)
    if added:
        write(folder / _CHANGES, json.dumps(known, sort_keys=True))


def _read_changes(folder: Path) -> dict[str, str]:
    try:
        known = json.loads((folder / _CHANGES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(known, dict):
        return {}
    return {str(k): v for k, v in known.items() if isinstance(v, str)}


def _remember(
    own: str, known: dict[str, str], rows: list[dict], pages: Mapping[int, str]
) -> bool:
    """Add this run's change pages (``pages``) of ``rows`` to ``known`` when not named ``<slug>.html``
    (two targets of the run shared a slug); did any change?"""
    added = False
    for r in rows:
        page = pages.get(r["event_id"])
        if page is not None and page != own:
            known[str(r["event_id"])] = f"{r['run_id']}/{page}"
            added = True
    return added


def _change_link(
    row: dict, known: dict[str, str], own: str, reports: Path, pages: Mapping[int, str]
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
        page = f"{row['run_id']}/{own}"
        if not (reports / page).is_file():
            return None
    return f"../../{page}"


def _write(path: Path, content: str | bytes) -> None:
    """Write ``path`` whole or not at all (a temporary name beside it, then ``os.replace``); not fsynced
    (derived data). One writer at a time (runs hold the archive's lock), so the temporary name is fixed."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(content.encode("utf-8", errors="replace") if isinstance(content, str) else content)
    os.replace(tmp, path)


#: A page opened to be written in place: never through a symbolic link, bytes as they are (where the system has
#: the flags: Linux and macOS have all but O_BINARY).
_OVERWRITE_FLAGS = (os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
                    | getattr(os, "O_BINARY", 0))


def _overwrite(path: Path, content: str | bytes) -> None:
    """Write ``path`` in place (module docstring, "Writing"): over the bytes there before, cut to the new
    length; created when missing. Only under ``targets/.writing``: a writer killed half way leaves a page
    cut short, and the marker, so the next writer writes every page again. A symbolic link, or a file with
    other hard links (a snapshot's), is replaced (:func:`_write`) rather than written through."""
    data = content.encode("utf-8", errors="replace") if isinstance(content, str) else content
    try:
        fd = os.open(path, _OVERWRITE_FLAGS, 0o644)
    except OSError as exc:
        if exc.errno != errno.ELOOP:  # a symbolic link: replaced, not followed
            raise
        return _write(path, data)
    try:
        if os.fstat(fd).st_nlink > 1:
            os.close(fd)
            fd = -1
            return _write(path, data)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.ftruncate(fd, len(data))
    finally:
        if fd >= 0:
            os.close(fd)

