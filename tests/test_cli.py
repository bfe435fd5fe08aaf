"""The command line: exit statuses, --only, --json on stdout only, the lock, report --since."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from .helpers import lastseen, write_watchlist
from .site import closed_port


def _pages(site, n=2):
    """Serve ``/p0`` ... ``/p<n-1>`` on the fixture site."""
    for i in range(n):
        site.set(f"/p{i}", f"<html><body><p>page {i}</p></body></html>")


def test_check_valid_and_invalid(tmp_path):
    good = write_watchlist(tmp_path / "good.yaml", [{"name": "a", "url": "https://example.org/a"}])
    ran = lastseen(tmp_path, "check", str(good))
    assert ran.exit_code == 0 and "OK, 1 target" in ran.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("targets:\n  - name: a\n    url: file:///etc/passwd\n  - name: a\n    url: https://example.org\n    selector: main\n")
    ran = lastseen(tmp_path, "check", str(bad))
    assert ran.exit_code == 2
    assert "bad.yaml:3" in ran.stderr and "'a'" in ran.stderr and "http" in ran.stderr
    assert "selector" in ran.stderr and "select" in ran.stderr  # unknown key, with a suggestion
    assert "duplicate" in ran.stderr.lower()


def test_run_refuses_an_invalid_watchlist_and_writes_nothing(tmp_path):
    bad = tmp_path / "watchlist.yaml"
    bad.write_text("targets:\n  - name: a\n    url: https://example.org\n    every: 6 hours\n")
    ran = lastseen(tmp_path, "run", "--json")
    assert ran.exit_code == 2 and ran.stdout == ""
    assert "watchlist.yaml:4" in ran.stderr
    assert not (tmp_path / "archive").exists() and not (tmp_path / "reports").exists()


def test_missing_watchlist_is_a_clear_error(tmp_path):
    ran = lastseen(tmp_path, "run", "--watchlist", "nope.yaml")
    assert ran.exit_code == 2 and "nope.yaml" in ran.stderr


def test_only_selects_by_name_and_tag_and_rejects_unknown(tmp_path, site):
    _pages(site, 3)
    write_watchlist(tmp_path / "watchlist.yaml", [
        {"name": "p0", "url": site.url("/p0"), "tags": ["vendor"]},
        {"name": "p1", "url": site.url("/p1"), "tags": ["press"]},
        {"name": "p2", "url": site.url("/p2"), "tags": ["vendor"]},
    ])
    ran = lastseen(tmp_path, "run", "--json", "--only", "vendor")
    assert ran.exit_code == 0
    assert [e["target"] for e in ran.json["events"]] == ["p0", "p2"]
    ran = lastseen(tmp_path, "run", "--json", "--only", "p1", "--only", "p0")
    assert [e["target"] for e in ran.json["events"]] == ["p0", "p1"]  # watchlist order
    ran = lastseen(tmp_path, "run", "--json", "--only", "nosuch")
    assert ran.exit_code == 2 and "nosuch" in ran.stderr and ran.stdout == ""
    assert site.hits("/p1") == 1


def test_nothing_due_writes_no_report(tmp_path, site):
    _pages(site, 1)
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": site.url("/p0"), "every": "1d"}])
    first = lastseen(tmp_path, "run", "--json")
    assert first.json["run"]["report"] is not None
    second = lastseen(tmp_path, "run", "--json")
    assert second.exit_code == 0 and second.json["events"] == [] and second.json["run"]["report"] is None
    forced = lastseen(tmp_path, "run", "--json", "--force")
    assert [e["verdict"] for e in forced.json["events"]] == ["unchanged"]
    assert site.hits("/p0") == 2


def test_lock_held_exits_3(tmp_path, site):
    _pages(site, 1)
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": site.url("/p0")}])
    (tmp_path / "archive").mkdir()
    fd = os.open(tmp_path / "archive" / "lastseen.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        ran = lastseen(tmp_path, "run", "--json")
    finally:
        os.close(fd)
    assert ran.exit_code == 3 and "another lastseen run" in ran.stderr and ran.stdout == ""
    assert site.hits("/p0") == 0
    assert lastseen(tmp_path, "run", "--json").exit_code == 0  # released: runs again


def test_unwritable_archive_exits_1(tmp_path):
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": "http://127.0.0.1:9/"}])
    (tmp_path / "afile").write_text("not a directory")
    ran = lastseen(tmp_path, "run", "--archive", "afile/sub")
    assert ran.exit_code == 1 and "afile" in ran.stderr and "not writable" in ran.stderr


def test_json_stdout_is_one_object_even_through_a_pipe(tmp_path, site):
    _pages(site, 2)
    write_watchlist(tmp_path / "watchlist.yaml", [
        {"name": "p0", "url": site.url("/p0")}, {"name": "p1", "url": site.url("/p1")}])
    proc = subprocess.run([sys.executable, "-m", "crawler", "run", "--json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # exactly one object, nothing else
    assert [e["verdict"] for e in doc["events"]] == ["new", "new"]
    assert (tmp_path / doc["run"]["report"]).is_file()
    assert (tmp_path / doc["events"][0]["warc"]["file"]).is_file()
    assert not doc["events"][0]["warc"]["file"].endswith(".open")


def test_report_since_builds_a_window_report(tmp_path, site):
    _pages(site, 1)
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": site.url("/p0")}])
    lastseen(tmp_path, "run", "--json")
    site.set("/p0", "<html><body><p>page zero rewritten</p></body></html>")
    lastseen(tmp_path, "run", "--json")
    ran = lastseen(tmp_path, "report", "--since", "7d", "--out", "weekly")
    assert ran.exit_code == 0
    index = (tmp_path / "weekly" / "index.html").read_text()
    assert "p0" in index and "changed" in index and "new" in index
    detail = "".join(p.read_text() for p in (tmp_path / "weekly").glob("*.html") if p.name != "index.html")
    assert "rewritten" in detail
    bad = lastseen(tmp_path, "report", "--since", "soon", "--out", "x")
    assert bad.exit_code == 2


def test_cron_is_silent_unless_something_needs_attention(tmp_path, site):
    _pages(site, 1)
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": site.url("/p0")}])
    first = lastseen(tmp_path, "run")  # CliRunner: not a terminal, like cron
    assert first.exit_code == 0 and first.stdout == "" and first.stderr == ""
    site.set("/p0", "<html><body><p>page zero edited</p></body></html>")
    second = lastseen(tmp_path, "run")
    # no `alerts:` sink configured: the alert goes to cron's mail instead
    assert second.stdout == "" and "p0: changed" in second.stderr and "report:" in second.stderr
    quiet = lastseen(tmp_path, "run", "--summary")
    assert quiet.stdout.startswith("lastseen run ") and "1 unchanged" in quiet.stdout and quiet.stderr == ""
    both = lastseen(tmp_path, "run", "--json", "--summary")
    assert json.loads(both.stdout)["events"][0]["verdict"] == "unchanged"
    assert "1 unchanged" in both.stderr


def test_failed_alert_delivery_is_reported_to_cron(tmp_path):
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "gone", "url": f"http://127.0.0.1:{closed_port()}/x"}],
                    alerts=[f"json://127.0.0.1:{closed_port()}/hook"])
    ran = lastseen(tmp_path, "run")
    assert ran.exit_code == 0 and ran.stdout == ""
    assert "alert to json://127.0.0.1" in ran.stderr and "failed" in ran.stderr


def test_status_shows_last_verdict_next_due_and_failures(tmp_path, site, monkeypatch):
    _pages(site, 1)
    write_watchlist(tmp_path / "watchlist.yaml", [
        {"name": "p0", "url": site.url("/p0"), "every": "6h"},
        {"name": "down", "url": f"http://127.0.0.1:{closed_port()}/"},
        {"name": "later", "url": site.url("/p0"), "tags": ["x"]},
    ])
    before = lastseen(tmp_path, "status", "--json")
    assert before.exit_code == 0 and before.json["targets"][0]["last_capture"] is None
    lastseen(tmp_path, "run", "--only", "p0", "--only", "down")
    lastseen(tmp_path, "run", "--only", "down")
    ran = lastseen(tmp_path, "status", "--json")
    rows = {r["target"]: r for r in ran.json["targets"]}
    assert [r["target"] for r in ran.json["targets"]] == ["p0", "down", "later"]
    assert rows["p0"]["last_verdict"] == "new" and rows["p0"]["last_status"] == 200
    assert rows["p0"]["next_due"] is not None and rows["p0"]["consecutive_failures"] == 0
    assert rows["down"]["last_verdict"] == "unreachable" and rows["down"]["consecutive_failures"] == 2
    assert rows["down"]["next_due"] is None  # no `every`: due on the next run
    assert rows["later"]["captures"] == 0 and rows["later"]["last_capture"] is None
    human = lastseen(tmp_path, "status")
    assert human.exit_code == 0 and "p0" in human.stdout
    # a target captured once, then failing: the count towards confirm_after, and due again within the hour
    site.set("/p0", "<h1>down</h1>", status=503)
    lastseen(tmp_path, "run", "--only", "p0", "--force")
    rows = {r["target"]: r for r in lastseen(tmp_path, "status", "--json").json["targets"]}
    assert rows["p0"]["last_verdict"] == "unreachable" and rows["p0"]["consecutive_failures"] == 1
    assert rows["p0"]["unconfirmed"] is True and rows["p0"]["confirm_after"] == 3
    assert rows["down"]["unconfirmed"] is False  # never captured: confirmed at once
    monkeypatch.delenv("COLUMNS", raising=False)  # not a terminal (CliRunner's output): each row one line (#17)
    piped = lastseen(tmp_path, "status").stdout.splitlines()
    (p0,) = [line for line in piped if line.startswith("│ p0 ")]
    assert "1 of 3, unconfirmed" in p0 and "unreachable" in p0
    assert len(piped) == 1 + 3 + 3 + 1  # the title, the head (3 lines), a line per target, the bottom
    assert rows["p0"]["last_capture"][:16].replace("T", " ") in p0 and len(p0) > 80
    assert len({len(line) for line in piped[1:]}) == 1  # every line of the box as wide
    monkeypatch.setenv("COLUMNS", "200")  # COLUMNS is honoured
    assert "1 of 3, unconfirmed" in lastseen(tmp_path, "status").stdout
    due = datetime.fromisoformat(rows["p0"]["next_due"].replace("Z", "+00:00"))
    assert due - datetime.now(timezone.utc) < timedelta(hours=1)


def test_cron_prints_an_absolute_crontab_line(tmp_path):
    ran = lastseen(tmp_path, "cron", "--interval", "10")
    line = ran.stdout.strip()
    assert ran.exit_code == 0 and line.startswith("*/10 * * * * cd ")
    assert f"--watchlist {tmp_path.resolve()}/watchlist.yaml" in line and " run " in line


def test_alerts_of_a_run_killed_before_alerting_are_carried_into_the_next(tmp_path, site, alert_sink):
    import sqlite3

    _pages(site, 2)
    write_watchlist(tmp_path / "watchlist.yaml", [
        {"name": "p0", "url": site.url("/p0")}, {"name": "p1", "url": site.url("/p1")}], alerts=[alert_sink.url])
    lastseen(tmp_path, "run", "--json")
    site.set("/p0", "<html><body><p>page zero quietly rewritten</p></body></html>")
    second = lastseen(tmp_path, "run", "--json")
    assert second.event("p0")["verdict"] == "changed"
    # The window a SIGKILL can hit: the change is committed, the alert never left.
    db = sqlite3.connect(tmp_path / "archive" / "lastseen.db")
    with db:
        db.execute("update runs set status = 'aborted' where id = ?", (second.json["run"]["id"],))
        db.execute("update event_rows set delivered = null")   # (schema 21: the events view's table)
    db.close()
    alert_sink.clear()
    third = lastseen(tmp_path, "run", "--json")
    assert third.event("p0")["verdict"] == "unchanged" and third.event("p0")["alert"] is False
    carried = third.json["run"]["carried_alerts"]
    assert [(c["target"], c["verdict"], c["run"]) for c in carried] == [("p0", "changed", second.json["run"]["id"])]
    posts = alert_sink.posts
    assert len(posts) == 1 and "p0" in json.dumps(posts[0]) and "did not finish" in json.dumps(posts[0])
    fourth = lastseen(tmp_path, "run", "--json")
    assert fourth.json["run"]["carried_alerts"] == [] and len(alert_sink.posts) == 1  # delivered once


# -- #7: the news when every alert sink fails; the reports directory ------------------------------------

def test_every_alert_sink_failing_still_prints_the_alerts_for_cron(tmp_path, site, alert_sink):
    import re
    from pathlib import Path

    _pages(site, 1)
    refused = f"json://127.0.0.1:{closed_port()}/hook"
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": site.url("/p0")}], alerts=[refused])
    first = lastseen(tmp_path, "run")
    assert first.exit_code == 0 and first.stderr == ""  # `new` alerts nobody: no sink was tried
    site.set("/p0", "<html><body><p>page zero edited</p></body></html>")
    ran = lastseen(tmp_path, "run")  # CliRunner: not a terminal, like cron
    assert ran.exit_code == 0 and ran.stdout == ""
    lines = ran.stderr.splitlines()
    assert len(lines) == 4, lines
    assert lines[0].startswith("lastseen: alert to json://127.0.0.1") and "failed" in lines[0]
    heading = re.fullmatch(r"lastseen run (\S+): 1 alert\(s\) \(not delivered: every alert sink failed\)", lines[1])
    assert heading, lines
    assert lines[2].startswith("  p0: changed: ") and lines[2].endswith(f"<{site.url('/p0')}>")
    assert lines[3].startswith("  report: ")
    report = Path(lines[3].removeprefix("  report: "))
    assert report.is_absolute() and report.samefile(tmp_path / "reports" / heading.group(1) / "index.html")
    # One sink that takes the message is enough: then only the failed one is mentioned.
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": site.url("/p0")}],
                    alerts=[refused, alert_sink.url])
    site.set("/p0", "<html><body><p>page zero edited again</p></body></html>")
    mixed = lastseen(tmp_path, "run")
    assert mixed.exit_code == 0 and len(alert_sink.posts) == 1
    failures = [line for line in mixed.stderr.splitlines() if line.startswith("lastseen: alert to json://127.0.0.1")]
    assert len(failures) == 1 and "alert(s)" not in mixed.stderr and "p0: changed" not in mixed.stderr


def test_a_reports_path_under_a_file_fails_at_start_having_fetched_nothing(tmp_path, site):
    _pages(site, 1)
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": site.url("/p0")}])
    (tmp_path / "afile").write_text("a file, not a directory")  # (`--reports afile` itself: a usage error, exit 2)
    ran = lastseen(tmp_path, "run", "--json", "--reports", "afile/reports")
    assert ran.exit_code == 1 and ran.stdout == ""
    [line] = ran.stderr.splitlines()
    assert line.startswith("Error: the reports directory afile/reports is not writable (Not a directory)"), line
    assert "--reports" in line
    assert site.hits("/p0") == 0 and not (tmp_path / "archive").exists()


def test_a_read_only_reports_directory_fails_at_start_without_write_permission(tmp_path, site):
    from .test_readonly import _without_write_permission

    _pages(site, 1)
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": site.url("/p0")}])
    reports = tmp_path / "reports"
    reports.mkdir()
    reports.chmod(0o555)
    argv, env = _without_write_permission()  # root ignores chmod: run without the capabilities that let it
    try:
        proc = subprocess.run([*argv, "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    finally:
        reports.chmod(0o755)
    assert proc.returncode == 1 and proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert line.startswith("Error: the reports directory reports is not writable (Permission denied)"), line
    assert "--reports" in line
    assert site.hits("/p0") == 0 and list(reports.iterdir()) == []


def test_a_run_whose_report_cannot_be_written_is_marked_failed_not_aborted(tmp_path, site, monkeypatch):
    import errno
    import sqlite3

    from crawler.report import render

    _pages(site, 1)
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": site.url("/p0")}])

    def disk_full(path, text):  # the disk fills up while the targets are fetched
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(render, "_write_atomic", disk_full)
    ran = lastseen(tmp_path, "run", "--json")
    assert ran.exit_code == 1 and ran.stdout == ""
    [line] = ran.stderr.splitlines()
    assert line.startswith("Error: cannot write the report")
    assert site.hits("/p0") == 1  # the directory passed the check at start: fetched, then the report failed
    monkeypatch.undo()
    after = lastseen(tmp_path, "run", "--json")  # the next run marks unfinished runs aborted: not this one
    assert after.exit_code == 0
    db = sqlite3.connect(tmp_path / "archive" / "lastseen.db")
    try:
        runs = dict(db.execute("select id, status from runs"))
    finally:
        db.close()
    assert runs.pop(after.json["run"]["id"]) == "completed"
    assert list(runs.values()) == ["failed"]


# -- #11: the alert message names the report by an absolute path, or by settings.report_url ---------------------

@pytest.mark.parametrize("report_url", [None, "https://reports.example.org/watch"])
def test_alert_names_the_report_by_absolute_path_or_report_url(tmp_path, site, alert_sink, report_url):
    _pages(site, 1)
    settings = {"report_url": report_url} if report_url else None
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p0", "url": site.url("/p0")}],
                    settings=settings, alerts=[alert_sink.url])
    lastseen(tmp_path, "run", "--json")
    site.set("/p0", "<html><body><p>page zero rewritten</p></body></html>")
    second = lastseen(tmp_path, "run", "--json")
    assert second.event("p0")["verdict"] == "changed" and second.event("p0")["alert"] is True
    run_id = second.json["run"]["id"]
    body = json.dumps(alert_sink.posts[-1], ensure_ascii=False)
    if report_url:
        assert f"Report: {report_url}/{run_id}/index.html" in body
    else:
        index = (tmp_path / "reports" / run_id / "index.html").resolve()
        assert index.is_file() and f"Report: {index}" in body
