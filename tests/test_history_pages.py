"""Issue #14: the archive front page (``reports/index.html``) and target history pages
(``reports/targets/<slug>/``), written by real runs on the fixture site, dated by ``LASTSEEN_NOW``.

Five daily runs: ``notice`` is captured on each and changes on days 3 and 5; ``weekly`` is captured on
day 1 only; a target with a hostile name on each. Then a run with nothing due. Page sizes are patched
small (history 3, runs 2, targets 2) so that every list is paginated.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest

from crawler import clock
from crawler.fetch.browser import CHROMIUM_ARGS
from crawler.report import front, history
from crawler.slugs import target_slug
from crawler.store import CaptureStore

from .helpers import lastseen, write_watchlist
from .site import Site

HOSTILE = '../Ministère <b>des</b> "Affaires"/étrangères & co'
DAYS = [f"2026-03-0{d}T09:00:00Z" for d in range(1, 6)]
NOTICE = {
    1: "Deadline 1 March for all applications.",
    3: "Deadline 15 March for all applications.",
    5: "Deadline 15 March for some applications only.",
}


def _stat(path: Path) -> tuple:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, path.read_bytes()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("history")
    site = Site()
    mp = pytest.MonkeyPatch()
    mp.setattr(history, "HISTORY_PAGE_ROWS", 3)
    mp.setattr(front, "RUN_PAGE_ROWS", 2)
    mp.setattr(front, "TARGET_PAGE_ROWS", 2)
    seen: dict = {}
    try:
        site.set("/weekly", "<h1>Weekly</h1><p>Nothing new this week.</p>")
        site.set("/other", "<h1>Other</h1><p>Always the same.</p>")
        write_watchlist(
            tmp / "watchlist.yaml",
            [
                {"name": "notice", "url": site.url("/notice"), "every": "1d"},
                {"name": "weekly", "url": site.url("/weekly"), "every": "1w"},
                {"name": HOSTILE, "url": site.url("/other"), "every": "1d"},
            ],
        )
        runs = []
        for day, now in enumerate(DAYS, 1):
            if day in NOTICE:
                site.set("/notice", f"<h1>Notice</h1><p>{NOTICE[day]}</p>")
            mp.setenv(clock.ENV_NOW, now)
            os.environ.pop(
                clock.ENV_OFFSET, None
            )  # never through mp: its undo would put it back
            clock._reset()
            ran = lastseen(tmp, "run", "--json")
            assert ran.exit_code == 0, ran.stderr
            runs.append(ran.json)
            if day == 1:
                seen["weekly"] = _stat(
                    tmp / "reports" / "targets" / "weekly" / "index.html"
                )
                seen["assets"] = {
                    p.name: _stat(p) for p in (tmp / "reports" / "assets").iterdir()
                }
            if day == 2:
                seen["runs-1"] = _stat(tmp / "reports" / "runs-1.html")
            if day == 4:
                seen["captures-1"] = _stat(
                    tmp / "reports" / "targets" / "notice" / "captures-1.html"
                )
        seen["index"] = _stat(tmp / "reports" / "index.html")
        mp.setenv(
            clock.ENV_NOW, "2026-03-05T10:00:00Z"
        )  # an hour later: nothing is due
        clock._reset()
        idle = lastseen(tmp, "run", "--json")
        assert idle.exit_code == 0 and idle.json["events"] == [], idle.stdout
        yield {
            "root": tmp,
            "reports": tmp / "reports",
            "runs": runs,
            "seen": seen,
            "idle": idle.json,
        }
    finally:
        mp.undo()
        clock._reset()
        site.close()


def _doc(path: Path):
    return lxml.html.document_fromstring(
        path.read_bytes(), parser=lxml.html.HTMLParser(encoding="utf-8")
    )


def _history_rows(folder: Path) -> list[dict]:
    """Every capture row of a target's history pages, oldest first (numbered pages, then index.html)."""
    numbered = sorted(
        folder.glob("captures-*.html"),
        key=lambda p: int(re.search(r"\d+", p.name).group()),
    )
    pages = numbered + [folder / "index.html"]
    rows: dict[int, dict] = {}
    for page in pages:
        for tr in _doc(page).xpath('//table[@id="captures"]/tbody/tr'):
            link = tr.xpath('.//a[@class="change"]')
            rows[int(tr.xpath("./td[1]")[0].text_content())] = {
                "capture": int(tr.get("data-capture")),
                "verdict": tr.xpath('.//span[contains(@class,"badge")]')[0].text,
                "link": (page.parent / link[0].get("href")).resolve() if link else None,
                "cells": [td.text_content() for td in tr.xpath("./td")],
            }
    return [rows[n] for n in sorted(rows)]


