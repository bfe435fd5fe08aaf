"""An archive directory: its lock, its WARC files and its index, opened together.

``archive/`` holds ``warcs/`` (the evidence), ``lastseen.db`` (the index) and
``lastseen.lock``. Opening an archive takes the lock (one run at a time),
finishes WARC files a killed run left ``.open`` and makes the index agree with
them, and marks runs that never finished as aborted.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ArchiveError, LockedError
from .store import CaptureStore
from .warc import Recovered, recover_open_files

WARC_DIR = "warcs"
DB_NAME = "lastseen.db"
LOCK_NAME = "lastseen.lock"


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
    def open(cls, root: str | os.PathLike, *, wait: float = 0.0) -> "Archive":
        root = Path(root)
        try:
            (root / WARC_DIR).mkdir(parents=True, exist_ok=True)
            probe = root / WARC_DIR / f".write-test-{os.getpid()}"
            with open(probe, "wb") as fh:
                fh.write(b"x")
                fh.flush()
                os.fsync(fh.fileno())
            probe.unlink()
        except OSError as exc:
            raise ArchiveError(
                f"the archive directory {root} is not writable ({exc.strerror or exc}); "
                f"choose another with --archive or fix its permissions and free space"
            ) from exc
        fd = _take_lock(root / LOCK_NAME, wait)
        try:
            store = CaptureStore(root / DB_NAME)
            archive = cls(root, store, _lock_fd=fd)
            archive._recover()
        except BaseException:
            os.close(fd)
            raise
        return archive

    def _recover(self) -> None:
        self.recovered = recover_open_files(self.warc_dir)
        for rec in self.recovered:
            self.store.forget_beyond(f"{WARC_DIR}/{rec.name}", rec.kept_bytes)
        self.aborted_runs = self.store.abort_unfinished_runs()

    def close(self) -> None:
        self.store.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _take_lock(path: Path, wait: float) -> int:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ArchiveError(f"cannot create the lock file {path}: {exc.strerror or exc}") from exc
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        try:
            # flock is released by the kernel when its holder dies, so a lock
            # left by a killed run is never stale.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                os.close(fd)
                raise ArchiveError(f"cannot lock {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                holder = _read_holder(fd)
                os.close(fd)
                raise LockedError(
                    f"another lastseen run{holder} is using the archive {path.parent}; "
                    f"this run did nothing. Try again when it has finished."
                ) from None
            time.sleep(0.2)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _read_holder(fd: int) -> str:
    try:
        data = os.pread(fd, 64, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {data})" if data.isdigit() else ""
