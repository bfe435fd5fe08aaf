"""The main content of an HTML page (pure): which of its text lines are the article, not the page around it.

``select: auto`` compares a page's main content, so that a new menu entry, a
cookie banner or a "most read" box does not count as a change. Finding it is
left to `trafilatura <https://trafilatura.readthedocs.io>`_ (docs/main-content.md
says why that library): :func:`find_main` hands it the page's lxml tree (the one
our own walk read, ``ignore`` matches already removed) and takes back the text
it kept. That text is never compared as is: each of the page's own lines (what
:mod:`~crawler.extract.html` made of the page, one block per line) is kept when
the library kept it, so the main content is a subset of the page's lines, in
page order, normalised exactly like them, and diffs stay line and word based
(:func:`_align`).

The library runs in its fast mode (its own rules only); when that keeps less
than :data:`RETRY_SHARE` of the page's text, its full cascade runs (its
rules compared with readability's and jusText's algorithms, a recall retry).

When the page has one ``<article>`` holding all the library kept, the whole
``<article>`` is kept (the library leaves out lists of links and short blocks:
a notice's list of documents). When the library's pick is not usable, the
page's one ``<article>``, else its one ``<main>`` (or ``role=main``), is its main
content however short (a case study emptied to a one-line stub), unless it is
mostly link text.
"Nothing usable" (:func:`_usable`): no line at all; or fewer than
:data:`MIN_MAIN_CHARS` characters that are also less than :data:`MIN_MAIN_SHARE`
of the page's text; or more than :data:`MAX_LINK_SHARE` of it link text (the
library hands back a link index or a page of navigation whole: there is no
article in it). The caller then compares the whole page and says so
(``auto-fallback``).

Bounded and total: a tree of more than :data:`MAX_ELEMENTS` elements is not
handed to the library (its time grows faster than the page: 0.2 s at 10,000
elements, 17 s at 100,000), and anything it raises means "nothing usable". The
bound is a count, not a clock, so the same page always gives the same answer.
The library is only ever given a tree: it never fetches anything.
"""

from __future__ import annotations

import bisect
import functools
import importlib.metadata
import logging
import warnings
from collections.abc import Sequence
from itertools import islice

from lxml import etree
from lxml.html import HtmlElement

from .text import _normalise_line

__all__ = [
    "MAX_ELEMENTS", "MAX_LINK_SHARE", "MIN_MAIN_CHARS", "MIN_MAIN_SHARE", "RETRY_SHARE", "find_main", "library_version",
]

#: Trees with more elements than this are not searched for main content (the page is compared whole).
MAX_ELEMENTS = 10_000
#: Main content this long (in characters, lines joined) is usable whatever the page's size.
MIN_MAIN_CHARS = 200
#: Shorter main content is usable when it is at least this share of the page's text (a short page).
MIN_MAIN_SHARE = 0.5
#: Main content more than this share of which is link text is a list of links, not content (a link
#: index, a page of navigation only: the library hands back all it found there).
MAX_LINK_SHARE = 0.5
#: The library's fast mode keeping less than this share of the page's text makes its full cascade run.
RETRY_SHARE = 0.25
#: A line that is not one of the library's lines is kept when it is this long and found in its text.
MIN_MATCH_CHARS = 20


# trafilatura logs every page it finds nothing in ("discarding data") at WARNING: a page without
# main content is an ordinary outcome here, reported as the auto-fallback flag.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


@functools.cache
def library_version() -> str:
    """The library that finds main content, and its version ("trafilatura 2.3.1").

    Another version may draw the line between main content and the rest elsewhere on some pages:
    a capture's extraction settings should name it, so that text is not reused across versions.
    """
    return f"trafilatura {importlib.metadata.version('trafilatura')}"


def find_main(root: HtmlElement, lines: Sequence[str], link_chars: Sequence[int] | None = None) -> list[int] | None:
    """The indexes of ``lines`` (the text lines of ``root``) that are its main content, in order.

    ``link_chars`` says, line by line, how many characters are link text. None when there is
    nothing usable (see the module's docstring): the caller falls back to the whole page.
    """
    page_chars = sum(map(len, lines)) + max(0, len(lines) - 1)
    if not page_chars or len(root) == 0:
        return None
    if sum(1 for _ in islice(root.iter(), MAX_ELEMENTS + 1)) > MAX_ELEMENTS:
        return None
    try:
        kept = _align(lines, _library_lines(root, fast=True))
        if _chars(lines, kept) < RETRY_SHARE * page_chars:
            kept = max(kept, _align(lines, _library_lines(root, fast=False)), key=lambda k: _chars(lines, k))
    except Exception:  # noqa: BLE001 - whatever the library does with a hostile page: nothing usable
        return None
    main_chars = _chars(lines, kept)
    linked = sum(link_chars[i] for i in kept) if link_chars is not None else 0
    if _usable(main_chars, page_chars, linked):
        # Inside the page's one <article>, all of it is the article: the library leaves out lists of
        # links and short blocks (a notice's "Documents" list), and a removed contract is a change.
        article = _one(root, "//article")
        if article is not None:
            inside = _align(lines, _body_lines(article))
            if inside and set(kept) <= set(inside):
                kept = sorted(set(inside) | set(kept))
        return kept
    # The library found nothing it calls an article (a page emptied to a one-line stub): the page's
    # own <main> (or its one <article>) is its main content, however short, if not a list of links.
    kept = _align(lines, _semantic_lines(root))
    linked = sum(link_chars[i] for i in kept) if link_chars is not None else 0
    return kept if kept and linked <= MAX_LINK_SHARE * _chars(lines, kept) else None


