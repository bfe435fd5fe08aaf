"""Capture records: what a WARC ``metadata`` record says of the captures before it (pure).

What a WARC file cannot otherwise say of a capture (its target, run and role, its times, the error, the
robots.txt decision, TLS verification, its exchanges' records in order, the sub-resources that failed) is
written in ``application/warc-fields`` metadata records, so that ``lastseen reindex`` rebuilds the index
from the WARC files alone (docs/archive.md). Two forms, both read for ever:

- **form 1** (``lastseen-capture: 1``, before #17): one record per capture, right after its exchanges'
  records: its ``WARC-Target-URI`` the URL asked for, ``WARC-Concurrent-To`` its final response.
- **form 2** (``lastseen-capture: 2``, #17): one record per *batch*, written before the rows of its captures
  are committed (at each commit of the index, and when the file is closed): ``lastseen-capture: 2``,
  ``run``, then for each capture ``capture: <URL asked for>`` followed by its fields, in the order written.
  A batch lists every capture of its file whose records were written since the file's previous batch record:
  a capture's batch record is the first metadata record after its records in the same file. A file written
  in this form says so in its ``warcinfo`` record (:data:`WARCINFO_FIELD`): records of it that no batch
  record lists were written by a run that stopped before it listed them (and committed none of their rows).

:func:`capture_fields` makes one capture's fields, :func:`batch_fields` a batch record's,
:func:`read_captures` reads either form back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .formatting import iso_precise

__all__ = ["BATCH_FORMAT", "LEGACY_FORMAT", "WARCINFO_FIELD", "CaptureFacts", "batch_fields", "batch_uri",
           "capture_fields", "read_captures", "read_fields"]

LEGACY_FORMAT = 1   # one metadata record per capture
BATCH_FORMAT = 2    # one metadata record per batch of captures (#17)
#: The ``warcinfo`` field of a file whose captures are listed in batch records.
WARCINFO_FIELD = ("lastseen-capture", BATCH_FORMAT)
_SINGLE = ("target", "run", "role", "fetch", "started", "finished", "error-kind", "error", "robots",
           "tls-verified", "tls-error")


@dataclass
class CaptureFacts:
    """One capture as a capture record lists it: ``url`` (asked for), its single fields by name
    (:data:`_SINGLE`: ``target``, ``run``, ``role``...), its ``exchange`` and ``failed`` lines in order."""

    url: str
    fields: dict[str, str] = field(default_factory=dict)
    exchanges: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.fields.get(name, default)


def capture_fields(result, rows: Iterable[dict], role: str) -> list[tuple[str, object]]:
    """One capture's fields (its run aside): target, role, fetch, times, error, robots.txt decision, TLS
    verification, one ``exchange: <role> <request id> <response id> <ms>`` per record pair (``-`` for a resource
    with no request) and one ``failed: <url> <why>`` per sub-resource that failed."""
    final = result.final
    fields: list[tuple[str, object]] = [
        ("target", result.target), ("role", role), ("fetch", result.fetch), ("started", iso_precise(result.started)),
        ("finished", iso_precise(result.finished)), ("error-kind", result.error_kind), ("error", result.error),
        ("robots", result.robots),
    ]
    if final is not None and final.tls_verified is not None:
        fields += [("tls-verified", "yes" if final.tls_verified else "no"), ("tls-error", final.tls_error)]
    fields += [("exchange", f"{r['role']} {r['request_record_id'] or '-'} {r['response_record_id']} "
                            f"{r['duration_ms']}") for r in rows]
    fields += [("failed", f"{url} {why}") for url, why in result.failed]
    return fields


def batch_uri(run_id: str) -> str:
    """A batch record's ``WARC-Target-URI``: the run whose captures it lists."""
    return f"urn:lastseen:captures:{run_id}"


def batch_fields(run_id: str, captures: Iterable[tuple[str, list[tuple[str, object]]]]) -> list[tuple[str, object]]:
    """A batch record's block: ``lastseen-capture: 2``, ``run``, then ``capture: <url>`` and its fields
    (:func:`capture_fields`) per capture, as ``(url, fields)``."""
    out: list[tuple[str, object]] = [("lastseen-capture", BATCH_FORMAT), ("run", run_id)]
    for url, fields in captures:
        out.append(("capture", url))
        out.extend(fields)
    return out


def read_fields(block: bytes) -> list[tuple[str, str]]:
    """An ``application/warc-fields`` block: ``(name, value)`` in order, names lowercased."""
    out = []
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            out.append((name.strip().lower(), value.removeprefix(" ")))
    return out


def read_captures(block: bytes, target_uri: str | None) -> list[CaptureFacts] | None:
    """The captures a metadata record lists, in order (``target_uri``: its ``WARC-Target-URI``, the URL of a
    form 1 record's capture); None when it is no capture record (another tool's metadata, a form to come)."""
    fields = read_fields(block)
    form = next((v for k, v in fields if k == "lastseen-capture"), None)
    if form == str(LEGACY_FORMAT):
        one = CaptureFacts(target_uri or "")
        for name, value in fields:
            _add(one, name, value)
        return [one]
    if form != str(BATCH_FORMAT):
        return None
    run = next((v for k, v in fields if k == "run"), None)
    out: list[CaptureFacts] = []
    for name, value in fields:
        if name == "capture":
            out.append(CaptureFacts(value, {"run": run} if run else {}))
        elif out:
            _add(out[-1], name, value)
    return out


def _add(facts: CaptureFacts, name: str, value: str) -> None:
    if name == "exchange":
        facts.exchanges.append(value)
    elif name == "failed":
        facts.failed.append(value)
    elif name in _SINGLE:
        facts.fields.setdefault(name, value)
