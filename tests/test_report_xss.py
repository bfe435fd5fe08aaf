"""Safe to open (#11): no archived script, handler, URL or resource runs or loads from any report page.

Each payload of ``tests/xss_payloads.py`` calls a beacon on 127.0.0.1 if it runs or loads.
First each one is proven live: its raw control page (the payload in its slot of a minimal page, opened
from disk as reports are) makes the beacon hear it. Then a real project: a local site whose titles,
text, link URLs, anchor text, attributes and meta descriptions carry every payload (as text, and as
markup), and whose target names, tags and URLs carry them too, is run twice by ``lastseen run`` (a
page changes, two vanish with 410 and 404, one is new, one is a browser capture with screenshots),
then ``lastseen report --since``. Every ``.html`` file under ``reports/`` is opened in headless Chromium
with JavaScript on and every link hovered and clicked: a second beacon, the one the project's
payloads call, hears nothing, and Chromium requests nothing but the report's own files.

``vbscript:`` is inert in Chromium (a click does nothing), so no control can show it live: the
project's pages carry a ``vbscript:`` link and the reports are checked never to hold one as a link.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest

from crawler.fetch.browser import CHROMIUM_ARGS
from crawler.formatting import BIDI_CONTROLS
from crawler.watchlist import canonical_url

from .beacon import Beacon
from .helpers import lastseen, write_watchlist
from .site import Site
from .xss_payloads import BY_ID, PAYLOADS, control_page, hostile_page

#: Bound on how long a live payload gets to call the beacon once its page has loaded and been clicked
#: (a payload calls within milliseconds; the bound only keeps a dead one from hanging the test).
LIVE_WITHIN = 15

#: Waits for two animation frames, then two turns of the task queue: handlers queued by the load
#: (onload, onfocus, ontoggle, a meta refresh of 0 s, SMIL's onbegin) have had their turn.
SETTLE = (
    "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame("
    "() => setTimeout(() => setTimeout(done, 0), 0))))"
)

#: What a person can click: links (HTML and SVG) and form buttons.
CLICKABLE = "a, area, button, input[type=submit], input[type=image], summary"


# -- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=list(CHROMIUM_ARGS))
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def control_beacon():
    with Beacon() as beacon:
        yield beacon


@pytest.fixture(scope="module")
def controls(browser, control_beacon, tmp_path_factory):
    """Every payload's control page, written to disk and opened at once (they load side by side)."""
    folder = tmp_path_factory.mktemp("controls")
    context = browser.new_context(java_script_enabled=True)
    pages = {}
    try:
        for payload in PAYLOADS:
            path = folder / f"{payload.id}.html"
            path.write_text(
                control_page(payload, control_beacon.url(payload.id)), encoding="utf-8"
            )
            page = context.new_page()
            page.goto(path.as_uri(), wait_until="commit")
            pages[payload.id] = page
        yield pages
    finally:
        context.close()


# -- what a reader does --------------------------------------------------------------------------


def _settle(page) -> None:
    page.wait_for_load_state("load")
    page.evaluate(SETTLE)


def _exercise(page) -> None:
    """What a reader does: look (the page settles), point at and click everything clickable."""
    _settle(page)
    clickable = page.locator(CLICKABLE)
    for i in range(clickable.count()):
        element = clickable.nth(i)
        if not element.is_visible():
            continue
        element.hover(timeout=5000)
        element.click(timeout=5000, no_wait_after=True)


# -- 1. every payload is live -------------------------------------------------------------------------


def test_at_least_thirty_payloads_in_every_slot():
    assert len(PAYLOADS) >= 30
    assert {p.slot for p in PAYLOADS} == {
        "body",
        "head",
        "title",
        "attr",
        "href",
        "meta",
        "textarea",
        "style",
    }


@pytest.mark.parametrize("payload_id", [p.id for p in PAYLOADS])
def test_payload_is_live_in_its_raw_control_page(controls, control_beacon, payload_id):
    page = controls[payload_id]
    page.wait_for_load_state("load")
    _exercise(page)
    assert control_beacon.wait_for(payload_id, LIVE_WITHIN), (
        f"payload {payload_id!r} did not call the beacon from its raw control page "
        f"({page.url}): it is not live, so its absence from the reports would prove nothing"
    )


