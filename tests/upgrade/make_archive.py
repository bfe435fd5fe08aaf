"""Make ``tests/upgrade/archive/``: an archive written by the release before main-content extraction.

Run once, with that release's code (``git worktree add /tmp/old <commit>``, then
``PYTHONPATH=/tmp/old .venv/bin/python tests/upgrade/make_archive.py``): it
serves the pages listed in ``PAGES`` (real pages of ``tests/corpus/pages/``) from
127.0.0.1, runs ``lastseen run`` on them once, and keeps the archive (the WARC
files and the index). ``tests/test_upgrade.py`` then runs the current code over
a copy of it, serving the same pages, and expects no ``changed``: the first
capture after an upgrade is compared with its baseline re-extracted under the
new rules from the archived payload.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGES = {  # target name: (page file, extra target keys)
    "voice": ("dcurtis-voice-interfaces.html", {}),
    "medicines": ("xinhua-medicines.html", {}),
    "nabavka": ("made-sr-nabavka.html", {}),
    "vesti": ("made-sr-vesti.html", {"select": "body"}),
    "oath": ("mcsweeneys-oath.html", {"ignore": ["nav"]}),
    "firefox": ("mozilla-firefox-developer.html", {}),
}


def main() -> int:
    sys.path.insert(0, str(HERE.parent.parent))
    from tests.site import Site  # noqa: E402 - the repository's own fixture server

    out = HERE / "archive"
    site = Site()
    with tempfile.TemporaryDirectory() as tmp:
        for name, (page, _) in PAGES.items():
            site.set(f"/{name}", (HERE.parent / "corpus" / "pages" / page).read_bytes())
        targets = [{"name": n, "url": site.url(f"/{n}"), **keys} for n, (_, keys) in PAGES.items()]
        (Path(tmp) / "watchlist.yaml").write_text(json.dumps({"targets": targets}))
        ran = subprocess.run([sys.executable, "-m", "crawler", "run", "--json", "--archive", "archive",
                              "--reports", "reports"], cwd=tmp, capture_output=True, text=True, timeout=300)
        if ran.returncode:
            print(ran.stderr, file=sys.stderr)
            return ran.returncode
        verdicts = {e["target"]: e["verdict"] for e in json.loads(ran.stdout)["events"]}
        assert set(verdicts.values()) == {"new"}, verdicts
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(Path(tmp) / "archive", out, ignore=shutil.ignore_patterns("*.lock", "*-wal", "*-shm"))
    site.close()
    print(f"wrote {out}: {sorted(p.name for p in out.rglob('*') if p.is_file())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
