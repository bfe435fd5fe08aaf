"""Documents end to end (#13): successive `lastseen run --json` runs over documents served from 127.0.0.1
(PDF, DOCX, ODT, XLSX, ODS, a PDF served as text/html, a scan, an encrypted PDF, a page bomb): verdicts,
flags, the text stored in the index, and what the report's change pages say."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import lxml.html

from . import docfiles
from .helpers import assert_contract, lastseen, write_watchlist

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"


def _run(tmp_path):
    ran = lastseen(
        tmp_path,
        "run",
        "--json",
        "--force",
        "--watchlist",
        str(tmp_path / "watchlist.yaml"),
        "--archive",
        str(tmp_path / "archive"),
        "--reports",
        str(tmp_path / "reports"),
    )
    assert ran.exit_code == 0, ran.stderr
    assert_contract(ran.json)
    return ran


def _captures(tmp_path, target: str) -> list[dict]:
    with sqlite3.connect(tmp_path / "archive" / "lastseen.db") as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "select c.*, t.text from captures c left join texts t on t.sha256 = c.text_sha256 "
            "where c.target = ? and coalesce(c.role, 'page') = 'page' order by c.id",
            (target,),
        ).fetchall()
    return [dict(r) for r in rows]


def _watch(site, tmp_path, names, **settings):
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [{"name": n, "url": site.url(f"/{n}")} for n in names],
        settings=settings or None,
    )


def test_documents_are_read_compared_and_flagged_across_runs(site, tmp_path):
    tender = docfiles.tender_pdf()
    site.set("/tender", tender, content_type=PDF)
    site.set("/resaved", tender, content_type=PDF)
    site.set(
        "/as-html",
        docfiles.tender_pdf(quantity=7),
        content_type="text/html; charset=utf-8",
    )
    site.set("/scan", docfiles.scanned_pdf(), content_type="application/octet-stream")
    site.set("/sealed", docfiles.encrypted_pdf(), content_type=PDF)
    site.set(
        "/contract",
        docfiles.contract_docx("The supplier delivers 120 cameras within 30 days."),
        content_type=DOCX,
    )
    site.set(
        "/notice",
        docfiles.notice_odt(["Call for tenders", "Opening on 10 March"]),
        content_type=ODT,
    )
    site.set("/budget", docfiles.budget_xlsx(), content_type=XLSX)
    site.set("/budget-ods", docfiles.budget_ods(), content_type=ODS)
    names = [
        "tender",
        "resaved",
        "as-html",
        "scan",
        "sealed",
        "contract",
        "notice",
        "budget",
        "budget-ods",
    ]
    _watch(site, tmp_path, names)
    first = _run(tmp_path)
    assert {e["target"]: e["verdict"] for e in first.json["events"]} == dict.fromkeys(
        names, "new"
    )
    assert first.event("scan")["flags"] == ["no-text"]
    assert first.event("sealed")["flags"] == ["doc-encrypted"]
    kinds = {n: _captures(tmp_path, n)[-1]["kind"] for n in names}
    assert kinds == {
        "tender": "pdf",
        "resaved": "pdf",
        "as-html": "pdf",
        "scan": "pdf",
        "sealed": "pdf",
        "contract": "docx",
        "notice": "odt",
        "budget": "xlsx",
        "budget-ods": "ods",
    }
    assert (
        "Quantity: 7 cameras with facial recognition"
        in _captures(tmp_path, "as-html")[-1]["text"]
    )
    assert _captures(tmp_path, "scan")[-1]["text"] is None
    assert json.loads(_captures(tmp_path, "scan")[-1]["document"])["pages"] == 2
    budget = _captures(tmp_path, "budget")[-1]["text"].split("\n")
    assert budget == [
        "Sheet1!A1: Budget line",
        "Sheet1!A14: Cameras",
        "Sheet1!B14: 25%",
        "Sheet1!C14: 1,200,000",
        "Sheet1!D14: 2026-03-10",
        "Sheet1!E14: 1234.50",
    ]
    assert _captures(tmp_path, "budget-ods")[-1]["text"].split("\n") == [
        "Sheet1!A14: Cameras",
        "Sheet1!C14: 1,200,000",
    ]
    tender_doc = json.loads(_captures(tmp_path, "tender")[-1]["document"])
    assert tender_doc["pages"] == 3 and tender_doc["page_starts"] == [0, 3, 5]
    assert tender_doc["metadata"]["producer"] == "Writer 1.0"

    site.set(
        "/tender",
        docfiles.tender_pdf("24 March 2026", 180, producer="Writer 2.0"),
        content_type=PDF,
    )
    site.set("/resaved", docfiles.resaved(tender, "Other Producer 9"), content_type=PDF)
    site.set(
        "/scan",
        docfiles.scanned_pdf(shade=200),
        content_type="application/octet-stream",
    )
    site.set(
        "/contract",
        docfiles.contract_docx("The supplier delivers 180 cameras within 10 days."),
        content_type=DOCX,
    )
    site.set(
        "/notice",
        docfiles.notice_odt(["Call for tenders", "Opening on 24 March"]),
        content_type=ODT,
    )
    site.set("/budget", docfiles.budget_xlsx(1_950_000), content_type=XLSX)
    second = _run(tmp_path)
    verdicts = {e["target"]: e["verdict"] for e in second.json["events"]}
    assert verdicts == {
        "tender": "changed",
        "resaved": "unchanged",
        "as-html": "unchanged",
        "scan": "changed",
        "sealed": "unchanged",
        "contract": "changed",
        "notice": "changed",
        "budget": "changed",
        "budget-ods": "unchanged",
    }
    assert second.event("resaved")["diff"] is None
    assert (
        json.loads(_captures(tmp_path, "resaved")[-1]["document"])["metadata"][
            "producer"
        ]
        == "Other Producer 9"
    )
    assert (
        second.event("scan")["flags"] == ["no-text"]
        and second.event("scan")["diff"] is None
    )
    assert "Sheet1!C14: 1,950,000" in _captures(tmp_path, "budget")[-1]["text"]
    # The spreadsheet's change reads as its cell (the keyed diff, unit `cell`), in the event and on its page.
    budget = second.event("budget")
    assert budget["diff"]["unit"] == "cell" and budget["diff"]["changed"] == 1
    assert "Sheet1!C14: 1,200,000 → 1,950,000" in budget["summary"]
    contract = _captures(tmp_path, "contract")[-1]["text"]
    assert "Clause 7. The supplier delivers 180 cameras within 10 days." in contract

    report = (tmp_path / second.json["run"]["report"]).parent
    tender_page = _change_page(report, "tender")
    assert _where(tender_page) == (
        ["Where in the document: change 1: page 3."],
        ["Change 1 of 1 · page 3"],
    )
    deleted = [d.text_content() for d in tender_page.cssselect("#inline del")]
    inserted = [i.text_content() for i in tender_page.cssselect("#inline ins")]
    assert "10" in " ".join(deleted) and "120" in " ".join(deleted)
    assert "24" in " ".join(inserted) and "180" in " ".join(inserted)
    budget_page = _change_page(report, "budget")
    rows = [[c.text_content().strip() for c in row.xpath("td")]
            for row in budget_page.xpath("//table[contains(@class, 'keyed')]/tbody/tr")]
    assert rows == [["Sheet1!C14", "1,200,000", "1,950,000"]]
    contract_page = _change_page(report, "contract")
    assert _where(contract_page) == (
        ["Where in the document: change 1: page 2."],
        ["Change 1 of 1 · page 2"],
    )
    assert "180" in " ".join(
        i.text_content() for i in contract_page.cssselect("#inline ins")
    )
    notice_page = _change_page(
        report, "notice"
    )  # an ODT without page breaks: no page named
    assert _where(notice_page) == ([], ["Change 1 of 1"])

    # metadata: in the evidence box, before and after; its changes said apart, never compared
    evidence = _evidence(tender_page)
    assert evidence["Format"] == ("pdf", "pdf") and evidence["Pages"] == ("3", "3")
    assert evidence["Document title"] == ("Procurement notice 2026/14",) * 2
    assert evidence["Producer"] == ("Writer 1.0", "Writer 2.0")
    [note] = tender_page.cssselect("p.metadata")
    assert " ".join(note.text_content().split()) == (
        "Document metadata changed (never compared, so never a change by itself): "
        "Producer: Writer 1.0 → Writer 2.0; Creator: Writer 1.0 → Writer 2.0."
    )
    assert contract_page.cssselect("p.metadata") == []
    first_report = (tmp_path / first.json["run"]["report"]).parent
    capture_page = _change_page(first_report, "tender")  # a first capture's page
    rows = {
        " ".join(tr.cssselect("th")[0].text_content().split()): " ".join(
            tr.cssselect("td")[0].text_content().split()
        )
        for tr in capture_page.cssselect("table.evidence tbody tr")
    }
    assert rows["Pages"] == "3" and rows["Author"] == "Ministry of Interior"


def _evidence(page) -> dict[str, tuple[str, ...]]:
    """The evidence box's rows: label -> (last good, this capture)."""
    return {
        " ".join(tr.cssselect("th")[0].text_content().split()): tuple(
            " ".join(td.text_content().split()) for td in tr.cssselect("td")
        )
        for tr in page.cssselect("table.evidence:not(.signals) tbody tr")
    }


