"""Fetchers: they turn :class:`FetchJob` objects into :class:`~crawler.fetch.model.FetchResult` objects.

The seam between the monitor and fetching. A target says how it is fetched
(its ``fetch`` mode, a key of :data:`FETCH_MODES`); the monitor hands every job,
whatever its mode, to one :class:`Fetcher` and reads results back without
knowing which mode produced them.

One :class:`Fetcher` is one child process (:mod:`crawler.fetch.worker`) running
Scrapy, in which every fetch mode runs: its download handler
(:mod:`crawler.fetch.handler`) picks the mode of each request, and every mode's
page loads go through the same per-host download slots, so fetches of one host
share its politeness (``per_host_concurrency``, ``per_host_delay``) whichever
mode makes them. Twisted's reactor stays out of the monitor, and the fetcher
gets its own core.

A :class:`Fetcher` takes jobs while it runs: :meth:`Fetcher.submit` may be
called at any time, also while iterating :meth:`Fetcher.results` (to re-fetch
a URL, probe a host, or add targets found mid-run); the iteration ends when
every submitted job has its result. Jobs reach the process a window at a
time (:mod:`crawler.fetch.feed`: a bounded number sent and unanswered, hosts
in turn), each result taken letting the next one go: what waits to be
fetched is held once, in the monitor, whatever the number of targets.
"""

from __future__ import annotations

import json
import os
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields

from ..errors import FetchError
from .feed import JobFeed, host_of, window_of
from .model import ERROR_KINDS, PAGE_CHAIN, ROLES, Exchange, FetchResult, Resource
from .spool import END, FrameSpool

__all__ = [
    "ERROR_KINDS",
    "FETCH_MODES",
    "PAGE_CHAIN",
    "ROLES",
    "Exchange",
    "FetchJob",
    "FetchMode",
    "FetchResult",
    "Fetcher",
    "Resource",
]

PARENT_ENV = "LASTSEEN_MONITOR_PID"   # the worker exits if its parent is already gone


@dataclass(frozen=True)
class FetchMode:
    """A way of fetching a target: a row of :data:`FETCH_MODES` (and of the watchlist's ``fetch`` key)."""

    name: str
    description: str


#: Every fetch mode, by the name a watchlist uses. The handler that runs each
#: lives in :mod:`crawler.fetch.handler` (``MODE_HANDLERS``); the two tables are
#: checked against each other when the fetcher starts.
FETCH_MODES: dict[str, FetchMode] = {
    m.name: m
    for m in (
        FetchMode("http", "a plain HTTP(S) request (Scrapy): redirects followed, every exchange archived as "
                          "received"),
        FetchMode("browser", "a page load in headless Chromium (Playwright, crawler.fetch.chromium): every "
                             "response the page received, a full-page screenshot and the rendered DOM"),
    )
}


@dataclass(frozen=True, slots=True)
class FetchJob:
    """One fetch to make: a target's URL in a mode, for a role."""

    id: str                 # unique within a run; results carry it back (FetchResult.job)
    target: str             # the target's name
    url: str
    fetch: str = "http"     # a key of FETCH_MODES
    role: str = "page"      # what the fetch is for (ROLES; later: refetch, probe...)
    options: dict = field(default_factory=dict)  # the mode's per-target options (plain JSON values)

    def __post_init__(self):
        if self.fetch not in FETCH_MODES:
            raise FetchError(f"unknown fetch mode {self.fetch!r} for target {self.target!r}; "
                             f"known: {', '.join(FETCH_MODES)}")


_JOB_FIELDS = tuple(f.name for f in fields(FetchJob))


