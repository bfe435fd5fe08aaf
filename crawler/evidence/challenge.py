"""Bot checks: is this response a WAF's or CDN's challenge or block page instead of the page? (pure)

A site behind Cloudflare, Akamai, Imperva ... may answer a crawler with an
interstitial ("Just a moment...", a captcha, "Access Denied") in place of the
page. :func:`detect_challenge` looks at one response's status, headers,
title and the start of its markup and names the vendor, with the marks that
decided it, or returns None.

A false "blocked" hides a real change, so precision matters as much as
recall. Each vendor family is one row of :data:`FAMILIES`; a row lists marks
of five kinds, and what each kind needs to decide:

* **strong** -- the vendor's exact challenge or block title (``titles``: the
  whole title; ``title_parts``: a part of it, as "used Cloudflare to restrict
  access") and headers only a challenge carries (``headers``: ``cf-mitigated:
  challenge``, ``x-amzn-waf-action``, ``x-sucuri-block``). They decide alone,
  whatever the status and the amount of text.
* **markers** -- substrings of the markup (or ``marker_headers``) that only the
  vendor's challenge pages carry (``_cf_chl_opt``, ``px-captcha``,
  ``captcha-delivery.com``, Akamai's "Reference #18." denial id). They decide
  with a *refusal status* of the family (403, 429, 503; AWS WAF also 202, 401,
  405; DataDome also 401) or on a page with *little text* (visible text under
  :data:`LITTLE_TEXT` characters or, when the text length is unknown, markup
  under :data:`SMALL_MARKUP` characters whose text outside tags, scripts and
  styles is under :data:`LITTLE_TEXT`). A marker is a string, or a tuple of
  strings that must all be present.
* **refusal_markers** -- substrings that ordinary pages carry too (scripts a
  vendor injects everywhere: ``_pxAppId``, ``_Incapsula_Resource``,
  ``AwsWafIntegration``; captcha widgets: ``g-recaptcha``). They decide only
  with a refusal status.
* **soft_titles** -- titles that ordinary pages may have too ("Security
  check", "Captcha", "Pardon Our Interruption"). They decide only with little
  text, and only when a segment of the title (its parts between ``|``, ``:``,
  dashes ...) is exactly the phrase.

Strong marks of any family are looked for first, then the conditional marks,
family by family in table order (the generic ``captcha`` family last).

Not challenges, by design: Cloudflare's ordinary headers (``server:
cloudflare``, ``cf-ray``) and the Bot Fight Mode script it injects into every
page (``/cdn-cgi/challenge-platform/scripts/jsd/main.js``, ``__CF$cv$params``);
Cloudflare's origin error pages (52x, "Cloudflare Ray ID"); Akamai's
``AkamaiGHost`` server and its other error pages (Reference #2, #9, #15 ...:
timeouts, invalid URLs, "Zero size object"); a bare 403 or 503 of the origin
("403 Forbidden", maintenance): the caller maps those statuses itself. Marks
in the *body text* of a long page (an article quoting "Just a moment...") are
never read as a challenge: body markers need a refusal status or little text,
and titles are read from the title only.

``markup`` is the first 64 KiB of the decoded HTML, already lower-cased by the
caller. The work is a few dozen substring searches, and none over the markup
of an ordinary 200 page with plenty of text unless a strong mark already
decided; when the text length is unknown, one regular expression estimates it
from markup under :data:`SMALL_MARKUP` characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FAMILIES", "LITTLE_TEXT", "REFUSALS", "SMALL_MARKUP", "Challenge", "Family", "detect_challenge"]

#: Statuses WAFs and CDNs refuse with; a family may list more (AWS WAF: 202, 405).
REFUSALS = frozenset({403, 429, 503})
#: A page with fewer characters of visible text than this has "little text".
LITTLE_TEXT = 1_500
#: When the text length is unknown: markup shorter than this (characters) has "little text" if its
#: text outside tags, scripts and styles is under LITTLE_TEXT; longer markup never has.
SMALL_MARKUP = 16_000

Marker = str | tuple[str, ...]


@dataclass(frozen=True)
class Challenge:
    """A challenge or block page, and why it is one."""

    vendor: str              # "cloudflare", "akamai", ..., "captcha" (a generic bot check)
    marks: tuple[str, ...]   # the marks that decided it, readable: 'title "Just a moment..."', 'status 403'


@dataclass(frozen=True)
class Family:
    """One vendor's marks (see the module docstring for what each kind needs). Lower-case text."""

    vendor: str
    titles: tuple[str, ...] = ()                 # strong: the whole title
    title_parts: tuple[str, ...] = ()            # strong: a part of the title
    headers: tuple[tuple[str, str], ...] = ()    # strong: (name, part of the value; "" for any value)
    markers: tuple[Marker, ...] = ()             # with a refusal status or little text
    marker_headers: tuple[tuple[str, str], ...] = ()  # headers that count as markers
    refusal_markers: tuple[Marker, ...] = ()     # only with a refusal status
    soft_titles: tuple[str, ...] = ()            # only with little text, as a whole title segment
    refusals: frozenset[int] = REFUSALS


