"""Plain-HTTP fetching with Scrapy: the spider, the recording middleware, the settings.

This module runs inside the fetcher process (see :mod:`crawler.fetch.worker`);
nothing here touches the archive. The recorder sits at the downloader end of
the middleware chain (priority 950), so it sees each response exactly as the
download handler produced it: content-coding kept, transfer-coding removed,
before any redirect, retry or decompression logic. Scrapy's own
``HttpCompressionMiddleware`` is switched off: the monitor decodes bodies
itself, bounded, off Scrapy's thread (and Scrapy would otherwise spend time
guessing the charset of compressed bytes).

The rest of the fetcher: :mod:`~crawler.fetch.handler` (the download handler:
the deadline per fetch, recorded TLS verification), :mod:`~crawler.fetch.tls`
and :mod:`~crawler.fetch.politeness` (Retry-After, robots.txt). Limits, all
from the watchlist's settings: ``max_body`` (the body is cut there and kept),
``max_redirects``, ``timeout`` per exchange, ``deadline`` per fetch,
``per_host_concurrency`` / ``per_host_delay`` (and per-host overrides, as
``DOWNLOAD_SLOTS``), ``retry_after_max``. No telnet console, no remote control:
nothing listens on a port.
"""

from __future__ import annotations

import asyncio
import http
import threading
import time
from collections.abc import Callable, Iterable

import scrapy
from scrapy import signals
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.settings.default_settings import EXTENSIONS_BASE as SCRAPY_EXTENSIONS
from scrapy.settings.default_settings import RETRY_EXCEPTIONS as SCRAPY_RETRY_EXCEPTIONS

from .. import clock
from ..errors import BrowserNotFoundError
from .chromium import RESPONSE_FLAG, NavigationError
from .handler import (
    META_DEADLINE,
    META_EXCHANGES,
    META_FAILED,
    META_MODE,
    META_RESOURCES,
    META_RX,
    META_T0,
    META_TARGET,
    META_TLS,
    DeadlineExceeded,
)
from .model import Exchange, FetchResult
from .politeness import META_ROBOTS, RobotsDisallowed
from .redirects import META_FLAGS, PrivateRedirect

ACCEPT_ENCODING = "gzip, deflate, br"
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]

_META_TARGET = META_TARGET
_META_EXCHANGES = META_EXCHANGES
_META_STARTED = "lastseen_started"       # when the fetch of the target was scheduled
_META_T0 = META_T0                       # when the current exchange started (set by the handler)
_META_RX = META_RX                       # bytes received in the current exchange



def user_agent(agent: str, contact: str | None) -> str:
    """The User-Agent sent: ``agent``, with ``contact`` added to its comment unless already there."""
    if not contact or contact in agent:
        return agent
    ref = contact if "://" in contact else f"mailto:{contact}"
    if agent.endswith(")"):
        return f"{agent[:-1]}; +{ref})"
    return f"{agent} (+{ref})"


def download_slots(hosts: dict) -> dict:
    """Per-host overrides (``{host: {"per_host_delay": s, "per_host_concurrency": n}}``) as DOWNLOAD_SLOTS."""
    slots = {}
    for host, values in (hosts or {}).items():
        slot = {}
        if values.get("per_host_delay") is not None:
            slot["delay"] = float(values["per_host_delay"])
        if values.get("per_host_concurrency") is not None:
            slot["concurrency"] = int(values["per_host_concurrency"])
        if slot:
            slots[host] = slot
    return slots


def scrapy_settings(options: dict) -> dict:
    """Scrapy settings for a lastseen fetch, from the watchlist's settings.

    ``options`` holds plain values: the settings rows marked ``fetch`` in the
    watchlist's field table, and ``hosts`` (host name -> per-host overrides);
    see :func:`crawler.watchlist.fetch_options`. Missing ones take their defaults.
    """
    try:
        return _settings(options)
    except KeyError:
        # Some are missing: the watchlist's defaults, imported only then (the fetcher process is handed
        # every one by the monitor, and starts 0.1-0.3 s sooner without the watchlist's modules; #17).
        from ..watchlist import fetch_defaults

        return _settings({**fetch_defaults(), **options})


#: Scrapy's extensions a fetch runs without (never imported): nothing listens on a port, no periodic statistics
LEFT_OUT = frozenset({
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.memusage.MemoryUsage",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.logstats.LogStats",
})


