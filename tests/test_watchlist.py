"""Tests of crawler.watchlist: parsing, every validation problem (with its line), schema, docs."""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.errors import LastseenError, WatchlistError
from crawler.watchlist import (
    ITEM_FIELDS,
    LISTING_FIELDS,
    SCHEMA_PATH,
    SETTINGS_FIELDS,
    TARGET_FIELDS,
    Settings,
    Target,
    Watchlist,
    format_duration,
    format_size,
    json_schema,
    load_watchlist,
    parse_duration,
    parse_size,
    parse_watchlist,
    reference_markdown,
    write_schema,
)

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "watchlist.yaml"

FULL = """\
settings:
  concurrency: 8
  per_host_concurrency: 1
  per_host_delay: 2.5s
  timeout: 1m
  user_agent: "test-agent/1.0 (+mailto:desk@example.org)"
  retries: 0
  max_redirects: 3
  max_body: 5MB
  every: 1d
alerts:
  - "json://127.0.0.1:8999/hook"
  - "mailtos://user:pass@example.org"
targets:
  - name: vendor-safe-city-case-study
    url: https://vendor.example/case/belgrade
    tags: [vendor, case-study]
    every: 6h
    select: "main"
    ignore: [".cookie-banner", "#clock"]
  - name: ministry-press
    url: http://ministry.example/press?page=1
  - name: null-every
    url: https://example.org/
    every: null
"""


def problems(text: str) -> list[tuple[int | None, str | None, str]]:
    """The (line, target, message) of every problem parse_watchlist reports for ``text``."""
    with pytest.raises(WatchlistError) as info:
        parse_watchlist(textwrap.dedent(text))
    return [(p.line, p.target, p.message) for p in info.value.problems]


def only_problem(text: str) -> tuple[int | None, str | None, str]:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- valid files


def test_full_file_round_trips_to_dataclasses():
    watchlist = parse_watchlist(FULL, "full.yaml")
    assert watchlist == Watchlist(
        path="full.yaml",
        settings=Settings(concurrency=8, per_host_concurrency=1, per_host_delay=2.5, timeout=60.0,
                          user_agent="test-agent/1.0 (+mailto:desk@example.org)", retries=0, max_redirects=3,
                          max_body=5 * 2**20, every=86400.0),
        alerts=("json://127.0.0.1:8999/hook", "mailtos://user:pass@example.org"),
        targets=(
            Target(name="vendor-safe-city-case-study", url="https://vendor.example/case/belgrade",
                   tags=("vendor", "case-study"), every=6 * 3600.0, select="main",
                   ignore=(".cookie-banner", "#clock")),
            # no `every`: inherits settings.every
            Target(name="ministry-press", url="http://ministry.example/press?page=1", every=86400.0),
            # null means the same as left out
            Target(name="null-every", url="https://example.org/", every=86400.0),
        ),
        sha256=hashlib.sha256(FULL.encode()).hexdigest(),
    )
    assert [t.line for t in watchlist.targets] == [15, 21, 23]


def test_defaults():
    watchlist = parse_watchlist("targets:\n  - name: a\n    url: https://a.example/\n")
    assert watchlist.settings == Settings()
    assert watchlist.settings.max_body == 50 * 2**20
    assert watchlist.settings.per_host_delay == 1.0 and watchlist.settings.timeout == 30.0
    assert watchlist.alerts == ()
    assert watchlist.targets == (Target(name="a", url="https://a.example/"),)
    target = watchlist.targets[0]
    assert (target.tags, target.every, target.select, target.ignore) == ((), None, None, ())


def test_registry_defaults_are_the_dataclass_defaults():
    for field in SETTINGS_FIELDS:
        assert field.default == getattr(Settings(), field.name)
    assert [f.name for f in TARGET_FIELDS] == ["name", "url", "tags", "every", "select", "ignore", "fetch",
                                               "ignore_text", "keywords", "equate_scripts", "alert_when",
                                               "confirm_after", "wait_for", "settle", "scroll", "viewport", "listing"]
    for field in TARGET_FIELDS[2:]:
        if field.name not in ("every", "fetch", "confirm_after", "equate_scripts", "alert_when"):  # from settings
            assert field.default == getattr(Target(name="a", url="https://a.example/"), field.name)


def test_fetch_mode_defaults_to_settings_and_unknown_modes_are_refused():
    wl = parse_watchlist("settings:\n  fetch: http\ntargets:\n  - {name: a, url: 'https://example.org/a'}\n"
                         "  - {name: b, url: 'https://example.org/b', fetch: http}\n")
    assert [t.fetch for t in wl.targets] == ["http", "http"]
    with pytest.raises(WatchlistError) as err:
        parse_watchlist("targets:\n  - name: a\n    url: https://example.org/a\n    fetch: carrier-pigeon\n")
    assert "watchlist.yaml:4: target 'a':" in str(err.value)
    assert "unknown fetch mode 'carrier-pigeon'; use one of: http" in str(err.value)


