"""Fixtures shared by the test modules (see tests/README.md).

Module-scoped fixtures that build a whole scenario (three runs against a
changing site, a run full of hostile servers) stay in their own modules.
"""

import os

import pytest
from hypothesis import settings

from .sinks import AlertSink
from .site import Site

# CI runs the property tests with a fixed seed, so a run is repeatable and a red CI can be
# reproduced; local runs keep drawing new examples (and find what a fixed seed would not).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output instead of comparing (review the diff)",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A test (or a module-scoped fixture, torn down with its module's last test) that set LASTSEEN_NOW
    and unset it must not leave the clock's computed offset behind (the clock writes it to os.environ for
    the fetch process): later tests, and the next module's fixtures, run on the real clock."""
    yield
    from crawler import clock

    if clock.ENV_NOW not in os.environ:
        os.environ.pop(clock.ENV_OFFSET, None)
        clock._reset()


@pytest.fixture(autouse=True, scope="session")
def _watchlist_cache(tmp_path_factory):
    """Large watchlists are kept validated in the user's cache folder (crawler.watchlist.cache, #17): the
    tests' (and their lastseen processes') in a temporary folder, not in the home of whoever runs them."""
    if "LASTSEEN_CACHE_DIR" not in os.environ:
        os.environ["LASTSEEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("watchlist-cache"))
    yield


@pytest.fixture
def update_golden(request) -> bool:
    """True when pytest runs with --update-golden."""
    return request.config.getoption("--update-golden")


@pytest.fixture
def site():
    """A fresh fixture web site on 127.0.0.1 (:class:`tests.site.Site`), closed after the test."""
    s = Site()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def alert_sink():
    """A local ``json://`` alert endpoint (:class:`tests.sinks.AlertSink`), closed after the test."""
    with AlertSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def chromium_path():
    """The Chromium the browser tests launch; never skips: fails saying how to install one."""
    from crawler.errors import BrowserNotFoundError
    from crawler.fetch.browser import find_chromium

    try:
        return find_chromium()
    except BrowserNotFoundError as exc:
        message = str(exc)
    pytest.fail(message, pytrace=False)
