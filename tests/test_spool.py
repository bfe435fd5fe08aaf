"""The fetcher's frame spool: order, end, memory stays off-heap."""

from __future__ import annotations

import pickle
import threading

from crawler.fetch.spool import END, FrameSpool


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


def test_put_after_discard_is_dropped():
    spool = FrameSpool()
    spool.put(pickle.dumps(1))
    spool.discard()
    spool.put(pickle.dumps(2))  # a late frame from the reader thread: no error
