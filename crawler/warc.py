"""WARC 1.1 evidence files: records, rotation, the ``.open`` → final rename, recovery.

:class:`WarcWriter` writes records (one gzip member each) to a file object it
is given; :class:`WarcFileSet` owns the files under ``archive/warcs/``: it opens
``lastseen-<UTC timestamp>-<serial>.warc.gz.open``, rotates at ``max_size``,
fsyncs on :meth:`WarcFileSet.sync`, and renames to the final name on close
(as Heritrix and warcprox do). :func:`recover_open_files` runs at the next start
(under the archive lock) and cuts a crashed ``.open`` file back to its last
complete record before giving it its final name. A failed write (a full disk)
is cut back at once, so a file is never finalised with a torn record in it.

Digests follow the convention replay and dedup tools expect: ``sha1:`` in
base32, the payload digest over the payload exactly as stored (content-coding
kept, transfer-coding removed, so never over chunked bytes: warcio#74).
"""

from __future__ import annotations

import base64
import errno
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

    Each record is built in memory and handed to ``fileobj`` whole, so a
    failed write (a full disk) is cut back to where the record began and the
    file ends with a complete record again; ``good_end`` is that boundary and
    ``torn`` says the cut itself failed (the file must then not be finalised).
    """

    def __init__(self, fileobj, *, make_id: Callable[[], str] = make_record_id):
        self.out = fileobj
        self.make_id = make_id
        self._buf = BytesIO()
        self._writer = WARCWriter(self._buf, gzip=True, warc_version="1.1")
        self.good_end = fileobj.tell()
        self.torn = False

    def _write(self, record: ArcWarcRecord) -> RecordRef:
        if self.torn:
            raise ArchiveError(f"cannot write to {_name(self.out)}: an earlier write failed part-way")
        self._buf.seek(0)
        self._buf.truncate()
        self._writer.write_record(record)
        data = memoryview(self._buf.getvalue())
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
        return RecordRef(record.rec_headers.get_header("WARC-Record-ID"), start, self.good_end - start, record.rec_type)

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
        self._synced = True
        self._abandoned: list[str] = []
        self.closed_files: list[str] = []
        self.left_open: list[str] = []

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
            # Unbuffered: each record reaches the file in one piece or is cut back (see WarcWriter).
            self._file = open(self.directory / (name + OPEN_SUFFIX), "xb", buffering=0)
        except OSError as exc:
            raise ArchiveError(write_error_message(self.directory, exc)) from exc
        self.name = name
        self._synced = True
        self._writer = WarcWriter(self._file, make_id=self.make_id)
        fields = dict(self.warcinfo_fields)
        fields.setdefault("hostname", socket.gethostname())
        fields.setdefault("format", "WARC File Format 1.1")
        fields.setdefault("conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/")
        try:
            self._writer.warcinfo(self.started, name, fields)
        except BaseException:
            self._abandon()
            raise
        _fsync_dir(self.directory)  # the new name survives a power loss before the first row is committed

    @property
    def open_path(self) -> Path | None:
        return self.directory / (self.name + OPEN_SUFFIX) if self._file is not None else None

    def sync(self) -> None:
        """Make everything written so far durable (flush + fsync)."""
        if self._abandoned:
            # Rows may point into the file left ``.open``: they must not be committed now.
            raise ArchiveError(
                f"cannot make {self.directory / self._abandoned[-1]} durable after a failed write; "
                f"it is left for recovery at the next start"
            )
        if self._file is None:
            return
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            # After a failed fsync nobody knows what reached the disk: never
            # finalise this file; recovery checks every record at the next start.
            self._synced = False
            raise ArchiveError(write_error_message(self.open_path, exc)) from exc

    def _abandon(self) -> None:
        """Close the current file without finalising it (an empty one is removed)."""
        path = self.open_path
        try:
            self._file.close()
        except OSError:
            pass
        self._file = None
        self._writer = None
        self._abandoned.append(path.name)
        try:
            if path.stat().st_size == 0:
                path.unlink()
            else:
                self.left_open.append(path.name)
        except OSError:
            pass

    def _close_current(self) -> None:
        if self._file is None:
            return
        if self._writer.torn or not self._synced:
            # A record could not be cut back, or an fsync failed: leave ``.open``
            # so the next start keeps only complete records before renaming it.
            self._abandon()
            return
        try:
            self.sync()
        except BaseException:
            self._abandon()
            raise
        open_path = self.open_path
        self._file.close()
        self._file = None
        self._writer = None
        try:
            os.replace(open_path, self.directory / self.name)
        except OSError as exc:
            self.left_open.append(open_path.name)
            raise ArchiveError(write_error_message(open_path, exc)) from exc
        _fsync_dir(self.directory)
        self.closed_files.append(self.name)

    def close(self) -> None:
        """Finalise the current file: fsync, rename ``.open`` → final name.

        A file whose last record could not be cut back after a failed write, or
        whose fsync failed, keeps its ``.open`` name (listed in ``left_open``)
        and is finished by :func:`recover_open_files` at the next start.
        """
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


def recover_open_files(
    directory: Path, *, forget: Callable[[str, int], object] | None = None
) -> list[Recovered]:
    """Finish ``.open`` files a killed run left: keep complete records, rename.

    ``forget(final_name, kept_bytes)`` is called before a file is cut or
    renamed, so index rows pointing past the cut go first: a kill at any point
    of recovery leaves an ``.open`` file the next start finishes the same way.
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
        if forget is not None:
            forget(final.name, end)
        if end == 0:
            open_path.unlink()
            out.append(Recovered(final.name, 0, size, True))
            continue
        with open(open_path, "r+b") as fh:
            if end < size:
                fh.truncate(end)
            os.fsync(fh.fileno())
        os.replace(open_path, final)
        out.append(Recovered(final.name, end, size - end, False))
    if out:
        _fsync_dir(directory)
    return out
