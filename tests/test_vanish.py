"""Vanished, moved, blocked or just down: every row of ``scenarios/vanish.yaml`` end to end.

One watchlist holds a target per row, each on a host of its own (``<id>.test``)
served by :class:`tests.fakeweb.FakeWeb` through a local proxy. Run k of
``lastseen run --json`` is made with the fake web at step k; each row's test
checks the verdict, reason, alert, confirmed and flags its runs expect.
``docs/verdicts.md`` shows the same rows as a table, generated from the data
file (``--update-golden`` rewrites it).

One row: ``pytest 'tests/test_vanish.py::test_scenario[moved]'`` (the fixture still
runs every row: they share their runs, about ten seconds in all). A failure shows
each run that went wrong with what the site served, what was expected and the
whole event (summary and evidence included).
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .fakeweb import (
    BEHAVIOUR_WORDS,
    BEHAVIOURS,
    PROFILES,
    Context,
    FakeWeb,
    Redirect,
    Scenario,
    load_scenarios,
    proxy_env,
    render,
)
from .helpers import assert_contract, lastseen, write_watchlist

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "scenarios" / "vanish.yaml"
DOC = ROOT / "docs" / "verdicts.md"
BEGIN, END = "<!-- scenarios:begin -->", "<!-- scenarios:end -->"

SCENARIOS = load_scenarios(DATA)
RUNS = max(len(s.runs) for s in SCENARIOS)
CHECKED = ("verdict", "reason", "alert", "confirmed")
MISSING = "<missing>"


@dataclass
class Outcome:
    """One ``lastseen run --json``: its events by target, and what went wrong with the run itself."""

    n: int
    exit_code: int
    stderr: str
    doc: dict | None = None
    events: dict = field(default_factory=dict)
    problem: str | None = None     # no JSON, or not the contract


@dataclass
class Vanish:
    web: FakeWeb
    outcomes: list[Outcome]
    tmp: Path


def _run(tmp: Path, wl: Path, web: FakeWeb, n: int) -> Outcome:
    web.step(n)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in proxy_env(web).items():
            if value is None:
                mp.delenv(name, raising=False)
            else:
                mp.setenv(name, value)
        ran = lastseen(tmp, "run", "--json", "--force", "--watchlist", str(wl), "--archive", str(tmp / "archive"),
                       "--reports", str(tmp / "reports"))
    out = Outcome(n, ran.exit_code, ran.stderr)
    try:
        out.doc = json.loads(ran.stdout)
    except ValueError:
        out.problem = f"run {n} printed no JSON (exit {ran.exit_code}):\n{ran.stdout[-2000:]}\n{ran.stderr[-4000:]}"
        return out
    out.events = {e["target"]: e for e in out.doc.get("events", [])}
    try:
        assert_contract(out.doc)
    except Exception as exc:  # noqa: BLE001 - kept for the test that reports it
        out.problem = f"run {n} does not match the contract: {str(exc)[:3000]}"
    return out


@pytest.fixture(scope="module")
def vanish(tmp_path_factory):
    """Every row's runs, made once: ``outcomes[k - 1]`` is run k."""
    tmp = tmp_path_factory.mktemp("vanish")
    with FakeWeb(SCENARIOS, tls_dir=tmp) as web:
        targets = [{"name": s.id, "url": s.url, **s.target} for s in SCENARIOS]
        wl = write_watchlist(tmp / "watchlist.yaml", targets)
        outcomes = [_run(tmp, wl, web, n) for n in range(1, RUNS + 1)]
        yield Vanish(web, outcomes, tmp)


def _serve_words(scenario: Scenario, serve: tuple) -> str:
    def one(item) -> str:
        if isinstance(item, Redirect):
            where = item.location.replace(f"//{scenario.host}", "//…")
            then = f" ({BEHAVIOUR_WORDS[item.serves]})" if item.serves else ""
            return f"{item.status} → `{where}`{then}"
        return BEHAVIOUR_WORDS[item]
    if len(serve) == 1:
        return one(serve[0])
    return "; ".join(f"{'1st request' if i == 0 else 're-fetch'}: {one(x)}" for i, x in enumerate(serve))


def _expect_words(expect: dict) -> str:
    words = f"**{expect['verdict']}**" + (f" / `{expect['reason']}`" if expect["reason"] else "")
    words += ", alerts" if expect["alert"] else ", no alert"
    if expect["confirmed"] is True:
        words += ", confirmed"
    elif expect["confirmed"] is False:
        words += ", not confirmed yet"
    if expect["flags"]:
        words += ", flagged " + ", ".join(f"`{f}`" for f in expect["flags"])
    return words


