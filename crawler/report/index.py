"""The report's index: ``index.html`` and, in a large run, the list pages of its quiet targets.

Every event of the run has a row, in the given (watchlist) order, with counts per
verdict. A row of a ``vanished``, ``moved`` or ``blocked`` target says what decided
its verdict (:mod:`.reasons`), a change names the keywords that appeared or
disappeared. In a run with more than ``page_rows`` quiet targets (``unchanged`` or
``new``, not alerted), those are listed on their own pages, ``unchanged-1.html``,
``unchanged-2.html``, ``new-1.html``..., ``page_rows`` rows each, linked from the
index, which lists every other target (everything that needs a reader) in full:
a 10,000-target run's index stays a page of the targets that need attention.

Each of these pages carries one script, lastseen's own (``crawler/templates/report.js``:
filter by text, verdict, tag and alerts, sort by target, verdict and capture time),
inlined and allowed by its SHA-256 in the page's Content-Security-Policy
(``script-src 'sha256-…'``, no ``'unsafe-inline'``, no source to load from). It
only hides and reorders rows the server wrote; with scripts off every row is shown
and no control exists. Evidence pages carry no script at all.

Rendering is pure: :func:`index_pages` yields ``(file name, html)`` pairs and the
caller writes them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import pickle
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape

from ..verdicts import order as verdict_order
from .reasons import deciding_signal, keyword_tags

if TYPE_CHECKING:
    from .render import ReportEvent

__all__ = ["INDEX_PAGE_ROWS", "LISTED_VERDICTS", "SCRIPT", "SCRIPT_SOURCE", "IndexSpool", "index_pages", "is_list_page",
           "load_script", "script_csp", "script_source"]

#: Rows of a list page of quiet targets (and how many quiet targets the index holds before they are paged).
INDEX_PAGE_ROWS = 500

#: Rows of a report's index held in memory before they are spooled to a temporary file (:class:`IndexSpool`):
#: some 540 bytes each as Python counts them, some 2 KB each of the process's memory (17 MB at most).
HELD_ROWS = 8192

#: The quiet verdicts: in a large run their targets are listed on pages of their own.
LISTED_VERDICTS = ("unchanged", "new")

_LIST_PAGE = re.compile(rf"(?:{'|'.join(LISTED_VERDICTS)})-[0-9]+")

_SCRIPT_FILE = Path(__file__).resolve().parent.parent / "templates" / "report.js"


def load_script(path: Path = _SCRIPT_FILE) -> str:
    """A script of lastseen's own (``report.js``), checked to be safe to inline: ASCII, and nothing that
    could end a ``<script>``."""
    text = path.read_text(encoding="utf-8")
    if not text.isascii() or re.search(r"</script|<!--", text, re.IGNORECASE):
        raise RuntimeError(f"{path} must be ASCII and hold no '</script' or '<!--' to be inlined")
    return text


def script_source(script: str) -> str:
    """The CSP source that allows ``script`` inlined, and nothing else: its base64 SHA-256."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


#: The index pages' script, exactly as inlined (read once).
SCRIPT = load_script()

#: Its CSP source: the base64 SHA-256 of its UTF-8 bytes.
SCRIPT_SOURCE = script_source(SCRIPT)


def script_csp(csp: str, source: str = SCRIPT_SOURCE) -> str:
    """``csp`` that also lets the index's own script (or the one ``source`` names) run, and no other."""
    return f"{csp}; script-src {source}"


def is_list_page(stem: str) -> bool:
    """Is ``stem`` the name of a list page (``unchanged-3``)? Evidence pages avoid these names."""
    return _LIST_PAGE.fullmatch(stem) is not None


@dataclass(frozen=True)
class IndexRow:
    """One row of the index: the event (without texts), its evidence page and what the row says."""

    event: ReportEvent
    page: str | None
    signal: str | None  # what decided a vanished, moved or blocked verdict, in words
    keywords: list[tuple[str, str]]  # ("+" or "−", keyword) a change made appear or disappear
    rank: int  # the verdict's place in the registry (the script sorts by it)
    group: int | None = None  # a window report: the number of the target's group, on its first row of a page
    html: Markup | None = None  # the row as the template writes it (:func:`row_html`), when it has the plain shape


