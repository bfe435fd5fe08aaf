"""WARC 1.1 records: request/response/revisit exchanges, warcinfo, resource and metadata records.

:class:`WarcWriter` writes records (one gzip member each) to a file object it
is given; the caller owns paths, rotation and the ``.open`` → final rename
(:mod:`crawler.warcfiles`). A failed write (a full disk) is cut back at once,
so a file never ends with a torn record. Every header value is kept on one
line: a value from a page can never forge another header.

Digests follow the convention replay and dedup tools expect: ``sha1:`` in
base32, the payload digest over the payload exactly as stored (content-coding
kept, transfer-coding removed, so never over chunked bytes: warcio#74).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import re
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from urllib.parse import urlsplit

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from .errors import ArchiveError
from .formatting import iso_precise
from .fetch.model import Exchange

WARC_VERSION = "WARC/1.1"
# Headers that describe the bytes on the wire rather than the stored payload.
_HOP_HEADERS = {"transfer-encoding"}
# A field name as RFC 9110 spells a token; names are chosen by code, so anything else is a bug.
_FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_LINE_BREAKS = re.compile(r"[\r\n]+")
_URI_UNSAFE = re.compile(r"[\x00-\x20\x7f]")
# WARC headers holding a URI: a CR/LF (or space) in them is percent-encoded rather than blanked.
_URI_HEADERS = {"warc-target-uri", "warc-refers-to-target-uri"}
# WARC headers resource() sets itself; ``extra`` may not replace them.
_RESOURCE_OWN = {
    "warc-type", "warc-record-id", "warc-date", "warc-target-uri", "warc-concurrent-to",
    "content-type", "content-length", "warc-block-digest", "warc-payload-digest",
}


def write_error_message(path, exc: OSError) -> str:
    """One line that says what could not be written, why, and what to do about it."""
    why = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"cannot write {path}: the disk is full ({why}); free some space on the disk holding the "
            f"archive (or move it and pass --archive) and run again: what was committed is kept, "
            f"the rest is due again"
        )
    if exc.errno == errno.EFBIG:
        return (
            f"cannot write {path}: the file size limit was reached ({why}); raise the limit "
            f"(ulimit -f) or move the archive (--archive) and run again"
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (
            f"cannot write {path}: the archive is not writable ({why}); fix its permissions or "
            f"mount, or choose another with --archive, and run again"
        )
    return f"cannot write {path}: {why}; check the disk holding the archive and run again"


def _name(fileobj) -> str:
    return str(getattr(fileobj, "name", "the WARC file"))


def sha1_digest(data: bytes) -> str:
    """``sha1:<BASE32>``, the WARC digest form."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def warc_date(ts: float | datetime) -> str:
    """A WARC 1.1 date: UTC, ISO 8601, microseconds, ``Z``."""
    return iso_precise(ts)


def make_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _one_line(value) -> str:
    """``value`` as one header line's worth: each run of CR/LF becomes a space.

    warcio joins ``name: value`` as given, so a value from a page holding
    ``\\r\\nWARC-Type: response`` would otherwise add a header of its own.
    """
    return _LINE_BREAKS.sub(" ", str(value))


def _one_line_uri(value) -> str:
    """A URI header value with control characters and spaces percent-encoded (as WHATWG URLs have them)."""
    return _URI_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", str(value))


def _field_name(name: str) -> str:
    if not isinstance(name, str) or not _FIELD_NAME.match(name):
        raise ValueError(f"{name!r} is not a valid header or warc-fields name (letters, digits, '-' and the like)")
    return name


def warc_fields(fields: Iterable[tuple[str, object]]) -> bytes:
    """An ``application/warc-fields`` block: ``name: value\\r\\n`` per pair, in order.

    Repeated names are kept; a ``None`` value is left out; CR/LF in a value
    becomes a space so that no value can add a field of its own.
    """
    return "".join(
        f"{_field_name(name)}: {_one_line(value)}\r\n" for name, value in fields if value is not None
    ).encode("utf-8")


