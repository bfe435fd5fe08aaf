"""``lastseen export``: chosen captures' WARC records packed as a WACZ (:mod:`crawler.wacz`), on the record.

- Which captures (:func:`select_captures`): every capture whose start is in ``--since``/``--until``
  (:mod:`crawler.window`; without either, every capture) of the targets ``--only`` names (names, tags,
  ``LISTING/KEY``, as for ``lastseen report``); or with ``--event RUN_ID:TARGET`` (:mod:`crawler.events`)
  the capture that event judged, the one it was compared with and a re-fetch's first fetch.
- Which records (:func:`plan_records`): every record the custody log's ``capture`` entry lists for each
  capture (responses, revisits, requests, screenshots, DOM, text, its own ``metadata`` record before #17)
  and, since #17, the batch's capture record that lists it (the first ``metadata`` record after its records
  in its file: it lists the other captures of its batch too), else (captures made before the log) its
  exchanges' responses and requests; and each revisit's original response, found by its
  ``WARC-Refers-To``, so that an export never depends on a record outside it.
- Copied byte for byte as their gzip members (:func:`export`), each checked first: one complete gzip
  member, whose uncompressed bytes have the SHA-256 its custody entry recorded; one WARC file in the
  WACZ per WARC file of the archive, with its name, starting with a ``warcinfo`` record of the export.
  Nothing in the archive's ``warcs/`` is written.
- On the record: an ``export`` entry of the custody log (the WACZ's name, absolute path, SHA-256 and size,
  its datapackage.json's SHA-256, the captures and record ids exported, the selection; with a signing key
  the signature's SHA-256 and the key's fingerprint), committed under the archive's lock, and its line in
  the JSONL copy. ``lastseen verify`` checks the file again while it is at that path.
- Signed (``settings.signing_key``): ``<out>.sha256`` (the WACZ's ``sha256sum`` line), its detached Ed25519
  signature ``<out>.sha256.sig`` and the public key ``<out>.pub.pem`` beside the WACZ
  (:mod:`crawler.manifests`).
"""

from __future__ import annotations

import bisect
import hashlib
import os
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .capturerecords import read_captures
from .custodycopy import CustodyCopy
from .errors import ArchiveError, UsageError
from .formatting import iso_precise, one_line, parse_iso, plural
from .manifests import export_files, manifest_line, sign_manifest
from .store.records import OWN_ROLES
from .wacz import WaczWriter, Written
from .warcfiles import WARC_SPEC

__all__ = ["Exported", "Selection", "export", "pack", "plan_records", "select_captures"]

_REPLAYED = ("response", "revisit")


@dataclass(frozen=True)
class Selection:
    """What ``lastseen export`` was asked for, as typed."""

    only: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    event: str | None = None

    def to_json(self) -> dict:
        return {
            "only": list(self.only),
            "since": self.since,
            "until": self.until,
            "event": self.event,
        }

    def describe(self) -> str:
        """The selection in words, on one line with its controls shown (:func:`~crawler.formatting.one_line`)."""
        if self.event:
            return one_line(f"event {self.event}")
        parts = [f"--only {', '.join(self.only)}"] if self.only else []
        parts += [f"--since {self.since}"] if self.since else []
        parts += [f"--until {self.until}"] if self.until else []
        return one_line(" ".join(parts)) or "every capture"


@dataclass(frozen=True)
class Record:
    """One record to copy: where its gzip member is in the archive, and what the custody log says of it."""

    file: str  # relative to the archive: warcs/<name>
    offset: int
    length: int
    type: str | None = None
    sha256: str | None = None


@dataclass
class Exported:
    """An export written and on the record."""

    written: Written
    captures: list[int]
    records: list[str]
    pages: int
    entry: dict
    originals: int = 0  # revisits' originals taken in from outside the selection
    notes: list[str] = field(default_factory=list)
    plan: dict = field(default_factory=dict)  # the records copied, by (file, offset)


