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


def decode_frame(fh, size: int):
    """Read one frame of ``size`` bytes from ``fh`` (made by :func:`encode_frame`) and unpickle it;
    each buffer is read once, as the ``bytes`` the unpickled object holds."""
    (length,) = _HEAD.unpack(fh.read(_HEAD.size))
    data = fh.read(length)
    left = size - _HEAD.size - length
    buffers = []
    while left > 0:
        (n,) = _BUF.unpack(fh.read(_BUF.size))
        buffers.append(fh.read(n))
        left -= _BUF.size + n
    return pickle.loads(data, buffers=buffers)


def _skip(stream, size: int) -> bool:
    while size:
        chunk = stream.read(min(size, _CHUNK))
        if not chunk:
            return False
        size -= len(chunk)
    return True


class FrameSpool:
    def __init__(self, directory: str | None = None):
        self._fh = tempfile.TemporaryFile(dir=directory)
        self._cond = threading.Condition()
        self._write_pos = 0
        self._read_pos = 0
        self._count = 0
        self._closed = False

    def put(self, data: bytes) -> None:
        """Append one frame: a pickle with no out-of-band buffers."""
        self._append([_HEAD.pack(len(data)), data])

    def put_from(self, stream, size: int) -> bool:
        """Append one frame of ``size`` bytes read from ``stream`` (as :func:`encode_frame` made it),
        copied in chunks so a large body is never whole in memory here. False if the stream ended early."""
        with self._cond:
            if self._fh.closed:
                return _skip(stream, size)
            self._fh.seek(self._write_pos)
            self._fh.write(_HEAD.pack(size))
            left = size
            while left:
                chunk = stream.read(min(left, _CHUNK))
                if not chunk:
                    self._fh.truncate(self._write_pos)  # a torn frame is not a frame
                    return False
                self._fh.write(chunk)
                left -= len(chunk)
            self._write_pos = self._fh.tell()
            self._count += 1
            self._cond.notify()
        return True

    def _append(self, parts: list) -> None:
        with self._cond:
            if self._fh.closed:  # the consumer has gone: drop it
                return
            self._fh.seek(self._write_pos)
            self._fh.write(_HEAD.pack(sum(len(p) for p in parts)))
            for part in parts:
                self._fh.write(part)
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
            obj = decode_frame(self._fh, size)
            self._read_pos += _HEAD.size + size
            self._count -= 1
            if self._count == 0:  # caught up: reuse the file from the start
                self._read_pos = self._write_pos = 0
                self._fh.truncate(0)
        return obj

    def discard(self) -> None:
        """Drop whatever is left (the consumer stopped early)."""
        with self._cond:
            self._closed = True
            self._fh.close()