def _why(scenario: Scenario, n: int, event: dict | None, problems: list[str], outcome: Outcome) -> str:
    run = scenario.runs[n - 1]
    shown = json.dumps(event, indent=2, ensure_ascii=False) if event is not None else "(no event)"
    return (f"run {n} of {scenario.id} (the site served: {_serve_words(scenario, run.serve)}); "
            f"expected {_expect_words(run.expect)}:\n  " + "\n  ".join(problems)
            + f"\n  the whole event: {shown}" + (f"\n  the run: {outcome.problem}" if outcome.problem else ""))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario(vanish, scenario):
    """Each run of the row gives the verdict, reason, alert, confirmed and flags the row expects."""
    failures = []
    for n, run in enumerate(scenario.runs, 1):
        outcome = vanish.outcomes[n - 1]
        event = outcome.events.get(scenario.id)
        if event is None:
            failures.append(_why(scenario, n, None, ["no event for this target"], outcome))
            continue
        problems = [f"{key}: expected {run.expect[key]!r}, got {event.get(key, MISSING)!r}"
                    for key in CHECKED if event.get(key, MISSING) != run.expect[key]]
        if "confirmed" not in event:
            problems.append("the event has no `confirmed` key")
        missing = [f for f in run.expect["flags"] if f not in (event.get("flags") or [])]
        if missing:
            problems.append(f"flags: expected {missing} among {event.get('flags')!r}")
        suffix = run.expect["final_url"]
        if suffix and not str(event.get("final_url")).endswith(suffix):
            problems.append(f"final_url: expected one ending {suffix!r}, got {event.get('final_url')!r}")
        if problems:
            failures.append(_why(scenario, n, event, problems, outcome))
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("n", range(1, RUNS + 1), ids=[f"run-{n}" for n in range(1, RUNS + 1)])
def test_every_run_exits_zero_and_matches_the_contract(vanish, n):
    outcome = vanish.outcomes[n - 1]
    assert outcome.problem is None, outcome.problem
    assert outcome.exit_code == 0, outcome.stderr[-4000:]
    assert [e["target"] for e in outcome.doc["events"]] == [s.id for s in SCENARIOS]  # watchlist order


CONFIRMING = [
    pytest.param(s, n, id=f"{s.id}-run-{n}")
    for s in SCENARIOS for n, run in enumerate(s.runs, 1)
    if (run.expect["verdict"] in ("vanished", "moved") and run.expect["alert"]) or "flapped" in run.expect["flags"]
]


@pytest.mark.parametrize("scenario,n", CONFIRMING)
def test_a_vanish_is_fetched_again_before_it_alerts(vanish, scenario, n):
    """A page that vanishes or moves (or flaps) was requested twice in that run: the second fetch confirms."""
    hits = vanish.web.hits(n, scenario.host, scenario.path)
    assert hits >= 2, (f"{scenario.url} was requested {hits} time(s) in run {n}; a vanish or move is confirmed "
                       f"by fetching it again later in the same run")


def test_every_follow_up_fetch_is_archived_with_its_role(vanish):
    """Re-fetches, probes and home pages: request and response records in the WARC, a capture record that
    names their role, an index capture with that role and no event; the re-fetch's event names the first."""
    import sqlite3

    from crawler.capturerecords import read_captures

    from .helpers import record_at, warc_records

    archive = vanish.tmp / "archive"
    db = sqlite3.connect(archive / "lastseen.db")
    db.row_factory = sqlite3.Row
    roles = {}
    for path in sorted((archive / "warcs").glob("*.warc.gz")):
        for _offset, kind, headers, _http, payload in warc_records(path):
            if kind == "metadata":  # a batch's capture record (#17): each capture's role and records
                for capture in read_captures(payload, headers.get_header("WARC-Target-URI")) or ():
                    roles.update((line.split(" ")[2], capture.get("role")) for line in capture.exchanges)
    rows = db.execute("select * from captures where role != 'page'").fetchall()
    assert {r["role"] for r in rows} == {"refetch", "probe", "home", "robots"}  # robots: settings.watch_robots
    for row in rows:
        kind, headers, http, _ = record_at(archive / row["warc_file"], row["warc_offset"])
        assert kind in ("response", "revisit") and headers.get_header("WARC-Target-URI") == row["final_url"]
        assert roles[row["warc_record_id"]] == row["role"]
        exchanges = db.execute("select role from exchanges where capture_id = ? and request_record_id is not null",
                               (row["id"],)).fetchall()
        assert row["role"] in {e["role"] for e in exchanges}
        has_event = db.execute("select count(*) from events where capture_id = ?", (row["id"],)).fetchone()[0]
        assert has_event == (row["role"] == "refetch"), dict(row)
    # one event per target and run; a re-fetch's event names the first fetch, kept without an event
    assert db.execute("select count(*) from (select run_id, target from events group by run_id, target "
                      "having count(*) > 1)").fetchone()[0] == 0
    flapping = vanish.outcomes[1].events["flapping-404"]
    first = db.execute("select * from captures where id = ?", (flapping["evidence"]["first_capture"],)).fetchone()
    assert (first["status"], first["role"], first["good"]) == (404, "page", 0)
    assert db.execute("select count(*) from events where capture_id = ?", (first["id"],)).fetchone()[0] == 0
    second = db.execute("select * from captures where id = ?", (flapping["capture_id"],)).fetchone()
    assert (second["status"], second["role"]) == (200, "refetch")


