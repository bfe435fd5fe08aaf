"""The custody log's IO: its JSONL copy ``archive/custody/YYYY-MM.jsonl``, one line per entry, by the entry's month (UTC).

The index's ``custody`` table is authoritative (:mod:`crawler.store.custody`) but for the content of the
``capture`` entries, kept only here once their lines are fsynced (#17); this copy is written
from it after each commit (:meth:`CustodyCopy.complete`: the entries with ``seq`` greater than the last
line's are appended to their month's file; fsynced when a WARC file closes), so it can be copied and checked
without SQLite. A run killed between its commit and these lines has them appended by the next start
(:func:`complete_copy`, at the archive's opening); a line torn by a kill mid-write is cut off first and
written again whole. Each line is exactly the entry's canonical form (:func:`crawler.custody.canonical`).
Also the entries of a recovery that cuts a ``.open`` WARC file (:func:`cut_entries`: they need its bytes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from .custody import canonical, recovery_entries
from .errors import ArchiveError
from .formatting import iso_precise
from .warc import write_error_message
from .warcfiles import Recovered, file_sha256

__all__ = ["CUSTODY_DIR", "CustodyCopy", "complete_copy", "cut_entries", "read_copy"]

#: The copy's directory, in the archive.
CUSTODY_DIR = "custody"


def _month_file(directory: Path, time: str) -> Path:
    """``YYYY-MM.jsonl`` of an entry's time (ISO 8601 UTC, ``2026-03-01T09:00:00...Z``)."""
    return directory / f"{time[:7]}.jsonl"


def _month_files(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.glob("*.jsonl") if p.is_file())
    except OSError:
        return []


