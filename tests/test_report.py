"""The HTML report: golden pages, structure, hostile text kept inert, page file names, the rendered diff,
screenshots."""

import re
import struct
import tempfile
import zlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.diff import diff_texts
from crawler.errors import ArchiveError
from crawler.report import (
    CONTEXT_CHARS,
    CONTEXT_LINES,
    CaptureView,
    ReportEvent,
    write_report,
)
from crawler.report import index as index_module
from crawler.report.index import SCRIPT, script_csp
from crawler.report.render import CSP, CSP_SCREENSHOTS
from crawler.report import sidebyside
from crawler.report.sidebyside import QUOTE_CHARS, REWRITTEN, paired_rows

from .factories import make_diff
from .helpers import assert_no_script_but_ours

GOLDEN = Path(__file__).parent / "golden"

UTC = timezone.utc
T0 = datetime(2024, 5, 1, 6, 0, 0, tzinfo=UTC)
T1 = datetime(2024, 5, 2, 6, 0, 0, tzinfo=UTC)

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_SVG = '"><svg onload=alert(1)>'
HOSTILE_URL = "javascript:alert(document.domain)"


def paragraphs(start, n):
    return "".join(
        f"Paragraph {i}: the committee met in closed session and reviewed the agenda items.\n"
        for i in range(start, start + n)
    )


def capture(id, url, *, at, status=200, chain=None, final_url=None, title="Press releases",
            error=None, record_type="response", sha="a" * 64, warc="lastseen-20240501-000001.warc.gz",
            offset=1234, tls=None, flags=()):
    no_response = status is None
    return CaptureView(
        id=id,
        url=url,
        final_url=None if no_response else (final_url or url),
        status=status,
        status_chain=chain if chain is not None else (() if no_response else (status,)),
        started=at,
        warc_file=None if no_response else warc,
        warc_offset=None if no_response else offset,
        warc_record_id=None if no_response else f"<urn:uuid:00000000-0000-4000-8000-{id:012d}>",
        record_type=None if no_response else record_type,
        payload_sha256=None if no_response else sha,
        title=None if no_response else title,
        error=error,
        tls_verified=None if tls is None else tls[0],
        tls_error=None if tls is None else tls[1],
        flags=flags,
    )


def event(target, verdict, *, url="https://ministry.example/press", tags=("gov",), reason=None,
          alert=False, summary="", current=None, compared=None, diff=None, old_text=None, new_text=None):
    return ReportEvent(
        target=target,
        url=url,
        tags=tuple(tags),
        verdict=verdict,
        reason=reason,
        alert=alert,
        summary=summary,
        current=current or capture(10, url, at=T1),
        compared=compared,
        diff=diff,
        old_text=old_text,
        new_text=new_text,
    )


def changed_diff():
    ops = (
        (0, paragraphs(0, 25)),
        (0, "Today "),
        (-1, "12 detainees"),
        (1, f"15 detainees {HOSTILE_SCRIPT}"),
        (0, " were released.\n" + paragraphs(25, 20)),
        (1, "\n"),
        (0, f"Contact: {HOSTILE_SVG} & <b>press</b>\n"),
        (-1, HOSTILE_IMG),
        (0, "\n" + paragraphs(45, 15)),
    )
    # The golden pages show this diff's summary: its counts are pinned to what they always showed.
    return make_diff(ops, insertions=4, deletions=3)


def sample_events():
    press = "https://ministry.example/press"
    old = "".join(t for op, t in changed_diff().ops if op <= 0)
    new = "".join(t for op, t in changed_diff().ops if op >= 0)
    return [
        event(
            "Ministry of Interior — press releases",
            "changed",
            tags=("gov", "detention"),
            alert=True,
            summary="4 insertions, 3 deletions",
            compared=capture(7, press, at=T0, sha="b" * 64, title=f"Press {HOSTILE_SVG}", tls=(True, None)),
            current=capture(12, press, at=T1, chain=(301, 200), final_url=HOSTILE_URL,
                            title=f"Press {HOSTILE_SCRIPT}", offset=98765,
                            tls=(False, "certificate <b>expired</b>"), flags=("tls-unverified", "truncated")),
            diff=changed_diff(),
            old_text=old,
            new_text=new,
        ),
        event(
            f"Detention list {HOSTILE_IMG}",
            "vanished",
            url="https://ngo.example/list?a=1&b=2",
            tags=("ngo",),
            reason="http-404",
            alert=True,
            summary="page gone (HTTP 404)",
            compared=capture(3, "https://ngo.example/list?a=1&b=2", at=T0, title="Detainees"),
            current=capture(13, "https://ngo.example/list?a=1&b=2", at=T1, status=404, title="Not Found"),
            old_text=f"Names of detainees:\nA. B.\nC. D. {HOSTILE_SCRIPT}\n",
            new_text="Not Found\n",
        ),
        event(
            "Ops blog",
            "unreachable",
            url="https://ops.example/",
            tags=(),
            reason="dns",
            summary="could not resolve ops.example",
            current=capture(14, "https://ops.example/", at=T1, status=None,
                            error="DNS lookup failed for ops.example"),
        ),
        event("Quiet page", "unchanged", url="https://quiet.example/", summary="no change",
              compared=capture(4, "https://quiet.example/", at=T0),
              current=capture(15, "https://quiet.example/", at=T1, record_type="revisit")),
        event("Fresh watch", "new", url="https://fresh.example/", summary="first capture",
              current=capture(16, "https://fresh.example/", at=T1)),
        event(
            "ministry of interior: press releases",
            "changed",
            summary="1 insertion, 1 deletion",
            compared=capture(8, press, at=T0),
            current=capture(17, press, at=T1),
            diff=make_diff(((0, "Line one\n"), (-1, "Line two\n"), (1, "Line 2\n")), unit="line", fallback=True),
        ),
        event("Soft page", "soft-404", url="https://soft.example/", reason="soft-404",
              summary="looks like an error page", current=capture(18, "https://soft.example/", at=T1)),
        event(
            "Back again",
            "restored",
            url="https://back.example/",
            summary="page is back",
            compared=capture(5, "https://back.example/", at=T0),
            current=capture(19, "https://back.example/", at=T1),
            diff=diff_texts("Same text.\n", "Same text.\n"),
        ),
    ]


def write_sample(out_dir):
    return write_report(
        out_dir,
        title="Weekly watch",
        run_id="2024-05-02T060000Z-7f3a",
        started=T1,
        finished=T1 + timedelta(minutes=3, seconds=20),
        events=sample_events(),
        generated=T1 + timedelta(minutes=4),
    )


def html_files(out_dir):
    return sorted(Path(out_dir).glob("*.html"))


# -- golden ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "golden_name, page",
    [("report_index.html", "index.html"), ("report_detail.html", "ministry-of-interior-press-releases.html")],
)
def test_golden(tmp_path, update_golden, golden_name, page):
    write_sample(tmp_path)
    produced = (tmp_path / page).read_bytes()
    golden = GOLDEN / golden_name
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(produced)
    assert golden.exists(), f"{golden} is missing: run pytest with --update-golden and review it"
    assert produced == golden.read_bytes(), (
        f"{page} differs from {golden}; if the change is intended, rerun with --update-golden and review the diff"
    )


# -- structure ------------------------------------------------------------------------------------


