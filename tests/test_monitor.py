"""End to end over plain HTTP: a fixture site changes between three runs of `lastseen run --json`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from crawler.warc import sha1_digest

from .helpers import assert_contract, assert_no_script_but_ours, lastseen, record_at, warc_records, write_watchlist
from .sinks import AlertSink
from .site import Site, closed_port

PAGE = """<!doctype html><html><head><title>{title}</title></head>
<body><nav>Home | About</nav><main><h1>{title}</h1>{body}</main>
<form><input type="hidden" name="csrf" value="{token}"></form>
<script>var x = "{token}";</script></body></html>"""


def page(title, body, token="t0"):
    return PAGE.format(title=title, body=body, token=token)


CYR = "<html><head><title>Сафе Сити</title>{meta}</head><body><p>Полиция Београда купила систем камер.</p></body></html>"
HOSTILE = '<p>Quote: <script>window.__pwned=1</script> &lt;img src=x onerror=alert(1)&gt; {x}</p>'


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scenario")
    site = Site()
    tls = Site(tls_dir=tmp)
    sink = AlertSink()
    s = site.set
    s("/", page("Vendor home", "<p>Welcome</p>"))
    s("/stable", page("Case study", "<p>Our Safe City deal with Belgrade police.</p>"))
    s("/edit", page("Press", "<p>We supplied 1000 cameras to the city.</p>"))
    s("/token", page("Token", "<p>Same words always.</p>", token="aaa"))
    s("/header", page("Header", "<p>Same body.</p>"), headers=[("X-Request-Id", "1")])
    s("/gz", page("Gzipped", "<p>Compressed body.</p>"), gzip=True)
    s("/chunked", page("Chunked", "<p>Chunked body " + "x" * 3000 + "</p>"), chunked=True)
    s("/gzchunk", page("Both", "<p>Gzip and chunked.</p>" * 50), gzip=True, chunked=True)
    s("/gone404", page("Soon 404", "<p>Here today.</p>"))
    s("/gone410", page("Soon 410", "<p>Here today.</p>"))
    s("/moved", page("Soon moved", "<p>Here today.</p>"))
    site.redirect("/slash", "/slash/")
    s("/slash/", page("Slash", "<p>Trailing slash page.</p>"))
    s("/cyr", CYR.format(meta="").encode("cp1251"), content_type="text/html; charset=windows-1251")
    s("/back", page("Comes back", "<p>Original words.</p>"))
    site.redirect("/old-notice", "/missing-notice")  # 301 → 404 from the very first attempt
    s("/restructured", page("Tender", "<p>Tender 17/2026 for 400 cameras.</p>"))
    s("/err500", "<p>oops</p>", status=500)
    s("/slow", page("Slow", "<p>slow</p>"), delay=4)
    s("/hostile", page("Hostile", HOSTILE.format(x="first")))
    tls.set("/secure", page("Secure", "<p>Self-signed procurement notice.</p>"))

    targets = [
        {"name": "stable", "url": site.url("/stable"), "tags": ["vendor"]},
        {"name": "edit", "url": site.url("/edit"), "tags": ["press"]},
        {"name": "token", "url": site.url("/token")},
        {"name": "header", "url": site.url("/header")},
        {"name": "gz", "url": site.url("/gz")},
        {"name": "chunked", "url": site.url("/chunked")},
        {"name": "gzchunk", "url": site.url("/gzchunk")},
        {"name": "gone404", "url": site.url("/gone404")},
        {"name": "gone410", "url": site.url("/gone410")},
        {"name": "moved", "url": site.url("/moved")},
        {"name": "slash", "url": site.url("/slash")},
        {"name": "cyr", "url": site.url("/cyr")},
        {"name": "back", "url": site.url("/back")},
        {"name": "old-notice", "url": site.url("/old-notice")},
        {"name": "restructured", "url": site.url("/restructured"), "select": "main"},
        {"name": "err500", "url": site.url("/err500")},
        {"name": "slow", "url": site.url("/slow")},
        {"name": "dns", "url": "http://lastseen-fixture.invalid/page"},
        {"name": "refused", "url": f"http://127.0.0.1:{closed_port()}/page"},
        {"name": "hostile", "url": site.url("/hostile")},
        {"name": "secure", "url": tls.url("/secure"), "tags": ["procurement"]},
    ]
    wl = write_watchlist(tmp / "watchlist.yaml", targets, settings={"timeout": "1s", "retries": 1},
                         alerts=[sink.url])
    runs = []
    runs.append(lastseen(tmp, "run", "--json"))

    # Between run 1 and run 2 the site changes.
    s("/edit", page("Press", "<p>We supplied 2000 cameras to the city.</p>"))
    s("/token", page("Token", "<p>Same words always.</p>", token="bbb"))
    s("/header", page("Header", "<p>Same body.</p>"), headers=[("X-Request-Id", "2")])
    site.remove("/gone404")
    s("/gone410", "<p>Gone</p>", status=410)
    site.redirect("/moved", "/")
    s("/cyr", CYR.format(meta='<meta charset="utf-8">'), content_type="text/html")
    site.remove("/back")
    s("/hostile", page("Hostile", HOSTILE.format(x="second <b>bold</b>")))
    s("/restructured", "<html><body><div id='content'><p>Tender 17/2026 cancelled.</p></div></body></html>")
    runs.append(lastseen(tmp, "run", "--json"))

    # Run 3: /back returns.
    s("/back", page("Comes back", "<p>Original words, amended.</p>"))
    runs.append(lastseen(tmp, "run", "--json"))
    yield {"tmp": tmp, "site": site, "tls": tls, "runs": runs, "sink": sink, "wl": wl}
    site.close()
    tls.close()
    sink.close()


def test_runs_exit_zero_and_match_the_contract(scenario):
    from crawler.watchlist import load_watchlist

    order = [t.name for t in load_watchlist(scenario["wl"]).targets]
    for ran in scenario["runs"]:
        assert ran.exit_code == 0, ran.stderr
        assert_contract(ran.json)
        names = [e["target"] for e in ran.json["events"]]
        assert names == order  # every target is due each run, in watchlist order
    first = scenario["runs"][0].json
    assert [e["target"] for e in first["events"]][:3] == ["stable", "edit", "token"]


def test_first_run_new_and_failures(scenario):
    r1 = scenario["runs"][0]
    for name in ("stable", "edit", "token", "gz", "chunked", "gzchunk", "cyr", "hostile", "secure"):
        e = r1.event(name)
        assert (e["verdict"], e["reason"], e["alert"]) == ("new", None, False), e
        assert e["status"] == 200 and e["warc"] is not None
    assert (r1.event("dns")["verdict"], r1.event("dns")["reason"]) == ("unreachable", "dns")
    assert (r1.event("refused")["verdict"], r1.event("refused")["reason"]) == ("unreachable", "refused")
    assert (r1.event("slow")["verdict"], r1.event("slow")["reason"]) == ("unreachable", "timeout")
    e500 = r1.event("err500")
    assert (e500["verdict"], e500["reason"], e500["alert"]) == ("unreachable", "http-5xx", True)
    assert e500["status_chain"] == [500, 500]  # retried once, the verdict is the last attempt's
    redirected_404 = r1.event("old-notice")  # the final status decides; a first attempt can vanish
    assert (redirected_404["verdict"], redirected_404["reason"], redirected_404["alert"]) == ("vanished", "http-404", True)
    assert redirected_404["status_chain"] == [301, 404] and redirected_404["final_url"].endswith("/missing-notice")
    for name in ("dns", "refused", "slow"):
        e = r1.event(name)
        assert e["status"] is None and e["warc"] is None and e["final_url"] is None
        assert isinstance(e["capture_id"], int) and e["alert"] is True


def test_second_run_verdicts(scenario):
    r2 = scenario["runs"][1]
    assert r2.event("stable")["verdict"] == "unchanged" and r2.event("stable")["alert"] is False
    edit = r2.event("edit")
    assert (edit["verdict"], edit["alert"]) == ("changed", True)
    assert edit["diff"] == {"insertions": 1, "deletions": 1, "unit": "word", "fallback": False, "moves": 0}
    assert edit["summary"] == "1 insertion, 1 deletion: \u201c1000\u201d \u2192 \u201c2000\u201d"  # what changed, in words
    assert r2.event("token")["verdict"] == "unchanged"   # only a hidden token changed
    assert r2.event("header")["verdict"] == "unchanged"  # only a header changed
    assert r2.event("cyr")["verdict"] == "unchanged"     # same text, now UTF-8
    assert (r2.event("gone404")["verdict"], r2.event("gone404")["reason"]) == ("vanished", "http-404")
    assert r2.event("gone404")["alert"] is True
    assert (r2.event("gone410")["verdict"], r2.event("gone410")["reason"]) == ("vanished", "http-410")
    moved = r2.event("moved")
    assert (moved["verdict"], moved["reason"], moved["status_chain"]) == ("vanished", "redirected", [301, 200])
    slash = r2.event("slash")
    assert slash["verdict"] == "unchanged" and slash["final_url"].endswith("/slash/")
    assert r2.event("back")["verdict"] == "vanished"
    restructured = r2.event("restructured")  # `select: main` now finds nothing: say so
    assert restructured["verdict"] == "changed" and restructured["flags"] == ["select-empty"]
    assert r2.event("edit")["flags"] == []
    assert r2.event("err500")["alert"] is False  # still unreachable: no new alert
    assert r2.event("dns")["alert"] is False


def test_third_run_persisting_and_restored(scenario):
    r3 = scenario["runs"][2]
    assert (r3.event("gone404")["verdict"], r3.event("gone404")["alert"]) == ("vanished", False)
    back = r3.event("back")
    assert (back["verdict"], back["alert"]) == ("restored", True)
    assert back["diff"]["insertions"] >= 1  # diffed against the last good capture
    assert r3.event("edit")["verdict"] == "unchanged"


def test_unchanged_payload_is_a_revisit_record(scenario):
    tmp = scenario["tmp"]
    e1 = scenario["runs"][0].event("stable")
    e2 = scenario["runs"][1].event("stable")
    rtype, headers, http_headers, payload = record_at(tmp / e2["warc"]["file"], e2["warc"]["offset"])
    assert rtype == "revisit"
    assert headers.get_header("WARC-Refers-To") == e1["warc"]["record_id"]
    assert headers.get_header("WARC-Refers-To-Target-URI") == e1["url"]
    assert headers.get_header("WARC-Profile").endswith("/revisit/identical-payload-digest")
    assert headers.get_header("WARC-Refers-To-Date")
    assert payload == b""
    # header-only change: the payload is identical, so a revisit too
    e_header = scenario["runs"][1].event("header")
    assert record_at(tmp / e_header["warc"]["file"], e_header["warc"]["offset"])[0] == "revisit"
    # a token change alters the payload: a full response record, verdict still unchanged
    e_token = scenario["runs"][1].event("token")
    assert record_at(tmp / e_token["warc"]["file"], e_token["warc"]["offset"])[0] == "response"


@pytest.mark.parametrize("name,path", [("gz", "/gz"), ("chunked", "/chunked"), ("gzchunk", "/gzchunk"), ("stable", "/stable")])
def test_archived_payload_equals_what_the_server_sent(scenario, name, path):
    tmp, site = scenario["tmp"], scenario["site"]
    e = scenario["runs"][0].event(name)
    rtype, headers, http_headers, payload = record_at(tmp / e["warc"]["file"], e["warc"]["offset"])
    assert rtype == "response"
    sent = site.sent(path) if name != "stable" else None
    if sent is not None:
        assert payload == sent
    assert headers.get_header("WARC-Payload-Digest") == sha1_digest(payload)
    assert http_headers.get_header("Transfer-Encoding") is None
    assert int(http_headers.get_header("Content-Length")) == len(payload)
    if name.startswith("gz"):
        assert http_headers.get_header("Content-Encoding") == "gzip"
    assert headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert headers.get_header("WARC-Target-URI") == e["url"]


def test_every_exchange_is_a_linked_request_response_pair(scenario):
    tmp = scenario["tmp"]
    files = sorted((tmp / "archive" / "warcs").glob("*.warc.gz"))
    assert files and not list((tmp / "archive" / "warcs").glob("*.open"))
    responses, requests = {}, []
    for f in files:
        records = warc_records(f)
        assert records[0][1] == "warcinfo"
        assert records[0][2].protocol == "WARC/1.1"
        for offset, rtype, headers, http_headers, payload in records:
            if rtype in ("response", "revisit"):
                responses[headers.get_header("WARC-Record-ID")] = headers
            elif rtype == "request":
                requests.append(headers)
    assert requests and len(requests) == len(responses)
    for req in requests:
        resp = responses[req.get_header("WARC-Concurrent-To")]
        assert resp.get_header("WARC-Target-URI") == req.get_header("WARC-Target-URI")
        assert resp.get_header("WARC-Date") == req.get_header("WARC-Date")
    # a redirect hop is an exchange of its own
    moved = scenario["runs"][1].event("moved")
    hop_uris = [h.get_header("WARC-Target-URI") for h in responses.values()]
    assert moved["url"] in hop_uris and moved["final_url"] in hop_uris


def test_third_party_readers_accept_the_warcs(scenario):
    import subprocess
    import sys

    tmp = scenario["tmp"]
    files = sorted(str(p) for p in (tmp / "archive" / "warcs").glob("*.warc.gz"))
    bindir = Path(sys.executable).parent
    check = subprocess.run([str(bindir / "warcio"), "check", "-v", *files], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "fail" not in check.stdout.replace("digest pass", "")
    cdx = subprocess.run([str(bindir / "cdxj-indexer"), *files], capture_output=True, text=True, check=True)
    lines = [json.loads(line.split(" ", 2)[2]) for line in cdx.stdout.splitlines() if line.strip()]
    n_resp = sum(1 for f in files for r in warc_records(Path(f)) if r[1] in ("response", "revisit"))
    assert len(lines) == n_resp
    assert any(x.get("mime") == "warc/revisit" for x in lines)


def test_index_rows_point_at_their_records(scenario):
    import sqlite3

    tmp = scenario["tmp"]
    db = sqlite3.connect(tmp / "archive" / "lastseen.db")
    rows = db.execute(
        "select warc_file, warc_offset, warc_record_id, payload_sha256, record_type from captures where warc_file is not null"
    ).fetchall()
    assert rows
    for warc_file, offset, record_id, sha256, rtype in rows:
        got_type, headers, _, payload = record_at(tmp / "archive" / warc_file, offset)
        assert headers.get_header("WARC-Record-ID") == record_id and got_type == rtype
        if rtype == "response":
            assert hashlib.sha256(payload).hexdigest() == sha256
    tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
    assert {"runs", "targets", "capture_rows", "event_rows", "exchange_rows", "warc_files", "texts"} <= tables
    # (schema 20: `captures` is a view over `capture_rows`, as `capture_texts` is one over it and `texts`;
    # schema 21: `exchanges` one over `exchange_rows` and `warc_files`, `events` one over `event_rows`)
    views = {r[0] for r in db.execute("select name from sqlite_master where type='view'")}
    assert {"captures", "capture_texts", "exchanges", "events"} <= views
    runs = db.execute("select status, finished from runs").fetchall()
    assert all(status == "completed" and finished for status, finished in runs)


def test_report_shows_diff_and_escapes_hostile_text(scenario):
    tmp = scenario["tmp"]
    r2 = scenario["runs"][1].json
    index = tmp / r2["run"]["report"]
    html = index.read_text()
    for name in ("edit", "gone404", "moved", "stable"):
        assert name in html
    details = {p.name: p.read_text() for p in index.parent.glob("*.html") if p.name != "index.html"}
    edit_page = next(v for k, v in details.items() if "edit" in k)
    assert "<ins" in edit_page and "2000" in edit_page and "<del" in edit_page and "1000" in edit_page
    hostile = next(v for k, v in details.items() if "hostile" in k)
    # The page's literal text "<img src=x onerror=alert(1)>" is shown, escaped, never as markup.
    assert "&lt;img src=x onerror=alert(1)&gt;" in hostile
    assert "window.__pwned" not in hostile  # script bodies are never content
    import lxml.html

    assert not lxml.html.fromstring(hostile).xpath("//img")

    for text in [html, *details.values()]:
        doc = lxml.html.fromstring(text)
        assert assert_no_script_but_ours(text) == (text is html)  # the index's own, allowed by its hash
        assert not [a for el in doc.iter() if isinstance(el.tag, str) for a in el.attrib if a.lower().startswith("on")]
    rows = lxml.html.fromstring(html).xpath("//tbody/tr/td[1]")
    listed = [td.text.strip() for td in rows]
    assert listed == [e["target"] for e in r2["events"]]  # watchlist order
    gone = next(v for k, v in details.items() if "gone404" in k)
    assert "Here today." in gone  # the vanished page's report still shows what it said


def test_alerts_delivered_once_per_run_listing_transitions(scenario):
    posts = scenario["sink"].posts
    assert len(posts) == 3  # every run had at least one alert
    second = json.dumps(posts[1])
    assert "edit" in second and "gone404" in second and "moved" in second
    assert "stable" not in second.replace("unstable", "")
    assert "\u201c1000\u201d \u2192 \u201c2000\u201d" in posts[1]["message"]  # the alert says what changed
    for ran in scenario["runs"]:
        alerts = ran.json["run"]["alerts"]
        assert len(alerts) == 1 and alerts[0]["ok"] is True
        assert alerts[0]["sink"].startswith("json://127.0.0.1")


def test_datasette_opens_the_index(scenario):
    import asyncio

    from datasette.app import Datasette

    async def query():
        ds = Datasette([str(scenario["tmp"] / "archive" / "lastseen.db")])
        resp = await ds.client.get("/lastseen/events.json?_shape=array&verdict=changed")
        view = await ds.client.get("/lastseen/capture_texts.json?_shape=array&_size=1")
        return resp.status_code, resp.json(), view.status_code, view.json()

    status, rows, view_status, texts = asyncio.run(query())
    assert status == 200 and {r["target"] for r in rows} >= {"edit", "hostile"}
    assert view_status == 200 and texts and "text" in texts[0]


def test_https_self_signed_is_captured(scenario):
    e = scenario["runs"][0].event("secure")
    assert e["final_url"].startswith("https://127.0.0.1") and e["verdict"] == "new"