def test_a_target_captured_on_five_runs_lists_five_captures_and_links_its_two_change_pages(
    project,
):
    folder = project["reports"] / "targets" / "notice"
    rows = _history_rows(folder)
    events = [
        next(e for e in run["events"] if e["target"] == "notice")
        for run in project["runs"]
    ]
    assert [r["verdict"] for r in rows] == [
        "new",
        "unchanged",
        "changed",
        "unchanged",
        "changed",
    ]
    assert [r["verdict"] for r in rows] == [e["verdict"] for e in events]
    changes = [
        (r, run) for r, run in zip(rows, project["runs"]) if r["verdict"] == "changed"
    ]
    # the two change pages, and the first capture's page (the proof of what the page said on day one)
    assert [r["link"] is not None for r in rows] == [True, False, True, False, True]
    assert (
        rows[0]["cells"][7] == "capture page"
        and rows[2]["cells"][7] == rows[4]["cells"][7] == "change page"
    )
    assert (
        rows[0]["link"].parent
        == (project["reports"] / project["runs"][0]["run"]["id"]).resolve()
    )
    for row, run in changes:
        # the run report's own change page of that run: its run folder, naming the target and its capture
        assert row["link"].parent == (project["reports"] / run["run"]["id"]).resolve()
        page = _doc(row["link"]).text_content()
        assert "notice" in page and "15 March" in page
    assert "some applications only" in _doc(changes[1][0]["link"]).text_content()
    # each row: capture time, HTTP status, size and WARC record (file and offset)
    db_rows = _captures(project["root"], "notice")
    for row, (cid, started, status, size, warc_file, offset) in zip(rows, db_rows):
        assert row["capture"] == cid
        assert started in row["cells"][2] and str(status) in row["cells"][4]
        assert f"{size:,} B" == row["cells"][5]
        assert warc_file in row["cells"][6] and f"offset {offset}" in row["cells"][6]
    # three a page, numbered from the oldest: captures-1.html (1-3) and index.html (4-5)
    assert sorted(p.name for p in folder.glob("*.html")) == [
        "captures-1.html",
        "index.html",
    ]
    assert (
        len(_doc(folder / "index.html").xpath('//table[@id="captures"]/tbody/tr')) == 2
    )
    # without scripts the command is there, quoted for a shell
    assert (
        "lastseen diff notice --from CAPTURE --to CAPTURE"
        in _doc(folder / "index.html").text_content()
    )


def _captures(root: Path, target: str) -> list[tuple]:
    import sqlite3

    db = sqlite3.connect(root / "archive" / "lastseen.db")
    try:
        return db.execute(
            "select captures.id, captures.started, captures.status, captures.payload_length, captures.warc_file, "
            "captures.warc_offset from events join captures on captures.id = events.capture_id "
            "where events.target = ? order by events.id",
            (target,),
        ).fetchall()
    finally:
        db.close()


