"""Find a Chromium executable to drive with Playwright.

:func:`find_chromium` looks, in order, at

0. the path it is given (the watchlist's ``settings.browser_path``; must name an executable file);
1. the ``LASTSEEN_CHROMIUM`` environment variable (must name an executable file);
2. the Chromium that ``playwright install chromium`` downloaded, if there is one;
3. ``chromium``, ``chromium-browser``, ``google-chrome``, ``google-chrome-stable`` on ``PATH``;

and raises :class:`~crawler.errors.BrowserNotFoundError`, saying how to get one,
when all of them come up empty. :data:`CHROMIUM_ARGS` are the flags every
lastseen browser is launched with (headless, quiet: no background traffic of
Chromium's own that would end up in the archive).
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import sys
from pathlib import Path

from crawler.errors import BrowserNotFoundError

__all__ = ["CHROMIUM_ARGS", "ENV_VAR", "PATH_NAMES", "find_chromium"]

ENV_VAR = "LASTSEEN_CHROMIUM"

PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

_HOW_TO_FIX = (
    "no Chromium found to drive. Fix one of: run `playwright install chromium`; "
    "or install your system's package (`apt-get install chromium`); "
    f"or set {ENV_VAR}=/path/to/chromium"
)


def find_chromium(browser_path: str | None = None) -> str:
    """Return the path of a Chromium executable, or raise ``BrowserNotFoundError``.

    ``browser_path`` (``settings.browser_path``), when given, is the only candidate.
    """
    if browser_path:
        if _is_executable(browser_path):
            return browser_path
        raise BrowserNotFoundError(
            f"settings.browser_path {browser_path!r} is not an executable file; point it at a Chromium "
            f"binary, or remove it to let lastseen look for one. {_HOW_TO_FIX[0].upper()}{_HOW_TO_FIX[1:]}"
        )
    configured = os.environ.get(ENV_VAR)
    if configured:
        if _is_executable(configured):
            return configured
        raise BrowserNotFoundError(
            f"{ENV_VAR}={configured!r} is not an executable file; "
            f"point {ENV_VAR} at a Chromium binary or unset it"
        )
    downloaded = _playwright_chromium()
    if downloaded:
        return downloaded
    for name in PATH_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserNotFoundError(_HOW_TO_FIX)


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _playwright_browsers_dir() -> Path | None:
    """Where ``playwright install`` puts browsers (mirrors Playwright's registry rules)."""
    configured = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if configured == "0":
        try:
            import playwright
        except ImportError:
            return None
        return Path(playwright.__file__).parent / "driver" / "package" / ".local-browsers"
    if configured:
        return Path(configured)
    home = Path.home()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return Path(local) / "ms-playwright" if local else home / "AppData" / "Local" / "ms-playwright"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "ms-playwright"
    cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache) if cache else home / ".cache") / "ms-playwright"


def _playwright_chromium() -> str | None:
    """Playwright's downloaded Chromium, if installed.

    Asking Playwright starts its Node driver (about a second), so first check
    cheaply that its browsers directory holds some ``chromium-*`` download at all.
    """
    browsers = _playwright_browsers_dir()
    try:
        if browsers is None or not any(p.name.startswith("chromium-") for p in browsers.iterdir()):
            return None
    except OSError:
        return None
    # sync_playwright refuses to run inside a running asyncio loop: ask from a thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        try:
            path = pool.submit(_ask_playwright).result(timeout=60)
        except Exception:  # a broken Playwright install is "not present", not a crash
            return None
    return path if path and _is_executable(path) else None


def _ask_playwright() -> str | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as p:
        return p.chromium.executable_path