FAMILIES: tuple[Family, ...] = (
    Family(
        "cloudflare",
        titles=("just a moment...", "attention required! | cloudflare", "please wait... | cloudflare"),
        title_parts=("used cloudflare to restrict access",),
        headers=(("cf-mitigated", "challenge"),),
        markers=("_cf_chl_opt", "__cf_chl_", "cf-browser-verification", "/orchestrate/chl_page/",
                 "/orchestrate/managed/", "/orchestrate/jsch/", 'id="challenge-error-text"',
                 'id="cf-challenge-running"', "sorry, you have been blocked"),
    ),
    Family(
        "akamai",
        # The "Access Denied" page; its reference ids start with 18 (other Akamai error pages have others).
        markers=("reference&#32;&#35;18&#46;", "reference #18.", "errors&#46;edgesuite&#46;net&#47;18&#46;",
                 "errors.edgesuite.net/18.", "/_sec/cp_challenge/"),
    ),
    Family(
        "imperva",
        markers=("incapsula incident id", "_incapsula_resource?cwudnsai=", "made us think you were a bot",
                 ("_incapsula_resource", "noindex,nofollow")),
        refusal_markers=("_incapsula_resource",),
        soft_titles=("pardon our interruption",),
    ),
    Family(
        "sucuri",
        title_parts=("sucuri website firewall",),
        headers=(("x-sucuri-block", ""),),
        markers=("sucuri_cloudproxy_js", "cloudproxy@sucuri.net", "access denied - sucuri website firewall"),
    ),
    Family(
        "aws-waf",
        headers=(("x-amzn-waf-action", "captcha"), ("x-amzn-waf-action", "challenge")),
        markers=("awswafcookiedomainlist", "gokuprops"),
        refusal_markers=("awswafintegration", "awswaf.com/"),
        refusals=REFUSALS | {202, 401, 405},
    ),
    Family(
        "datadome",
        markers=("captcha-delivery.com",),
        marker_headers=(("x-dd-b", ""),),
        refusals=REFUSALS | {401},
    ),
    Family(
        "perimeterx",
        titles=("access to this page has been denied",),
        markers=("px-captcha", "perimeterx.com/whywasiblocked", "press &amp; hold to confirm",
                 "press & hold to confirm"),
        refusal_markers=("_pxappid", "client.perimeterx.net"),
    ),
    Family(
        "ddos-guard",
        titles=("ddos-guard",),
        markers=("/.well-known/ddos-guard/", "check.ddos-guard.net"),
    ),
    Family(
        "captcha",
        markers=("checking your browser before accessing",),
        refusal_markers=("g-recaptcha", "h-captcha", "cf-turnstile", "google.com/recaptcha/", "hcaptcha.com/1/api.js",
                         "challenges.cloudflare.com/turnstile", "verify you are human", "are you a robot"),
        soft_titles=("verify you are human", "verifying you are human", "please verify you are a human",
                     "please verify you are human", "are you a robot", "are you human", "are you a human",
                     "checking your browser", "checking your browser before accessing", "security check",
                     "security verification", "bot verification", "human verification", "captcha",
                     "robot check", "one more step"),
    ),
)

