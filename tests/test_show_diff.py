"""``lastseen diff`` and ``lastseen show`` (#14) on a real archive: five runs on five days (``LASTSEEN_NOW``).

The fixture site serves ``notice`` (changed on days 3 and 5), ``gz`` (gzip-served, unchanged: revisits
from day 2), ``flaky`` (its capture on day 4 fails: a redirect to a closed port) and a page carrying XSS
payloads (changed on day 3) whose target name carries one too. Captures are picked by id, by date and by
the defaults (the latest, the last good before it); the terminal diff is read piped and on a real
pseudo-terminal; ``--out`` pages are opened in Chromium with the beacon listening; ``show --raw`` is
compared with warcio's own reading of the record.
"""

from __future__ import annotations

import gzip
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest

from crawler import clock
from crawler.fetch.browser import CHROMIUM_ARGS

from .beacon import Beacon
from .helpers import assert_no_script_but_ours, lastseen, record_at, write_watchlist
from .site import Site, closed_port
from .test_report_xss import _open_and_check
from .test_terminal import on_a_terminal
from .xss_payloads import BY_ID, PAYLOADS, hostile_page

DAYS = (1, 2, 3, 4, 5)
#: An escape sequence (clear screen), an OSC window title and a right-to-left override, in a page's text.
HOSTILE = "\x1b[2J \x1b]0;pwned\x07 \u202egnp.exe"
SHOWN = "\\u001b[2J \\u001b]0;pwned\\u0007 \\u202egnp.exe"
RAW_SEQUENCES = (b"\x1b[2J", b"\x1b]0;pwned", "\u202e".encode())


def _notice(deadline: str, budget: str) -> str:
    return (
        f"<html><head><title>Notice</title></head><body><h1>Public notice</h1>"
        f"<p>Deadline {deadline} March {HOSTILE}</p><p>Budget {budget} dinars</p></body></html>"
    )


@pytest.fixture(scope="module")
def beacon():
    with Beacon() as b:
        yield b


@pytest.fixture(scope="module")
def history(tmp_path_factory, beacon):
    """The project after five daily runs; ``ids[target][day]`` is each day's capture of each target."""
    tmp = tmp_path_factory.mktemp("history")
    site = Site()
    dead = f"http://127.0.0.1:{closed_port()}/gone"
    xss_name = "Tender " + BY_ID["script-inline"].markup(beacon.url("name"))

    def hostile(words):
        return hostile_page(
            list(PAYLOADS),
            lambda p: beacon.url(p.id),
            title=BY_ID["title-breakout"].markup(beacon.url("title")),
            words=words,
        )

    pages = {
        1: {
            "/notice": _notice("1", "100"),
            "/gz": "<p>Gzip page, the same every day</p>",
            "/flaky": "<p>Flaky ok</p>",
            "/xss": hostile("Tender for 400 cameras."),
            "/shot": "<html><body><h1>Shot</h1><p>Screenshots of 2024</p></body></html>",
            "/n/": '<html><body><main><a href="/n/1">Notice one</a></main></body></html>',
            "/n/1": "<html><body><h1>Notice one</h1><p>Hearing on 4 May</p></body></html>",
        },
        3: {
            "/notice": _notice("2", "100"),
            "/xss": hostile("Tender for 500 cameras and drones."),
            "/shot": "<html><body><h1>Shot</h1><p>Screenshots of 2025</p></body></html>",
            "/n/1": "<html><body><h1>Notice one</h1><p>Hearing on 9 May</p></body></html>",
        },
        5: {"/notice": _notice("2", "250"), "/flaky": "<p>Flaky ok</p>"},
    }
    targets = [
        {"name": "notice", "url": site.url("/notice"), "select": "page"},
        {"name": "gz", "url": site.url("/gz"), "select": "page"},
        {"name": "flaky", "url": site.url("/flaky"), "select": "page"},
        {"name": xss_name, "url": site.url("/xss"), "select": "page"},
        {"name": "notices", "url": site.url("/n/"), "listing": {"match": "/n/[0-9]"}},
        {
            "name": "shot",
            "url": site.url("/shot"),
            "select": "page",
            "fetch": "browser",
            "settle": "load",
            "viewport": "800x600",
        },
    ]
    write_watchlist(
        tmp / "watchlist.yaml", targets, settings={"timeout": "3s", "retries": 0}
    )
    try:
        with pytest.MonkeyPatch.context() as mp:
            for day in DAYS:
                for path, body in pages.get(day, {}).items():
                    site.set(path, body, gzip=path == "/gz")
                if day == 4:
                    site.redirect("/flaky", dead, status=302)
                os.environ.pop(clock.ENV_OFFSET, None)  # never through mp: its undo would put it back
                mp.setenv(clock.ENV_NOW, f"2026-03-0{day}T09:00:00Z")
                clock._reset()
                ran = lastseen(tmp, "run", "--json", "--force")
                assert ran.exit_code == 0, ran.stderr
        os.environ.pop(clock.ENV_OFFSET, None)
        clock._reset()
        db = sqlite3.connect(tmp / "archive" / "lastseen.db")
        ids: dict[str, dict[int, int]] = {}
        for cid, target, started in db.execute(
            "select id, target, started from captures where role = 'page' order by id"
        ):
            ids.setdefault(target, {})[int(started[8:10])] = cid
        db.close()
        assert all(sorted(ids[t["name"]]) == list(DAYS) for t in targets), ids
        yield tmp, ids, site, xss_name
    finally:
        clock._reset()
        site.close()


