"""The download handler: Scrapy's HTTP/1.1 handler with a deadline per fetch and recorded TLS.

It sits where an exchange really starts (after the politeness queue of the
host's download slot), which makes it the honest place for two things:

- **The deadline.** ``LASTSEEN_DEADLINE`` bounds the whole fetch of a target:
  every attempt and redirect hop, and the waits between them. The clock starts
  when the target's first exchange starts; each exchange gets
  ``download_timeout = min(timeout, time left)`` and none starts past the
  deadline (:class:`DeadlineExceeded`, reported as a ``timeout``). Waiting in
  the slot's queue behind other targets of the same host is politeness, not
  the target's fault, so it only counts once the fetch has begun.
- **TLS.** The handler connects with :class:`~crawler.fetch.tls.RecordingTLSPolicy`
  and stores on the request whether the certificate of the response verified.

It is also where a request's fetch mode is chosen: ``lastseen_fetch`` in the
request's meta names a row of :data:`crawler.fetch.FETCH_MODES`, and
:data:`MODE_HANDLERS` says how this handler downloads it (``http``: Scrapy's
own HTTP/1.1 download; ``browser``: a page load in the fetcher's Chromium,
:mod:`crawler.fetch.chromium`). Every mode is downloaded from here, after the host's
download slot let the request through, so all modes share one per-host politeness.

A browser load records its exchanges itself (``lastseen_exchanges``, with the
screenshot and DOM in ``lastseen_resources`` and failed sub-resources in
``lastseen_failed``) and answers with a response for the page's final document,
flagged ``lastseen-browser`` so that the recorder middleware leaves it alone
and marked ``dont_redirect`` (Chromium already followed the redirects).

Only requests of targets (``lastseen_target`` in meta) are timed; robots.txt
requests pass through untouched.
"""

from __future__ import annotations

import ipaddress
import time

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes
from scrapy.utils.httpobj import urlparse_cached

from .. import clock
from .addresses import AddressPolicy
from .chromium import RESPONSE_FLAG, BrowserSession, NavigationError, PageOptions
from .quickack import use_quick_acks
from .tls import RecordingTLSPolicy, Verification

META_TARGET = "lastseen_target"
META_DEADLINE = "lastseen_deadline"      # time.monotonic() by which the fetch must be over
META_T0 = "lastseen_t0"                  # clock.time() when the current exchange started
META_RX = "lastseen_rx"                  # bytes received in the current exchange
META_TLS = "lastseen_tls"                # Verification of the current exchange's certificate
META_MODE = "lastseen_fetch"             # the request's fetch mode (a key of crawler.fetch.FETCH_MODES)
META_EXCHANGES = "lastseen_exchanges"    # the fetch's exchanges so far (a list of Exchange)
META_RESOURCES = "lastseen_resources"    # records a browser load made (screenshot, DOM): Resource list
META_FAILED = "lastseen_failed"          # sub-resources of a browser load that failed: (url, why) list

#: How each fetch mode is downloaded: the name of a ``FetchHandler`` coroutine method.
MODE_HANDLERS = {"http": "_download_http", "browser": "_download_browser"}


def _refuse_answers_without_a_status_line() -> None:
    """An answer that is not HTTP at all (HTTP/0.9: a body with no status line) is a protocol error.

    Twisted reports a connection closed before the status line was complete as a
    dropped connection (``ResponseFailed`` + ``ConnectionDone``, which reads as
    ``reset``) even when what arrived could never have been an HTTP/1.x status
    line. When the bytes buffered at that moment do not begin like ``HTTP/``,
    the failure becomes a ``ParseError`` (``protocol``), as it already is when
    the garbage contains a line break. Patched once, in the fetcher process only;
    tests/test_hardening.py fails if Twisted moves the parts used here.
    """
    from twisted.python.failure import Failure
    from twisted.web._newclient import STATUS, HTTPClientParser, ParseError

    original = HTTPClientParser.connectionLost
    if getattr(original, "_lastseen", False):
        return

    def connectionLost(self, reason=None):
        pending = getattr(self, "_buffer", b"") or b""
        if self.state == STATUS and pending and not b"HTTP/".startswith(pending[:5]):
            reason = Failure(ParseError("not an HTTP response (no status line)", bytes(pending[:80])))
        return original(self, reason)

    connectionLost._lastseen = True
    HTTPClientParser.connectionLost = connectionLost


class DeadlineExceeded(Exception):
    """The fetch of a target used up its deadline before this exchange could start."""


