"""Links, title and description on change pages (#11): which links went and which came, with their anchor
text, and the title and description changes stated plainly.

End to end: two ``lastseen run``s over a vendor's customer index (the fixture site) that loses its link to the
Belgrade Safe City case study, gains two (one with hostile anchor text, one on an IDNA host with a
percent-encoded UTF-8 path), and changes its title and meta description. Then a copy of that archive whose
first capture is made to look as schema 12 left a capture of an older release (no anchor texts, no
description): ``lastseen report`` reads its WARC record again, in memory, and writes nothing to the index.
Then the report's own bounds (at most 200 links per list), through :func:`crawler.report.write_report`.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest

from crawler.report import CaptureView, ReportEvent, write_report
from crawler.report.links import MAX_SHOWN, PageFacts, display_url, page_changes

from .helpers import copy_project, lastseen, write_watchlist
from .site import Site

PAGE = """<!DOCTYPE html>
<html><head><title>{title}</title><meta name="description" content="{description}"></head>
<body><header><nav><a href="/">Home</a> <a href="/about">About us</a></nav></header>
<main><h1>Our customers</h1>
<p>{lead}</p>
<p>Cities on four continents rely on our platform for video analytics, licence plate recognition and
command centres that bring police, traffic and emergency services together in one room.</p>
<ul>{items}</ul></main>
<footer><a href="/contact">Contact</a></footer></body></html>"""

BELGRADE = (
    '<li><a href="/cases/belgrade">Belgrade <b>Safe City</b>\n case study</a></li>'
)
NAIROBI = '<li><a href="/cases/nairobi">Nairobi Safe City case study</a></li>'
HOSTILE = (
    '<li><a href="/cases/kampala?x=%22%3E%3Cscript%3E">&lt;script&gt;alert("pwned")&lt;/script&gt;'
    '<img src=x onerror=alert(1)><script>document.title="owned"</script> Kampala case study</a></li>'
)
IDN = '<li><a href="http://xn--e1afmkfd.example/%D0%BF%D1%83%D1%82%D1%8C?q=%2F">Пример: Ниш</a></li>'

V1 = PAGE.format(
    title="Customers — Vendor",
    description="Safe City deployments in Belgrade and Nairobi",
    lead="Safe City projects we delivered with our partners.",
    items=BELGRADE + NAIROBI,
)
V2 = PAGE.format(
    title="Customers &amp; partners — Vendor",
    description="Safe City deployments in Africa",
    lead="Safe City projects we delivered with our partners in Africa.",
    items=NAIROBI + HOSTILE + IDN,
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A directory whose archive holds both runs, the site, and the second run's --json document."""
    site = Site()
    root = tmp_path_factory.mktemp("links")
    site.set("/customers", V1)
    write_watchlist(
        root / "watchlist.yaml",
        [{"name": "vendor-customers", "url": site.url("/customers")}],
    )
    first = lastseen(root, "run", "--json")
    assert first.exit_code == 0, first.stderr
    site.set("/customers", V2)
    second = lastseen(root, "run", "--json", "--force")
    assert second.exit_code == 0, second.stderr
    yield root, site, second.json
    site.close()


def _change_page(report: Path, target: str) -> Path:
    """The page the report's index links from ``target``'s ``changed`` row (a report over a window
    also holds the target's first capture, whose page comes first)."""
    doc = lxml.html.parse(str(report / "index.html")).getroot()
    for tr in doc.cssselect("table.events tbody tr"):
        cells = tr.cssselect("td")
        if cells[0].text.strip() == target and cells[2].cssselect(".badge")[0].text_content() == "changed":
            return report / cells[-1].cssselect("a")[0].get("href")
    raise AssertionError(f"no changed row for {target} in {report}")


def _sections(path: Path) -> dict[str, object]:
    """The change page's statements, links lists (anchor text, URL shown, URL as archived) and summary line."""
    doc = lxml.html.parse(str(path)).getroot()
    lists = {}
    for key in ("removed", "added"):
        rows = doc.xpath(
            f"//table[contains(@class, 'links') and contains(@class, '{key}')]/tbody/tr"
        )
        lists[key] = [
            (
                row[0].text_content(),
                row[1].xpath("code")[0].text_content(),
                "".join(row[1].xpath("span/code/text()")) or None,
            )
            for row in rows
        ]
    links_h2 = doc.xpath("//h2[text()='Links']")
    return {
        "statements": [
            li.text_content() for li in doc.xpath("//ul[@class='statements']/li")
        ],
        "summary": links_h2[0].getnext().text_content() if links_h2 else None,
        "notes": [p.text_content() for p in doc.xpath("//p[@class='note']")],
        **lists,
        "doc": doc,
    }


