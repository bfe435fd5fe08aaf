"""Verdicts: what a capture says about a target, against its last good capture (pure).

The vocabulary is a registry (:data:`VERDICTS`): the words users read in
reports, alerts and the ``--json`` contract, each with the reasons it may
carry. Later verdicts (soft-404, moved, blocked, ...) are added here.

A verdict describes this capture against the target's *last good capture*
(the last one whose final response was 2xx and not vanished). A state that
persists keeps its verdict without alerting; alerts fire on transitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class VerdictKind:
    name: str
    description: str
    reasons: tuple[str, ...] = ()


VERDICTS: dict[str, VerdictKind] = {
    v.name: v
    for v in (
        VerdictKind("new", "first successful capture of the target (no alert)"),
        VerdictKind("unchanged", "compared text identical to the last good capture (no alert)"),
        VerdictKind("changed", "compared text differs from the last good capture"),
        VerdictKind(
            "vanished",
            "the page is gone: the final response is 404 or 410, or it redirects to the site's home page",
            ("http-404", "http-410", "redirected"),
        ),
        VerdictKind(
            "unreachable",
            "no usable answer: DNS, connection, timeout, TLS failures, server errors, other client errors, "
            "or robots.txt forbids the fetch",
            ("dns", "refused", "timeout", "reset", "tls", "redirects", "robots", "protocol",
             "http-5xx", "http-4xx", "http-3xx"),
        ),
        VerdictKind("restored", "back after being vanished or unreachable (diffed against the last good capture)"),
    )
}

#: Verdicts whose persistence is a state: repeated, they do not alert again.
PERSISTENT = frozenset({"vanished", "unreachable"})


@dataclass(frozen=True)
class Observation:
    """What this capture found."""

    url: str                       # the target's URL
    status: int | None             # final HTTP status, None when no response arrived
    final_url: str | None = None
    error_kind: str | None = None  # fetch error kind when no response arrived
    fingerprint: str | None = None # of the compared text (or body, for binary content)


@dataclass(frozen=True)
class Previous:
    """What the archive knew of the target before this capture."""

    last_verdict: str | None = None        # the verdict of its last capture
    good_fingerprint: str | None = None    # fingerprint of the last good capture
    has_good: bool = False                 # is there a last good capture at all


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str | None
    alert: bool

    @property
    def good(self) -> bool:
        """Does this capture become the target's last good capture?"""
        return self.verdict in ("new", "unchanged", "changed", "restored")


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

    def persistent(verdict: str, reason: str) -> Verdict:
        return Verdict(verdict, reason, prev.last_verdict != verdict)

    if obs.status is None:
        return persistent("unreachable", obs.error_kind or "protocol")
    status = obs.status
    if status in (404, 410):
        return persistent("vanished", f"http-{status}")
    if status >= 500:
        return persistent("unreachable", "http-5xx")
    if status >= 400:
        return persistent("unreachable", "http-4xx")
    if status >= 300 or status < 200:
        return persistent("unreachable", "http-3xx")
    if is_home_redirect(obs.url, obs.final_url):
        return persistent("vanished", "redirected")
    if not prev.has_good:
        return Verdict("new", None, False)
    if prev.last_verdict in PERSISTENT:
        return Verdict("restored", None, True)
    if obs.fingerprint == prev.good_fingerprint:
        return Verdict("unchanged", None, False)
    return Verdict("changed", None, True)