def select_captures(store, selection: Selection, now: datetime) -> list[dict]:
    """The ``captures`` rows chosen (with their target's ``tags``), by id; a :class:`UsageError` (exit 2)
    when the options are wrong or choose nothing."""
    import json

    if selection.event is not None:
        from .events import parse_event_id

        if selection.only or selection.since or selection.until:
            raise UsageError(
                "--event names the captures itself: give it without --only, --since or --until"
            )
        run_id, target = parse_event_id(selection.event)
        event = store.event_captures(run_id, target)
        if event is None:
            raise UsageError(
                f"--event {one_line(selection.event)!r}: the archive holds no event of target "
                f"{one_line(target)!r} in run {one_line(run_id)!r} (`lastseen run --json` and the reports give "
                f"run ids; target names are exact)"
            )
        ids = [
            event[k]
            for k in ("capture_id", "compared_capture_id", "first_capture_id")
            if event.get(k)
        ]
        rows = store.captures_by_id(ids)
    else:
        from .report.window import read_scope

        scope = read_scope(
            None, selection.only, True, store
        )  # --only checked: a value matching nothing is refused
        if selection.since is None and selection.until is None:
            rows, window = store.captures_started("0000", "9999"), None
        else:
            from .window import parse_window

            window = parse_window(selection.since or "1970-01-01", selection.until, now)
            rows = store.captures_started(
                iso_precise(window.start), iso_precise(window.end)
            )
        rows = [
            r
            for r in rows
            if scope.keeps(r["target"], json.loads(r["tags"] or "[]"))
            and (
                window is None
                or (parse_iso(r["started"]) or datetime.min.replace(tzinfo=UTC))
                in window
            )
        ]
    if not rows:
        raise UsageError(
            f"nothing to export: no capture matches {selection.describe()}; `lastseen status` lists the targets "
            f"and their last captures"
        )
    return rows


def plan_records(
    store, root: Path, captures: list[dict]
) -> tuple[dict[tuple[str, int], Record], int, set[int]]:
    """Every record to copy, by ``(file, offset)``; how many are revisits' originals added to them; and the
    ids of the captures that wrote at least one record."""
    ids = [c["id"] for c in captures]
    exchanges = store.exchange_records(ids)
    files = {c["warc_file"] for c in captures if c.get("warc_file")}
    files |= {r["warc_file"] for recs in exchanges.values() for r in recs}
    entries = store.capture_entries(files)
    by_record = {
        (e["warc_file"], r["offset"]): e for e in entries for r in e.get("records", [])
    }
    by_capture = {
        (e.get("capture_id"), e.get("run"), e.get("target")): e for e in entries
    }
    capture_records: dict[str, list[tuple[int, dict]]] = {}  # file -> its metadata records, by offset
    for e in entries:
        for r in e.get("records", []):
            if r.get("type") == "metadata":
                capture_records.setdefault(e["warc_file"], []).append((r["offset"], r))
    for found in capture_records.values():
        found.sort(key=lambda x: x[0])
    plan: dict[tuple[str, int], Record] = {}
    covered: set[int] = set()
    private = _BatchFilter(root, {c["target"] for c in captures})
    for c in captures:
        own = exchanges.get(c["id"], [])
        entry = next(
            (
                by_record[k]
                for k in ((r["warc_file"], r["offset"]) for r in own)
                if k in by_record
            ),
            None,
        )
        if entry is None and not own:
            entry = by_capture.get((c["id"], c["run_id"], c["target"]))
        if entry is not None or own:
            covered.add(c["id"])
        if entry is not None:
            listed = list(entry["records"])
            if listed and not any(r.get("type") == "metadata" for r in listed):
                # its batch's capture record (#17): the first metadata record after its records in its file
                found = capture_records.get(entry["warc_file"], [])
                at = bisect.bisect_right(found, max(r["offset"] for r in listed), key=lambda x: x[0])
                listed += [found[at][1]] if at < len(found) else []
            listed = [r for r in listed if r.get("type") != "metadata"
                      or private.keep(entry["warc_file"], r)]
            for r in listed:
                plan[(entry["warc_file"], r["offset"])] = Record(
                    entry["warc_file"],
                    r["offset"],
                    r["length"],
                    r.get("type"),
                    r.get("sha256"),
                )
        else:  # made before the custody log: what the index knows of its exchanges
            for r in own:
                plan.setdefault(
                    (r["warc_file"], r["offset"]),
                    Record(r["warc_file"], r["offset"], r["length"], r["type"]),
                )
    originals = 0
    for rec in [r for r in plan.values() if r.type == "revisit"]:
        refers = _headers(_read_member(root, rec)[1]).get("warc-refers-to")
        found = store.response_record(refers) if refers else None
        if found is None:
            raise ArchiveError(
                f"the revisit record at {rec.file} offset {rec.offset} refers to {one_line(refers or 'no record')}, "
                f"which the index does not hold: the export would depend on a record outside it. "
                f"`lastseen reindex` rebuilds the index from the WARC files"
            )
        key = (found["warc_file"], found["offset"])
        if key not in plan:
            plan[key] = Record(
                found["warc_file"], found["offset"], found["length"], "response"
            )
            originals += 1
    known = {
        (e["warc_file"], r["offset"]): r.get("sha256")
        for e in store.capture_entries({k[0] for k in plan})
        for r in e.get("records", [])
    }
    for key, rec in plan.items():
        if rec.sha256 is None and known.get(key):
            plan[key] = Record(rec.file, rec.offset, rec.length, rec.type, known[key])
    return plan, originals, covered


