"""The signal corpus (``tests/corpus/``): a well-formed table, and every real change alerts.

``tests/corpus/pairs.yaml`` labels before/after pairs of real pages "change" or "noise"
(``docs/signal.md``). Here the pairs are served from a fixture site: one ``lastseen run``
captures every *before*, a second every *after*, with the default watchlist (no ``select``);
each "change" pair must alert (``alert`` true, verdict ``changed``, ``moved`` or
``vanished``). How often "noise" pairs alert is measured, not asserted: that is
``make signal-report``'s business (precision and recall for ``select: page`` and the default).

Target keys the installed watchlist schema does not know yet (``equate_scripts``, ``keywords``)
are left out of the watchlist, as ``bench/signal_report.py`` does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.watchlist import TARGET_FIELDS

from .corpus.pairs import (
    ALERT_VERDICTS,
    LABELS,
    PAGES,
    build,
    load_corpus,
    markdown_tables,
    split_keys,
    transliterate,
)
from .helpers import lastseen, write_watchlist
from .site import Site

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "signal.md"
SOURCES = Path(__file__).parent / "corpus" / "SOURCES.md"
BEGIN, END = "<!-- corpus:begin -->", "<!-- corpus:end -->"

CORPUS = load_corpus()
CHANGES = [p.id for p in CORPUS.pairs if p.label == "change"]
KNOWN_KEYS = {f.name for f in TARGET_FIELDS}


# -- the table ------------------------------------------------------------------------------------


def test_the_table_has_enough_pairs_of_each_label_and_kind():
    by_label = {label: [p for p in CORPUS.pairs if p.label == label] for label in LABELS}
    assert len(CORPUS.pairs) >= 40
    assert all(len(pairs) >= 15 for pairs in by_label.values()), {k: len(v) for k, v in by_label.items()}
    for kind in CORPUS.kinds.values():
        n = sum(p.kind == kind.name for p in CORPUS.pairs)
        assert n >= 2, f"kind {kind.name} has {n} pair(s); each kind has at least two"


def test_every_pair_builds_and_its_edit_changes_the_page():
    for pair in CORPUS.pairs:
        built = build(pair)  # raises CorpusError naming the pair and operation when an anchor is missing
        assert built.before != built.after, pair.id
        assert built.before.decode(built.charset) and built.after.decode(built.charset), pair.id
        if not pair.base and not pair.swap:
            assert built.before == (PAGES / pair.source).read_bytes(), f"{pair.id}: the before is the page as shipped"


def test_serbian_transliteration_keeps_markup_and_references():
    html = ('<p title="Љубав">ЉУБАВ и Љубав, Њива, џем, Ђорђе, ћуприја &nbsp;<b>Шта</b></p>'
            '<script>var x = "Љ";</script><!-- Љ -->')
    latin = transliterate(html, "sr-latin")
    assert latin == ('<p title="Љубав">LJUBAV i Ljubav, Njiva, džem, Đorđe, ćuprija &nbsp;<b>Šta</b></p>'
                     '<script>var x = "Љ";</script><!-- Љ -->')
    assert transliterate(latin, "sr-cyrillic") == html


def test_every_page_is_used_and_its_origin_noted():
    sources = SOURCES.read_text(encoding="utf-8")
    pages = sorted(p.name for p in PAGES.glob("*.html"))
    used = {p.source for p in CORPUS.pairs}
    assert set(pages) == used, f"pages no pair uses: {sorted(set(pages) - used)}"
    unlisted = [name for name in pages if f"`{name}`" not in sources]
    assert not unlisted, f"tests/corpus/SOURCES.md does not say where these come from: {unlisted}"
    too_big = [p.name for p in PAGES.glob("*.html") if p.stat().st_size > 300_000]
    assert not too_big, f"pages over 300 KB: {too_big}"


# -- the runs -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory):
    """Events of the *before* and the *after* run, by pair id, with the default watchlist."""
    tmp = tmp_path_factory.mktemp("corpus")
    built = {p.id: build(p) for p in CORPUS.pairs}
    site = Site()
    try:
        targets = []
        for pair in CORPUS.pairs:
            keys, _unknown = split_keys(pair.keys, KNOWN_KEYS)
            targets.append({"name": pair.id, "url": site.url(f"/corpus/{pair.id}"), **keys})
        wl = write_watchlist(tmp / "watchlist.yaml", targets,
                             settings={"per_host_concurrency": 16, "timeout": "10s", "retries": 0})
        events = []
        for phase in ("before", "after"):
            for pair in CORPUS.pairs:
                b = built[pair.id]
                site.set(f"/corpus/{pair.id}", getattr(b, phase), content_type=f"text/html; charset={b.charset}")
            ran = lastseen(tmp, "run", "--json", "--force", "--watchlist", str(wl), "--archive", str(tmp / "archive"),
                           "--reports", str(tmp / "reports"))
            assert ran.exit_code == 0, ran.stderr
            events.append({e["target"]: e for e in ran.json["events"]})
        return events
    finally:
        site.close()


def test_every_before_is_captured_as_new(corpus_runs):
    before, _after = corpus_runs
    wrong = {pid: (e["verdict"], e["reason"], e["flags"]) for pid, e in before.items() if e["verdict"] != "new"}
    assert not wrong, f"a pair's before page must be captured as new, as it is: {wrong}"
    assert set(before) == {p.id for p in CORPUS.pairs}


@pytest.mark.parametrize("pair_id", CHANGES)
def test_every_real_change_alerts(corpus_runs, pair_id):
    event = corpus_runs[1][pair_id]
    pair = CORPUS.pair(pair_id)
    assert event["alert"] and event["verdict"] in ALERT_VERDICTS, (
        f"{pair_id} ({pair.kind}: {pair.description}) did not alert: verdict {event['verdict']}, "
        f"reason {event['reason']}, alert {event['alert']}, summary {event['summary']!r}, flags {event['flags']}")


# -- the docs -------------------------------------------------------------------------------------


def test_docs_show_the_table(update_golden):
    doc = DOC.read_text(encoding="utf-8")
    table = markdown_tables(CORPUS)
    assert doc.count(BEGIN) == 1 and doc.count(END) == 1, (
        f"docs/signal.md needs a {BEGIN} line and an {END} line around the corpus table")
    if update_golden:
        head, rest = doc.split(BEGIN, 1)
        DOC.write_text(f"{head}{BEGIN}\n{table}{END}{rest.split(END, 1)[1]}", encoding="utf-8")
        return
    shown = doc.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert shown == table, ("the corpus table of docs/signal.md is stale: edit tests/corpus/pairs.yaml, then run "
                            "pytest tests/test_corpus.py --update-golden and review the diff")