def _change_page(report: Path, target: str):
    """The change page the report's index links from ``target``'s row, parsed."""
    doc = lxml.html.parse(str(report / "index.html")).getroot()
    for tr in doc.cssselect("table.events tbody tr"):
        cells = tr.cssselect("td")
        if cells[0].text.strip() == target:
            return lxml.html.parse(
                str(report / cells[-1].cssselect("a")[0].get("href"))
            ).getroot()
    raise AssertionError(f"no row for {target} in {report}")


def _where(page) -> tuple[list[str], list[str]]:
    """The change page's "Where in the document" line, and its changes' headings."""
    return (
        [" ".join(p.text_content().split()) for p in page.cssselect("p.where")],
        [
            " ".join(h.text_content().split())
            for h in page.cssselect(".changes-only h3")
        ],
    )


def test_a_page_bomb_is_cut_off_and_the_run_goes_on(site, tmp_path):
    site.set("/bomb", docfiles.page_bomb(5000), content_type=PDF)
    site.set(
        "/page",
        "<html><body><main><p>"
        + "The ministry published this. " * 8
        + "</p></main></body></html>",
    )
    _watch(site, tmp_path, ["bomb", "page"], doc_max_pages=40)
    first = _run(tmp_path)
    assert first.event("bomb")["flags"] == ["doc-truncated"]
    assert first.event("page")["verdict"] == "new"
    bomb = _captures(tmp_path, "bomb")[-1]
    assert bomb["text"].split("\n") == ["Annex page"] * 40
    assert json.loads(bomb["document"])["pages"] == 5000
    second = _run(tmp_path)  # the same bytes: the same text, not read again
    assert second.event("bomb")["verdict"] == "unchanged" and second.event("bomb")[
        "flags"
    ] == ["doc-truncated"]