def export(
    archive,
    out: Path,
    selection: Selection,
    now: datetime,
    *,
    signing_key: str | None = None,
) -> Exported:
    """Write the WACZ of ``selection`` to ``out`` and append its ``export`` entry to the custody log (the
    caller holds the archive's lock: ``archive`` is an :class:`~crawler.archive.Archive`). With
    ``signing_key`` (``settings.signing_key``) the WACZ's manifest is signed (:mod:`crawler.manifests`)."""
    store, root = archive.store, archive.root
    done = pack(store, root, out, selection, now)
    written = done.written
    content = {
        "out": written.path.name,
        "path": os.path.abspath(written.path),
        "sha256": written.sha256,
        "size": written.size,
        "datapackage_sha256": written.datapackage_sha256,
        "captures": done.captures,
        "records": done.records,
        "selection": selection.to_json(),
    }
    beside = export_files(written.path) if signing_key else None
    try:
        if beside is not None:
            beside.manifest.write_bytes(
                manifest_line(written.sha256, written.path.name)
            )
            signed = sign_manifest(Path(signing_key), beside.manifest)
            beside.pub.write_bytes(signed.pub_pem)
            content["signature"] = signed.to_json()
        with store.transaction():
            done.entry = store.append_custody("export", iso_precise(now), content)
        CustodyCopy(root).complete(store)
    except BaseException:
        written.path.unlink(missing_ok=True)  # not on the record: not handed out
        for path in beside.all() if beside is not None else ():
            path.unlink(missing_ok=True)
        raise
    return done


