"""The capture model: what a fetcher hands to the rest of lastseen.

A fetch of one target yields one :class:`FetchResult`: every HTTP exchange it
made (redirect hops and retried attempts included, in order) and, when no final
response arrived, the error that stopped it. These are plain data so they cross
the process boundary between the fetcher and the monitor (pickled frames) and
so a browser fetcher can produce the same shape later, with extra records
(sub-resources, screenshot, rendered DOM) carried in ``extra``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Error kinds a fetch can end with. They are the ``reason`` words of the
# ``unreachable`` verdict, so they are the words users read in reports.
ERROR_KINDS = (
    "dns",        # the host name does not resolve
    "refused",    # the connection was refused
    "timeout",    # DNS, connect or the exchange took longer than `timeout`, or the fetch than `deadline`
    "reset",      # the connection was dropped mid-exchange
    "tls",        # the TLS handshake failed
    "redirects",  # too many redirects (or a loop)
    "robots",     # robots.txt disallows the URL (settings.obey_robots)
    "protocol",   # anything else: malformed response, unsupported scheme...
    "http-3xx",   # a redirect hop answered from a private address after a public one (not kept)
    "browser",    # a browser fetch with no browser to run it (none found, or it would not start)
)

#: What an exchange (or record) was for: an open list, stored in ``exchanges.role``.
ROLES = {
    "page": "an attempt at the target's own URL, or the answer the page's redirect chain ended on",
    "redirect": "a redirect hop of the page's own chain that was followed",
    "subresource": "something the page loaded (image, style, script, XHR)",
    "resource": "a record lastseen made itself (screenshot, rendered DOM, extracted text)",
    "refetch": "an attempt at the target's URL made again later in the run, to confirm that it vanished or moved",
    "probe": "an attempt at a random path of the target's host: what the host serves for a page it does not have",
    "home": "an attempt at the home page of the target's host (is the page now the home page?)",
    "robots": "the robots.txt of the target's host, fetched once per run to watch it (settings.watch_robots)",
}
#: Roles of the fetched URL's own chain: ``final`` and ``status_chain`` speak of these only.
PAGE_CHAIN = frozenset({"page", "redirect", "refetch", "probe", "home", "robots"})


@dataclass
class Exchange:
    """One HTTP request and the response it got, as received.

    ``body`` is the payload as it came off the wire: content-coding kept
    (gzip stays gzip), transfer-coding removed. ``response_headers`` are as
    received, in order; the WARC writer drops the ones that no longer describe
    the stored bytes (Transfer-Encoding) and fixes Content-Length. A browser
    fetch's bodies are decoded by Chromium instead: its headers say so
    (``X-Lastseen-Original-Content-Encoding``..., see :mod:`crawler.fetch.chromium`).
    """

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    started: float                      # epoch seconds when the exchange began
    duration: float                     # seconds until the body was complete
    protocol: str                       # "HTTP/1.1"
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    ip: str | None = None
    truncated: str | None = None        # None, "length" (max_body reached) or "disconnect"
    request_body: bytes = b""
    tls_verified: bool | None = None    # None over plain HTTP; False: the certificate did not verify
    tls_error: str | None = None        # why it did not ("self-signed certificate", "hostname mismatch: ...")
    role: str = "page"                  # one of ROLES (an open list)

    def header(self, name: str) -> str | None:
        """The first response header called ``name`` (case-insensitive)."""
        lname = name.lower()
        for key, value in self.response_headers:
            if key.lower() == lname:
                return value
        return None


@dataclass
class Resource:
    """Something the fetcher made of a page, archived as a WARC ``resource`` record (role ``resource``).

    A browser fetch makes a full-page screenshot (``kind`` ``screenshot``,
    ``urn:screenshot:<page url>``, ``image/png``) and the rendered DOM (``dom``,
    ``urn:dom:<page url>``, ``text/html; charset=utf-8``); the monitor adds the
    extracted text (``text``, ``urn:text:<page url>``) itself.
    """

    kind: str
    uri: str
    content_type: str
    body: bytes
    date: float                          # epoch seconds when it was made


@dataclass
class FetchResult:
    """Everything one fetch of one target produced."""

    target: str
    url: str
    started: float
    finished: float
    exchanges: list[Exchange] = field(default_factory=list)
    error_kind: str | None = None       # one of ERROR_KINDS when no final response arrived
    error: str | None = None            # a human-readable message for that error
    extra: dict = field(default_factory=dict)
    robots: str | None = None           # robots.txt decision: None (not asked), "allowed", "disallowed", "unavailable"
    flags: list[str] = field(default_factory=list)  # facts the fetcher found (private-redirect, browser-timeout...)
    resources: list[Resource] = field(default_factory=list)   # screenshot, rendered DOM (browser fetches)
    failed: list[tuple[str, str]] = field(default_factory=list)  # sub-resources that failed: (url, why)
    fetch: str = "http"                 # the fetch mode that produced it (crawler.fetch.FETCH_MODES)
    job: str | None = None              # the id of the job that asked for it (FetchJob.id)

    @property
    def chain(self) -> list[Exchange]:
        """The page's own exchanges (attempts and redirect hops), in order."""
        return [e for e in self.exchanges if e.role in PAGE_CHAIN]

    def resource(self, kind: str) -> Resource | None:
        return next((r for r in self.resources if r.kind == kind), None)

    @property
    def final(self) -> Exchange | None:
        """The exchange that ended the page's chain, or None when the fetch failed without one."""
        if self.error_kind is not None:
            return None
        chain = self.chain
        return chain[-1] if chain else None
