"""SIGINT and SIGTERM during a run: noted, never raised mid-write.

A run installs :class:`Interrupts` for its duration. A signal sets a flag (and
the :attr:`Interrupts.stop` event the fetcher watches) instead of raising
``KeyboardInterrupt`` wherever Python happens to be, which could be half-way
through a WARC record or between a commit and its bookkeeping. The run looks
at the flag at its safe points (see :func:`crawler.monitor.run`) and stops
there with :class:`~crawler.errors.RunInterrupted` (exit 130 or 143).
"""

from __future__ import annotations

import signal
import threading

from .errors import RunInterrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    def __init__(self):
        self.stop = threading.Event()
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "Interrupts":
        # Signal handlers can only be set from the main thread; elsewhere (a
        # library caller's worker thread) signals keep their usual meaning.
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> bool:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
        return False

    def _handle(self, signum, frame) -> None:
        if self.signum is None:
            self.signum = signum
        self.stop.set()

    @property
    def name(self) -> str | None:
        return signal.Signals(self.signum).name if self.signum is not None else None

    @property
    def received(self) -> bool:
        return self.signum is not None

    def check(self, detail: str = "") -> None:
        """Raise :class:`RunInterrupted` if a signal has arrived."""
        if self.signum is not None:
            raise RunInterrupted(f"interrupted by {self.name}{detail}", self.signum)