def test_a_host_is_probed_at_most_once_per_run(vanish):
    """A random-path probe (anything but the target, ``/`` and redirect targets) at most once per host and run."""
    too_many = {}
    for n in range(1, RUNS + 1):
        for s in SCENARIOS:
            probes = vanish.web.probes(n, s)
            if len(probes) > 1:
                too_many[(n, s.id)] = [f"{r.scheme}://{r.host}{r.path}" for r in probes]
    assert not too_many, too_many


def test_the_host_that_answers_everything_is_probed(vanish):
    """``soft-404-random-path`` can only be told by comparing with a random path of its host."""
    s = next(s for s in SCENARIOS if s.id == "soft-404-random-path")
    assert len(vanish.web.probes(2, s)) == 1, vanish.web.requests_in(2, s.host)


def test_no_probe_when_nothing_changed(vanish):
    """Probing is for pages that changed a lot: a run where a row's page is unchanged probes nothing there."""
    probed = {}
    for s in SCENARIOS:
        for n, run in enumerate(s.runs, 1):
            if run.expect["verdict"] == "unchanged" and not run.expect["flags"] and vanish.web.probes(n, s):
                probed[(n, s.id)] = [r.path for r in vanish.web.probes(n, s)]
    assert not probed, probed


def test_only_the_fake_hosts_were_asked(vanish):
    """Every request went to a host of the data file, through the proxy (an unknown host gets 502)."""
    strays = [r for n in range(1, RUNS + 1) for r in vanish.web.requests_in(n) if not vanish.web.knows(r.host)]
    assert not strays, strays


# -- the docs table ------------------------------------------------------------------------------


def scenarios_markdown(scenarios: list[Scenario]) -> str:
    """The table of ``docs/verdicts.md`` between the scenario markers: a row per scenario, a column per run."""
    runs = max(len(s.runs) for s in scenarios)
    lines = ["| scenario | what the site does | " + " | ".join(f"run {n}" for n in range(1, runs + 1)) + " |",
             "| --- | --- | " + " | ".join("---" for _ in range(runs)) + " |"]
    for s in scenarios:
        cells = [f"`{s.id}`", s.about]
        for run in s.runs:
            cells.append(f"{_serve_words(s, run.serve)}<br>{_expect_words(run.expect)}")
        cells += [""] * (runs - len(s.runs))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


SECTION = f"""
## Scenarios

Each row is a scenario of `tests/test_vanish.py`: one target on a site of its own, captured by
successive runs of `lastseen run` while the site does what the row says. Each run's cell says
what the site served, then the verdict (and reason) lastseen gives, whether it alerts, and
whether it is confirmed: a vanish or a move by a second fetch in the same run, a failure or a
block by `confirm_after` (3) failed captures in a row, or at once for a target never captured.
A later run left empty serves the same as the row's last.

The table is generated from `tests/scenarios/vanish.yaml` by
`pytest tests/test_vanish.py --update-golden`; edit the data file, not the table.

{BEGIN}
{END}
"""


def test_docs_show_the_scenarios(update_golden):
    doc = DOC.read_text(encoding="utf-8")
    table = scenarios_markdown(SCENARIOS)
    if update_golden:
        if doc.count(BEGIN) != 1 or doc.count(END) != 1:
            doc = doc.rstrip("\n") + "\n" + SECTION
        head, rest = doc.split(BEGIN, 1)
        DOC.write_text(f"{head}{BEGIN}\n{table}{END}{rest.split(END, 1)[1]}", encoding="utf-8")
        return
    assert doc.count(BEGIN) == 1 and doc.count(END) == 1, (
        f"docs/verdicts.md needs a {BEGIN} line and an {END} line around the scenario table: "
        "run pytest tests/test_vanish.py --update-golden")
    shown = doc.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert shown == table, ("the scenario table of docs/verdicts.md is stale: edit tests/scenarios/vanish.yaml, "
                            "then run pytest tests/test_vanish.py --update-golden and review the diff")


# -- the fake web itself -------------------------------------------------------------------------


