"""Not-found phrases: does a page's title or main heading say "this page does not exist"? (pure)

A soft 404 answers 200 with a page whose ``<title>`` or first ``<h1>`` says the
page is missing. :func:`not_found_phrase` reads one such short string and
returns the phrase of the table (``not_found.tsv``, beside this module) that
it says, or None.

The rule. Both sides are normalised the same way: Unicode NFKC, casefolded,
curly apostrophes made straight, zero-width characters dropped. The title is
cut into *segments* at separators (``| – — · • » : / ( ) [ ]`` and a hyphen
with spaces around it), and each segment has its other hyphens and runs of
whitespace made single spaces and its edge punctuation stripped. A phrase
then matches according to its scope, the table's third column:

* ``anywhere`` (the default): inside a segment, on word boundaries (the
  characters either side are not letters or digits), so "not found" is
  never read in "Not foundational". A phrase in a script written without
  spaces (Chinese, Japanese, Korean) matches as a substring.
* ``start``: at the start of a segment. Error codes use it: "Error 404",
  "Error 404 (Not Found)!!1" and "Ministry of Finance – Грешка 404" say it,
  "How to fix error 404 in WordPress" does not.
* ``whole``: the whole segment. Short, ambiguous phrases use it: "404" says
  it in "404", "404 | Ministry" and "404 - Page Not Found", but not in
  "Regulation 404/2024 on procurement", "Route 404 timetable" or "Law 404 of
  2021", where the number is part of a name; "Not Found | Site" says "not
  found", "Not found in the archive: lost films" does not.

So "404" counts only when it stands alone between separators, or starts a
segment together with an error word of the table ("error 404", "404 error",
"404 not found", "грешка 404", "erreur 404" ...). When several phrases
match, the longest is returned (the most specific: "тражена страница није
пронађена" over "страница није пронађена"). Input past 1,000 characters is
ignored: titles and headings are short.
"""

from __future__ import annotations

import functools

import re
import unicodedata
from dataclasses import dataclass
from importlib.resources import files

__all__ = ["MAX_INPUT", "PHRASES", "SCOPES", "NotFoundPhrase", "not_found_phrase"]

#: Characters of the title or heading that are read; the rest is ignored.
MAX_INPUT = 1_000

#: Where in a title a phrase of each scope must stand (see the module docstring).
SCOPES = ("anywhere", "start", "whole")

_DATA_FILE = "not_found.tsv"


@dataclass(frozen=True)
class NotFoundPhrase:
    """One row of the table: a phrase, and the language it is in."""

    phrase: str    # the phrase of the table that matched, as written in the data file
    language: str  # its language tag from the data file (en, sr-Cyrl, sr-Latn, zh, de, ...)


@dataclass(frozen=True)
class _Rule:
    entry: NotFoundPhrase
    needle: str    # the phrase normalised as titles are
    scope: str
    spaced: bool   # written with spaces between words (word boundaries apply)


# Separators that cut a title into segments; a hyphen only with spaces around it ("DDoS-Guard" stays whole).
_SEGMENT_SPLIT = re.compile(r"\s+[-‐‑‒]\s+|[|–—―·•∙⋅»«›‹:/\\()\[\]{}<>｜：（）【】]+")
_INNER_SEPARATORS = re.compile(r"[-‐‑‒_]+")
_WHITESPACE = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# Stripped from both ends of a segment: "Not Found!", "«Страница не постоји».", "¿Página no encontrada?"
_EDGE_PUNCTUATION = " .,;!?¡¿'\"“”„«»‚*~#…。！？、，"


def _unspaced(char: str) -> bool:
    """A character of a script written without spaces between words (CJK, kana, Hangul, Thai)."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF      # CJK radicals, kana, CJK ideographs
        or 0xAC00 <= code <= 0xD7AF   # Hangul syllables
        or 0xF900 <= code <= 0xFAFF   # CJK compatibility ideographs
        or 0x20000 <= code <= 0x2FFFF
        or 0x0E00 <= code <= 0x0EFF   # Thai, Lao
    )


def _segments(text: str) -> list[str]:
    """``text`` normalised and cut into segments (see the module docstring); empty ones dropped."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES).translate(_ZERO_WIDTH)
    out = []
    for part in _SEGMENT_SPLIT.split(text):
        part = _WHITESPACE.sub(" ", _INNER_SEPARATORS.sub(" ", part)).strip(_EDGE_PUNCTUATION)
        if part:
            out.append(part)
    return out


