"""Hostile and careless inputs of the watchlist and the command line (issue #7, defects 7 and 9-12 and the
minor findings on URLs, alerts and the example): each test is named after the input it reproduces."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.errors import ExtractError, WatchlistError
from crawler.extract import compile_selector
from crawler.watchlist import SETTINGS_FIELDS, parse_watchlist
from crawler.watchlist import yamlfile as watchlist_loader
from crawler.watchlist.fields import HOST_FIELDS, TARGET_FIELDS
from crawler.watchlist.kinds import SELECTOR, canonical_url

from .helpers import lastseen

REPO = Path(__file__).resolve().parent.parent


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(WatchlistError) as info:
        parse_watchlist(textwrap.dedent(text))
    return [(p.line, p.message) for p in info.value.problems]


# -- 7. credentials in a target's url ------------------------------------------------------------------

CREDENTIAL_URLS = [
    "http://user:secret@host.example/",
    "HTTP://user:secret@host.example",
    "https://user:secret@host.example:8443/page?q=1",
    '"http://user:secret@host.example/a page"',  # whitespace too
    "http://user:secret@host.example:99999/",  # malformed too (port)
    "http://user:se/cret@host.example/",  # a '/' in the password: not even a URL then
    "http://user:secret@[::1/",  # unparsable
    '"http://user:sec\\tret@host.example/"',  # a tab in it
]


@pytest.mark.parametrize("url", CREDENTIAL_URLS)
def test_credentials_in_a_target_url_are_refused_and_never_printed(tmp_path, url):
    _write(tmp_path / "watchlist.yaml", f"""\
        targets:
          - name: intranet
            url: {url}
        """)
    for command in (["check"], ["run"], ["status"]):
        ran = lastseen(tmp_path, *command)
        assert ran.exit_code == 2, (command, ran.stderr)
        assert "watchlist.yaml:3: target 'intranet': url:" in ran.stderr
        assert "***" in ran.stderr
        assert "secret" not in ran.stdout + ran.stderr and "se/cret" not in ran.stderr and "sec\\tret" not in ran.stderr
    assert not (tmp_path / "archive").exists()


def test_credentials_in_a_target_url_say_what_to_do():
    [(line, message)] = _problems("targets:\n  - name: t\n    url: https://user:secret@host.example/x\n")
    assert line == 3
    assert message == ("url: 'https://user:***@host.example/x' contains credentials (user name or password); "
                       "lastseen sends none, and must not print or archive them: remove the 'user:password@' part "
                       "(watch pages that need no login)")
    [(_, message)] = _problems("targets:\n  - name: t\n    url: https://token@host.example/x\n")
    assert "contains credentials" in message  # a user name alone can't be sent either


@pytest.mark.parametrize("text", [
    "targets:\n  - http://user:secret@host.example/\n",  # a target that is a bare string
    'hosts:\n  "http://user:secret@host.example/": {}\ntargets: []\n',  # a URL as a hosts: key
    'settings:\n  contact: "http://user:secret@host.example/ x"\ntargets: []\n',
    "settings:\n  user_agent: [http://user:secret@host.example/]\ntargets:\n  - name: http://user:secret@h/\n",
])
def test_credentials_in_other_values_are_masked_in_every_message(text):
    messages = " ".join(message for _, message in _problems(text))
    assert "secret" not in messages


def test_alert_urls_keep_their_credentials_and_check_does_not_print_them(tmp_path):
    _write(tmp_path / "watchlist.yaml", """\
        alerts:
          - "mailtos://user:secret@example.org?to=desk@example.org"
        targets:
          - name: a
            url: https://a.example/
        """)
    ran = lastseen(tmp_path, "check")
    assert ran.exit_code == 0 and "secret" not in ran.stdout + ran.stderr
    assert parse_watchlist((tmp_path / "watchlist.yaml").read_text()).alerts[0].startswith("mailtos://user:secret@")


# -- 9. pseudo-element (and every other refused) selector --------------------------------------------------


def test_pseudo_element_selectors_are_watchlist_errors(tmp_path):
    _write(tmp_path / "watchlist.yaml", """\
        targets:
          - name: a
            url: https://a.example/
            select: "::before"
            ignore: ["p::first-line", ".ok", "::selection"]
        """)
    ran = lastseen(tmp_path, "check")
    assert ran.exit_code == 2, ran.stderr
    assert "watchlist.yaml:4: target 'a': select: invalid CSS selector '::before'" in ran.stderr
    assert "watchlist.yaml:5: target 'a': ignore: invalid CSS selector 'p::first-line'" in ran.stderr
    assert "'::selection'" in ran.stderr and "pseudo-elements" in ran.stderr and "Traceback" not in ran.stderr
    for selector in ("::before", "p::first-line", ":nth-child(2n+)"):
        with pytest.raises(ExtractError, match="invalid CSS selector"):
            compile_selector(selector)


@settings(database=None, max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(":()[]#.>+~*|=^$!\"' ,-_abp1n\\")), min_size=1, max_size=20))
def test_any_selector_is_accepted_or_a_watchlist_error(selector):
    try:
        SELECTOR.convert(selector)
    except ValueError:
        pass  # what the loader turns into a problem with a line; anything else would be exit 1
    try:
        compile_selector(selector)
    except ExtractError:
        pass


# -- 10. oversized durations and sizes ----------------------------------------------------------------


def test_oversized_durations_are_refused_naming_the_bound(tmp_path):
    _write(tmp_path / "watchlist.yaml", """\
        settings:
          every: 1000000w
          jitter: 99999999999w
          timeout: 2d
          deadline: 25h
          retry_after_max: 86401
          per_host_delay: 1d1s
          max_body: 2GB
        hosts:
          a.example: {per_host_delay: 9999999999999999999999w}
        targets:
          - name: a
            url: https://a.example/
            every: 367d
        """)
    ran = lastseen(tmp_path, "check")
    assert ran.exit_code == 2
    lines = ran.stderr.splitlines()[1:]
    expected = [(2, "every", "366d"), (3, "jitter", "366d"), (4, "timeout", "1d"), (5, "deadline", "1d"),
                (6, "retry_after_max", "1d"), (7, "per_host_delay", "1d"), (8, "max_body", "1GB"),
                (10, "per_host_delay", "1d"), (14, "every", "366d")]
    assert len(lines) == len(expected), lines
    for line, (number, key, bound) in zip(lines, expected):
        assert line.startswith(f"watchlist.yaml:{number}: ") and f"{key}: must be at most {bound}, got " in line


def test_durations_at_their_bound_do_not_overflow(tmp_path):
    _write(tmp_path / "watchlist.yaml", """\
        settings: {every: 366d, jitter: 366d, timeout: 1d, deadline: 1d, max_body: 1GB}
        targets:
          - {name: a, url: "http://127.0.0.1:9/"}
        """)
    assert lastseen(tmp_path, "check").exit_code == 0
    status = lastseen(tmp_path, "status", "--json")
    assert status.exit_code == 0 and status.json["targets"][0]["target"] == "a"


def test_every_duration_and_size_in_the_field_table_is_bounded():
    bounds = {(section, f.name): f.kind.maximum
              for section, fields in (("settings", SETTINGS_FIELDS), ("hosts", HOST_FIELDS), ("target", TARGET_FIELDS))
              for f in fields if f.kind.label.startswith(("duration", "size"))}
    assert all(bounds.values()), bounds
    expected = {("settings", "every"): "366d", ("settings", "jitter"): "366d", ("target", "every"): "366d",
                ("settings", "timeout"): "1d", ("settings", "deadline"): "1d",
                ("settings", "retry_after_max"): "1d", ("settings", "per_host_delay"): "1d",
                ("hosts", "per_host_delay"): "1d", ("settings", "max_body"): "1GB"}
    assert {key: bounds[key] for key in expected} == expected
    for (_, name), bound in bounds.items():  # the docs and the schema say it, from the kind
        field = next(f for f in (*SETTINGS_FIELDS, *HOST_FIELDS, *TARGET_FIELDS) if f.name == name)
        assert f"at most {bound}" in field.type_label()
        assert "maximum" in json.dumps(field.schema())


@pytest.mark.parametrize("args, bound", [
    (["report", "--since", "1000000w", "--out", "x"], "36525d (100 years)"),
    (["report", "--since", "36526d", "--out", "x"], "36525d (100 years)"),
    (["report", "--since", "9" * 400 + "w", "--out", "x"], "36525d (100 years)"),
    (["run", "--wait", "2d"], "1d"),
    (["run", "--wait", "1000000w"], "1d"),
])
def test_oversized_since_and_wait_are_usage_errors(tmp_path, args, bound):
    ran = lastseen(tmp_path, *args)
    assert ran.exit_code == 2 and f"must be at most {bound}" in ran.stderr
    assert "Traceback" not in ran.stderr and not (tmp_path / "x").exists()


def test_since_of_100_years_is_a_window(tmp_path):
    from crawler.cli import SINCE_MAX
    from crawler.cli_common import duration as _duration

    assert _duration("--since", "36525d", SINCE_MAX) == 36525 * 86400


# -- 11. deep YAML nesting -----------------------------------------------------------------------------

DEEP = "x-deep: " + "[" * 1000 + "]" * 1000 + "\ntargets: []\n"
DEEP_BLOCK = "targets: []\nx-deep:\n" + "".join("  " * i + "a:\n" for i in range(1, 1000))


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
@pytest.mark.parametrize("text, line", [(DEEP, 1), (DEEP_BLOCK, 102)], ids=["flow", "block"])
def test_deep_yaml_nesting_is_a_watchlist_error(tmp_path, monkeypatch, libyaml, text, line):
    if not libyaml:
        monkeypatch.setattr(watchlist_loader, "FastLoader", None)
    (tmp_path / "watchlist.yaml").write_text(text)
    ran = lastseen(tmp_path, "check")
    assert ran.exit_code == 2, ran.stderr
    assert ran.stderr.startswith(f"Error: watchlist.yaml:{line}: lists and mappings nested more than 100 levels deep")


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_deep_yaml_nesting_bound_is_100_levels(monkeypatch, libyaml):
    if not libyaml:
        monkeypatch.setattr(watchlist_loader, "FastLoader", None)
    # the top-level mapping is level 1: 99 lists under it make 100 levels, fine; 101 are refused
    parse_watchlist("x-deep: " + "[" * 99 + "]" * 99 + "\ntargets: []\n")
    with pytest.raises(WatchlistError, match="nested more than 100 levels"):
        parse_watchlist("x-deep: " + "[" * 100 + "]" * 100 + "\ntargets: []\n")


def test_deep_yaml_merge_key_chains_are_a_watchlist_error():
    chain = ["x-anchors:", "  a0: &a0 {tags: [x]}"]
    chain += [f"  a{i}: &a{i} {{<<: *a{i - 1}}}" for i in range(1, 1500)]
    text = "\n".join([*chain, "targets:", "  - name: t", "    url: https://a.example/", "    <<: *a1499", ""])
    with pytest.raises(WatchlistError) as info:
        parse_watchlist(text)
    [problem] = info.value.problems
    assert problem.line == 1503 and "merge keys ('<<: *anchor') chained more than 100 mappings deep" in problem.message
    # a mapping merged into itself is not a chain (PyYAML flattens each mapping once)
    (target,) = parse_watchlist('targets:\n  - &t {name: t, url: "https://a.example/", <<: *t}\n').targets
    assert target.name == "t"


# -- 12. lastseen cron: `%`, spaces, the install comment, intervals -----------------------------------------


def _cron_command(line: str) -> tuple[str, str]:
    """(time fields, command) as cron reads a crontab line: ``\\%`` is ``%``; an unescaped ``%`` ends the
    command (the rest is its standard input). Vixie cron's do_command.c, step for step."""
    fields = line.split(None, 5)
    out: list[str] = []
    escaped = False
    for ch in fields[5]:
        if escaped:
            escaped = False
            if ch == "%":
                out[-1] = "%"  # the backslash is dropped
                continue
            out.append(ch)
            continue
        if ch == "\\":
            escaped = True
        elif ch == "%":
            break
        out.append(ch)
    return " ".join(fields[:5]), "".join(out)