def test_a_document_captured_as_binary_before_the_upgrade_is_read_again_not_changed(
    site, tmp_path
):
    site.set("/tender", docfiles.tender_pdf(), content_type=PDF)
    _watch(site, tmp_path, ["tender"])
    _run(tmp_path)
    [before] = _captures(tmp_path, "tender")
    with sqlite3.connect(
        tmp_path / "archive" / "lastseen.db"
    ) as db:  # as the release before #13 stored it
        db.execute(
            "update capture_rows set kind = 'binary', fingerprint = payload_sha256, text_sha256 = null, "
            "page_text_sha256 = null, document = null, extract_key = ? where id = ?",
            (_plain_key(tmp_path, before["extract_key"]), before["id"]),
        )
    second = _run(tmp_path)
    assert second.event("tender")["verdict"] == "unchanged"
    assert _captures(tmp_path, "tender")[-1]["kind"] == "pdf"
    site.set("/tender", docfiles.tender_pdf("24 March 2026"), content_type=PDF)
    assert _run(tmp_path).event("tender")["verdict"] == "changed"


def _plain_key(tmp_path, stored: str) -> str:
    """The extraction key the target had before documents were read (the one ``document_key`` was made from)."""
    from crawler.reading import document_key, extract_key
    from crawler.watchlist import load_watchlist

    [target] = load_watchlist(tmp_path / "watchlist.yaml").targets
    key = extract_key(target)
    assert document_key(key) == stored
    return key


def test_a_listing_of_documents_watches_a_notice_lists_attachments(site, tmp_path):
    site.set(
        "/notices/",
        "<html><body><main><h1>Notices</h1><ul>"
        '<li><a href="/notices/2026-14.PDF">Tender notice</a></li>'
        '<li><a href="/notices/2026-14">Notice page</a></li>'
        '<li><a href="/notices/contract.docx">Contract</a></li>'
        '<li><a href="/notices/budget.xlsx?v=2">Budget</a></li>'
        "</ul></main></body></html>",
    )
    site.set("/notices/2026-14.PDF", docfiles.tender_pdf(), content_type=PDF)
    site.set("/notices/2026-14", "<html><body><p>Notice page</p></body></html>")
    site.set(
        "/notices/contract.docx",
        docfiles.contract_docx("Delivery in 30 days."),
        content_type=DOCX,
    )
    site.set("/notices/budget.xlsx?v=2", docfiles.budget_xlsx(), content_type=XLSX)
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [
            {
                "name": "notices",
                "url": site.url("/notices/"),
                "listing": {"documents": True},
            }
        ],
    )
    first = _run(tmp_path)
    items = {
        e["target"]: e["verdict"]
        for e in first.json["events"]
        if e["parent"] == "notices"
    }
    assert items == {
        "notices/notices-2026-14.PDF": "new",
        "notices/notices-contract.docx": "new",
        "notices/notices-budget.xlsx-v-2": "new",
    }
    assert site.hits("/notices/2026-14") == 0
    assert _captures(tmp_path, "notices/notices-budget.xlsx-v-2")[-1]["kind"] == "xlsx"

    site.set(
        "/notices/2026-14.PDF",
        docfiles.tender_pdf("24 March 2026", 180),
        content_type=PDF,
    )
    second = _run(tmp_path)
    assert second.event("notices/notices-2026-14.PDF")["verdict"] == "changed"
    assert second.event("notices/notices-contract.docx")["verdict"] == "unchanged"
