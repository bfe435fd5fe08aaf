"""Factories for the plain values tests feed to lastseen: fixed, readable defaults, any field overridable."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from crawler.diff import Diff
from crawler.fetch.model import Exchange

T0 = datetime(2026, 11, 22, 10, 15, tzinfo=timezone.utc)


def make_exchange(body: bytes = b"<p>hello</p>", **overrides) -> Exchange:
    """A GET that got a 200 at ``T0``: received chunked (the WARC writer must drop that) with a stale length.

    Keyword arguments replace fields of :class:`Exchange` (``url=``, ``status=``, ``response_headers=``...).
    """
    fields = dict(
        url="https://vendor.example/case/belgrade?x=1", method="GET",
        request_headers=[("Host", "vendor.example"), ("User-Agent", "lastseen-test")],
        started=T0.timestamp(), duration=0.25, protocol="HTTP/1.1", status=200, reason="OK",
        response_headers=[("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"), ("Content-Length", "999")],
        body=body, ip="127.0.0.1",
    )
    fields.update(overrides)
    return Exchange(**fields)


def make_diff(ops, *, unit: str = "word", fallback: bool = False, **counts) -> Diff:
    """A real :class:`crawler.diff.Diff` with exactly these ``ops`` (``(op, text)`` pairs: -1, 0 or 1).

    For reports that need particular ops (hostile text inside an insertion, long
    unchanged runs); where any diff will do, use :func:`crawler.diff.diff_texts`.
    The insertion and deletion counts are counted from the ops as ``diff_texts``
    counts them, unless ``insertions=`` / ``deletions=`` pin them (a golden file
    that shows a count).
    """
    diff = Diff.ops_from_json([list(op) for op in ops], unit=unit, fallback=fallback)
    return replace(diff, **counts) if counts else diff
