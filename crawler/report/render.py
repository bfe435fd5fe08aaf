"""The analyst's HTML report of one run.

:func:`write_report` writes ``index.html`` (every event of the run, in the given
order, with counts per verdict; in a large run the quiet targets on list pages
of their own: :mod:`.index`) and one evidence page per event worth reading
(verdict changed, vanished or restored, or any event that carries a diff):
first the changes (for a JSON document or a spreadsheet, a table of the paths or cells that changed:
:mod:`.keyed`; inline, side by side and changes only: :mod:`.sidebyside`),
or, for a page that vanished, what it said; its title, description and links
compared (:mod:`.links`); its screenshots (browser captures: PNG files written to
``screenshots/`` beside the pages, shown as thumbnails that link to the full
image); then the proof, both captures side by side with their WARC coordinates
(:mod:`.evidence`), and the significance and signals. A first capture (``new``) gets
a capture page: its evidence box and its text as captured, the proof of what the
page said from the first day.

Everything that came from an archived page (text, titles, URLs, even target
names) is hostile. The templates in ``crawler/templates/`` are rendered with
autoescape on for every template; control characters are replaced before
escaping; the pages carry a Content-Security-Policy that forbids every external
resource and every script but the index pages' own, allowed by its hash
(evidence pages have no script at all). Captured and target
URLs are shown as text, never as links: clicking from a report would visit the
monitored site from the analyst's browser. The only links are the report's
own relative pages and screenshots, and the screenshots are its only images.

Reports are pure functions of their inputs (``generated`` and the run times are
parameters), so golden tests compare them byte for byte.
"""

from __future__ import annotations

import os
import re
import shlex
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from crawler.errors import ArchiveError
from crawler.formatting import BIDI_CONTROLS, iso
from crawler.verdicts import VERDICTS, badge_css, gets_page

from .diffhtml import DiffHtml
from .index import INDEX_PAGE_ROWS, IndexSpool, index_pages, is_list_page
from .links import display_url

__all__ = ["CONTEXT_CHARS", "DETAIL_VERDICTS", "VERDICT_ORDER", "CaptureView", "ReportEvent", "write_change_page",
           "write_report"]

#: Order of the per-verdict counts (the registry's); verdicts not listed follow, alphabetically.
VERDICT_ORDER = tuple(VERDICTS)

#: Verdicts that always get an evidence page (other events get one when they carry a diff).
DETAIL_VERDICTS = frozenset(name for name, kind in VERDICTS.items() if kind.detail)

#: Characters of unchanged text kept on each side of a change in the collapsed diff (at most
#: :data:`~crawler.report.segments.CONTEXT_LINES` lines: whichever is shorter).
CONTEXT_CHARS = 300

_MAX_SLUG = 80

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

#: The Content-Security-Policy of every page: no script, nothing fetched from anywhere (the index
#: pages add their own script's hash: :func:`crawler.report.index.script_csp`).
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

#: ... and of a page that shows screenshots: images also from the report itself, nothing remote.
#: The pages are opened from disk (``file://``), where CSP cannot name a folder (Chromium matches no
#: ``file:///path/`` source) and a file page's origin is opaque. ``'self'`` matches ``file:`` URLs
#: in Chromium and the report's own server when the folder is served over HTTP; ``file:`` does the
#: same from disk in browsers whose ``'self'`` matches nothing there (Firefox gives every file its own
#: origin). Neither matches anything remote: an http(s) page never loads ``file:`` URLs, and its
#: ``'self'`` is its own server. The only ``<img>`` elements are the report's own screenshots
#: (captured markup is always escaped, and there is no script to add any). ``data:`` URIs were the
#: other way, but would put every full-page PNG into the HTML, a third larger, on every page load.
CSP_SCREENSHOTS = "default-src 'none'; style-src 'unsafe-inline'; img-src data: 'self' file:"

#: The folder, inside the report's, that holds the screenshots' PNG files.
SCREENSHOT_DIR = "screenshots"


@dataclass(frozen=True)
class CaptureView:
    """One capture as the report shows it (a row of the ``captures`` table, flattened)."""

    id: int
    url: str
    final_url: str | None
    status: int | None
    status_chain: tuple[int, ...]
    started: datetime  # UTC aware
    warc_file: str | None
    warc_offset: int | None
    warc_record_id: str | None
    record_type: str | None  # "response" | "revisit"
    payload_sha256: str | None
    title: str | None
    error: str | None  # human message when there was no response
    tls_verified: bool | None = None  # None: plain HTTP or no response
    tls_error: str | None = None
    flags: tuple[str, ...] = ()  # truncated, disconnected, tls-unverified...
    screenshot_record_id: str | None = None  # its screenshot's WARC resource record (browser captures)
    screenshot_missing: str | None = None  # why its screenshot is not shown, when it is not
    document: dict | None = None  # a document's format, pages, page starts and metadata (captures.document)


