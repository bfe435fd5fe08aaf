"""The fetcher seam: jobs in at any time, results out, roles on exchanges, one process for every mode."""

from __future__ import annotations

import threading

import pytest

from crawler.errors import FetchError
from crawler.fetch import FETCH_MODES, Fetcher, FetchJob
from crawler.fetch.handler import MODE_HANDLERS
from crawler.watchlist import fetch_defaults, fetch_options, parse_watchlist

from .site import Site

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


def test_a_fetcher_given_many_jobs_fetches_no_further_ahead_than_its_window(site):
    # #17: 100,000 targets are not all handed to the fetcher process at once; each result read lets the next
    # job go. concurrency 2, per_host_concurrency 1: a window of 4 jobs sent and unanswered (2 of one host).
    for i in range(30):
        site.set(f"/p{i}", f"<p>page {i}</p>")
    options = {**OPTIONS, "concurrency": 2, "per_host_concurrency": 1}
    seen = []
    with Fetcher(options) as fetcher:
        for i in range(30):
            fetcher.submit(FetchJob(id=str(i), target=f"p{i}", url=site.url(f"/p{i}")))
        for k, result in enumerate(fetcher.results(), 1):
            asked = sum(site.hits(f"/p{i}") for i in range(30))
            assert asked <= 2 + k, f"{asked} pages requested when the monitor had read {k} results"
            seen.append(result.job)
    assert sorted(seen, key=int) == [str(i) for i in range(30)]
    assert [site.hits(f"/p{i}") for i in range(30)] == [1] * 30
    assert seen == [str(i) for i in range(30)]  # one host, one at a time: in the order submitted


def test_no_jobs_start_no_fetcher_process():
    # A run with nothing due hands the fetcher no job: no Scrapy process is started for nothing, and none
    # waited for at the end (it made a nothing-due run of 2,000 targets take 0.8 s instead of 0.35).
    with Fetcher(OPTIONS) as fetcher:
        fetcher.submit_all(0, lambda i: "http://127.0.0.1/", lambda i: None)
        assert list(fetcher.results()) == []
        assert fetcher.proc is None


def test_hosts_take_turns_whatever_the_order_of_the_jobs():
    # One host's 20 targets listed before another host's one: the other host is fetched while the first
    # host's first page is still held by its server (each host has its own download slot, as before #17).
    gate = threading.Event()
    first, other = Site(), Site(host="127.0.0.2")
    try:
        for i in range(20):
            first.set(f"/p{i}", f"<p>page {i}</p>", gate=gate if i == 0 else None)
        other.set("/only", "<p>the other host</p>")
        options = {**OPTIONS, "concurrency": 4, "per_host_concurrency": 1}
        with Fetcher(options) as fetcher:
            for i in range(20):
                fetcher.submit(FetchJob(id=str(i), target=f"p{i}", url=first.url(f"/p{i}")))
            fetcher.submit(FetchJob(id="other", target="other", url=other.url("/only")))
            order = []
            for result in fetcher.results():
                order.append(result.job)
                gate.set()   # the other host's page came first: let the first host go on
        assert order[0] == "other" and sorted(order[1:], key=int) == [str(i) for i in range(20)]
        assert order[1:] == [str(i) for i in range(20)]
    finally:
        gate.set()
        first.close()
        other.close()


def test_a_targets_cookies_are_kept_for_its_refetch_and_no_other_target_sees_them(site):
    # #17: the fetcher forgets a target's cookie jar when its fetch is over only if the jar is empty.
    site.set("/set", "<p>here is a cookie</p>", headers=[("Set-Cookie", "session=abc; Path=/")])
    site.set("/plain", "<p>no cookie</p>")
    with Fetcher(OPTIONS) as fetcher:
        fetcher.submit(FetchJob(id="1", target="a", url=site.url("/set")))
        fetcher.submit(FetchJob(id="2", target="b", url=site.url("/plain")))
        for result in fetcher.results():
            if result.job == "1":
                fetcher.submit(FetchJob(id="1/refetch", target="a", url=site.url("/set"), role="refetch"))
            elif result.job == "2":
                fetcher.submit(FetchJob(id="2/refetch", target="b", url=site.url("/plain"), role="refetch"))
    sent = [(path, headers.get("Cookie")) for path, headers in site.requests]
    assert sorted(sent, key=str) == sorted([("/set", None), ("/set", "session=abc"), ("/plain", None),
                                            ("/plain", None)], key=str)
