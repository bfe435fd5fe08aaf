"""Finding a stored response by its URL and payload: what a sub-resource revisit refers to."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import StoredPayload


class PayloadQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``, ``self._reading``)."""

    def stored_response(self, url: str, payload_sha1: str, status: int) -> "StoredPayload | None":
        """The newest ``response`` record of ``url`` with this payload and status, by any target."""
        from . import StoredPayload

        with self._reading():
            row = self.conn.execute(
                "select capture_id, response_record_id, url, started, status, f.path, response_offset, "
                "response_length from exchange_rows left join warc_files f on f.id = warc_file_id "
                "where url = ? and payload_sha1 = ? and status = ? and "  # (a response's row holds its URL)
                "record_type = 'response' order by exchange_rows.id desc limit 1",
                (url, payload_sha1, status),
            ).fetchone()
        if row is None:
            return None
        cid, record_id, uri, date, status, warc_file, offset, length = row
        return StoredPayload(cid, payload_sha1, record_id, uri, date, status, warc_file, offset, length)

    def reused_links(self, capture_id: int) -> tuple[str | None, str | None] | None:
        """The links and anchor texts of capture ``capture_id``, stored null because its extraction was
        reused (the same payload from the same URL, read under the same settings: ``crawler.reading``):
        those of the first capture of its target with that URL, payload and extraction key that holds them.
        None when there is none (its row is then read as it is). The row it reused (``reused``, a capture
        written since migration 20) holds them, read first; the first such capture, found by the
        ``(target, id)`` index, otherwise (a read through the whole history of the target: #17, a year of
        daily captures)."""
        with self._reading():
            held = self.conn.execute(
                "select r.links, r.link_texts from capture_rows g join capture_rows r on r.id = g.reused "
                "where g.id = ? and r.links is not null", (capture_id,)).fetchone()
            if held is not None:
                return held
            return self.conn.execute(
                "select c.links, c.link_texts from captures g "   # c: by the (target, id) index, in order
                "join captures c on c.target = g.target and c.final_url = g.final_url "
                "and c.payload_sha1 = g.payload_sha1 "
                "where g.id = ? and c.extract_key = g.extract_key and c.links is not null "
                "order by c.id limit 1",
                (capture_id,),
            ).fetchone()

    def with_links(self, row: dict) -> dict:
        """A ``captures`` row with its links and anchor texts, found again where its extraction was reused
        (``links`` null on a capture read as something other than ``binary``: :meth:`reused_links`)."""
        if row.get("links") is not None or row.get("kind") in (None, "binary"):
            return row
        found = self.reused_links(row["id"])
        if found is None:
            return row
        links, texts = found
        return {**row, "links": links, "link_texts": row.get("link_texts") or texts}

    def good_with_links(self, good: tuple | None) -> tuple | None:
        """:meth:`history`'s last good capture row (``links`` its 8th value, ``link_texts`` its 20th) with its
        links and anchor texts found again where its extraction was reused (:meth:`reused_links`)."""
        if good is None or good[7] is not None or good[3] in (None, "binary"):
            return good
        found = self.reused_links(good[0])
        return good if found is None else (*good[:7], found[0], *good[8:19], good[19] or found[1], *good[20:])