def test_writes_index_and_detail_pages(tmp_path):
    index = write_sample(tmp_path)
    assert index == tmp_path / "index.html"
    names = [p.name for p in html_files(tmp_path)]
    assert names == sorted([
        "index.html",
        "ministry-of-interior-press-releases.html",
        "detention-list-img-src-x-onerror-alert-1.html",
        "fresh-watch.html",  # the first capture's page
        "ministry-of-interior-press-releases-2.html",
        "back-again.html",
    ])
    assert not [p for p in tmp_path.iterdir() if p.suffix != ".html"], "temporary files left behind"


def test_other_verdict_with_a_diff_gets_a_page(tmp_path):
    ev = event("Noise", "unchanged", diff=diff_texts("a", "a b"))
    write_report(tmp_path, title="t", run_id=None, started=T1, finished=None, events=[ev], generated=T1)
    assert (tmp_path / "noise.html").exists()
    assert 'href="noise.html"' in (tmp_path / "index.html").read_text()


def test_index_counts_in_fixed_order_and_events_in_given_order(tmp_path):
    doc = lxml.html.parse(str(write_sample(tmp_path))).getroot()
    counts = [(li.text_content().strip()) for li in doc.cssselect("ul.counts li")]
    assert counts == ["2changed", "1vanished", "1restored", "1unreachable", "1new", "1unchanged", "1soft-404"]
    targets = [row.cssselect("td")[0].text.strip() for row in doc.cssselect("table.events tbody tr")]
    assert targets == [e.target for e in sample_events()]
    badge_classes = {b.text: b.get("class") for b in doc.cssselect("table.events .badge")}
    assert badge_classes["changed"] == "badge v-changed"
    assert badge_classes["soft-404"] == "badge v-other"


def test_index_heading_and_times(tmp_path):
    html = write_sample(tmp_path).read_text()
    assert "2024-05-02T060000Z-7f3a" in html
    assert "2024-05-02T06:00:00Z → 2024-05-02T06:03:20Z" in html
    assert "<code>2024-05-02T06:00:00Z</code>" in html


def test_times_are_utc_with_z(tmp_path):
    plus2 = timezone(timedelta(hours=2))
    ev = event("T", "new", current=capture(1, "https://x.example/", at=datetime(2024, 5, 1, 8, 30, tzinfo=plus2)))
    index = write_report(tmp_path, title="t", run_id="r", started=datetime(2024, 5, 1, 8, 0, tzinfo=plus2),
                         finished=None, events=[ev], generated=T1)
    html = index.read_text()
    assert "2024-05-01T06:30:00Z" in html
    assert "2024-05-01T06:00:00Z → not finished" in html


def test_detail_evidence_side_by_side(tmp_path):
    write_sample(tmp_path)
    doc = lxml.html.parse(str(tmp_path / "ministry-of-interior-press-releases.html")).getroot()
    rows = {
        tr.cssselect("th")[0].text_content(): [td.text_content() for td in tr.cssselect("td")]
        for tr in doc.cssselect("table.evidence tbody tr")
    }
    assert rows["Captured (UTC)"] == ["2024-05-01T06:00:00Z", "2024-05-02T06:00:00Z"]
    assert rows["HTTP status"] == ["200", "200"]
    assert rows["Status chain"] == ["200", "301 → 200"]
    assert rows["WARC offset"] == ["1234", "98765"]
    assert rows["WARC record ID"][1] == "<urn:uuid:00000000-0000-4000-8000-000000000012>"
    assert rows["Record type"] == ["response", "response"]
    assert rows["Payload SHA-256"] == ["b" * 64, "a" * 64]
    assert rows["Final URL"][1] == HOSTILE_URL
    assert rows["Page title"] == [f"Press {HOSTILE_SVG}", f"Press {HOSTILE_SCRIPT}"]
    assert rows["Error"] == ["—", "—"]


def test_detail_inline_diff(tmp_path):
    write_sample(tmp_path)
    doc = lxml.html.parse(str(tmp_path / "ministry-of-interior-press-releases.html")).getroot()
    shown = doc.cssselect("#inline > div.diff")[0]
    assert [e.text_content() for e in shown.cssselect("ins")] == [f"15 detainees {HOSTILE_SCRIPT}", "\n"]
    assert [e.text_content() for e in shown.cssselect("del")] == ["12 detainees", HOSTILE_IMG]
    assert shown.cssselect("ins")[1].get("class") == "nl"
    skips = [s.text_content() for s in shown.cssselect(".skip")]
    assert len(skips) == 3 and all(re.fullmatch(r"… [\d,]+ characters unchanged …", s) for s in skips)
    assert "4 insertions, 3 deletions" in doc.text_content()
    assert "took too long" not in doc.text_content()
    # the full text, uncollapsed, is one click away
    full = doc.cssselect("details div.diff")[0]
    assert not full.cssselect(".skip")
    old = "".join(t for op, t in changed_diff().ops if op <= 0)
    new = "".join(t for op, t in changed_diff().ops if op >= 0)
    assert _side(full, "del") == old
    assert _side(full, "ins") == new


def _side(diff_el, keep):
    """Rebuild one side of the diff from the rendered HTML (equal text + <keep> elements)."""
    drop = "ins" if keep == "del" else "del"
    parts = [diff_el.text or ""]
    for child in diff_el:
        if child.tag == keep:
            parts.append(child.text_content())
        parts.append(child.tail or "")
        assert child.tag in ("ins", "del", drop)
    return "".join(parts)


def test_collapsed_diff_keeps_context_around_changes(tmp_path):
    write_sample(tmp_path)
    doc = lxml.html.parse(str(tmp_path / "ministry-of-interior-press-releases.html")).getroot()
    shown = doc.cssselect("#inline > div.diff")[0].text_content()
    full = doc.cssselect("details div.diff")[0].text_content()
    assert len(shown) < len(full) / 2
    assert "Paragraph 0:" not in shown  # far from any change
    assert "Paragraph 24:" in shown  # context right before the first change
    assert "Paragraph 59:" not in shown


def test_small_diff_is_not_collapsed(tmp_path):
    write_sample(tmp_path)
    html = (tmp_path / "ministry-of-interior-press-releases-2.html").read_text()
    assert "<details>" not in html
    assert "characters unchanged" not in html


def test_fallback_note(tmp_path):
    write_sample(tmp_path)
    text = lxml.html.parse(str(tmp_path / "ministry-of-interior-press-releases-2.html")).getroot().text_content()
    assert "took too long" in text
    assert "line-level diff" in text


def test_restored_without_changes(tmp_path):
    write_sample(tmp_path)
    text = lxml.html.parse(str(tmp_path / "back-again.html")).getroot().text_content()
    assert "No textual changes" in text
    assert "Same text." in text


def test_vanished_shows_what_it_said(tmp_path):
    write_sample(tmp_path)
    doc = lxml.html.parse(str(tmp_path / "detention-list-img-src-x-onerror-alert-1.html")).getroot()
    texts = [d.text_content() for d in doc.cssselect("div.text")]
    assert texts == [f"Names of detainees:\nA. B.\nC. D. {HOSTILE_SCRIPT}\n", "Not Found\n"]
    assert "What it said" in doc.text_content()


