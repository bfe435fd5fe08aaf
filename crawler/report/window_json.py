"""``lastseen report --format json``: a window report as one JSON document, and its JSON Schema.

:func:`window_json` is exactly what ``report.json`` holds (documented in ``docs/report-json.md``,
described by :func:`report_json_schema`, which ``docs/report.schema.json`` must equal: regenerate it
with ``python -m crawler.report.window_json``; ``lastseen schema report`` prints it). Like the run
contract (:mod:`crawler.contract`) it is *open*: fields and words may be added without changing
``schema``; consumers ignore what they do not know.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ..contract import FLAGS
from ..events import RUN_ID_PATTERN, event_id
from ..formatting import iso
from ..store import CaptureStore
from ..verdicts import REASONS, VERDICTS
from ..verdicts import order as verdict_order
from ..window import Window
from .window import Scope, group_rows

__all__ = ["REPORT_SCHEMA_VERSION", "SCHEMA_FILE", "report_json_schema", "window_json"]

REPORT_SCHEMA_VERSION = 1

#: The shipped schema (``lastseen schema report`` prints the same).
SCHEMA_FILE = (
    Path(__file__).resolve().parent.parent.parent / "docs" / "report.schema.json"
)


def _loads(value: str | None, kind: type):
    try:
        parsed = json.loads(value) if value else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, kind) else None


def _event(row: dict, capture: dict | None) -> dict:
    capture = capture or {}
    diff = None
    if row.get("unit") is not None or row.get("insertions") is not None:
        diff = {
            "insertions": row.get("insertions") or 0,
            "deletions": row.get("deletions") or 0,
            "unit": row.get("unit") or "word",
            "fallback": bool(row.get("fallback")),
        }
    warc = None
    if (
        capture.get("warc_file")
        and capture.get("warc_offset") is not None
        and capture.get("warc_record_id")
    ):
        warc = {
            "file": capture["warc_file"],
            "offset": capture["warc_offset"],
            "record_id": capture["warc_record_id"],
        }
    return {
        "event_id": event_id(row["run_id"], row["target"]),
        "run": row["run_id"],
        "captured": iso(row["started_at"]),
        "verdict": row["verdict"],
        "reason": row["reason"],
        "alert": bool(row["alert"]),
        "summary": row["summary"] or "",
        "confirmed": None if row.get("confirmed") is None else bool(row["confirmed"]),
        "capture_id": row["capture_id"],
        "compared_capture_id": row["compared_capture_id"],
        "url": capture.get("url"),
        "final_url": capture.get("final_url"),
        "status": capture.get("status"),
        "diff": diff,
        "warc": warc,
        "flags": _loads(capture.get("flags"), list) or [],
        "significance": _loads(row.get("significance"), dict),
        "evidence": _loads(row.get("evidence"), dict),
    }


def window_json(
    store: CaptureStore,
    window: Window,
    scope: Scope,
    rows: Sequence[dict],
    *,
    generated: datetime,
    notes: Sequence[str] = (),
) -> dict:
    """The ``report.json`` document of ``rows`` (:func:`crawler.report.window.window_rows`)."""
    targets = []
    for name, these in group_rows(rows):
        first = these[0]
        targets.append(
            {
                "target": name,
                "url": first["target_url"],
                "tags": _loads(first["tags"], list) or [],
                "in_watchlist": scope.in_watchlist(name),
                "events": [_event(r, store.capture(r["capture_id"])) for r in these],
            }
        )
    verdicts = Counter(r["verdict"] for r in rows)
    return {
        "schema": REPORT_SCHEMA_VERSION,
        "window": {"since": iso(window.start), "until": iso(window.last)},
        "generated": iso(generated),
        "watchlist": str(scope.watchlist.path) if scope.watchlist is not None else None,
        "all": scope.everything,
        "only": list(scope.only),
        "counts": {
            "events": len(rows),
            "targets": len(targets),
            "alerts": sum(1 for r in rows if r["alert"]),
            "verdicts": {v: verdicts[v] for v in sorted(verdicts, key=verdict_order)},
        },
        "notes": list(notes),
        "targets": targets,
    }


# -- the JSON Schema -------------------------------------------------------------------------------

_TIME = {
    "type": "string",
    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
}
_COUNT = {"type": "integer", "minimum": 0}


def _open_word(description: str, known) -> dict:
    return {"type": "string", "description": description, "examples": list(known)}


def report_json_schema() -> dict:
    """The JSON Schema of ``report.json`` (open: unknown fields and words are allowed)."""
    reason = {
        "anyOf": [{"type": "null"}, _open_word("why; see docs/verdicts.md", REASONS)]
    }
    event = {
        "type": "object",
        "required": [
            "event_id",
            "run",
            "captured",
            "verdict",
            "reason",
            "alert",
            "summary",
            "confirmed",
            "capture_id",
            "compared_capture_id",
            "url",
            "final_url",
            "status",
            "diff",
            "warc",
            "flags",
            "significance",
            "evidence",
        ],
        "properties": {
            "event_id": {
                "type": "string",
                "pattern": f"^{RUN_ID_PATTERN}:.+$",
                "description": "`<run id>:<target name>`: names the event to other commands",
            },
            "run": {"type": "string", "description": "the run that made the capture"},
            "captured": {
                **_TIME,
                "description": "when the capture started (UTC); the window holds it",
            },
            "verdict": _open_word("see docs/verdicts.md", VERDICTS),
            "reason": reason,
            "alert": {"type": "boolean"},
            "summary": {"type": "string"},
            "confirmed": {"type": ["boolean", "null"]},
            "capture_id": {"type": "integer"},
            "compared_capture_id": {
                "type": ["integer", "null"],
                "description": "the last good capture it was compared with",
            },
            "url": {"type": ["string", "null"]},
            "final_url": {"type": ["string", "null"]},
            "status": {"type": ["integer", "null"]},
            "diff": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["insertions", "deletions", "unit", "fallback"],
                        "properties": {
                            "insertions": _COUNT,
                            "deletions": _COUNT,
                            "unit": _open_word("what was counted", ["word", "line"]),
                            "fallback": {"type": "boolean"},
                        },
                    },
                ]
            },
            "warc": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["file", "offset", "record_id"],
                        "properties": {
                            "file": {"type": "string", "pattern": "\\.warc\\.gz$"},
                            "offset": _COUNT,
                            "record_id": {
                                "type": "string",
                                "pattern": "^<urn:uuid:[0-9a-f-]{36}>$",
                            },
                        },
                    },
                ]
            },
            "flags": {
                "type": "array",
                "uniqueItems": True,
                "items": _open_word("see docs/run-json.md", FLAGS),
            },
            "significance": {
                "type": ["object", "null"],
                "description": "changed events: {score, parts}",
            },
            "evidence": {
                "type": ["object", "null"],
                "description": "the signals the verdict was decided on",
            },
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"lastseen report --format json: report.json (schema {REPORT_SCHEMA_VERSION})",
        "description": "Open contract: consumers must ignore fields, verdicts, reasons and flags they do not know.",
        "type": "object",
        "required": [
            "schema",
            "window",
            "generated",
            "watchlist",
            "all",
            "only",
            "counts",
            "notes",
            "targets",
        ],
        "properties": {
            "schema": {"const": REPORT_SCHEMA_VERSION},
            "window": {
                "type": "object",
                "required": ["since", "until"],
                "properties": {"since": _TIME, "until": _TIME},
            },
            "generated": _TIME,
            "watchlist": {
                "type": ["string", "null"],
                "description": "the watchlist read; null when there was none (every archived target)",
            },
            "all": {
                "type": "boolean",
                "description": "--all: targets no longer in the watchlist included",
            },
            "only": {"type": "array", "items": {"type": "string"}},
            "counts": {
                "type": "object",
                "required": ["events", "targets", "alerts", "verdicts"],
                "properties": {
                    "events": _COUNT,
                    "targets": _COUNT,
                    "alerts": _COUNT,
                    "verdicts": {"type": "object", "additionalProperties": _COUNT},
                },
            },
            "notes": {"type": "array", "items": {"type": "string"}},
            "targets": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["target", "url", "tags", "in_watchlist", "events"],
                    "properties": {
                        "target": {"type": "string"},
                        "url": {"type": ["string", "null"]},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "in_watchlist": {"type": "boolean"},
                        "events": {
                            "type": "array",
                            "minItems": 1,
                            "items": event,
                            "description": "the target's events in the window, oldest first",
                        },
                    },
                },
            },
        },
    }


def schema_text() -> str:
    """The schema as ``docs/report.schema.json`` holds it."""
    return json.dumps(report_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
