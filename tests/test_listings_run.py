"""Listings end to end (#12): successive `lastseen run --json` runs over an index page on 127.0.0.1 whose items
appear, leave the index while still answering, leave it and are deleted, or fall past `max_items`."""

from __future__ import annotations

import json
import re
import sqlite3

from .helpers import assert_contract, lastseen, warc_records, write_watchlist


def _article(title: str, words: str) -> str:
    return (
        f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav><main><article>"
        f"<h1>{title}</h1><p>{words} "
        + "The ministry published this notice for the record. " * 6
        + "</p></article></main></body></html>"
    )


def _index(paths: list[str]) -> str:
    items = "".join(f"<li><a href='{p}'>{p}</a></li>" for p in paths)
    return (
        f"<html><head><title>Press releases</title></head><body><nav><a href='/'>Home</a> "
        f"<a href='/contact'>Contact</a></nav><main><ul class='releases'>{items}</ul></main></body></html>"
    )


def _run(project, *args):
    ran = lastseen(
        project,
        "run",
        "--json",
        "--watchlist",
        str(project / "watchlist.yaml"),
        "--archive",
        str(project / "archive"),
        "--reports",
        str(project / "reports"),
        *args,
    )
    assert ran.exit_code == 0, ran.stderr
    assert_contract(ran.json)
    return ran


def _events(ran) -> list[tuple]:
    return [
        (
            e["target"],
            e["verdict"],
            e["reason"],
            e["alert"],
            e["parent"],
            tuple(f for f in e["flags"] if f != "auto-fallback"),
        )
        for e in ran.json["events"]
    ]


def test_items_appear_leave_the_listing_and_vanish(site, tmp_path):
    for n in range(1, 5):
        site.set(f"/press/{n}", _article(f"Release {n}", f"Release number {n} on cameras."))
    site.set("/contact", _article("Contact", "Write to us."))
    site.set("/press/", _index(["/press/1", "/press/2", "/press/3", "/press/4", "/contact"]))
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [
            {"name": "before", "url": site.url("/contact")},
            {
                "name": "press",
                "url": site.url("/press/"),
                "listing": {"links": "main a[href]", "match": "/press/", "max_items": 3},
            },
            {"name": "after", "url": site.url("/contact")},
        ],
    )
    first = _run(tmp_path)
    assert _events(first) == [
        ("before", "new", None, False, None, ()),
        ("press", "new", None, False, None, ("listing-capped",)),
        ("press/press-1", "new", None, False, "press", ()),
        ("press/press-2", "new", None, False, "press", ()),
        ("press/press-3", "new", None, False, "press", ()),
        ("after", "new", None, False, None, ()),
    ]
    assert first.event("press")["evidence"]["items_capped"] == 1
    assert site.hits("/press/4") == 0  # past max_items: never captured

    # 2: item 5 appears (first: 4 falls out of view, still past the cap), 2 leaves the index but still answers,
    # 3 leaves it and is deleted.
    site.set("/press/5", _article("Release 5", "Release number 5 on drones."))
    site.remove("/press/3")
    site.set("/press/", _index(["/press/5", "/press/1", "/press/4"]))
    hits_2 = site.hits("/press/2")
    second = _run(tmp_path)
    events = {e["target"]: e for e in second.json["events"]}
    assert [e["target"] for e in second.json["events"]][:2] == ["before", "press"]
    assert (
        events["press/press-5"]["verdict"],
        events["press/press-5"]["reason"],
        events["press/press-5"]["alert"],
    ) == ("new", "listed", True)
    assert (events["press/press-2"]["verdict"], events["press/press-2"]["alert"]) == ("delisted", True)
    assert "delisted" in events["press/press-2"]["flags"]
    assert site.hits("/press/2") == hits_2 + 1
    index = (tmp_path / second.json["run"]["report"]).read_text(encoding="utf-8")
    assert "no longer listed on “press”; its page still answers" in index  # the deciding signal, in words
    assert "newly listed on “press”" in index
    assert (
        events["press/press-3"]["verdict"],
        events["press/press-3"]["reason"],
        events["press/press-3"]["alert"],
        events["press/press-3"]["confirmed"],
    ) == ("vanished", "http-404", True, True)
    # 4 was listed all along, past the cap: now within it, captured for the first time, not "listed"
    assert (
        events["press/press-4"]["verdict"],
        events["press/press-4"]["reason"],
        events["press/press-4"]["alert"],
    ) == ("new", None, False)
    assert all(e["parent"] == "press" for name, e in events.items() if name.startswith("press/"))
    assert "press/press-1" in events and events["press/press-1"]["verdict"] == "unchanged"

    # 3: the delisted item is watched on, flagged, with its usual verdict
    third = _run(tmp_path, "--force")
    events = {e["target"]: e for e in third.json["events"]}
    assert (events["press/press-2"]["verdict"], events["press/press-2"]["alert"]) == ("unchanged", False)
    assert "delisted" in events["press/press-2"]["flags"]
    assert "delisted" not in events["press/press-1"]["flags"]
    with sqlite3.connect(tmp_path / "archive" / "lastseen.db") as db:
        stored = db.execute(
            "select i.url, i.key, i.capped from listing_items i join captures on captures.id = capture_id "
            "where captures.target = 'press' order by i.capture_id desc, i.seq limit 3"
        ).fetchall()
    assert [(u.rsplit("/", 1)[1], k, c) for u, k, c in stored] == [
        ("5", "press-5", 0),
        ("1", "press-1", 0),
        ("4", "press-4", 0),
    ]


