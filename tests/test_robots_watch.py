"""Watched robots.txt (#12): successive `lastseen run --json` runs over a site on 127.0.0.1 whose robots.txt
starts shutting archive crawlers out of a watched path (flag on every event of the host, alert line, report
note), changes in ways that do not matter (archived, no alert), or is not fetched at all (`watch_robots: false`)."""

from __future__ import annotations

import json
import sqlite3

from .helpers import assert_contract, lastseen, warc_records, write_watchlist

PAGE = (
    "<html><head><title>{0}</title></head><body><main><p>{0}. "
    + "The ministry published this. " * 8
    + "</p></main></body></html>"
)


def _project(site, tmp_path, alert_sink=None, **settings):
    site.set("/press/1", PAGE.format("Release one"))
    site.set("/about", PAGE.format("About us"))
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [
            {"name": "press-1", "url": site.url("/press/1")},
            {"name": "about", "url": site.url("/about")},
        ],
        settings=settings or None,
        alerts=[alert_sink.url] if alert_sink else None,
    )


def _run(tmp_path):
    ran = lastseen(
        tmp_path,
        "run",
        "--json",
        "--force",
        "--watchlist",
        str(tmp_path / "watchlist.yaml"),
        "--archive",
        str(tmp_path / "archive"),
        "--reports",
        str(tmp_path / "reports"),
    )
    assert ran.exit_code == 0, ran.stderr
    assert_contract(ran.json)
    return ran


def _index(tmp_path, ran) -> str:
    return (tmp_path / ran.json["run"]["report"]).read_text(
        encoding="utf-8"
    )  # relative to the run's directory


def _robots_captures(tmp_path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "archive" / "lastseen.db") as db:
        return db.execute(
            "select url, status, robots_changed from captures where role = 'robots' order by id"
        ).fetchall()


