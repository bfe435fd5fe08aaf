"""Browser fetches (``fetch: browser``): the fetcher driving the real Chromium, pages served from 127.0.0.1.

Each test drives :class:`crawler.fetch.Fetcher` directly, as tests/test_fetch.py does,
and reads the :class:`~crawler.fetch.model.FetchResult`. Never skipped: without a
Chromium these fail with find_chromium's message saying how to install one.
"""

from __future__ import annotations

import gzip
import itertools
import os
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from crawler.fetch import Fetcher, FetchJob
from crawler.fetch.browser import find_chromium
from crawler.fetch.chromium import PROFILE_PREFIX
from crawler.watchlist import fetch_defaults

from .site import Site, _Handler, closed_port

OPTIONS = {**fetch_defaults(), "per_host_delay": 0.0, "timeout": 10.0, "retries": 0}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture(scope="module", autouse=True)
def chromium():
    """Fail (never skip) when there is no Chromium: the message says how to install one."""
    return find_chromium()


@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """The fetcher's temp directory (where Chromium's user-data directory goes) is this test's own,
    so the process table can be searched for this test's Chromium and nobody else's."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return tmp_path


def fetch(jobs, **options):
    """Run ``jobs`` (FetchJob list) through one Fetcher; results by job id."""
    with Fetcher({**OPTIONS, **options}) as fetcher:
        for job in jobs:
            fetcher.submit(job)
        results = {r.job: r for r in fetcher.results()}
    return results


def browse(url, *, options=None, **settings):
    (result,) = fetch([FetchJob(id="1", target="page", url=url, fetch="browser", options=options or {})],
                      **settings).values()
    return result


def by_url(result, site, path):
    found = [e for e in result.exchanges if e.url == site.url(path)]
    assert found, f"no exchange for {path}: {[e.url for e in result.exchanges]}"
    return found[-1]


def chromium_processes(marker: str) -> list[int]:
    """Live processes whose command line holds ``marker`` (zombies have none)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline and PROFILE_PREFIX.encode() in cmdline:
            found.append(int(entry))
    return found


