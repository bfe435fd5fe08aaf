"""Run ``lastseen ARGS`` in this process and SIGKILL it at one exact point (tests/test_crash_custody.py).

    python tests/killpoint.py POINT MAX_SIZE ARGS...

Nothing in lastseen knows of this: the point is reached by patching, in this process only, the call
it follows or precedes. ``MAX_SIZE`` (bytes, 0 for lastseen's own) makes the run's WARC files rotate
at that size, so a point reached while closing a file is reached mid-run. Points:

- ``commit``: before the run's first commit of captures (their records written, no row yet);
- ``file-entry``: right after the commit of a closed file's ``file`` custody entry, before its JSONL
  line is written (and before the file's rename);
- ``torn-line``: the same, but half of the lines waiting for the JSONL copy are written first;
- ``before-rename``: just before a ``*.warc.gz.open`` is renamed (its entry and line written), by a run
  or by the recovery at a run's start;
- ``after-rename``: just after that rename, before anything else;
- ``recovery-entry``: right after a start's recovery committed the entries of the cut it is about to make.
"""

from __future__ import annotations

import os
import signal
import sys


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(point: str, max_size: int) -> None:
    from crawler import custody, custodycopy, recorder, store, warcfiles

    if max_size:
        init = warcfiles.WarcFileSet.__init__

        def small(self, *args, **kw):
            init(self, *args, **kw)
            self.max_size = max_size

        warcfiles.WarcFileSet.__init__ = small

    if point == "commit":
        commit = recorder.Recorder.commit

        def commit_then_die(self, closing=None):
            if self.pending:
                self.files.sync()  # the records are on disk, as the real commit makes them first
                _die()
            return commit(self, closing)

        recorder.Recorder.commit = commit_then_die
    elif point in ("file-entry", "torn-line"):
        complete = custodycopy.CustodyCopy.complete

        def complete_or_die(self, store, *, sync=True, **kw):
            entries = list(store.custody_entries(after=self.last_seq()))
            if entries and entries[-1]["kind"] == "file":
                if point == "torn-line":
                    lines = b"".join(custody.canonical(e) + b"\n" for e in entries)
                    self.directory.mkdir(parents=True, exist_ok=True)
                    path = self.directory / f"{entries[0]['time'][:7]}.jsonl"
                    with open(path, "ab") as fh:
                        fh.write(lines[: len(lines) // 2])
                _die()
            return complete(self, store, sync=sync, **kw)

        custodycopy.CustodyCopy.complete = complete_or_die
    elif point in ("before-rename", "after-rename"):
        replace = os.replace

        def replace_or_die(src, dst, *args, **kw):
            closing = str(src).endswith(".warc.gz.open")
            if closing and point == "before-rename":
                _die()
            out = replace(src, dst, *args, **kw)
            if closing:
                _die()
            return out

        os.replace = replace_or_die
    elif point == "recovery-entry":
        forget = store.CaptureStore.forget_beyond

        def forget_then_die(self, *args, **kw):
            forget(self, *args, **kw)
            _die()

        store.CaptureStore.forget_beyond = forget_then_die
    else:
        raise SystemExit(f"unknown point {point!r}")


if __name__ == "__main__":
    _arm(sys.argv[1], int(sys.argv[2]))
    from crawler.cli import cli

    cli.main(sys.argv[3:], prog_name="lastseen")
