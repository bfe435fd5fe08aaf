"""The watchlist's JSON Schema and Markdown reference, both generated from the registry.

The schema is shipped as ``crawler/watchlist.schema.json`` for editors; regenerate it after
changing a table with ``python -m crawler.watchlist``. The reference is ``docs/watchlist.md``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .fields import (
    ALERTS_FIELD,
    EXTENSION_PREFIX,
    HOST_FIELDS,
    ITEM_FIELDS,
    LISTING_FIELDS,
    SETTINGS_FIELDS,
    TARGET_FIELDS,
    TOP_LEVEL,
    Field,
)
from .kinds import HOST_NAME_PATTERN, spell_yaml
from .yamlfile import MAX_DEPTH
from .units import DURATION_FORMS, SIZE_FORMS

__all__ = ["SCHEMA_PATH", "json_schema", "reference_markdown", "write_schema"]

# beside the package, not in it: crawler/watchlist.schema.json (shipped via package-data "*.json")
SCHEMA_PATH = Path(__file__).parent.with_name("watchlist.schema.json")


def _mapping_schema(fields: tuple[Field, ...], description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "description": description,
        "type": "object",
        "properties": {f.name: f.schema() for f in fields},
        "additionalProperties": False,
    }
    required = [f.name for f in fields if f.required]
    if required:
        schema["required"] = required
    return schema


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the watchlist file, built from the registry.

    It checks shapes, types and formats; what it can't express (unique target names, valid CSS,
    zero durations written as text) is still caught by :func:`parse_watchlist`.
    """
    settings = _mapping_schema(SETTINGS_FIELDS, TOP_LEVEL["settings"])
    host = _mapping_schema(HOST_FIELDS, "Politeness overrides for one host.")
    hosts = {"type": "object", "propertyNames": {"pattern": HOST_NAME_PATTERN},
             "additionalProperties": {"anyOf": [host, {"type": "null"}]}}
    target = _mapping_schema(TARGET_FIELDS, "One page to watch.")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/lastseen/lastseen/blob/main/crawler/watchlist.schema.json",
        "title": "lastseen watchlist",
        "description": "The pages lastseen archives and watches for changes. Generated from "
                       "crawler/watchlist.py; do not edit by hand.",
        "type": "object",
        "properties": {
            "settings": {"anyOf": [settings, {"type": "null"}], "description": TOP_LEVEL["settings"]},
            "hosts": {"anyOf": [hosts, {"type": "null"}], "description": TOP_LEVEL["hosts"]},
            "alerts": ALERTS_FIELD.schema(),
            "targets": {"anyOf": [{"type": "array", "items": target}, {"type": "null"}],
                        "description": TOP_LEVEL["targets"]},
        },
        "patternProperties": {f"^{EXTENSION_PREFIX}": {"description": "Ignored; a place for YAML anchors."}},
        "required": ["targets"],
        "additionalProperties": False,
    }


