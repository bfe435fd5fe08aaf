"""The report's index: ``index.html``.

Every event of the run has a row, in the given (watchlist) order, with counts per
verdict. A row of a ``vanished``, ``moved`` or ``blocked`` target says what decided
its verdict (:mod:`.reasons`), a change names the keywords that appeared or
disappeared.

The index carries one script, lastseen's own (``crawler/templates/report.js``:
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from ..verdicts import order as verdict_order
from .reasons import deciding_signal, keyword_tags

if TYPE_CHECKING:
    from .render import ReportEvent

__all__ = ["SCRIPT", "SCRIPT_SOURCE", "index_pages", "script_csp"]

_SCRIPT_FILE = Path(__file__).resolve().parent.parent / "templates" / "report.js"


def _load_script() -> str:
    """``report.js``, checked to be safe to inline: ASCII, and nothing that could end a ``<script>``."""
    text = _SCRIPT_FILE.read_text(encoding="utf-8")
    if not text.isascii() or re.search(r"</script|<!--", text, re.IGNORECASE):
        raise RuntimeError(f"{_SCRIPT_FILE} must be ASCII and hold no '</script' or '<!--' to be inlined")
    return text


#: The index pages' script, exactly as inlined (read once).
SCRIPT = _load_script()

#: Its CSP source: the base64 SHA-256 of its UTF-8 bytes.
SCRIPT_SOURCE = "'sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii") + "'"


def script_csp(csp: str) -> str:
    """``csp`` that also lets the index's own script run, and no other."""
    return f"{csp}; script-src {SCRIPT_SOURCE}"


@dataclass(frozen=True)
class IndexRow:
    """One row of the index: the event (without texts), its evidence page and what the row says."""

    event: ReportEvent
    page: str | None
    signal: str | None  # what decided a vanished, moved or blocked verdict, in words
    keywords: list[tuple[str, str]]  # ("+" or "−", keyword) a change made appear or disappear
    rank: int  # the verdict's place in the registry (the script sorts by it)


def _row(event: ReportEvent, page: str | None) -> IndexRow:
    return IndexRow(event, page, deciding_signal(event.verdict, event.reason, event.signals),
                    keyword_tags(event.significance), verdict_order(event.verdict)[0])


def _counts(events: Sequence[ReportEvent]) -> list[tuple[str, int]]:
    counter = Counter(e.verdict for e in events)
    return [(v, counter[v]) for v in sorted(counter, key=verdict_order)]


def index_pages(env: jinja2.Environment, common: dict,
                rows: Sequence[tuple[ReportEvent, str | None]]) -> Iterator[tuple[str, str]]:
    """``("index.html", html)``.

    ``rows`` are ``(event, evidence page or None)`` in the order shown; ``common`` the
    template values every page has (its ``csp`` gains the script's hash on pages with a table).
    """
    template = env.get_template("index.html")
    strict, allowed = Markup(common["csp"]), Markup(script_csp(common["csp"]))  # the script only with a table
    common = {**common, "script": Markup(SCRIPT)}
    every = [_row(event, page) for event, page in rows]
    events = [r.event for r in every]
    yield "index.html", template.render(
        common, csp=allowed if every else strict, rows=every, counts=_counts(events), total=len(every),
        alerts=sum(1 for e in events if e.alert), outside=[e.target for e in events if "outside-main" in e.current.flags],
    )
