"""Verdicts: what a capture says about a target, against its last good capture (pure).

The vocabulary and the facts of each word (does it alert, persist, become the
last good capture, need confirming) live in the registry :mod:`crawler.verdicts`;
this module decides which word a capture gets, and whether it is confirmed. It
sees plain values only (an :class:`Observation` of this capture, a
:class:`Previous` of the target's history, the :class:`HostEvidence` fetched to
judge it), so it is pure and total.

The order of decision (:func:`classify`, documented in docs/verdicts.md):

1. no response → ``unreachable`` (the fetch error);
2. the marks of a challenge or bot-check page, whatever the status → ``blocked``/``challenge``;
3. 401, 403, 429 → ``blocked``;
4. 404, 410 → ``vanished``;
5. any other final status that is not 2xx → ``unreachable``;
6. a redirect to another page → ``moved`` when the text there keeps the old
   page's text, else ``vanished``/``redirected`` (home, login, search, signpost);
7. 2xx: ``soft-404``, then ``select-empty``, then ``emptied``, then
   ``new``/``unchanged``/``changed``/``restored``.

Every threshold is in :class:`Thresholds` (:data:`THRESHOLDS`). Confirmation
(:func:`classify` gives ``confirmed`` and what a verdict ``needs``) is
explained in :func:`_confirmation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from .evidence.challenge import detect_challenge
from .evidence.notfound import not_found_phrase
from .evidence.similarity import containment, resemblance, shingles
from .verdicts import REFETCH, REPEAT, VERDICTS, Facts, facts

__all__ = ["CLASSIFY_HEADERS", "FAILING", "PERSISTENT", "THRESHOLDS", "VERDICTS", "HostEvidence", "HostPage",
           "Observation", "Previous", "Thresholds", "Verdict", "classify", "is_home_redirect", "same_page"]

#: Verdicts whose persistence is a state: repeated, they do not alert again (from the registry).
PERSISTENT = frozenset(name for name, kind in VERDICTS.items() if kind.persists)
#: Verdicts of a failed capture: counted towards ``confirm_after``, one state for alerting.
FAILING = frozenset(name for name, kind in VERDICTS.items() if kind.confirm == REPEAT)

#: Response headers of the final response that classification sees (lower-case names).
CLASSIFY_HEADERS = frozenset({
    "content-type", "content-length", "location", "server", "retry-after", "www-authenticate",
    "cf-ray", "cf-mitigated", "x-cache", "x-akamai-transformed", "x-amzn-waf-action", "x-sucuri-id",
    "x-sucuri-block", "x-datadome", "x-dd-b", "x-iinfo", "x-cdn",
})

#: The SHA-256 of an empty text: the fingerprint of a ``select`` that matched nothing.
EMPTY_TEXT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@dataclass(frozen=True)
class Thresholds:
    """Every number the decisions use, in one place (docs/verdicts.md quotes them).

    Similarities are of 3-word shingles (:mod:`crawler.evidence.similarity`):
    ``kept`` is the share of the last good capture's text still found in a page
    (containment), ``same`` how alike two pages are (Jaccard resemblance).
    """

    moved_kept: float = 0.5          # a redirect whose page keeps at least this much of the old text: moved
    soft404_kept: float = 0.5        # a "not found" title/heading on a page keeping less than this: soft-404
    probe_below: float = 0.8         # a page keeping less than this is compared with the host's error/home page
    same_page: float = 0.9           # a page at least this alike to the host's error or home page is that page
    emptied_ratio: float = 0.25      # emptied: the text is at most this fraction of the last good one...
    emptied_floor: int = 1500        # ... and shorter than this many characters...
    emptied_loss: int = 1000         # ... having lost at least this many


THRESHOLDS = Thresholds()


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
    markup: str = ""               # the start of the decoded body (64 KiB), lower-cased; "" when none
    page_text: str | None = None   # the whole page's text when ``select`` narrows the compared text
    selected: bool = False         # the target has a ``select``: ``text`` is part of the page only

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
    good_text: str | None = None           # its compared text (None: binary, or not loaded)
    state: str | None = None               # verdict of the last event not awaiting confirmation
    failures: int = 0                      # failed captures (unreachable, blocked) in a row, just before this


@dataclass(frozen=True)
class HostPage:
    """A page fetched to judge another: the host's answer to a random path, or its home page."""

    url: str
    status: int | None
    final_url: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class HostEvidence:
    """What the host serves for a path it does not have, and as its home page (each None: not fetched)."""

    error_page: HostPage | None = None
    home_page: HostPage | None = None


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str | None
    alert: bool
    confirmed: bool | None = None          # None: a verdict that needs no confirming
    evidence: dict = field(default_factory=dict)   # the signals computed, by name (docs/verdicts.md)
    needs: str | None = None               # "host": judge again with HostEvidence; "refetch": fetch again

    @property
    def facts(self) -> Facts:
        return facts(self.verdict, self.reason)

    @property
    def good(self) -> bool:
        """Does this capture become the target's last good capture? (the registry says)"""
        return self.facts.good