def test_only_selects_a_listing_with_its_items_or_one_item(site, tmp_path):
    for n in (1, 2):
        site.set(f"/n/{n}", _article(f"Notice {n}", f"Notice {n}."))
    site.set("/n/", _index(["/n/1", "/n/2"]))
    site.set("/other", _article("Other", "Other page."))
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [
            {"name": "notices", "url": site.url("/n/"), "listing": {"match": "/n/[0-9]"}},
            {"name": "other", "url": site.url("/other")},
        ],
    )
    ran = _run(tmp_path, "--only", "notices")
    assert [e["target"] for e in ran.json["events"]] == ["notices", "notices/n-1", "notices/n-2"]
    index_hits = site.hits("/n/")
    ran = _run(tmp_path, "--only", "notices/n-2", "--force")
    assert [e["target"] for e in ran.json["events"]] == ["notices/n-2"]
    assert site.hits("/n/") == index_hits and ran.json["events"][0]["parent"] == "notices"
    bad = lastseen(
        tmp_path,
        "run",
        "--json",
        "--watchlist",
        str(tmp_path / "watchlist.yaml"),
        "--archive",
        str(tmp_path / "archive"),
        "--reports",
        str(tmp_path / "reports"),
        "--only",
        "nope/x",
    )
    assert bad.exit_code == 2


def _urlset(urls: list[str]) -> bytes:
    entries = "".join(f"<url><loc>{u}</loc><lastmod>2024-05-01</lastmod></url>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    ).encode()


def test_a_sitemap_index_of_two_gzipped_sitemaps_with_urls_removed(site, tmp_path):
    import gzip

    for name in ("a", "b", "c", "d"):
        site.set(f"/notices/{name}", _article(f"Notice {name}", f"Tender notice {name} for surveillance cameras."))
    sitemaps = {"/sitemap-1.xml.gz": ["a", "b"], "/sitemap-2.xml.gz": ["c", "d"]}

    def publish():
        for path, names in sitemaps.items():
            data = gzip.compress(_urlset([site.url(f"/notices/{n}") for n in names]), mtime=0)
            site.set(path, data, content_type="application/x-gzip")

    publish()
    index = (
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<sitemap><loc>{site.url(p)}</loc></sitemap>" for p in sitemaps)
        + "</sitemapindex>"
    )
    site.set("/sitemap.xml", index, content_type="application/xml")
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [{"name": "tenders", "url": site.url("/sitemap.xml"), "listing": {"sitemap": True}}],
    )
    first = _run(tmp_path)
    assert _events(first) == [
        ("tenders", "new", None, False, None, ()),
        ("tenders/notices-a", "new", None, False, "tenders", ()),
        ("tenders/notices-b", "new", None, False, "tenders", ()),
        ("tenders/notices-c", "new", None, False, "tenders", ()),
        ("tenders/notices-d", "new", None, False, "tenders", ()),
    ]
    assert first.event("tenders")["evidence"]["items"] == 4

    # 2: b leaves its sitemap but still answers; d leaves its sitemap and is deleted.
    sitemaps["/sitemap-1.xml.gz"] = ["a"]
    sitemaps["/sitemap-2.xml.gz"] = ["c"]
    publish()
    site.remove("/notices/d")
    second = _run(tmp_path, "--force")
    events = {e["target"]: e for e in second.json["events"]}
    assert second.json["events"][0]["target"] == "tenders"
    assert events["tenders"]["evidence"]["items"] == 2
    b, d = events["tenders/notices-b"], events["tenders/notices-d"]
    assert (b["verdict"], b["alert"], b["parent"], b["evidence"]["delisted_from"]) == (
        "delisted",
        True,
        "tenders",
        "tenders",
    )
    assert (d["verdict"], d["reason"], d["alert"], d["confirmed"], d["parent"]) == (
        "vanished",
        "http-404",
        True,
        True,
        "tenders",
    )
    assert (events["tenders/notices-a"]["verdict"], events["tenders/notices-c"]["verdict"]) == (
        "unchanged",
        "unchanged",
    )

    # Both sitemaps of each run are archived as sent, with role "sitemap", beside the index.
    sent = {p: site.sent(p) for p in sitemaps}
    archived: dict[str, list[bytes]] = {}
    for warc in sorted((tmp_path / "archive" / "warcs").glob("*.warc.gz")):
        for _, kind, headers, _, payload in warc_records(warc):
            if kind == "response":
                archived.setdefault(headers.get_header("WARC-Target-URI"), []).append(payload)
    for path in sitemaps:
        assert archived[site.url(path)][-1] == sent[path]
        assert len(archived[site.url(path)]) == 2
    with sqlite3.connect(tmp_path / "archive" / "lastseen.db") as db:
        roles = db.execute(
            "select role, count(*) from captures where target = 'tenders' group by role order by role"
        ).fetchall()
    assert roles == [("page", 2), ("robots", 2), ("sitemap", 4)]  # the host's robots.txt once per run (watch_robots)


