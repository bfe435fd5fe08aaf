"""The fetcher's frame spool: order, end, memory stays off-heap."""

from __future__ import annotations

import os
import pickle
import threading
import tracemalloc
from pathlib import Path

import pytest

from crawler.fetch.spool import END, FrameSpool

MB = 2**20

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds the spool's file in /proc")


def _open_files_in(directory: Path) -> dict[int, str]:
    """This process's open file descriptors whose file lives in ``directory`` (unlinked ones included)."""
    prefix = os.path.realpath(directory) + os.sep
    out = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile (the listing's own descriptor)
            continue
        if target.startswith(prefix):
            out[int(fd)] = target
    return out


def _spool_in(directory: Path) -> tuple[FrameSpool, int]:
    """A spool whose temporary file is in ``directory``, and that file's descriptor."""
    assert not _open_files_in(directory)
    spool = FrameSpool(str(directory))
    [fd] = _open_files_in(directory)
    return spool, fd


def test_frames_come_back_in_order_across_threads():
    spool = FrameSpool()
    n = 2000

    def produce():
        for i in range(n):
            spool.put(pickle.dumps({"i": i, "body": b"x" * (i % 50)}))
        spool.close()

    t = threading.Thread(target=produce)
    t.start()
    got = []
    while (item := spool.get()) is not END:
        got.append(item["i"])
    t.join()
    assert got == list(range(n))
    assert spool.get() is END
    spool.discard()


def test_frames_wait_in_the_spool_file_not_in_memory(tmp_path):
    spool, fd = _spool_in(tmp_path)
    n = 32
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(n):  # 32 frames of 1 MiB each, none kept by the test
            spool.put(pickle.dumps({"i": i, "body": bytes([i]) * MB}))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held - before < MB  # the 32 MiB are not on the Python heap...
    assert os.fstat(fd).st_size >= n * MB  # ... they are in the spool's file
    assert not list(tmp_path.iterdir())  # which has no name: nothing is left behind if the process dies
    spool.close()
    for i in range(n):
        frame = spool.get()
        assert frame["i"] == i and frame["body"] == bytes([i]) * MB
    assert spool.get() is END
    assert os.fstat(fd).st_size == 0  # caught up: the file was rewound
    spool.discard()
    assert not _open_files_in(tmp_path)  # and discard closed it


def test_put_after_discard_is_dropped(tmp_path):
    spool, _ = _spool_in(tmp_path)
    spool.put(pickle.dumps(1))
    assert spool.get() == 1
    spool.discard()
    spool.put(pickle.dumps(2))  # a late frame from the reader thread: no error...
    assert spool.get() is END  # ... and nothing to read
    assert not _open_files_in(tmp_path)


def test_discard_drops_unread_frames_with_the_file(tmp_path):
    spool, fd = _spool_in(tmp_path)
    spool.put(pickle.dumps(b"x" * MB))
    assert os.fstat(fd).st_size >= MB
    spool.discard()  # the consumer stopped early, a frame unread
    assert not _open_files_in(tmp_path)  # the file, and the frame in it, are gone
    spool.put(pickle.dumps(2))  # no error, nowhere to go
    assert not _open_files_in(tmp_path)
