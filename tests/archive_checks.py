"""What the crash, signal and disk-full tests check: the archive is whole and agrees with its index.

Also helpers for runs started as real processes (``python -m crawler run``)
and for finding their fetcher processes in ``/proc``.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler.warcfiles import complete_members_end

TAG_ENV = "LASTSEEN_TEST_TAG"


def start_run(cwd: Path, *args: str, env: dict | None = None, log: Path | None = None, **kw) -> subprocess.Popen:
    """``python -m crawler run --json ARGS`` as a process; stdout and stderr go to files in ``cwd``."""
    log = log or cwd / "run.log"
    with open(log.with_suffix(".out"), "wb") as out, open(log.with_suffix(".err"), "wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "crawler", "run", "--json", *args], cwd=cwd, env=env, stdout=out, stderr=err, **kw,
        )


def outputs(cwd: Path, log: Path | None = None) -> tuple[str, str]:
    log = log or cwd / "run.log"
    return log.with_suffix(".out").read_text(), log.with_suffix(".err").read_text()


def warcinfo_end(path: Path) -> int | None:
    """Where the first gzip member (the warcinfo record) of a growing file ends, if it is complete."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 16)
    except OSError:
        return None
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        d.decompress(data)
    except zlib.error:
        return None
    return len(data) - len(d.unused_data) if d.eof else None


def open_file_growing(warcs: Path, *, besides: frozenset[str] = frozenset()) -> bool:
    """True when a ``.open`` WARC exists and holds more than its warcinfo record (``besides``: names left out)."""
    for path in warcs.glob("*.warc.gz.open"):
        if path.name in besides:
            continue
        end = warcinfo_end(path)
        try:
            if end is not None and path.stat().st_size > end:
                return True
        except OSError:
            pass
    return False


def _count_rows(archive: Path, table: str) -> int:
    """Rows of ``table`` in the index of a (maybe running) run, read-only; 0 while there is no index yet."""
    db_path = archive / "lastseen.db"
    if not db_path.exists():
        return 0
    try:
        db = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute(f"select count(*) from {table}").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # not created yet, or busy this instant: ask again
        return 0


def committed_captures(archive: Path) -> int:
    """Captures committed to the index so far."""
    return _count_rows(archive, "captures")


def runs_begun(archive: Path) -> int:
    """Runs recorded in the index so far (a run is recorded once it holds the lock)."""
    return _count_rows(archive, "runs")


# -- processes ---------------------------------------------------------------

def _stat(pid: int) -> tuple[str, int] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return fields[0], int(fields[1])  # state, ppid


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st and st[1] == pid:
                out.append(int(entry))
    return out


def tagged_processes(tag: str) -> list[tuple[int, str]]:
    """Live processes (zombies excluded: their environment is gone) whose environment holds ``tag``."""
    needle = f"{TAG_ENV}={tag}".encode()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            out.append((int(entry), cmdline))
    return out


def wait_until(predicate, timeout: float, step: float = 0.02) -> bool:
    """Poll ``predicate`` every ``step`` s until it holds (True) or ``timeout`` s pass (False).

    A bounded wait for a condition, never a fixed sleep that hopes something happened:
    ``timeout`` only guards against a hang, the wait ends as soon as the condition holds.
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


# -- the archive ---------------------------------------------------------------

def verify_archive(archive: Path, *, left_open: int = 0) -> dict:
    """Assert the archive is whole and every index row points at its record; return counts.

    ``left_open``: how many ``.open`` WARC files a failed run must have left (read as their final names).
    """
    warcs = archive / "warcs"
    opened = sorted(warcs.glob("*.warc.gz.open"))
    assert len(opened) == left_open, f"{len(opened)} .open WARC files left behind, not {left_open}"
    files = sorted([*warcs.glob("*.warc.gz"), *opened])
    records: dict[tuple[str, int], tuple[str, str, int]] = {}
    for path in files:
        size = path.stat().st_size
        assert complete_members_end(path) == size, f"{path.name} ends with a torn record"
        offsets = []
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh, check_digests=True)
            for record in it:
                stream = record.content_stream()
                while stream.read(1 << 20):
                    pass
                assert record.digest_checker.passed is not False, (path.name, record.digest_checker.problems)
                rid = record.rec_headers.get_header("WARC-Record-ID")
                offsets.append((it.get_record_offset(), rid, record.rec_type))
        assert offsets and offsets[0][2] == "warcinfo", f"{path.name} does not start with warcinfo"
        ends = [o for o, _, _ in offsets[1:]] + [size]
        for (offset, rid, rtype), end in zip(offsets, ends):
            records[(path.name.removesuffix(".open"), offset)] = (rid, rtype, end - offset)
    if files:
        check = subprocess.run(
            [str(Path(sys.executable).with_name("warcio")), "check", *map(str, files)], capture_output=True, text=True,
        )
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr

    db = sqlite3.connect(archive / "lastseen.db")
    try:
        def points_at(warc_file, offset, length, record_id, what):
            key = (warc_file.rsplit("/", 1)[-1], offset)
            assert key in records, f"{what} points at {warc_file}:{offset}, where no record starts"
            rid, _, real_length = records[key]
            assert rid == record_id, f"{what} at {warc_file}:{offset} is {rid}, not {record_id}"
            assert length == real_length, f"{what} at {warc_file}:{offset}: length {length} != {real_length}"
            return records[key][1]

        captures = db.execute(
            "select id, warc_file, warc_offset, warc_length, warc_record_id, record_type from captures "
            "where warc_file is not null"
        ).fetchall()
        for cid, wf, off, length, rid, rtype in captures:
            assert points_at(wf, off, length, rid, f"capture {cid}") == rtype
        exchanges = db.execute(
            "select id, warc_file, request_offset, request_length, request_record_id, response_offset, "
            "response_length, response_record_id from exchanges"
        ).fetchall()
        for xid, wf, qo, ql, qid, ro, rl, rid in exchanges:
            assert points_at(wf, qo, ql, qid, f"exchange {xid} request") == "request"
            assert points_at(wf, ro, rl, rid, f"exchange {xid} response") in ("response", "revisit")
        orphans = db.execute(
            "select count(*) from events where capture_id not in (select id from captures)"
        ).fetchone()[0]
        assert orphans == 0
        runs = dict(db.execute("select status, count(*) from runs group by status").fetchall())
        unfinished = db.execute(
            "select count(*) from runs where finished is null and status != 'aborted'"
        ).fetchone()[0]
        targets = {r[0] for r in db.execute("select distinct target from captures")}
    finally:
        db.close()
    return {
        "files": len(files), "records": len(records), "captures": len(captures), "exchanges": len(exchanges),
        "runs": runs, "unfinished": unfinished, "targets": targets,
    }