def _semantic_lines(root: HtmlElement) -> list[str]:
    """The lines of the page's one ``<article>``, else of its one ``<main>`` (or ``role=main``) element."""
    for path in ("//article", "//main | //*[@role='main']"):
        found = _one(root, path)
        if found is not None:
            return _body_lines(found)
    return []


def _one(root: HtmlElement, path: str) -> HtmlElement | None:
    """The element ``path`` finds, when it finds exactly one."""
    found = root.xpath(path)
    return found[0] if len(found) == 1 else None


def _usable(main_chars: int, page_chars: int, linked: int = 0) -> bool:
    return (
        main_chars > 0
        and (main_chars >= MIN_MAIN_CHARS or main_chars >= MIN_MAIN_SHARE * page_chars)
        and linked <= MAX_LINK_SHARE * main_chars
    )


def _chars(lines: Sequence[str], kept: Sequence[int]) -> int:
    """Characters of the kept lines joined with newlines."""
    return sum(len(lines[i]) for i in kept) + max(0, len(kept) - 1)


def _library_lines(root: HtmlElement, *, fast: bool) -> list[str]:
    """The lines of text trafilatura keeps as the main content of ``root`` (it works on a copy)."""
    import trafilatura  # imported on first use: ~0.1 s, and only `select: auto` needs it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a library's deprecation notice must not fail a capture
        document = trafilatura.bare_extraction(root, options=_options(fast))
    if document is None or document.body is None:
        return []
    return _body_lines(document.body)


#: Elements of trafilatura's result that do not start a line: its own inline vocabulary (hi, ref,
#: del) and, when it hands back a piece of the page as it is, HTML's inline elements.
_INLINE = frozenset(
    {"hi", "ref", "del", "a", "abbr", "b", "bdi", "bdo", "cite", "data", "dfn", "em", "font", "i", "kbd",
     "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var"}
)


def _body_lines(body) -> list[str]:
    """The lines of trafilatura's result tree: a block element or a line break ends a line.

    Read from the tree rather than from its plain-text rendering, which adds list and table
    marks and unescapes entities a second time. Each table row is also given as one line, its
    cells joined as our walk joins them.
    """
    lines: list[str] = []
    parts: list[str] = []

    def end_line() -> None:
        if parts:
            lines.append("".join(parts))
            parts.clear()

    for event, element in etree.iterwalk(body, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag.__class__ is str and tag not in _INLINE:
                end_line()  # a block (or a line break) starts a line
            if element.text and tag.__class__ is str:
                parts.append(element.text)
            continue
        if tag.__class__ is str and tag not in _INLINE and tag != "lb":
            end_line()
        if element.tail and element is not body:
            parts.append(element.tail)
    end_line()
    for row in body.iter("row", "tr"):
        cells = (" ".join("".join(cell.itertext()).split()) for cell in row.iter("cell", "td", "th"))
        lines.append(" | ".join(cell for cell in cells if cell))
    return lines


@functools.cache
def _options(fast: bool):
    """trafilatura's settings, made once (reading its configuration costs more than a small page)."""
    from trafilatura.settings import Extractor

    return Extractor(
        output_format="txt",  # its result tree only (the plain text is not rendered)
        fast=fast,
        comments=False,  # reader comments are not the page's content
        tables=True,
        images=False,
        links=False,
        formatting=False,
        dedup=False,
        with_metadata=False,  # no date or author search: only the text
    )


def _key(line: str) -> str:
    """A normalised line as compared: table bars as spaces, no leading list marker "- "."""
    if "|" in line:
        line = " ".join(line.replace("|", " ").split())
    return line[2:] if line.startswith("- ") else line


def _align(lines: Sequence[str], library: Sequence[str]) -> list[int]:
    """Which of our ``lines`` the ``library``'s lines hold, as sorted indexes into ``lines``.

    The two split text differently (the library flattens a table row into one line, we give a
    block inside a cell its own line; it may drop an inline part of a paragraph), so a line is
    kept when

    1. it is one of the library's lines; or
    2. it has at least :data:`MIN_MATCH_CHARS` characters and is found, between word boundaries,
       in the library's text; or
    3. it lies inside a run of our lines that together make one of the library's lines of at
       least :data:`MIN_MATCH_CHARS` characters (a table row, a cell of several blocks).

    Comparisons ignore table bars and whitespace runs.
    """
    keys = [_key(line) for line in lines]
    segments = [key for key in (_key(_normalise_line(line)) for line in library) if key]
    if not segments:
        return []
    exact = set(segments)
    stream = " " + " ".join(segments) + " "
    kept = [False] * len(keys)
    for index, key in enumerate(keys):
        if key in exact or (len(key) >= MIN_MATCH_CHARS and f" {key} " in stream):
            kept[index] = True
    # 3: library lines spanning several of our lines (only those no line matched whole)
    starts: list[int] = []
    position = 1
    for key in keys:
        starts.append(position)
        position += len(key) + 1
    page = " " + " ".join(keys) + " "
    matched = {key for key, keep in zip(keys, kept) if keep}
    for segment in exact:
        if len(segment) < MIN_MATCH_CHARS or segment in matched:
            continue
        found = page.find(f" {segment} ")
        while found != -1:
            begin, end = found + 1, found + 1 + len(segment)
            first = bisect.bisect_left(starts, begin)
            index = first
            while index < len(keys) and starts[index] + len(keys[index]) <= end:
                kept[index] = True
                index += 1
            found = page.find(f" {segment} ", end)
    return [index for index, keep in enumerate(kept) if keep and keys[index]]