def _keep_headers_on_one_line(record: ArcWarcRecord) -> None:
    """Make every header of ``record`` (WARC and HTTP) a single line before warcio writes it.

    Clean values are left exactly as they are, so this changes no bytes of a
    well-formed record.
    """
    rec = record.rec_headers
    rec.headers = [
        (_one_line(name), _one_line_uri(value) if name.lower() in _URI_HEADERS else _one_line(value))
        for name, value in rec.headers
    ]
    if record.content_type is not None:
        record.content_type = _one_line(record.content_type)
    http = record.http_headers
    if http:
        http.protocol = _one_line(http.protocol)
        http.statusline = _one_line(http.statusline)
        http.headers = [(_one_line(name), _one_line(value)) for name, value in http.headers]


@dataclass(frozen=True)
class RecordRef:
    """Where a record landed: its id and the byte range of its gzip member; what the custody log holds of it.

    ``sha256`` is over the record's uncompressed bytes as written (WARC headers, block and the closing
    CRLF CRLF: the whole gzip member decompressed); the digests are its WARC headers' (None when absent).
    """

    record_id: str
    offset: int
    length: int
    record_type: str
    sha256: str | None = None
    block_digest: str | None = None
    payload_digest: str | None = None

    def custody(self) -> dict:
        """The record as a ``capture`` entry of the custody log lists it (docs/evidence.md)."""
        return {"type": self.record_type, "record_id": self.record_id, "offset": self.offset, "length": self.length,
                "sha256": self.sha256, "block_digest": self.block_digest, "payload_digest": self.payload_digest}


#: zlib level of each record's gzip member. warcio's own writer uses 9; 6 (zlib's default) costs about 0.6
#: times its time for members 0.3 % bigger on real pages (bench/README.md, "#17 where the CPU goes"). The
#: level changes only the compressed bytes: a member decompresses to the same record, with the same
#: digests, whatever level wrote it (readers never need to know it).
GZIP_LEVEL = 6


class _HashingGzip:
    """What warcio writes a record to: hashes the uncompressed bytes and gzips them into ``out``.

    One gzip member per record, as ``WARCWriter(gzip=True)`` writes them (at :data:`GZIP_LEVEL` rather than
    warcio's 9: the same uncompressed bytes); the SHA-256 costs no second pass over the record.
    """

    def __init__(self, out: BytesIO):
        self.out = out
        self.sha256 = hashlib.sha256()
        self._compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def start(self) -> None:
        self.sha256 = hashlib.sha256()
        self._compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, data) -> None:
        self.sha256.update(data)
        self.out.write(self._compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self._compressor.flush())


@dataclass(frozen=True)
class RevisitOf:
    """The earlier response record an identical payload refers to."""

    record_id: str
    target_uri: str
    date: str          # WARC-Date of the referred record


def stored_response_headers(ex: Exchange) -> list[tuple[str, str]]:
    """Response headers that match the stored payload.

    The payload is stored de-chunked with its content-coding kept, so
    ``Transfer-Encoding`` goes and ``Content-Length`` is the stored length.
    """
    out = []
    for name, value in ex.response_headers:
        lname = name.lower()
        if lname in _HOP_HEADERS or lname == "content-length":
            continue
        out.append((name, value))
    out.append(("Content-Length", str(len(ex.body))))
    return out


