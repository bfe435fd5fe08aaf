"""Keyed changes on a change page (#13): a spreadsheet's cells and a JSON document's paths as a table of key,
before and after, values hostile, opened in real headless Chromium (fails, never skips, without one)."""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html
import pytest

from crawler.diff import diff_texts
from crawler.keyed import diff_keyed
from crawler.report import ReportEvent, write_report
from crawler.summary import excerpt

from .helpers import assert_no_script_but_ours
from .test_report import capture
from .test_report_browser import HOSTILE, _assert_inert, _open, browser  # noqa: F401 (browser: a fixture)

T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
T1 = datetime(2024, 5, 2, 6, 0, tzinfo=UTC)

OLD = "\n".join(
    [
        "Sheet1!A1: Item",
        "Sheet1!C14: 1,200,000",
        f"Sheet1!D2: {HOSTILE[0]}",
        "Sheet1!E1: withdrawn lot",
    ]
)
NEW = "\n".join(
    [
        "Sheet1!A1: Item",
        "Sheet1!C14: 1,950,000",
        f"Sheet1!D2: {HOSTILE[1]}",
        f"Sheet1!F1: {HOSTILE[3]}",
    ]
)


def _event(target, old, new, unit, url="https://tenders.example/awards.xlsx"):
    diff = diff_keyed(old, new, unit=unit) if unit != "word" else diff_texts(old, new)
    return ReportEvent(
        target=target,
        url=url,
        tags=(),
        verdict="changed",
        reason=None,
        alert=True,
        summary=f"{diff.summary()}: {excerpt(diff)}",
        current=capture(2, url, at=T1),
        compared=capture(1, url, at=T0),
        diff=diff,
        old_text=old,
        new_text=new,
    )


LEDGER = "\n".join(
    f"Sheet1!A{n}: lot {n}\nSheet1!B{n}: {n * 1000}" for n in range(1, 6)
)
LEDGER_WITH_A_ROW = "\n".join(
    f"Sheet1!A{n}: lot {n - (n > 3)}\nSheet1!B{n}: {(n - (n > 3)) * 1000}"
    if n != 3
    else "Sheet1!A3: lot 2b\nSheet1!B3: 2500"
    for n in range(1, 7)
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("keyed")
    many_old = "\n".join(f"$.rows[{i}]: {i}" for i in range(400))
    many_new = "\n".join(f"$.rows[{i}]: {i + 1}" for i in range(400))
    write_report(
        out,
        title="Run",
        run_id="r1",
        started=T0,
        finished=T1,
        generated=T1,
        max_page=4000,
        events=[
            _event("awards", OLD, NEW, "cell"),
            _event("ledger", LEDGER, LEDGER_WITH_A_ROW, "cell"),
            _event(
                "api", many_old, many_new, "path", url="https://api.example/rows.json"
            ),
            _event(
                "prose",
                "The ministry bought 12 cameras.",
                "The ministry bought 15 cameras.",
                "word",
                url="https://ministry.example/",
            ),
        ],
    )
    return out


def _rows(html: str) -> list[list[str]]:
    tree = lxml.html.fromstring(html)
    return [
        [cell.text_content() for cell in row.xpath("td")]
        for row in tree.xpath("//table[contains(@class, 'keyed')]/tbody/tr")
    ]


def test_a_changed_cell_reads_as_key_before_after(report):
    html = (report / "awards.html").read_text(encoding="utf-8")
    assert _rows(html) == [
        ["Sheet1!C14", "1,200,000", "1,950,000"],
        ["Sheet1!D2", HOSTILE[0], HOSTILE[1]],
        ["Sheet1!E1removed", "withdrawn lot", "\u2014"],
        ["Sheet1!F1added", "\u2014", HOSTILE[3]],
    ]
    assert '<th scope="col">Cell</th>' in html
    # the page's and the index's one-line summary say the change the same way
    said = "2 cells changed, 1 added, 1 removed: Sheet1!C14: 1,200,000 \u2192 1,950,000"
    assert said in html and said in (report / "index.html").read_text(encoding="utf-8")
    assert assert_no_script_but_ours(html) == 0


def test_a_long_keyed_change_is_cut_to_the_page_and_says_so(report):
    html = (report / "api.html").read_text(encoding="utf-8")
    rows = _rows(html)
    assert rows[0] == ["$.rows[0]", "0", "1"] and 0 < len(rows) < 400
    assert f"{400 - len(rows)} more changed paths are not shown" in html


def test_a_word_diff_has_no_table(report):
    html = (report / "prose.html").read_text(encoding="utf-8")
    assert _rows(html) == [] and "<del>12</del>" in html


def test_the_table_is_inert_and_readable_in_chromium(browser, report):  # noqa: F811 (browser: the fixture)
    for width in (1280, 390):
        page, messages = _open(browser, report / "awards.html")
        try:
            page.set_viewport_size({"width": width, "height": 900})
            _assert_inert(page, messages, "awards")
            first = page.locator("table.keyed tbody tr").first
            assert (
                first.locator("del").inner_text() == "1,200,000"
                and first.locator("ins").inner_text() == "1,950,000"
            )
            assert (
                first.locator("del").is_visible() and first.locator("ins").is_visible()
            )
            hostile = page.locator("table.keyed tbody tr").nth(1)
            assert hostile.locator("ins").inner_text() == HOSTILE[1]
            assert (
                page.evaluate("() => document.documentElement.scrollWidth") <= width
            )  # nothing wider
        finally:
            page.close()


def test_a_row_inserted_lists_its_cells_and_counts_the_cells_it_moved(report):
    html = (report / "ledger.html").read_text(encoding="utf-8")
    assert _rows(html) == [
        ["Sheet1!A3added", "\u2014", "lot 2b"],
        ["Sheet1!B3added", "\u2014", "2500"],
    ]
    assert (
        "6 cells moved with their values unchanged (rows inserted or deleted above them)"
        in html
    )
    assert "2 cells added, 6 moved: + Sheet1!A3: lot 2b" in (
        report / "index.html"
    ).read_text(encoding="utf-8")
