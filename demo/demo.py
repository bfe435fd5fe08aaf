"""`make demo`: lastseen watching a small local web of fictional pages that change, vanish and come back.

Starts the demo's web server (``demo/story.py``) on 127.0.0.1, writes a fresh demo project
in ``--out`` (default ``demo/out/``: ``watchlist.yaml``, ``archive/``, ``reports/``), runs
``lastseen run`` there three times while the pages change, says after each run what lastseen
found, and prints the path of the last run's report. Nothing is fetched beyond 127.0.0.1.

    .venv/bin/python demo/demo.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from story import RUNS, TARGETS, DemoSite

HERE = Path(__file__).resolve().parent
#: The file that marks a folder as the demo's own, so a later demo may empty it.
MARKER = ".lastseen-demo"

WATCHLIST = """\
# The demo's watchlist, written by demo/demo.py (`make demo`). Every page is on the demo's own
# web server on 127.0.0.1: nothing is fetched from the internet. Every key: docs/watchlist.md.
settings:
  fetch: http                 # plain HTTP requests: no browser needed
  timeout: 10s
  # `every` is left out: every target is due on every run (a real watchlist says e.g. `every: 6h`).
  # A vanished or moved page is confirmed by a second fetch in the same run; `unreachable` and
  # `blocked` would need `confirm_after` (3) failed runs in a row, which this demo does not show.
  keywords: ["facial recognition"]   # always alert when one appears or disappears
hosts:
  127.0.0.1: {{per_host_delay: 0s, per_host_concurrency: 4}}   # our own server: no need to be gentle
alerts:
  - "{alerts_url}"   # Apprise posts each run's alert message there; the demo saves it in alerts.jsonl
targets:
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "out",
        help="the demo project's folder, emptied first if a demo made it (default: demo/out)",
    )
    out = parser.parse_args(argv).out.resolve()
    if not _fresh_folder(out):
        print(
            f"demo: {out} is not empty and not a demo's folder; choose another with --out",
            file=sys.stderr,
        )
        return 2
    began = time.monotonic()
    report = None
    with DemoSite(out / "alerts.jsonl") as site:
        (out / "watchlist.yaml").write_text(_watchlist(site), encoding="utf-8")
        print(
            f"lastseen demo: a local web server on 127.0.0.1:{site.port}, the demo project in {out}"
        )
        for n, run in enumerate(RUNS):
            site.run = n
            print(f"\n== Run {n + 1} of {len(RUNS)} ==")
            for line in run.story:
                print(f"   {line}")
            alerts_before = _lines(site.alerts_file)
            result = _lastseen_run(out)
            if result is None:
                return 1
            _print_events(result)
            if _lines(site.alerts_file) > alerts_before:
                print(
                    f"   alert message delivered (Apprise json://), saved in {site.alerts_file}"
                )
            report = out / result["run"]["report"]
            print(f"   report: {report}")
    print(
        f"\n{len(RUNS)} runs in {time.monotonic() - began:.1f} s. The last run's report:"
    )
    print(f"  {report}")
    print(f"Open it in a web browser: xdg-open {report}   (macOS: open ...)")
    print(f"The WARC files and the index are in {out / 'archive'}.")
    return 0


def _fresh_folder(out: Path) -> bool:
    """Make ``out`` an empty demo folder: emptied if an earlier demo made it, else it must be empty.

    False (nothing touched) when it is a file or holds anything a demo did not make.
    """
    if out.exists() and not out.is_dir():
        return False
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            return False
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text(
        "Made by demo/demo.py; the next `make demo` empties this folder.\n"
    )
    return True


def _watchlist(site: DemoSite) -> str:
    text = WATCHLIST.format(alerts_url=site.alerts_url)
    for t in TARGETS:
        text += f'  - name: {t.name}\n    url: "{site.url(t.path)}"\n    tags: [{", ".join(t.tags)}]\n'
        text += "".join(f"    {key}: {value}\n" for key, value in t.keys.items())
    return text


def _lastseen_run(project: Path) -> dict | None:
    """``lastseen run --json`` in ``project``: its JSON, or None (its error shown) when it failed."""
    env = dict(os.environ)
    # A proxy set in the environment must not see (or refuse) the demo's requests to 127.0.0.1.
    for name in ("no_proxy", "NO_PROXY"):
        env[name] = ",".join(filter(None, [env.get(name), "127.0.0.1"]))
    print("   $ lastseen run", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", "run", "--json"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        print(
            f"demo: `lastseen run` exited with status {proc.returncode} (its error is above)",
            file=sys.stderr,
        )
        return None
    return json.loads(proc.stdout)


def _print_events(result: dict) -> None:
    """The run's events, as a table (the terminal table of `lastseen run`, with an alert column)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from crawler.formatting import one_line
    from crawler.verdicts import facts

    table = Table(show_edge=False, pad_edge=False)
    for col in ("target", "verdict", "alert", "summary"):
        table.add_column(col, overflow="fold")
    for e in result["events"]:
        verdict = e["verdict"] + (f" ({e['reason']})" if e["reason"] else "")
        table.add_row(
            Text(one_line(e["target"])),
            Text(one_line(verdict), facts(e["verdict"], e["reason"]).colour),
            "yes" if e["alert"] else "",
            Text(one_line(e["summary"] or "")),
        )
    Console(highlight=False).print(table)


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


if __name__ == "__main__":
    sys.exit(main())