def _text(tmp: Path, cid: int) -> str:
    db = sqlite3.connect(tmp / "archive" / "lastseen.db")
    try:
        return db.execute(
            "select t.text from captures c join texts t on t.sha256 = c.text_sha256 where c.id = ?",
            (cid,),
        ).fetchone()[0]
    finally:
        db.close()


def _verdicts(tmp: Path, target: str) -> list[str]:
    db = sqlite3.connect(tmp / "archive" / "lastseen.db")
    try:
        return [
            v
            for (v,) in db.execute(
                "select e.verdict from events e join captures c on c.id = e.capture_id "
                "where e.target = ? and c.role = 'page' order by e.id",
                (target,),
            )
        ]
    finally:
        db.close()


# -- the scenario itself ------------------------------------------------------------------------------


def test_the_five_runs_changed_notice_twice_and_flaky_failed_once(history):
    tmp, _ids, _site, _name = history
    assert _verdicts(tmp, "notice") == [
        "new",
        "unchanged",
        "changed",
        "unchanged",
        "changed",
    ]
    flaky = _verdicts(tmp, "flaky")
    assert (
        flaky[:3] == ["new", "unchanged", "unchanged"] and flaky[3] == "unreachable"
    ), flaky


# -- lastseen diff on a pipe --------------------------------------------------------------------------


def test_diff_from_the_first_to_the_last_shows_the_union_of_the_changes(history):
    tmp, ids, _site, _name = history
    first, last = ids["notice"][1], ids["notice"][5]
    ran = lastseen(tmp, "diff", "notice", "--from", str(first), "--to", str(last))
    assert ran.exit_code == 0, ran.stderr
    head = ran.stdout.splitlines()[:3]
    assert re.fullmatch(
        rf"--- capture {first} 2026-03-01T09:00:\d\dZ http://127\.0\.0\.1:\d+/notice HTTP 200",
        head[0],
    )
    assert re.fullmatch(
        rf"\+\+\+ capture {last} 2026-03-05T09:00:\d\dZ http://127\.0\.0\.1:\d+/notice HTTP 200",
        head[1],
    )
    assert head[2] == "2 insertions, 2 deletions"
    body = "\n".join(ran.stdout.splitlines()[3:])
    assert f"Deadline [-1-]{{+2+}} March {SHOWN}" in body
    assert "Budget [-100-]{+250+} dinars" in body
    assert (
        "\x1b" not in ran.stdout and "\u202e" not in ran.stdout
    )  # the page's controls made visible


def test_diff_defaults_to_the_latest_against_the_last_good_capture_before_it(history):
    tmp, ids, _site, _name = history
    ran = lastseen(tmp, "diff", "notice")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.startswith(f"--- capture {ids['notice'][4]} 2026-03-04T")
    assert f"\n+++ capture {ids['notice'][5]} 2026-03-05T" in ran.stdout
    assert "Budget [-100-]{+250+} dinars" in ran.stdout
    assert "[-1-]" not in ran.stdout  # the change of day 3 is not between these two
    only_to = lastseen(tmp, "diff", "notice", "--to", str(ids["notice"][3]))
    assert only_to.stdout.startswith(f"--- capture {ids['notice'][2]} 2026-03-02T")
    assert (
        "Deadline [-1-]{+2+} March" in only_to.stdout
        and "[-100-]" not in only_to.stdout
    )