def index_copy(event: ReportEvent) -> ReportEvent:
    """What the index keeps of an event once its page is written: its row's fields only (no texts, diff,
    images, compared capture, WARC or document details), so that a report of 100,000 events holds
    100,000 rows of a few hundred bytes, not their captures."""
    c, e = event.current, event
    if (e.compared is None and e.diff is None and e.old_text is None and e.new_text is None and e.page is None
            and e.screenshot is None and e.compared_screenshot is None and c.url == "" and c.status_chain == ()
            and c.warc_file is None and c.warc_offset is None and c.warc_record_id is None and c.record_type is None
            and c.payload_sha256 is None and c.title is None and c.tls_error is None
            and c.screenshot_record_id is None and c.screenshot_missing is None and c.document is None):
        return event  # already the copy: an event read for the index alone (``views.INDEX_COLUMNS``)
    # Built field by field, not with dataclasses.replace: twice as fast, 100,000 times in a large run (#17).
    current = type(c)(c.id, "", c.final_url, c.status, (), c.started, None, None, None, None, None, None, c.error,
                      c.tls_verified, None, c.flags, None, None, None)
    return type(e)(e.target, e.url, e.tags, e.verdict, e.reason, e.alert, e.summary, current, None, None, None, None,
                   None, None, e.confirmed, e.signals, e.significance, None, e.event_id)


def _row(event: ReportEvent, page: str | None, rows: RowWriter) -> IndexRow:
    signal, keywords, rank = (deciding_signal(event.verdict, event.reason, event.signals),
                              keyword_tags(event.significance), verdict_order(event.verdict)[0])
    row = IndexRow(event, page, signal, keywords, rank)
    html = rows(row)
    return row if html is None else IndexRow(event, page, signal, keywords, rank, None, html)


class RowWriter:
    """A row of the index as ``index.html`` writes it (no trailing newline), byte for byte, without the template;
    None when the row is not of the plain shape (a deciding signal, keywords, an error or a JavaScript shell
    noted): the template writes those. A window report's group starts are plain rows with an anchor
    (:func:`_grouped`). A report of 100,000 targets has 99,000 quiet rows of
    this shape, and jinja's loop over them was most of its list pages' time (#17).

    Every value goes through what autoescape does to a ``{{ }}`` value: the environment's ``finalize``, then
    :func:`markupsafe.escape` (the data-tags attribute: ``tojson`` then ``forceescape``, as the template).
    Values many rows share (verdicts, tags, summaries) are escaped once.
    """

    def __init__(self, env: jinja2.Environment):
        self._finalize, self._utc = env.finalize, env.filters["utc"]
        self._url, self._verdict_class = env.filters["display_url"], env.filters["verdict_class"]
        self._dumps, self._kwargs = env.policies["json.dumps_function"], env.policies["json.dumps_kwargs"]
        self._shared: dict = {}   # (kind, value) -> its HTML, for the values rows repeat (at most _SHARED)
        self._tags: dict = {}     # tags -> (data-tags value, tag spans)
        self._target = (None, None, "", "")  # the last row's target and URL, and their HTML (a window report
        # lists each target's events together)

    def out(self, value: object) -> str:
        """The template's ``{{ value }}``."""
        return escape(self._finalize(value))

    def _once(self, key: tuple, make) -> str:
        html = self._shared.get(key)
        if html is None:
            html = make()
            if len(self._shared) < _SHARED:
                self._shared[key] = html
        return html

    def __call__(self, row: IndexRow) -> Markup | None:
        e, current = row.event, row.event.current
        if (row.group or row.signal or row.keywords or (current.error and current.error != e.summary)
                or "js-shell" in current.flags):
            return None
        out, muted = self.out, '<span class="muted">—</span>'
        verdict = self._once(("verdict", e.verdict), lambda: (
            f'<tr data-verdict="{out(e.verdict)}" data-rank="{out(row.rank)}" data-tags="',
            f'<td data-label="Verdict"><span class="badge {out(self._verdict_class(e.verdict))}">{out(e.verdict)}'
            '</span>'))
        tags = self._tags.get(e.tags)
        if tags is None:
            tags = (escape(str(htmlsafe_json_dumps(list(e.tags), dumps=self._dumps, **self._kwargs))),
                    "".join([f'<span class="tag">{out(t)}</span>' for t in e.tags]))
            if len(self._tags) < _SHARED:
                self._tags[e.tags] = tags
        reason = muted if e.reason is None or e.reason == "" else self._once(
            ("reason", e.reason), lambda: f"<code>{out(e.reason)}</code>")
        summary = muted if e.summary is None or e.summary == "" else self._once(
            ("summary", e.summary), lambda: out(e.summary))
        status = muted if current.status is None else (
            f"<code>{current.status}</code>" if type(current.status) is int else f"<code>{out(current.status)}</code>")
        if self._target[0] != e.target or self._target[1] != e.url:
            self._target = (e.target, e.url, out(e.target), out(self._url(e.url)))
        target, url = self._target[2], self._target[3]
        final = (muted if current.final_url is None or current.final_url == "" else
                 f"<code>{url if current.final_url == e.url else out(self._url(current.final_url))}</code>")
        captured = out(self._utc(current.started))
        alert, flag = (' data-alert="1"', '<span class="flag">alerted</span>') if e.alert else ("", "")
        evidence = f'<a href="{out(row.page)}">details</a>' if row.page else muted
        return Markup(
            f'{verdict[0]}{tags[0]}"{alert} data-captured="{captured}">\n'
            f'<td data-label="Target">{target}<br><code class="muted">{url}</code></td>\n'
            f'<td data-label="Tags">{tags[1]}</td>\n'
            f'{verdict[1]}{flag}</td>\n'
            f'<td data-label="Reason">{reason}</td>\n'
            f'<td data-label="Summary">{summary}</td>\n'
            f'<td data-label="Status">{status}</td>\n'
            f'<td data-label="Captured (UTC)"><code>{captured}</code></td>\n'
            f'<td data-label="Final URL">{final}</td>\n'
            f'<td data-label="Evidence">{evidence}</td>\n'
            '</tr>')


