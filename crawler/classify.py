"""Verdicts: what a capture says about a target, against its last good capture (pure).

The vocabulary and the facts of each word (does it alert, persist, become the
last good capture) live in the registry :mod:`crawler.verdicts`; this module
decides which word a capture gets. It sees plain values only (an
:class:`Observation` of this capture, a :class:`Previous` of the target's
history), so it is pure and total.

A verdict describes this capture against the target's *last good capture*
(the last one whose final response was 2xx and not vanished). A state that
persists keeps its verdict without alerting; alerts fire on transitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from .verdicts import VERDICTS, Facts, facts

__all__ = ["CLASSIFY_HEADERS", "PERSISTENT", "VERDICTS", "Observation", "Previous", "Verdict", "classify",
           "is_home_redirect"]

#: Verdicts whose persistence is a state: repeated, they do not alert again (from the registry).
PERSISTENT = frozenset(name for name, kind in VERDICTS.items() if kind.persists)

#: Response headers of the final response that classification sees (lower-case names).
CLASSIFY_HEADERS = frozenset({
    "content-type", "content-length", "location", "server", "retry-after", "www-authenticate",
    "cf-ray", "cf-mitigated", "x-cache", "x-akamai-transformed", "x-amzn-waf-action", "x-sucuri-id",
})


@dataclass(frozen=True)
class Observation:
    """What this capture found, as plain values."""

    url: str                       # the target's URL
    status: int | None             # final HTTP status, None when no response arrived
    final_url: str | None = None
    error_kind: str | None = None  # fetch error kind when no response arrived
    fingerprint: str | None = None # of the compared text (or body, for binary content)
    title: str | None = None       # the page's <title>
    heading: str | None = None     # its main heading (the first <h1>)
    text: str | None = None        # the compared text; None for binary content, and when the payload
                                   # equals the last good capture's (its text, and so its verdict, is the same)
    headers: tuple[tuple[str, str], ...] = ()   # the final response's CLASSIFY_HEADERS, lower-case names
    chain: tuple[tuple[int, str], ...] = ()     # (status, url) of the page's own exchanges, in order
    flags: tuple[str, ...] = ()                 # flags already known (truncated, tls-unverified...)

    @property
    def text_length(self) -> int | None:
        return None if self.text is None else len(self.text)

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)


@dataclass(frozen=True)
class Previous:
    """What the archive knew of the target before this capture."""

    last_verdict: str | None = None        # the verdict of its last capture
    good_fingerprint: str | None = None    # fingerprint of the last good capture
    has_good: bool = False                 # is there a last good capture at all
    recent_verdicts: tuple[str, ...] = ()  # verdicts of its last captures, newest first
    good_title: str | None = None          # title of the last good capture
    good_final_url: str | None = None      # where the last good capture ended up
    good_text_length: int | None = None    # length of its compared text


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str | None
    alert: bool

    @property
    def facts(self) -> Facts:
        return facts(self.verdict, self.reason)

    @property
    def good(self) -> bool:
        """Does this capture become the target's last good capture? (the registry says)"""
        return self.facts.good


def _host(netloc_host: str | None) -> str:
    host = (netloc_host or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def is_home_redirect(url: str, final_url: str | None) -> bool:
    """Did a redirect land on the site's home page instead of the page?

    Same host ignoring ``www.`` and scheme, path ``/`` (or empty), while the
    watched URL itself was not the home page.
    """
    if not final_url or final_url == url:
        return False
    a, b = urlsplit(url), urlsplit(final_url)
    if _host(a.hostname) != _host(b.hostname):
        return False
    if b.path not in ("", "/") or b.query:
        return False
    return not (a.path in ("", "/") and not a.query)


def classify(obs: Observation, prev: Previous) -> Verdict:
    """The verdict of ``obs`` given what came before. Pure and total."""

    def given(verdict: str, reason: str | None = None) -> Verdict:
        return Verdict(verdict, reason, facts(verdict, reason).alert(prev.last_verdict))

    if obs.status is None:
        return given("unreachable", obs.error_kind or "protocol")
    status = obs.status
    if not 100 <= status <= 599:
        return given("unreachable", "protocol")  # not an HTTP status at all
    if status in (404, 410):
        return given("vanished", f"http-{status}")
    if status >= 500:
        return given("unreachable", "http-5xx")
    if status >= 400:
        return given("unreachable", "http-4xx")
    if status >= 300 or status < 200:
        return given("unreachable", "http-3xx")
    if is_home_redirect(obs.url, obs.final_url):
        return given("vanished", "redirected")
    if not prev.has_good:
        return given("new")
    if prev.last_verdict in PERSISTENT:
        return given("restored")
    if obs.fingerprint == prev.good_fingerprint:
        return given("unchanged")
    return given("changed")