def wait_until(predicate, timeout: float, what: str):
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds. Returns the seconds it took."""
    start = time.monotonic()
    event = threading.Event()
    while not predicate():
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what}: still not true after {timeout}s")
        event.wait(0.05)
    return time.monotonic() - start


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# -- what a page load produces -----------------------------------------------------------------------------------

JS_PAGE = """<!doctype html><html><head><title>Case study</title><link rel=stylesheet href=/style.css></head>
<body><h1>Case study</h1><div id=content></div><img src=/logo.png alt=logo>
<script src=/app.js></script></body></html>"""
APP_JS = """fetch('/data.json').then(r => r.json()).then(d => {
  const p = document.createElement('p'); p.id = 'inserted'; p.textContent = d.text;
  document.getElementById('content').append(p);
});"""


def test_a_javascript_page_is_archived_with_every_response_a_screenshot_and_its_rendered_dom(site):
    site.set("/case", JS_PAGE, gzip=True)
    site.set("/app.js", APP_JS, content_type="application/javascript", gzip=True)
    site.set("/data.json", '{"text": "Deployed in 14 cities since 2019"}', content_type="application/json",
             gzip=True)
    site.set("/style.css", "h1 { color: #123456 }", content_type="text/css")
    site.set("/logo.png", PNG, content_type="image/png")
    result = browse(site.url("/case"), options={"wait_for": "#inserted"})
    assert (result.error_kind, result.fetch, result.flags) == (None, "browser", [])

    dom = result.resource("dom")
    assert dom.uri == f"urn:dom:{site.url('/case')}" and dom.content_type == "text/html; charset=utf-8"
    assert '<p id="inserted">Deployed in 14 cities since 2019</p>' in dom.body.decode("utf-8")

    page = result.final
    assert (page.url, page.role, page.status) == (site.url("/case"), "page", 200)
    assert page.body == JS_PAGE.encode()  # decoded by Chromium; what the server gzipped
    for path in ("/case", "/app.js", "/data.json"):
        exchange = by_url(result, site, path)
        assert gzip.decompress(site.sent(path)) == exchange.body
        assert exchange.header("X-Lastseen-Original-Content-Encoding") == "gzip"
        assert exchange.header("Content-Encoding") is None
        assert exchange.header("Content-Length") == str(len(exchange.body))
        assert exchange.header("X-Lastseen-Original-Content-Length") == str(len(site.sent(path)))
    for path in ("/logo.png", "/style.css"):
        exchange = by_url(result, site, path)
        assert exchange.body == site.sent(path) and exchange.header("X-Lastseen-Original-Content-Encoding") is None
    assert {e.url: e.role for e in result.exchanges} == {
        site.url("/case"): "page", site.url("/app.js"): "subresource", site.url("/data.json"): "subresource",
        site.url("/style.css"): "subresource", site.url("/logo.png"): "subresource",
    }
    assert result.exchanges[0] is page  # in the order the responses arrived: the document first
    data = by_url(result, site, "/data.json")
    assert data.method == "GET" and ("Host", f"127.0.0.1:{site.port}") in data.request_headers
    assert data.ip == "127.0.0.1" and data.protocol == "HTTP/1.1" and data.tls_verified is None
    assert page.started <= data.started and data.duration >= 0
    assert result.failed == []

    shot = result.resource("screenshot")
    assert shot.uri == f"urn:screenshot:{site.url('/case')}" and shot.content_type == "image/png"
    width, height = png_size(shot.body)
    assert width == 1280 and height >= 800  # the default viewport's width, the page's full height


def test_redirect_chain_roles_failed_subresources_and_the_viewport(site):
    refused = f"http://127.0.0.1:{closed_port()}/gone.png"
    site.redirect("/old", "/middle")
    site.redirect("/middle", "/new", status=302)
    site.set("/new", f'<p>moved here</p><img src="/missing.png"><img src="{refused}">'
                     f'<div style="height: 3000px"></div>')
    result = browse(site.url("/old"), options={"viewport": [800, 600]})
    assert [(e.url, e.status, e.role) for e in result.chain] == [
        (site.url("/old"), 301, "redirect"), (site.url("/middle"), 302, "redirect"), (site.url("/new"), 200, "page"),
    ]
    assert result.final.url == site.url("/new") and result.chain[0].body == b""
    failed = dict(result.failed)
    assert failed[site.url("/missing.png")] == "HTTP 404"
    assert "ERR_CONNECTION_REFUSED" in failed[refused]
    assert by_url(result, site, "/missing.png").role == "subresource"  # the 404 answer is archived too
    width, height = png_size(result.resource("screenshot").body)
    assert width == 800 and height >= 3000  # full page, at the target's viewport width
    assert result.resource("dom").uri == f"urn:dom:{site.url('/new')}"


def test_user_agent_and_from_go_with_every_request_the_page_makes(site):
    site.set("/p", '<img src="/i.png">')
    site.set("/i.png", PNG, content_type="image/png")
    result = browse(site.url("/p"), user_agent="lastseen-test/1.0", contact="desk@example.org")
    assert result.error_kind is None
    seen = {path: headers for path, headers in site.requests}
    for path in ("/p", "/i.png"):
        assert seen[path]["User-Agent"] == "lastseen-test/1.0 (+mailto:desk@example.org)"
        assert seen[path]["From"] == "desk@example.org"


def test_max_body_cuts_each_response(site):
    site.set("/p", '<script src="/big.js"></script><p>page</p>')
    site.set("/big.js", "//" + "x" * 300_000, content_type="application/javascript")
    result = browse(site.url("/p"), max_body=100_000)
    big = by_url(result, site, "/big.js")
    assert big.truncated == "length" and big.body == site.sent("/big.js")[:100_000]
    assert big.header("Content-Length") == "100000"
    assert big.header("X-Lastseen-Original-Content-Length") == str(len(site.sent("/big.js")))
    assert result.final.truncated is None


def test_a_certificate_error_is_captured_and_recorded(tmp_path):
    site = Site(tls_dir=tmp_path)
    try:
        site.set("/", "<p>self-signed</p>")
        result = browse(site.url("/"))
    finally:
        site.close()
    assert result.error_kind is None and result.resource("dom") is not None
    assert result.final.tls_verified is False
    assert "ERR_CERT_AUTHORITY_INVALID" in result.final.tls_error


# -- pages that do not settle, or misbehave ------------------------------------------------------------------


def test_wait_for_that_never_appears_is_captured_at_timeout_and_flagged(site):
    site.set("/p", "<p>no results element here</p>")
    result = browse(site.url("/p"), options={"wait_for": "#results"}, timeout=2.0)
    assert result.error_kind is None and "browser-timeout" in result.flags
    assert "no results element here" in result.resource("dom").body.decode()
    assert result.finished - result.started < 2.0 + 8  # the timeout, launch and capture


def test_a_page_that_never_reaches_network_idle_is_captured_at_timeout_and_flagged(site):
    site.set("/busy", "<p>polling</p><script>setInterval(() => fetch('/tick?' + Math.random()), 100)</script>")
    site.set("/tick", "ok", content_type="text/plain")
    started = time.monotonic()
    result = browse(site.url("/busy"), timeout=2.0)
    assert result.error_kind is None and result.flags == ["browser-timeout"]
    assert result.resource("screenshot") is not None and "polling" in result.resource("dom").body.decode()
    assert time.monotonic() - started < 2.0 + 10  # the timeout, plus starting the fetcher and Chromium


def test_settle_load_does_not_wait_for_the_network_to_go_quiet(site):
    site.set("/busy", "<p>polling</p><script>setInterval(() => fetch('/tick?' + Math.random()), 100)</script>")
    site.set("/tick", "ok", content_type="text/plain")
    result = browse(site.url("/busy"), options={"settle": "load"}, timeout=5.0)
    assert result.error_kind is None and result.flags == []


def test_settle_as_a_duration_waits_that_long_after_load_within_timeout(site):
    site.set("/late", "<p>early</p><script>addEventListener('load', () => setTimeout(() => "
                      "document.body.append('late words'), 300))</script>")
    results = fetch([FetchJob(id="1", target="a", url=site.url("/late"), fetch="browser", options={"settle": 1.0}),
                     FetchJob(id="2", target="b", url=site.url("/late"), fetch="browser", options={"settle": 60})],
                    timeout=3.0)
    assert results["1"].flags == [] and "late words" in results["1"].resource("dom").body.decode()
    assert results["2"].flags == ["browser-timeout"] and "late words" in results["2"].resource("dom").body.decode()
    # cut by the timeout (its flag), not after the 60 s settle asked for: a bound on what the page asked, not a
    # timing of the machine (3 + 5 s failed at load 10)
    assert results["2"].finished - results["2"].started < 60


def test_scroll_loads_lazy_content_that_is_absent_without_it(site):
    site.set("/lazy", """<p>top</p><div style="height: 4000px"></div><img id=late data-src="/late.png">