#: Distinct values a :class:`RowWriter` keeps escaped.
_SHARED = 4096


def _grouped(rows: Sequence[IndexRow]) -> tuple[list[IndexRow], list[dict]]:
    """``rows`` with each target's first row numbered, and the groups (number, target, events) in order."""
    out: list[IndexRow] = []
    groups: list[dict] = []
    for r in rows:
        if groups and groups[-1]["target"] == r.event.target:
            groups[-1]["events"] += 1
            out.append(r)
        else:
            groups.append({"number": len(groups) + 1, "target": r.event.target, "events": 1})
            n = len(groups)  # a group's first row: the plain one with its anchor (as the template writes it)
            out.append(replace(r, group=n, html=None if r.html is None else
                               Markup(f'<tr id="g-{n}" class="group-start"{r.html[3:]}')))
    return out, groups


def _list_page(verdict: str, number: int) -> str:
    return f"{verdict}-{number}.html"


def index_pages(env: jinja2.Environment, common: dict, rows: Iterable[tuple[ReportEvent, str | None]], *,
                page_rows: int = INDEX_PAGE_ROWS, robots: Sequence[tuple[str, dict]] = (), grouped: bool = False,
                notes: Sequence[str] = ()) -> Iterator[tuple[str, str]]:
    """``("index.html", html)``, then each list page's ``(name, html)`` (none in a small run).

    ``rows`` are ``(event, evidence page or None)`` in the order shown; ``common`` the
    template values every page has (its ``csp`` gains the script's hash on pages with a table);
    ``robots`` the hosts whose robots.txt newly shut archive crawlers out (a note on the index).
    ``grouped``: the rows come grouped by target (a window report): the index says "19 events on
    12 targets", lists the targets of the page with their number of events, and each target's first
    row on a page is an anchor (linked as ``index.html#g-<n>``, the report's own file).
    ``notes``: lines shown at the top of the index.
    """
    page_rows = max(1, page_rows)
    template = env.get_template("index.html")
    writer = RowWriter(env)
    strict, allowed = Markup(common["csp"]), Markup(script_csp(common["csp"]))  # the script only with a table
    common = {**common, "script": Markup(SCRIPT), "page_rows": page_rows}
    # Read twice, held never (#17): first the index (its counts, and the rows it lists: every row of a
    # small run, the rows that need a reader in a large one), then each quiet verdict's list pages, one
    # page of rows at a time. ``rows`` may be a list or an IndexSpool.
    counter: Counter = Counter()
    quiet: Counter = Counter()    # verdict -> its quiet rows
    shown: list[IndexRow] = []    # the index's rows (quiet ones too until there are more than page_rows)
    outside, targets, alerts, total = [], set(), 0, 0
    for event, page in rows:
        total += 1
        counter[event.verdict] += 1
        alerts += event.alert
        if "outside-main" in event.current.flags:
            outside.append(event.target)
        if grouped:
            targets.add(event.target)
        if _quiet(event):
            quiet[event.verdict] += 1
            if sum(quiet.values()) == page_rows + 1:   # a large run: the quiet rows go to their own pages
                shown = [r for r in shown if not _quiet(r.event)]
            if sum(quiet.values()) > page_rows:
                continue
        shown.append(_row(event, page, writer))
    paged = sum(quiet.values()) > page_rows
    pages = {verdict: [_list_page(verdict, n) for n in range(1, -(-quiet[verdict] // page_rows) + 1)]
             for verdict in LISTED_VERDICTS if paged and quiet[verdict]}
    groups = None
    if grouped:
        shown, groups = _grouped(shown)
    window = {"targets": len(targets)} if grouped else None
    counts = [(verdict, n, pages[verdict][0] if verdict in pages else None)
              for verdict, n in sorted(counter.items(), key=lambda c: verdict_order(c[0]))]
    yield "index.html", template.render(
        common, csp=allowed if shown else strict, rows=shown, listing=None, counts=counts, total=total, alerts=alerts,
        lists=[(verdict, quiet[verdict], pages[verdict]) for verdict in pages],
        outside=outside, robots=robots, groups=groups, window=window, notes=notes,
    )
    if not pages:
        return
    shown = None
    chunks: dict[str, list[IndexRow]] = {verdict: [] for verdict in pages}
    done = dict.fromkeys(pages, 0)   # rows of each verdict on its pages written

    def list_page(verdict: str) -> tuple[str, str]:
        chunk, number = chunks[verdict], done[verdict] // page_rows + 1
        listing = {"verdict": verdict, "number": number, "pages": pages[verdict], "total": quiet[verdict],
                   "first": done[verdict] + 1, "last": done[verdict] + len(chunk)}
        done[verdict] += len(chunk)
        chunks[verdict] = []
        return pages[verdict][number - 1], template.render(
            common, csp=allowed, rows=_grouped(chunk)[0] if grouped else chunk, listing=listing, counts=[],
            total=quiet[verdict], alerts=0, lists=[], outside=[], robots=(), groups=None, window=None, notes=(),
        )

    for event, page in rows:
        if _quiet(event):
            chunks[event.verdict].append(_row(event, page, writer))
            if len(chunks[event.verdict]) == page_rows:
                yield list_page(event.verdict)
    for verdict in pages:
        if chunks[verdict]:
            yield list_page(verdict)


def _quiet(event: ReportEvent) -> bool:
    """Listed on its verdict's own pages in a large run: unchanged or new, and no alert."""
    return event.verdict in LISTED_VERDICTS and not event.alert


class IndexSpool:
    """The index's rows of a report, ``(index_copy(event), evidence page or None)`` in order, appended as
    the evidence pages are written and read back by :func:`index_pages`, as often as it needs (#17).

    Up to ``held`` rows are kept in memory; past that, each ``held`` rows are pickled to an unnamed
    temporary file (this process's own, deleted when closed), so that a report of 100,000 events holds
    :data:`HELD_ROWS` rows at most (some 17 MB), not all of them. Pickling costs some 35 µs a row, a
    tenth of a second for a week of 1,000 targets, when they would have fitted (#17)."""

    def __init__(self, held: int = HELD_ROWS):
        self.held = held
        self._rows: list[tuple[ReportEvent, str | None]] = []
        self._file = None
        self._ends: list[int] = []   # where each pickled batch ends in the file

    def append(self, event: ReportEvent, page: str | None) -> None:
        self._rows.append((index_copy(event), page))
        if len(self._rows) >= self.held:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="lastseen-index-")
            self._file.seek(0, os.SEEK_END)
            pickle.dump(self._rows, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._ends.append(self._file.tell())
            self._rows = []

    def __iter__(self) -> Iterator[tuple[ReportEvent, str | None]]:
        start = 0
        for end in list(self._ends):
            self._file.seek(start)
            yield from pickle.loads(self._file.read(end - start))
            start = end
        yield from list(self._rows)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
