"""Judging one capture (pure): a fetch result plus the target's history → rows, flags, verdict, summary.

No database, no WARC file: the history is built by hand and the records'
locations are given, as the recorder would pass them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from crawler.capture import Written, assess, observe
from crawler.fetch.model import FetchResult
from crawler.reading import extract_key
from crawler.store import GoodCapture, History
from crawler.warc import RecordRef, RevisitOf
from crawler.watchlist import Target

from .factories import T0, make_exchange

URL = "https://vendor.example/case/belgrade"
PAGE = b"<html><head><title>Safe City</title></head><body><h1> Belgrade <em>deal</em></h1><p>%s</p></body></html>"


def fetched(*exchanges, error_kind=None, error=None) -> FetchResult:
    return FetchResult(target="case", url=URL, started=T0.timestamp(), finished=T0.timestamp() + 1.5,
                       exchanges=list(exchanges), error_kind=error_kind, error=error)


def written(result: FetchResult, revisit: RevisitOf | None = None) -> Written:
    rows, ref = [], None
    for seq, ex in enumerate(result.exchanges):
        rid = f"<urn:uuid:00000000-0000-0000-0000-{seq:012d}>"
        rows.append({"seq": seq, "role": ex.role, "status": ex.status, "response_record_id": rid,
                     "payload_sha1": f"sha1:{seq}", "payload_sha256": hashlib.sha256(ex.body).hexdigest(),
                     "payload_length": len(ex.body)})
        if ex is result.final:
            ref = RecordRef(rid, 1000 + seq, 500, "revisit" if revisit else "response")
    return Written("warcs/x.warc.gz", "archive/warcs/x.warc.gz", rows, ref, revisit)


def judge(target: Target, result: FetchResult, history: History = History(None, None, None), texts=None, **kw):
    texts = texts or {}
    return assess(target, result, history, written(result, **kw), run_id="r1", max_body=2**20,
                  load_text=texts.get)


def good_capture(text: str, payload: bytes, target: Target) -> GoodCapture:
    return GoodCapture(id=7, text_sha256=hashlib.sha256(text.encode()).hexdigest(),
                       fingerprint=hashlib.sha256(text.encode()).hexdigest(), kind="html",
                       payload_sha256=hashlib.sha256(payload).hexdigest(), extract_key=extract_key(target),
                       title="Safe City", links="[]", charset="utf-8", final_url=URL, heading="Belgrade deal")


def test_first_capture_is_new_with_title_heading_and_rows():
    target = Target("case", URL)
    page = make_exchange(PAGE % b"Cameras for the police.", url=URL, response_headers=[("Content-Type", "text/html")])
    judged = judge(target, fetched(page))
    assert (judged.event.verdict, judged.event.alert, judged.event.summary) == ("new", False, "first capture: Safe City")
    assert judged.capture["title"] == "Safe City" and judged.capture["heading"] == "Belgrade deal"
    assert judged.capture["good"] == 1 and judged.capture["warc_offset"] == 1000
    assert judged.text_row == [(judged.capture["text_sha256"], "Belgrade deal\nCameras for the police.")]
    assert judged.event.warc == {"file": "archive/warcs/x.warc.gz", "offset": 1000,
                                 "record_id": "<urn:uuid:00000000-0000-0000-0000-000000000000>"}


def test_changed_is_diffed_against_the_last_good_text():
    target = Target("case", URL)
    old = "Belgrade deal\nCameras for the police."
    history = History("new", good_capture(old, b"old bytes", target), None, ("new",))
    page = make_exchange(PAGE % b"Cameras and drones for the police.", url=URL,
                         response_headers=[("Content-Type", "text/html")])
    judged = judge(target, fetched(page), history, texts={good_capture(old, b"", target).text_sha256: old})
    assert (judged.event.verdict, judged.event.alert) == ("changed", True)
    assert judged.event.diff == {"insertions": 2, "deletions": 0, "unit": "word", "fallback": False, "moves": 0}
    assert judged.event_row["compared_capture_id"] == 7 and judged.event.summary == "2 insertions, 0 deletions: + \u201cand drones\u201d"


def test_same_payload_reuses_the_last_good_text_without_extracting():
    target = Target("case", URL)
    body = PAGE % b"Cameras for the police."
    old = "Belgrade deal\nCameras for the police."
    history = History("new", good_capture(old, body, target), None, ("new",))
    judged = judge(target, fetched(make_exchange(body, url=URL)), history)
    assert judged.event.verdict == "unchanged" and judged.text_row is None
    assert judged.capture["heading"] == "Belgrade deal" and judged.capture["title"] == "Safe City"


def test_status_chain_and_final_speak_of_the_page_chain_only():
    target = Target("case", URL)
    hop = make_exchange(b"", url=URL, status=301, reason="Moved Permanently",
                        response_headers=[("Location", URL + "/")], role="redirect")
    page = make_exchange(PAGE % b"Here.", url=URL + "/", response_headers=[("Content-Type", "text/html")])
    logo = make_exchange(b"\x89PNG\r\n\x1a\n", url="https://vendor.example/logo.png", status=404, role="subresource")
    judged = judge(target, fetched(hop, page, logo))
    assert judged.event.status_chain == [301, 200]
    assert (judged.event.status, judged.event.final_url) == (200, URL + "/")
    assert json.loads(judged.capture["status_chain"]) == [301, 200]
    assert [row["role"] for row in judged.exchanges] == ["redirect", "page", "subresource"]


def test_flags_and_the_disconnected_summary():
    target = Target("case", URL, select="main")
    cut = make_exchange(b"<p>partial", url=URL, truncated="disconnect", tls_verified=False,
                        response_headers=[("Content-Length", "5000")])
    judged = judge(target, fetched(cut))
    assert (judged.event.verdict, judged.event.reason) == ("unreachable", "reset")
    assert judged.event.flags == ["tls-unverified", "disconnected"]
    assert judged.event.summary == ("the connection was dropped after 10 bytes of the body (5000 announced); "
                                    "what arrived is archived, not compared")
    empty = judge(target, fetched(make_exchange(PAGE % b"no main element", url=URL)))
    assert empty.event.flags == ["select-empty"] and empty.event.verdict == "new"


def test_a_failed_fetch_has_no_records_and_says_why():
    judged = judge(Target("case", URL), fetched(error_kind="dns", error="no address for vendor.example"))
    assert (judged.event.verdict, judged.event.reason, judged.event.alert) == ("unreachable", "dns", True)
    assert judged.event.summary == "no address for vendor.example" and judged.event.warc is None
    assert judged.capture["good"] == 0 and "warc_file" not in judged.capture


def test_a_script_shell_is_flagged_js_shell_and_a_small_page_is_not():
    target = Target("case", URL)
    shell = (b"<html><head><title>Case</title></head><body><div id='app'>Loading\xe2\x80\xa6</div><script>"
             b"fetch('/api/case.json').then(r => r.json()).then(d => { document.getElementById('app').textContent "
             b"= d.text; });</script></body></html>")
    judged = judge(target, fetched(make_exchange(shell, url=URL, response_headers=[("Content-Type", "text/html")])))
    assert judged.event.flags == ["js-shell"]
    external = b"<html><body><div id=root></div><script src='/app.js'></script></body></html>"
    assert "js-shell" in judge(target, fetched(make_exchange(external, url=URL))).event.flags
    small = b"<html><body><p>We supplied 2000 cameras to the city.</p><script>var x = 'bbb';</script></body></html>"
    assert judge(target, fetched(make_exchange(small, url=URL))).event.flags == []


VENDOR_INDEX = ('<html><head><title>Customers</title><meta name="description" content="%s"></head><body>'
                '<a href="/case/belgrade">Belgrade <b>Safe City</b> case study</a><a href="/case/nis"></a>'
                '<a href="/case/nis">Niš</a></body></html>')


def test_anchor_texts_and_description_are_stored_with_the_capture():
    page = make_exchange((VENDOR_INDEX % "Our  customers").encode(), url=URL,
                         response_headers=[("Content-Type", "text/html; charset=utf-8")])
    judged = judge(Target("case", URL), fetched(page))
    assert json.loads(judged.capture["links"]) == ["https://vendor.example/case/belgrade",
                                                   "https://vendor.example/case/nis"]
    assert json.loads(judged.capture["link_texts"]) == {"https://vendor.example/case/belgrade":
                                                        "Belgrade Safe City case study",
                                                        "https://vendor.example/case/nis": "Niš"}
    assert judged.capture["description"] == "Our customers"


def test_a_last_good_capture_extracted_before_anchor_texts_is_read_again_for_them():
    target = Target("case", URL)
    old_body = (VENDOR_INDEX % "Old description").encode()
    old = "Belgrade Safe City case study Niš"
    good = replace(good_capture(old, old_body, target), extract_key="version-2-key", links=json.dumps(
        ["https://vendor.example/case/belgrade", "https://vendor.example/case/nis"]))
    assert good.link_texts is None   # as the release before stored it
    history = History("new", good, None, ("new",))
    new_body = (VENDOR_INDEX % "New description").replace("Niš", "Nis").encode()
    result = fetched(make_exchange(new_body, url=URL, response_headers=[("Content-Type", "text/html")]))
    read = []
    seen = observe(target, result, history, written(result), run_id="r1", max_body=2**20, load_text={}.get,
                   load_body=lambda capture: read.append(capture.id) or (old_body, "text/html", None))
    assert read == [7]   # its payload, from its WARC record
    assert seen.filled == {"capture_id": 7, "description": "Old description", "link_texts": json.dumps(
        {"https://vendor.example/case/belgrade": "Belgrade Safe City case study",
         "https://vendor.example/case/nis": "Niš"}, ensure_ascii=False)}
    # the same bytes from the same address read as the new capture does: nothing to read
    same = fetched(make_exchange(old_body, url=URL, response_headers=[("Content-Type", "text/html")]))
    seen = observe(target, same, history, written(same), run_id="r1", max_body=2**20, load_text={}.get,
                   load_body=lambda capture: read.append(capture.id))
    assert read == [7] and seen.filled["description"] == "Old description"
    assert seen.filled["link_texts"] == seen.capture["link_texts"]
    # a capture that has them keeps them
    kept = History("new", replace(good, link_texts="{}", description=None), None, ("new",))
    seen = observe(target, result, kept, written(result), run_id="r1", max_body=2**20, load_text={}.get,
                   load_body=lambda capture: (old_body, "text/html", None))
    assert seen.filled is None
