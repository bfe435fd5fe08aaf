"""Golden outputs of ``extract()`` (#17): what it gives today, kept so a faster path must give the same.

Every field of :class:`crawler.extract.Extracted` the pipeline stores (kind, text, page text, title,
heading, description, links, anchor texts, charset, fingerprint, truncated, main, flags) is compared
with ``tests/golden/extract/<name>.json``, for

* every real page under ``tests/pages/`` and ``tests/corpus/pages/``, read the ways a target can ask:
  ``select: auto`` (the default), ``page``, a CSS ``select``, ``ignore`` selectors, and ``max_text``;
* hostile and edge inputs: nested tables, ``<br>``, scripts, styles, comments, CDATA, entities,
  right-to-left text, invalid bytes, legacy charsets, ``ignore`` selectors, hidden elements, content
  after ``</html>``, a second ``<html>``, nesting deeper than libxml2 keeps, huge flat pages, text,
  JSON and binary bodies.

The golden files were written once by the code before #17's faster paths
(``pytest tests/test_extract_golden.py --update-golden`` rewrites them: review the diff; a changed
text is a false alert on every target after an upgrade unless it comes with the re-extraction).
Texts longer than :data:`LONG` characters are kept as their length, SHA-256, start and end.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from crawler.extract import AUTO, PAGE, extract

TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden" / "extract"
URL = "https://www.example.gov/news/2026/item.html?id=7"
LONG = 20_000

REAL = sorted([*(TESTS / "pages").rglob("*.html"), *(TESTS / "corpus" / "pages").glob("*.html")])
#: How a target can ask for a real page's text: (select, ignore, max_text).
MODES = {
    "auto": (AUTO, (), None),
    "page": (PAGE, (), None),
    "select": ("p, h1, h2, td", (), None),
    "ignore": (AUTO, ("nav", "footer", "header", "aside", "[class*=cookie]", "script + div"), None),
    "ignore-page": (PAGE, ("nav, footer", "div:has(> a) > ul", "li:nth-child(2n)"), None),
    "max-text": (AUTO, (), 3000),
}


def _deep(depth: int) -> bytes:
    return (b"<html><body>" + b"<div><span>" * depth + b"deep text" + b"</span></div>" * depth
            + b"<p>after the depths</p></body></html>")


def _flat(count: int) -> bytes:
    rows = b"".join(b'<p>Paragraph %d of the flat page, <a href="/n/%d">link %d</a>.</p>' % (i, i % 997, i)
                    for i in range(count))
    return b"<!doctype html><html><head><title>Flat</title></head><body>" + rows + b"</body></html>"


def _flat_table(rows: int) -> bytes:
    body = b"".join(b"<tr><td>%d</td><td>item &amp; %d</td><td><br>x</td></tr>" % (i, i * 7) for i in range(rows))
    return b"<table>" + body + b"</table>"


HTML = "text/html; charset=utf-8"
#: Hostile and edge inputs: name -> (body, content type, select, ignore, max_text).
EDGE = {
    "nested-tables": (
        b"<table><tr><td>a<table><tr><td>inner 1</td><td>inner <b>2</b></td></tr>"
        b"<tr><th>h</th><td><p>para in cell</p>tail</td></tr></table>after</td><td>b</td></tr>"
        b"<tr><td></td><td> </td><td>c</td></tr><caption>The caption</caption></table>"
        b"<table><tr><td><table><tr><td><table><tr><td>three deep</td></tr></table></td></tr></table></td>"
        b"<td>beside</td></tr></table>", HTML, PAGE, (), None),
    "br": (
        b"<p>one<br>two<br/>three<br><br>four</p><div>x<br>y</div><a href='/a'>line<br>break</a>"
        b"<span>inline<br>split</span>word<br>", HTML, PAGE, (), None),
    "scripts-styles": (
        b"<html><head><title>T</title><style>p{color:red}</style><script>var a='<p>no</p>';</script></head>"
        b"<body><script>document.write('<p>written</p>')</script><p>visible</p><noscript><p>noscript "
        b"text</p><a href='/ns'>ns link</a></noscript><template><p>template</p></template>"
        b"<style>.x{}</style>after style<script type='application/ld+json'>{\"a\": 1}</script>"
        b"<iframe src='/f'>iframe text</iframe><object>obj</object><canvas>canvas text</canvas>"
        b"<select><option>opt 1</option><option selected>opt 2</option></select>"
        b"<textarea>area\n text</textarea><input value='secret'></body></html>", HTML, AUTO, (), None),
    "comments-cdata-pi": (
        b"<p>a<!-- comment <p>not text</p> -->b</p><![CDATA[cdata text]]><p>c<?php echo 1 ?>d</p>"
        b"<!--[if IE]><p>conditional</p><![endif]--><p>e<!- broken comment ->f</p>"
        b"<svg><![CDATA[svg cdata]]><text>svg text</text><title>svg title</title></svg>",
        HTML, PAGE, (), None),
    "entities": (
        b"<title>A &amp; B &lt;c&gt; &nbsp;&nbsp;d</title><p>&amp;amp; &#38; &#x26; &copy &notanentity; "
        b"&#0; &#xD800; &#x110000; &#128512; &#x200b;zero&#8203;width &shy;soft&#173;hy&AMP;phen</p>"
        b"<p>&nbsp;</p><p>a&nbsp;&nbsp;&nbsp;b\xc2\xa0\xe2\x80\x83c</p><a href='/x?a=1&amp;b=2&copy=3'>q</a>",
        HTML, PAGE, (), None),
    "rtl": (
        "<html dir='rtl'><head><title>\u0627\u0644\u0623\u062e\u0628\u0627\u0631</title></head><body>"
        "<h1>\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd</h1><p>\u200f\u0645\u0631\u062d\u0628\u0627 "
        "\u202eevil\u202c 123 \u2067isolate\u2069</p><p>\u0627\u0644\u0639\u0631\u0628\u064a\u0629 "
        "\u0651\u064e combining \u0065\u0301 vs \u00e9</p></body></html>".encode(), HTML, PAGE, (), None),
    "invalid-utf8": (
        b"<title>caf\xe9 \xff\xfe</title><p>bad \xc3\x28 bytes \xed\xa0\x80 surrogate \xf0\x28\x8c\x28"
        b" end\x00nul</p>", HTML, PAGE, (), None),
    "windows-1251-meta": (
        "<meta charset='windows-1251'><title>Новости</title><p>Набавка опреме, рок 12.12.</p>".encode("cp1251"),
        "text/html", PAGE, (), None),
    "latin1-header-label": (
        "<p>Résumé — “quotes” €</p>".encode("cp1252"), "text/html; charset=latin1", PAGE, (), None),
    "undeclared-charset": (
        "<p>Добро пожаловать на официальный сайт министерства, здесь новости и документы.</p>".encode("koi8-r"),
        "text/html", PAGE, (), None),
    "ignore-selectors": (
        b"<html><body><header><nav><a href='/home'>Home</a></nav></header><div class='cookie-banner'>We use "
        b"cookies</div><main><h1>Notice</h1><p class='ad'>Advert</p><p>Tender 42 closes <time>12 Dec</time>."
        b"</p><ul><li>one</li><li>two</li><li>three</li></ul></main><footer>Footer <a href='/f'>f</a></footer>"
        b"</body></html>", HTML, PAGE, ("nav", ".cookie-banner", "p.ad", "li:nth-child(2)", "footer a"), None),
    "ignore-everything": (
        b"<html><body><p>gone</p></body></html>", HTML, PAGE, ("html",), None),
    "select-main": (
        b"<div id='main'><p>kept <a href='/k'>link</a></p><div id='main'><p>nested</p></div></div>"
        b"<p>outside <a href='/o'>o</a></p>", HTML, "#main", (), None),
    "select-none": (b"<p>nothing selected</p>", HTML, "article.missing", (), None),
    "hidden": (
        b"<p hidden>hidden attr</p><p style='display: none'>display none</p><p style='visibility:hidden'>vh</p>"
        b"<p style='DISPLAY:NONE !important'>caps</p><p style='display:block'>shown</p>"
        b"<div hidden><a href='/hidden-link'>hidden link</a></div>", HTML, PAGE, (), None),
    "after-html-end": (
        b"<html><body><p>page</p></body></html><div>banner after the end</div>", HTML, PAGE, (), None),
    "second-html": (
        b"<html><body><p>first</p><html><body><p>second</p></body></html></body></html>",
        HTML, PAGE, ("p:first-child",), None),
    "deep-nesting": (_deep(300), HTML, PAGE, (), None),
    "deep-nesting-auto": (_deep(600), HTML, AUTO, (), None),
    "links": (
        b"<html><head><base href='https://cdn.example.org/base/'></head><body><a href='rel'>Rel</a>"
        b"<a href='/abs#frag'>Abs</a><a href='javascript:alert(1)'>js</a><a href='mailto:a@b.test'>m</a>"
        b"<a href=' https://x.example/\tpa\nth '>ws</a><a href='rel'>Rel again</a><a href='/img'><img alt='Pic'>"
        b"</a><a href='/aria' aria-label='Aria label'></a><a href='/t' title='Title only'> </a>"
        b"<area href='/area'><a href='http://[::1'>bad</a><a>no href</a><a href='//proto.example/p'>pr</a>"
        b"</body></html>", HTML, PAGE, (), None),
    "meta-description": (
        b"<head><meta name='description' content=''><meta property='og:description' content=' OG  text '>"
        b"<meta name='DESCRIPTION' content='The  real\ndescription'><title>x</title></head><h1></h1>"
        b"<h1>  Main <i>heading</i> </h1>", HTML, PAGE, (), None),
    "pre": (b"<pre>  line one\n\tline   two\n\n<b>bold</b> three\n</pre><p>after</p>", HTML, PAGE, (), None),
    "svg-title": (
        b"<body><svg><title>icon</title></svg><title>real title</title><p>x</p></body>", HTML, PAGE, (), None),
    "xhtml": (
        b"<?xml version='1.0' encoding='ISO-8859-1'?><html xmlns='http://www.w3.org/1999/xhtml'><head>"
        b"<title>X\xe9</title></head><body><p>caf\xe9</p></body></html>", "application/xhtml+xml", PAGE, (), None),
    "plain-text": (b"line one\r\n  line\ttwo  \n\n\xe2\x80\x8bzero\n", "text/plain", AUTO, (), None),
    "json": (b'{"b": [1, {"c": "x"}], "a": null}', "application/json", AUTO, (), None),
    "json-invalid": (b'{"a": 1,', "application/json", AUTO, (), None),
    "binary": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png", AUTO, (), None),
    "no-content-type-html": (b"  <!DOCTYPE html><p>sniffed</p>", None, PAGE, (), None),
    "empty": (b"", HTML, AUTO, (), None),
    "whitespace-only": (b"  \n\t ", HTML, PAGE, (), None),
    "unclosed": (b"<div><p>open <b>bold <i>italic<td>cell<li>item", HTML, PAGE, (), None),
    "huge-flat": (_flat(20_000), HTML, PAGE, (), None),
    "huge-flat-auto-capped": (_flat(20_000), HTML, AUTO, (), 50_000),
    "huge-flat-ignore": (_flat(3_000), HTML, PAGE, ("p:nth-child(3n)",), None),
    "huge-table": (_flat_table(5_000), HTML, PAGE, (), None),
    "max-text-cut": (_flat(2_000), HTML, PAGE, (), 1_000),
}


def _cases() -> dict[str, tuple]:
    cases = {}
    for path in REAL:
        name = f"{path.parent.name}-{path.stem}"
        for mode, (select, ignore, max_text) in MODES.items():
            cases[f"{name}/{mode}"] = (path.read_bytes(), "text/html", select, ignore, max_text)
    for name, case in EDGE.items():
        cases[f"edge-{name}/{case[2] if case[2] in (AUTO, PAGE) else 'select'}"] = case
    return cases


CASES = _cases()


def _kept(value):
    if isinstance(value, str) and len(value) > LONG:
        return {"length": len(value), "sha256": hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest(),
                "start": value[:500], "end": value[-500:]}
    if isinstance(value, tuple):
        return list(value)
    return value


def _record(body: bytes, content_type: str | None, select: str, ignore: tuple, max_text: int | None) -> dict:
    found = extract(body, content_type, URL, select=select, ignore=ignore, max_text=max_text)
    return {key: _kept(value) for key, value in dataclasses.asdict(found).items()}


def _golden_path(name: str) -> Path:
    return GOLDEN / f"{name.split('/')[0]}.json"


@pytest.fixture(scope="module")
def golden_files(request):
    """The golden files, read once (or written, under --update-golden, then read back)."""
    if request.config.getoption("--update-golden"):
        grouped: dict[Path, dict] = {}
        for name, case in CASES.items():
            grouped.setdefault(_golden_path(name), {})[name.split("/")[1]] = _record(*case)
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for path, records in grouped.items():
            path.write_text(json.dumps(_shared(records), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                            encoding="utf-8")
    return {}


#: Values at least this long in JSON are written once per file; later equal ones refer to it.
SHARED = 200


def _shared(records: dict[str, dict]) -> dict[str, dict]:
    """``records`` (mode -> record) with each big value met before (in mode order) as {"same_as": "mode.key"}."""
    seen: dict[str, str] = {}
    out = {}
    for mode in sorted(records, key=lambda m: (list(MODES).index(m) if m in MODES else -1, m)):
        out[mode] = {}
        for key, value in records[mode].items():
            serial = json.dumps(value, ensure_ascii=False, sort_keys=True)
            size = len(serial)
            if size >= SHARED and serial in seen:
                value = {"same_as": seen[serial]}
            elif size >= SHARED:
                seen[serial] = f"{mode}.{key}"
            out[mode][key] = value
    return out


def _expanded(records: dict[str, dict]) -> dict[str, dict]:
    """The records of a golden file with every {"same_as": ...} replaced by the value it names."""
    def resolve(value):
        if isinstance(value, dict) and set(value) == {"same_as"}:
            mode, key = value["same_as"].split(".", 1)
            return resolve(records[mode][key])
        return value

    return {mode: {key: resolve(value) for key, value in record.items()} for mode, record in records.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_extract_as_golden(name, golden_files):
    path = _golden_path(name)
    assert path.exists(), f"{path} is missing: run pytest {__file__} --update-golden with the code it pins"
    if path not in golden_files:
        golden_files[path] = _expanded(json.loads(path.read_text(encoding="utf-8")))
    expected = golden_files[path].get(name.split("/")[1])
    assert expected is not None, f"{path} has no {name!r}: run with --update-golden and review the diff"
    got = json.loads(json.dumps(_record(*CASES[name]), ensure_ascii=False))
    for key in expected:
        assert got[key] == expected[key], f"{name}: {key} differs from {path.name}"
    assert got == expected


def test_golden_files_all_used():
    """No golden file or mode without a case (a renamed page would keep passing on a stale file)."""
    wanted: dict[str, set[str]] = {}
    for name in CASES:
        wanted.setdefault(name.split("/")[0], set()).add(name.split("/")[1])
    files = {path.stem: set(json.loads(path.read_text(encoding="utf-8"))) for path in GOLDEN.glob("*.json")}
    assert files == wanted


def test_golden_texts_are_real():
    """The golden files hold text a reader would recognise, not empty records (a sanity check on the files)."""
    chinadaily = _expanded(json.loads((GOLDEN / "main-chinadaily_article.json").read_text(encoding="utf-8")))
    assert chinadaily["auto"]["main"] == "auto" and len(chinadaily["auto"]["text"]) > 500
    assert chinadaily["page"]["title"] and chinadaily["page"]["links"]
    edge = json.loads((GOLDEN / "edge-nested-tables.json").read_text(encoding="utf-8"))
    assert "inner 1 | inner 2" in edge["page"]["text"]
    flat = json.loads((GOLDEN / "edge-huge-flat.json").read_text(encoding="utf-8"))["page"]
    assert flat["text"]["length"] > LONG and flat["text"]["start"].startswith("Paragraph 0 of the flat page, link 0.")
