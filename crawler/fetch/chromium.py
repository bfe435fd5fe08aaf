"""Browser page loads: one headless Chromium per fetcher process, driven with Playwright.

:class:`BrowserSession` is the browser of the fetcher process. It is launched
on the first page load (``settings.browser_path``, else
:func:`~crawler.fetch.browser.find_chromium`; flags
:data:`~crawler.fetch.browser.CHROMIUM_ARGS`; a fresh user-data directory
``lastseen-chromium-*`` in the temp directory, so lastseen's Chromium processes
can be told apart from anyone else's) and closed by :meth:`BrowserSession.close`
(the download handler's ``close()``, when the crawl ends). Each page load gets
its own browser context (no cookies, cache or storage shared between loads);
at most ``pages`` loads are in flight at once: each takes a
:meth:`BrowserSession.place` first, the others wait for one.

:meth:`BrowserSession.load` loads one page and returns a :class:`PageLoad`:
every response the page received, in the order it arrived, as
:class:`~crawler.fetch.model.Exchange` objects (the page's own chain with roles
``redirect`` then ``page``, everything else ``subresource``), the sub-resources
that failed, a full-page screenshot and the rendered DOM
(:class:`~crawler.fetch.model.Resource`), and flags (``browser-timeout``).
When the page's own document cannot be had it raises :class:`NavigationError`
(an error kind of :data:`~crawler.fetch.model.ERROR_KINDS`; network failures
as :class:`NetworkNavigationError`, which Scrapy retries).

Chromium hands over decoded bodies: the stored headers say so (no
``Content-Encoding`` or ``Transfer-Encoding``; their values, and a
``Content-Length`` that no longer applies, kept as
``X-Lastseen-Original-*``). Scripts are stopped before the page is captured
(``Emulation.setScriptExecutionDisabled`` and ``Runtime.terminateExecution``
over the Chrome DevTools Protocol), so a page that loops forever or keeps
opening dialogs is captured all the same. One page load is :mod:`crawler.fetch.pageload`.

If the fetcher process dies without closing the browser (SIGKILL), Playwright's
driver sees its standard input close and kills Chromium; if the driver is
killed too, Chromium exits when its DevTools pipe closes (measured: gone within
0.2 s either way; tests/test_browser_fetch.py checks within 5 s).

Playwright is imported on the first page load only, so HTTP-only runs never pay for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BrowserNotFoundError
from .browser import CHROMIUM_ARGS, find_chromium
from .model import Exchange, Resource

__all__ = [
    "ORIGINAL_PREFIX",
    "PROFILE_PREFIX",
    "RESPONSE_FLAG",
    "TIMEOUT_FLAG",
    "BrowserSession",
    "NavigationError",
    "NetworkNavigationError",
    "PageLoad",
    "PageOptions",
    "stored_headers",
]

PROFILE_PREFIX = "lastseen-chromium-"     # the user-data directory of every Chromium lastseen starts
RESPONSE_FLAG = "lastseen-browser"        # on the Scrapy response of a page load: its exchanges are recorded
TIMEOUT_FLAG = "browser-timeout"          # the page was captured when `timeout` was up, not settled
ORIGINAL_PREFIX = "X-Lastseen-Original-"  # a header that no longer describes the stored (decoded) body

_CLOSE_WAIT = 5.0     # seconds a context or the browser gets to close before it is abandoned or killed
_STEP_WAIT = 2.0      # seconds for one DevTools command that should answer at once
_SCROLL_STEPS = 200   # screens scrolled at most (an endless page is cut there, or at `timeout`)
# Dialogs answered at once, as if dismissed (alert: nothing, confirm: false, prompt: null), in every
# frame before its scripts run: a page that opens them in a loop is then an ordinary busy loop,
# which stopping its scripts ends (a dialog showing would keep the page from being captured).
_NO_DIALOGS = """(() => {
  const quiet = (answer) => function () { return answer; };
  window.alert = quiet(undefined); window.confirm = quiet(false); window.prompt = quiet(null);
})();"""
_SCROLL = """async ([steps, pause]) => {
  const root = document.scrollingElement || document.documentElement;
  for (let i = 0; i < steps; i++) {
    const before = window.scrollY;
    window.scrollBy(0, window.innerHeight);
    await new Promise(done => requestAnimationFrame(() => setTimeout(done, pause)));
    if (window.scrollY === before && window.scrollY + window.innerHeight >= root.scrollHeight) break;
  }
  window.scrollTo(0, 0);
}"""


@dataclass(frozen=True)
class PageOptions:
    """A browser target's options (the watchlist's ``wait_for``, ``settle``, ``scroll``, ``viewport``)."""

    wait_for: str | None = None
    settle: str | float = "networkidle"   # "load", "networkidle", or seconds to wait after the load event
    scroll: bool = False
    viewport: tuple[int, int] = (1280, 800)

    @classmethod
    def from_job(cls, options: dict | None) -> PageOptions:
        """From ``FetchJob.options`` (plain JSON values; missing ones take their defaults)."""
        options = options or {}
        default = cls()
        viewport = options.get("viewport") or default.viewport
        settle = options.get("settle")
        return cls(
            wait_for=options.get("wait_for") or None,
            settle=default.settle if settle is None else settle,
            scroll=bool(options.get("scroll", default.scroll)),
            viewport=(int(viewport[0]), int(viewport[1])),
        )


@dataclass
class PageLoad:
    """What one page load produced."""

    exchanges: list[Exchange]             # every response, in arrival order, with roles
    document: Exchange                    # the page's own final answer (role ``page``)
    resources: list[Resource] = field(default_factory=list)    # screenshot, rendered DOM
    failed: list[tuple[str, str]] = field(default_factory=list)  # sub-resources that failed: (url, why)
    flags: list[str] = field(default_factory=list)


class NavigationError(Exception):
    """The page's own document could not be loaded; ``kind`` is one of ``ERROR_KINDS``.

    ``exchanges`` are what arrived before it failed (redirect hops), to be archived.
    """

    def __init__(self, kind: str, message: str, exchanges: list[Exchange] | None = None):
        super().__init__(message)
        self.kind = kind
        self.exchanges = exchanges or []


class NetworkNavigationError(NavigationError):
    """A navigation that failed at network level (DNS, refused, reset, timeout): retried as for HTTP."""


# Chromium's net errors (net/base/net_error_list.h), by the error kind they are.
_NET_KINDS = (
    (re.compile(r"ERR_NAME_NOT_RESOLVED|ERR_NAME_RESOLUTION_FAILED|ERR_DNS_"), "dns"),
    (re.compile(r"ERR_CONNECTION_REFUSED|ERR_ADDRESS_UNREACHABLE|ERR_ADDRESS_INVALID"), "refused"),
    (re.compile(r"ERR_CONNECTION_TIMED_OUT|ERR_TIMED_OUT"), "timeout"),
    (re.compile(r"ERR_CONNECTION_(?:RESET|CLOSED|ABORTED|FAILED)|ERR_EMPTY_RESPONSE|ERR_NETWORK_CHANGED|"
                r"ERR_CONTENT_LENGTH_MISMATCH|ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_INTERNET_DISCONNECTED"), "reset"),
    (re.compile(r"ERR_SSL_|ERR_CERT_|ERR_BAD_SSL_"), "tls"),
    (re.compile(r"ERR_TOO_MANY_REDIRECTS"), "redirects"),
    (re.compile(r"ERR_UNSAFE_REDIRECT|ERR_INVALID_REDIRECT"), "http-3xx"),
)
_RETRIED_KINDS = frozenset({"dns", "refused", "timeout", "reset"})
_NET_ERROR = re.compile(r"net::(ERR_[A-Z0-9_]+)")

# Chromium's certificate errors, as lastseen's HTTP fetches word them.
_CERT_ERRORS = {
    "ERR_CERT_AUTHORITY_INVALID": "the certificate is not signed by a trusted authority (self-signed or unknown CA)",
    "ERR_CERT_COMMON_NAME_INVALID": "hostname mismatch: the certificate is not for this host",
    "ERR_CERT_DATE_INVALID": "the certificate has expired or is not yet valid",
    "ERR_CERT_REVOKED": "the certificate has been revoked",
    "ERR_CERT_WEAK_SIGNATURE_ALGORITHM": "the certificate has a weak signature",
}


def _navigation_error(exc: Exception, url: str, exchanges: list[Exchange]) -> NavigationError:
    text = str(exc)
    found = _NET_ERROR.search(text)
    code = found.group(1) if found else None
    kind = next((k for pattern, k in _NET_KINDS if code and pattern.search(code)), "protocol")
    if code is None and "Download is starting" in text:
        message = f"{url} is a download, not a page Chromium displays; fetch it with `fetch: http`"
    elif code == "ERR_ABORTED":
        message = f"Chromium did not display {url} (net::ERR_ABORTED: a download, or an empty answer)"
    else:
        message = f"Chromium could not load {url}: {code or text.splitlines()[0][:300]}"
    cls = NetworkNavigationError if kind in _RETRIED_KINDS else NavigationError
    return cls(kind, message, exchanges)


def stored_headers(headers: list[tuple[str, str]], body_length: int) -> list[tuple[str, str]]:
    """Response headers that describe a decoded, de-chunked body of ``body_length`` bytes.

    ``Content-Encoding`` and ``Transfer-Encoding`` become ``X-Lastseen-Original-…``
    headers (which replay tools ignore); so does a ``Content-Length`` that is not
    ``body_length``, and a correct one is added. HTTP/2 pseudo-headers go.
    """
    out, moved_length = [], False
    for name, value in headers:
        lname = name.lower()
        if lname.startswith(":"):
            continue
        if lname in ("content-encoding", "transfer-encoding"):
            out.append((ORIGINAL_PREFIX + "-".join(p.capitalize() for p in lname.split("-")), value))
        elif lname == "content-length":
            if value.strip() == str(body_length):
                out.append((name, value))
            else:
                out.append((ORIGINAL_PREFIX + "Content-Length", value))
                moved_length = True
        else:
            out.append((name, value))
    if moved_length:
        out.append(("Content-Length", str(body_length)))
    return out


_PROTOCOLS = {"http/1.0": "HTTP/1.0", "http/1.1": "HTTP/1.1", "h2": "HTTP/2", "h3": "HTTP/3"}


class BrowserSession:
    """The fetcher process's Chromium: launched when first needed, one context per page load.

    ``executable`` is ``settings.browser_path`` (None: :func:`find_chromium`);
    ``pages`` the page loads in flight at most (None: the CPUs available to the
    process); ``user_agent`` and ``headers`` (``From``) go with every request a
    page makes; ``max_body`` cuts each response body.
    """

    def __init__(self, *, executable: str | None = None, pages: int | None = None, user_agent: str | None = None,
                 headers: dict[str, str] | None = None, max_body: int = 0):
        self.executable = executable
        self.pages = pages or len(os.sched_getaffinity(0))
        self.user_agent = user_agent
        self.headers = dict(headers or {})
        self.max_body = max_body
        self._slots: asyncio.Semaphore | None = None
        self._starting: asyncio.Lock | None = None
        self._playwright = None
        self._persistent = None      # the persistent context that owns the user-data directory
        self._browser = None
        self._profile: str | None = None
        self._broken: BrowserNotFoundError | None = None
        self._closed = False

    # -- the browser --------------------------------------------------------------------
    async def _ensure_browser(self):
        if self._broken is not None:
            raise BrowserNotFoundError(str(self._broken))
        if self._closed:
            raise NavigationError("browser", "the browser session is closed (the crawl is ending)")
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            await self._shutdown()  # a browser that crashed: start afresh
            try:
                executable = await asyncio.to_thread(find_chromium, self.executable)
            except BrowserNotFoundError as exc:
                self._broken = exc
                raise
            await self._launch(executable)
            return self._browser

    async def _launch(self, executable: str) -> None:
        try:
            from playwright.async_api import Error as PlaywrightError
            from playwright.async_api import async_playwright
        except ImportError as exc:  # a core dependency; only a broken install lacks it
            self._broken = BrowserNotFoundError(f"Playwright is not installed ({exc}); reinstall lastseen "
                                                f"(`pip install .`): Playwright is one of its dependencies")
            raise self._broken from exc
        await asyncio.to_thread(_remove_stale_profiles)
        self._profile = tempfile.mkdtemp(prefix=PROFILE_PREFIX)
        try:
            self._playwright = await async_playwright().start()
            # A persistent context, so that Chromium runs with the user-data directory
            # named here (its command line says so: that is how its processes are found);
            # page loads use fresh contexts of its browser, never this one.
            self._persistent = await self._playwright.chromium.launch_persistent_context(
                self._profile, executable_path=executable, args=list(CHROMIUM_ARGS), headless=True,
                timeout=60_000, env=_short_tmpdir_env(),
            )
            self._browser = self._persistent.browser
        except (PlaywrightError, OSError) as exc:
            await self._shutdown()
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            self._broken = BrowserNotFoundError(
                f"Chromium at {executable} did not start ({first}); check that it runs "
                f"(`{executable} --headless --dump-dom about:blank`), or point settings.browser_path "
                f"or LASTSEEN_CHROMIUM at another Chromium"
            )
            raise self._broken from exc

    async def _shutdown(self) -> None:
        """Close the browser and the driver, whatever state they are in; remove the profile."""
        persistent, playwright, profile = self._persistent, self._playwright, self._profile
        self._persistent = self._browser = self._playwright = self._profile = None
        if persistent is not None:
            try:
                await asyncio.wait_for(persistent.close(), _CLOSE_WAIT)
            except Exception:  # noqa: BLE001 - closing what may already be gone
                pass
        if playwright is not None:
            try:
                # Stopping the driver kills any Chromium it still runs.
                await asyncio.wait_for(playwright.stop(), _CLOSE_WAIT)
            except Exception:  # noqa: BLE001
                pass
        if profile is not None:
            await asyncio.to_thread(shutil.rmtree, profile, True)

    async def close(self) -> None:
        """Close Chromium and Playwright's driver; later loads fail. Safe to call twice."""
        self._closed = True
        await self._shutdown()

    # -- page loads ---------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def place(self):
        """One of the ``pages`` places for a page load: wait for it, then :meth:`load` in it.

        Waiting here is like waiting in a host's download slot: it is not the
        target's fault, so its deadline should only start once it has a place.
        """
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.pages)
        async with self._slots:
            yield

    async def load(self, url: str, options: PageOptions, *, timeout: float, deadline: float) -> PageLoad:
        """Load ``url`` and capture it (inside :meth:`place`).

        ``timeout`` (seconds) bounds loading and settling: a page not settled by
        then is captured as it is, flagged ``browser-timeout``. ``deadline``
        (``time.monotonic()``) bounds the whole load, capture included. Raises
        :class:`NavigationError` when the page's own document cannot be had, and
        :class:`~crawler.errors.BrowserNotFoundError` when there is no browser.
        """
        browser = await self._ensure_browser()
        from playwright.async_api import Error as PlaywrightError

        try:
            context = await browser.new_context(
                viewport={"width": options.viewport[0], "height": options.viewport[1]},
                device_scale_factor=1,
                user_agent=self.user_agent,
                extra_http_headers=self.headers or None,
                ignore_https_errors=True,     # captured all the same; the certificate error is recorded
                service_workers="block",      # every response comes from the network, as archived
                accept_downloads=False,
            )
        except PlaywrightError as exc:
            raise NavigationError("browser", f"Chromium could not open a page: {str(exc)[:300]}") from exc
        from .pageload import _PageLoader  # (it imports this module)

        loader = _PageLoader(context, self.max_body)
        try:
            # Every step is bounded on its own; this bounds them all, should one not be.
            return await asyncio.wait_for(loader.run(url, options, timeout=timeout, deadline=deadline),
                                          max(0.0, deadline - time.monotonic()) + _CLOSE_WAIT * 2)
        except TimeoutError as exc:
            raise NavigationError("timeout", f"gave up on {url}: Chromium did not finish loading and "
                                             f"capturing it within its deadline") from exc
        except PlaywrightError as exc:
            if not browser.is_connected():
                raise NavigationError("browser", f"Chromium stopped while loading {url}: "
                                                 f"{str(exc).splitlines()[0][:300]}") from exc
            raise NavigationError("protocol", f"Chromium failed on {url}: "
                                              f"{str(exc).splitlines()[0][:300]}") from exc
        finally:
            try:
                await asyncio.wait_for(context.close(), _CLOSE_WAIT)
            except Exception:  # noqa: BLE001 - a context that will not close: restart the browser
                if browser.is_connected():
                    await self._shutdown()


