"""``make bench`` scenario ``scale`` (#17): 100,000 targets in the watchlist, the commands a user runs daily.

A watchlist of 100,000 targets is generated (varied names, a third of them not plain slugs, one to three
tags of twelve, ``every`` of 6h, 12h, 1d or 2w, one in ten with ``ignore_text``), each on one of four
ports of 127.0.0.1 served by a small HTTP server the bench starts. The archive's index is built directly
(SQLite rows as a run leaves them: the targets, a run that captured all of them an hour before "now",
its captures and events; no WARC files), so that with ``LASTSEEN_NOW`` an hour later nothing is due.
Then each command is timed as a process a user starts (``python -m crawler ...``, interpreter start to
exit), with its CPU time and peak RSS (``os.wait4``'s rusage of that child alone):

- ``check``: validate the watchlist and list its targets (output to a file). Target: <= 5 s.
- ``status``: each target's state from the index (the table, output to a file). Target: <= 3 s.
- ``status --json``: the same as JSON.
- ``run --json`` with nothing due: open the archive, find nothing due. Target: <= 2 s.
- ``load_watchlist`` alone, in a process of its own (and what it adds to that process's peak RSS).

Each first with the watchlist's cache emptied (``first s``: as after an edit, the file parsed; it is
then kept, docs/watchlist.md "Large watchlists"), then the best of ``--rounds`` runs (unchanged since,
the targets' figures). The same at 10,000 targets gives the ratio (about 10 is linear). ``--before DIR``
also measures another tree of lastseen's code (``git archive COMMIT crawler | tar -x -C DIR``) in the
same run, for before/after ratios. ``bench.py --only scale`` runs it; ``python bench/scale_bench.py
[--targets N ...] [--rounds N] [--before DIR] [--keep]`` alone.

Then real runs (``--part runs`` alone): ``lastseen run`` over 10,000 and 100,000 targets on 16 hosts of
127/8 (small pages made by bench.py's page server), twice: every target new, then a day later 1 % changed;
the peak RSS of the monitor, its fetcher and its page writer apart (bench.py's ``_rss``), wall and CPU
seconds, the time the run spent on its report (and waiting for its page writer). Target at 100,000:
monitor + fetcher <= 300 MB, the second run's report <= 10 s (issue #17).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402 - the page server, the peak-RSS wrapper and the watchlist of bench.py

SIZES = (10_000, 100_000)
TARGETS = {"check": 5.0, "status": 3.0, "run": 2.0}  # seconds at 100,000 targets (issue #17)
PORTS = 4
T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # the run that captured every target
NOW = T0 + timedelta(hours=1)  # "now" for the commands: nothing due
TAGS = ("police", "ministry", "procurement", "vendor", "eu", "uk", "rs", "press", "biometrics", "cctv",
        "facial-recognition", "drones")
EVERY = ("6h", "12h", "1d", "2w")


class _Page(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        body = f"<html><title>{self.path}</title><p>page {self.path}</p></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def serving(count: int):
    """``count`` ports of 127.0.0.1 answering every path with a small page."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Page) for _ in range(count)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    try:
        yield [s.server_address[1] for s in servers]
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()


def _name(i: int) -> str:
    kind = ("press", "tender", "statement", "policy", "notice")[i % 5]
    return f"{kind}-{i:06d}" if i % 3 else f"Ministry {kind} {i:06d}"  # a third not plain slugs


def _url(i: int, ports: list[int]) -> str:
    return f"http://127.0.0.1:{ports[i % len(ports)]}/site{i % 97}/page/{i}?lang={'en' if i % 2 else 'sr'}"


def _tags(rng: random.Random) -> list[str]:
    return rng.sample(TAGS, rng.randint(1, 3))


