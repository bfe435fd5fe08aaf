"""``lastseen report`` over any window (#14): five real runs on five days (``LASTSEEN_NOW``), changes on
two of them, then window reports: ``--since`` a date or a duration, ``--until``, ``--only``, targets no
longer in the watchlist (``--all``), events grouped by target, ``--format json`` against its schema,
and an archive left exactly as it was."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import jsonschema
import lxml.html
import pytest

from crawler import clock
from crawler.report.window_json import SCHEMA_FILE, report_json_schema

from .helpers import _strict, assert_no_script_but_ours, lastseen, write_watchlist
from .site import Site

DAYS = ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
#: The clock when the reports are written (the day after the last run).
REPORT_NOW = "2026-03-06T10:00:00Z"

PAGES = {  # target: (tags, its text on each of the five days)
    "alpha": (
        ["news"],
        [
            "Deadline 1 March",
            "Deadline 2 March",
            "Deadline 2 March",
            "Deadline 2 March",
            "Deadline 2 March",
        ],
    ),
    "beta": (
        ["gov"],
        [
            "Budget 10 million",
            "Budget 10 million",
            "Budget 10 million",
            "Budget 12 million",
            "Budget 12 million",
        ],
    ),
    "gamma": (
        ["gov"],
        [
            "Minutes of the board",
            "Minutes of the board",
            "Minutes of the board",
            "Minutes withdrawn",
            "Minutes withdrawn",
        ],
    ),
}
#: The changes the five runs make: (target, day).
CHANGES = [("alpha", "2026-03-02"), ("beta", "2026-03-04"), ("gamma", "2026-03-04")]

STRICT = _strict(report_json_schema())


def _set_now(value: str | None) -> None:
    os.environ.pop(clock.ENV_OFFSET, None)
    if value is None:
        os.environ.pop(clock.ENV_NOW, None)
    else:
        os.environ[clock.ENV_NOW] = value
    clock._reset()


def _page(text: str) -> str:
    return f"<html><head><title>Notice</title></head><body><main><h1>Notice</h1><p>{text}</p></main></body></html>"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Five runs, one a day, of alpha, beta and gamma; then gamma is taken out of the watchlist."""
    tmp = tmp_path_factory.mktemp("window")
    site = Site()
    saved = {k: os.environ.get(k) for k in (clock.ENV_NOW, clock.ENV_OFFSET)}
    try:
        targets = [
            {"name": name, "url": site.url(f"/{name}"), "tags": tags, "every": "1d"}
            for name, (tags, _) in PAGES.items()
        ]
        write_watchlist(tmp / "watchlist.yaml", targets)
        for i, day in enumerate(DAYS):
            for name, (_, texts) in PAGES.items():
                site.set(f"/{name}", _page(texts[i]))
            _set_now(f"{day}T09:00:00Z")
            ran = lastseen(tmp, "run", "--json")
            assert ran.exit_code == 0, ran.stderr
            changed = sorted(
                e["target"] for e in ran.json["events"] if e["verdict"] == "changed"
            )
            assert changed == sorted(t for t, d in CHANGES if d == day), ran.stdout
        write_watchlist(
            tmp / "watchlist.yaml", targets[:2]
        )  # gamma leaves the watchlist
        yield tmp
    finally:
        site.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        clock._reset()


@pytest.fixture
def now():
    _set_now(REPORT_NOW)
    yield
    _set_now(None)


def _json(project: Path, *args: str) -> dict:
    ran = lastseen(project, "report", *args, "--format", "json", "--out", "-")
    assert ran.exit_code == 0, ran.stderr
    doc = json.loads(ran.stdout)
    jsonschema.validate(doc, json.loads(SCHEMA_FILE.read_text()))
    jsonschema.validate(doc, STRICT)
    return doc


def _events(doc: dict) -> list[tuple[str, str, str]]:
    """(target, day, verdict) of every event, in the document's order."""
    return [
        (t["target"], e["captured"][:10], e["verdict"])
        for t in doc["targets"]
        for e in t["events"]
    ]


def _changes(doc: dict) -> list[tuple[str, str]]:
    return [(t, d) for t, d, v in _events(doc) if v == "changed"]


# -- the window ---------------------------------------------------------------------------------------


