"""``lastseen bundle EVENT_ID``: one change packed as a zip that anyone checks without lastseen
(docs/evidence.md, "Evidence bundles").

The zip ``<out>/lastseen-bundle-<safe event id>.zip`` holds one folder of the same name with:

- ``captures.wacz``: the event's captures (the one it judged, the one it compared with, a re-fetch's first
  fetch) as ``lastseen export --event`` packs them (:func:`crawler.export.pack`);
- ``change.html`` (and ``screenshots/`` for a browser target): the change page the run's report has for
  the event, self-contained, written by :func:`crawler.report.write_change_page`;
- ``custody.jsonl``: the custody log's entries, as their JSONL lines, from the first ``capture`` entry
  that lists one of the WACZ's records to the chain head (so the captures' entries, their WARC files'
  ``file`` entries and every link up to the head are there to recompute);
- ``timestamp.tsr`` and ``tsa-ca.pem``: the newest RFC 3161 token of a head at or after the last entry
  listing those records, and the authority's certificate the archive kept, when there is one;
- ``signing-key.pub.pem`` when ``settings.signing_key`` is set;
- ``README.txt`` (:mod:`crawler.bundlereadme`), ``MANIFEST.sha256`` over every file above, and with a key
  ``MANIFEST.sha256.sig`` (:mod:`crawler.manifests`).

On the record: a ``bundle`` entry of the custody log (the zip's name, absolute path, SHA-256 and size, the
manifest's SHA-256, the event, captures, record ids, the custody lines and token included, the signature),
committed under the archive's lock. A zip is never overwritten.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from . import __version__
from .bundlereadme import (
    CHANGE_PAGE,
    CUSTODY,
    MANIFEST,
    PUBLIC_KEY,
    README,
    TOKEN,
    TSA_CA,
    WACZ,
    ReadmeFacts,
    readme_text,
)
from .custody import canonical, capture_records
from .custodycopy import CustodyCopy
from .errors import ArchiveError, UsageError
from .events import find_event, parse_event_id
from .export import Selection, pack
from .formatting import iso, iso_precise, one_line, parse_iso, printable
from .manifests import hash_file, sign_manifest, write_manifest

__all__ = ["DEFAULT_OUT", "Bundled", "build_bundle", "bundle_name"]

#: Where bundles go without ``--out`` (relative to the working folder, as reports/).
DEFAULT_OUT = Path("reports") / "bundles"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Bundled:
    path: Path
    sha256: str
    size: int
    files: tuple[str, ...]
    entry: dict
    token_seq: int | None
    fingerprint: str | None


def bundle_name(event: str) -> str:
    """``lastseen-bundle-<event id>``, the id's ``:`` as ``_``; any other character but ``[A-Za-z0-9._-]``
    replaced and the id cut to 100 characters, in which case the first 8 hex digits of its SHA-256 follow."""
    run_id, target = parse_event_id(event)
    safe = _UNSAFE.sub("-", target).strip("-.")
    name = f"{run_id}_{safe}"[:100]
    if name != f"{run_id}_{target}":
        name += (
            "-" + hashlib.sha256(event.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        )
    return f"lastseen-bundle-{name}"


def build_bundle(
    archive,
    event: str,
    out_dir: Path,
    now: datetime,
    *,
    signing_key: str | None = None,
) -> Bundled:
    """Write event ``event``'s bundle into ``out_dir`` and append its ``bundle`` entry (the caller holds the
    archive's lock). :class:`~crawler.errors.EventIdError` (exit 2) for an unknown or malformed id."""
    store, root = archive.store, archive.root
    before, after = find_event(store, event)
    if before is None:
        raise UsageError(
            f"event {one_line(event)!r} is a first capture: nothing was compared, so there is no change to "
            f"bundle; `lastseen export --event` packs its capture"
        )
    name = bundle_name(event)
    out = Path(out_dir) / f"{name}.zip"
    if out.exists() or out.is_symlink():
        raise UsageError(
            f"{printable(str(out))!r} exists: a bundle is never overwritten; move it away to build another"
        )
    stage = tempfile.TemporaryDirectory(prefix=".lastseen-bundle-", dir=out_dir)
    try:
        folder = Path(stage.name) / name
        folder.mkdir()
        done = pack(store, root, folder / WACZ, Selection(event=event), now)
        fingerprint = _change_page(
            store, root, event, before, after, folder / CHANGE_PAGE, now, signing_key
        )
        with open(folder / CUSTODY, "wb") as fh:
            first, last, head = _custody_lines(store, done.plan, fh)
        token = _token(store, root, folder, last, head)
        files = [
            (WACZ, ("the captures' WARC records, copied byte for byte from the archive (a WACZ: open it in "
             "ReplayWeb.page to see the pages as served)")),
            (CHANGE_PAGE, ("the change page of lastseen's report (open it in a browser: it runs no script "
             "from the archived pages and loads nothing)")),
            (CUSTODY, ("the custody log's entries, one JSON line each, holding each record's SHA-256 and the "
             "SHA-256 of the entry before")),
        ]  # fmt: skip
        if (folder / "screenshots").is_dir():
            files.append(("screenshots/", "the two screenshots the change page shows"))
        if token is not None:
            files += [
                (
                    TOKEN,
                    f"an RFC 3161 time-stamp token over entry #{token['seq']}'s SHA-256",
                ),
                (
                    TSA_CA,
                    "the time-stamping authority's certificate, as the archive kept it",
                ),
            ]
        signer = None
        if signing_key:
            from .signing import public_key_pem

            (folder / PUBLIC_KEY).write_bytes(public_key_pem(Path(signing_key)))
            files.append(
                (PUBLIC_KEY, "the public key whose private key signed the manifest")
            )
        files += [
            (
                MANIFEST,
                "the SHA-256 of every file here but itself and its signature (sha256sum format)",
            ),
            *(
                [("MANIFEST.sha256.sig", "the manifest's Ed25519 signature")]
                if signing_key
                else []
            ),
            (README, "this file"),
        ]
        facts = ReadmeFacts(
            event=event,
            target=after["target"],
            url=after.get("final_url") or after["url"],
            before=_described(before),
            after=_described(after),
            verdict=(store.event_row(*parse_event_id(event)) or {}).get("verdict")
            or "",
            made=iso(now),
            software=f"lastseen {__version__}",
            first_seq=first,
            head=head,
            token_seq=token["seq"] if token else None,
            fingerprint=fingerprint,
        )
        (folder / README).write_text(readme_text(facts, files), encoding="utf-8")
        listed = sorted(
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and p.name != MANIFEST
        )
        manifest = write_manifest(folder, listed, folder / MANIFEST)
        if signing_key:
            signer = sign_manifest(Path(signing_key), folder / MANIFEST)
        sha, size, members = _zip(folder, name, out, now)
    finally:
        stage.cleanup()
    content = {
        "event": event,
        "out": out.name,
        "path": os.path.abspath(out),
        "sha256": sha,
        "size": size,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "captures": done.captures,
        "records": done.records,
        "custody": {"from": first, "to": head["seq"]},
    }
    if token is not None:
        content["timestamp"] = {"seq": token["seq"], "sha256": token["sha256"]}
    if signer is not None:
        content["signature"] = signer.to_json()
    try:
        with store.transaction():
            entry = store.append_custody("bundle", iso_precise(now), content)
        CustodyCopy(root).complete(store)
    except BaseException:
        out.unlink(missing_ok=True)  # not on the record: not handed out
        raise
    return Bundled(
        out, sha, size, members, entry, token["seq"] if token else None, fingerprint
    )