def test_the_front_page_lists_runs_newest_first_paginated_from_the_oldest(project):
    reports = project["reports"]
    ids = [run["run"]["id"] for run in project["runs"]]
    index = _doc(reports / "index.html")
    assert [
        tr.get("data-run") for tr in index.xpath('//table[@id="runs"]/tbody/tr')
    ] == ids[::-1][:2]
    # run pages of two, numbered from the oldest; each newest first; the idle run is on none
    pages = {
        k: [
            tr.get("data-run")
            for tr in _doc(reports / f"runs-{k}.html").xpath(
                '//table[@id="runs"]/tbody/tr'
            )
        ]
        for k in (1, 2, 3)
    }
    assert pages == {1: ids[1::-1], 2: ids[3:1:-1], 3: ids[4:]}
    assert not (reports / "runs-4.html").exists()
    assert project["idle"]["run"]["id"] not in (reports / "index.html").read_text(
        encoding="utf-8"
    )
    # each run links to its report and gives its counts
    first = index.xpath('//table[@id="runs"]/tbody/tr')[0]
    assert first.xpath(".//a")[0].get("href") == f"{ids[4]}/index.html"
    assert (reports / ids[4] / "index.html").is_file()
    assert "changed 1" in " ".join(first.text_content().split())
    # a full page is never written again; the idle run rewrote nothing
    assert _stat(reports / "runs-1.html") == project["seen"]["runs-1"]
    assert _stat(reports / "index.html") == project["seen"]["index"]


def test_the_target_list_gives_each_target_its_last_verdict_and_history_page(project):
    reports = project["reports"]
    rows = []
    for k in (1, 2):
        for tr in _doc(reports / f"targets-{k}.html").xpath(
            '//table[@id="targets"]/tbody/tr'
        ):
            rows.append(
                (
                    tr.xpath("./td[1]")[0].text_content(),
                    tr.get("data-verdict"),
                    tr.xpath(".//a")[0].get("href"),
                )
            )
    assert not (reports / "targets-3.html").exists()
    hrefs = {name: href for name, _, href in rows}
    assert [(r[1]) for r in rows] == ["changed", "new", "unchanged"]
    assert (
        rows[0][0].startswith("notice")
        and rows[1][0].startswith("weekly")
        and rows[2][0].startswith(HOSTILE)
    )
    for href in hrefs.values():
        assert (reports / href).is_file() and (
            reports / href
        ).resolve().parent.parent == (reports / "targets").resolve()
    index = " ".join(_doc(reports / "index.html").text_content().split())
    assert "1 changed" in index and "1 new" in index and "1 unchanged" in index


def test_pages_of_targets_not_captured_are_not_rewritten(project):
    weekly = project["reports"] / "targets" / "weekly" / "index.html"
    assert _stat(weekly) == project["seen"]["weekly"]
    assert [r["verdict"] for r in _history_rows(weekly.parent)] == ["new"]
    notice = project["reports"] / "targets" / "notice" / "captures-1.html"
    assert _stat(notice) == project["seen"]["captures-1"]


def test_the_hostile_name_gets_a_safe_folder_and_is_shown_as_text(project):
    folder = project["reports"] / "targets" / target_slug(HOSTILE)
    assert re.fullmatch(r"[a-z0-9-]+", folder.name) and folder.is_dir()
    doc = _doc(folder / "index.html")
    assert doc.xpath("//h1")[0].text_content() == HOSTILE
    assert not doc.xpath("//h1//b")
    assert len(_history_rows(folder)) == 5


@pytest.mark.parametrize(
    "names",
    [
        [
            "/",
            "..",
            ".",
            "../..",
            "a/b",
            "a\\b",
            "",
            " ",
            "-",
            "--",
            "con",
            "CON",
            "nul.txt",
            "index",
        ],
        [
            "Press",
            "press",
            "PRESS",
            "pReSs",
            "Ministère",
            "ministere",
            "MINISTÈRE",
            "ministère",
        ],
        [
            "x" * 500,
            "x" * 499 + "y",
            "é" * 500,
            "日本語のページ",
            "страница",
            "صفحة",
            "\u202eevil",
            "a\x00b",
            "a\nb",
        ],
        [
            "press-0123456789abcdef",
            "press",
            "Press",
            "target",
            "target-" + target_slug("")[-16:],
        ],
    ],
)
def test_hostile_names_give_safe_unique_slugs(names):
    slugs = [target_slug(n) for n in names]
    for name, slug in zip(names, slugs):
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), (name, slug)
        assert len(slug) <= 81 and slug not in ("con", "nul", "prn", "aux")
        assert target_slug(name) == slug  # the same name, the same folder, every run
    assert len(set(slugs)) == len(
        names
    )  # unique, and lowercase: unique on case-insensitive filesystems too
    assert (
        target_slug("press-releases") == "press-releases"
    )  # a plain name is its own folder


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=list(CHROMIUM_ARGS))
        try:
            yield b
        finally:
            b.close()


