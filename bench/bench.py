"""lastseen's benchmark: throughput against bare Scrapy and urlwatch, and peak memory.

Run with ``make bench`` (``.venv/bin/python bench/bench.py``); see bench/README.md.

Three scenarios, all against page servers run by this script in their own process:

cpu       N pages of ~10 KB HTML on 127.0.0.1, no latency. Cycle 1 fetches all;
          then 10 % of the pages get a few words changed and cycle 2 is timed.
latency   N pages over 20 loopback hosts 127.0.0.2-21, each response held 200 ms.
memory    peak RSS of the lastseen process and of its fetcher child, cycle 1,
          at N and at 5N targets.
worst, browser  (see bench/README.md)
report    the time to write a report: the change page of a 1 MB text with ten
          edits, and a 10,000-target run's report (bench/report_bench.py).

Contenders: ``lastseen run`` (the whole CLI), a bare Scrapy crawl of the same URLs
(a spider whose callback does nothing) and urlwatch (its own virtualenv under
bench/out/urlwatch-venv, created on first use). Every timed run is checked: a run
that did not fetch every page, or whose verdicts are not "10 % changed, the rest
unchanged", makes the benchmark fail instead of reporting a number.

The same file is also the helper processes, chosen by a hidden first argument:
``_serve`` (the page server), ``_load`` (the server's capacity probe), ``_scrapy``
(the bare Scrapy crawl) and ``_rss`` (lastseen under a peak-memory wrapper).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"

SEED = 20261122
EDIT_SHARE = 0.10
LATENCY_HOSTS = [f"127.0.0.{i}" for i in range(2, 22)]
LATENCY_DELAY = 0.2
CPU_TARGET = 0.5        # lastseen >= 0.5x bare Scrapy, cpu scenario
LATENCY_TARGET = 3.0    # lastseen >= 3x urlwatch, latency scenario
FLAT_TARGET = 1.25      # peak RSS at 5N targets <= 1.25x peak RSS at N targets
CLK_TCK = os.sysconf("SC_CLK_TCK")


# =========================================================================== pages

_COMMON = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which "
    "but have an they you were her she there been one all we their has would when if so no will "
    "more out up into do any your what about can than them only other new some could time these "
    "two may first then its now over such our man also after did many before must through back "
    "years where much your way well down should because each just those people how too little "
    "state good very make world still own see men work long get here between both life being "
    "under never day same another know while last might us great old year off come since against "
    "go came right used take three police ministry contract system camera vendor data public "
    "surveillance procurement tender notice press release case study deployment city council "
    "agency biometric facial recognition platform solution partner security smart analytics"
).split()
_SYLLABLES = "ka lo mi ne ru ta sen dor vel qui bra ton lis mar pen sar cor fel gan hul".split()


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    words = list(dict.fromkeys(_COMMON))
    while len(words) < 3000:
        w = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if w not in words:
            words.append(w)
    cum, total = [], 0.0
    for rank in range(len(words)):
        total += 1.0 / (rank + 1) ** 0.9   # Zipf-like: a few words everywhere, many rare ones
        cum.append(total)
    return words, cum


class PageMaker:
    """Deterministic ~10 KB HTML pages; ``render(i, edited=True)`` has a few words changed."""

    def __init__(self, seed: int = SEED):
        self.seed = seed
        self.words, self.cum = _vocabulary(random.Random(seed))

    def _sentence(self, rng: random.Random, n: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cum, k=n)

    def _content(self, i: int) -> dict:
        rng = random.Random(self.seed * 1_000_003 + i)
        title = " ".join(w.capitalize() for w in self._sentence(rng, 5))
        sections = []
        for _ in range(6):
            heading = " ".join(self._sentence(rng, rng.randint(3, 6))).capitalize()
            paras = [self._sentence(rng, rng.randint(45, 80)) for _ in range(3)]
            items = [" ".join(self._sentence(rng, rng.randint(3, 8))) for _ in range(rng.randint(0, 3))]
            sections.append((heading, paras, items))
        nav = [rng.randrange(100_000) for _ in range(12)]
        inline = [rng.randrange(100_000) for _ in range(8)]
        return {"title": title, "sections": sections, "nav": nav, "inline": inline}

    def edit(self, content: dict, rng: random.Random) -> None:
        """Three words of one paragraph of ``content`` changed, chosen by ``rng``."""
        _heading, paras, _items = content["sections"][rng.randrange(len(content["sections"]))]
        para = paras[rng.randrange(len(paras))]
        for pos in rng.sample(range(len(para)), 3):
            old = para[pos]
            while para[pos] == old:
                para[pos] = rng.choice(self.words)

    def render(self, i: int, edited: bool = False) -> bytes:
        c = self._content(i)
        if edited:
            self.edit(c, random.Random(self.seed * 7_919 + i))
        out = [
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            f"<title>{c['title']}</title>\n",
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            '<link rel="stylesheet" href="/static/site.css">\n',
            "<style>body{font-family:sans-serif;max-width:48em;margin:auto}nav a{margin-right:1em}</style>\n",
            '</head>\n<body>\n<header class="site-header"><a class="logo" href="/">Example Agency</a>\n<nav>',
        ]
        out += [f'<a href="/p/{n:05d}.html">Item {n}</a>' for n in c["nav"]]
        out.append(f'</nav></header>\n<main id="content">\n<article>\n<h1>{c["title"]}</h1>\n')
        out.append(f'<p class="meta">Published <time datetime="2026-01-{i % 28 + 1:02d}">'
                   f"{i % 28 + 1} January 2026</time> by the press office</p>\n")
        links = iter(c["inline"])
        for s, (heading, paras, items) in enumerate(c["sections"]):
            out.append(f'<section id="s{s}">\n<h2>{heading}</h2>\n')
            for p, words in enumerate(paras):
                words = list(words)
                if p == 1:
                    n = next(links, 1)
                    k = len(words) // 2
                    words[k] = f'<a href="/p/{n:05d}.html">{words[k]}</a>'
                if p == 2:
                    words[3] = f"<em>{words[3]}</em>"
                out.append("<p>" + " ".join(words).capitalize() + ".</p>\n")
            if items:
                out.append("<ul>" + "".join(f"<li>{t}</li>" for t in items) + "</ul>\n")
            out.append("</section>\n")
        out.append('</article>\n</main>\n<footer><p>&copy; 2026 Example Agency. '
                   '<a href="/privacy">Privacy</a> <a href="/contact">Contact</a></p></footer>\n')
        out.append('<script>document.documentElement.className="js";</script>\n</body>\n</html>\n')
        return "".join(out).encode("utf-8")


def edited_pages(n: int, seed: int = SEED) -> list[int]:
    """The pages changed between cycle 1 and cycle 2: 10 %, chosen with the seed."""
    return sorted(random.Random(seed + 1).sample(range(n), max(1, round(n * EDIT_SHARE))))


def page_path(i: int) -> str:
    return f"/p/{i:05d}.html"


def page_urls(n: int, hosts: list[str], port: int) -> list[str]:
    # Page i lives on hosts[i % len(hosts)]: the list interleaves hosts, so no
    # contender is helped or hurt by the order of its input.
    return [f"http://{hosts[i % len(hosts)]}:{port}{page_path(i)}" for i in range(n)]


# =========================================================================== page server (_serve)

def _response(body: bytes, status: str = "200 OK") -> bytes:
    head = (f"HTTP/1.1 {status}\r\nServer: bench\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("ascii") + body


class _Page(asyncio.Protocol):
    """HTTP/1.1 with keep-alive; GET and HEAD of pre-rendered responses, nothing else."""

    def __init__(self, server):
        self.server = server
        self.buf = b""
        self.transport = None
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport
        self.server.connections += 1

    def connection_lost(self, exc):
        self.closed = True

    def data_received(self, data):
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 65536:
                    self.transport.close()
                return
            head, self.buf = self.buf[:end], self.buf[end + 4:]
            line_end = head.find(b"\r\n")
            request_line = head if line_end < 0 else head[:line_end]
            try:
                method, path, version = request_line.split(b" ", 2)
            except ValueError:
                self.transport.close()
                return
            lower = head.lower()
            close = b"connection: close" in lower or version == b"HTTP/1.0" and b"keep-alive" not in lower
            resp = self.server.pages.get(path)
            status = 200
            if resp is None:
                resp, status = self.server.not_found, 404
            if method == b"HEAD":
                resp = resp[: resp.find(b"\r\n\r\n") + 4]
            self.server.requests[status] += 1
            if self.server.delay:
                asyncio.get_running_loop().call_later(self.server.delay, self._send, resp, close)
            else:
                self._send(resp, close)

    def _send(self, resp, close):
        if self.closed:
            return
        self.transport.write(resp)
        if close:
            self.transport.close()


class _Server:
    def __init__(self, n: int, delay: float, seed: int):
        maker = PageMaker(seed)
        self.delay = delay
        self.pages = {page_path(i).encode(): _response(maker.render(i)) for i in range(n)}
        self.cycle2 = {page_path(i).encode(): _response(maker.render(i, edited=True)) for i in edited_pages(n, seed)}
        self.not_found = _response(b"<!DOCTYPE html><title>Not found</title><p>Not found</p>", "404 Not Found")
        self.requests: Counter = Counter()
        self.connections = 0
        self.sizes = [len(v) - v.find(b"\r\n\r\n") - 4 for v in self.pages.values()]

    def command(self, line: str) -> dict:
        if line == "cycle2":
            self.pages.update(self.cycle2)
            return {"ok": True, "edited": len(self.cycle2)}
        if line == "stats":
            return {"requests": {str(k): v for k, v in self.requests.items()}, "connections": self.connections,
                    "cpu": _cpu_seconds(os.getpid())}
        if line == "reset":
            self.requests.clear()
            self.connections = 0
            return {"ok": True}
        return {"error": f"unknown command {line!r}"}


def serve_main(argv: list[str], server_class=None) -> int:
    """The page server: ``server_class`` (default ``_Server``) holds its pages and answers its commands."""
    ap = argparse.ArgumentParser(prog="bench.py _serve")
    ap.add_argument("--pages", type=int, required=True)
    ap.add_argument("--hosts", default="127.0.0.1")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    hosts = args.hosts.split(",")
    t0 = time.perf_counter()
    server = (server_class or _Server)(args.pages, args.delay, args.seed)
    render_s = time.perf_counter() - t0

    async def main():
        loop = asyncio.get_running_loop()
        socks = _bind_same_port(hosts)
        for s in socks:
            await loop.create_server(lambda: _Page(server), sock=s, backlog=1024)
        port = socks[0].getsockname()[1]
        done = loop.create_future()

        def on_stdin():
            line = sys.stdin.readline()
            if not line:
                if not done.done():
                    done.set_result(None)
                return
            line = line.strip()
            if line == "quit":
                done.set_result(None)
                return
            sys.stdout.write(json.dumps(server.command(line)) + "\n")
            sys.stdout.flush()

        loop.add_reader(sys.stdin.fileno(), on_stdin)
        sizes = sorted(server.sizes)
        sys.stdout.write(json.dumps({
            "ready": True, "port": port, "render_seconds": round(render_s, 2),
            "body_bytes": {"min": sizes[0], "median": sizes[len(sizes) // 2], "max": sizes[-1]},
        }) + "\n")
        sys.stdout.flush()
        await done

    asyncio.run(main())
    return 0


def _bind_same_port(hosts: list[str]) -> list[socket.socket]:
    """One listening socket per host address, all on one free port."""
    for _ in range(50):
        socks = []
        try:
            port = 0
            for h in hosts:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                socks.append(s)
                s.bind((h, port))
                port = s.getsockname()[1]
            return socks
        except OSError:
            for s in socks:
                s.close()
    raise SystemExit(f"cannot bind one port on all of {hosts}")


def check_bindable(hosts: list[str]) -> None:
    for h in hosts:
        try:
            with socket.socket() as s:
                s.bind((h, 0))
        except OSError as exc:
            raise SystemExit(
                f"cannot bind {h} ({exc}); the latency scenario needs 127.0.0.2-21 "
                "(all of 127/8 is loopback on Linux); run with --only cpu or --only memory"
            ) from exc


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class PageServer:
    """The page server process, driven over its stdin/stdout."""

    def __init__(self, n: int, hosts: list[str], delay: float, seed: int = SEED):
        self._start([sys.executable, __file__, "_serve", "--pages", str(n), "--hosts", ",".join(hosts),
                     "--delay", str(delay), "--seed", str(seed)])

    def _start(self, command: list[str]) -> None:
        """Start the server ``command`` runs; it prints one JSON line (its port...) when it listens."""
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the page server did not start")
        self.info = json.loads(line)
        self.port = self.info["port"]

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=5)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# =========================================================================== capacity probe (_load)

def load_main(argv: list[str]) -> int:
    """Hammer one server with keep-alive GETs for a while; print responses/s."""
    ap = argparse.ArgumentParser(prog="bench.py _load")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pages", type=int, required=True)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args(argv)

    async def worker(stop_at, counts, k):
        reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
        i = k
        while time.perf_counter() < stop_at:
            writer.write(f"GET {page_path(i % args.pages)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            counts[0] += 1
            counts[1] += length
            i += args.connections
        writer.close()

    async def main():
        counts = [0, 0]
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(t0 + args.seconds, counts, k) for k in range(args.connections)))
        return counts, time.perf_counter() - t0

    (n, nbytes), secs = asyncio.run(main())
    print(json.dumps({"responses": n, "seconds": secs, "bytes": nbytes}))
    return 0


def measure_server(n: int) -> dict:
    with PageServer(n, ["127.0.0.1"], 0.0) as server:
        before = server.ask("stats")["cpu"]
        out = subprocess.run([sys.executable, __file__, "_load", "--port", str(server.port), "--pages", str(n)],
                             capture_output=True, text=True, check=True)
        stats = server.ask("stats")
        load = json.loads(out.stdout)
    cpu = stats["cpu"] - before
    per_req = cpu / max(1, load["responses"])
    return {
        "probe_responses_per_s": round(load["responses"] / load["seconds"]),
        "probe_mb_per_s": round(load["bytes"] / load["seconds"] / 1e6, 1),
        "server_cpu_us_per_response": round(per_req * 1e6, 1),
        "server_capacity_per_core": round(1 / per_req) if per_req else None,
        "body_bytes": server.info["body_bytes"],
        "render_seconds": server.info["render_seconds"],
    }


# =========================================================================== bare Scrapy (_scrapy)

def scrapy_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench.py _scrapy")
    ap.add_argument("urls")
    ap.add_argument("--concurrency", type=int, required=True)
    ap.add_argument("--per-host", type=int, required=True)
    args = ap.parse_args(argv)

    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = Path(args.urls).read_text().split()

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, callback=self.parse, dont_filter=True)

        def parse(self, response):
            pass

    process = CrawlerProcess({
        "CONCURRENT_REQUESTS": args.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": args.per_host,
        "DOWNLOAD_DELAY": 0,
        "RETRY_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "ERROR",
    })
    crawler = process.create_crawler(Bare)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({
        "responses": stats.get("response_received_count", 0),
        "status_200": stats.get("downloader/response_status_count/200", 0),
        "errors": stats.get("downloader/exception_count", 0),
        "bytes": stats.get("downloader/response_bytes", 0),
    }))
    return 0


# =========================================================================== peak memory (_rss)

def _field(path: str, names: tuple[str, ...]) -> int:
    """The sum of the ``names`` lines of a /proc status-like file (kB)."""
    total = 0
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in names:
                total += int(value.split()[0])
    return total


def rss_main(argv: list[str]) -> int:
    """Run the lastseen CLI in this process; on exit write its peak RSS and its children's.

    The lastseen process's own peak is its VmHWM. Its children are the fetcher and, once the captures
    are committed, the forked child that writes the archive's front and history pages (and the helper
    it forks for a share of them); RUSAGE_CHILDREN would give the larger of the two, and the forked
    child's RSS counts the monitor's pages it shares copy-on-write. So a thread samples them every 20 ms:
    the fetcher's peak RSS (VmHWM, a high-water mark), and the page writer's private memory plus its
    helper's (Private_Clean + Private_Dirty of smaps_rollup: what they add to the monitor's), at its
    largest.
    """
    import atexit
    import threading

    out = os.environ["BENCH_RSS_OUT"]
    me = os.getpid()
    peaks = {"fetcher_kb": 0, "pages_kb": 0}
    done = threading.Event()

    def children(parent: int) -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == parent:
                            found.append(int(entry))
                except (OSError, ValueError, IndexError):
                    pass
        return found

    field = _field

    def sample() -> None:
        while not done.wait(0.02):
            for pid in children(me):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        fetcher = b"crawler.fetch" in f.read()
                    if fetcher:
                        peaks["fetcher_kb"] = max(peaks["fetcher_kb"], field(f"/proc/{pid}/status", ("VmHWM",)))
                    else:  # the page writer, and the helper it forks to share the history pages
                        private = sum(field(f"/proc/{p}/smaps_rollup", ("Private_Clean", "Private_Dirty"))
                                      for p in (pid, *children(pid)))
                        peaks["pages_kb"] = max(peaks["pages_kb"], private)
                except OSError:
                    pass

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()

    def report():
        done.set()
        watcher.join()
        # VmHWM, not ru_maxrss: a process started by vfork + exec (subprocess) starts with its parent's
        # high-water mark as its ru_maxrss (scale_bench's run 2 inherited the 100,000 events of run 1's --json it
        # had parsed: the monitor's peak read 257 MB where its own was 222, #17)
        Path(out).write_text(json.dumps({"parent_kb": _field("/proc/self/status", ("VmHWM",)), **peaks}))

    atexit.register(report)
    sys.argv = ["lastseen", *argv]
    sys.path.insert(0, str(REPO))
    from crawler.cli import main

    main()
    return 0


# =========================================================================== contenders

class BenchError(Exception):
    pass


def _run(cmd: list[str], *, cwd: Path, env: dict | None = None, timeout: float = 3600) -> tuple[float, subprocess.CompletedProcess]:
    os.sync()  # earlier runs' dirty pages are not this run's cost
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - t0, proc


def _tail(text: str, n: int = 1500) -> str:
    return text[-n:] if text else ""


#: lastseen's shipped per_host_concurrency: every throughput scenario is also run at it.
SHIPPED_PER_HOST = 1


def write_watchlist(path: Path, urls: list[str], per_host: int) -> None:
    lines = [
        "settings:",
        "  concurrency: 64",
        f"  per_host_concurrency: {per_host}",
        "  per_host_delay: 0s",
        "  retries: 0",
        "  watch_robots: false",
        "targets:",
    ]
    for i, url in enumerate(urls):
        lines.append(f"  - name: p{i:05d}")
        lines.append(f'    url: "{url}"')
    path.write_text("\n".join(lines) + "\n")


class Lastseen:
    name = "lastseen"

    def __init__(self, work: Path, urls: list[str], per_host: int):
        self.work = work
        self.urls = urls
        self.per_host = per_host
        work.mkdir(parents=True, exist_ok=True)
        self.watchlist = work / "watchlist.yaml"
        write_watchlist(self.watchlist, urls, per_host)

    def settings(self) -> str:
        return f"concurrency 64, per_host_concurrency {self.per_host}, per_host_delay 0s, retries 0, watch_robots off"

    def args(self) -> list[str]:
        return ["run", "--watchlist", str(self.watchlist), "--archive", str(self.work / "archive"),
                "--reports", str(self.work / "reports"), "--force", "--json"]

    def run(self, expect_changed: set[str] | None) -> dict:
        secs, proc = _run([sys.executable, "-m", "crawler", *self.args()], cwd=self.work)
        return {"seconds": secs, **self.check(proc, expect_changed)}

    def check(self, proc, expect_changed: set[str] | None) -> dict:
        if proc.returncode != 0:
            raise BenchError(f"lastseen exited {proc.returncode}: {_tail(proc.stderr)}")
        result = json.loads(proc.stdout)
        events = result["events"]
        verdicts = Counter(e["verdict"] for e in events)
        statuses = Counter(e["status"] for e in events)
        problems = []
        if len(events) != len(self.urls):
            problems.append(f"{len(events)} events for {len(self.urls)} targets")
        if statuses.get(200, 0) != len(self.urls):
            problems.append(f"statuses {dict(statuses)}")
        if expect_changed is None:
            if verdicts.get("new", 0) != len(self.urls):
                problems.append(f"cycle 1 verdicts {dict(verdicts)}")
        else:
            changed = {e["target"] for e in events if e["verdict"] == "changed"}
            if changed != expect_changed or verdicts.get("unchanged", 0) != len(self.urls) - len(expect_changed):
                problems.append(f"cycle 2 verdicts {dict(verdicts)}; changed targets match the edits: "
                                f"{changed == expect_changed}")
        if problems:
            raise BenchError("lastseen: " + "; ".join(problems))
        return {"fetched": statuses.get(200, 0), "verdicts": dict(verdicts)}

    def run_rss(self) -> dict:
        rss_file = self.work / "rss.json"
        env = dict(os.environ, BENCH_RSS_OUT=str(rss_file))
        secs, proc = _run([sys.executable, __file__, "_rss", *self.args()], cwd=self.work, env=env)
        checked = self.check(proc, None)
        rss = json.loads(rss_file.read_text())
        return {"seconds": secs, **checked, **rss}


class BareScrapy:
    name = "scrapy"

    def __init__(self, work: Path, urls: list[str], per_host: int):
        self.work = work
        self.urls = urls
        self.per_host = per_host
        work.mkdir(parents=True, exist_ok=True)
        self.url_file = work / "urls.txt"
        self.url_file.write_text("\n".join(urls) + "\n")

    def settings(self) -> str:
        return f"CONCURRENT_REQUESTS 64, CONCURRENT_REQUESTS_PER_DOMAIN {self.per_host}, no delay, telnet off"

    def run(self, expect_changed) -> dict:
        secs, proc = _run([sys.executable, __file__, "_scrapy", str(self.url_file), "--concurrency", "64",
                           "--per-host", str(self.per_host)], cwd=self.work)
        if proc.returncode != 0:
            raise BenchError(f"bare Scrapy exited {proc.returncode}: {_tail(proc.stderr)}")
        stats = json.loads(proc.stdout.strip().splitlines()[-1])
        if stats["status_200"] != len(self.urls) or stats["errors"]:
            raise BenchError(f"bare Scrapy fetched {stats} of {len(self.urls)} pages")
        return {"seconds": secs, "fetched": stats["status_200"]}


def urlwatch_binary(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    venv = OUT / "urlwatch-venv"
    binary = venv / "bin" / "urlwatch"
    if binary.exists():
        return binary
    print(f"creating {venv} and installing urlwatch into it ...", flush=True)
    for cmd in ([sys.executable, "-m", "venv", "--clear", str(venv)],
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "urlwatch"]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"cannot install urlwatch ({' '.join(cmd)}):\n{_tail(proc.stdout + proc.stderr)}\n"
                             "pass --urlwatch PATH to use an urlwatch you already have")
    return binary


class Urlwatch:
    name = "urlwatch"

    def settings(self) -> str:
        return "its defaults (one job after another per its worker pool), stdout report"

    def __init__(self, work: Path, urls: list[str], binary: Path):
        self.work = work
        self.urls = urls
        self.binary = binary
        work.mkdir(parents=True, exist_ok=True)
        self.urls_file = work / "urls.yaml"
        self.urls_file.write_text("".join(
            f"---\nname: p{i:05d}\nurl: \"{url}\"\n" for i, url in enumerate(urls)
        ))
        os.chmod(self.urls_file, 0o600)  # urlwatch refuses group/world-writable job files
        self.config = work / "urlwatch.yaml"
        self.config.write_text(
            "display:\n  new: true\n  error: true\n  unchanged: true\n  empty-diff: true\n"
            "report:\n  text:\n    details: true\n    footer: false\n    minimal: false\n"
            "  stdout:\n    enabled: true\n    color: false\n"
        )
        self.cache = work / "cache.db"
        self.env = dict(os.environ, HOME=str(work), XDG_CONFIG_HOME=str(work / "xdg-config"),
                        XDG_CACHE_HOME=str(work / "xdg-cache"))

    def run(self, expect_changed: set[str] | None) -> dict:
        secs, proc = _run([str(self.binary), "--urls", str(self.urls_file), "--config", str(self.config),
                           "--cache", str(self.cache), "--hooks", str(self.work / "hooks.py")],
                          cwd=self.work, env=self.env)
        if proc.returncode != 0:
            raise BenchError(f"urlwatch exited {proc.returncode}: {_tail(proc.stderr)}")
        # Summary lines: "0001. CHANGED: p00042" (one per job, display.unchanged on).
        verdicts: Counter = Counter()
        changed = set()
        for line in proc.stdout.splitlines():
            head, _, rest = line.partition(". ")
            if head.isdigit() and ":" in rest:
                kind, _, name = rest.partition(": ")
                verdicts[kind] += 1
                if kind == "CHANGED":
                    changed.add(name.strip())
        problems = []
        if sum(verdicts.values()) != len(self.urls) or verdicts.get("ERROR"):
            problems.append(f"report lines {dict(verdicts)} for {len(self.urls)} jobs")
        if expect_changed is None:
            if verdicts.get("NEW", 0) != len(self.urls):
                problems.append(f"cycle 1 verdicts {dict(verdicts)}")
        elif changed != expect_changed:
            problems.append(f"cycle 2 verdicts {dict(verdicts)}; changed jobs match the edits: "
                            f"{changed == expect_changed}")
        if problems:
            raise BenchError("urlwatch: " + "; ".join(problems) + "\n" + _tail(proc.stdout, 600))
        return {"seconds": secs, "fetched": len(self.urls) - verdicts.get("ERROR", 0),
                "verdicts": {k.lower(): v for k, v in verdicts.items()}}


# =========================================================================== scenarios

def throughput(scenario: str, n: int, hosts: list[str], delay: float, per_host: int,
               uw_binary: Path, work: Path) -> list[dict]:
    edited = edited_pages(n)
    expect = {f"p{i:05d}" for i in edited}
    print(f"\n== {scenario}: {n} pages on {len(hosts)} host(s), {delay * 1000:.0f} ms per response; "
          f"{len(edited)} edited for cycle 2", flush=True)
    with PageServer(n, hosts, delay) as server:
        print(f"   page server ready on port {server.port} ({server.info['render_seconds']} s to render; "
              f"bodies {server.info['body_bytes']})", flush=True)
        urls = page_urls(n, hosts, server.port)
        contenders = [
            Lastseen(work / "lastseen", urls, per_host),
            BareScrapy(work / "scrapy", urls, per_host),
            Urlwatch(work / "urlwatch", urls, uw_binary),
        ]
        if per_host != SHIPPED_PER_HOST:  # the same again at the shipped default: one request per host
            for c in (Lastseen(work / "lastseen-default", urls, SHIPPED_PER_HOST),
                      BareScrapy(work / "scrapy-default", urls, SHIPPED_PER_HOST)):
                c.name = f"{c.name}@{SHIPPED_PER_HOST}"
                contenders.append(c)
        for c in contenders:
            print(f"   settings  {c.name:11s} {c.settings()}", flush=True)
        cycle1 = {}
        for c in contenders:
            server.ask("reset")
            r = c.run(None)
            _check_server(server, n, c.name, 1)
            cycle1[c.name] = r
            print(f"   cycle 1  {c.name:9s} {r['seconds']:7.2f} s", flush=True)
        server.ask("cycle2")
        rows = []
        for c in contenders:
            server.ask("reset")
            cpu0 = server.ask("stats")["cpu"]
            r = c.run(expect)
            stats = _check_server(server, n, c.name, 2)
            r["server_cpu_seconds"] = round(stats["cpu"] - cpu0, 2)
            r["server_connections"] = stats["connections"]
            r["cycle1_seconds"] = round(cycle1[c.name]["seconds"], 3)
            print(f"   cycle 2  {c.name:9s} {r['seconds']:7.2f} s  {n / r['seconds']:7.1f} pages/s  "
                  f"(server CPU {r['server_cpu_seconds']} s, {stats['connections']} connections)", flush=True)
            rows.append({"scenario": scenario, "contender": c.name, "pages": n, **r,
                         "pages_per_s": n / r["seconds"]})
    by = {r["contender"]: r for r in rows}
    for r in rows:
        suffix = r["contender"][r["contender"].find("@"):] if "@" in r["contender"] else ""
        r["vs_scrapy"] = r["pages_per_s"] / by["scrapy" + suffix]["pages_per_s"]  # scrapy at the same settings
        r["vs_urlwatch"] = r["pages_per_s"] / by["urlwatch"]["pages_per_s"]
    ls = by["lastseen"]
    if scenario == "cpu":
        ls["target"] = f">= {CPU_TARGET}x scrapy"
        ls["target_met"] = ls["vs_scrapy"] >= CPU_TARGET
    else:
        ls["target"] = f">= {LATENCY_TARGET}x urlwatch"
        ls["target_met"] = ls["vs_urlwatch"] >= LATENCY_TARGET
    return rows


def _check_server(server: PageServer, n: int, who: str, cycle: int) -> dict:
    stats = server.ask("stats")
    served = stats["requests"].get("200", 0)
    if served != n or set(stats["requests"]) - {"200"}:
        raise BenchError(f"{who}, cycle {cycle}: the server answered {stats['requests']} for {n} pages")
    return stats


def memory(n: int, work: Path) -> list[dict]:
    sizes = [n, 5 * n]
    print(f"\n== memory: peak RSS of lastseen (cycle 1, no latency) at {sizes[0]} and {sizes[1]} targets",
          flush=True)
    rows = []
    with PageServer(sizes[-1], ["127.0.0.1"], 0.0) as server:
        for size in sizes:
            urls = page_urls(size, ["127.0.0.1"], server.port)
            server.ask("reset")
            r = Lastseen(work / f"lastseen-{size}", urls, 64).run_rss()
            _check_server(server, size, "lastseen (memory)", 1)
            total = r["parent_kb"] + r["fetcher_kb"] + r.get("pages_kb", 0)
            print(f"   {size:6d} targets  parent {r['parent_kb'] / 1024:6.1f} MB  fetcher "
                  f"{r['fetcher_kb'] / 1024:6.1f} MB  page writer +{r.get('pages_kb', 0) / 1024:.1f} MB  "
                  f"({r['seconds']:.1f} s, {size / r['seconds']:.0f} pages/s)", flush=True)
            rows.append({"scenario": "memory", "contender": "lastseen", "pages": size, "seconds": r["seconds"],
                         "pages_per_s": size / r["seconds"], "parent_mb": r["parent_kb"] / 1024,
                         "fetcher_mb": r["fetcher_kb"] / 1024, "total_mb": total / 1024})
            shutil.rmtree(work / f"lastseen-{size}", ignore_errors=True)
    growth = rows[-1]["total_mb"] / rows[0]["total_mb"]
    rows[-1]["growth"] = growth
    rows[-1]["target"] = f"peak at {sizes[1]} <= {FLAT_TARGET}x peak at {sizes[0]}"
    rows[-1]["target_met"] = growth <= FLAT_TARGET
    return rows


WORST_TARGET_MB = 400   # peak RSS, monitor + fetcher, on the worst pages (max_body: 100MB)


def _worst_pages(edit: bool) -> dict[str, bytes]:
    """An 8 MB page of a million elements, and a page of 15 million words (cycle 2: a few words edited)."""
    rng = random.Random(SEED)
    words, _ = _vocabulary(rng)
    first = "grant" if edit else "award"
    many = ("<!doctype html><html><head><title>A million elements</title></head><body><div>"
            f"<p>Contract {first} notice.</p>" + "<i>x</i>" * 1_000_000 + "</div></body></html>")
    short = [w for w in words if len(w) <= 2]     # "a", "of", "to"...: many words in few bytes
    block = " ".join(rng.choices(short, k=100_000))
    blocks = [f"<p>Part {i}. " + (f"Contract {first} of {i}. " if i == 0 else "") + block + "</p>\n"
              for i in range(150)]
    long = "<!doctype html><html><head><title>Fifteen million words</title></head><body>" + "".join(blocks) + \
           "</body></html>"
    return {"/elements": many.encode(), "/words": long.encode()}


def worst(work: Path) -> list[dict]:
    """Peak memory of one run on the worst pages: shipped defaults but max_body: 100MB."""
    import http.server
    import threading

    pages = {"current": _worst_pages(False)}
    sizes = {k: len(v) for k, v in pages["current"].items()}
    print(f"\n== worst: peak RSS on two hostile pages ({', '.join(f'{k} {v / 2**20:.1f} MB' for k, v in sizes.items())});"
          f" settings: shipped defaults (per_host_concurrency 1, per_host_delay 1s, max_text 2MB, "
          f"max_report_page 5MB) but max_body 100MB, watch_robots off; cycle 1 then an edited cycle 2", flush=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            body = pages["current"].get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rows = []
    try:
        work.mkdir(parents=True, exist_ok=True)
        wl = work / "watchlist.yaml"
        wl.write_text("settings:\n  max_body: 100MB\n  watch_robots: false\ntargets:\n" + "".join(
            f"  - name: {p.strip('/')}\n    url: http://127.0.0.1:{server.server_address[1]}{p}\n" for p in sizes))
        for cycle, expect in ((1, "new"), (2, "changed")):
            if cycle == 2:
                pages["current"] = _worst_pages(True)
            rss_file = work / f"rss-{cycle}.json"
            env = dict(os.environ, BENCH_RSS_OUT=str(rss_file))
            args = ["run", "--watchlist", str(wl), "--archive", str(work / "archive"), "--reports",
                    str(work / "reports"), "--force", "--json"]
            secs, proc = _run([sys.executable, __file__, "_rss", *args], cwd=work, env=env)
            if proc.returncode != 0:
                raise BenchError(f"lastseen (worst) exited {proc.returncode}: {_tail(proc.stderr)}")
            events = json.loads(proc.stdout)["events"]
            got = {e["target"]: (e["verdict"], e["flags"]) for e in events}
            if any(v != expect or "text-truncated" not in flags for v, flags in got.values()):
                raise BenchError(f"lastseen (worst) cycle {cycle}: {got}")
            rss = json.loads(rss_file.read_text())
            total = (rss["parent_kb"] + rss["fetcher_kb"] + rss.get("pages_kb", 0)) / 1024
            pages_dir = work / "reports" / json.loads(proc.stdout)["run"]["id"]
            biggest = max(p.stat().st_size for p in pages_dir.glob("*.html"))
            print(f"   cycle {cycle}  parent {rss['parent_kb'] / 1024:6.1f} MB  fetcher {rss['fetcher_kb'] / 1024:6.1f} MB"
                  f"  page writer +{rss.get('pages_kb', 0) / 1024:.1f} MB  total {total:6.1f} MB  ({secs:.1f} s; largest report page {biggest / 2**20:.2f} MB)", flush=True)
            rows.append({"scenario": "worst", "contender": "lastseen", "pages": len(sizes), "cycle": cycle,
                         "seconds": secs, "parent_mb": rss["parent_kb"] / 1024, "fetcher_mb": rss["fetcher_kb"] / 1024,
                         "total_mb": total, "largest_report_page_mb": biggest / 2**20,
                         "target": f"peak <= {WORST_TARGET_MB} MB", "target_met": total <= WORST_TARGET_MB})
    finally:
        server.shutdown()
        server.server_close()
    return rows


BROWSER_HOSTS = [f"127.0.0.{i}" for i in range(2, 12)]
BROWSER_PAGES = 50
BROWSER_TARGET = 1.0   # pages/s with the default browser_pages


def _tree_rss_kb(root_pid: int) -> int:
    """Summed memory of ``root_pid`` and every descendant (the fetcher, Playwright's driver, Chromium).

    Proportional set size (``Pss`` of ``/proc/PID/smaps_rollup``): pages shared between Chromium's
    processes are counted once in all, not once per process as VmRSS would (VmRSS where Pss is missing).
    """
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        pid, ppid = int(entry), int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
        try:
            with open(f"/proc/{entry}/smaps_rollup") as fh:
                pss = next((line.split()[1] for line in fh if line.startswith("Pss:")), None)
            if pss is not None:
                rss[pid] = int(pss)
        except OSError:
            pass
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total


def browser(work: Path) -> list[dict]:
    """50 JavaScript pages over 10 hosts, 4 sub-resources each, fetched in Chromium: 1, 2 and 4 pages in flight."""
    import http.server
    import threading

    pages = {}
    for i in range(BROWSER_PAGES):
        pages[f"/case/{i}"] = (f"<!doctype html><html><head><title>Case {i}</title><link rel=stylesheet "
                               f"href=/style.css></head><body><main id=app>Loading</main><img src=/logo.png "
                               f"width=40 height=40><script src=/app.js></script></body></html>").encode()
        pages[f"/case/{i}.json"] = json.dumps({"text": f"Case study {i}: the city bought {i * 10} cameras."}).encode()
    pages["/style.css"] = b"main { color: #222; font: 16px sans-serif; }"
    pages["/app.js"] = (b"fetch(location.pathname + '.json').then(r => r.json()).then(d => "
                        b"{ document.getElementById('app').textContent = d.text; });")
    pages["/logo.png"] = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cf"
        "c0f01f0005000201a0e6f0730000000049454e44ae426082")
    types = {".css": "text/css", ".js": "application/javascript", ".json": "application/json", ".png": "image/png"}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            body = pages.get(self.path)
            if body is None:
                self.send_error(404)
                return
            ext = os.path.splitext(self.path)[1]
            self.send_response(200)
            self.send_header("Content-Type", types.get(ext, "text/html; charset=utf-8"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    servers = []
    for host in BROWSER_HOSTS:
        server = http.server.ThreadingHTTPServer((host, 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    urls = [f"http://{BROWSER_HOSTS[i % len(BROWSER_HOSTS)]}:{servers[i % len(servers)].server_address[1]}/case/{i}"
            for i in range(BROWSER_PAGES)]
    default = len(os.sched_getaffinity(0))
    print(f"\n== browser: {BROWSER_PAGES} JavaScript pages over {len(BROWSER_HOSTS)} hosts, 4 sub-resources each; "
          f"settings: fetch: browser, per_host_delay: 0s, watch_robots off, per_host_concurrency 1 (default), browser_pages 1, 2, 4 "
          f"(default here {default}); cycle 1 then an unchanged cycle 2", flush=True)
    rows = []
    try:
        for in_flight in (1, 2, 4):
            run_dir = work / f"browser-{in_flight}"
            run_dir.mkdir(parents=True, exist_ok=True)
            wl = run_dir / "watchlist.yaml"
            wl.write_text(f"settings:\n  per_host_delay: 0s\n  browser_pages: {in_flight}\n  fetch: browser\n  watch_robots: false\n"
                          "targets:\n" + "".join(f"  - name: c{i:02d}\n    url: {u}\n" for i, u in enumerate(urls)))
            args = ["run", "--watchlist", str(wl), "--archive", str(run_dir / "archive"), "--reports",
                    str(run_dir / "reports"), "--force", "--json"]
            cycles = []
            for cycle, expect in ((1, "new"), (2, "unchanged")):
                before = sum(p.stat().st_size for p in (run_dir / "archive" / "warcs").glob("*.warc.gz")) \
                    if (run_dir / "archive" / "warcs").exists() else 0
                peak = [0]
                proc = subprocess.Popen([sys.executable, "-m", "crawler", *args], cwd=run_dir,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                t0 = time.perf_counter()
                while proc.poll() is None:
                    peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
                    time.sleep(0.1)
                secs = time.perf_counter() - t0
                out, err = proc.communicate()
                if proc.returncode != 0:
                    raise BenchError(f"lastseen (browser) exited {proc.returncode}: {_tail(err)}")
                events = json.loads(out)["events"]
                bad = [e for e in events if e["verdict"] != expect or not e.get("screenshot")
                       or (e.get("subresources") or {}).get("archived") != 4]
                if len(events) != BROWSER_PAGES or bad:
                    raise BenchError(f"lastseen (browser) cycle {cycle}: {len(bad)} of {len(events)} pages not "
                                     f"{expect} with a screenshot and 4 sub-resources: {bad[:1]}")
                added = sum(p.stat().st_size for p in (run_dir / "archive" / "warcs").glob("*.warc.gz")) - before
                cycles.append((secs, peak[0], added))
                print(f"   {in_flight} in flight, cycle {cycle}: {secs:6.1f} s  {BROWSER_PAGES / secs:5.2f} pages/s  "
                      f"peak PSS {peak[0] / 1024:6.1f} MB ({peak[0] / 1024 / in_flight:5.1f} MB per page in flight)  "
                      f"WARC +{added / 1024:7.1f} KB", flush=True)
            rows.append({"scenario": "browser", "contender": "lastseen", "pages": BROWSER_PAGES,
                         "in_flight": in_flight, "cycle1_seconds": cycles[0][0], "seconds": cycles[1][0],
                         "pages_per_s": BROWSER_PAGES / cycles[0][0], "cycle2_pages_per_s": BROWSER_PAGES / cycles[1][0],
                         "peak_mb": max(c[1] for c in cycles) / 1024,
                         "peak_mb_per_page": max(c[1] for c in cycles) / 1024 / in_flight,
                         "warc_kb_cycle1": cycles[0][2] / 1024, "warc_kb_cycle2": cycles[1][2] / 1024,
                         "target": f">= {BROWSER_TARGET} pages/s" if in_flight == default else "",
                         **({"target_met": BROWSER_PAGES / cycles[0][0] >= BROWSER_TARGET} if in_flight == default else {})})
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    return rows


# =========================================================================== output

def _fmt(x, spec):
    return "-" if x is None else format(x, spec)


def print_table(rows: list[dict], server: dict | None) -> None:
    print()
    if server:
        print(f"page server: {server['server_cpu_us_per_response']} us CPU per response, so about "
              f"{server['server_capacity_per_core']} responses/s per core; the probe client reached "
              f"{server['probe_responses_per_s']} responses/s ({server['probe_mb_per_s']} MB/s)")
    head = f"{'scenario':9s} {'contender':11s} {'pages':>6s} {'seconds':>8s} {'pages/s':>8s} {'vs scrapy':>9s} " \
           f"{'vs urlwatch':>11s}  target"
    tput = [r for r in rows if r["scenario"] not in ("memory", "worst", "browser", "report", "history", "perhost", "documents",
                                                     "verify", "scale", "scale-run", "year")]
    if tput:
        print(head)
        print("-" * len(head) + "-" * 24)
        for r in tput:
            target = f"{r['target']}: {'yes' if r['target_met'] else 'NO'}" if "target" in r else ""
            print(f"{r['scenario']:9s} {r['contender']:11s} {r['pages']:6d} {r['seconds']:8.2f} "
                  f"{r['pages_per_s']:8.1f} {r['vs_scrapy']:8.2f}x {r['vs_urlwatch']:10.2f}x  {target}")
    if any(r["scenario"] == "perhost" for r in rows):
        import perhost

        perhost.print_table(rows)
    if any("@" in r["contender"] for r in tput):
        print(f"(contender@{SHIPPED_PER_HOST}: the same at per_host_concurrency {SHIPPED_PER_HOST}, lastseen's shipped "
              f"default; its 'vs scrapy' is against scrapy at the same per-domain limit)")
    mem = [r for r in rows if r["scenario"] == "memory"]
    if mem:
        print()
        h2 = f"{'memory':9s} {'targets':>7s} {'parent MB':>9s} {'fetcher MB':>10s} {'total MB':>8s} {'seconds':>8s}  target"
        print(h2)
        print("-" * len(h2) + "-" * 30)
        for r in mem:
            target = (f"{r['target']} ({r['growth']:.2f}x): {'yes' if r['target_met'] else 'NO'}"
                      if "target" in r else "")
            print(f"{'lastseen':9s} {r['pages']:7d} {r['parent_mb']:9.1f} {r['fetcher_mb']:10.1f} "
                  f"{r['total_mb']:8.1f} {r['seconds']:8.1f}  {target}")
    browser_rows = [r for r in rows if r["scenario"] == "browser"]
    if browser_rows:
        print()
        h4 = (f"{'browser':9s} {'in flight':>9s} {'pages/s':>8s} {'cycle 2':>8s} {'peak PSS':>8s} {'MB/page':>8s} "
              f"{'WARC KB 1':>9s} {'WARC KB 2':>9s}  target")
        print(h4)
        print("-" * len(h4) + "-" * 20)
        for r in browser_rows:
            target = f"{r['target']}: {'yes' if r['target_met'] else 'NO'}" if r.get("target") else ""
            print(f"{'lastseen':9s} {r['in_flight']:9d} {r['pages_per_s']:8.2f} {r['cycle2_pages_per_s']:8.2f} "
                  f"{r['peak_mb']:8.1f} {r['peak_mb_per_page']:8.1f} {r['warc_kb_cycle1']:9.1f} "
                  f"{r['warc_kb_cycle2']:9.1f}  {target}")
    if any(r["scenario"] == "documents" for r in rows):
        import documents_bench

        documents_bench.print_table(rows)
    if any(r["scenario"] == "verify" for r in rows):
        import verify_bench

        verify_bench.print_table(rows)
    if any(r["scenario"] in ("scale", "scale-run") for r in rows):
        import scale_bench

        scale_bench.print_table(rows)
        scale_bench.print_real_table(rows)
    for r in (r for r in rows if r["scenario"] == "year"):
        import year_bench

        year_bench.print_row(r)
    report_rows = [r for r in rows if r["scenario"] == "report"]
    if report_rows:
        print()
        h5 = f"{'report':28s} {'seconds':>8s} {'CPU s':>7s} {'pages':>6s} {'peak MB':>8s} {'vs target':>9s}  target"
        print(h5)
        print("-" * len(h5) + "-" * 16)
        for r in report_rows:
            limit = float(r["target"].split()[1])
            print(f"{r['case']:28s} {r['seconds']:8.2f} {r['cpu_seconds']:7.2f} {r['files']:6d} "
                  f"{r['rss_peak_mb']:8.0f} {r['seconds'] / limit:8.2f}x  {r['target']}: "
                  f"{'yes' if r['target_met'] else 'NO'}")
    history_rows = [r for r in rows if r["scenario"] == "history"]
    if history_rows:
        print()
        h6 = (f"{'history':28s} {'disk':44s} {'seconds':>8s} {'user s':>7s} {'sys s':>7s} {'helper s':>8s} "
              f"{'front s':>8s} {'floor s':>8s}  target")
        print(h6)
        print("-" * len(h6) + "-" * 16)
        for r in history_rows:
            bare = f"{r['floor']['seconds']:8.2f}" if r.get("floor") else f"{'—':>8s}"
            print(f"{r['case']:28s} {r['disk'][:44]:44s} {r['seconds']:8.2f} {r['user_seconds']:7.2f} "
                  f"{r['system_seconds']:7.2f} {r['helper_user_seconds'] + r['helper_system_seconds']:8.2f} "
                  f"{r['front_seconds']:8.2f} {bare}  {r['target']}: {'yes' if r['target_met'] else 'NO'}")
    worst_rows = [r for r in rows if r["scenario"] == "worst"]
    if worst_rows:
        print()
        h3 = f"{'worst':9s} {'cycle':>7s} {'parent MB':>9s} {'fetcher MB':>10s} {'total MB':>8s} {'seconds':>8s}  target"
        print(h3)
        print("-" * len(h3) + "-" * 30)
        for r in worst_rows:
            print(f"{'lastseen':9s} {r['cycle']:7d} {r['parent_mb']:9.1f} {r['fetcher_mb']:10.1f} "
                  f"{r['total_mb']:8.1f} {r['seconds']:8.1f}  {r['target']}: {'yes' if r['target_met'] else 'NO'}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="lastseen benchmark (see bench/README.md)")
    ap.add_argument("--pages", type=int, default=2000, help="pages per scenario (default 2000)")
    ap.add_argument("--quick", action="store_true", help="200 pages: a smoke run")
    ap.add_argument("--only", choices=["cpu", "latency", "memory", "worst", "browser", "report", "history", "perhost", "documents", "verify",
                             "scale", "year"],
                    action="append",
                    help="run only this scenario (repeatable)")
    ap.add_argument("--urlwatch", metavar="PATH", help="an urlwatch executable to use instead of "
                    "bench/out/urlwatch-venv (created on first use)")
    ap.add_argument("--keep", action="store_true", help="keep the work directories under bench/out/work")
    args = ap.parse_args(argv)
    n = 200 if args.quick else args.pages
    only = args.only or ["cpu", "latency", "memory", "worst", "browser", "report", "history", "perhost", "documents", "verify",
                         "scale", "year"]
    if "latency" in only:
        check_bindable(LATENCY_HOSTS)
    if "browser" in only:
        check_bindable(BROWSER_HOSTS)
    OUT.mkdir(parents=True, exist_ok=True)
    work = OUT / "work"
    shutil.rmtree(work, ignore_errors=True)
    uw = urlwatch_binary(args.urlwatch) if {"cpu", "latency"} & set(only) else None
    print(f"lastseen benchmark: {n} pages, scenarios {', '.join(only)}; "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}", flush=True)

    server = measure_server(n) if {"cpu", "latency"} & set(only) else None
    rows: list[dict] = []
    try:
        if "cpu" in only:
            rows += throughput("cpu", n, ["127.0.0.1"], 0.0, 64, uw, work / "cpu")
        if "latency" in only:
            rows += throughput("latency", n, LATENCY_HOSTS, LATENCY_DELAY, 4, uw, work / "latency")
        if "memory" in only:
            rows += memory(n, work / "memory")
        if "worst" in only:
            rows += worst(work / "worst")
        if "browser" in only:
            rows += browser(work / "browser")
        if "report" in only:
            from report_bench import report

            rows += report(work / "report")
        if "history" in only:  # bench/history_bench.py (#14): front page and history pages, 100,000 targets
            from history_bench import history

            rows += history(work / "history")
        if "perhost" in only:  # bench/perhost.py (#17): one host, per-host limits 1, 4 and 64
            sys.modules.setdefault("bench", sys.modules[__name__])  # its `import bench` is this module
            import perhost

            rows += perhost.scenario(n, work / "perhost")
        if "documents" in only:  # bench/documents_bench.py (#13): 50 PDFs of 10 pages, against pypdf alone
            import documents_bench

            rows += documents_bench.scenario(work / "documents")
        if "verify" in only:  # bench/verify_bench.py (#15): lastseen verify of an archive of 10,000 captures
            sys.modules.setdefault("bench", sys.modules[__name__])  # its `import bench` is this module
            import verify_bench

            rows += verify_bench.scenario(work / "verify")
        if "scale" in only:  # bench/scale_bench.py (#17): check, status and a run with nothing due, 100,000 targets
            sys.modules.setdefault("bench", sys.modules[__name__])  # its `import bench` is this module
            import scale_bench

            rows += scale_bench.scenario(work / "scale")
            rows += scale_bench.real_runs(work / "scale")  # two real runs of 10,000 and 100,000 targets
        if "year" in only:  # bench/year_bench.py (#17): a year of daily runs, bytes per unchanged recapture
            sys.modules.setdefault("bench", sys.modules[__name__])  # its `import bench` is this module
            import year_bench

            rows += year_bench.scenario(work / "year")
    except BenchError as exc:
        print(f"\nBENCHMARK INVALID: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print_table(rows, server)
    results = {
        "pages": n, "seed": SEED, "edited_share": EDIT_SHARE, "cpus": os.cpu_count(),
        "python": platform.python_version(), "platform": platform.platform(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "page_server": server, "rows": rows,
        "targets_met": all(r["target_met"] for r in rows if "target_met" in r),
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults: {(OUT / 'results.json').relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    helpers = {"_serve": serve_main, "_load": load_main, "_scrapy": scrapy_main, "_rss": rss_main}
    if len(sys.argv) > 1 and sys.argv[1] in helpers:
        sys.exit(helpers[sys.argv[1]](sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