def test_diff_skips_a_failed_capture_when_it_picks_the_last_good_one(history):
    tmp, ids, _site, _name = history
    ran = lastseen(tmp, "diff", "flaky")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.startswith(f"--- capture {ids['flaky'][3]} 2026-03-03T")
    assert ran.stdout.splitlines()[2] == "no changes"


@pytest.mark.parametrize(
    "spec, day",
    [
        ("2026-03-03", 3),  # a date: the last capture made that day
        ("2026-03-03T08:59:00Z", 2),  # at or before: the day before's
        ("2026-03-03T10:00:00+02:00", 2),  # 08:00 UTC
        ("2026-03-03T12:00:00+02:00", 3),  # 10:00 UTC
        ("2026-03-03T10:00", 3),  # no offset: UTC
        ("2026-03-30", 5),  # after the last capture: the latest
    ],
)
def test_captures_are_picked_by_date_at_or_before_in_utc(history, spec, day):
    tmp, ids, _site, _name = history
    ran = lastseen(tmp, "show", "notice", "--at", spec)
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.rstrip("\n") == _text(tmp, ids["notice"][day]).rstrip(
        "\n"
    ).replace(HOSTILE, SHOWN)


@pytest.mark.parametrize(
    ("spec", "day"), [("2026-03-03", 3), ("2026-03-03T10:00:00+02:00", 2)]
)
def test_diff_picks_its_captures_by_date_too(history, spec, day):
    tmp, ids, _site, _name = history
    diffed = lastseen(tmp, "diff", "notice", "--from", "2026-03-01", "--to", spec)
    assert diffed.exit_code == 0, diffed.stderr
    assert diffed.stdout.startswith(f"--- capture {ids['notice'][1]} 2026-03-01T")
    assert f"\n+++ capture {ids['notice'][day]} 2026-03-0{day}T" in diffed.stdout


def test_diff_refuses_a_failed_capture_naming_the_capture_to_use(history):
    tmp, ids, _site, _name = history
    failed, before = ids["flaky"][4], ids["flaky"][3]
    for option in ("--to", "--from"):
        ran = lastseen(tmp, "diff", "flaky", option, str(failed))
        assert ran.exit_code == 2, ran.stdout
        assert ran.stdout == ""
        message = ran.stderr.strip()
        assert message.startswith(
            f"Error: {option}: capture {failed} of 'flaky' (2026-03-04T09:00:"
        )
        assert "has no text to compare: it failed (" in message
        assert (
            f"use {option} {before} (the last capture with text before it, 2026-03-03T09:00:"
            in message
        )
    by_date = lastseen(tmp, "diff", "flaky", "--to", "2026-03-04")
    assert by_date.exit_code == 2 and f"capture {failed}" in by_date.stderr


def test_show_refuses_a_failed_capture_naming_the_capture_to_use(history):
    tmp, ids, _site, _name = history
    failed, before = ids["flaky"][4], ids["flaky"][3]
    shown = lastseen(tmp, "show", "flaky", "--at", str(failed))
    assert shown.exit_code == 2 and shown.stdout == ""
    assert shown.stderr.startswith(
        f"Error: --at: capture {failed} of 'flaky' (2026-03-04T09:00:"
    )
    assert "has no text to compare: it failed (" in shown.stderr
    assert (
        f"use --at {before} (the last capture with text before it, 2026-03-03T09:00:"
        in shown.stderr
    )
    for form in ("--headers", "--raw"):
        raw = lastseen(tmp, "show", "flaky", "--at", str(failed), form)
        assert raw.exit_code == 2 and raw.stdout == ""
        assert (
            f"capture {failed} of 'flaky' has no archived response: it failed ("
            in raw.stderr
        )


@pytest.mark.parametrize(
    "args, message",
    [
        (("diff", "nope"), "no target named 'nope' in the archive"),
        (("diff", "notic"), "did you mean 'notice', 'notices'"),
        (("show", "Notice"), "no target named 'Notice'"),
        (
            ("diff", "notice", "--from", "999999"),
            "--from 999999: the archive holds no capture 999999 of 'notice'",
        ),
        (
            ("show", "notice", "--at", "999999"),
            "--at 999999: the archive holds no capture 999999 of 'notice'",
        ),
        (
            ("diff", "notice", "--from", "2026-02-28"),
            "--from '2026-02-28' is before the first capture of 'notice'",
        ),
        (
            ("show", "notice", "--at", "2026-03-01T08:00:00Z"),
            "is before the first capture of 'notice'",
        ),
        (
            ("diff", "notice", "--to", "yesterday"),
            "--to 'yesterday' is neither a capture id nor a date",
        ),
        (("show", "notice", "--at", "2026-02-30"), "--at '2026-02-30' is not a date"),
    ],
)
def test_unknown_targets_and_captures_exit_2(history, args, message):
    tmp, _ids, _site, _name = history
    ran = lastseen(tmp, *args)
    assert ran.exit_code == 2, ran.stdout
    assert message in ran.stderr, ran.stderr
    assert ran.stderr.startswith("Error: ") and ran.stdout == ""


