"""Links and page metadata: the ``<base>``, absolute links and the title (pure).

:class:`_LinkCollector` is the link half of the one tree walk done by
:class:`crawler.extract.html._TextBuilder`: each ``href`` is stripped of the
tab and newline characters browsers ignore, resolved against the page's base
URL, stripped of its fragment and kept if it is http(s), de-duplicated in
document order, at most :data:`MAX_LINKS` of them. :func:`_http_base` honours
an http(s) ``<base href>``; :func:`_find_title` finds the page's ``<title>`` and
:func:`_find_heading` its main heading (the first ``<h1>``)
(not one inside an inline SVG).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml.html import HtmlElement

from .text import _normalise_line

__all__ = ["MAX_LINKS"]

#: At most this many links are reported per page.
MAX_LINKS = 100_000

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


class _LinkCollector:
    """Collects the links met during the tree walk (absolute, de-duplicated, in order)."""

    __slots__ = ("links", "base", "max_links")

    def __init__(self, base: str, max_links: int | None = None):
        self.links: dict[str, None] = {}
        self.base = base
        self.max_links = MAX_LINKS if max_links is None else max_links

    def link(self, href: str) -> None:
        if len(self.links) >= self.max_links:
            return
        absolute = _absolute_link(self.base, href)
        if absolute is not None:
            self.links.setdefault(absolute, None)


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
