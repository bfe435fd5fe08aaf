"""The JSON Schema of ``lastseen verify --json`` (``docs/verify.schema.json`` must equal it: regenerate it with
``python -m crawler.verifyjson``). Problem kinds come from :data:`crawler.verify.KINDS`, the table the
human lines and docs/evidence.md use too.
"""

from __future__ import annotations

import json
from pathlib import Path

from .custody import KINDS as ENTRY_KINDS
from .verify import COUNTS, KINDS

__all__ = ["SCHEMA_FILE", "schema_text", "verify_json_schema"]

#: The shipped schema.
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "verify.schema.json"

_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_WHERE = {"type": ["string", "integer", "null"]}


def verify_json_schema() -> dict:
    """What ``lastseen verify --json`` prints: one object."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/lastseen/lastseen/docs/verify.schema.json",
        "title": "lastseen verify --json",
        "description": 'The archive checked against its custody log (docs/evidence.md, "lastseen verify"). '
        "Exit status 0 when ok, 4 when not.",
        "type": "object",
        "required": [
            "ok",
            "chain_head",
            "checked",
            "scope",
            "pending",
            "open_files",
            "problems",
        ],
        "additionalProperties": False,
        "properties": {
            "ok": {"type": "boolean", "description": "true when problems is empty"},
            "chain_head": {
                "description": "the index's last custody entry when it was read (null: no entry)",
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["seq", "sha256"],
                        "additionalProperties": False,
                        "properties": {
                            "seq": {"type": "integer", "minimum": 1},
                            "sha256": _SHA256,
                        },
                    },
                ],
            },
            "checked": {
                "type": "object",
                "description": "how much was checked",
                "required": list(COUNTS),
                "additionalProperties": False,
                "properties": {
                    k: {"type": "integer", "minimum": 0, "description": d}
                    for k, d in COUNTS.items()
                },
            },
            "scope": {
                "type": "object",
                "required": ["since", "only"],
                "additionalProperties": False,
                "description": "--since and --only: which captures' records were re-read (the chain, the copy, "
                "the index rows and every file's SHA-256 are always checked whole)",
                "properties": {
                    "since": {
                        "type": ["string", "null"],
                        "description": "ISO 8601 UTC",
                    },
                    "only": {"type": "array", "items": {"type": "string"}},
                },
            },
            "pending": {
                "type": "array",
                "description": "entries at the chain's end not yet in the JSONL copy (not problems)",
                "items": {
                    "type": "object",
                    "required": ["seq", "kind", "time", "sha256"],
                    "additionalProperties": False,
                    "properties": {
                        "seq": {"type": "integer"},
                        "kind": {"enum": list(ENTRY_KINDS)},
                        "time": {"type": "string"},
                        "sha256": _SHA256,
                    },
                },
            },
            "open_files": {
                "type": "array",
                "description": "WARC files being written or awaiting recovery: skipped",
                "items": {
                    "type": "object",
                    "required": ["file", "why"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {"type": "string"},
                        "why": {"type": "string"},
                    },
                },
            },
            "problems": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "kind",
                        "file",
                        "offset",
                        "record_id",
                        "seq",
                        "expected",
                        "found",
                        "message",
                    ],
                    "additionalProperties": False,
                    "properties": {
                        "kind": {
                            "enum": list(KINDS),
                            "description": "; ".join(
                                f"{k}: {v}" for k, v in KINDS.items()
                            ),
                        },
                        "file": {
                            "type": ["string", "null"],
                            "description": "relative to the archive: a WARC file, custody/YYYY-MM.jsonl, "
                            "or lastseen.db (the index)",
                        },
                        "offset": {
                            "type": ["integer", "null"],
                            "description": "byte offset in the file (a record's gzip member, a line)",
                        },
                        "record_id": {
                            "type": ["string", "null"],
                            "description": "WARC-Record-ID",
                        },
                        "seq": {
                            "type": ["integer", "null"],
                            "description": "the custody entry concerned",
                        },
                        "expected": {
                            **_WHERE,
                            "description": "what the custody log says (a SHA-256, an offset...)",
                        },
                        "found": {
                            **_WHERE,
                            "description": "what is there (null: nothing)",
                        },
                        "message": {
                            "type": "string",
                            "description": "the same in words",
                        },
                    },
                },
            },
        },
    }


def schema_text() -> str:
    """The schema as ``docs/verify.schema.json`` holds it."""
    return json.dumps(verify_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
