"""Acknowledging what a server sends at once: ``TCP_QUICKACK`` on the fetcher's HTTP connections (Linux).

Many servers write a response's head and body in two ``send()`` calls with
Nagle's algorithm on (``http.server`` does; so do many small frameworks and
proxies). Nagle holds the body until the head is acknowledged. On a reused
keep-alive connection, Linux acknowledges in delayed mode (the client sent
its request right after the last response, which reads as an interactive
exchange), so the head's ACK waits for the delayed-ACK timer, 40 ms or more,
and so does the body: about 40 ms per response on any network, which a
per-host limit cannot hide. ``bench/README.md`` ("Per-host ceiling") has the
packet traces and the figures.

:class:`QuickAckClientFactory` builds Scrapy's HTTP/1.1 client protocol with
one change: each time data arrives, before it is parsed, the connection's
socket gets ``TCP_QUICKACK``, which sends an ACK that is waiting at once and
leaves delayed mode (the kernel re-enters it when the next request goes out,
hence once per read). This costs one system call per read and a pure ACK
where one would have been piggybacked. ``TCP_QUICKACK`` is Linux's; elsewhere
:func:`use_quick_acks` leaves Scrapy's factory in place.
"""

from __future__ import annotations

import socket

from scrapy.core.downloader.handlers.http11 import (
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
)

#: ``socket.TCP_QUICKACK`` where the platform has it (Linux), else None.
TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _tcp_socket(transport) -> socket.socket | None:
    """The TCP socket under ``transport``, through a TLS layer if any (``TLSMemoryBIOProtocol.transport``)."""
    for _ in range(4):
        get_handle = getattr(transport, "getHandle", None)
        handle = get_handle() if get_handle is not None else None
        if isinstance(handle, socket.socket):
            inet = handle.family in (socket.AF_INET, socket.AF_INET6)
            return handle if inet and handle.type == socket.SOCK_STREAM else None
        transport = getattr(transport, "transport", None)
    return None


class QuickAckClientProtocol(_LenientHTTP11ClientProtocol):
    """Scrapy's HTTP/1.1 client protocol, acknowledging each read at once (``TCP_QUICKACK``)."""

    _tcp: socket.socket | None = None

    def connectionMade(self) -> None:
        super().connectionMade()
        self._tcp = _tcp_socket(self.transport)

    def dataReceived(self, data: bytes) -> None:
        if self._tcp is not None:
            try:
                self._tcp.setsockopt(socket.IPPROTO_TCP, TCP_QUICKACK, 1)
            except OSError:
                self._tcp = None  # closed under us, or not TCP after all: nothing to acknowledge
        super().dataReceived(data)


class QuickAckClientFactory(_LenientHTTP11ClientFactory):
    """Builds :class:`QuickAckClientProtocol` (Scrapy's pool calls it ``_factory``)."""

    def buildProtocol(self, addr):
        return QuickAckClientProtocol(self._quiescentCallback)


def use_quick_acks(pool) -> bool:
    """Make ``pool`` (a Twisted ``HTTPConnectionPool``) build quick-ACK connections; False where unsupported.

    Scrapy 2.19 sets ``pool._factory`` itself (to its lenient factory, which this
    one extends); tests/test_quickack.py fails if that moves.
    """
    if TCP_QUICKACK is None:
        return False
    pool._factory = QuickAckClientFactory
    return True