def write_schema(path: str | os.PathLike[str] = SCHEMA_PATH) -> None:
    """Write :func:`json_schema` to ``path`` (by default the copy shipped in the package)."""
    Path(path).write_text(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _table(fields: tuple[Field, ...]) -> list[str]:
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for f in fields:
        default = "*required*" if f.required else f"`{spell_yaml(f.spelled_default())}`"
        description = f.description.replace("|", "\\|")
        rows.append(f"| `{f.name}` | {f.type_label()} | {default} | {description} |")
    return rows


def _bounds(kind: str) -> str:
    """The bounds of the keys of a ``kind`` ("duration", "size"): "`every` and `jitter` at most 366d; ..."."""
    by_bound: dict[str, list[str]] = {}
    for f in (*SETTINGS_FIELDS, *HOST_FIELDS, *TARGET_FIELDS):
        if f.kind.maximum and f.kind.label.startswith(kind) and f"`{f.name}`" not in by_bound.get(f.kind.maximum, []):
            by_bound.setdefault(f.kind.maximum, []).append(f"`{f.name}`")
    return "; ".join(f"{', '.join(names[:-1]) + ' and ' if len(names) > 1 else ''}{names[-1]} at most {bound}"
                     for bound, names in by_bound.items())


def _large() -> list[str]:
    """The section on the cache of large watchlists (:mod:`.cache`)."""
    from .cache import CACHE_MIN_BYTES

    return [
        "## Large watchlists",
        "",
        f"A watchlist of {CACHE_MIN_BYTES // 1024} KiB or more (about 2,000 targets) is, once valid, kept validated in "
        "`$LASTSEEN_CACHE_DIR`, else `$XDG_CACHE_HOME/lastseen/watchlists/`, else `~/.cache/lastseen/watchlists/`",
        "(one file per watchlist, in a folder only you can write): the next `check`, `status` or `run` reads it",
        "there while the file, its path, your home folder, lastseen and the libraries it validates with are",
        "unchanged, instead of parsing 100,000 targets again. Any change and it is parsed as always, with every",
        "problem and line number; a watchlist whose settings name files (`ca_certs`, `signing_key`, `timestamp_ca`)",
        "is never kept, so those files are checked every time. Deleting the folder is always safe.",
        "",
    ]


def _adding() -> list[str]:
    """The section on ``lastseen add`` (its rules live in :mod:`.adding`)."""
    from .adding import MAX_DERIVED_NAME

    return [
        "## Adding a target from the command line",
        "",
        "`lastseen add URL [--name NAME] [--tag TAG]... [--every DURATION] [--fetch http|browser] "
        "[--watchlist PATH]`",
        "appends one entry to the `targets:` list and changes nothing else in the file: comments, blank lines,",
        "indentation, quoting, key order, CRLF line ends and a UTF-8 BOM stay byte for byte (the entry is inserted",
        "as text after the last target, not re-emitted by a YAML library). A block list gets a block entry indented",
        "like its first one; a flow list (`targets: [...]`) a flow mapping; `targets: []`, an empty `targets:`, an",
        "empty file or one without `targets:` a block list.",
        "",
        "```console",
        "$ lastseen add https://vendor.example/press/ --tag vendor --every 6h",
        "lastseen add: added vendor.example-press: https://vendor.example/press/ (tags vendor; every 6h) "
        "to watchlist.yaml, line 12",
        "```",
        "",
        "- The URL is written in its one canonical spelling (the one `lastseen check` shows and the fetcher",
        "  requests); the options are validated as `check` validates the keys they set.",
        "- Without `--name`, the name is made from the URL's host (`www.` dropped, international names in their",
        "  own letters) and path (and query): letters and digits of any script, `_`, `.` and `-`, every other run of",
        "  characters one `-`, never `..`, no control or format character, at most "
        f"{MAX_DERIVED_NAME} characters, and a",
        "  `-2`, `-3`... suffix when another target has that name (compared ignoring case).",
        "- A name or URL already in the watchlist is refused (exit 2), naming the target that has it and its line.",
        "- The whole resulting file is checked as `lastseen check` does before anything is written; when it would",
        "  be invalid, nothing is written and the check's message says why (exit 2).",
        "- The file is replaced atomically (a temporary file beside it, its permissions kept, then a rename; through",
        "  a symlink, the file it points to): a run reading it meanwhile sees the old or the new file, never half.",
        "- A missing watchlist is refused, not created (a mistyped `--watchlist` would otherwise start a new file",
        "  unnoticed): create it first; an empty file will do.",
        "",
    ]


def reference_markdown() -> str:
    """The watchlist reference in Markdown, generated from the registry (for ``docs/``)."""
    lines = [
        "# Watchlist reference",
        "",
        "A watchlist is a YAML file with four top-level keys. Unknown keys are errors (with a",
        "suggestion), except top-level keys starting with `x-`, which are ignored and can hold",
        "YAML anchors. Every problem is reported at once, with its line number. Lists and mappings",
        f"nested more than {MAX_DEPTH} levels deep, and merge keys (`<<: *anchor`) chained more than",
        f"{MAX_DEPTH} mappings deep, are refused.",
        "",
        "| key | description |",
        "|---|---|",
        *(f"| `{key}` | {text} |" for key, text in TOP_LEVEL.items()),
        "",
        "## `settings`",
        "",
        *_table(SETTINGS_FIELDS),
        "",
        "## `hosts`",
        "",
        f"{TOP_LEVEL['hosts']} Each value is a mapping:",
        "",
        *_table(HOST_FIELDS),
        "",
        "```yaml",
        "hosts:",
        "  www.example.org:",
        *(f"    {f.name}: {spell_yaml(f.example)}" for f in HOST_FIELDS),
        "```",
        "",
        "## `alerts`",
        "",
        f"{ALERTS_FIELD.description} A list of strings, e.g.:",
        "",
        "```yaml",
        "alerts:",
        *(f"  - {spell_yaml(url)}" for url in ALERTS_FIELD.example),
        "```",
        "",
        "## `targets`",
        "",
        "Each entry is a mapping:",
        "",
        *_table(TARGET_FIELDS),
        "",
        "```yaml",
        "targets:",
        *(f"  {'- ' if i == 0 else '  '}{f.name}: {spell_yaml(f.example)}"
          for i, f in enumerate(TARGET_FIELDS)),
        "```",
        "",
        "## `listing`",
        "",
        "A target with `listing:` is a listing: its items are watched as child targets (docs/listings.md says",
        "how they are named, judged and selected). `listing: true` takes every default; otherwise a mapping:",
        "",
        *_table(LISTING_FIELDS),
        "",
        "### `listing.item`",
        "",
        "Items inherit the listing's keys (`every`, `fetch`, `ignore`, `tags`, `ignore_text`, `keywords`...) but",
        "not its `select`, which selects the index page. `item:` overrides some of them for the items:",
        "",
        *_table(ITEM_FIELDS),
        "",
        "```yaml",
        "targets:",
        "  - name: ministry-press",
        "    url: https://ministry.example/press/",
        "    listing:",
        *(f"      {f.name}: {spell_yaml(f.example)}" for f in LISTING_FIELDS if f.name != "item"),
        "      item:",
        *(f"        {f.name}: {spell_yaml(f.example)}" for f in ITEM_FIELDS),
        "```",
        "",
        *_adding(),
        *_large(),
        "## Durations",
        "",
        f"A number and a unit with no space: {DURATION_FORMS}. Units: `ms`, `s`, `m` (minutes), `h`, `d`, `w`.",
        "`every`, `timeout` and `deadline` must be longer than zero; `per_host_delay` and `retry_after_max` "
        "may be `0`.",
        f"Each has an upper bound (a longer one is a typo): {_bounds('duration')}.",
        "",
        "## Sizes",
        "",
        f"Either {SIZE_FORMS}. Units are case-insensitive; `K`, `KB` and `KiB` all mean 1024 bytes.",
        f"Each has an upper bound: {_bounds('size')}.",
        "",
    ]
    return "\n".join(lines)
