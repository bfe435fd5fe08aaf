"""A FIFO of frames spooled to an unlinked temporary file.

The fetcher can outrun the monitor (which writes WARC, extracts and diffs);
holding every fetched body in memory until the monitor catches up made memory
grow with the watchlist. Frames go to a temporary file instead (the OS page
cache absorbs them) and are read back in order; the file is rewound whenever
the reader catches up. The fetcher is never slowed down, so its timeouts
never fire because the monitor is busy.
"""

from __future__ import annotations

import pickle
import struct
import tempfile
import threading

END = object()
_HEAD = struct.Struct(">I")


class FrameSpool:
    def __init__(self, directory: str | None = None):
        self._fh = tempfile.TemporaryFile(dir=directory)
        self._cond = threading.Condition()
        self._write_pos = 0
        self._read_pos = 0
        self._count = 0
        self._closed = False

    def put(self, data: bytes) -> None:
        """Append one frame (pickled bytes)."""
        with self._cond:
            if self._fh.closed:  # the consumer has gone: drop it
                return
            self._fh.seek(self._write_pos)
            self._fh.write(_HEAD.pack(len(data)))
            self._fh.write(data)
            self._write_pos = self._fh.tell()
            self._count += 1
            self._cond.notify()

    def close(self) -> None:
        """No more frames will come; :meth:`get` returns :data:`END` once drained."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def get(self):
        """The next frame, unpickled, waiting for one; :data:`END` after :meth:`close`."""
        with self._cond:
            while self._count == 0 and not self._closed:
                self._cond.wait()
            if self._count == 0:
                return END
            self._fh.seek(self._read_pos)
            (size,) = _HEAD.unpack(self._fh.read(_HEAD.size))
            data = self._fh.read(size)
            self._read_pos += _HEAD.size + size
            self._count -= 1
            if self._count == 0:  # caught up: reuse the file from the start
                self._read_pos = self._write_pos = 0
                self._fh.truncate(0)
        return pickle.loads(data)

    def discard(self) -> None:
        """Drop whatever is left (the consumer stopped early)."""
        with self._cond:
            self._closed = True
            self._fh.close()