def write_watchlist(path: Path, targets: int, ports: list[int]) -> list[tuple[str, str, list[str]]]:
    """The watchlist file (block style, as a person writes it); returns (name, url, tags) per target."""
    rng = random.Random(17)
    lines = [
        "# the scale bench's watchlist (bench/scale_bench.py)",
        "settings:",
        "  concurrency: 16",
        "  per_host_concurrency: 4",
        "  per_host_delay: 0s",
        "  every: 1d",
        "  watch_robots: false",
        "targets:",
    ]
    out = []
    for i in range(targets):
        name, url, tags = _name(i), _url(i, ports), _tags(rng)
        out.append((name, url, tags))
        lines.append(f"  - name: {json.dumps(name)}" if " " in name else f"  - name: {name}")
        lines.append(f'    url: "{url}"')
        lines.append(f"    tags: [{', '.join(tags)}]")
        lines.append(f"    every: {EVERY[i % len(EVERY)]}")
        if i % 10 == 0:
            lines.append("    ignore_text: ['Visited \\d+ times']")
    path.write_text("\n".join(lines) + "\n")
    return out


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_index(root: Path, targets: list[tuple[str, str, list[str]]]) -> None:
    """The index as one run that captured every target leaves it (rows only: these commands read no WARC)."""
    from crawler.archive import Archive

    archive = Archive.open(root)
    conn = archive.store.conn
    stamp = _iso(T0)
    with archive.store.transaction():
        conn.execute("insert into runs (id, started, status, targets_due) values ('s1', ?, 'completed', ?)",
                     (stamp, len(targets)))
        conn.executemany(
            "insert into targets (name, url, tags, first_seen, updated) values (?, ?, ?, ?, ?)",
            [(name, url, json.dumps(tags), stamp, stamp) for name, url, tags in targets],
        )
        conn.executemany(
            "insert into capture_rows (id, run_id, target, url, final_url, status, started, payload_length, "
            "warc_file, warc_offset, warc_record_id, record_type, text_sha256, good, role) "
            "values (?, 's1', ?, ?, ?, 200, ?, 9876, 'warcs/bench.warc.gz', ?, ?, 'response', ?, 1, 'page')",
            [(k + 1, name, url, url, stamp, 1000 + 7919 * k, f"<urn:uuid:s1-{k}>", f"{k:064x}")
             for k, (name, url, _) in enumerate(targets)],
        )
        conn.executemany(
            "insert into event_rows (run_id, target, capture_id, verdict, alert, summary) "
            "values ('s1', ?, ?, 'new', 0, 'first capture')",
            [(name, k + 1) for k, (name, _, _) in enumerate(targets)],
        )
    archive.close()


def _env(code: Path, cache: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(code), "LASTSEEN_NOW": _iso(NOW), "LASTSEEN_CACHE_DIR": str(cache)}


def timed(args: list[str], cwd: Path, out: Path, env: dict, limit: float | None = None) -> dict:
    """``ARGS`` in ``cwd``, stdout to ``out``: seconds, CPU seconds and peak RSS (MB) of that process alone.

    A process still running after ``limit`` seconds is killed: its seconds are None, ``over`` the limit."""
    with open(out, "wb") as stdout, open(out.with_suffix(".err"), "wb") as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
        timer = threading.Timer(limit, proc.kill) if limit else None
        if timer is not None:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        if timer is not None:
            timer.cancel()
    code = os.waitstatus_to_exitcode(status)
    got = {"seconds": seconds, "rss_mb": usage.ru_maxrss / 1024, "cpu_seconds": usage.ru_utime + usage.ru_stime}
    if limit and code == -9 and seconds >= limit:
        return {**got, "seconds": None, "over": limit}
    if code != 0:
        err = out.with_suffix(".err").read_text(errors="replace")[-1500:]
        raise SystemExit(f"scale bench: `{' '.join(args)}` exited {code}: {err}")
    return got


def load_main(argv: list[str]) -> int:
    """``_load PATH``: ``load_watchlist`` alone in this process; prints seconds and the peak RSS it added (MB)."""
    from crawler.watchlist import load_watchlist

    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    wl = load_watchlist(argv[0])
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rss_mb": grown, "targets": len(wl.targets)}))
    return 0


COMMANDS = (
    ("load_watchlist", None),
    ("check", ["check", "watchlist.yaml"]),
    ("status", ["status"]),
    ("status --json", ["status", "--json"]),
    ("run", ["run", "--json"]),
)


def _secs(value: float | None, row: dict) -> str:
    return f"> {row['over']:g}" if value is None else f"{value:.2f}"