def test_a_first_capture_has_a_page_with_its_evidence_and_its_text(tmp_path):
    said = f"Tender notice {HOSTILE_SCRIPT}\nThe city buys 2,000 cameras.\n"
    cap = capture(16, "https://fresh.example/", at=T1, title=f"Tenders {HOSTILE_SVG}", offset=4321)
    ev = event("Fresh watch", "new", url="https://fresh.example/", summary="first capture: Tenders", current=cap,
               new_text=said)
    index = write_report(tmp_path, title="t", run_id="r", started=T1, finished=T1, events=[ev], generated=T1)
    assert [a.get("href") for a in lxml.html.parse(str(index)).getroot().cssselect("tbody a")] == ["fresh-watch.html"]
    raw = (tmp_path / "fresh-watch.html").read_text()
    doc = lxml.html.document_fromstring(raw)
    assert [th.text_content() for th in doc.cssselect("table.evidence thead th")] == ["", "This capture"]
    rows = {tr.cssselect("th")[0].text_content(): [td.text_content() for td in tr.cssselect("td")]
            for tr in doc.cssselect("table.evidence tbody tr")}
    assert rows["Capture"] == ["16"] and rows["Captured (UTC)"] == ["2024-05-02T06:00:00Z"]
    assert rows["WARC record ID"] == ["<urn:uuid:00000000-0000-4000-8000-000000000016>"]
    assert rows["Payload SHA-256"] == ["a" * 64] and rows["Page title"] == [f"Tenders {HOSTILE_SVG}"]
    command = "warcio extract --payload lastseen-20240501-000001.warc.gz 4321"
    assert rows["Check it (warcio, in the archive folder)"] == [command]
    assert [d.text_content() for d in doc.cssselect("div.text")] == [said]  # the text as captured, whole
    assert "What it says" in [h.text_content() for h in doc.cssselect("h2")]
    assert "first capture: Tenders" in doc.cssselect("header")[0].text_content()
    assert "15 detainees" not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert assert_no_script_but_ours(raw) == 0 and csp_of(doc) == CSP


def test_a_first_capture_page_holds_at_most_max_report_page(tmp_path):
    long = "".join(f"line {i} of a long first capture\n" for i in range(2000))
    events = [event("Long", "new", new_text=long), event("Binary", "new", new_text=None)]
    write_report(tmp_path, title="t", run_id="r", started=T1, finished=T1, events=events, generated=T1,
                 max_page=1000)
    doc = lxml.html.parse(str(tmp_path / "long.html")).getroot()
    assert [d.text_content() for d in doc.cssselect("div.text")] == [long[:1000]]
    assert "only its start is shown" in doc.cssselect("p.note")[0].text_content()
    doc = lxml.html.parse(str(tmp_path / "binary.html")).getroot()
    assert not doc.cssselect("div.text") and "No text was loaded" in doc.text_content()


def test_unreachable_without_history_shows_error(tmp_path):
    html = write_sample(tmp_path).read_text()
    assert "DNS lookup failed for ops.example" in html


def test_empty_run(tmp_path):
    index = write_report(tmp_path, title="t", run_id=None, started=T1, finished=T1, events=[], generated=T1)
    doc = lxml.html.parse(str(index)).getroot()
    assert "No events in this run." in doc.text_content()


# -- safety ---------------------------------------------------------------------------------------


def test_every_page_parses_and_nothing_captured_becomes_markup(tmp_path):
    write_sample(tmp_path)
    for path in html_files(tmp_path):
        raw = path.read_text(encoding="utf-8")
        doc = lxml.html.document_fromstring(raw)
        assert doc.tag == "html"
        scripts = assert_no_script_but_ours(raw)  # the index's own script, allowed by its hash; nothing else
        assert scripts == (1 if path.name == "index.html" else 0), path
        for el in doc.iter():
            if not isinstance(el.tag, str):
                continue
            assert el.tag not in {"img", "svg", "iframe", "object", "embed", "link", "base", "form"}, path
            for name, value in el.attrib.items():
                assert not name.lower().startswith("on"), (path, el.tag, name)
                assert "javascript:" not in value.lower(), (path, el.tag, name)
        for a in doc.iter("a"):
            assert re.fullmatch(r"[a-z0-9-]+\.html", a.get("href")), (path, a.get("href"))
        # hostile text is there, as text, escaped in the source
        assert "<svg" not in raw.lower() and "onerror=alert" not in raw.replace("&lt;img src=x onerror=alert", "")
        csp = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
        strict = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        assert csp == [script_csp(strict) if path.name == "index.html" else strict]
        assert doc.xpath('//meta[@name="referrer"]/@content') == ["no-referrer"]
        assert not doc.xpath('//meta[@http-equiv="refresh"]')
    index = (tmp_path / "index.html").read_text()
    assert "Detention list &lt;img src=x onerror=alert(1)&gt;" in index
    assert "javascript:alert(document.domain)" in index  # shown as text only
    detail = (tmp_path / "ministry-of-interior-press-releases.html").read_text()
    assert "15 detainees &lt;script&gt;alert(1)&lt;/script&gt;</ins>" in detail
    assert "<del>&lt;img src=x onerror=alert(1)&gt;</del>" in detail
    assert "Press &#34;&gt;&lt;svg onload=alert(1)&gt;" in detail


def test_hostile_text_renders_as_text(tmp_path):
    write_sample(tmp_path)
    doc = lxml.html.parse(str(tmp_path / "ministry-of-interior-press-releases.html")).getroot()
    text = doc.text_content()
    for hostile in (HOSTILE_SCRIPT, HOSTILE_IMG, HOSTILE_SVG, HOSTILE_URL, "<b>press</b>"):
        assert hostile in text
    assert not doc.cssselect("main b")
    index_text = lxml.html.parse(str(tmp_path / "index.html")).getroot().text_content()
    assert f"Detention list {HOSTILE_IMG}" in index_text
    assert HOSTILE_URL in index_text


def test_hostile_names_in_title_element_and_every_field(tmp_path):
    nasty = f"</title>{HOSTILE_SCRIPT}{HOSTILE_SVG}"
    cap = CaptureView(id=1, url=HOSTILE_URL, final_url=f"{HOSTILE_URL}{HOSTILE_SVG}", status=200, status_chain=(200,),
                      started=T1, warc_file=nasty, warc_offset=0, warc_record_id=nasty, record_type=nasty,
                      payload_sha256=nasty, title=nasty, error=nasty)
    ev = ReportEvent(target=nasty, url=HOSTILE_URL, tags=(nasty,), verdict=nasty, reason=nasty, alert=True,
                     summary=nasty, current=cap, compared=cap, diff=None, old_text=nasty, new_text=nasty)
    gone = ReportEvent(target=nasty, url=HOSTILE_URL, tags=(nasty,), verdict="vanished", reason=nasty, alert=True,
                       summary=nasty, current=cap, compared=cap, diff=None, old_text=nasty, new_text=nasty)
    write_report(tmp_path, title=nasty, run_id=nasty, started=T1, finished=T1, events=[ev, gone], generated=T1)
    files = html_files(tmp_path)
    assert len(files) == 2  # index + the vanished event's page (the unknown verdict has no diff: no page)
    for path in files:
        raw = path.read_text()
        assert assert_no_script_but_ours(raw) == (path.name == "index.html") and "<svg" not in raw.lower()
        doc = lxml.html.document_fromstring(raw)
        assert doc.find(".//title").text.startswith("</title><script>")
        assert [el.text for el in doc.iter("script", "svg")] == ([SCRIPT] if path.name == "index.html" else [])