def _settings(options: dict) -> dict:
    contact = options["contact"]
    headers = {
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "en",
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    if contact and "@" in contact and "://" not in contact:
        headers["From"] = contact  # RFC 9110 §10.1.2: who runs this robot
    return {
        # Nothing may listen on a port during a run: the telnet console and the remote control endpoint are
        # off, and left out of Scrapy's extensions altogether, with the memory and log statistics. Scrapy imports
        # every extension it is given, even one set to None (to compare its settings' keys): the remote
        # control's module imports aiohttp and loads the system's CA certificates, 0.1-0.3 s of the fetcher's
        # start after the run's settings arrive (#17, bench/README.md).
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "EXTENSIONS_BASE": {path: order for path, order in SCRAPY_EXTENSIONS.items() if path not in LEFT_OUT},
        "LOG_LEVEL": "ERROR",
        "LOGSTATS_INTERVAL": 0,
        "STATS_DUMP": False,
        "COOKIES_ENABLED": True,
        # The callbacks yield nothing: Scrapy would still start CONCURRENT_ITEMS (100) tasks to process
        # each response's (empty) output, some 0.3 ms of CPU a page (#17, bench/README.md "CPU per page").
        "CONCURRENT_ITEMS": 1,
        "CONCURRENT_REQUESTS": int(options["concurrency"]),
        "CONCURRENT_REQUESTS_PER_DOMAIN": int(options["per_host_concurrency"]),
        "DOWNLOAD_DELAY": float(options["per_host_delay"]),
        "DOWNLOAD_DELAY_JITTER": 0,
        "DOWNLOAD_SLOTS": download_slots(options["hosts"]),
        "DOWNLOAD_TIMEOUT": float(options["timeout"]),
        "DNS_TIMEOUT": float(options["timeout"]),
        "DNSCACHE_ENABLED": True,
        "REACTOR_THREADPOOL_MAXSIZE": 20,
        "RETRY_ENABLED": int(options["retries"]) > 0,
        "RETRY_TIMES": int(options["retries"]),
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        # A browser navigation that failed at network level is retried as an HTTP fetch would be.
        "RETRY_EXCEPTIONS": [*SCRAPY_RETRY_EXCEPTIONS, "crawler.fetch.chromium.NetworkNavigationError"],
        # A retry goes ahead of targets not yet started, so it is not starved
        # of its deadline behind them in the host's queue.
        "RETRY_PRIORITY_ADJUST": 1,
        "LASTSEEN_RETRY_AFTER_MAX": float(options["retry_after_max"]),
        "LASTSEEN_DEADLINE": float(options["deadline"]),
        "LASTSEEN_CA_CERTS": options["ca_certs"],
        "ROBOTSTXT_OBEY": bool(options["obey_robots"]),
        "LASTSEEN_ALLOW_PRIVATE_REDIRECTS": bool(options["allow_private_redirects"]),
        # getaddrinfo-based: resolves IPv6 literals and AAAA records ([::1] targets)
        "DNS_RESOLVER": "scrapy.resolver.CachingHostnameResolver",
        "REDIRECT_ENABLED": True,
        "REDIRECT_MAX_TIMES": int(options["max_redirects"]),
        "HTTPERROR_ALLOW_ALL": True,
        # Scrapy's max size drops the body; the recorder truncates and keeps it.
        "DOWNLOAD_MAXSIZE": 0,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_FAIL_ON_DATALOSS": False,
        "LASTSEEN_MAX_BODY": int(options["max_body"]),
        "LASTSEEN_BROWSER_PATH": options["browser_path"],
        "LASTSEEN_BROWSER_PAGES": int(options["browser_pages"] or 0),  # 0: the CPUs available
        "USER_AGENT": user_agent(options["user_agent"], contact),
        "DEFAULT_REQUEST_HEADERS": headers,
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
        "DOWNLOADER": "crawler.fetch.politeness.PoliteDownloader",
        # http(s) only, through the handler that keeps deadlines and records TLS;
        # a redirect to file:, data:, ftp: or s3: is never followed.
        "DOWNLOAD_HANDLERS": {
            "http": "crawler.fetch.handler.FetchHandler",
            "https": "crawler.fetch.handler.FetchHandler",
            "file": None, "data": None, "ftp": None, "s3": None,
        },
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.fetch.politeness.RobotsMiddleware": 100,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.fetch.politeness.RetryAfterMiddleware": 550,
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "crawler.fetch.redirects.GuardedRedirectMiddleware": 600,
            "crawler.fetch.http.RecorderMiddleware": 950,
        },
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
        },
    }


