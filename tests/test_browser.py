import os
import stat

import pytest

from crawler.fetch import browser
from crawler.fetch.browser import CHROMIUM_ARGS, find_chromium
from crawler.errors import BrowserNotFoundError, LastseenError

SYSTEM_CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def no_playwright_browser(tmp_path, monkeypatch):
    """Point Playwright's browser registry at an empty directory."""
    empty = tmp_path / "ms-playwright"
    empty.mkdir()
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(empty))
    return empty


def test_env_var_pointing_at_non_executable_file_is_a_clear_error(tmp_path, monkeypatch):
    fake = tmp_path / "chrome"
    fake.write_text("not a browser")
    fake.chmod(0o644)
    monkeypatch.setenv("LASTSEEN_CHROMIUM", str(fake))
    with pytest.raises(BrowserNotFoundError) as exc:
        find_chromium()
    message = str(exc.value)
    assert "LASTSEEN_CHROMIUM" in message
    assert str(fake) in message
    assert isinstance(exc.value, LastseenError)


def test_env_var_pointing_at_missing_file_or_directory_is_an_error(tmp_path, monkeypatch):
    for bad in (tmp_path / "nope", tmp_path):
        monkeypatch.setenv("LASTSEEN_CHROMIUM", str(bad))
        with pytest.raises(BrowserNotFoundError, match="LASTSEEN_CHROMIUM"):
            find_chromium()


@pytest.mark.skipif(not os.access(SYSTEM_CHROMIUM, os.X_OK), reason="needs Debian's chromium")
def test_env_var_pointing_at_chromium_is_returned(monkeypatch):
    monkeypatch.setenv("LASTSEEN_CHROMIUM", SYSTEM_CHROMIUM)
    monkeypatch.setenv("PATH", "")
    assert find_chromium() == SYSTEM_CHROMIUM


def test_env_var_wins_over_everything(tmp_path, monkeypatch):
    exe = tmp_path / "my-chrome"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("LASTSEEN_CHROMIUM", str(exe))
    assert find_chromium() == str(exe)


def test_nothing_found_says_how_to_fix(monkeypatch, no_playwright_browser):
    monkeypatch.delenv("LASTSEEN_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(BrowserNotFoundError) as exc:
        find_chromium()
    message = str(exc.value)
    assert "playwright install chromium" in message
    assert "apt-get install chromium" in message
    assert "LASTSEEN_CHROMIUM" in message


def test_found_on_path(tmp_path, monkeypatch, no_playwright_browser):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "google-chrome-stable"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.delenv("LASTSEEN_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert find_chromium() == str(exe)


def test_empty_env_var_is_ignored(tmp_path, monkeypatch, no_playwright_browser):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "chromium"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("LASTSEEN_CHROMIUM", "")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert find_chromium() == str(exe)


def test_playwright_download_is_preferred_to_path(tmp_path, monkeypatch):
    """A Chromium where Playwright would have downloaded one is found before PATH."""
    registry = tmp_path / "ms-playwright"
    registry.mkdir()
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(registry))
    (registry / "chromium-0").mkdir()  # passes the cheap check; the driver gives the real path
    expected = browser._ask_playwright()
    assert expected and expected.startswith(str(registry))
    exe = tmp_path / "ms-playwright" / os.path.relpath(expected, registry)
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.delenv("LASTSEEN_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", "")
    assert find_chromium() == expected


def test_playwright_registry_without_chromium_does_not_start_the_driver(
    monkeypatch, no_playwright_browser
):
    (no_playwright_browser / "firefox-1").mkdir()

    def boom():  # pragma: no cover - must not be called
        raise AssertionError("driver started although no chromium-* download exists")

    monkeypatch.setattr(browser, "_ask_playwright", boom)
    monkeypatch.delenv("LASTSEEN_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(BrowserNotFoundError):
        find_chromium()


def test_chromium_args():
    assert isinstance(CHROMIUM_ARGS, tuple)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        assert flag in CHROMIUM_ARGS