@pytest.mark.parametrize("text", ["targets: []\n", "targets:\n", "settings:\nalerts:\ntargets: []\n"])
def test_empty_watchlist_is_valid(text):
    watchlist = parse_watchlist(text)
    assert watchlist.targets == () and watchlist.alerts == () and watchlist.settings == Settings()


def test_per_host_delay_may_be_zero_and_durations_may_be_numbers():
    watchlist = parse_watchlist("settings:\n  per_host_delay: 0\n  timeout: 2.5\ntargets: []\n")
    assert watchlist.settings.per_host_delay == 0.0
    assert watchlist.settings.timeout == 2.5


def test_target_matches_name_or_tag():
    target = Target(name="vendor-press", url="https://v.example/", tags=("vendor", "press"))
    assert target.matches("vendor-press") and target.matches("press")
    assert not target.matches("vendor-pres") and not target.matches("https://v.example/")


def test_dataclasses_are_frozen():
    watchlist = parse_watchlist(FULL)
    with pytest.raises(AttributeError):
        watchlist.targets[0].url = "https://elsewhere.example/"  # type: ignore[misc]


def test_bytes_input_and_sha256_of_file_bytes(tmp_path):
    data = ("\ufeff" + FULL).encode("utf-8")  # a BOM is tolerated and hashed as part of the file
    path = tmp_path / "w.yaml"
    path.write_bytes(data)
    watchlist = load_watchlist(path)
    assert watchlist.path == str(path)
    assert watchlist.sha256 == hashlib.sha256(data).hexdigest()
    assert len(watchlist.targets) == 3


def test_merge_keys_and_extension_keys_for_anchors():
    watchlist = parse_watchlist(textwrap.dedent("""\
        x-vendor: &vendor
          tags: [vendor]
          every: 6h
        targets:
          - <<: *vendor
            name: a
            url: https://a.example/
          - <<: *vendor
            name: b
            url: https://b.example/
            every: 1d
        """))
    a, b = watchlist.targets
    assert (a.tags, a.every) == (("vendor",), 21600.0)
    assert (b.tags, b.every) == (("vendor",), 86400.0)  # own keys win over merged ones


def test_shipped_example_parses():
    watchlist = load_watchlist(EXAMPLE)
    assert 5 <= len(watchlist.targets) <= 10
    assert any(t.select for t in watchlist.targets)
    assert any(t.ignore for t in watchlist.targets)
    assert sum(1 for t in watchlist.targets if t.every != watchlist.settings.every) >= 2
    assert all(t.url.startswith("https://") for t in watchlist.targets)
    assert watchlist.settings.per_host_concurrency == 1  # gentle by example
    assert "# alerts:" in EXAMPLE.read_text()


# --------------------------------------------------------------------------- files that cannot be read


def test_missing_file(tmp_path):
    with pytest.raises(WatchlistError) as info:
        load_watchlist(tmp_path / "nope.yaml")
    assert "file not found" in str(info.value) and "example" in str(info.value)
    assert str(info.value).startswith(str(tmp_path / "nope.yaml"))
    assert isinstance(info.value, LastseenError) and info.value.exit_code == 2


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(WatchlistError, match="is a directory"):
        load_watchlist(tmp_path)


def test_not_utf8():
    with pytest.raises(WatchlistError) as info:
        parse_watchlist(b"targets:\n  - name: caf\xe9\n")
    (problem,) = info.value.problems
    assert problem.line == 2 and "UTF-8" in problem.message


# --------------------------------------------------------------------------- every kind of problem


def test_malformed_yaml_reports_line():
    line, target, message = only_problem("""\
        targets:
          - name: a
            url: https://a.example/
          - name: [unclosed
        """)
    assert line == 5 and target is None and message.startswith("malformed YAML")


def test_tabs_get_a_hint():
    line, _, message = only_problem("targets:\n\t- name: a\n")
    assert line == 2 and "spaces, not tabs" in message


def test_top_level_not_a_mapping():
    assert only_problem("- name: a\n  url: https://a.example/\n") == (
        1, None, "the top level must be a mapping of keys to values, got a list")
    line, _, message = only_problem("")
    assert line == 1 and "empty" in message


def test_missing_targets_key():
    line, _, message = only_problem("settings:\n  retries: 1\n")
    assert line == 1 and "'targets:'" in message and "targets: []" in message


def test_targets_of_wrong_type():
    line, _, message = only_problem("settings: {}\ntargets: vendor-press\n")
    assert line == 2 and "targets must be a list" in message


