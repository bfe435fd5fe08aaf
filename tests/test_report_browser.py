"""Open a report full of hostile captured text in real headless Chromium, one with screenshots, and an
index to filter and sort (scripts on), or to read with scripts off.

Does not skip when no Chromium is found: it fails with find_chromium's message
saying how to install one.
"""

import subprocess
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from crawler.diff import diff_texts
from crawler.fetch.browser import CHROMIUM_ARGS
from crawler.report import CaptureView, ReportEvent, write_report

from .factories import make_diff
from .test_report import capture, event, make_png

T0 = datetime(2024, 5, 1, 6, 0, tzinfo=timezone.utc)
T1 = datetime(2024, 5, 2, 6, 0, tzinfo=timezone.utc)

PWN = "window.__pwned=1;document.title='PW'+'NED'"  # 'PWNED' only appears if it ran
HOSTILE = [
    f"<script>{PWN}</script>",
    f'<img src=x onerror="{PWN}">',
    f'"><svg onload="{PWN}">',
    f"</div></ins><script>{PWN}</script>",
    f"<iframe srcdoc=\"<script>parent.{PWN}</script>\"></iframe>",
    f"<meta http-equiv=refresh content=\"0;url=javascript:{PWN}\">",
]
HOSTILE_TEXT = "\n".join(HOSTILE)
JS_URL = f"javascript:{PWN}"


def _capture(id, at, title):
    return CaptureView(id=id, url=JS_URL, final_url=JS_URL, status=200, status_chain=(200,), started=at,
                       warc_file=f"<script>{PWN}</script>.warc.gz", warc_offset=0,
                       warc_record_id=f"<urn:uuid:{id}>", record_type="response",
                       payload_sha256="0" * 64, title=title, error=None)


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    ops = (
        (0, "Before.\n" + HOSTILE_TEXT + "\n"),
        (-1, "twelve detainees " + HOSTILE[0]),
        (1, "fifteen detainees " + HOSTILE[1]),
        (0, "\nAfter " + HOSTILE[2] + "\n" + "padding text. " * 100),
        (1, HOSTILE[3]),
    )
    events = [
        ReportEvent(target=f"Press {HOSTILE[2]}", url=JS_URL, tags=(HOSTILE[0],), verdict="changed",
                    reason=HOSTILE[1], alert=True, summary=HOSTILE[4],
                    current=_capture(2, T1, HOSTILE[5]), compared=_capture(1, T0, HOSTILE[0]),
                    diff=make_diff(ops), old_text=None, new_text=None),
        ReportEvent(target="Gone page", url="https://gone.example/", tags=(), verdict="vanished",
                    reason="http-410", alert=True, summary="gone",
                    current=_capture(4, T1, "Gone"), compared=_capture(3, T0, HOSTILE[3]),
                    diff=None, old_text=HOSTILE_TEXT, new_text=HOSTILE_TEXT),
        ReportEvent(target="First look", url="https://first.example/", tags=(HOSTILE[4],), verdict="new",
                    reason=None, alert=False, summary=f"first capture: {HOSTILE[5]}",
                    current=_capture(5, T1, HOSTILE[5]), compared=None,
                    diff=None, old_text=None, new_text=HOSTILE_TEXT),
    ]
    write_report(out, title=f"Run {HOSTILE[0]}", run_id="r1", started=T0, finished=T1,
                 events=events, generated=T1)
    return out


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=list(CHROMIUM_ARGS))
        try:
            yield b
        finally:
            b.close()


def _open(browser, path, requests=None, *, js=True):
    # JS on: prove the report gives it nothing to run but its own script (the index's filter)
    page = browser.new_page(java_script_enabled=js)
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda e: messages.append(str(e)))
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    # Let every task the load queued (a wrongly scheduled handler, a meta refresh) run before looking:
    # resolves after two more turns of the page's task queue, with no fixed wait. (With scripts off the
    # page's timers never fire, and nothing of the page can run anyway.)
    if js:
        page.evaluate("() => new Promise(done => setTimeout(() => setTimeout(done, 0), 0))")
    return page, messages


