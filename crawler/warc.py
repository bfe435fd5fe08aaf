"""WARC 1.1 evidence files: records, rotation, the ``.open`` → final rename, recovery.

:class:`WarcWriter` writes records (one gzip member each) to a file object it
is given; :class:`WarcFileSet` owns the files under ``archive/warcs/``: it opens
``lastseen-<UTC timestamp>-<serial>.warc.gz.open``, rotates at ``max_size``,
fsyncs on :meth:`WarcFileSet.sync`, and renames to the final name on close
(as Heritrix and warcprox do). :func:`recover_open_files` runs at the next start
(under the archive lock) and cuts a crashed ``.open`` file back to its last
complete record before giving it its final name.

Digests follow the convention replay and dedup tools expect: ``sha1:`` in
base32, the payload digest over the payload exactly as stored (content-coding
kept, transfer-coding removed, so never over chunked bytes: warcio#74).
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from .errors import ArchiveError
from .fetch.model import Exchange

WARC_VERSION = "WARC/1.1"
OPEN_SUFFIX = ".open"
DEFAULT_MAX_SIZE = 10**9
# Headers that describe the bytes on the wire rather than the stored payload.
_HOP_HEADERS = {"transfer-encoding"}


def sha1_digest(data: bytes) -> str:
    """``sha1:<BASE32>``, the WARC digest form."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def warc_date(ts: float | datetime) -> str:
    """A WARC 1.1 date: UTC, ISO 8601, microseconds, ``Z``."""
    if not isinstance(ts, datetime):
        ts = datetime.fromtimestamp(ts, timezone.utc)
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


