"""HTML parsing and the visible-text walk (pure).

The body is parsed with BeautifulSoup + lxml; ``ignore`` matches are removed,
then only ``select`` matches are walked. One iterative walk
(:class:`_TextBuilder`) yields both the visible text, in reading order, and
the links (its :class:`~crawler.extract.links._LinkCollector` half). The
tables below say which elements are skipped outright, which are muted (their
text is never shown but their links count), which start a line, which are
table cells and which are preformatted; ``hidden`` elements and inline
``display:none`` / ``visibility:hidden`` styles are muted too.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence

import soupsieve
from bs4 import (
    BeautifulSoup,
    MarkupResemblesLocatorWarning,
    NavigableString,
    Tag,
    XMLParsedAsHTMLWarning,
)
from bs4.element import RubyTextString

from .links import _find_heading, _find_title, _http_base, _LinkCollector
from .text import _normalise_line

#: Elements whose subtree never yields text nor links.
_SKIP = frozenset(
    {
        "script", "style", "template", "head", "title", "meta", "link", "base",
        "iframe", "frame", "frameset", "object", "embed", "param", "source", "track",
        "input", "img",
    }
)
#: Elements whose text is never shown but whose links are still the page's links.
_MUTED = frozenset({"noscript", "canvas", "datalist", "rp", "audio", "video"})
#: Elements that start and end a line.
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd",
        "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr",
        "html", "legend", "li", "listing", "main", "menu", "nav", "ol", "optgroup",
        "option", "p", "plaintext", "pre", "section", "summary", "table", "tbody",
        "textarea", "tfoot", "thead", "tr", "ul", "xmp", "select", "search", "output",
        "colgroup", "map",
    }
)
_CELLS = frozenset({"td", "th"})
_PREFORMATTED = frozenset({"pre", "textarea", "listing", "plaintext", "xmp"})
_LINKING = frozenset({"a", "area"})
_TEXT_STRINGS = (NavigableString, RubyTextString)
_HIDDEN_STYLE_RE = re.compile(
    r"(?:^|[;\s])(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse))\s*(?:!\s*important\s*)?(?:;|$)",
    re.I,
)
_END = object()


def _parse_html(text: str) -> BeautifulSoup:
    # bs4 warns about markup that looks like a URL, a file name or XML; all are
    # legitimate bodies here (and pytest turns warnings into errors).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(text, "lxml")


def _is_hidden(attrs: dict) -> bool:
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    return bool(style) and _HIDDEN_STYLE_RE.search(style) is not None


def _outermost(matches: list[Tag]) -> list[Tag]:
    chosen = {id(tag) for tag in matches}
    keep = []
    for tag in matches:
        parent = tag.parent
        while parent is not None and id(parent) not in chosen:
            parent = parent.parent
        if parent is None:
            keep.append(tag)
    return keep


class _TextBuilder(_LinkCollector):
    """Collects lines of visible text and links while walking the tree."""

    __slots__ = ("lines", "parts", "cells")

    def __init__(self, base: str, max_links: int | None = None):
        super().__init__(base, max_links)
        self.lines: list[str] = []
        self.parts: list[str] = []
        self.cells: list[int] = []  # indexes into parts where a table cell starts

    def newline(self) -> None:
        if not self.parts:
            self.cells.clear()
            return
        if self.cells:
            bounds = [0, *self.cells, len(self.parts)]
            cells = (_normalise_line("".join(self.parts[a:b])) for a, b in zip(bounds, bounds[1:]))
            line = " | ".join(cell for cell in cells if cell)
            self.cells.clear()
        else:
            line = _normalise_line("".join(self.parts))
        self.parts.clear()
        if line:
            self.lines.append(line)

    def walk(self, root: Tag) -> None:
        """Iterative pre-order walk (deeply nested pages do not hit the recursion limit)."""
        parts = self.parts
        stack: list[tuple[Iterator, str | None, bool]] = [(iter((root,)), None, False)]
        muted = 0  # depth of hidden ancestors: links still count, text does not
        pre = 0
        while stack:
            children, _, _ = stack[-1]
            child = next(children, _END)
            if child is _END:
                _, name, was_muted = stack.pop()
                if was_muted:
                    muted -= 1
                if name is not None:
                    if name in _PREFORMATTED:
                        pre -= 1
                    if name in _BLOCK:
                        self.newline()
                continue
            if isinstance(child, NavigableString):
                if muted or type(child) not in _TEXT_STRINGS:
                    continue
                if pre:
                    pieces = str(child).split("\n")
                    parts.append(pieces[0])
                    for piece in pieces[1:]:
                        self.newline()
                        parts.append(piece)
                else:
                    parts.append(child)
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _SKIP:
                continue
            attrs = child.attrs
            if name in _LINKING:
                href = attrs.get("href")
                if isinstance(href, str):
                    self.link(href)
            if name == "br":
                if not muted:
                    self.newline()
                continue
            hide = name in _MUTED or _is_hidden(attrs)
            if hide:
                muted += 1
            if name in _BLOCK:
                self.newline()
            elif name in _CELLS and not muted:
                self.cells.append(len(parts))
            if name in _PREFORMATTED:
                pre += 1
            stack.append((iter(child.contents), name, hide))
        self.newline()


def _extract_html(
    text: str,
    url: str,
    select: soupsieve.SoupSieve | None,
    ignore: Sequence[soupsieve.SoupSieve],
    max_links: int | None = None,
) -> tuple[str, str | None, str | None, tuple[str, ...]]:
    """(text, title, main heading, links) of an HTML page."""
    soup = _parse_html(text)
    title = _find_title(soup)
    heading = _find_heading(soup)
    builder = _TextBuilder(_http_base(url, soup), max_links)

    for pattern in ignore:
        for tag in _outermost(pattern.select(soup)):
            tag.decompose()
    roots: list[Tag] = [soup] if select is None else _outermost(select.select(soup))
    for root in roots:
        builder.walk(root)
    return "\n".join(builder.lines), title, heading, tuple(builder.links)
