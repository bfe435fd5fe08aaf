"""Schema 20 (#17): an unchanged recapture stores only its own columns; ``captures`` reads the same.

``captures`` is a view over ``capture_rows``: the columns an unchanged recapture shares with the capture whose
extraction it reused (``crawler.store.schema.REUSED_COLUMNS``) are null in its row and read from that
capture's, those a capture repeats of the exchange holding its record (``RECORD_COLUMNS``) from that
exchange's, and those a revisit repeats of the response it refers to (``REFERS_COLUMNS``) from that
response's exchange. What a reader of ``captures`` (lastseen, or Datasette) sees is what a whole row held;
and an archive whose rows are all whole, as schema 19 wrote them, upgraded, reads the same in every command.
Schema 21: ``exchanges`` likewise a view over ``exchange_rows``, whose rows name their WARC file by the id of a
``warc_files`` row and leave a revisit's URL and payload (``EXCHANGE_REFERS_COLUMNS``) to the response of that
URL and payload they name (``refers``); and ``events`` a view over ``event_rows``, whose rows leave what they
repeat of their target's previous event (``EVENT_SAME_COLUMNS``) to the event they name (``same_as``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from crawler import clock
from crawler.store import CaptureStore
from crawler.store.schema import (
    CAPTURE_COLUMNS,
    EVENT_COLUMNS,
    EVENT_SAME_COLUMNS,
    EXCHANGE_COLUMNS,
    EXCHANGE_REFERS_COLUMNS,
    MIGRATIONS,
    RECORD_COLUMNS,
    REFERS_COLUMNS,
    REUSED_COLUMNS,
)

from .helpers import index_as_schema_19, lastseen, write_watchlist

DAYS = ["2026-05-01T09:00:00Z", "2026-05-02T09:00:00Z", "2026-05-03T09:00:00Z", "2026-05-04T09:00:00Z"]
LATER = "2026-05-04T12:00:00Z"


def _page(title: str, text: str) -> str:
    return (f"<html><head><title>{title}</title><meta name='description' content='About {title}'></head><body>"
            f"<main><h1>{title}</h1><p>{text} <a href='/elsewhere'>Read more</a></p></main></body></html>")


def _set_now(value: str) -> None:
    os.environ.pop(clock.ENV_OFFSET, None)
    os.environ[clock.ENV_NOW] = value
    clock._reset()


@pytest.fixture(scope="module")
def archived(tmp_path_factory):
    """Four daily runs: ``steady`` never changes, ``notice`` changes on day 3 (and stays), ``gone`` vanishes
    on day 2 and comes back on day 3."""
    from .site import Site

    tmp = tmp_path_factory.mktemp("rows")
    site = Site()
    saved = {k: os.environ.get(k) for k in (clock.ENV_NOW, clock.ENV_OFFSET)}
    try:
        site.set("/steady", _page("Steady", "Always the same."))
        write_watchlist(tmp / "watchlist.yaml", [
            {"name": name, "url": site.url(f"/{name}"), "every": "1d"} for name in ("steady", "notice", "gone")])
        verdicts = []
        for day, now in enumerate(DAYS, start=1):
            site.set("/notice", _page("Notice", "Deadline 1 June." if day < 3 else "Deadline 8 June."))
            if day == 2:
                site.remove("/gone")
            else:
                site.set("/gone", _page("Gone", "Here today."))
            _set_now(now)
            ran = lastseen(tmp, "run", "--json")
            assert ran.exit_code in (0, 1), ran.stderr
            verdicts.append({e["target"]: e["verdict"] for e in ran.json["events"]})
        assert [v["steady"] for v in verdicts] == ["new", "unchanged", "unchanged", "unchanged"], verdicts
        assert [v["notice"] for v in verdicts] == ["new", "unchanged", "changed", "unchanged"], verdicts
        assert [v["gone"] for v in verdicts] == ["new", "vanished", "restored", "unchanged"], verdicts
        _set_now(LATER)
        yield tmp
    finally:
        site.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        clock._reset()


def _rows(db: Path, sql: str, args=()) -> list[dict]:
    conn = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True)
    try:
        cur = conn.execute(sql, args)
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row)) for row in cur]
    finally:
        conn.close()


def test_an_unchanged_recapture_stores_only_its_own_columns(archived):
    db = archived / "archive" / "lastseen.db"
    stored = {r["id"]: r for r in _rows(db, "select * from capture_rows where role = 'page' order by id")}
    seen = {r["id"]: r for r in _rows(db, "select * from captures where role = 'page' order by id")}
    by_target: dict[str, list[int]] = {}
    for cid, row in seen.items():
        by_target.setdefault(row["target"], []).append(cid)
    steady = by_target["steady"]
    first, *later = steady
    # the first capture holds its own values; each unchanged recapture points at it, its shared columns null
    assert stored[first]["reused"] is None and stored[first]["title"] == "Steady"
    for cid in later:
        assert stored[cid]["reused"] == first, stored[cid]
        assert all(stored[cid][name] is None for name in (*REUSED_COLUMNS, *RECORD_COLUMNS)), stored[cid]
        # ... and read through the view, the recapture has them all, and its own columns stay its own
        assert {n: seen[cid][n] for n in REUSED_COLUMNS} == {n: seen[first][n] for n in REUSED_COLUMNS}
        assert seen[cid]["title"] == "Steady" and seen[cid]["description"] == "About Steady"
        assert seen[cid]["kind"] == "html" and len(seen[cid]["text_sha256"]) == 64
        assert seen[cid]["payload_length"] == len(_page("Steady", "Always the same.").encode())
        assert seen[cid]["started"] != seen[first]["started"] and seen[cid]["record_type"] == "revisit"
    # every capture with a record reads what it repeated of its record's exchange from that exchange
    exchanges = {(r["capture_id"], r["seq"]): r for r in _rows(db, "select * from exchanges")}
    for cid, row in stored.items():
        assert row["record_seq"] is not None and all(row[name] is None for name in RECORD_COLUMNS), row
        ex = exchanges[(cid, row["record_seq"])]
        assert {n: seen[cid][n] for n in RECORD_COLUMNS} == {n: ex[x] for n, x in RECORD_COLUMNS.items()}
        assert seen[cid]["warc_record_id"].startswith("<urn:uuid:") and seen[cid]["warc_file"].startswith("warcs/")
    # and every revisit what it repeated of the response it refers to from that response's exchange
    revisits = [cid for cid, row in seen.items() if row["record_type"] == "revisit"]
    # steady's three, notice's two, gone's last (back on day 3 after a 404, its payload stored again)
    assert len(revisits) == 6, revisits
    for cid in revisits:
        row = stored[cid]
        assert row["refers_exchange"] is not None and all(row[name] is None for name in REFERS_COLUMNS), row
        ex = next(r for r in exchanges.values() if r["id"] == row["refers_exchange"])
        assert ex["record_type"] == "response" and ex["response_record_id"] == seen[cid]["refers_to_record_id"]
        assert {n: seen[cid][n] for n in REFERS_COLUMNS} == {n: ex[x] for n, x in REFERS_COLUMNS.items()}
    assert seen[steady[1]]["refers_to_record_id"] == seen[first]["warc_record_id"]
    assert seen[steady[1]]["refers_to_uri"] == seen[first]["final_url"]
    # a changed page stores its own; its unchanged recapture the next day reuses the changed capture
    notice = by_target["notice"]
    assert [stored[c]["reused"] for c in notice] == [None, notice[0], None, notice[2]]
    assert "8 June" in _rows(db, "select text from capture_texts where capture_id = ?", (notice[3],))[0]["text"]
    # the page that came back is read again (its last good capture is the one before it vanished: the same
    # payload, so reused), and the page that vanished (a 404) shares nothing
    gone = by_target["gone"]
    assert stored[gone[1]]["reused"] is None and seen[gone[1]]["status"] == 404
    assert stored[gone[2]]["reused"] == gone[0] and stored[gone[3]]["reused"] == gone[0]
    # Datasette's views keep their columns
    assert list(seen[first]) == [*CAPTURE_COLUMNS, "reused", "record_seq", "refers_exchange"]
    assert list(_rows(db, "select * from capture_texts limit 1")[0]) == [
        "capture_id", "target", "started", "title", "text"]


def test_a_revisits_exchange_stores_only_its_own_columns(archived):
    db = archived / "archive" / "lastseen.db"
    stored = {r["id"]: r for r in _rows(db, "select * from exchange_rows order by id")}
    seen = {r["id"]: r for r in _rows(db, "select * from exchanges order by id")}
    assert stored.keys() == seen.keys()
    files = {r["id"]: r["path"] for r in _rows(db, "select * from warc_files")}
    # one row a WARC file: each path stored once, every exchange naming its file by id
    assert sorted(files.values()) == sorted({r["warc_file"] for r in seen.values()})
    assert all(files[stored[i]["warc_file_id"]] == seen[i]["warc_file"] for i in seen)
    captures = {r["id"]: r for r in _rows(db, "select * from captures where role = 'page' order by id")}
    steady = [cid for cid, c in captures.items() if c["target"] == "steady"]
    first = next(r for r in stored.values() if r["capture_id"] == steady[0])
    assert first["record_type"] == "response" and first["refers"] is None and first["url"].endswith("/steady")
    every = [r for r in stored.values() if r["record_type"] == "revisit"]
    revisits = [r for r in every if r["capture_id"] in captures]   # (and robots.txt's, fetched daily)
    assert len(revisits) == 6, revisits
    for row in every:
        # its URL and payload are those of the response it names, stored there only ...
        assert row["refers"] is not None and all(row[n] is None for n in EXCHANGE_REFERS_COLUMNS), row
        held = stored[row["refers"]]
        assert held["record_type"] == "response" and held["id"] < row["id"]
        # ... and read through the view, the revisit has them, its capture too
        assert {n: seen[row["id"]][n] for n in EXCHANGE_REFERS_COLUMNS} == {n: held[n] for n in EXCHANGE_REFERS_COLUMNS}
        if row["capture_id"] not in captures:
            continue
        capture = captures[row["capture_id"]]
        assert (capture["final_url"], capture["payload_sha1"], capture["payload_length"]) == (
            held["url"], held["payload_sha1"], held["payload_length"])
        assert capture["warc_file"] == seen[row["id"]]["warc_file"] == files[row["warc_file_id"]]
    for cid in steady[1:]:
        assert next(r for r in revisits if r["capture_id"] == cid)["refers"] == first["id"]
    assert seen[first["id"]]["payload_length"] == len(_page("Steady", "Always the same.").encode())
    # Datasette's view keeps its columns
    assert list(next(iter(seen.values()))) == list(EXCHANGE_COLUMNS)


def test_an_unchanged_event_stores_only_its_own_columns(archived):
    db = archived / "archive" / "lastseen.db"
    stored = {r["id"]: r for r in _rows(db, "select * from event_rows order by id")}
    seen = {r["id"]: r for r in _rows(db, "select * from events order by id")}
    assert stored.keys() == seen.keys()
    steady = [i for i, e in seen.items() if e["target"] == "steady"]
    assert [seen[i]["verdict"] for i in steady] == ["new", "unchanged", "unchanged", "unchanged"]
    first, second, *later = steady
    # the first unchanged event holds its summary and evidence; the next ones name it, theirs null
    assert stored[second]["same_as"] is None and stored[second]["summary"] == "no change"
    assert stored[second]["evidence"] is not None
    for i in later:
        assert stored[i]["same_as"] == second and all(stored[i][n] is None for n in EVENT_SAME_COLUMNS), stored[i]
        # ... and read through the view, they have them, and their own columns stay their own
        assert {n: seen[i][n] for n in EVENT_SAME_COLUMNS} == {n: stored[second][n] for n in EVENT_SAME_COLUMNS}
        assert seen[i]["capture_id"] != seen[second]["capture_id"] and seen[i]["run_id"] != seen[second]["run_id"]
    # an event whose summary differs from its target's previous one holds its own (notice's change, gone's)
    for e in seen.values():
        if e["verdict"] in ("new", "changed", "vanished", "restored"):
            assert stored[e["id"]]["same_as"] is None and stored[e["id"]]["summary"] == e["summary"], e
    # a pointer never names a row that points itself, nor another target's event
    for row in stored.values():
        if row["same_as"] is not None:
            assert stored[row["same_as"]]["same_as"] is None and stored[row["same_as"]]["target"] == row["target"]
    # Datasette's view keeps its columns
    assert list(seen[first]) == list(EVENT_COLUMNS)


def _whole_rows_copy(src: Path, dest: Path) -> None:
    """``src``'s archive with its index as schema 19 wrote it: the same rows, every captures row whole."""
    shutil.copytree(src / "archive", dest / "archive", ignore=shutil.ignore_patterns("lastseen.lock"))
    shutil.copy(src / "watchlist.yaml", dest / "watchlist.yaml")
    index = dest / "archive" / "lastseen.db"
    conn = sqlite3.connect(index)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    index_as_schema_19(index)
    assert _rows(index, "select count(*) as n from captures where title is null and role = 'page' and good = 1"
                 ) == [{"n": 0}]


