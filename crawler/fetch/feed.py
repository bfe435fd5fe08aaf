"""Jobs fed to the fetcher process a window at a time: memory flat whatever the number of targets (#17).

A run of 100,000 targets used to hand every job to the fetcher at once: each waited as a JSON line in the
monitor, then as a dict in the fetcher process, for as long as the run lasted. :class:`JobFeed` keeps the jobs
not sent yet in the monitor (the :class:`~crawler.fetch.FetchJob` objects the run holds anyway), each in its
host's queue in the order it was submitted, and says which to send: at most ``window`` sent and unanswered
at once, and at most ``per_host`` of one host (``hosts`` overrides it per host name). Each result taken
frees its place, and the next job is sent then.

Which job goes next: the hosts with jobs waiting take turns (round robin, in the order their first job
came); a host with ``per_host`` jobs out is passed over until one comes back. So the order within a host is
the order of submission, as before, and a watchlist listing one host's thousand targets before another's
still fetches both hosts at once: the fetcher's own scheduler (Scrapy's downloader-aware queue) sees every
host with work, never a window of one host. The window is what keeps every download slot busy: twice the
run's ``concurrency``, and twice a host's concurrency per host (its next requests queued while its current
ones download; ``per_host_delay`` is kept by the fetcher's slots, as before).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from urllib.parse import urlsplit

__all__ = ["JobFeed", "host_of", "window_of"]


def host_of(url: str) -> str:
    """The host a job's download slot is named for (Scrapy's slot key: the URL's host name)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def window_of(options: dict) -> tuple[int, int, dict[str, int]]:
    """``(window, per_host, overrides)`` for the fetch ``options`` (:func:`crawler.watchlist.fetch_options`)."""
    from ..watchlist import fetch_defaults

    options = {**fetch_defaults(), **options}
    overrides = {host: 2 * int(values["per_host_concurrency"])
                 for host, values in (options.get("hosts") or {}).items()
                 if values.get("per_host_concurrency") is not None}
    return 2 * int(options["concurrency"]), 2 * int(options["per_host_concurrency"]), overrides


class JobFeed:
    """The jobs of a run not yet sent to the fetcher, and which to send next (see the module's docstring)."""

    def __init__(self, window: int, per_host: int, overrides: dict[str, int] | None = None):
        self.window = max(1, window)
        self.per_host = max(1, per_host)
        self.overrides = overrides or {}
        self._waiting: OrderedDict[str, deque] = OrderedDict()   # host -> jobs not sent, oldest first
        self._sent: dict[str, list] = {}                         # job id -> [its host, how many sent and unanswered]
        self._count = 0                                          # jobs sent and unanswered
        self._out: dict[str, int] = {}                           # host -> jobs sent and unanswered

    make = None   # makes a job queued as a number into its FetchJob when it is sent (Fetcher.submit_all)

    def add(self, job, host: str | None = None) -> None:
        """Queue ``job`` (a :class:`~crawler.fetch.FetchJob`, or a number ``make`` makes one of when it is sent,
        then ``host`` is its host) behind its host's."""
        host = host_of(job.url) if host is None else host
        queue = self._waiting.get(host)
        if queue is None:
            queue = self._waiting[host] = deque()
        queue.append(job)

    def answered(self, job_id: str | None) -> None:
        """The result of ``job_id`` is in: its place is free."""
        sent = self._sent.get(job_id)
        if sent is not None:
            host = sent[0]
            sent[1] -= 1
            if not sent[1]:
                del self._sent[job_id]
            self._count -= 1
            left = self._out[host] - 1
            if left:
                self._out[host] = left
            else:
                del self._out[host]

    def take(self) -> list:
        """The jobs to send now, in order (none while the window is full)."""
        out = []
        while self._count < self.window and self._waiting:
            for host, queue in self._waiting.items():
                if self._out.get(host, 0) < self.overrides.get(host, self.per_host):
                    break
            else:
                break   # every host with jobs waiting has its share out
            job = queue.popleft()
            if isinstance(job, int):
                job = self.make(job)
            if queue:
                self._waiting.move_to_end(host)   # its turn is over
            else:
                del self._waiting[host]
            self._sent.setdefault(job.id, [host, 0])[1] += 1
            self._count += 1
            self._out[host] = self._out.get(host, 0) + 1
            out.append(job)
        return out

    @property
    def waiting(self) -> int:
        """Jobs not sent yet."""
        return sum(len(q) for q in self._waiting.values())