def test_control_characters_and_surrogates_do_not_break_the_page(tmp_path):
    ev = event("Ctl\x00name", "vanished", old_text="a\x00b\x1bc\ud800d\u0085e\tf\r\ng",
               compared=capture(1, "https://x.example/", at=T0, title="t\x07itle"))
    write_report(tmp_path, title="t", run_id="r", started=T1, finished=T1, events=[ev], generated=T1)
    raw = (tmp_path / "ctl-name.html").read_bytes().decode("utf-8")  # valid UTF-8
    doc = lxml.html.document_fromstring(raw)
    assert doc.cssselect("div.text")[0].text_content() == "a\ufffdb\ufffdc\ufffdd\ufffde\tf\ng"
    assert "\x00" not in raw and "\x07" not in raw


def test_terminal_injection_bidi_override_in_a_title_cannot_reorder_the_report(tmp_path):
    """#7 defect 2: bidi controls from a page (or a name) are shown as ``\\u202e`` text, so they
    reorder nothing after them; right-to-left text itself is kept as it is."""
    from crawler.formatting import BIDI_CONTROLS

    title = "Invoice \u202egnp.exe\u202c (\u2067\u05e9\u05dc\u05d5\u05dd\u2069) \u061c\u200e\u200f\u202a\u202b\u202d\u2066\u2068"
    ev = event("Watch \u202eRLO", "vanished", summary=f"gone: {title}", old_text=f"said: {title}\nمرحبا بالعالم",
               compared=capture(1, "https://x.example/", at=T0, title=title),
               current=capture(2, "https://x.example/", at=T1, status=404, title=title))
    write_report(tmp_path, title="t \u202e", run_id="r", started=T1, finished=T1, events=[ev], generated=T1)
    shown = ("Invoice \\u202egnp.exe\\u202c (\\u2067\u05e9\u05dc\u05d5\u05dd\\u2069) "
             "\\u061c\\u200e\\u200f\\u202a\\u202b\\u202d\\u2066\\u2068")
    for path in html_files(tmp_path):
        raw = path.read_text()
        assert not set(BIDI_CONTROLS) & set(raw), path.name  # not one bidi control left in the page
        assert "\\u202e" in raw
    [detail] = [p for p in html_files(tmp_path) if p.name != "index.html"]
    text = lxml.html.parse(str(detail)).getroot().text_content()
    assert shown in text  # the title reads in the order it was captured, with its controls visible
    assert "Watch \\u202eRLO" in text and "مرحبا بالعالم" in text  # right-to-left text is kept
    index = lxml.html.parse(str(tmp_path / "index.html")).getroot().text_content()
    assert f"gone: {shown}" in index and "Watch \\u202eRLO" in index


def test_unwritable_directory_is_an_archive_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ArchiveError, match="cannot write the report"):
        write_report(blocker / "report", title="t", run_id=None, started=T1, finished=None,
                     events=sample_events(), generated=T1)


def test_rewrite_replaces_files(tmp_path):
    write_sample(tmp_path)
    first = (tmp_path / "index.html").read_bytes()
    write_sample(tmp_path)
    assert (tmp_path / "index.html").read_bytes() == first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# -- page names -----------------------------------------------------------------------------------


def written_pages(out_dir, events):
    """Write a report of ``events``: the page each index row links to (None: no page), and the files written."""
    index = write_report(out_dir, title="t", run_id=None, started=T1, finished=None, events=events, generated=T1)
    doc = lxml.html.parse(str(index)).getroot()
    links = []
    for row in doc.cssselect("table.events tbody tr"):
        anchors = row.cssselect("a[href]")
        assert len(anchors) <= 1, lxml.html.tostring(row)
        links.append(anchors[0].get("href") if anchors else None)
    return links, {p.name for p in Path(out_dir).iterdir()}


@pytest.mark.parametrize(
    "name, slug",
    [
        ("Ministry / Press", "ministry-press"),
        ("../../etc/passwd", "etc-passwd"),
        ("CON", "con-page"),
        ("lpt1", "lpt1-page"),
        ("index", "index-page"),
        ("名前", "target"),
        ("", "target"),
        ("Café Müller", "cafe-muller"),
        ("a" * 200, "a" * 80),
        ("Unchanged 2", "unchanged-2-page"),  # not the name of a list page of quiet targets
        ("new-1", "new-1-page"),
    ],
)
def test_page_file_is_named_by_a_safe_slug_of_the_target(tmp_path, name, slug):
    links, files = written_pages(tmp_path, [event(name, "changed")])
    assert links == [f"{slug}.html"]
    assert files == {"index.html", f"{slug}.html"}


_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=15))
def test_page_names_are_unique_and_safe(names):
    events = [event(n, "changed") for n in names]
    with tempfile.TemporaryDirectory() as out:
        pages, files = written_pages(out, events)
    assert len(pages) == len(names)
    assert len(set(pages)) == len(pages)
    for page in pages:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*\.html", page)
        assert page != "index.html" and ".." not in page and "/" not in page
        assert page[: -len(".html")] not in _WINDOWS_RESERVED
        assert len(page) <= 120
    assert files == {"index.html", *pages}  # each event's page was written, under the name the index links to


def test_only_pages_for_detail_verdicts(tmp_path):
    events = [event("a", "new"), event("b", "unchanged"), event("c", "vanished"), event("d", "unreachable"),
              event("e", "restored"), event("f", "changed")]
    links, files = written_pages(tmp_path, events)
    assert links == ["a.html", None, "c.html", None, "e.html", "f.html"]  # a first capture has its capture page
    assert files == {"index.html", "a.html", "c.html", "e.html", "f.html"}


# -- diff segments --------------------------------------------------------------------------------
# The rendered diff of a detail page, read back from the HTML: the collapsed view (``#inline > div.diff``,
# long unchanged runs cut to CONTEXT_LINES lines or CONTEXT_CHARS characters each side of a change,
# whichever is shorter) and, when it collapsed anything, the
# full text one click away (``details div.diff``).

_ALPHABET = "ab \n"
_op_texts = st.one_of(
    st.text(alphabet=_ALPHABET, max_size=900),
    # long runs, so that the collapsed view has something to collapse
    st.builds(lambda piece, n: piece * n, st.text(alphabet=_ALPHABET, min_size=1, max_size=12), st.integers(1, 400)),
)
ops_strategy = st.lists(st.tuples(st.sampled_from([-1, 0, 1]), _op_texts), max_size=8)
_LONG_RUN = [(0, "a b\n" * 400), (1, "b"), (0, "a " * 600), (-1, "a\n"), (0, "b a " * 300)]


def _segments(div) -> list[tuple[str, str]]:
    """(kind, text) pieces of a rendered ``div.diff``: ``equal``, ``ins``, ``del`` or ``skip``."""
    out = [("equal", div.text)] if div.text else []
    for child in div:
        if child.tag == "span":
            assert child.get("class") == "skip"
            out.append(("skip", child.text_content()))
        else:
            assert child.tag in ("ins", "del"), child.tag
            out.append((child.tag, child.text_content()))
        if child.tail:
            out.append(("equal", child.tail))
    return out


def rendered_diff(ops):
    """The collapsed view and the full text (None when nothing was collapsed) of a report of ``ops``."""
    with tempfile.TemporaryDirectory() as out:
        ev = event("Diff", "changed", diff=make_diff(ops))
        write_report(Path(out), title="t", run_id=None, started=T1, finished=None, events=[ev], generated=T1)
        doc = lxml.html.parse(str(Path(out) / "diff.html")).getroot()
    [shown] = doc.cssselect("#inline > div.diff")
    full = doc.cssselect("details div.diff")
    assert len(full) <= 1
    return _segments(shown), (_segments(full[0]) if full else None)