def _open(browser, path: Path, *, js: bool = True):
    context = browser.new_context(java_script_enabled=js)
    page = context.new_page()
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda e: messages.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page, messages


def test_the_two_select_form_opens_a_change_page_or_shows_the_command(project, browser):
    folder = project["reports"] / "targets" / "notice"
    rows = _history_rows(folder)
    ids = [r["capture"] for r in rows]
    context, page, messages = _open(browser, folder / "captures-1.html")
    try:
        selects = page.locator("#compare select")
        assert selects.count() == 2
        # captures 2 -> 3: the day-3 change compared exactly these: its change page opens
        selects.nth(0).select_option(str(ids[1]))
        selects.nth(1).select_option(str(ids[2]))
        with page.expect_navigation():
            page.locator("#compare button").click()
        assert Path(page.url.removeprefix("file://")).resolve() == rows[2]["link"]
        # captures 1 -> 3: no event compared them: the command to run
        page.goto((folder / "captures-1.html").as_uri())
        page.wait_for_load_state("load")
        page.locator("#compare select").nth(0).select_option(str(ids[0]))
        page.locator("#compare select").nth(1).select_option(str(ids[2]))
        page.locator("#compare button").click()
        shown = page.locator("#compare code.command")
        shown.wait_for()
        assert (
            shown.text_content()
            == f"lastseen diff notice --from {ids[0]} --to {ids[2]}"
        )
        assert page.url == (folder / "captures-1.html").as_uri()
        assert not messages, messages
    finally:
        context.close()
    # the hostile name's command is quoted for a shell, shown as text
    context, page, messages = _open(
        browser, project["reports"] / "targets" / target_slug(HOSTILE) / "index.html"
    )
    try:
        selects = page.locator("#compare select")
        options = selects.nth(0).locator("option")
        first, last = (
            options.nth(0).get_attribute("value"),
            options.nth(options.count() - 1).get_attribute("value"),
        )
        selects.nth(0).select_option(first)
        selects.nth(1).select_option(last)
        page.locator("#compare button").click()
        shown = page.locator("#compare code.command")
        shown.wait_for()
        assert (
            shown.text_content()
            == f"lastseen diff '{HOSTILE}' --from {first} --to {last}"
        )
        assert not messages, messages
    finally:
        context.close()
    # scripts off: no control, the command in the page
    context, page, _ = _open(browser, folder / "index.html", js=False)
    try:
        assert page.locator("select, button").count() == 0
        assert (
            "lastseen diff notice --from CAPTURE --to CAPTURE"
            in page.locator("#compare").text_content()
        )
    finally:
        context.close()


# -- the shared stylesheet and script (reports/assets/) ------------------------------------------


def _assets(reports: Path) -> dict[str, Path]:
    files = {p.suffix: p for p in (reports / "assets").iterdir()}
    assert sorted(files) == [".css", ".js"], sorted(
        reports.joinpath("assets").iterdir()
    )
    return files


def _csp(doc) -> dict[str, list[str]]:
    [content] = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    return {d.split()[0]: d.split()[1:] for d in content.split(";")}


