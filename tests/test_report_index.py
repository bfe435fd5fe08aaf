"""The report's index (crawler/report/index.py): its one script, allowed by its hash; what the rows carry
for it; the reason and the deciding signal in words; keywords; the quiet targets of a large run listed
on pages of their own. Opened in Chromium (filter, sort, scripts off) in test_report_browser.py."""

import base64
import functools
import hashlib
import json
import re
from pathlib import Path

import lxml.html
import pytest

from crawler.report import render as render_module
from crawler.report import write_report
from crawler.report.index import IndexSpool
from crawler.verdicts import order as verdict_order

from .helpers import assert_no_script_but_ours
from .test_report import (
    HOSTILE_SCRIPT,
    HOSTILE_SVG,
    T0,
    T1,
    capture,
    event,
    write_sample,
)

REPORT_JS = Path(__file__).resolve().parent.parent / "crawler" / "templates" / "report.js"
STRICT = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def parse(path):
    return lxml.html.parse(str(path)).getroot()


def write(out_dir, events, **kw):
    return write_report(out_dir, title="t", run_id="r", started=T0, finished=T1, events=events, generated=T1, **kw)


def rows_of(doc):
    return doc.cssselect("table.events tbody tr")


def target_of(tr):
    return tr.cssselect("td")[0].text.strip()


# -- the script and the CSP -------------------------------------------------------------------------


def test_the_index_runs_report_js_allowed_by_its_hash_and_nothing_else(tmp_path):
    write_sample(tmp_path)
    raw = (tmp_path / "index.html").read_bytes()
    [inline] = re.findall(rb"<script>(.*?)</script>", raw, flags=re.DOTALL)
    assert inline == REPORT_JS.read_bytes()  # the package's file, byte for byte
    digest = base64.b64encode(hashlib.sha256(inline).digest()).decode()
    [csp] = parse(tmp_path / "index.html").xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert csp == f"{STRICT}; script-src 'sha256-{digest}'"
    assert csp.count("'unsafe-inline'") == 1 and "style-src 'unsafe-inline'" in csp  # styles only
    assert assert_no_script_but_ours(raw.decode()) == 1
    # evidence pages: the strict policy, no script
    for page in tmp_path.glob("*.html"):
        if page.name != "index.html":
            assert assert_no_script_but_ours(page.read_text()) == 0
            assert parse(page).xpath('//meta[@http-equiv="Content-Security-Policy"]/@content') == [STRICT]


def test_the_script_builds_no_markup_from_text_and_loads_nothing():
    """What the page's policy allows, read: no markup from strings, no eval, no network, no storage."""
    js = REPORT_JS.read_text()
    assert js.isascii() and "</script" not in js.lower() and "<!--" not in js
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function(",
                      "setTimeout", "setInterval", "fetch(", "XMLHttpRequest", "import(", "localStorage",
                      "sessionStorage", "cookie", "location", "href", "src"):
        assert forbidden not in js, forbidden


def test_with_scripts_off_every_row_is_shown_and_no_control_exists(tmp_path):
    write_sample(tmp_path)
    doc = parse(tmp_path / "index.html")
    assert not doc.cssselect("input, select, button, textarea, form")  # the script makes them
    assert len(rows_of(doc)) == 8 and not doc.cssselect("[hidden]")


def test_rows_carry_what_the_filter_reads_escaped(tmp_path):
    tags = ("gov", f'Škola "{HOSTILE_SCRIPT}', "a, b")
    events = [event("One", "changed", tags=tags, alert=True, current=capture(1, "https://one.example/", at=T1)),
              event("Two", "unchanged", tags=(), current=capture(2, "https://two.example/", at=T0)),
              event(f"Three {HOSTILE_SVG}", "weird", tags=("gov",))]
    write(tmp_path, events)
    raw = (tmp_path / "index.html").read_text()
    assert HOSTILE_SCRIPT not in raw
    one, two, three = rows_of(parse(tmp_path / "index.html"))
    assert json.loads(one.get("data-tags")) == list(tags)
    assert json.loads(two.get("data-tags")) == []
    assert [r.get("data-verdict") for r in (one, two, three)] == ["changed", "unchanged", "weird"]
    assert [r.get("data-rank") for r in (one, two, three)] == [str(verdict_order(v)[0])
                                                               for v in ("changed", "unchanged", "weird")]
    assert [r.get("data-alert") for r in (one, two, three)] == ["1", None, None]
    assert [r.get("data-captured") for r in (one, two, three)] == ["2024-05-02T06:00:00Z", "2024-05-01T06:00:00Z",
                                                                   "2024-05-02T06:00:00Z"]
    assert [target_of(r) for r in (one, two, three)] == ["One", "Two", f"Three {HOSTILE_SVG}"]


# -- reason and deciding signal ---------------------------------------------------------------------