HOSTILE = {  # href in the index page -> the path the fixture serves it at (as the crawler requests it)
    "/n/..%2F..%2Fsecret": "/n/..%2F..%2Fsecret",
    "/n/%2E%2E/%2E%2E/etc/passwd": "/n/%2E%2E/%2E%2E/etc/passwd",
    "/n/x%2Fy": "/n/x%2Fy",
    "/n/x/y": "/n/x/y",
    "/n/search?q=" + "z" * 500: "/n/search?q=" + "z" * 500,
    "/n/камере": "/n/%D0%BA%D0%B0%D0%BC%D0%B5%D1%80%D0%B5",
    "/n/CON": "/n/CON",
}


def test_hostile_item_paths_give_safe_names_and_report_files(site, tmp_path):
    def publish(words: str):
        for href, path in HOSTILE.items():
            site.set(path, _article(f"Item {href[:40]}", f"Item at {href[:60]} {words}."))

    publish("first version")
    site.set("/n/", _index(list(HOSTILE)))
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [{"name": "notices", "url": site.url("/n/"), "listing": {"links": "main a[href]"}}],
    )

    first = _run(tmp_path)
    children = [e["target"] for e in first.json["events"] if e["parent"] == "notices"]
    assert all(site.hits(path) == 1 for path in HOSTILE.values()), {p: site.hits(p) for p in HOSTILE.values()}
    keys = [name.removeprefix("notices/") for name in children]
    assert len(keys) == len(HOSTILE) and len({k.casefold() for k in keys}) == len(keys)
    for key in keys:
        assert re.fullmatch(r"[\w.\-]{1,200}", key) and ".." not in key and not key.startswith((".", "-")), key
    assert keys[:4] == ["n-.-.-secret", "n-.-.-etc-passwd", "n-x-y", keys[3]]
    assert re.fullmatch(r"n-x-y-[0-9a-f]{8}", keys[3])  # /n/x/y after /n/x%2Fy took "n-x-y"
    assert keys[4] == ("n-search-q-" + "z" * 500)[:200] and keys[5] == "n-камере" and keys[6] == "n-CON"

    # 2: every item changes: each gets its report page, inside the run's folder, with a safe name
    publish("second version, with a new paragraph on facial recognition cameras")
    second = _run(tmp_path, "--force")
    assert {e["target"]: e["verdict"] for e in second.json["events"] if e["parent"]} == dict.fromkeys(
        children, "changed"
    )
    run_dir = tmp_path / "reports" / second.json["run"]["id"]
    pages = sorted(p.name for p in run_dir.glob("*.html") if p.name != "index.html")
    assert len(pages) == len(HOSTILE)
    assert all(re.fullmatch(r"[a-z0-9-]{1,100}\.html", name) for name in pages), pages
    runs = {first.json["run"]["id"], second.json["run"]["id"]}
    front = re.compile(r"index\.html|runs-[0-9]+\.html|targets-[0-9]+\.html")  # the archive front page (#14)
    for path in tmp_path.rglob("*"):
        where = path.relative_to(tmp_path).parts
        in_reports = where[0] == "reports" and (
            len(where) == 1 or where[1] in runs or (len(where) == 2 and front.fullmatch(where[1]) is not None)
            # history pages (#14): one safe folder per target, items included
            or (where[1] == "targets" and (len(where) == 2 or re.fullmatch(r"[a-z0-9-]{1,100}", where[2])))
            # the archive pages' shared stylesheet and script (#14): named by their SHA-256, never by an item
            or (where[1] == "assets" and (len(where) == 2 or re.fullmatch(r"[a-z]+-[0-9a-f]{16}\.(css|js)", where[2])))
        )
        assert where[0] in ("archive", "watchlist.yaml") or in_reports, where
        assert path.resolve().is_relative_to(tmp_path.resolve())
    histories = {p.name for p in (tmp_path / "reports" / "targets").iterdir()}
    assert len(histories) == len(HOSTILE) + 1  # the listing and each item
    index = (run_dir / "index.html").read_text()
    assert "n-камере" in index and "etc/passwd" in index  # named as stored, shown as text

    # 3: --only one hostile item: that item alone
    publish("third version")
    for key in ("n-.-.-secret", "n-камере", keys[4]):
        ran = _run(tmp_path, "--only", f"notices/{key}", "--force")
        assert [(e["target"], e["verdict"], e["parent"]) for e in ran.json["events"]] == [
            (f"notices/{key}", "changed", "notices")
        ]
    assert site.hits("/n/") == 2


