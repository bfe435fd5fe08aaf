"""The one-line summary of a judged capture: what users read in the table, the alert and the report (pure).

:func:`summarise` says what happened in words: the status of a failure, where a
redirect went, why a page counts as gone (its title says so, it is the host's
error page, its text shrank), what a change inserted and deleted, the keywords
that appeared, and whether the state still awaits confirmation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .classify import Verdict
from .diff import KEYED_UNITS, Diff
from .keyed import keyed_changes
from .keyed import said as said_of

if TYPE_CHECKING:
    from .fetch.model import FetchResult
    from .store import History
    from .watchlist import Target

__all__ = ["EXCERPT", "VENDOR_NAMES", "excerpt", "summarise"]


def summarise(verdict: Verdict, result: FetchResult, diff: Diff | None, capture: dict, history: History,
              target: Target | None = None, evidence: dict | None = None, significance: dict | None = None) -> str:
    """The one-line summary users read in the table, the alert and the report."""
    evidence = evidence or {}
    if capture.get("error") and result.final is not None and result.final.truncated == "disconnect":
        return _pending(capture["error"], verdict, evidence)  # "HTTP 200 OK" would hide that the body is incomplete
    v, reason = verdict.verdict, verdict.reason
    final = result.final
    status = f"HTTP {final.status} {final.reason}".strip() if final is not None else None
    if v == "unreachable":
        if "private-redirect" in result.flags and result.error:
            return _pending(result.error, verdict, evidence)
        return _pending(status or result.error or f"fetch failed ({reason})", verdict, evidence)
    if v == "blocked":
        if reason == "challenge":
            vendor = evidence.get("challenge", "a")
            what = "a bot-check (captcha) page" if vendor == "captcha" else f"a {VENDOR_NAMES.get(vendor, vendor)} challenge or block page"
            return _pending(f"blocked: {status} with {what}", verdict, evidence)
        extra = f"; Retry-After: {evidence['retry_after']}" if evidence.get("retry_after") else ""
        return _pending(f"blocked: {status}{extra}", verdict, evidence)
    if v == "vanished":
        kept = evidence.get("similarity_to_last_good")
        if reason == "redirected":
            like = evidence.get("redirect_looks_like")
            what = {"home": "the site's home page", "login": "a login page", "search": "a search page"}.get(
                like, "a page unlike the last good capture")
            shared = f" ({kept:.0%} of the old text kept)" if kept is not None else ""
            return _pending(f"redirected to {what} {capture['final_url']}{shared}", verdict, evidence)
        if reason == "soft-404":
            if evidence.get("title_says_not_found"):
                why = f"its title or heading says \u201c{evidence['title_says_not_found']}\u201d"
            elif evidence.get("similar_to_error_page", 0) >= evidence.get("similar_to_home_page", 0):
                why = f"it is the host's page for unknown paths ({evidence.get('similar_to_error_page', 0):.0%} alike)"
            else:
                why = f"it is the site's home page ({evidence.get('similar_to_home_page', 0):.0%} alike)"
            return _pending(f"{status}, but a \u201cnot found\u201d page: {why}", verdict, evidence)
        if reason == "emptied":
            return _pending(f"emptied: the text shrank to {evidence.get('text_ratio', 0):.0%} of the last good "
                            f"capture ({evidence.get('text_length')} of {evidence.get('last_good_length')} "
                            "characters)", verdict, evidence)
        return _pending(status or "gone", verdict, evidence)
    if v == "new":
        title = capture.get("title")
        return f"first capture: {title}" if title else "first capture"
    if v == "unchanged":
        return _flapped("no change", evidence, verdict)
    if v == "moved":
        kept = evidence.get("similarity_to_last_good")
        shared = f" ({kept:.0%} of the text kept)" if kept is not None else ""
        base = diff.summary() if diff is not None else "same text"
        return _pending(f"moved to {capture['final_url']}{shared}; {base}", verdict, evidence)
    if v == "changed" and reason == "select-empty":
        sel = target.select if target is not None else "select"
        return f"`{sel}` matches nothing now (it matched text in the last good capture)"
    good = history.good
    if v == "restored" and good is not None and capture.get("fingerprint") == good.fingerprint:
        if capture.get("payload_sha256") == good.payload_sha256:
            return f"back after {history.state}; identical to the last good capture"
        return f"back after {history.state}; text unchanged"
    base = diff.summary() if diff is not None else "content differs (compared by digest)"
    if diff is not None and (said := excerpt(diff)):
        base += f": {said}"
    base += _keywords_said(significance)
    if v == "restored":
        return f"back after {history.state}; {base}"
    return _flapped(base, evidence, verdict)


#: Characters of each side of an excerpt (the summary, the alert, the report's index say what changed).
EXCERPT = 60


def excerpt(diff: Diff) -> str:
    """The first change in words: ``“1,200,000” → “1,950,000”``, ``+ “new words”`` or ``− “old words”``.

    The first run of inserted and deleted text (whitespace-only runs skipped), each side cut to
    :data:`EXCERPT` characters at a word; empty when nothing but whitespace or moves changed.
    A keyed diff (JSON paths, spreadsheet cells) says its first changed value, ``$.items[3].price: 12.5 → 13``,
    else its first key added or removed, ``+ Sheet1!A15: Total`` or ``− $.note: "old"`` (values cut to
    :data:`EXCERPT` characters).
    """
    if diff.unit in KEYED_UNITS:
        changes = keyed_changes(diff.old, diff.new, diff.unit)
        first = next((c for c in changes if c.kind == "changed"), changes[0] if changes else None)
        return said_of(first, EXCERPT) if first is not None else ""
    deleted: list[str] = []
    inserted: list[str] = []
    before = after = ""   # the rest of the words the change cuts into: "1.200.000", not "200"
    for op, text in diff.ops:
        if op in (-1, 1) and text.strip():
            (deleted if op == -1 else inserted).append(text)
        elif op == 0 and (deleted or inserted):
            if text.strip():
                after = "" if text[:1].isspace() else text.split()[0]
                break   # the end of the first change
        elif op == 0:
            before = "" if not text or text[-1:].isspace() else text.split()[-1]

    def side(parts: list[str]) -> str:
        if not parts:
            return ""
        body = "".join(parts)
        body = (before if not body[:1].isspace() else "") + body + (after if not body[-1:].isspace() else "")
        return _cut(" ".join(body.split()))

    old, new = side(deleted), side(inserted)
    if old and new:
        return f"\u201c{old}\u201d \u2192 \u201c{new}\u201d"
    if new:
        return f"+ \u201c{new}\u201d"
    return f"\u2212 \u201c{old}\u201d" if old else ""


def _cut(text: str) -> str:
    if len(text) <= EXCERPT:
        return text
    cut = text.rfind(" ", 0, EXCERPT)
    return text[: cut if cut > EXCERPT // 2 else EXCERPT] + "\u2026"


def _keywords_said(significance: dict | None) -> str:
    """``; keyword “Huawei” appeared`` (the alert message names them)."""
    if not significance:
        return ""
    said = ""
    for key, word in (("keywords_appeared", "appeared"), ("keywords_disappeared", "disappeared")):
        names = significance["parts"].get(key) or []
        if names:
            quoted = ", ".join(f"\u201c{n}\u201d" for n in names)
            said += f"; keyword{'s' if len(names) > 1 else ''} {quoted} {word}"
    return said


#: Challenge vendor families (``evidence.challenge``) as people write them.
VENDOR_NAMES = {"cloudflare": "Cloudflare", "akamai": "Akamai", "imperva": "Imperva", "sucuri": "Sucuri",
            "aws-waf": "AWS WAF", "datadome": "DataDome", "perimeterx": "PerimeterX", "ddos-guard": "DDoS-Guard"}


def _pending(text: str, verdict: Verdict, evidence: dict) -> str:
    """A summary, saying when its state awaits confirmation (and after a disagreeing first fetch)."""
    text = _flapped(text, evidence, verdict)
    if verdict.confirmed is False:
        if "failures" in evidence:
            return f"{text} (failure {evidence['failures']} of {evidence['confirm_after']} before alerting)"
        return f"{text} (awaiting confirmation)"
    return text


def _flapped(text: str, evidence: dict, verdict: Verdict) -> str:
    """A summary, saying when this re-fetch disagreed with the run's first fetch."""
    first = evidence.get("first_verdict")
    if first is not None and first != verdict.verdict:
        said = first + (f" / {evidence['first_reason']}" if evidence.get("first_reason") else "")
        return f"{text} (the first fetch said {said}; this second fetch did not agree)"
    return text
