"""A latency-bound run's tail (#17), for whichever tree PYTHONPATH names: 1,000 pages answering in 100 ms,
16 in flight, the CLI in this process (no start-up); cycle 1, then cycle 2 with every tenth page edited:
the wall time of each, and its tail, from the last WARC file closed (the last result recorded) to the
run's return. ``PYTHONPATH=. python bench/tail_bench.py WORKDIR`` (WORKDIR is emptied); bench/README.md."""
import glob
import os
import shutil
import sys
import time
from pathlib import Path

import crawler
from tests.helpers import lastseen, write_watchlist
from tests.site import Site

tmp = Path(sys.argv[1])
shutil.rmtree(tmp, ignore_errors=True)
tmp.mkdir(parents=True)
site = Site()
N = 1000
for i in range(N):
    site.set(f"/p{i}", f"<h1>Page {i}</h1><p>{'text ' * 300} {i}</p>", delay=0.1)
write_watchlist(tmp / "watchlist.yaml",
                [{"name": f"p{i}", "url": site.url(f"/p{i}"), "every": "1d"} for i in range(N)],
                settings={"concurrency": 16, "per_host_concurrency": 16})
for cycle in (1, 2):
    if cycle == 2:
        for i in range(0, N, 10):
            site.set(f"/p{i}", f"<h1>Page {i}</h1><p>{'text ' * 300} {i} edited</p>", delay=0.1)
    t0 = time.time()
    ran = lastseen(tmp, "run", "--force", "--json")
    end = time.time()
    warc = max(os.stat(p).st_mtime for p in glob.glob(f"{tmp}/archive/warcs/*"))
    print(f"{os.path.dirname(os.path.dirname(crawler.__file__))} cycle {cycle} exit {ran.exit_code}: "
          f"{end - t0:.2f} s, tail (last WARC closed -> exit) {end - warc:.2f} s, load {os.getloadavg()[0]:.1f}",
          flush=True)
site.close()