@settings(max_examples=200, deadline=None)
@given(ops_strategy)
@example(_LONG_RUN)
def test_full_diff_rebuilds_both_texts(ops):
    shown, full = rendered_diff(ops)
    segments = shown if full is None else full
    assert all(kind != "skip" for kind, _ in segments)
    old = "".join(text for kind, text in segments if kind in ("equal", "del"))
    new = "".join(text for kind, text in segments if kind in ("equal", "ins"))
    assert old == "".join(t for op, t in ops if op <= 0)
    assert new == "".join(t for op, t in ops if op >= 0)


@settings(max_examples=200, deadline=None)
@given(ops_strategy)
@example(_LONG_RUN)
def test_collapsed_diff_keeps_every_change_and_accounts_for_hidden_text(ops):
    segments, full = rendered_diff(ops)
    for kind, sign in (("ins", 1), ("del", -1)):
        shown = "".join(text for k, text in segments if k == kind)
        assert shown == "".join(t for op, t in ops if op == sign)
    hidden = sum(int(text.split()[1].replace(",", "")) for kind, text in segments if kind == "skip")
    shown = sum(len(text) for kind, text in segments if kind == "equal")
    assert shown + hidden == sum(len(t) for op, t in ops if op == 0)
    assert (full is not None) == any(kind == "skip" for kind, _ in segments)


def test_long_unchanged_runs_collapse_to_the_context_around_changes():
    segments, full = rendered_diff(_LONG_RUN)
    assert full is not None and [kind for kind, _ in segments].count("skip") == 3
    kept = [text for kind, text in segments if kind == "equal"]
    # the head before the first change and the tail after the last are cut; a run between changes keeps both
    # sides: CONTEXT_LINES lines or CONTEXT_CHARS characters (to the next space), whichever is shorter
    assert len(kept) == 4, kept
    assert kept[0] == "a b\n" * CONTEXT_LINES  # short lines: two of them
    assert all(CONTEXT_CHARS <= len(t) <= CONTEXT_CHARS + 40 and "\n" not in t for t in kept[1:]), kept  # one long line


def test_context_is_a_line_or_two_around_each_change():
    """Around a change in the middle of a line: the rest of that line and one more, each side; after a change
    that ends its line, two whole lines."""
    before = "".join(f"Line {i} of the notice.\n" for i in range(40))
    after = "".join(f"Line {i} of the notice.\n" for i in range(40, 80))
    ops = [(0, before + "The fine is "), (-1, "200"), (1, "950"), (0, " euros.\n" + after), (1, "Signed.\n"),
           (0, after)]
    segments, full = rendered_diff(ops)
    assert full is not None
    kept = [text for kind, text in segments if kind == "equal"]
    assert kept == [
        "Line 39 of the notice.\nThe fine is ",  # the changed line's start and one line before it
        " euros.\nLine 40 of the notice.\n",  # its end and one line after
        "Line 78 of the notice.\nLine 79 of the notice.\n",  # two whole lines before an inserted line...
        "Line 40 of the notice.\nLine 41 of the notice.\n",  # ... and after it
    ]
    assert [kind for kind, _ in segments].count("skip") == 3


def test_a_run_of_inserted_words_is_one_element_in_utf8(tmp_path):
    """Consecutive inserted (or deleted) words are one <ins> (<del>), written as UTF-8 text, not character
    references, so a phrase can be found in the page source."""
    cyrillic = "укључујући тројицу новинара"
    cjk = "包括三名记者"
    old = "Данас је пуштено 12 притвореника.\n今天释放了十二人。\nThe rest stays.\n"
    new = f"Данас је пуштено 15 притвореника, {cyrillic}.\n今天释放了十二人，{cjk}。\nThe rest stays.\n"
    ev = event("Unicode", "changed", diff=diff_texts(old, new))
    write_report(tmp_path, title="t", run_id=None, started=T1, finished=None, events=[ev], generated=T1)
    raw = (tmp_path / "unicode.html").read_bytes()
    assert f"<ins>15</ins> притвореника<ins>, {cyrillic}</ins>".encode() in raw
    assert f"<ins>，{cjk}</ins>".encode() in raw
    assert b"&#" not in raw.replace(b"&#34;", b"")  # no numeric references (but the quote autoescape writes)
    doc = lxml.html.document_fromstring(raw.decode())
    assert [e.text_content() for e in doc.cssselect("main div.diff ins")] == ["15", f", {cyrillic}", f"，{cjk}"]


# -- side by side and changes only -----------------------------------------------------------------
# The other two views of a change, read back from the page: rows of ``#side table.sbs`` as (kind, old, new)
# with deleted words as [-…-] and inserted ones as {+…+} (None: no line on that side; ↵ a line break marked),
# and the changes of ``#changes`` as (heading, [(label, quote)]).


def _marked(el) -> str:
    out = [el.text or ""]
    for child in el:
        text = ("↵" if child.get("class") == "nl" else "") + child.text_content()
        out.append({"del": f"[-{text}-]", "ins": f"{{+{text}+}}"}.get(child.tag, text))
        out.append(child.tail or "")
    return "".join(out)


def views_of(diff, max_page=None):
    """The page of a change: its side-by-side rows, its changes only, and the page (lxml)."""
    with tempfile.TemporaryDirectory() as out:
        write_report(Path(out), title="t", run_id=None, started=T1, finished=None,
                     events=[event("Views", "changed", diff=diff)], generated=T1, max_page=max_page)
        doc = lxml.html.parse(str(Path(out) / "views.html")).getroot()
    rows = []
    for tr in doc.cssselect("#side table.sbs tbody tr"):
        kind, cells = tr.get("class").removeprefix("row-"), tr.cssselect("td")
        if kind == "skip":
            rows.append((kind, cells[0].text_content()))
        else:
            rows.append((kind, *(None if td.get("class") == "none" else _marked(td) for td in cells)))
    changes = [(li.cssselect("h3")[0].text_content(),
                [(dt.text_content(), _marked(dd)) for dt, dd in zip(li.cssselect("dt"), li.cssselect("dd"))])
               for li in doc.cssselect("#changes ol.changes-only > li")]
    return rows, changes, doc


MOVED = "This paragraph is long enough to count as a paragraph that moved."
CLAUSES = "".join(f"Clause {i} stays as it was.\n" for i in range(3))
OLD_NOTICE = f"{MOVED}\nThe fine is 200 euros.\n{CLAUSES}Obsolete rule removed.\nClause 9 stays.\nClosing words.\n"
NEW_NOTICE = f"The fine is 950 euros.\n{CLAUSES}Clause 9 stays.\nFresh provision added.\nClosing words.\n{MOVED}\n"


def test_side_by_side_pairs_old_and_new_paragraphs():
    rows, _, _ = views_of(diff_texts(OLD_NOTICE, NEW_NOTICE))
    clause = [("equal", f"Clause {i} stays as it was.", f"Clause {i} stays as it was.") for i in range(3)]
    assert rows == [
        ("moved-from", f"⇣ moved from here, unchanged: {MOVED}", None),
        ("changed", "The fine is [-200-] euros.", "The fine is {+950+} euros."),
        *clause,
        ("deleted", "[-Obsolete rule removed.-]", None),
        ("equal", "Clause 9 stays.", "Clause 9 stays."),  # the word diff replaced it; the same line faces itself
        ("inserted", None, "{+Fresh provision added+}."),
        ("equal", "Closing words.", "Closing words."),
        ("moved-to", None, f"⇡ moved here, unchanged: {MOVED}"),
    ]


