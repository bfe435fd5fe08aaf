"""The `year` scenario (#17, "A year of captures"): what an unchanged recapture costs in the archive.

N targets (default 1,000) on the bench's own page server (bench.py's seeded ~10 KB pages, 127.0.0.1
only), captured by one real ``lastseen run`` per day for D days (default 365), each run a subprocess
with ``LASTSEEN_NOW`` set to that day (06:00 UTC from 2026-01-01; :mod:`crawler.clock`). From day 2 on,
with a fixed seed, 5 % of the pages get a new revision (three words changed) and 1 % vanish (404) for
the day and come back the next. Fast settings, named in the output: ``concurrency: 64,
per_host_concurrency: 64, per_host_delay: 0s, retries: 0, watch_robots: false``.

After the D days, one more run (day D+1) in which no page changes and none vanishes: the growth of
the archive over that run, divided by its captures, is the cost of an unchanged recapture, everything
under ``archive/`` counted (WARC files, ``lastseen.db`` after a WAL checkpoint, the custody JSONL, any
other file). It is broken down per SQLite table and index (the ``dbstat`` virtual table, page bytes)
and per WARC record type (compressed bytes of that run's records). The whole archive is also given
per capture and per table. ``run``, ``status`` and ``report --since 7d`` are timed as whole processes
on day 1 (the first capture), day 2 (the first recapture), day 8 (the first whole 7-day window of
``report --since 7d``) and the last day (target: last day <= 1.2x day 1).

``bench.py --only year`` runs it (and ``make bench`` with the rest);
``python bench/year_bench.py [--days N] [--targets N] [--keep]`` alone. For development:
``--days 20 --targets 300``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402

DAYS = 365
TARGETS = 1_000
SEED = 20261128
CHANGED_SHARE = 0.05
VANISHED_SHARE = 0.01
BYTES_TARGET = 2048  # bytes per unchanged recapture, everything counted
TIME_TARGET = 1.2  # last day's run, status and report <= 1.2x day 1's
T0 = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
SETTINGS = {
    "concurrency": 64,
    "per_host_concurrency": 64,
    "per_host_delay": "0s",
    "retries": 0,
    "watch_robots": False,
}


# =========================================================================== pages and their days


class _Revised(bench.PageMaker):
    """bench.py's pages; revision ``v`` of page ``i`` has three words changed (its own choice for each v)."""

    def __init__(self, seed: int):
        super().__init__(seed)
        self.revision: dict[int, int] = {}

    def _content(self, i: int) -> dict:
        c = super()._content(i)
        v = self.revision.get(i, 0)
        if v:
            self.edit(c, random.Random(f"{self.seed}/{i}/{v}"))
        return c


def plan(day: int, targets: int, seed: int = SEED) -> tuple[list[int], list[int]]:
    """Day ``day``'s (from 2) changed and vanished pages: disjoint, 5 % and 1 %, chosen with the seed."""
    rng = random.Random(seed * 1_000 + day)
    n_changed = max(1, round(targets * CHANGED_SHARE))
    n_vanished = max(1, round(targets * VANISHED_SHARE))
    picked = rng.sample(range(targets), n_changed + n_vanished)
    return sorted(picked[:n_changed]), sorted(picked[n_changed:])


class _YearServer(bench._Server):
    """The bench's server; ``day N`` serves day N's pages (``quiet`` for a day where nothing changes)."""

    def __init__(self, n: int, seed: int):
        self.delay, self.n = 0.0, n  # (bench._Server's own pages and cycle 2 are not rendered)
        self.cycle2, self.sizes = {}, []
        self.not_found = bench._response(b"<!DOCTYPE html><title>Not found</title><p>Not found</p>", "404 Not Found")
        self.requests: Counter = Counter()
        self.connections = 0
        self.maker = _Revised(seed)
        self.pages = {bench.page_path(i).encode(): bench._response(self.maker.render(i)) for i in range(n)}
        self.gone: dict[bytes, bytes] = {}

    def command(self, line: str) -> dict:
        if line.startswith("day "):
            self.pages.update(self.gone)  # yesterday's vanished pages come back
            self.gone = {}
            changed, vanished = plan(int(line.split()[1]), self.n, self.maker.seed)
            for i in changed:
                self.maker.revision[i] = self.maker.revision.get(i, 0) + 1
                self.pages[bench.page_path(i).encode()] = bench._response(self.maker.render(i))
            for i in vanished:
                key = bench.page_path(i).encode()
                self.gone[key] = self.pages.pop(key)
            return {"changed": changed, "vanished": vanished}
        if line == "quiet":
            self.pages.update(self.gone)
            self.gone = {}
            return {"changed": [], "vanished": []}
        return super().command(line)


