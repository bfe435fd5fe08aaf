"""HTML parsing and the visible-text walk (pure).

The body is parsed once with lxml (libxml2's HTML parser, the parser
BeautifulSoup's ``lxml`` builder drives too, so both see the same tree).
``ignore`` and ``select`` CSS selectors are matched by soupsieve on a
BeautifulSoup tree built only when there are selectors, and carried over to the
lxml tree element for element (:func:`_apply_selectors`). One iterative walk
(:class:`_TextBuilder`) yields both the visible text, in reading order, and
the links (its :class:`~crawler.extract.links._LinkCollector` half) with their
anchor text (the text pieces met inside each ``<a>``, gathered as they are added
to the lines). The
tables below say which elements are skipped outright, which are muted (their
text is never shown but their links count), which start a line, which are
table cells and which are preformatted; ``hidden`` elements and inline
``display:none`` / ``visibility:hidden`` styles are muted too.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from .links import (
    _find_description,
    _find_heading,
    _find_title,
    _http_base,
    _LinkCollector,
)
from .text import _normalise_line

if TYPE_CHECKING:  # BeautifulSoup and soupsieve are imported when a page has selectors to match (#17)
    import soupsieve
    from bs4 import BeautifulSoup, Tag

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
_HIDDEN_STYLE_RE = re.compile(
    r"(?:^|[;\s])(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse))\s*(?:!\s*important\s*)?(?:;|$)",
    re.I,
)
_END = object()
_MUTING, _LINK = 1, 2  # what an element open in the walk does: mutes its text, is a link


def _parse_html(text: str) -> HtmlElement | None:
    """The lxml tree of ``text``; None when it holds no element at all (an empty body).

    libxml2's tree builder keeps :data:`_MAX_DEPTH` levels of nesting and drops what is deeper;
    :func:`_read_html` notices and builds the tree from BeautifulSoup's instead.
    """
    parser = etree.HTMLParser(recover=True)  # lxml.html.HTMLParser's settings, with a lookup made in C
    parser.set_element_class_lookup(_ELEMENT_CLASSES)
    parser.feed(text)  # a str, as BeautifulSoup's lxml builder feeds it: no encoding declaration applies
    return parser.close()


#: Every node of a parsed page as an ``lxml.html`` class (``HtmlElement``, ``HtmlComment``...), picked in C.
#: ``lxml.html.HTMLParser``'s own lookup is a Python method called for each node lxml hands to Python
#: (the text walk and trafilatura meet every element at least once): about a fifth of the time of
#: ``select: auto`` (bench/README.md, "#17 where the CPU goes"). The only classes it gives that this does
#: not are the form helpers (``FormElement``, ``InputElement``...), subclasses of ``HtmlElement`` whose
#: extra methods nothing here or in trafilatura calls; the tree itself is libxml2's either way.
_ELEMENT_CLASSES = etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
)
#: Levels of nesting libxml2 keeps in a tree (deeper content is dropped).
_MAX_DEPTH = 256
_HTML_END_RE = re.compile(r"</html\s*>", re.I)


def _without_early_end(text: str) -> str:
    """``text`` without its ``</html>`` end tags when something follows the last one.

    libxml2's tree builder drops whatever comes after ``</html>``; browsers (and BeautifulSoup)
    show it: a banner injected after the end of the page is part of what people see.
    """
    ends = list(_HTML_END_RE.finditer(text))
    if not ends or not text[ends[-1].end():].strip():
        return text
    return _HTML_END_RE.sub("", text)


def _parse_soup(text: str) -> BeautifulSoup:
    # BeautifulSoup (and soupsieve) only for pages with selectors to match, or nested past libxml2's depth:
    # imported then, not by every run (some 0.05-0.1 s of CPU each; #17).
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

    # bs4 warns about markup that looks like a URL, a file name or XML; all are
    # legitimate bodies here (and pytest turns warnings into errors).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(text, "lxml")


def _is_hidden(element: HtmlElement) -> bool:
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
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

    __slots__ = ("lines", "link_chars", "parts", "cells", "linked", "deepest")

    def __init__(self, base: str, max_links: int | None = None):
        super().__init__(base, max_links)
        self.lines: list[str] = []
        self.link_chars: list[int] = []  # per line: about how many of its characters are link text
        self.parts: list[str] = []
        self.cells: list[int] = []  # indexes into parts where a table cell starts
        self.linked = 0  # characters of parts that are inside a link
        self.deepest = 0  # the deepest nesting met (elements open at once)

    def newline(self) -> None:
        parts = self.parts
        if not parts:
            self.cells.clear()
            return
        if self.cells:
            bounds = [0, *self.cells, len(parts)]
            cells = (_normalise_line("".join(parts[a:b])) for a, b in zip(bounds, bounds[1:]))
            line = " | ".join(cell for cell in cells if cell)
            self.cells.clear()
            raw = sum(map(len, parts))
        else:
            joined = "".join(parts)
            line = _normalise_line(joined)
            raw = len(joined)
        parts.clear()
        if line:
            self.lines.append(line)
            self.link_chars.append(min(len(line), self.linked * len(line) // raw) if self.linked else 0)
        self.linked = 0

    def _pre_text(self, text: str) -> None:
        pieces = text.split("\n")
        self.parts.append(pieces[0])
        for piece in pieces[1:]:
            self.newline()
            self.parts.append(piece)

    def walk(self, root: HtmlElement) -> None:
        """Iterative pre-order walk (deeply nested pages do not hit the recursion limit).

        Text is an element's ``text`` and, once it is closed, its ``tail`` (in its
        parent's context); the tail of ``root`` itself is outside the walk.
        """
        parts = self.parts
        add, newline, pre_text = parts.append, self.newline, self._pre_text
        # (children, name, flags (_MUTING, _LINK), element whose tail follows its end)
        stack: list[tuple[Iterator, str | None, int, HtmlElement | None]] = [(iter((root,)), None, 0, None)]
        muted = 0  # depth of hidden ancestors: links still count, text does not
        pre = 0
        linking = 0  # depth of links: their text is counted in self.linked
        anchor: list[str] = []  # the text pieces met inside the open links (their anchor text)
        add_anchor, texts = anchor.append, self.texts
        opened: list[tuple[str | None, int, HtmlElement]] = []  # open links: URL kept, start in anchor, element
        deepest = self.deepest
        while stack:
            child = next(stack[-1][0], _END)
            if child is _END:
                _, name, flags, closed = stack.pop()
                if flags:
                    if flags & _MUTING:
                        muted -= 1
                    if flags & _LINK:
                        linking -= 1
                        url, start, element = opened.pop()
                        if url is not None and url not in texts:
                            self.anchor(url, anchor, start, element)
                        if not linking:
                            anchor.clear()
                if name is not None:
                    if name in _PREFORMATTED:
                        pre -= 1
                    if name in _BLOCK:
                        newline()
                        if linking:
                            add_anchor(" ")
                tail = closed.tail if closed is not None else None
                if tail and not muted:
                    pre_text(tail) if pre else add(tail)
                    if linking:
                        self.linked += len(tail)
                        add_anchor(tail)
                continue
            name = child.tag
            if name.__class__ is not str or name in _SKIP or name == "br":
                # A comment, processing instruction, skipped element or line break: no text of
                # its own (a <br> ends the line), then its tail.
                if name == "br" and not muted:
                    newline()
                if linking and not muted and (name == "br" or name == "img"):
                    add_anchor(f" {child.get('alt') or ''} " if name == "img" else " ")
                tail = child.tail
                if tail and not muted:
                    pre_text(tail) if pre else add(tail)
                    if linking:
                        self.linked += len(tail)
                        add_anchor(tail)
                continue
            flags = 0
            if name in _LINKING:
                href = child.get("href")
                if href is not None:
                    opened.append((self.link(href), len(anchor), child))
                    flags = _LINK
                    linking += 1
            if name in _MUTED or _is_hidden(child):
                flags |= _MUTING
                muted += 1
            if name in _BLOCK:
                newline()
                if linking:
                    add_anchor(" ")
            elif name in _CELLS and not muted:
                self.cells.append(len(parts))
                if linking:
                    add_anchor(" ")
            if name in _PREFORMATTED:
                pre += 1
            text = child.text
            if text and not muted:
                pre_text(text) if pre else add(text)
                if linking:
                    self.linked += len(text)
                    add_anchor(text)
            depth = len(stack)
            stack.append((iter(child), name, flags, child if depth > 1 else None))  # not the root's tail
            if depth >= deepest:
                deepest = depth + 1
        self.deepest = deepest
        self.newline()


# --- selectors: matched by soupsieve on BeautifulSoup, applied to the lxml tree -------------------


def _elements(root: HtmlElement) -> list[HtmlElement]:
    return [element for element in root.iter() if isinstance(element.tag, str)]


def _apply_selectors(
    text: str,
    root: HtmlElement,
    select: soupsieve.SoupSieve | None,
    ignore: Sequence[soupsieve.SoupSieve],
    *,
    rebuild: bool = False,
) -> tuple[HtmlElement, list[HtmlElement] | None]:
    """Remove ``ignore`` matches from the tree, then find the ``select`` matches (outermost only).

    Returns the tree (``root`` itself, or a rebuilt one in the rare case described below) and the
    selected elements (None without ``select``). The selectors are soupsieve's, on a BeautifulSoup
    tree of the same text: the lxml tree is the one BeautifulSoup's lxml builder sees, so its
    elements correspond one to one, in document order. When they do not (libxml2's tree builder
    merges a second ``<html>`` tag into the first, BeautifulSoup nests it), the lxml tree is
    rebuilt from the BeautifulSoup one instead; ``rebuild`` asks for that whatever the trees.
    """
    from bs4 import Tag

    soup = _parse_soup(text)
    tags = [node for node in soup.descendants if isinstance(node, Tag)]
    elements = _elements(root)
    if rebuild or len(tags) != len(elements) or any(tag.name != element.tag for tag, element in zip(tags, elements)):
        root, elements = _tree_from_soup(soup, tags)
    position = {id(tag): index for index, tag in enumerate(tags)}
    for pattern in ignore:
        for tag in _outermost(pattern.select(soup)):
            element = elements[position[id(tag)]]
            tag.decompose()
            if element is root:
                root = lxml.html.Element("html")
            else:
                element.drop_tree()  # keeps the tail, as decompose() does
    if select is None:
        return root, None
    return root, [elements[position[id(tag)]] for tag in _outermost(select.select(soup))]


def _tree_from_soup(soup: BeautifulSoup, tags: list[Tag]) -> tuple[HtmlElement, list[HtmlElement]]:
    """An lxml tree built from a BeautifulSoup tree, and its elements in the order of ``tags``."""
    from bs4 import CData, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

    not_text = (Comment, CData, ProcessingInstruction, Declaration, Doctype)  # strings that are not text
    made: dict[int, HtmlElement] = {}
    root = lxml.html.Element("html")
    last: dict[int, HtmlElement | None] = {}  # id(parent element) -> its last child element so far
    for node in soup.descendants:
        parent_tag = node.parent
        parent = made.get(id(parent_tag), root)
        if isinstance(node, Tag):
            try:
                element = etree.SubElement(parent, node.name)
            except ValueError:  # a tag name lxml refuses (stray characters): an inline stand-in
                element = etree.SubElement(parent, "span")
            for key, value in node.attrs.items():
                try:
                    element.set(key, " ".join(value) if isinstance(value, list) else str(value))
                except (ValueError, TypeError):
                    pass
            made[id(node)] = element
            last[id(parent)] = element
        elif isinstance(node, NavigableString) and not isinstance(node, not_text):
            previous = last.get(id(parent))
            if previous is None:
                parent.text = (parent.text or "") + str(node)
            else:
                previous.tail = (previous.tail or "") + str(node)
    return root, [made[id(tag)] for tag in tags]


@dataclass
class _HtmlPage:
    """What the walk found in an HTML page."""

    root: HtmlElement | None  #: the tree, ``ignore`` matches removed
    title: str | None
    heading: str | None
    lines: list[str]  #: the whole page's text lines
    links: tuple[str, ...]  #: the whole page's links
    link_chars: list[int] = field(default_factory=list)  #: per line of ``lines``: about how much is link text
    selected: list[str] | None = None  #: the text lines of the ``select`` matches (None without ``select``)
    selected_links: tuple[str, ...] = ()  #: their links
    link_texts: dict[str, str] = field(default_factory=dict)  #: anchor text of ``links`` (those that have one)
    selected_link_texts: dict[str, str] = field(default_factory=dict)  #: ... of ``selected_links``
    description: str | None = None  #: ``<meta name="description">`` (else ``og:description``), normalised


def _read_html(
    text: str,
    url: str,
    select: soupsieve.SoupSieve | None,
    ignore: Sequence[soupsieve.SoupSieve],
    max_links: int | None = None,
) -> _HtmlPage:
    """Parse ``text``, remove ``ignore`` matches, walk the whole page and the ``select`` matches."""
    text = _without_early_end(text)
    root = _parse_html(text)
    if root is None:
        return _HtmlPage(None, None, None, [], (), selected=None if select is None else [])
    title, heading, description = _find_title(root), _find_heading(root), _find_description(root)
    base = _http_base(url, root)
    rebuilt = False
    while True:
        selected = None
        if select is not None or ignore or rebuilt:
            root, selected = _apply_selectors(text, root, select, ignore, rebuild=rebuilt)
        page = _TextBuilder(base, max_links)
        page.walk(root)
        if page.deepest < _MAX_DEPTH - 1 or rebuilt:
            break
        rebuilt = True  # libxml2 may have dropped what was nested deeper: BeautifulSoup's tree has it
    result = _HtmlPage(root, title, heading, page.lines, tuple(page.links), page.link_chars,
                       link_texts=page.texts, description=description)
    if selected is not None:
        part = _TextBuilder(base, max_links)
        for element in selected:
            part.walk(element)
        result.selected, result.selected_links, result.selected_link_texts = part.lines, tuple(part.links), part.texts
    return result