def test_side_by_side_keeps_a_split_paragraph_in_one_row():
    rows, changes, _ = views_of(diff_texts("First sentence. Second sentence.\nEnd.\n",
                                           "First sentence.\nSecond sentence.\nEnd.\n"))
    assert rows == [("changed", "First sentence.[- -]Second sentence.", "First sentence.{+↵\n+}Second sentence."),
                    ("equal", "End.", "End.")]
    assert changes == [("Change 1 of 1", [("Before", "First sentence.[- -]Second sentence."),
                                          ("After", "First sentence.{+↵\n+}Second sentence.")])]


def test_side_by_side_collapses_long_unchanged_runs():
    lines = [f"Unchanged paragraph {i}." for i in range(60)]
    old = "\n".join(lines[:30] + ["The vote was postponed."] + lines[30:]) + "\n"
    new = "\n".join(lines[:30] + ["The vote was held."] + lines[30:]) + "\n"
    rows, _, _ = views_of(diff_texts(old, new))
    hidden = sum(len(line) + 1 for line in lines[:28])
    assert rows == [
        ("skip", f"… 28 unchanged lines ({hidden:,} characters) …"),
        *[("equal", line, line) for line in lines[28:30]],
        ("changed", "The vote was [-postponed-].", "The vote was {+held+}."),
        *[("equal", line, line) for line in lines[30:32]],
        ("skip", f"… 28 unchanged lines ({sum(len(line) + 1 for line in lines[32:]):,} characters) …"),
    ]


def test_changes_only_numbers_each_change_and_quotes_about_a_line_around_it():
    long_before = "The committee, having reviewed the submissions of all parties over three sessions, decided that"
    long_after = "the matter would be referred to the ministry for a final opinion within thirty days of this notice."
    old = f"{long_before} the tender stands, and {long_after}\nStill here.\n{CLAUSES}Gone paragraph.\n{CLAUSES}"
    new = f"{long_before} the tender is cancelled, and {long_after}\nStill here.\n{CLAUSES}{CLAUSES}New one.\n"
    _, changes, doc = views_of(diff_texts(old, new))
    assert [heading for heading, _ in changes] == ["Change 1 of 3", "Change 2 of 3", "Change 3 of 3"]
    [(before, old_quote), (after, new_quote)] = changes[0][1]
    assert (before, after) == ("Before", "After")
    # about a line (QUOTE_CHARS) of unchanged words each side, cut at a word; what is left out is "…"
    kept_before = "reviewed the submissions of all parties over three sessions, decided that the tender "
    kept_after = ", and the matter would be referred to the ministry for a final opinion within thirty "
    assert old_quote == f"…{kept_before}[-stands-]{kept_after}…"
    assert new_quote == f"…{kept_before}{{+is cancelled+}}{kept_after}…"
    assert QUOTE_CHARS <= len(kept_before) <= QUOTE_CHARS + 10 and QUOTE_CHARS <= len(kept_after) <= QUOTE_CHARS + 10
    assert changes[1][1] == [("Deleted", "[-Gone paragraph.-]")]
    assert changes[2][1] == [("Inserted", "{+New one.+}")]
    assert doc.cssselect("label[for=view-changes]")[0].text_content() == "Changes only (3)"


@settings(max_examples=200, deadline=None)
@given(ops_strategy)
@example(_LONG_RUN)
@example([(0, "a\n"), (-2, "moved paragraph\n"), (0, "b"), (1, "\n"), (2, "\nmoved paragraph")])
def test_side_by_side_rows_hold_every_line_of_both_texts_in_order(ops):
    rows = paired_rows(ops)
    for side, kinds in (("old", (-2, -1, 0)), ("new", (0, 1, 2))):
        text = "".join(t for op, t in ops if op in kinds)
        cells = ["".join(piece.text for piece in getattr(row, side)) for row in rows if getattr(row, side) is not None]
        assert "\n".join(cells) + ("\n" if text.endswith("\n") else "") == text
    for row in rows:
        assert (row.old is None, row.new is None) in ((False, False), (row.kind in ("inserted", "moved-to"), False),
                                                      (False, row.kind in ("deleted", "moved-from")))
        if row.kind == "equal":
            assert [p.text for p in row.old] == [p.text for p in row.new]


_RUN_OPS = st.lists(st.tuples(st.sampled_from([-2, -1, 0, 0, 0, 1, 2]), st.text(alphabet="ab \n-", max_size=120)),
                   max_size=12)


@settings(max_examples=300, deadline=None)
@given(_RUN_OPS)
@example([(0, "\n\n a \n a a a \n\n a a a a \n")])          # a run's last whole line, then nothing
@example([(0, "\n\na\n\n\na\n"), (-2, "a")])                  # ... then a line on one side only
@example([(0, "x\n" + "a b\n" * 30 + "-\n\n" + "c\n" * 30 + "y"), (-1, " z"), (1, " w\n"), (0, "a\n" * 20)])
def test_rows_made_directly_inside_unchanged_runs_are_the_paired_rows(ops):
    """#17: a change page's view makes the whole lines deep inside long unchanged runs rows directly; they are
    the rows pairing every line gives."""
    assert sidebyside._rows(ops) == paired_rows(ops)


def test_side_by_side_and_changes_only_are_bounded_like_the_inline_view():
    old = "".join(f"Line {i} of the register, entry unchanged.\n" for i in range(3000))
    new = old.replace("unchanged", "CHANGED")
    rows, changes, doc = views_of(diff_texts(old, new), max_page=40_000)
    notes = [n.text_content() for n in doc.cssselect("#side p.note, #changes p.note")]
    omitted_rows = int(notes[0].split()[0].replace(",", ""))
    omitted_changes = int(notes[1].split()[0].replace(",", ""))
    for note in notes:
        assert note.endswith("more changed paragraphs are not shown: the change is too large for one page "
                             "(settings.max_report_page).")
    [(heading, quotes)] = changes  # every line changed: one change, cut short
    assert heading == "Change 1 of 1" and len(quotes) // 2 + omitted_changes == 3000
    assert len(rows) + omitted_rows == 3000 and omitted_rows > 2000
    for view in ("#side", "#changes"):
        assert sum(len(el.text_content()) for el in doc.cssselect(f"{view} td, {view} dd")) <= 40_000 // 4


def test_views_work_without_script_and_default_to_inline():
    _, _, doc = views_of(diff_texts(OLD_NOTICE, NEW_NOTICE))
    radios = doc.cssselect("div.views > input[type=radio]")
    assert [(r.get("id"), r.get("name"), r.get("checked") is not None) for r in radios] == [
        ("view-inline", "view", True), ("view-side", "view", False), ("view-changes", "view", False)]
    assert [(label.get("for"), label.text_content()) for label in doc.cssselect(".view-tabs label")] == [
        ("view-inline", "Inline"), ("view-side", "Side by side"), ("view-changes", "Changes only (4)")]
    assert [v.get("id") for v in doc.cssselect("div.views > div.view")] == ["inline", "side", "changes"]
    css = doc.cssselect("style")[0].text
    assert "#view-inline:checked ~ .view:not(#inline)" in css and "#view-side:checked ~ .view:not(#side)" in css
    # nothing changed: the text only, no views to choose from
    _, _, same = views_of(diff_texts("Same text.\n", "Same text.\n"))
    assert not same.cssselect("input, .view-tabs, #side, #changes") and same.cssselect("#inline > div.diff")