def _outputs(cwd: Path) -> dict:
    """What the commands that read say of an archive (its own paths taken out)."""
    out = {}
    for args in (("status", "--json"), ("status", "--all"), ("verify", "--json"), ("show", "steady"),
                 ("show", "notice", "--at", "2026-05-02"), ("show", "steady", "--headers"), ("diff", "notice"),
                 ("diff", "steady", "--from", "2026-05-01", "--to", "2026-05-03")):
        _set_now(LATER)   # (the injected clock runs on from it: each command starts at the same time)
        ran = lastseen(cwd, *args)
        out[" ".join(args)] = (ran.exit_code, ran.stdout.replace(str(cwd), "<cwd>"))
    _set_now(LATER)
    ran = lastseen(cwd, "report", "--since", "7d", "--out", "weekly")
    assert ran.exit_code == 0, ran.stderr
    for path in sorted((cwd / "weekly").rglob("*")):
        if path.is_file():
            out[path.relative_to(cwd).as_posix()] = path.read_bytes().replace(str(cwd).encode(), b"<cwd>")
    return out


def test_an_archive_of_whole_rows_upgraded_reads_the_same(archived, tmp_path):
    whole = tmp_path / "whole"
    _whole_rows_copy(archived, whole)
    index = whole / "archive" / "lastseen.db"
    assert _rows(index, "pragma user_version") == [{"user_version": 19}]
    CaptureStore(index).close()   # what `lastseen run` does first: migrates it
    assert _rows(index, "pragma user_version") == [{"user_version": len(MIGRATIONS)}]
    assert _rows(index, "select count(*) as n from capture_rows where reused is not null or record_seq is not null "
                 "or refers_exchange is not null") == [{"n": 0}]
    columns = ", ".join(CAPTURE_COLUMNS)
    assert (_rows(index, f"select {columns} from captures order by id")
            == _rows(archived / "archive" / "lastseen.db", f"select {columns} from captures order by id"))
    assert _rows(index, "select count(*) as n from exchange_rows where refers is not null or url is null") == [
        {"n": 0}]
    assert (_rows(index, "select * from exchanges order by id")
            == _rows(archived / "archive" / "lastseen.db", "select * from exchanges order by id"))
    assert _rows(index, "select count(*) as n from event_rows where same_as is not null") == [{"n": 0}]
    assert (_rows(index, "select * from events order by id")
            == _rows(archived / "archive" / "lastseen.db", "select * from events order by id"))
    upgraded, shared = _outputs(whole), _outputs(archived)
    assert upgraded.keys() == shared.keys()
    for key, value in shared.items():
        assert upgraded[key] == value, key