def serve_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="year_bench.py _serve")
    ap.add_argument("--pages", type=int, required=True)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    server = _YearServer(args.pages, args.seed)

    async def main():
        loop = asyncio.get_running_loop()
        sock = bench._bind_same_port(["127.0.0.1"])[0]
        await loop.create_server(lambda: bench._Page(server), sock=sock, backlog=1024)
        done = loop.create_future()

        def on_stdin():
            line = sys.stdin.readline().strip()
            if not line or line == "quit":
                if not done.done():
                    done.set_result(None)
                return
            sys.stdout.write(json.dumps(server.command(line)) + "\n")
            sys.stdout.flush()

        loop.add_reader(sys.stdin.fileno(), on_stdin)
        sys.stdout.write(json.dumps({"ready": True, "port": sock.getsockname()[1]}) + "\n")
        sys.stdout.flush()
        await done

    asyncio.run(main())
    return 0


class YearServer(bench.PageServer):
    def __init__(self, n: int, seed: int = SEED):
        self._start([sys.executable, __file__, "_serve", "--pages", str(n), "--seed", str(seed)])


# =========================================================================== lastseen, measured


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _env(at: datetime) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LASTSEEN_")}
    return {**env, "PYTHONPATH": str(REPO), "LASTSEEN_NOW": _iso(at)}


def _lastseen(work: Path, at: datetime, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "crawler", *args], cwd=work, capture_output=True, text=True,
                          check=False, timeout=3600, env=_env(at))
    return time.perf_counter() - started, proc


def run_day(work: Path, at: datetime, targets: int) -> tuple[float, Counter]:
    seconds, proc = _lastseen(work, at, "run", "--force", "--json")
    if proc.returncode not in (0, 1):  # 1: some targets failed (the vanished ones), the run completed
        raise bench.BenchError(f"lastseen run ({_iso(at)}) exited {proc.returncode}: {proc.stderr[-1500:]}")
    events = json.loads(proc.stdout)["events"]
    if len(events) != targets:
        raise bench.BenchError(f"lastseen run ({_iso(at)}): {len(events)} events for {targets} targets")
    return seconds, Counter(e["verdict"] for e in events)


def time_reads(work: Path, at: datetime) -> dict:
    """``status`` and ``report --since 7d`` (HTML, into a fresh folder) as whole processes, an hour after ``at``."""
    later = at + timedelta(hours=1)
    out = {}
    seconds, proc = _lastseen(work, later, "status", "--json")
    if proc.returncode != 0:
        raise bench.BenchError(f"lastseen status exited {proc.returncode}: {proc.stderr[-1500:]}")
    out["status"] = seconds
    folder = work / "window"
    shutil.rmtree(folder, ignore_errors=True)
    seconds, proc = _lastseen(work, later, "report", "--since", "7d", "--out", str(folder))
    if proc.returncode != 0:
        raise bench.BenchError(f"lastseen report exited {proc.returncode}: {proc.stderr[-1500:]}")
    out["report"] = seconds
    return out


def archive_bytes(archive: Path) -> dict:
    """Every file under ``archive/`` (after a WAL checkpoint), by what it is."""
    db = archive / "lastseen.db"
    with sqlite3.connect(db) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
    conn.close()
    parts: Counter = Counter()
    for path in archive.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(archive)
        name = rel.as_posix()
        if name.startswith("lastseen.db"):
            kind = "index (lastseen.db, -wal, -shm)"
        elif name.endswith((".warc.gz", ".warc", ".warc.gz.open")):
            kind = "WARC files"
        elif rel.parts[0] == "custody":
            kind = "custody (JSONL, timestamps)"
        else:
            kind = f"other ({rel.parts[0]})"
        parts[kind] += path.stat().st_size
    return dict(parts)