def _described(row: dict) -> str:
    started = parse_iso(row.get("started"))
    when = iso(started) if started else row.get("started")
    return f"capture {row['id']}, fetched {when}, HTTP {row.get('status')}"


def _change_page(store, root, event, before, after, path, now, signing_key):
    """The run report's change page of the event (its verdict, reason and diff), else (an event the report
    shows no diff for) the two captures compared as ``lastseen diff --out`` does; the key's fingerprint."""
    from .keyed import diff_by_kind
    from .report import change_event, write_change_page
    from .report.views import report_events
    from .signing import key_fingerprint

    run_id, target = parse_event_id(event)
    own = store.event_row(run_id, target)
    rows = [r for r in store.events(run_id=run_id) if r["id"] == own["id"]]
    shown = next(iter(report_events(store, rows, archive_root=root)), None)
    if shown is None or shown.diff is None or shown.compared is None:
        old_text = store.text(before["text_sha256"]) or ""
        new_text = store.text(after["text_sha256"]) or ""
        changes = diff_by_kind(old_text, new_text, after.get("kind"), timeout=5.0)
        shown = replace(
            change_event(store, before, after, changes, archive_root=root),
            event_id=event,
        )
    fingerprint = key_fingerprint(signing_key)
    write_change_page(
        path,
        shown,
        title=f"lastseen bundle {event}",
        generated=now,
        chain_head=store.custody_head(),
        signing_fingerprint=fingerprint,
    )
    return fingerprint


