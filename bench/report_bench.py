"""``make bench`` scenario ``report``: how long lastseen takes to write a report (bench/README.md).

(a) A change page of a 1 MB text with ten edits: ``write_report`` of that one event
    (its diff computed before the clock starts, as the run stores it). Target: <= 0.5 s.
(b) A 10,000-target run's report, read from a real index (SQLite, as a run leaves it):
    ``write_run_report`` of a run of 9,000 unchanged, 500 changed, 300 new and 200 vanished
    targets, and of a first run of 10,000 new targets (10,000 capture pages). Target: <= 5 s each.

Each timing runs in a child process (``python bench/report_bench.py _write ...``) that reports
its wall and CPU time and its peak RSS before and after writing: memory must not grow with the
texts (the report streams them, one event at a time). Texts are seeded, about 6 KB each, from
bench.py's Zipf-weighted vocabulary.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

CHANGE_PAGE_TARGET = 0.5   # seconds, the change page of a 1 MB text with ten edits
RUN_REPORT_TARGET = 5.0    # seconds, a 10,000-target run's report
MIX = {"unchanged": 9_000, "changed": 500, "new": 300, "vanished": 200}
FIRST_RUN = 10_000
T0 = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
T1 = T0 + timedelta(days=1)


def _words(seed: int):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench import _vocabulary

    rng = random.Random(seed)
    words, cum = _vocabulary(rng)
    return rng, words, cum


def _text(rng, words, cum, paragraphs: int) -> str:
    return "\n".join(" ".join(rng.choices(words, cum_weights=cum, k=rng.randint(45, 80))).capitalize() + "."
                     for _ in range(paragraphs))


def _edit(rng, words, text: str, edits: int) -> str:
    """``text`` with ``edits`` words replaced, spread evenly over it."""
    parts = text.split(" ")
    for k in range(edits):
        i = (k * 2 + 1) * len(parts) // (edits * 2)
        parts[i] = rng.choice(words) + "-edited"
    return " ".join(parts)


# -- building an index ----------------------------------------------------------------------------


def build_index(root: Path, counts: dict[str, int], seed: int) -> str:
    """An archive at ``root`` whose run ``r2`` has ``counts`` events by verdict; returns the run id.

    Run ``r1`` is the baseline (a first capture of every target that is not ``new`` in ``r2``).
    """
    from crawler.archive import Archive
    from crawler.diff import diff_texts
    from crawler.formatting import iso

    rng, words, cum = _words(seed)
    archive = Archive.open(root)
    store = archive.store
    kinds = [verdict for verdict, n in counts.items() for _ in range(n)]
    random.Random(seed).shuffle(kinds)
    for run, at in (("r1", T0), ("r2", T1)):
        store.begin_run({"id": run, "started": iso(at)})
    store.upsert_targets([{"name": f"target {i:05d}", "url": f"https://site{i % 97}.example/page/{i}",
                           "tags": json.dumps(["gov" if i % 3 else "ngo"]), "first_seen": iso(T0), "updated": iso(T0)}
                          for i in range(len(kinds))])
    offsets = iter(range(1000, 10**12, 7919))

    def insert(run, at, i, text, event, status=200):
        url = f"https://site{i % 97}.example/page/{i}"
        sha = hashlib.sha256(text.encode()).hexdigest()
        offset = next(offsets)
        capture = {"run_id": run, "target": f"target {i:05d}", "url": url, "final_url": url, "status": status,
                   "status_chain": json.dumps([status]), "started": iso(at), "warc_file": "warcs/bench.warc.gz",
                   "warc_offset": offset, "warc_length": 7000, "warc_record_id": f"<urn:uuid:{run}-{i}>",
                   "record_type": "response", "text_sha256": sha, "title": f"Page {i}", "good": int(status == 200),
                   "payload_sha256": hashlib.sha256(sha.encode()).hexdigest()}
        exchanges = [{"seq": 0, "role": "page", "url": url, "method": "GET", "status": status, "started": iso(at),
                      "warc_file": "warcs/bench.warc.gz", "response_offset": offset, "response_length": 7000,
                      "response_record_id": capture["warc_record_id"], "record_type": "response"}]
        return store.insert_capture(capture, exchanges, (sha, text), {"run_id": run, "target": capture["target"],
                                                                      **event})

    with store.transaction():
        for i, verdict in enumerate(kinds):
            text = _text(rng, words, cum, 12)
            first = None
            if verdict != "new":
                first = insert("r1", T0, i, text, {"verdict": "new", "alert": 0, "summary": "first capture"})
            at = T1 + timedelta(seconds=i)
            if verdict == "new":
                insert("r2", at, i, text, {"verdict": "new", "alert": 0, "summary": f"first capture: Page {i}"})
            elif verdict == "unchanged":
                insert("r2", at, i, text, {"verdict": "unchanged", "alert": 0, "summary": "no change",
                                           "compared_capture_id": first})
            elif verdict == "changed":
                new = _edit(rng, words, text, 3)
                diff = diff_texts(text, new)
                insert("r2", at, i, new, {"verdict": "changed", "alert": 1, "summary": diff.summary(),
                                          "compared_capture_id": first, "diff_ops": json.dumps(diff.ops_to_json()),
                                          "unit": diff.unit, "fallback": int(bool(diff.fallback))})
            else:
                insert("r2", at, i, "Not Found", {"verdict": "vanished", "reason": "http-404", "alert": 1,
                                                  "summary": "HTTP 404 Not Found", "compared_capture_id": first,
                                                  "evidence": json.dumps({"similarity_to_last_good": 0.0})},
                       status=404)
    archive.close()
    return "r2"


# -- the child: one timed report -------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_main(argv: list[str]) -> int:
    """``_write change OUT`` or ``_write run ROOT OUT``: time one report, print its figures as JSON."""
    from crawler.diff import diff_texts
    from crawler.report import CaptureView, ReportEvent, write_report, write_run_report
    from crawler.store import CaptureStore
    from crawler.watchlist import Settings

    max_page = Settings().max_report_page
    if argv[0] == "change":
        out = Path(argv[1])
        rng, words, cum = _words(7)
        old = _text(rng, words, cum, 2_000)
        while len(old.encode()) < 2**20:
            old += "\n" + _text(rng, words, cum, 50)
        new = _edit(rng, words, old, 10)
        t = time.perf_counter()
        diff = diff_texts(old, new, timeout=30)
        diff_seconds = time.perf_counter() - t

        def view(cid, at):
            return CaptureView(cid, "https://big.example/", "https://big.example/", 200, (200,), at,
                               "warcs/bench.warc.gz", cid * 1000, f"<urn:uuid:{cid}>", "response", "0" * 64,
                               "A long page", None)

        event = ReportEvent("big page", "https://big.example/", (), "changed", None, True, diff.summary(),
                            view(2, T1), view(1, T0), diff, old, new)
        before = _peak_mb()
        t, c = time.perf_counter(), time.process_time()
        write_report(out, title="bench", run_id="r", started=T0, finished=T1, events=[event], generated=T1,
                     max_page=max_page)
        figures = {"seconds": time.perf_counter() - t, "cpu_seconds": time.process_time() - c,
                   "text_bytes": len(old.encode()), "diff_seconds": diff_seconds, "diff": diff.summary()}
    else:
        root, out = Path(argv[1]), Path(argv[2])
        store = CaptureStore.open_readonly(root / "lastseen.db")
        before = _peak_mb()
        t, c = time.perf_counter(), time.process_time()
        write_run_report(store, "r2", out, started=T1, finished=T1 + timedelta(hours=1), generated=T1,
                         max_page=max_page, archive_root=root)
        figures = {"seconds": time.perf_counter() - t, "cpu_seconds": time.process_time() - c}
        store.close()
    pages = list(out.glob("*.html"))
    figures.update(files=len(pages), index_kb=(out / "index.html").stat().st_size / 1024,
                   largest_page_kb=max(p.stat().st_size for p in pages) / 1024,
                   rss_before_mb=before, rss_peak_mb=_peak_mb())
    print(json.dumps(figures))
    return 0


def _child(args: list[str], cwd: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "_write", *args], cwd=cwd, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the report child failed: {proc.stderr[-1500:]}")
    return json.loads(proc.stdout.splitlines()[-1])


def report(work: Path) -> list[dict]:
    """The scenario: the figures of (a) and (b), printed as they come; rows for results.json."""
    work.mkdir(parents=True, exist_ok=True)
    mix = ", ".join(f"{n:,} {v}" for v, n in MIX.items())
    print(f"\n== report: (a) the change page of a 1 MB text with ten edits; (b) a 10,000-target run's report "
          f"from a real index ({mix}) and a first run of {FIRST_RUN:,} new targets (10,000 capture pages); "
          f"texts ~6 KB; settings: max_report_page 5MB (default), list pages of 500 quiet targets (default); "
          f"each report written by a child process; wall time (CPU time in brackets); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    rows = []
    got = _child(["change", str(work / "change")], work)
    met = got["seconds"] <= CHANGE_PAGE_TARGET
    print(f"   change page: {got['text_bytes'] / 2**20:.2f} MB text, {got['diff']} (diff {got['diff_seconds']:.2f} s, "
          f"not counted): {got['seconds']:.3f} s ({got['cpu_seconds']:.3f} s CPU), "
          f"{got['seconds'] / CHANGE_PAGE_TARGET:.2f}x the {CHANGE_PAGE_TARGET} s target; page "
          f"{got['largest_page_kb']:,.0f} KB", flush=True)
    rows.append({"scenario": "report", "contender": "lastseen", "case": "change page, 1 MB, 10 edits", **got,
                 "target": f"<= {CHANGE_PAGE_TARGET} s", "target_met": met})
    for case, counts in (("10,000 targets, mixed", MIX), ("10,000 targets, first run", {"new": FIRST_RUN})):
        root = work / ("mixed" if len(counts) > 1 else "first")
        t = time.perf_counter()
        build_index(root, counts, seed=11)
        built = time.perf_counter() - t
        subprocess.run(["sync"], check=False)
        got = _child(["run", str(root), str(root / "report")], work)
        met = got["seconds"] <= RUN_REPORT_TARGET
        memory = None
        if Path("/dev/shm").is_dir():  # the same report into tmpfs: what rendering costs without the disk
            shm = Path("/dev/shm") / f"lastseen-bench-{os.getpid()}"
            try:
                memory = _child(["run", str(root), str(shm)], work)
            finally:
                shutil.rmtree(shm, ignore_errors=True)
        print(f"   {case}: {got['seconds']:.2f} s ({got['cpu_seconds']:.2f} s CPU), "
              f"{got['seconds'] / RUN_REPORT_TARGET:.2f}x the {RUN_REPORT_TARGET:.0f} s target; {got['files']:,} pages, "
              f"index {got['index_kb']:,.0f} KB; RSS {got['rss_before_mb']:.0f} MB before, peak "
              f"{got['rss_peak_mb']:.0f} MB (index built in {built:.1f} s, not counted)"
              + (f"; into tmpfs: {memory['seconds']:.2f} s ({memory['cpu_seconds']:.2f} s CPU)" if memory else ""),
              flush=True)
        rows.append({"scenario": "report", "contender": "lastseen", "case": case, **got,
                     "tmpfs_seconds": memory and memory["seconds"], "tmpfs_cpu_seconds": memory and memory["cpu_seconds"],
                     "target": f"<= {RUN_REPORT_TARGET:.0f} s", "target_met": met})
    return rows


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_write":
        sys.exit(write_main(sys.argv[2:]))
    print(f"run through bench.py: {Path(__file__).parent / 'bench.py'} --only report", file=sys.stderr)
    sys.exit(2)