def test_robots_newly_shutting_out_ia_archiver_flags_every_event_and_alerts(
    site, tmp_path, alert_sink
):
    site.set(
        "/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    _project(site, tmp_path, alert_sink)
    first = _run(tmp_path)  # the baseline: no flag, no alert
    assert [e["robots_changed"] for e in first.json["events"]] == [None, None]
    assert site.hits("/robots.txt") == 1
    assert alert_sink.posts == []

    site.set(
        "/robots.txt",
        "User-agent: *\nDisallow: /private/\n\nUser-agent: ia_archiver\nDisallow: /press/\n",
        content_type="text/plain",
    )
    second = _run(tmp_path)
    assert site.hits("/robots.txt") == 2  # once per run and host, however many targets
    expected = {"added": ["User-agent: ia_archiver / Disallow: /press/"], "removed": []}
    assert [
        (e["target"], e["verdict"], e["robots_changed"]) for e in second.json["events"]
    ] == [
        ("press-1", "unchanged", expected),
        ("about", "unchanged", expected),
    ]  # no extra event
    message = alert_sink.posts[-1]["message"]
    origin = site.url("")
    assert (
        f"{origin}/robots.txt now shuts archive crawlers out of watched paths: added "
        "User-agent: ia_archiver / Disallow: /press/"
    ) in message.splitlines()
    # Archived with its role, indexed as a capture of no target's own (its comparison kept).
    sent = site.sent("/robots.txt")
    records = [
        rec
        for path in sorted((tmp_path / "archive" / "warcs").glob("*.warc.gz"))
        for rec in warc_records(path)
        if rec[2].get_header("WARC-Target-URI") == f"{origin}/robots.txt"
    ]
    assert [
        (kind, payload) for _, kind, _, _, payload in records if kind == "response"
    ][-1] == ("response", sent)
    rows = _robots_captures(tmp_path)
    assert [(u, s) for u, s, _ in rows] == [(f"{origin}/robots.txt", 200)] * 2
    assert rows[0][2] is None and '"alert": true' in rows[1][2]
    index = _index(tmp_path, second)
    assert "now shuts archive crawlers out of watched paths" in index
    assert "User-agent: ia_archiver / Disallow: /press/" in index

    third = _run(tmp_path)  # unchanged since: no flag any more
    assert [e["robots_changed"] for e in third.json["events"]] == [None, None]


def test_unrelated_robots_changes_are_recorded_not_alerted(site, tmp_path, alert_sink):
    site.set(
        "/robots.txt",
        "User-agent: ia_archiver\nDisallow: /cgi-bin/\n",
        content_type="text/plain",
    )
    _project(site, tmp_path, alert_sink)
    _run(tmp_path)
    # Another bot shut out of everything, an unrelated path for ia_archiver, a rule removed: no alert.
    site.set(
        "/robots.txt",
        "User-agent: GPTBot\nDisallow: /\n\nUser-agent: ia_archiver\nDisallow: /tmp/<script>\n",
        content_type="text/plain",
    )
    second = _run(tmp_path)
    assert [e["robots_changed"] for e in second.json["events"]] == [None, None]
    assert alert_sink.posts == []
    changed = _robots_captures(tmp_path)[-1][2]
    assert (
        '"alert": false' in changed
        and "/cgi-bin/" in changed
        and "GPTBot" not in changed
    )
    index = _index(tmp_path, second)
    assert "robots-note" not in index


def test_a_robots_txt_that_404s_counts_as_empty_and_script_in_it_is_escaped(
    site, tmp_path
):
    _project(site, tmp_path)  # no /robots.txt: 404
    first = _run(tmp_path)
    assert [e["robots_changed"] for e in first.json["events"]] == [None, None]
    site.set(
        "/robots.txt",
        "User-agent: *\nDisallow: /about<script>alert(1)</script>\nDisallow: /about\n",
        content_type="text/plain",
    )
    second = _run(tmp_path)
    flags = [e["robots_changed"] for e in second.json["events"]]
    assert flags[0] == flags[1] and flags[0]["added"] == [
        "User-agent: * / Disallow: /about<script>alert(1)</script>",
        "User-agent: * / Disallow: /about",
    ]
    index = _index(tmp_path, second)
    assert (
        "/about&lt;script&gt;alert(1)&lt;/script&gt;" in index
        and "<script>alert(1)" not in index
    )


def test_watch_robots_false_fetches_no_robots_txt(site, tmp_path):
    site.set("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    _project(site, tmp_path, watch_robots=False)
    ran = _run(tmp_path)
    _run(tmp_path)
    assert site.hits("/robots.txt") == 0
    assert site.hits("/press/1") == 2 and site.hits("/about") == 2
    assert [e["robots_changed"] for e in ran.json["events"]] == [None, None]
    assert _robots_captures(tmp_path) == []


def test_a_robots_alert_of_a_run_killed_before_alerting_is_carried_into_the_next_message(
    site, tmp_path, alert_sink
):
    site.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    _project(site, tmp_path, alert_sink)
    _run(tmp_path)
    site.set("/robots.txt", "User-agent: archive.org_bot\nDisallow: /\n", content_type="text/plain")
    second = _run(tmp_path)
    assert second.json["events"][0]["robots_changed"]["added"] == ["User-agent: archive.org_bot / Disallow: /"]
    # The window a SIGKILL can hit: the robots.txt and its comparison are committed, the alert never left.
    with sqlite3.connect(tmp_path / "archive" / "lastseen.db") as db:
        db.execute("update runs set status = 'aborted' where id = ?", (second.json["run"]["id"],))
        db.execute("update capture_rows set robots_changed = json_remove(robots_changed, '$.delivered')")
    alert_sink.clear()

    third = _run(tmp_path)  # compares with the robots.txt the killed run archived: nothing new by itself
    assert [e["robots_changed"] for e in third.json["events"]] == [None, None]
    origin = site.url("")
    assert third.json["run"]["carried_robots"] == [{
        "run": second.json["run"]["id"], "url": f"{origin}/robots.txt",
        "added": ["User-agent: archive.org_bot / Disallow: /"], "removed": ["User-agent: * / Disallow: /private/"],
    }]
    (post,) = alert_sink.posts
    lines = post["message"].splitlines()
    assert "Found by earlier runs that did not finish (killed or interrupted), not alerted then:" in lines
    assert (f"[run {second.json['run']['id']}] {origin}/robots.txt now shuts archive crawlers out of watched "
            "paths: added User-agent: archive.org_bot / Disallow: / (removed User-agent: * / Disallow: /private/)") in lines

    fourth = _run(tmp_path)  # delivered once: not carried again
    assert fourth.json["run"]["carried_robots"] == [] and len(alert_sink.posts) == 1


def test_robots_alerts_are_printed_for_cron_when_no_sink_is_configured(site, tmp_path):
    import subprocess
    import sys

    site.set("/robots.txt", "", content_type="text/plain")
    _project(site, tmp_path)
    argv = [sys.executable, "-m", "crawler", "run", "--force"]
    subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True)
    site.set("/robots.txt", "User-agent: ia_archiver\nDisallow: /press/\n", content_type="text/plain")
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "1 alert(s) (no `alerts:` sink configured)" in proc.stderr
    assert (f"  {site.url('')}/robots.txt now shuts archive crawlers out of watched paths: added "
            "User-agent: ia_archiver / Disallow: /press/") in proc.stderr.splitlines()


def test_reindex_rebuilds_the_robots_comparisons_and_never_re_alerts_them(site, tmp_path, alert_sink):
    site.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    _project(site, tmp_path, alert_sink)
    _run(tmp_path)
    site.set("/robots.txt", "User-agent: ia_archiver\nDisallow: /press/\n", content_type="text/plain")
    _run(tmp_path)
    site.set("/robots.txt", "User-agent: ia_archiver\nDisallow: /press/\n# a comment\n", content_type="text/plain")
    _run(tmp_path)  # another change, not shutting anyone out
    _run(tmp_path)  # unchanged: a revisit record
    before = [(u, s, json.loads(c) if c else None) for u, s, c in _robots_captures(tmp_path)]
    assert [c is not None for _, _, c in before] == [False, True, True, False]
    assert before[1][2]["alert"] is True and before[2][2]["alert"] is False

    ran = lastseen(tmp_path, "reindex", "--archive", str(tmp_path / "archive"),
                   "--watchlist", str(tmp_path / "watchlist.yaml"))
    assert ran.exit_code == 0, ran.stderr
    after = [(u, s, json.loads(c) if c else None) for u, s, c in _robots_captures(tmp_path)]
    assert after == before  # the same comparisons; the alerting one was delivered before, and is marked so
    assert after[1][2]["delivered"] is True
    posts = len(alert_sink.posts)
    with sqlite3.connect(tmp_path / "archive" / "lastseen.db") as db:  # as if every rebuilt run had been killed
        db.execute("update runs set status = 'aborted'")
    following = _run(tmp_path)
    assert following.json["run"]["carried_robots"] == [] and len(alert_sink.posts) == posts