@dataclass(frozen=True)
class ReportEvent:
    """One target's outcome in a run."""

    target: str
    url: str
    tags: tuple[str, ...]
    verdict: str  # new | unchanged | changed | vanished | unreachable | restored | ...
    reason: str | None  # http-404, redirected, dns, timeout, ...
    alert: bool
    summary: str
    current: CaptureView
    compared: CaptureView | None  # the last good capture it was compared with
    diff: object | None  # a crawler.diff.Diff (read: ops, insertions, deletions, unit, fallback, summary())
    old_text: str | None
    new_text: str | None
    screenshot: bytes | None = None  # PNG of this capture's page (browser captures), when loaded
    compared_screenshot: bytes | None = None  # PNG of the compared (last good) capture's page
    confirmed: bool | None = None  # vanished, moved, unreachable, blocked: confirmed yet (None: not applicable)
    signals: dict | None = None  # the event's evidence: the signals its verdict was decided on
    significance: dict | None = None  # changed events: {"score", "parts"}
    page: dict | None = None  # links, title and description compared (crawler.report.links.page_changes)
    event_id: str | None = None  # <run id>:<target> (crawler.events); None on a page of any two captures


def write_report(
    out_dir: Path,
    *,
    title: str,
    run_id: str | None,
    started: datetime,
    finished: datetime | None,
    events: Iterable[ReportEvent],
    generated: datetime,
    max_page: int | None = None,
    page_rows: int = INDEX_PAGE_ROWS,
    robots: Sequence[tuple[str, dict]] = (),
    grouped: bool = False,
    notes: Sequence[str] = (),
    chain_head: dict | None = None,
    signing_fingerprint: str | None = None,
    timestamp: dict | None = None,
    delegated: dict[str, str | None] | None = None,
) -> Path:
    """Write ``out_dir/index.html`` and the events' evidence pages; return the index path.

    Every page's footer shows ``chain_head`` (the custody log's last entry), ``timestamp`` (``run.timestamp``'s
    shape: its RFC 3161 time-stamp, obtained or failed) and ``signing_fingerprint``, when given.

    ``robots``: (robots.txt URL, change) of the hosts whose robots.txt newly shut archive crawlers out,
    noted on the index (:meth:`crawler.store.CaptureStore.robots_alerts`).
    ``grouped``: ``events`` come grouped by target (a window report): the index says how many events on
    how many targets and marks where each target's events start. ``notes``: lines the index shows first.

    With more than ``page_rows`` quiet targets (``unchanged`` or ``new``, no alert), those are
    listed on pages of ``page_rows`` rows (``unchanged-1.html``...) linked from the index.

    ``max_page`` bounds the text an evidence page holds (``settings.max_report_page``):
    past it the page shows the changes with their context only, or the first changes,
    and says so; the full texts stay in the index.

    ``events`` may be a generator: each evidence page (and its screenshots, as
    ``screenshots/<slug>-<capture id>.png``) is written as its event arrives and
    only a slim copy (no texts, no diff, no images) is kept for the index, so
    memory does not grow with the texts and images of a large run.
    ``delegated``: the targets whose pages another process writes (the archive's page writer, while the run
    fetched: :mod:`.runstream`): each one's page name is set there, its page not written here.
    Files are written atomically (temporary file, then ``os.replace``), not fsynced (derived data).
    Raises :class:`~crawler.errors.ArchiveError` when the directory cannot be written.
    """
    from .eventpage import event_page

    out_dir = Path(out_dir)
    env = _environment()
    common = report_values(title, run_id, started=started, finished=finished, generated=generated,
                           chain_head=chain_head, signing_fingerprint=signing_fingerprint, timestamp=timestamp)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        used = {"index"}
        written: set[str] = set()  # screenshots written (a capture shown by two events is written once)
        rows = IndexSpool()  # what the index shows of each event, no more (past 8,192 rows in a temporary file)
        for event in events:
            page = _page_name(event, used)
            if page is not None:
                if delegated is not None and event.target in delegated:
                    delegated[event.target] = page  # its page written by another process (.runstream)
                else:
                    _write_atomic(out_dir / page, event_page(env, common, event, out_dir, written, max_page))
            rows.append(event, page)
        for name, html in index_pages(env, common, rows, page_rows=page_rows, robots=robots, grouped=grouped,
                                      notes=notes):
            _write_atomic(out_dir / name, html)
        rows.close()
        index_path = out_dir / "index.html"
    except OSError as exc:
        raise ArchiveError(
            f"cannot write the report in {out_dir}: {exc.strerror or exc}; "
            "check that the directory is writable and the disk is not full"
        ) from exc
    return index_path


def report_values(title: str, run_id: str | None, *, started: datetime | None, finished: datetime | None,
                  generated: datetime | None, chain_head: dict | None, signing_fingerprint: str | None,
                  timestamp: dict | None) -> dict:
    """What every page of a report is rendered with: its title and run, times, CSP and footer."""
    return {"report_title": title, "run_id": run_id, "started": started, "finished": finished, "generated": generated,
            "csp": Markup(CSP), "chain_head": chain_head, "signing_fingerprint": signing_fingerprint,
            "timestamp": timestamp}


