"""Issue #17: history pages written while the run fetches (crawler/report/stream.py), finished at its end.

The pages a run leaves are those one write at the end of the run gives, byte for byte: streamed from a real
run (each target's rows committed at once, so every target is handed while the run goes on), streamed by
hand then finished, and when a change page's name known only at the end differs from the one streamed.
A run that ends without pages leaves nothing of what was streamed.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler import clock, pagewriter, recorder
from crawler.report import front, history
from crawler.report.assets import archive_assets
from crawler.report.render import _environment
from crawler.report.stream import HistoryStream
from crawler.slugs import target_slug
from crawler.store import CaptureStore

from . import test_history_pages
from .helpers import lastseen, write_watchlist
from .site import Site
from .test_history_pages import HOSTILE, _files

NAMES = ("notice", "weekly", HOSTILE)


@pytest.fixture(scope="module")
def history_project(tmp_path_factory):
    """test_history_pages.py's: five daily runs on the fixture site, page sizes patched small."""
    yield from test_history_pages.project.__wrapped__(tmp_path_factory)
GENERATED = datetime(2026, 3, 6, tzinfo=UTC)  # fixed: pages written twice compare byte for byte


def _last(history_project) -> str:
    return history_project["runs"][-1]["run"]["id"]


def _captured(history_project) -> list[tuple[str, str]]:
    return [(e["target"], "https://unused.example/") for e in history_project["runs"][-1]["events"]]


def _write(history_project, reports: Path, streamed=None) -> None:
    store = CaptureStore.open_readonly(history_project["root"] / "archive" / "lastseen.db")
    try:
        front.write_archive_pages(
            store, reports, run_id=_last(history_project), targets=[(n, "https://unused.example/") for n in NAMES],
            captured=_captured(history_project), generated=GENERATED, streamed=streamed,
        )
    finally:
        store.close()


def _stream(history_project, reports: Path) -> HistoryStream:
    env = _environment()
    stream = HistoryStream(reports, _last(history_project), env=env, assets=archive_assets(env),
                           page_rows=history.HISTORY_PAGE_ROWS)
    store = CaptureStore.open_readonly(history_project["root"] / "archive" / "lastseen.db")
    try:
        stream.write_targets(store, _captured(history_project))
    finally:
        store.close()
    return stream


def _copy(history_project, to: Path, *, fresh: bool) -> Path:
    shutil.copytree(history_project["reports"], to)
    if fresh:
        shutil.rmtree(to / "targets")  # every folder made by the writer
    return to


@pytest.mark.parametrize("fresh", [True, False], ids=["new folders", "pages there before"])
def test_pages_streamed_then_finished_equal_one_write_at_the_end(history_project, tmp_path, fresh):
    """While streamed, the pages in place are the old ones (the new ones wait in the spool) and
    the marker says pages are being written; finished, every file equals one write at the end's."""
    alone = _copy(history_project, tmp_path / "alone", fresh=fresh)
    streamed = _copy(history_project, tmp_path / "streamed", fresh=fresh)
    _write(history_project, alone)
    before = _files(streamed / "targets")
    stream = _stream(history_project, streamed)
    assert {e["target"] for e in history_project["runs"][-1]["events"]} == {"notice", HOSTILE}
    assert set(stream.done) == {"notice", HOSTILE}
    visible = {k: v for k, v in _files(streamed / "targets").items() if not Path(k).name.startswith(".")}
    assert visible == before
    assert (streamed / "targets" / history.WRITING).exists()
    _write(history_project, streamed, stream)
    assert _files(streamed / "targets") == _files(alone / "targets")
    assert (streamed / "index.html").read_bytes() == (alone / "index.html").read_bytes()
    assert not [p for p in (streamed / "targets").rglob(".*")]  # no temporary file, no marker