# -- 2. a real project full of them -------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_beacon():
    """The beacon the project's payloads call: it must hear nothing, from the first run to the last click."""
    with Beacon() as beacon:
        yield beacon


def _in_name(payload_id: str, beacon: Beacon, prefix: str = "") -> str:
    return prefix + BY_ID[payload_id].markup(beacon.url(payload_id))


@pytest.fixture(scope="module")
def project(tmp_path_factory, run_beacon):
    tmp = tmp_path_factory.mktemp("xss-project")
    site = Site()

    def url_of(payload):
        return run_beacon.url(payload.id)

    half = len(PAYLOADS) // 2
    first, second = list(PAYLOADS[:half]), list(PAYLOADS[half:])

    def title(payload_id):
        return BY_ID[payload_id].markup(run_beacon.url(payload_id))

    try:
        site.set(
            "/press",
            hostile_page(
                first,
                url_of,
                title=title("title-breakout"),
                words="Belgrade police bought 1000 cameras.",
            ),
        )
        site.set(
            "/gone",
            hostile_page(
                list(PAYLOADS),
                url_of,
                title=title("script-inline"),
                words="Tender 17/2026 for 400 cameras.",
            ),
        )
        site.set(
            "/lost",
            hostile_page(
                second, url_of, title=title("attr-breakout"), words="Contract signed."
            ),
        )
        site.set(
            "/same",
            hostile_page(
                first,
                url_of,
                title=title("bidi-override"),
                words="Nothing changes here.",
            ),
        )
        site.set(
            "/shot",
            hostile_page(
                second,
                url_of,
                title=title("svg-onload"),
                words="Screenshots of 2024.",
                live=False,
            ),
        )
        site.set("/logo.png", base64.b64decode(_PIXEL), content_type="image/png")
        query_url = canonical_url(site.url("/q?x=") + title("meta-breakout"))
        site.set(
            query_url[len(site.url("")) :],
            hostile_page(
                first, url_of, title=title("style-breakout"), words="Query page."
            ),
        )

        targets = [
            {
                "name": _in_name("script-inline", run_beacon, "Press "),
                "url": site.url("/press"),
                "tags": [_in_name("img-onerror", run_beacon)],
                "select": "page",
                "keywords": ["drones"],
            },
            {
                "name": _in_name("attr-breakout", run_beacon),
                "url": site.url("/gone"),
                "select": "page",
            },
            {
                "name": _in_name("bidi-override", run_beacon, "Lost "),
                "url": site.url("/lost"),
                "select": "page",
            },
            {
                "name": _in_name("jinja-safe", run_beacon),
                "url": site.url("/same"),
                "select": "page",
            },
            {
                "name": _in_name("template-literal", run_beacon),
                "url": query_url,
                "select": "page",
            },
            {
                "name": _in_name("svg-onload", run_beacon, "Shot "),
                "url": site.url("/shot"),
                "select": "page",
                "fetch": "browser",
                "settle": "load",
                "viewport": "800x600",
            },
        ]
        watchlist = tmp / "watchlist.yaml"
        write_watchlist(watchlist, targets)
        assert lastseen(tmp, "check").exit_code == 0, (
            "the payload-carrying names must be a valid watchlist"
        )
        run1 = lastseen(tmp, "run", "--json")
        assert run1.exit_code == 0, run1.stderr
        assert sorted(e["verdict"] for e in run1.json["events"]) == ["new"] * 6, (
            run1.stdout
        )

        # Between the runs: a changed page (new payload text), a 410, a 404, a new target.
        site.set(
            "/press",
            hostile_page(
                second,
                url_of,
                title=title("title-breakout"),
                words="Belgrade police bought 2000 cameras and drones.",
            ),
        )
        site.set("/gone", "<h1>Gone</h1>", status=410)
        site.remove("/lost")
        site.set(
            "/shot",
            hostile_page(
                first,
                url_of,
                title=title("svg-onload"),
                words="Screenshots of 2025.",
                live=False,
            ),
        )
        site.set(
            "/fresh",
            hostile_page(
                second, url_of, title=title("math-img"), words="A new notice."
            ),
        )
        targets.append(
            {
                "name": _in_name("svg-script", run_beacon),
                "url": site.url("/fresh"),
                "select": "page",
            }
        )
        write_watchlist(watchlist, targets)
        run2 = lastseen(tmp, "run", "--json")
        verdicts = {
            e["target"]: (e["verdict"], e["reason"]) for e in run2.json["events"]
        }
        names = [t["name"] for t in targets]
        assert [verdicts[n][0] for n in names] == [
            "changed",
            "vanished",
            "vanished",
            "unchanged",
            "unchanged",
            "changed",
            "new",
        ], run2.stdout
        assert (verdicts[names[1]][1], verdicts[names[2]][1]) == (
            "http-410",
            "http-404",
        ), verdicts

        window = lastseen(tmp, "report", "--since", "1d", "--out", "reports/window")
        assert window.exit_code == 0, window.stderr
        yield tmp
    finally:
        site.close()


_PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def _report_pages(project: Path) -> list[Path]:
    pages = sorted((project / "reports").rglob("*.html"))
    assert pages, "the runs wrote no report"
    return pages


# -- 3. the reports, opened -----------------------------------------------------------------------


def test_every_report_page_is_inert_in_chromium(project, browser, run_beacon):
    pages = _report_pages(project)
    reports = project / "reports"
    folders = {p.parent for p in pages}
    # two runs, the window of `lastseen report --since`, the archive front page (reports/ itself, #14)...
    assert (
        len({f for f in folders if f.parent == reports and f.name != "targets"}) == 3
    ), pages
    assert reports in folders
    # ... and a history page for each of the seven targets, in a folder of its own (#14)
    assert len({f for f in folders if f.parent == reports / "targets"}) == 7, pages
    assert any((p.parent / "screenshots").is_dir() for p in pages), (
        "no report page with screenshots"
    )
    clicked = sum(_open_and_check(browser, path, run_beacon) for path in pages)
    # every page has links, but the first run's index (all new: no evidence page)
    assert clicked >= len(pages) - 1
    assert run_beacon.requests == [], (
        f"a payload ran or loaded: the beacon heard {run_beacon.requests}"
    )


def _open_and_check(browser, path: Path, beacon: Beacon) -> int:
    """Open ``path`` from disk with scripts on, open its ``<details>``, point at every link, then
    click each link on a fresh copy of the page.

    Returns the number of links clicked. Asserts the beacon heard nothing, the page stayed put, each
    click led to a file of the report's folder, and Chromium requested nothing else, printed no CSP
    violation or error, and opened no dialog or window.
    """
    # the report's folder: links may lead to any page of the reports (#14: the front page, history pages
    # and run reports link to each other), never out of it
    folder = _reports_root(path).as_uri() + "/"
    name = str(path.relative_to(path.parents[2]))
    context = browser.new_context(java_script_enabled=True)
    requests, messages, popups = [], [], []
    context.on("request", lambda r: requests.append(r.url))
    context.on("page", lambda p: popups.append(p))
    page = context.new_page()
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda e: messages.append(str(e)))
    page.on("dialog", lambda d: (messages.append(f"dialog: {d.message}"), d.dismiss()))
    try:
        page.goto(path.as_uri())
        _settle(page)
        # scripts are on (none of them is the page's)
        assert page.evaluate("() => 1 + 1") == 2
        _open_details(page)
        links = page.locator("a")
        count = links.count()
        for i in range(count):
            links.nth(i).hover(timeout=5000)
        _settle(page)
        assert page.url == path.as_uri(), f"{name}: went to {page.url} by itself"
        for i in range(count):  # each link clicked on a fresh copy of the page
            page.goto(path.as_uri())
            _settle(page)
            _open_details(page)
            links.nth(i).click(timeout=5000)
            _settle(page)
            assert page.url.startswith(folder), f"{name}: link {i} led to {page.url}"
        assert beacon.requests == [], (
            f"{name}: a payload ran or loaded: the beacon heard {beacon.requests}"
        )
        outside = [u for u in requests if not u.startswith(folder)]
        assert not outside, f"{name}: Chromium requested {outside}"
        for url in requests:
            assert Path(unquote(urlsplit(url).path)).is_file(), (
                f"{name}: requested a missing file {url}"
            )
        assert popups == [page], f"{name}: opened another window"
        assert not messages, f"{name}: {messages}"
        return count
    finally:
        context.close()