_STALE_AGE = 600.0  # seconds: a profile this old whose Chromium is gone was left by a killed fetcher


def _remove_stale_profiles() -> None:
    """Remove user-data directories of lastseen Chromiums that are no longer running (a fetcher
    SIGKILLed has no chance to remove its own); a directory named on a live process's command
    line, or younger than ten minutes (a browser still starting), is left alone."""
    base = Path(tempfile.gettempdir())
    try:
        candidates = [p for p in base.iterdir() if p.name.startswith(PROFILE_PREFIX) and p.is_dir()
                      and time.time() - p.stat().st_mtime > _STALE_AGE]
    except OSError:
        return
    if not candidates or not os.path.isdir("/proc"):
        return
    live = b"\0".join(_command_lines())
    for profile in candidates:
        if os.fsencode(str(profile)) not in live:
            shutil.rmtree(profile, ignore_errors=True)


def _command_lines():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                yield Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                pass


def _ms(seconds: float) -> float:
    return max(1.0, seconds * 1000.0)


#: Chromium's singleton socket, ``$TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket``, must fit a Unix socket
#: path (107 bytes): with a longer temp dir it exits at once ("Socket path too long").
_SOCKET_ROOM = 107 - len("/org.chromium.Chromium.XXXXXX/SingletonSocket")


def _short_tmpdir_env() -> dict[str, str] | None:
    """Chromium's environment: the inherited one, but a temp dir short enough for its socket (``/tmp``) when
    the inherited one is too long (a deep ``TMPDIR``); None (inherit as is) otherwise."""
    if len(os.fsencode(tempfile.gettempdir())) <= _SOCKET_ROOM or not os.access("/tmp", os.W_OK | os.X_OK):
        return None
    return {**os.environ, "TMPDIR": "/tmp"}