def test_a_capture_of_another_target_is_refused(history):
    tmp, ids, _site, _name = history
    for args in (("show", "notice", "--at"), ("diff", "notice", "--from")):
        ran = lastseen(tmp, *args, str(ids["gz"][1]))
        assert ran.exit_code == 2
        assert f"capture {ids['gz'][1]} is of target 'gz', not 'notice'" in ran.stderr


# -- on a terminal ------------------------------------------------------------------------------------


def test_diff_on_a_terminal_underlines_and_strikes_and_shows_controls_as_text(history):
    tmp, ids, _site, _name = history
    status, out = on_a_terminal(tmp, "diff", "notice", "--from", str(ids["notice"][1]))
    assert status == 0, out
    for raw in RAW_SEQUENCES:
        assert raw not in out, (raw, out)
    text = out.decode()
    assert SHOWN in text
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "[-" not in plain and "{+" not in plain  # styles, not markers
    assert "Deadline 12 March" in plain and "Budget 100250 dinars" in plain
    assert re.search(r"\x1b\[[0-9;]*9[0-9;]*m1\x1b\[0m", text), (
        "the deletion is not struck through"
    )
    assert re.search(r"\x1b\[[0-9;]*4[0-9;]*m2\x1b\[0m", text), (
        "the insertion is not underlined"
    )
    assert f"+++ capture {ids['notice'][5]}" in plain


def test_show_on_a_terminal_starts_with_the_evidence_and_shows_controls_as_text(
    history,
):
    tmp, ids, _site, _name = history
    cid = ids["notice"][1]
    status, out = on_a_terminal(tmp, "show", "notice", "--at", "2026-03-01")
    assert status == 0, out
    for raw in RAW_SEQUENCES:
        assert raw not in out, (raw, out)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.decode()).replace("\r\n", "\n")
    db = sqlite3.connect(tmp / "archive" / "lastseen.db")
    warc_file, offset, record_id, sha256 = db.execute(
        "select warc_file, warc_offset, warc_record_id, payload_sha256 from captures where id = ?",
        (cid,),
    ).fetchone()
    db.close()
    lines = text.splitlines()
    assert lines[0] == f"capture      {cid} of notice"
    assert re.fullmatch(r"time         2026-03-01T09:00:\d\dZ", lines[1])
    assert re.fullmatch(r"URL          http://127\.0\.0\.1:\d+/notice", lines[2])
    assert lines[3:8] == [
        "status       200",
        f"WARC file    {warc_file}",
        f"offset       {offset}",
        f"record id    {record_id} (response)",
        f"SHA-256      {sha256} (payload as archived)",
    ]
    assert "\n".join(lines[8:]) == _text(tmp, cid).rstrip("\n").replace(HOSTILE, SHOWN)


def test_show_raw_on_a_terminal_is_refused(history):
    tmp, _ids, _site, _name = history
    status, out = on_a_terminal(tmp, "show", "gz", "--raw")
    assert status == 2, out
    assert (
        b"Error: --raw writes the archived body byte for byte" in out
        and b"use --out FILE" in out
    )
    assert b"Gzip page" not in out


# -- show --raw and --headers -------------------------------------------------------------------------


def _warcio_payload(tmp: Path, cid: int) -> bytes:
    """What ``warcio extract --payload`` prints for the record that holds capture ``cid``'s payload."""
    db = sqlite3.connect(tmp / "archive" / "lastseen.db")
    row = db.execute(
        "select warc_file, warc_offset, record_type, refers_to_record_id from captures where id = ?",
        (cid,),
    ).fetchone()
    if row[2] == "revisit":
        row = db.execute(
            "select warc_file, response_offset, 'response', null from exchanges "
            "where response_record_id = ? and record_type = 'response'",
            (row[3],),
        ).fetchone()
    db.close()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from warcio.cli import main; main()",
            "extract",
            "--payload",
            str(tmp / "archive" / row[0]),
            str(row[1]),
        ],
        capture_output=True,
        check=True,
    )
    return done.stdout