def _custody_lines(store, plan: dict, fh) -> tuple[int, int, dict]:
    """Write to ``fh`` the JSONL lines from the first ``capture`` entry listing a record of ``plan`` to the
    head; the seqs of the first and last such entries, and the head."""
    wanted = set(plan)
    first = last = head = None
    for entry in store.custody_entries():
        content = entry["content"]
        if entry["kind"] == "capture" and any(
            (content.get("warc_file"), r.get("offset")) in wanted
            for r in capture_records(content)
        ):
            first = entry["seq"] if first is None else first
            last = entry["seq"]
        if first is not None:
            fh.write(canonical(entry) + b"\n")
            head = {"seq": entry["seq"], "sha256": entry["sha256"]}
    if first is None:
        raise ArchiveError(
            "no custody entry lists these captures' records (captures made before the custody log): a "
            "bundle needs them; `lastseen export --event` packs the captures without"
        )
    return first, last, head


def _token(store, root: Path, folder: Path, last: int, head: dict) -> dict | None:
    """Copy the newest granted token of a head at or after entry ``last`` (up to ``head``) and its CA."""
    from .store.timestamps import custody_hash_at

    tokens = [
        t
        for t in store.granted_tokens()
        if last <= t["seq"] <= head["seq"]
        and custody_hash_at(store.conn, t["seq"]) == t["sha256"]
        and t.get("ca_file")
        and (root / t["ca_file"]).is_file()
    ]
    if not tokens:
        return None
    token = max(tokens, key=lambda t: (t["seq"], t["id"]))
    (folder / TOKEN).write_bytes(bytes(token["token"]))
    shutil.copyfile(root / token["ca_file"], folder / TSA_CA)
    return token


def _zip(
    folder: Path, name: str, out: Path, now: datetime
) -> tuple[str, int, tuple[str, ...]]:
    """Zip ``folder`` as ``name/…`` into ``out`` (a temporary file beside it, then renamed)."""
    members = sorted(p for p in folder.rglob("*") if p.is_file())
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    stamp = now.timetuple()[:6]
    try:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
            for path in members:
                rel = path.relative_to(folder).as_posix()
                info = zipfile.ZipInfo(f"{name}/{rel}", date_time=stamp)
                info.compress_type = (
                    zipfile.ZIP_STORED if rel == WACZ else zipfile.ZIP_DEFLATED
                )
                info.external_attr = 0o644 << 16
                with open(path, "rb") as src, zf.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        sha, size = hash_file(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ArchiveError(
            f"cannot write {out}: {exc.strerror or exc}; check that the folder is writable and the disk "
            f"is not full"
        ) from exc
    return sha, size, tuple(p.relative_to(folder).as_posix() for p in members)
