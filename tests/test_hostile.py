"""Unattended and unbreakable (#3): limits, hostile servers, politeness, TLS evidence, no open ports.

Every misbehaviour is served by :mod:`tests.hostile` from 127.0.0.1, next to a normal page,
in the same run: each gets a defined verdict, reason and flags (the ``--json`` contract), the
run goes on, and the normal page is captured as usual.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import brotli
import pytest

from crawler.fetch.http import download_slots, scrapy_settings, user_agent
from crawler.fetch.politeness import parse_retry_after
from crawler.fetch.tls import verify_message

from . import hostile
from .archive_checks import wait_until
from .helpers import assert_contract, lastseen, record_at, write_watchlist
from .hostile import HostileServer, Request, respond

PAGE = b"<!doctype html><html><head><title>Procurement notice</title></head><body><main><p>Contract 2024/17 " \
       b"awarded for 120 cameras.</p></main></body></html>"
MAX_BODY = 8 * 2**20
CYRILLIC = ("<html><head><title>Закупки</title></head><body><p>Полиция Београда купила систем камер за "
            "распознавание лиц у компании из Китая. Контракт был подписан в декабре.</p></body></html>")


def captures(tmp: Path) -> dict[str, dict]:
    """The latest capture row of each target, by name (its host's robots.txt, role ``robots``, aside)."""
    db = sqlite3.connect(tmp / "archive" / "lastseen.db")
    db.row_factory = sqlite3.Row
    rows = db.execute("select * from captures where role != 'robots' order by id").fetchall()
    db.close()
    return {row["target"]: dict(row) for row in rows}


def later(seconds: float, behaviour_after) -> hostile.Behaviour:
    """503 with Retry-After as an HTTP date ``seconds`` after its ``Date`` (computed when asked), then
    ``behaviour_after``. Both dates are whole seconds, so the wait asked for is exactly ``seconds``
    whatever the fraction of a second it is asked at (lastseen measures it against ``Date``)."""

    def first(conn, request):
        now = time.time()
        date, when = (email.utils.formatdate(t, usegmt=True) for t in (now, now + seconds))
        respond(b"busy", 503, [("Date", date), ("Retry-After", when)])(conn, request)

    return hostile.sequence(first, behaviour_after)


def _bomb(compress) -> bytes:
    return compress(b" " * (4 * MAX_BODY))


# --------------------------------------------------------------------------- the mixed run


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    h = HostileServer()
    stall = hostile.Unresponsive()
    oneline = b"<html><head><title>One line</title></head><body><p>" + b"word " * (2**20) + b"</p></body></html>"
    links = b"<html><body>" + b"".join(b'<a href="/l%d">link %d</a>' % (i, i) for i in range(10_000)) + b"</body></html>"
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    gz, deflate, br = (_bomb(lambda b: gzip.compress(b, compresslevel=6, mtime=0)), _bomb(zlib.compress),
                       _bomb(lambda b: brotli.compress(b, quality=4)))
    routes = {
        "normal": h.route("/normal", respond(PAGE)),
        "endless": h.route("/endless", hostile.endless()),
        "loop": h.route("/loop", respond(b"", 301, [("Location", "/loop")])),
        "slowloris": h.route("/drip", hostile.drip(0.3)),
        "slow-head": h.route("/driphead", hostile.drip(0.3, in_head=True)),
        "no-connect": stall.url("/x"),
        "gzip-bomb": h.route("/gz", respond(gz, headers=[("Content-Encoding", "gzip")])),
        "deflate-bomb": h.route("/deflate", respond(deflate, headers=[("Content-Encoding", "deflate")])),
        "brotli-bomb": h.route("/br", respond(br, headers=[("Content-Encoding", "br")])),
        "short-length": h.route("/short", respond(PAGE, content_length=len(PAGE) + 1000)),
        "long-length": h.route("/long", respond(PAGE + b"<p>NOT COUNTED</p>" * 50, content_length=len(PAGE))),
        "reset": h.route("/reset", hostile.reset_after(PAGE[:60], 5000)),
        "reset-chunked": h.route("/resetchunk", hostile.reset_after(PAGE[:60], 5000, chunked=True)),
        "bad-utf8": h.route("/badutf8", respond(b"<html><body><p>caf\xe9 \xff\xfe \xc3 invalid</p></body></html>")),
        "nul-bytes": h.route("/nul", respond(b"<html><body><p>before\x00\x00after</p></body></html>")),
        "lying-charset": h.route("/charset", respond(CYRILLIC.encode("cp1251"))),
        "binary-as-html": h.route("/binhtml", respond(png * 4, content_type="text/html; charset=utf-8")),
        "one-line": h.route("/oneline", respond(oneline)),
        "links": h.route("/links", respond(links)),
        "pdf": h.route("/pdf", respond(pdf, content_type="application/pdf")),
        "png": h.route("/png", respond(png, content_type="image/png")),
        "json": h.route("/json", respond(b'{"contract": "2024/17", "cameras": 120}', content_type="application/json")),
        "not-http": h.route("/garbage", hostile.raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")),
        "hang-up": h.route("/closed", hostile.close_at_once()),
        "huge-header": h.route("/bighead", hostile.raw(hostile.head(200, [("X-Big", "a" * 200_000)]) + PAGE)),
        "to-file": h.route("/tofile", respond(b"", 302, [("Location", "file:///etc/passwd")])),
        "retry-after-1": h.route("/ra1", hostile.sequence(respond(b"slow down", 429, [("Retry-After", "1")]),
                                                          respond(PAGE))),
        "retry-after-date": h.route("/radate", later(1, respond(PAGE))),  # within the 2 s deadline, always
        "retry-after-3600": h.route("/ra3600", respond(b"come back later", 429, [("Retry-After", "3600")])),
        "normal-2": h.route("/normal2", respond(PAGE.replace(b"120", b"240"))),
    }
    wl = write_watchlist(tmp / "watchlist.yaml", [{"name": k, "url": v} for k, v in routes.items()], settings={
        "per_host_concurrency": 16, "timeout": "1s", "deadline": "2s", "retries": 2, "max_redirects": 3,
        "max_body": "8MB",
    })
    first = lastseen(tmp, "run", "--json")
    first_hits = {path: list(h.hits(path)) for path in ("/drip", "/ra1", "/radate", "/ra3600")}
    # Second run: binary content changes by one byte; everything else is served again as is.
    h.route("/pdf", respond(pdf[:-8] + b"%%EOF!\n", content_type="application/pdf"))
    second = lastseen(tmp, "run", "--json")
    yield {"tmp": tmp, "server": h, "runs": [first, second], "hits": first_hits,
           "sent": {"gzip-bomb": gz, "deflate-bomb": deflate, "brotli-bomb": br, "pdf": pdf, "png": png},
           "wl": wl}
    h.close()
    stall.close()


#: The contract of each misbehaviour in the first run: (verdict, reason, flags).
EXPECTED = {
    "normal": ("new", None, []),
    "endless": ("new", None, ["truncated", "text-truncated"]),  # 8 MB of text: more than max_text
    "loop": ("unreachable", "redirects", []),
    "slowloris": ("unreachable", "timeout", []),
    "slow-head": ("unreachable", "timeout", []),
    "no-connect": ("unreachable", "timeout", []),
    "gzip-bomb": ("new", None, ["decoded-truncated", "auto-fallback"]),  # (no article in a bomb)
    "deflate-bomb": ("new", None, ["decoded-truncated", "auto-fallback"]),  # (no article in a bomb)
    "brotli-bomb": ("new", None, ["decoded-truncated", "auto-fallback"]),  # (no article in a bomb)
    "short-length": ("unreachable", "reset", ["disconnected"]),
    "long-length": ("new", None, []),
    "reset": ("unreachable", "reset", ["disconnected"]),
    "reset-chunked": ("unreachable", "reset", ["disconnected"]),
    "bad-utf8": ("new", None, []),
    "nul-bytes": ("new", None, []),
    "lying-charset": ("new", None, []),
    "binary-as-html": ("new", None, []),
    "one-line": ("new", None, ["text-truncated"]),  # a 5 MB line: more than max_text
    "links": ("new", None, ["auto-fallback"]),  # a page of links has no main content
    "pdf": ("new", None, ["extract-error"]),   # a PDF's signature, then garbage: no document to read (#13)
    "png": ("new", None, []),
    "json": ("new", None, []),
    "not-http": ("unreachable", "protocol", []),
    "hang-up": ("unreachable", "reset", []),
    "huge-header": ("unreachable", "reset", []),
    "to-file": ("unreachable", "http-3xx", []),
    "retry-after-1": ("new", None, []),
    "retry-after-date": ("new", None, []),
    "retry-after-3600": ("blocked", "http-429", []),
    "normal-2": ("new", None, []),
}


def test_every_misbehaviour_has_its_verdict_and_the_run_goes_on(mixed):
    first = mixed["runs"][0]
    assert first.exit_code == 0, first.stderr
    assert_contract(first.json)
    got = {e["target"]: (e["verdict"], e["reason"], e["flags"]) for e in first.json["events"]}
    assert got == EXPECTED
    for name in ("normal", "normal-2"):
        e = first.event(name)
        assert e["status"] == 200 and e["summary"] == "first capture: Procurement notice" and e["warc"]
    # Three slow targets (1 s timeout, 2 retries, 2 s deadline) and a 1 s Retry-After: no fetch of either run
    # outlasted the 2 s deadline, so a run takes seconds, not minutes (how many: `make bench`, tests/README.md).
    db = sqlite3.connect(mixed["tmp"] / "archive" / "lastseen.db")
    try:
        durations = db.execute("select target, duration_ms from captures").fetchall()
        robots = db.execute("select run_id, url from captures where role = 'robots'").fetchall()
        pages = db.execute("select count(*) from captures where role != 'robots'").fetchone()[0]
    finally:
        db.close()
    assert {target for target, _ in durations} == set(EXPECTED) and pages == 2 * len(EXPECTED)
    # and each host's robots.txt once per run (settings.watch_robots): two hosts, two runs
    origins = {urlunsplit((*urlsplit(e["url"])[:2], "/robots.txt", "", "")) for e in first.json["events"]}
    assert len(origins) == 2 and len(robots) == 4 and {url for _, url in robots} == origins
    assert len({run for run, _ in robots}) == 2 and len(set(robots)) == 4
    slowest = max(durations, key=lambda row: row[1])
    assert slowest[1] < 2900, slowest


def test_second_run_is_stable_and_binary_content_is_compared_by_digest(mixed):
    second = mixed["runs"][1]
    assert second.exit_code == 0, second.stderr
    assert_contract(second.json)
    verdicts = {e["target"]: e["verdict"] for e in second.json["events"]}
    for name in ("normal", "normal-2", "endless", "bad-utf8", "nul-bytes", "lying-charset", "binary-as-html",
                 "one-line", "links", "png", "json", "long-length", "gzip-bomb", "deflate-bomb", "brotli-bomb"):
        assert verdicts[name] == "unchanged", (name, second.event(name))
    pdf = second.event("pdf")
    assert (pdf["verdict"], pdf["summary"], pdf["diff"]) == ("changed", "content differs (compared by digest)", None)
    assert second.event("slowloris")["alert"] is False  # still unreachable: no second alert


def test_truncated_body_is_kept_and_marked(mixed):
    tmp = mixed["tmp"]
    e = mixed["runs"][0].event("endless")
    rtype, headers, http_headers, payload = record_at(tmp / e["warc"]["file"], e["warc"]["offset"])
    assert rtype == "response" and headers.get_header("WARC-Truncated") == "length"
    assert len(payload) == MAX_BODY and payload.startswith(b"<p>xxx")
    assert captures(tmp)["endless"]["truncated"] == "length"


def test_compression_bombs_are_archived_whole_and_decoded_bounded(mixed):
    tmp, sent = mixed["tmp"], mixed["sent"]
    rows = captures(tmp)
    for name in ("gzip-bomb", "deflate-bomb", "brotli-bomb"):
        e = mixed["runs"][0].event(name)
        rtype, headers, http_headers, payload = record_at(tmp / e["warc"]["file"], e["warc"]["offset"])
        assert rtype == "response" and payload == sent[name]  # as received, still compressed
        assert headers.get_header("WARC-Truncated") is None
        assert rows[name]["kind"] == "html"


def test_lying_content_lengths(mixed):
    tmp = mixed["tmp"]
    short = mixed["runs"][0].event("short-length")
    # Shorter than announced: the connection ends early; what arrived is archived, marked, not compared.
    rtype, headers, _, payload = record_at(tmp / short["warc"]["file"], short["warc"]["offset"])
    assert payload == PAGE and headers.get_header("WARC-Truncated") == "disconnect"
    assert short["status"] == 200 and short["summary"].startswith(f"the connection was dropped after {len(PAGE)} bytes")
    assert f"({len(PAGE) + 1000} announced)" in short["summary"]
    # Longer than announced: only Content-Length bytes count.
    long = mixed["runs"][0].event("long-length")
    assert record_at(tmp / long["warc"]["file"], long["warc"]["offset"])[3] == PAGE
    for name in ("reset", "reset-chunked"):
        e = mixed["runs"][0].event(name)
        rtype, headers, _, payload = record_at(tmp / e["warc"]["file"], e["warc"]["offset"])
        assert payload == PAGE[:60] and headers.get_header("WARC-Truncated") == "disconnect"


def test_deadline_bounds_the_whole_fetch(mixed):
    e = mixed["runs"][0].event("slowloris")
    assert "deadline of 2s" in e["summary"] and "settings.deadline" in e["summary"]
    row = captures(mixed["tmp"])["slowloris"]
    # 1 s timeout and 2 retries would allow 3 attempts and 3 s; the 2 s deadline cut the second
    # attempt short and refused a third.
    hits = mixed["hits"]["/drip"]
    assert len(hits) == 2
    assert row["duration_ms"] < 2900
    assert mixed["runs"][0].event("no-connect")["status_chain"] == []


def test_retry_after_is_honoured_within_its_cap(mixed):
    first, hits = mixed["runs"][0], mixed["hits"]
    ra1 = first.event("retry-after-1")
    assert ra1["status_chain"] == [429, 200] and ra1["status"] == 200
    a, b = hits["/ra1"]
    assert b.at - a.at >= 0.95
    dated = first.event("retry-after-date")
    assert dated["status_chain"] == [503, 200]
    a, b = hits["/radate"]
    assert b.at - a.at >= 0.95  # an HTTP date 1 s after the response's Date
    ra3600 = first.event("retry-after-3600")
    assert ra3600["status_chain"] == [429] and len(hits["/ra3600"]) == 1  # neither waited for nor hammered


def test_content_types_and_extraction_of_hostile_bodies(mixed):
    tmp, sent = mixed["tmp"], mixed["sent"]
    rows = captures(tmp)
    for name in ("pdf", "png"):
        e = mixed["runs"][0].event(name)
        assert record_at(tmp / e["warc"]["file"], e["warc"]["offset"])[3] == sent[name]  # archived in full
        assert rows[name]["text_sha256"] is None
    assert rows["png"]["kind"] == "binary"
    assert rows["pdf"]["kind"] == "pdf" and rows["pdf"]["extract_error"].startswith("PdfReadError")  # (#13)
    assert rows["binary-as-html"]["kind"] == "binary"
    assert rows["json"]["kind"] == "json"   # read by structure (#13, docs/json.md)
    # its second capture, the same bytes, keeps no copy of them (#17): the index finds the first's
    assert rows["links"]["links"] is None and rows["links"]["record_type"] == "revisit"
    from crawler.store import CaptureStore

    store = CaptureStore.open_readonly(tmp / "archive" / "lastseen.db")
    try:
        assert len(json.loads(store.with_links(rows["links"])["links"])) == 10_000
    finally:
        store.close()
    assert rows["one-line"]["title"] == "One line" and rows["one-line"]["payload_length"] > 5 * 2**20
    assert rows["lying-charset"]["charset"] == "cp1251"
    db = sqlite3.connect(tmp / "archive" / "lastseen.db")
    text = db.execute("select text from texts where sha256 = ?", (rows["lying-charset"]["text_sha256"],)).fetchone()[0]
    assert "Полиция Београда" in text
    json_text = db.execute("select text from texts where sha256 = ?", (rows["json"]["text_sha256"],)).fetchone()[0]
    assert json_text == '$.cameras: 120\n$.contract: "2024/17"'
    nul = db.execute("select text from texts where sha256 = ?", (rows["nul-bytes"]["text_sha256"],)).fetchone()[0]
    assert "\x00" not in nul and "before" in nul and "after" in nul


def test_failures_read_as_plain_messages(mixed):
    first = mixed["runs"][0]
    assert first.event("not-http")["summary"].startswith("the server's answer is not valid HTTP")
    assert first.event("hang-up")["summary"] == "the server closed the connection without answering"
    assert first.event("loop")["status_chain"] == [301] * 4  # max_redirects: 3, then it gives up
    assert first.event("to-file")["status"] == 302  # a redirect to file: is never followed


# --------------------------------------------------------------------------- politeness


def test_retry_after_parsing():
    now = 1_700_000_000.0
    assert parse_retry_after(b"120", now=now) == 120.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == 30.0
    # measured against the server's own Date: clock skew between the machines does not matter
    assert parse_retry_after(date, now=now + 500, date=email.utils.formatdate(now + 10, usegmt=True)) == 20.0
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0
    for bad in (None, b"", b"soon", b"-5", b"1.5", b"Someday, 99 Foo 2024"):
        assert parse_retry_after(bad, now=now) is None, bad
    assert parse_retry_after(b"9" * 40, now=now) > 10**9


def test_scrapy_settings_are_safe_and_polite():
    options = {"concurrency": 8, "per_host_concurrency": 1, "per_host_delay": 2.0, "timeout": 10.0,
               "user_agent": "lastseen/0.1 (+https://lastseen.example.org)", "retries": 2,
               "max_redirects": 5, "max_body": 1024, "contact": "desk@example.org",
               "hosts": {"slow.example": {"per_host_delay": 5.0, "per_host_concurrency": None},
                         "fast.example": {"per_host_delay": None, "per_host_concurrency": 3},
                         "same.example": {"per_host_delay": None, "per_host_concurrency": None}}}
    s = scrapy_settings(options)
    assert s["TELNETCONSOLE_ENABLED"] is False and s["REMOTE_CONTROL_ENABLED"] is False
    for left_out in ("scrapy.extensions.telnet.TelnetConsole", "scrapy.extensions.remote_control.RemoteControl"):
        # never loaded: not among the extensions, nor given as one to switch off (Scrapy imports those too)
        assert left_out not in s["EXTENSIONS_BASE"] and left_out not in s.get("EXTENSIONS", {})
    assert "scrapy.extensions.corestats.CoreStats" in s["EXTENSIONS_BASE"]
    assert s["DOWNLOAD_SLOTS"] == {"slow.example": {"delay": 5.0}, "fast.example": {"concurrency": 3}}
    assert s["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1 and s["DOWNLOAD_DELAY"] == 2.0
    assert s["DOWNLOAD_DELAY_JITTER"] == 0 and "RANDOMIZE_DOWNLOAD_DELAY" not in s
    assert s["USER_AGENT"] == "lastseen/0.1 (+https://lastseen.example.org; +mailto:desk@example.org)"
    assert s["DEFAULT_REQUEST_HEADERS"]["From"] == "desk@example.org"
    assert s["LASTSEEN_DEADLINE"] == 120.0 and s["LASTSEEN_RETRY_AFTER_MAX"] == 60.0
    assert s["ROBOTSTXT_OBEY"] is False
    assert {s["DOWNLOAD_HANDLERS"][k] for k in ("file", "data", "ftp", "s3")} == {None}
    assert user_agent("bot/1", "https://example.org/contact") == "bot/1 (+https://example.org/contact)"
    assert user_agent("bot/1 (desk@example.org)", "desk@example.org") == "bot/1 (desk@example.org)"
    assert download_slots({}) == {}


def _gaps(requests: list[Request]) -> list[float]:
    times = sorted(r.at for r in requests)
    return [b - a for a, b in zip(times, times[1:])]


def test_per_host_overrides_apply_delay_and_concurrency(tmp_path):
    tracker = hostile.Concurrency()
    with HostileServer() as h:
        targets = [{"name": f"slow{i}", "url": h.route(f"/s{i}", hostile.slow(PAGE, 0.4, tracker=tracker))}
                   for i in range(6)]
        wl = tmp_path / "watchlist.yaml"
        write_watchlist(wl, targets, settings={"per_host_concurrency": 8, "per_host_delay": "0s"})
        wl.write_text(wl.read_text() + "hosts:\n  127.0.0.1:\n    per_host_concurrency: 2\n")
        ran = lastseen(tmp_path, "run", "--json")
        assert ran.exit_code == 0 and {e["verdict"] for e in ran.json["events"]} == {"new"}
        assert tracker.most == 2  # the host's own limit, not settings.per_host_concurrency

        wl.write_text(wl.read_text().replace("per_host_concurrency: 2", "per_host_delay: 700ms"))
        for i in range(6):
            h.route(f"/s{i}", respond(PAGE))
        h.requests.clear()
        ran = lastseen(tmp_path, "run", "--json", "--force", "--only", "slow0", "--only", "slow1",
                       "--only", "slow2")
        assert ran.exit_code == 0
        # the host's robots.txt (settings.watch_robots) once, taking its turn like any request to the host
        assert [r.path for r in h.requests].count("/robots.txt") == 1
        pages = _gaps([r for r in h.requests if r.path != "/robots.txt"])
        assert len(pages) == 2 and min(pages) >= 0.65, pages
        gaps = _gaps(h.requests)
        assert len(gaps) == 3 and min(gaps) >= 0.65, gaps


def test_robots_txt_obeyed_and_the_decision_recorded(tmp_path):
    with HostileServer() as h, HostileServer() as broken:
        h.route("/robots.txt", respond(b"User-agent: *\nDisallow: /private\n", content_type="text/plain"))
        broken.route("/robots.txt", hostile.close_at_once())
        # Several targets of one host wait for the same robots.txt; the disallowed one comes last.
        targets = [{"name": "public", "url": h.route("/public", respond(PAGE))},
                   {"name": "public-2", "url": h.route("/public2", respond(PAGE))},
                   {"name": "public-3", "url": h.route("/public3", respond(PAGE))},
                   {"name": "private", "url": h.url("/private/report")},
                   {"name": "no-robots", "url": broken.route("/page", respond(PAGE))}]
        h.route("/private/report", respond(PAGE))
        write_watchlist(tmp_path / "watchlist.yaml", targets, settings={
            "obey_robots": True, "contact": "desk@example.org", "retries": 0,
            "user_agent": "lastseen/0.1 (+https://lastseen.example.org; newsroom monitor)"})
        ran = lastseen(tmp_path, "run", "--json")
        assert ran.exit_code == 0, ran.stderr
        assert_contract(ran.json)
        private = ran.event("private")
        assert (private["verdict"], private["reason"], private["flags"]) == ("unreachable", "robots",
                                                                             ["robots-disallowed"])
        assert "robots.txt disallows" in private["summary"] and private["warc"] is None
        assert not h.hits("/private/report")  # never asked for
        assert (ran.event("public")["verdict"], ran.event("no-robots")["verdict"]) == ("new", "new")
        rows = captures(tmp_path)
        assert {n: rows[n]["robots"] for n in rows} == {"private": "disallowed", "public": "allowed",
                                                        "public-2": "allowed", "public-3": "allowed",
                                                        "no-robots": "unavailable"}
        # A descriptive User-Agent with the contact, on robots.txt and page requests alike.
        agent = "lastseen/0.1 (+https://lastseen.example.org; newsroom monitor; +mailto:desk@example.org)"
        for request in (*h.hits("/robots.txt"), *h.hits("/public")):
            assert request.header("User-Agent") == agent
        assert h.hits("/public")[0].header("From") == "desk@example.org"
        assert len(h.hits("/robots.txt")) == 1 and len(broken.hits("/robots.txt")) == 1  # once per host and run
        # That one answer is also the watched robots.txt (settings.watch_robots): archived, once per host.
        db = sqlite3.connect(tmp_path / "archive" / "lastseen.db")
        watched = db.execute("select c.url, c.status, x.payload_sha256 from captures c left join exchanges x "
                             "on x.capture_id = c.id where c.role = 'robots' order by c.url").fetchall()
        db.close()
        served = hashlib.sha256(b"User-agent: *\nDisallow: /private\n").hexdigest()
        assert watched == sorted([(h.url("/robots.txt"), 200, served), (broken.url("/robots.txt"), None, None)])

        # With obey_robots off (the default) the page is fetched and no decision is recorded.
        write_watchlist(tmp_path / "watchlist.yaml", targets[3:4])
        ran = lastseen(tmp_path, "run", "--json", "--force")
        assert ran.event("private")["verdict"] == "new" and captures(tmp_path)["private"]["robots"] is None


# --------------------------------------------------------------------------- security of the process


def _socket_inodes(pid: int) -> set[str]:
    out = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        for fd in fd_dir.iterdir():
            try:
                target = fd.readlink() if hasattr(fd, "readlink") else Path(fd).resolve()
            except OSError:
                continue
            text = str(target)
            if text.startswith("socket:["):
                out.add(text[8:-1])
    except OSError:
        pass
    return out


def _listening_inodes() -> set[str]:
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A":  # TCP_LISTEN
                out.add(fields[9])
    return out


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def held(body: bytes, release: threading.Event) -> hostile.Behaviour:
    """Answer only once ``release`` is set (30 s at most): the exchange stays open while the test looks."""
    inner = respond(body)

    def behaviour(conn, request):
        release.wait(30)
        inner(conn, request)

    return behaviour


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_nothing_listens_on_a_port_during_a_run(tmp_path):
    release = threading.Event()
    with HostileServer() as h:
        url = h.route("/slow", held(PAGE, release))
        write_watchlist(tmp_path / "watchlist.yaml", [{"name": "slow", "url": url}])
        proc = subprocess.Popen([sys.executable, "-m", "crawler", "run", "--json"], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seen_child, looks = set(), 0

        def look():
            nonlocal looks
            pids = [proc.pid, *_children(proc.pid)]
            seen_child.update(pids[1:])
            listening = _listening_inodes()
            for pid in pids:
                mine = _socket_inodes(pid)
                assert not (mine & listening), f"process {pid} listens on a TCP port"
            looks += 1

        try:
            # The server holds its answer: the fetcher is mid-exchange, everything is up.
            assert wait_until(lambda: h.hits("/slow") or proc.poll() is not None, 30)
            assert proc.poll() is None, proc.communicate()[1].decode()
            for _ in range(5):
                look()
            assert seen_child  # the fetcher child was inspected, repeatedly, mid-exchange
            release.set()
            for _ in range(300):  # ... and on until the run ends (30 s at most)
                look()
                try:
                    proc.wait(0.1)
                    break
                except subprocess.TimeoutExpired:
                    pass
            out, err = proc.communicate(timeout=30)
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, err.decode()
        assert seen_child and looks >= 6
        assert json.loads(out)["events"][0]["verdict"] == "new"


# --------------------------------------------------------------------------- TLS evidence


@pytest.fixture(scope="module")
def tls_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tls")
    certs = tmp / "certs"
    certs.mkdir()
    ca = hostile.make_ca(certs)
    servers = {
        "trusted": HostileServer(tls=hostile.issue_cert(ca, certs, stem="trusted")),
        "wrong-host": HostileServer(tls=hostile.issue_cert(ca, certs, names=["wrong.example"], stem="wrong")),
        "expired": HostileServer(tls=hostile.issue_cert(ca, certs, expired=True, stem="expired")),
        "plain": HostileServer(),
    }
    from .site import Site

    self_signed = Site(tls_dir=certs)
    self_signed.set("/p", PAGE)
    targets = [{"name": name, "url": s.route("/p", respond(PAGE))} for name, s in servers.items()]
    targets.append({"name": "self-signed", "url": self_signed.url("/p")})
    targets.append({"name": "redirected", "url": servers["trusted"].route("/r", respond(b"", 302, [("Location", "/p")]))})
    wl = tmp / "watchlist.yaml"
    write_watchlist(wl, targets, settings={"ca_certs": "certs/ca.pem"})  # relative to the watchlist
    with_ca = lastseen(tmp, "run", "--json")
    rows_with_ca = captures(tmp)
    write_watchlist(wl, targets)
    without_ca = lastseen(tmp, "run", "--json", "--force")
    yield {"tmp": tmp, "runs": [with_ca, without_ca], "rows": [rows_with_ca, captures(tmp)]}
    for s in servers.values():
        s.close()
    self_signed.close()


def test_tls_problems_never_stop_a_capture_but_are_recorded(tls_run):
    ran, rows = tls_run["runs"][0], tls_run["rows"][0]
    assert ran.exit_code == 0, ran.stderr
    assert_contract(ran.json)
    for e in ran.json["events"]:
        assert (e["verdict"], e["status"]) == ("new", 200), e
        assert e["warc"] is not None
    flags = {e["target"]: e["flags"] for e in ran.json["events"]}
    assert flags == {"trusted": [], "wrong-host": ["tls-unverified"], "expired": ["tls-unverified"],
                     "plain": [], "self-signed": ["tls-unverified"], "redirected": []}
    got = {name: (row["tls_verified"], row["tls_error"]) for name, row in rows.items()}
    assert got["trusted"] == (1, None) and got["redirected"] == (1, None)
    assert got["plain"] == (None, None)
    assert got["self-signed"] == (0, "self-signed certificate")
    assert got["expired"] == (0, "certificate has expired")
    assert got["wrong-host"][0] == 0
    assert got["wrong-host"][1] == "hostname mismatch: the certificate is for wrong.example, not 127.0.0.1"


def test_a_ca_is_trusted_only_when_configured(tls_run):
    ran, rows = tls_run["runs"][1], tls_run["rows"][1]
    assert ran.exit_code == 0
    assert ran.event("trusted")["flags"] == ["tls-unverified"] and ran.event("trusted")["verdict"] == "unchanged"
    assert rows["trusted"]["tls_verified"] == 0
    assert rows["trusted"]["tls_error"].startswith("unable to get local issuer certificate")


def test_verify_messages():
    assert verify_message(18) == "self-signed certificate"
    assert verify_message(10) == "certificate has expired"
    assert verify_message(999_999) == "certificate verification error 999999"

