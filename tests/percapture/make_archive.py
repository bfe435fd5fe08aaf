"""Make ``tests/percapture/``: an archive written before #17's batch capture records (one per capture).

Run once, with the code before batch capture records (``PYTHONPATH=/work/main`` at 31df8f6, or
``git worktree add /tmp/old 31df8f6``, then ``PYTHONPATH=/tmp/old .venv/bin/python
tests/percapture/make_archive.py``): it serves four pages from 127.0.0.1 and runs ``lastseen run`` twice, a
day apart (``LASTSEEN_NOW``): a page that changes, one that does not (a revisit), one that vanishes (a
re-fetch, a probe of the host and its home page), one whose host cannot be resolved. It keeps the archive
(WARC files, index, custody log) and ``watchlist.yaml`` in ``archive/``, and in ``expected.json`` what that
code's ``lastseen verify --json``, ``lastseen export`` (of every capture) and ``lastseen bundle`` (of the
change) said of it, run on copies. ``tests/test_capture_records.py`` checks the current code says the same.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DAYS = ("2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z")
LATER = "2026-03-02T09:30:00Z"   # nothing is due (every: 1d)


def page(title: str, body: str) -> str:
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"


def lastseen(cwd: Path, now: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LASTSEEN_NOW": now}
    env.pop("LASTSEEN_NOW_OFFSET", None)
    return subprocess.run([sys.executable, "-m", "crawler", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def last_entry(root: Path) -> dict:
    files = sorted((root / "archive" / "custody").glob("*.jsonl"))
    lines = [line for f in files for line in f.read_text().splitlines()]
    return json.loads(lines[-1])


def main() -> int:
    sys.path.insert(0, str(HERE.parent.parent))
    from tests.helpers import write_watchlist  # noqa: E402 - the repository's own helpers
    from tests.site import Site  # noqa: E402

    site = Site()
    expected: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site.set("/edit", page("Press", "<p>We supplied 1000 cameras.</p>"))
        site.set("/same", page("Same", "<p>Never changes.</p>"))
        site.set("/gone", page("Gone soon", "<p>This page will vanish.</p>"))
        write_watchlist(root / "watchlist.yaml", [
            {"name": "edit", "url": site.url("/edit")}, {"name": "same", "url": site.url("/same")},
            {"name": "gone", "url": site.url("/gone")}, {"name": "dns", "url": "http://lastseen-fixture.invalid/"},
        ], settings={"every": "1d"})
        for n, day in enumerate(DAYS):
            if n == 1:
                site.set("/edit", page("Press", "<p>We supplied 2000 cameras.</p>"))
                site.remove("/gone")
            ran = lastseen(root, day, "run", "--json")
            if ran.returncode:
                print(ran.stderr, file=sys.stderr)
                return ran.returncode
            expected.setdefault("runs", []).append(
                {e["target"]: e["verdict"] for e in json.loads(ran.stdout)["events"]})
        run_id = json.loads(ran.stdout)["run"]["id"]
        for name in ("verify", "export", "bundle"):
            shutil.copytree(root / "archive", root / name / "archive")
            shutil.copy(root / "watchlist.yaml", root / name / "watchlist.yaml")
        verified = lastseen(root / "verify", LATER, "verify", "--json")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        expected["verify"] = json.loads(verified.stdout)["checked"]
        exported = lastseen(root / "export", LATER, "export", "--out", "all.wacz")
        assert exported.returncode == 0, exported.stderr
        entry = last_entry(root / "export")["content"]
        expected["export"] = {"captures": entry["captures"], "records": entry["records"]}
        bundled = lastseen(root / "bundle", LATER, "bundle", f"{run_id}:edit", "--out", "out")
        assert bundled.returncode == 0, bundled.stderr
        (path,) = (root / "bundle" / "out").iterdir()
        entry = last_entry(root / "bundle")["content"]
        with zipfile.ZipFile(path) as zf:
            expected["bundle"] = {"event": entry["event"], "captures": entry["captures"], "records": entry["records"],
                                  "custody": entry["custody"], "files": sorted(
                                      n.split("/", 1)[1] for n in zf.namelist() if not n.endswith("/"))}
        out = HERE / "archive"
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(root / "archive", out, ignore=shutil.ignore_patterns("*.lock", "*-wal", "*-shm"))
        shutil.copy(root / "watchlist.yaml", HERE / "watchlist.yaml")
    site.close()
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}: {sorted(str(p.relative_to(out)) for p in out.rglob('*') if p.is_file())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
