"""An archive directory: its lock, its WARC files and its index, opened together.

``archive/`` holds ``warcs/`` (the evidence), ``lastseen.db`` (the index) and
``lastseen.lock``. Two ways to open it:

- :meth:`Archive.open`, for a run: takes the lock (one run at a time,
  optionally waiting for it; an ``flock``, so the kernel drops it when its
  holder dies, however it dies), checks the archive is writable, migrates the
  index, finishes WARC files a killed run left ``.open`` (a stale copy of a
  closed file is set aside) and makes the index agree with them, sets run
  starts recorded in the future to now (each such change is a
  :class:`Recovery`, kept in the index and told on stderr), and marks runs
  that never finished as aborted.
- :meth:`Archive.open_readonly`, for commands that only read (``status``,
  ``report``): no lock (not even briefly: a run starting meanwhile would exit
  3), no migration, no recovery, nothing written, so they work while a run
  holds the lock and on a read-only copy. What a run would fix is a warning.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import clock
from .custodycopy import complete_copy, cut_entries
from .errors import ArchiveError, LockedError
from .formatting import iso, plural
from .store import CaptureStore
from .warcfiles import OPEN_FILES, OPEN_SUFFIX, SET_ASIDE_DIR, Recovered, lastseen_warc_files, recover_open_files

WARC_DIR = "warcs"
DB_NAME = "lastseen.db"
LOCK_NAME = "lastseen.lock"
PROBE_NAME = ".write-test"


# -- recoveries ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecoveryAction:
    """One kind of recovery: the keys it shows (after ``action``) and its sentence for people."""

    keys: tuple[str, ...]
    describe: Callable[[Mapping[str, object]], str]


def _describe_cut(facts: Mapping[str, object]) -> str:
    removed, rows = facts.get("bytes_removed") or 0, facts.get("rows_deleted") or 0
    if facts.get("cut_at"):
        what = f"{facts.get('file')} cut at {facts.get('cut_at')} bytes ({plural(removed, 'byte')} removed"
    else:
        what = f"{facts.get('file')} deleted, it held no complete record ({plural(removed, 'byte')} removed"
    run = f"run {facts['aborted_run']}" if facts.get("aborted_run") else "an unknown run"
    return f"{what}, {plural(rows, 'capture')} deleted) from {run}"


def _describe_set_aside(facts: Mapping[str, object]) -> str:
    file = str(facts.get("file"))
    return (f"{file} set aside as {facts.get('moved_to')}: {file.removesuffix(OPEN_SUFFIX)} is already closed "
            f"and was left as it is (a stale copy, e.g. from a backup restored over the archive)")


def _describe_clock(facts: Mapping[str, object]) -> str:
    return (
        f"run {facts.get('run')} recorded as started at {facts.get('recorded')}, later than now (the clock "
        f"was wrong): its start set to {facts.get('set_to')}, so targets are due again in their `every`"
    )


#: Every recovery action, one row each: ``--json``'s ``run.recovered``, ``status`` and docs/archive.md
#: follow it. ``cut``: an ``.open`` WARC file cut back to its last complete record (deleted if none).
#: ``set-aside``: an ``.open`` file whose final name already exists, moved whole to ``warcs/set-aside/``.
#: ``clock``: a run whose recorded start is later than now, set to this run's start.
RECOVERY_ACTIONS: dict[str, RecoveryAction] = {
    "cut": RecoveryAction(("file", "cut_at", "bytes_removed", "rows_deleted", "aborted_run"), _describe_cut),
    "set-aside": RecoveryAction(("file", "moved_to"), _describe_set_aside),
    "clock": RecoveryAction(("run", "recorded", "set_to"), _describe_clock),
}
#: Facts that are paths: relative to the archive in the index, relative to the current directory when shown.
PATH_FACTS = ("file", "moved_to")


@dataclass(frozen=True)
class Recovery:
    """One thing a run's start did to what an earlier run left (a row of the index's ``recoveries``)."""

    action: str
    facts: Mapping[str, object]    # the action's keys; paths as shown (relative to the current directory)
    run: str | None = None          # the run that recovered
    at: str | None = None           # when, ISO 8601 UTC

    @property
    def keys(self) -> tuple[str, ...]:
        known = RECOVERY_ACTIONS.get(self.action)
        if known is not None:
            return known.keys
        return tuple(k for k, v in self.facts.items() if v is not None)  # an action of a newer lastseen

    def to_json(self) -> dict:
        """``run.recovered`` of ``--json``: ``action`` and exactly the keys of its action."""
        return {"action": self.action, **{k: self.facts.get(k) for k in self.keys}}

    def status_json(self) -> dict:
        """``recovered`` of ``status --json``: :meth:`to_json` plus when (``at``) and by which run
        (``recovered_by``: ``run`` is a key of the ``clock`` action, the run it repaired)."""
        return {**self.to_json(), "at": self.at, "recovered_by": self.run}

    def describe(self) -> str:
        known = RECOVERY_ACTIONS.get(self.action)
        if known is not None:
            return known.describe(self.facts)
        return f"{self.action}: " + ", ".join(f"{k} {self.facts[k]}" for k in self.keys)


def print_recovery(recovery: Recovery) -> None:
    """Tell stderr (cron mails it): evidence files are never changed silently."""
    print(f"lastseen run {recovery.run or '-'}: recovered {recovery.describe()}", file=sys.stderr, flush=True)


def _shown(root: Path, facts: Mapping[str, object]) -> dict:
    """``facts`` with archive-relative paths made relative to the current directory."""
    return {k: _display(root / v) if k in PATH_FACTS and isinstance(v, str) else v for k, v in facts.items()}


def _display(path: Path) -> str:
    """As events show WARC files (``crawler.recorder.display_path``, which imports this module)."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _recovery_from_row(root: Path, row: Mapping[str, object]) -> Recovery:
    facts = {k: v for k, v in row.items() if k not in ("id", "run_id", "at", "action")}
    return Recovery(str(row["action"]), _shown(root, facts), run=row.get("run_id"), at=row.get("at"))