def test_show_raw_gives_the_payload_as_warcio_extracts_it(history, tmp_path):
    tmp, ids, site, _name = history
    expected = gzip.decompress(
        site.sent("/gz")
    )  # the server gzipped it; warcio decodes the content-coding
    assert expected == b"<p>Gzip page, the same every day</p>"
    for day in (1, 5):  # day 1 a response record, day 5 a revisit of it
        cid = ids["gz"][day]
        assert _warcio_payload(tmp, cid) == expected
        piped = subprocess.run(
            [sys.executable, "-m", "crawler", "show", "gz", "--at", str(cid), "--raw"],
            cwd=tmp,
            capture_output=True,
            check=True,
        )
        assert piped.stdout == expected and piped.stderr == b""
        out = tmp_path / f"day{day}.bin"
        ran = lastseen(tmp, "show", "gz", "--at", str(cid), "--raw", "--out", str(out))
        assert ran.exit_code == 0, ran.stderr
        assert out.read_bytes() == expected
    db = sqlite3.connect(tmp / "archive" / "lastseen.db")
    assert db.execute(
        "select record_type from captures where id = ?", (ids["gz"][5],)
    ).fetchone() == ("revisit",)
    db.close()


def test_show_headers_are_the_archived_response_headers(history):
    tmp, ids, _site, _name = history
    ran = lastseen(tmp, "show", "gz", "--headers", "--at", str(ids["gz"][1]))
    assert ran.exit_code == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "HTTP/1.1 200 OK"
    assert (
        "Content-Encoding: gzip" in lines
        and "Content-Type: text/html; charset=utf-8" in lines
    )
    assert "Server: fixture/1.0 Python/" + sys.version.split()[0] in lines


def test_show_text_to_a_file_is_exact(history, tmp_path):
    tmp, ids, _site, _name = history
    out = tmp_path / "text.txt"
    ran = lastseen(
        tmp, "show", "notice", "--at", str(ids["notice"][1]), "--out", str(out)
    )
    assert ran.exit_code == 0, ran.stderr
    assert out.read_text(encoding="utf-8") == _text(tmp, ids["notice"][1])
    assert HOSTILE in out.read_text(encoding="utf-8")  # a file holds the text exactly


# -- diff --out: the reports' change page -------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=list(CHROMIUM_ARGS))
        try:
            yield b
        finally:
            b.close()


def test_diff_out_writes_the_change_page_of_both_changes(history, tmp_path):
    tmp, ids, _site, _name = history
    page = tmp_path / "pages" / "notice.html"
    ran = lastseen(tmp, "diff", "notice", "--from", "2026-03-01", "--out", str(page))
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout == f"{page}: 2 insertions, 2 deletions\n"
    raw = page.read_text(encoding="utf-8")
    assert assert_no_script_but_ours(raw) == 0
    doc = lxml.html.document_fromstring(raw)
    assert doc.xpath("//h1")[0].text_content() == "notice"
    inline = doc.xpath('//div[@id="inline"]//div[@class="diff"]')[0]
    assert [d.text_content() for d in inline.xpath(".//del")] == ["1", "100"]
    assert [i.text_content() for i in inline.xpath(".//ins")] == ["2", "250"]
    heads = [
        th.text_content() for th in doc.xpath('//table[@class="evidence"]/thead//th')
    ]
    assert heads == [
        "",
        f"From: capture {ids['notice'][1]}",
        f"To: capture {ids['notice'][5]}",
    ]
    assert not doc.xpath("//a[@href='index.html']")  # no report index beside it
    # as in every report page: controls replaced (U+FFFD), bidi controls shown as text
    assert "\\u202egnp.exe" in raw and "\u202e" not in raw and "\x1b" not in raw


def test_diff_out_of_a_hostile_page_is_inert_in_chromium(
    history, tmp_path, browser, beacon
):
    tmp, _ids, _site, name = history
    folder = tmp_path / "out" / "pages"
    page = folder / "tender.html"
    ran = lastseen(tmp, "diff", name, "--from", "2026-03-02", "--out", str(page))
    assert ran.exit_code == 0, ran.stderr
    raw = page.read_text(encoding="utf-8")
    assert assert_no_script_but_ours(raw) == 0
    assert "<script" not in raw.replace("&lt;script", "")
    doc = lxml.html.document_fromstring(raw)
    assert doc.xpath("//h1")[0].text_content() == name  # the name shown as text
    assert any("500" in i.text_content() for i in doc.xpath('//div[@id="inline"]//ins'))
    _open_and_check(browser, page, beacon)
    assert beacon.requests == [], (
        f"a payload ran or loaded: the beacon heard {beacon.requests}"
    )