def test_status_lists_each_listing_items_under_it(site, tmp_path, monkeypatch):
    for n in (1, 2, 3):
        site.set(f"/n/{n}", _article(f"Notice {n}", f"Notice {n}."))
    site.set("/n/", _index(["/n/1", "/n/2", "/n/3"]))
    site.set("/other", _article("Other", "Other page."))
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [
            {"name": "notices", "url": site.url("/n/"), "listing": {"match": "/n/[0-9]", "item": {"every": "1d"}}},
            {"name": "other", "url": site.url("/other")},
        ],
    )
    _run(tmp_path)
    site.set("/n/", _index(["/n/3", "/n/1"]))  # 2 leaves the listing, still answering
    _run(tmp_path, "--force")

    def status(*args):
        ran = lastseen(
            tmp_path,
            "status",
            "--watchlist",
            str(tmp_path / "watchlist.yaml"),
            "--archive",
            str(tmp_path / "archive"),
            *args,
        )
        assert ran.exit_code == 0, ran.stderr
        return ran

    doc = status("--json").json
    assert [(t["target"], "items" in t) for t in doc["targets"]] == [("notices", True), ("other", False)]
    items = doc["targets"][0]["items"]
    assert [(i["target"], i["listed"], i["last_verdict"], i["captures"], i["url"]) for i in items] == [
        ("notices/n-3", True, "unchanged", 2, site.url("/n/3")),
        ("notices/n-1", True, "unchanged", 2, site.url("/n/1")),
        ("notices/n-2", False, "delisted", 2, site.url("/n/2")),
    ]
    assert all(i["next_due"] is not None for i in items)  # every: 1d from the item's override
    assert doc["targets"][0]["next_due"] is None  # the listing: on every run

    only = status("--json", "--only", "notices/n-2").json
    assert [(t["target"], [i["target"] for i in t["items"]]) for t in only["targets"]] == [("notices", ["notices/n-2"])]
    assert only["volatile"] == []

    monkeypatch.setenv("COLUMNS", "200")  # a row a line
    lines = status().stdout.splitlines()
    rows = [line for line in lines if "notices" in line or "other" in line]
    assert [row.split("│")[1].strip() for row in rows] == [
        "notices",
        "notices/n-3",
        "notices/n-1",
        "notices/n-2 (delisted)",
        "other",
    ]
    assert rows[3].split("│")[4].strip() == "delisted"


def _table(db, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute(sql).fetchall())


