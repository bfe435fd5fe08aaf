"""The ``lastseen run --json`` contract: a run's result and its events, as plain data.

``RunResult.to_json()`` is exactly what ``--json`` prints (documented in
``docs/run-json.md``, described by :func:`run_json_schema`, which
``tests/contract.schema.json`` must equal). The contract is *open*: fields and
words (verdicts, reasons, flags) may be added without changing ``schema``;
consumers ignore what they do not know. ``schema`` stays 1 while changes only
add fields and words, or move captures from an old word to a new one.

Add a field to the JSON here (the dataclass, ``to_json`` and the schema), and
document it in ``docs/run-json.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from .diff import UNITS
from .events import RUN_ID_PATTERN, event_id
from .extract.jsontext import MAX_DEPTH
from .formatting import iso
from .verdicts import REASONS, VERDICTS

__all__ = ["FLAGS", "SCHEMA_VERSION", "TIMESTAMP_STATUSES", "Event", "RunResult", "run_json_schema", "timestamp_off"]

SCHEMA_VERSION = 1

#: Flags a capture may carry: facts worth knowing when weighing it as evidence (docs/run-json.md).
FLAGS: dict[str, str] = {
    "truncated": "the body hit `max_body`; the WARC record says `WARC-Truncated: length`",
    "decoded-truncated": "decompressing the body hit `max_body`: a compression bomb is bounded",
    "disconnected": "the connection dropped mid-body: what arrived is archived with `WARC-Truncated: disconnect`, "
                    "and the verdict is `unreachable` / `reset`",
    "extract-error": "the body could not be decoded; it is compared by digest",
    "tls-unverified": "the TLS certificate did not verify (self-signed, expired, unknown CA or issued for another "
                      "host name); the capture was made anyway and `captures.tls_error` in the index says why",
    "robots-disallowed": "robots.txt disallowed the fetch, with `obey_robots` on; the verdict is `unreachable` / "
                         "`robots` and nothing was fetched",
    "select-empty": "the target's `select` found no text: the page was probably restructured, and until the "
                    "selector is fixed later edits would go unseen",
    "json-invalid": "the body was served as JSON (`application/json`, `*/*+json`) but does not parse: it is "
                    "compared as text, not by structure (docs/json.md)",
    "json-too-deep": f"the JSON document is nested deeper than lastseen reads by structure ({MAX_DEPTH} levels): it is "
                     "compared as text (docs/json.md)",
    "text-truncated": "the page's text was longer than `max_text`: what is compared (and diffed) is its start, "
                      "cut at a line break; the WARC record holds the whole body",
    "doc-truncated": "a document (PDF, DOCX, XLSX, ODT, ODS) was cut off: it had more than `doc_max_pages` pages, "
                     "took longer than `doc_timeout` to read, or spent its worker's memory; the text read before "
                     "the cut is compared",
    "doc-encrypted": "a document encrypted with a password lastseen does not have: compared by digest, no diff",
    "no-text": "a PDF without a text layer (a scan): compared by digest and page count, no diff",
    "js-shell": "the page's HTML has almost no text of its own but loads scripts: a plain HTTP fetch sees only "
                "the shell that JavaScript fills; `fetch: browser` captures what a person sees",
    "browser-timeout": "a browser capture whose page never settled, or whose `wait_for` never appeared, within "
                       "`timeout`: it was captured as it was then",
    "private-redirect": "the page, served from a public address, redirected to a loopback, private or link-local "
                        "one (an internal service); the hop was not followed (`unreachable` / `http-3xx`) unless "
                        "`settings.allow_private_redirects` is on",
    "auto-fallback": "`select: auto` (the default) found no usable main content in the page, so the whole page's "
                     "text is compared; a page emptied to a stub is never `vanished` / `emptied` with this flag",
    "outside-main": "the page changed outside the part that is compared (its main content, or its `select`): "
                    "the verdict stays `unchanged`; the whole page's text is stored, and the report says so",
    "below-threshold": "a change whose significance is below the target's `alert_when.min_significance`: still "
                       "`changed`, with `alert: false` (a keyword that appeared or disappeared alerts anyway)",
    "delisted": "a listing's item no longer in its listing (the run it left, its verdict was `delisted` or "
                "`vanished`): still watched, until it is listed again",
    "listing-capped": "a listing with more items than its `max_items`: those past it were not captured and are "
                      "never counted as removed; `evidence.items_capped` says how many",
    "flapped": "the first fetch of the run said `vanished` or `moved` and the second fetch, made to confirm it, "
               "did not agree: the second's verdict stands (`evidence.first_verdict` says what the first saw); both "
               "are in the WARC",
}

#: ``run.timestamp.status``: what became of the chain head's time-stamp in a run (crawler.timestamps).
TIMESTAMP_STATUSES: dict[str, str] = {
    "ok": "the chain head holds a token from the authority, checked (obtained by this run, or by an earlier one "
          "when this run added no entry: `requested` says when)",
    "failed": "the head could not be time-stamped: `error` says why; the next run tries again",
    "off": "no `settings.timestamp_authority` (nothing was sent), or the custody log is empty (`error` says so)",
}


def timestamp_off(authority: str | None = None, error: str | None = None) -> dict:
    """``run.timestamp`` when nothing was stamped."""
    return {"status": "off", "authority": authority, "seq": None, "sha256": None, "requested": None,
            "gen_time": None, "token": None, "error": error}



@dataclass
class Event:
    """One target's outcome in a run: an item of ``events``."""

    target: str
    url: str
    final_url: str | None
    status: int | None
    status_chain: list[int]
    verdict: str
    reason: str | None
    alert: bool
    summary: str
    diff: dict | None
    capture_id: int | None = None
    warc: dict | None = None
    flags: list[str] = field(default_factory=list)
    fetch: str = "http"                      # how it was fetched (crawler.fetch.FETCH_MODES)
    screenshot: str | None = None            # browser only: the screenshot record's id
    subresources: dict | None = None         # browser only: {"archived": n, "failed": n}
    confirmed: bool | None = None            # vanished, moved, unreachable, blocked: confirmed yet? else None
    evidence: dict | None = None             # the signals the verdict was decided on (docs/verdicts.md)
    significance: dict | None = None         # changed only: {"score": 0–1, "parts": {...}}
    parent: str | None = None                # a listing's item: the listing's name
    robots_changed: dict | None = None       # its host's robots.txt newly shuts archive crawlers out: the rules

    def to_json(self) -> dict:
        out = {
            "target": self.target, "url": self.url, "final_url": self.final_url, "status": self.status,
            "status_chain": self.status_chain, "verdict": self.verdict, "reason": self.reason,
            "alert": self.alert, "summary": self.summary, "diff": self.diff,
            "capture_id": self.capture_id, "warc": self.warc, "flags": self.flags, "fetch": self.fetch,
            "confirmed": self.confirmed, "evidence": self.evidence or None, "significance": self.significance,
            "parent": self.parent, "robots_changed": self.robots_changed,
        }
        if self.fetch == "browser":
            out["screenshot"] = self.screenshot
            out["subresources"] = self.subresources or {"archived": 0, "failed": 0}
        return out


