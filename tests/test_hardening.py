"""Hostile input, careless operators and bad luck (#7): one test per defect and per class of input.

Every server here listens on 127.0.0.1 or ::1. A "public" server is a loopback port declared
public with LASTSEEN_PUBLIC_ADDRESSES (crawler.fetch.addresses), which the fetcher process reads.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crawler.fetch.addresses import AddressPolicy
from crawler.fetch.redirects import PrivateRedirect, check_connected

from . import hostile
from .helpers import assert_contract, lastseen, warc_records, write_watchlist
from .hostile import HostileServer
from .site import Site, ipv6_loopback_available

PAGE = "<!doctype html><html><head><title>{t}</title></head><body><main><p>{b}</p></main></body></html>"


def _all_payloads(tmp: Path) -> bytes:
    return b"".join(r[4] for w in sorted((tmp / "archive" / "warcs").glob("*.warc.gz")) for r in warc_records(w))


# -- redirects into private networks --------------------------------------------------------------

def test_redirects_into_private_networks_are_not_followed(tmp_path, site, monkeypatch):
    internal = Site()
    try:
        internal.set("/admin", "<p>internal secret: db password hunter2</p>")
        site.redirect("/to-internal", internal.url("/admin"), status=302)
        site.redirect("/to-localhost", f"http://localhost:{internal.port}/admin", status=302)
        site.redirect("/to-same-host", site.url("/public"), status=302)
        site.set("/public", PAGE.format(t="Public", b="A public page."))
        monkeypatch.setenv("LASTSEEN_PUBLIC_ADDRESSES", f"127.0.0.1:{site.port}")
        targets = [
            {"name": "to-internal", "url": site.url("/to-internal")},
            {"name": "to-localhost", "url": site.url("/to-localhost")},
            {"name": "to-same-host", "url": site.url("/to-same-host")},
            {"name": "private-target", "url": internal.url("/admin")},  # its own URL is private: fetched
        ]
        write_watchlist(tmp_path / "watchlist.yaml", targets)
        ran = lastseen(tmp_path, "run", "--json")
        assert ran.exit_code == 0, ran.stderr
        assert_contract(ran.json)
        for name in ("to-internal", "to-localhost"):
            e = ran.event(name)
            assert (e["verdict"], e["reason"], e["status"]) == ("unreachable", "http-3xx", 302), e
            assert e["flags"] == ["private-redirect"] and "not followed" in e["summary"], e
            assert e["status_chain"] == [302]
        assert ran.event("to-same-host")["verdict"] == "new"  # public to public: followed
        assert ran.event("private-target")["verdict"] == "new"
        assert internal.hits("/admin") == 1  # only the private target itself; no hop reached it
        # Allowed: the same redirect is followed.
        wl = tmp_path / "watchlist.yaml"
        write_watchlist(wl, targets[:1], settings={"allow_private_redirects": True})
        again = lastseen(tmp_path, "run", "--json", "--force")
        assert again.event("to-internal")["verdict"] == "new" and internal.hits("/admin") == 2
    finally:
        internal.close()


def test_private_redirect_judged_by_the_address_connected_to():
    """A host name that resolved to a public address first, a private one when connected (rebinding)."""
    policy = AddressPolicy(frozenset({("203.0.113.9", None)}))

    class Answer:
        def __init__(self, ip):
            self.ip_address = ip

    class Hop:
        url = "http://rebind.example/admin"

        def __init__(self):
            self.meta = {"lastseen_public_origin": True}

    for ip, private in (("127.0.0.1", True), ("10.1.2.3", True), ("169.254.169.254", True), ("::1", True),
                        ("::ffff:192.168.0.1", True), ("100.64.0.1", True), ("203.0.113.9", False),
                        ("8.8.8.8", False)):
        hop = Hop()
        if private:
            with pytest.raises(PrivateRedirect, match="allow_private_redirects"):
                check_connected(hop, Answer(ip), policy, allow_private=False)
            assert hop.meta["lastseen_flags"] == ["private-redirect"]
        else:
            check_connected(hop, Answer(ip), policy, allow_private=False)
        check_connected(Hop(), Answer(ip), policy, allow_private=True)  # allowed: never refused


def test_address_policy_declares_a_loopback_port_public():
    policy = AddressPolicy()
    assert policy.is_private("127.0.0.1", 8080) and policy.is_private("169.254.169.254")
    declared = AddressPolicy(frozenset({("127.0.0.1", 8080)}))
    assert not declared.is_private("127.0.0.1", 8080) and declared.is_private("127.0.0.1", 8081)
    assert declared.describe("169.254.169.254") == "link-local" and declared.describe("10.0.0.1") == "private"


# -- IPv6 literals -----------------------------------------------------------------------------------

def test_ipv6_literals_are_fetched(tmp_path):
    if not ipv6_loopback_available():
        pytest.skip("::1 cannot be bound on this machine")
    site = Site(host="::1")
    try:
        site.set("/page", PAGE.format(t="Over IPv6", b="Served from ::1."))
        write_watchlist(tmp_path / "watchlist.yaml", [{"name": "v6", "url": site.url("/page")}])
        ran = lastseen(tmp_path, "run", "--json")
        e = ran.event("v6")
        assert (e["verdict"], e["status"]) == ("new", 200), e
        assert e["url"].startswith("http://[::1]:") and e["summary"] == "first capture: Over IPv6"
    finally:
        site.close()


# -- restored with identical bytes ---------------------------------------------------------------------

def test_restored_identical_says_so_and_has_no_diff(tmp_path, site):
    body = PAGE.format(t="Notice", b="Tender 17/2026 for 400 cameras.")
    site.set("/notice", body)
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "notice", "url": site.url("/notice")}])
    assert lastseen(tmp_path, "run", "--json").event("notice")["verdict"] == "new"
    site.remove("/notice")
    assert lastseen(tmp_path, "run", "--json").event("notice")["verdict"] == "vanished"
    site.set("/notice", body)
    back = lastseen(tmp_path, "run", "--json")
    e = back.event("notice")
    assert (e["verdict"], e["alert"], e["diff"]) == ("restored", True, None), e
    assert e["summary"] == "back after vanished; identical to the last good capture"
    index = (tmp_path / back.json["run"]["report"]).read_text()
    assert "identical to the last good capture" in index and "compared by digest" not in index


# -- a deleted or edited WARC file -------------------------------------------------------------------

def test_deleted_or_edited_warc_gets_full_responses_not_revisits(tmp_path, site):
    site.set("/a", PAGE.format(t="A", b="Page A stays the same."))
    site.set("/b", PAGE.format(t="B", b="Page B stays the same."))
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "a", "url": site.url("/a")},
                                                  {"name": "b", "url": site.url("/b")}])
    first = lastseen(tmp_path, "run", "--json")
    second = lastseen(tmp_path, "run", "--json")  # unchanged: revisits of the first run's records
    # a, b and the host's robots.txt (settings.watch_robots, once per run), in the order fetched
    records = [(r[2].get_header("WARC-Target-URI"), r[1]) for r in warc_records(tmp_path / second.event("a")["warc"]["file"])
               if r[1] in ("response", "revisit")]
    assert sorted(records) == sorted([(site.url("/a"), "revisit"), (site.url("/b"), "revisit"),
                                      (site.url("/robots.txt"), "revisit")])
    assert second.stderr == ""
    # The first run's file goes; the second's is edited so that its records no longer start where indexed.
    gone = tmp_path / first.event("a")["warc"]["file"]
    gone.unlink()
    edited = tmp_path / second.event("a")["warc"]["file"]
    edited.write_bytes(b"\0" * 64 + edited.read_bytes())
    third = lastseen(tmp_path, "run", "--json")
    assert third.exit_code == 0
    for name in ("a", "b"):
        e = third.event(name)
        assert e["verdict"] == "unchanged"
        rec = [r for r in warc_records(tmp_path / e["warc"]["file"]) if r[0] == e["warc"]["offset"]][0]
        assert rec[1] == "response" and rec[4] == site.sent(f"/{name}")  # the full payload again
    warnings = [line for line in third.stderr.splitlines() if "missing or damaged" in line]
    assert len(warnings) == 1 and gone.name in warnings[0], third.stderr
    fourth = lastseen(tmp_path, "run", "--json")  # revisits again, of the third run's full records
    assert fourth.stderr == "" and all(
        r[1] == "revisit" for r in warc_records(tmp_path / fourth.event("a")["warc"]["file"]) if r[1] in ("response", "revisit"))


# -- answers outside HTTP/1.x: HTTP/0.9, statuses outside 100-599, javascript: redirects ---------------

def test_odd_answers_get_the_reasons_the_docs_give(tmp_path):
    with HostileServer() as server:
        ok = server.route("/ok", hostile.respond(PAGE.format(t="OK", b="fine").encode(),
                                                 headers=[("Content-Type", "text/html")]))
        s999 = server.route("/999", hostile.raw(b"HTTP/1.1 999 Weird\r\nContent-Length: 2\r\n\r\nhi"))
        h09 = server.route("/h09", hostile.raw(b"<html><body>HTTP/0.9 has no status line</body></html>"))
        js = server.route("/js", hostile.raw(b"HTTP/1.1 302 Found\r\nLocation: javascript:alert(1)\r\n"
                                             b"Content-Length: 0\r\n\r\n"))
        write_watchlist(tmp_path / "watchlist.yaml", [
            {"name": "ok", "url": ok}, {"name": "s999", "url": s999}, {"name": "h09", "url": h09},
            {"name": "js", "url": js},
        ], settings={"retries": 0})
        ran = lastseen(tmp_path, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert_contract(ran.json)
    got = {n: (ran.event(n)["verdict"], ran.event(n)["reason"]) for n in ("ok", "s999", "h09", "js")}
    assert got == {"ok": ("new", None), "s999": ("unreachable", "protocol"), "h09": ("unreachable", "protocol"),
                   "js": ("unreachable", "http-3xx")}
    db = sqlite3.connect(tmp_path / "archive" / "lastseen.db")
    assert db.execute("select status from captures where target = 'js'").fetchone() == (302,)


# -- memory bounds on extraction, diff and report pages -----------------------------------------------

def test_memory_bounds_on_extraction_cut_text_and_flag_it(tmp_path, site):
    from crawler.extract import extract

    million = b"<html><body><div><p>Tender notice.</p>" + b"<i>x</i>" * 1_000_000 + b"</div></body></html>"
    got = extract(million, "text/html", "http://127.0.0.1/", max_text=2 * 2**20)
    assert got.truncated and got.text.startswith("Tender notice.") and len(got.text) <= 2 * 2**20
    words = ("<p>" + "procurement notice for cameras " * 50 + "</p>\n") * 2000
    got = extract(words.encode(), "text/html", "http://127.0.0.1/", max_text=10_000)
    assert got.truncated and len(got.text) <= 10_000 and got.text.endswith("cameras")  # cut at a line break
    small = extract(b"<p>short</p>", "text/html", "http://127.0.0.1/", max_text=10_000)
    assert not small.truncated and small.text == "short"

    site.set("/long", words)
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "long", "url": site.url("/long")}],
                    settings={"max_text": "10KB"})
    first = lastseen(tmp_path, "run", "--json").event("long")
    assert first["verdict"] == "new" and first["flags"] == ["text-truncated"]
    again = lastseen(tmp_path, "run", "--json").event("long")  # same payload: the flag is kept
    assert again["verdict"] == "unchanged" and again["flags"] == ["text-truncated"]


def test_memory_bounds_on_report_pages_collapse_and_say_so(tmp_path):
    from datetime import datetime, timezone

    from crawler.diff import diff_texts
    from crawler.report import CaptureView, ReportEvent, write_report

    at = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
    old = "\n".join(f"line {i} of the tender, unchanged words here" for i in range(20_000))
    new = "\n".join(f"line {i} of the tender, {'CHANGED' if i % 7 == 0 else 'unchanged'} words here"
                    for i in range(20_000))
    diff = diff_texts(old, new, timeout=30)
    capture = CaptureView(1, "http://127.0.0.1/t", "http://127.0.0.1/t", 200, (200,), at, None, None, None,
                          "response", None, "Tender", None)
    event = ReportEvent("tender", "http://127.0.0.1/t", (), "changed", None, True, diff.summary(), capture, capture,
                        diff, old, new)
    write_report(tmp_path, title="t", run_id="r", started=at, finished=at, events=[event], generated=at,
                 max_page=100_000)
    page = (tmp_path / "tender.html").read_text()
    assert len(page.encode()) < 200_000  # the page's text is bounded (markup around it is small)
    assert "too large for one page" in page and "settings.max_report_page" in page
    assert "more are not" in page and "CHANGED" in page
    unbounded = tmp_path / "full"
    write_report(unbounded, title="t", run_id="r", started=at, finished=at, events=[event], generated=at)
    assert len((unbounded / "tender.html").read_bytes()) > 1_000_000  # without the bound: everything
