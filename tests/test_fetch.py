"""The fetcher seam: jobs in at any time, results out, roles on exchanges, one process for every mode."""

from __future__ import annotations

import pytest

from crawler.errors import FetchError
from crawler.fetch import FETCH_MODES, Fetcher, FetchJob
from crawler.fetch.handler import MODE_HANDLERS
from crawler.watchlist import fetch_defaults, fetch_options, parse_watchlist

OPTIONS = {**fetch_defaults(), "per_host_delay": 0.0, "timeout": 5.0, "retries": 0}


def test_jobs_submitted_while_results_are_read_are_fetched_in_the_same_process(site):
    site.set("/a", "<p>first</p>")
    site.set("/b", "<p>second, asked for after the first came back</p>")
    site.redirect("/old", "/a")
    with Fetcher(OPTIONS) as fetcher:
        fetcher.submit(FetchJob(id="1", target="a", url=site.url("/a")))
        results = []
        for result in fetcher.results():
            results.append(result)
            if result.job == "1":
                pid = fetcher.proc.pid
                fetcher.submit(FetchJob(id="2", target="b", url=site.url("/b")))
                fetcher.submit(FetchJob(id="3", target="old", url=site.url("/old")))
        assert fetcher.proc.pid == pid and fetcher.outstanding == 0
    by_job = {r.job: r for r in results}
    assert sorted(by_job) == ["1", "2", "3"]
    assert by_job["2"].final.body == b"<p>second, asked for after the first came back</p>"
    assert (by_job["2"].target, by_job["2"].fetch) == ("b", "http")
    moved = by_job["3"]
    assert [(e.status, e.role) for e in moved.exchanges] == [(301, "redirect"), (200, "page")]
    assert [e.status for e in moved.chain] == [301, 200] and moved.final.url == site.url("/a")
    assert fetcher.proc.returncode == 0  # told "no more jobs", the worker closed its spider and exited


def test_a_retried_attempt_is_part_of_the_page_chain(site):
    site.set("/flaky", "<p>oops</p>", status=503)
    with Fetcher({**OPTIONS, "retries": 1}) as fetcher:
        fetcher.submit(FetchJob(id="1", target="flaky", url=site.url("/flaky")))
        (result,) = list(fetcher.results())
    assert [(e.status, e.role) for e in result.exchanges] == [(503, "page"), (503, "page")]
    assert result.final is result.exchanges[-1]


def test_every_fetch_mode_has_a_handler_and_the_watchlist_knows_them():
    assert set(MODE_HANDLERS) == set(FETCH_MODES)
    with pytest.raises(FetchError, match="unknown fetch mode 'carrier-pigeon'"):
        FetchJob(id="1", target="a", url="http://127.0.0.1/", fetch="carrier-pigeon")
    schema_modes = parse_watchlist("targets: []\n")  # the field table's kind lists the same modes
    assert schema_modes.settings.fetch in FETCH_MODES


def test_fetch_options_come_from_the_settings_field_table():
    wl = parse_watchlist(
        "settings:\n  per_host_delay: 3s\n  max_body: 1MB\n  contact: desk@example.org\n"
        "hosts:\n  slow.example: {per_host_delay: 20s}\ntargets: []\n"
    )
    options = fetch_options(wl)
    assert options["per_host_delay"] == 3.0 and options["max_body"] == 2**20
    assert options["contact"] == "desk@example.org"
    assert options["hosts"] == {"slow.example": {"per_host_delay": 20.0, "per_host_concurrency": None}}
    assert "every" not in options and "jitter" not in options  # scheduling is not the fetcher's business
    assert set(options) == set(fetch_defaults())


def test_a_fetcher_that_dies_says_so(site):
    site.set("/slow", "<p>slow</p>", delay=3)
    fetcher = Fetcher(OPTIONS)
    fetcher.submit(FetchJob(id="1", target="slow", url=site.url("/slow")))
    fetcher.proc.kill()
    with pytest.raises(FetchError, match="with 1 fetch\\(es\\) unanswered"):
        list(fetcher.results())
    fetcher.close()