def test_a_change_page_named_otherwise_at_the_end_is_written_again(history_project, tmp_path, monkeypatch):
    """The run's report names ``notice``'s change page ``notice-2.html`` (another target of the run took
    ``notice.html``): the page streamed with ``notice.html`` is not kept; the history page links the
    report's name, as one write at the end does."""
    pages = front.run_change_pages

    def renamed(store, run_id, order=None):
        return {k: ("notice-2.html" if v == "notice.html" else v) for k, v in pages(store, run_id, order).items()}

    alone = _copy(history_project, tmp_path / "alone", fresh=False)
    streamed = _copy(history_project, tmp_path / "streamed", fresh=False)
    stream = _stream(history_project, streamed)
    monkeypatch.setattr(front, "run_change_pages", renamed)
    _write(history_project, alone)
    _write(history_project, streamed, stream)
    page = (streamed / "targets" / "notice" / "index.html").read_text(encoding="utf-8")
    assert f'href="../../{_last(history_project)}/notice-2.html"' in page
    assert _files(streamed / "targets") == _files(alone / "targets")


def test_a_run_ending_without_pages_leaves_nothing_of_the_streamed_ones(history_project, tmp_path):
    """Cancelled (interrupted, failed): no temporary file, no folder made for them, no marker; the pages
    there before are untouched. A marker a killed writer left stays (every page is written next run)."""
    for fresh in (True, False):
        reports = _copy(history_project, tmp_path / f"r{fresh}", fresh=fresh)
        (reports / "targets").mkdir(exist_ok=True)
        before = _files(reports)
        _stream(history_project, reports).cancel()
        assert _files(reports) == before
        assert sorted(os.listdir(reports / "targets")) == sorted(
            [] if fresh else [p.name for p in (history_project["reports"] / "targets").iterdir()])
    (reports / "targets" / history.WRITING).touch()
    stream = _stream(history_project, reports)
    assert stream.redo
    stream.cancel()
    assert (reports / "targets" / history.WRITING).exists()


@pytest.mark.parametrize("part_items", [None, 2], ids=["one part", "parts of two"])
def test_a_real_run_streams_its_pages_and_leaves_those_of_one_write_at_the_end(tmp_path, monkeypatch, part_items):
    """Each capture committed at once: every target is handed to the writer while the run fetches (the
    writer's log says so); the run's pages equal one write at the end's, byte for byte, also when the
    targets, those captured and the run's order are handed a few at a time (#17, ``PART_ITEMS``)."""
    if part_items is not None:
        monkeypatch.setattr(pagewriter, "PART_ITEMS", part_items)
    log = tmp_path / "streamed.log"
    write_targets = HistoryStream.write_targets

    def logged(self, store, targets):
        targets = list(targets)
        with open(log, "a", encoding="utf-8") as fh:  # the writer is a child process: a file says what it did
            fh.writelines(f"{name}\n" for name, _ in targets)
        return write_targets(self, store, targets)

    monkeypatch.setattr(HistoryStream, "write_targets", logged)
    monkeypatch.setattr(recorder, "COMMIT_EVERY", 1)
    site = Site()
    try:
        names = [f"page {i}" for i in range(6)]
        for i in range(6):
            site.set(f"/p{i}", f"<h1>Page {i}</h1><p>Text {i}.</p>")
        write_watchlist(tmp_path / "watchlist.yaml",
                        [{"name": n, "url": site.url(f"/p{i}"), "every": "1d"} for i, n in enumerate(names)])
        monkeypatch.setenv(clock.ENV_NOW, "2026-04-01T09:00:00Z")
        os.environ.pop(clock.ENV_OFFSET, None)
        clock._reset()
        ran = lastseen(tmp_path, "run", "--json")
        assert ran.exit_code == 0, ran.stderr
        site.set("/p2", "<h1>Page 2</h1><p>Text changed.</p>")
        monkeypatch.setenv(clock.ENV_NOW, "2026-04-02T09:00:00Z")
        os.environ.pop(clock.ENV_OFFSET, None)  # never through monkeypatch: its undo would put it back
        clock._reset()
        log.unlink()
        ran = lastseen(tmp_path, "run", "--json")
        assert ran.exit_code == 0, ran.stderr
    finally:
        site.close()
        clock._reset()
    assert sorted(log.read_text(encoding="utf-8").split("\n")[:-1]) == sorted(names)
    reports = tmp_path / "reports"
    assert (reports / "targets" / target_slug("page 2") / "index.html").is_file()
    alone = tmp_path / "alone"
    shutil.copytree(reports, alone)
    # the clock runs on from LASTSEEN_NOW: the time the run's pages say they were generated, to the second
    page = (reports / "targets" / target_slug("page 0") / "index.html").read_text(encoding="utf-8")
    generated = datetime.fromisoformat(re.search(r"Generated (\S+) by lastseen", page).group(1))
    store = CaptureStore.open_readonly(tmp_path / "archive" / "lastseen.db")
    try:
        for i in range(6):  # the run's history pages, each written again at the end of the run
            folder = alone / "targets" / target_slug(names[i])
            (folder / "index.html").write_bytes(b"stale")
        front.write_archive_pages(
            store, alone, run_id=ran.json["run"]["id"], targets=[(n, site.url(f"/p{i}")) for i, n in enumerate(names)],
            captured=[(n, site.url(f"/p{i}")) for i, n in enumerate(names)], generated=generated,
        )
    finally:
        store.close()
    assert _files(alone / "targets") == _files(reports / "targets")
    assert (alone / "index.html").read_bytes() == (reports / "index.html").read_bytes()  # the front page
    changed = f'href="../../{ran.json["run"]["id"]}/'.encode()  # the run's change page, linked
    assert changed in (reports / "targets" / target_slug("page 2") / "index.html").read_bytes()
    assert changed not in (reports / "targets" / target_slug("page 0") / "index.html").read_bytes()



