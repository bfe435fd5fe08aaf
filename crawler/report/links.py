"""What a change did to a page's links, title and description, as its change page states it (pure).

:func:`page_changes` compares two captures' :class:`PageFacts` (their ``links``,
``link_texts``, ``title`` and ``description``; :mod:`crawler.report.views` reads
them from the index, or from the archived payload of a capture extracted before
anchor texts were kept) and returns what ``templates/_links.html`` shows: the
links removed and added, each with its anchor text, at most :data:`MAX_SHOWN` of
each ("and N more"), and plain statements: ``Title changed: “old” → “new”``.

Archived URLs are shown as text, never as links: :func:`display_url` decodes
what is encoded only for transport (IDNA host names, percent-encoded UTF-8) so
an analyst reads ``https://пример.рф/путь``; the URL as archived is kept beside
it when the two differ (a Unicode host name can imitate another). Escapes that
stand for ASCII (``%2F``, ``%20``), invisible, control or bidi characters and
bytes that are not UTF-8 stay encoded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import ada_url

from crawler.textforms import equated, script_of

__all__ = ["MAX_SHOWN", "PAGE_VERDICTS", "PageFacts", "display_url", "page_changes"]

#: Links removed (and added) listed at most, each; the rest are counted ("and N more").
MAX_SHOWN = 200

#: Verdicts whose change page compares links, title and description (``vanished``: the title and
#: description the page had, and the title of what the address answers now; ``delisted``: a
#: listing's item that left its listing, compared with its last good capture).
PAGE_VERDICTS = frozenset({"changed", "restored", "moved", "vanished", "delisted"})


@dataclass(frozen=True)
class PageFacts:
    """What a capture's page said besides its text."""

    #: its links in document order; None: not known (no page, not HTML)
    links: Sequence[str] | None
    title: str | None = None
    description: str | None = None
    #: anchor text by link
    texts: Mapping[str, str] = field(default_factory=dict)
    #: why its anchor texts and description are not known, when they are not
    texts_missing: str | None = None


def page_changes(
    verdict: str, before: PageFacts | None, after: PageFacts | None
) -> dict | None:
    """What the change page says of links, title and description (None: nothing to say).

    ``before`` is the last good capture's page (None: there is none), ``after`` this capture's.
    """
    if before is None or after is None or verdict not in PAGE_VERDICTS:
        return None
    missing = [why for why in (before.texts_missing, after.texts_missing) if why]
    if verdict == "vanished":
        return {
            "vanished": True,
            "statements": [
                _last_seen("Title", before.title),
                _last_seen("Description", before.description, before.texts_missing),
                *(
                    [("The address now answers with the title", None, after.title)]
                    if after.title
                    else []
                ),
            ],
            "links": None,
            "missing": missing,
        }
    links = None
    if before.links is not None and after.links is not None:
        new, old = set(after.links), set(before.links)
        removed = [url for url in before.links if url not in new]
        added = [url for url in after.links if url not in old]
        links = {
            "removed": [_row(url, before.texts) for url in removed[:MAX_SHOWN]],
            "added": [_row(url, after.texts) for url in added[:MAX_SHOWN]],
            "removed_count": len(removed),
            "added_count": len(added),
            "removed_more": max(0, len(removed) - MAX_SHOWN),
            "added_more": max(0, len(added) - MAX_SHOWN),
            "kept": len(old & new),
            "max_shown": MAX_SHOWN,
        }
    description_known = not (before.texts_missing or after.texts_missing)
    return {
        "vanished": False,
        "moved": verdict == "moved",
        "statements": [
            _compared("Title", before.title, after.title),
            _compared("Description", before.description, after.description)
            if description_known
            else ("Description not compared", None, None),
        ],
        "links": links,
        "missing": missing,
    }


def _row(url: str, texts: Mapping[str, str]) -> dict:
    shown = display_url(url)
    return {
        "url": shown,
        "archived": url if shown != url else None,
        "text": texts.get(url),
    }


def _compared(
    what: str, old: str | None, new: str | None
) -> tuple[str, str | None, str | None]:
    """(statement, old, new) for the template: it quotes the values it is given."""
    if old == new:
        return (
            (f"{what} unchanged", old, None)
            if old
            else (f"No {what.lower()}, before or after", None, None)
        )
    if old is not None and new is not None and script_of(old) != script_of(new) \
            and equated(old, "sr") == equated(new, "sr"):
        # The same words re-published in the other script (Serbian Cyrillic and Latin).
        return (f"{what} unchanged but for its script", old, new)
    if old is None:
        return (f"{what} added", None, new)
    if new is None:
        return (f"{what} removed", old, None)
    return (f"{what} changed", old, new)


def _last_seen(
    what: str, value: str | None, missing: str | None = None
) -> tuple[str, str | None, str | None]:
    if missing and what == "Description":
        return ("Description when last seen: not known", None, None)
    if value is None:
        return (f"No {what.lower()} when last seen", None, None)
    return (f"{what} when last seen", value, None)


# -- URLs shown decoded ------------------------------------------------------------------------

_URL_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)$", re.DOTALL)
_ESCAPES_RE = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
#: Characters kept percent-encoded: controls, format (bidi, zero-width), separators, private use,
#: unassigned, surrogates.
_KEEP_ENCODED = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cn", "Cs"})


def display_url(url: str) -> str:
    """``url`` as a person reads it: IDNA host names and percent-encoded UTF-8 shown as Unicode.

    Only non-ASCII characters that are visible are decoded: ``%2F``, ``%20``, ``%E2%80%AE``
    (a right-to-left override) and escapes that are not UTF-8 stay as they are.
    """
    match = _URL_RE.match(url)
    if match is None:
        return url
    scheme, netloc, rest = match.groups()
    return scheme + _display_netloc(netloc) + _ESCAPES_RE.sub(_decoded_escapes, rest)


def _display_netloc(netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    if "xn--" not in hostport.lower() or hostport.startswith("["):
        return netloc
    host, colon, port = hostport.rpartition(":")
    if not colon or not port.isdigit():
        host, colon, port = hostport, "", ""
    try:
        shown = ada_url.idna_to_unicode(host)
    except (ValueError, UnicodeError):
        return netloc
    if not shown or any(unicodedata.category(c) in _KEEP_ENCODED for c in shown):
        return netloc
    return f"{userinfo}{at}{shown}{colon}{port}"


def _decoded_escapes(match: re.Match) -> str:
    escapes = match.group()
    try:
        text = bytes.fromhex(escapes.replace("%", "")).decode("utf-8")
    except UnicodeDecodeError:
        return escapes
    out, pos = [], 0
    for char in text:
        size = 3 * len(char.encode("utf-8"))
        keep = ord(char) < 0x80 or unicodedata.category(char) in _KEEP_ENCODED
        out.append(escapes[pos : pos + size] if keep else char)
        pos += size
    return "".join(out)
