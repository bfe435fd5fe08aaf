"""Fetchers: they turn targets into :class:`~crawler.fetch.model.FetchResult` objects.

:func:`fetch_http` runs Scrapy in a child process (:mod:`crawler.fetch.worker`)
and yields results as they arrive, in completion order.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator

from ..errors import FetchError
from .model import ERROR_KINDS, Exchange, FetchResult
from .spool import END, FrameSpool

__all__ = ["ERROR_KINDS", "Exchange", "FetchResult", "fetch_http"]

PARENT_ENV = "LASTSEEN_MONITOR_PID"   # the worker exits if its parent is already gone


def fetch_http(
    targets: Iterable[dict], settings: dict, *, stop: threading.Event | None = None
) -> Iterator[FetchResult]:
    """Fetch ``targets`` (dicts with ``name`` and ``url``) over plain HTTP(S).

    Yields one :class:`FetchResult` per target as fetches complete. Raises
    :class:`FetchError` if the fetcher process dies before reporting them all.

    When ``stop`` is set the fetcher process is killed at once; the results it
    had already sent are still yielded, then the iteration ends (no error).
    The process runs in its own session, so a terminal's Ctrl-C reaches only
    the monitor, which decides; and it dies with the monitor (PR_SET_PDEATHSIG).
    """
    targets = list(targets)
    if not targets:
        return
    job = json.dumps({"settings": settings, "targets": targets}).encode()
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env[PARENT_ENV] = str(os.getpid())
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.fetch.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        raise FetchError(f"cannot start the fetcher process: {exc}") from exc

    def feed():
        try:
            proc.stdin.write(job)
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    inbox = FrameSpool()

    def read():
        stream = proc.stdout
        try:
            while True:
                head = stream.read(4)
                if len(head) < 4:
                    break
                (size,) = struct.unpack(">I", head)
                data = stream.read(size)
                if len(data) < size:
                    break
                inbox.put(data)
        finally:
            inbox.close()

    finished = threading.Event()

    def watch():
        # Stop the fetcher the moment the monitor is asked to stop; what it
        # already sent is still read (the pipe drains to EOF) and yielded.
        while not finished.is_set():
            if stop.wait(0.05):
                if proc.poll() is None:
                    proc.kill()
                return

    threading.Thread(target=feed, name="lastseen-feed", daemon=True).start()
    threading.Thread(target=read, name="lastseen-read", daemon=True).start()
    if stop is not None:
        threading.Thread(target=watch, name="lastseen-stop", daemon=True).start()
    done = False
    seen = 0
    try:
        while True:
            item = inbox.get()
            if item is END:
                break
            if isinstance(item, dict) and item.get("done"):
                done = True
                continue
            seen += 1
            yield item
    finally:
        finished.set()
        if proc.poll() is None and not done:
            proc.kill()
        proc.wait()
        inbox.discard()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
    if stop is not None and stop.is_set():
        return
    if not done or seen != len(targets):
        raise FetchError(
            f"the fetcher process stopped (exit status {proc.returncode}) after reporting "
            f"{seen} of {len(targets)} targets; see the messages above"
        )