def test_reindex_rebuilds_the_listing_items_from_the_archived_captures(site, tmp_path):
    import gzip

    for n in range(1, 5):
        site.set(f"/press/{n}", _article(f"Release {n}", f"Release number {n} on cameras."))
    site.set("/press/", _index(["/press/1", "/press/2", "/press/3", "/press/4"]))
    site.set("/sm/a", _article("A", "Tender A."))
    site.set("/sm/b", _article("B", "Tender B."))

    def sitemaps(names):
        data = gzip.compress(_urlset([site.url(f"/sm/{n}") for n in names]), mtime=0)
        site.set("/sm-1.xml.gz", data, content_type="application/x-gzip")

    sitemaps(["a", "b"])
    site.set(
        "/sitemap.xml",
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.url('/sm-1.xml.gz')}</loc></sitemap></sitemapindex>",
        content_type="application/xml",
    )
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [
            {
                "name": "press",
                "url": site.url("/press/"),
                "tags": ["gov"],
                "listing": {"match": "/press/[0-9]", "max_items": 3},
            },
            {
                "name": "tenders",
                "url": site.url("/sitemap.xml"),
                "listing": {"sitemap": True, "item": {"select": "h1"}},
            },
        ],
    )
    _run(tmp_path)
    site.set("/press/", _index(["/press/1", "/press/3", "/press/4"]))  # 2 leaves the listing
    sitemaps(["a"])  # b leaves the sitemap
    second = _run(tmp_path, "--force")
    assert {e["target"]: e["verdict"] for e in second.json["events"] if e["verdict"] == "delisted"} == {
        "press/press-2": "delisted",
        "tenders/sm-b": "delisted",
    }

    db = tmp_path / "archive" / "lastseen.db"
    items_sql = (
        "select c.target, c.started, c.role, i.seq, i.url, i.key, i.capped from listing_items i "
        "join captures c on c.id = i.capture_id"
    )
    captures_sql = "select target, started, role, good, flags, text_sha256 from captures"
    before = (_table(db, items_sql), _table(db, captures_sql), _table(db, "select * from targets"))
    assert len(before[0]) == 4 + 3 + 2 + 1  # press: 3 + 1 capped, then 3; tenders: 2, then 1
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / "archive" / f"lastseen.db{suffix}").unlink(missing_ok=True)
    ran = lastseen(
        tmp_path, "reindex", "--archive", str(tmp_path / "archive"), "--watchlist", str(tmp_path / "watchlist.yaml")
    )
    assert ran.exit_code == 0, ran.stderr
    assert "10 listing items" in ran.stdout and "not in" not in ran.stdout  # items are no unknown targets
    after = (_table(db, items_sql), _table(db, captures_sql), _table(db, "select * from targets"))
    assert after[0] == before[0]  # the same items, keys and order, with the same captures
    # the same captures, flags (`listing-capped` too) but `delisted`, which no record holds (reindex says so)
    assert [(t, s, r, g, set(json.loads(f or "[]")), x) for t, s, r, g, f, x in after[1]] == [
        (t, s, r, g, set(json.loads(f or "[]")) - {"delisted"}, x) for t, s, r, g, f, x in before[1]
    ]
    assert any("listing-capped" in (f or "") for *_, f, _ in after[1])
    assert "the flag `delisted`" in ran.stdout
    assert after[2] == before[2]

    # The next run continues: nothing new, the delisted items watched on, flagged, not alerted again.
    third = _run(tmp_path, "--force")
    seen = {e["target"]: (e["verdict"], e["alert"], "delisted" in e["flags"]) for e in third.json["events"]}
    assert seen == {
        "press": ("unchanged", False, False),
        "press/press-1": ("unchanged", False, False),
        "press/press-3": ("unchanged", False, False),
        "press/press-4": ("unchanged", False, False),
        "press/press-2": ("unchanged", False, True),
        "tenders": ("unchanged", False, False),
        "tenders/sm-a": ("unchanged", False, False),
        "tenders/sm-b": ("unchanged", False, True),
    }


def test_status_counts_the_items_past_max_items_and_lists_them_in_json(site, tmp_path, monkeypatch):
    for n in (1, 2, 3):
        site.set(f"/n/{n}", _article(f"Notice {n}", f"Notice {n} text."))
    site.set("/n/", _index(["/n/1", "/n/2", "/n/3"]))
    write_watchlist(tmp_path / "watchlist.yaml",
                    [{"name": "notices", "url": site.url("/n/"), "listing": {"match": "/n/[0-9]", "max_items": 2}}])
    _run(tmp_path)
    doc = lastseen(tmp_path, "status", "--json").json
    (listing,) = doc["targets"]
    assert [i["target"] for i in listing["items"]] == ["notices/n-1", "notices/n-2"]
    assert listing["items_capped"] == [site.url("/n/3")]
    monkeypatch.setenv("COLUMNS", "200")
    lines = lastseen(tmp_path, "status").stdout.splitlines()
    assert any("… 1 more item past max_items (not watched: raise listing.max_items to watch them)" in line
               for line in lines)
    one = lastseen(tmp_path, "status", "--json", "--only", "notices/n-1").json
    assert one["targets"][0]["items_capped"] == []
