"""Screenshots in reports, from a real archive: a WARC file with screenshot ``resource`` records, the
index rows that point at them, and the report read back (``report_events``, the run report, ``lastseen report``).

A missing or damaged archive costs the image, never the report: the page says why.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import pytest

from crawler.archive import WARC_DIR, Archive
from crawler.diff import diff_texts
from crawler.formatting import iso
from crawler.report import report_events, write_report, write_run_report
from crawler.store import CaptureStore
from crawler.warc import WarcWriter

from .factories import make_exchange
from .helpers import lastseen
from .test_report import AFTER_PNG, BEFORE_PNG

URL = "https://case.example/study"
SHOT_URI = f"urn:screenshot:{URL}"
WARC_NAME = "lastseen-20240501-000001.warc.gz"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
T0, T1 = NOW - timedelta(hours=2), NOW - timedelta(hours=1)
OLD_TEXT, NEW_TEXT = "Twelve detainees were released.", "Fifteen detainees were released."


@dataclass
class Built:
    root: Path
    shots: dict[str, tuple[int, int, str]]  # "before"/"after" -> (offset, length, record id) of the screenshot


def _text_row(text: str) -> tuple[str, str]:
    return hashlib.sha256(text.encode()).hexdigest(), text


def _insert(store: CaptureStore, run: str, target: str, at: datetime, text: str, event: dict,
            shot: tuple[int, int, str] | None, page_ref) -> int:
    capture = {"run_id": run, "target": target, "url": URL, "final_url": URL, "status": 200, "status_chain": "[200]",
               "started": iso(at), "warc_file": f"{WARC_DIR}/{WARC_NAME}", "warc_offset": page_ref.offset,
               "warc_length": page_ref.length, "warc_record_id": page_ref.record_id, "record_type": "response",
               "text_sha256": _text_row(text)[0], "good": 1}
    exchanges = [{"seq": 0, "role": "page", "url": URL, "method": "GET", "status": 200, "started": iso(at),
                  "warc_file": f"{WARC_DIR}/{WARC_NAME}", "response_offset": page_ref.offset,
                  "response_length": page_ref.length, "response_record_id": page_ref.record_id,
                  "record_type": "response"}]
    if shot is not None:
        offset, length, record_id = shot
        exchanges.append({"seq": 1, "role": "resource", "url": SHOT_URI, "started": iso(at),
                          "warc_file": f"{WARC_DIR}/{WARC_NAME}", "response_offset": offset,
                          "response_length": length, "response_record_id": record_id, "record_type": "resource"})
    return store.insert_capture(capture, exchanges, _text_row(text), {"run_id": run, "target": target, **event})


@pytest.fixture
def built(tmp_path) -> Built:
    """An archive of two runs of a browser target ("Case study": new, then changed, each with a
    screenshot) and an HTTP target ("Plain page": new, then changed, no screenshots)."""
    root = tmp_path / "archive"
    archive = Archive.open(root)
    store = archive.store
    shots = {}
    pages = {}
    with open(archive.warc_dir / WARC_NAME, "wb") as fh:
        ids = (f"<urn:uuid:00000000-0000-4000-8000-{n:012d}>" for n in itertools.count(1))
        writer = WarcWriter(fh, make_id=lambda: next(ids))  # fixed ids: the same bytes every time
        for key, at, png in (("before", T0, BEFORE_PNG), ("after", T1, AFTER_PNG)):
            _req, page = writer.exchange(make_exchange(b"<p>page</p>", url=URL, started=at.timestamp()))
            ref = writer.resource(SHOT_URI, at, "image/png", png, concurrent_to=page.record_id)
            pages[key], shots[key] = page, (ref.offset, ref.length, ref.record_id)
    for run, at in (("r1", T0), ("r2", T1)):
        store.begin_run({"id": run, "started": iso(at)})
    store.upsert_targets([{"name": name, "url": URL, "tags": "[]", "first_seen": iso(T0), "updated": iso(T0)}
                          for name in ("Case study", "Plain page")])
    diff_ops = diff_texts(OLD_TEXT, NEW_TEXT).ops_to_json()
    with store.transaction():  # captures 1 and 2: "Case study", 3 and 4: "Plain page"
        for target, with_shots in (("Case study", True), ("Plain page", False)):
            first = _insert(store, "r1", target, T0, OLD_TEXT, {"verdict": "new", "alert": 0},
                            shots["before"] if with_shots else None, pages["before"])
            _insert(
                store, "r2", target, T1, NEW_TEXT,
                {"verdict": "changed", "alert": 1, "compared_capture_id": first, "summary": "1 insertion, 1 deletion",
                 "diff_ops": json.dumps(diff_ops), "unit": "word", "fallback": 0},
                shots["after"] if with_shots else None, pages["after"])
    archive.close()
    return Built(root, shots)


def _events(root: Path, archive_root: Path | None, run: str = "r2") -> dict:
    store = CaptureStore.open_readonly(root / "lastseen.db")
    try:
        return {e.target: e for e in report_events(store, store.events(run_id=run), archive_root=archive_root)}
    finally:
        store.close()


def test_report_events_read_both_screenshots_from_the_warc_file(built):
    events = _events(built.root, built.root)
    case = events["Case study"]
    assert case.screenshot == AFTER_PNG
    assert case.compared_screenshot == BEFORE_PNG
    assert case.current.screenshot_record_id == built.shots["after"][2]
    assert case.compared.screenshot_record_id == built.shots["before"][2]
    assert case.current.screenshot_missing is None and case.compared.screenshot_missing is None
    plain = events["Plain page"]  # an HTTP capture: no screenshot, nothing to explain
    assert plain.screenshot is None and plain.compared_screenshot is None
    assert plain.current.screenshot_record_id is None and plain.current.screenshot_missing is None
    # a "new" event's capture page shows its text as captured; its screenshot is not even read
    first = _events(built.root, built.root, run="r1")["Case study"]
    assert first.screenshot is None and first.current.screenshot_record_id is None
    assert first.new_text == OLD_TEXT and first.old_text is None


def test_store_finds_a_capture_screenshot_record(built):
    store = CaptureStore.open_readonly(built.root / "lastseen.db")
    try:
        rows = {e["target"]: e for e in store.events(run_id="r2")}
        offset, length, record_id = built.shots["after"]
        assert store.screenshot(rows["Case study"]["capture_id"]) == {
            "warc_file": f"{WARC_DIR}/{WARC_NAME}", "offset": offset, "length": length, "record_id": record_id}
        assert store.screenshot(rows["Plain page"]["capture_id"]) is None
        assert store.screenshot(None) is None
    finally:
        store.close()


def _damage(built: Built, how: str) -> Path | None:
    """Damage the archive ``how``; return the archive root to give the report."""
    warc = built.root / WARC_DIR / WARC_NAME
    offset, length, _rid = built.shots["before"]
    if how == "no archive root":
        return None
    if how == "missing file":
        warc.unlink()
    elif how == "cut short":
        with open(warc, "r+b") as fh:
            fh.truncate(offset + length // 2)
    elif how == "bytes changed":  # the end of the record's compressed data: the gzip CRC no longer matches
        data = bytearray(warc.read_bytes())
        for i in range(offset + length - 14, offset + length - 10):
            data[i] ^= 0xFF
        warc.write_bytes(bytes(data))
    elif how in ("moved record", "outside the archive"):
        conn = sqlite3.connect(built.root / "lastseen.db")
        with conn:
            if how == "moved record":
                conn.execute("update exchange_rows set response_offset = ?, response_length = ? "  # (schema 21)
                             "where response_offset = ? and role = 'resource'", (*built.shots["after"][:2], offset))
            else:
                outside = built.root.parent / WARC_NAME
                shutil.copy(warc, outside)
                # (schema 21: an exchange names its WARC file by the id of its path's `warc_files` row)
                conn.execute("insert into warc_files (path) values (?)", (f"{WARC_DIR}/../../{WARC_NAME}",))
                conn.execute("update exchange_rows set warc_file_id = (select max(id) from warc_files) "
                             "where response_offset = ? and role = 'resource'", (offset,))
        conn.close()
    return built.root


@pytest.mark.parametrize("how, why", [
    ("no archive root", "the report was written without the archive's WARC files"),
    ("missing file", f"the WARC file {WARC_DIR}/{WARC_NAME} is missing"),
    ("cut short", "is cut short"),
    ("bytes changed", "is damaged"),
    ("moved record", "is not its screenshot record"),
    ("outside the archive", "the index points outside the archive"),
])
def test_a_missing_or_damaged_screenshot_costs_the_image_not_the_report(built, tmp_path, how, why):
    archive_root = _damage(built, how)
    case = _events(built.root, archive_root)["Case study"]
    assert case.compared_screenshot is None
    assert why in case.compared.screenshot_missing
    assert case.compared.screenshot_record_id == built.shots["before"][2]
    out = tmp_path / "report"
    write_report(out, title="t", run_id="r2", started=T1, finished=T1, events=[case], generated=T1)
    doc = lxml.html.parse(str(out / "case-study.html")).getroot()
    before = doc.cssselect("div.shots figure.shot")[0]
    assert before.cssselect("p.none")[0].text_content().startswith(f"screenshot not available: {case.compared.screenshot_missing}")
    assert why in before.text_content()


def test_a_screenshot_whose_digest_does_not_match_is_not_shown(built):
    """A record rewritten whole (valid gzip, its PNG changed, its digest header left): refused."""
    warc = built.root / WARC_DIR / WARC_NAME
    offset, length, record_id = built.shots["after"]  # the last record of the file
    data = warc.read_bytes()
    record = gzip.decompress(data[offset:offset + length])
    assert record.endswith(AFTER_PNG + b"\r\n\r\n")
    forged = AFTER_PNG[:-20] + bytes(reversed(AFTER_PNG[-20:]))  # still starts as a PNG
    member = gzip.compress(record.replace(AFTER_PNG, forged))
    warc.write_bytes(data[:offset] + member)
    with sqlite3.connect(built.root / "lastseen.db") as conn:
        conn.execute("update exchange_rows set response_length = ? where response_record_id = ?",  # (schema 21)
                     (len(member), record_id))
    conn.close()
    case = _events(built.root, built.root)["Case study"]
    assert case.screenshot is None
    assert "is damaged" in case.current.screenshot_missing and "digest" in case.current.screenshot_missing.lower()
    assert case.compared_screenshot == BEFORE_PNG


def test_run_report_and_lastseen_report_write_the_screenshots(built, tmp_path):
    store = CaptureStore.open_readonly(built.root / "lastseen.db")
    try:
        out = tmp_path / "run-report"
        write_run_report(store, "r2", out, started=T1, finished=T1, generated=T1, archive_root=built.root)
    finally:
        store.close()
    shots = out / "screenshots"
    assert (shots / "case-study-1.png").read_bytes() == BEFORE_PNG  # capture 1: r1's, the last good one
    assert (shots / "case-study-2.png").read_bytes() == AFTER_PNG
    assert {p.name for p in shots.iterdir()} == {"case-study-1.png", "case-study-2.png"}
    doc = lxml.html.parse(str(out / "case-study.html")).getroot()
    assert [img.get("src") for img in doc.iter("img")] == ["screenshots/case-study-1.png", "screenshots/case-study-2.png"]
    plain = lxml.html.parse(str(out / "plain-page.html")).getroot()
    assert not plain.cssselect("div.shots") and not list(plain.iter("img"))

    # `lastseen report` (read-only) passes the archive's root too
    ran = lastseen(tmp_path, "report", "--since", "1d", "--out", "cli-report", "--archive", str(built.root))
    assert ran.exit_code == 0, ran.stderr
    cli_shots = tmp_path / "cli-report" / "screenshots"
    assert {p.name: p.read_bytes() for p in cli_shots.iterdir()} == {
        "case-study-1.png": BEFORE_PNG, "case-study-2.png": AFTER_PNG,
    }
