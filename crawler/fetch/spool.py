"""A FIFO of frames spooled to an unlinked temporary file.

Frames carry response bodies out of band (pickle protocol 5): the fetcher
writes a body straight from its buffer, the spool copies it to the file in
chunks, and the monitor reads it back once, as the ``bytes`` of the
unpickled exchange; a 100 MB body is never held twice.

The fetcher can outrun the monitor (which writes WARC, extracts and diffs);
holding every fetched body in memory until the monitor catches up made memory
grow with the watchlist. Frames go to a temporary file instead (the OS page
cache absorbs them) and are read back in order; the file is rewound whenever
the reader catches up. The fetcher is never slowed down, so its timeouts
never fire because the monitor is busy.
"""

from __future__ import annotations

import os
import pickle
import struct
import tempfile
import threading

END = object()
_HEAD = struct.Struct(">I")     # a frame's size; inside it, the pickle's size
_BUF = struct.Struct(">Q")      # an out-of-band buffer's size
_CHUNK = 1 << 20


def encode_frame(obj) -> list:
    """``obj`` as the parts of one frame: the pickle's size and the pickle, then each out-of-band
    buffer (``pickle.PickleBuffer`` in ``obj``: response bodies) with its size. The buffers are
    written as they are, never copied into the pickle."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    parts = [_HEAD.pack(len(data)), data]
    for buf in buffers:
        raw = buf.raw()
        parts += [_BUF.pack(raw.nbytes), raw]
    return parts


def decode_frame(read, start: int, size: int):
    """Unpickle the frame of ``size`` bytes at ``start``, read with ``read(n, offset)`` (made by
    :func:`encode_frame`); each buffer is read once, as the ``bytes`` the unpickled object holds."""
    (length,) = _HEAD.unpack(read(_HEAD.size, start))
    pos = start + _HEAD.size
    data = read(length, pos)
    pos += length
    end = start + size
    buffers = []
    while pos < end:
        (n,) = _BUF.unpack(read(_BUF.size, pos))
        buffers.append(read(n, pos + _BUF.size))
        pos += _BUF.size + n
    return pickle.loads(data, buffers=buffers)


def _skip(stream, size: int) -> bool:
    while size:
        chunk = stream.read(min(size, _CHUNK))
        if not chunk:
            return False
        size -= len(chunk)
    return True


class FrameSpool:
    """A FIFO of frames in an unlinked temporary file: one writer thread, one reader thread.

    Frames are written and read with positional IO (``pwrite``/``pread``), so
    neither side holds the lock while it copies bytes or unpickles: the lock
    only guards the counters. The writer reserves a frame's place, fills it
    outside the lock, then publishes it; the file is rewound when the reader
    has caught up and no frame is being written.
    """

    def __init__(self, directory: str | None = None):
        self._fh = tempfile.TemporaryFile(dir=directory)
        self._fd = self._fh.fileno()
        self._cond = threading.Condition()
        self._write_pos = 0
        self._read_pos = 0
        self._count = 0
        self._writing = False
        self._closed = False
        self._gone = False

    def put(self, data: bytes) -> None:
        """Append one frame: a pickle with no out-of-band buffers."""
        frame = _HEAD.pack(len(data)) + data
        self.put_from(_BytesStream(frame), len(frame))

    def put_from(self, stream, size: int) -> bool:
        """Append one frame of ``size`` bytes read from ``stream`` (as :func:`encode_frame` made it),
        copied in chunks so a large body is never whole in memory here. False if the stream ended early."""
        with self._cond:
            if self._gone:
                return _skip(stream, size)
            start = self._write_pos
            self._write_pos += _HEAD.size + size
            self._writing = True
        ok = True
        try:
            os.pwrite(self._fd, _HEAD.pack(size), start)
            pos, left = start + _HEAD.size, size
            while left:
                chunk = stream.read(min(left, _CHUNK))
                if not chunk:
                    ok = False  # a torn frame is not a frame
                    break
                os.pwrite(self._fd, chunk, pos)
                pos += len(chunk)
                left -= len(chunk)
        except (OSError, ValueError):
            ok = False  # the spool was discarded meanwhile
        with self._cond:
            self._writing = False
            if ok and not self._gone:
                self._count += 1
            else:
                self._write_pos = start
            if self._gone and not self._fh.closed:
                self._fh.close()  # discarded while this frame was written: its fd was kept open until now
            self._cond.notify_all()
        return ok

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
            start = self._read_pos
        (size,) = _HEAD.unpack(os.pread(self._fd, _HEAD.size, start))
        obj = decode_frame(lambda n, at: os.pread(self._fd, n, at), start + _HEAD.size, size)
        with self._cond:
            self._read_pos = start + _HEAD.size + size
            self._count -= 1
            if self._count == 0 and not self._writing:  # caught up: reuse the file from the start
                self._read_pos = self._write_pos = 0
                os.ftruncate(self._fd, 0)
        return obj

    def discard(self) -> None:
        """Drop whatever is left (the consumer stopped early)."""
        with self._cond:
            self._closed = self._gone = True
            if not self._writing:  # else the writer closes it when its frame is done (never a reused fd)
                self._fh.close()


class _BytesStream:
    def __init__(self, data: bytes):
        self._view = memoryview(data)
        self._pos = 0

    def read(self, n: int) -> bytes:
        chunk = self._view[self._pos:self._pos + n].tobytes()
        self._pos += len(chunk)
        return chunk