<script>
new IntersectionObserver((entries, observer) => entries.forEach(e => {
  if (e.isIntersecting) { e.target.src = e.target.dataset.src; observer.disconnect(); }
})).observe(document.getElementById('late'));
</script>""")
    site.set("/late.png", PNG, content_type="image/png")
    still = browse(site.url("/lazy"))
    assert site.hits("/late.png") == 0 and all(e.url != site.url("/late.png") for e in still.exchanges)
    scrolled = browse(site.url("/lazy"), options={"scroll": True})
    assert by_url(scrolled, site, "/late.png").body == PNG and scrolled.flags == []


@pytest.mark.parametrize("script", [
    "addEventListener('load', () => setTimeout(() => { while (true) {} }, 0))",   # spins after load
    "while (true) {}",                                                          # never lets the page load
    "addEventListener('load', () => { for (;;) { alert('hello'); confirm('sure?'); prompt('name?'); } })",
], ids=["loop-after-load", "loop-while-loading", "dialogs"])
def test_pages_that_loop_forever_or_open_dialogs_do_not_hang(site, script):
    site.set("/p", f"<p>stuck page</p><script>{script}</script>")
    site.set("/after", "<p>the next page</p>")
    started = time.monotonic()
    results = fetch([FetchJob(id="1", target="stuck", url=site.url("/p"), fetch="browser"),
                     FetchJob(id="2", target="after", url=site.url("/after"), fetch="browser")], timeout=3.0,
                    deadline=10.0)
    assert time.monotonic() - started < 3.0 * 2 + 20  # two page loads bounded by timeout, not hanging
    stuck = results["1"]
    assert stuck.error_kind is None and stuck.final.status == 200
    assert "stuck page" in stuck.resource("dom").body.decode() and stuck.resource("screenshot") is not None
    assert "the next page" in results["2"].resource("dom").body.decode()  # the browser is still fine


def test_a_page_that_navigates_away_by_itself_is_captured_as_what_it_became(site):
    site.set("/first", "<p>first</p><script>setTimeout(() => { location.href = '/second'; }, 100)</script>")
    site.set("/second", "<p>where it went</p>")
    result = browse(site.url("/first"))
    assert [(e.url, e.role) for e in result.chain] == [(site.url("/first"), "redirect"), (site.url("/second"), "page")]
    assert result.final.url == site.url("/second")
    assert "where it went" in result.resource("dom").body.decode()
    assert result.resource("screenshot").uri == f"urn:screenshot:{site.url('/second')}"


# -- failures --------------------------------------------------------------------------------------------------


def test_a_page_that_cannot_be_loaded_is_unreachable_and_the_browser_carries_on(site):
    site.set("/ok", "<p>fine</p>")
    results = fetch([FetchJob(id="1", target="down", url=f"http://127.0.0.1:{closed_port()}/", fetch="browser"),
                     FetchJob(id="2", target="ok", url=site.url("/ok"), fetch="browser")], retries=1)
    assert results["1"].error_kind == "refused" and "ERR_CONNECTION_REFUSED" in results["1"].error
    assert results["1"].final is None and results["1"].resources == []
    assert results["2"].error_kind is None and "fine" in results["2"].resource("dom").body.decode()


def test_a_page_answered_with_a_retried_status_is_loaded_again(site):
    site.set("/flaky", "<p>try later</p>", status=503)
    result = browse(site.url("/flaky"), retries=1)
    assert [(e.status, e.role) for e in result.exchanges] == [(503, "page"), (503, "page")]
    assert site.hits("/flaky") == 2 and result.final is result.exchanges[-1]
    assert [r.kind for r in result.resources] == ["screenshot", "dom"]  # of the last attempt


def test_robots_txt_applies_to_the_page_url(site):
    site.set("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type="text/plain")
    site.set("/private", "<p>secret</p>")
    result = browse(site.url("/private"), obey_robots=True)
    assert (result.error_kind, result.robots) == ("robots", "disallowed") and site.hits("/private") == 0


def test_no_browser_makes_browser_targets_unreachable_and_leaves_http_targets_alone(site, tmp_path):
    site.set("/p", "<p>plain</p>")
    missing = str(tmp_path / "no-such-chromium")
    results = fetch([FetchJob(id="1", target="js", url=site.url("/p"), fetch="browser"),
                     FetchJob(id="2", target="plain", url=site.url("/p")),
                     FetchJob(id="3", target="js-2", url=site.url("/p"), fetch="browser")], browser_path=missing)
    for job in ("1", "3"):
        assert results[job].error_kind == "browser" and results[job].final is None
        assert missing in results[job].error and "playwright install chromium" in results[job].error
        assert "apt-get install chromium" in results[job].error
    assert results["2"].error_kind is None and results["2"].final.body == b"<p>plain</p>"


# -- politeness shared with HTTP --------------------------------------------------------------------------------


class _TimedHandler(_Handler):
    """The fixture site's handler, noting when each request arrived and when its answer was sent."""

    def do_GET(self):
        arrived = time.monotonic()
        super().do_GET()
        with self.server.site.lock:
            self.server.site.timeline.append((self.path, arrived, time.monotonic()))


