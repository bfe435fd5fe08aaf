"""``make bench`` scenario ``history``: the archive front page and target history pages (#14; bench/README.md).

An index of 100,000 targets is built directly (SQLite rows as a run leaves them: a run, its
captures and events; no WARC files or texts, which these pages do not read). Then, each in a child
process that prints its figures as JSON:

(a) the first run: run ``h1`` captured every target (``new``): ``write_archive_pages`` writes
    100,000 history pages and the front page (runs, 100 target pages of 1,000). Target: <= 10 s.
Right after (a), the floor: a bare loop making the same 100,000 folders (the same slugs) with one file
of the first run's mean page size each, on the same disk (``os.mkdir`` + ``os.open``/``write``/``close``,
no rendering): what the disk costs whatever lastseen does. On a shared machine it moves with the other
work on the disk, so the first run is also given as a ratio of it.
(a) is measured on three file systems, each named in the output: tmpfs (no disk at all); a fresh ext4
    made with ``mkfs.ext4``'s defaults (a journal) on a loop device, when the bench runs as root (a
    user's disk); and the disk the bench works on, described as it is (this machine's is an ext4 made
    without a journal: there the kernel skips every inode deleted in the last minutes when it allocates
    one, ``recently_deleted()`` in ``fs/ext4/ialloc.c``, so after a large ``rm -rf`` the bare floor
    itself took 4 to 78 s in measured runs).
(b) later runs that captured 1,000 and then 10,000 of the targets (1 in 10 ``changed``, with a
    change page): the history pages of those targets only, and the front page again (its target
    pages are rewritten every run: O(targets), cheap rows). Target: time proportional to the
    targets captured: the time per captured target about that of (a), plus the front page's
    constant part, which is measured on its own (``write_front_page``).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

TARGETS = 100_000
LATER = (1_000, 10_000)
FIRST_RUN_TARGET = 10.0  # seconds, the pages of a first run of 100,000 targets
T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _name(i: int) -> str:
    return f"target {i:06d}"  # not a plain slug: every folder name gets its hash, the costlier path


def build_index(root: Path, targets: int) -> None:
    """Run ``h1``: a first capture (``new``) of every target."""
    from crawler.archive import Archive

    archive = Archive.open(root)
    store = archive.store
    with store.transaction():
        _run(store, "h1", T0, range(targets), first=True)
    archive.close()


def add_run(root: Path, run_id: str, at: datetime, captured: range) -> None:
    """Run ``run_id``: the targets ``captured`` judged again, one in ten ``changed``."""
    from crawler.archive import Archive

    archive = Archive.open(root)
    store = archive.store
    with store.transaction():
        _run(store, run_id, at, captured, first=False)
    archive.close()


def _run(store, run_id: str, at: datetime, indices, *, first: bool) -> None:
    conn = store.conn
    stamp = _iso(at)
    conn.execute(
        "insert into runs (id, started, status, targets_due) values (?, ?, 'completed', ?)",
        (run_id, stamp, len(indices)),
    )
    if first:
        conn.executemany(
            "insert into targets (name, url, tags, first_seen, updated) values (?, ?, '[]', ?, ?)",
            [
                (_name(i), f"https://site{i % 97}.example/page/{i}", stamp, stamp)
                for i in indices
            ],
        )
    start = (
        (conn.execute("select coalesce(max(id), 0) from captures").fetchone()[0]) + 1
    )
    conn.executemany(
        # whole rows of the tables under the views (schemas 20 and 21): each row holds its own values
        "insert into capture_rows (id, run_id, target, url, final_url, status, started, payload_length, warc_file, "
        "warc_offset, warc_record_id, record_type, text_sha256, good, role) "
        "values (?, ?, ?, ?, ?, 200, ?, 9876, 'warcs/bench.warc.gz', ?, ?, 'response', ?, 1, 'page')",
        [
            (
                start + k,
                run_id,
                _name(i),
                f"https://site{i % 97}.example/page/{i}",
                f"https://site{i % 97}.example/page/{i}",
                stamp,
                1000 + 7919 * (start + k),
                f"<urn:uuid:{run_id}-{i}>",
                f"{i:064x}",
            )
            for k, i in enumerate(indices)
        ],
    )
    previous = (
        {}
        if first
        else dict(
            conn.execute(
                "select target, max(capture_id) from events where run_id != ? group by target",
                (run_id,),
            )
        )
    )
    rows = []
    for k, i in enumerate(indices):
        changed = not first and i % 10 == 0
        verdict = "new" if first else "changed" if changed else "unchanged"
        rows.append(
            (
                run_id,
                _name(i),
                start + k,
                previous.get(_name(i)),
                verdict,
                int(changed),
                "first capture"
                if first
                else "3 words changed"
                if changed
                else "no change",
                json.dumps([[0, "a "], [-1, "b"], [1, "c"]]) if changed else None,
            )
        )
    conn.executemany(
        "insert into event_rows (run_id, target, capture_id, compared_capture_id, verdict, alert, summary, "
        "diff_ops) values (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def floor(folder: Path, count: int, size: int) -> dict:
    """The bare loop (see above): ``count`` folders named as the first run's, a ``size``-byte file in each."""
    from crawler.slugs import target_slug

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    names = [target_slug(_name(i)) for i in range(count)]
    data = b"x" * size
    subprocess.run(["sync"], check=False)
    before, t = os.times(), time.perf_counter()
    for name in names:
        path = folder / name
        os.mkdir(path)
        fd = os.open(path / "index.html", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, data)
        os.close(fd)
    seconds, after = time.perf_counter() - t, os.times()
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "seconds": seconds,
        "user_seconds": after.user - before.user,
        "system_seconds": after.system - before.system,
        "page_bytes": size,
    }