@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "written at the end"])
def test_pages_written_in_place_never_write_through_a_link_and_are_cut_to_their_length(
        history_project, tmp_path, streamed):
    """Pages are written over the ones there before (#17): one much longer than its new version ends where
    the new one does; a page with another hard link (a snapshot made with ``cp -al``) and a page that is a
    symbolic link are replaced, the files they shared bytes with or pointed at left as they were. Every
    page equals one write at the end's, in a copy where none of this was done."""
    alone = _copy(history_project, tmp_path / "alone", fresh=False)
    _write(history_project, alone)
    reports = _copy(history_project, tmp_path / "reports", fresh=False)
    notice = reports / "targets" / "notice" / "index.html"
    notice.write_bytes(notice.read_bytes() + b"<p>left over</p>" * 5000)
    hostile = reports / "targets" / target_slug(HOSTILE) / "index.html"
    snapshot = tmp_path / "snapshot.html"
    os.link(hostile, snapshot)
    kept = snapshot.read_bytes()
    elsewhere = tmp_path / "elsewhere.html"
    elsewhere.write_bytes(b"not a history page")
    weekly = reports / "targets" / "weekly" / "index.html"
    weekly.unlink()
    weekly.symlink_to(elsewhere)
    history_project_targets = [("weekly", "https://unused.example/")]
    _write(history_project, reports, _stream(history_project, reports) if streamed else None)
    store = CaptureStore.open_readonly(history_project["root"] / "archive" / "lastseen.db")
    try:  # weekly was not captured by the last run: its page written again, as a writer left behind would
        (reports / "targets" / history.WRITING).touch()
        (alone / "targets" / history.WRITING).touch()
        for where in (reports, alone):
            front.write_archive_pages(store, where, run_id=_last(history_project), targets=history_project_targets,
                                      captured=history_project_targets, generated=GENERATED)
    finally:
        store.close()
    assert snapshot.read_bytes() == kept and os.stat(snapshot).st_nlink == 1
    assert elsewhere.read_bytes() == b"not a history page"
    assert not weekly.is_symlink()
    assert _files(reports / "targets") == _files(alone / "targets")
    assert not [p for p in (reports / "targets").rglob(".*")]
