"""Politeness: Retry-After honoured, robots.txt optionally obeyed, per-host concurrency kept exact.

:class:`RetryAfterMiddleware` replaces Scrapy's ``RetryMiddleware``. A 429 or
503 carrying ``Retry-After`` (seconds or an HTTP date) is retried only after
that long, and only when the wait is at most ``LASTSEEN_RETRY_AFTER_MAX`` and
ends before the fetch's deadline; otherwise the response is final (a server
that says "come back in an hour" is not hammered, nor waited for). Nothing is
retried once the fetch's deadline has passed.

:class:`RobotsMiddleware` obeys robots.txt (one per origin, fetched once),
records its decision on the request (``allowed``, ``disallowed``, or
``unavailable`` when robots.txt could not be had, which allows) and refuses
with :class:`RobotsDisallowed`. Its fetch is recorded like a target's, so that the
robots.txt watched by ``settings.watch_robots`` (a job of role ``robots``) is
that same answer, archived: one robots.txt request per host and run.

:class:`PoliteDownloader` keeps ``per_host_concurrency`` exact. Scrapy 2.19's
downloader starts each download from a slot's queue in an asyncio task and
counts it as transferring only when that task runs, so one pass over a queue
can start every waiting request at once: with ``per_host_delay: 0``, a host
limited to 2 requests in flight got 4. The place is now taken when the
download is started.
"""

from __future__ import annotations

import email.utils
import time
from datetime import timezone

from scrapy.core.downloader import Downloader
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.defer import Deferred

from .chromium import RESPONSE_FLAG
from .handler import META_DEADLINE, META_EXCHANGES, META_MODE, META_TARGET
from .redirects import META_FLAGS

META_ROBOTS = "lastseen_robots"
RETRY_AFTER_STATUSES = frozenset({429, 503})
_FAR = 1e12  # "later than anyone waits"


def parse_retry_after(value: bytes | str | None, *, now: float, date: bytes | str | None = None) -> float | None:
    """Seconds to wait per a ``Retry-After`` value (RFC 9110 §10.2.3); None when absent or unreadable.

    ``delay-seconds`` is taken as is; an HTTP date is measured against the
    response's ``Date`` when it has one (the server's clock, so clock skew
    between the two machines does not matter), else against ``now``.
    """
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(int(text)) if len(text) <= 12 else _FAR
    when = _http_date(text)
    if when is None:
        return None
    reference = _http_date(date) if date is not None else None
    return max(0.0, when - (reference if reference is not None else now))


def _http_date(value: bytes | str) -> float | None:
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    try:
        parsed = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def _sleep(seconds: float):
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    return maybe_deferred_to_future(deferLater(reactor, seconds))


