"""What decided a verdict, in a few plain words, for the report's index (pure).

A ``vanished``, ``moved``, ``blocked`` or ``delisted`` row of the index (and a ``new`` one
with reason ``listed``) shows its reason code (``soft-404``) and, under it, the signal that
decided it, read from the event's evidence (docs/verdicts.md, "Evidence"): "title says
“Page not found”", "keeps 93% of the text at the new URL", "Cloudflare challenge page",
"no longer listed on “press”; its page still answers". The evidence is an open
list of keys read from the index, so every value is checked before it is used:
a missing or odd value leaves the phrase out, never the report.
"""

from __future__ import annotations

from ..summary import VENDOR_NAMES

__all__ = ["deciding_signal", "keyword_tags"]

_LOOKS_LIKE = {"home": "the site's home page", "login": "a login page", "search": "a search page"}


def deciding_signal(verdict: str, reason: str | None, signals: dict | None) -> str | None:
    """The signal that decided a ``vanished``, ``moved``, ``blocked`` or ``delisted`` verdict (or a
    ``new`` item of a listing), in words; None for other verdicts, or when the evidence does not say."""
    s = signals if isinstance(signals, dict) else {}
    if verdict == "delisted":
        listing = _text(s.get("delisted_from"))
        return f"no longer listed on \u201c{listing}\u201d; its page still answers" if listing else None
    if verdict == "new" and reason == "listed":
        listing = _text(s.get("listed_on"))
        return f"newly listed on \u201c{listing}\u201d" if listing else None
    kept = _share(s.get("similarity_to_last_good"))
    if verdict == "moved":
        return f"keeps {kept} of the text at the new URL" if kept else None
    if verdict == "blocked":
        return _blocked(reason, s)
    if verdict != "vanished":
        return None
    if reason in ("http-404", "http-410"):
        return "the server answers 404 Not Found" if reason == "http-404" else "the server answers 410 Gone"
    if reason == "redirected":
        where = _LOOKS_LIKE.get(_text(s.get("redirect_looks_like")), "an unrelated page")
        return f"redirected to {where}" + (f"; keeps {kept} of the text" if kept else "")
    if reason == "soft-404":
        phrase = _text(s.get("title_says_not_found"))
        if phrase:
            return f"title says \u201c{phrase}\u201d"
        error_page, home = _number(s.get("similar_to_error_page")), _number(s.get("similar_to_home_page"))
        if error_page is not None and (home is None or error_page >= home) and _share(error_page):
            return f"{_share(error_page)} alike to the host's page for unknown paths"
        return f"{_share(home)} alike to the site's home page" if _share(home) else None
    if reason == "emptied":
        ratio = _share(s.get("text_ratio"))
        return f"its text shrank to {ratio} of the last good capture's" if ratio else None
    return None


def _blocked(reason: str | None, s: dict) -> str | None:
    if reason == "challenge":
        vendor = _text(s.get("challenge"))
        if vendor == "captcha":
            return "a captcha (bot-check) page"
        return f"{VENDOR_NAMES.get(vendor, vendor)} challenge page" if vendor else "a challenge page"
    if reason == "http-401":
        return "the page asks for credentials (401)"
    if reason == "http-403":
        return "the server refuses: 403 Forbidden"
    if reason == "http-429":
        wait = _text(s.get("retry_after"))
        return "too many requests (429)" + (f"; Retry-After: {wait}" if wait else "")
    return None


def keyword_tags(significance: dict | None) -> list[tuple[str, str]]:
    """``(sign, keyword)`` pairs of the keywords a change made appear (``+``) or disappear (``−``)."""
    parts = significance.get("parts") if isinstance(significance, dict) else None
    if not isinstance(parts, dict):
        return []
    out = []
    for key, sign in (("keywords_appeared", "+"), ("keywords_disappeared", "\u2212")):
        words = parts.get(key)
        if isinstance(words, list):
            out.extend((sign, w) for w in words if isinstance(w, str) and w)
    return out


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _share(value: object) -> str | None:
    """``0.934`` as ``93%``; None when it is not a share (0 to 1)."""
    number = _number(value)
    return f"{number:.0%}" if number is not None and 0 <= number <= 1 else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
