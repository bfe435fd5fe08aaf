"""Listings, pure (#12): items read from an index page or a sitemap, chosen, named safely, as child targets."""

from __future__ import annotations

import gzip
import os
import re

from hypothesis import given
from hypothesis import strategies as st

from crawler.listing import (
    MAX_KEY,
    child_target,
    choose_items,
    item_key,
    name_items,
    page_items,
    read_sitemap,
)
from crawler.watchlist import parse_watchlist

from .test_watchlist import problems as problems_of

INDEX = b"""<html><head><title>Press releases</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About</a></nav>
<main><ul class="releases">
  <li><a href="/press/2024/new-cameras">New cameras</a></li>
  <li><a href="press/2024/tender?id=7#top">Tender</a></li>
  <li><a href="https://www.ministry.test/press/2023/award">Award</a></li>
  <li><a href="https://elsewhere.test/press/2024/copy">Elsewhere</a></li>
  <li><a href="/press/2024/new-cameras">New cameras, again</a></li>
</ul></main>
<footer><a href="mailto:press@ministry.test">Mail</a> <a href="/press/rss">RSS</a></footer>
</body></html>"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://ministry.test/a</loc><lastmod>2024-01-01</lastmod></url>
  <url><loc> https://ministry.test/b </loc></url>
  <url><loc>javascript:alert(1)</loc></url>
  <url><loc>/relative</loc></url>
</urlset>"""


def test_an_index_page_gives_the_links_its_selector_matches_in_order():
    links = page_items(INDEX, "text/html", "https://ministry.test/press/", "main .releases a[href]")
    assert links == [
        "https://ministry.test/press/2024/new-cameras",
        "https://ministry.test/press/press/2024/tender?id=7",
        "https://www.ministry.test/press/2023/award",
        "https://elsewhere.test/press/2024/copy",
    ]
    everything = page_items(INDEX, "text/html", "https://ministry.test/press/", "a[href]")
    assert everything[:2] == ["https://ministry.test/", "https://ministry.test/about"]
    assert "https://ministry.test/press/rss" in everything and not any("mailto" in u for u in everything)


def test_items_are_on_the_listing_site_ignoring_www_matched_deduplicated_and_capped():
    links = page_items(INDEX, "text/html", "https://ministry.test/press/", "a[href]")
    items = choose_items("https://ministry.test/press/", links, match="/press/20", cross_site=False, max_items=2)
    assert items.urls == (
        "https://ministry.test/press/2024/new-cameras",
        "https://ministry.test/press/press/2024/tender?id=7",
    )
    assert items.capped == ("https://www.ministry.test/press/2023/award",)
    wide = choose_items("https://ministry.test/press/", links, match=None, cross_site=True, max_items=200)
    assert "https://elsewhere.test/press/2024/copy" in wide.urls and wide.capped == ()
    assert len(wide.urls) == len(set(wide.urls))
    own = choose_items(
        "https://ministry.test/press/",
        ["https://ministry.test/press/", "https://ministry.test/x"],
        match=None,
        cross_site=False,
        max_items=5,
    )
    assert own.urls == ("https://ministry.test/x",)


def test_a_urlset_gives_its_absolute_http_locs_and_an_index_its_sitemaps():
    assert read_sitemap(URLSET, "https://ministry.test/sitemap.xml") == read_sitemap(
        gzip.compress(URLSET), "https://ministry.test/sitemap.xml.gz"
    )
    sitemap = read_sitemap(URLSET, "https://ministry.test/sitemap.xml")
    assert (sitemap.kind, sitemap.locs) == ("urlset", ("https://ministry.test/a", "https://ministry.test/b"))
    index = read_sitemap(
        b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <sitemap><loc>https://ministry.test/s1.xml.gz</loc></sitemap>
        <sitemap><loc>https://ministry.test/s2.xml.gz</loc></sitemap></sitemapindex>""",
        "https://ministry.test/",
    )
    assert (index.kind, index.locs) == (
        "sitemapindex",
        ("https://ministry.test/s1.xml.gz", "https://ministry.test/s2.xml.gz"),
    )


def test_a_hostile_sitemap_resolves_no_entity_and_reads_no_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file://{secret}">'
        f'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>https://ministry.test/&x;</loc></url><url><loc>https://ministry.test/&b;</loc></url>"
        f"</urlset>"
    ).encode()
    sitemap = read_sitemap(xxe, "https://ministry.test/sitemap.xml")
    assert not any("TOPSECRET" in loc or "aaaa" in loc for loc in sitemap.locs)
    assert read_sitemap(b"<html><body>Not found</body></html>", "https://ministry.test/").kind == ""
    assert read_sitemap(b"", "https://ministry.test/").problem
    bomb = gzip.compress(b"<urlset>" + b" " * (60 * 2**20))
    assert read_sitemap(bomb, "https://ministry.test/s.xml.gz").locs == ()