def test_pages_link_one_stylesheet_and_script_named_by_their_content_and_written_once(
    project,
):
    reports = project["reports"]
    files = _assets(reports)
    for path in (
        files.values()
    ):  # the name is the content's SHA-256: a new version gets a new file
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        assert re.fullmatch(r"(lastseen|history)-[0-9a-f]{16}", path.stem), path.name
        assert path.stem.endswith(digest), path.name
    assert (
        files[".js"].read_bytes()
        == (
            Path(history.__file__).parent.parent / "templates" / "history.js"
        ).read_bytes()
    )
    # written by the first run, left as they were by the four after it
    assert {p.name: _stat(p) for p in files.values()} == project["seen"]["assets"]
    css = f"assets/{files['.css'].name}"
    pages = [
        reports / "index.html",
        *reports.glob("runs-*.html"),
        *reports.glob("targets-*.html"),
    ]
    pages += list(reports.glob("targets/*/*.html"))
    assert len(pages) > 10
    for page in pages:
        doc = _doc(page)
        depth = len(page.relative_to(reports).parts) - 1
        assert doc.xpath('//link[@rel="stylesheet"]/@href') == ["../" * depth + css], (
            page
        )
        assert doc.xpath("//style") == [], page  # nothing inline
        policy = _csp(doc)
        assert policy["style-src"] == ["'self'", "file:"], page
        scripts = doc.xpath("//script")
        if depth == 0:  # the front page and its list pages: no script
            assert scripts == [] and "script-src" not in policy, page
            continue
        # a history page: one inline line that adds the script file, allowed by its hash
        [loader] = scripts
        assert loader.get("src") is None
        assert f'"../../assets/{files[".js"].name}"' in loader.text, loader.text
        digest = hashlib.sha256(loader.text.encode()).digest()
        source = "'sha256-" + __import__("base64").b64encode(digest).decode() + "'"
        assert policy["script-src"] == [source, "'strict-dynamic'"], page
    # run reports stay single files: their stylesheet inline, nothing of assets/
    for page in reports.glob("r*/index.html"):
        raw = page.read_text(encoding="utf-8")
        assert "<style>" in raw and "assets/" not in raw, page


def test_a_script_in_the_markup_does_not_run_only_the_one_the_loader_adds(
    project, browser
):
    """'strict-dynamic': the history script runs when the page's hash-allowed line adds it; the same
    file named by a ``<script src>`` in the markup (as an injection would) is refused, from disk."""
    folder = project["reports"] / "targets" / "notice"
    raw = (folder / "index.html").read_text(encoding="utf-8")
    js = _assets(project["reports"])[".js"].name
    injected = re.sub(
        r"<script>.*?</script>",
        f'<script src="../../assets/{js}"></script>',
        raw,
        flags=re.DOTALL,
    )
    assert injected != raw
    copy = folder / "injected-test.html"
    copy.write_text(injected, encoding="utf-8")
    try:
        context, page, messages = _open(browser, copy)
        try:
            assert page.locator("#compare select").count() == 0
            assert any("Content Security Policy" in m for m in messages), messages
        finally:
            context.close()
        context, page, messages = _open(browser, folder / "index.html")
        try:
            assert page.locator("#compare select").count() == 2
            assert not messages, messages
        finally:
            context.close()
    finally:
        copy.unlink()


def test_pages_cut_short_by_a_killed_writer_are_all_written_again(project, tmp_path):
    """Pages in a folder the writer has just made are written in place; ``targets/.writing`` stays
    while it writes. Left behind (the run was killed), the next writer writes every target's pages."""
    reports = tmp_path / "reports"
    shutil.copytree(project["reports"], reports)
    weekly = reports / "targets" / "weekly" / "index.html"
    whole = weekly.read_bytes()
    weekly.write_bytes(whole[:100])  # cut short
    (reports / "targets" / history.WRITING).touch()
    store = CaptureStore.open_readonly(project["root"] / "archive" / "lastseen.db")
    try:
        last = project["runs"][-1]["run"]["id"]
        targets = [
            (n, "https://unused.example/") for n in ("notice", "weekly", HOSTILE)
        ]
        front.write_archive_pages(
            store,
            reports,
            run_id=last,
            targets=targets,
            captured=[],
            generated=clock.now(),
        )
    finally:
        store.close()
    assert not (reports / "targets" / history.WRITING).exists()
    assert weekly.read_bytes().startswith(whole[:100])

    def rows(reports_dir: Path) -> list[dict]:  # links relative to their reports folder
        return [
            {**r, "link": r["link"] and r["link"].relative_to(reports_dir.resolve())}
            for r in _history_rows(reports_dir / "targets" / "weekly")
        ]

    assert rows(reports) == rows(project["reports"])
    # without the marker, a target not captured is left alone
    weekly.write_bytes(b"cut")
    store = CaptureStore.open_readonly(project["root"] / "archive" / "lastseen.db")
    try:
        front.write_archive_pages(
            store,
            reports,
            run_id=last,
            targets=targets,
            captured=[],
            generated=clock.now(),
        )
    finally:
        store.close()
    assert weekly.read_bytes() == b"cut"


