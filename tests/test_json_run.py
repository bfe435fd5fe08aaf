"""JSON by structure end to end (#13): JSON served from 127.0.0.1 through real `lastseen run --json` runs."""

from __future__ import annotations

import json
import sqlite3

import lxml.html
import pytest

from .helpers import assert_contract, lastseen, write_watchlist

JSON = "application/json"


def _items(prices: list) -> list[dict]:
    return [{"id": i, "name": f"camera {i}", "price": p} for i, p in enumerate(prices)]


def _run(tmp):
    ran = lastseen(tmp, "run", "--json", "--force")
    assert ran.exit_code == 0, ran.stderr
    assert_contract(ran.json)
    return {e["target"]: e for e in ran.json["events"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs over six JSON targets; the second after each changed as its name says."""
    from .site import Site

    tmp = tmp_path_factory.mktemp("json")
    site = Site()
    try:
        tender = {
            "tender": "T-7",
            "items": _items([10, 11, 12, 12.5]),
            "deadline": "2024-06-01",
            "lot": "A",
        }
        site.set("/reordered", json.dumps(tender), content_type=JSON)
        site.set("/changed", json.dumps(tender), content_type=JSON)
        site.set("/plain", json.dumps(tender), content_type="text/plain; charset=utf-8")
        site.set("/opaque", json.dumps(tender), content_type="application/octet-stream")
        site.set(
            "/invalid", '{"price": 12.5,, "note": "broken upstream"', content_type=JSON
        )
        site.set("/deep", "[" * 100_000 + "]" * 100_000, content_type=JSON)
        write_watchlist(
            tmp / "watchlist.yaml",
            [
                {"name": name, "url": site.url(f"/{name}")}
                for name in (
                    "reordered",
                    "changed",
                    "plain",
                    "opaque",
                    "invalid",
                    "deep",
                )
            ],
        )
        first = _run(tmp)
        # keys reordered and re-indented: the same document
        reordered = {
            "lot": "A",
            "deadline": "2024-06-01",
            "items": [dict(reversed(list(item.items()))) for item in tender["items"]],
            "tender": "T-7",
        }
        site.set("/reordered", json.dumps(reordered, indent=2), content_type=JSON)
        site.set(
            "/plain",
            json.dumps(reordered, indent=2),
            content_type="text/plain; charset=utf-8",
        )
        # a price changed, a key added and one removed
        changed = {**tender, "items": _items([10, 11, 12, 13]), "award": "Vendor Ltd"}
        del changed["lot"]
        site.set("/changed", json.dumps(changed), content_type=JSON)
        site.set(
            "/opaque", json.dumps(changed), content_type="application/octet-stream"
        )
        site.set(
            "/invalid", '{"price": 13,, "note": "broken upstream"', content_type=JSON
        )
        second = _run(tmp)
        yield tmp, first, second
    finally:
        site.close()


def _kinds(tmp) -> dict[str, str]:
    with sqlite3.connect(tmp / "archive" / "lastseen.db") as db:
        return dict(
            db.execute(
                "select target, kind from captures where role = 'page' order by id"
            )
        )


def test_reordered_keys_are_no_change(runs):
    _tmp, first, second = runs
    assert first["reordered"]["verdict"] == "new"
    assert (second["reordered"]["verdict"], second["reordered"]["diff"]) == (
        "unchanged",
        None,
    )
    assert (second["plain"]["verdict"], second["plain"]["flags"]) == (
        "unchanged",
        [],
    )  # text/plain still parsed


def test_a_changed_value_reads_as_its_path(runs):
    _tmp, _first, second = runs
    event = second["changed"]
    assert event["verdict"] == "changed" and event["alert"] is True
    assert event["diff"] == {
        "insertions": 1,
        "deletions": 1,
        "changed": 1,
        "unit": "path",
        "fallback": False,
        "moves": 0,
    }
    assert (
        event["summary"]
        == "1 path changed, 1 added, 1 removed: $.items[3].price: 12.5 \u2192 13"
    )
    opaque = second[
        "opaque"
    ]  # served as application/octet-stream: read as JSON all the same
    assert (opaque["verdict"], opaque["diff"]["unit"], opaque["summary"]) == (
        "changed",
        "path",
        event["summary"],
    )


def _report(tmp, name: str) -> str:
    """The second run's report page ``name``: the last run the index recorded (two runs in the same second
    have ids that differ only by their random suffix, so their names do not sort by time)."""
    import sqlite3

    db = sqlite3.connect(tmp / "archive" / "lastseen.db")
    try:
        (run_id,) = db.execute("select id from runs order by rowid desc limit 1").fetchone()
    finally:
        db.close()
    return (tmp / "reports" / run_id / name).read_text(encoding="utf-8")


def test_the_report_names_the_path_with_old_and_new(runs):
    tmp, _first, _second = runs
    said = "1 path changed, 1 added, 1 removed: $.items[3].price: 12.5 \u2192 13"
    assert said in _report(tmp, "index.html")
    page = lxml.html.fromstring(_report(tmp, "changed.html"))
    rows = [
        [td.text_content() for td in tr.xpath("td")]
        for tr in page.xpath("//table[contains(@class, 'keyed')]/tbody/tr")
    ]
    assert rows == [
        ["$.awardadded", "\u2014", '"Vendor Ltd"'],
        ["$.items[3].price", "12.5", "13"],
        ["$.lotremoved", '"A"', "\u2014"],
    ]


def test_invalid_json_is_compared_as_text_and_flagged(runs):
    _tmp, first, second = runs
    assert "json-invalid" in first["invalid"]["flags"]
    event = second["invalid"]
    assert event["verdict"] == "changed" and "json-invalid" in event["flags"]
    assert event["diff"]["unit"] == "word"


def test_deep_nesting_does_not_crash_the_run(runs):
    tmp, first, second = runs
    assert (
        first["deep"]["verdict"] == "new" and "json-too-deep" in first["deep"]["flags"]
    )
    assert (
        second["deep"]["verdict"] == "unchanged"
        and "json-too-deep" in second["deep"]["flags"]
    )
    kinds = _kinds(tmp)
    assert kinds["deep"] == "text" and kinds["invalid"] == "text"
    assert {kinds[n] for n in ("reordered", "changed", "plain", "opaque")} == {"json"}


def test_lastseen_report_reads_the_keyed_diff_back_from_the_index(runs):
    tmp, _first, _second = runs
    ran = lastseen(tmp, "report", "--since", "7d", "--out", "weekly")
    assert ran.exit_code == 0, ran.stderr
    pages = [
        p.read_text(encoding="utf-8") for p in (tmp / "weekly").glob("changed*.html")
    ]
    tables = [
        [
            [td.text_content() for td in tr.xpath("td")]
            for tr in lxml.html.fromstring(page).xpath(
                "//table[contains(@class, 'keyed')]/tbody/tr"
            )
        ]
        for page in pages
    ]
    assert [["$.items[3].price", "12.5", "13"]] == [
        row for table in tables for row in table if row[0] == "$.items[3].price"
    ]


def test_lastseen_diff_out_of_a_json_document_is_the_keyed_page_with_the_chain_head(runs):
    tmp, _first, _second = runs
    ran = lastseen(tmp, "diff", "changed", "--out", str(tmp / "changed-diff.html"))
    assert ran.exit_code == 0, ran.stderr
    page = lxml.html.fromstring((tmp / "changed-diff.html").read_text(encoding="utf-8"))
    rows = [[td.text_content() for td in tr.xpath("td")]
            for tr in page.xpath("//table[contains(@class, 'keyed')]/tbody/tr")]
    assert rows == [
        ["$.awardadded", "\u2014", '"Vendor Ltd"'],
        ["$.items[3].price", "12.5", "13"],
        ["$.lotremoved", '"A"', "\u2014"],
    ]
    with sqlite3.connect(tmp / "archive" / "lastseen.db") as db:
        seq, sha = db.execute("select seq, sha256 from custody order by seq desc limit 1").fetchone()
    assert sha in page.text_content() and f"#{seq}" in page.text_content()


@pytest.mark.parametrize("count", [0, 1, 3])
def test_the_json_document_is_written_one_event_at_a_time_and_is_the_same_bytes(count):
    """``lastseen run --json`` writes its document as it goes (a run of 100,000 targets never holds it whole):
    the bytes are those of ``json.dumps`` of the whole document, hostile and non-ASCII text included."""
    import io
    from datetime import UTC, datetime

    from crawler.contract import Event, RunResult

    result = RunResult("20261128T070000Z-ab12", datetime(2026, 11, 28, 7, tzinfo=UTC),
                       datetime(2026, 11, 28, 7, 1, tzinfo=UTC), "reports/x/index.html",
                       chain_head={"seq": 3, "sha256": "ab" * 32})
    for i in range(count):
        result.events.append(Event(
            target=f'Ministère "{i}" </script>\u202e', url=f"http://127.0.0.1/{i}?q=ü", final_url=None, status=200,
            status_chain=[301, 200], verdict="changed", reason=None, alert=True, summary="3 words ]} changed",
            diff={"insertions": 2, "deletions": 1}, flags=["truncated"], evidence={"a": [1, None]}))
    out = io.StringIO()
    result.write_json(out)
    assert out.getvalue() == json.dumps(result.to_json(), ensure_ascii=False) + "\n"
    assert len(json.loads(out.getvalue())["events"]) == count