class WarcWriter:
    """Writes WARC 1.1 records to ``fileobj``, one gzip member per record.

    Ids are made by ``make_id`` so tests can fix them; dates come from the
    exchanges themselves (when each fetch began), never from a clock read here.

    Each record is built in memory and handed to ``fileobj`` whole, so a
    failed write (a full disk) is cut back to where the record began and the
    file ends with a complete record again; ``good_end`` is that boundary and
    ``torn`` says the cut itself failed (the file must then not be finalised).
    """

    def __init__(self, fileobj, *, make_id: Callable[[], str] = make_record_id):
        self.out = fileobj
        self.make_id = make_id
        self._buf = BytesIO()
        self._gzip = _HashingGzip(self._buf)
        self._writer = WARCWriter(self._gzip, gzip=False, warc_version="1.1")
        self.good_end = fileobj.tell()
        self.torn = False
        #: SHA-256 of the file's bytes written through this writer (the whole file when it began empty).
        self.file_sha256 = hashlib.sha256()
        #: Every record written, in order; :meth:`take_refs` hands them over (the custody log's capture entries).
        self.refs: list[RecordRef] = []

    def take_refs(self) -> list[RecordRef]:
        """The records written since the last call, in order."""
        refs, self.refs = self.refs, []
        return refs

    def _write(self, record: ArcWarcRecord) -> RecordRef:
        if self.torn:
            raise ArchiveError(f"cannot write to {_name(self.out)}: an earlier write failed part-way")
        _keep_headers_on_one_line(record)
        self._buf.seek(0)
        self._buf.truncate()
        self._gzip.start()
        self._writer.write_record(record)
        whole = self._buf.getvalue()
        data = memoryview(whole)
        start = self.out.tell()
        try:
            while data:
                n = self.out.write(data)
                if n is None:  # a non-blocking raw stream; files never do this
                    raise BlockingIOError(0, "write would block")
                data = data[n:]
        except BaseException as exc:
            self._cut_back(start)
            if isinstance(exc, OSError):
                raise ArchiveError(write_error_message(_name(self.out), exc)) from exc
            raise
        self.good_end = self.out.tell()
        self.file_sha256.update(whole)
        headers = record.rec_headers
        ref = RecordRef(headers.get_header("WARC-Record-ID"), start, self.good_end - start, record.rec_type,
                        self._gzip.sha256.hexdigest(), headers.get_header("WARC-Block-Digest"),
                        headers.get_header("WARC-Payload-Digest"))
        self.refs.append(ref)
        return ref

    def _cut_back(self, end: int) -> None:
        """Drop a partly written record so the file ends with a complete one."""
        try:
            self.out.seek(end)
            self.out.truncate(end)
        except Exception:
            self.torn = True

    def _headers(self, record_type: str, uri: str | None, date: str, extra: dict) -> StatusAndHeaders:
        headers = [("WARC-Type", record_type), ("WARC-Record-ID", self.make_id()), ("WARC-Date", date)]
        if uri is not None:
            headers.append(("WARC-Target-URI", uri))
        headers.extend((k, v) for k, v in extra.items() if v is not None)
        return StatusAndHeaders("", headers, protocol=WARC_VERSION)

    def warcinfo(self, date: float | datetime, filename: str, fields: dict) -> RecordRef:
        body = warc_fields(fields.items())
        rec_headers = self._headers("warcinfo", None, warc_date(date), {"WARC-Filename": filename})
        record = ArcWarcRecord(
            "warc", "warcinfo", rec_headers, BytesIO(body), None, "application/warc-fields", len(body),
            payload_length=len(body),
        )
        return self._write(record)

    def resource(
        self,
        uri: str,
        date: float | datetime,
        content_type: str,
        body: bytes,
        *,
        concurrent_to: str | None = None,
        extra: dict[str, str | None] | None = None,
    ) -> RecordRef:
        """Write a ``resource`` record: ``body`` as it is, with no HTTP envelope.

        ``uri`` names what it is (``urn:screenshot:https://example.org/page``);
        ``concurrent_to`` is the id of the record it was captured with (the
        page's response); ``extra`` adds WARC headers (``None`` values left out)
        but may not replace the ones this method sets.
        """
        extra = dict(extra or {})
        for name in extra:
            if _field_name(name).lower() in _RESOURCE_OWN:
                raise ValueError(f"resource() sets {name} itself; pass it as an argument, not in extra")
        digest = sha1_digest(body)
        headers = {"WARC-Concurrent-To": concurrent_to, **extra}
        headers.update({"WARC-Payload-Digest": digest, "WARC-Block-Digest": digest})
        rec_headers = self._headers("resource", uri, warc_date(date), headers)
        record = ArcWarcRecord(
            "warc", "resource", rec_headers, BytesIO(body), None, content_type, len(body),
            payload_length=len(body),
        )
        return self._write(record)

    def metadata(
        self,
        uri: str,
        date: float | datetime,
        fields: Iterable[tuple[str, object]],
        *,
        concurrent_to: str | None = None,
        refers_to: str | None = None,
    ) -> RecordRef:
        """Write a ``metadata`` record whose block is ``application/warc-fields``.

        ``fields`` are (name, value) pairs, written in order, names may repeat
        (``outlink`` once per link); see :func:`warc_fields`.
        """
        body = warc_fields(fields)
        digest = sha1_digest(body)
        rec_headers = self._headers(
            "metadata", uri, warc_date(date),
            {
                "WARC-Concurrent-To": concurrent_to,
                "WARC-Refers-To": refers_to,
                "WARC-Payload-Digest": digest,
                "WARC-Block-Digest": digest,
            },
        )
        record = ArcWarcRecord(
            "warc", "metadata", rec_headers, BytesIO(body), None, "application/warc-fields", len(body),
            payload_length=len(body),
        )
        return self._write(record)

    def exchange(self, ex: Exchange, *, revisit: RevisitOf | None = None) -> tuple[RecordRef, RecordRef]:
        """Write the response (or revisit) record and its request record; return (request, response)."""
        date = warc_date(ex.started)
        response_id = self.make_id()
        payload_digest = sha1_digest(ex.body)
        common = {"WARC-IP-Address": ex.ip}
        status = StatusAndHeaders(
            f"{ex.status} {ex.reason}".strip(), stored_response_headers(ex), protocol=ex.protocol
        )
        if revisit is None:
            extra = dict(common, **{"WARC-Payload-Digest": payload_digest})
            if ex.truncated:
                extra["WARC-Truncated"] = ex.truncated
            rec_headers = self._headers("response", ex.url, date, extra)
            rec_headers.replace_header("WARC-Record-ID", response_id)
            record = ArcWarcRecord(
                "warc", "response", rec_headers, BytesIO(ex.body), status,
                "application/http; msgtype=response", len(ex.body), payload_length=len(ex.body),
            )
        else:
            extra = dict(
                common,
                **{
                    "WARC-Profile": "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
                    "WARC-Refers-To": revisit.record_id,
                    "WARC-Refers-To-Target-URI": revisit.target_uri,
                    "WARC-Refers-To-Date": revisit.date,
                    "WARC-Payload-Digest": payload_digest,
                },
            )
            rec_headers = self._headers("revisit", ex.url, date, extra)
            rec_headers.replace_header("WARC-Record-ID", response_id)
            record = ArcWarcRecord(
                "warc", "revisit", rec_headers, BytesIO(b""), status,
                "application/http; msgtype=response", 0, payload_length=0,
            )
        response_ref = self._write(record)

        split = urlsplit(ex.url)
        path = split.path or "/"
        if split.query:
            path += "?" + split.query
        request_status = StatusAndHeaders(f"{ex.method} {path} {ex.protocol}", list(ex.request_headers), is_http_request=True)
        req_headers = self._headers("request", ex.url, date, dict(common, **{"WARC-Concurrent-To": response_id}))
        request = ArcWarcRecord(
            "warc", "request", req_headers, BytesIO(ex.request_body), request_status,
            "application/http; msgtype=request", len(ex.request_body),
            payload_length=len(ex.request_body),
        )
        return self._write(request), response_ref
