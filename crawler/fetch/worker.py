"""The fetcher process: ``python -m crawler.fetch.worker``.

Reads JSON lines from stdin: first ``{"settings": {...}}``, then any number of
``{"job": {"id", "target", "url", "fetch", "role"}}``, at any time, while it
runs; end of input means "no more jobs". Runs Scrapy, and writes one frame per
job to stdout as each completes: a 4-byte big-endian length and a pickled
:class:`~crawler.fetch.model.FetchResult` with its response bodies out of band
(:func:`crawler.fetch.spool.encode_frame`); a final frame holds
``{"done": True, "count": N}``. Logs go to stderr. Running Scrapy in its
own process keeps Twisted's reactor out of the monitor (it cannot restart in
one process) and gives extraction and diffing the second core.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import signal
import struct
import sys

from .spool import encode_frame


def _die_with_parent(parent: int | None = None) -> None:
    """Ask Linux to kill this process when the monitor dies (SIGKILL included).

    The request only covers a parent that dies after it is made: if the
    monitor was killed while this process was starting, its parent is already
    someone else (init or a subreaper), and it exits at once. ``parent``: the
    monitor's pid (default: from the environment the monitor gave the fetcher).
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    from . import PARENT_ENV

    expected = str(parent) if parent is not None else os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        os._exit(1)


die_with_parent = _die_with_parent


class FrameWriter:
    def __init__(self, fd: int):
        self.out = os.fdopen(fd, "wb", buffering=1 << 16)
        self.count = 0

    def write(self, obj) -> None:
        bodies = []
        for ex in [*getattr(obj, "exchanges", ()), *getattr(obj, "resources", ())]:
            bodies.append((ex, ex.body))
            ex.body = pickle.PickleBuffer(ex.body)  # out of band: written as is, never copied
        try:
            parts = encode_frame(obj)
        finally:
            for ex, body in bodies:
                ex.body = body
        try:
            self.out.write(struct.pack(">I", sum(len(p) if isinstance(p, bytes) else p.nbytes for p in parts)))
            for part in parts:
                self.out.write(part)
            self.out.flush()
        except BrokenPipeError:
            # The monitor is gone: nobody will store what we fetch.
            os._exit(1)


def main() -> int:
    _die_with_parent()
    # Scrapy and Twisted are imported before the settings are read: a process started early (crawler.fetch.prestart)
    # does it while the monitor reads its watchlist (#17). Keep the frame stream clean: anything printed goes to stderr.
    frames = FrameWriter(os.dup(1))
    os.dup2(2, 1)

    from scrapy.crawler import CrawlerProcess

    from .http import TargetSpider, scrapy_settings

    first = sys.stdin.buffer.readline()
    if not first.strip():
        return 0  # the monitor had no job after all
    settings_doc = json.loads(first)["settings"]

    def emit(result):
        frames.count += 1
        frames.write(result)

    import logging

    settings = scrapy_settings(settings_doc)
    process = CrawlerProcess(settings)
    # A target that fails is a capture with an error, reported by the monitor;
    # Scrapy's "Gave up retrying" lines would only repeat it on stderr (and cron mail).
    logging.getLogger("scrapy.downloadermiddlewares.retry").setLevel(logging.CRITICAL)
    process.crawl(TargetSpider, jobs=_read_jobs(sys.stdin.buffer), emit=emit)
    # Scrapy's, Twisted's and the standard library's objects, made by the imports, live as long as the process:
    # out of the collector's reach, a full collection walks only what the crawl makes (2 a 2,000-page run took
    # 0.04 ms of CPU a page walking them; #17, bench/README.md).
    gc.freeze()
    process.start()
    frames.write({"done": True, "count": frames.count})
    frames.out.close()
    return 0


def _read_jobs(stream):
    """Jobs from the monitor, one JSON line each, until end of input (read on a thread by the spider)."""
    for line in stream:
        if line.strip():
            yield json.loads(line)["job"]


if __name__ == "__main__":
    code = main()
    # Every frame is written and the pipe closed: the interpreter's teardown of Scrapy's and Twisted's objects
    # would only keep the monitor waiting (0.6-1 s of a loaded 2-CPU machine after the last result; #17).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