_WHITESPACE = re.compile(r"\s+")
_SEGMENT_SPLIT = re.compile(r"\s+-\s+|\s*[|–—:·•»]\s*")
_EDGE = " .!?…'\"“”"
_INVISIBLE = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.DOTALL)


def _normal_title(title: str) -> str:
    """NFKC ("…" becomes "..."), casefolded, whitespace collapsed, trailing dots and marks dropped."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", title).casefold()).strip().rstrip(_EDGE)


# The table's titles normalised as page titles are, once.
_TITLES = {f.vendor: frozenset(_normal_title(t) for t in f.titles) for f in FAMILIES}
_SOFT_TITLES = {f.vendor: frozenset(_normal_title(t) for t in f.soft_titles) for f in FAMILIES}


def _estimated_text_length(markup: str) -> int:
    """Characters of text outside tags, scripts, styles and comments: the text length when none is given."""
    return len(_WHITESPACE.sub(" ", _INVISIBLE.sub(" ", markup)).strip())


def _has(markup: str, marker: Marker) -> bool:
    return marker in markup if isinstance(marker, str) else all(part in markup for part in marker)


def _marker_mark(marker: Marker) -> str:
    if isinstance(marker, str):
        return f'body marker "{marker}"'
    return "body markers " + " + ".join(f'"{part}"' for part in marker)


def _header_marks(wanted: Sequence[tuple[str, str]], headers: Sequence[tuple[str, str]]) -> list[str]:
    marks = []
    for name, part in wanted:
        for key, value in headers:
            if key == name and part in value.lower():
                marks.append(f"header {key}: {value}")
                break
    return marks


def _strong_marks(family: Family, title: str | None, normal: str, headers: Sequence[tuple[str, str]]) -> list[str]:
    marks = []
    if normal and (normal in _TITLES[family.vendor] or any(part in normal for part in family.title_parts)):
        marks.append(f'title "{(title or "").strip()}"')
    marks += _header_marks(family.headers, headers)
    return marks


def detect_challenge(*, status: int, headers: Sequence[tuple[str, str]], title: str | None,
                     markup: str, text_length: int | None) -> Challenge | None:
    """The WAF/CDN challenge or block page this response is, or None (see the module docstring).

    ``headers`` are the final response's (lower-case name, value) pairs; ``markup`` the
    first 64 KiB of the decoded HTML, lower-cased by the caller; ``text_length`` the
    characters of visible text, None when unknown.
    """
    normal = _normal_title(title) if title else ""
    for family in FAMILIES:
        marks = _strong_marks(family, title, normal, headers)
        if marks:
            marks += [_marker_mark(m) for m in family.markers if _has(markup, m)]
            if status in family.refusals:
                marks.append(f"status {status}")
            return Challenge(family.vendor, tuple(marks))

    if text_length is not None:
        little = text_length < LITTLE_TEXT
        little_mark = f"little text ({text_length} characters)"
    else:
        estimate = _estimated_text_length(markup) if len(markup) < SMALL_MARKUP else None
        little = estimate is not None and estimate < LITTLE_TEXT
        little_mark = f"small page ({len(markup)} characters of markup, about {estimate} of text)"
    segments = {s.strip(_EDGE) for s in _SEGMENT_SPLIT.split(normal)} if normal else set()

    for family in FAMILIES:
        refusal = status in family.refusals
        if not (refusal or little):
            continue
        marks = [_marker_mark(m) for m in family.markers if _has(markup, m)]
        marks += _header_marks(family.marker_headers, headers)
        if refusal:
            marks += [_marker_mark(m) for m in family.refusal_markers if _has(markup, m)]
        soft = little and not segments.isdisjoint(_SOFT_TITLES[family.vendor])
        if soft:
            marks.append(f'title "{(title or "").strip()}"')
        if marks:
            if refusal:
                marks.append(f"status {status}")
            if little and (soft or not refusal):
                marks.append(little_mark)
            return Challenge(family.vendor, tuple(marks))
    return None
