"""The archive's front page and history pages, written by a child process forked when a run begins.

``lastseen run`` forks the writer before it reads the watchlist (:meth:`PageWriter.fork`; a run called
as a library forks it once it knows targets are due, before it fetches anything): the child loads and
compiles the pages' templates and renders the shared stylesheet while the run fetches (a fresh process
spends some 0.3 s there), then waits. When the run's captures are committed, the monitor hands it what to
write (:meth:`PageWriter.write`: the index, the reports folder, the run, its targets, those it captured,
their order) and writes the run report meanwhile, on the other core; :meth:`PageWriter.wait` waits for
the child. A run with nothing due, or that ends without a report (interrupted, failed), cancels it
(:meth:`PageWriter.cancel`): the child has written nothing, and one never handed anything is killed at
once rather than left to finish warming up.

Forked that early, the child shares next to nothing of the monitor's memory: every page of memory the
monitor writes to after a fork is copied, the child keeping the old one as its own, so a child forked
after a large watchlist was read ended up owning a copy of much of it (44 MB at 10,000 targets). It never
uses the monitor's index connection: it opens its own, read-only, once it has something to write. It dies
with the monitor (``PR_SET_PDEATHSIG``). The pages are derived: a failure is said on stderr and costs the
run nothing (its captures, report and alerts stand), the next run writes them again (docs/history.md).
Without ``os.fork`` (not Linux/macOS) they are written in the monitor's process, when handed over.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
from pathlib import Path

from .errors import LastseenError

__all__ = ["PageWriter"]


class PageWriter:
    """The archive's pages of one run, written by a child forked before the run fetches."""

    def __init__(self) -> None:
        self.store_path = self.reports_dir = self.run_id = None  # handed by write()
        self.pid: int | None = None
        self._pipe: int | None = None  # the write end: what to write goes there, then EOF
        self._frozen = False  # gc.freeze() in the monitor while the child lives
        self._handed = False  # write() called: the child has work, it is never killed

    @classmethod
    def fork(cls, *, close: tuple[int, ...] = ()) -> PageWriter:
        """Start the writer: a child that warms its templates, then waits for :meth:`write` or :meth:`cancel`.
        ``close``: file descriptors the child closes at once (the archive's lock, when it is held)."""
        writer = cls()
        if not hasattr(os, "fork"):
            return writer
        read_end, write_end = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        # Nor does the monitor's collector walk what it holds now, until the child is done (wait): a walk
        # writes to every object's header, and each page the monitor writes to is copied, the child keeping
        # the old one as its own (10,000 targets: 44 MB of the child's private memory, measured)
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # the child: never the parent's index connection, never its exit handlers
            os.close(write_end)
            # nor the archive's lock: a killed monitor's lock must not outlive it by a moment (closing this
            # copy of its fd leaves the monitor's flock held). Other inherited files stay open, unused: SQLite
            # keeps per-process state about the index's file that a new connection here shares.
            for fd in close:
                os.close(fd)
            # a terminal's Ctrl-C reaches the whole process group: the monitor decides (it cancels the child,
            # or lets it finish the pages it was handed), as its own handler does once the run has begun
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            code = 0
            # what the monitor holds stays shared: the collector never walks it (a walk writes to every
            # object's header, copying its page into this process)
            gc.freeze()
            try:
                from .fetch.worker import die_with_parent

                die_with_parent(parent)  # a monitor killed outright leaves no writer behind
                code = writer._child(read_end)
            except BaseException as exc:  # noqa: BLE001 - the child reports and exits, whatever happened
                writer._said(f"{exc!r}")
                code = 1
            finally:
                os._exit(code)
        os.close(read_end)
        writer.pid, writer._pipe, writer._frozen = pid, write_end, True
        return writer

    def write(self, store_path: Path, reports_dir: Path, run_id: str, **pages) -> None:
        """Hand the child what to write: the index's path, the reports folder, the run, and the keyword
        arguments of :func:`~crawler.report.front.write_archive_pages` but the store and folder; returns at
        once."""
        self.store_path, self.reports_dir, self.run_id = Path(store_path), Path(reports_dir), run_id
        self._handed = True
        if self.pid is None:  # no fork: written here, now
            from .store import CaptureStore

            index = CaptureStore.open_readonly(self.store_path)
            try:
                self._write(index, None, pages)
            finally:
                index.close()
            return
        data = pickle.dumps((self.store_path, self.reports_dir, run_id, pages), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._pipe, view):]
        except OSError:  # the child is gone (it said why on stderr): the pages wait for the next run
            pass
        finally:
            self._close()

    def cancel(self) -> None:
        """No pages this run: the child exits having written nothing (killed, when never handed anything:
        it may still be warming up). A writer already handed its pages is waited for."""
        if self.pid is not None and not self._handed:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._close()
        self.wait()

    def wait(self) -> None:
        """Wait for the child to finish (at once when there is none)."""
        self._close()
        pid, self.pid = self.pid, None
        try:
            while pid is not None:
                try:
                    os.waitpid(pid, 0)
                    return
                except ChildProcessError:
                    return
                except InterruptedError:
                    continue
        finally:
            if self._frozen:
                self._frozen = False
                gc.unfreeze()

    def _close(self) -> None:
        if self._pipe is not None:
            pipe, self._pipe = self._pipe, None
            os.close(pipe)

    def _child(self, read_end: int) -> int:
        from .report.assets import archive_assets
        from .report.front import ARCHIVE_TEMPLATES
        from .report.render import _environment

        env = _environment()
        for name in ARCHIVE_TEMPLATES:  # compiled while the run fetches
            env.get_template(name)
        assets = archive_assets(env)
        chunks = []
        with os.fdopen(read_end, "rb") as pipe:
            while chunk := pipe.read(1 << 20):
                chunks.append(chunk)
        if not chunks:  # cancelled
            return 0
        store_path, self.reports_dir, self.run_id, pages = pickle.loads(b"".join(chunks))
        self.store_path = store_path
        from .store import CaptureStore

        index = CaptureStore.open_readonly(self.store_path)
        try:
            self._write(index, (env, assets), pages)
        finally:
            index.close()
        return 0

    def _write(self, index, warm, pages: dict) -> None:
        from .report.front import write_archive_pages

        env, assets = warm if warm else (None, None)
        try:
            # the monitor writes the run report meanwhile, on a CPU of its own
            write_archive_pages(index, self.reports_dir, run_id=self.run_id, env=env, assets=assets, busy_cpus=1,
                                **pages)
        except LastseenError as exc:
            self._said(str(exc))

    def _said(self, why: str) -> None:
        run = f"lastseen run {self.run_id}" if self.run_id else "lastseen run"
        print(f"{run}: the archive front page was not written: {why}", file=sys.stderr,
              flush=True)
