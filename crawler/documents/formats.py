"""Which document a body is: PDF, DOCX, XLSX, ODT or ODS, by its Content-Type and by its bytes (pure).

Servers lie: a PDF served as ``text/html`` or ``application/octet-stream`` is still a PDF.
The bytes decide; the Content-Type only names a format the bytes could be and never makes
bytes that are not a document into one:

* **PDF**: the ``%PDF-1.x`` signature within the first 1024 bytes (where readers look for it), after
  nothing that looks like markup (a web page that mentions the signature is still a web page);
  up to 64 KiB in when the server says ``application/pdf``.
* **OOXML** (DOCX, XLSX) and **ODF** (ODT, ODS) are zip files: an ODF package's first entry is
  ``mimetype``, stored, holding its media type; an OOXML package has ``[Content_Types].xml``,
  whose main part's content type says word processing or spreadsheet. Only the zip's central
  directory and these two small entries are read (each at most 64 KiB).
"""

from __future__ import annotations

import io
import re
import zipfile

__all__ = ["FORMATS", "MIME_TYPES", "document_format", "metadata"]

#: The formats read as documents, with what they are.
FORMATS: dict[str, str] = {
    "pdf": "PDF (text per page)",
    "docx": "Word (OOXML) text document",
    "xlsx": "Excel (OOXML) spreadsheet",
    "odt": "OpenDocument text",
    "ods": "OpenDocument spreadsheet",
}

#: Media types of each format, as servers declare them.
MIME_TYPES: dict[str, str] = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
}

_PDF_SIGNATURE_WITHIN = 1024
_PDF_SIGNATURE = re.compile(rb"%PDF-[12]\.\d")
_SMALL_ENTRY = 64 * 1024
#: ``[Content_Types].xml``'s content type of the main part, by format.
_OOXML_MAIN = {
    "docx": b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
#: A body declared a PDF may have some junk before its signature (readers tolerate it).
_DECLARED_PDF_WITHIN = 64 * 1024


def document_format(body: bytes, content_type: str | None = None) -> str | None:
    """``"pdf"``, ``"docx"``, ``"xlsx"``, ``"odt"``, ``"ods"``, or None when the bytes are no such document.

    ``content_type`` is only a hint (it never makes bytes that are not a document into one).
    """
    head = bytes(body[:_PDF_SIGNATURE_WITHIN])
    declared = MIME_TYPES.get((content_type or "").partition(";")[0].strip().lower())
    found = _PDF_SIGNATURE.search(
        bytes(body[:_DECLARED_PDF_WITHIN]) if declared == "pdf" else head
    )
    if found is not None and b"<" not in body[: found.start()]:
        return "pdf"
    if not head.startswith(b"PK\x03\x04"):
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return None
    with archive:
        names = set(archive.namelist())
        if "mimetype" in names:
            kind = _small(archive, "mimetype").strip().decode("ascii", "replace")
            return {
                "application/vnd.oasis.opendocument.text": "odt",
                "application/vnd.oasis.opendocument.spreadsheet": "ods",
            }.get(kind)
        if "[Content_Types].xml" in names:
            types = _small(archive, "[Content_Types].xml")
            return next(
                (fmt for fmt, main in _OOXML_MAIN.items() if main in types), None
            )
    return None


def _small(archive: zipfile.ZipFile, name: str) -> bytes:
    """The first 64 KiB of one entry (a bomb of an entry costs no more)."""
    try:
        with archive.open(name) as entry:
            return entry.read(_SMALL_ENTRY)
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ):
        return b""


#: Characters kept of one metadata value.
MAX_META = 500


def metadata(pairs) -> dict[str, str]:
    """A document's metadata from ``(key, value)`` pairs: dates in ISO 8601, other values on one line, at most
    :data:`MAX_META` characters; empty values left out."""
    meta = {}
    for key, value in pairs:
        if value is None:
            continue
        text = value.isoformat() if hasattr(value, "isoformat") else " ".join(str(value).split())
        if text:
            meta[key] = text[:MAX_META]
    return meta
