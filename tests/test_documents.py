"""Documents (#13), without a run: which bytes are documents, the text each format gives (pages, sheets'
cell lines as displayed), metadata kept apart, and the worker's bounds (pages, time, a worker replaced)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from crawler.documents import (
    DocumentLimits,
    document_format,
    page_of_line,
    read_document,
)
from crawler.documents.pool import shared_pool
from crawler.documents.sheets import cell_line, display_value

from . import docfiles


@pytest.mark.parametrize(
    "content_type",
    [
        "application/pdf",
        "text/html; charset=utf-8",
        "application/octet-stream",
        None,
        "text/plain",
    ],
)
def test_a_pdf_is_a_pdf_whatever_it_is_served_as(content_type):
    assert document_format(docfiles.tender_pdf(), content_type) == "pdf"


def test_office_documents_are_told_apart_by_their_packages():
    assert (
        document_format(docfiles.contract_docx("x"), "application/octet-stream")
        == "docx"
    )
    assert document_format(docfiles.budget_xlsx(), None) == "xlsx"
    assert document_format(docfiles.notice_odt(["x"]), "text/html") == "odt"
    assert document_format(docfiles.budget_ods(), None) == "ods"


def test_bytes_that_are_no_document_are_none_whatever_they_claim():
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("readme.txt", "not an office file")
    assert document_format(plain.getvalue(), "application/pdf") is None
    assert (
        document_format(
            b"<html><body>%PDF- is text here" + b" " * 2000, "application/pdf"
        )
        is None
    )
    assert (
        document_format(
            b"<html><body>A PDF starts with %PDF-1.7</body></html>", "text/html"
        )
        is None
    )
    assert (
        document_format(b"PK\x03\x04 broken", "application/vnd.oasis.opendocument.text")
        is None
    )
    # a junk prefix before the signature is tolerated when the server says it is a PDF
    assert (
        document_format(b"\n" * 2000 + docfiles.tender_pdf(), "application/pdf")
        == "pdf"
    )
    assert document_format(b"\n" * 2000 + docfiles.tender_pdf(), "text/html") is None


def test_a_zip_bomb_posing_as_an_office_file_is_read_no_further_than_64_kib():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b" " * 200_000_000)
    assert len(bomb.getvalue()) < 1_000_000
    assert document_format(bomb.getvalue(), None) is None


def test_pdf_text_keeps_its_pages_and_metadata_apart():
    document = read_document(docfiles.tender_pdf("24 March 2026", 180), "pdf")
    lines = document.text.split("\n")
    assert lines[document.page_starts[2] :] == [
        "Deadline for bids: 24 March 2026",
        "Quantity: 180 cameras with facial recognition",
        "Bids are opened in public.",
    ]
    assert document.pages == 3 and document.flags == ()
    assert [page_of_line(document.page_starts, n) for n in range(len(lines))] == [
        1,
        1,
        1,
        2,
        2,
        3,
        3,
        3,
    ]
    assert document.metadata == {
        "title": "Procurement notice 2026/14",
        "author": "Ministry of Interior",
        "producer": "Writer 1.0",
        "creator": "Writer 1.0",
        "created": "2026-01-05T09:00:00+00:00",
    }
    assert "Writer" not in document.text


def test_a_resaved_pdf_has_the_same_text_and_other_metadata():
    original = docfiles.tender_pdf()
    again = docfiles.resaved(original, "Other Producer 9")
    assert again != original
    before, after = read_document(original, "pdf"), read_document(again, "pdf")
    assert before.text == after.text
    assert after.metadata["producer"] == "Other Producer 9" and after.metadata[
        "modified"
    ].startswith("2026-01-06")


def test_a_scan_has_pages_and_no_text_and_an_encrypted_pdf_no_text_at_all():
    scan = read_document(docfiles.scanned_pdf(pages=2), "pdf")
    assert (scan.text, scan.pages, scan.flags) == (None, 2, ("no-text",))
    sealed = read_document(docfiles.encrypted_pdf("Secret annex"), "pdf")
    assert sealed.text is None and sealed.flags == ("doc-encrypted",)


def test_docx_paragraphs_tables_and_explicit_page_breaks():
    document = read_document(
        docfiles.contract_docx("The supplier delivers 120 cameras."), "docx"
    )
    assert document.text.split("\n") == [
        "Framework contract",
        "Clause 1. The parties are the Ministry and the supplier.",
        "Clause 7. The supplier delivers 120 cameras.",
    ]
    assert document.page_starts == (0, 2)
    assert document.metadata["title"] == "Framework contract"
    assert document.metadata["author"] == "Legal department"


def test_odt_without_page_breaks_has_no_page_numbers():
    document = read_document(
        docfiles.notice_odt(["Call for tenders", "Opening  on\t10 March"]), "odt"
    )
    assert document.text == "Call for tenders\nOpening on 10 March"
    assert document.page_starts is None and document.metadata["title"] == "Notice"


def test_spreadsheet_cells_read_as_displayed_one_line_each():
    document = read_document(docfiles.budget_xlsx(1_950_000), "xlsx")
    assert document.text.split("\n") == [
        "Sheet1!A1: Budget line",
        "Sheet1!A14: Cameras",
        "Sheet1!B14: 25%",
        "Sheet1!C14: 1,950,000",
        "Sheet1!D14: 2026-03-10",
        "Sheet1!E14: 1234.50",
    ]
    assert document.page_starts is None
    ods = read_document(docfiles.budget_ods("1,950,000"), "ods")
    assert ods.text.split("\n") == ["Sheet1!A14: Cameras", "Sheet1!C14: 1,950,000"]


@pytest.mark.parametrize(
    "value, fmt, shown",
    [
        (1200000, "#,##0", "1,200,000"),
        (1200000.4, "#,##0.00", "1,200,000.40"),
        (3.14159, "0.00", "3.14"),
        (0.256, "0%", "26%"),
        (0.256, "0.0%", "25.6%"),
        (42, "General", "42"),
        (2.5, "General", "2.5"),
        (1500, '"€"#,##0', "€1,500"),
        (1500, "[$$-409]#,##0.00", "$1,500.00"),
        (-5, "#,##0;(#,##0)", "(5)"),
        (dt.datetime(2026, 3, 10), "dd/mm/yyyy", "2026-03-10"),
        (dt.datetime(2026, 3, 10, 14, 30), "dd/mm/yyyy hh:mm", "2026-03-10T14:30:00"),
        (True, "General", "TRUE"),
        ("multi\nline  text", "@", "multi\nline  text"),
    ],
)
def test_number_formats_applied_as_a_spreadsheet_shows_them(value, fmt, shown):
    assert display_value(value, fmt) == shown


def test_cell_lines_quote_sheet_names_and_keep_one_line():
    assert cell_line("Sheet1", "C14", "1,200,000") == "Sheet1!C14: 1,200,000"
    assert cell_line("Q1 budget", "B2", "a\nb") == "'Q1 budget'!B2: a b"
    assert cell_line("it's", "A1", "x") == "'it''s'!A1: x"


def test_past_max_pages_the_pages_read_are_kept_and_flagged():
    document = read_document(
        docfiles.page_bomb(5000), "pdf", DocumentLimits(max_pages=30)
    )
    assert document.text.split("\n") == ["Annex page"] * 30
    assert document.flags == ("doc-truncated",) and document.pages == 5000


def test_deeply_nested_objects_are_cut_off_not_followed():
    document = read_document(docfiles.nested_bomb(), "pdf", DocumentLimits(timeout=60))
    assert (
        document.flags == ("doc-truncated",) and document.text is None
    )  # compared by digest


def test_the_worker_limits_its_own_address_space():
    from crawler.documents.worker import MEMORY_LIMIT

    read_document(docfiles.tender_pdf(), "pdf")
    limits = Path(f"/proc/{shared_pool()._proc.pid}/limits").read_text()
    [line] = [
        line for line in limits.splitlines() if line.startswith("Max address space")
    ]
    assert line.split()[3] == str(MEMORY_LIMIT) == str(1024 * 2**20)


def test_a_document_that_spends_the_workers_memory_is_cut_off_and_the_worker_replaced():
    bomb = docfiles.memory_bomb_docx()
    assert len(bomb) < 2 * 2**20
    pool = shared_pool()
    read_document(docfiles.tender_pdf(), "pdf")
    started = pool.started
    cut = read_document(bomb, "docx", DocumentLimits(timeout=600))
    assert cut.flags == ("doc-truncated",) and cut.text is None and cut.error is None
    after = read_document(docfiles.tender_pdf(), "pdf")
    assert (
        pool.started == started + 1
        and after.flags == ()
        and "Quantity: 120" in after.text
    )


def test_past_the_time_limit_the_worker_is_killed_replaced_and_the_next_document_read():
    pool = shared_pool()
    read_document(docfiles.tender_pdf(), "pdf")  # a worker is running
    started = pool.started
    cut = read_document(
        docfiles.page_bomb(40_000), "pdf", DocumentLimits(timeout=0.5, max_pages=40_000)
    )
    assert "doc-truncated" in cut.flags
    assert cut.text is None or set(cut.text.split("\n")) == {
        "Annex page"
    }  # compared by digest, or in part
    assert pool.started == started  # killed, not yet replaced
    after = read_document(docfiles.tender_pdf(), "pdf")
    assert (
        pool.started == started + 1
        and after.flags == ()
        and "Quantity: 120" in after.text
    )


def test_each_change_is_named_by_the_page_it_starts_on():
    from crawler.diff import diff_texts
    from crawler.report.documents import change_pages
    from crawler.report.sidebyside import paragraph_views

    old = "\n".join(
        f"Page {p} line {n} of the tender." for p in (1, 2, 3) for n in (1, 2)
    )
    new = old.replace("Page 1 line 2 of", "Page 1 line 2, amended, of").replace(
        "Page 3 line 1 of", "Page 3 line 1 (new deadline) of"
    )
    views = paragraph_views(diff_texts(old, new).ops, None)
    pages = {"page_starts": [0, 2, 4]}
    assert change_pages(views["change_lines"], pages, pages) == ["page 1", "page 3"]
    # a page inserted before: the same change is on page 4 now, page 3 before
    inserted = "\n".join(["Annex A.", "Annex A, continued.", *new.split("\n")])
    views = paragraph_views(diff_texts(old, inserted).ops, None)
    assert change_pages(
        views["change_lines"], pages, {"page_starts": [0, 2, 4, 6]}
    ) == [
        "page 1",
        "page 2 (page 1 before)",
        "page 4 (page 3 before)",
    ]
    assert change_pages(views["change_lines"], None, None) == [None, None, None]


def test_a_listing_of_documents_keeps_only_links_whose_path_ends_in_a_document_suffix():
    from crawler.listing import choose_items

    links = [
        "https://ministry.test/notices/2026-14.PDF",
        "https://ministry.test/notices/2026-14",
        "https://ministry.test/notices/annex%202.docx?download=1",
        "https://ministry.test/notices/budget.xlsx",
        "https://ministry.test/notices/form.odt#page=2",
        "https://ministry.test/notices/sheet.ods",
        "https://ministry.test/notices/scan.pdf.html",
        "https://ministry.test/download?file=tender.pdf",
        "https://other.test/notices/elsewhere.pdf",
        "https://ministry.test/archive/old.pdf",
    ]
    items = choose_items(
        "https://ministry.test/notices/",
        links,
        match="/notices/",
        cross_site=False,
        max_items=4,
        documents=True,
    )
    assert items.urls == (
        "https://ministry.test/notices/2026-14.PDF",
        "https://ministry.test/notices/annex%202.docx?download=1",
        "https://ministry.test/notices/budget.xlsx",
        "https://ministry.test/notices/form.odt#page=2",
    )
    assert items.capped == ("https://ministry.test/notices/sheet.ods",)
    every = choose_items(
        "https://ministry.test/notices/",
        links,
        match=None,
        cross_site=False,
        max_items=200,
    )
    assert (
        len(every.urls) == 9
    )  # without documents: every link of the site, documents or not