@pytest.mark.parametrize("verdict, reason, signals, said", [
    ("vanished", "soft-404", {"title_says_not_found": "Page not found", "not_found_language": "en",
                              "similarity_to_last_good": 0.1}, "title says “Page not found”"),
    ("vanished", "soft-404", {"title_says_not_found": f"Stranica {HOSTILE_SCRIPT}"},
     f"title says “Stranica {HOSTILE_SCRIPT}”"),
    ("vanished", "soft-404", {"similar_to_error_page": 0.96, "similar_to_home_page": 0.2},
     "96% alike to the host's page for unknown paths"),
    ("vanished", "soft-404", {"similar_to_error_page": 0.1, "similar_to_home_page": 0.93},
     "93% alike to the site's home page"),
    ("vanished", "redirected", {"redirect_looks_like": "login", "similarity_to_last_good": 0.04},
     "redirected to a login page; keeps 4% of the text"),
    ("vanished", "redirected", {}, "redirected to an unrelated page"),
    ("vanished", "emptied", {"text_ratio": 0.08, "text_length": 90, "last_good_length": 1100},
     "its text shrank to 8% of the last good capture's"),
    ("vanished", "http-404", None, "the server answers 404 Not Found"),
    ("vanished", "http-410", None, "the server answers 410 Gone"),
    ("moved", None, {"similarity_to_last_good": 0.934, "redirect_to": "https://new.example/"},
     "keeps 93% of the text at the new URL"),
    ("blocked", "challenge", {"challenge": "cloudflare", "challenge_marks": ["title"]}, "Cloudflare challenge page"),
    ("blocked", "challenge", {"challenge": "captcha"}, "a captcha (bot-check) page"),
    ("blocked", "http-401", None, "the page asks for credentials (401)"),
    ("blocked", "http-403", {"failures": 1, "confirm_after": 3}, "the server refuses: 403 Forbidden"),
    ("blocked", "http-429", {"retry_after": "3600"}, "too many requests (429); Retry-After: 3600"),
    ("delisted", None, {"delisted_from": "press", "similarity_to_last_good": 1.0},
     "no longer listed on “press”; its page still answers"),
    ("delisted", None, {"delisted_from": f"press {HOSTILE_SCRIPT}"},
     f"no longer listed on “press {HOSTILE_SCRIPT}”; its page still answers"),
    ("new", "listed", {"listed_on": "notices"}, "newly listed on “notices”"),
    # nothing to say: another verdict, or evidence that is not what it should be
    ("delisted", None, {"delisted_from": ["press"]}, None),
    ("new", None, {"listed_on": "notices"}, None),
    ("changed", None, {"similarity_to_last_good": 0.5}, None),
    ("unreachable", "dns", None, None),
    ("vanished", "soft-404", {"similar_to_error_page": "lots", "similar_to_home_page": [1]}, None),
    ("moved", None, {"similarity_to_last_good": 7}, None),
])
def test_the_reason_says_what_decided_it_in_words(tmp_path, verdict, reason, signals, said):
    from dataclasses import replace

    ev = replace(event("Target", verdict, reason=reason), signals=signals)
    write(tmp_path, [ev])
    [row] = rows_of(parse(tmp_path / "index.html"))
    cell = row.cssselect('td[data-label="Reason"]')[0]
    assert [c.text_content() for c in cell.cssselect("code")] == ([reason] if reason else [])
    assert [s.text_content() for s in cell.cssselect(".signal")] == ([said] if said else [])


def test_keywords_hit_are_small_tags(tmp_path):
    from dataclasses import replace

    significance = {"score": 0.2, "parts": {"keywords_appeared": ["Huawei", f"<b>{HOSTILE_SCRIPT}"],
                                            "keywords_disappeared": ["kamer*"], "scripts": None}}
    ev = replace(event("Target", "changed", summary="1 insertion"), significance=significance)
    quiet = replace(event("Other", "changed"), significance={"score": 0.9, "parts": {"keywords_appeared": []}})
    write(tmp_path, [ev, quiet])
    first, second = rows_of(parse(tmp_path / "index.html"))
    tags = first.cssselect('td[data-label="Summary"] .tag.kw')
    assert [t.text_content() for t in tags] == ["+ Huawei", f"+ <b>{HOSTILE_SCRIPT}", "− kamer*"]
    assert [t.get("title") for t in tags] == ["keyword appeared", "keyword appeared", "keyword disappeared"]
    assert not second.cssselect(".tag.kw")


# -- a large run: quiet targets listed apart --------------------------------------------------------


def _mixed_run():
    """15 events, interleaved: 8 unchanged (the last alerted), 4 new, 2 changed, a vanished."""
    kinds = ["unchanged", "new", "changed", "unchanged", "unchanged", "new", "vanished", "unchanged", "new",
             "unchanged", "unchanged", "changed", "new", "unchanged", "unchanged"]
    events = []
    for i, verdict in enumerate(kinds):
        alert = verdict in ("changed", "vanished") or i == 14
        events.append(event(f"T{i:02d}", verdict, alert=alert, url=f"https://t{i}.example/",
                            current=capture(100 + i, f"https://t{i}.example/", at=T1)))
    return events