def test_the_diff_command_history_pages_print_runs_as_printed(history):
    """``crawler.pick.diff_command`` quotes any name for a POSIX shell: split as a shell would, it runs."""
    import shlex

    from crawler.pick import diff_command

    tmp, ids, _site, name = history
    a, b = ids[name][1], ids[name][5]
    command = diff_command(name, a, b)
    assert command == f"lastseen diff {shlex.quote(name)} --from {a} --to {b}"
    words = shlex.split(command)
    assert words[:2] == ["lastseen", "diff"] and words[2] == name
    ran = lastseen(tmp, *words[1:])
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.startswith(f"--- capture {a} 2026-03-01T")
    assert "Tender for [-400-]{+500+} cameras{+ and drones+}." in ran.stdout
    dashed = diff_command("-x", a, b)
    assert dashed == f"lastseen diff --from {a} --to {b} -- -x"


def test_show_headers_of_a_revisit_are_its_own_record_s(history):
    tmp, ids, _site, _name = history
    cid = ids["gz"][5]
    ran = lastseen(tmp, "show", "gz", "--headers", "--at", str(cid))
    assert ran.exit_code == 0, ran.stderr
    db = sqlite3.connect(tmp / "archive" / "lastseen.db")
    warc_file, offset = db.execute(
        "select warc_file, warc_offset from captures where id = ?", (cid,)
    ).fetchone()
    db.close()
    rec_type, _headers, http, _payload = record_at(tmp / "archive" / warc_file, offset)
    assert rec_type == "revisit"
    assert ran.stdout.splitlines() == [
        f"{http.protocol} {http.statusline}",
        *(f"{k}: {v}" for k, v in http.headers),
    ]
    assert "Content-Encoding: gzip" in ran.stdout.splitlines()


def test_diff_out_of_browser_captures_shows_their_screenshots_beside_the_page(
    history, tmp_path
):
    tmp, ids, _site, _name = history
    page = tmp_path / "shots" / "shot.html"
    ran = lastseen(tmp, "diff", "shot", "--from", "2026-03-01", "--out", str(page))
    assert ran.exit_code == 0, ran.stderr
    raw = page.read_text(encoding="utf-8")
    doc = lxml.html.document_fromstring(raw)
    sources = [img.get("src") for img in doc.xpath("//img")]
    assert sources == [
        f"screenshots/shot-{ids['shot'][1]}.png",
        f"screenshots/shot-{ids['shot'][5]}.png",
    ]
    for src in sources:
        assert (page.parent / src).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in (page.parent / "screenshots").iterdir()) == sorted(
        Path(s).name for s in sources
    )
    [csp] = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert (
        csp
        == "default-src 'none'; style-src 'unsafe-inline'; img-src data: 'self' file:"
    )
    assert [i.text_content() for i in doc.xpath('//div[@id="inline"]//ins')] == ["2025"]


def test_a_listing_item_is_named_listing_slash_key(history):
    tmp, _ids, _site, _name = history
    db = sqlite3.connect(tmp / "archive" / "lastseen.db")
    [(item,)] = db.execute(
        "select name from targets where name like 'notices/%'"
    ).fetchall()
    db.close()
    ran = lastseen(tmp, "diff", item, "--from", "2026-03-01")
    assert ran.exit_code == 0, ran.stderr
    assert "Hearing on [-4-]{+9+} May" in ran.stdout
    wrong = lastseen(tmp, "show", "notices/nope")
    assert wrong.exit_code == 2
    assert "no target named 'notices/nope'" in wrong.stderr
    assert (
        f"'{item}'" in wrong.stderr and "LISTING/KEY" in wrong.stderr
    )  # the item suggested


@pytest.mark.parametrize(
    "args", [("show", "gz", "--raw"), ("show", "notice"), ("diff", "notice")]
)
def test_a_reader_gone_from_the_pipe_ends_the_command_quietly(history, args):
    """``| head`` closes the pipe early: exit 141 (as ``cat``), no traceback, nothing on stderr."""
    import os

    tmp, _ids, _site, _name = history
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        done = subprocess.run(
            [sys.executable, "-m", "crawler", *args],
            cwd=tmp,
            stdout=write,
            stderr=subprocess.PIPE,
            check=False,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, b"")