def test_keys_are_path_and_query_made_safe():
    assert item_key("https://ministry.test/press/2024/new-cameras") == "press-2024-new-cameras"
    assert item_key("https://ministry.test/") == "index"
    assert item_key("https://ministry.test/a/../../etc/passwd") == "a-.-.-etc-passwd"
    assert item_key("https://ministry.test/..%2F..%2Fetc%2Fpasswd") == "etc-passwd"
    assert (
        item_key("https://ministry.test/vesti/%D0%BA%D0%B0%D0%BC%D0%B5%D1%80%D0%B5?q=%E6%91%84") == "vesti-камере-q-摄"
    )
    assert item_key("https://ministry.test/q?" + "z" * 500) == ("q-" + "z" * 500)[:MAX_KEY]  # cut after the strip
    assert item_key("https://ministry.test/x?" + "a=1&" * 200) == ("x-" + "a-1-" * 50)[:MAX_KEY].strip("-")


@given(st.text(min_size=0, max_size=600))
def test_every_key_is_a_safe_file_name(path):
    from urllib.parse import quote

    key = item_key("https://ministry.test/" + quote(path, safe="/?=&%.."))
    assert 1 <= len(key) <= MAX_KEY
    assert "/" not in key and "\\" not in key and ".." not in key and key not in (".", "..")
    assert not key.startswith(("-", ".")) and not key.endswith(("-", "."))
    assert re.fullmatch(r"[\w.\-]+", key), key
    assert os.path.basename(key) == key


def test_colliding_keys_get_a_short_hash_and_known_keys_never_change():
    a, b, c = "https://ministry.test/press/a b", "https://ministry.test/press/a%20b", "https://ministry.test/Press/A-B"
    names = name_items([a, b, c], {})
    assert names[a] == "press-a-b"
    assert re.fullmatch(r"press-a-b-[0-9a-f]{8}", names[b]) and re.fullmatch(r"Press-A-B-[0-9a-f]{8}", names[c])
    assert len(set(names.values())) == 3
    again = name_items([c, b, a], names)
    assert again == names
    long = ["https://ministry.test/x?" + "q" * 500 + str(i) for i in range(3)]
    keys = list(name_items(long, {}).values())
    assert len(set(keys)) == 3 and all(len(k) <= MAX_KEY for k in keys)


def test_an_item_inherits_the_listing_but_its_select_and_takes_the_item_overrides():
    plain, tuned = parse_watchlist("""\
targets:
  - name: press
    url: https://ministry.test/press/
    tags: [ministry]
    every: 6h
    select: main ul
    ignore: [.banner]
    keywords: [kamere]
    listing: true
  - name: notices
    url: https://ministry.test/notices/
    every: 6h
    ignore: [.banner]
    listing:
      item: {select: article, ignore: [.share], every: 1d}
""").targets
    child = child_target(plain, "https://ministry.test/press/2024/a", "press-2024-a")
    assert (child.name, child.url, child.parent, child.listing) == (
        "press/press-2024-a",
        "https://ministry.test/press/2024/a",
        "press",
        None,
    )
    assert (child.tags, child.every, child.select, child.ignore, child.keywords) == (
        ("ministry",),
        21600.0,
        None,
        (".banner",),
        ("kamere",),
    )
    child = child_target(tuned, "https://ministry.test/notices/7", "notices-7")
    assert (child.select, child.ignore, child.every, child.fetch) == ("article", (".share",), 86400.0, "http")


def test_browser_keys_of_a_listing_whose_items_are_loaded_in_a_browser_are_checked_and_go_to_its_items():
    (listing,) = parse_watchlist("""\
targets:
  - name: cases
    url: https://vendor.test/cases/
    wait_for: "#case"
    settle: networkidle
    viewport: 1280x800
    listing:
      item: {fetch: browser}
""").targets
    assert listing.fetch == "http" and listing.mode_options() == {}  # the index page: plain HTTP
    child = child_target(listing, "https://vendor.test/cases/1", "cases-1")
    assert child.fetch == "browser"
    assert child.mode_options() == {
        "wait_for": "#case",
        "settle": "networkidle",
        "scroll": False,
        "viewport": [1280, 800],
    }
    problems = problems_of("""\
targets:
  - name: cases
    url: https://vendor.test/cases/
    settle: soon
    listing:
      item: {fetch: browser}
  - name: plain
    url: https://vendor.test/plain/
    wait_for: "#case"
    listing: true
""")
    assert problems[0][:2] == (4, "cases") and problems[0][2].startswith("settle: must be load, networkidle")
    assert problems[1] == (
        9,
        "plain",
        (
            "wait_for: applies to targets fetched with `fetch: browser` only, and this one is fetched with `http`; "
            "add `fetch: browser` (or `item: {fetch: browser}` for its items) or remove 'wait_for'"
        ),
    )