def test_per_host_concurrency_is_shared_by_http_and_browser_fetches(site):
    site.timeline = []
    site.server.RequestHandlerClass = _TimedHandler
    for i in range(3):
        site.set(f"/http-{i}", f"<p>plain {i}</p>", delay=0.2)
        site.set(f"/js-{i}", f'<p>page {i}</p><img src="/slow-{i}.png">', delay=0.2)
        site.set(f"/slow-{i}.png", PNG, content_type="image/png", delay=0.3)
    jobs = []
    for i in range(3):
        jobs.append(FetchJob(id=f"h{i}", target=f"h{i}", url=site.url(f"/http-{i}")))
        jobs.append(FetchJob(id=f"b{i}", target=f"b{i}", url=site.url(f"/js-{i}"), fetch="browser"))
    results = fetch(jobs, per_host_concurrency=1, concurrency=8, browser_pages=4)
    assert all(r.error_kind is None for r in results.values())
    # A page load holds the host's slot from its document to its last sub-resource and its capture.
    spans = []
    for i in range(3):
        (http_span,) = [(a, b) for path, a, b in site.timeline if path == f"/http-{i}"]
        page = [(a, b) for path, a, b in site.timeline if path in (f"/js-{i}", f"/slow-{i}.png")]
        spans += [("http", http_span), ("browser", (min(a for a, _ in page), max(b for _, b in page)))]
    spans.sort(key=lambda s: s[1][0])
    for (kind_a, (_, end_a)), (kind_b, (start_b, _)) in itertools.pairwise(spans):
        assert start_b >= end_a, f"a {kind_b} fetch started while a {kind_a} fetch of the same host was running"
    assert {kind for kind, _ in spans} == {"http", "browser"}