def test_unknown_key_suggests_closest():
    assert only_problem("""\
        targets:
          - name: vendor-press
            url: https://v.example/
            selector: main
        """) == (4, "vendor-press", "unknown key 'selector' in a target; did you mean 'select'?")
    line, target, message = only_problem("settings:\n  concurency: 4\ntargets: []\n")
    assert (line, target) == (2, None) and "did you mean 'concurrency'?" in message
    line, _, message = only_problem("target: []\n")
    assert line == 1 and "did you mean 'targets'?" in message


def test_misplaced_keys_say_where_they_belong():
    found = problems("""\
        settings:
          tags: [vendor]
        targets:
          - name: a
            url: https://a.example/
            timeout: 5s
        """)
    assert found[0][0] == 2 and "belongs to a target" in found[0][2]
    assert found[1][:2] == (6, "a") and "move it under 'settings:'" in found[1][2]


def test_wrong_types():
    found = problems("""\
        settings:
          concurrency: "4"
          retries: true
          user_agent: [a]
        alerts:
          - 5
        targets:
          - name: 2024
            url: https://a.example/
          - name: b
            url: https://b.example/
            tags: vendor
          - name: c
            url: https://c.example/
            tags: [ok, 3]
            ignore: {a: b}
        """)
    assert [(line, target) for line, target, _ in found] == [
        (2, None), (3, None), (4, None), (6, None), (8, None), (12, "b"), (15, "c"), (16, "c")]
    messages = [m for _, _, m in found]
    assert "concurrency: must be a whole number >= 1, got a string ('4')" == messages[0]
    assert "retries:" in messages[1] and "boolean" in messages[1]
    assert "user_agent: expected a string, got a list" == messages[2]
    assert "alerts:" in messages[3] and "must be a string" in messages[3]
    assert "name: must be a string" in messages[4] and 'put it in quotes: "2024"' in messages[4]
    assert "tags: expected a list of strings, got a string ('vendor'); write tags: [vendor]" == messages[5]
    assert "tags:" in messages[6] and "got a number (3)" in messages[6]
    assert "ignore: expected a list of CSS selectors, got a mapping" == messages[7]


def test_settings_of_wrong_type():
    assert only_problem("settings: fast\ntargets: []\n") == (
        1, None, "settings must be a mapping of keys to values, got a string ('fast')")


def test_null_for_a_setting_that_needs_a_value():
    line, _, message = only_problem("settings:\n  timeout:\ntargets: []\n")
    assert line == 2 and "needs a value" in message and "30s" in message


def test_missing_name_and_url():
    found = problems("""\
        targets:
          - url: https://a.example/
          - name: b
            tags: [x]
        """)
    assert found[0][:2] == (2, None) and "has no 'name'" in found[0][2]
    assert found[1][:2] == (3, "b") and "missing 'url'" in found[1][2]


def test_target_not_a_mapping():
    line, target, message = only_problem("targets:\n  - https://a.example/\n")
    assert (line, target) == (2, None) and "must be a mapping with 'name' and 'url'" in message


def test_duplicate_target_names_point_at_the_first():
    assert only_problem("""\
        targets:
          - name: press
            url: https://a.example/
          - name: other
            url: https://b.example/
          - name: press
            url: https://c.example/
        """) == (6, "press", "duplicate target name (first used on line 2); names must be unique")


def test_duplicate_yaml_keys():
    found = problems("""\
        settings:
          retries: 1
          retries: 2
        targets:
          - name: a
            url: https://a.example/
            url: https://b.example/
        """)
    assert found[0][:2] == (3, None) and "duplicate key 'retries' (first on line 2)" in found[0][2]
    assert found[1][:2] == (7, "a") and "duplicate key 'url' (first on line 6)" in found[1][2]


@pytest.mark.parametrize("url, fragment", [
    ("file:///etc/passwd", "'file://'"),
    ("ftp://ftp.example.org/pub", "'ftp://'"),
    ("https:///no-host", "no host"),
    ("http://", "no host"),
    ("example.org/press", "no scheme"),
    ('"https://example.org/a page"', "whitespace"),
    ("javascript:alert(1)", "'javascript://'"),
    ("http://[::1", "malformed"),
    ("https://example.org:99999/", "malformed"),
])
def test_bad_urls(url, fragment):
    line, target, message = only_problem(f"targets:\n  - name: t\n    url: {url}\n")
    assert (line, target) == (3, "t")
    assert fragment in message
    assert "only http:// and https:// URLs with a host name" in message


@pytest.mark.parametrize("url, canonical", [
    ("http://example.org", "http://example.org/"), ("HTTPS://Example.org/path?q=1#frag", "https://example.org/path?q=1#frag"),
    ("https://example.org:8443/", "https://example.org:8443/"), ("http://127.0.0.1:8000/x", "http://127.0.0.1:8000/x"),
    ("https://[::1]/", "https://[::1]/"),
])
def test_good_urls(url, canonical):
    """Kept in their WHATWG spelling, the one fetched (more in tests/test_inputs.py)."""
    assert parse_watchlist(f"targets:\n  - name: t\n    url: {url}\n").targets[0].url == canonical


