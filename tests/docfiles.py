"""Documents made for tests (and `make bench`): PDFs with fpdf2 and pypdf, DOCX with python-docx,
XLSX with openpyxl, ODT and ODS with odfpy. Dates are fixed, so equal arguments give equal bytes."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

FIXED = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)

TENDER_PAGES = [
    [
        "Ministry of Interior",
        "Public procurement notice 2026/14",
        "Subject: video surveillance equipment",
    ],
    ["Conditions of participation", "Bidders submit the documents listed in annex 2."],
    [
        "Deadline for bids: {deadline}",
        "Quantity: {quantity} cameras with facial recognition",
        "Bids are opened in public.",
    ],
]


def tender_pdf(
    deadline: str = "10 March 2026",
    quantity: int = 120,
    *,
    producer: str = "Writer 1.0",
    modified: dt.datetime = FIXED,
    pages: list[list[str]] | None = None,
) -> bytes:
    """A tender notice of three pages; the deadline and the quantity are on page 3."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(FIXED)
    pdf.set_title("Procurement notice 2026/14")
    pdf.set_author("Ministry of Interior")
    pdf.set_producer(producer)
    pdf.set_creator(producer)
    pdf.set_font("helvetica", size=12)
    for lines in pages or TENDER_PAGES:
        pdf.add_page()
        for line in lines:
            pdf.cell(
                0,
                10,
                line.format(deadline=deadline, quantity=quantity),
                new_x="LMARGIN",
                new_y="NEXT",
            )
    raw = bytes(pdf.output())
    return (
        _with_info(raw, {"/ModDate": _pdf_date(modified), "/Producer": producer})
        if modified != FIXED
        else raw
    )


def _pdf_date(when: dt.datetime) -> str:
    return when.strftime("D:%Y%m%d%H%M%SZ")


def _with_info(raw: bytes, info: dict) -> bytes:
    """The same pages written again by pypdf, with other document information (a re-save)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw)))
    writer.add_metadata(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def resaved(raw: bytes, producer: str) -> bytes:
    """``raw`` saved again by another producer, a day later: same text, other bytes and metadata."""
    return _with_info(
        raw,
        {"/Producer": producer, "/ModDate": _pdf_date(FIXED + dt.timedelta(days=1))},
    )


def scanned_pdf(pages: int = 2, shade: int = 40) -> bytes:
    """Pages that are only images (a scan): no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    pdf = FPDF()
    pdf.set_creation_date(FIXED)
    for number in range(pages):
        image = Image.new("L", (200, 280), 255)
        ImageDraw.Draw(image).rectangle(
            (20, 20 + number * 10, 180, 60 + number * 10), fill=shade
        )
        pdf.add_page()
        pdf.image(image, x=10, y=10, w=100)
    return bytes(pdf.output())


def encrypted_pdf(text: str = "Secret annex") -> bytes:
    """A PDF that opens only with its password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(tender_pdf(pages=[[text]]))))
    writer.encrypt(user_password="s3cret", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_bomb(pages: int) -> bytes:
    """A small PDF declaring ``pages`` pages, all drawing the same content stream."""
    content = b"BT /F1 12 Tf 72 720 Td (Annex page) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    first_page = len(objects) + 1
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(pages))
    objects[1] = b"<< /Type /Pages /Count %d /Kids [%s] >>" % (pages, kids)
    objects += [
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>"
        )
    ] * pages
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, obj))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, xref)
    )
    return out.getvalue()


def nested_bomb(depth: int = 200_000) -> bytes:
    """A one-page PDF whose catalog holds arrays nested ``depth`` deep."""
    body = page_bomb(1)
    return body.replace(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Catalog /Pages 2 0 R /Nest " + b"[" * depth + b"]" * depth + b" >>",
    )


def contract_docx(clause: str, *, title: str = "Framework contract") -> bytes:
    """A two-page contract (an explicit page break) whose clause 7 is ``clause``."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = "Legal department"
    document.core_properties.created = FIXED.replace(tzinfo=None)
    document.core_properties.modified = FIXED.replace(tzinfo=None)
    document.add_heading("Framework contract", level=1)
    document.add_paragraph("Clause 1. The parties are the Ministry and the supplier.")
    document.add_page_break()
    document.add_paragraph(f"Clause 7. {clause}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def memory_bomb_docx(paragraphs: int = 6_000_000) -> bytes:
    """A DOCX of 1.7 MB whose document.xml unpacks to ``paragraphs`` × 80 bytes (480 MB): more than the
    worker's address space holds once parsed. Written in a stream: the test's memory stays small."""
    source = zipfile.ZipFile(io.BytesIO(contract_docx("x")))
    out = io.BytesIO()
    para = b"<w:p><w:r><w:t>Clause repeated many times to spend the memory.</w:t></w:r></w:p>"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                archive.writestr(info, source.read(info))
                continue
            head, _, tail = source.read(info).partition(b"<w:body>")
            with archive.open("word/document.xml", "w") as entry:
                entry.write(head + b"<w:body>")
                for _ in range(paragraphs // 10_000):
                    entry.write(para * 10_000)
                entry.write(tail)
    return out.getvalue()


def notice_odt(lines: list[str], *, title: str = "Notice") -> bytes:
    """An OpenDocument text of ``lines``, one paragraph each."""
    from odf import dc
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    document = OpenDocumentText()
    document.meta.addElement(dc.Title(text=title))
    for line in lines:
        document.text.addElement(P(text=line))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def budget_xlsx(c14: float = 1_200_000) -> bytes:
    """A budget sheet: a header, a share, a date and C14, the amount, formatted ``#,##0``."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet["A1"] = "Budget line"
    sheet["A14"] = "Cameras"
    sheet["B14"] = 0.25
    sheet["B14"].number_format = "0%"
    sheet["C14"] = c14
    sheet["C14"].number_format = "#,##0"
    sheet["D14"] = dt.datetime(2026, 3, 10)
    sheet["D14"].number_format = "yyyy-mm-dd"
    sheet["E14"] = 1234.5
    sheet["E14"].number_format = "0.00"
    book.properties.created = book.properties.modified = FIXED.replace(tzinfo=None)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def budget_ods(c14: str = "1,200,000") -> bytes:
    """An OpenDocument spreadsheet whose C14 displays ``c14``."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Sheet1")
    table.addElement(TableRow(numberrowsrepeated=13))
    row = TableRow()
    row.addElement(TableCell(valuetype="string"))
    row.lastChild.addElement(P(text="Cameras"))
    row.addElement(TableCell(numbercolumnsrepeated=1))
    cell = TableCell(valuetype="float", value=c14.replace(",", ""))
    cell.addElement(P(text=c14))
    row.addElement(cell)
    table.addElement(row)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()
