"""The fetcher process `lastseen run` starts early (#17): adopted by the run's Fetcher, or killed at once."""

from __future__ import annotations

import os
from pathlib import Path

import crawler.fetch as fetch
from crawler.fetch import Fetcher, FetchJob, discard_prestarted, prestart
from crawler.watchlist import fetch_defaults

from .helpers import lastseen, write_watchlist

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


def _fetcher_children() -> list[str]:
    """This process's child processes that run the fetcher (zombies included: a child not waited for counts)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue   # gone meanwhile
        if int(fields[1]) == os.getpid() and ("crawler.fetch.worker" in cmdline or fields[0] == "Z"):
            found.append(f"{stat.parent.name} {fields[0]} {cmdline}")
    return found


def test_a_run_with_nothing_due_kills_and_reaps_the_fetcher_it_started_early(tmp_path, site):
    # `lastseen run` starts its fetcher before it knows what is due; a run that finds nothing due must not
    # leave it running (importing Scrapy for nothing) nor unreaped, and a run that fetches adopts it.
    site.set("/p0", "<p>a page</p>")
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": site.url("/p0"), "every": "1d"}])
    assert lastseen(tmp_path, "run", "--json").json["events"][0]["verdict"] == "new"
    assert _fetcher_children() == [] and fetch._prestarted is None
    again = lastseen(tmp_path, "run", "--json")
    assert again.exit_code == 0 and again.json["events"] == []
    assert _fetcher_children() == [] and fetch._prestarted is None
    assert site.hits("/p0") == 1
