"""The custody log's chain (pure): entries, their canonical form and their hashes.

An entry is ``{"seq", "kind", "time", "prev", "content", "sha256"}``: ``seq`` counts from 1, ``prev`` is
the previous entry's ``sha256`` (:data:`GENESIS` for the first), ``sha256`` the SHA-256 of the canonical
form (:func:`canonical`) of every other field. The JSONL copy (``archive/custody/YYYY-MM.jsonl``) holds
each entry's canonical form with its ``sha256``, one per line, so anyone can check the chain with ``jq``
and ``sha256sum`` (docs/evidence.md, "Custody log"). Kinds (:data:`KINDS`): ``capture``, ``file``,
``recovery``, ``export``, ``bundle``. A ``capture`` entry lists its records compactly since #17 (``"v": 2``,
:func:`compact_records`), and since ``"v": 3`` every capture a commit holds (:func:`captures_content`);
:func:`capture_records` and :func:`entry_captures` read every form. No IO, no clock: times are given.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping

__all__ = [
    "CAPTURES_VERSION",
    "CAPTURE_VERSION",
    "GENESIS",
    "KINDS",
    "ChainError",
    "canonical",
    "capture_records",
    "captures_content",
    "check_chain",
    "compact_records",
    "entry_captures",
    "entry_hash",
    "head",
    "make_entry",
    "recovery_entries",
]

#: ``prev`` of the first entry: 64 zeros.
GENESIS = "0" * 64
#: The kinds of entry, and what each one's ``content`` holds (docs/evidence.md).
KINDS = {
    "capture": "the captures one commit holds in one WARC file (#17, v3): their run and WARC file, each one's id, "
               "target, role and every record written for it, and the batch capture records written with them; "
               "before v3, one capture each (and its commit's batch capture record), or a batch capture record "
               "no capture's entry lists",
    "file": "a closed WARC file: its SHA-256 and size",
    "recovery": "a recovery that cut a `.open` WARC file: what was removed and the SHA-256 of what was kept",
    "export": "a WACZ written by `lastseen export`: its name, SHA-256 and size, and the captures and records in it",
    "bundle": "a zip written by `lastseen bundle`: its name, SHA-256 and size, the event, and what it holds",
}
_FIELDS = ("seq", "kind", "time", "prev", "content")
#: ``v`` of the ``capture`` entries written now: each record ``[type, offset, length, uuid, sha256]`` (#17). Entries
#: without ``v`` (written before) list each record as an object with its WARC digests too; both stay valid.
CAPTURE_VERSION = 2
#: ``v`` of the ``capture`` entries written since one lists every capture of a commit in one WARC file (#17):
#: ``captures`` is ``[[capture_id, target, role, records], ...]``, ``records`` the batch capture records.
CAPTURES_VERSION = 3
_UUID = re.compile(r"<urn:uuid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})>")
# Left raw by json.dumps(ensure_ascii=False) but escaped by jq (DEL), or not encodable as UTF-8 (lone surrogates).
_ESCAPED = re.compile("[\x7f\ud800-\udfff]")


class ChainError(ValueError):
    """An entry that does not hold: its ``seq``, what is wrong."""


def canonical(value: Mapping) -> bytes:
    """JSON with sorted keys, no spaces, non-ASCII as UTF-8 (not escaped) but DEL and lone surrogates as
    ``\\u007f``/``\\udXXX`` (as ``jq -cS`` writes them), integers and strings only: the bytes an entry's
    hash is over, and (with the hash) its JSONL line."""
    text = json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return _ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode("utf-8")


def entry_hash(entry: Mapping) -> str:
    """The SHA-256 (hex) of the canonical form of ``entry``'s fields but ``sha256``."""
    return hashlib.sha256(canonical({k: entry[k] for k in _FIELDS})).hexdigest()


def make_entry(seq: int, kind: str, time: str, prev: str, content: Mapping) -> dict:
    """The entry following one whose hash is ``prev`` (``GENESIS`` when ``seq`` is 1)."""
    if kind not in KINDS:
        raise ValueError(
            f"unknown custody entry kind {kind!r}; one of {', '.join(KINDS)}"
        )
    entry = {
        "seq": seq,
        "kind": kind,
        "time": time,
        "prev": prev,
        "content": dict(content),
    }
    entry["sha256"] = entry_hash(entry)
    return entry


def check_chain(
    entries: Iterable[Mapping], *, after: Mapping | None = None
) -> dict | None:
    """Check that ``entries`` (in order) each hash to their ``sha256`` and link to the one before (to ``after``,
    the entry before the first, when given; else the first must be seq 1 on :data:`GENESIS`). Return the last
    entry's head (:func:`head`), None for none. Raises :class:`ChainError` naming the first entry that fails."""
    prev_seq, prev_hash = (after["seq"], after["sha256"]) if after else (0, GENESIS)
    last = None
    for entry in entries:
        seq = entry.get("seq")
        if seq != prev_seq + 1:
            raise ChainError(f"entry {seq}: expected seq {prev_seq + 1}")
        if entry.get("prev") != prev_hash:
            raise ChainError(f"entry {seq}: prev is not the hash of entry {prev_seq}")
        if entry_hash(entry) != entry.get("sha256"):
            raise ChainError(f"entry {seq}: its sha256 is not the hash of its fields")
        prev_seq, prev_hash, last = seq, entry["sha256"], entry
    return head(last) if last is not None else None