def _assert_inert(page, messages, expected_title_start, images=0, scripts=0):
    assert page.evaluate("() => window.__pwned") is None
    assert "PWNED" not in page.title()
    assert page.title().startswith(expected_title_start)
    assert page.evaluate("() => document.scripts.length") == scripts  # the index's own, nothing else
    assert page.evaluate(
        "() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
        ".filter(a => a.name.toLowerCase().startsWith('on')).length"
    ) == 0
    assert page.locator("iframe, svg, object, embed").count() == 0
    assert page.locator("img").count() == images  # the report's own screenshots, nothing else
    assert page.url.startswith("file://")
    # nothing was even attempted and blocked by the CSP
    assert not [m for m in messages if "Content Security Policy" in m or "PWNED" in m], messages


def test_detail_page_is_inert_and_shows_changes(browser, report_dir, tmp_path):
    [detail] = report_dir.glob("press-svg-onload-*.html")
    page, messages = _open(browser, detail)
    try:
        _assert_inert(page, messages, "Press \"><svg")
        ins = page.locator("#inline > div.diff ins").first
        dele = page.locator("#inline > div.diff del").first
        assert ins.is_visible() and dele.is_visible()
        assert ins.inner_text() == "fifteen detainees " + HOSTILE[1]
        assert dele.inner_text() == "twelve detainees " + HOSTILE[0]
        # highlighted: green-ish insertions, red-ish deletions, struck through
        ins_bg = ins.evaluate("e => getComputedStyle(e).backgroundColor")
        del_style = dele.evaluate("e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).textDecorationLine]")
        r, g, b = (int(x) for x in ins_bg[ins_bg.index("(") + 1 : ins_bg.index(")")].split(",")[:3])
        assert g > r and g > b
        r, g, b = (int(x) for x in del_style[0][del_style[0].index("(") + 1 : del_style[0].index(")")].split(",")[:3])
        assert r > g and r > b
        assert "line-through" in del_style[1]
        assert page.get_by_text("characters unchanged").first.is_visible()
        # the hostile title of the capture is visible as text
        assert page.locator("table.evidence").inner_text().count("<script>") >= 1
        shot = tmp_path / "detail.png"
        page.screenshot(path=str(shot), full_page=True)
        data = shot.read_bytes()
        assert len(data) > 1000 and data.startswith(b"\x89PNG\r\n\x1a\n")
    finally:
        page.close()


def test_index_vanished_and_first_capture_pages_are_inert(browser, report_dir):
    for name, title_start in (("index.html", "Run <script>"), ("gone-page.html", "Gone page"),
                              ("first-look.html", "First look")):
        page, messages = _open(browser, report_dir / name)
        try:
            _assert_inert(page, messages, title_start, scripts=1 if name == "index.html" else 0)
            assert "<iframe srcdoc=" in page.locator("main").inner_text()
            if name == "index.html":  # its controls, built from hostile tags, stay text
                page.locator(".filters select").nth(1).select_option(label=HOSTILE[0])
                page.locator(".filters input[type=search]").fill(HOSTILE[2])
                assert page.evaluate("() => window.__pwned") is None and "PWNED" not in page.title()
        finally:
            page.close()


def test_first_capture_page_shows_its_evidence_and_text(browser, report_dir):
    page, messages = _open(browser, report_dir / "first-look.html")
    try:
        _assert_inert(page, messages, "First look")
        box = page.locator("table.evidence").first
        assert box.is_visible() and "This capture" in box.inner_text()
        assert page.locator("div.text").inner_text() == HOSTILE_TEXT
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert box.is_visible() and page.locator("div.text").is_visible()
    finally:
        page.close()


# -- screenshots -----------------------------------------------------------------------------------


def _page_png(width, height, accent):
    """A picture of a page: an ``accent`` header bar, then grey lines of "text" on white."""
    def row(y):
        if y < 60:
            return accent
        return (200, 200, 200) if (y - 60) % 36 < 14 and y < height - 40 else (255, 255, 255)
    return make_png(width, height, row)


BEFORE_SHOT = _page_png(400, 1400, (190, 30, 45))
AFTER_SHOT = _page_png(400, 900, (20, 120, 60))


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("shots")
    hostile_id = f"<urn:uuid:{HOSTILE[0]}{HOSTILE[1]}>"
    current = replace(_capture(12, T1, "After"), screenshot_record_id=hostile_id)
    compared = replace(_capture(7, T0, "Before"), screenshot_record_id=f"<urn:uuid:7>{HOSTILE[2]}")
    event = ReportEvent(target="Case study", url=JS_URL, tags=(), verdict="changed", reason=None, alert=True,
                        summary=HOSTILE[4], current=current, compared=compared,
                        diff=make_diff(((0, "Case "), (-1, "closed"), (1, f"reopened {HOSTILE[0]}"))),
                        old_text=None, new_text=None, screenshot=AFTER_SHOT, compared_screenshot=BEFORE_SHOT)
    write_report(out, title="Run", run_id="r1", started=T0, finished=T1, events=[event], generated=T1)
    return out