def measure(work: Path, targets: int, ports: list[int], codes: dict[str, Path], rounds: int,
            before_limit: float | None = None) -> list[dict]:
    """Each command over ``targets`` targets with each tree of lastseen's code in ``codes`` (label: folder).

    ``first``: the watchlist's cache emptied before (a watchlist just edited); ``seconds``: the best of
    ``rounds`` after that (unchanged since the last command). A command of the ``before`` code still running
    after ``before_limit`` seconds is stopped there (its figure: more than that)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    listed = write_watchlist(work / "watchlist.yaml", targets, ports)
    (work / "listed.json").write_text(json.dumps(listed))
    # each code its own index, made by that code: a newer schema is one the older code refuses to read
    homes = {label: work / label for label in codes}
    for label, home in homes.items():
        home.mkdir()
        shutil.copy(work / "watchlist.yaml", home / "watchlist.yaml")
        subprocess.run([sys.executable, __file__, "_build", str(home / "archive"), str(work / "listed.json")],
                       env=_env(codes[label], work / f"cache-{label}"), check=True)
    rows = []
    for case, args in COMMANDS:
        for label, code in codes.items():
            home = homes[label]
            cache = work / f"cache-{label}"
            env = _env(code, cache)
            argv = ([sys.executable, __file__, "_load", "watchlist.yaml"] if args is None
                    else [sys.executable, "-m", "crawler", *args])
            stem = f"{case.replace(' ', '_')}.{label}"
            shutil.rmtree(cache, ignore_errors=True)
            limit = before_limit if label == "before" else None
            first = timed(argv, home, home / f"{stem}.first.out", env, limit)
            if args is None:
                first = {**first, **json.loads((home / f"{stem}.first.out").read_text())}
            best = first if first["seconds"] is None else None  # over the limit: not again
            for k in range(rounds if best is None else 0):
                got = timed(argv, home, home / f"{stem}.{k}.out", env, limit)
                if args is None:
                    got = {**got, **json.loads((home / f"{stem}.{k}.out").read_text())}
                best = got if best is None or got["seconds"] < best["seconds"] else best
            row = {"scenario": "scale", "case": case, "targets": targets, "code": label, **best,
                   "first_seconds": first["seconds"], "over": first.get("over"),
                   "first_cpu_seconds": first["cpu_seconds"], "first_rss_mb": first["rss_mb"]}
            if case == "run" and best["seconds"] is not None:  # nothing due: the run fetched nothing
                row["due"] = len(json.loads((home / f"{stem}.0.out").read_text()).get("events", []))
                assert row["due"] == 0, row
            goal = TARGETS.get(case)
            if goal is not None and targets == max(SIZES) and label == "after":
                row["target"] = f"<= {goal:g} s"
                row["target_met"] = best["seconds"] <= goal
            rows.append(row)
            print(f"  {case} at {targets:,} ({label}): first {_secs(row['first_seconds'], row)} s, then "
                  f"{_secs(row['seconds'], row)} s, {row['cpu_seconds']:.2f} s CPU, {row['rss_mb']:.0f} MB", flush=True)
    return rows


def scenario(work: Path, sizes=SIZES, rounds: int = 3, before: Path | None = None,
             before_limit: float | None = None) -> list[dict]:
    """``before``: another tree of lastseen's code (e.g. ``git archive`` of an older commit), measured alike."""
    codes = {"after": REPO} if before is None else {"before": before, "after": REPO}
    rows = []
    with ExitStack() as stack:
        ports = stack.enter_context(serving(PORTS))
        print(f"scale: {', '.join(f'{n:,}' for n in sizes)} targets on 127.0.0.1 ports {ports}; "
              f"{', '.join(f'{k}: {v}' for k, v in codes.items())}; first run then best of {rounds}; "
              f"LASTSEEN_NOW={_iso(NOW)} (the last run an hour before: nothing due)", flush=True)
        for n in sizes:
            rows += measure(work / f"n{n}", n, ports, codes, rounds, before_limit)
    return rows


def _compared(rows: list[dict], scenario: str, head: str):
    """Print a table's head, then yield each row of ``scenario`` with the same case at the smallest size and
    with the ``before`` code at its size (None when it is that row, or there is none)."""
    rows = [r for r in rows if r["scenario"] == scenario]
    if not rows:
        return
    print()
    print(head)
    print("-" * len(head) + "-" * 16)
    small = min(r["targets"] for r in rows)
    by = {(r["case"], r["targets"], r["code"]): r for r in rows}
    for r in rows:
        base, old = by.get((r["case"], small, r["code"])), by.get((r["case"], r["targets"], "before"))
        yield r, base if base is not r else None, old if old is not r else None


