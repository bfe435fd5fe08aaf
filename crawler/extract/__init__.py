"""Response bodies turned into comparable text, a title, a description and outgoing links (pure).

``extract(body, content_type, url)`` is the one entry point; it never reads a
clock, a file or the network. Its output is what lastseen compares between two
captures, so it aims to be *stable*: the same page served in windows-1251 or in
UTF-8, with a different CSRF token, with another script or comment, yields the
same text and fingerprint.

The steps, in order:

1. **Kind** (:func:`sniff_kind`): ``html``, ``text`` or ``binary``, from the
   Content-Type, with a sniff of the first bytes when it is missing and a
   veto when a body claimed as text is plainly binary (NUL bytes, a PDF or
   image signature). Binary bodies are compared by digest only. A body served
   as JSON (``application/json``, ``*/*+json``), or one served as
   ``text/plain``, ``application/octet-stream`` or untyped that parses as a
   JSON object or array, is of kind ``json``: read by structure, one
   ``$.path: value`` line per leaf (:mod:`~crawler.extract.jsontext`, docs/json.md).
2. **Charset**, in the HTML standard's order: byte order mark, ``charset=`` of
   the Content-Type, a ``<meta>`` prescan of the first 1024 bytes (or the
   ``<?xml encoding=...?>`` declaration of XML), detection with
   ``charset_normalizer``, UTF-8. WHATWG label rules apply (``latin1`` and
   ``ascii`` mean windows-1252, a ``<meta>`` claiming UTF-16 means UTF-8). A
   declared charset Python does not know, or one the bytes do not decode in,
   hands over to detection.
3. **HTML** is parsed with lxml (libxml2). Never text: ``script``,
   ``style``, ``noscript``, ``template``, the ``head`` (the title is reported
   apart), comments, CDATA, processing instructions, form values, elements
   with the ``hidden`` attribute or an inline ``display:none`` /
   ``visibility:hidden`` style. ``ignore`` selectors are removed (CSS
   selectors are soupsieve's, matched on a BeautifulSoup tree built only when
   there are some).
4. **Text** in reading order: block elements start lines, table cells are
   joined by ``" | "``. Each line is NFC-normalised, zero-width characters and
   soft hyphens are dropped, every run of Unicode whitespace becomes one
   space; lines are stripped, empty ones dropped, and joined with ``"\\n"``.
   That is the whole page's text, ``page_text``.
5. **Compared text** (``text``), by ``select``: the whole page (``"page"``),
   the matches of a CSS selector, or (``"auto"``) the page's main content:
   the lines of the page's text that trafilatura keeps as the article
   (:mod:`~crawler.extract.main`, docs/main-content.md), or the whole page,
   flagged ``auto-fallback``, when it finds nothing usable.

The package is split by concern: :mod:`~crawler.extract.decoding` (content
type, kind and charset: steps 1 and 2), :mod:`~crawler.extract.html` (step 3
and the one tree walk that gathers text and links),
:mod:`~crawler.extract.links` (``<base>``, link resolution, anchor texts, the title and description),
:mod:`~crawler.extract.text` (the line normalisation of step 4) and
:mod:`~crawler.extract.main` (the main content of step 5), :mod:`~crawler.extract.jsontext`
(JSON by structure). This module
holds the entry point and re-exports the public names.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crawler.errors import ExtractError

from .decoding import (
    _decode,
    _is_xml,
    _parse_content_type,
    _prescan_meta,
    _prescan_xhtml,
    _prescan_xml,
    _sniff,
    resolve_charset,
    sniff_kind,
)
from .html import _read_html
from .jsontext import is_json_type, looks_like_json, read_json
from .links import MAX_ANCHOR, MAX_DESCRIPTION, MAX_LINKS
from .main import find_main
from .text import normalise_text

if TYPE_CHECKING:
    import soupsieve

__all__ = [
    "AUTO",
    "DEFAULT_SELECT",
    "MAIN_KINDS",
    "MAX_ANCHOR",
    "MAX_DESCRIPTION",
    "MAX_LINKS",
    "PAGE",
    "Extracted",
    "compile_selector",
    "extract",
    "normalise_text",
    "resolve_charset",
    "sniff_kind",
]


@dataclass(frozen=True)
class Extracted:
    """What :func:`extract` found in one body."""

    kind: str  #: "html" | "text" | "json" | "binary"
    text: str | None  #: normalised visible text; None for binary
    title: str | None  #: normalised <title>, None when absent (always None unless html)
    links: tuple[str, ...]  #: absolute http(s) links, fragment-free, de-duplicated, document order
    charset: str | None  #: Python codec name used to decode; None for binary
    charset_source: str | None  #: "bom" | "header" | "meta" | "detected" | "default" | None
    fingerprint: str  #: sha256 hex of text.encode("utf-8"), or of the body for binary
    heading: str | None = None  #: the main heading (first non-empty <h1>), normalised; None unless html
    truncated: bool = False  #: the page was longer than ``max_text`` allows: text and links are of its start
    page_text: str | None = None  #: the whole page's normalised text (``text`` of ``select: page``); None for binary
    main: str = "page"  #: what ``text`` is: "auto", "auto-fallback", "page" or "selector" (see MAIN_KINDS)
    #: anchor text of ``links`` that have one: the first non-empty text of an ``<a>`` to it (its images' ``alt``
    #: included; else its ``aria-label`` or ``title``), normalised, at most MAX_ANCHOR characters
    link_texts: dict[str, str] = field(default_factory=dict)
    #: ``<meta name="description">`` content, else ``og:description``, normalised, at most MAX_DESCRIPTION
    #: characters; None when absent (always None unless html)
    description: str | None = None
    #: facts about the reading worth a capture's flags: ``json-invalid``, ``json-too-deep`` (crawler.contract.FLAGS)
    flags: tuple[str, ...] = ()


#: Reserved values of ``select``: anything else is a CSS selector.
AUTO, PAGE = "auto", "page"
#: What ``Extracted.text`` holds, by ``Extracted.main``.
MAIN_KINDS = {
    "auto": "the page's main content, as found by trafilatura (lines of the page's text, in order)",
    "auto-fallback": "the whole page's text: select was auto, but no usable main content was found",
    "page": "the whole page's text",
    "selector": "the text of the elements the CSS selector matched",
}
#: What ``select=None`` means.
DEFAULT_SELECT = PAGE


# --- public API --------------------------------------------------------------------


def extract(
    body: bytes,
    content_type: str | None,
    url: str,
    *,
    select: str | None = None,
    ignore: Sequence[str] = (),
    max_text: int | None = None,
) -> Extracted:
    """Turn a decoded (content-coding removed) body into an :class:`Extracted`.

    ``url`` is the address the body was served from, the base for relative
    links. ``ignore`` is a list of CSS selectors whose matches are removed from
    an HTML page first, whatever ``select`` is. ``select`` says which text is
    compared (``Extracted.text``; ``Extracted.main`` says which it was):

    * ``"auto"``: the page's main content (:mod:`crawler.extract.main`); the
      whole page (``main="auto-fallback"``) when none usable is found. Links
      are the whole page's.
    * ``"page"``: the whole page's text.
    * ``None``: :data:`DEFAULT_SELECT`.
    * anything else: a CSS selector; only its matches are kept, links too (no
      match gives the empty text, which is not an error).

    The whole page's text is in ``page_text`` whatever ``select`` is. A body
    that is text, not HTML, is its own main content: ``"auto"`` there gives
    ``main="page"``. An invalid selector raises
    :class:`~crawler.errors.ExtractError`; nothing else does.

    ``max_text`` bounds the work and memory a page may cost: only the first
    ``TEXT_INPUT_FACTOR * max_text`` bytes are decoded, an HTML page is parsed
    up to its ``max_text // CHARS_PER_ELEMENT``-th tag, and the text is cut (at
    a line break) to ``max_text`` characters (``text`` and ``page_text`` each);
    any of these sets ``truncated``. Main content is searched in that bounded
    page only.
    """
    body = bytes(body)
    if select is None:
        select = DEFAULT_SELECT
    # Compile first so a bad selector fails the same way whatever the body is.
    select_pattern = compile_selector(select) if select not in (AUTO, PAGE) else None
    ignore_patterns = [compile_selector(sel) for sel in ignore]

    mime, params = _parse_content_type(content_type)
    kind = _sniff(body, mime, params)
    declared_json = kind == "text" and is_json_type(mime)
    sniffed_json = not declared_json and kind != "html" and looks_like_json(mime, body)
    if kind == "binary" and sniffed_json:   # JSON served as application/octet-stream: read if it parses
        found = _read_opaque_json(body, max_text)
        if found is not None:
            return found
    if kind == "binary":
        return Extracted(
            kind="binary",
            text=None,
            title=None,
            links=(),
            charset=None,
            charset_source=None,
            fingerprint=hashlib.sha256(body).hexdigest(),
        )

    prescan: Callable[[bytes], str | None] | None = None
    if kind == "html":
        prescan = _prescan_xhtml if mime == "application/xhtml+xml" else _prescan_meta
    elif _is_xml(mime):
        prescan = _prescan_xml
    truncated = False
    if max_text is not None and len(body) > TEXT_INPUT_FACTOR * max_text:
        body, truncated = body[: TEXT_INPUT_FACTOR * max_text], True  # decoded with the last character cut tolerated
    decoded, charset, source = _decode(body, params.get("charset"), prescan)

    flags: tuple[str, ...] = ()
    if (declared_json or sniffed_json) and not truncated:   # (cut, it would not parse: text-truncated says so)
        found = read_json(decoded, max_text, sniffed=not declared_json)
        if found.text is not None:
            return _json_extracted(found.text, truncated or found.truncated, charset, source)
        flags = (found.flag,) if found.flag else ()   # compared as text, and the capture says why
    if kind == "html":
        if max_text is not None:
            decoded, cut = _cut_at_tag(decoded, max(1, max_text // CHARS_PER_ELEMENT))
            truncated = truncated or cut
        # MAX_LINKS is read here, from this package, so that patching
        # crawler.extract.MAX_LINKS (as the tests do) takes effect.
        html = _read_html(decoded, url, select_pattern, ignore_patterns, MAX_LINKS)
        title, heading, links, link_texts = html.title, html.heading, html.links, html.link_texts
        description = html.description
        page_text = "\n".join(html.lines)
        if html.selected is not None:
            text, links, main = "\n".join(html.selected), html.selected_links, "selector"
            link_texts = html.selected_link_texts
        elif select == AUTO:
            kept = find_main(html.root, html.lines, html.link_chars) if html.root is not None else None
            if kept is None:
                text, main = page_text, "auto-fallback"
            else:
                # The page's main heading leads its main content (the library may leave the <h1> out):
                # a renamed case study is a change.
                if html.heading and not any(html.lines[i] == html.heading for i in kept):
                    first = next((i for i, line in enumerate(html.lines) if line == html.heading), None)
                    if first is not None:
                        kept = sorted({first, *kept})
                text, main = "\n".join(html.lines[i] for i in kept), "auto"
        else:
            text, main = page_text, "page"
    else:
        text = page_text = normalise_text(decoded)
        title, heading, links, main, link_texts, description = None, None, (), "page", {}, None
    del decoded
    if max_text is not None and len(text) > max_text:
        text, truncated = _cut_text(text, max_text), True
    if max_text is not None and len(page_text) > max_text:
        page_text, truncated = _cut_text(page_text, max_text), True
    return Extracted(
        kind=kind,
        text=text,
        title=title,
        links=links,
        charset=charset,
        charset_source=source,
        fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        heading=heading,
        truncated=truncated,
        page_text=page_text,
        main=main,
        link_texts=link_texts,
        description=description,
        flags=flags,
    )


def _json_extracted(text: str, truncated: bool, charset: str | None, source: str | None) -> Extracted:
    return Extracted(kind="json", text=text, title=None, links=(), charset=charset, charset_source=source,
                     fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest(), truncated=truncated,
                     page_text=text, main="page")


def _read_opaque_json(body: bytes, max_text: int | None) -> Extracted | None:
    """A body served as ``application/octet-stream`` read as JSON when it is UTF-8 and parses, else None."""
    if max_text is not None and len(body) > TEXT_INPUT_FACTOR * max_text:
        return None   # cut, it would not parse
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    found = read_json(decoded, max_text, sniffed=True)
    return None if found.text is None else _json_extracted(found.text, found.truncated, "utf-8", "detected")


#: Bytes of body decoded per character of text kept (markup, scripts and styles take room).
TEXT_INPUT_FACTOR = 4
#: Characters of text per element, for the element cap of a page (a million tiny elements cost gigabytes).
CHARS_PER_ELEMENT = 20


def _cut_at_tag(html: str, tags: int) -> tuple[str, bool]:
    """``html`` up to its ``tags``-th ``<`` (the parser closes what is left open); was it cut?"""
    if html.count("<", 0, len(html)) <= tags:
        return html, False
    pos = -1
    for _ in range(tags):
        pos = html.find("<", pos + 1)
    return html[:pos], True


def _cut_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at the last line break before it when there is one."""
    cut = text.rfind("\n", 0, limit + 1)
    return text[: cut if cut > limit // 2 else limit]


@functools.lru_cache(maxsize=256)
def compile_selector(selector: str) -> soupsieve.SoupSieve:
    """Compile a CSS selector, raising :class:`ExtractError` if it is invalid.

    The watchlist loader can call this to reject a bad ``select``/``ignore``
    before any fetch.
    """
    import soupsieve  # here: a run without selectors never imports it (nor the bs4 it brings, #17)

    if not isinstance(selector, str) or not selector.strip():
        raise ExtractError(f"invalid CSS selector {selector!r}: it is empty")
    try:
        return soupsieve.compile(selector)
    except Exception as exc:  # any refusal: a syntax error, or a pseudo-element soupsieve does not implement
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExtractError(
            f"invalid CSS selector {selector!r}: {first_line} "
            "(check the select/ignore entries of the watchlist)"
        ) from exc

