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
                "select capture_id, response_record_id, url, started, status, warc_file, response_offset, "
                "response_length from exchanges where url = ? and payload_sha1 = ? and status = ? and "
                "record_type = 'response' order by id desc limit 1",
                (url, payload_sha1, status),
            ).fetchone()
        if row is None:
            return None
        cid, record_id, uri, date, status, warc_file, offset, length = row
        return StoredPayload(cid, payload_sha1, record_id, uri, date, status, warc_file, offset, length)
