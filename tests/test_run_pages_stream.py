"""Issue #17: a run report's event pages rendered while the run fetches (crawler/report/runstream.py).

The archive's page writer renders the page of each event final while the run fetches (a first capture's, a
change page) but its footer, and puts it in place under the name the report gives it when the run ends; the
monitor writes the report's index meanwhile. The report a run leaves is the one ``write_run_report`` writes
alone, byte for byte: two targets whose names give one slug, a hostile name, a first run and a run of changes.
A page the writer did not put in place is written by the monitor; a run without a report leaves nothing.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pytest

from crawler import clock, recorder
from crawler.report import write_run_report
from crawler.report.render import _environment
from crawler.report.runstream import PARTS, RunPageStream
from crawler.store import CaptureStore

from .helpers import lastseen, write_watchlist
from .site import Site
from .test_history_pages import HOSTILE

NAMES = ["page 0", "notice (a)", "notice [a]", HOSTILE]  # the two notices: one slug, notice-a.html and -2
CHANGED = {"notice (a)", "notice [a]", HOSTILE}  # in the second run; page 0 unchanged


def _runs(tmp_path: Path, monkeypatch) -> list[tuple[dict, Path]]:
    """Two runs (each capture committed at once: every target is handed to the writer while the run
    fetches): all new, then three changed. Their --json, and their report written again right after each
    by ``write_run_report`` alone (the custody head in its footer is the run's)."""
    monkeypatch.setattr(recorder, "COMMIT_EVERY", 1)
    site = Site()
    runs = []
    try:
        for i, name in enumerate(NAMES):
            site.set(f"/p{i}", f"<h1>Notice {i}</h1><p>Applications close on 1 March. Lot {i}.</p>")
        write_watchlist(tmp_path / "watchlist.yaml",
                        [{"name": n, "url": site.url(f"/p{i}"), "every": "1d"} for i, n in enumerate(NAMES)])
        for day, changed in (("2026-04-01", ()), ("2026-04-02", CHANGED)):
            for i, name in enumerate(NAMES):
                if name in changed:
                    site.set(f"/p{i}", f"<h1>Notice {i}</h1><p>Applications close on 9 May. Lot {i} withdrawn.</p>")
            monkeypatch.setenv(clock.ENV_NOW, f"{day}T09:00:00Z")
            os.environ.pop(clock.ENV_OFFSET, None)  # never through monkeypatch: its undo would put it back
            clock._reset()
            ran = lastseen(tmp_path, "run", "--json")
            assert ran.exit_code == 0, ran.stderr
            runs.append((ran.json, _alone(tmp_path, ran.json)))
    finally:
        site.close()
        clock._reset()
    return runs


def _alone(tmp_path: Path, run: dict) -> Path:
    """The run's report written again by ``write_run_report`` alone (no writer), as the run generated it."""
    run_id = run["run"]["id"]
    index = (tmp_path / "reports" / run_id / "index.html").read_text(encoding="utf-8")
    generated = datetime.fromisoformat(re.search(r"Generated (\S+) by lastseen", index).group(1))
    out = tmp_path / "alone" / run_id
    store = CaptureStore.open_readonly(tmp_path / "archive" / "lastseen.db")
    try:
        write_run_report(store, run_id, out, started=generated, finished=generated, generated=generated,
                         order={n: i for i, n in enumerate(NAMES)}, archive_root=tmp_path / "archive")
    finally:
        store.close()
    return out


def _pages(folder: Path) -> dict[str, bytes]:
    """Every file of a report but its index (whose run times the run knew to the microsecond)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "index.html"}


@pytest.fixture
def rendered(tmp_path, monkeypatch) -> Path:
    """A file the writer (a child process) logs the targets it rendered pages of to."""
    log = tmp_path / "rendered.log"
    write_targets = RunPageStream.write_targets

    def logged(self, store, names):
        write_targets(self, store, names)
        with open(log, "a", encoding="utf-8") as fh:
            fh.writelines(f"{self.run_id} {name}\n" for name in self.done)

    monkeypatch.setattr(RunPageStream, "write_targets", logged)
    return log


def test_a_runs_report_pages_rendered_while_it_fetches_equal_one_write_at_the_end(tmp_path, monkeypatch, rendered):
    runs = _runs(tmp_path, monkeypatch)
    logged = {tuple(line.split(" ", 1)) for line in rendered.read_text(encoding="utf-8").splitlines()}
    assert {name for run_id, name in logged if run_id == runs[0][0]["run"]["id"]} == set(NAMES)  # first captures
    assert {name for run_id, name in logged if run_id == runs[1][0]["run"]["id"]} == CHANGED  # change pages
    for run, alone in runs:
        folder = tmp_path / "reports" / run["run"]["id"]
        pages = _pages(folder)
        assert pages == _pages(alone)
        assert {"notice-a.html", "notice-a-2.html"} <= set(pages)
        assert not (folder / PARTS).exists()
        index = (folder / "index.html").read_text(encoding="utf-8")
        assert 'href="notice-a-2.html"' in index and "<b>des</b>" not in index
    changed = (tmp_path / "reports" / runs[1][0]["run"]["id"] / "notice-a-2.html").read_text(encoding="utf-8")
    assert "9 May" in changed and "1 March" in changed and changed.endswith("</html>\n")
    assert "Custody chain head: #" in changed  # the footer, known only at the end


@pytest.mark.parametrize("how", ["put nothing in place", "killed"])
def test_pages_the_writer_did_not_put_in_place_are_written_by_the_monitor(tmp_path, monkeypatch, rendered, how):
    """The writer renders the pages while the run fetches, then fails to put them in place (or dies): the
    monitor, once the writer is done, writes those missing; the report is the same."""
    def finish(self, pages, **values):
        if how == "killed":
            os._exit(1)
        return set()

    monkeypatch.setattr(RunPageStream, "finish", finish)
    runs = _runs(tmp_path, monkeypatch)
    assert rendered.read_text(encoding="utf-8")  # rendered while the run fetched
    for run, alone in runs:
        folder = tmp_path / "reports" / run["run"]["id"]
        assert _pages(folder) == _pages(alone)
        assert len(list(folder.glob("notice-a*.html"))) == 2


def test_a_run_without_report_leaves_nothing_of_the_pages_rendered(tmp_path, monkeypatch):
    """Cancelled (the run interrupted or failed): no part, no folder made for them."""
    runs = _runs(tmp_path, monkeypatch)
    run_id = runs[1][0]["run"]["id"]
    reports = tmp_path / "other"
    stream = RunPageStream(reports, run_id, env=_environment(), archive_root=tmp_path / "archive")
    store = CaptureStore.open_readonly(tmp_path / "archive" / "lastseen.db")
    try:
        stream.write_targets(store, NAMES)
    finally:
        store.close()
    assert set(stream.done) == CHANGED
    assert len(list((reports / run_id / PARTS).iterdir())) == 3
    stream.cancel()
    assert not reports.exists() or not any(reports.iterdir())