def test_browser_pages_bounds_the_page_loads_in_flight(site):
    site.timeline = []
    site.server.RequestHandlerClass = _TimedHandler
    for i in range(3):
        site.set(f"/js-{i}", f'<p>page {i}</p><img src="/slow-{i}.png">')
        site.set(f"/slow-{i}.png", PNG, content_type="image/png", delay=0.3)
    jobs = [FetchJob(id=f"b{i}", target=f"b{i}", url=site.url(f"/js-{i}"), fetch="browser") for i in range(3)]
    results = fetch(jobs, per_host_concurrency=3, browser_pages=1)
    assert all(r.error_kind is None for r in results.values())
    spans = sorted((min(a for path, a, _ in site.timeline if path.endswith(f"-{i}") or path.endswith(f"-{i}.png")),
                    max(b for path, _, b in site.timeline if path.endswith(f"-{i}") or path.endswith(f"-{i}.png")))
                   for i in range(3))
    for (_, end_a), (start_b, _) in itertools.pairwise(spans):
        assert start_b >= end_a  # one page load at a time, though the host allowed three


# -- no Chromium left behind ------------------------------------------------------------------------------------


def test_no_chromium_is_left_after_the_fetcher_closes_even_after_a_failed_page(site, own_tmp):
    site.set("/p", "<p>fine</p>")
    with Fetcher(OPTIONS) as fetcher:
        fetcher.submit(FetchJob(id="1", target="down", url=f"http://127.0.0.1:{closed_port()}/", fetch="browser"))
        fetcher.submit(FetchJob(id="2", target="ok", url=site.url("/p"), fetch="browser"))
        results = {r.job: r for r in fetcher.results()}
        assert chromium_processes(str(own_tmp)), "the Chromium of this fetcher should be running"
    assert results["1"].error_kind == "refused" and results["2"].error_kind is None
    wait_until(lambda: not chromium_processes(str(own_tmp)), 5, "Chromium processes gone after close")
    assert not [p for p in own_tmp.iterdir() if p.name.startswith(PROFILE_PREFIX)]  # its profile removed


CHILD = textwrap.dedent("""
    import sys
    from crawler.fetch import Fetcher, FetchJob
    from crawler.watchlist import fetch_defaults
    fetcher = Fetcher({**fetch_defaults(), "per_host_delay": 0.0, "timeout": 60.0, "deadline": 120.0})
    fetcher.submit(FetchJob(id="1", target="slow", url=sys.argv[1], fetch="browser"))
    for result in fetcher.results():
        print(result.job, flush=True)
""")


def test_a_deep_temp_dir_still_starts_chromium(site, tmp_path, monkeypatch):
    # Chromium's singleton socket goes under $TMPDIR and must fit a Unix socket path (107 bytes): under a deep
    # TMPDIR it exited at once ("Socket path too long") and every browser target failed. Its own temp dir is
    # then /tmp; its profile (and so its processes' command lines) stays under TMPDIR.
    deep = tmp_path / ("d" * 40) / ("e" * 40)
    deep.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(deep))
    site.set("/p", "<p>fine</p>")
    results = fetch([FetchJob(id="1", target="ok", url=site.url("/p"), fetch="browser")])
    assert results["1"].error_kind is None, results["1"].error
    assert b"fine" in results["1"].resource("dom").body
    assert not [p for p in deep.iterdir() if p.name.startswith(PROFILE_PREFIX)]  # its profile removed


def test_chromium_dies_within_five_seconds_of_a_sigkill_of_the_monitor(site, own_tmp):
    site.set("/slow", '<p>slow</p><img src="/slower.png">')
    site.set("/slower.png", PNG, content_type="image/png", delay=60)  # the page load is mid-way when killed
    child = subprocess.Popen([sys.executable, "-c", CHILD, site.url("/slow")], cwd=Path(__file__).parent.parent,
                             env={**os.environ, "TMPDIR": str(own_tmp)})
    try:
        wait_until(lambda: site.hits("/slower.png") > 0, 60, "the page load is under way")
        assert chromium_processes(str(own_tmp))
        child.send_signal(signal.SIGKILL)
        child.wait()
        took = wait_until(lambda: not chromium_processes(str(own_tmp)), 5, "Chromium gone after SIGKILL")
        assert took < 5
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
