"""``lastseen add`` (#14): a target appended to the watchlist, every other byte of the file kept; names made
from URLs; duplicates, invalid options and invalid results refused with the file untouched; a run captures
the new target."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from crawler.errors import WatchlistError
from crawler.watchlist import load_watchlist, parse_watchlist
from crawler.watchlist.adding import MAX_DERIVED_NAME, append_entry

from .helpers import lastseen, write_watchlist

ROOT = Path(__file__).resolve().parent.parent

ODD = """\
# my watchlist: odd spacing, quoting and order on purpose

targets:
- url:    'https://a.example/'   # url before name
  name: "a"
  tags: [ x ,y ]

# a comment after the list, kept below the new entry
settings:
    every:   1d
"""

NEW = [
    "https://vendor.example/new",
    "--name",
    "new-page",
    "--tag",
    "press",
    "--tag",
    "vendor one",
    "--every",
    "6h",
    "--fetch",
    "browser",
]
BLOCK = (
    '- name: new-page\n  url: "https://vendor.example/new"\n  tags: [press, "vendor one"]\n  every: 6h\n'
    "  fetch: browser\n"
)
FLOW = '{name: new-page, url: "https://vendor.example/new", tags: [press, "vendor one"], every: 6h, fetch: browser}'


def _indented(block: str, spaces: int, nl: str = "\n") -> str:
    return "".join(" " * spaces + line + nl for line in block.splitlines())


LAYOUTS = {
    # name: (file before, (the text before which the entry goes, or None: at the end), the entry as inserted)
    "odd block list": (ODD, "\n# a comment after", BLOCK),
    "empty file": ("", None, "targets:\n" + _indented(BLOCK, 2)),
    "comments only": ("# nothing yet\n", None, "targets:\n" + _indented(BLOCK, 2)),
    "no final line break": ("# nothing yet", None, "\ntargets:\n" + _indented(BLOCK, 2)),
    "settings, no targets": ("settings:\n  every: 1d\n", None, "targets:\n" + _indented(BLOCK, 2)),
    "null targets": ("targets:\nsettings:\n  every: 1d\n", "settings:", _indented(BLOCK, 2)),
}


def _add(tmp_path: Path, *args: str, watchlist: str = "watchlist.yaml"):
    return lastseen(tmp_path, "add", *args, "--watchlist", watchlist)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_add_keeps_every_byte_but_the_new_entry(tmp_path, layout):
    before, where, block = LAYOUTS[layout]
    path = tmp_path / "watchlist.yaml"
    path.write_bytes(before.encode())
    ran = _add(tmp_path, *NEW)
    assert ran.exit_code == 0, ran.stderr
    at = before.index(where) if where else len(before)
    assert path.read_bytes().decode() == before[:at] + block + before[at:]
    wl = load_watchlist(path)
    new = wl.targets[-1]
    assert (new.name, new.url, new.tags, new.every, new.fetch) == (
        "new-page",
        "https://vendor.example/new",
        ("press", "vendor one"),
        21600.0,
        "browser",
    )
    assert "added new-page: https://vendor.example/new" in ran.stdout and f"line {new.line}" in ran.stdout
    checked = lastseen(tmp_path, "check", "watchlist.yaml")
    assert checked.exit_code == 0 and "new-page: https://vendor.example/new [press, vendor one]" in checked.stdout


def test_add_to_the_shipped_watchlist_appends_after_its_last_target(tmp_path):
    shipped = (ROOT / "watchlist.yaml").read_bytes()
    (tmp_path / "watchlist.yaml").write_bytes(shipped)
    last = load_watchlist(ROOT / "watchlist.yaml").targets[-1]
    assert _add(tmp_path, *NEW).exit_code == 0
    after = (tmp_path / "watchlist.yaml").read_bytes()
    lines = shipped.decode().splitlines(keepends=True)
    end = (
        max(
            i
            for i, line in enumerate(lines)
            if line.strip() and not line.lstrip().startswith("#") and i >= last.line - 1
        )
        + 1
    )  # after the last target's last line (comments below it stay below)
    assert after.decode() == "".join(lines[:end]) + _indented(BLOCK, 2) + "".join(lines[end:])
    assert [t.name for t in load_watchlist(tmp_path / "watchlist.yaml").targets][-2:] == [last.name, "new-page"]


def test_flow_lists_get_a_flow_entry_and_an_empty_one_a_block_list(tmp_path):
    path = tmp_path / "watchlist.yaml"
    path.write_text("targets: [{name: a, url: 'https://a.example/'}]  # flow\n")
    assert _add(tmp_path, *NEW).exit_code == 0
    assert path.read_text() == f"targets: [{{name: a, url: 'https://a.example/'}}, {FLOW}]  # flow\n"
    path.write_text("targets: []  # none yet\nsettings: {every: 1d}\n")
    assert _add(tmp_path, *NEW).exit_code == 0
    assert path.read_text() == "targets:   # none yet\n" + _indented(BLOCK, 2) + "settings: {every: 1d}\n"
    assert [t.name for t in load_watchlist(path).targets] == ["new-page"]


def test_crlf_line_ends_and_a_bom_are_kept(tmp_path):
    path = tmp_path / "watchlist.yaml"
    before = b"\xef\xbb\xbf# with a BOM\r\ntargets:\r\n  - name: a\r\n    url: https://a.example/\r\n\r\n# end\r\n"
    path.write_bytes(before)
    assert _add(tmp_path, *NEW).exit_code == 0
    at = before.index(b"\r\n# end")
    assert path.read_bytes() == before[:at] + _indented(BLOCK, 2, "\r\n").encode() + before[at:]
    assert [t.name for t in load_watchlist(path).targets] == ["a", "new-page"]


@st.composite
def _watchlists(draw) -> str:
    """A valid watchlist in one of many layouts: block lists at several indentations (indentless too), flow
    lists, quoting styles, comments and blank lines anywhere, settings before or after, nested keys last."""
    comment = st.sampled_from(["", "  # note", "   #x: [y]"])
    quote = st.sampled_from(["{}", "'{}'", '"{}"'])
    n = draw(st.integers(0, 4))
    flow = n > 0 and draw(st.booleans())
    lines = [draw(st.sampled_from(["", "# a watchlist", "---"]))]
    settings_first = draw(st.booleans())
    settings = ["settings:", "  every: 1d" + draw(comment)] if draw(st.booleans()) else []
    lines += settings if settings_first else []
    if flow:
        items = [
            f"{{name: {draw(quote).format(f't{i}')}, url: {draw(quote).format(f'https://t{i}.example/')}}}"
            for i in range(n)
        ]
        lines.append("targets: [" + ", ".join(items) + "]" + draw(comment))
    else:
        lines.append("targets:" + (draw(comment) if n else draw(st.sampled_from(["", " []", " ~", " []  # none"]))))
        dash, gap = draw(st.sampled_from([0, 2, 4])), draw(st.sampled_from([1, 3]))
        pad = " " * (dash + 1 + gap)
        for i in range(n):
            lines.append(" " * dash + "-" + " " * gap + f"name: {draw(quote).format(f't{i}')}" + draw(comment))
            lines.append(pad + f"url:   {draw(quote).format(f'https://t{i}.example/')}")
            last = draw(
                st.sampled_from(
                    ["", "tags: [ a ,b ]", "ignore:\n{p}  - '#x'", "listing:\n{p}  links: a", "select: |\n{p}  main\n"]
                )
            )
            lines += [pad + part.format(p=pad) for part in last.split("\n") if last] if last else []
            lines += draw(st.sampled_from([[], [""], ["# between"], [" " * dash + "# - name: old"]]))
    lines += [] if settings_first else settings
    lines += draw(st.sampled_from([[], ["# the end"], ["", "# the end", ""], ["..."]]))
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    return nl.join(lines) + draw(st.sampled_from(["", nl]))


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_watchlists())
def test_any_layout_gets_one_inserted_entry_and_nothing_else_changes(text):
    try:
        old = [t.name for t in parse_watchlist(text).targets]
    except WatchlistError:
        old = []  # empty, or no targets yet
    entry = {"name": "new-page", "url": "https://vendor.example/new", "tags": ["press"]}
    new = append_entry(text, entry)
    # an empty value (`targets: []` or `~`) is the one thing removed: the new list is written in its place
    text = re.sub(r"^targets: (?:\[\]|~)(?=[ \t]*#)", "targets: ", text, flags=re.MULTILINE)
    text = re.sub(r"^targets: (?:\[\]|~)(?=\r?\n|$)", "targets:", text, flags=re.MULTILINE)
    cut = next((i for i, (a, b) in enumerate(zip(text, new)) if a != b), len(text))
    added = len(new) - len(text)
    assert new[:cut] == text[:cut] and new[cut + added :] == text[cut:], "one contiguous insertion, nothing else"
    wl = parse_watchlist(new)
    assert [t.name for t in wl.targets] == old + ["new-page"]
    assert (wl.targets[-1].url, wl.targets[-1].tags) == ("https://vendor.example/new", ("press",))


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://vendor.example/press/2024/", "vendor.example-press-2024"),
        ("https://www.vendor.example/", "vendor.example"),
        ("http://127.0.0.1:8080/a?id=7", "127.0.0.1-8080-a-id-7"),
        ("https://müller.example/über%20uns", "müller.example-über-uns"),
        ("https://x.example/a/..%2F..%2Fetc/passwd", "x.example-a-.-.-etc-passwd"),
        ("https://x.example/%E2%80%AEtxt.exe%00", "x.example-txt.exe"),
    ],
)
def test_a_name_is_made_from_the_url(tmp_path, url, name):
    write_watchlist(tmp_path / "watchlist.yaml", [])
    ran = _add(tmp_path, url)
    assert ran.exit_code == 0, ran.stderr
    assert [t.name for t in load_watchlist(tmp_path / "watchlist.yaml").targets] == [name]


def test_names_made_from_hostile_urls_are_valid_short_and_unique(tmp_path):
    path = write_watchlist(tmp_path / "watchlist.yaml", [{"name": "x.example-a", "url": "https://other.example/"}])
    long_path = "/" + "é" * 250 + "/" + "a" * 250
    urls = [
        "https://x.example/a",
        "https://x.example/a/",
        "https://x.example" + long_path,
        "https://x.example" + long_path + "/more",
        "https://x.example/../../a/b/../../c",
        "https://x.example/A",
    ]
    for url in urls:
        ran = _add(tmp_path, url)
        assert ran.exit_code == 0, f"{url}: {ran.stderr}"
    names = [t.name for t in load_watchlist(path).targets]
    assert len({n.casefold() for n in names}) == len(names) == 1 + len(urls)
    for n in names[1:]:
        assert len(n) <= MAX_DERIVED_NAME and ".." not in n and "/" not in n and n.isprintable(), n
        assert all(c.isalnum() or c in "._-" for c in n), n
    assert names[1:3] + names[5:] == ["x.example-a-2", "x.example-a-3", "x.example-c", "x.example-A-4"]
    assert names[3] == "x.example-" + "é" * (MAX_DERIVED_NAME - 10) and names[4] == names[3][:-2] + "-2"


def test_duplicate_name_or_url_is_refused_and_the_file_untouched(tmp_path):
    path = tmp_path / "watchlist.yaml"
    path.write_text(
        "targets:\n  - name: press\n    url: https://vendor.example/press\n\n  - name: other\n"
        "    url: https://other.example/\n"
    )
    before = path.read_bytes()
    ran = _add(tmp_path, "https://new.example/", "--name", "other")
    assert ran.exit_code == 2 and "a target named 'other' is already in watchlist.yaml (line 5)" in ran.stderr
    ran = _add(tmp_path, "HTTPS://Vendor.Example:443/press", "--name", "again")  # the same URL, spelt otherwise
    assert ran.exit_code == 2
    assert "https://vendor.example/press is already watched in watchlist.yaml: target 'press' (line 2)" in ran.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["https://b.example/", "--every", "5x"], "--every '5x': invalid duration '5x'"),
        (["https://b.example/", "--every", "0s"], "--every '0s':"),
        (
            ["https://b.example/", "--fetch", "ftp"],
            "--fetch 'ftp': unknown fetch mode 'ftp'; use one of: http, browser",
        ),
        (["ftp://b.example/"], "'ftp://b.example/' has 'ftp://': only http:// and https:// URLs"),
        (["https://user:secret@b.example/"], "contains credentials"),
        (["https://b.example/", "--name", "a\nb"], "--name 'a\\nb': must not contain control characters"),
        (["https://b.example/", "--tag", " "], "--tag ' ': a tag must not be empty"),
        # valid options, an invalid result: the check's message, with its line
        (
            ["https://b.example/", "--name", "news/item"],
            "watchlist.yaml:6: target 'news/item': the name starts with 'news/'",
        ),
    ],
)
def test_invalid_options_and_results_are_refused_and_the_file_untouched(tmp_path, args, message):
    path = tmp_path / "watchlist.yaml"
    path.write_text(
        "targets:\n  - name: news\n    url: https://news.example/\n    listing:\n      links: a\n\n  # end\n"
    )
    before = path.read_bytes()
    ran = _add(tmp_path, *args)
    assert ran.exit_code == 2, ran.stdout
    assert message in ran.stderr and "secret" not in ran.stderr
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["watchlist.yaml"]  # no temporary file left


def test_an_invalid_watchlist_is_not_added_to(tmp_path):
    path = tmp_path / "watchlist.yaml"
    path.write_text("targets:\n  - name: a\n    url: https://a.example/\n    evry: 1d\n")
    before = path.read_bytes()
    ran = _add(tmp_path, "https://b.example/")
    assert ran.exit_code == 2 and "watchlist.yaml:4: target 'a'" in ran.stderr and "did you mean 'every'?" in ran.stderr
    assert path.read_bytes() == before


def test_a_missing_watchlist_is_refused_not_created(tmp_path):
    ran = _add(tmp_path, "https://b.example/", watchlist="missing.yaml")
    assert ran.exit_code == 2
    assert "missing.yaml: file not found" in ran.stderr and "touch missing.yaml" in ran.stderr
    assert not (tmp_path / "missing.yaml").exists()


def test_the_file_is_replaced_with_its_permissions_and_through_a_symlink(tmp_path):
    real = write_watchlist(tmp_path / "real.yaml", [])
    os.chmod(real, 0o640)
    (tmp_path / "watchlist.yaml").symlink_to("real.yaml")
    assert _add(tmp_path, "https://b.example/").exit_code == 0
    assert (tmp_path / "watchlist.yaml").is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert [t.name for t in load_watchlist(real).targets] == ["b.example"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real.yaml", "watchlist.yaml"]


def test_a_run_after_add_captures_the_new_target(tmp_path, site):
    site.set("/new", "<html><head><title>New</title></head><body><h1>Fresh page</h1></body></html>")
    write_watchlist(tmp_path / "watchlist.yaml", [])
    added = _add(tmp_path, site.url("/new"), "--tag", "fresh")
    assert added.exit_code == 0, added.stderr
    name = f"127.0.0.1-{site.port}-new"
    ran = lastseen(tmp_path, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    event = ran.event(name)
    assert event["verdict"] == "new" and event["url"] == site.url("/new")
    assert site.hits("/new") == 1
    assert lastseen(tmp_path, "run", "--json", "--only", "fresh", "--force").event(name)["verdict"] == "unchanged"


def _names(ran) -> list[str]:
    return [r["target"] for r in ran.json["targets"]]


def test_status_leaves_out_targets_no_longer_watched_unless_all(tmp_path, site, monkeypatch):
    site.set("/a", "<h1>A</h1>")
    site.set("/b", "<h1>B</h1>")
    site.set("/news", '<ul><li><a href="/news/1">One</a></li></ul>')
    site.set("/news/1", "<h1>One</h1><p>first item</p>")
    news = {"name": "news", "url": site.url("/news"), "listing": {"links": "a"}}
    b = {"name": "b", "url": site.url("/b"), "tags": ["gone-soon"]}
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "a", "url": site.url("/a")}, b, news])
    assert lastseen(tmp_path, "run", "--json").exit_code == 0
    ran = lastseen(tmp_path, "status", "--json", "--all")
    items = [i["target"] for i in ran.json["targets"][2]["items"]]
    assert _names(ran) == ["a", "b", "news"] and len(items) == 1  # a listing's items are its own, not "gone"
    assert all(r.get("in_watchlist", True) for r in ran.json["targets"])

    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "a", "url": site.url("/a")}])  # b and news removed
    assert _names(lastseen(tmp_path, "status", "--json")) == ["a"]
    ran = lastseen(tmp_path, "status", "--json", "--all")
    assert _names(ran) == ["a", "b", "news", *items]
    rows = {r["target"]: r for r in ran.json["targets"]}
    assert "in_watchlist" not in rows["a"] and rows["a"]["last_verdict"] == "new"
    gone = rows["b"]
    assert gone["in_watchlist"] is False and gone["url"] == site.url("/b") and gone["tags"] == ["gone-soon"]
    assert (gone["last_verdict"], gone["last_status"], gone["captures"], gone["next_due"]) == ("new", 200, 1, None)
    assert rows[items[0]]["in_watchlist"] is False and rows[items[0]]["captures"] == 1

    monkeypatch.setenv("COLUMNS", "200")  # one line per row
    table = lastseen(tmp_path, "status").stdout
    assert "│ a " in table and "│ b " not in table and "news" not in table
    table = lastseen(tmp_path, "status", "--all").stdout
    assert "│ b (not in the watchlist) " in table and "│ news (not in the watchlist) " in table
    assert "│ a (not" not in table

    assert _names(lastseen(tmp_path, "status", "--json", "--all", "--only", "b")) == ["b"]
    refused = lastseen(tmp_path, "status", "--only", "b")  # without --all, b is not a target of the watchlist
    assert refused.exit_code == 2 and "'b' matches no target name or tag" in refused.stderr
