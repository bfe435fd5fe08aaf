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
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from ..verdicts import order as verdict_order
from .reasons import deciding_signal, keyword_tags

if TYPE_CHECKING:
    from .render import ReportEvent

__all__ = ["INDEX_PAGE_ROWS", "LISTED_VERDICTS", "SCRIPT", "SCRIPT_SOURCE", "index_pages", "is_list_page",
           "load_script", "script_csp", "script_source"]

#: Rows of a list page of quiet targets (and how many quiet targets the index holds before they are paged).
INDEX_PAGE_ROWS = 500

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


def index_copy(event: ReportEvent) -> ReportEvent:
    """What the index keeps of an event once its page is written: its row's fields only (no texts, diff,
    images, compared capture, WARC or document details), so that a report of 100,000 events holds
    100,000 rows of a few hundred bytes, not their captures."""
    current = event.current
    return replace(
        event, diff=None, old_text=None, new_text=None, screenshot=None, compared_screenshot=None, page=None,
        compared=None, current=replace(
            current, url="", status_chain=(), warc_file=None, warc_offset=None, warc_record_id=None,
            record_type=None, payload_sha256=None, title=None, tls_error=None, screenshot_record_id=None,
            screenshot_missing=None, document=None))


def _row(event: ReportEvent, page: str | None) -> IndexRow:
    return IndexRow(event, page, deciding_signal(event.verdict, event.reason, event.signals),
                    keyword_tags(event.significance), verdict_order(event.verdict)[0])


def _counts(events: Sequence[ReportEvent]) -> list[tuple[str, int]]:
    counter = Counter(e.verdict for e in events)
    return [(v, counter[v]) for v in sorted(counter, key=verdict_order)]


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
            out.append(replace(r, group=len(groups)))
    return out, groups


def _list_page(verdict: str, number: int) -> str:
    return f"{verdict}-{number}.html"


def index_pages(env: jinja2.Environment, common: dict, rows: Sequence[tuple[ReportEvent, str | None]], *,
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
    strict, allowed = Markup(common["csp"]), Markup(script_csp(common["csp"]))  # the script only with a table
    common = {**common, "script": Markup(SCRIPT), "page_rows": page_rows}
    every = [_row(event, page) for event, page in rows]
    quiet = [r for r in every if r.event.verdict in LISTED_VERDICTS and not r.event.alert]
    lists: dict[str, list[list[IndexRow]]] = {}
    if len(quiet) > page_rows:
        for verdict in LISTED_VERDICTS:
            these = [r for r in quiet if r.event.verdict == verdict]
            if these:
                lists[verdict] = [these[i:i + page_rows] for i in range(0, len(these), page_rows)]
        listed = {id(r) for r in quiet}
        shown = [r for r in every if id(r) not in listed]
    else:
        shown = every
    pages = {verdict: [_list_page(verdict, n) for n in range(1, len(chunks) + 1)] for verdict, chunks in lists.items()}
    events = [r.event for r in every]
    groups = None
    if grouped:
        shown, groups = _grouped(shown)
        lists = {verdict: [_grouped(c)[0] for c in chunks] for verdict, chunks in lists.items()}
    window = {"targets": len({e.target for e in events})} if grouped else None
    counts = [(verdict, n, pages[verdict][0] if verdict in pages else None) for verdict, n in _counts(events)]
    yield "index.html", template.render(
        common, csp=allowed if shown else strict, rows=shown, listing=None, counts=counts, total=len(every), alerts=sum(1 for e in events if e.alert),
        lists=[(verdict, sum(len(c) for c in lists[verdict]), pages[verdict]) for verdict in lists],
        outside=[e.target for e in events if "outside-main" in e.current.flags], robots=robots,
        groups=groups, window=window, notes=notes,
    )
    for verdict, chunks in lists.items():
        total = sum(len(c) for c in chunks)
        first = 1
        for number, chunk in enumerate(chunks, 1):
            listing = {"verdict": verdict, "number": number, "pages": pages[verdict], "total": total,
                       "first": first, "last": first + len(chunk) - 1}
            first += len(chunk)
            yield pages[verdict][number - 1], template.render(
                common, csp=allowed, rows=chunk, listing=listing, counts=[], total=total, alerts=0, lists=[], outside=[], robots=(),
                groups=None, window=None, notes=(),
            )