def test_cron_line_escapes_percent_and_quotes_paths_with_spaces(tmp_path):
    here = tmp_path / "50% off" / "my dir"
    here.mkdir(parents=True)
    (here / "list 100%.yaml").write_text("targets: []\n")
    ran = lastseen(here, "cron", "--watchlist", "list 100%.yaml", "--archive", "arch%ive", "--reports", "odd\\%x")
    assert ran.exit_code == 0
    assert ran.stderr.startswith("# ") and "crontab -e" in ran.stderr
    line = ran.stdout.strip()
    assert "\n" not in line
    assert re.search(r"(?<!\\)%", line) is None  # every % escaped
    times, command = _cron_command(line)
    assert times == "*/15 * * * *"
    argv = shlex.split(command)
    assert argv[:3] == ["cd", str(here.resolve()), "&&"]
    options = dict(zip(argv[-8::2], argv[-7::2]))
    assert options == {"--watchlist": str(here.resolve() / "list 100%.yaml"),
                       "--archive": str(here.resolve() / "arch%ive"),
                       "--reports": str(here.resolve() / "odd\\%x"), "--wait": "5m"}
    # and the shell, given what cron gives it, runs lastseen there with those paths
    proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (here / "arch%ive" / "lastseen.db").is_file()


@pytest.mark.parametrize("interval, times", [
    ("1", "* * * * *"), ("5", "*/5 * * * *"), ("30", "*/30 * * * *"), ("60", "0 * * * *"),
    ("120", "0 */2 * * *"), ("480", "0 */8 * * *"), ("720", "0 */12 * * *"), ("1440", "0 0 * * *"),
])
def test_cron_interval_that_cron_can_keep(tmp_path, interval, times):
    ran = lastseen(tmp_path, "cron", "--interval", interval)
    assert ran.exit_code == 0 and _cron_command(ran.stdout.strip())[0] == times