# -- opening for a run -----------------------------------------------------------------------------

@dataclass
class Archive:
    root: Path
    store: CaptureStore
    recovered: list[Recovery] = field(default_factory=list)
    aborted_runs: list[str] = field(default_factory=list)
    lock_fd: int | None = None  # the open fd holding the lock (a child forked by the run closes its copy)

    @property
    def warc_dir(self) -> Path:
        return self.root / WARC_DIR

    @classmethod
    def open(
        cls, root: str | os.PathLike, *, wait: float = 0.0, check: Callable[[], None] | None = None,
        run_id: str | None = None, now: Callable[[], datetime] | None = None, started: datetime | None = None,
        on_recovery: Callable[[Recovery], None] | None = print_recovery, command: str = "run",
    ) -> "Archive":
        """Lock the archive (waiting up to ``wait`` seconds for another run), check it
        is writable, open the index and finish what a killed run left.

        ``check`` is called while waiting for the lock and may raise to give up
        (the monitor's signal handling). A run that cannot take the lock raises
        :class:`LockedError` having written nothing. Each recovery is stored in
        the index as done by ``run_id`` at ``now()``, listed in ``recovered``
        and passed to ``on_recovery`` (by default a line on stderr). A run
        recorded as starting later than ``now()`` gets ``started`` (the opening
        run's start; ``now()`` by default) as its start.
        """
        root = Path(root)
        try:
            (root / WARC_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(_not_writable(root, exc)) from exc
        fd = take_lock(root / LOCK_NAME, wait, check, command=command)  # ``command``: named when it is held
        store = None
        try:
            # Under the lock, so one fixed name will do and a killed run's probe is simply reused.
            probe = root / WARC_DIR / PROBE_NAME
            try:
                with open(probe, "wb") as fh:
                    fh.write(b"x")
                    fh.flush()
                    os.fsync(fh.fileno())
                probe.unlink()
            except OSError as exc:
                raise ArchiveError(_not_writable(root, exc)) from exc
            _empty_index(root)  # raises beside earlier WARC files; else SQLite makes it a new index
            store = CaptureStore(root / DB_NAME)
            archive = cls(root, store, lock_fd=fd)
            archive._recover(run_id, now or clock.now, on_recovery, started)
        except BaseException:
            if store is not None:
                store.close()
            os.close(fd)
            raise
        return archive

    @staticmethod
    def open_readonly(root: str | os.PathLike) -> "ReadOnlyArchive":
        """Open the archive for a command that only reads: no lock, no migration, no recovery.

        The index is opened read-only (:meth:`CaptureStore.open_readonly`; an
        index that needs a migration or is newer than this release raises
        :class:`ArchiveError`); ``store`` is None when there is no index yet.
        ``warnings`` has one line per ``.open`` WARC file a run left when no
        run holds the lock: the next run recovers it.
        """
        root = Path(root)
        db = root / DB_NAME
        # An empty index with no WARC file beside it is no index yet; beside WARC files, it is refused.
        store = CaptureStore.open_readonly(db) if db.is_file() and not _empty_index(root) else None
        return ReadOnlyArchive(root, store, unfinished_warnings(root))

    def _recover(
        self, run_id: str | None, now: Callable[[], datetime], on_recovery: Callable[[Recovery], None] | None,
        started: datetime | None = None,
    ) -> None:
        def told(action: str, facts: dict, at: str) -> None:
            recovery = Recovery(action, _shown(self.root, facts), run=run_id, at=at)
            self.recovered.append(recovery)
            if on_recovery is not None:
                on_recovery(recovery)

        def forget(found: Recovered) -> None:
            # Rows past the cut are deleted, and the record of the cut stored, in one transaction
            # before the file is cut or renamed: a kill at any point never loses the record (a
            # kill before the cut repeats the recovery at the next start, recorded again).
            at = iso(now())
            if found.set_aside is not None:
                # The closed file is evidence: its rows stay, the stale copy is moved whole.
                facts = {"file": f"{WARC_DIR}/{found.open_name}", "moved_to": f"{WARC_DIR}/{found.set_aside}"}
                self.store.record_recovery({"run_id": run_id, "at": at, "action": "set-aside", **facts})
                told("set-aside", facts, at)
                return
            file = f"{WARC_DIR}/{found.name}"
            facts = {"file": file, "cut_at": found.kept_bytes, "bytes_removed": found.cut_bytes,
                     "aborted_run": found.aborted_run}
            facts["rows_deleted"] = self.store.forget_beyond(
                file, found.kept_bytes, recovery={"run_id": run_id, "at": at, "action": "cut", **facts},
                custody=cut_entries(self.warc_dir, found, file, run_id, now()))
            told("cut", facts, at)

        try:
            recover_open_files(self.warc_dir, forget=forget,
                               recorded=lambda name: self.store.file_entry(f"{WARC_DIR}/{name}"))
        except OSError as exc:
            raise ArchiveError(
                f"cannot finish the WARC files a killed run left in {self.warc_dir} "
                f"({exc.strerror or exc}: {exc.filename or ''}); fix the disk or permissions and run again"
            ) from exc
        for stale in self.warc_dir.glob(PROBE_NAME + "-*"):  # probes of killed older versions
            stale.unlink(missing_ok=True)
        self.aborted_runs = self.store.abort_unfinished_runs()
        complete_copy(self.root, self.store)  # custody log lines a killed run (or this recovery) left to write
        # A run recorded as starting in the future (the clock was set wrong once) would make every
        # target "not due" until then: its start becomes this run's, recorded and told.
        current = now()
        set_to = iso(started or current)
        for future_run, recorded in self.store.runs_started_after(iso(current)):
            at = iso(now())
            facts = {"run": future_run, "recorded": recorded, "set_to": set_to}
            self.store.set_run_start(
                future_run, set_to, recovery={"run_id": run_id, "at": at, "action": "clock", **facts}
            )
            told("clock", facts, at)

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            if self.lock_fd is not None:
                os.close(self.lock_fd)
                self.lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# -- opening to read only --------------------------------------------------------------------------

@dataclass
class ReadOnlyArchive:
    """An archive opened by a command that only reads: its index (if any) and what a run would fix."""

    root: Path
    store: CaptureStore | None        # None: no index yet (no run ever)
    warnings: list[str] = field(default_factory=list)

    @property
    def index_path(self) -> Path:
        return self.root / DB_NAME

    def require_store(self) -> CaptureStore:
        """The index, or an :class:`ArchiveError` saying there is none yet."""
        if self.store is None:
            raise ArchiveError(f"no archive index at {self.index_path}; run `lastseen run` first or pass --archive")
        return self.store

    def recoveries(self, *, since: datetime) -> tuple[list[Recovery], int]:
        """Recoveries at or after ``since``, oldest first, and how many happened before it."""
        if self.store is None:
            return [], 0
        cutoff = iso(since)
        rows = self.store.recoveries(since=cutoff)
        return [_recovery_from_row(self.root, r) for r in rows], self.store.count_recoveries(before=cutoff)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def unfinished_warnings(root: Path) -> list[str]:
    """One warning per ``.open`` WARC file a run left, when no run holds the lock (else it is that run's).

    lastseen's names only, directly in ``warcs/``: other files are not its own, and
    ``warcs/set-aside/`` holds files already set aside. An ``.open`` file whose
    final name exists is a stale copy the next run sets aside, not one it recovers.
    """
    try:
        found = sorted((root / WARC_DIR).glob(OPEN_FILES))
    except OSError:
        return []
    if not found or lock_held(root / LOCK_NAME):
        return []
    aside = _display(root / WARC_DIR / SET_ASIDE_DIR)
    return [
        f"warning: {_display(p)} is a stale copy of the closed {p.name.removesuffix(OPEN_SUFFIX)} (a backup "
        f"restored over the archive?); the next `lastseen run` sets it aside in {aside} and leaves the closed file"
        if p.with_name(p.name.removesuffix(OPEN_SUFFIX)).exists() else
        f"warning: {_display(p)} was left by a run that did not finish; the next `lastseen run` will recover it"
        for p in found
        if p.exists()  # not finished and renamed by a run that just ended
    ]


def _empty_index(root: Path) -> bool:
    """Whether the index is an empty (0-byte) file standing for no index yet; beside lastseen WARC
    files it is refused (:class:`ArchiveError`): SQLite would take it for a new index, silently
    starting a new history that forgets every earlier capture."""
    db = root / DB_NAME
    wal = db.with_name(DB_NAME + "-wal")
    try:
        if not db.is_file() or db.stat().st_size != 0:
            return False
        if wal.exists() and wal.stat().st_size > 0:
            return False  # what the index holds is in its write-ahead log: SQLite reads it
    except OSError:
        return False
    files = lastseen_warc_files(root / WARC_DIR, unfinished=True)
    if not files:
        return True
    raise ArchiveError(
        f"the index {db} is empty (0 bytes) but {_display(root / WARC_DIR)} holds "
        f"{plural(len(files), 'WARC file')} of earlier runs: using it would start a new history that forgets "
        f"them. Restore {db.name} from a backup, or rebuild it from the WARC files with "
        f"`lastseen reindex --archive {_display(root)}`"
    )


def lock_held(path: Path) -> bool:
    """Whether a process holds the archive's lock, found without taking it.

    Taking it, even for an instant, could make a run that starts at that
    instant exit 3. On Linux ``/proc/locks`` lists every ``flock`` with the
    device and inode of its file; elsewhere (or if that cannot be read) the
    pid a run writes in the lock file is checked for being alive.
    """
    try:
        st = os.stat(path)
    except OSError:
        return False  # no lock file: no run ever took it
    pid = _lock_file_pid(path)
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as fh:
            locks = fh.read().splitlines()
    except OSError:
        return pid is not None and _alive(pid)
    wanted = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    for line in locks:
        # "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5308521 0 EOF"; waiters carry "->" and hold nothing.
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue
        try:
            major, minor, inode = fields[5].split(":")
            where = (int(major, 16), int(minor, 16), int(inode))
        except ValueError:
            continue
        # A stacked file system (overlayfs) may list the lower file's device and inode: the holder's pid tells.
        if where == wanted or (pid is not None and fields[4] == str(pid) and where[2] == st.st_ino):
            return True
    return False


def _lock_file_pid(path: Path) -> int | None:
    try:
        data = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(data) if data.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _not_writable(root: Path, exc: OSError) -> str:
    why = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"the archive directory {root} is not writable: the disk is full ({why}); free some space "
            f"there (or move the archive and pass --archive) and run again"
        )
    return (
        f"the archive directory {root} is not writable ({why}); "
        f"choose another with --archive or fix its permissions and free space"
    )