def test_bad_duration_lists_valid_forms():
    line, target, message = only_problem("""\
        targets:
          - name: vendor-press
            url: https://v.example/
            every: 6 hours
        """)
    assert (line, target) == (4, "vendor-press")
    assert message.startswith("every: invalid duration '6 hours'")
    assert "6h" in message and "1h30m" in message


@pytest.mark.parametrize("key, value", [("every", "0s"), ("timeout", "0"), ("every", "-5m"), ("timeout", "-1")])
def test_zero_or_negative_durations(key, value):
    line, _, message = only_problem(f"settings:\n  {key}: {value}\ntargets: []\n")
    assert line == 2 and message.startswith(f"{key}:")
    assert "zero" in message or "negative" in message


def test_bad_size():
    line, _, message = only_problem("settings:\n  max_body: 5 megabytes\ntargets: []\n")
    assert line == 2 and message.startswith("max_body: invalid size") and "5MB" in message
    line, _, message = only_problem("settings:\n  max_body: 0\ntargets: []\n")
    assert line == 2 and "larger than zero" in message


def test_invalid_css_selectors():
    found = problems("""\
        targets:
          - name: a
            url: https://a.example/
            select: "main >"
            ignore:
              - ".ok"
              - "#"
              - "div:contains(x)"
        """)
    assert [(line, target) for line, target, _ in found] == [(4, "a"), (7, "a"), (8, "a")]
    assert found[0][2].startswith("select: invalid CSS selector 'main >':")
    assert "Malformed id selector" in found[1][2]
    assert ":-soup-contains" in found[2][2]


@pytest.mark.parametrize("name, fragment", [
    ('""', "must not be empty"),
    ('"tab\\there"', "control characters"),
    ("x" * 201, "200 at most"),
    ("null", "needs a value"),
])
def test_bad_names(name, fragment):
    line, _, message = only_problem(f"targets:\n  - name: {name}\n    url: https://a.example/\n")
    assert line == 2 and fragment in message


def test_name_of_200_characters_is_fine():
    name = "x" * 200
    assert parse_watchlist(f"targets:\n  - name: {name}\n    url: https://a.example/\n").targets[0].name == name


def test_unsupported_yaml_tag():
    line, target, message = only_problem("targets:\n  - name: a\n    url: !env URL\n")
    assert (line, target) == (3, "a") and "unsupported YAML tag '!env'" in message


def test_unsafe_tags_are_refused():
    line, _, message = only_problem("targets:\n  - name: !!python/object/apply:os.system [echo hi]\n"
                                    "    url: https://a.example/\n")
    assert line == 2 and "unsupported YAML tag" in message


def test_several_problems_at_once_sorted_by_line():
    text = textwrap.dedent("""\
        settings:
          concurrency: 0
          max_body: lots
        alerts: "json://x"
        targets:
          - name: a
            url: ftp://a.example/
            every: 6 hours
          - name: a
            url: https://b.example/
            selector: main
        """)
    with pytest.raises(WatchlistError) as info:
        parse_watchlist(text, "w.yaml")
    err = info.value
    assert [p.line for p in err.problems] == [2, 3, 4, 7, 8, 9, 11]
    rendered = str(err).splitlines()
    assert rendered[0] == "w.yaml: 7 problem(s):"
    assert rendered[1] == "w.yaml:2: concurrency: must be >= 1, got 0"
    assert rendered[4].startswith("w.yaml:7: target 'a': url:")
    assert rendered[7] == "w.yaml:11: target 'a': unknown key 'selector' in a target; did you mean 'select'?"


# --------------------------------------------------------------------------- durations and sizes


