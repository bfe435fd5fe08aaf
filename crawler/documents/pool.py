"""The run's side of the document worker: one worker process, kept between documents, killed and
replaced when a document runs past its time limit or spends the worker's memory (see
:mod:`crawler.documents.worker` for what passes between them).

:meth:`DocumentPool.read` never raises for what a document does: a document cut off keeps the
parts read before the cut (``doc-truncated``); one the worker could not read at all comes back
with ``error`` set and no parts.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["STARTUP_TIMEOUT", "DocumentPool", "Reading"]

#: Longest wait for a new worker to import its libraries and say it is ready (not counted in ``doc_timeout``).
STARTUP_TIMEOUT = 120.0

_LENGTH = struct.Struct(">I")
_ROOT = str(
    Path(__file__).resolve().parents[2]
)  # the folder holding the `crawler` package


@dataclass
class Reading:
    """What the worker sent for one document."""

    meta: dict = field(default_factory=dict)
    pages: int | None = None  # the count the document declares (PDF), if any
    paged: bool = False  # parts are pages (else sheets, or one part)
    parts: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    error: str | None = None


class _Gone(Exception):
    """The worker ended, or ran out of time."""


class DocumentPool:
    """One worker process, started when first needed."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._buffer = b""
        self._lock = threading.Lock()
        self.started = 0  # workers started (the first, and each replacement)

    def read(
        self, body: bytes, fmt: str, *, timeout: float, max_pages: int, max_chars: int
    ) -> Reading:
        """Read one document within ``timeout`` seconds of the worker's time."""
        with self._lock:
            reading = Reading()
            try:
                self._ensure()
            except (_Gone, OSError, ValueError) as exc:
                self.close()
                reading.error = f"the document worker did not start: {exc}"
                return reading
            deadline = time.monotonic() + timeout
            header = json.dumps(
                {
                    "format": fmt,
                    "max_pages": max_pages,
                    "max_chars": max_chars,
                    "length": len(body),
                }
            ).encode()
            try:
                self._proc.stdin.write(_LENGTH.pack(len(header)) + header)
                self._proc.stdin.write(body)
                self._proc.stdin.flush()
                while True:
                    event = self._next(deadline)
                    _apply(reading, event)
                    if event.get("done"):
                        break
                if event.get("exit"):
                    self.close()  # its memory is spent: the next document starts another worker
            except (_Gone, OSError, ValueError):
                self._drain(reading)  # what it had sent before the cut is kept
                self.close()  # killed; the next document starts another worker
                _flag(reading, "doc-truncated")
            return reading

    def _drain(self, reading: Reading) -> None:
        """Events the worker sent that are not read yet (without waiting for more; for at most a second,
        against a worker that goes on sending)."""
        stop = time.monotonic() + 1.0
        try:
            while time.monotonic() < stop:
                event = self._next(time.monotonic(), wait=False)
                _apply(reading, event)
        except (_Gone, OSError, ValueError):
            return

    def _ensure(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self.close()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_ROOT, env.get("PYTHONPATH")) if p
        )
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "crawler.documents.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        self.started += 1
        self._buffer = b""
        ready = self._next(time.monotonic() + STARTUP_TIMEOUT)
        if not ready.get("ready"):
            raise _Gone("no greeting")

    def _next(self, deadline: float, *, wait: bool = True) -> dict:
        """The next event from the worker, before ``deadline`` (``wait=False``: only one already sent)."""
        fd = self._proc.stdout.fileno()
        while True:
            if len(self._buffer) >= _LENGTH.size:
                size = _LENGTH.unpack(self._buffer[: _LENGTH.size])[0]
                if len(self._buffer) >= _LENGTH.size + size:
                    data = self._buffer[_LENGTH.size : _LENGTH.size + size]
                    self._buffer = self._buffer[_LENGTH.size + size :]
                    return json.loads(data)
            left = deadline - time.monotonic() if wait else 0.0
            if left <= 0 and wait:
                raise _Gone("out of time")
            readable, _, _ = select.select([fd], [], [], left)
            if not readable:
                raise _Gone("out of time")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise _Gone("ended")
            self._buffer += chunk

    def close(self) -> None:
        """Kill the worker, if there is one (the next document starts another)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def _flag(reading: Reading, flag: str) -> None:
    if flag not in reading.flags:
        reading.flags.append(flag)


def _apply(reading: Reading, event: dict) -> None:
    if "meta" in event:
        reading.meta = event["meta"]
        reading.pages = event.get("pages")
        reading.paged = bool(event.get("paged"))
    if "part" in event:
        reading.parts.append(event["part"])
    if "flag" in event:
        _flag(reading, event["flag"])
    if event.get("error"):
        if reading.parts:
            _flag(
                reading, "doc-truncated"
            )  # read in part, then broken: what was read is kept
        else:
            reading.error = event["error"]


_POOL = DocumentPool()
atexit.register(_POOL.close)


def shared_pool() -> DocumentPool:
    """The process's one document worker."""
    return _POOL