def _open_details(page) -> None:
    """Click every ``<summary>``: what a closed ``<details>`` holds is shown, and its links clickable."""
    closed = page.locator("details:not([open]) > summary")
    for _ in range(
        closed.count()
    ):  # each click opens one: the next closed one is then the first
        closed.first.click(timeout=5000)
    assert closed.count() == 0
    _settle(page)


# -- 4. the reports, read -------------------------------------------------------------------------

_URL_ATTRIBUTES = (
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "poster",
    "data",
    "background",
    "cite",
    "ping",
    "manifest",
    "codebase",
    "xlink:href",
    "{http://www.w3.org/1999/xlink}href",
    "lowsrc",
    "dynsrc",
    "longdesc",
    "usemap",
    "icon",
    "imagesrcset",
)
_NEVER = (
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "base",
    "link",
    "svg",
    "math",
    "video",
    "audio",
    "source",
    "track",
    "picture",
    "portal",
    "marquee",
    "noscript",
    "template",
    "slot",
)
_LIVE_SCHEMES = (
    "http:",
    "https:",
    "javascript:",
    "data:",
    "vbscript:",
    "file:",
    "blob:",
    "ftp:",
    "ws:",
    "wss:",
)
#: What the URL parser drops before and inside a scheme.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]")


def _parse(path: Path):
    return lxml.html.document_fromstring(
        path.read_bytes(), parser=lxml.html.HTMLParser(encoding="utf-8")
    )


def test_no_live_link_handler_or_foreign_element_in_any_report_page(project):
    for path in _report_pages(project):
        root = _parse(path)
        name = str(path.relative_to(project))
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            if _own_view_switch(element) or _own_stylesheet(path, element):
                continue
            assert element.tag.lower() not in _NEVER, f"{name}: <{element.tag}>"
            if element.tag == "meta":
                assert (element.get("http-equiv") or "").lower() in (
                    "",
                    "content-security-policy",
                ), name
            for attribute, value in element.attrib.items():
                assert not attribute.lower().startswith("on"), (
                    f"{name}: <{element.tag} {attribute}>"
                )
                if attribute.lower() in _URL_ATTRIBUTES or attribute.endswith("}href"):
                    _assert_own_file(path, name, element.tag, attribute, value)
        for a in root.iter("a"):
            href = _URL_NOISE.sub("", a.get("href") or "").lower()
            assert not href.startswith(
                ("http:", "https:", "javascript:", "data:", "vbscript:")
            ), (name, href)


#: The change page's own view switches (inline, side by side, changes only): radio inputs
#: that CSS reads, nothing else about them (no form, no value, no handler).
_VIEW_SWITCH_IDS = ("view-inline", "view-side", "view-changes")


def _own_view_switch(element) -> bool:
    attributes = dict(element.attrib)
    attributes.pop("checked", None)
    return element.tag == "input" and attributes in (
        {"type": "radio", "name": "view", "id": id_, "class": "view-radio"}
        for id_ in _VIEW_SWITCH_IDS
    )


def _own_stylesheet(path: Path, element) -> bool:
    """The archive pages' stylesheet (#14): on the front page and history pages only (run reports keep
    theirs inline), in the head, ``reports/assets/lastseen-<16 hex>.css`` and no other attribute."""
    reports = _reports_root(path)
    archive_page = path.parent == reports or path.parent.parent == reports / "targets"
    href = element.get("href") or ""
    return (
        archive_page
        and element.tag == "link"
        and element.getparent().tag == "head"
        and dict(element.attrib) == {"rel": "stylesheet", "href": href}
        and re.fullmatch(r"(\.\./)*assets/lastseen-[0-9a-f]{16}\.css", href) is not None
        and (path.parent / href).resolve()
        == reports.resolve() / "assets" / href.split("/")[-1]
        and (path.parent / href).is_file()
    )


def _assert_own_file(
    path: Path, name: str, tag: str, attribute: str, value: str
) -> None:
    bare = _URL_NOISE.sub("", value).lower()
    assert (
        not bare.startswith(_LIVE_SCHEMES)
        and ":" not in bare.split("/")[0]
        and not bare.startswith("//")
    ), f"{name}: <{tag} {attribute}={value!r}> is not one of the report's own files"
    target = (path.parent / unquote(value.split("#")[0])).resolve()
    assert target.is_file() and _reports_root(path).resolve() in target.parents, (
        f"{name}: {attribute}={value!r}"
    )