def test_since_a_date_between_runs_holds_exactly_the_later_changes(project, now):
    doc = _json(project, "--since", "2026-03-03")
    assert doc["window"] == {
        "since": "2026-03-03T00:00:00Z",
        "until": "2026-03-06T10:00:00Z",
    }
    assert _changes(doc) == [
        ("beta", "2026-03-04")
    ]  # alpha's change of the 2nd is before it; gamma left out
    assert _events(doc) == [
        (t, d, "changed" if (t, d) in CHANGES else "unchanged")
        for t in ("alpha", "beta")
        for d in DAYS[2:]
    ]
    assert doc["counts"] == {
        "events": 6,
        "targets": 2,
        "alerts": 1,
        "verdicts": {"unchanged": 5, "changed": 1},
    }
    beta = doc["targets"][1]
    assert (beta["target"], beta["tags"], beta["in_watchlist"]) == (
        "beta",
        ["gov"],
        True,
    )
    change = beta["events"][1]
    assert change["diff"]["insertions"] >= 1 and change["diff"]["deletions"] >= 1
    assert change["compared_capture_id"] == beta["events"][0]["capture_id"]
    assert (
        change["warc"]["file"].endswith(".warc.gz")
        and (project / "archive" / change["warc"]["file"]).is_file()
    )


def test_until_cuts_the_window_and_a_bare_date_takes_in_its_whole_day(project, now):
    doc = _json(project, "--since", "2026-03-02", "--until", "2026-03-03")
    assert doc["window"] == {
        "since": "2026-03-02T00:00:00Z",
        "until": "2026-03-03T23:59:59Z",
    }
    assert _events(doc) == [
        ("alpha", "2026-03-02", "changed"),
        ("alpha", "2026-03-03", "unchanged"),
        ("beta", "2026-03-02", "unchanged"),
        ("beta", "2026-03-03", "unchanged"),
    ]
    before_noon = _json(
        project, "--since", "2026-03-01T12:00", "--until", "2026-03-02T08:00:00+00:00"
    )
    assert before_noon["targets"] == [] and before_noon["counts"]["events"] == 0
    offset = _json(
        project,
        "--since",
        "2026-03-04T10:00:00+02:00",
        "--until",
        "2026-03-04T12:00+02:00",
    )
    assert _events(offset) == [
        ("alpha", "2026-03-04", "unchanged"),
        ("beta", "2026-03-04", "changed"),
    ]


def test_a_duration_counts_back_from_now_or_from_until(project, now):
    doc = _json(project, "--since", "2d")  # 2026-03-04T10:00 on: only the last run
    assert doc["window"]["since"] == "2026-03-04T10:00:00Z"
    assert [d for _, d, _ in _events(doc)] == ["2026-03-05", "2026-03-05"]
    doc = _json(project, "--since", "36h", "--until", "2026-03-04")
    assert doc["window"] == {
        "since": "2026-03-03T12:00:00Z",
        "until": "2026-03-04T23:59:59Z",
    }  # 36 h to its end
    assert _changes(doc) == [("beta", "2026-03-04")] and len(_events(doc)) == 2


def test_a_window_edge_in_the_second_a_capture_started(project, now):
    """Captures start at 09:00:00 and some microseconds (the runs' clock): a window starting at 09:00:00 takes
    them in, one ending at 09:00:00 (an instant, included) leaves them out, as their times say."""
    doc = _json(project, "--since", "2026-03-03T09:00:00Z", "--until", "2026-03-03T09:00:00.999999Z")
    assert _events(doc) == [("alpha", "2026-03-03", "unchanged"), ("beta", "2026-03-03", "unchanged")]
    doc = _json(project, "--since", "2026-03-03T09:00:00Z", "--until", "2026-03-04T09:00:00Z")
    captured = [e["captured"] for t in doc["targets"] for e in t["events"]]
    assert [d for _, d, _ in _events(doc)] == ["2026-03-03", "2026-03-03"] and len(captured) == 2
    assert _json(project, "--since", "2026-03-03T08:59:59Z", "--until", "2026-03-03T09:00:00Z")["targets"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "soon"], "--since 'soon'"),
        (["--since", "2026-02-30"], "is not an ISO 8601 date"),
        (
            ["--since", "2026-03-03", "--until", "tomorrow"],
            "--until 'tomorrow' is not an ISO 8601 date",
        ),
        (["--since", "2026-03-04", "--until", "2026-03-02"], "is before --since"),
        (["--since", "2026-03-09"], "is in the future"),
        (["--since", "36526d"], "must be at most 36525d (100 years)"),
        (["--since", "7d", "--out", "-"], "only --format json"),
        (["--since", "7d", "--only", "delta"], "--only 'delta' matches no target"),
        (
            ["--since", "7d", "--only", "gamma", "--all", "--only", "nobody"],
            "--only 'nobody' matches no target",
        ),
        (["--since", "7d", "--watchlist", "missing.yaml"], "missing.yaml"),
    ],
)
def test_bad_values_are_usage_errors(project, now, args, message):
    ran = lastseen(project, "report", *args)
    assert ran.exit_code == 2, (ran.stdout, ran.stderr)
    assert message in ran.stderr and "Traceback" not in ran.stderr, ran.stderr
    assert ran.stdout == ""