class RecorderMiddleware:
    """Records every exchange as received into the request's exchange list.

    A browser page load recorded its exchanges itself: its response (flagged
    ``lastseen-browser``) is passed on untouched.

    Built the Scrapy way: ``from_crawler`` reads ``LASTSEEN_MAX_BODY`` and
    connects the signal that bounds each body. The download handler stamps
    when each exchange starts and how its certificate verified.
    """

    def __init__(self, max_body: int):
        self.max_body = max_body

    @classmethod
    def from_crawler(cls, crawler):
        mw = cls(crawler.settings.getint("LASTSEEN_MAX_BODY", 50 * 2**20))
        crawler.signals.connect(mw.bytes_received, signal=signals.bytes_received)
        return mw

    def bytes_received(self, data, request, spider=None):
        received = request.meta.get(_META_RX, 0) + len(data)
        request.meta[_META_RX] = received
        if self.max_body and received > self.max_body:
            raise StopDownload(fail=False)

    def process_response(self, request, response, spider=None):
        meta = request.meta
        exchanges = meta.get(_META_EXCHANGES)
        if exchanges is None or RESPONSE_FLAG in response.flags:
            return response
        now = clock.time()
        started = meta.get(_META_T0, now)
        body = response.body
        truncated = None
        if "download_stopped" in response.flags:
            truncated = "length"
            body = body[: self.max_body]
        elif "dataloss" in response.flags:
            truncated = "disconnect"
        try:
            reason = http.HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        tls = meta.get(META_TLS)
        exchanges.append(
            Exchange(
                url=request.url,
                method=request.method,
                request_headers=_request_headers(request),
                request_body=request.body or b"",
                started=started,
                duration=max(0.0, now - started),
                protocol=response.protocol or "HTTP/1.1",
                status=response.status,
                reason=reason,
                response_headers=_headers_list(response.headers),
                body=body,
                ip=str(response.ip_address) if response.ip_address is not None else None,
                truncated=truncated,
                tls_verified=tls.verified if tls is not None else None,
                tls_error=tls.error if tls is not None else None,
            )
        )
        return response


def _headers_list(headers) -> list[tuple[str, str]]:
    out = []
    for key in headers.keys():
        name = key.decode("latin-1")
        for value in headers.getlist(key):
            out.append((name, value.decode("latin-1")))
    return out


def _request_headers(request) -> list[tuple[str, str]]:
    from urllib.parse import urlsplit

    netloc = urlsplit(request.url).netloc.rsplit("@", 1)[-1]
    out = [("Host", netloc)]
    out.extend(h for h in _headers_list(request.headers) if h[0].lower() != "host")
    return out


def classify_failure(failure) -> tuple[str, str]:
    """Map a Twisted/Scrapy failure to an error kind of :data:`ERROR_KINDS` and a message."""
    exc = failure.value
    chain = list(_walk(exc))
    names = {type(e).__name__ for e in chain}
    modules = {type(e).__module__ for e in chain}
    message = _message(exc)
    if isinstance(exc, BrowserNotFoundError):
        return "browser", str(exc)
    if isinstance(exc, NavigationError):
        return exc.kind, str(exc)
    if isinstance(exc, RobotsDisallowed):
        return "robots", str(exc)
    if isinstance(exc, PrivateRedirect):
        return "http-3xx", str(exc)
    if isinstance(exc, DeadlineExceeded):
        return "timeout", str(exc)
    if isinstance(exc, IgnoreRequest) and "redirect" in str(exc).lower():
        return "redirects", message or "too many redirects"
    if names & {"DNSLookupError", "CannotResolveHostError", "NoAddressError"}:
        return "dns", message or "the host name does not resolve"
    if any(m.startswith("OpenSSL") for m in modules) or names & {"SSLError", "CertificateError"}:
        return "tls", message or "TLS handshake failed"
    if names & {"ConnectionRefusedError", "DownloadConnectionRefusedError"}:
        return "refused", message or "connection refused"
    if names & {"TimeoutError", "TCPTimedOutError", "DownloadTimeoutError", "UserTimeoutError", "CancelledError"}:
        return "timeout", message or "timed out"
    if "ResponseFailed" in names:
        bad = next((e for e in chain if type(e).__name__ in ("ParseError", "BadHeaders", "ValueError")), None)
        if bad is not None:
            return "protocol", f"the server's answer is not valid HTTP: {_parse_error_text(bad)}"
        if names & {"ConnectionDone", "ConnectionLost", "ConnectionResetError"}:
            return "reset", ("the connection closed before the response head was complete "
                             "(headers too long, or not HTTP)")
    if "ResponseNeverReceived" in names and "ConnectionDone" in names:
        return "reset", "the server closed the connection without answering"
    if names & {"ConnectionLost", "ConnectionDone", "ConnectionResetError", "ResponseFailed",
                "ResponseNeverReceived", "ResponseDataLossError", "ConnectError", "DownloadFailedError",
                "PotentialDataLoss", "_DataLoss"}:
        return "reset", message or "connection dropped"
    return "protocol", message or type(exc).__name__