def test_the_change_page_lists_links_removed_and_added_with_their_anchor_text(runs):
    root, site, doc = runs
    (event,) = doc["events"]
    assert (
        event["verdict"] == "changed"
        and event["significance"]["parts"]["links_removed"] == 1
    )
    page = (root / doc["run"]["report"]).parent / "vendor-customers.html"
    seen = _sections(page)
    assert seen["statements"] == [
        "Title changed: “Customers — Vendor” → “Customers & partners — Vendor”",
        "Description changed: “Safe City deployments in Belgrade and Nairobi” → “Safe City deployments in Africa”",
    ]
    assert seen["summary"].startswith(
        "1 removed, 2 added, 4 kept."
    )  # home, about, Nairobi, contact
    assert seen["removed"] == [
        ("Belgrade Safe City case study", site.url("/cases/belgrade"), None)
    ]
    assert seen["added"] == [
        (
            '<script>alert("pwned")</script> Kampala case study',
            site.url("/cases/kampala?x=%22%3E%3Cscript%3E"),
            None,
        ),
        (
            "Пример: Ниш",
            "http://пример.example/путь?q=%2F",
            "http://xn--e1afmkfd.example/%D0%BF%D1%83%D1%82%D1%8C?q=%2F",
        ),
    ]
    # Archived URLs are text, never links; hostile anchor text is escaped text, never markup.
    html = page.read_text(encoding="utf-8")
    assert (
        "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; Kampala case study" in html
    )
    assert not seen["doc"].xpath(
        "//script | //img | //*[@onerror] | //a[starts-with(@href, 'http')]"
    )
    assert all(
        not href.startswith(("http", "//")) for href in seen["doc"].xpath("//a/@href")
    )


def test_an_unchanged_recapture_stores_its_links_once_and_its_change_page_still_lists_them(tmp_path):
    """#17: a recapture of the same bytes from the same URL keeps no second copy of the links and anchor texts
    (null in its row, about 1.9 KB saved per recapture of the bench's pages); what reads them finds them by
    URL and payload: the next run's significance and the change page compare them as before."""
    site = Site()
    try:
        site.set("/customers", V1)
        write_watchlist(tmp_path / "watchlist.yaml", [{"name": "vendor-customers", "url": site.url("/customers")}])
        for page in (V1, V1, V1, V2):
            site.set("/customers", page)
            ran = lastseen(tmp_path, "run", "--json", "--force")
            assert ran.exit_code == 0, ran.stderr
    finally:
        site.close()
    (event,) = ran.json["events"]
    assert event["verdict"] == "changed"
    assert (event["significance"]["parts"]["links_removed"], event["significance"]["parts"]["links_added"]) == (1, 2)
    with sqlite3.connect(tmp_path / "archive" / "lastseen.db") as db:
        stored = db.execute("select links is not null, link_texts is not null, record_type from captures "
                            "where role = 'page' order by id").fetchall()
    db.close()
    # the first capture and the change hold them; the two recaptures (revisits) hold none
    assert stored == [(1, 1, "response"), (0, 0, "revisit"), (0, 0, "revisit"), (1, 1, "response")]
    seen = _sections((tmp_path / ran.json["run"]["report"]).parent / "vendor-customers.html")
    assert seen["summary"].startswith("1 removed, 2 added, 4 kept.")
    assert seen["removed"] == [("Belgrade Safe City case study", site.url("/cases/belgrade"), None)]
    assert [text for text, _, _ in seen["added"]] == [
        '<script>alert("pwned")</script> Kampala case study', "Пример: Ниш"]
    assert seen["notes"] == []
    # a report over the window compares the recapture it read with the change, the same way
    weekly = lastseen(tmp_path, "report", "--since", "7d", "--out", "weekly")
    assert weekly.exit_code == 0, weekly.stderr
    again = _sections(_change_page(tmp_path / "weekly", "vendor-customers"))
    assert (again["removed"], again["added"]) == (seen["removed"], seen["added"])


