"""The per-host scenario of lastseen's benchmark (issue #17): one fast local host, limits 1, 4 and 64.

``bench.py --only perhost`` runs it (and ``make bench`` with the rest); see bench/README.md,
"Per-host ceiling". N pages of ~10 KB on ONE host, 127.0.0.1, served by two servers in turn:

bench     the bench's own asyncio server (one write per response); here it answers on the
          event loop's next turn, so requests that arrive together are seen in flight together.
threaded  ``http.server.ThreadingHTTPServer``, HTTP/1.1 keep-alive, the head and the body written
          separately (two ``send()`` calls, Nagle on, as http.server does), listen backlog 1024.

Contenders, at per-host limits 1, 4 and 64 (64 requests in flight at most overall):
``lastseen run`` as a user runs it (CLI subprocess; cycle 1 untimed, cycle 2 timed) and a bare
Scrapy spider (``async def start()`` yields the requests, the callback parses the title and the
links). Each server counts the requests in flight (from the request's arrival to the last write
of its answer) and keeps the peak: a lower bound of what the client had in flight, so a peak above
the limit means the client did exceed it.

The same file is the server process, chosen by a hidden first argument: ``_serve``; and the bare
spider: ``_scrapy``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import bench

LIMITS = (1, 4, 64)
CONCURRENCY = 64
TARGET = 0.8  # lastseen >= 0.8x the bare spider at the same per-host limit
BACKLOG = 1024
SERVERS = {
    "bench": "the bench's asyncio server: one write per response, answered on the loop's next turn",
    "threaded": (
        f"http.server.ThreadingHTTPServer: HTTP/1.1 keep-alive, head and body in two writes, "
        f"Nagle on (no TCP_NODELAY), listen backlog {BACKLOG} (http.server's default is 5)"
    ),
}


# =========================================================================== servers (_serve)


class _Counted(bench._Server):
    """The bench's pages and counters, plus the requests in flight and their peak (thread-safe)."""

    def __init__(self, n: int, seed: int):
        super().__init__(n, 0.0, seed)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def arrived(self, status: int | None = None) -> None:
        """A request arrived (``status``: count it among the answers, as bench._Page does itself)."""
        with self.lock:
            if status is not None:
                self.requests[status] += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def answered(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def connected(self) -> None:
        with self.lock:
            self.connections += 1

    def command(self, line: str) -> dict:
        with self.lock:
            if line == "reset":
                self.peak = self.in_flight
            out = super().command(line)
            if line == "stats":
                out["peak_in_flight"] = self.peak
            return out


class _NextTurnPage(bench._Page):
    """The bench's HTTP/1.1 protocol; each answer goes out on the event loop's next turn."""

    def connection_made(self, transport):
        self.transport = transport
        self.server.connected()

    def _send(self, resp, close):
        self.server.arrived()  # (bench._Page counted it among the answers)
        asyncio.get_running_loop().call_soon(self._answer, resp, close)

    def _answer(self, resp, close):
        self.server.answered()
        super()._send(resp, close)


def _serve_bench(server: _Counted) -> None:
    async def main():
        loop = asyncio.get_running_loop()
        sock = bench._bind_same_port(["127.0.0.1"])[0]
        await loop.create_server(
            lambda: _NextTurnPage(server), sock=sock, backlog=BACKLOG
        )
        done = loop.create_future()

        def on_stdin():
            if not _command(server, sys.stdin.readline()) and not done.done():
                done.set_result(None)

        loop.add_reader(sys.stdin.fileno(), on_stdin)
        _ready(server, sock.getsockname()[1])
        await done

    asyncio.run(main())


def _serve_threaded(server: _Counted) -> None:
    bodies = {}

    def body(path: bytes) -> bytes | None:
        resp = server.pages.get(path)
        if resp is None:
            return None
        cached = bodies.get(path)
        if cached is None or cached[0] is not resp:
            cached = bodies[path] = (resp, resp[resp.find(b"\r\n\r\n") + 4 :])
        return cached[1]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def setup(self):
            super().setup()
            server.connected()

        def do_GET(self):
            page = body(self.path.encode())
            status = 200 if page is not None else 404
            server.arrived(status)
            os.sched_yield()  # let requests that arrived with this one be counted with it
            try:
                if page is None:
                    page = b"<!DOCTYPE html><title>Not found</title><p>Not found</p>"
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()  # the head: one send()
                self.wfile.write(page)  # the body: a second send()
            finally:
                server.answered()

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = BACKLOG

    httpd = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    _ready(server, httpd.server_address[1])
    while _command(server, sys.stdin.readline()):
        pass
    httpd.shutdown()


def _ready(server: _Counted, port: int) -> None:
    sys.stdout.write(
        json.dumps({"ready": True, "port": port, "render_seconds": 0, "body_bytes": {}})
        + "\n"
    )
    sys.stdout.flush()


def _command(server: _Counted, line: str) -> bool:
    """Answer one control line; False at end of input or ``quit``."""
    line = line.strip()
    if not line or line == "quit":
        return False
    sys.stdout.write(json.dumps(server.command(line)) + "\n")
    sys.stdout.flush()
    return True


def serve_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="perhost.py _serve")
    ap.add_argument("--kind", choices=sorted(SERVERS), required=True)
    ap.add_argument("--pages", type=int, required=True)
    ap.add_argument("--seed", type=int, default=bench.SEED)
    args = ap.parse_args(argv)
    server = _Counted(args.pages, args.seed)
    (_serve_bench if args.kind == "bench" else _serve_threaded)(server)
    return 0


