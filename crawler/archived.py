"""What a capture archived, read back from its WARC record without pywb (``lastseen show``).

- :func:`evidence_lines`: the lines that prove a capture (time, URL, status, WARC file, offset, record
  id, payload SHA-256; for a revisit, the record its payload is in), each made printable;
- :func:`payload_record`: where the record holding a capture's payload is: its own response record, or
  for a revisit record the response it refers to (as replay tools resolve it);
- :func:`copy_payload`: that payload byte for byte as ``warcio extract --payload`` gives it (warcio's own
  ``content_stream()``: transfer and content codings removed), streamed to a binary file;
- :func:`http_headers`: the HTTP status line and headers of the capture's own record, as archived.

Paths come from the index and are checked to stay inside the archive. A capture with nothing archived
(a failed fetch) and an index that does not say where a record is raise :class:`UsageError` (exit 2,
saying why); a record that cannot be read where the index says raises :class:`ArchiveError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .errors import ArchiveError, UsageError
from .formatting import iso, one_line, parse_iso

__all__ = ["copy_payload", "evidence_lines", "http_headers", "payload_record"]

_CHUNK = 1 << 16


def evidence_lines(row: dict, original: dict | None = None) -> list[str]:
    """The evidence of capture ``row`` (``original``: where a revisit's payload is, :func:`payload_record`)."""
    url = row.get("final_url") or row["url"]
    lines = [
        f"capture      {row['id']} of {one_line(row['target'])}",
        f"time         {iso(parse_iso(row['started']))}",
        f"URL          {one_line(url)}"
        + (f" (requested {one_line(row['url'])})" if url != row["url"] else ""),
        f"status       {row['status'] if row.get('status') is not None else '-'}"
        + (f" ({one_line(row['error'])})" if row.get("error") else ""),
        f"WARC file    {one_line(row.get('warc_file') or '-')}",
        f"offset       {row['warc_offset'] if row.get('warc_offset') is not None else '-'}",
        f"record id    {one_line(row.get('warc_record_id') or '-')}"
        + (f" ({row['record_type']})" if row.get("record_type") else ""),
        f"SHA-256      {row.get('payload_sha256') or '-'} (payload as archived)",
    ]
    if row.get("record_type") == "revisit":
        where = (
            f"{one_line(original['warc_file'])} offset {original['offset']}"
            if original
            else "not indexed"
        )
        lines.append(
            f"payload in   {one_line(row.get('refers_to_record_id') or '-')} ({where}), "
            f"identical payload archived {one_line(row.get('refers_to_date') or '?')}"
        )
    return lines


def _require_record(row: dict) -> None:
    """A :class:`UsageError` when capture ``row`` archived no response (a failed fetch)."""
    if (
        row.get("record_type") is None
        or row.get("warc_file") is None
        or row.get("warc_offset") is None
    ):
        why = (
            f"it failed ({one_line(row['error'])})"
            if row.get("error")
            else "no response was archived"
        )
        raise UsageError(
            f"capture {row['id']} of {one_line(row['target'])!r} has no archived response: {why}; "
            f"pick another with --at"
        )


def payload_record(store, row: dict) -> dict:
    """``{"warc_file", "offset", "record_id"}`` of the record that holds capture ``row``'s payload."""
    _require_record(row)
    if row["record_type"] != "revisit":
        return {
            "warc_file": row["warc_file"],
            "offset": row["warc_offset"],
            "record_id": row["warc_record_id"],
        }
    original = (
        store.response_record(row["refers_to_record_id"])
        if row.get("refers_to_record_id")
        else None
    )
    if original is None:
        raise ArchiveError(
            f"capture {row['id']} is a revisit of record {one_line(row.get('refers_to_record_id') or '?')}, which "
            f"the index does not hold (`lastseen reindex` rebuilds it from the WARC files)"
        )
    return {
        "warc_file": original["warc_file"],
        "offset": original["offset"],
        "record_id": row["refers_to_record_id"],
    }


@contextlib.contextmanager
def _record(
    root: Path, warc_file: str, offset: int, record_id: str | None
) -> Iterator[object]:
    """The warcio record at ``offset`` of ``warc_file`` (relative to the archive ``root``), checked to be
    ``record_id``."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    relative = PurePosixPath(warc_file)
    if relative.is_absolute() or ".." in relative.parts:
        raise ArchiveError(
            f"the index points outside the archive ({one_line(warc_file)})"
        )
    path = Path(root, relative)
    where = f"{one_line(warc_file)} offset {offset}"
    with contextlib.ExitStack() as stack:
        try:
            fh = stack.enter_context(open(path, "rb"))
        except OSError as exc:
            raise ArchiveError(
                f"cannot read the WARC file {path}: {exc.strerror or exc}"
            ) from exc
        fh.seek(offset)
        try:
            record = next(iter(ArchiveIterator(fh)), None)
        except ArchiveLoadFailed as exc:
            raise ArchiveError(
                f"no WARC record at {where} ({exc}); the file changed since it was indexed"
            ) from exc
        if record is None:
            raise ArchiveError(
                f"no WARC record at {where}; the file changed since it was indexed"
            )
        found = record.rec_headers.get_header("WARC-Record-ID")
        if record_id is not None and found != record_id:
            raise ArchiveError(
                f"the record at {where} is {one_line(found or '?')}, not {one_line(record_id)} "
                f"(the file changed since it was indexed)"
            )
        yield record


def copy_payload(root: Path, where: dict, out: BinaryIO) -> int:
    """Write the payload of the record ``where`` names (:func:`payload_record`) to ``out``; bytes written."""
    written = 0
    with _record(
        root, where["warc_file"], where["offset"], where["record_id"]
    ) as record:
        stream = record.content_stream()
        try:
            while chunk := stream.read(_CHUNK):
                out.write(chunk)
                written += len(chunk)
        except OSError:
            raise
        except Exception as exc:  # zlib, brotli: a damaged body
            raise ArchiveError(
                f"the payload at {one_line(where['warc_file'])} offset {where['offset']} "
                f"cannot be decoded ({type(exc).__name__}: {exc})"
            ) from exc
    return written


def http_headers(root: Path, row: dict) -> list[str]:
    """The status line and headers of capture ``row``'s own record (a revisit's too), as archived."""
    _require_record(row)
    with _record(
        root, row["warc_file"], row["warc_offset"], row.get("warc_record_id")
    ) as record:
        headers = record.http_headers
        if headers is None:
            raise UsageError(
                f"capture {row['id']}'s record holds no HTTP headers ({record.rec_type} record)"
            )
        return [
            headers.protocol + " " + headers.statusline,
            *(f"{k}: {v}" for k, v in headers.headers),
        ]
