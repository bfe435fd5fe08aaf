"""`make screenshots`: the README's pictures of a report, taken from the demo's own reports.

Runs the demo (``demo/demo.py``) into a temporary folder, opens its reports from disk in headless
Chromium (the one lastseen finds: ``crawler.fetch.browser.find_chromium``) at 1280 px and at
390 px (a phone), and writes PNG files to ``docs/screenshots/``:

- ``index-<width>.png``: the second run's report index (a change, a vanished page, a tender);
- ``change-<width>.png``: the case study's change page (evidence, inline diff);
- ``side-by-side-<width>.png``: the same page in its side-by-side view;
- ``cyrillic-<width>.png``: the third run's change in a Serbian page, shown in Cyrillic.

Scripts stay on, as in a reader's browser. The pictures are cut to the first screenful and a
half (``--height``), so they show what a reader sees first.

    .venv/bin/python demo/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

WIDTHS = {1280: 1100, 390: 1500}  # width -> height of the picture (CSS px)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    from crawler.errors import BrowserNotFoundError
    from crawler.fetch.browser import CHROMIUM_ARGS, find_chromium

    try:
        chromium = find_chromium()
    except BrowserNotFoundError as exc:
        print(f"screenshots: {exc}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="lastseen-shots-") as tmp:
        demo = subprocess.run(
            [sys.executable, str(HERE / "demo.py"), "--out", str(Path(tmp) / "demo")],
            capture_output=True, text=True, check=False,
        )
        if demo.returncode != 0:
            print(demo.stdout + demo.stderr, file=sys.stderr)
            return 1
        runs = sorted(p for p in (Path(tmp) / "demo" / "reports").iterdir() if p.is_dir())
        if len(runs) != 3:
            print(f"screenshots: expected 3 reports from the demo, found {len(runs)}", file=sys.stderr)
            return 1
        pages = {
            "index": runs[1] / "index.html",
            "change": runs[1] / "oculara-case-study.html",
            "side-by-side": runs[1] / "oculara-case-study.html",
            "cyrillic": runs[2] / "ravnograd-statement.html",
        }
        missing = [str(p) for p in pages.values() if not p.is_file()]
        if missing:
            print(f"screenshots: the demo wrote no {', '.join(missing)}", file=sys.stderr)
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
            try:
                for width, height in WIDTHS.items():
                    context = browser.new_context(viewport={"width": width, "height": height},
                                                  device_scale_factor=1)
                    for name, path in pages.items():
                        page = context.new_page()
                        page.goto(path.as_uri(), wait_until="load")
                        if name == "side-by-side":
                            page.click("label[for=view-side]")
                        shot = args.out / f"{name}-{width}.png"
                        page.screenshot(path=str(shot), full_page=False)
                        print(f"wrote {shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot}")
                        page.close()
                    context.close()
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
