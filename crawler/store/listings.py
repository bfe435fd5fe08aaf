"""Queries of listings' items (:mod:`crawler.listingrun`): mixed into :class:`~crawler.store.CaptureStore`.

``listing_items`` (migration 13) holds, for each listing capture that found items, those
items in the listing's order: ``seq``, ``url``, and ``key`` (the item's child target is
``<listing>/<key>``), or no key and ``capped`` 1 for an item past ``max_items``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

__all__ = ["ListingQueries"]

Items = list[tuple[str, str | None]]


class ListingQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``, ``self._reading``, ``self.transaction``)."""

    def _insert_listing_items(
        self, capture_id: int, items: Iterable[tuple[str, str | None]]
    ) -> None:
        self.conn.executemany(
            "insert into listing_items (capture_id, seq, url, key, capped) values (?, ?, ?, ?, ?)",
            [
                (capture_id, seq, url, key, int(key is None))
                for seq, (url, key) in enumerate(items)
            ],
        )

    def listing_items(self, listing: str) -> tuple[Items | None, dict[str, str]]:
        """A listing's items at its last capture that found any: ``(url, key)`` in order (key None: past
        ``max_items``), None when no capture did; and every item it ever had, URL -> key, oldest first."""
        return self.listings_items([listing]).get(listing, (None, {}))

    def listings_items(
        self, listings: Iterable[str]
    ) -> dict[str, tuple[Items, dict[str, str]]]:
        """:meth:`listing_items` of each of ``listings`` that has items, in two queries whatever their number."""
        names = list(listings)
        if not names:
            return {}
        marks = ",".join("?" * len(names))
        with self._reading():
            out: dict[str, tuple[Items, dict[str, str]]] = {}
            for target, url, key in self.conn.execute(
                "select c.target, i.url, i.key from listing_items i join captures c on c.id = i.capture_id "
                "join (select c2.target, max(c2.id) as id from captures c2 join listing_items i2 "
                f"on i2.capture_id = c2.id where c2.target in ({marks}) group by c2.target) m on m.id = c.id "
                "order by i.seq",
                names,
            ):
                out.setdefault(target, ([], {}))[0].append((url, key))
            for target, url, key in self.conn.execute(
                "select c.target, i.url, i.key from listing_items i join captures c on c.id = i.capture_id "
                f"where c.target in ({marks}) and i.key is not null order by i.capture_id, i.seq",
                names,
            ):
                out.setdefault(target, ([], {}))[1][url] = key
            return out

    # -- rebuilding the index from the WARC files (crawler.listingindex) ------
    def put_listing_items(
        self, capture_id: int, items: Items, *, flag: str | None
    ) -> None:
        """Store a listing capture's items (``(url, key)``, key None past ``max_items``), adding ``flag`` to its
        flags; call inside a transaction."""
        self._insert_listing_items(capture_id, items)
        if flag is not None:
            (flags,) = self.conn.execute(
                "select flags from captures where id = ?", (capture_id,)
            ).fetchone()
            merged = [*(json.loads(flags) if flags else []), flag]
            self.conn.execute(
                "update capture_rows set flags = ? where id = ?",
                (json.dumps(merged), capture_id),
            )