def _past_deadline(request) -> bool:
    end = request.meta.get(META_DEADLINE)
    return end is not None and time.monotonic() >= end


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retries, honouring Retry-After within a cap and the fetch's deadline."""

    def __init__(self, settings):
        super().__init__(settings)
        self.retry_after_max = settings.getfloat("LASTSEEN_RETRY_AFTER_MAX", 60.0)

    async def process_response(self, request, response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        if _past_deadline(request):
            return response
        wait = 0.0
        if response.status in RETRY_AFTER_STATUSES:
            asked = parse_retry_after(response.headers.get(b"Retry-After"), now=time.time(),
                                      date=response.headers.get(b"Date"))
            if asked is not None:
                end = request.meta.get(META_DEADLINE)
                if asked > self.retry_after_max or (end is not None and time.monotonic() + asked >= end):
                    return response  # not worth waiting for: this answer is the capture
                wait = asked
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        if wait > 0:
            await _sleep(wait)
        return retry

    def process_exception(self, request, exception, spider=None):
        if _past_deadline(request):
            return None
        return super().process_exception(request, exception)


class RobotsDisallowed(IgnoreRequest):
    """robots.txt disallows the URL for lastseen's user agent."""


class RobotsMiddleware:
    """robots.txt obeyed (``ROBOTSTXT_OBEY``), with the decision kept on the request.

    One robots.txt per origin (scheme, host, port: RFC 9309 §2.3), fetched once
    per run through the downloader (so the host's politeness applies), shared by
    every target of that origin. A robots.txt that answers 4xx, 5xx or not at
    all allows everything; the decision then reads ``unavailable``.

    The watched robots.txt (a job of role ``robots``, ``settings.watch_robots``) is not
    downloaded again: its request waits for the origin's robots.txt and is answered with
    it, the exchanges recorded while it was fetched (redirects, retries) included.

    Scrapy 2.19's ``RobotsTxtMiddleware`` is not used: when three or more
    requests wait for the same robots.txt, all but the first two get no parser
    (``Deferred.asFuture`` passes the result on to only one waiter) and are let
    through, disallowed or not.
    """

    DOWNLOAD_PRIORITY = 1000

    def __init__(self, crawler):
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        self.crawler = crawler
        self.user_agent = crawler.settings.get("USER_AGENT") or "lastseen"
        self.rules: dict[str, object] = {}           # origin -> parser, or None (unavailable)
        self.waiting: dict[str, list[Deferred]] = {}  # origin -> requests waiting for its robots.txt
        self.fetched: dict[str, tuple[dict, object]] = {}  # origin -> its fetch's meta, and response or exception

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        job = request.meta.get(META_TARGET)
        if job is None or request.meta.get("dont_obey_robotstxt"):
            return None  # robots.txt itself (the fetch to obey it), and anything that is not a target
        parts = urlparse_cached(request)
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        if job.get("role") == "robots":
            return await self._watched(request, origin)
        rules = await self._rules(origin)
        if rules is None:
            request.meta[META_ROBOTS] = "unavailable"
            return None
        agent = request.headers.get(b"User-Agent") or self.user_agent
        if rules.allowed(request.url, agent):
            request.meta[META_ROBOTS] = "allowed"
            return None
        request.meta[META_ROBOTS] = "disallowed"
        raise RobotsDisallowed(
            f"{origin}/robots.txt disallows {request.url} for this user agent; "
            f"the page was not fetched (settings.obey_robots is on)"
        )

    async def _rules(self, origin: str):
        if origin in self.rules:
            return self.rules[origin]
        if origin in self.waiting:
            waiter: Deferred = Deferred()
            self.waiting[origin].append(waiter)
            return await maybe_deferred_to_future(waiter)
        self.waiting[origin] = []
        rules = None
        try:
            rules = await self._fetch(origin)
        finally:
            self.rules[origin] = rules
            for waiter in self.waiting.pop(origin):
                waiter.callback(rules)
        return rules

    async def _watched(self, request, origin: str):
        """The watched robots.txt: the answer fetched to obey it, passed on as this request's (not asked again)."""
        await self._rules(origin)
        if origin not in self.fetched:
            return None  # its fetch never ended (the crawl is closing): downloaded as any request
        meta, outcome = self.fetched[origin]
        request.meta[META_EXCHANGES].extend(meta[META_EXCHANGES])
        request.meta.setdefault(META_FLAGS, []).extend(meta[META_FLAGS])
        request.meta["dont_retry"] = request.meta["dont_redirect"] = True  # retried and followed already
        if isinstance(outcome, BaseException):
            raise outcome
        # flagged as a browser load's response is: its exchanges are recorded already
        return outcome.replace(flags=[*outcome.flags, RESPONSE_FLAG], request=request)

    async def _fetch(self, origin: str):
        url = f"{origin}/robots.txt"
        meta = {"dont_obey_robotstxt": True, META_MODE: "http", META_EXCHANGES: [], META_FLAGS: [],
                # recorded and timed as a target's fetch, for the watched robots.txt (role robots)
                META_TARGET: {"id": f"robots:{origin}", "target": "", "url": url, "fetch": "http", "role": "robots"}}
        request = Request(url, priority=self.DOWNLOAD_PRIORITY, meta=meta, callback=NO_CALLBACK)
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # noqa: BLE001 - unreachable robots.txt: allowed, recorded as unavailable
            self.fetched[origin] = (meta, exc)
            return None
        self.fetched[origin] = (meta, response)
        if not 200 <= response.status < 300:
            return None
        return ProtegoRobotParser(response.body, self.crawler.spider)


class PoliteDownloader(Downloader):
    """Scrapy's downloader, counting a download against its host's concurrency as soon as it is started."""

    def _wait_for_download(self, slot, request, queue_dfd):
        slot.transferring.add(request)  # _download() adds it again (a set) and removes it when done
        return super()._wait_for_download(slot, request, queue_dfd)
