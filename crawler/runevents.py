"""A run's events kept on disk once final, read back in the run's order (#17): memory flat in the targets.

A run of 100,000 targets made 100,000 :class:`~crawler.contract.Event` objects of some 1 KB each (URL, WARC
coordinates, evidence, summary), all held until the run's ``--json`` document, its alerts and its summary
line were written. :class:`RunEvents` holds a target's event in memory while it can still change (queued,
then committed: its ``capture_id`` is known then, and a listing's run names its ``parent`` right after
queueing it), then pickles it to an unnamed temporary file (this process's own, gone when closed) and keeps
only where it is. :meth:`RunEvents.in_order` is the run's ``events``: a sequence read back from the file
each time it is walked, in the watchlist's order.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable, Iterator, Sequence

from .contract import Event

__all__ = ["EventList", "RunEvents"]


class RunEvents:
    """A run's events by target name: the last event of each (see the module's docstring)."""

    def __init__(self):
        self._held: dict[str, Event] = {}              # may still change: in memory
        self._where: dict[str, int] = {}   # final: offset << 32 | size of its pickle in the file (one int, #17)
        self._fd: int | None = None
        self._size = 0

    def __setitem__(self, target: str, event: Event) -> None:
        self._held[target] = event
        self._where.pop(target, None)

    def __contains__(self, target: object) -> bool:
        return target in self._held or target in self._where

    def __len__(self) -> int:
        return len(self._held) + len(self._where)

    def __getitem__(self, target: str) -> Event:
        event = self._held.get(target)
        if event is not None:
            return event
        where = self._where[target]
        return pickle.loads(os.pread(self._fd, where & 0xFFFFFFFF, where >> 32))

    def final(self, events: Sequence[Event]) -> None:
        """``events`` will not change any more: to the file, out of memory (unless replaced since)."""
        for event in events:
            if self._held.get(event.target) is not event:
                continue
            if self._fd is None:
                with tempfile.TemporaryFile(prefix="lastseen-events-") as spool:
                    self._fd = os.dup(spool.fileno())
            data = pickle.dumps(event, protocol=pickle.HIGHEST_PROTOCOL)
            os.pwrite(self._fd, data, self._size)
            self._where[event.target] = self._size << 32 | len(data)
            self._size += len(data)
            del self._held[event.target]

    def in_order(self, names: Sequence[str], amend: Callable[[Event], None] | None = None) -> EventList:
        """The events of ``names`` that have one, in that order; ``amend`` is applied to each as it is read."""
        return EventList(self, [name for name in names if name in self], amend)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    __del__ = close   # the run's events are gone with the last reference to them (the run's result)


class EventList(Sequence):
    """A run's events in order, read from :class:`RunEvents` each time they are walked (a ``Sequence``)."""

    def __init__(self, events: RunEvents, names: list[str], amend: Callable[[Event], None] | None = None):
        self._events = events
        self._names = names
        self._amend = amend

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._read(name) for name in self._names[index]]
        return self._read(self._names[index])

    def __iter__(self) -> Iterator[Event]:
        for name in self._names:
            yield self._read(name)

    def _read(self, name: str) -> Event:
        event = self._events[name]
        if self._amend is not None:
            self._amend(event)
        return event