class CountingServer(bench.PageServer):
    """A ``_serve`` process of this module, driven like the bench's page server."""

    def __init__(self, kind: str, n: int):
        self.kind = kind
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "_serve", "--kind", kind, "--pages", str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the {kind} page server did not start")
        self.info = json.loads(line)
        self.port = self.info["port"]


# =========================================================================== the bare spider (_scrapy)


def scrapy_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="perhost.py _scrapy")
    ap.add_argument("urls")
    ap.add_argument("--per-host", type=int, required=True)
    args = ap.parse_args(argv)

    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = Path(args.urls).read_text().split()
    parsed = {"titles": 0, "links": 0}

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, callback=self.parse, dont_filter=True)

        def parse(self, response):
            if response.css("title::text").get():
                parsed["titles"] += 1
            parsed["links"] += len(response.css("a::attr(href)").getall())

    process = CrawlerProcess(
        {
            "CONCURRENT_REQUESTS": CONCURRENCY,
            "CONCURRENT_REQUESTS_PER_DOMAIN": args.per_host,
            "DOWNLOAD_DELAY": 0,
            "RETRY_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "REMOTE_CONTROL_ENABLED": False,
            "LOG_LEVEL": "ERROR",
        }
    )
    crawler = process.create_crawler(Bare)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    print(
        json.dumps(
            {
                "status_200": stats.get("downloader/response_status_count/200", 0),
                "errors": stats.get("downloader/exception_count", 0),
                **parsed,
            }
        )
    )
    return 0


class ParsingScrapy(bench.BareScrapy):
    """The bare spider of issue #17: its callback parses the title and the links."""

    def settings(self) -> str:
        return (
            f"CONCURRENT_REQUESTS {CONCURRENCY}, CONCURRENT_REQUESTS_PER_DOMAIN {self.per_host}, "
            "DOWNLOAD_DELAY 0, retries off, telnet off, callback parses title and links"
        )

    def run(self, expect_changed) -> dict:
        secs, proc = bench._run(
            [
                sys.executable,
                __file__,
                "_scrapy",
                str(self.url_file),
                "--per-host",
                str(self.per_host),
            ],
            cwd=self.work,
        )
        if proc.returncode != 0:
            raise bench.BenchError(
                f"bare Scrapy exited {proc.returncode}: {bench._tail(proc.stderr)}"
            )
        stats = json.loads(proc.stdout.strip().splitlines()[-1])
        if (
            stats["status_200"] != len(self.urls)
            or stats["errors"]
            or stats["titles"] != len(self.urls)
        ):
            raise bench.BenchError(
                f"bare Scrapy fetched {stats} of {len(self.urls)} pages"
            )
        return {"seconds": secs, "fetched": stats["status_200"]}


class LastseenAt(bench.Lastseen):
    def settings(self) -> str:
        return (
            f"concurrency {CONCURRENCY}, per_host_concurrency {self.per_host}, per_host_delay 0s "
            "(shipped default 1s), retries 0, watch_robots off"
        )


# =========================================================================== the scenario