@dataclass(frozen=True)
class RecordRef:
    """Where a record landed: its id and the byte range of its gzip member."""

    record_id: str
    offset: int
    length: int
    record_type: str


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
    """

    def __init__(self, fileobj, *, make_id: Callable[[], str] = make_record_id):
        self.out = fileobj
        self.make_id = make_id
        self._writer = WARCWriter(fileobj, gzip=True, warc_version="1.1")

    def _write(self, record: ArcWarcRecord) -> RecordRef:
        start = self.out.tell()
        try:
            self._writer.write_record(record)
        except OSError as exc:
            raise ArchiveError(f"cannot write to the WARC file: {exc}") from exc
        return RecordRef(
            record.rec_headers.get_header("WARC-Record-ID"),
            start,
            self.out.tell() - start,
            record.rec_type,
        )

    def _headers(self, record_type: str, uri: str | None, date: str, extra: dict) -> StatusAndHeaders:
        headers = [("WARC-Type", record_type), ("WARC-Record-ID", self.make_id()), ("WARC-Date", date)]
        if uri is not None:
            headers.append(("WARC-Target-URI", uri))
        headers.extend((k, v) for k, v in extra.items() if v is not None)
        return StatusAndHeaders("", headers, protocol=WARC_VERSION)

    def warcinfo(self, date: float | datetime, filename: str, fields: dict) -> RecordRef:
        body = "".join(f"{k}: {v}\r\n" for k, v in fields.items() if v is not None).encode("utf-8")
        rec_headers = self._headers("warcinfo", None, warc_date(date), {"WARC-Filename": filename})
        record = ArcWarcRecord(
            "warc", "warcinfo", rec_headers, BytesIO(body), None, "application/warc-fields", len(body),
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


def warc_filename(when: datetime, serial: int, prefix: str = "lastseen") -> str:
    return f"{prefix}-{when.astimezone(timezone.utc).strftime('%Y%m%d%H%M%S%f')}-{serial:05d}.warc.gz"


class WarcFileSet:
    """The WARC files one run writes under ``directory``.

    Files are written as ``<name>.open`` and renamed to ``<name>`` when closed;
    the index rows name the final name from the start. :meth:`sync` flushes and
    fsyncs, and must be called before committing rows that point at new records.
    """

    def __init__(
        self,
        directory: Path,
        *,
        started: datetime,
        warcinfo: dict,
        max_size: int = DEFAULT_MAX_SIZE,
        make_id: Callable[[], str] = make_record_id,
    ):
        self.directory = Path(directory)
        self.started = started
        self.warcinfo_fields = warcinfo
        self.max_size = max_size
        self.make_id = make_id
        self.serial = 0
        self._file = None
        self._writer: WarcWriter | None = None
        self.name: str | None = None
        self.closed_files: list[str] = []

    def writer(self) -> tuple[WarcWriter, str]:
        """The writer to use for the next records, and its file's final name."""
        if self._file is not None and self._file.tell() >= self.max_size:
            self._close_current()
        if self._file is None:
            self._open_next()
        return self._writer, self.name

    def _open_next(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            while True:
                name = warc_filename(self.started, self.serial)
                self.serial += 1
                final = self.directory / name
                if not final.exists() and not (self.directory / (name + OPEN_SUFFIX)).exists():
                    break
            self._file = open(self.directory / (name + OPEN_SUFFIX), "xb")
        except OSError as exc:
            raise ArchiveError(f"cannot create a WARC file in {self.directory}: {exc}") from exc
        self.name = name
        self._writer = WarcWriter(self._file, make_id=self.make_id)
        fields = dict(self.warcinfo_fields)
        fields.setdefault("hostname", socket.gethostname())
        fields.setdefault("format", "WARC File Format 1.1")
        fields.setdefault("conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/")
        self._writer.warcinfo(self.started, name, fields)

    def sync(self) -> None:
        """Make everything written so far durable (flush + fsync)."""
        if self._file is None:
            return
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise ArchiveError(f"cannot write {self.directory / (self.name + OPEN_SUFFIX)}: {exc}") from exc

    def _close_current(self) -> None:
        if self._file is None:
            return
        self.sync()
        self._file.close()
        os.replace(self.directory / (self.name + OPEN_SUFFIX), self.directory / self.name)
        _fsync_dir(self.directory)
        self.closed_files.append(self.name)
        self._file = None
        self._writer = None

    def close(self) -> None:
        self._close_current()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def complete_members_end(path: Path) -> int:
    """Byte offset just after the last complete gzip member of ``path``.

    lastseen writes one record per gzip member, so a complete member (its CRC
    and length trailer verified by zlib) is a complete record.
    """
    end = 0
    in_member = 0
    decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            data = chunk
            while data:
                try:
                    decomp.decompress(data, 1 << 22)
                    while decomp.unconsumed_tail:
                        decomp.decompress(decomp.unconsumed_tail, 1 << 22)
                except zlib.error:
                    return end
                if decomp.eof:
                    rest = decomp.unused_data
                    in_member += len(data) - len(rest)
                    end += in_member
                    in_member = 0
                    data = rest
                    decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    in_member += len(data)
                    data = b""
    return end


@dataclass(frozen=True)
class Recovered:
    name: str            # the final file name
    kept_bytes: int      # bytes of complete records kept
    cut_bytes: int       # bytes of an incomplete trailing record removed
    removed: bool        # True when not even one record was complete (file deleted)


def recover_open_files(directory: Path) -> list[Recovered]:
    """Finish ``.open`` files a killed run left: keep complete records, rename.

    Must run under the archive lock so that no live run's file is touched.
    """
    directory = Path(directory)
    out = []
    if not directory.is_dir():
        return out
    for open_path in sorted(directory.glob("*" + OPEN_SUFFIX)):
        final = open_path.with_name(open_path.name[: -len(OPEN_SUFFIX)])
        size = open_path.stat().st_size
        end = complete_members_end(open_path)
        if end == 0:
            open_path.unlink()
            out.append(Recovered(final.name, 0, size, True))
            continue
        with open(open_path, "r+b") as fh:
            fh.truncate(end)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(open_path, final)
        out.append(Recovered(final.name, end, size - end, False))
    if out:
        _fsync_dir(directory)
    return out
