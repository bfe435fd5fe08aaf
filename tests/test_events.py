"""Event ids (#16): ``<run id>:<target name>`` on every event of ``lastseen run --json``, on ``report.json``
and on each change page; parsed back whatever the target's name holds; :func:`crawler.events.find_event`
finding an event's two captures in the index. Three real runs on three days (``LASTSEEN_NOW``), one
target changing on the third, one with a hostile name."""

from __future__ import annotations

import json
import os

import jsonschema
import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler import clock
from crawler.events import EventIdError, event_id, find_event, parse_event_id
from crawler.report.window_json import SCHEMA_FILE
from crawler.store import CaptureStore

from .helpers import assert_contract, lastseen, write_watchlist
from .site import Site

DAYS = ["2026-04-01", "2026-04-02", "2026-04-03"]
#: A name a person may give a target: `:` (the id's separator), `/`, markup, quotes, a bidi override.
HOSTILE = 'a:b/../<script>alert("x")</script> \u202e:: é'
TEXTS = {  # target: its text on each day
    "plain": ["Opening hours 9 to 5", "Opening hours 9 to 5", "Opening hours 9 to 5"],
    HOSTILE: ["Price list 10 EUR", "Price list 10 EUR", "Price list 12 EUR"],
}


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
def runs(tmp_path_factory):
    """The project folder and the three runs' ``--json`` documents."""
    tmp = tmp_path_factory.mktemp("events")
    site = Site()
    saved = {k: os.environ.get(k) for k in (clock.ENV_NOW, clock.ENV_OFFSET)}
    try:
        paths = {"plain": "/plain", HOSTILE: "/hostile"}
        write_watchlist(
            tmp / "watchlist.yaml",
            [{"name": n, "url": site.url(p)} for n, p in paths.items()],
        )
        docs = []
        for i, day in enumerate(DAYS):
            for name, path in paths.items():
                site.set(path, _page(TEXTS[name][i]))
            _set_now(f"{day}T09:00:00Z")
            ran = lastseen(tmp, "run", "--json")
            assert ran.exit_code == 0, ran.stderr
            docs.append(ran.json)
        yield tmp, docs
    finally:
        site.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        clock._reset()


def _event(doc: dict, target: str) -> dict:
    (event,) = [e for e in doc["events"] if e["target"] == target]
    return event


def test_every_event_of_run_json_has_its_id_valid_against_the_schema(runs):
    _, docs = runs
    for doc in docs:
        assert_contract(doc)
        assert [e["event_id"] for e in doc["events"]] == [
            f"{doc['run']['id']}:{t}" for t in TEXTS
        ]
    change = _event(docs[2], HOSTILE)
    assert change["verdict"] == "changed"
    assert parse_event_id(change["event_id"]) == (docs[2]["run"]["id"], HOSTILE)


def test_find_event_gives_the_changed_events_before_and_after_captures(runs):
    project, docs = runs
    change, previous = _event(docs[2], HOSTILE), _event(docs[1], HOSTILE)
    store = CaptureStore.open_readonly(project / "archive" / "lastseen.db")
    try:
        before, after = find_event(store, change["event_id"])
        assert (before["id"], after["id"]) == (
            previous["capture_id"],
            change["capture_id"],
        )
        assert (before["run_id"], after["run_id"]) == (
            docs[1]["run"]["id"],
            docs[2]["run"]["id"],
        )
        assert "Price list 10 EUR" in store.text(before["text_sha256"])
        assert "Price list 12 EUR" in store.text(after["text_sha256"])
        first_before, first_after = find_event(
            store, _event(docs[0], "plain")["event_id"]
        )
        assert (
            first_before is None
            and first_after["id"] == _event(docs[0], "plain")["capture_id"]
        )
        with pytest.raises(
            EventIdError, match="did not capture target 'nobody'"
        ) as missing:
            find_event(store, f"{docs[2]['run']['id']}:nobody")
        assert missing.value.exit_code == 2
    finally:
        store.close()


def test_change_page_and_report_json_show_the_event_id(runs):
    project, docs = runs
    change = _event(docs[2], HOSTILE)
    index = project / docs[2]["run"]["report"]
    links = lxml.html.parse(str(index)).getroot().xpath("//a/@href")
    (page,) = [
        h
        for h in links
        if h.endswith(".html") and not h.startswith(("index", "unchanged", ".."))
    ]
    tree = lxml.html.parse(str(index.parent / page)).getroot()
    (shown,) = tree.xpath('//p[@class="event-id"]//code')
    assert shown.text_content() == change["event_id"].replace(
        "\u202e", "\\u202e"
    )  # a bidi control is shown
    assert not tree.xpath("//script")

    _set_now("2026-04-04T09:00:00Z")
    try:
        ran = lastseen(
            project, "report", "--since", "2026-04-01", "--format", "json", "--out", "-"
        )
    finally:
        _set_now(None)
    assert ran.exit_code == 0, ran.stderr
    report = json.loads(ran.stdout)
    jsonschema.validate(report, json.loads(SCHEMA_FILE.read_text()))
    ids = {e["event_id"] for t in report["targets"] for e in t["events"]}
    assert ids == {e["event_id"] for doc in docs for e in doc["events"]}


@given(
    run=st.from_regex(r"\A[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}\Z"), target=st.text(min_size=1)
)
def test_parse_event_id_round_trips_any_target_name(run, target):
    assert parse_event_id(event_id(run, target)) == (run, target)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "vendor-page",
        ":vendor-page",
        "20261122T101500Z-3f2a",
        "20261122T101500Z-3f2a:",
        "20261122T101500Z-3F2A:vendor",
        "2026-11-22T10:15:00Z:vendor",
        " 20261122T101500Z-3f2a:vendor",
    ],
)
def test_a_malformed_event_id_is_an_error_saying_what_one_looks_like(text):
    with pytest.raises(EventIdError) as error:
        parse_event_id(text)
    assert error.value.exit_code == 2
    assert "<run id>:<target name>" in str(
        error.value
    ) and "20261122T101500Z-3f2a:vendor-page" in str(error.value)
