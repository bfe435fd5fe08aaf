"""Browser captures end to end: `lastseen run` with `fetch: browser` against a JavaScript page on 127.0.0.1.

A real Chromium (Debian's here) loads a page whose text a script inserts after a `fetch()` of
JSON; HTTP mode sees only the shell. The WARC holds every sub-resource, the screenshot, the
rendered DOM and its text; pywb replays the page from the archive alone.
"""

from __future__ import annotations

import base64
import json

import pytest

from crawler.fetch.browser import CHROMIUM_ARGS, find_chromium

from .helpers import assert_contract, lastseen, warc_records, write_watchlist
from .test_replay import wayback  # noqa: F401  (the pywb fixture)

LOGO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PAGE = """<!doctype html><html><head><title>Case study</title><link rel="stylesheet" href="/style.css"></head>
<body><header><nav>Home | Cases</nav></header><main id="app">Loading…</main>
<img src="/logo.png" alt="logo" width="40" height="40"><script src="/app.js"></script></body></html>"""
APP = """fetch('/data.json').then(r => r.json()).then(d => {
  document.getElementById('app').textContent = d.text;
});"""


def _serve(site, text: str) -> None:
    site.set("/case", PAGE)
    site.set("/style.css", "main { color: #222; }", content_type="text/css")
    site.set("/app.js", APP, content_type="application/javascript")
    site.set("/data.json", json.dumps({"text": text}), content_type="application/json")
    site.set("/logo.png", LOGO, content_type="image/png")


def _records(tmp, event):
    return warc_records(tmp / event["warc"]["file"])


def test_browser_mode_sees_what_a_person_sees_and_archives_everything(tmp_path, site):
    _serve(site, "Belgrade police bought 1000 cameras for Safe City.")
    write_watchlist(tmp_path / "watchlist.yaml", [
        {"name": "shell", "url": site.url("/case")},
        {"name": "seen", "url": site.url("/case"), "fetch": "browser"},
    ])
    first = lastseen(tmp_path, "run", "--json")
    assert first.exit_code == 0, first.stderr
    assert_contract(first.json)
    shell, seen = first.event("shell"), first.event("seen")
    assert shell["flags"] == ["js-shell"] and shell["fetch"] == "http" and "screenshot" not in shell
    assert (seen["verdict"], seen["fetch"]) == ("new", "browser") and "js-shell" not in seen["flags"]
    assert seen["subresources"] == {"archived": 4, "failed": 0}

    records = _records(tmp_path, seen)
    by_uri = {}
    for offset, kind, headers, http, payload in records:
        by_uri.setdefault(headers.get_header("WARC-Target-URI"), []).append((kind, headers, http, payload))
    page_response = [r for r in by_uri[site.url("/case")] if r[0] == "response"][-1]
    page_id = page_response[1].get_header("WARC-Record-ID")
    for path in ("/style.css", "/app.js", "/data.json", "/logo.png"):
        kinds = [r[0] for r in by_uri[site.url(path)]]
        assert "response" in kinds and "request" in kinds, (path, kinds)
        response = [r for r in by_uri[site.url(path)] if r[0] == "response"][-1]
        assert response[3] == site.sent(path)  # the exact bytes the server sent
    for urn, ctype in ((f"urn:screenshot:{site.url('/case')}", "image/png"),
                       (f"urn:dom:{site.url('/case')}", "text/html; charset=utf-8"),
                       (f"urn:text:{site.url('/case')}", "text/plain; charset=utf-8")):
        (kind, headers, _http, payload), = by_uri[urn]
        assert kind == "resource" and headers.get_header("Content-Type") == ctype
        assert headers.get_header("WARC-Concurrent-To") == page_id
    assert by_uri[f"urn:screenshot:{site.url('/case')}"][0][3].startswith(b"\x89PNG\r\n\x1a\n")
    assert b"Belgrade police bought 1000 cameras" in by_uri[f"urn:dom:{site.url('/case')}"][0][3]
    assert "Belgrade police bought 1000 cameras" in by_uri[f"urn:text:{site.url('/case')}"][0][3].decode()
    assert seen["screenshot"] == by_uri[f"urn:screenshot:{site.url('/case')}"][0][1].get_header("WARC-Record-ID")

    # The JSON changes: the browser target is `changed`, and its change page shows the new words.
    _serve(site, "Belgrade police bought 2000 cameras and drones for Safe City.")
    second = lastseen(tmp_path, "run", "--json")
    changed = second.event("seen")
    assert (changed["verdict"], changed["alert"]) == ("changed", True), changed
    assert second.event("shell")["verdict"] == "unchanged"  # the shell did not change
    report = tmp_path / second.json["run"]["report"]
    pages = [p.read_text() for p in report.parent.glob("*.html") if p.name != "index.html"]
    assert any("drones" in p and "2000" in p for p in pages)
    # Unchanged sub-resources (style, script, logo) are revisits of the first run's records.
    kinds = {h.get_header("WARC-Target-URI"): k for _o, k, h, _http, _p in _records(tmp_path, changed)
             if k in ("response", "revisit")}
    assert kinds[site.url("/logo.png")] == "revisit" and kinds[site.url("/app.js")] == "revisit"
    assert kinds[site.url("/data.json")] == "response"


