"""Listings (pure): a listing's items from its capture, their names, and its items as child targets.

A target with ``listing:`` (:class:`~crawler.watchlist.Listing`) is an index page, or a
sitemap, whose items are each watched as a child target named ``<listing>/<item key>``
(docs/listings.md). This module does no IO:

- :func:`page_items` reads the item URLs of an index page (the links its ``links`` selector
  matches, through :func:`crawler.extract.extract`); :func:`read_sitemap` those of a sitemap
  (a ``urlset``, or the sitemaps of a sitemap index, which the caller fetches), gzipped or not,
  bounded, with lxml refusing entities, DTDs and the network;
- :func:`choose_items` keeps the URLs an investigator asked for (``match``, same site unless
  ``cross_site``, not the listing itself, only documents with ``documents``), in the listing's
  order, de-duplicated, and puts those past ``max_items`` aside (never captured, never counted
  as removed);
- :func:`item_key` and :func:`name_items` name items safely for file names, whatever the path
  (``..``, ``%2F``, 500-character queries, any script);
- :func:`child_target` is an item as a :class:`~crawler.watchlist.Target` inheriting the
  listing's keys but ``select``, with its ``item:`` overrides.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from lxml import etree

from .codings import decode_content
from .errors import ExtractError
from .extract import extract

__all__ = [
    "DOCUMENT_SUFFIXES",
    "MAX_KEY",
    "MAX_SITEMAPS",
    "MAX_SITEMAP_BYTES",
    "Items",
    "Sitemap",
    "child_target",
    "choose_items",
    "is_document_url",
    "item_key",
    "name_items",
    "page_items",
    "read_sitemap",
]

MAX_KEY = 200  # characters of an item key
MAX_SITEMAP_BYTES = 50 * 2**20  # a sitemap, uncompressed (the sitemaps.org limit)
MAX_SITEMAPS = 50  # sitemaps of one sitemap index fetched per run
MAX_LOCS = 50_000  # URLs read from one sitemap (the sitemaps.org limit)
_HASH = 8  # hex digits of the hash that tells colliding keys apart


@dataclass(frozen=True)
class Items:
    """A listing's items in one capture: those watched, in the listing's order, and those past ``max_items``."""

    urls: tuple[str, ...]
    capped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sitemap:
    """What a sitemap holds: page URLs (a ``urlset``) or sitemap URLs (a ``sitemapindex``), in order."""

    kind: str  # "urlset", "sitemapindex", or "" when it is no sitemap
    locs: tuple[str, ...] = ()
    problem: str | None = None  # why nothing could be read


def page_items(body: bytes, content_type: str | None, url: str, links: str) -> list[str]:
    """The absolute http(s) URLs of the links of an index page that ``links`` (a CSS selector) matches, and of
    the links inside its matches, in document order (``body`` decoded of its content-coding already)."""
    try:
        return list(extract(body, content_type, url, select=links).links)
    except ExtractError:
        return []


def _decompressed(body: bytes) -> bytes:
    """A gzipped sitemap (``sitemap.xml.gz``, served as such), gunzipped within :data:`MAX_SITEMAP_BYTES`."""
    if body[:2] != b"\x1f\x8b":
        return body[:MAX_SITEMAP_BYTES]
    try:
        return decode_content(body, "gzip", max_size=MAX_SITEMAP_BYTES)[0]
    except ExtractError:
        return b""


def read_sitemap(body: bytes, url: str) -> Sitemap:
    """The ``<loc>`` URLs of a sitemap (``body`` decoded of its content-coding; gzipped files are gunzipped).

    lxml reads it without resolving entities, loading a DTD or touching the network, and
    recovers from what it can; at most :data:`MAX_LOCS` URLs, only absolute http(s) ones.
    """
    data = _decompressed(bytes(body))
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=True,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser=parser) if data.strip() else None
    except etree.XMLSyntaxError as exc:
        return Sitemap("", problem=f"not XML: {exc}")
    if root is None or not isinstance(root.tag, str):
        return Sitemap("", problem="not XML, or empty")
    kind = etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        return Sitemap("", problem=f"the root element is <{kind}>, not <urlset> or <sitemapindex>")
    entry = "url" if kind == "urlset" else "sitemap"
    locs: list[str] = []
    for element in root:
        if not isinstance(element.tag, str) or etree.QName(element).localname != entry:
            continue
        loc = next((c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == "loc"), None)
        text = (loc.text or "").strip() if loc is not None else ""
        if text.startswith(("http://", "https://")) and urlsplit(text).hostname:
            locs.append(text)
            if len(locs) >= MAX_LOCS:
                break
    return Sitemap(kind, tuple(locs))


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").rstrip(".")
    return host.removeprefix("www.")


def choose_items(
    listing_url: str, urls: Iterable[str], *, match: str | None, cross_site: bool, max_items: int,
    documents: bool = False,
) -> Items:
    """The items among ``urls``: http(s), not the listing's own URL, on its site unless ``cross_site``, where
    ``match`` is found, documents only with ``documents`` (:func:`is_document_url`); de-duplicated in order;
    those past ``max_items`` put aside in :attr:`Items.capped`."""
    pattern = re.compile(match) if match else None
    site = _site(listing_url)
    own = listing_url.split("#", 1)[0]
    seen: dict[str, None] = {}
    for url in urls:
        if url in seen or url == own or not url.startswith(("http://", "https://")):
            continue
        if not cross_site and _site(url) != site:
            continue
        if pattern is not None and not pattern.search(url):
            continue
        if documents and not is_document_url(url):
            continue
        seen[url] = None
    found = list(seen)
    return Items(tuple(found[:max_items]), tuple(found[max_items:]))


#: What the path of a document's URL ends in (``listing: {documents: true}``), in lower case.
DOCUMENT_SUFFIXES = (".pdf", ".docx", ".xlsx", ".odt", ".ods")


def is_document_url(url: str) -> bool:
    """Whether ``url``'s path (percent-escapes decoded, any case) ends in a document's suffix."""
    path = unquote(urlsplit(url).path, errors="replace").lower().rstrip()
    return path.endswith(DOCUMENT_SUFFIXES)


_UNSAFE = re.compile(r"[^\w.\-]+")
_DOTS = re.compile(r"\.{2,}")


def item_key(url: str) -> str:
    """An item's key: its URL's path and query, made safe as a file name and a target name.

    Percent-escapes are decoded (an escaped ``/`` too), then every run of characters other
    than letters and digits of any script, ``-``, ``_`` and ``.`` becomes one ``-``; runs of
    dots become one (no ``..``); ``-`` and ``.`` are stripped from both ends; at most
    :data:`MAX_KEY` characters; ``index`` for the root. Two URLs may share a key:
    :func:`name_items` tells them apart.
    """
    parts = urlsplit(url)
    raw = unquote(parts.path, errors="replace") + ("?" + unquote(parts.query, errors="replace") if parts.query else "")
    raw = unicodedata.normalize("NFC", raw)
    key = _DOTS.sub(".", _UNSAFE.sub("-", raw))
    key = "".join(c for c in key if unicodedata.category(c)[0] != "C")  # no control or format characters
    key = key.strip("-.")[:MAX_KEY].strip("-.")
    return key or "index"


def _hashed(key: str, url: str) -> str:
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:_HASH]
    return f"{key[: MAX_KEY - _HASH - 1].rstrip('-.')}-{digest}"


def name_items(urls: Iterable[str], known: Mapping[str, str]) -> dict[str, str]:
    """The key of each URL: the one it had (``known``: URL -> key, from earlier runs), else :func:`item_key`, with
    a short hash of the URL added when another item has that key already (compared ignoring case, as some file
    systems do). Keys once given never change, so an item keeps its name and history."""
    taken = {key.casefold() for key in known.values()}
    out: dict[str, str] = {}
    for url in urls:
        if url in known:
            out[url] = known[url]
            continue
        key = item_key(url)
        if key.casefold() in taken:
            key = _hashed(key, url)
        taken.add(key.casefold())
        out[url] = key
    return out


def child_target(listing, url: str, key: str):
    """The item ``url`` of the listing target ``listing`` as a :class:`~crawler.watchlist.Target`: every key of
    the listing but ``select`` (items are compared on their main content unless ``item.select`` says), with the
    ``item:`` overrides; named ``<listing>/<key>``, its ``parent`` the listing's name."""
    item = listing.listing.item
    return replace(
        listing,
        name=f"{listing.name}/{key}",
        url=url,
        listing=None,
        parent=listing.name,
        select=item.select if item else None,
        ignore=item.ignore if item and item.ignore is not None else listing.ignore,
        fetch=item.fetch if item and item.fetch else listing.fetch,
        every=item.every if item and item.every is not None else listing.every,
    )