def history_share_min() -> str:
    from crawler.report.history import SHARE_MIN

    return f"{SHARE_MIN:,}"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_main(argv: list[str]) -> int:
    """``_write ROOT REPORTS RUN_ID FIRST LAST``: time the pages of run RUN_ID (targets FIRST..LAST captured)."""
    from crawler.report.front import write_archive_pages, write_front_page
    from crawler.store import CaptureStore

    root, reports, run_id, first, last = (
        Path(argv[0]),
        Path(argv[1]),
        argv[2],
        int(argv[3]),
        int(argv[4]),
    )
    store = CaptureStore(root / "lastseen.db")
    targets = [
        (_name(i), f"https://site{i % 97}.example/page/{i}") for i in range(TARGETS)
    ]
    captured = targets[first:last]
    before = _peak_mb()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    t, c = time.perf_counter(), time.process_time()
    write_archive_pages(
        store, reports, run_id=run_id, targets=targets, captured=captured, generated=T0
    )
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    after = resource.getrusage(resource.RUSAGE_SELF)
    user, system = after.ru_utime - usage.ru_utime, after.ru_stime - usage.ru_stime
    helper = resource.getrusage(resource.RUSAGE_CHILDREN)  # the helper process that wrote a share
    t, c = time.perf_counter(), time.process_time()
    write_front_page(
        store, reports, targets=targets, last=store.last_events(), generated=T0
    )
    front, front_cpu = time.perf_counter() - t, time.process_time() - c
    store.close()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "user_seconds": user,
                "system_seconds": system,
                "helper_user_seconds": helper.ru_utime,
                "helper_system_seconds": helper.ru_stime,
                "front_seconds": front,
                # the history pages' CPU, both processes: all of it but the front page's (measured alone)
                "pages_cpu_seconds": cpu + helper.ru_utime + helper.ru_stime - front_cpu,
                "captured": last - first,
                "rss_before_mb": before,
                "rss_peak_mb": _peak_mb(),
            }
        )
    )
    return 0