def print_table(rows: list[dict]) -> None:
    head = (f"{'scale':15s} {'targets':>8s} {'code':6s} {'first s':>8s} {'first MB':>8s} {'seconds':>8s} "
            f"{'CPU s':>7s} {'peak MB':>8s} {'x 10k':>6s} {'x before':>8s}  target")
    printed = False
    for r, base, old in _compared(rows, "scale", head):
        printed = True
        ratio = (f"{r['seconds'] / base['seconds']:5.1f}x" if base is not None
                 and r["seconds"] and base["seconds"] else f"{'':6s}")
        gain = f"{'':8s}"
        if old is not None:
            gain = (f"{old['seconds'] / r['seconds']:7.1f}x" if old["seconds"]
                    else f">{old['over'] / r['seconds']:6.1f}x")
        target = f"{r['target']}: {'yes' if r['target_met'] else 'NO'}" if "target" in r else ""
        print(f"{r['case']:15s} {r['targets']:8,d} {r['code']:6s} {_secs(r['first_seconds'], r):>8s} "
              f"{r['first_rss_mb']:8.0f} {_secs(r['seconds'], r):>8s} {r['cpu_seconds']:7.2f} {r['rss_mb']:8.0f} "
              f"{ratio} {gain}  {target}")
    if not printed:
        return
    print("(first s and MB: the watchlist's cache empty, as after an edit; seconds, CPU s and peak MB: the best run "
          "after it; load_watchlist's MB: what loading added to the process's peak RSS; x 10k: these seconds / the "
          "same at the smallest size; x before: before's seconds / these)")


# =========================================================================== a real run of N targets (#17)
#
# ``lastseen run`` over N targets on REAL_HOSTS (addresses of 127/8, one port: each its own host, so its own
# download slot), small pages made by the bench's page server (bench.py ``_serve`` with _ScaleServer), twice:
# the first run finds every target new; then CHANGED_SHARE of the pages get three words edited and a day
# later the second run finds them changed and the rest unchanged. Each run is a CLI process under bench.py's
# ``_rss`` wrapper (peak RSS of the monitor, the fetcher and the page writer, apart), timed whole (wall and
# CPU seconds of it and its children), with the time the run spent writing its report.

REAL_SIZES = (10_000, 100_000)
REAL_HOSTS = [f"127.0.0.{i}" for i in range(2, 18)]   # 16 hosts
REAL_PER_HOST = 4                                      # bench.write_watchlist: concurrency 64, per_host_delay 0s
CHANGED_SHARE = 0.01
REAL_RSS_TARGET = 300.0    # MB: monitor + fetcher, peak, 100,000 targets (issue #17)
REAL_REPORT_TARGET = 10.0  # seconds: the second run's report, 100,000 targets


def changed_pages(n: int) -> set[int]:
    return set(random.Random(17).sample(range(n), max(1, round(n * CHANGED_SHARE))))


class _SmallPages:
    """``/p/NNNNN.html`` for every N below ``n``: a page of some 300 bytes made when asked; ``edited`` ones
    with three words changed."""

    def __init__(self, n: int):
        self.n = n
        self.edited: set[int] = set()

    def get(self, path: bytes) -> bytes | None:
        if not (path.startswith(b"/p/") and path.endswith(b".html") and path[3:-5].isdigit()):
            return None
        i = int(path[3:-5])
        if i >= self.n:
            return None
        words = "was withdrawn yesterday" if i in self.edited else "remains open today"
        body = (f"<!DOCTYPE html><html><head><title>Notice {i}</title></head><body><h1>Notice {i}</h1>"
                f"<p>The ministry published tender notice {i} for camera maintenance; the call {words}.</p>"
                f"<p>Contact the procurement office for the documents of notice {i}.</p></body></html>")
        return bench._response(body.encode())


class _ScaleServer(bench._Server):
    """bench.py's page server with small pages made on request (100,000 rendered pages would be 1 GB)."""

    def __init__(self, n: int, delay: float, seed: int):
        self.delay = delay
        self.pages = _SmallPages(n)
        self.not_found = bench._response(b"<!DOCTYPE html><title>Not found</title><p>Not found</p>", "404 Not Found")
        self.requests = Counter()
        self.connections = 0
        self.sizes = [len(self.pages.get(bench.page_path(0).encode()))]

    def command(self, line: str) -> dict:
        if line == "cycle1":
            self.pages.edited = set()
            return {"ok": True}
        if line.startswith("cycle2 "):   # the pages a run of that many targets finds changed
            self.pages.edited = changed_pages(int(line.split()[1]))
            return {"ok": True, "edited": len(self.pages.edited)}
        return super().command(line)


class ScaleServer(bench.PageServer):
    def __init__(self, n: int, hosts: list[str]):
        self._start([sys.executable, __file__, "_serve", "--pages", str(n), "--hosts", ",".join(hosts)])


