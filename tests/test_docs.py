"""Docs stay in step with the code: commands, options, watchlist keys, verdicts, flags, the contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crawler import verdicts
from crawler.cli import cli
from crawler.contract import FLAGS, run_json_schema
from crawler.diff import UNITS
from crawler.verdicts import REASONS, VERDICTS
from crawler.watchlist import reference_markdown

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
VERDICTS_DOC = (ROOT / "docs" / "verdicts.md").read_text()
RUN_JSON_DOC = (ROOT / "docs" / "run-json.md").read_text()
SCHEMA_PATH = ROOT / "tests" / "contract.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text())

BEGIN, END = "<!-- verdicts:begin -->", "<!-- verdicts:end -->"


def _examples(*path: str | int) -> list[str]:
    """The ``examples`` of the open string field at ``path`` in the checked-in contract schema."""
    node = SCHEMA
    for key in path:
        node = node[key]
    return node["examples"]


EVENT = ("properties", "events", "items", "properties")
CARRIED = ("properties", "run", "properties", "carried_alerts", "items", "properties")


def test_readme_starts_with_the_two_commands():
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


@pytest.mark.parametrize("name", list(cli.commands))
def test_command_and_its_options_are_documented(name):
    command = cli.commands[name]
    assert f"lastseen {name}" in README, f"README does not document `lastseen {name}`"
    for param in command.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt != "--help":
                assert opt in README, f"README does not document {opt} of `lastseen {name}`"


@pytest.mark.parametrize("name", ["diff", "show"])
def test_history_commands_have_their_section_in_docs_history(name):
    """docs/history.md has a ``## lastseen <command>`` section naming every option."""
    doc = (ROOT / "docs" / "history.md").read_text()
    assert f"\n## lastseen {name}\n" in doc, f"docs/history.md has no `## lastseen {name}` section"
    section = doc.split(f"\n## lastseen {name}\n", 1)[1].split("\n## ", 1)[0]
    for param in cli.commands[name].params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt != "--help":
                assert f"`{opt}" in section or f"{opt} " in section, (
                    f"the `lastseen {name}` section of docs/history.md does not document {opt}"
                )
    assert f"[docs/history.md](docs/history.md#lastseen-{name})" in README


def test_watchlist_reference_is_generated_from_the_registry():
    assert (ROOT / "docs" / "watchlist.md").read_text() == reference_markdown(), (
        "docs/watchlist.md is stale: regenerate it with "
        "python -c 'from crawler.watchlist import reference_markdown; print(reference_markdown(), end=\"\")' > docs/watchlist.md"
    )


# -- verdicts and reasons: docs/verdicts.md reads the registry ---------------------------------------


def test_verdict_table_is_generated_from_the_registry():
    assert VERDICTS_DOC.count(BEGIN) == 1 and VERDICTS_DOC.count(END) == 1, (
        f"docs/verdicts.md needs one {BEGIN} line and one {END} line around the verdict table"
    )
    generated = VERDICTS_DOC.split(BEGIN, 1)[1].split(END, 1)[0]
    assert generated == "\n" + verdicts.reference_markdown(), (
        "the verdict table of docs/verdicts.md is stale (or edited by hand): edit crawler/verdicts.py "
        "and regenerate it with: python -m crawler.verdicts"
    )


def test_verdict_doc_keeps_its_prose():
    before, after = VERDICTS_DOC.split(BEGIN, 1)[0], VERDICTS_DOC.split(END, 1)[1]
    assert "**last good" in before and "on transition" in before
    assert "A redirect that keeps the page" in after
    assert "## Limits and hostile servers" in after


@pytest.mark.parametrize("name", list(VERDICTS))
def test_verdict_is_documented_and_in_the_contract(name):
    assert f"| `{name}` |" in VERDICTS_DOC, f"docs/verdicts.md lacks verdict {name}"
    assert name in _examples(*EVENT, "verdict"), f"the contract schema lacks verdict {name}"
    assert name in _examples(*CARRIED, "verdict"), f"the contract schema lacks verdict {name} in carried_alerts"


@pytest.mark.parametrize("name", list(REASONS))
def test_reason_is_documented_and_in_the_contract(name):
    verdict, _ = REASONS[name]
    assert f"| `{verdict}` | `{name}` |" in VERDICTS_DOC, f"docs/verdicts.md lacks reason {verdict} / {name}"
    assert name in _examples(*EVENT, "reason", "anyOf", 1), f"the contract schema lacks reason {name}"
    assert name in _examples(*CARRIED, "reason", "anyOf", 1), (
        f"the contract schema lacks reason {name} in carried_alerts"
    )


# -- the --json contract: docs/run-json.md and tests/contract.schema.json --------------------------


def test_contract_schema_is_generated():
    expected = json.dumps(run_json_schema(), indent=2, ensure_ascii=False) + "\n"
    assert SCHEMA_PATH.read_text(encoding="utf-8") == expected, (
        "tests/contract.schema.json is stale (or edited by hand): edit crawler/contract.py "
        "and regenerate it with: python -m crawler.contract"
    )


def test_contract_schema_is_open():
    assert '"additionalProperties": false' not in SCHEMA_PATH.read_text(), (
        "the contract is open: consumers ignore unknown fields, so the schema must not forbid them"
    )