def _at_word_boundaries(segment: str, needle: str, *, start_only: bool) -> bool:
    at = segment.find(needle)
    while at != -1:
        end = at + len(needle)
        before_ok = at == 0 or not segment[at - 1].isalnum()
        after_ok = end == len(segment) or not segment[end].isalnum()
        if before_ok and after_ok:
            return True
        if start_only:
            return False
        at = segment.find(needle, at + 1)
    return False


def _matches(rule: _Rule, segments: list[str]) -> bool:
    needle = rule.needle
    for segment in segments:
        if rule.scope == "whole":
            if segment == needle:
                return True
        elif rule.scope == "start":
            if segment.startswith(needle) and (
                not rule.spaced or _at_word_boundaries(segment, needle, start_only=True)
            ):
                return True
        elif rule.spaced:
            if _at_word_boundaries(segment, needle, start_only=False):
                return True
        elif needle in segment:
            return True
    return False


def _parse(text: str, source: str = _DATA_FILE) -> list[_Rule]:
    """The rules of a table's text; a malformed line raises ValueError naming the line and the fix."""
    rules: list[_Rule] = []
    seen: dict[tuple[str, str], int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.rstrip("\r").split("\t")
        where = f"{source} line {number}"
        if len(fields) not in (2, 3) or not all(f.strip() for f in fields):
            raise ValueError(f"{where}: expected 'language<TAB>phrase' or 'language<TAB>phrase<TAB>scope', "
                             f"got {line!r}; separate the columns with one tab each")
        language, phrase = fields[0].strip(), fields[1].strip()
        scope = fields[2].strip() if len(fields) == 3 else "anywhere"
        if scope not in SCOPES:
            raise ValueError(f"{where}: unknown scope {scope!r}; use one of {', '.join(SCOPES)}")
        segments = _segments(phrase)
        if len(segments) != 1:
            raise ValueError(f"{where}: the phrase {phrase!r} contains a separator or only punctuation; "
                             "write one phrase without | : / ( ) or spaced dashes")
        needle = segments[0]
        key = (needle, scope)
        if key in seen:
            raise ValueError(f"{where}: {phrase!r} repeats line {seen[key]} (the same once normalised); "
                             "remove one")
        seen[key] = number
        spaced = not any(_unspaced(c) for c in needle)
        rules.append(_Rule(NotFoundPhrase(phrase, language), needle, scope, spaced))
    return rules


def _load() -> list[_Rule]:
    return _parse((files("crawler.evidence") / _DATA_FILE).read_text(encoding="utf-8"))


_RULES = _load()
#: The table, in the order of the data file.
PHRASES: tuple[NotFoundPhrase, ...] = tuple(rule.entry for rule in _RULES)
# Tried longest first, so the most specific phrase is the one reported (stable: file order on ties).
_BY_LENGTH = sorted(_RULES, key=lambda rule: -len(rule.needle))


# Any needle at all, as a substring: most titles have none, and one search tells (the rules decide the rest).
_ANY_NEEDLE = re.compile("|".join(re.escape(rule.needle) for rule in _BY_LENGTH))


@functools.lru_cache(maxsize=4096)
def not_found_phrase(text: str | None) -> NotFoundPhrase | None:
    """The not-found phrase a page's TITLE or MAIN HEADING says, or None."""
    if not text:
        return None
    segments = _segments(text[:MAX_INPUT])
    if not segments or not _ANY_NEEDLE.search("\n".join(segments)):
        return None
    for rule in _BY_LENGTH:
        if _matches(rule, segments):
            return rule.entry
    return None