def test_an_older_capture_is_read_again_by_the_report_which_writes_nothing(
    runs, tmp_path
):
    project = copy_project(runs[0], tmp_path)
    db_path = project / "archive" / "lastseen.db"
    with sqlite3.connect(
        db_path
    ) as db:  # as migration 12 leaves a capture of an earlier release
        db.execute(
            "update capture_rows set link_texts = null, description = null where id = 1"
        )
    db.close()
    before = {
        p.name: p.read_bytes() for p in (project / "archive").iterdir() if p.is_file()
    }
    ran = lastseen(project, "report", "--since", "7d", "--out", "weekly")
    assert ran.exit_code == 0, ran.stderr
    seen = _sections(_change_page(project / "weekly", "vendor-customers"))
    assert seen["removed"] == [
        ("Belgrade Safe City case study", runs[1].url("/cases/belgrade"), None)
    ]
    assert seen["statements"][1] == (
        "Description changed: “Safe City deployments in Belgrade and Nairobi” → "
        "“Safe City deployments in Africa”"
    )
    assert seen["notes"] == []
    after = {
        p.name: p.read_bytes() for p in (project / "archive").iterdir() if p.is_file()
    }
    # The index, byte for byte: nothing stored. (A WAL reader may leave SQLite's shared-memory file and an
    # empty log beside it, as `status` does.)
    assert after.pop("lastseen.db-wal", b"") == b""
    after.pop("lastseen.db-shm", None)
    assert after == before
    with sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True) as db:
        assert db.execute(
            "select link_texts, description from captures where id = 1"
        ).fetchone() == (None, None)
    db.close()

    # Without its WARC record, the page says so and still lists the links (no anchor text known).
    shutil.rmtree(project / "archive" / "warcs")
    (project / "archive" / "warcs").mkdir()
    ran = lastseen(project, "report", "--since", "7d", "--out", "again")
    assert ran.exit_code == 0, ran.stderr
    seen = _sections(_change_page(project / "again", "vendor-customers"))
    assert seen["removed"] == [("—", runs[1].url("/cases/belgrade"), None)]
    assert seen["statements"][1] == "Description not compared."
    (note,) = seen["notes"]
    assert (
        note.startswith(
            "Anchor texts and description not shown: capture 1 was archived before lastseen kept "
            "anchor texts and descriptions, and its record in warcs/lastseen-"
        )
        and "could not be read" in note
    )


# -- the report's own bounds and wording, through write_report --------------------------------------

T0, T1 = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC)


def _capture(id: int, at: datetime) -> CaptureView:
    return CaptureView(
        id=id,
        url="https://vendor.example/",
        final_url="https://vendor.example/",
        status=200,
        status_chain=(200,),
        started=at,
        warc_file="warcs/x.warc.gz",
        warc_offset=id,
        warc_record_id=f"<urn:uuid:{id}>",
        record_type="response",
        payload_sha256="a" * 64,
        title="Customers",
        error=None,
    )


def _written(tmp_path: Path, verdict: str, before: PageFacts, after: PageFacts) -> dict:
    event = ReportEvent(
        target="vendor",
        url="https://vendor.example/",
        tags=(),
        verdict=verdict,
        reason=None,
        alert=True,
        summary="",
        current=_capture(2, T1),
        compared=_capture(1, T0),
        diff=None,
        old_text="a",
        new_text="b",
        page=page_changes(verdict, before, after),
    )
    write_report(
        tmp_path,
        title="t",
        run_id="r",
        started=T0,
        finished=T1,
        events=[event],
        generated=T1,
    )
    return _sections(tmp_path / "vendor.html")


def test_long_lists_are_cut_at_200_and_say_how_many_more(tmp_path):
    old = [f"https://vendor.example/case/{i}" for i in range(300)]
    new = [f"https://vendor.example/new/{i}" for i in range(201)] + old[250:]
    seen = _written(
        tmp_path,
        "changed",
        PageFacts(old, "Customers", texts={old[0]: "First case"}),
        PageFacts(new, "Customers"),
    )
    assert len(seen["removed"]) == MAX_SHOWN == 200 and len(seen["added"]) == 200
    assert (
        seen["removed"][0] == ("First case", old[0], None)
        and seen["removed"][-1][1] == old[199]
    )
    assert seen["summary"].startswith("250 removed, 201 added, 50 kept.")
    more = [
        p.text_content()
        for p in seen["doc"].xpath("//p[@class='muted']")
        if p.text_content().startswith("…")
    ]
    assert more == [
        "… and 50 more (a page lists at most 200).",
        "… and 1 more (a page lists at most 200).",
    ]