def _write_all(project, reports: Path) -> None:
    store = CaptureStore.open_readonly(project["root"] / "archive" / "lastseen.db")
    try:
        front.write_archive_pages(
            store,
            reports,
            run_id=project["runs"][-1]["run"]["id"],
            targets=[(n, "https://unused.example/") for n in ("notice", "weekly", HOSTILE)],
            captured=[],
            generated=datetime(2026, 3, 6, tzinfo=UTC),  # fixed: pages written twice compare byte for byte
        )
    finally:
        store.close()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_helper_process_writing_a_share_of_the_pages_writes_the_same_pages(project, tmp_path, monkeypatch):
    """Many pages to write and two CPUs: a forked helper writes a share of the history pages (its own
    index connection) while the writer writes the rest and the front page. The pages are those one
    process writes, byte for byte, and no marker is left."""
    started = []
    start = history._Helper.start

    def counted(*args):
        started.append(len(args[2]))
        return start(*args)

    monkeypatch.setattr(history._Helper, "start", counted)
    monkeypatch.setattr(history.os, "sched_getaffinity", lambda pid: {0, 1})
    alone, shared = tmp_path / "alone", tmp_path / "shared"
    for reports, share_min in ((alone, 10**9), (shared, 1)):
        shutil.copytree(project["reports"], reports)
        shutil.rmtree(reports / "targets")  # every target's pages again
        monkeypatch.setattr(history, "SHARE_MIN", share_min)
        _write_all(project, reports)
    assert started == [2]  # three targets: the helper wrote two, the writer one and the front page
    assert not (shared / "targets" / history.WRITING).exists()
    assert _files(shared / "targets") == _files(alone / "targets")
    assert len(_files(shared / "targets")) >= 3
    assert (shared / "index.html").read_bytes() == (alone / "index.html").read_bytes()


def test_a_helper_that_fails_says_why_and_every_page_is_written_again(project, tmp_path, monkeypatch):
    """The helper cannot write a page (a file stands where a target's folder goes): the writer raises
    an ArchiveError naming the helper and the path, and ``targets/.writing`` stays, so the next writer
    writes every page again."""
    from crawler.errors import ArchiveError

    monkeypatch.setattr(history, "SHARE_MIN", 1)
    monkeypatch.setattr(history.os, "sched_getaffinity", lambda pid: {0, 1})
    reports = tmp_path / "reports"
    shutil.copytree(project["reports"], reports)
    shutil.rmtree(reports / "targets")
    (reports / "targets").mkdir()
    blocker = reports / "targets" / target_slug(HOSTILE)  # the last target: in the helper's share
    blocker.write_bytes(b"not a folder")
    (reports / "targets" / history.WRITING).touch()  # a killed writer's: every target is written
    with pytest.raises(ArchiveError) as raised:
        _write_all(project, reports)
    message = str(raised.value)
    assert "helper process" in message and "2 targets" in message
    assert "Not a directory" in message and target_slug(HOSTILE) in message
    assert (reports / "targets" / history.WRITING).exists()
    blocker.unlink()
    weekly = reports / "targets" / "weekly" / "index.html"
    weekly.write_bytes(b"cut")
    _write_all(project, reports)
    assert not (reports / "targets" / history.WRITING).exists()

    def rows(reports_dir: Path) -> list[dict]:  # links relative to their reports folder
        return [
            {**r, "link": r["link"] and r["link"].relative_to(reports_dir.resolve())}
            for r in _history_rows(reports_dir / "targets" / "weekly")
        ]

    assert rows(reports) == rows(project["reports"]) and len(rows(reports)) == 1