@pytest.mark.parametrize("value, seconds", [
    ("30s", 30.0), ("500ms", 0.5), ("15m", 900.0), ("6h", 21600.0), ("1d", 86400.0), ("2w", 1209600.0),
    ("1h30m", 5400.0), ("1d12h", 129600.0), ("1m30s250ms", 90.25), ("1.5h", 5400.0), (" 10s ", 10.0),
    ("90", 90.0), ("2.5", 2.5), ("0s", 0.0), (0, 0.0), (45, 45.0), (1.25, 1.25),
])
def test_parse_duration(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", [
    "6 hours", "6 h", "six hours", "1H", "h", "", "1.5.2s", "-5s", "1h-30m", ".5s", "1y", "PT6H",
    -1, float("inf"), float("nan"), True, None, [1], "1e3s",
])
def test_parse_duration_rejects(value):
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert "30s" in str(info.value) or "too large" in str(info.value)


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (0.5, "500ms"), (30, "30s"), (90, "1m30s"), (5400, "1h30m"), (86400, "1d"), (1209600, "2w"),
    (1e-05, "0.00001s"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("value, size", [
    (0, 0), (1024, 1024), ("1024", 1024), ("10KB", 10240), ("5MB", 5 * 2**20), ("1GB", 2**30),
    ("50mb", 50 * 2**20), ("2K", 2048), ("3KiB", 3072), ("1TB", 2**40), ("1.5MB", 3 * 2**19), ("12b", 12),
    (4096.0, 4096),
])
def test_parse_size(value, size):
    assert parse_size(value) == size


@pytest.mark.parametrize("value", ["5 MB", "5 megabytes", "MB", "-1", -1, "1.5B", 1.5, "5XB", "", True, None])
def test_parse_size_rejects(value):
    with pytest.raises(ValueError, match="5MB|1GB"):
        parse_size(value)


@pytest.mark.parametrize("size, text", [(0, "0"), (1000, "1000"), (1024, "1KB"), (50 * 2**20, "50MB"),
                                        (2**30, "1GB"), (1536, "1536")])
def test_format_size(size, text):
    assert format_size(size) == text
    assert parse_size(text) == size


@settings(database=None)
@given(st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_duration_format_round_trips(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


@settings(database=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(["w", "d", "h", "m", "s", "ms"])),
                min_size=1, max_size=6))
def test_parse_duration_of_a_formatted_duration(parts):
    unit = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    text = "".join(f"{n}{u}" for n, u in parts)
    expected_ms = sum(n if u == "ms" else n * unit[u] * 1000 for n, u in parts)
    assert parse_duration(text) == expected_ms / 1000


# --------------------------------------------------------------------------- schema and docs


def _validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_validates_the_shipped_example_and_a_full_file():
    validator = _validator()
    validator.validate(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    validator.validate(yaml.safe_load(FULL))
    validator.validate({"targets": []})


@pytest.mark.parametrize("document", [
    {"targets": [{"name": "a", "url": "https://a.example/", "selector": "main"}]},
    {"settings": {"concurency": 4}, "targets": []},
    {"targets": [], "extra": 1},
    {"targets": [{"url": "https://a.example/"}]},
    {"targets": [{"name": "a", "url": "file:///etc/passwd"}]},
    {"targets": [{"name": "a", "url": "https://a.example/", "every": "6 hours"}]},
    {"settings": {"max_body": "5 MB"}, "targets": []},
    {"settings": {"concurrency": 0}, "targets": []},
    {"targets": "vendor"},
    {"settings": {}},
    {"settings": {"every": 366 * 86400 + 1}, "targets": []},
    {"settings": {"timeout": 86401}, "targets": []},
    {"settings": {"max_body": 2**30 + 1}, "targets": []},
    {"targets": [{"name": "a", "url": "https://user:secret@a.example/"}]},
])
def test_schema_rejects(document):
    assert not _validator().is_valid(document)


def test_shipped_schema_file_is_in_sync():
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == json_schema(), (
        "crawler/watchlist.schema.json is stale: run `python -m crawler.watchlist`")


def test_write_schema(tmp_path):
    path = tmp_path / "schema.json"
    write_schema(path)
    assert json.loads(path.read_text(encoding="utf-8")) == json_schema()
    assert path.read_text(encoding="utf-8") == SCHEMA_PATH.read_text(encoding="utf-8")


def test_reference_documents_every_key():
    reference = reference_markdown()
    for field in (*SETTINGS_FIELDS, *TARGET_FIELDS):
        assert f"| `{field.name}` |" in reference
    for key in ("settings", "alerts", "targets"):
        assert f"## `{key}`" in reference


def test_reference_examples_parse():
    blocks = reference_markdown().split("```yaml\n")[1:]
    docs = [block.split("```")[0] for block in blocks]
    assert len(docs) == 4
    hosts = parse_watchlist(docs[0] + "targets: []\n").hosts
    assert [(h.host, h.per_host_delay, h.per_host_concurrency) for h in hosts] == [("www.example.org", 5.0, 1)]
    parse_watchlist(docs[1] + "targets: []\n")
    (target,) = parse_watchlist(docs[2]).targets
    assert target.select == "main" and target.every == 21600.0
    (listing,) = parse_watchlist(docs[3]).targets
    assert listing.listing.max_items == 50 and listing.listing.item.select == "article"


# --------------------------------------------------------------------------- limits, politeness, TLS (#3)


def test_limits_and_politeness_defaults_are_safe_and_gentle():
    settings = parse_watchlist("targets: []\n").settings
    assert settings.per_host_concurrency == 1 and settings.per_host_delay == 1.0
    assert (settings.deadline, settings.retry_after_max, settings.max_body) == (120.0, 60.0, 50 * 2**20)
    assert settings.obey_robots is False and settings.contact is None and settings.ca_certs is None


def test_new_settings_and_hosts_parse(tmp_path):
    from .hostile import make_ca

    (tmp_path / "certs").mkdir()
    make_ca(tmp_path / "certs")
    path = tmp_path / "watchlist.yaml"
    path.write_text(textwrap.dedent("""\
        settings:
          deadline: 90s
          retry_after_max: 0
          obey_robots: true
          contact: desk@example.org
          ca_certs: certs/ca.pem
        hosts:
          Vendor.Example:
            per_host_delay: 5s
            per_host_concurrency: 1
          "[::1]":
            per_host_concurrency: 3
          127.0.0.1:
          bücher.example:
            per_host_delay: null
        targets: []
        """))
    watchlist = load_watchlist(path)
    s = watchlist.settings
    assert (s.deadline, s.retry_after_max, s.obey_robots, s.contact) == (90.0, 0.0, True, "desk@example.org")
    assert s.ca_certs == str((tmp_path / "certs" / "ca.pem").resolve())  # relative to the watchlist's folder
    assert [(h.host, h.per_host_delay, h.per_host_concurrency, h.line) for h in watchlist.hosts] == [
        ("vendor.example", 5.0, 1, 8), ("::1", None, 3, 11), ("127.0.0.1", None, None, 13),
        ("xn--bcher-kva.example", None, None, 14)]
    assert watchlist.host("VENDOR.example").per_host_delay == 5.0 and watchlist.host("[::1]") is not None
    assert watchlist.host("other.example") is None
    _validator().validate(yaml.safe_load(path.read_text()))


def test_contact_may_be_a_url():
    s = parse_watchlist("settings:\n  contact: https://newsroom.example/contact\ntargets: []\n").settings
    assert s.contact == "https://newsroom.example/contact"


def test_hosts_problems_have_lines_and_say_how_to_fix():
    found = problems("""\
        hosts:
          https://vendor.example/press:
            per_host_delay: 5s
          vendor.example:8443:
            per_host_delay: 5s
          a.example:
            per_host_dealy: 5s
            timeout: 3s
          b.example:
            per_host_concurrency: 0
          B.example:
            per_host_delay: 1s
          c.example: fast
        targets: []
        """)
    assert [line for line, _, _ in found] == [2, 4, 7, 8, 10, 11, 13]
    messages = [m for _, _, m in found]
    assert "is a URL; write only its host name, e.g. vendor.example" in messages[0]
    assert "without scheme, port or path" in messages[1]
    assert messages[2] == "unknown key 'per_host_dealy' in hosts: a.example; did you mean 'per_host_delay'?"
    assert messages[3] == ("unknown key 'timeout' in hosts: a.example; only per_host_delay and "
                           "per_host_concurrency can be set per host")
    assert messages[4] == "per_host_concurrency: must be >= 1, got 0"
    assert "same host as the entry on line 9" in messages[5]
    assert "hosts: a.example" not in messages[6] and "must be a mapping" in messages[6]


def test_hosts_must_be_a_mapping_and_not_under_settings():
    line, _, message = only_problem("hosts: [a.example]\ntargets: []\n")
    assert line == 1 and message == "hosts must be a mapping of keys to values, got a list"
    line, _, message = only_problem("settings:\n  hosts:\n    a.example: {per_host_delay: 5s}\ntargets: []\n")
    assert line == 2 and "top-level key" in message and "move it out of 'settings:'" in message


@pytest.mark.parametrize("value, fragment", [
    ("desk", "e-mail address"), ('"desk @example.org"', "e-mail address"), ("ftp://example.org", "e-mail address"),
    ("true", "must be a string"), ('""', "e-mail address"),
])
def test_bad_contact(value, fragment):
    line, _, message = only_problem(f"settings:\n  contact: {value}\ntargets: []\n")
    assert line == 2 and message.startswith("contact:") and fragment in message


def test_obey_robots_must_be_a_boolean():
    line, _, message = only_problem("settings:\n  obey_robots: sometimes\ntargets: []\n")
    assert line == 2 and message == "obey_robots: must be true or false, got a string ('sometimes')"


def test_ca_certs_must_be_a_pem_file(tmp_path):
    path = tmp_path / "watchlist.yaml"
    path.write_text("settings:\n  ca_certs: missing.pem\ntargets: []\n")
    with pytest.raises(WatchlistError) as info:
        load_watchlist(path)
    (problem,) = info.value.problems
    assert problem.line == 2 and "cannot read" in problem.message and str(tmp_path / "missing.pem") in problem.message
    (tmp_path / "missing.pem").write_text("not a certificate\n")
    with pytest.raises(WatchlistError) as info:
        load_watchlist(path)
    (problem,) = info.value.problems
    assert problem.line == 2 and "holds no PEM certificate" in problem.message


@pytest.mark.parametrize("key, value", [("deadline", "0s"), ("deadline", "soon"), ("retry_after_max", "-1")])
def test_bad_deadline_and_retry_after_max(key, value):
    line, _, message = only_problem(f"settings:\n  {key}: {value}\ntargets: []\n")
    assert line == 2 and message.startswith(f"{key}:")


@pytest.mark.parametrize("document", [
    {"hosts": {"https://a.example/": {}}, "targets": []},
    {"hosts": {"a.example:8443": {}}, "targets": []},
    {"hosts": {"a.example": {"timeout": 3}}, "targets": []},
    {"hosts": {"a.example": {"per_host_concurrency": 0}}, "targets": []},
    {"hosts": ["a.example"], "targets": []},
    {"settings": {"obey_robots": "yes"}, "targets": []},
    {"settings": {"contact": "nobody"}, "targets": []},
])
def test_schema_rejects_bad_politeness(document):
    assert not _validator().is_valid(document)


def test_schema_accepts_hosts():
    _validator().validate({"hosts": {"a.example": {"per_host_delay": "5s", "per_host_concurrency": 1},
                                     "[::1]": None, "10.0.0.1": {"per_host_delay": 0}}, "targets": []})


def test_libyaml_fast_path_gives_the_same_watchlist_and_lines(monkeypatch):
    from crawler.watchlist import yamlfile as loader

    text = (Path(__file__).resolve().parent.parent / "watchlist.yaml").read_text()
    fast = parse_watchlist(text, "watchlist.yaml")
    assert loader.FastLoader is not None  # PyYAML wheels ship libyaml
    monkeypatch.setattr(loader, "FastLoader", None)
    slow = parse_watchlist(text, "watchlist.yaml")
    assert fast == slow
    assert [t.line for t in fast.targets] == [t.line for t in slow.targets]
    assert fast.settings == slow.settings


# --------------------------------------------------------------------------- browser targets (#8)


def test_browser_target_options_are_read_and_passed_to_the_fetcher_as_plain_values(tmp_path):
    path = tmp_path / "watchlist.yaml"
    path.write_text(textwrap.dedent("""\
        settings:
          browser_path: bin/chromium
          browser_pages: 2
        targets:
          - name: portal
            url: https://portal.example/
            fetch: browser
            wait_for: "#results .row"
            settle: 2s
            scroll: true
            viewport: 1920x1080
          - name: defaults
            url: https://portal.example/other
            fetch: browser
          - name: plain
            url: https://portal.example/plain
        """))
    watchlist = load_watchlist(path)
    portal, defaults, plain = watchlist.targets
    assert (portal.wait_for, portal.settle, portal.scroll, portal.viewport) == ("#results .row", 2.0, True, (1920, 1080))
    assert portal.mode_options() == {"wait_for": "#results .row", "settle": 2.0, "scroll": True,
                                     "viewport": [1920, 1080]}
    assert defaults.mode_options() == {"wait_for": None, "settle": "networkidle", "scroll": False,
                                       "viewport": [1280, 800]}
    assert json.loads(json.dumps(portal.mode_options())) == portal.mode_options()  # crosses to the fetcher as JSON
    assert plain.mode_options() == {}
    assert watchlist.settings.browser_path == str(tmp_path / "bin" / "chromium")  # relative to the watchlist
    assert watchlist.settings.browser_pages == 2
    assert parse_watchlist("targets: []\n").settings.browser_pages is None  # the CPUs available
    assert parse_watchlist("targets:\n  - {name: a, url: 'https://a.example/', fetch: browser, settle: load}\n"
                           ).targets[0].settle == "load"


def test_bad_browser_options_are_reported_with_their_lines():
    found = problems("""\
        settings:
          browser_pages: 0
        targets:
          - name: portal
            url: https://portal.example/
            fetch: browser
            viewport: 10x
            settle: soon
            scroll: "yes"
            wait_for: "div["
          - name: tiny
            url: https://portal.example/tiny
            fetch: browser
            viewport: 50x50
          - name: plain
            url: https://portal.example/plain
            wait_for: "#results"
        """)
    assert [(line, target) for line, target, _ in found] == [
        (2, None), (7, "portal"), (8, "portal"), (9, "portal"), (10, "portal"), (14, "tiny"), (17, "plain"),
    ]
    messages = [message for _, _, message in found]
    assert messages[0] == "browser_pages: must be >= 1, got 0"
    assert messages[1] == "viewport: must be WIDTHxHEIGHT in pixels, e.g. 1280x800, got '10x'"
    assert messages[2].startswith("settle: must be load, networkidle, or a duration after the load event")
    assert "'soon'" in messages[2]
    assert messages[3].startswith("scroll: must be true or false")
    assert messages[4].startswith("wait_for: invalid CSS selector 'div['")
    assert messages[5] == "viewport: width and height must each be between 100 and 10000 pixels, got '50x50'"
    assert messages[6] == ("wait_for: applies to targets fetched with `fetch: browser` only, and this one is "
                           "fetched with `http`; add `fetch: browser` or remove 'wait_for'")


def test_schema_knows_the_browser_keys():
    _validator().validate({"settings": {"fetch": "browser", "browser_pages": 2, "browser_path": "/usr/bin/chromium"},
                           "targets": [{"name": "a", "url": "https://a.example/", "fetch": "browser",
                                        "wait_for": "#x", "settle": "networkidle", "scroll": True,
                                        "viewport": "1280x800"},
                                       {"name": "b", "url": "https://a.example/b", "settle": "1500ms"}]})
    for bad in ({"viewport": "10x"}, {"settle": "soon"}, {"fetch": "carrier-pigeon"}, {"scroll": "yes"}):
        target = {"name": "a", "url": "https://a.example/", **bad}
        assert not _validator().is_valid({"targets": [target]}), bad


# --------------------------------------------------------------------------- listings (#12)


def test_a_listing_with_every_key_and_its_item_overrides():
    (target,) = parse_watchlist(textwrap.dedent("""\
        targets:
          - name: press
            url: https://ministry.example/press/
            listing:
              links: main li > a
              match: /press/[0-9]{4}/
              max_items: 30
              cross_site: true
              item:
                select: article
                ignore: [.share]
                fetch: http
                every: 1d
        """)).targets
    listing = target.listing
    assert (listing.links, listing.match, listing.sitemap, listing.max_items, listing.cross_site) == (
        "main li > a", "/press/[0-9]{4}/", False, 30, True)
    assert (listing.item.select, listing.item.ignore, listing.item.fetch, listing.item.every) == (
        "article", (".share",), "http", 86400.0)


def test_listing_true_takes_every_default_and_ordinary_targets_have_none():
    a, b = parse_watchlist("targets:\n  - {name: a, url: 'https://a.example/sitemap.xml', listing: true}\n"
                           "  - {name: b, url: 'https://a.example/'}\n").targets
    assert (a.listing.links, a.listing.match, a.listing.sitemap, a.listing.max_items, a.listing.cross_site,
            a.listing.item) == ("a[href]", None, False, 200, False, None)
    assert b.listing is None


@pytest.mark.parametrize(("value", "message"), [
    ("{matches: x}", ("listing: unknown key(s) matches in listing; known: links, match, sitemap, max_items, "
                      "cross_site, documents, item")),
    ("{match: '(unclosed'}", "listing: listing.match: invalid regular expression '(unclosed'"),
    ("{max_items: 0}", "listing: listing.max_items: must be >= 1, got 0"),
    ("{max_items: 10001}", "listing: listing.max_items: must be at most 10000, got 10001"),
    ("{sitemap: maybe}", "listing: listing.sitemap:"),
    ("{item: {select: '::before'}}", "listing: listing.item: listing.item.select:"),
    ("{item: {wait: 1}}", ("listing: listing.item: unknown key(s) wait in listing.item; known: select, ignore, "
                           "fetch, every")),
    ("{item: {every: 0s}}", "listing: listing.item: listing.item.every: must be longer than zero"),
    ("false", "listing: `listing: false` is not needed"),
    ("[a, b]", "listing: expected a mapping or true, got a list"),
])
def test_listing_problems_name_the_key_and_the_line(value, message):
    line, target, found = only_problem(f"targets:\n  - name: a\n    url: https://a.example/\n    listing: {value}\n")
    assert (line, target) == (4, "a") and found.startswith(message), found


def test_a_target_named_like_an_item_of_a_listing_is_an_error():
    found = problems("""\
        targets:
          - name: press
            url: https://a.example/press/
            listing: true
          - name: press/2024-01
            url: https://a.example/press/2024-01
          - name: press-2
            url: https://a.example/press/2
        """)
    assert found == [(5, "press/2024-01", ("the name starts with 'press/', the names of the items of the listing "
                                           "on line 2; rename this target (or the listing)"))]


def test_schema_knows_listings():
    validator = _validator()
    validator.validate({"targets": [{"name": "a", "url": "https://a.example/", "listing": True}]})
    validator.validate({"targets": [{"name": "a", "url": "https://a.example/",
                                     "listing": {"sitemap": True, "item": {"every": "1d"}}}]})
    assert not validator.is_valid({"targets": [{"name": "a", "url": "https://a.example/",
                                                "listing": {"maxitems": 3}}]})
    assert not validator.is_valid({"targets": [{"name": "a", "url": "https://a.example/",
                                                "listing": {"item": {"wait_for": "#x"}}}]})
    reference = reference_markdown()
    for field in (*LISTING_FIELDS, *ITEM_FIELDS):
        assert f"| `{field.name}` |" in reference