def _ctx(profile_key: str, path: str | None = None) -> Context:
    p = PROFILES[profile_key]
    a = next(iter(p.articles.values()))
    return Context(p, a, "http", "example.test", path or a.path, a.path)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_pages_are_whole_and_realistic(profile):
    """Site pages are full pages of several kB; the edit, the stub and the redesign say what they claim."""
    p = PROFILES[profile]
    assert 20 <= len(p.nav) <= 40
    for behaviour in BEHAVIOURS:
        resp = render(behaviour, _ctx(profile))
        assert resp.body and any(k == "Content-Type" for k, _ in resp.headers)
    for name, article in p.articles.items():
        ctx = Context(p, article, "http", "example.test", article.path, article.path)
        page = render("article", ctx).text
        assert len(page.encode()) > 4000 and "<main" in page and "<article" in page, name
        assert page.count("<a ") >= 20 and "<footer" in page and 'class="breadcrumbs"' in page
        edited = render("article-edited", ctx).text
        assert edited != page and len(article.edits) == 2
        assert "<main" not in render("article-redesigned", ctx).text
    for behaviour in ("not-found-404", "home", "login", "search", "generic-unknown", "signpost", "emptied"):
        assert len(render(behaviour, _ctx(profile)).body) > 3000, behaviour


@pytest.mark.parametrize("behaviour,phrase", [
    ("soft-404-en", "Page not found"), ("soft-404-sr-cyrl", "Страница није пронађена"),
    ("soft-404-sr-latn", "Stranica nije pronađena"), ("soft-404-zh", "页面不存在"),
])
def test_soft_404_pages_say_not_found_in_title_and_heading(behaviour, phrase):
    resp = render(behaviour, _ctx("vendor"))
    assert resp.status == 200
    title = resp.text.split("<title>", 1)[1].split("</title>", 1)[0]
    h1 = resp.text.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert phrase in title and (phrase in h1 or behaviour == "soft-404-zh" and "不存在" in h1)


def test_pages_that_must_not_look_not_found():
    generic = render("generic-unknown", _ctx("ministry")).text
    mentions = render("article-mentions-404", _ctx("ministry")).text
    for page in (generic, mentions):
        head = page.split("</title>", 1)[0] + page.split("<h1>", 1)[1].split("</h1>", 1)[0]
        assert "not found" not in head.lower() and "404 –" not in head
    assert "page not found" in mentions and "Regulation 404/2024" in mentions


def _get(conn, url: str):
    conn.request("GET", url)
    resp = conn.getresponse()
    return resp.status, dict(resp.getheaders()), resp.read()


def test_the_fake_web_serves_what_the_rows_say(tmp_path):
    """Through the proxy, without lastseen: run 2 of a few rows, re-fetches, redirects, probes, https."""
    with FakeWeb(SCENARIOS, tls_dir=tmp_path) as web:
        web.step(2)
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
        by = {s.id: s for s in SCENARIOS}
        assert _get(conn, by["http-404"].url)[0] == 404
        assert [_get(conn, by["flapping-404"].url)[0] for _ in range(3)] == [404, 200, 200]
        status, headers, _ = _get(conn, by["moved"].url)
        assert status == 301 and headers["Location"] == "/en/projects/safe-city-novi-grad"
        status, _, body = _get(conn, "http://moved.test/en/projects/safe-city-novi-grad")
        assert status == 200 and b"Safe City Novi Grad" in body
        assert _get(conn, by["redirect-www"].url)[1]["Location"].startswith("http://www.redirect-www.test/")
        assert _get(conn, f"http://www.redirect-www.test{by['redirect-www'].path}")[0] == 200
        status, _, body = _get(conn, "http://soft-404-random-path.test/x7Kq2")
        assert status == 200 and b"Content unavailable" in body
        assert _get(conn, "http://http-404.test/x7Kq2")[0] == 404
        status, headers, body = _get(conn, by["akamai-access-denied"].url)
        assert status == 403 and headers["Server"] == "AkamaiGHost" and b"Access Denied" in body
        status, headers, _ = _get(conn, by["challenge-200"].url)
        assert status == 200 and headers["cf-mitigated"] == "challenge"
        assert _get(conn, "http://elsewhere.example/")[0] == 502
        assert web.hits(2, "flapping-404.test", by["flapping-404"].path) == 3
        assert [r.path for r in web.probes(2, by["soft-404-random-path"])] == ["/x7Kq2"]
        web.step(1)
        assert _get(conn, by["http-404"].url)[0] == 200
        conn.close()

        web.step(2)
        unverified = ssl.create_default_context()
        unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
        https = http.client.HTTPSConnection("127.0.0.1", web.port, timeout=5, context=unverified)
        https.set_tunnel("redirect-https.test", 443)
        status, _, body = _get(https, by["redirect-https"].path)
        assert status == 200 and b"Valmora Smart Traffic" in body
        https.close()
        assert web.requests_in(2, "redirect-https.test")[-1].scheme == "https"