class FetchHandler(HTTP11DownloadHandler):
    """``DOWNLOAD_HANDLERS`` entry for http and https."""

    def __init__(self, crawler):
        super().__init__(crawler)
        _refuse_answers_without_a_status_line()
        settings = crawler.settings
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.deadline = settings.getfloat("LASTSEEN_DEADLINE", 120.0)
        self.tls = RecordingTLSPolicy(settings.get("LASTSEEN_CA_CERTS") or None)
        self.allow_private = settings.getbool("LASTSEEN_ALLOW_PRIVATE_REDIRECTS")
        self.addresses = AddressPolicy.from_environment()
        # Scrapy 2.19 has no public hook for certificate verification that does
        # not refuse the connection (DOWNLOAD_VERIFY_CERTIFICATES refuses,
        # DOWNLOADER_CLIENTCONTEXTFACTORY is deprecated): replace the policy the
        # handler builds its agents with. tests/test_hostile.py fails if it moves.
        self._contextFactory = self.tls
        use_quick_acks(self._pool)
        headers = settings.getdict("DEFAULT_REQUEST_HEADERS")
        self.browser = BrowserSession(
            executable=settings.get("LASTSEEN_BROWSER_PATH") or None,
            pages=settings.getint("LASTSEEN_BROWSER_PAGES") or None,
            user_agent=settings.get("USER_AGENT"),
            headers={"From": headers["From"]} if headers.get("From") else {},
            max_body=settings.getint("LASTSEEN_MAX_BODY"),
        )
        from . import FETCH_MODES

        if set(MODE_HANDLERS) != set(FETCH_MODES):
            raise RuntimeError(f"fetch modes {sorted(FETCH_MODES)} and their handlers {sorted(MODE_HANDLERS)} differ")

    async def download_request(self, request):
        mode = request.meta.get(META_MODE, "http")
        return await getattr(self, MODE_HANDLERS[mode])(request)

    def _time_left(self, meta) -> float:
        """Seconds left before the fetch's deadline (its clock starts now if it has not yet)."""
        now = time.monotonic()
        end = meta.get(META_DEADLINE)
        if end is None:
            end = meta[META_DEADLINE] = now + self.deadline
        left = end - now
        if left <= 0:
            raise DeadlineExceeded(
                f"gave up: the fetch took longer than its deadline of {self.deadline:g}s (settings.deadline)"
            )
        return left

    async def _download_http(self, request):
        meta = request.meta
        if META_TARGET in meta:
            left = self._time_left(meta)
            meta["download_timeout"] = min(self.timeout, left)
            meta[META_T0] = clock.time()
            meta[META_RX] = 0
            meta[META_TLS] = None
        response = await super().download_request(request)
        if META_TARGET in meta:
            from .redirects import check_connected  # (redirects imports this module)

            check_connected(request, response, self.addresses, self.allow_private)
            parts = urlparse_cached(request)
            if parts.scheme == "https":
                meta[META_TLS] = self.tls.log.lookup(parts.hostname or "", parts.port or 443, response.certificate)
        return response

    async def _download_browser(self, request):
        meta = request.meta
        job = meta.get(META_TARGET) or {}
        exchanges = meta.setdefault(META_EXCHANGES, [])
        meta[META_RESOURCES], meta[META_FAILED] = [], []  # a retried load's replace the earlier attempt's
        # Waiting for one of `browser_pages` places, like waiting in the host's slot, is not the
        # target's fault: its deadline starts once it has one.
        async with self.browser.place():
            left = self._time_left(meta)
            meta[META_T0] = clock.time()
            try:
                load = await self.browser.load(request.url, PageOptions.from_job(job.get("options")),
                                               timeout=min(self.timeout, left), deadline=meta[META_DEADLINE])
            except NavigationError as exc:
                exchanges.extend(exc.exchanges)  # the hops that did answer are archived, as for HTTP
                raise
        from .redirects import add_flag  # (redirects imports this module)

        exchanges.extend(load.exchanges)
        meta[META_RESOURCES], meta[META_FAILED] = load.resources, load.failed
        for flag in load.flags:
            add_flag(meta, flag)
        meta["dont_redirect"] = True
        document = load.document
        headers = Headers()
        for name, value in document.response_headers:
            headers.appendlist(name, value)
        try:
            address = ipaddress.ip_address(document.ip.strip("[]")) if document.ip else None
        except ValueError:
            address = None
        cls = responsetypes.from_args(headers=headers, url=document.url, body=document.body)
        return cls(
            url=document.url, status=document.status, headers=headers, body=document.body,
            flags=[RESPONSE_FLAG], request=request, protocol=document.protocol, ip_address=address,
        )

    async def close(self) -> None:
        """The crawl is over: close the browser (if one was started), then Scrapy's connections."""
        try:
            await self.browser.close()
        finally:
            await super().close()


__all__ = ["MODE_HANDLERS", "DeadlineExceeded", "FetchHandler", "Verification"]