@pytest.mark.parametrize("interval", ["7", "45", "59", "90", "300", "1000", "2880", "0", "-15"])
def test_cron_interval_that_cron_cannot_keep_is_a_usage_error(tmp_path, interval):
    ran = lastseen(tmp_path, "cron", "--interval", interval)
    assert ran.exit_code == 2 and ran.stdout == ""
    assert "1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440" in ran.stderr


# -- minor: one URL parser (WHATWG) for check and the fetcher, HTTP://, Apprise URLs, the example -------------

#: (as written, as check shows it and the fetcher requests it)
TRICKY_URLS = [
    ("http://a\\@b/", "http://a/@b/"),
    ("HTTP://EXAMPLE.org/Path", "http://example.org/Path"),
    ("hTTpS://Example.ORG", "https://example.org/"),
    ("http://example.org:80/", "http://example.org/"),
    ("https://example.org:443/x", "https://example.org/x"),
    ("https://example.org:8443/x", "https://example.org:8443/x"),
    ("http://[::1]:8080/page", "http://[::1]:8080/page"),
    ("http://[0:0::1]:80/page", "http://[::1]/page"),
    ("https://Bücher.example/ä?q=ü#ö", "https://xn--bcher-kva.example/%C3%A4?q=%C3%BC#%C3%B6"),
    ("https://example.org/a%2fb/%7e?x=%zz", "https://example.org/a%2fb/%7e?x=%zz"),
    ("https://example.org/a/../b/./c", "https://example.org/b/c"),
    ("https://example.org\\path\\x", "https://example.org/path/x"),
    ("https://example.org?x=1", "https://example.org/?x=1"),
    ("http://0x7f.1/", "http://127.0.0.1/"),
    ("https://example.org/a|b?q='|`{}", "https://example.org/a%7Cb?q=%27%7C%60%7B%7D"),
]


