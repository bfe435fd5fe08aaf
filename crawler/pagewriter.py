"""The archive's front page and history pages, written by a child process forked when a run begins.

``lastseen run`` forks the writer before it reads the watchlist (:meth:`PageWriter.fork`; a run called
as a library forks it once it knows targets are due, before it fetches anything): the child loads and
compiles the pages' templates and renders the shared stylesheet while the run fetches (a fresh process
spends some 0.3 s there), then waits. While the run fetches, the monitor hands it the targets whose events
are final as their rows are committed (:meth:`PageWriter.stream`, then :meth:`PageWriter.captured` after
each result: never blocking on the pipe), and the child writes their history pages meanwhile but their
footers (:mod:`crawler.report.stream`). When the run's captures are all committed, the monitor hands it
what to write (:meth:`PageWriter.write`: the index, the reports folder, the run, its targets, those it
captured, their order) and writes the run report meanwhile, on the other core: the child finishes the
pages streamed, writes the others and the front page; :meth:`PageWriter.wait` waits for the child.
Messages go through a pipe, each its length and its pickle. A run with nothing due, or that ends without
a report (interrupted, failed), cancels it (:meth:`PageWriter.cancel`): the child puts nothing in place
(what it streamed is deleted), and one never handed anything is killed at once rather than left to finish
warming up.

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
from collections.abc import Mapping
from itertools import islice
from pathlib import Path

from .errors import LastseenError
from .verdicts import gets_page

__all__ = ["PART_ITEMS", "PageWriter"]

#: Items of ``targets``, ``captured`` and ``order`` a message of :meth:`PageWriter.write` holds (#17)
PART_ITEMS = 4096
_PARTS = ("targets", "captured", "order")


class PageWriter:
    """The archive's pages of one run, written by a child forked before the run fetches."""

    def __init__(self) -> None:
        self.store_path = self.reports_dir = self.run_id = None  # handed by write()
        self.pid: int | None = None
        self._pipe: int | None = None  # the write end: what to write goes there, then EOF
        self._frozen = False  # gc.freeze() in the monitor while the child lives
        self._handed = False  # write() or a batch handed: the child has work, it is never killed
        self._begin: tuple | None = None  # stream(): where the pages go, sent with the first batch
        self._waiting: list[tuple[str, str]] = []  # final targets whose rows are not all committed yet
        self._waiting_pages: list[str] = []  # those of them whose events get a page in the run's report
        #: targets handed while the run fetched whose report pages the child writes (crawler.report.runstream);
        #: the run report sets each one's page name (write_run_report's ``delegated``)
        self.delegated: dict[str, str | None] = {}
        self._out = bytearray()  # framed messages the pipe has not taken yet (the monitor never blocks on it)

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

    def stream(self, store_path: Path, reports_dir: Path, run_id: str, *, signing_fingerprint: str | None = None,
               max_page: int | None = None, archive_root: Path | None = None) -> None:
        """The run's targets are handed as they become final (:meth:`captured`): the index, the reports folder,
        the run and the footer's fingerprint their pages are written with (crawler.report.stream), the bound of
        the run report's pages and where the archive is (crawler.report.runstream)."""
        if self._pipe is not None:
            self._begin = ("begin", Path(store_path), Path(reports_dir), run_id, signing_fingerprint,
                           {"max_page": max_page, "archive_root": archive_root})
            os.set_blocking(self._pipe, False)

    def captured(self, recorder, events) -> None:
        """``events``: final events of the run (:meth:`~crawler.judge.RunJudge.take`'s). Their targets are
        handed to the child once the recorder has committed their rows (nothing queued), to write their
        history pages while the run goes on; never waits for the child."""
        if self._begin is None or self._pipe is None:
            return
        self._waiting += [(event.target, recorder.targets[event.target].url) for event in events]
        self._waiting_pages += [event.target for event in events
                                if gets_page(event.verdict, event.reason, event.diff is not None)]
        if self._waiting and not recorder.pending:
            if not self._handed:
                self._send(self._begin)
            batch, self._waiting = self._waiting, []
            pages, self._waiting_pages = self._waiting_pages, []
            self._handed = True
            self._send(("batch", batch, pages))
            if self._pipe is not None:  # else the child is gone: the monitor writes every page of its report
                self.delegated.update(dict.fromkeys(pages))

    def write(self, store_path: Path, reports_dir: Path, run_id: str, **pages) -> None:
        """Hand the child what to write: the index's path, the reports folder, the run, and the keyword
        arguments of :func:`~crawler.report.front.write_archive_pages` but the store and folder; returns once
        the child has taken them. ``targets``, ``captured`` (iterables, read once) and ``order`` (a mapping) go
        :data:`PART_ITEMS` at a time: a run of 100,000 targets never holds them whole, nor their pickle (#17)."""
        self.store_path, self.reports_dir, self.run_id = Path(store_path), Path(reports_dir), run_id
        self._handed = True
        if self.pid is None:  # no fork: written here, now
            from .store import CaptureStore

            pages["targets"] = list(pages["targets"])   # read twice: the history pages, then the front page
            index = CaptureStore.open_readonly(self.store_path)
            try:
                self._write(index, None, pages)
            finally:
                index.close()
            return
        if self._pipe is not None:
            os.set_blocking(self._pipe, True)
            for key in _PARTS:
                if pages.get(key) is None:
                    continue
                items = pages.pop(key)
                items = iter(items.items() if isinstance(items, Mapping) else items)
                self._send(("part", key, []))
                while self._pipe is not None and (part := list(islice(items, PART_ITEMS))):
                    self._send(("part", key, part))
            if self._pipe is not None:   # else the child is gone: it said why
                self._send(("write", self.store_path, self.reports_dir, run_id, pages))
        self._close()

    def _send(self, message: tuple) -> None:
        """Queue ``message`` for the child (its length, then its pickle) and give the pipe what it takes."""
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self._out += len(data).to_bytes(8, "big") + data
        while self._out and self._pipe is not None:
            try:
                del self._out[:os.write(self._pipe, self._out)]
            except BlockingIOError:  # the child is busy: the rest goes with the next message
                return
            except OSError:  # the child is gone (it said why on stderr): the pages wait for the next run
                self._out.clear()
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
        from .report import history
        from .report.runstream import RunPageStream
        from .report.stream import HistoryStream
        from .store import CaptureStore

        index = stream = signer = runs = None
        report: dict = {}  # the run report's bound and archive (begin)
        streaming = True  # False once the pages cannot be streamed: all are written at the end
        parts: dict[str, list] = {}  # handed by write() a part at a time
        with os.fdopen(read_end, "rb") as pipe:
            try:
                while (message := _receive(pipe)) is not None:
                    if message[0] == "begin":
                        _, self.store_path, self.reports_dir, self.run_id, signer, report = message
                    elif message[0] == "batch" and streaming:
                        index = index or CaptureStore.open_readonly(self.store_path)
                        if stream is None:
                            try:
                                stream = HistoryStream(self.reports_dir, self.run_id, env=env, assets=assets,
                                                       page_rows=history.HISTORY_PAGE_ROWS,
                                                       signing_fingerprint=signer)
                            except OSError:
                                streaming = False
                                continue
                        stream.write_targets(index, message[1])
                        if runs is None:
                            runs = RunPageStream(self.reports_dir, self.run_id, env=env, signing_fingerprint=signer,
                                                 **report)
                        runs.write_targets(index, message[2])  # those whose events get a page in the report
                    elif message[0] == "part":
                        parts.setdefault(message[1], []).extend(message[2])
                    elif message[0] == "write":  # the run's end: the rest of the pages
                        _, self.store_path, self.reports_dir, self.run_id, pages = message
                        pages.update({key: dict(got) if key == "order" else got for key, got in parts.items()})
                        parts.clear()
                        index = index or CaptureStore.open_readonly(self.store_path)
                        self._write(index, (env, assets), pages, stream, runs)
                        return 0
                if stream is not None:  # cancelled: nothing of the streamed pages stays
                    stream.cancel()
                if runs is not None:
                    runs.cancel()
            finally:
                if index is not None:
                    index.close()
        return 0

    def _write(self, index, warm, pages: dict, streamed=None, runs=None) -> None:
        from .report.front import write_archive_pages
        from .report.history import run_change_pages

        env, assets = warm if warm else (None, None)
        report = pages.pop("report", None)
        try:
            names = run_change_pages(index, self.run_id, pages.get("order"))
            if runs is not None and report is not None:  # the run report's pages rendered while it fetched
                runs.finish(names, generated=report["generated"], report_footer=report["footer"])
            pages["change_pages"] = names
            # the monitor writes the run report meanwhile, on a CPU of its own
            write_archive_pages(index, self.reports_dir, run_id=self.run_id, env=env, assets=assets, busy_cpus=1,
                                streamed=streamed, **pages)
        except LastseenError as exc:
            self._said(str(exc))

    def _said(self, why: str) -> None:
        run = f"lastseen run {self.run_id}" if self.run_id else "lastseen run"
        print(f"{run}: the archive front page was not written: {why}", file=sys.stderr,
              flush=True)


def _receive(pipe) -> tuple | None:
    """The next message from the monitor; None at the end of the pipe (or a message cut short by it)."""
    head = pipe.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "big")
    data = pipe.read(size)
    return pickle.loads(data) if len(data) == size else None
