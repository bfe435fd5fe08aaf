"""Tests for crawler.keywords: keywords matched whatever their case, diacritics and script."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.keywords import (
    fold,
    keyword_changes,
    keyword_error,
    keyword_hits,
    keyword_spans,
)
from crawler.textforms import (
    equated,
    script_of,
    to_cyrillic,
    to_latin,
)

PAIR = (
    "Министарство унутрашњих послова\nсаопштава да је систем видео надзора\nпуштен у рад.",
    "Ministarstvo unutrašnjih poslova\nsaopštava da je sistem video nadzora\npušten u rad.",
)


# --- fold -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "scripts", "folded"),
    [
        ("Čačak", None, "cacak"),
        ("ĆUPRIJA", None, "cuprija"),
        ("Šabac Žabalj", None, "sabac zabalj"),
        ("ĐORĐE đorđe", None, "dorde dorde"),
        ("Ђорђе", "sr", "dorde"),
        ("Ђорђе", None, "ђорђе"),
        ("ЉУБИЦА Њ Џ", "sr", "ljubica nj dz"),
        ("ǈubica", None, "ljubica"),
        ("Straße", None, "strasse"),
        ("Ångström Müller Erdős Łódź Øresund", None, "angstrom muller erdos lodz oresund"),
        ("café\u0301", None, "cafe"),
        ("Ёлка Йошкар", None, "елка иошкар"),
        ("ＡＢＣ ①", None, "abc 1"),
        ("Safe\nCity", None, "safe\ncity"),
    ],
)
def test_fold(text, scripts, folded):
    assert fold(text, scripts) == folded


# --- keyword_hits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keyword", "scripts", "hit"),
    [
        ("safe city", "Safe City", None, True),
        ("SAFE   CITY projekat", "Safe City", None, True),
        ("the Safe\nCity", "Safe City", None, True),  # a phrase may break across lines
        ("SafeCity", "Safe City", None, False),
        ("Safe-City", "Safe City", None, False),
        ("НАДЗОР", "nadzor", "sr", True),
        ("НАДЗОР", "nadzor", None, False),
        ("video nadzor", "НАДЗОР", "sr", True),
        ("видео надзор", "НАДЗОР", None, True),  # Cyrillic keyword, Cyrillic text: no script needed
        ("Čačak", "cacak", None, True),
        ("Cacak", "Čačak", None, True),
        ("NADZOR", "nadzor", None, True),
        ("kameraman", "kamera", None, False),  # whole words
        ("kamere", "kamera", None, False),
        ("videokamera", "kamera", None, False),
        ("(kamera).", "kamera", None, True),
        ("kamera-sistem", "kamera", None, True),
        ("kamere", "kamer*", None, True),  # a trailing * matches the word's endings
        ("kameraman", "kamer*", None, True),
        ("КАМЕРЕ", "kamer*", "sr", True),
        ("videokamera", "kamer*", None, False),
        ("Компанија Хуавеј", "Huawei", "sr", False),  # transcriptions of names are not guessed
        ("Компанија Хуавеј", "Хуавеј", "sr", True),
        ("kompanija Huavej", "Хуавеј", "sr", True),
        ("kompanija Huawei", "Хуавеј", "sr", False),
        ("pisan u C++ i Javi", "C++", None, True),
        ("pisan u C", "C++", None, False),
        ("#nadzor danas", "#nadzor", None, True),
        ("podjela", "podela", None, True),  # the price of d = dj: documented
        ("Ljubica", "Љубица", "sr", True),
        ("LJUBICA", "ljubica", None, True),
        ("ǈubica", "Ljubica", None, True),
        ("Cafe\u0301", "café", None, True),
        ("", "nadzor", "sr", False),
    ],
)
def test_keyword_hit(text, keyword, scripts, hit):
    assert keyword_hits(text, [keyword], scripts) == (frozenset([keyword]) if hit else frozenset())


DJORDJEVIC_KEYWORDS = ["Đorđević", "Djordjevic", "Dordevic", "Ђорђевић", "ĐORĐEVIĆ", "djordjević"]
DJORDJEVIC_TEXTS = ["Đorđević", "Djordjevic", "Dordevic", "Ђорђевић", "ĐORĐEVIĆ", "Djordjević", "DJORDJEVIC", "ЂОРЂЕВИЋ"]


@pytest.mark.parametrize(("keyword", "text"), list(itertools.product(DJORDJEVIC_KEYWORDS, DJORDJEVIC_TEXTS)))
def test_dj_is_dj_and_d(keyword, text):
    assert keyword_hits(f"izjava: {text}, ministar", [keyword], "sr") == {keyword}


def test_cyrillic_dj_needs_scripts():
    assert keyword_hits("Ђорђевић", ["Đorđević"], None) == frozenset()
    assert keyword_hits("Ђорђевић", ["ђорђевић"], None) == {"ђорђевић"}


def test_keywords_are_reported_as_written_and_several_at_once():
    text = "Sistem Safe City: kamere kompanije Huawei, nadzor."
    keywords = ["Safe City", "City", "safe", "HUAWEI", "nadzor", "kamer*", "biometrija", "safe city"]
    assert keyword_hits(text, keywords, None) == {"Safe City", "City", "safe", "HUAWEI", "nadzor", "kamer*", "safe city"}


def test_no_keywords_no_hits():
    assert keyword_hits("anything", [], "sr") == frozenset()
    assert keyword_spans("anything", [], None) == []
    assert keyword_changes("a", "b", [], None) == (frozenset(), frozenset())


@pytest.mark.parametrize("keyword", ["", "   ", "*", " * ", "ka*mera", "kamera**", "\u0301"])
def test_bad_keywords(keyword):
    assert keyword_error(keyword)
    with pytest.raises(ValueError, match="keyword"):
        keyword_hits("kamera", [keyword], None)


@pytest.mark.parametrize("keyword", ["kamera", "Safe City", "kamer*", "C++", "#tag", "Ђорђевић", " padded "])
def test_good_keywords(keyword):
    assert keyword_error(keyword) is None


def test_keywords_must_be_a_sequence_of_strings():
    assert keyword_error(3) == "a keyword is text, not int"
    with pytest.raises(TypeError):
        keyword_hits("kamera", "kamera", None)


# --- keyword_changes ----------------------------------------------------------------


def test_keyword_appears_and_disappears():
    keywords = ["nadzor", "Huawei", "Safe City"]
    old = "Систем видео надзор у Београду."
    new = "Sistem Safe City kompanije Huawei u Beogradu."
    assert keyword_changes(old, new, keywords, "sr") == ({"Huawei", "Safe City"}, {"nadzor"})
    assert keyword_changes(new, old, keywords, "sr") == ({"nadzor"}, {"Huawei", "Safe City"})


def test_script_change_alone_changes_no_keyword():
    cyr, lat = PAIR
    assert keyword_changes(cyr, lat, ["nadzora", "Ministarstvo"], "sr") == (frozenset(), frozenset())
    assert keyword_changes(cyr, lat, ["nadzora", "Ministarstvo"], None) == ({"nadzora", "Ministarstvo"}, frozenset())


def test_first_capture_has_no_keyword_change():
    assert keyword_changes(None, "nadzor", ["nadzor"], None) == (frozenset(), frozenset())
    with pytest.raises(ValueError):
        keyword_changes(None, "nadzor", [""], None)


# --- keyword_spans: offsets in the original text --------------------------------------


def test_spans_map_back_exactly():
    text = "Видео НАДЗОР: ЉУБИЦА и Ђорђевић, Safe\nCity — Straße, ǈubica, kamerá\u0301! Камере."
    keywords = ["nadzor", "Ljubica", "Đorđević", "Safe City", "city", "strasse", "kamer*"]
    spans = keyword_spans(text, keywords, "sr")
    assert [(text[s:e], k) for s, e, k in spans] == [
        ("НАДЗОР", "nadzor"),
        ("ЉУБИЦА", "Ljubica"),
        ("Ђорђевић", "Đorđević"),
        ("Safe\nCity", "Safe City"),
        ("City", "city"),  # spans overlap
        ("Straße", "strasse"),
        ("ǈubica", "Ljubica"),
        ("kamerá\u0301", "kamer*"),  # the combining mark after the hit belongs to it
        ("Камере", "kamer*"),
    ]
    assert spans == sorted(spans)


def test_spans_without_scripts_leave_cyrillic_alone():
    text = "НАДЗОР i nadzor"
    assert [(text[s:e], k) for s, e, k in keyword_spans(text, ["nadzor"], None)] == [("nadzor", "nadzor")]


words = st.sampled_from(
    ["nadzor", "НАДЗОР", "Љубица", "ljubica", "Đorđević", "Djordjević", "ЂОРЂЕВИЋ", "Straße", "ǈubica",
     "kamera", "kameraman", "Камере", "e\u0301", "ß", "Safe", "City", "", "ﬁ", "İ"]
)  # fmt: skip
separators = st.sampled_from([" ", "\n", ", ", "—", "", "\u0301"])
mixed_text = st.lists(st.tuples(words, separators), max_size=30).map(lambda ps: "".join(w + s for w, s in ps))
KEYWORDS = ["nadzor", "Ljubica", "Đorđević", "strasse", "kamer*", "Safe City", "city", "fi"]


@settings(max_examples=400, deadline=None)
@given(mixed_text, st.sampled_from([None, "sr"]))
def test_every_span_is_a_hit_of_its_keyword(text, scripts):
    spans = keyword_spans(text, KEYWORDS, scripts)
    for start, end, keyword in spans:
        assert 0 <= start < end <= len(text)
        assert keyword_hits(text[start:end], [keyword], scripts) == {keyword}
    assert {k for _, _, k in spans} == keyword_hits(text, KEYWORDS, scripts)
    assert spans == sorted(spans)


# --- 2 MB ------------------------------------------------------------------------------


def test_two_megabytes_in_one_pass():
    line = (
        "Влада Републике Србије је усвојила закон; систем видео надзора Safe City компаније Huawei "
        "у Београду. Љубиша Ђорђевић каже да су камере постављене.\n"
    )
    text = line * (2_000_000 // len(line))
    count = text.count("\n")
    keywords = ["nadzor*", "Safe City", "Đorđević", "Huawei", "kamer*", "biometrija", "prepoznavanje lica"]
    assert keyword_hits(text, keywords, "sr") == {"nadzor*", "Safe City", "Đorđević", "Huawei", "kamer*"}
    spans = keyword_spans(text, keywords, "sr")
    assert len(spans) == 5 * count
    assert text[spans[-1][0] : spans[-1][1]] == "камере"
    latin = equated(text, "sr")
    assert latin.count("\n") == count
    assert latin == to_latin(line) * count
    assert to_cyrillic(latin) == text.replace("Safe City", "Сафе City")  # display only: see the module docstring
    assert script_of(text) == "cyrl"
