"""The fetcher process `lastseen run` starts early (#17): adopted by the run's Fetcher, or killed at once."""

from __future__ import annotations

import crawler.fetch as fetch
from crawler.fetch import Fetcher, FetchJob, discard_prestarted, prestart
from crawler.watchlist import fetch_defaults

OPTIONS = {**fetch_defaults(), "per_host_delay": 0.0, "timeout": 5.0, "retries": 0}


def test_a_fetcher_adopts_the_process_started_before_its_options_were_known(site):
    site.set("/a", "<p>fetched by the early process</p>")
    prestart()
    early = fetch._prestarted[1]
    with Fetcher(OPTIONS) as fetcher:
        fetcher.submit(FetchJob(id="1", target="a", url=site.url("/a")))
        results = list(fetcher.results())
        assert fetcher.proc is early
    assert [r.final.body for r in results] == [b"<p>fetched by the early process</p>"]
    assert early.returncode == 0   # it got the run's settings, fetched, and exited when told "no more jobs"
    assert fetch._prestarted is None
    discard_prestarted()   # nothing left to discard: no error


def test_a_process_started_early_and_never_used_is_killed_and_reaped_at_once():
    prestart()
    early = fetch._prestarted[1]
    discard_prestarted()
    assert early.returncode is not None and early.returncode < 0   # killed, and waited for: no orphan, no zombie
    assert fetch._prestarted is None


def test_a_fetcher_without_an_early_process_spawns_its_own(site):
    site.set("/b", "<p>own process</p>")
    with Fetcher(OPTIONS) as fetcher:
        fetcher.submit(FetchJob(id="1", target="b", url=site.url("/b")))
        assert [r.final.body for r in fetcher.results()] == [b"<p>own process</p>"]
        assert fetcher.proc.returncode is None or fetcher.proc.returncode == 0
