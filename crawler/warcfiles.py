"""WARC files on disk: naming, rotation, fsync, the ``.open`` → final rename, recovery.

:class:`WarcFileSet` owns the files a run writes under ``archive/warcs/``: it
opens ``lastseen-<UTC timestamp>-<serial>.warc.gz.open``, rotates at
``max_size``, fsyncs on :meth:`WarcFileSet.sync`, and renames to the final name
on close (as Heritrix and warcprox do), once ``on_close`` (the recorder's commit
of the file's custody entry) has returned. :func:`recover_open_files` runs at the
next start (under the archive lock) and cuts a crashed ``.open`` file back to
its last complete record before giving it its final name (one whose bytes are
exactly what its custody entry records is only renamed); an ``.open`` file
whose final name already exists (a stale copy, e.g. from a backup restored over
the archive) is set aside in ``warcs/set-aside/`` instead, so a closed file is
never shrunk or replaced. A failed write (a full disk) is cut back at once by
:class:`~crawler.warc.WarcWriter`, so a file is never finalised with a torn
record in it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .errors import ArchiveError
from .warc import WarcWriter, make_record_id, write_error_message

OPEN_SUFFIX = ".open"
DEFAULT_MAX_SIZE = 10**9
#: What the files conform to (the warcinfo record's ``conformsTo``).
WARC_SPEC = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"


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
        #: ``(name, sha256, size)`` of each file closed (and renamed), in order.
        self.closed: list[tuple[str, str, int]] = []
        self.left_open: list[str] = []
        #: Called with ``(name, sha256, size)`` of a file once its bytes are durable, before it is renamed
        #: (the recorder commits its custody ``file`` entry then); an exception leaves the file ``.open``.
        self.on_close: Callable[[str, str, int], object] | None = None
        #: Called with ``(writer, name)`` of a file about to be closed, before its last fsync: the recorder
        #: writes the capture record of the captures it holds that no record lists yet (#17).
        self.before_close: Callable[[WarcWriter, str], object] | None = None

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
        fields.setdefault("conformsTo", WARC_SPEC)
        try:
            self._writer.warcinfo(self.started, name, fields)
        except BaseException:
            self._abandon()
            raise
        _fsync_dir(self.directory)  # the new name survives a power loss before the first row is committed

    @property
    def current(self) -> tuple[WarcWriter, str] | None:
        """The writer of the file being written and its final name (None when none is open); never rotates."""
        return (self._writer, self.name) if self._file is not None else None

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
            if self.before_close is not None:
                self.before_close(self._writer, self.name)
            self.sync()
            digest, size = self._writer.file_sha256.hexdigest(), self._file.tell()
            if self.on_close is not None:
                # The file's custody entry is committed before the rename: a kill between the two leaves
                # a ``.open`` file its entry vouches for, which the next start only renames.
                self.on_close(self.name, digest, size)
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
        self.closed.append((self.name, digest, size))

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


#: The unfinished files recovery finishes: lastseen's own names only (others in ``warcs/`` are left alone).
OPEN_FILES = "lastseen-*.warc.gz" + OPEN_SUFFIX
#: Where an ``.open`` file whose final name already exists is moved, under ``warcs/`` (never read or recovered).
SET_ASIDE_DIR = "set-aside"
#: lastseen's closed WARC files: what an index is built from (other names in ``warcs/`` are not lastseen's).
WARC_FILES = "lastseen-*.warc.gz"


def lastseen_warc_files(directory: Path, *, unfinished: bool = False) -> list[Path]:
    """lastseen's closed WARC files in ``directory`` (and its ``.open`` ones with ``unfinished``), by name.

    Directly in ``directory``: ``set-aside/`` is not looked into. By name is by time (the run's start).
    """
    directory = Path(directory)
    try:
        return sorted([*directory.glob(WARC_FILES), *(directory.glob(OPEN_FILES) if unfinished else ())])
    except OSError:
        return []


@dataclass(frozen=True)
class Recovered:
    """What recovery finds in (and then does to) one ``.open`` file a killed run left."""

    name: str                        # the final file name
    kept_bytes: int                  # bytes of complete records kept (the offset it is cut at)
    cut_bytes: int                   # bytes of an incomplete trailing record removed
    removed: bool                    # True when not even one record was complete (file deleted)
    aborted_run: str | None = None   # ``isPartOf`` of its warcinfo record: the run that wrote it
    set_aside: str | None = None     # the final name existed: where the file is moved, relative to the
                                     # WARC directory (``set-aside/<name>.open``); nothing is cut or renamed
    finished: bool = False           # its custody ``file`` entry records these very bytes (a kill between
                                     # that entry's commit and the rename): only renamed, nothing recorded

    @property
    def open_name(self) -> str:
        return self.name + OPEN_SUFFIX


def recover_open_files(
    directory: Path, *, forget: Callable[[Recovered], object] | None = None,
    recorded: Callable[[str], tuple[str, int] | None] | None = None,
) -> list[Recovered]:
    """Finish ``.open`` files a killed run left: keep complete records, rename.

    Only lastseen's own names (:data:`OPEN_FILES`) directly in ``directory``:
    other files are not its to change, and ``set-aside/`` is not looked into.
    An ``.open`` file whose final name already exists is a stale copy of a
    closed file (a backup taken mid-run, restored over the archive): the closed
    file is evidence and is never shrunk or replaced, so the stale one is moved
    whole to ``set-aside/`` (:attr:`Recovered.set_aside`), never overwriting.

    ``forget(recovered)`` is called with what will be done to a file before it
    is cut, renamed, deleted or set aside, so index rows pointing past the cut
    go first (and the record of the recovery with them): a kill at any point of
    recovery leaves an ``.open`` file the next start finishes the same way.
    ``recorded(name)`` is the ``(sha256, size)`` the custody log's ``file`` entry of the final ``name``
    records (None without one): a file whose bytes are exactly those was closed and recorded by a run
    killed before its rename, and is only renamed (:attr:`Recovered.finished`; ``forget`` is not called).
    Must run under the archive lock so that no live run's file is touched.
    """
    directory = Path(directory)
    out = []
    if not directory.is_dir():
        return out
    for open_path in sorted(directory.glob(OPEN_FILES)):
        final = open_path.with_name(open_path.name[: -len(OPEN_SUFFIX)])
        if os.path.lexists(final):
            moved = set_aside_path(directory, open_path)
            found = Recovered(final.name, 0, 0, False, warcinfo_field(open_path, "isPartOf"),
                              set_aside=f"{SET_ASIDE_DIR}/{moved.name}")
            if forget is not None:
                forget(found)
            _move_without_overwriting(open_path, moved)
            out.append(found)
            continue
        size = open_path.stat().st_size
        entry = recorded(final.name) if recorded is not None else None
        if entry is not None and entry[1] == size and entry[0] == file_sha256(open_path):
            found = Recovered(final.name, size, 0, False, warcinfo_field(open_path, "isPartOf"), finished=True)
            os.replace(open_path, final)  # its bytes were fsynced before its entry was committed
            out.append(found)
            continue
        end = complete_members_end(open_path)
        found = Recovered(final.name, end, size - end, end == 0, warcinfo_field(open_path, "isPartOf"))
        if forget is not None:
            forget(found)
        if end == 0:
            open_path.unlink()
        else:
            with open(open_path, "r+b") as fh:
                if end < size:
                    fh.truncate(end)
                os.fsync(fh.fileno())
            os.replace(open_path, final)
        out.append(found)
    if out:
        _fsync_dir(directory)
    return out


def set_aside_path(directory: Path, open_path: Path) -> Path:
    """Where ``open_path`` goes in ``directory/set-aside/``: its own name, or with a number if taken.

    A name already holding this very file (a kill between the link and the
    unlink of an earlier move) is reused.
    """
    aside = Path(directory) / SET_ASIDE_DIR
    stem = open_path.name[: -len(OPEN_SUFFIX)]
    candidate, n = aside / open_path.name, 1
    while os.path.lexists(candidate):
        try:
            if os.path.samefile(candidate, open_path):
                return candidate
        except OSError:
            pass
        n += 1
        candidate = aside / f"{stem}.{n}{OPEN_SUFFIX}"
    return candidate


def _move_without_overwriting(source: Path, target: Path) -> None:
    """Move ``source`` to ``target`` (same file system), never replacing an existing ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)  # fails if target exists: nothing is ever overwritten
    except FileExistsError:
        if not os.path.samefile(source, target):
            raise
        source.unlink()  # moved already, by a start killed before it could unlink
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(target):  # no hard links here: check, then rename (we hold the lock)
            raise FileExistsError(errno.EEXIST, "already exists", str(target)) from exc
        os.rename(source, target)
    else:
        source.unlink()
    _fsync_dir(target.parent)
    _fsync_dir(source.parent)