def pack(store, root: Path, out: Path, selection: Selection, now: datetime) -> Exported:
    """Write the WACZ of ``selection`` to ``out``, off the record (its ``entry`` is empty): the caller
    records it (:func:`export`, :mod:`crawler.bundle`)."""
    captures = select_captures(store, selection, now)
    plan, originals, covered = plan_records(store, root, captures)
    if not plan:
        raise UsageError(
            f"nothing to export: the {plural(len(captures), 'capture')} matching {selection.describe()} "
            f"wrote no WARC record"
        )
    writer = WaczWriter(now=now, software=f"lastseen {__version__}")
    heads: dict[tuple[str, int], dict] = {}
    record_ids: list[str] = []
    try:
        for key in sorted(plan):
            rec = plan[key]
            member, data = _read_member(root, rec)
            if (
                rec.sha256 is not None
                and hashlib.sha256(data).hexdigest() != rec.sha256
            ):
                raise ArchiveError(
                    f"the record at {rec.file} offset {rec.offset} is not the one the custody log recorded (its "
                    f"SHA-256 differs): nothing was exported. `lastseen verify` names what changed"
                )
            heads[key] = _headers(data)
            record_ids.append(heads[key].get("warc-record-id", ""))
            name = Path(rec.file).name
            writer.add_record(name, member, _warcinfo(rec.file, out))
        pages = 0
        for c in captures:
            head = heads.get((c.get("warc_file"), c.get("warc_offset")))
            if (
                head is None
                or c.get("record_type") not in _REPLAYED
                or (c.get("role") or "page") not in OWN_ROLES
            ):
                continue
            url = head.get("warc-target-uri") or c.get("final_url") or c["url"]
            page = {
                "id": f"capture-{c['id']}",
                "url": url,
                "ts": head.get("warc-date"),
                "title": c.get("title") or url,
            }
            text = store.text(c.get("text_sha256"))
            if text:
                page["text"] = text
            page.update({"target": c["target"], "capture": c["id"], "run": c["run_id"]})
            writer.add_page(page)
            pages += 1
        exported = sorted(covered)
        targets = sorted({c["target"] for c in captures})
        # Readers render the description as Markdown: it holds no name or text from the archive or the
        # command line (target names and --only values are in pages.jsonl and the custody entry, as data).
        what = f"{plural(len(exported), 'capture')} of {plural(len(targets), 'target')}"
        written = writer.finish(
            out,
            title=f"lastseen export: {what}",
            description=f"{what[0].upper()}{what[1:]} exported from a lastseen archive, their WARC records "
            f"copied byte for byte; each record's SHA-256 is in the archive's custody log, and so is this "
            f"file's.",
        )
    except BaseException:
        writer.close()
        raise
    return Exported(written, exported, record_ids, pages, {}, originals, plan=plan)


def _warcinfo(source: str, out: Path) -> dict[str, str]:
    return {
        "software": f"lastseen/{__version__}",
        "format": "WARC File Format 1.1",
        "conformsTo": WARC_SPEC,
        "isPartOf": out.name,
        "source": source,
        "description": f"lastseen export: the records after this one are copied byte for byte, as their gzip "
        f"members and in their order there, from {source} of the archive",
    }


class _BatchFilter:
    """Which capture records an export may carry: a batch capture record (#17) lists every capture of its
    commit, so it goes into an export only when every target it names is one of the export's; a capture
    record of one capture (before #17), or one that names no other target, always does. An investigator's
    export of one target never tells who else the archive watches (docs/evidence.md)."""

    def __init__(self, root: Path, targets: set[str]):
        self.root, self.targets, self.seen = root, targets, {}

    def keep(self, file: str, r: dict) -> bool:
        key = (file, r["offset"])
        if key not in self.seen:
            data = _read_member(self.root, Record(file, r["offset"], r["length"], "metadata"))[1]
            head, _, block = data.partition(b"\r\n\r\n")
            facts = read_captures(block, _headers(head).get("warc-target-uri")) or []
            self.seen[key] = all(f.get("target") in self.targets for f in facts)
        return self.seen[key]


def _read_member(root: Path, rec: Record) -> tuple[bytes, bytes]:
    """The gzip member at ``rec`` as archived, and its uncompressed bytes (one whole WARC record)."""
    path = root / rec.file
    try:
        with open(path, "rb") as fh:
            fh.seek(rec.offset)
            member = fh.read(rec.length)
    except OSError as exc:
        raise ArchiveError(
            f"cannot read {path}: {exc.strerror or exc}; nothing was exported (`lastseen verify` checks the archive)"
        ) from exc
    inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        data = inflate.decompress(member)
        whole = inflate.eof and not inflate.unused_data and len(member) == rec.length
    except zlib.error:
        whole = False
    if not whole:
        raise ArchiveError(
            f"{path} holds no whole WARC record at offset {rec.offset} ({rec.length} bytes) where the index "
            f"says one is: nothing was exported (`lastseen verify` names what changed)"
        )
    return member, data


def _headers(data: bytes) -> dict[str, str]:
    """A WARC record's header fields (names in lower case) from its uncompressed bytes."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    out: dict[str, str] = {}
    for line in head.split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            out.setdefault(name.strip().lower(), value.strip())
    return out