def table_bytes(archive: Path) -> dict:
    with sqlite3.connect(archive / "lastseen.db") as conn:
        rows = conn.execute("select name, sum(pgsize) from dbstat group by name").fetchall()
    conn.close()
    return dict(rows)


def warc_records(archive: Path, since: set[str]) -> dict:
    """Compressed bytes and counts per WARC record type, in the files not in ``since``."""
    from warcio.archiveiterator import ArchiveIterator

    out: dict[str, list[int]] = {}
    for path in sorted(archive.rglob("*.warc.gz")):
        if str(path) in since:
            continue
        with open(path, "rb") as f:
            it = ArchiveIterator(f)
            for record in it:
                record.content_stream().read()
                it.read_to_end(record)
                entry = out.setdefault(record.rec_type, [0, 0, 0])
                entry[0] += 1
                entry[1] += it.get_record_length()
                head = record.rec_headers.to_str()
                entry[2] += len(head.encode())
    return {k: {"records": v[0], "bytes": v[1], "header_bytes_uncompressed": v[2]} for k, v in out.items()}


def _counts(archive: Path) -> dict:
    with sqlite3.connect(archive / "lastseen.db") as conn:
        out = {t: conn.execute(f"select count(*) from {t}").fetchone()[0]
               for t in ("captures", "exchanges", "events", "custody", "texts")}
    conn.close()
    return out


def _diff(after: dict, before: dict) -> dict:
    return {k: after.get(k, 0) - before.get(k, 0) for k in sorted(set(after) | set(before))}


# =========================================================================== the scenario


def scenario(work: Path, days: int = DAYS, targets: int = TARGETS) -> list[dict]:
    import yaml

    settings = ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in SETTINGS.items())
    print(f"\n== year: {targets} targets, {days} daily runs (LASTSEEN_NOW from {_iso(T0)}), "
          f"{CHANGED_SHARE:.0%} changed and {VANISHED_SHARE:.0%} vanishing (back the next day) per run, "
          f"seed {SEED}; {settings}", flush=True)
    work.mkdir(parents=True, exist_ok=True)
    archive = work / "archive"
    run_seconds: list[float] = []
    verdicts: Counter = Counter()
    reads = {}
    with YearServer(targets) as server:
        urls = bench.page_urls(targets, ["127.0.0.1"], server.port)
        (work / "watchlist.yaml").write_text(yaml.safe_dump(
            {"settings": SETTINGS, "targets": [{"name": f"p{i:05d}", "url": u} for i, u in enumerate(urls)]}))
        started = time.perf_counter()
        for day in range(1, days + 1):
            at = T0 + timedelta(days=day - 1)
            if day > 1:
                server.ask(f"day {day}")
            seconds, counted = run_day(work, at, targets)
            run_seconds.append(seconds)
            verdicts.update(counted)
            if day in (1, 2, 8, days):  # day 8: the first full 7-day window of `report --since 7d`
                reads[day] = {"run": seconds, **time_reads(work, at)}
            if day % 10 == 0 or day == days:
                total = sum(archive_bytes(archive).values())
                print(f"  day {day}: run {seconds:.1f} s, archive {total / 1e6:.1f} MB, "
                      f"{time.perf_counter() - started:.0f} s so far", flush=True)
        # the quiet day: nothing changes, nothing vanishes
        server.ask("quiet")
        at = T0 + timedelta(days=days)
        run_day(work, at, targets)  # yesterday's vanished come back: not a quiet run yet
        before_files = archive_bytes(archive)
        before_tables = table_bytes(archive)
        before_counts = _counts(archive)
        before_warcs = {str(p) for p in archive.rglob("*.warc.gz")}
        quiet_seconds, quiet = run_day(work, at + timedelta(hours=12), targets)
    after_files = archive_bytes(archive)
    after_tables = table_bytes(archive)
    after_counts = _counts(archive)
    if set(quiet) != {"unchanged"}:
        raise bench.BenchError(f"the quiet run's verdicts are {dict(quiet)}, not all unchanged")
    grew = _diff(after_files, before_files)
    per = sum(grew.values()) / targets
    row = {
        "scenario": "year", "contender": "lastseen", "pages": targets, "days": days, "seed": SEED,
        "settings": SETTINGS, "verdicts": dict(verdicts),
        "unchanged_recapture_bytes": round(per),
        "unchanged_recapture_files": {k: round(v / targets) for k, v in grew.items()},
        "unchanged_recapture_tables": {k: round(v / targets) for k, v in
                                       sorted(_diff(after_tables, before_tables).items(), key=lambda kv: -kv[1])
                                       if v},
        "unchanged_recapture_warc": {k: {"records": v["records"] / targets, "bytes": round(v["bytes"] / targets),
                                         "header_bytes_uncompressed": round(v["header_bytes_uncompressed"]
                                                                            / v["records"])}
                                     for k, v in warc_records(archive, before_warcs).items()},
        "quiet_rows_added": _diff(after_counts, before_counts),
        "archive_files": after_files, "archive_bytes": sum(after_files.values()),
        "archive_tables": dict(sorted(after_tables.items(), key=lambda kv: -kv[1])),
        "rows": after_counts,
        "timings": {str(k): {n: round(s, 2) for n, s in v.items()} for k, v in reads.items()},
        "quiet_run_seconds": round(quiet_seconds, 2),
        "run_seconds_total": round(sum(run_seconds), 1),
        "target": f"≤ {BYTES_TARGET} B per unchanged recapture; run, status, report on the last day "
                  f"≤ {TIME_TARGET}x day 1",
    }
    last = reads[days]
    row["time_ratios"] = {n: round(last[n] / reads[1][n], 2) for n in last}
    row["target_met"] = per <= BYTES_TARGET and all(r <= TIME_TARGET for r in row["time_ratios"].values())
    print_row(row)
    return [row]