def _child(args: list[str], cwd: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "_write", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the history child failed: {proc.stderr[-1500:]}")
    return json.loads(proc.stdout.splitlines()[-1])


def describe_disk(path: Path) -> str:
    """The file system ``path`` is on, as the output names it: type, device, and for ext4 its journal."""
    dev = os.stat(path).st_dev
    found = None
    with open("/proc/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            device, point, kind = line.split()[:3]
            try:
                if os.stat(point.replace("\\040", " ")).st_dev == dev:
                    found = device, kind
            except OSError:
                continue
    if found is None:
        return "an unknown file system"
    device, kind = found
    if kind != "ext4":
        return f"{kind} on {device}"
    name = os.path.basename(os.path.realpath(device))
    try:
        journal = any(entry.startswith(f"{name}-") for entry in os.listdir("/proc/fs/jbd2"))
    except OSError:
        journal = False
    return f"ext4 {'with' if journal else 'without'} a journal on {device}"


@contextmanager
def fresh_ext4(work: Path):
    """A fresh ext4 of ``mkfs.ext4``'s defaults (a journal) on a loop device, mounted: yields (folder,
    None), or (None, why not) when the bench cannot make one (not root, no ``mkfs.ext4``, no loop device)."""
    if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        yield None, "needs root and mkfs.ext4"
        return
    image, point = work / "ext4.img", work / "ext4"
    with open(image, "wb") as fh:
        fh.truncate(8 << 30)  # sparse: 8 GiB, mkfs's defaults give it 524,288 inodes
    point.mkdir(exist_ok=True)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True, text=True, check=False)
    mounted = made.returncode == 0 and subprocess.run(
        ["mount", "-o", "loop", str(image), str(point)], capture_output=True, text=True, check=False
    )
    if not mounted or mounted.returncode != 0:
        image.unlink(missing_ok=True)
        why = (made.stderr if made.returncode else mounted.stderr).strip().splitlines()
        yield None, f"mkfs.ext4 or mount -o loop failed: {why[-1] if why else 'no message'}"
        return
    try:
        yield point, None
    finally:
        subprocess.run(["umount", str(point)], check=False)
        image.unlink(missing_ok=True)


def first_run(root: Path, reports: Path, work: Path, disk: str) -> dict:
    """(a) into ``reports`` (made afresh), then the floor on the same disk; prints and returns the row."""
    shutil.rmtree(reports, ignore_errors=True)
    subprocess.run(["sync"], check=False)
    got = _child([str(root), str(reports), "h1", "0", str(TARGETS)], work)
    sizes = [
        (Path(entry.path) / "index.html").stat().st_size
        for entry in os.scandir(reports / "targets")
        if entry.is_dir()
    ]
    files = len(sizes)
    bare = floor(reports.parent / f"floor-{os.getpid()}", TARGETS, sum(sizes) // max(1, files))
    per_target = got["pages_cpu_seconds"] / TARGETS
    print(
        f"   first run, {TARGETS:,} targets captured, {disk}: {got['seconds']:.2f} s "
        f"({got['seconds'] / FIRST_RUN_TARGET:.2f}x the {FIRST_RUN_TARGET:.0f} s target; CPU: writer "
        f"{got['user_seconds']:.2f} s user + {got['system_seconds']:.2f} s system, its helper process "
        f"{got['helper_user_seconds']:.2f} s user + {got['helper_system_seconds']:.2f} s system); "
        f"{files:,} history folders; front page alone {got['front_seconds']:.2f} s; RSS peak "
        f"{got['rss_peak_mb']:.0f} MB; floor (bare mkdir + write of {files:,} files of {bare['page_bytes']:,} B, "
        f"same names, same disk): {bare['seconds']:.2f} s ({bare['user_seconds']:.2f} s user + "
        f"{bare['system_seconds']:.2f} s system), the first run is {got['seconds'] / bare['seconds']:.2f}x it",
        flush=True,
    )
    return {
        "scenario": "history",
        "contender": "lastseen",
        "case": f"first run, {TARGETS:,} targets",
        "disk": disk,
        **got,
        "per_target_cpu_seconds": per_target,
        "floor": bare,
        "target": f"<= {FIRST_RUN_TARGET:.0f} s",
        "target_met": got["seconds"] <= FIRST_RUN_TARGET,
    }


def history(work: Path) -> list[dict]:
    """The scenario: (a) on each file system, then (b), printed as they come; rows for results.json."""
    work.mkdir(parents=True, exist_ok=True)
    root, reports = work / "archive", work / "reports"
    print(
        f"\n== history: the archive front page and target history pages of {TARGETS:,} targets "
        f"(settings: history pages of 100 captures, run pages of 50, target pages of 1,000: the defaults; "
        f"a helper process writes a share of the pages when there are {history_share_min()}+ and 2+ CPUs: "
        f"the default); (a) a first run capturing all; (b) later runs capturing "
        f"{' then '.join(f'{n:,}' for n in LATER)}; each written by a child process; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    t = time.perf_counter()
    build_index(root, TARGETS)
    print(f"   index of {TARGETS:,} targets built in {time.perf_counter() - t:.1f} s (not counted)", flush=True)
    rows = []
    if Path("/dev/shm").is_dir():  # no disk at all
        shm = Path("/dev/shm") / f"lastseen-history-{os.getpid()}"
        try:
            rows.append(first_run(root, shm / "reports", work, "tmpfs (/dev/shm)"))
        finally:
            shutil.rmtree(shm, ignore_errors=True)
    with fresh_ext4(work) as (point, why):
        if point is None:
            print(f"   first run on a fresh ext4 with a journal: not measured ({why})", flush=True)
        else:
            rows.append(first_run(root, point / "reports", work, "a fresh ext4 with a journal (loop device)"))
    rows.append(first_run(root, reports, work, f"the bench's disk, {describe_disk(work)}"))
    per_target = rows[-1]["per_target_cpu_seconds"]
    start = 0
    for k, n in enumerate(LATER, 2):
        add_run(root, f"h{k}", T0 + timedelta(days=k - 1), range(start, start + n))
        got = _child(
            [str(root), str(reports), f"h{k}", str(start), str(start + n)], work
        )
        each = got["pages_cpu_seconds"] / n
        ratio = each / per_target
        print(
            f"   later run, {n:,} of {TARGETS:,} captured, the bench's disk: {got['seconds']:.2f} s (CPU: writer "
            f"{got['user_seconds']:.2f} s user + {got['system_seconds']:.2f} s system, its helper "
            f"{got['helper_user_seconds']:.2f} + {got['helper_system_seconds']:.2f} s); the front page alone "
            f"{got['front_seconds']:.2f} s (every target's row; written while the helper writes the history pages); "
            f"the history pages' CPU {got['pages_cpu_seconds']:.2f} s, {each * 1e6:.0f} µs per captured target "
            f"({ratio:.2f}x the first run's on this disk)",
            flush=True,
        )
        rows.append(
            {
                "scenario": "history",
                "contender": "lastseen",
                "case": f"later run, {n:,} captured",
                "disk": rows[-1]["disk"],
                **got,
                "per_target_ratio": ratio,
                "target": "<= 10 s",
                "target_met": got["seconds"] <= FIRST_RUN_TARGET,
            }
        )
        start += n
    return rows


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_write":
        sys.exit(write_main(sys.argv[2:]))
    # the scenario alone: python bench/history_bench.py run WORK
    if len(sys.argv) > 1 and sys.argv[1] == "run":
        history(Path(sys.argv[2]))
        sys.exit(0)
    print(
        f"run through bench.py: {Path(__file__).parent / 'bench.py'} --only history",
        file=sys.stderr,
    )
    sys.exit(2)