@pytest.mark.parametrize("written, canonical", TRICKY_URLS)
def test_check_and_the_fetcher_read_urls_alike(tmp_path, written, canonical):
    from scrapy import Request

    (target,) = parse_watchlist(f"targets:\n  - name: t\n    url: {json.dumps(written)}\n").targets
    assert target.url == canonical  # what check shows and what the fetcher is given
    assert Request(target.url).url == canonical  # and what Scrapy then requests, unchanged
    assert canonical_url(Request(written).url) == canonical  # Scrapy's own reading of it names the same URL
    _write(tmp_path / "watchlist.yaml", f"targets:\n  - name: t\n    url: {json.dumps(written)}\n")
    ran = lastseen(tmp_path, "check")
    assert ran.exit_code == 0 and ran.stdout.splitlines()[1] == f"  t: {canonical}"


@pytest.mark.parametrize("written", ["http://exa\tmple.org/", "http://example.org/a\nb", "http://example.org/a b"])
def test_whitespace_inside_a_url_is_refused_though_both_parsers_would_drop_it(written):
    from scrapy import Request

    assert canonical_url(Request(written).url) == canonical_url(written)
    [(line, message)] = _problems(f"targets:\n  - name: t\n    url: {json.dumps(written)}\n")
    assert line == 3 and "whitespace" in message