def test_quiet_targets_of_a_large_run_are_listed_on_pages_of_their_own(tmp_path):
    events = _mixed_run()
    write(tmp_path, events, page_rows=3)
    files = {p.name for p in tmp_path.glob("*.html")}
    lists = {"unchanged-1.html", "unchanged-2.html", "unchanged-3.html", "new-1.html", "new-2.html"}
    assert lists <= files
    assert not {f for f in files if re.fullmatch(r"(unchanged|new)-\d+\.html", f)} - lists
    index = parse(tmp_path / "index.html")
    # the index lists in full what needs attention (alerted, or a verdict other than unchanged and new)
    assert [target_of(r) for r in rows_of(index)] == ["T02", "T06", "T11", "T14"]
    counts = {li.cssselect(".badge")[0].text: li for li in index.cssselect("ul.counts li")}
    assert counts["unchanged"].cssselect(".n")[0].text == "8"  # every target is counted
    assert [a.get("href") for a in counts["unchanged"].cssselect("a")] == ["unchanged-1.html"]
    assert [a.get("href") for a in counts["new"].cssselect("a")] == ["new-1.html"]
    assert not counts["changed"].cssselect("a")
    listed = [a.get("href") for a in index.cssselect("section.lists a")]
    assert listed == ["unchanged-1.html", "unchanged-2.html", "unchanged-3.html", "new-1.html", "new-2.html"]
    assert "7 unchanged and 4 new targets" in index.cssselect("section.lists")[0].text_content()
    assert "15 targets" in index.cssselect("p.meta")[0].text_content()
    seen = [target_of(r) for r in rows_of(index)]
    expected = {"unchanged": ["T00", "T03", "T04", "T07", "T09", "T10", "T13"], "new": ["T01", "T05", "T08", "T12"]}
    for verdict, names in expected.items():
        pages = [names[i:i + 3] for i in range(0, len(names), 3)]
        for number, chunk in enumerate(pages, 1):
            path = tmp_path / f"{verdict}-{number}.html"
            doc = parse(path)
            assert [target_of(r) for r in rows_of(doc)] == chunk  # run order, page_rows a page
            seen += chunk
            first = (number - 1) * 3 + 1
            meta = doc.cssselect("p.meta")[0].text_content()
            assert f"{verdict} targets {first}–{first + len(chunk) - 1} of {len(names)}, page {number} of {len(pages)}" \
                in " ".join(meta.split())
            assert doc.cssselect("p.nav a")[0].get("href") == "index.html"
            for pager in doc.cssselect("nav.pager"):
                assert [a.get("href") for a in pager.cssselect("a")] == [
                    f"{verdict}-{n}.html" for n in range(1, len(pages) + 1) if n != number]
                assert pager.cssselect("[aria-current=page]")[0].text == str(number)
            assert assert_no_script_but_ours(path.read_text()) == 1  # the filter on every list page
            if verdict == "new":  # first captures link to their capture pages
                assert [r.cssselect("a")[0].get("href") for r in rows_of(doc)] == [f"{n.lower()}.html" for n in chunk]
    assert sorted(seen) == sorted(e.target for e in events)  # every target once


def test_index_pages_spooled_to_a_file_are_the_same_bytes(tmp_path, monkeypatch):
    # #17: a large report's index rows wait in a temporary file (past 4,096 of them), read back twice: the index
    # and its list pages are byte for byte those of rows held in memory, here with 2 rows held.
    write(tmp_path / "held", _mixed_run(), page_rows=3)
    monkeypatch.setattr(render_module, "IndexSpool", functools.partial(IndexSpool, held=2))
    write(tmp_path / "spooled", _mixed_run(), page_rows=3)
    held = {p.name: p.read_bytes() for p in (tmp_path / "held").glob("*.html")}
    spooled = {p.name: p.read_bytes() for p in (tmp_path / "spooled").glob("*.html")}
    assert len(held) == 13 and held == spooled   # the index, 5 list pages, 3 evidence and 4 capture pages


def test_a_run_with_few_quiet_targets_lists_every_target_on_the_index(tmp_path):
    events = _mixed_run()[:9]  # 4 unchanged, 3 new: 7 quiet
    write(tmp_path, events, page_rows=7)
    assert not list(tmp_path.glob("unchanged-*.html")) and not list(tmp_path.glob("new-*.html"))
    index = parse(tmp_path / "index.html")
    assert [target_of(r) for r in rows_of(index)] == [e.target for e in events]
    assert not index.cssselect("section.lists") and not index.cssselect("ul.counts a")


def test_a_first_run_of_only_new_targets(tmp_path):
    events = [event(f"N{i}", "new", current=capture(i + 1, f"https://n{i}.example/", at=T1)) for i in range(5)]
    write(tmp_path, events, page_rows=2)
    index = parse(tmp_path / "index.html")
    assert not index.cssselect("table.events") and "No events" not in index.text_content()
    assert [a.get("href") for a in index.cssselect("section.lists a")] == ["new-1.html", "new-2.html", "new-3.html"]
    assert assert_no_script_but_ours((tmp_path / "index.html").read_text()) == 0  # no table: nothing to filter
    assert [target_of(r) for r in rows_of(parse(tmp_path / "new-3.html"))] == ["N4"]
    assert {f"n{i}.html" for i in range(5)} <= {p.name for p in tmp_path.glob("*.html")}  # capture pages