def _boxes(page):
    return [page.locator("div.shots figure.shot img").nth(i).bounding_box() for i in range(2)]


def test_screenshots_load_from_disk_side_by_side_and_stack_on_a_phone(browser, shots_dir, tmp_path):
    requests = []
    page, messages = _open(browser, shots_dir / "case-study.html", requests)
    try:
        _assert_inert(page, messages, "Case study", images=2)
        loaded = page.evaluate(
            "() => [...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth, i.naturalHeight])"
        )
        assert loaded == [["screenshots/case-study-7.png", True, 400, 1400],
                          ["screenshots/case-study-12.png", True, 400, 900]]
        # nothing was fetched from outside the report folder (and nothing at all but the page and its images)
        folder = shots_dir.as_uri() + "/"
        assert sorted(requests) == sorted([folder + "case-study.html", folder + "screenshots/case-study-7.png",
                                           folder + "screenshots/case-study-12.png"])
        # thumbnails: scaled to their column, cut at 480 px, the top of the page shown
        before, after = _boxes(page)
        assert abs(before["y"] - after["y"]) < 1 and after["x"] >= before["x"] + before["width"]  # side by side
        assert before["height"] == after["height"] == 480 and before["width"] > 400  # both taller than 480 px
        assert page.locator("img").first.evaluate("e => getComputedStyle(e).objectPosition").startswith("50% 0%")
        page.screenshot(path=str(tmp_path / "desktop.png"), full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        before, after = _boxes(page)
        assert after["y"] >= before["y"] + before["height"]  # stacked
        for box in (before, after):
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        shot = tmp_path / "phone.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

        # a thumbnail opens the full image, from disk
        page.locator("div.shots figure.shot a.thumb").first.click()
        page.wait_for_load_state("load")
        assert page.url == folder + "screenshots/case-study-7.png"
        assert page.evaluate("() => document.images[0].naturalHeight") == 1400
        assert all(url.startswith(folder) for url in requests), requests
    finally:
        page.close()


def test_readable_on_a_phone(browser, report_dir):
    """At 390 px no page scrolls sideways, and a tag or a verdict badge is never wrapped letter by
    letter (each stays on one line)."""
    pages = sorted(report_dir.glob("*.html"))
    assert len(pages) == 4  # the index, a change page, a vanished page, a first capture's page
    for path in pages:
        _readable_at_390(browser, path)


def _readable_at_390(browser, path):
    page, _ = _open(browser, path)
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, path.name
        boxes = page.evaluate(
            "() => [...document.querySelectorAll('.tag, .badge')].map(e => [e.textContent,"
            " e.getBoundingClientRect().width, e.getBoundingClientRect().right,"
            " parseFloat(getComputedStyle(e).fontSize)])")
        assert boxes, "no tags or badges to check"
        for text, width, right, font in boxes:
            # squeezed into a narrow column, a tag wraps a letter a line: its box is narrower than a few letters
            assert width >= min(len(text), 8) * 0.45 * font, f"{text!r} is squeezed at 390 px ({width:.0f}px wide)"
            assert right <= 390, f"{text!r} runs off the screen at 390 px"
    finally:
        page.close()


# -- the index's filter and sort ----------------------------------------------------------------------
# report.js, the index's own script (allowed by its hash): with scripts on it filters and sorts the rows;
# with scripts off every row and count is there and no control is shown.

INDEX_EVENTS = [  # (target, verdict, tags, alert): names and tags chosen so each filter below has one answer
    ("Ministry press", "changed", ("gov",), True),
    ("Detention list", "vanished", ("ngo",), True),
    ("Archive of decrees", "unchanged", ("gov",), False),
    ("Camera tenders", "changed", ("procurement", "gov"), True),
    ("Blog of the mayor", "unchanged", (), False),
    ("Zoning board", "new", ("gov",), False),
    ("Court rulings", "blocked", ("ngo", "courts"), False),
    ("Budget 2026", "changed", ("procurement",), False),
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("index")
    events = []
    for i, (name, verdict, tags, alert) in enumerate(INDEX_EVENTS):
        at = datetime(2024, 5, 2, 6, i, tzinfo=timezone.utc)  # captured a minute apart, in list order
        events.append(event(name, verdict, tags=tags, alert=alert, url=f"https://site{i}.example/page",
                            reason={"vanished": "http-404", "blocked": "http-403"}.get(verdict),
                            summary=f"summary {i}", current=capture(i + 1, f"https://site{i}.example/page", at=at)))
    write_report(out, title="Watch", run_id="r1", started=T0, finished=T1, events=events, generated=T1)
    return out


def _visible_targets(page):
    return page.evaluate(
        "() => [...document.querySelectorAll('table.events tbody tr')].filter(r => r.offsetParent !== null)"
        ".map(r => r.cells[0].firstChild.textContent.trim())")


def _names(pred):
    return [name for name, verdict, tags, alert in INDEX_EVENTS if pred(name, verdict, tags, alert)]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_filter_hides_rows_and_the_columns_sort(browser, index_dir, tmp_path, width):
    page, messages = _open(browser, index_dir / "index.html")
    try:
        page.set_viewport_size({"width": width, "height": 900})
        _assert_inert(page, messages, "Watch", scripts=1)
        everyone = [e[0] for e in INDEX_EVENTS]
        assert _visible_targets(page) == everyone
        shown = page.locator(".filters .shown")
        assert shown.inner_text() == f"showing {len(everyone)} of {len(everyone)}"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width  # controls included
        search = page.locator(".filters input[type=search]")
        verdict, tag = page.locator(".filters select").nth(0), page.locator(".filters select").nth(1)
        assert search.is_visible() and verdict.is_visible() and tag.is_visible()
        # the menus list what the rows hold: verdicts in the registry's order, tags sorted
        assert verdict.locator("option").all_inner_texts() == ["every verdict", "changed", "vanished", "blocked",
                                                                "new", "unchanged"]
        assert tag.locator("option").all_inner_texts() == ["every tag", "courts", "gov", "ngo", "procurement"]

        search.fill("TENDERS")  # any case; matches the name, the URL, the summary and the tags
        assert _visible_targets(page) == ["Camera tenders"] and shown.inner_text() == "showing 1 of 8"
        search.fill("site6.example")
        assert _visible_targets(page) == ["Court rulings"]
        search.fill("summary 7")
        assert _visible_targets(page) == ["Budget 2026"]
        search.fill("procurement")
        assert _visible_targets(page) == _names(lambda n, v, t, a: "procurement" in t)
        search.fill("nothing like this")
        assert _visible_targets(page) == [] and page.locator(".none-match").is_visible()
        search.fill("")
        verdict.select_option("changed")
        assert _visible_targets(page) == _names(lambda n, v, t, a: v == "changed")
        tag.select_option("gov")
        assert _visible_targets(page) == _names(lambda n, v, t, a: v == "changed" and "gov" in t)
        page.locator(".filters input[type=checkbox]").check()
        verdict.select_option("")
        assert _visible_targets(page) == _names(lambda n, v, t, a: a and "gov" in t)
        page.locator(".filters input[type=checkbox]").uncheck()
        tag.select_option("")
        assert _visible_targets(page) == everyone
        page.screenshot(path=str(tmp_path / f"filtered-{width}.png"), full_page=True)

        if width >= 1280:  # buttons in the column headings
            assert page.locator("thead th button").all_inner_texts() == ["Target", "Verdict", "Captured (UTC)"]
            page.locator("thead th button", has_text="Target").click()
            assert _visible_targets(page) == sorted(everyone, key=str.lower)
            page.locator("thead th button", has_text="Target").click()
            assert _visible_targets(page) == sorted(everyone, key=str.lower, reverse=True)
            page.locator("thead th button", has_text="Captured").click()  # newest first
            assert _visible_targets(page) == everyone[::-1]
            page.locator("thead th button", has_text="Verdict").click()
        else:  # a phone: the table is cards, its headings hidden; the Sort menu does the same
            assert not page.locator("thead th button").first.is_visible()
            sort = page.locator(".filters select").nth(2)
            assert sort.is_visible()
            sort.select_option("target")
            assert _visible_targets(page) == sorted(everyone, key=str.lower)
            sort.select_option("captured")
            assert _visible_targets(page) == everyone[::-1]
            sort.select_option("verdict")
        order = ["changed", "vanished", "blocked", "new", "unchanged"]
        assert _visible_targets(page) == [n for v in order for n in _names(lambda n, vv, t, a, v=v: vv == v)]
        verdict.select_option("unchanged")  # sorting and filtering together
        assert _visible_targets(page) == _names(lambda n, v, t, a: v == "unchanged")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        shot = tmp_path / f"sorted-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert not messages, messages  # no error, nothing refused by the policy
    finally:
        page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_with_scripts_off_every_row_and_count_is_there_and_no_control(browser, index_dir, tmp_path, width):
    page, messages = _open(browser, index_dir / "index.html", js=False)
    try:
        page.set_viewport_size({"width": width, "height": 900})
        assert _visible_targets(page) == [e[0] for e in INDEX_EVENTS]
        assert page.locator("table.events tbody tr").count() == len(INDEX_EVENTS)
        counts = page.locator("ul.counts li").all_inner_texts()
        assert [" ".join(c.split()) for c in counts] == ["3 changed", "1 vanished", "1 blocked", "1 new",
                                                         "2 unchanged"]
        assert page.locator("input, select, button, .filters, .none-match").count() == 0  # no dead controls
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        for i in range(len(INDEX_EVENTS)):
            assert page.locator("table.events tbody tr").nth(i).is_visible()
        page.screenshot(path=str(tmp_path / f"noscript-{width}.png"), full_page=True)
        assert not messages, messages
    finally:
        page.close()


# -- the views of a change: inline, side by side, changes only (no script) ------------------------------

LONG_URL = "https://procurement.example/tenders/2024/117/" + "annex-documents-and-specifications-" * 6 + "final"
SECTIONS = "".join(f"Section {i}: conditions unchanged since the first publication of this notice.\n"
                   for i in range(12))
VIEWS_OLD = ("Tender notice 2024/117\nThe ministry will award the contract for surveillance cameras to the lowest "
             f"bidder.\n{SECTIONS}Deadline: 1 June.\nReference: {LONG_URL}\n")
VIEWS_NEW = ("Tender notice 2024/117\nThe ministry will award the contract for surveillance cameras to the highest "
             f"bidder.\n{SECTIONS}Reference: {LONG_URL}-v2\nQuestions go to the press office.\n")


@pytest.fixture(scope="module")
def views_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("views")
    event = ReportEvent(target="Tender", url="https://procurement.example/", tags=(), verdict="changed",
                        reason=None, alert=True, summary="changed", current=_capture(2, T1, "Tender"),
                        compared=_capture(1, T0, "Tender"), diff=diff_texts(VIEWS_OLD, VIEWS_NEW),
                        old_text=VIEWS_OLD, new_text=VIEWS_NEW)
    write_report(out, title="Run", run_id="r1", started=T0, finished=T1, events=[event], generated=T1)
    return out / "tender.html"


def _open_without_script(browser, path, width):
    page = browser.new_page(java_script_enabled=False, viewport={"width": width, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page


def _decoration(locator):
    return locator.evaluate("e => getComputedStyle(e).textDecorationLine")


def _shown(page):
    return [view for view in ("inline", "side", "changes") if page.locator(f"#{view}").is_visible()]


@pytest.mark.parametrize("width", [1280, 390])
def test_each_view_is_reachable_without_script(browser, views_page, width):
    page = _open_without_script(browser, views_page, width)
    try:
        assert page.evaluate("() => document.scripts.length") == 0
        assert _shown(page) == ["inline"]  # the default
        for view in ("#inline", "#side"):  # never colour alone: underlined, struck through
            if view == "#side":
                page.click("label[for=view-side]")
                assert _shown(page) == ["side"]
            ins, dele = page.locator(f"{view} ins").first, page.locator(f"{view} del").first
            assert ins.is_visible() and dele.is_visible()
            assert "underline" in _decoration(ins) and "line-through" in _decoration(dele)
        row = page.locator("#side tr.row-changed").first
        old, new = row.locator("td").nth(0), row.locator("td").nth(1)
        assert old.locator("del").inner_text() == "lowest" and new.locator("ins").inner_text() == "highest"
        a, b = old.bounding_box(), new.bounding_box()
        if width == 1280:  # side by side
            assert abs(a["y"] - b["y"]) < 1 and b["x"] >= a["x"] + a["width"] - 1
        else:  # a phone: old above new
            assert b["y"] >= a["y"] + a["height"] - 1 and abs(a["x"] - b["x"]) < 1
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        assert page.locator("#side tr.row-inserted td").nth(1).inner_text().endswith("Questions go to the press office.")
        assert "Deadline: 1 June." in page.locator("#side tr.row-deleted td").first.inner_text()

        page.click("label[for=view-changes]")
        assert _shown(page) == ["changes"]
        headings = page.locator("#changes h3").all_inner_texts()
        assert headings == [f"Change {i} of {len(headings)}" for i in range(1, len(headings) + 1)] and headings
        assert page.locator("#changes del").first.inner_text() == "lowest"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width

        page.click("label[for=view-inline]")
        assert _shown(page) == ["inline"]
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    finally:
        page.close()


@pytest.mark.parametrize("view", ["inline", "side", "changes"])
def test_printed_page_shows_the_evidence_and_the_chosen_view_without_controls(browser, views_page, view):
    page = _open_without_script(browser, views_page, 700)
    try:
        page.click(f"label[for=view-{view}]")
        page.emulate_media(media="print")
        assert page.evaluate("() => matchMedia('print').matches")
        assert not page.locator(".view-tabs").is_visible() and not page.locator("p.nav").is_visible()
        assert page.locator("input").evaluate_all("inputs => inputs.map(i => getComputedStyle(i).display)") == [
            "none"] * 3
        assert page.locator("table.evidence").is_visible()
        assert "Payload SHA-256" in page.locator("table.evidence").inner_text()
        assert _shown(page) == [view]  # the chosen view only...
        assert not page.locator("details").is_visible()  # ... not the full text under the inline one
        ins, dele = page.locator(f"#{view} ins").first, page.locator(f"#{view} del").first
        assert ins.is_visible() and dele.is_visible()
        assert "underline" in _decoration(ins) and "line-through" in _decoration(dele)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 700  # long URLs wrap
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF")
    finally:
        page.close()


# -- right-to-left and CJK text ----------------------------------------------------------------------

ARABIC = ("قررت اللجنة تأجيل التصويت على المشروع.", "قررت اللجنة إلغاء التصويت على المشروع.")
HEBREW = ("הוועדה דחתה את ההצבעה על ההצעה.", "הוועדה ביטלה את ההצבעה על ההצעה.")
CHINESE = ("委员会推迟了对该项目的投票。", "委员会取消了对该项目的投票。")
SCRIPTS_OLD = f"The committee met on Monday.\n{ARABIC[0]}\n{HEBREW[0]}\n{CHINESE[0]}\n"
SCRIPTS_NEW = f"The committee met on Monday.\n{ARABIC[1]}\n{HEBREW[1]}\n{CHINESE[1]}\n"

# Where the first and the last letter of a phrase are drawn, and the content box of the block holding it.
_GLYPHS = """([selector, phrase]) => {
  const root = document.querySelector(selector);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
  const text = nodes.map(n => n.data).join('');
  const at = text.indexOf(phrase);
  if (at < 0) return null;
  const box = i => {  // the box of the i-th character of the root's text
    let k = i;
    for (const n of nodes) {
      if (k < n.data.length) { const r = document.createRange(); r.setStart(n, k); r.setEnd(n, k + 1);
                               const b = r.getBoundingClientRect(); return [b.left, b.right]; }
      k -= n.data.length;
    }
  };
  const r = root.getBoundingClientRect(), s = getComputedStyle(root);
  return {first: box(at), last: box(at + phrase.length - 1),
          left: r.left + parseFloat(s.borderLeftWidth) + parseFloat(s.paddingLeft),
          right: r.right - parseFloat(s.borderRightWidth) - parseFloat(s.paddingRight)};
}"""


def _laid_out(page, selector, phrase, edge=True):
    """'rtl' or 'ltr': which way ``phrase`` runs; with ``edge``, checked against the edge its line starts from."""
    g = page.evaluate(_GLYPHS, [selector, phrase])
    assert g is not None, f"{phrase!r} not in {selector}"
    if g["first"][0] > g["last"][0]:  # the first letter right of the last: right to left...
        assert not edge or abs(g["first"][1] - g["right"]) < 2, g  # ... starting at the right edge
        return "rtl"
    assert not edge or abs(g["first"][0] - g["left"]) < 2, g
    return "ltr"


def _families_covering(text):
    """The font families (fontconfig) that have a glyph for every character of ``text``."""
    covering = None
    for ch in set(text):
        try:
            listed = subprocess.run(["fc-list", f":charset={ord(ch):x}", "family"], capture_output=True,
                                    text=True, check=True).stdout
        except FileNotFoundError:
            pytest.fail("fc-list (fontconfig) is missing: apt-get install fontconfig", pytrace=False)
        families = {name.strip() for line in listed.splitlines() for name in line.split(",")}
        covering = families if covering is None else covering & families
    return covering or set()


def _fonts_drawing(page, selector, index):
    """The fonts Chromium drew the ``index``-th element matching ``selector`` with (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"][index]
        cdp.send("CSS.enable")
        return {f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
                if f["glyphCount"]}
    finally:
        cdp.detach()


@pytest.fixture(scope="module")
def scripts_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("scripts")
    event = ReportEvent(target="Scripts", url="https://committee.example/", tags=(), verdict="changed",
                        reason=None, alert=True, summary="changed", current=_capture(2, T1, "Scripts"),
                        compared=_capture(1, T0, "Scripts"), diff=diff_texts(SCRIPTS_OLD, SCRIPTS_NEW),
                        old_text=SCRIPTS_OLD, new_text=SCRIPTS_NEW)
    write_report(out, title="Run", run_id="r1", started=T0, finished=T1, events=[event], generated=T1)
    return out / "scripts.html"


@pytest.mark.parametrize("width", [1280, 390])
def test_right_to_left_paragraphs_run_right_to_left_in_every_view(browser, scripts_page, width):
    page = _open_without_script(browser, scripts_page, width)
    try:
        inline = "#inline > div.diff"
        assert _laid_out(page, inline, "The committee met") == "ltr"
        assert _laid_out(page, inline, "قررت اللجنة") == "rtl"  # the start of its line: right
        assert _laid_out(page, inline, "הוועדה") == "rtl"
        assert _laid_out(page, inline, "委员会") == "ltr"
        page.click("label[for=view-side]")
        for row, (old, new) in enumerate((ARABIC, HEBREW)):
            cells = page.locator("#side tr.row-changed").nth(row).locator("td")
            assert cells.evaluate_all("tds => tds.map(td => getComputedStyle(td).direction)") == ["rtl", "rtl"]
            assert cells.nth(1).locator("ins").count() == 1
        row = page.locator("#side tr.row-changed").nth(0)
        # (on a phone a cell starts with its label, "Before:", at its right edge)
        assert _laid_out(page, "#side tr.row-changed td[data-label=Before]", ARABIC[0][:10], width > 390) == "rtl"
        assert row.locator("del").inner_text() == "تأجيل" and row.locator("ins").inner_text() == "إلغاء"
        page.click("label[for=view-changes]")
        assert page.locator("#changes dd").first.evaluate("e => getComputedStyle(e).direction") == "rtl"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    finally:
        page.close()


def test_arabic_hebrew_and_chinese_are_drawn_with_real_glyphs(browser, scripts_page):
    """The inserted words are drawn with fonts that have their glyphs (not empty boxes): fonts-dejavu-core
    covers Arabic and Hebrew, fonts-noto-cjk Chinese."""
    page = _open_without_script(browser, scripts_page, 1280)
    try:
        inserted = page.locator("#inline > div.diff ins").all_inner_texts()
        for word, package in (("إلغاء", "fonts-dejavu-core"), ("ביטלה", "fonts-dejavu-core"),
                              ("取消", "fonts-noto-cjk")):
            covering = _families_covering(word)
            assert covering, f"no font has glyphs for {word!r}: install one (Debian: apt-get install {package})"
            drawn = _fonts_drawing(page, "#inline > div.diff ins", inserted.index(word))
            assert drawn and drawn <= covering, f"{word!r} drawn with {drawn}, which lack its glyphs ({package})"
    finally:
        page.close()