def _parse_error_text(exc) -> str:
    args = getattr(exc, "args", ())
    if len(args) == 2 and isinstance(args[1], bytes):
        return f"{args[0]}: {args[1][:80]!r}"
    return (str(exc) or type(exc).__name__)[:200]


def _walk(exc, depth=0):
    if exc is None or depth > 8:
        return
    yield exc
    for reason in getattr(exc, "reasons", None) or ():
        yield from _walk(getattr(reason, "value", reason), depth + 1)
    yield from _walk(exc.__cause__ or exc.__context__, depth + 1)


def _message(exc) -> str:
    for e in _walk(exc):
        text = str(e).strip()
        if text and not text.startswith("[<twisted.python.failure"):
            return text[:500]
    return type(exc).__name__


class TargetSpider(scrapy.Spider):
    """Fetches each job's URL once, as jobs arrive; reports each outcome through ``emit``.

    ``jobs`` is a blocking iterator of job dicts (``id``, ``target``, ``url``,
    ``fetch``, ``role``), read on a thread; ``start()`` waits for the next one,
    so the spider stays open, taking work, until the iterator ends.
    """

    name = "lastseen"

    def __init__(self, jobs: Iterable[dict], emit: Callable[[FetchResult], None], **kwargs):
        super().__init__(**kwargs)
        self.jobs = jobs
        self.emit = emit

    async def start(self):
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()

        def hand_over(job) -> None:
            try:
                loop.call_soon_threadsafe(inbox.put_nowait, job)
            except RuntimeError:  # the loop is gone: the crawl is over
                pass

        def pump() -> None:
            try:
                for job in self.jobs:
                    hand_over(job)
            finally:
                hand_over(None)

        threading.Thread(target=pump, name="lastseen-jobs", daemon=True).start()
        while (job := await inbox.get()) is not None:
            yield scrapy.Request(
                job["url"],
                callback=self.parsed,
                errback=self.failed,
                dont_filter=True,
                meta={
                    _META_TARGET: job,
                    _META_EXCHANGES: [],
                    _META_STARTED: clock.time(),
                    META_MODE: job.get("fetch", "http"),
                    "cookiejar": job["target"],
                },
            )

    def parsed(self, response):
        meta = response.meta
        self.emit(self._result(meta, error=meta.get("lastseen_private_redirect")))
        self._let_go(meta)
        return ()

    def failed(self, failure):
        meta = failure.request.meta
        kind, message = classify_failure(failure)
        end = meta.get(META_DEADLINE)
        if kind == "timeout" and end is not None and time.monotonic() >= end - 0.05:
            deadline = self.crawler.settings.getfloat("LASTSEEN_DEADLINE", 120.0)
            message = f"gave up: the fetch took longer than its deadline of {deadline:g}s (settings.deadline)"
        self.emit(self._result(meta, kind, message))
        self._let_go(meta)

    def _let_go(self, meta) -> None:
        """Forget the target's cookie jar once its fetch is over if it holds no cookie (#17): Scrapy keeps a
        jar per ``cookiejar`` key for the crawl, 100,000 empty jars in a run of 100,000 targets. A jar with
        cookies stays, for the target's re-fetch, as before; an empty one is made again if needed."""
        jars = getattr(self, "_jars", None)
        if jars is None:
            middlewares = self.crawler.engine.downloader.middleware.middlewares
            jars = self._jars = next((m.jars for m in middlewares if isinstance(m, CookiesMiddleware)), {})
        jar = jars.get(meta.get("cookiejar"))
        if jar is not None and not len(jar):
            del jars[meta["cookiejar"]]

    @staticmethod
    def _result(meta, error_kind=None, error=None) -> FetchResult:
        job = meta[_META_TARGET]
        exchanges = meta[_META_EXCHANGES]
        if job.get("fetch", "http") == "http":  # a browser load gave its exchanges their roles
            for exchange, following in zip(exchanges, exchanges[1:]):
                if 300 <= exchange.status < 400 and following.url != exchange.url:
                    exchange.role = "redirect"  # a hop that was followed; the rest are attempts at the page
        return FetchResult(
            target=job["target"],
            url=job["url"],
            started=meta[_META_STARTED],
            finished=clock.time(),
            exchanges=exchanges,
            error_kind=error_kind,
            error=error,
            robots=meta.get(META_ROBOTS),
            flags=list(meta.get(META_FLAGS, ())),
            resources=list(meta.get(META_RESOURCES, ())),
            failed=list(meta.get(META_FAILED, ())),
            fetch=job.get("fetch", "http"),
            job=job.get("id"),
        )
