"""Docs stay in step with the code: commands, options, watchlist keys, verdicts."""

from __future__ import annotations

from pathlib import Path

from crawler.classify import VERDICTS
from crawler.cli import cli
from crawler.watchlist import reference_markdown

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands():
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_every_command_and_option_is_documented():
    for name, command in cli.commands.items():
        assert f"lastseen {name}" in README, f"README does not document `lastseen {name}`"
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert opt in README, f"README does not document {opt} of `lastseen {name}`"


def test_watchlist_reference_is_generated_from_the_registry():
    assert (ROOT / "docs" / "watchlist.md").read_text() == reference_markdown(), (
        "docs/watchlist.md is stale: regenerate it with "
        "python -c 'from crawler.watchlist import reference_markdown; print(reference_markdown(), end=\"\")' > docs/watchlist.md"
    )


def test_every_verdict_and_reason_is_documented():
    doc = (ROOT / "docs" / "verdicts.md").read_text()
    for verdict in VERDICTS.values():
        assert f"`{verdict.name}`" in doc
        for reason in verdict.reasons:
            assert f"`{reason}`" in doc, f"docs/verdicts.md lacks reason {reason}"


def test_readme_watchlist_example_is_valid():
    from crawler.watchlist import parse_watchlist

    block = README.split("## A watchlist", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    wl = parse_watchlist(block, "README.md")
    assert wl.targets and wl.targets[0].name == "vendor-safe-city-case-study"


def test_shipped_watchlist_is_valid():
    from crawler.watchlist import load_watchlist

    assert len(load_watchlist(ROOT / "watchlist.yaml").targets) >= 3
