"""Keywords matched whatever their form (pure): case, diacritics and, with ``equate_scripts: sr``, script.

:func:`fold` is the form keywords are matched in: case-folded, accents removed
(``č`` = ``c``; ``đ`` read as ``d``, and a keyword's ``dj`` as ``d``, so
``Đorđević``, ``Djordjevic`` and ``Dordevic`` are one name), Serbian Cyrillic read as
Latin when the scripts are equated (:mod:`crawler.textforms`). Keywords match whole
words or phrases; a keyword ending in ``*`` also matches words it begins
(``kamer*``). :func:`keyword_hits`, :func:`keyword_changes` and
:func:`keyword_spans` (offsets into the original text, for highlighting) use one
compiled pattern over a text folded once.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence

from .textforms import _CYR_TO_LAT, _WORD_CHAR, _charclass, _check

__all__ = ["fold", "keyword_changes", "keyword_error", "keyword_hits", "keyword_spans"]
# -- folding ---------------------------------------------------------------------

#: Stroked letters Unicode does not decompose, read without their stroke.
_STROKES = str.maketrans({"đ": "d", "ð": "d", "ł": "l", "ø": "o", "ħ": "h", "ŧ": "t", "ƀ": "b", "ɨ": "i"})


def _fold_char(ch: str, sr: bool) -> str:
    if sr:
        ch = _CYR_TO_LAT.get(ch, ch)
    ch = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", ch).casefold())
    return "".join(c for c in ch if not unicodedata.combining(c)).translate(_STROKES)


class _FoldTable(dict):
    """``str.translate`` table folding one character at a time, filled as characters are met."""

    def __init__(self, sr: bool):
        super().__init__()
        self.sr = sr

    def __missing__(self, key: int) -> str:
        value = _fold_char(chr(key), self.sr)
        self[key] = value
        return value


_FOLD_TABLES = {None: _FoldTable(False), "sr": _FoldTable(True)}


def fold(text: str, scripts: str | None) -> str:
    """``text`` as keywords are matched in it: case, diacritics and (``"sr"``) script folded away.

    Each character folds on its own (``č`` -> ``c``, ``đ`` -> ``d``, ``ß`` -> ``ss``,
    with ``"sr"`` ``Љ`` -> ``lj``), so offsets map back (:func:`keyword_spans`).
    """
    _check(scripts)
    return text.translate(_FOLD_TABLES[scripts])


class _Offsets:
    """Maps an offset in ``fold(text)`` back to the character of ``text`` it came from.

    Only characters whose folding is not one character long (``љ`` -> ``lj``,
    a combining mark -> nothing) move offsets; their positions are kept, the
    rest is arithmetic.
    """

    def __init__(self, text: str, table: _FoldTable):
        odd = [c for c in set(text) if len(table[ord(c)]) != 1]
        self.orig: list[int] = []
        self.folded: list[int] = []
        self.width: list[int] = []
        if not odd:
            return
        shift = 0
        for m in re.finditer(_charclass("".join(odd)), text):
            width = len(table[ord(m.group())])
            self.orig.append(m.start())
            self.folded.append(m.start() + shift)
            self.width.append(width)
            shift += width - 1

    def char(self, offset: int) -> int:
        """The index in ``text`` of the character whose folding holds ``fold(text)[offset]``."""
        i = bisect_right(self.folded, offset) - 1
        if i < 0:
            return offset
        start, width = self.folded[i], self.width[i]
        if offset < start + width:
            return self.orig[i]
        return self.orig[i] + 1 + (offset - start - width)


# -- keywords --------------------------------------------------------------------


def keyword_error(keyword: str) -> str | None:
    """Why ``keyword`` can never match (a message for the watchlist), or None if it is fine."""
    if not isinstance(keyword, str):
        return f"a keyword is text, not {type(keyword).__name__}"
    bare = keyword.strip().removesuffix("*")
    if not fold(bare, None).strip():
        return f"keyword {keyword!r} has nothing to match: write a word or a phrase (kamera, Safe City, kamer*)"
    if "*" in bare:
        return f"keyword {keyword!r}: '*' may only end a keyword (kamer* matches kamera, kamere...)"
    return None


def _keyword_pattern(keyword: str, table: _FoldTable) -> tuple[str, str]:
    """The folded first character of ``keyword`` and its regex, which begins with that character.

    Beginning with a literal lets the regex engine skip quickly to where a
    keyword may start; the word boundary is checked behind it (``(?<!\\w.)``).
    """
    error = keyword_error(keyword)
    if error:
        raise ValueError(error)
    bare = unicodedata.normalize("NFC", keyword).strip()
    prefix = bare.endswith("*")
    folded = " ".join(bare.rstrip("*").translate(table).split()).replace("dj", "d")
    first, rest = folded[0], folded[1:]
    pattern = re.escape(first)
    if _WORD_CHAR(first):
        pattern += r"(?<!\w.)"
    if first == "d":
        pattern += "j?"
    pattern += "".join(r"\s+" if c == " " else "dj?" if c == "d" else re.escape(c) for c in rest)
    if prefix:
        pattern += r"\w*"
    elif _WORD_CHAR(folded[-1]):
        pattern += r"(?!\w)"
    return first, pattern


class _Matcher:
    """Keywords compiled: one regex finds where any may start, one per keyword confirms."""

    def __init__(self, keywords: tuple[str, ...], scripts: str | None):
        self.table = _FOLD_TABLES[scripts]
        self.by_first: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        patterns = []
        for keyword in keywords:
            first, pattern = _keyword_pattern(keyword, self.table)
            self.by_first.setdefault(first, []).append((keyword, re.compile(pattern)))
            patterns.append(pattern)
        self.any = re.compile("|".join(patterns)) if patterns else None

    def find(self, folded: str):
        """``(start, end, keyword)`` in ``folded`` for every match of every keyword, by start."""
        if self.any is None:
            return
        search = self.any.search
        m = search(folded)
        while m:
            pos = m.start()
            for keyword, pattern in self.by_first[folded[pos]]:
                hit = pattern.match(folded, pos)
                if hit:
                    yield pos, hit.end(), keyword
            m = search(folded, pos + 1)

    def hits(self, folded: str) -> frozenset[str]:
        """The keywords found in ``folded``; each found keyword leaves the search (one pass)."""
        remaining = {k: p for group in self.by_first.values() for k, p in group}
        found: set[str] = set()
        pos = 0
        while remaining:
            m = re.compile("|".join(p.pattern for p in remaining.values())).search(folded, pos)
            if not m:
                break
            pos = m.start()
            for keyword, pattern in self.by_first[folded[pos]]:
                if keyword in remaining and pattern.match(folded, pos):
                    found.add(keyword)
                    del remaining[keyword]
        return frozenset(found)


@functools.lru_cache(maxsize=64)
def _matcher(keywords: tuple[str, ...], scripts: str | None) -> _Matcher:
    return _Matcher(keywords, scripts)


def _compile(keywords: Sequence[str], scripts: str | None) -> _Matcher:
    _check(scripts)
    if isinstance(keywords, str):
        raise TypeError("keywords is a sequence of strings, not one string")
    return _matcher(tuple(dict.fromkeys(keywords)), scripts)


def keyword_hits(text: str, keywords: Sequence[str], scripts: str | None) -> frozenset[str]:
    """The keywords (as written) found in ``text`` as whole words or phrases, folded as :func:`fold`.

    Raises ValueError for a keyword :func:`keyword_error` rejects.
    """
    matcher = _compile(keywords, scripts)
    if not text or matcher.any is None:
        return frozenset()
    return matcher.hits(text.translate(matcher.table))


def keyword_changes(
    old: str | None, new: str, keywords: Sequence[str], scripts: str | None
) -> tuple[frozenset[str], frozenset[str]]:
    """``(appeared, disappeared)``: keywords found in ``new`` and not ``old``, and the reverse.

    With no ``old`` (a first capture) nothing appeared or disappeared: there is
    nothing to compare with; :func:`keyword_hits` tells what the text holds.
    """
    if old is None:
        _compile(keywords, scripts)
        return frozenset(), frozenset()
    before = keyword_hits(old, keywords, scripts)
    after = keyword_hits(new, keywords, scripts)
    return after - before, before - after


def keyword_spans(text: str, keywords: Sequence[str], scripts: str | None) -> list[tuple[int, int, str]]:
    """``(start, end, keyword)`` of every hit, as offsets into ``text`` itself, in order.

    Spans of different keywords may overlap (``Safe City`` and ``City``); a
    combining mark right after a hit belongs to it.
    """
    matcher = _compile(keywords, scripts)
    if not text or matcher.any is None:
        return []
    folded = text.translate(matcher.table)
    offsets = _Offsets(text, matcher.table)
    spans = []
    for fstart, fend, keyword in matcher.find(folded):
        start = offsets.char(fstart)
        end = offsets.char(fend - 1) + 1
        while end < len(text) and not matcher.table[ord(text[end])]:
            end += 1
        spans.append((start, end, keyword))
    return spans