# -- which targets ------------------------------------------------------------------------------------


def test_only_by_name_and_by_tag(project, now):
    assert {
        t
        for t, _, _ in _events(
            _json(project, "--since", "2026-03-01", "--only", "alpha")
        )
    } == {"alpha"}
    by_tag = _json(project, "--since", "2026-03-01", "--only", "gov")
    assert {t for t, _, _ in _events(by_tag)} == {
        "beta"
    }  # gamma has the tag but left the watchlist
    assert by_tag["only"] == ["gov"]
    with_all = _json(project, "--since", "2026-03-01", "--only", "gov", "--all")
    assert [t["target"] for t in with_all["targets"]] == ["beta", "gamma"]


def test_a_target_no_longer_in_the_watchlist_is_left_out_unless_all(project, now):
    ran = lastseen(
        project, "report", "--since", "2026-03-03", "--format", "json", "--out", "-"
    )
    assert "3 events of 1 target no longer in the watchlist left out" in ran.stderr
    doc = json.loads(ran.stdout)
    assert "gamma" not in {t["target"] for t in doc["targets"]} and doc["all"] is False
    assert doc["notes"] == [
        "3 events of 1 target no longer in the watchlist left out; `lastseen report --all` includes them."
    ]
    every = _json(project, "--since", "2026-03-03", "--all")
    assert [(t["target"], t["in_watchlist"]) for t in every["targets"]] == [
        ("alpha", True),
        ("beta", True),
        ("gamma", False),
    ]
    assert _changes(every) == [("beta", "2026-03-04"), ("gamma", "2026-03-04")]
    assert every["notes"] == [] and every["all"] is True


def test_without_a_watchlist_file_every_archived_target_is_in_with_a_note(
    project, now, tmp_path
):
    bare = tmp_path / "bare"
    bare.mkdir()
    ran = lastseen(
        bare,
        "report",
        "--since",
        "2026-03-04",
        "--archive",
        str(project / "archive"),
        "--format",
        "json",
        "--out",
        "-",
    )
    assert ran.exit_code == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert [t["target"] for t in doc["targets"]] == [
        "alpha",
        "beta",
        "gamma",
    ]  # by name
    assert (
        doc["watchlist"] is None and "No watchlist at watchlist.yaml" in doc["notes"][0]
    )
    assert (
        "No watchlist at watchlist.yaml: every target in the archive is included."
        in ran.stderr
    )


# -- the HTML report ----------------------------------------------------------------------------------


def _rows(index: Path) -> list[tuple[str, str, str, str | None]]:
    """(target, verdict, captured, group anchor) of every row of the index's table."""
    tree = lxml.html.parse(str(index))
    return [
        (
            tr.xpath("td[1]/text()")[0].strip(),
            tr.get("data-verdict"),
            tr.get("data-captured"),
            tr.get("id"),
        )
        for tr in tree.xpath("//table[@id='events']/tbody/tr")
    ]


