"""Tests for crawler.extract: kind, charset, visible text, title and links."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.errors import ExtractError
from crawler.extract import (
    MAX_ANCHOR,
    MAX_DESCRIPTION,
    MAX_LINKS,
    Extracted,
    compile_selector,
    extract,
    normalise_text,
    resolve_charset,
    sniff_kind,
)

CASES = yaml.safe_load((Path(__file__).parent / "extract_cases.yaml").read_text(encoding="utf-8"))
URL = "https://example.com/page"


def _case_body(case: dict) -> bytes:
    if "body_hex" in case:
        return bytes.fromhex(case["body_hex"])
    return case["body"].encode("utf-8")


def test_case_names_are_unique():
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_table_case(case):
    result = extract(
        _case_body(case),
        case.get("content_type"),
        case.get("url", URL),
        select=case.get("select"),
        ignore=case.get("ignore", ()),
    )
    expected = case["expected"]
    unknown = set(expected) - {"kind", "text", "title", "links", "link_texts", "description", "charset",
                               "charset_source"}
    assert not unknown, f"unknown expected keys {unknown}"
    for key, want in expected.items():
        got = getattr(result, key)
        if key == "links":
            got = list(got)
        assert got == want, f"{key}: {got!r} != {want!r}"
    if result.text is not None:
        assert result.fingerprint == hashlib.sha256(result.text.encode("utf-8")).hexdigest()


# --- charsets: the same page in several encodings ----------------------------------

RUSSIAN_PAGE = """<!DOCTYPE html>
<html lang="ru"><head>{meta}<title>Новости района — главная</title></head>
<body>
<h1>Городские новости</h1>
<p>Вчера в центре города открылась новая библиотека. Жители района давно ждали этого события:
строительство здания началось ещё три года назад, но из-за нехватки средств работы несколько раз
останавливались.</p>
<p>По словам директора, в фондах библиотеки уже более двадцати тысяч книг, а в читальном зале
можно бесплатно пользоваться компьютерами и интернетом. Запись читателей ведётся ежедневно.</p>
<ul><li>Часы работы: с девяти утра до восьми вечера</li><li>Адрес: улица Мира, дом пятнадцать</li></ul>
<p>Ёлка на площади будет установлена в середине декабря, сообщили в администрации.</p>
</body></html>
"""


@pytest.fixture(scope="module")
def utf8_reference() -> Extracted:
    body = RUSSIAN_PAGE.format(meta='<meta charset="utf-8">').encode("utf-8")
    result = extract(body, "text/html; charset=utf-8", URL)
    assert "Городские новости" in result.text and "Ёлка на площади" in result.text
    return result


@pytest.mark.parametrize(
    ("content_type", "meta", "source"),
    [
        ("text/html; charset=windows-1251", "", "header"),
        ("text/html", '<meta charset="windows-1251">', "meta"),
        ("text/html", '<meta http-equiv="Content-Type" content="text/html; charset=cp1251">', "meta"),
        ("text/html", "", "detected"),
        (None, "", "detected"),
    ],
)
def test_windows_1251_page_equals_utf8_page(utf8_reference, content_type, meta, source):
    body = RUSSIAN_PAGE.format(meta=meta).encode("cp1251")
    result = extract(body, content_type, URL)
    assert result.charset == "cp1251"
    assert result.charset_source == source
    assert result.text == utf8_reference.text
    assert result.title == utf8_reference.title == "Новости района — главная"
    assert result.fingerprint == utf8_reference.fingerprint


def test_lying_header_charset_is_overruled_by_detection(utf8_reference):
    body = RUSSIAN_PAGE.format(meta="").encode("cp1251")
    result = extract(body, "text/html; charset=utf-8", URL)
    assert (result.charset, result.charset_source) == ("cp1251", "detected")
    assert result.fingerprint == utf8_reference.fingerprint


def test_lying_meta_charset_is_overruled_by_detection(utf8_reference):
    body = RUSSIAN_PAGE.format(meta='<meta charset="utf-8">').encode("cp1251")
    result = extract(body, "text/html", URL)
    assert (result.charset, result.charset_source) == ("cp1251", "detected")
    assert result.text == utf8_reference.text


def test_unknown_charset_label_goes_to_detection(utf8_reference):
    body = RUSSIAN_PAGE.format(meta="").encode("cp1251")
    result = extract(body, "text/html; charset=x-no-such-charset", URL)
    assert (result.charset, result.charset_source) == ("cp1251", "detected")
    assert result.text == utf8_reference.text


def test_non_text_codec_label_is_unknown():
    # "base64" and "rot13" are Python codecs but not charsets.
    for label in ("base64", "rot13", "hex", "utf-7", "idna"):
        assert resolve_charset(label) is None
        result = extract(b"<p>plain</p>", f"text/html; charset={label}", URL)
        assert result.text == "plain"


def test_bom_overrides_header_and_meta(utf8_reference):
    body = b"\xef\xbb\xbf" + RUSSIAN_PAGE.format(meta='<meta charset="koi8-r">').encode("utf-8")
    result = extract(body, "text/html; charset=windows-1251", URL)
    assert (result.charset, result.charset_source) == ("utf-8", "bom")
    assert result.fingerprint == utf8_reference.fingerprint


def test_utf16_bom_page_equals_utf8_page(utf8_reference):
    body = RUSSIAN_PAGE.format(meta="").encode("utf-16")  # with BOM
    result = extract(body, "text/html", URL)
    assert result.charset_source == "bom"
    assert result.fingerprint == utf8_reference.fingerprint


def test_whatwg_label_mapping():
    assert resolve_charset("ISO-8859-1") == "cp1252"
    assert resolve_charset(" latin1 ") == "cp1252"
    assert resolve_charset("US-ASCII") == "cp1252"
    assert resolve_charset("ascii") == "cp1252"
    assert resolve_charset("gb2312") == "gb18030"
    assert resolve_charset("shift_jis") == "cp932"
    assert resolve_charset("euc-kr") == "cp949"
    assert resolve_charset('"windows-1251"') == "cp1251"
    assert resolve_charset("utf8") == "utf-8"
    assert resolve_charset("iso-2022-kr") is None  # WHATWG "replacement"
    assert resolve_charset("") is None and resolve_charset(None) is None


def test_undecodable_everything_falls_back_without_raising():
    body = bytes(range(0x80, 0x100)) * 3 + b"<p>x</p>"
    result = extract(body, "text/html; charset=utf-8", URL)
    assert result.kind == "html"
    assert result.charset_source in ("detected", "default")
    assert isinstance(result.text, str)


def test_body_cut_mid_character_still_uses_declared_charset():
    body = "<p>Привет</p><p>мир</p>".encode("utf-8")[:-5]  # cut inside "р"
    result = extract(body, "text/html; charset=utf-8", URL)
    assert (result.charset, result.charset_source) == ("utf-8", "header")
    assert result.text.startswith("Привет\nми")


# --- stability: noise that must not change the fingerprint -------------------------

PAGE_WITH_NOISE = """<html><head><title>Account</title>
<script>window.__STATE__ = {{"nonce": "{nonce}"}};</script></head>
<body><form><input type="hidden" name="csrf_token" value="{nonce}">
<p>Balance: 100 EUR</p><!-- rendered {nonce} --><span class="ts">{nonce}</span>
<div style="display:none">{nonce}</div></form></body></html>"""


def test_hidden_token_script_and_comment_changes_are_invisible():
    first = extract(PAGE_WITH_NOISE.format(nonce="a1b2c3").encode(), "text/html", URL, ignore=[".ts"])
    second = extract(PAGE_WITH_NOISE.format(nonce="zz9988").encode(), "text/html", URL, ignore=[".ts"])
    assert first.text == second.text == "Balance: 100 EUR"
    assert first.fingerprint == second.fingerprint


def test_without_ignore_the_visible_timestamp_counts():
    first = extract(PAGE_WITH_NOISE.format(nonce="a1b2c3").encode(), "text/html", URL)
    second = extract(PAGE_WITH_NOISE.format(nonce="zz9988").encode(), "text/html", URL)
    assert first.fingerprint != second.fingerprint


def test_select_ignores_changes_outside_the_selection():
    page = "<div id=main><p>Stable</p></div><div id=side>{}</div>"
    one = extract(page.format("ad 1").encode(), "text/html", URL, select="#main")
    two = extract(page.format("ad 2").encode(), "text/html", URL, select="#main")
    assert one.text == two.text == "Stable"


def test_select_matching_nothing_is_empty_not_error():
    result = extract(b"<p>content</p>", "text/html", URL, select=".missing")
    assert result.text == ""
    assert result.fingerprint == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("selector", ["div[", "", "   ", "p:unknown-pseudo"])
def test_invalid_selector_raises_extract_error(selector):
    with pytest.raises(ExtractError, match="invalid CSS selector"):
        extract(b"<p>x</p>", "text/html", URL, select=selector)
    with pytest.raises(ExtractError, match="invalid CSS selector"):
        compile_selector(selector)


def test_invalid_ignore_selector_raises_even_for_binary():
    with pytest.raises(ExtractError, match="invalid CSS selector"):
        extract(b"\x89PNG\r\n\x1a\n", "image/png", URL, ignore=["a[href"])


# --- kinds ---------------------------------------------------------------------------

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a3e5ae1d0000000049454e44ae426082")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n%%EOF\n"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (PNG, "image/png"),
        (PNG, None),
        (PNG, "text/html"),
        (PDF, "application/pdf"),
        (PDF, None),
        (PDF, "text/html; charset=utf-8"),
        (b"anything", "application/octet-stream"),
        (b"\x00\x01\x02\x03" * 50, "text/plain"),
    ],
)
def test_binary_bodies(body, content_type):
    result = extract(body, content_type, URL)
    assert result.kind == "binary" == sniff_kind(body, content_type)
    assert result.text is None and result.title is None and result.links == ()
    assert result.charset is None and result.charset_source is None
    assert result.fingerprint == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize(
    ("body", "content_type", "kind"),
    [
        (b"<p>x</p>", "text/html", "html"),
        (b"<p>x</p>", "TEXT/HTML; charset=utf-8", "html"),
        (b"<html/>", "application/xhtml+xml", "html"),
        (b"x,y", "text/csv", "text"),
        (b"{}", "application/json", "text"),
        (b"{}", "application/ld+json", "text"),
        (b"<a/>", "application/xml", "text"),
        (b"<a/>", "text/xml", "text"),
        (b"<feed/>", "application/atom+xml", "text"),
        (b"  <!doctype html><p>x", None, "html"),
        (b"\xef\xbb\xbf<html><body>x", None, "html"),
        (b"<HEAD><TITLE>x", None, "html"),
        (b"<body>", "", "html"),
        (b"<p>x</p>", "application/unknown", "html"),
        (b"<htmlfoo>", None, "text"),
        (b"hello", None, "text"),
        ("привет".encode("cp1251"), None, "binary"),
        (b"", None, "text"),
    ],
)
def test_sniff_kind(body, content_type, kind):
    assert sniff_kind(body, content_type) == kind


def test_text_plain():
    body = "Line one\r\n\r\n  Line   two\u00a0\n\tLine three\n".encode("utf-8")
    result = extract(body, "text/plain; charset=utf-8", URL)
    assert result.kind == "text"
    assert result.text == "Line one\nLine two\nLine three"
    assert result.title is None and result.links == ()
    assert result.text == normalise_text(body.decode())


def test_text_plain_in_windows_1251_equals_utf8():
    text = "Объявление: приём документов продлён до пятницы. Справки по телефону в рабочее время.\n" * 5
    one = extract(text.encode("cp1251"), "text/plain", URL)
    two = extract(text.encode("utf-8"), "text/plain", URL)
    assert one.charset == "cp1251" and one.fingerprint == two.fingerprint


# --- scale ---------------------------------------------------------------------------


def test_page_with_ten_thousand_links():
    links = "".join(f'<li><a href="/item/{i}?ref=list#x">Item {i}</a></li>' for i in range(10_000))
    body = f"<html><body><ul>{links}</ul></body></html>".encode()
    result = extract(body, "text/html", "https://example.com/list/")  # its speed: `make bench` (tests/README.md)
    assert len(result.links) == 10_000
    assert result.links[0] == "https://example.com/item/0?ref=list"
    assert result.links[-1] == "https://example.com/item/9999?ref=list"
    assert result.text.count("\n") == 9_999


def test_ten_thousand_links_keep_their_anchor_texts():
    links = "".join(f'<li><a href="/item/{i}"><b>Item</b> {i}</a></li>' for i in range(10_000))
    result = extract(f"<ul>{links}</ul>".encode(), "text/html", "https://example.com/list/")
    assert result.link_texts == {f"https://example.com/item/{i}": f"Item {i}" for i in range(10_000)}


def test_long_anchor_text_and_description_are_cut_with_an_ellipsis():
    words = " ".join(f"w{i}" for i in range(5_000))
    body = (f'<meta name="description" content="{words}"><a href="/long">{words}</a>'
            f'<a href="/long">short</a><a href="/spaces">{" " * 5_000}<i>spaced</i>{" " * 5_000} out</a>').encode()
    result = extract(body, "text/html", "https://example.com/")
    long = result.link_texts["https://example.com/long"]   # the first non-empty text, cut
    assert len(long) == MAX_ANCHOR and long.endswith("…") and words.startswith(long[:-1])
    assert len(result.description) == MAX_DESCRIPTION and words.startswith(result.description[:-1])
    assert result.link_texts["https://example.com/spaces"] == "spaced out"   # runs of spaces use up no bound


def test_plain_text_has_no_description_nor_anchor_texts():
    result = extract(b'<meta name="description" content="x"> <a href="/y">y</a>', "text/plain", URL)
    assert (result.description, result.link_texts, result.links) == (None, {}, ())


def test_links_are_capped(monkeypatch):
    monkeypatch.setattr("crawler.extract.MAX_LINKS", 50)
    body = "".join(f'<a href="/{i}">{i}</a>' for i in range(120)).encode()
    assert len(extract(body, "text/html", URL).links) == 50
    assert MAX_LINKS == 100_000


def test_enormous_single_line_stays_reasonable():
    line = ("word " * (5 * 2**20 // 5)).encode()  # 5 MiB, no newline; its speed: `make bench` (tests/README.md)
    as_text = extract(line, "text/plain", URL)
    as_html = extract(b"<p>" + line + b"</p>", "text/html", URL)
    assert as_text.text.count("\n") == 0 and len(as_text.text) == 5 * 2**20 - 1
    assert as_html.text == as_text.text


def test_enormous_undeclared_legacy_body_stays_reasonable(monkeypatch):
    from charset_normalizer import from_bytes

    import crawler.extract.decoding

    seen = []

    def detect(sample, *args, **kwargs):
        seen.append(len(sample))
        return from_bytes(sample, *args, **kwargs)

    # Bounded work: charset detection reads a sample of at most 256 KiB, whatever the body's size
    # (its speed: `make bench`, tests/README.md); the whole body is still decoded with what it found.
    monkeypatch.setattr(crawler.extract.decoding, "from_bytes", detect)
    body = ("Длинная строка без объявленной кодировки. " * 60_000).encode("cp1251")  # ~2.5 MB
    result = extract(body, "text/plain", URL)
    assert (result.charset, result.charset_source) == ("cp1251", "detected")
    assert seen and max(seen) <= 256 * 1024 < len(body)
    assert result.text == normalise_text(body.decode("cp1251"))


def test_deeply_nested_page_does_not_hit_recursion_limit():
    body = ("<div>" * 5000 + "deep" + "</div>" * 5000).encode()
    assert extract(body, "text/html", URL).text == "deep"


# --- robustness ------------------------------------------------------------------

content_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "text/html",
            "text/html; charset=utf-8",
            "text/html; charset=utf-16",
            "text/html; charset=bogus",
            "text/html; charset=",
            'text/html; charset="',
            "text/plain; charset=windows-1251",
            "application/json",
            "application/xhtml+xml",
            "image/png",
            "",
            ";;;",
            "text/html; charset=shift_jis",
            "application/xml; charset=utf-32",
        ]
    ),
    st.text(max_size=40),
)
html_fragments = st.lists(
    st.sampled_from(
        [
            "<p>", "</p>", "<div hidden>", "</div>", "<table><tr><td>", "</td><td>", "<br>", "<a href='",
            "'>", "</a>", "<script>", "</script>", "<!--", "-->", "<![CDATA[", "]]>", "<pre>", "</pre>",
            "<meta charset=koi8-r>", "<base href='//x'>", "<title>", "</title>", "\x00", "\ufeff", "&nbsp;",
            "&#0;", "&#x110000;", "<svg><title>", "<template>", "<select><option>", "<", ">", "text",
            "Привет", "\U0001f600", "\u0301", "\r\n",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=2000), content_type=content_types)
def test_extract_never_raises_on_arbitrary_bytes(body, content_type):
    result = extract(body, content_type, "https://example.com/a/b")
    assert result.kind in ("html", "text", "json", "binary")
    # json is text (or an octet stream) read by structure (docs/json.md)
    assert result.kind == sniff_kind(body, content_type) or (
        result.kind == "json" and sniff_kind(body, content_type) in ("text", "binary"))
    if result.kind == "binary":
        assert result.text is None
    else:
        assert "\n\n" not in result.text
        assert result.text == result.text.strip()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    markup=html_fragments,
    encoding=st.sampled_from(["utf-8", "utf-16", "cp1251", "gb18030"]),
    url=st.sampled_from(["https://example.com/", "", "not a url", "http://[::1]:80/x"]),
)
def test_extract_never_raises_on_arbitrary_markup(markup, encoding, url):
    body = markup.encode(encoding, "replace")
    result = extract(body, "text/html", url, ignore=["script"], select=None)
    assert result.kind in ("html", "binary")
    if result.kind == "html":
        assert all(link.startswith(("http://", "https://")) and "#" not in link for link in result.links)
        assert len(set(result.links)) == len(result.links)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_normalised_text_is_a_fixed_point(text):
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert "\u200b" not in once and "\u00a0" not in once
    assert all(line and line == line.strip() for line in once.split("\n")) or once == ""


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="<>&\r", blacklist_categories=("Cs", "Cc")), max_size=200))
def test_html_paragraph_and_plain_text_agree(text):
    import html

    as_html = extract(f"<p>{html.escape(text)}</p>".encode(), "text/html; charset=utf-8", URL)
    as_text = extract(text.encode(), "text/plain; charset=utf-8", URL)
    # A paragraph collapses its newlines into spaces; otherwise the same text.
    assert as_html.text == normalise_text(text.replace("\n", " ").replace("\x0b", " ").replace("\x0c", " "))
    assert as_text.text == normalise_text(text)