def compact_records(records: Iterable[Mapping]) -> list[list]:
    """Records (``{"type", "record_id", "offset", "length", "sha256", ...}``) as a ``"v": 2`` capture entry lists
    them: ``[type, offset, length, uuid, sha256]``, the uuid of a ``<urn:uuid:…>`` record id (any other id whole).
    Left out, what the record's own headers hold and its ``sha256`` covers (its WARC digests)."""
    out = []
    for r in records:
        rid = r["record_id"]
        m = _UUID.fullmatch(rid) if isinstance(rid, str) else None
        out.append([r["type"], r["offset"], r["length"], m.group(1) if m else rid, r["sha256"]])
    return out


def captures_content(run: str, warc_file: str, captures: Iterable[tuple], records: list) -> dict:
    """A ``"v": 3`` ``capture`` entry's content: the captures a commit holds in ``warc_file``, each
    ``(capture_id, target, role, records)`` (records as :func:`compact_records` gives them), and ``records``,
    the batch capture records written with them (compact too)."""
    return {"v": CAPTURES_VERSION, "run": run, "warc_file": warc_file,
            "captures": [[cid, target, role, list(recs)] for cid, target, role, recs in captures],
            "records": list(records)}


def entry_captures(content: Mapping) -> list[dict]:
    """What a ``capture`` entry says of each capture it lists, in order: ``{"capture_id", "run", "target", "role",
    "warc_file", "records"}`` (records as :func:`capture_records` gives them; ``capture_id``, ``target`` and
    ``role`` None for a batch capture record no capture lists). A ``"v": 3`` entry's batch capture records are
    listed last by its last capture, as a ``"v": 2`` entry listed its commit's."""
    if content.get("v") != CAPTURES_VERSION:
        return [{"capture_id": content.get("capture_id"), "run": content.get("run"), "target": content.get("target"),
                 "role": content.get("role"), "warc_file": content.get("warc_file"),
                 "records": capture_records(content)}]
    out = []
    for item in content.get("captures") or []:
        if not isinstance(item, list) or len(item) != 4:
            continue  # not what this version writes: the entry's hash says it was altered
        cid, target, role, recs = item
        out.append({"capture_id": cid, "run": content.get("run"), "target": target, "role": role,
                    "warc_file": content.get("warc_file"), "records": _compact(recs if isinstance(recs, list) else [])})
    batch = _compact(content.get("records") or [])
    if out:
        out[-1]["records"] += batch
    elif batch:
        out.append({"capture_id": None, "run": content.get("run"), "target": None, "role": None,
                    "warc_file": content.get("warc_file"), "records": batch})
    return out


def capture_records(content: Mapping) -> list[dict]:
    """The records a ``capture`` entry's ``content`` lists, as ``{"type", "record_id", "offset", "length",
    "sha256"}`` (and ``block_digest``, ``payload_digest`` from an entry written before ``"v": 2``), in order
    (a ``"v": 3`` entry's: each capture's, then the batch capture records)."""
    records = content.get("records") or []
    if content.get("v") == CAPTURES_VERSION:
        return [r for capture in entry_captures(content) for r in capture["records"]]
    if content.get("v") != CAPTURE_VERSION:
        return [dict(r) for r in records if isinstance(r, Mapping)]
    return _compact(records)


def _compact(records: list) -> list[dict]:
    out = []
    for item in records:
        if not isinstance(item, list) or len(item) != 5:
            continue  # not what this version writes: the entry's hash says it was altered
        kind, offset, length, rid, sha256 = item
        if isinstance(rid, str) and not rid.startswith("<"):
            rid = f"<urn:uuid:{rid}>"
        out.append({"type": kind, "record_id": rid, "offset": offset, "length": length, "sha256": sha256})
    return out


def recovery_entries(
    file: str,
    *,
    cut_at: int,
    bytes_removed: int,
    kept_sha256: str | None,
    aborted_run: str | None,
    run: str | None,
) -> list[tuple[str, dict]]:
    """The ``(kind, content)`` of the entries a recovery that cut a ``.open`` WARC file makes: ``recovery``, and
    ``file`` for the file it closed (none when no record was complete and the file was deleted)."""
    out = [
        (
            "recovery",
            {
                "file": file,
                "cut_at": cut_at,
                "bytes_removed": bytes_removed,
                "kept_sha256": kept_sha256,
                "aborted_run": aborted_run,
                "run": run,
            },
        )
    ]
    if cut_at > 0:
        out.append(("file", {"file": file, "sha256": kept_sha256, "size": cut_at}))
    return out


def head(entry: Mapping) -> dict:
    """The chain head an entry makes: ``{"seq", "sha256"}``."""
    return {"seq": entry["seq"], "sha256": entry["sha256"]}