def test_a_browser_capture_replays_from_the_archive_alone(tmp_path, site, wayback):  # noqa: F811
    _serve(site, "Belgrade police bought 1000 cameras for Safe City.")
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "seen", "url": site.url("/case"), "fetch": "browser"}])
    ran = lastseen(tmp_path, "run", "--json")
    assert ran.event("seen")["verdict"] == "new", ran.stdout
    url = site.url("/case")
    site.close()  # the live site is gone: what follows comes from the archive
    base, index = wayback(sorted((tmp_path / "archive" / "warcs").glob("*.warc.gz")))
    assert url in index
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            page.goto(f"{base}/{url}", wait_until="load", timeout=60_000)  # pywb's replay, in its frame
            page.wait_for_function(
                f"() => Array.from(document.querySelectorAll('iframe')).some(f => f.src.includes('mp_/{url}'))",
                timeout=30_000)
            frame = next(f for f in page.frames if f"mp_/{url}" in f.url)
            frame.wait_for_function("document.getElementById('app') && "
                                    "document.getElementById('app').textContent.includes('Belgrade')", timeout=30_000)
            assert "Belgrade police bought 1000 cameras" in frame.inner_text("#app")
            loaded = frame.evaluate("() => { const i = document.querySelector('img'); "
                                    "return i && i.complete && i.naturalWidth > 0; }")
            assert loaded, "the archived image did not load in replay"
        finally:
            browser.close()


@pytest.fixture
def site():
    from .site import Site

    s = Site()
    yield s
    try:
        s.close()
    except Exception:
        pass


def test_warc_files_of_browser_captures_pass_warcio_check(tmp_path, site):
    import subprocess
    import sys
    from pathlib import Path

    _serve(site, "Belgrade police bought 1000 cameras for Safe City.")
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "seen", "url": site.url("/case"), "fetch": "browser"}])
    assert lastseen(tmp_path, "run", "--json").event("seen")["verdict"] == "new"
    warcio = Path(sys.executable).with_name("warcio")
    for warc in (tmp_path / "archive" / "warcs").glob("*.warc.gz"):
        check = subprocess.run([str(warcio), "check", "-v", str(warc)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "digest pass" in check.stdout and "digest fail" not in check.stdout


def test_no_lastseen_chromium_is_left_after_sigterm(tmp_path, site):
    import os
    import signal
    import subprocess
    import sys

    from .test_browser_fetch import chromium_processes, wait_until

    _serve(site, "Belgrade police bought 1000 cameras for Safe City.")
    site.set("/data.json", json.dumps({"text": "slow"}), content_type="application/json", delay=30)
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "seen", "url": site.url("/case"), "fetch": "browser"}],
                    settings={"timeout": "60s", "deadline": "120s"})
    import shutil
    import tempfile
    from pathlib import Path

    own_tmp = Path(tempfile.mkdtemp(prefix="ls-", dir="/tmp"))  # short: Chromium's socket paths must fit
    env = dict(os.environ, TMPDIR=str(own_tmp))
    proc = subprocess.Popen([sys.executable, "-m", "crawler", "run", "--json"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: chromium_processes(str(own_tmp)), 60, "Chromium started for the browser target")
        wait_until(lambda: site.hits("/data.json") > 0, 60, "the page asked for its slow JSON")
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        took = wait_until(lambda: not chromium_processes(str(own_tmp)), 5, "lastseen's Chromium gone after SIGTERM")
        assert took <= 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        shutil.rmtree(own_tmp, ignore_errors=True)
