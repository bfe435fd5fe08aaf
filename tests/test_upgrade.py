"""Upgrading must not raise a wave of false alerts: an archive of the release before main-content extraction.

``tests/upgrade/archive/`` was written by that release (``tests/upgrade/make_archive.py``: real pages of
``tests/corpus/pages/``). Run over a copy of it, the current code compares each page's first capture with
its baseline read again under the new rules from the archived WARC record, and finds no change.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from .helpers import lastseen, write_watchlist
from .upgrade.make_archive import PAGES

HERE = Path(__file__).parent


def test_the_first_run_after_the_upgrade_finds_no_change(tmp_path, site):
    shutil.copytree(HERE / "upgrade" / "archive", tmp_path / "archive")
    pages = {name: (HERE / "corpus" / "pages" / page).read_bytes() for name, (page, _) in PAGES.items()}
    for name, body in pages.items():
        site.set(f"/{name}", body)
    # one page also changed outside its main content since (a sidebar): read again from the WARC record,
    # the baseline's main content is the same
    site.set("/voice", pages["voice"].replace(b"</body>", b"<aside><p>Read our new newsletter!</p></aside></body>"))
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": n, "url": site.url(f"/{n}"), **keys}
                                                  for n, (_, keys) in PAGES.items()])
    ran = lastseen(tmp_path, "run", "--json", "--force")
    assert ran.exit_code == 0, ran.stderr
    verdicts = {e["target"]: (e["verdict"], e["alert"]) for e in ran.json["events"]}
    assert verdicts == {name: ("unchanged", False) for name in PAGES}, verdicts
    db = sqlite3.connect(tmp_path / "archive" / "lastseen.db")
    assert db.execute("select count(*) from captures where extract_key is not null").fetchone()[0] == 2 * len(PAGES)
    # A baseline read again from its WARC record keeps the anchor texts and description its release did not
    # store (#11). (The others, same bytes from another address, would resolve their links elsewhere: they
    # are read again when a report needs them.)
    # (and the host's robots.txt, settings.watch_robots: one capture, of the run, never a page's)
    assert db.execute("select count(*), count(distinct url) from captures where role = 'robots'").fetchone() == (1, 1)
    rows = db.execute("select target, link_texts, description from captures where role != 'robots' "
                      "order by id").fetchall()
    baselines, firsts = rows[: len(PAGES)], {t: (texts, d) for t, texts, d in rows[len(PAGES):]}
    voice = next(row for row in baselines if row[0] == "voice")
    assert voice[1] is not None and voice[2].startswith("Current voice interfaces are horrible."), voice
    for target, texts, description in baselines:
        if texts is not None:
            first_texts, first_description = firsts[target]
            assert sorted(json.loads(texts).values()) == sorted(json.loads(first_texts).values()) != []
            assert description == first_description
    # and a real edit is still seen
    site.set("/medicines", pages["medicines"].replace("记者17日".encode(), "记者18日".encode()))
    again = lastseen(tmp_path, "run", "--json", "--force", "--only", "medicines")
    assert again.event("medicines")["verdict"] == "changed"
