"""One page load in Chromium: its responses as exchanges, its failures, its screenshot and DOM.

:class:`_PageLoader` is used by :class:`crawler.fetch.chromium.BrowserSession` for each
page: it navigates, waits as the target's options say (load, ``wait_for``,
``scroll``, ``settle``), stops the page's scripts, takes the screenshot and the
DOM, and turns every response the page received into an
:class:`~crawler.fetch.model.Exchange`.
"""

from __future__ import annotations

import asyncio
import http
import time

from .. import clock
from .chromium import (
    _CERT_ERRORS,
    _CLOSE_WAIT,
    _NO_DIALOGS,
    _PROTOCOLS,
    _SCROLL,
    _SCROLL_STEPS,
    _STEP_WAIT,
    TIMEOUT_FLAG,
    NavigationError,
    NetworkNavigationError,
    PageLoad,
    PageOptions,
    _ms,
    _navigation_error,
    stored_headers,
)
from .model import Exchange, Resource


class _PageLoader:
    """One page load in its own context: listens to the network, navigates, settles, captures."""

    def __init__(self, context, max_body: int):
        self.context = context
        self.max_body = max_body
        self.page = None
        self.cdp = None
        self.order: list = []                 # Response objects, in arrival order
        self.requests: list = []              # every request, in order
        self.finished: dict = {}              # request -> task building its Exchange
        self.failures: dict = {}              # request -> Chromium's reason
        self.security: dict[str, tuple[str | None, str | None]] = {}  # url -> (securityState, protocol)
        self.cert_error: str | None = None    # the page's certificate error, as Chromium names it
        context.on("request", lambda request: self.requests.append(request))
        context.on("response", lambda response: self.order.append(response))
        context.on("requestfinished", self._finished)
        context.on("requestfailed", self._failed)

    def _finished(self, request) -> None:
        task = self.finished[request] = asyncio.ensure_future(self._exchange(request))
        task.add_done_callback(_retrieve)

    def _failed(self, request) -> None:
        self.failures[request] = request.failure or "failed"

    def _security(self, event: dict) -> None:
        response = event.get("response") or {}
        if response.get("url"):
            self.security[response["url"]] = (response.get("securityState"), response.get("protocol"))

    def _visible_security(self, event: dict) -> None:
        state = (event.get("visibleSecurityState") or {}).get("certificateSecurityState") or {}
        self.cert_error = state.get("certificateNetworkError") or None

    async def _exchange(self, request, *, with_body: bool = True) -> Exchange | None:
        """The request and its response as an Exchange (body decoded by Chromium; see stored_headers).

        Without ``with_body`` (its body could not be had in time) the body is empty, marked ``disconnect``.
        """
        response = await request.response()
        if response is None:
            return None
        response_headers = [(h["name"], h["value"]) for h in await response.headers_array()]
        request_headers = [(h["name"], h["value"]) for h in await request.headers_array()
                           if not h["name"].startswith(":")]
        if not any(name.lower() == "host" for name, _ in request_headers):
            from urllib.parse import urlsplit

            request_headers.insert(0, ("Host", urlsplit(request.url).netloc.rsplit("@", 1)[-1]))
        truncated = None
        if 300 <= response.status < 400 and request.redirected_to is not None:
            body = b""  # Chromium keeps no body of a redirect it followed
        elif not with_body:
            body, truncated = b"", "disconnect"
            self.failures.setdefault(request, "body not available from Chromium in time (a busy page)")
        else:
            try:
                body = await response.body()
            except Exception as exc:  # noqa: BLE001 - evicted from Chromium's buffer, or the page is gone
                body, truncated = b"", "disconnect"
                self.failures.setdefault(request, f"body not available from Chromium: {str(exc)[:200]}")
        if self.max_body and len(body) > self.max_body:
            body, truncated = body[: self.max_body], "length"
        try:
            address = await response.server_addr()
        except Exception:  # noqa: BLE001
            address = None
        timing = request.timing or {}
        start = timing.get("startTime") or 0
        started = start / 1000.0 + clock.offset() if start > 0 else clock.time()
        end = timing.get("responseEnd", -1)
        state, protocol = self.security.get(response.url, (None, None))
        tls_verified = None
        if response.url.startswith("https:") and state is not None:
            tls_verified = state != "insecure"  # why not: see _exchanges (once the page's state is known)
        reason = response.status_text or _reason(response.status)
        return Exchange(
            url=response.url,
            method=request.method,
            request_headers=request_headers,
            request_body=request.post_data_buffer or b"",
            started=started,
            duration=max(0.0, end / 1000.0) if end and end > 0 else max(0.0, clock.time() - started),
            protocol=_PROTOCOLS.get((protocol or "").lower(), "HTTP/1.1"),
            status=response.status,
            reason=reason,
            response_headers=stored_headers(response_headers, len(body)),
            body=body,
            ip=(address or {}).get("ipAddress") or None,
            truncated=truncated,
            tls_verified=tls_verified,
            role="subresource",
        )

    def _tls_error(self, url: str) -> str:
        """Why ``url``'s certificate did not verify: Chromium names the error of the page's own
        origin only (its visible security state); of other origins it says nothing more."""
        from urllib.parse import urlsplit

        page = self.page.main_frame.url if self.page is not None else ""
        same_origin = urlsplit(url)[:2] == urlsplit(page)[:2]
        code = (self.cert_error or "").removeprefix("net::") if same_origin else ""
        if code in _CERT_ERRORS:
            return f"{_CERT_ERRORS[code]} ({code}, as Chromium reports it)"
        if code:
            return f"the certificate did not verify ({code}, as Chromium reports it)"
        return "the certificate did not verify (Chromium reports no detail)"

    # -- the load -----------------------------------------------------------------------------
    async def run(self, url: str, options: PageOptions, *, timeout: float, deadline: float) -> PageLoad:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        await self.context.add_init_script(_NO_DIALOGS)
        page = self.page = await self.context.new_page()
        # Other dialogs (beforeunload) are dismissed by Playwright, as nobody listens for them.
        cdp = self.cdp = await self.context.new_cdp_session(page)  # before the page runs any script
        cdp.on("Network.responseReceived", self._security)
        cdp.on("Security.visibleSecurityStateChanged", self._visible_security)
        await cdp.send("Network.enable")
        await cdp.send("Security.enable")
        settle_end = min(time.monotonic() + timeout, deadline)
        try:
            await page.goto(url, wait_until="commit", timeout=_ms(settle_end - time.monotonic()))
        except PlaywrightTimeout as exc:
            await self._drain(deadline)
            raise NetworkNavigationError(
                "timeout", f"Chromium got no answer from {url} within {timeout:g}s (settings.timeout)",
                self._exchanges()[0],
            ) from exc
        except PlaywrightError as exc:
            await self._drain(deadline)
            raise _navigation_error(exc, url, self._exchanges()[0]) from exc

        flags: list[str] = []
        if not await self._settle(options, settle_end):
            flags.append(TIMEOUT_FLAG)
        await self._stop_scripts()
        resources = await self._capture(deadline)
        if len(resources) < 2:
            flags.append(TIMEOUT_FLAG)  # no time left to capture it all
        await self._drain(deadline)
        exchanges, failed = self._exchanges()
        document = next((e for e in reversed(exchanges) if e.role == "page"), None)
        if document is None:
            raise NavigationError("protocol", f"Chromium displayed {url} but recorded no response for it",
                                  exchanges)
        for resource in resources:
            resource.uri = f"urn:{resource.kind}:{document.url}"
        return PageLoad(exchanges=exchanges, document=document, resources=resources, failed=failed,
                        flags=list(dict.fromkeys(flags)))

    async def _settle(self, options: PageOptions, end: float) -> bool:
        """Load, ``wait_for``, ``scroll``, ``settle``, in that order, until ``end``; False if ``end`` came first."""
        from playwright.async_api import Error as PlaywrightError

        page, settled = self.page, True

        async def within(make, *, playwright_timeout=True) -> bool:
            left = end - time.monotonic()
            if left <= 0:
                return False
            try:
                # Playwright's own timeout, and ours in case the page keeps its renderer too busy to answer.
                step = make(_ms(left)) if playwright_timeout else make()
                await asyncio.wait_for(step, left + 1.0)
                return True
            except (TimeoutError, PlaywrightError):
                return False

        settled &= await within(lambda ms: page.wait_for_load_state("load", timeout=ms))
        if options.wait_for:
            selector = f"css={options.wait_for}"  # CSS, as `check` validated it (not Playwright's other engines)
            settled &= await within(lambda ms: page.wait_for_selector(selector, state="visible", timeout=ms))
        if options.scroll:
            settled &= await within(lambda: page.evaluate(_SCROLL, [_SCROLL_STEPS, 100]), playwright_timeout=False)
        if options.settle == "networkidle":
            settled &= await within(lambda ms: page.wait_for_load_state("networkidle", timeout=ms))
        elif options.settle != "load":
            wait = float(options.settle)
            left = end - time.monotonic()
            await asyncio.sleep(max(0.0, min(wait, left)))
            settled &= wait <= left
        return bool(settled)

    async def _stop_scripts(self) -> None:
        """Freeze the page as it is: no script runs any more (a busy loop is interrupted)."""
        for method, params in (("Emulation.setScriptExecutionDisabled", {"value": True}),
                               ("Runtime.terminateExecution", None)):
            try:
                await asyncio.wait_for(self.cdp.send(method, params), _STEP_WAIT)
            except Exception:  # noqa: BLE001 - best effort: the capture is bounded anyway
                pass

    async def _capture(self, deadline: float) -> list[Resource]:
        """The full-page screenshot and the rendered DOM, as far as ``deadline`` allows."""
        resources = []
        left = deadline - time.monotonic()
        if left > 0:
            try:
                png = await asyncio.wait_for(
                    self.page.screenshot(full_page=True, type="png", timeout=_ms(left)), left + 1.0)
                resources.append(Resource("screenshot", "", "image/png", png, clock.time()))
            except Exception:  # noqa: BLE001 - PlaywrightError or our timeout: no screenshot
                pass
        left = deadline - time.monotonic()
        if left > 0:
            try:
                dom = await asyncio.wait_for(self.page.content(), left)
                resources.append(Resource("dom", "", "text/html; charset=utf-8",
                                          dom.encode("utf-8", "replace"), clock.time()))
            except Exception:  # noqa: BLE001
                pass
        return resources

    async def _drain(self, deadline: float) -> None:
        """Wait (bounded) for the exchanges of finished requests to be built; those that are not
        by then are built without their bodies."""
        pending = [t for t in self.finished.values() if not t.done()]
        left = min(_CLOSE_WAIT, deadline - time.monotonic())
        if pending and left > 0:
            await asyncio.wait(pending, timeout=left)
        for request, task in list(self.finished.items()):
            if not task.done():
                task.cancel()
                task = self.finished[request] = asyncio.ensure_future(
                    asyncio.wait_for(self._exchange(request, with_body=False), _STEP_WAIT))
                task.add_done_callback(_retrieve)
        pending = [t for t in self.finished.values() if not t.done()]
        if pending:
            await asyncio.wait(pending)  # bounded: each by _STEP_WAIT

    def _exchanges(self) -> tuple[list[Exchange], list[tuple[str, str]]]:
        """Exchanges in arrival order with their roles, and what failed."""
        main = self.page.main_frame if self.page is not None else None
        exchanges, chain, failed, seen = [], [], [], set()
        for response in self.order:
            request = response.request
            seen.add(request)
            task = self.finished.get(request)
            exchange = task.result() if task is not None and _succeeded(task) else None
            if exchange is None:
                if request not in self.failures:
                    self.failures[request] = "still loading when the page was captured"
                continue
            if _is_main_document(request, main):
                chain.append(exchange)
            if exchange.tls_verified is False:
                exchange.tls_error = self._tls_error(exchange.url)
            exchanges.append(exchange)
        if chain:
            final_url = main.url if main is not None else None
            final = next((e for e in reversed(chain) if e.url == final_url), chain[-1])
            for exchange in chain:
                exchange.role = "page" if exchange is final else "redirect"
        for request in self.requests:
            if request not in seen and request not in self.failures:
                self.failures[request] = "no answer when the page was captured"
        for request, why in self.failures.items():
            if not _is_main_document(request, main) or request in seen:
                failed.append((request.url, why))
        for exchange in exchanges:
            if exchange.role == "subresource" and exchange.status >= 400:
                failed.append((exchange.url, f"HTTP {exchange.status}"))
        return exchanges, failed


def _succeeded(task: asyncio.Future) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None


def _retrieve(task: asyncio.Future) -> None:
    """Mark a task's failure as seen (a page closed under it is expected, not worth a traceback)."""
    if not task.cancelled():
        task.exception()


def _is_main_document(request, main_frame) -> bool:
    try:
        return request.is_navigation_request() and main_frame is not None and request.frame == main_frame
    except Exception:  # noqa: BLE001 - a service worker's request has no frame
        return False


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""