@dataclass
class RunResult:
    """What one ``lastseen run`` did: the whole ``--json`` document."""

    run_id: str
    started: datetime
    finished: datetime | None
    report: str | None
    alerts: list = field(default_factory=list)             # AlertResult, one per sink
    events: list[Event] = field(default_factory=list)
    recovered: list = field(default_factory=list)          # recovery records (``to_json()``) of this run's start
    carried: list[dict] = field(default_factory=list)      # alerts owed by runs that never finished
    carried_robots: list[dict] = field(default_factory=list)  # robots.txt alerts owed by runs that never finished
    chain_head: dict | None = None                         # the custody log's last entry: {"seq", "sha256"}
    timestamp: dict = field(default_factory=lambda: timestamp_off())           # the head's RFC 3161 time-stamp (crawler.timestamps)

    def to_json(self, *, events: bool = True) -> dict:
        """The ``--json`` document; ``events=False``: with an empty ``events`` list (:meth:`write_json`)."""
        return {
            "schema": SCHEMA_VERSION,
            "run": {
                "id": self.run_id, "started": iso(self.started), "finished": iso(self.finished),
                "report": self.report, "alerts": [a.to_json() for a in self.alerts],
                "carried_alerts": self.carried, "carried_robots": self.carried_robots,
                "recovered": [r.to_json() for r in self.recovered],
                "chain_head": self.chain_head,
                "timestamp": self.timestamp,
            },
            "events": [self._event_json(e) for e in self.events] if events else [],
        }

    def _event_json(self, event: Event) -> dict:
        return {"event_id": event_id(self.run_id, event.target), **event.to_json()}

    def write_json(self, out: TextIO) -> None:
        """Write ``json.dumps(self.to_json(), ensure_ascii=False)`` and a newline to ``out``, the same bytes, one
        event at a time: the document of a run of 100,000 targets is never held whole."""
        head = json.dumps(self.to_json(events=False), ensure_ascii=False)  # ends with "events": []}
        out.write(head[:-2])
        for i, event in enumerate(self.events):
            out.write((", " if i else "") + json.dumps(self._event_json(event), ensure_ascii=False))
        out.write("]}\n")


# -- the JSON Schema -------------------------------------------------------------------------------

_TIME = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"}


def _open_word(description: str, known) -> dict:
    """An open string field: any string, the known values listed (consumers ignore others)."""
    return {"type": "string", "description": description, "examples": list(known)}


