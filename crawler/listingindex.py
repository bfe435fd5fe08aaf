"""A listing's items rebuilt from its archived captures, for ``lastseen reindex`` (:mod:`crawler.reindex`).

No WARC record names a listing's items: they are what its index page or sitemap said. After the
captures are rebuilt, :func:`rebuild_listing_items` reads again, in capture order, the payload of
each good capture of each listing of the watchlist (and, for a sitemap index, the sitemaps
fetched in the same run, role ``sitemap``), chooses and names its items as the run did
(:mod:`crawler.listing`, with the watchlist's ``listing:`` keys as they are now), and stores
them with the capture (``listing_items``; the flag ``listing-capped`` when some were past
``max_items``). Keys are given in the same order as the runs gave them, so they are the same
keys, and the items' rebuilt captures (named ``<listing>/<key>`` in their capture records) are
found again. :func:`item_target` is an item's target, for extracting its captures as the run did.
"""

from __future__ import annotations

from .codings import decode_content
from .errors import ArchiveError, ExtractError
from .listing import (
    MAX_SITEMAPS,
    child_target,
    choose_items,
    name_items,
    page_items,
    read_sitemap,
)
from .warcfiles import read_payload
from .watchlist import Target

__all__ = ["item_target", "rebuild_listing_items"]


def item_target(listed: dict[str, Target], name: str, url: str) -> Target | None:
    """The target of the item ``name`` (``<listing>/<key>``) of a listing in ``listed``; None if it is none."""
    parent, _, key = name.rpartition("/")
    listing = listed.get(parent)
    if listing is None or listing.listing is None or not key:
        return None
    return child_target(listing, url, key)


def _body(job, capture: dict) -> bytes | None:
    """A capture's payload, decoded of its content-coding (a revisit's original), None when not to be had."""
    where = (capture["warc_file"], capture["warc_offset"])
    if capture["record_type"] == "revisit":
        original = job.store.response_record(capture["refers_to_record_id"] or "")
        where = (original["warc_file"], original["offset"]) if original else (None, None)
    if where[0] is None or where[1] is None:
        return None
    try:
        body, headers = read_payload(job.root / where[0], where[1])
        coding = next((v for k, v in headers if k.lower() == "content-encoding"), None)
        return decode_content(body, coding, max_size=job.settings.max_body)[0]
    except (OSError, ArchiveError, ExtractError):
        return None


def _ok(capture: dict) -> bool:
    return 200 <= (capture["status"] or 0) < 300 and not capture["truncated"]


def _urls(job, target: Target, capture: dict, sitemaps: dict[str, dict]) -> list[str] | None:
    """The URLs a listing capture offered (None: its items cannot be read again)."""
    body = _body(job, capture)
    if body is None:
        return None
    url = capture["final_url"] or capture["url"]
    if not target.listing.sitemap:
        return page_items(body, capture["content_type"], url, target.listing.links)
    sitemap = read_sitemap(body, url)
    if sitemap.kind != "sitemapindex" or not sitemap.locs:
        return list(sitemap.locs)
    urls = []
    for loc in sitemap.locs[:MAX_SITEMAPS]:
        part = sitemaps.get(loc)
        if part is None:
            return None  # the run ended before this sitemap arrived: it stored no items
        data = _body(job, part) if _ok(part) else b""
        urls += read_sitemap(data, "").locs if data else ()
    return urls


def rebuild_listing_items(job) -> None:
    """Fill ``listing_items`` of the new index from each listing's rebuilt captures (a ``reindex`` filler)."""
    for target in list(job.listed.values()):
        if target.listing is None:
            continue
        listing, known = target.listing, {}
        captures = job.store.captures_of(target.name)
        sitemaps: dict[str, dict[str, dict]] = {}  # run -> sitemap URL -> its capture
        for c in captures:
            if c["role"] == "sitemap":
                sitemaps.setdefault(c["run_id"], {}).setdefault(c["url"], c)
        for c in captures:
            if c["role"] not in ("page", "refetch") or not c["good"] or not _ok(c):
                continue
            job.check()
            urls = _urls(job, target, c, sitemaps.get(c["run_id"], {}))
            if urls is None:
                continue
            items = choose_items(
                target.url, urls, match=listing.match, cross_site=listing.cross_site, max_items=listing.max_items,
                documents=listing.documents,
            )
            if not items.urls and not items.capped:
                continue
            keys = name_items(items.urls, known)
            known.update(keys)
            rows = [(u, keys[u]) for u in items.urls] + [(u, None) for u in items.capped]
            with job.store.transaction():
                job.store.put_listing_items(c["id"], rows, flag="listing-capped" if items.capped else None)
