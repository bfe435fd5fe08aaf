"""`make demo` (#11): three offline runs on local pages; the reports show what the demo promises.

The demo driver runs as `make demo` runs it (``demo/demo.py`` with the virtualenv's Python),
into a temporary folder; the tests read what it printed and the reports it points at.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest

from crawler.watchlist import load_watchlist

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo" / "demo.py"

CASE, REFS, PRESS, TENDER, STATEMENT = (
    "oculara-case-study",
    "oculara-references",
    "oculara-press-release",
    "ravnograd-tender",
    "ravnograd-statement",
)
NO_REASON = "—"  # what the report's index shows for a verdict without a reason

#: (verdict, reason, alerted) of each target in the index of each run's report.
EXPECTED = [
    {
        name: ("new", NO_REASON, False)
        for name in (CASE, REFS, PRESS, TENDER, STATEMENT)
    },
    {
        CASE: ("changed", NO_REASON, True),
        REFS: ("vanished", "http-410", True),
        PRESS: ("unchanged", NO_REASON, False),
        TENDER: ("changed", NO_REASON, True),
        STATEMENT: ("unchanged", NO_REASON, False),  # re-published in Latin script
    },
    {
        CASE: ("unchanged", NO_REASON, False),
        REFS: ("restored", NO_REASON, True),
        PRESS: ("moved", NO_REASON, True),
        TENDER: ("unchanged", NO_REASON, False),
        STATEMENT: ("changed", NO_REASON, True),
    },
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    # The timeout only keeps a hung demo from hanging the suite; it is no claim of speed.
    proc = subprocess.run(
        [sys.executable, str(DEMO), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, (
        f"the demo exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    )
    reports = [
        Path(m) for m in re.findall(r"^ {3}report: (.+)$", proc.stdout, re.MULTILINE)
    ]
    return {"out": out, "stdout": proc.stdout, "reports": reports}


def _index(report: Path) -> dict[str, tuple[str, str, bool, str, str, list[str]]]:
    """``{target: (verdict, reason, alerted, summary, signal, keyword tags)}`` as the report's index shows them."""
    doc = lxml.html.parse(str(report)).getroot()
    rows = {}
    for tr in doc.cssselect("table.events tbody tr"):
        target, _, verdict, reason, summary = tr.cssselect("td")[:5]
        code = reason.cssselect("code")
        signal = reason.cssselect(".signal")
        rows[target.text.strip()] = (
            verdict.cssselect(".badge")[0].text_content(),
            (code or reason.cssselect(".muted"))[0].text_content(),
            bool(verdict.cssselect(".flag")),
            (summary.text or summary.text_content()).strip(),  # the summary, before its tags and notes
            signal[0].text_content() if signal else "",
            [t.text_content() for t in summary.cssselect(".tag.kw")],
        )
    return rows


def test_the_demo_prints_the_path_of_the_last_report_and_how_to_open_it(demo):
    assert len(demo["reports"]) == 3, demo["stdout"]
    lines = demo["stdout"].splitlines()
    at = lines.index(
        next(line for line in lines if line.endswith("The last run's report:"))
    )
    last = Path(lines[at + 1].strip())
    assert last.is_absolute() and last.is_file(), last
    assert last == demo["reports"][-1]
    assert last.parent.parent == demo["out"] / "reports"
    assert (
        lines[at + 2]
        == f"Open it in a web browser: xdg-open {last}   (macOS: open ...)"
    )


def test_the_demo_watches_only_its_own_server_over_plain_http(demo):
    wl = load_watchlist(demo["out"] / "watchlist.yaml")
    assert [t.name for t in wl.targets] == [CASE, REFS, PRESS, TENDER, STATEMENT]
    for t in wl.targets:
        assert urlsplit(t.url).hostname == "127.0.0.1" and t.fetch == "http", t
    assert [urlsplit(u).hostname for u in wl.alerts] == ["127.0.0.1"]


@pytest.mark.parametrize("run", [1, 2, 3])
def test_each_report_shows_the_verdicts_the_demo_promises(demo, run):
    rows = _index(demo["reports"][run - 1])
    assert {name: row[:3] for name, row in rows.items()} == EXPECTED[run - 1]


def test_run_2_shows_the_edited_figures_the_removed_paragraph_and_the_vanished_page(
    demo,
):
    report = demo["reports"][1]
    rows = _index(report)
    summary = rows[CASE][3]
    assert "\u201c1,200\u201d \u2192 \u201c1,950\u201d" in summary
    assert "keyword \u201cfacial recognition\u201d disappeared" in summary
    assert rows[CASE][5] == ["\u2212 facial recognition"]  # and tagged under it
    assert rows[REFS][4] == "the server answers 410 Gone"  # the deciding signal, in words
    assert "\u201c14 March\u201d \u2192 \u201c2 May\u201d" in rows[TENDER][3]
    assert rows[REFS][3] == "HTTP 410 Gone"
    # The change page shows the paragraph about the police's facial recognition as deleted.
    page = lxml.html.parse(str(report.parent / f"{CASE}.html")).getroot()
    deleted = " ".join(d.text_content() for d in page.cssselect("div.diff del"))
    assert "the Ravnograd City Police have used OculaFace" in deleted


def test_run_3_shows_the_page_restored_the_release_moved_and_the_edit_in_cyrillic(demo):
    report = demo["reports"][2]
    rows = _index(report)
    assert rows[REFS][3] == "back after vanished; identical to the last good capture"
    assert "/oculara/newsroom/2025/ravnograd-safe-city-contract" in rows[PRESS][3]
    assert rows[PRESS][4] == "keeps 100% of the text at the new URL"
    assert "\u201c4,8\u201d \u2192 \u201c6,2\u201d" in rows[STATEMENT][3]
    page = lxml.html.parse(str(report.parent / f"{STATEMENT}.html")).getroot()
    diff = page.cssselect("div.diff")[0]
    assert [d.text_content() for d in diff.cssselect("del")] == ["4,8"]
    assert [i.text_content() for i in diff.cssselect("ins")] == ["6,2"]
    assert "Вредност набавке процењена је на" in diff.text_content()  # in Cyrillic


def test_alerts_of_runs_2_and_3_reached_the_local_sink(demo):
    posts = [
        json.loads(line)
        for line in (demo["out"] / "alerts.jsonl").read_text().splitlines()
    ]
    assert [p["title"] for p in posts] == [
        f"lastseen: 3 alerts in run {report.parent.name}"
        for report in demo["reports"][1:]
    ]
    said = [
        [line.split(" \u2014 ")[:2] for line in p["message"].splitlines()[:3]]
        for p in posts
    ]
    assert said == [
        [
            [CASE, "changed: " + _index(demo["reports"][1])[CASE][3]],
            [REFS, "vanished (http-410): HTTP 410 Gone"],
            [TENDER, "changed: " + _index(demo["reports"][1])[TENDER][3]],
        ],
        [
            [REFS, "restored: back after vanished; identical to the last good capture"],
            [PRESS, "moved: " + _index(demo["reports"][2])[PRESS][3]],
            [STATEMENT, "changed: " + _index(demo["reports"][2])[STATEMENT][3]],
        ],
    ]


def test_a_folder_the_demo_did_not_make_is_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    proc = subprocess.run(
        [sys.executable, str(DEMO), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 2
    assert "not a demo's folder" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