def print_row(r: dict) -> None:
    n = r["pages"]
    print(f"\nyear      {n} targets x {r['days']} days: verdicts {r['verdicts']}; runs took "
          f"{r['run_seconds_total']:.0f} s in all")
    print(f"archive   {r['archive_bytes'] / 1e6:.1f} MB: " + ", ".join(
        f"{k} {v / 1e6:.1f} MB" for k, v in r["archive_files"].items()) + f"; rows {r['rows']}")
    print("tables    " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in list(r["archive_tables"].items())[:12]))
    print(f"unchanged recapture (one more run, all {n} unchanged): {r['unchanged_recapture_bytes']} B each: "
          + ", ".join(f"{k} {v} B" for k, v in r["unchanged_recapture_files"].items()))
    print("  per table/index: " + ", ".join(f"{k} {v} B" for k, v in r["unchanged_recapture_tables"].items()))
    print("  per WARC record: " + ", ".join(
        f"{k} {v['records']:g} x {v['bytes']} B (headers {v['header_bytes_uncompressed']} B unzipped)"
        for k, v in r["unchanged_recapture_warc"].items()))
    print(f"  rows added: {r['quiet_rows_added']}")
    print("seconds   " + "; ".join(f"day {d}: " + ", ".join(f"{k} {v:.2f}" for k, v in t.items())
                                   for d, t in r["timings"].items())
          + f"; last/day 1: {r['time_ratios']}")
    print(f"target    {r['target']}: {'yes' if r['target_met'] else 'NO'}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="a year of daily captures: bytes per unchanged recapture "
                                             "(bench/README.md)")
    ap.add_argument("--days", type=int, default=DAYS)
    ap.add_argument("--targets", type=int, default=TARGETS)
    ap.add_argument("--work", type=Path, default=HERE / "out" / "work" / "year")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (bench/out/work/year)")
    ap.add_argument("--json", type=Path, help="also write the row to this file")
    args = ap.parse_args(argv)
    shutil.rmtree(args.work, ignore_errors=True)
    try:
        rows = scenario(args.work, args.days, args.targets)
    except bench.BenchError as exc:
        print(f"\nBENCHMARK INVALID: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(rows[0], indent=2) + "\n")
    return 0 if rows[0]["target_met"] else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        sys.exit(serve_main(sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