def rss_main(argv: list[str]) -> int:
    """``_rss ARGS``: bench.py's ``_rss`` (peak RSS apart) with the run's report timed; to ``BENCH_TIMES_OUT``."""
    import atexit

    from crawler import monitor  # the code on PYTHONPATH, imported before bench.rss_main puts REPO first

    times = {"report_seconds": 0.0, "pages_wait_seconds": 0.0}

    def timing(key, fn):
        def timed_call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                times[key] += time.perf_counter() - started
        return timed_call

    monitor.write_run_report = timing("report_seconds", monitor.write_run_report)
    monitor.PageWriter.wait = timing("pages_wait_seconds", monitor.PageWriter.wait)
    atexit.register(lambda: Path(os.environ["BENCH_TIMES_OUT"]).write_text(json.dumps(times)))
    return bench.rss_main(argv)


def real_run(work: Path, n: int, server: ScaleServer, label: str, code: Path, day: int) -> dict:
    """One ``lastseen run`` (day 1: every target new; day 2: CHANGED_SHARE changed), measured; verdicts checked."""
    urls = bench.page_urls(n, REAL_HOSTS, server.port)
    if day == 1:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        bench.write_watchlist(work / "watchlist.yaml", urls, REAL_PER_HOST)
    server.ask("cycle1" if day == 1 else f"cycle2 {n}")
    server.ask("reset")
    at = T0 + timedelta(days=day - 1)
    env = {**_env(code, work / "cache"), "LASTSEEN_NOW": _iso(at), "BENCH_RSS_OUT": str(work / "rss.json"),
           "BENCH_TIMES_OUT": str(work / "times.json")}
    argv = [sys.executable, __file__, "_rss", "run", "--watchlist", "watchlist.yaml", "--archive", "archive",
            "--reports", "reports", "--json"]
    os.sync()  # the last run's dirty pages are not this run's cost
    got = timed(argv, work, work / f"run{day}.out", env)
    events = json.loads((work / f"run{day}.out").read_text())["events"]
    verdicts = Counter(e["verdict"] for e in events)
    expect = ({"new": n} if day == 1 else
              {"changed": len(changed_pages(n)), "unchanged": n - len(changed_pages(n))})
    changed = {int(e["target"][1:]) for e in events if e["verdict"] == "changed"}
    if len(events) != n or set(verdicts) - set(expect) or not changed <= changed_pages(n):
        raise SystemExit(f"scale bench: run {day} of {n:,} ({label}): verdicts {dict(verdicts)}, expected {expect}")
    if dict(verdicts) != expect:
        print(f"  NOTE run {day} at {n:,} ({label}): verdicts {dict(verdicts)}, expected {expect}: edited pages "
              f"{sorted(changed_pages(n) - changed)} found unchanged", flush=True)
    served = server.ask("stats")["requests"]
    rss = json.loads((work / "rss.json").read_text())
    times = json.loads((work / "times.json").read_text())
    row = {"scenario": "scale-run", "case": f"run {day}", "targets": n, "code": label, **got,
           "verdicts": dict(verdicts), "served": served, "monitor_mb": rss["parent_kb"] / 1024,
           "fetcher_mb": rss["fetcher_kb"] / 1024, "writer_mb": rss.get("pages_kb", 0) / 1024, **times}
    row["peak_mb"] = row["monitor_mb"] + row["fetcher_mb"]
    row["report_total_seconds"] = row["report_seconds"] + row["pages_wait_seconds"]
    if n == max(REAL_SIZES) and label == "after":
        row["target"] = f"<= {REAL_RSS_TARGET:g} MB" + (f", report <= {REAL_REPORT_TARGET:g} s" if day == 2 else "")
        row["target_met"] = row["peak_mb"] <= REAL_RSS_TARGET and (
            day == 1 or row["report_total_seconds"] <= REAL_REPORT_TARGET)
    print(f"  run {day} at {n:,} ({label}): {got['seconds']:.1f} s, {got['cpu_seconds']:.1f} s CPU; peak monitor "
          f"{row['monitor_mb']:.1f} + fetcher {row['fetcher_mb']:.1f} = {row['peak_mb']:.1f} MB, page writer "
          f"+{row['writer_mb']:.1f} MB; report {row['report_seconds']:.2f} s + waiting for the page writer "
          f"{row['pages_wait_seconds']:.2f} s; {dict(verdicts)}", flush=True)
    return row


