"""An archive directory: its lock, its WARC files and its index, opened together.

``archive/`` holds ``warcs/`` (the evidence), ``lastseen.db`` (the index) and
``lastseen.lock``. Opening an archive takes the lock (one run at a time,
optionally waiting for it; an ``flock``, so the kernel drops it when its holder
dies, however it dies), checks the archive is writable, finishes WARC files a
killed run left ``.open`` and makes the index agree with them, and marks runs
that never finished as aborted.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ArchiveError, LockedError
from .store import CaptureStore
from .warc import Recovered, recover_open_files

WARC_DIR = "warcs"
DB_NAME = "lastseen.db"
LOCK_NAME = "lastseen.lock"
PROBE_NAME = ".write-test"


@dataclass
class Archive:
    root: Path
    store: CaptureStore
    recovered: list[Recovered] = field(default_factory=list)
    aborted_runs: list[str] = field(default_factory=list)
    _lock_fd: int | None = None

    @property
    def warc_dir(self) -> Path:
        return self.root / WARC_DIR

    @classmethod
    def open(
        cls, root: str | os.PathLike, *, wait: float = 0.0, check: Callable[[], None] | None = None
    ) -> "Archive":
        """Lock the archive (waiting up to ``wait`` seconds for another run), check it
        is writable, open the index and finish what a killed run left.

        ``check`` is called while waiting for the lock and may raise to give up
        (the monitor's signal handling). A run that cannot take the lock raises
        :class:`LockedError` having written nothing.
        """
        root = Path(root)
        try:
            (root / WARC_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(_not_writable(root, exc)) from exc
        fd = _take_lock(root / LOCK_NAME, wait, check)
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
            store = CaptureStore(root / DB_NAME)
            archive = cls(root, store, _lock_fd=fd)
            archive._recover()
        except BaseException:
            if store is not None:
                store.close()
            os.close(fd)
            raise
        return archive

    def _recover(self) -> None:
        def forget(name: str, kept: int) -> None:
            self.store.forget_beyond(f"{WARC_DIR}/{name}", kept)

        # Rows past a cut are deleted before the file is cut and renamed (see recover_open_files).
        self.recovered = recover_open_files(self.warc_dir, forget=forget)
        for stale in self.warc_dir.glob(PROBE_NAME + "-*"):  # probes of killed older versions
            stale.unlink(missing_ok=True)
        self.aborted_runs = self.store.abort_unfinished_runs()

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


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


def _take_lock(path: Path, wait: float, check: Callable[[], None] | None = None) -> int:
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
                hint = "; pass a longer --wait" if wait > 0 else "; `lastseen run --wait 5m` waits for it"
                raise LockedError(
                    f"another lastseen run{holder} is using the archive {path.parent}{waited}; "
                    f"this run did nothing. Try again when it has finished{hint}"
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