def _rewritten_note(ops):
    _, _, doc = views_of(make_diff(ops))
    notes = [p.text_content() for p in doc.cssselect("main p.rewritten")]
    assert len(notes) <= 1
    if notes:  # stated before the diff
        assert doc.xpath("//p[contains(@class, 'rewritten')]/following::div[@class='views']")
    return notes[0] if notes else None


@pytest.mark.parametrize("percent", [92, int(REWRITTEN * 100), 100])
def test_a_rewritten_page_says_how_much_of_its_text_is_new(percent):
    # the new text: 100 - percent characters kept ("k"), percent inserted ("n"), spaces aside
    kept = " ".join("k" * (100 - percent))
    inserted = " ".join(["n" * 4] * (percent // 4)) + "n" * (percent % 4)
    ops = [(0, kept + "\n"), (-1, "the old words of the page\n"), (1, inserted)]
    assert _rewritten_note(ops).startswith(f"Rewritten: {percent} % of the text is new (")


def test_a_page_mostly_kept_is_not_called_rewritten():
    below = int(REWRITTEN * 100) - 1
    assert _rewritten_note([(0, "k" * (100 - below) + "\n"), (1, "n" * below)]) is None
    # a paragraph that moved is not new text
    assert _rewritten_note([(0, "k" * 10), (1, "n" * 5), (2, "\n" + "m" * 85)]) is None


# -- screenshots ----------------------------------------------------------------------------------
# Browser captures' full-page screenshots: PNG files beside the pages, thumbnails linking to them.


def make_png(width: int = 4, height: int = 3, rgb=(200, 40, 40)) -> bytes:
    """A real PNG (8-bit RGB), built with zlib and struct: one colour, or ``rgb(y)`` for row ``y``."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    colour = rgb if callable(rgb) else (lambda _y: rgb)
    rows = b"".join(b"\x00" + bytes(colour(y)) * width for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


BEFORE_PNG = make_png(6, 9, (200, 40, 40))
AFTER_PNG = make_png(6, 12, (40, 160, 60))
SHOT_HREF = re.compile(r"screenshots/[a-z0-9][a-z0-9-]*-[0-9]+\.png")


def shot_capture(id, at, **overrides):
    """A browser capture with a screenshot record."""
    cap = capture(id, "https://case.example/", at=at)
    return replace(cap, **{"screenshot_record_id": f"<urn:uuid:5c000000-0000-4000-8000-{id:012d}>", **overrides})


def shots_event(target="Case study", verdict="changed", *, before=BEFORE_PNG, after=AFTER_PNG, current=None,
                compared=None, diff="default", **kw):
    ev = event(target, verdict, url="https://case.example/", current=current or shot_capture(12, T1),
               compared=compared or shot_capture(7, T0),
               diff=diff_texts("It was so.", "It is so.") if diff == "default" else diff, **kw)
    return replace(ev, screenshot=after, compared_screenshot=before)


def write_events(out_dir, events):
    return write_report(out_dir, title="t", run_id="r", started=T0, finished=T1, events=events, generated=T1)


def csp_of(doc):
    [csp] = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    return csp


def figures(doc):
    return doc.cssselect("main div.shots figure.shot")


def test_screenshots_are_written_with_their_exact_bytes_and_shown_before_and_after(tmp_path):
    write_events(tmp_path, [shots_event()])
    assert (tmp_path / "screenshots" / "case-study-7.png").read_bytes() == BEFORE_PNG
    assert (tmp_path / "screenshots" / "case-study-12.png").read_bytes() == AFTER_PNG
    assert {p.name for p in (tmp_path / "screenshots").iterdir()} == {"case-study-7.png", "case-study-12.png"}
    doc = lxml.html.parse(str(tmp_path / "case-study.html")).getroot()
    before, after = figures(doc)
    for fig, src, size in ((before, "screenshots/case-study-7.png", ("6", "9")),
                           (after, "screenshots/case-study-12.png", ("6", "12"))):
        [img] = fig.cssselect("img")
        assert img.get("src") == src  # relative: the report folder can be moved or copied whole
        assert img.getparent().tag == "a" and img.getparent().get("href") == src  # the thumbnail opens the image
        assert (img.get("width"), img.get("height")) == size
    before_caption = before.cssselect("figcaption")[0].text_content()
    after_caption = after.cssselect("figcaption")[0].text_content()
    assert before_caption.startswith("Before: last good capture")
    assert after_caption.startswith("After: this capture")
    for caption, at, cid in ((before_caption, "2024-05-01T06:00:00Z", 7), (after_caption, "2024-05-02T06:00:00Z", 12)):
        assert at in caption and f"capture {cid}" in caption
        assert f"<urn:uuid:5c000000-0000-4000-8000-{cid:012d}>" in caption  # the screenshot's WARC record
    assert "Screenshots" in [h.text_content() for h in doc.cssselect("h2")]
    for a in doc.iter("a"):
        assert re.fullmatch(r"[a-z0-9-]+\.html", a.get("href")) or SHOT_HREF.fullmatch(a.get("href"))
    # images from the report folder are allowed on this page only; still no script, nothing remote
    assert csp_of(doc) == CSP_SCREENSHOTS
    assert "script-src" not in CSP_SCREENSHOTS and "default-src 'none'" in CSP_SCREENSHOTS
    assert not re.search(r"https?:|\*", CSP_SCREENSHOTS)
    index = lxml.html.parse(str(tmp_path / "index.html")).getroot()
    assert csp_of(index) == script_csp(CSP) and not index.cssselect("img")
    assert not [p for p in tmp_path.rglob(".*")], "temporary files left behind"


def test_vanished_page_shows_what_it_looked_like(tmp_path):
    gone = shots_event("Gone", "vanished", after=None, diff=None,
                       current=replace(capture(13, "https://case.example/", at=T1, status=404),
                                       screenshot_missing="this capture has no screenshot record"))
    error_page = shots_event("Gone too", "vanished", diff=None)  # the browser did screenshot its error page
    write_events(tmp_path, [gone, error_page])
    doc = lxml.html.parse(str(tmp_path / "gone.html")).getroot()
    [fig] = figures(doc)
    assert fig.cssselect("img")[0].get("src") == "screenshots/gone-7.png"
    assert fig.cssselect("figcaption")[0].text_content().startswith("Last good capture")
    assert "What it looked like" in [h.text_content() for h in doc.cssselect("h2")]
    assert "not available" not in doc.text_content()  # the error page needs no screenshot
    assert (tmp_path / "screenshots" / "gone-7.png").read_bytes() == BEFORE_PNG
    assert not (tmp_path / "screenshots" / "gone-13.png").exists()
    doc = lxml.html.parse(str(tmp_path / "gone-too.html")).getroot()
    captions = [f.cssselect("figcaption")[0].text_content() for f in figures(doc)]
    assert [c.split(" · ")[0] for c in captions] == ["Last good capture", "This capture"]


def test_a_missing_screenshot_says_why(tmp_path):
    why = "the WARC file warcs/lastseen-20240501-000001.warc.gz is missing"
    one = shots_event("One side", before=None, compared=shot_capture(7, T0, screenshot_missing=why))
    none = shots_event("No side", before=None, after=None, compared=shot_capture(8, T0, screenshot_missing=why),
                       current=shot_capture(9, T1, screenshot_missing="the report was written without the archive's "
                                                                      "WARC files"))
    write_events(tmp_path, [one, none])
    doc = lxml.html.parse(str(tmp_path / "one-side.html")).getroot()
    before, after = figures(doc)
    assert not before.cssselect("img") and not before.cssselect("a")
    assert before.cssselect("p.none")[0].text_content() == f"screenshot not available: {why}"
    assert "<urn:uuid:5c000000-0000-4000-8000-000000000007>" in before.text_content()  # which record is missing
    assert after.cssselect("img")[0].get("src") == "screenshots/one-side-12.png"
    doc = lxml.html.parse(str(tmp_path / "no-side.html")).getroot()
    assert [f.cssselect("p.none")[0].text_content() for f in figures(doc)] == [
        f"screenshot not available: {why}",
        "screenshot not available: the report was written without the archive's WARC files",
    ]
    assert not doc.cssselect("img") and csp_of(doc) == CSP  # no image on the page: the strict policy
    assert {p.name for p in (tmp_path / "screenshots").iterdir()} == {"one-side-12.png"}


def test_one_screenshot_when_the_other_capture_has_none(tmp_path):
    first = shots_event("Restored", "restored", before=None, compared=capture(7, "https://case.example/", at=T0))
    write_events(tmp_path, [first])
    doc = lxml.html.parse(str(tmp_path / "restored.html")).getroot()
    before, after = figures(doc)
    assert before.cssselect("p.none")[0].text_content() == "screenshot not available: none was loaded for this capture"
    assert after.cssselect("img")


def test_hostile_captions_and_names_stay_text(tmp_path):
    nasty = f"</figcaption>{HOSTILE_SCRIPT}{HOSTILE_SVG}"
    ev = shots_event(f"../../CON {HOSTILE_IMG}", current=shot_capture(12, T1, screenshot_record_id=nasty),
                     compared=shot_capture(7, T0, screenshot_record_id=nasty))
    missing = shots_event("Gone", before=None, compared=shot_capture(8, T0, screenshot_missing=nasty))
    write_events(tmp_path, [ev, missing])
    pages = [p for p in html_files(tmp_path) if p.name != "index.html"]
    assert len(pages) == 2
    for page in pages:
        raw = page.read_text()
        assert "<script" not in raw.lower() and "<svg" not in raw.lower()
        doc = lxml.html.document_fromstring(raw)
        assert not [el for el in doc.iter() if isinstance(el.tag, str) and el.tag in ("script", "svg", "iframe")]
        for img in doc.iter("img"):
            assert SHOT_HREF.fullmatch(img.get("src")) and set(img.attrib) == {"src", "alt", "width", "height"}
        assert nasty in "".join(f.text_content() for f in figures(doc))
    assert {p.name for p in (tmp_path / "screenshots").iterdir()} == {
        "con-img-src-x-onerror-alert-1-7.png", "con-img-src-x-onerror-alert-1-12.png", "gone-12.png",
    }


def test_index_keeps_no_image_bytes(tmp_path, monkeypatch):
    kept = []
    real_copy = index_module.index_copy   # what the index's spool keeps of each event (#17: not a list)
    monkeypatch.setattr(index_module, "index_copy", lambda event: kept.append(real_copy(event)) or kept[-1])
    write_events(tmp_path, (shots_event(f"Case {i}") for i in range(3)))  # a generator, as report_events is
    assert len(kept) == 3
    assert all(e.screenshot is None and e.compared_screenshot is None and e.diff is None for e in kept)
    # what the index's rows show stays; the capture's other details (its screenshot's record, WARC
    # record, the compared capture) are on its page, not kept for the index
    assert kept[0].current.status is not None and kept[0].current.started is not None
    assert all(e.current.screenshot_record_id is None and e.compared is None for e in kept)
    assert len(list((tmp_path / "screenshots").iterdir())) == 6


def test_screenshots_only_for_events_with_a_page_and_each_written_once(tmp_path):
    quiet = shots_event("Quiet", "unchanged", diff=None)
    # a --since report: two events of one target compared with the same last good capture
    first, second = shots_event("Case"), shots_event("Case", current=shot_capture(13, T1), after=make_png(2, 2))
    write_events(tmp_path, [quiet, first, second])
    assert {p.name for p in (tmp_path / "screenshots").iterdir()} == {"case-7.png", "case-12.png", "case-13.png"}
    assert (tmp_path / "screenshots" / "case-13.png").read_bytes() == make_png(2, 2)
    second_page = lxml.html.parse(str(tmp_path / "case-2.html")).getroot()
    assert [img.get("src") for img in second_page.iter("img")] == ["screenshots/case-7.png", "screenshots/case-13.png"]


def test_a_js_shell_page_suggests_fetch_browser(tmp_path):
    at = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
    shell = CaptureView(1, "http://127.0.0.1/app", "http://127.0.0.1/app", 200, (200,), at, None, None, None,
                        "response", None, "App", None, flags=("js-shell",))
    plain = CaptureView(2, "http://127.0.0.1/p", "http://127.0.0.1/p", 200, (200,), at, None, None, None,
                        "response", None, "P", None)
    events = [ReportEvent("app", shell.url, (), "new", None, False, "first capture", shell, None, None, None, None),
              ReportEvent("plain", plain.url, (), "new", None, False, "first capture", plain, None, None, None, None)]
    index = write_report(tmp_path, title="t", run_id="r", started=at, finished=at, events=events, generated=at)
    rows = index.read_text().split("<tr")
    assert sum("<code>fetch: browser</code>" in row for row in rows) == 1
    assert "fetch: browser" in next(row for row in rows if ">app<" in row)


def test_non_ascii_urls_are_shown_decoded_and_the_archived_form_named(tmp_path):
    archived = "https://xn--80aswg.xn--90ais/%D0%B2%D0%B5%D1%81%D1%82%D0%B8?id=%2F1"  # сайт.бел/вести?id=%2F1
    shown = "https://сайт.бел/вести?id=%2F1"
    current = capture(2, archived, at=T1, final_url=archived)
    ev = event("Вести", "changed", url=archived, current=current, compared=capture(1, archived, at=T0),
               diff=make_diff(((0, "a "), (-1, "b"), (1, "c"))))
    write_events(tmp_path, [ev])
    index = lxml.html.parse(str(tmp_path / "index.html")).getroot()
    codes = [c.text_content() for c in index.cssselect("table.events code")]
    assert shown in codes and archived not in codes  # target URL and final URL, as a person reads them
    page = next(p for p in tmp_path.glob("*.html") if p.name != "index.html")
    doc = lxml.html.parse(str(page)).getroot()
    assert shown in doc.cssselect("p.meta code")[0].text_content()
    rows = {tr.cssselect("th")[0].text_content(): tr for tr in doc.cssselect("table.evidence tbody tr")}
    assert rows["Requested URL"].cssselect("td")[1].text_content() == f"{shown} (archived as {archived})"
    # %2F stays encoded: decoded, it would read as another path
    assert "id=%2F1" in rows["Final URL"].cssselect("td")[1].text_content()
