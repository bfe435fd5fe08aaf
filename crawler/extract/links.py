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
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup

from .text import _normalise_line

__all__ = ["MAX_LINKS"]

#: At most this many links are reported per page.
MAX_LINKS = 100_000

_URL_JUNK_RE = re.compile(r"[\t\n\r]")


def _absolute_link(base: str, href: str) -> str | None:
    """``href`` as an absolute, fragment-free http(s) URL against ``base``; None if it is not one."""
    href = _URL_JUNK_RE.sub("", href).strip()
    if not href:
        return None
    try:
        absolute = urldefrag(urljoin(base, href)).url
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


def _http_base(url: str, soup: BeautifulSoup) -> str:
    base = soup.find("base", href=True)
    if base is not None:
        href = _URL_JUNK_RE.sub("", str(base["href"])).strip()
        try:
            candidate = urljoin(url, href)
            if urlsplit(candidate).scheme in ("http", "https"):
                return candidate
        except ValueError:
            pass
    return url


def _find_title(soup: BeautifulSoup) -> str | None:
    for title in soup.find_all("title"):
        if title.find_parent("svg") is None:
            return _normalise_line(title.get_text())
    return None


def _find_heading(soup: BeautifulSoup) -> str | None:
    """The page's main heading: the text of its first non-empty ``<h1>``, normalised."""
    for heading in soup.find_all("h1", limit=5):
        text = _normalise_line(heading.get_text(" "))
        if text:
            return text
    return None