class Fetcher:
    """One fetcher process for a run: takes jobs at any time, yields results as they complete.

    ``options`` are plain values (see :func:`crawler.watchlist.fetch_options`).
    When ``stop`` is set the process is killed at once; the results it had
    already sent are still yielded, then the iteration ends (no error). The
    process runs in its own session, so a terminal's Ctrl-C reaches only the
    monitor, which decides; and it dies with the monitor (PR_SET_PDEATHSIG).
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, options: dict, *, stop: threading.Event | None = None):
        self.options = options
        self.stop = stop
        self.proc: subprocess.Popen | None = None
        self._outbox: queue.Queue = queue.Queue()
        self._feed_jobs = JobFeed(*window_of(options))   # jobs not sent yet, and which go next
        self._inbox = FrameSpool()
        self._outstanding = 0
        self._done = False           # the worker said it finished cleanly
        self._finished = threading.Event()

    # -- jobs -----------------------------------------------------------------------
    def submit(self, job: FetchJob) -> None:
        """Queue ``job``; its result comes out of :meth:`results`. Never blocks (it is sent to the process
        when the window has room: :mod:`crawler.fetch.feed`)."""
        if self.proc is None:
            self._start()
        self._outstanding += 1
        self._feed_jobs.add(job)
        self._send()

    def submit_all(self, count: int, url_of: Callable[[int], str], make: Callable[[int], FetchJob]) -> None:
        """Queue ``count`` jobs, the i-th at ``url_of(i)``, each made by ``make(i)`` only when it is sent: a run's
        100,000 targets wait as numbers, not jobs (#17). As many :meth:`submit` calls, in that order: none, and
        no process is started (a run with nothing due)."""
        if count and self.proc is None:
            self._start()
        self._feed_jobs.make = make
        for i in range(count):
            self._outstanding += 1
            self._feed_jobs.add(i, host_of(url_of(i)))
        self._send()

    def _send(self) -> None:
        for job in self._feed_jobs.take():
            # its fields as they are (plain JSON values): dataclasses.asdict's deep copy cost 3 times the line (#17)
            self._outbox.put(json.dumps({"job": {name: getattr(job, name) for name in _JOB_FIELDS}}))

    @property
    def outstanding(self) -> int:
        """Jobs submitted whose results have not been yielded yet."""
        return self._outstanding

    def results(self) -> Iterator[FetchResult]:
        """Results in completion order, until every submitted job has its result.

        Raises :class:`FetchError` if the fetcher process dies first (unless
        ``stop`` was set: then what arrived is yielded and the iteration ends).
        """
        while self._outstanding > 0:
            item = self._inbox.get()
            if item is END:
                if self.stop is not None and self.stop.is_set():
                    return
                self._reap()
                raise FetchError(
                    f"the fetcher process stopped (exit status {self.proc.returncode}) with "
                    f"{self._outstanding} fetch(es) unanswered; see the messages above"
                )
            if isinstance(item, dict) and item.get("done"):
                self._done = True
                continue
            self._outstanding -= 1
            self._feed_jobs.answered(getattr(item, "job", None))
            self._send()   # the next job goes while this result is recorded
            yield item

    # -- process ----------------------------------------------------------------------
    def _start(self) -> None:
        self.proc = _take_prestarted() or _spawn()
        self._outbox.put(json.dumps({"settings": self.options}))
        threading.Thread(target=self._feed, name="lastseen-feed", daemon=True).start()
        threading.Thread(target=self._read, name="lastseen-read", daemon=True).start()
        if self.stop is not None:
            threading.Thread(target=self._watch, name="lastseen-stop", daemon=True).start()

    def _feed(self) -> None:
        stream = self.proc.stdin
        try:
            while True:
                line = self._outbox.get()
                if line is None:
                    break
                stream.write(line.encode() + b"\n")
                stream.flush()
            stream.close()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def _read(self) -> None:
        stream = self.proc.stdout
        try:
            while True:
                head = stream.read(4)
                if len(head) < 4:
                    break
                (size,) = struct.unpack(">I", head)
                if not self._inbox.put_from(stream, size):
                    break
        except (OSError, ValueError):
            pass
        finally:
            self._inbox.close()

    def _watch(self) -> None:
        # Stop the fetcher the moment the monitor is asked to stop; what it
        # already sent is still read (the pipe drains to EOF) and yielded.
        while not self._finished.is_set():
            if self.stop.wait(0.05):
                if self.proc.poll() is None:
                    self.proc.kill()
                return

    def _reap(self) -> None:
        self._finished.set()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        """No more jobs: let the worker finish (killing it if results are still owed), then clean up."""
        if self.proc is None:
            self._inbox.discard()
            return
        self._outbox.put(None)   # end of jobs: the worker closes its spider and exits
        self._finished.set()
        if self._outstanding > 0 and self.proc.poll() is None:
            self.proc.kill()     # nobody will read what it still fetches
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._inbox.discard()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- a fetcher process started early (#17) ------------------------------------------------
_prestarted: tuple[int, subprocess.Popen] | None = None   # (the pid that spawned it, the process)


def _spawn() -> subprocess.Popen:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env[PARENT_ENV] = str(os.getpid())
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "crawler.fetch.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True,
        )
    except OSError as exc:
        raise FetchError(f"cannot start the fetcher process: {exc}") from exc


def prestart() -> None:
    """Start the fetcher process now, before the run knows its options: it imports Scrapy and Twisted while the
    monitor is imported and the watchlist read, then waits for its settings. The next :class:`Fetcher` of this
    process adopts it; :func:`discard_prestarted` kills it if none did (a run with nothing due, or that failed
    first). ``lastseen run`` does this; a library call of ``monitor.run`` spawns its fetcher when it needs one."""
    global _prestarted
    if _prestarted is None:
        _prestarted = (os.getpid(), _spawn())


def _take_prestarted() -> subprocess.Popen | None:
    global _prestarted
    held, _prestarted = _prestarted, None
    if held is None:
        return None
    pid, proc = held
    if pid == os.getpid() and proc.poll() is None:
        return proc
    if pid == os.getpid():
        _close_streams(proc)
        proc.wait()
    return None


def discard_prestarted() -> None:
    """Kill the pre-started fetcher process no :class:`Fetcher` adopted, and wait for it (SIGKILL: at once)."""
    global _prestarted
    held, _prestarted = _prestarted, None
    if held is None or held[0] != os.getpid():
        return
    proc = held[1]
    if proc.poll() is None:
        proc.kill()
    _close_streams(proc)
    proc.wait()


def _close_streams(proc: subprocess.Popen) -> None:
    for stream in (proc.stdin, proc.stdout):
        try:
            stream.close()
        except OSError:
            pass