@pytest.mark.parametrize("name", list(FLAGS))
def test_flag_is_documented_and_in_the_contract(name):
    flat = re.sub(r"\s+", " ", RUN_JSON_DOC)
    assert f"`{name}`: {FLAGS[name]}" in flat, (
        f"docs/run-json.md does not document flag {name} as crawler/contract.py FLAGS does; "
        f"add to its `flags` list: - `{name}`: {FLAGS[name]}"
    )
    assert name in _examples(*EVENT, "flags", "items"), f"the contract schema lacks flag {name}"


@pytest.mark.parametrize("unit", list(UNITS))
def test_diff_unit_is_documented_and_in_the_contract(unit):
    flat = re.sub(r"\s+", " ", RUN_JSON_DOC)
    assert f"`{unit}`: {UNITS[unit]}" in flat, (
        f"docs/run-json.md does not document diff unit {unit} as crawler/diff.py UNITS does; "
        f"add to its `diff` list: - `{unit}`: {UNITS[unit]}"
    )
    assert unit in _examples(*EVENT, "diff", "oneOf", 1, "properties", "unit"), (
        f"the contract schema lacks diff unit {unit}"
    )


def test_run_json_doc_describes_the_open_contract():
    flat = re.sub(r"\s+", " ", RUN_JSON_DOC)
    assert "must ignore fields and words (verdicts, reasons, flags, recovery actions, roles)" in flat
    assert "`schema` stays `1` while changes only add fields and words" in flat
    assert "CHANGELOG" in flat and "`examples`" in flat
    assert "python -m crawler.contract" in flat


@pytest.mark.parametrize("key", list(run_json_schema()["properties"]["run"]["properties"]))
def test_run_field_is_in_the_example(key):
    example = RUN_JSON_DOC.split("```json", 1)[1].split("```", 1)[0]
    assert f'"{key}":' in example, f"the JSON example of docs/run-json.md lacks run.{key}"


def test_recovered_is_documented():
    flat = re.sub(r"\s+", " ", RUN_JSON_DOC)
    assert "`run.recovered`" in flat
    for key in SCHEMA["properties"]["run"]["properties"]["recovered"]["items"]["properties"]:
        assert f"`{key}`" in flat or f'"{key}"' in flat, f"docs/run-json.md does not describe recovered {key}"


# -- lastseen report over a window: README row, docs/report.md, docs/report-json.md ---------------

REPORT_DOC = (ROOT / "docs" / "report.md").read_text()
REPORT_JSON_DOC = (ROOT / "docs" / "report-json.md").read_text()
WINDOW_SECTION = REPORT_DOC.split("## Reports over any window", 1)[-1].split("\n## ", 1)[0]
REPORT_OPTIONS = [opt for p in cli.commands["report"].params for opt in getattr(p, "opts", [])
                  if opt.startswith("--") and opt != "--help"]


@pytest.mark.parametrize("opt", REPORT_OPTIONS)
def test_report_option_is_in_its_readme_row_and_its_docs_section(opt):
    (row,) = [line for line in README.splitlines() if line.startswith("| `lastseen report ")]
    assert opt in row.split("` |", 1)[0], f"the README's `lastseen report` row does not list {opt}"
    assert "## Reports over any window" in REPORT_DOC, "docs/report.md lacks its section Reports over any window"
    assert re.search(rf"`{opt}[` ]", WINDOW_SECTION), f"docs/report.md, Reports over any window, does not describe {opt}"


def _report_fields():
    from crawler.report.window_json import report_json_schema

    props = report_json_schema()["properties"]
    event = props["targets"]["items"]["properties"]["events"]["items"]["properties"]
    return [*props, *props["targets"]["items"]["properties"], *event]


@pytest.mark.parametrize("key", _report_fields())
def test_report_json_field_is_described_and_in_the_example(key):
    fields = REPORT_JSON_DOC.split("## Fields", 1)[1]
    assert f"`{key}`" in fields, f"docs/report-json.md does not describe {key}"
    example = REPORT_JSON_DOC.split("```json", 1)[1].split("```", 1)[0]
    assert f'"{key}":' in example, f"the JSON example of docs/report-json.md lacks {key}"


def test_report_json_example_is_valid():
    import jsonschema

    from crawler.report.window_json import report_json_schema

    from .helpers import _strict

    example = json.loads(REPORT_JSON_DOC.split("```json", 1)[1].split("```", 1)[0])
    jsonschema.validate(example, _strict(report_json_schema()))


# -- examples that must stay valid ----------------------------------------------------------------


def test_readme_watchlist_example_is_valid():
    from crawler.watchlist import parse_watchlist

    block = README.split("## A watchlist", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    wl = parse_watchlist(block, "README.md")
    assert wl.targets and wl.targets[0].name == "vendor-safe-city-case-study"


def test_shipped_watchlist_is_valid():
    from crawler.watchlist import load_watchlist

    assert len(load_watchlist(ROOT / "watchlist.yaml").targets) >= 3


def test_the_readme_pictures_exist_and_are_png():
    pictures = re.findall(r'<img src="([^"]+)"', (ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(pictures) >= 6
    for src in pictures:
        assert (ROOT / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", src  # `make screenshots` takes them