@settings(database=None, max_examples=300, deadline=None)
@given(host=st.sampled_from(["example.org", "EXAMPLE.org", "bücher.example", "[::1]", "127.0.0.1", "a\\@b"]),
       port=st.sampled_from(["", ":80", ":443", ":8080"]),
       rest=st.text(alphabet=st.sampled_from(list("azAZ09-._~:/?#[]@!$&'()*+,;=%\\|^`{}<>\" äü€")), max_size=20))
def test_canonical_urls_are_what_scrapy_requests(host, port, rest):
    from scrapy import Request

    url = f"https://{host}{port}/{rest}"
    try:
        canonical = canonical_url(url)
    except ValueError:
        return
    assert canonical_url(canonical) == canonical
    assert Request(canonical).url == canonical
    assert canonical_url(Request(url).url) == canonical


def test_uppercase_scheme_urls_match_the_run_contract():
    schema = json.loads((REPO / "tests" / "contract.schema.json").read_text())
    pattern = schema["properties"]["events"]["items"]["properties"]["url"]["pattern"]
    (target,) = parse_watchlist("targets:\n  - name: t\n    url: HTTPS://EXAMPLE.ORG/Press\n").targets
    assert target.url == "https://example.org/Press" and re.search(pattern, target.url)


def test_apprise_urls_that_can_never_work_are_watchlist_errors(tmp_path):
    _write(tmp_path / "watchlist.yaml", """\
        alerts:
          - "json://127.0.0.1:8999/hook"
          - "nosuchservice://user:secret@example.org/"
          - "mailto://user:secret@"
        targets: []
        """)
    ran = lastseen(tmp_path, "check")
    assert ran.exit_code == 2
    assert "watchlist.yaml:3: alerts: Apprise cannot use 'nosuchservice://example.org/…' (shown masked)" in ran.stderr
    assert "watchlist.yaml:4: alerts: Apprise cannot use" in ran.stderr
    assert "watchlist.yaml:2" not in ran.stderr and "secret" not in ran.stderr


def test_shipped_watchlist_points_at_the_docs():
    text = (REPO / "watchlist.yaml").read_text()
    assert "docs/watchlist.md" in text and "reference_markdown" not in text
    assert (REPO / "docs" / "watchlist.md").is_file()


def test_hosts_keys_name_hosts_as_target_urls_do():
    from urllib.parse import urlsplit

    watchlist = parse_watchlist("hosts:\n  Straße.DE: {per_host_delay: 5s}\n  Bücher.example:\n"
                                "targets:\n  - {name: a, url: 'https://straße.de/x'}\n"
                                "  - {name: b, url: 'https://BÜCHER.example/'}\n")
    for target in watchlist.targets:
        host = urlsplit(target.url).hostname
        assert watchlist.host(host) is not None, (target.url, [h.host for h in watchlist.hosts])
    assert watchlist.targets[0].url == "https://xn--strae-oqa.de/x"  # UTS 46, as browsers: not strasse.de
