"""Redirects followed as Scrapy does, except into a private network from a public page.

A ``Location`` that is not an http(s) URL (``file:``, ``javascript:``...) is
never followed: the 3xx response is the capture's final answer (``http-3xx``).

:class:`GuardedRedirectMiddleware` replaces Scrapy's ``RedirectMiddleware``.
When a target's first exchange was answered from a public address, a redirect
hop whose host is (or resolves to) a loopback, private or link-local address
is not followed: the 3xx response stays the capture's final response (verdict
``unreachable`` / ``http-3xx``) and the capture is flagged ``private-redirect``.
Judged by the IP address: a literal one at once; a host name is resolved first,
and the download handler checks the address actually connected to as well
(:func:`check_connected`), so a name that resolves differently the second time
(DNS rebinding) is caught before its answer is kept. Targets whose own URL is
private are fetched as today; ``settings.allow_private_redirects`` turns the
guard off. Which addresses are private: :mod:`crawler.fetch.addresses`.
"""

from __future__ import annotations

import asyncio
import socket

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.utils.httpobj import urlparse_cached

from .addresses import AddressPolicy
from .handler import META_TARGET

META_FLAGS = "lastseen_flags"              # flags of the fetch (a list), copied onto the FetchResult
META_PUBLIC_ORIGIN = "lastseen_public_origin"  # True once the chain's first answer came from a public address
FLAG = "private-redirect"


class PrivateRedirect(IgnoreRequest):
    """A redirect hop connected to a private address after a public one."""


def add_flag(meta: dict, flag: str) -> None:
    flags = meta.setdefault(META_FLAGS, [])
    if flag not in flags:
        flags.append(flag)


def _port(request) -> int:
    parts = urlparse_cached(request)
    return parts.port or (443 if parts.scheme == "https" else 80)


class GuardedRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects, refusing hops from a public page into a private network."""

    def __init__(self, settings, crawler=None):
        super().__init__(settings)
        self.crawler = crawler
        self.allow_private = settings.getbool("LASTSEEN_ALLOW_PRIVATE_REDIRECTS")
        self.policy = AddressPolicy.from_environment()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings, crawler)

    async def process_response(self, request, response, spider=None):
        try:
            result = super().process_response(request, response)
        except ValueError:
            # A Location Scrapy cannot even make a request of (``javascript:alert(1)``): not
            # followed, like a redirect to ``file:``; the 3xx is the final answer (http-3xx).
            return response
        if self.allow_private or not isinstance(result, Request) or META_TARGET not in request.meta:
            return result
        meta = request.meta
        if META_PUBLIC_ORIGIN not in meta:
            # The chain's first answer: where the target itself is served from.
            origin = str(response.ip_address) if response.ip_address is not None else None
            meta[META_PUBLIC_ORIGIN] = origin is not None and not self.policy.is_private(origin, _port(request))
            result.meta[META_PUBLIC_ORIGIN] = meta[META_PUBLIC_ORIGIN]
        if not meta[META_PUBLIC_ORIGIN]:
            return result
        private = await self._private_address(result)
        if private is None:
            return result
        add_flag(meta, FLAG)
        meta["lastseen_private_redirect"] = (
            f"not followed: the page, served from a public address, redirects to {result.url}, at "
            f"{private} ({self.policy.describe(private)}); settings.allow_private_redirects allows it"
        )
        return response  # the redirect is the capture's final answer

    async def _private_address(self, request) -> str | None:
        """The first private address ``request``'s host is or resolves to, else None."""
        parts = urlparse_cached(request)
        host = (parts.hostname or "").strip("[]")
        port = _port(request)
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
            addresses = [host]
        except OSError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError):
                return None  # does not resolve: the fetch itself will say so
            addresses = [info[4][0] for info in infos]
        return next((a for a in addresses if self.policy.is_private(a, port)), None)


def check_connected(request, response, policy: AddressPolicy, allow_private: bool) -> None:
    """After a redirect hop's answer arrived: refuse it if it came from a private address
    while the chain began at a public one (a host name that resolved differently this time)."""
    meta = request.meta
    if allow_private or not meta.get(META_PUBLIC_ORIGIN) or response.ip_address is None:
        return
    ip = str(response.ip_address)
    if policy.is_private(ip, _port(request)):
        add_flag(meta, FLAG)
        raise PrivateRedirect(
            f"not kept: the page, served from a public address, redirected to {request.url}, which answered "
            f"from {ip} ({policy.describe(ip)}); settings.allow_private_redirects allows it"
        )