def _last_line(path: Path) -> bytes | None:
    """The last complete line of ``path`` (None if it has none); a torn tail (no final newline) is cut off."""
    with open(path, "r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        end = size
        if (
            size and _byte_at(fh, size - 1) != b"\n"
        ):  # a line torn by a kill: cut back to the last newline
            end = _previous_newline(fh, size) + 1
            fh.truncate(end)
            os.fsync(fh.fileno())
        if end == 0:
            return None
        start = _previous_newline(fh, end - 1) + 1
        fh.seek(start)
        return fh.read(end - 1 - start)


def _byte_at(fh, offset: int) -> bytes:
    fh.seek(offset)
    return fh.read(1)


def _previous_newline(fh, before: int) -> int:
    """The offset of the last ``\\n`` before ``before`` (-1 if none), reading backwards in growing chunks."""
    pos, chunk = before, 1 << 14
    while pos > 0:
        start = max(0, pos - chunk)
        fh.seek(start)
        found = fh.read(pos - start).rfind(b"\n")
        if found >= 0:
            return start + found
        pos, chunk = start, chunk * 2
    return -1


class CustodyCopy:
    """The JSONL copy of an archive's custody log, written from its index."""

    def __init__(self, root: Path):
        self.directory = Path(root) / CUSTODY_DIR
        self._written: int | None = None  # seq of the last line, once known
        self._unsynced: set[Path] = set()  # files written since the last fsync
        self._unshed: list[tuple[int, int]] = []  # (seq, offset) of the lines written since the last fsync

    def last_seq(self) -> int:
        """The greatest ``seq`` among the files' last lines (0 with none)."""
        if self._written is None:
            best = 0
            for path in _month_files(self.directory):
                try:
                    line = _last_line(path)
                    seq = json.loads(line)["seq"] if line else 0
                except OSError as exc:
                    raise ArchiveError(write_error_message(path, exc)) from exc
                except (ValueError, KeyError, TypeError):
                    raise ArchiveError(
                        f"the last line of {path} is not a custody entry; restore the file from a copy "
                        f"(the index holds every entry: `lastseen verify` names what differs)"
                    ) from None
                best = max(best, int(seq))
            self._written = best
        return self._written

    def complete(self, store, *, sync: bool = True, recover: bool = False) -> int:
        """Append the index's entries missing from the copy; return how many lines were written.

        With ``sync`` every file written since the last sync is fsynced. Without, the lines are left to
        the kernel: a killed process loses none of them, and lines a power failure loses are appended
        again from the index at the next opening (a torn tail is cut first), so a run syncs only when a
        WARC file closes (its last commit), not at every commit. Once fsynced, the lines' entries whose content
        waited in the index are recorded as kept only here (:meth:`~crawler.store.CaptureStore.shed_custody`);
        with ``recover`` (at an archive's opening) also those of lines a killed process wrote.
        """
        after = self.last_seq()
        by_file: dict[Path, list[tuple[int, bytes]]] = {}
        last = after
        # an entry kept only in the copy whose line is gone cannot be written again: `verify` names it
        for entry in store.custody_entries(after=after, lost="skip"):
            by_file.setdefault(_month_file(self.directory, entry["time"]), []).append(
                (entry["seq"], canonical(entry) + b"\n")
            )
            last = entry["seq"]
        count = 0
        for path, lines in by_file.items():
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                with open(path, "ab") as fh:
                    offset = fh.seek(0, os.SEEK_END)
                    fh.write(b"".join(line for _, line in lines))
            except OSError as exc:
                raise ArchiveError(write_error_message(path, exc)) from exc
            for seq, line in lines:
                self._unshed.append((seq, offset))
                offset += len(line)
            self._unsynced.add(path)
            count += len(lines)
        self._written = last
        if sync and self._unsynced:
            for path in sorted(self._unsynced):
                try:
                    with open(path, "ab") as fh:
                        os.fsync(fh.fileno())
                except OSError as exc:
                    raise ArchiveError(write_error_message(path, exc)) from exc
            _fsync_dir(self.directory)  # new month files' names
            self._unsynced.clear()
        if sync and recover and after:  # lines a killed process wrote whose entries still wait in the index
            self._unshed += self._found_again(store, after)
        if sync and self._unshed:  # durable now: their content need not wait in the index any longer
            store.shed_custody(self._unshed)
            self._unshed = []
        return count

    def _found_again(self, store, upto: int) -> list[tuple[int, int]]:
        """``(seq, offset)`` of the lines a killed process wrote (up to ``upto``) whose entries still wait in the
        index: each line found in its month's file (fsynced first) and exactly its entry's canonical form."""
        waiting = {e["seq"]: e for e in store.pending_custody(upto=upto)}
        found = []
        for month in sorted({e["time"][:7] for e in waiting.values()}):
            path = self.directory / f"{month}.jsonl"
            try:
                with open(path, "rb") as fh:
                    os.fsync(fh.fileno())
                    offset = 0
                    for line in fh:
                        seq = _seq_of(line)
                        entry = waiting.get(seq)
                        if entry is not None and line == canonical(entry) + b"\n":
                            found.append((seq, offset))
                        offset += len(line)
            except OSError as exc:
                raise ArchiveError(write_error_message(path, exc)) from exc
        return found


def _seq_of(line: bytes) -> int | None:
    """The ``seq`` of a line (canonical JSON: ``"seq":N,`` after ``content``, ``kind``, ``prev``)."""
    at = line.rfind(b',"seq":')
    if at < 0:
        return None
    end = line.find(b",", at + 7)
    try:
        return int(line[at + 7 : end])
    except ValueError:
        return None


def complete_copy(root: Path, store) -> int:
    """At an archive's opening: append the lines a killed run did not write (see :class:`CustodyCopy`)."""
    return CustodyCopy(root).complete(store, recover=True)


def cut_entries(
    warc_dir: Path, found: Recovered, file: str, run: str | None, now: datetime
) -> list[tuple[str, str, dict]]:
    """The custody entries (``(kind, time, content)``) of a recovery about to cut ``found``'s ``.open`` file
    (:func:`crawler.custody.recovery_entries`): the SHA-256 of the bytes it keeps is read before the cut."""
    kept = (
        file_sha256(Path(warc_dir) / found.open_name, found.kept_bytes)
        if found.kept_bytes
        else None
    )
    entries = recovery_entries(
        file,
        cut_at=found.kept_bytes,
        bytes_removed=found.cut_bytes,
        kept_sha256=kept,
        aborted_run=found.aborted_run,
        run=run,
    )
    return [(kind, iso_precise(now), content) for kind, content in entries]


def read_copy(root: Path) -> Iterator[dict]:
    """Every entry of the JSONL copy, file by file (by month), line by line; a torn last line is left out."""
    for path in _month_files(Path(root) / CUSTODY_DIR):
        with open(path, "rb") as fh:
            for line in fh:
                if line.endswith(b"\n"):
                    yield json.loads(line)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
