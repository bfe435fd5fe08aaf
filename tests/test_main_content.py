"""Tests for ``select: auto`` (crawler.extract.main): a page's main content, as lines of its own text.

The real pages are under ``pages/main/`` (where each comes from: ``pages/main/README.md``).
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crawler.extract.main as main_module
from crawler.extract import MAIN_KINDS, extract
from crawler.extract.main import MAX_ELEMENTS, MIN_MAIN_CHARS, _align, find_main

PAGES = Path(__file__).parent / "pages" / "main"
#: Pages also in the labelled corpus are read from there (same bytes; pages/main/README.md says where from).
SHARED = {"cnn_article.html": "cnn-thanksgiving-weather.html", "lsm_article.html": "lsm-norway-landslide.html",
          "mozilla_firefox_developer.html": "mozilla-firefox-developer.html"}
CORPUS = Path(__file__).parent / "corpus" / "pages"
URL = "https://example.com/news/story.html"


def _page(name: str) -> bytes:
    return (CORPUS / SHARED[name]).read_bytes() if name in SHARED else (PAGES / name).read_bytes()


def _is_ordered_subset(part: str, whole: str) -> bool:
    """Are the lines of ``part`` lines of ``whole``, in the same order?"""
    lines = iter(whole.split("\n"))
    return all(any(line == other for other in lines) for line in part.split("\n")) if part else True


# --- real pages: the article in, navigation and footer out ------------------------------------------

REAL = {
    "cnn_article.html": {
        "sentences": [
            "(CNN) -- The Pennsylvania official was just talking about one area, but he summed up a winter "
            "storm that struck much of the eastern United States on Wednesday.",
            '"We dodged a bullet," said Steve Cowan, a spokesman for the Pennsylvania Department of Transportation.',
            "Storm prompts airlines to relax travel policies",
            "CNN's Jason Carroll, Ben Brumfield, Dave Hennen, Aaron Cooper, Alexandra Field, Shannon Travis and "
            "Greg Botelho contributed to this report.",
        ],
        "boilerplate": [
            "EDITION: INTERNATIONAL", "Set edition preference", "Sign up", "Log in", "Most Popular",
            "© 2014 Cable News Network. Turner Broadcasting System, Inc. All Rights Reserved.",
            "Home | Video | World | U.S. | Africa | Asia | Europe | Latin America | Middle East | Business | "
            "World Sport | Entertainment | Tech | Travel | iReport",
        ],
    },
    "chinadaily_article.html": {
        "sentences": [
            "在美国旧金山举行的中美元首会晤吸引了全世界的目光。多名外国专家告诉《中国日报》，中美合作共赢符合国际社会利益，美方应当采取更多行动。",
            "美中合作基金会执行主席约翰·米勒-怀特认为，共同繁荣还是互相毁灭，这是两国面临的抉择。"
            "众所周知，21世纪的金融往来和军事技术发展让超级大国也无法在冲突中成为赢家。",
            "中美合作共赢是大势所趋",
            "（编辑：严玉洁 王辉）",
        ],
        "boilerplate": ["China Daily Homepage", "中文网首页", "站内搜索", "京ICP备13028878号-6", "中国日报版权所有"],
    },
    "mozilla_firefox_developer.html": {
        "sentences": [
            "Welcome to Firefox Developer Edition",
            "Develop, deploy and debug Firefox OS apps directly in your browser, or on a Firefox OS device, "
            "with this tool that replaces App Manager.",
            "View and edit CSS styles associated with a Web page, create new ones and apply existing CSS "
            "stylesheets to any page.",
        ],
        "boilerplate": [
            "Portions of this content are ©1998–2015 by individual mozilla.org contributors. Content available "
            "under a Creative Commons license.",
            "Contact Us", "Donate", "Report Trademark Abuse", "Twitter (@mozilla)", "Other languages:", "Svenska",
        ],
    },
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_page_main_content_is_the_article(name):
    case = REAL[name]
    result = extract(_page(name), "text/html", URL, select="auto")
    assert result.main == "auto"
    lines = result.text.split("\n")
    for sentence in case["sentences"]:
        assert sentence in lines, f"lost from the main content: {sentence!r}"
    for line in case["boilerplate"]:
        assert line in result.page_text.split("\n"), f"the test's boilerplate line is not on the page: {line!r}"
        assert line not in lines, f"boilerplate kept as main content: {line!r}"
    assert len(result.text) < len(result.page_text)
    assert result.fingerprint == hashlib.sha256(result.text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("name", sorted(REAL))
def test_main_content_is_page_lines_in_page_order(name):
    result = extract(_page(name), "text/html", URL, select="auto")
    assert _is_ordered_subset(result.text, result.page_text)
    assert "\n\n" not in result.text and result.text == result.text.strip()


@pytest.mark.parametrize("name", sorted(REAL))
def test_auto_is_deterministic(name):
    first = extract(_page(name), "text/html", URL, select="auto")
    second = extract(_page(name), "text/html", URL, select="auto")
    assert first == second


# --- page, None and selectors: as before ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL))
def test_page_is_the_whole_page_text(name):
    body = _page(name)
    page = extract(body, "text/html", URL, select="page")
    default = extract(body, "text/html", URL)
    auto = extract(body, "text/html", URL, select="auto")
    assert page.main == default.main == "page"
    assert page.text == page.page_text == default.text == auto.page_text
    assert page.fingerprint == default.fingerprint
    assert page.links == default.links == auto.links  # auto compares less text, but keeps the page's links
    assert (page.title, page.heading) == (auto.title, auto.heading)


def test_a_css_selector_works_as_before():
    body = _page("lsm_article.html")
    result = extract(body, "text/html", URL, select="#privacy-notice")
    assert result.main == "selector"
    assert result.text.startswith("Informējam, ka LSM portālā tiek izmantotas sīkdatnes")
    assert result.page_text == extract(body, "text/html", URL, select="page").text
    assert extract(body, "text/html", URL, select=".no-such-class").text == ""


def test_main_kinds_are_documented():
    assert set(MAIN_KINDS) == {"auto", "auto-fallback", "page", "selector"}
    doc = (Path(__file__).parent.parent / "docs" / "main-content.md").read_text(encoding="utf-8")
    for kind in MAIN_KINDS:
        assert f"`{kind}`" in doc


# --- ignore applies in auto mode ------------------------------------------------------------------

COOKIE_LINE = 'Informējam, ka LSM portālā tiek izmantotas sīkdatnes (angļu val. "cookies").'
ARTICLE_LINE = "Tas sev līdzi parāva vairākas mājas, dažas palika tieši uz kraujas malas."


def test_ignore_removes_elements_before_auto():
    body = _page("lsm_article.html")
    plain = extract(body, "text/html", URL, select="auto")
    # This page's cookie notice and newsletter box are kept by the library: what `ignore` is for.
    assert any(line.startswith(COOKIE_LINE) for line in plain.text.split("\n"))
    ignored = extract(body, "text/html", URL, select="auto", ignore=["#privacy-notice", ".subscribe-form"])
    assert ignored.main == "auto"
    assert ARTICLE_LINE in ignored.text.split("\n")
    for text in (ignored.text, ignored.page_text):
        assert "sīkdatnes" not in text and "Piesakies LSM pasta saņemšanai!" not in text


def test_ignore_can_remove_the_main_content_itself():
    body = b"<html><body><nav>" + b"<a href='/x'>menu entry</a> " * 40 + b"</nav><article><h1>Title</h1>" + (
        b"<p>" + b"A sentence of the article that is long enough to count. " * 6 + b"</p>") * 4 + b"</article></body></html>"
    assert extract(body, "text/html", URL, select="auto").main == "auto"
    result = extract(body, "text/html", URL, select="auto", ignore=["article"])
    assert "A sentence of the article" not in result.text
    assert result.main == "auto-fallback" and result.text == result.page_text


# --- nothing usable: the whole page, flagged ----------------------------------------------------------

LINK_INDEX = ("<html><head><title>Documents</title></head><body><h1>Documents</h1><ul>"
              + "".join(f"<li><a href='/doc/{i}'>Document {i}</a></li>" for i in range(200))
              + "</ul></body></html>").encode()
NAV_ONLY = ("<html><body><header><nav><ul>"
            + "".join(f"<li><a href='/section/{i}'>Section {i}</a></li>" for i in range(25))
            + "</ul></nav></header><footer>&copy; Agency</footer></body></html>").encode()


@pytest.mark.parametrize(
    "body",
    [LINK_INDEX, NAV_ONLY, b"<html><head><title>Nothing</title></head><body></body></html>", b""],
    ids=["link index", "navigation only", "empty body", "empty"],
)
def test_no_main_content_falls_back_to_the_whole_page(body):
    result = extract(body, "text/html", URL, select="auto")
    assert result.main == "auto-fallback"
    assert result.text == result.page_text == extract(body, "text/html", URL, select="page").text


@pytest.mark.parametrize("body", [b"<p>short</p>", b"<html><body><nav><a href='/'>Home</a></nav><article><p>"
                                  + b"Notice text. " * 10 + b"</p></article></body></html>"])
def test_short_page_whose_text_is_most_of_it_is_usable(body):
    result = extract(body, "text/html", URL, select="auto")
    assert result.main == "auto" and len(result.text) < MIN_MAIN_CHARS
    assert result.text.split("\n")[-1] == result.page_text.split("\n")[-1]


def test_library_failure_falls_back(monkeypatch):
    def broken(*args, **kwargs):
        raise RecursionError("hostile page")

    monkeypatch.setattr(main_module, "_library_lines", broken)
    result = extract(_page("cnn_article.html"), "text/html", URL, select="auto")
    assert result.main == "auto-fallback" and result.text == result.page_text


def test_text_bodies_are_their_own_main_content():
    result = extract(b"Line one\nLine two", "text/plain", URL, select="auto")
    assert (result.main, result.text, result.page_text) == ("page", "Line one\nLine two", "Line one\nLine two")
    binary = extract(b"%PDF-1.7\n", "application/pdf", URL, select="auto")
    assert binary.text is None and binary.page_text is None


# --- bounded ------------------------------------------------------------------------------------------


def test_huge_page_is_not_handed_to_the_library(monkeypatch):
    calls = []
    real = main_module._library_lines
    monkeypatch.setattr(main_module, "_library_lines", lambda root, **kw: calls.append(1) or real(root, **kw))
    paragraphs = "".join(f"<p>Paragraph {k} has <b>some</b> words.</p>" for k in range(50_000))  # 100,000 elements
    body = f"<html><body><article><h1>Huge</h1>{paragraphs}</article></body></html>".encode()
    result = extract(body, "text/html", URL, select="auto")
    assert calls == [] and result.main == "auto-fallback"
    assert result.text.count("\n") == 50_000  # the heading and every paragraph, as `page` gives them
    bounded = extract(body, "text/html", URL, select="auto", max_text=100_000)
    assert bounded.truncated and len(bounded.text) <= 100_000 and len(bounded.page_text) <= 100_000
    assert calls == [1]  # the bounded page (5,000 tags) was small enough to search


def test_deeply_nested_page_in_auto_mode():
    body = ("<div>" * 5000 + "deep" + "</div>" * 5000).encode()
    result = extract(body, "text/html", URL, select="auto")
    assert result.text == result.page_text == "deep"


def test_max_text_cuts_main_and_page_text():
    body = _page("cnn_article.html")
    result = extract(body, "text/html", URL, select="auto", max_text=2_000)
    assert result.truncated and len(result.text) <= 2_000 and len(result.page_text) <= 2_000


def test_element_bound_is_counted_on_the_tree():
    assert MAX_ELEMENTS >= 5_000  # real pages of the comparison have at most ~2,000 elements


def test_auto_never_opens_a_connection(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("main-content extraction tried to open a connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for name in REAL:
        assert extract(_page(name), "text/html", URL, select="auto").main == "auto"


# --- the alignment: the library's lines as our lines ---------------------------------------------------


def test_align_exact_and_contained_lines():
    lines = ["Home", "A long first paragraph of the article, well over twenty characters.", "Share", "Short",
             "Second paragraph, also long enough to be found inside a line."]
    library = ["A long first paragraph of the article, well over twenty characters. Short",
               "Second paragraph, also long enough to be found inside a line."]
    # "Short" is inside a library line but too short to be trusted there, and no library line is made
    # of our lines 1 and 3 alone; "Home" and "Share" are not the library's.
    assert _align(lines, library) == [1, 4]


def test_align_table_rows_and_cells_of_several_blocks():
    lines = ["Lot | Title | Value", "1 | Roads | 10", "Mark Stäheli", "Co-CEO, Geschäftsleitung", "Footer"]
    library = ["| Lot | Title | Value |", "| 1 | Roads | 10 |", "Mark Stäheli Co-CEO, Geschäftsleitung"]
    assert _align(lines, library) == [0, 1, 2, 3]


def test_align_list_markers_and_spacing():
    lines = ["first item", "- a line that starts with a dash", "other"]
    library = ["- first item", "  -   a line that starts with a dash  "]
    assert _align(lines, library) == [0, 1]


def test_find_main_on_a_tree_without_text():
    from crawler.extract.html import _parse_html

    assert find_main(_parse_html("<html><body><div></div></body></html>"), []) is None


markup = st.lists(
    st.sampled_from(
        ["<p>", "</p>", "<article>", "</article>", "<nav>", "</nav>", "<div hidden>", "</div>", "<table><tr><td>",
         "</td><td>", "<br>", "<a href='/x'>", "</a>", "<script>", "</script>", "<!--", "-->", "<pre>", "</pre>",
         "<li>", "<h1>", "</h1>", "text of a paragraph that is long enough ", "Привет мир ", "\u0301", "\r\n",
         "<html>", "</html>", "<body>", "&nbsp;", "|", "- ", "<footer>", "</footer>"]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markup=markup)
def test_auto_never_raises_and_keeps_page_lines(markup):
    result = extract(markup.encode(), "text/html; charset=utf-8", URL, select="auto", ignore=["nav"])
    assert result.main in ("auto", "auto-fallback")
    assert _is_ordered_subset(result.text, result.page_text)
    if result.main == "auto-fallback":
        assert result.text == result.page_text
    assert result.page_text == extract(markup.encode(), "text/html; charset=utf-8", URL, ignore=["nav"]).text


def test_library_version_names_trafilatura():
    from crawler.extract.main import library_version

    name, version = library_version().split(" ")
    assert name == "trafilatura" and version.startswith("2.3.")
