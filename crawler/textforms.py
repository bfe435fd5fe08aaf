"""Forms of the same text: Serbian in either script, and keywords matched whatever the form (pure).

Two watchlist keys read this module:

``equate_scripts: sr``
    Serbian is published in Cyrillic and in Latin (Gaj's alphabet), often
    both, and a site may switch. :func:`equated` is the form two captures are
    compared in (Cyrillic transliterated to Latin), so re-publishing the same
    text in the other script is no change; :func:`in_script_of` renders an old
    capture in the new capture's script, so its diff is shown in the script
    the reader now sees.

``keywords``
    :func:`keyword_hits`, :func:`keyword_changes` and :func:`keyword_spans`
    find keywords in a :func:`fold`-ed text: case, diacritics and (with
    ``equate_scripts: sr``) script ignored.

Everything here is pure: no IO, no clock; functions of their arguments only.

Why a table of our own
----------------------
PyPI was checked (November 2026) for a maintained Serbian transliterator:

- ``cyrtranslit`` 1.2.0 (MIT, Nov 2025, maintained, many languages) maps
  ``Љ`` to ``Lj`` whatever follows (``ЉУБИЦА`` -> ``LjUBICA``), reads ``LJ``
  as ``Л`` + ``Ј`` (``LJUBICA`` -> ``ЛЈУБИЦА``), knows no n+j / d+ž words and
  transliterates URLs (``www.gov.rs`` -> ``www.гов.рс``).
- ``serbian-translit`` 0.4.3 (MIT, Sept 2026, beta, one author) gets the
  capitals right, but leaves quoted text (``„Службени гласник“``) and
  mixed-case words (``МУПом``) in Cyrillic when going to Latin -- wrong for
  comparing -- and knows no n+j / d+ž words either.
- ``srtools`` 0.1.13 (GPL-3.0, last release 2022) maps ``Љ`` without context,
  and its licence does not suit this Apache-2.0 project.
- ``transliterate`` (last release 2018) and ``PyICU`` (a C++ library for
  30 letters) were not worth it.

Serbian's two alphabets correspond letter for letter (30 letters, three of
them digraphs in Latin), so the table below is short and is tested
exhaustively (``tests/test_textforms.py``): every letter, both directions,
lower, Title and UPPER case.

The rules
---------
Cyrillic -> Latin (:func:`to_latin`, :func:`equated`) is letter by letter:

- ``Љ Њ Џ`` become ``LJ NJ DŽ`` when the next letter is a capital, or no
  letter follows and the previous one is a capital (``ЉУБИЦА`` -> ``LJUBICA``,
  ``КРАЉ`` -> ``KRALJ``); otherwise ``Lj Nj Dž`` (``Љубица``, ``Љ.`` -> ``Lj.``).
- Cyrillic letters that are not Serbian (Russian ``ы э ё я й щ ъ ь``,
  Ukrainian ``і ї є ґ``, Macedonian ``ѓ ќ ѕ``...) are left as they are, in
  words whose Serbian letters are transliterated (``язык`` -> ``яzыk``). That
  is what sites' own letter-by-letter transliterators do, so an automatic
  Latin edition still equates; and it is undone exactly by :func:`to_cyrillic`.
- :func:`equated` also reads the Latin spellings of the same letters as one:
  the digraph code points ``ǄǅǆǇǈǉǊǋǌ`` as two letters, ``Ð ð`` (Eth,
  typed for ``Đ`` in Latin-1 encodings) as ``Đ đ``, and ``Lj Nj Dž`` in an
  ALL-CAPS word (``LjUBICA``, ``KRALj``: what naive transliterators write) as
  ``LJ NJ DŽ``. Lines are kept: line ``i`` of the result is line ``i`` of the text.

Latin -> Cyrillic (:func:`to_cyrillic`, :func:`in_script_of`) is for display
only, and leaves in Latin what is clearly not Serbian:

- URLs (``scheme://…``, ``www.…``), e-mail addresses and domain or file names
  (``srbija.gov.rs``, ``izvestaj.pdf``);
- words with ``q w x y`` or another non-Serbian letter (``é ü ö ß å``...),
  and camelCase words (``iPhone``, ``McDonald``), hyphenated parts included
  (``Wi-Fi``, ``Huawei-jev``);
- Roman numerals in capitals of two letters or more (``II``, ``XIV``), except
  the Serbian words ``MI VI LI CI DI DIV``.
- ALL-CAPS acronyms are transliterated (``MUP`` -> ``МУП``, ``EU`` -> ``ЕУ``,
  ``PDF`` -> ``ПДФ``): Serbian Cyrillic writes its own acronyms in Cyrillic,
  and no rule tells ``PDF`` from ``MUP``.
- ``lj nj dž`` are ``љ њ џ`` (``LJ``, ``Lj`` and ``lJ`` alike: the first
  letter's case decides), except in the words of :data:`SPLIT_DIGRAPHS`, where
  they are two letters (``konjunkcija`` -> ``конјункција``,
  ``nadživeti`` -> ``надживети``).
- Foreign words with none of the letters above (``Facebook``) cannot be told
  from Serbian and are transliterated; so, when an old Latin capture is shown
  in Cyrillic, are the Latin brand names a Cyrillic page keeps (``Safe City``
  -> ``Сафе City``). :func:`in_script_of` leaves a text alone when it is
  mostly in the target script already.
- A capital ``LJ NJ DŽ`` standing alone reads back as ``Lj Nj Dž``.

Keywords
--------
:func:`fold` is the form keywords are matched in: each character on its own
is case-folded, decomposed (NFKD) and stripped of its combining marks
(``č ć`` -> ``c``, ``é`` -> ``e``, ``ё`` -> ``е``, ``й`` -> ``и``); ``đ ð`` ->
``d`` and a few other stroked letters Unicode does not decompose (``ł ø ħ``)
lose their stroke. With ``scripts="sr"`` the Serbian Cyrillic letters are
transliterated first (``Ђорђевић`` -> ``dordevic``, ``Љ`` -> ``lj``).

- ``đ`` is ``dj`` and ``d``: the text keeps ``dj`` (it is also d+j, as in
  ``podjela``) and folds ``đ`` to ``d``; in a keyword, ``dj`` is read as ``d``
  and every ``d`` matches ``d`` or ``dj``. So ``Đorđević``, ``Djordjevic``,
  ``Dordevic`` and ``Ђорђевић`` find one another, in keyword or text. The
  price: ``podela`` also finds ``podjela`` (the ijekavian form of the same word).
- Keywords are whole words: ``kamera`` does not hit ``kameraman`` -- nor
  ``kamere``: Serbian inflects, so a keyword ending in ``*`` matches the
  words that begin with it (``kamer*`` hits ``kamera``, ``kamere``,
  ``kameraman``). A phrase (``Safe City``) matches its words separated by any
  whitespace, line breaks included. A keyword beginning or ending with a
  non-word character (``C++``, ``#tag``) has no boundary on that side.
- A foreign name and its Serbian transcription are different words
  (``Huawei`` / ``Хуавеј`` = ``Huavej``): transcription of names is
  phonetic and not reliable, so this module does not guess; list both spellings.
- Spans found by :func:`keyword_spans` are offsets in the text as given, not
  in its folded form, and may overlap (``Safe City`` and ``City``).
- A text is folded once (``str.translate``) and searched with one regex of
  all keywords, each beginning with its first letter so the engine skips
  ahead: 2 MB take about a tenth of a second.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "EQUATE_SCRIPTS",
    "SPLIT_DIGRAPHS",
    "equated",
    "in_script_of",
    "script_of",
    "to_cyrillic",
    "to_latin",
]

#: The values ``equate_scripts`` accepts (None: scripts are not equated).
EQUATE_SCRIPTS = ("sr",)

# -- the alphabet --------------------------------------------------------------

#: Serbian Cyrillic, in its own order, and Gaj's Latin letter for letter.
_CYRILLIC = "абвгдђежзијклљмнњопрстћуфхцчџш"
_LATIN = ("a", "b", "v", "g", "d", "đ", "e", "ž", "z", "i", "j", "k", "l", "lj", "m",
          "n", "nj", "o", "p", "r", "s", "t", "ć", "u", "f", "h", "c", "č", "dž", "š")
assert len(_CYRILLIC) == len(_LATIN) == 30

#: Cyrillic -> Latin, lower case and Title case (``Љ`` -> ``Lj``).
_CYR_TO_LAT: dict[str, str] = {}
for _c, _l in zip(_CYRILLIC, _LATIN):
    _CYR_TO_LAT[_c] = _l
    _CYR_TO_LAT[_c.upper()] = _l[0].upper() + _l[1:]
_CYR_TO_LAT_TABLE = str.maketrans(_CYR_TO_LAT)

#: Capital digraph letters in an ALL-CAPS word.
_CAPS_DIGRAPHS = {"Љ": "LJ", "Њ": "NJ", "Џ": "DŽ"}

_LAT_TO_CYR: dict[str, str] = {}
for _c, _l in zip(_CYRILLIC, _LATIN):
    if len(_l) == 1:
        _LAT_TO_CYR[_l] = _c
        _LAT_TO_CYR[_l.upper()] = _c.upper()
#: The digraph code points of Unicode (Croatian/Serbian Latin), and Eth typed for Đ.
_LATIN_VARIANTS = {"Ǆ": "DŽ", "ǅ": "Dž", "ǆ": "dž", "Ǉ": "LJ", "ǈ": "Lj", "ǉ": "lj",
                   "Ǌ": "NJ", "ǋ": "Nj", "ǌ": "nj", "Ð": "Đ", "ð": "đ"}
_LATIN_VARIANTS_TABLE = str.maketrans(_LATIN_VARIANTS)
_LAT_TO_CYR_TABLE = str.maketrans(
    {**_LAT_TO_CYR, "Ǆ": "Џ", "ǅ": "Џ", "ǆ": "џ", "Ǉ": "Љ", "ǈ": "Љ", "ǉ": "љ",
     "Ǌ": "Њ", "ǋ": "Њ", "ǌ": "њ", "Ð": "Ђ", "ð": "ђ"}
)
_SERBIAN_CYRILLIC = _CYRILLIC + _CYRILLIC.upper()
_SERBIAN_LATIN = "".join(k for k in _LAT_TO_CYR) + "".join(_LATIN_VARIANTS)

#: Words in which ``nj`` or ``dž`` is two letters (n+j, d+ž): a prefix ending in
#: n or d before a word beginning with j or ž, or a loanword. Matched anywhere in a
#: word, case ignored, so inflections and derivations follow; the first ``nj`` /
#: ``dž`` of each entry is the one split.
SPLIT_DIGRAPHS = (
    # n + j
    "injek",      # injekcija, injektirati, injektor
    "injunk",     # injunkcija
    "konjug",     # konjugacija, konjugovati
    "konjunk",    # konjunkcija, konjunktura, konjunktiv, konjunktivitis
    "tanjug",     # Tanjug (the news agency: ТАНЈУГ)
    "vanjez",     # vanjezički
    "vanjug",     # vanjugoslovenski
    # d + ž
    "nadživ",     # nadživeti, nadživjeti, nadživljavati
    "nadžnje",    # nadžnjeti
    "odžal",      # odžaliti
    "odžvak",     # odžvakati
    "odživ",      # odživeti, odživjeti
    "podžanr",    # podžanr
    "podželud",   # podželudačna (žlezda)
    "podžup",     # podžupan, podžupanija
    "predželud",  # predželudac
)

# -- character classes, built from Unicode ---------------------------------------


def _letters(lo: int, hi: int) -> str:
    return "".join(chr(c) for c in range(lo, hi + 1) if unicodedata.category(chr(c)).startswith("L"))


def _charclass(chars: str) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(set(chars))) + "]"


_CYRILLIC_UPPER = "".join(c for c in _letters(0x0400, 0x052F) if c.isupper())
_CYRILLIC_LOWER = "".join(c for c in _letters(0x0400, 0x052F) if c.islower())
_LATIN_UPPER = "".join(c for c in _letters(0x0041, 0x024F) if c.isupper())
_LATIN_LOWER = "".join(c for c in _letters(0x0041, 0x024F) if c.islower())
#: Latin letters no Serbian word has (the Latin-1 and Extended A/B/Additional blocks).
_FOREIGN_LATIN = "qwxyQWXY" + "".join(
    c for c in _letters(0x00C0, 0x024F) + _letters(0x1E00, 0x1EFF) if c not in _SERBIAN_LATIN
)

_ANY_CYRILLIC_RE = re.compile(_charclass(_SERBIAN_CYRILLIC))
_ANY_LATIN_RE = re.compile(_charclass(_SERBIAN_LATIN))
_UP = _charclass(_CYRILLIC_UPPER + _LATIN_UPPER)[1:-1]
_LOW = _charclass(_CYRILLIC_LOWER + _LATIN_LOWER)[1:-1]
#: Љ Њ Џ written in capitals within an ALL-CAPS word.
_CAPS_DIGRAPH_RE = re.compile(f"[ЉЊЏ](?:(?=[{_UP}])|(?<=[{_UP}].)(?![{_LOW}]))")
#: Lj Nj Dž within an ALL-CAPS word, as naive transliterators write them (LjUBICA, KRALj).
_LATIN_CAPS_DIGRAPH_RE = re.compile(f"(?:Lj|Nj|Dž)(?:(?=[{_UP}])|(?<=[{_UP}]..)(?![{_LOW}]))")
_LATIN_VARIANT_RE = re.compile(_charclass(_LATIN_VARIANTS))

_NOT_ROMAN = ("MI", "VI", "LI", "CI", "DI", "DIV")
#: What :func:`to_cyrillic` leaves in Latin, each rule with a quick test of
#: whether the text can hold any (most texts hold none; the full rules are slower).
_KEEP_LATIN = (
    ("://", re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://\S+")),  # URLs
    ("www.", re.compile(r"(?<![\w.])www\.\S+")),
    ("@", re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")),  # e-mail addresses
    (re.compile(r"\.[a-z]"), re.compile(r"(?<![\w.@])(?:[\w\-]+\.)+[a-z]{2,24}(?![\w@])(?:/\S*)?")),  # domains, files
    (  # Roman numerals
        re.compile(r"[MDCLXVI]{2}"),
        re.compile(
            rf"(?<!\w)(?=[MDCLXVI]{{2,}}(?!\w))(?!(?:{'|'.join(_NOT_ROMAN)})(?!\w))"
            r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})(?!\w)"
        ),
    ),
)
#: A letter no Serbian word has, or a capital right after a small letter (camelCase;
#: a digraph typed ``lJ``, ``nJ``, ``dŽ`` is no camel).
_FOREIGN_MARK_RE = re.compile(f"{_charclass(_FOREIGN_LATIN)}|(?!lJ|nJ|dŽ)[a-zčćđšž](?=[A-ZČĆĐŠŽ])")
_WORD_CHAR = re.compile(r"\w").match
_WORD_END = re.compile(r"\w*(?:-\w+)*").match  # a hyphenated word is one: Wi-Fi, Huawei-jev
_DIGRAPH_TO_CYR = {"lj": "љ", "nj": "њ", "dž": "џ"}
#: Latin digraphs as written (the first letter's case decides) -> Cyrillic letters.
_DIGRAPHS = tuple(
    (pair, _DIGRAPH_TO_CYR[pair.lower()].upper() if pair[0].isupper() else _DIGRAPH_TO_CYR[pair.lower()])
    for pair in ("lj", "lJ", "Lj", "LJ", "nj", "nJ", "Nj", "NJ", "dž", "dŽ", "Dž", "DŽ")
)
_SPLIT_RES = {w: re.compile(re.escape(w), re.IGNORECASE) for w in SPLIT_DIGRAPHS}
_SPLIT_OFFSETS = {w: re.search("nj|dž", w).start() for w in SPLIT_DIGRAPHS}

# -- the scripts ----------------------------------------------------------------


def _check(scripts: str | None) -> None:
    if scripts is not None and scripts not in EQUATE_SCRIPTS:
        raise ValueError(f"unknown equate_scripts {scripts!r}: known are {', '.join(EQUATE_SCRIPTS)}")


def to_latin(text: str) -> str:
    """Serbian Cyrillic -> Latin (Gaj's alphabet); anything else is left as it is.

    ``Љубица`` -> ``Ljubica``, ``ЉУБИЦА`` -> ``LJUBICA``; non-Serbian Cyrillic
    letters stay (see the module docstring).
    """
    if not _ANY_CYRILLIC_RE.search(text):
        return text
    text = _CAPS_DIGRAPH_RE.sub(lambda m: _CAPS_DIGRAPHS[m.group()], text)
    return text.translate(_CYR_TO_LAT_TABLE)


def to_cyrillic(text: str) -> str:
    """Serbian Latin -> Cyrillic, for display; what is clearly not Serbian stays Latin.

    ``Ljubica`` -> ``Љубица``, ``LJUBICA`` -> ``ЉУБИЦА``, ``injekcija`` ->
    ``инјекција``; URLs, e-mail addresses, foreign words and Roman numerals are
    kept (see the module docstring).
    """
    if not _ANY_LATIN_RE.search(text):
        return text
    lowered = text.lower()
    split = [_SPLIT_RES[w] for w in SPLIT_DIGRAPHS if w in lowered]
    out = []
    last = 0
    for start, end in _kept_latin(text):
        out.append(_to_cyrillic_words(text[last:start], split))
        out.append(text[start:end])
        last = end
    out.append(_to_cyrillic_words(text[last:], split))
    return "".join(out)


def _kept_latin(text: str) -> list[tuple[int, int]]:
    """The spans of ``text`` that :func:`to_cyrillic` leaves in Latin, in order, disjoint."""
    spans = []
    for test, rule in _KEEP_LATIN:
        if (test in text) if isinstance(test, str) else test.search(text):
            spans.extend(m.span() for m in rule.finditer(text))
    covered = 0
    for m in _FOREIGN_MARK_RE.finditer(text):  # the whole word around it
        start = m.start()
        if start < covered:
            continue
        while start > covered and (
            _WORD_CHAR(text, start - 1) or (text[start - 1] == "-" and start > 1 and _WORD_CHAR(text, start - 2))
        ):
            start -= 1
        covered = _WORD_END(text, start).end()
        spans.append((start, covered))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _to_cyrillic_words(text: str, split: list[re.Pattern[str]]) -> str:
    """Latin letters of ``text`` -> Cyrillic: words of SPLIT_DIGRAPHS first, then digraphs, then letters."""
    for rule in split:
        text = rule.sub(_split_digraph, text)
    return _to_cyrillic_letters(text)


def _split_digraph(m: re.Match[str]) -> str:
    stem = m.group()
    cut = _SPLIT_OFFSETS[stem.lower()] + 1  # between n and j, d and ž
    return _to_cyrillic_letters(stem[:cut]) + _to_cyrillic_letters(stem[cut:])


def _to_cyrillic_letters(text: str) -> str:
    for pair, letter in _DIGRAPHS:  # no two digraphs overlap: j and ž never begin one
        text = text.replace(pair, letter)
    return text.translate(_LAT_TO_CYR_TABLE)


def script_of(text: str) -> str | None:
    """``"cyrl"`` or ``"latn"``, whichever has more Serbian letters in ``text``; None on a tie or none."""
    counts = text.translate(_SCRIPT_TABLE)
    cyrl, latn = counts.count("c"), counts.count("l")
    if cyrl > latn:
        return "cyrl"
    if latn > cyrl:
        return "latn"
    return None


class _ScriptTable(dict):
    """``str.translate`` table: Serbian Cyrillic letter -> "c", Serbian Latin letter -> "l", else deleted."""

    def __missing__(self, key: int) -> str | None:
        ch = chr(key)
        value = "c" if ch in _SERBIAN_CYRILLIC else "l" if ch in _SERBIAN_LATIN else None
        self[key] = value
        return value


_SCRIPT_TABLE = _ScriptTable()


def equated(text: str, scripts: str | None) -> str:
    """The form ``text`` is compared in: with ``"sr"``, Serbian in Latin; with None, ``text``.

    Line ``i`` of the result is line ``i`` of ``text`` (only letters change).
    """
    _check(scripts)
    if scripts is None:
        return text
    text = to_latin(text)
    if _LATIN_VARIANT_RE.search(text):
        text = text.translate(_LATIN_VARIANTS_TABLE)
    return _LATIN_CAPS_DIGRAPH_RE.sub(lambda m: m.group().upper(), text)


def in_script_of(text: str, like: str, scripts: str | None) -> str:
    """``text`` in the script ``like`` is mostly written in (``like`` is the new capture's text).

    Unchanged when ``scripts`` is None, when ``like`` has no Serbian letters and
    when ``text`` is mostly in that script already: a Cyrillic text keeps its
    Latin brand names (``Safe City``) when both captures are Cyrillic.
    """
    _check(scripts)
    if scripts is None:
        return text
    target = script_of(like)
    if target is None or target == script_of(text):
        return text
    convert, other = (to_cyrillic, _ANY_LATIN_RE) if target == "cyrl" else (to_latin, _ANY_CYRILLIC_RE)
    # Words ``like`` writes only in the other script (a code RG-2025-014, a brand) stay as written:
    # transliterated, they would read as changed where nothing was. A word it also writes in its
    # own script (Latin "a" in an English quote, "а" everywhere else) is transliterated as usual.
    words = set(_WORD_RE.findall(like))
    kept = {w for w in words if other.search(w) and convert(w) not in words}
    if not kept:
        return convert(text)
    spans = _kept_latin(text) if target == "cyrl" else []  # what to_cyrillic leaves alone, kept whole
    spans += [m.span() for m in _WORD_RE.finditer(text) if m.group() in kept]
    out, at = [], 0
    for start, end in sorted(spans):
        if end <= at:
            continue
        start = max(start, at)
        out.append(convert(text[at:start]))
        out.append(text[start:end])
        at = end
    out.append(convert(text[at:]))
    return "".join(out)


_WORD_RE = re.compile(r"\w+")