def _reports_root(path: Path) -> Path:
    """The ``reports`` folder a report page is in (run reports, the window, the front page, history pages); a page
    written alone (``lastseen diff --out``) may reach only its own folder."""
    return next((p for p in (path, *path.parents) if p.name == "reports"), path.parent)


def test_scripts_only_by_hash_and_nothing_remote_in_the_csp(project):
    """Each ``<script>`` (the report may get one of its own) is allowed by its sha256 in the page's CSP;
    the CSP allows no inline script by default (``'unsafe-inline'``) and nothing from any host."""
    for path in _report_pages(project):
        root = _parse(path)
        name = str(path.relative_to(project))
        metas = [
            m
            for m in root.iter("meta")
            if (m.get("http-equiv") or "").lower() == "content-security-policy"
        ]
        assert len(metas) == 1, f"{name}: {len(metas)} CSP meta tags"
        head = root.find("head")
        first_tags = [e.tag for e in head if isinstance(e.tag, str)]
        assert first_tags.index("meta") == 0 and head.index(metas[0]) <= 1, (
            f"{name}: the CSP must come before anything it governs: {first_tags}"
        )
        policy = _policy(metas[0].get("content"))
        assert policy.get("default-src") == ["'none'"], f"{name}: {policy}"
        for directive, sources in policy.items():
            for source in sources:
                assert source.startswith("'") or source in ("data:", "file:"), (
                    f"{name}: {directive} allows {source}: something remote could load"
                )
        script_sources = [
            s
            for d in ("script-src", "script-src-elem", "script-src-attr", "default-src")
            for s in policy.get(d, [])
        ]
        assert (
            "'unsafe-inline'" not in script_sources
            and "'unsafe-eval'" not in script_sources
        ), name
        for source in script_sources:
            # 'strict-dynamic' (history pages, #14): what a hash-allowed script adds runs too; it also
            # makes the browser ignore every other source ('self', hosts) for the markup's own scripts
            assert source in ("'none'", "'strict-dynamic'") or re.fullmatch(
                r"'sha(256|384|512)-[A-Za-z0-9+/=_-]+'", source
            ), f"{name}: scripts allowed by {source}, not by a hash"
        if "'strict-dynamic'" in script_sources:
            assert len(policy["script-src"]) == 2, (
                f"{name}: 'strict-dynamic' but {policy}"
            )
            assert path.parent.parent.name == "targets", (
                f"{name}: only history pages load a script"
            )
        allowed = set(
            policy.get("script-src-elem")
            or policy.get("script-src")
            or policy.get("default-src", [])
        )
        for script in root.iter("script"):
            assert script.get("src") is None, (
                f"{name}: a script from {script.get('src')!r}"
            )
            digest = base64.b64encode(
                hashlib.sha256((script.text or "").encode("utf-8")).digest()
            ).decode()
            assert f"'sha256-{digest}'" in allowed, (
                f"{name}: a <script> whose sha256 the CSP does not list"
            )


def _policy(content: str) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {}
    for part in content.split(";"):
        words = part.split()
        if words:
            policy.setdefault(words[0].lower(), words[1:])
    return policy


def test_every_payload_and_name_is_shown_as_text(project, run_beacon):
    """Not vacuous: the payloads reached the reports, as the text an analyst reads."""
    texts = {}
    for path in _report_pages(project):
        texts[path] = _parse(path).text_content()
    everything = "\n".join(texts.values())
    # reports show a bidi control as the text \u202e
    visible = re.compile(f"[{BIDI_CONTROLS}]")
    for payload in PAYLOADS:
        shown = visible.sub(
            lambda m: f"\\u{ord(m.group()):04x}",
            payload.markup(run_beacon.url(payload.id)),
        )
        assert shown in everything, (
            f"payload {payload.id!r} is not shown as text in any report page"
        )
    assert "vbscript link" in everything
    indexes = [text for path, text in texts.items() if path.name == "index.html"]
    for payload_id in (
        "script-inline",
        "attr-breakout",
        "jinja-safe",
        "template-literal",
        "svg-onload",
        "svg-script",
        "img-onerror",
    ):
        markup = BY_ID[payload_id].markup(run_beacon.url(payload_id))
        assert any(markup in text for text in indexes), (
            f"target name or tag {payload_id!r} not in an index"
        )