def write_change_page(path: Path, event: ReportEvent, *, title: str, generated: datetime,
                      max_page: int | None = None, chain_head: dict | None = None,
                      signing_fingerprint: str | None = None) -> Path:
    """Write the change page a report gives ``event``, alone, to ``path`` (``lastseen diff --out``).

    The same template, escaping and CSP as a report's change page; no link to a report index (there is
    none), both captures named by id in the evidence table's heads, screenshots (if any) written to
    ``screenshots/`` beside the page as a report does. Raises :class:`ArchiveError` when it cannot be written.
    """
    from .eventpage import _detail_context, _write_screenshots

    path = Path(path)
    env = _environment()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        shots = _write_screenshots(path.parent, event, set())
        csp = Markup(CSP_SCREENSHOTS if shots and shots["images"] else CSP)
        before = event.compared
        html = env.get_template("detail.html").render(
            report_title=title, run_id=None, started=before.started if before else event.current.started,
            finished=event.current.started, generated=generated, csp=csp, standalone=True, event=event, shots=shots,
            compared_label=f"From: capture {before.id}" if before else "From", current_label=f"To: capture "
            f"{event.current.id}", chain_head=chain_head, signing_fingerprint=signing_fingerprint,
            **_detail_context(event, max_page),
        )
        _write_atomic(path, html)
    except OSError as exc:
        raise ArchiveError(f"cannot write the change page {path}: {exc.strerror or exc}; "
                           "check that the directory is writable and the disk is not full") from exc
    return path


# -- page names --------------------------------------------------------------------------------

_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
)


def _slug(name: str) -> str:
    """A lowercase ``[a-z0-9-]`` file stem for ``name``; safe on every filesystem."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    slug = slug[:_MAX_SLUG].rstrip("-") or "target"
    if slug in _WINDOWS_RESERVED or slug == "index" or is_list_page(slug):
        slug += "-page"
    return slug


def _screenshot_name(event: ReportEvent, capture: CaptureView) -> str:
    """``screenshots/<slug>-<capture id>.png``: one name per capture, safe on every filesystem."""
    return f"{SCREENSHOT_DIR}/{_slug(event.target)}-{int(capture.id)}.png"


def _needs_page(event: ReportEvent) -> bool:
    return gets_page(event.verdict, event.reason, event.diff is not None)


def _page_name(event: ReportEvent, used: set[str]) -> str | None:
    """A ``<slug>.html`` not in ``used`` (then added) if the event gets a page, else None."""
    if not _needs_page(event):
        return None
    base = _slug(event.target)
    stem, n = base, 2
    while stem in used:
        stem, n = f"{base}-{n}", n + 1
    used.add(stem)
    return f"{stem}.html"


_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# The bidi controls (crawler.formatting.BIDI_CONTROLS): invisible, they reorder the text after them.
_BIDI_CHARS = re.compile(f"[{BIDI_CONTROLS}]")

# Either: most values have neither, and one search says so.
_RISKY_CHARS = re.compile(f"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff{BIDI_CONTROLS}]")


def _visible_bidi(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def _finalize(value: object) -> object:
    """Applied to every ``{{ }}`` value before escaping: None shows as an em dash.

    In text, C0/C1 controls and lone surrogates become U+FFFD; the bidi controls
    (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069) become the visible text
    ``\\u202e`` (as in the terminal), so a page's right-to-left override cannot
    reorder the report's text, and the analyst still sees that the page carried one.
    """
    if value is None:
        return "—"
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        if _RISKY_CHARS.search(value) is None:
            return value
        return _BIDI_CHARS.sub(_visible_bidi, _UNSAFE_CHARS.sub("\ufffd", value))
    return value


def _utc(value: datetime | None) -> str | None:
    """``2024-05-01T12:00:00Z``; a naive datetime is taken to be UTC already."""
    return iso(value)


def _verdict_class(verdict: str) -> str:
    return f"v-{verdict}" if verdict in VERDICTS else "v-other"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the templates do not change while a report is written: no stat per page
    )
    env.filters["utc"] = _utc
    env.filters["verdict_class"] = _verdict_class
    env.filters["display_url"] = display_url  # IDNA hosts and UTF-8 escapes shown decoded
    env.filters["shell_quote"] = shlex.quote  # a command to copy: `lastseen bundle <event id>`
    env.globals["badge_css"] = Markup(badge_css())
    env.globals["diff_html"] = DiffHtml(env)  # the diff views, written in Python (#17)
    return env


def _write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``path`` whole or not at all (a temporary file, then ``os.replace``).

    Not fsynced: report files are derived data (``lastseen report`` writes them again from the
    index and the WARC files, which are), and an fsync per file made a 10,000-target run's report
    twice as slow to write (``make bench``, scenario ``report``)."""
    data = content if isinstance(content, bytes) else content.encode("utf-8", errors="replace")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