def test_html_groups_events_by_target_with_a_change_page_per_change(
    project, now, tmp_path
):
    out = tmp_path / "window"
    ran = lastseen(
        project, "report", "--since", "2026-03-02", "--all", "--out", str(out)
    )
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout == f"{out / 'index.html'}\n"
    index = out / "index.html"
    html = index.read_text()
    tree = lxml.html.fromstring(html)
    assert (
        " ".join(tree.xpath("string(//*[@class='window-count'])").split())
        == "12 events on 3 targets"
    )
    rows = _rows(index)
    assert [r[0] for r in rows] == ["alpha"] * 4 + ["beta"] * 4 + ["gamma"] * 4
    for name in ("alpha", "beta", "gamma"):
        times = [r[2] for r in rows if r[0] == name]
        assert times == sorted(times) and [t[:10] for t in times] == DAYS[1:]
    assert [r[3] for r in rows] == [
        "g-1",
        None,
        None,
        None,
        "g-2",
        None,
        None,
        None,
        "g-3",
        None,
        None,
        None,
    ]
    groups = tree.xpath("//details[@class='groups']//li")
    assert [
        (li.xpath("string(a)"), li.xpath("string(a/@href)"), li.xpath("string(span)"))
        for li in groups
    ] == [
        ("alpha", "index.html#g-1", "4 events"),
        ("beta", "index.html#g-2", "4 events"),
        ("gamma", "index.html#g-3", "4 events"),
    ]
    changed = [(r[0], r[2][:10]) for r in rows if r[1] == "changed"]
    assert changed == CHANGES
    pages = sorted(p.name for p in out.glob("*.html") if p.name != "index.html")
    assert len(pages) == len(CHANGES)
    links = tree.xpath("//table[@id='events']//a/@href")
    assert sorted(links) == pages
    inserted = {}
    for name in pages:
        assert assert_no_script_but_ours((out / name).read_text()) == 0
        page = lxml.html.parse(str(out / name))
        inserted[page.xpath("string(//h1)")] = sorted(
            {" ".join(e.text_content().split()) for e in page.xpath("//ins")}
        )
    assert inserted == {
        "alpha": ["2"],
        "beta": ["12"],
        "gamma": ["withdrawn"],
    }  # each change's own page
    assert assert_no_script_but_ours(html) == 1


def test_default_folder_is_named_by_the_window(project, now):
    ran = lastseen(project, "report", "--since", "2026-03-05")
    assert ran.exit_code == 0, ran.stderr
    folder = project / "reports" / "window-20260305T000000Z-20260306T100000Z"
    assert ran.stdout == f"{Path('reports', folder.name, 'index.html')}\n"
    assert [(r[0], r[1], r[3]) for r in _rows(folder / "index.html")] == [
        ("alpha", "unchanged", "g-1"),
        ("beta", "unchanged", "g-2"),
    ]
    shutil.rmtree(folder)


def test_an_empty_window_says_so(project, now, tmp_path):
    ran = lastseen(
        project, "report", "--since", "2026-03-06", "--out", str(tmp_path / "none")
    )
    assert ran.exit_code == 0, ran.stderr
    html = (tmp_path / "none" / "index.html").read_text()
    assert "No events in this window." in html and "0 events on 0 targets" in " ".join(
        html.split()
    )


# -- JSON -----------------------------------------------------------------------------------------------


def test_json_in_the_out_folder_equals_what_out_dash_prints(project, now, tmp_path):
    printed = _json(project, "--since", "2026-03-01", "--all")
    ran = lastseen(
        project,
        "report",
        "--since",
        "2026-03-01",
        "--all",
        "--format",
        "json",
        "--out",
        str(tmp_path / "j"),
    )
    assert ran.exit_code == 0 and ran.stdout == f"{tmp_path / 'j' / 'report.json'}\n"
    assert json.loads((tmp_path / "j" / "report.json").read_text()) == printed
    assert (
        printed["counts"]["events"] == 15 and printed["counts"]["verdicts"]["new"] == 3
    )
    assert sorted(p.name for p in (tmp_path / "j").iterdir()) == ["report.json"]


def test_the_shipped_schema_is_generated_and_printed_by_lastseen_schema(tmp_path):
    expected = json.dumps(report_json_schema(), indent=2, ensure_ascii=False) + "\n"
    assert SCHEMA_FILE.read_text() == expected, (
        "docs/report.schema.json is stale: regenerate it with python -m crawler.report.window_json"
    )
    ran = lastseen(tmp_path, "schema", "report")
    assert ran.exit_code == 0 and ran.stdout == expected


# -- the archive --------------------------------------------------------------------------------------


def _listing(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file's size, time and bytes; not SQLite's ``-shm`` file, where readers of a WAL index on a
    writable archive coordinate (tests/test_readonly.py reads a copy without write permission)."""
    return {
        str(p.relative_to(root)): (
            p.stat().st_size,
            p.stat().st_mtime_ns,
            p.read_bytes(),
        )
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith("-shm")
    }


def test_the_archive_is_left_exactly_as_it_was(project, now, tmp_path):
    before = _listing(project / "archive")
    for args in (
        ["--since", "2026-03-01", "--all", "--out", str(tmp_path / "h")],
        ["--since", "7d", "--format", "json", "--out", "-"],
    ):
        ran = lastseen(project, "report", *args)
        assert ran.exit_code == 0, ran.stderr
    assert _listing(project / "archive") == before