def run_json_schema() -> dict:
    """The JSON Schema of ``lastseen run --json`` (open: unknown fields and words are allowed)."""
    nullable_reason = {"anyOf": [{"type": "null"}, _open_word("why; see docs/verdicts.md", REASONS)]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"lastseen run --json output (schema {SCHEMA_VERSION})",
        "description": "Open contract: consumers must ignore fields, verdicts, reasons and flags they do not know.",
        "type": "object",
        "required": ["schema", "run", "events"],
        "properties": {
            "schema": {"const": SCHEMA_VERSION},
            "run": {
                "type": "object",
                "required": ["id", "started", "finished", "report", "alerts", "carried_alerts", "carried_robots",
                             "recovered", "chain_head", "timestamp"],
                "properties": {
                    "id": {"type": "string", "pattern": f"^{RUN_ID_PATTERN}$"},
                    "started": _TIME,
                    "finished": _TIME,
                    "report": {"type": ["string", "null"], "pattern": "index\\.html$"},
                    "alerts": {
                        "type": "array",
                        "items": {
                            "type": "object", "required": ["sink", "ok", "error"],
                            "properties": {"sink": {"type": "string"}, "ok": {"type": "boolean"},
                                           "error": {"type": ["string", "null"]}},
                        },
                    },
                    "carried_alerts": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["run", "target", "verdict", "reason", "summary", "url"],
                            "properties": {
                                "run": {"type": "string"}, "target": {"type": "string"},
                                "verdict": _open_word("see docs/verdicts.md", VERDICTS),
                                "reason": nullable_reason, "summary": {"type": "string"}, "url": {"type": "string"},
                            },
                        },
                    },
                    "carried_robots": {
                        "type": "array",
                        "description": "robots.txt alerts (settings.watch_robots) of earlier runs that never "
                                       "finished, carried into this run's message until delivered",
                        "items": {
                            "type": "object", "required": ["run", "url", "added", "removed"],
                            "properties": {
                                "run": {"type": "string"}, "url": {"type": "string"},
                                "added": {"type": "array", "items": {"type": "string"}},
                                "removed": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                    "recovered": {
                        "type": "array",
                        "items": {
                            "type": "object", "required": ["action"],
                            "properties": {
                                "action": _open_word("what recovery did", ["cut", "set-aside", "clock"]),
                                "file": {"type": "string"},
                                "cut_at": {"type": "integer", "minimum": 0},
                                "bytes_removed": {"type": "integer", "minimum": 0},
                                "rows_deleted": {"type": "integer", "minimum": 0},
                                "aborted_run": {"type": ["string", "null"]},
                                "moved_to": {"type": "string"},
                                "run": {"type": "string"},
                                "recorded": {"type": "string"},
                                "set_to": _TIME,
                            },
                        },
                    },
                    "chain_head": {
                        "description": "the custody log's last entry once this run's entries are committed "
                                       "(docs/evidence.md); null while the log is empty",
                        "anyOf": [{"type": "null"}, {
                            "type": "object", "required": ["seq", "sha256"],
                            "properties": {"seq": {"type": "integer", "minimum": 1},
                                           "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
                        }],
                    },
                    "timestamp": {
                        "description": "the chain head's RFC 3161 time-stamp (settings.timestamp_authority, "
                                       "docs/evidence.md): obtained, failed (retried by the next run) or off",
                        "type": "object",
                        "required": ["status", "authority", "seq", "sha256", "requested", "gen_time", "token",
                                     "error"],
                        "properties": {
                            "status": _open_word("what became of the head's time-stamp", TIMESTAMP_STATUSES),
                            "authority": {"type": ["string", "null"], "description": "the authority's URL"},
                            "seq": {"type": ["integer", "null"], "minimum": 1},
                            "sha256": {"anyOf": [{"type": "null"},
                                                 {"type": "string", "pattern": "^[0-9a-f]{64}$"}],
                                       "description": "the head stamped: the token's message imprint"},
                            "requested": {"anyOf": [{"type": "null"}, _TIME],
                                          "description": "when the token was asked for (lastseen's clock)"},
                            "gen_time": {"type": ["string", "null"],
                                         "description": "the token's time (the authority's clock), ISO 8601 UTC"},
                            "token": {"type": ["string", "null"], "pattern": "\\.tsr$",
                                      "description": "the token file (DER TimeStampResp), relative to the archive"},
                            "error": {"type": ["string", "null"], "description": "failed: why"},
                        },
                    },
                },
            },
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["event_id", "target", "url", "final_url", "status", "status_chain", "verdict", "reason",
                                 "alert", "summary", "diff", "capture_id", "warc", "flags", "fetch", "confirmed",
                                 "evidence", "significance", "parent", "robots_changed"],
                    "properties": {
                        "event_id": {"type": "string", "pattern": f"^{RUN_ID_PATTERN}:.+$",
                                     "description": "`<run id>:<target name>`: names this event to other "
                                                    "commands (docs/run-json.md)"},
                        "target": {"type": "string"},
                        "parent": {"type": ["string", "null"],
                                   "description": "a listing's item: the listing's name (the item's `target` is "
                                                  "`<listing>/<item key>`); null on other events"},
                        "robots_changed": {
                            "type": ["object", "null"],
                            "description": "the target's host's robots.txt, fetched in this run, added a rule "
                                           "that shuts archive crawlers (ia_archiver, archive.org_bot, *) out of "
                                           "a path of one of its targets: the archive crawlers' rules added and "
                                           "removed since the host's last robots.txt; null on other events",
                            "required": ["added", "removed"],
                            "properties": {"added": {"type": "array", "items": {"type": "string"}},
                                           "removed": {"type": "array", "items": {"type": "string"}}},
                        },
                        "url": {"type": "string", "pattern": "^https?://"},
                        "final_url": {"type": ["string", "null"]},
                        "status": {"type": ["integer", "null"]},
                        "status_chain": {"type": "array", "items": {"type": "integer"}},
                        "verdict": _open_word("see docs/verdicts.md", VERDICTS),
                        "reason": nullable_reason,
                        "alert": {"type": "boolean"},
                        "summary": {"type": "string"},
                        "diff": {
                            "oneOf": [
                                {"type": "null"},
                                {"type": "object", "required": ["insertions", "deletions", "unit", "fallback"],
                                 "properties": {"insertions": {"type": "integer", "minimum": 0},
                                                "deletions": {"type": "integer", "minimum": 0},
                                                "unit": _open_word("what was counted (docs/run-json.md)",
                                                                   list(UNITS)),
                                                "fallback": {"type": "boolean"},
                                                "moves": {"type": "integer", "minimum": 0,
                                                          "description": "paragraphs that moved unchanged (keyed "
                                                                         "units: keys that moved unchanged)"},
                                                "changed": {"type": "integer", "minimum": 0,
                                                            "description": "keyed units (path, cell) only: keys "
                                                                           "whose value changed; insertions and "
                                                                           "deletions count keys added and "
                                                                           "removed"}}},
                            ]
                        },
                        "capture_id": {"type": "integer"},
                        "confirmed": {"type": ["boolean", "null"],
                                      "description": "vanished, moved, unreachable, blocked: true once the state is "
                                                     "confirmed (this run or earlier), false while awaiting it; null "
                                                     "for other verdicts"},
                        "significance": {
                            "oneOf": [
                                {"type": "null"},
                                {"type": "object", "required": ["score", "parts"],
                                 "properties": {"score": {"type": "number", "minimum": 0, "maximum": 1},
                                                "parts": {"type": "object", "description": "an open list of "
                                                          "the parts of the score (docs/verdicts.md)"}}},
                            ],
                            "description": "changed events: how much the change matters; null otherwise",
                        },
                        "evidence": {"type": ["object", "null"],
                                     "description": "the signals computed and their values; an open list of keys "
                                                    "(docs/verdicts.md)"},
                        "fetch": _open_word("how the target was fetched", ["http", "browser"]),
                        "screenshot": {"type": ["string", "null"],
                                       "description": "browser fetches: the screenshot resource record's id"},
                        "subresources": {
                            "type": "object", "required": ["archived", "failed"],
                            "properties": {"archived": {"type": "integer", "minimum": 0},
                                           "failed": {"type": "integer", "minimum": 0}},
                        },
                        "flags": {"type": "array", "uniqueItems": True,
                                  "items": _open_word("see docs/run-json.md", FLAGS)},
                        "warc": {
                            "oneOf": [
                                {"type": "null"},
                                {"type": "object", "required": ["file", "offset", "record_id"],
                                 "properties": {"file": {"type": "string", "pattern": "\\.warc\\.gz$"},
                                                "offset": {"type": "integer", "minimum": 0},
                                                "record_id": {"type": "string",
                                                              "pattern": "^<urn:uuid:[0-9a-f-]{36}>$"}}},
                            ]
                        },
                    },
                },
            },
        },
    }


def _write_schema(path=None) -> str:
    """``python -m crawler.contract [PATH]``: write :func:`run_json_schema` to
    ``tests/contract.schema.json`` (or ``PATH``); returns the path written."""
    import json
    from pathlib import Path

    path = Path(path) if path else Path(__file__).resolve().parent.parent / "tests" / "contract.schema.json"
    path.write_text(json.dumps(run_json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return str(path)


if __name__ == "__main__":
    import sys

    print(f"wrote {_write_schema(*sys.argv[1:2])}")