# -- URLs ----------------------------------------------------------------------------------------


def _host(netloc_host: str | None) -> str:
    host = (netloc_host or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _page_key(url: str) -> tuple:
    """What identifies a page across scheme, ``www.``, default ports, trailing slashes and fragments."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if port in (80, 443):
        port = None
    return _host(parts.hostname), port, parts.path.rstrip("/") or "", parts.query


def same_page(a: str | None, b: str | None) -> bool:
    """Do two URLs name the same page? (scheme, ``www.``, a default port, a trailing slash and the fragment
    do not count: a redirect that changes only those is not a move)."""
    if not a or not b:
        return a == b
    return _page_key(a) == _page_key(b)


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
    return not _is_home(url)


def _is_home(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


_LOGIN_WORDS = ("login", "log-in", "signin", "sign-in", "sign_in", "auth", "sso", "account", "cas/", "oauth",
                "prijava", "пријава")
_SEARCH_WORDS = ("search", "pretraga", "претрага", "suche", "recherche", "busqueda", "find")
_SEARCH_KEYS = {"q", "s", "query", "search", "keyword", "keywords", "term", "k"}


def looks_like(url: str, final_url: str, markup: str) -> str | None:
    """What a redirect landed on, in words (evidence, not the decision): home, login, search, or None."""
    if is_home_redirect(url, final_url):
        return "home"
    parts = urlsplit(final_url)
    path = parts.path.lower()
    if 'type="password"' in markup or "type=password" in markup or "type='password'" in markup \
            or any(w in path for w in _LOGIN_WORDS):
        return "login"
    if any(w in path for w in _SEARCH_WORDS) or any(k.lower() in _SEARCH_KEYS for k, _ in parse_qsl(parts.query)):
        return "search"
    return None


# -- the decision ----------------------------------------------------------------------------------


def classify(obs: Observation, prev: Previous, host: HostEvidence | None = None, *, confirm_after: int = 3,
             first: Verdict | None = None, limits: Thresholds = THRESHOLDS) -> Verdict:
    """The verdict of ``obs`` given what came before. Pure and total.

    ``host`` is what the host serves for an unknown path and as its home page,
    when fetched (a verdict says ``needs="host"`` when it would use them and
    they are missing); ``first`` is the verdict of this run's first fetch when
    ``obs`` is its re-fetch (see :func:`_confirmation`).
    """
    evidence: dict = {}

    def given(verdict: str, reason: str | None = None, needs: str | None = None) -> Verdict:
        alert, confirmed, wants = _confirmation(verdict, reason, prev, evidence, confirm_after, first)
        return Verdict(verdict, reason, alert, confirmed, evidence, needs or wants)

    if obs.status is None:
        return given("unreachable", obs.error_kind or "protocol")
    status = obs.status
    if not 100 <= status <= 599:
        return given("unreachable", "protocol")  # not an HTTP status at all
    same_as_good = obs.text is None and obs.fingerprint is not None and obs.fingerprint == prev.good_fingerprint
    # (a payload identical to the last good capture's is no challenge page: that one was judged not to be)
    challenge = None if same_as_good else detect_challenge(
        status=status, headers=obs.headers, title=obs.title, markup=obs.markup, text_length=_visible_length(obs))
    if challenge is not None:
        evidence.update(challenge=challenge.vendor, challenge_marks=list(challenge.marks))
        return given("blocked", "challenge")
    if status in (401, 403, 429):
        if status == 429 and obs.header("retry-after"):
            evidence["retry_after"] = obs.header("retry-after")
        return given("blocked", f"http-{status}")
    if status in (404, 410):
        return given("vanished", f"http-{status}")
    if status >= 500:
        return given("unreachable", "http-5xx")
    if status >= 400:
        return given("unreachable", "http-4xx")
    if status >= 300 or status < 200:
        return given("unreachable", "http-3xx")

    old = shingles(prev.good_text) if prev.good_text is not None else None
    page = shingles(obs.text) if obs.text is not None else None
    kept = None
    if same_as_good:
        kept = 1.0
    elif old is not None and page is not None:
        kept = containment(old, page)
    if kept is not None and prev.has_good:
        evidence["similarity_to_last_good"] = round(kept, 3)

    # A redirect to another page than the one last seen: moved, or gone.
    where = prev.good_final_url if prev.has_good and prev.good_final_url else obs.url
    redirected = any(300 <= s < 400 for s, _ in obs.chain[:-1]) and not same_page(obs.final_url, where)
    if redirected and obs.final_url:
        evidence["redirect_to"] = obs.final_url
        kind = looks_like(obs.url, obs.final_url, obs.markup)
        if kind:
            evidence["redirect_looks_like"] = kind
        if not prev.has_good:
            if kind == "home":
                return given("vanished", "redirected")
        elif kept is None:  # binary content, or no text to compare: only an identical payload says moved
            if obs.fingerprint == prev.good_fingerprint or kind is None:
                return given("moved")
            return given("vanished", "redirected")
        elif kept >= limits.moved_kept:
            return given("moved")
        else:
            return given("vanished", "redirected")

    # 2xx at the page: a "not found" page served as 200?
    phrase = None if same_as_good else not_found_phrase(obs.title) or not_found_phrase(obs.heading)
    if phrase is not None:
        evidence.update(title_says_not_found=phrase.phrase, not_found_language=phrase.language)
        if kept is None or kept < limits.soft404_kept:  # (a last good page that said so too keeps its text)
            return given("vanished", "soft-404")
    needs = None
    if (prev.has_good and kept is not None and kept < limits.probe_below and page is not None
            and not _is_home(obs.url) and not (obs.final_url and _is_home(obs.final_url))):
        if host is None:
            needs = "host"
        elif _like_host_page(obs, page, old, host, evidence, limits):
            return given("vanished", "soft-404")

    # The watched part is gone, or the page collapsed to a stub.
    if ("select-empty" in obs.flags and prev.has_good and prev.good_fingerprint is not None
            and prev.good_fingerprint != EMPTY_TEXT and obs.fingerprint != prev.good_fingerprint):
        return given("changed", "select-empty", needs)
    if obs.text is not None and prev.good_text is not None and prev.has_good:
        # The page's own text: without the lines it shares with the host's home and error pages
        # (navigation, footer), when they were fetched; else all of it.
        template = _template_lines(host)
        before, after = _own_length(prev.good_text, template), _own_length(obs.text, template)
        if before:
            evidence.update(text_ratio=round(after / before, 3), text_length=after, last_good_length=before)
            if template:
                evidence["template_lines"] = len(template)
        if (before and after / before <= limits.emptied_ratio and after < limits.emptied_floor
                and before - after >= limits.emptied_loss
                and not {"js-shell", "auto-fallback"} & set(obs.flags)):
            return given("vanished", "emptied", needs)

    if not prev.has_good:
        return given("new", None, needs)
    if prev.state in PERSISTENT:
        return given("restored", None, needs)
    if obs.fingerprint == prev.good_fingerprint:
        return given("unchanged", None, needs)
    return given("changed", None, needs)


def _template_lines(host: HostEvidence | None) -> frozenset[str]:
    """The lines of the host's home and error pages: the site's template (menus, footer)."""
    if host is None:
        return frozenset()
    return frozenset(line.strip() for hp in (host.error_page, host.home_page) if hp is not None and hp.text
                     for line in hp.text.splitlines() if line.strip())


def _own_length(text: str, template: frozenset[str]) -> int:
    """Characters of ``text`` outside the template's lines."""
    if not template:
        return len(text)
    return sum(len(line) for line in (raw.strip() for raw in text.splitlines()) if line and line not in template)


def _visible_length(obs: Observation) -> int | None:
    """Characters of the whole page's text, None when unknown."""
    if obs.page_text is not None:
        return len(obs.page_text)
    return None if obs.text is None or obs.selected else len(obs.text)


def _like_host_page(obs: Observation, page, old, host: HostEvidence, evidence: dict, limits: Thresholds) -> bool:
    """Is the page now what the host serves for any unknown path, or its home page? (and the old one was not)"""
    whole = shingles(obs.page_text) if obs.page_text is not None else page
    found = False
    for key, hp in (("error_page", host.error_page), ("home_page", host.home_page)):
        if hp is None or hp.text is None:
            continue
        other = shingles(hp.text)
        alike = resemblance(whole, other)
        evidence[f"similar_to_{key}"] = round(alike, 3)
        evidence[f"{key}_url"] = hp.url
        if key == "error_page":
            evidence["error_page_status"] = hp.status
        if hp.final_url and same_page(hp.final_url, obs.final_url or obs.url):
            continue  # the host sent its unknown path to this very page: no evidence either way
        if alike >= limits.same_page and (old is None or containment(old, other) < limits.soft404_kept):
            found = True
    return found


def _confirmation(verdict: str, reason: str | None, prev: Previous, evidence: dict, confirm_after: int,
                  first: Verdict | None) -> tuple[bool, bool | None, str | None]:
    """``(alert, confirmed, needs)`` of a verdict, by its registry facts and the target's state.

    - Verdicts that need no confirming alert as the registry says (``on transition``:
      when the target's state, the verdict of its last event not awaiting confirmation,
      differs); ``confirmed`` is None.
    - ``vanished`` and ``moved`` (``confirm: refetch``): on a transition into them the
      first fetch awaits a re-fetch later in the run (``needs="refetch"``, no alert);
      the re-fetch (``first`` given) confirms when it reaches the same verdict, and then
      alerts. A state that persists is confirmed already and does not alert again.
    - ``unreachable`` and ``blocked`` (``confirm: repeat``) are one failing state: confirmed
      after ``confirm_after`` failed captures in a row, at once for a target never captured
      successfully; they alert when confirmed, if the state was not failing already.
    """
    kind = facts(verdict, reason)
    state = prev.state
    if kind.confirm == REPEAT:
        count = prev.failures + 1
        evidence.update(failures=count, confirm_after=confirm_after)
        confirmed = not prev.has_good or count >= confirm_after or state in FAILING
        return confirmed and state not in FAILING, confirmed, None
    if kind.confirm == REFETCH:
        if state == verdict and kind.persists:
            return False, True, None    # still vanished: confirmed when it began
        if first is None:
            return False, False, "refetch"
        agrees = first.verdict == verdict
        return agrees, agrees, None
    return kind.alert(state), None, None