def scenario(n: int, work: Path) -> list[dict]:
    """Both servers in turn; lastseen and the bare spider at each per-host limit; rows for results.json."""
    edited = bench.edited_pages(n)
    expect = {f"p{i:05d}" for i in edited}
    print(
        f"\n== perhost: {n} pages on ONE host (127.0.0.1), no latency; {len(edited)} edited for cycle 2; "
        f"per-host limits {', '.join(map(str, LIMITS))}, {CONCURRENCY} in flight at most overall",
        flush=True,
    )
    rows = []
    for kind, what in SERVERS.items():
        with CountingServer(kind, n) as server:
            print(f"   server {kind}: {what}; port {server.port}", flush=True)
            urls = bench.page_urls(n, ["127.0.0.1"], server.port)
            base = work / kind
            # Cycle 1 (untimed) for each lastseen archive, at 64 per host: a baseline, quickly.
            for limit in LIMITS:
                server.ask("reset")
                t0 = time.perf_counter()
                LastseenAt(base / f"lastseen@{limit}", urls, max(LIMITS)).run(None)
                bench._check_server(server, n, f"lastseen@{limit} ({kind})", 1)
                print(
                    f"   cycle 1  lastseen@{limit:<3d} {time.perf_counter() - t0:7.2f} s (at per_host_concurrency "
                    f"{max(LIMITS)}, untimed)",
                    flush=True,
                )
            server.ask("cycle2")
            for limit in LIMITS:
                pair = [
                    LastseenAt(base / f"lastseen@{limit}", urls, limit),
                    ParsingScrapy(base / f"scrapy@{limit}", urls, limit),
                ]
                got = {}
                for c in pair:
                    print(f"   settings {c.name}@{limit}: {c.settings()}", flush=True)
                    server.ask("reset")
                    cpu0 = server.ask("stats")["cpu"]
                    own0 = _children_cpu()
                    r = c.run(expect if c.name == "lastseen" else None)
                    own = _children_cpu() - own0
                    stats = bench._check_server(
                        server, n, f"{c.name}@{limit} ({kind})", 2
                    )
                    got[c.name] = r = {
                        "scenario": "perhost",
                        "server": kind,
                        "contender": c.name,
                        "per_host": limit,
                        "pages": n,
                        "seconds": r["seconds"],
                        "pages_per_s": n / r["seconds"],
                        "peak_in_flight": stats["peak_in_flight"],
                        "exceeds_limit": stats["peak_in_flight"] > limit,
                        "server_connections": stats["connections"],
                        "server_cpu_seconds": round(stats["cpu"] - cpu0, 2),
                        "cpu_seconds": round(own, 2),
                        "settings": c.settings(),
                    }
                    print(
                        f"   cycle 2  {c.name + '@' + str(limit):12s} {r['seconds']:7.2f} s  {r['pages_per_s']:7.1f} "
                        f"pages/s  peak in flight {r['peak_in_flight']}{_exceeds(r)}  ({r['server_connections']} "
                        f"connections; CPU {r['cpu_seconds']} s, server {r['server_cpu_seconds']} s)",
                        flush=True,
                    )
                ls, sc = got["lastseen"], got["scrapy"]
                ls["vs_scrapy"] = ls["pages_per_s"] / sc["pages_per_s"]
                ls["target"] = f">= {TARGET}x scrapy, within its limit"
                ls["target_met"] = ls["vs_scrapy"] >= TARGET and not ls["exceeds_limit"]
                rows += [ls, sc]
    return rows


def _children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process and its own children (lastseen's fetcher)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _exceeds(row: dict) -> str:
    if row["exceeds_limit"]:
        return " (exceeds its limit)"
    if row["server_connections"] > row["per_host"]:
        # The server closes no connection and the client's pool keeps `limit` idle ones: a client
        # that kept its limit would never have needed another (lastseen uses exactly `limit`).
        return " (opened more connections than its limit)"
    return ""


def _cpu_ms(row: dict) -> float:
    return row["cpu_seconds"] * 1000 / row["pages"]


def print_table(rows: list[dict]) -> None:
    print()
    head = (
        f"{'perhost':9s} {'limit':>5s} {'lastseen p/s':>12s} {'peak':>4s} {'conns':>5s} {'CPU ms':>6s} "
        f"{'scrapy p/s':>10s} {'peak':>4s} {'conns':>5s} {'CPU ms':>6s} {'ratio':>6s}  target"
    )
    print(head)
    print("-" * (len(head) + 30))
    for ls in (
        r for r in rows if r["scenario"] == "perhost" and r["contender"] == "lastseen"
    ):
        sc = next(
            r
            for r in rows
            if r["scenario"] == "perhost"
            and r["contender"] == "scrapy"
            and r["server"] == ls["server"]
            and r["per_host"] == ls["per_host"]
        )
        print(
            f"{ls['server']:9s} {ls['per_host']:5d} {ls['pages_per_s']:12.1f} {ls['peak_in_flight']:4d} "
            f"{ls['server_connections']:5d} {_cpu_ms(ls):6.2f} {sc['pages_per_s']:10.1f} {sc['peak_in_flight']:4d} "
            f"{sc['server_connections']:5d} {_cpu_ms(sc):6.2f} {ls['vs_scrapy']:5.2f}x  {ls['target']}: "
            f"{'yes' if ls['target_met'] else 'NO'}{_exceeds(sc).replace(' (', '; scrapy ').rstrip(')')}"
        )
    print(
        "(ratio: lastseen pages/s / scrapy pages/s; peak: most requests in flight at once, counted at the server "
        "(a lower bound of the client's); conns: TCP connections the server accepted; CPU ms: CPU time per page of "
        "the contender's processes, lastseen's fetcher and start-up included)"
    )


if __name__ == "__main__":
    helpers = {"_serve": serve_main, "_scrapy": scrapy_main}
    if len(sys.argv) > 1 and sys.argv[1] in helpers:
        sys.exit(helpers[sys.argv[1]](sys.argv[2:]))
    sys.exit("perhost.py is run by bench.py: bench.py --only perhost")