def take_lock(path: Path, wait: float, check: Callable[[], None] | None = None, *, command: str = "run") -> int:
    """The archive's lock (an open fd holding its ``flock``), waiting up to ``wait`` seconds.

    Raises :class:`LockedError` (exit 3) having written nothing when another
    process holds it; ``command`` names the command in that message.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ArchiveError(f"cannot create the lock file {path}: {exc.strerror or exc}") from exc
    deadline = time.monotonic() + max(0.0, wait)
    try:
        while True:
            try:
                # flock is released by the kernel when its holder dies (even by
                # SIGKILL), so a lock left by a killed run is never stale.
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    raise ArchiveError(f"cannot lock {path}: {exc}") from exc
            if check is not None:
                check()
            if time.monotonic() >= deadline:
                holder = _read_holder(fd)
                waited = f" after waiting {_seconds(wait)}" if wait > 0 else ""
                hint = "; pass a longer --wait" if wait > 0 else f"; `lastseen {command} --wait 5m` waits for it"
                this = "this run" if command == "run" else f"`lastseen {command}`"
                raise LockedError(
                    f"another lastseen run{holder} is using the archive {path.parent}{waited}; "
                    f"{this} did nothing. Try again when it has finished{hint}"
                )
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        # The holder's pid, for the message above (informational: the flock is the lock).
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # a full disk is reported by the write probe that follows
    except BaseException:
        os.close(fd)
        raise
    return fd


def _seconds(s: float) -> str:
    return f"{s:g} s" if s < 120 else f"{s / 60:g} min"


def _read_holder(fd: int) -> str:
    try:
        data = os.pread(fd, 64, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {data})" if data.isdigit() else ""