def file_sha256(path: Path, end: int | None = None) -> str:
    """SHA-256 (hex) of the first ``end`` bytes of ``path`` (all of it by default)."""
    digest, left = hashlib.sha256(), end
    with open(path, "rb") as fh:
        while left is None or left > 0:
            chunk = fh.read(1 << 20 if left is None else min(1 << 20, left))
            if not chunk:
                break
            digest.update(chunk)
            left = None if left is None else left - len(chunk)
    return digest.hexdigest()


def warcinfo_field(path: Path, name: str, *, limit: int = 1 << 16) -> str | None:
    """The value of field ``name`` in the ``warcinfo`` record that starts ``path`` (None if unreadable).

    Reads the first gzip member only (at most ``limit`` bytes of it), so a
    torn file whose warcinfo record is complete still answers.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit)
        record = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data, limit)
    except (OSError, zlib.error):
        return None
    head, sep, block = record.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"WARC/") or b"\r\nWARC-Type: warcinfo" not in head:
        return None
    wanted = name.lower().encode("ascii") + b":"
    for line in block.split(b"\r\n")[:-1]:  # whole lines only: the member may be torn
        if line.lower().startswith(wanted):
            value = line[len(wanted):].strip().decode("utf-8", "replace")
            return value or None
    return None


def read_payload(path: Path, offset: int) -> tuple[bytes, list[tuple[str, str]]]:
    """The payload (as stored: content-coding kept) and the HTTP headers of the record at ``offset`` of ``path``.

    Raises :class:`ArchiveError` when no record starts there, ``OSError`` when the file cannot be read.
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    with open(path, "rb") as fh:
        fh.seek(offset)
        try:
            for record in ArchiveIterator(fh):
                headers = list(record.http_headers.headers) if record.http_headers else []
                return record.raw_stream.read(), headers
        except ArchiveLoadFailed as exc:
            raise ArchiveError(f"no WARC record at {path}:{offset}: {exc}") from exc
    raise ArchiveError(f"no record at {path}:{offset}")



def archived_body(root: Path, warc_file: str | None, offset: int | None) -> tuple[bytes, str | None, str | None] | None:
    """The payload of the record at ``offset`` of ``warc_file`` (relative to the archive ``root``) as archived
    (content-coding kept), its Content-Type and its Content-Encoding; None when it cannot be read."""
    if warc_file is None or offset is None:
        return None
    try:
        body, headers = read_payload(root / warc_file, offset)
    except (OSError, ArchiveError):
        return None
    found = {k.lower(): v for k, v in reversed(headers)}   # the first of each name
    return body, found.get("content-type"), found.get("content-encoding")