def test_unchanged_links_title_and_description_are_said_to_be_unchanged(tmp_path):
    same = PageFacts(
        ["https://vendor.example/a"],
        "Customers",
        "Our customers",
        {"https://vendor.example/a": "A"},
    )
    seen = _written(tmp_path, "changed", same, same)
    assert seen["statements"] == [
        "Title unchanged: “Customers”",
        "Description unchanged: “Our customers”",
    ]
    assert seen["summary"] == "No links changed (1 link, the same before and after)."
    assert seen["removed"] == seen["added"] == []
    added = _written(
        tmp_path,
        "restored",
        PageFacts([], None, None),
        PageFacts([], "Back", "Now described"),
    )
    assert added["statements"] == [
        "Title added: “Back”",
        "Description added: “Now described”",
    ]


def test_a_vanished_page_says_what_it_was_and_a_moved_one_compares_old_and_new(
    tmp_path,
):
    seen = _written(
        tmp_path,
        "vanished",
        PageFacts(["https://vendor.example/a"], "Belgrade case study", None),
        PageFacts(None, "404 Not Found"),
    )
    assert seen["statements"] == [
        "Title when last seen: “Belgrade case study”",
        "No description when last seen.",
        "The address now answers with the title: “404 Not Found”",
    ]
    assert (
        seen["summary"] is None
    )  # no links section: an error page's links say nothing of the page
    moved = _written(
        tmp_path,
        "moved",
        PageFacts(["https://vendor.example/a"], "Case"),
        PageFacts(["https://vendor.example/a", "https://vendor.example/b"], "Case"),
    )
    note = (
        moved["doc"]
        .xpath("//h2[text()='Title and description']")[0]
        .getnext()
        .text_content()
    )
    assert note == "The page at its new address, compared with the page at the old one."
    assert moved["statements"][0] == "Title unchanged: “Case”" and moved["added"] == [
        ("—", "https://vendor.example/b", None)
    ]


def test_a_delisted_item_s_page_compares_title_description_and_links(tmp_path):
    # A listing's item that left its listing is diffed against its last good capture (#12): its page
    # says what else changed on it, as a changed page's does.
    seen = _written(
        tmp_path,
        "delisted",
        PageFacts(
            ["https://vendor.example/tender.pdf"],
            "Tender 17/2024",
            "Open until 1 June",
            {"https://vendor.example/tender.pdf": "Tender documents"},
        ),
        PageFacts([], "Tender 17/2024 (withdrawn)", "Open until 1 June"),
    )
    assert seen["statements"] == [
        "Title changed: “Tender 17/2024” → “Tender 17/2024 (withdrawn)”",
        "Description unchanged: “Open until 1 June”",
    ]
    assert seen["removed"] == [
        ("Tender documents", "https://vendor.example/tender.pdf", None)
    ]
    assert seen["added"] == [] and seen["summary"].startswith("1 removed, 0 added")


@pytest.mark.parametrize(
    "url, shown",
    [
        (
            "https://xn--e1afmkfd.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C",
            "https://пример.рф/путь",
        ),
        (
            "https://user@xn--bcher-kva.example:8443/a%20b/%C3%A9?q=%C3%A9#%C3%A9",
            "https://user@bücher.example:8443/a%20b/é?q=é#é",
        ),
        (
            "https://vendor.example/a%2Fb/%e2%80%aetxt",
            "https://vendor.example/a%2Fb/%e2%80%aetxt",
        ),  # bidi stays encoded
        (
            "https://vendor.example/%C3%28/%E9t%E9",
            "https://vendor.example/%C3%28/%E9t%E9",
        ),  # not UTF-8: as archived
        (
            "https://vendor.example/%C2%A0%E2%80%8B",
            "https://vendor.example/%C2%A0%E2%80%8B",
        ),  # invisible: as archived
        (
            "https://xn--zz.example/",
            "https://xn--zz.example/",
        ),  # not a valid IDNA label: as archived
        ("http://[::1]:8080/%D1%8F", "http://[::1]:8080/я"),
    ],
)
def test_urls_are_shown_decoded_where_that_only_undoes_transport_encoding(url, shown):
    assert display_url(url) == shown


def test_a_title_republished_in_the_other_script_is_not_a_changed_title():
    def facts(title):
        return PageFacts(links=(), title=title)

    said = page_changes("changed", facts("Bezbedan grad | Grad Ravnograd"), facts("Безбедан град | Град Равноград"))
    assert said["statements"][0] == (
        "Title unchanged but for its script", "Bezbedan grad | Grad Ravnograd", "Безбедан град | Град Равноград")
    said = page_changes("changed", facts("Bezbedan grad"), facts("Безбедан град, друга фаза"))
    assert said["statements"][0][0] == "Title changed"
