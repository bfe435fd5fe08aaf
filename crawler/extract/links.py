"""Links and page metadata: the ``<base>``, absolute links, their anchor text, the title and description (pure).

:class:`_LinkCollector` is the link half of the one tree walk done by
:class:`crawler.extract.html._TextBuilder`: each ``href`` is stripped of the
tab and newline characters browsers ignore, resolved against the page's base
URL, stripped of its fragment and kept if it is http(s), de-duplicated in
document order, at most :data:`MAX_LINKS` of them. Each link keeps the first
non-empty anchor text met for it (:meth:`_LinkCollector.anchor`: the visible
text of the ``<a>``, with the ``alt`` of its images; else its ``aria-label``
or ``title``), normalised like a line of text and cut to :data:`MAX_ANCHOR`
characters. :func:`_http_base` honours an http(s) ``<base href>``;
:func:`_find_title` finds the page's ``<title>``, :func:`_find_heading` its
main heading (the first ``<h1>``) (not one inside an inline SVG) and
:func:`_find_description` its ``<meta name="description">`` (else its
``og:description``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml.html import HtmlElement

from .text import _normalise_line

__all__ = ["MAX_ANCHOR", "MAX_DESCRIPTION", "MAX_LINKS"]

#: At most this many links are reported per page.
MAX_LINKS = 100_000
#: Characters of a link's anchor text kept (longer ones are cut and end with "…").
MAX_ANCHOR = 200
#: Characters of a page's description kept (longer ones are cut and end with "…").
MAX_DESCRIPTION = 1000

_URL_JUNK_RE = re.compile(r"[\t\n\r]")


def _absolute_link(base: str, href: str) -> str | None:
    """``href`` as an absolute, fragment-free http(s) URL against ``base``; None if it is not one."""
    if "\t" in href or "\n" in href or "\r" in href:
        href = _URL_JUNK_RE.sub("", href)
    href = href.strip()
    if not href:
        return None
    try:
        absolute = urljoin(base, href)
        if "#" in absolute:  # urldefrag() returns any other URL as it is
            absolute = urldefrag(absolute).url
        if absolute.startswith(("http://", "https://")):  # what urlsplit() would say, without it
            return absolute
        scheme = urlsplit(absolute).scheme
    except ValueError:
        return None
    return absolute if scheme in ("http", "https") else None


_UNSEEN = object()


class _LinkCollector:
    """Collects the links met during the tree walk (absolute, de-duplicated, in order) and their anchor text."""

    __slots__ = ("base", "links", "max_links", "resolved", "texts")

    def __init__(self, base: str, max_links: int | None = None):
        self.links: dict[str, None] = {}
        self.texts: dict[str, str] = {}  # link -> its first non-empty anchor text
        self.resolved: dict[str, str | None] = {}  # href -> _absolute_link(base, href): a page repeats its hrefs
        self.base = base
        self.max_links = MAX_LINKS if max_links is None else max_links

    def link(self, href: str) -> str | None:
        """Keep ``href``'s link; the absolute URL kept (None: not an http(s) link, or past the cap)."""
        if len(self.links) >= self.max_links:
            return None
        absolute = self.resolved.get(href, _UNSEEN)
        if absolute is _UNSEEN:
            absolute = self.resolved[href] = _absolute_link(self.base, href)
        if absolute is not None:
            self.links.setdefault(absolute, None)
        return absolute

    def anchor(self, url: str, pieces: list[str], start: int, element: HtmlElement) -> None:
        """Give ``url`` the text of ``pieces[start:]`` (its ``<a>``'s, as walked), unless it has one already.

        Only about ``4 * MAX_ANCHOR`` characters are read (a long piece counts by its first words:
        runs of whitespace do not use the bound up); an empty text falls back to the element's
        ``aria-label``, then its ``title``.
        """
        if url in self.texts:
            return
        read: list[str] = []
        size, end, count = 0, start, len(pieces)
        while end < count and size <= 4 * MAX_ANCHOR:
            piece = pieces[end]
            if len(piece) > MAX_ANCHOR:
                piece = " " + " ".join(piece.split(None, MAX_ANCHOR)[:MAX_ANCHOR]) + " "
            read.append(piece)
            size += len(piece)
            end += 1
        cut = end < count  # pieces left unread
        text = _normalise_line("".join(read))
        if not text:
            text = _normalise_line(element.get("aria-label") or element.get("title") or "")
            cut = False
        if text:
            self.texts[url] = _cut(text, MAX_ANCHOR, cut)


def _cut(text: str, limit: int, cut: bool = False) -> str:
    """``text`` at most ``limit`` characters long, ending with "…" when it was cut (here or before)."""
    if len(text) > limit or cut:
        return text[: limit - 1].rstrip() + "…"
    return text


def _http_base(url: str, root: HtmlElement | None) -> str:
    """The base URL of links: the first http(s) ``<base href>``, else ``url``."""
    for base in root.iter("base") if root is not None else ():
        href = base.get("href")
        if href is None:
            continue
        href = _URL_JUNK_RE.sub("", href).strip()
        try:
            candidate = urljoin(url, href)
            if urlsplit(candidate).scheme in ("http", "https"):
                return candidate
        except ValueError:
            pass
        break  # only the first <base href> counts
    return url


def _strings(element: HtmlElement) -> Iterator[str]:
    """The text pieces of ``element``'s subtree, in order (not its tail; no comment or script text)."""
    stack: list[tuple[HtmlElement, bool]] = [(element, False)]
    while stack:
        node, tail = stack.pop()
        if tail:
            if node.tail:
                yield node.tail
            continue
        if node is not element:
            stack.append((node, True))
        if not isinstance(node.tag, str) or node.tag in _NOT_TEXT:
            continue
        if node.text:
            yield node.text
        stack.extend((child, False) for child in reversed(node))


#: Elements whose content is not text for the title and heading (as BeautifulSoup's ``get_text``,
#: which leaves out scripts, styles, templates and ruby annotations).
_NOT_TEXT = frozenset({"script", "style", "template", "rt", "rp"})


def _find_title(root: HtmlElement | None) -> str | None:
    for title in root.iter("title") if root is not None else ():
        if not any(ancestor.tag == "svg" for ancestor in title.iterancestors()):
            return _normalise_line("".join(_strings(title)))
    return None


def _find_heading(root: HtmlElement | None) -> str | None:
    """The page's main heading: the text of its first non-empty ``<h1>``, normalised."""
    for count, heading in enumerate(root.iter("h1") if root is not None else ()):
        if count == 5:
            break
        text = _normalise_line(" ".join(_strings(heading)))
        if text:
            return text
    return None


def _find_description(root: HtmlElement | None) -> str | None:
    """The page's description: its first non-empty ``<meta name="description">``, else its
    ``og:description`` (``property`` or ``name``), normalised and cut to :data:`MAX_DESCRIPTION`."""
    fallback = None
    for meta in root.iter("meta") if root is not None else ():
        name = (meta.get("name") or "").strip().lower()
        if name == "description":
            text = _normalise_line(meta.get("content") or "")
            if text:
                return _cut(text, MAX_DESCRIPTION)
        elif fallback is None and "og:description" in (name, (meta.get("property") or "").strip().lower()):
            fallback = _normalise_line(meta.get("content") or "") or None
    return _cut(fallback, MAX_DESCRIPTION) if fallback else None