def real_runs(work: Path, sizes=REAL_SIZES, before: Path | None = None) -> list[dict]:
    codes = {"after": REPO} if before is None else {"before": before, "after": REPO}
    bench.check_bindable(REAL_HOSTS)
    rows = []
    with ScaleServer(max(sizes), REAL_HOSTS) as server:
        print(f"scale, real runs: {', '.join(f'{n:,}' for n in sizes)} targets over {len(REAL_HOSTS)} hosts "
              f"({REAL_HOSTS[0]}-{REAL_HOSTS[-1].rsplit('.', 1)[1]}, port {server.port}), pages of "
              f"{server.info['body_bytes']['median']} bytes; concurrency 64, per_host_concurrency {REAL_PER_HOST}, "
              f"per_host_delay 0s, retries 0, watch_robots off; run 1 all new, run 2 a day later with "
              f"{CHANGED_SHARE:.0%} changed; {', '.join(f'{k}: {v}' for k, v in codes.items())}", flush=True)
        for n in sizes:
            for label, code in codes.items():
                for day in (1, 2):
                    rows.append(real_run(work / f"run{n}-{label}", n, server, label, code, day))
                shutil.rmtree(work / f"run{n}-{label}", ignore_errors=True)
    return rows


def print_real_table(rows: list[dict]) -> None:
    head = (f"{'scale run':9s} {'targets':>8s} {'code':6s} {'seconds':>8s} {'CPU s':>7s} {'monitor':>8s} "
            f"{'fetcher':>8s} {'sum MB':>7s} {'writer':>7s} {'report s':>8s} {'x 10k MB':>8s} {'x before':>8s}  target")
    printed = False
    for r, base, old in _compared(rows, "scale-run", head):
        printed = True
        ratio = f"{r['peak_mb'] / base['peak_mb']:7.2f}x" if base is not None else f"{'':8s}"
        gain = f"{old['peak_mb'] / r['peak_mb']:7.2f}x" if old is not None else f"{'':8s}"
        target = f"{r['target']}: {'yes' if r['target_met'] else 'NO'}" if "target" in r else ""
        print(f"{r['case']:9s} {r['targets']:8,d} {r['code']:6s} {r['seconds']:8.1f} {r['cpu_seconds']:7.1f} "
              f"{r['monitor_mb']:8.1f} {r['fetcher_mb']:8.1f} {r['peak_mb']:7.1f} {r['writer_mb']:7.1f} "
              f"{r['report_total_seconds']:8.2f} {ratio} {gain}  {target}")
    if not printed:
        return
    print("(sum MB: peak RSS of the monitor + of its fetcher; writer: the page writer's private memory, beside; "
          "report s: the run's report + its wait for the page writer; x 10k MB: sum MB / the same at the smallest "
          "size; x before: before's sum MB / these)")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=int, action="append", help="watchlist sizes (default 10,000 and 100,000)")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each command, the fastest kept")
    ap.add_argument("--before", type=Path, metavar="DIR", help="also measure the lastseen code in DIR (e.g. "
                    "`git archive COMMIT | tar -x -C DIR`), for before/after ratios in the same run")
    ap.add_argument("--before-limit", type=float, metavar="SECONDS", help="stop a command of the --before code "
                    "still running after this long (its figure: more than that)")
    ap.add_argument("--part", choices=["commands", "runs", "both"], default="both", help="the commands with "
                    "nothing due, the real runs, or both (default)")
    ap.add_argument("--keep", action="store_true", help="keep bench/out/work/scale")
    args = ap.parse_args(argv)
    work = HERE / "out" / "work" / "scale"
    rows = []
    try:
        if args.part != "runs":
            rows += scenario(work, tuple(args.targets or SIZES), args.rounds, args.before, args.before_limit)
        if args.part != "commands":
            rows += real_runs(work, tuple(args.targets or REAL_SIZES), args.before)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_table(rows)
    print_real_table(rows)
    return 0 if all(r.get("target_met", True) for r in rows) else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["_load"]:
        sys.exit(load_main(sys.argv[2:]))
    if sys.argv[1:2] == ["_build"]:  # _build ARCHIVE LISTED_JSON: the index, by the code on PYTHONPATH
        build_index(Path(sys.argv[2]), json.loads(Path(sys.argv[3]).read_text()))
        sys.exit(0)
    if sys.argv[1:2] == ["_serve"]:
        sys.exit(bench.serve_main(sys.argv[2:], _ScaleServer))
    if sys.argv[1:2] == ["_rss"]:
        sys.exit(rss_main(sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
