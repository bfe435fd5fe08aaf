"""Rebuilding the index from the WARC files: ``lastseen reindex``.

The WARC files are the evidence; ``lastseen.db`` only indexes them. Under the
archive's lock (exit 3 when a run holds it) a new index is built beside the old one
(``lastseen.db.rebuilding``); the old one is kept as ``lastseen.db.broken-<UTC time>``
(with ``-wal``, ``-shm``), the new one renamed into place; a failure changes nothing. Read file by file in name (= time) order: each file's ``warcinfo`` record (its
run: ``isPartOf``, software, watchlist name and SHA-256), the capture records
(:mod:`crawler.capturerecords`: one ``metadata`` record per batch of captures, or
per capture before #17, written after their exchanges by
:class:`crawler.recorder.Recorder`: target, run, times, error, robots.txt, TLS,
its exchanges' records in order) and the records themselves (statuses, URLs,
gzip member offsets and lengths, digests, ``WARC-Truncated``, IP, revisits).
Files written before capture records are grouped best-effort: a capture starts at
a target's URL (unless redirected to), then takes the hops and retries that follow. Each capture is judged by
:func:`crawler.capture.assess` in capture order per target against the index
rebuilt so far, so extraction (with the watchlist's ``select``/``ignore``) and
``good`` are what the recorder made them (a probe of a host is never good).
:data:`NOT_REBUILT` says what no WARC record holds; :data:`FILLERS` lists what
fills the new index, one function per source of the archive.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from . import clock
from .archive import DB_NAME, LOCK_NAME, WARC_DIR, take_lock
from .capture import Written, assess
from .capturerecords import WARCINFO_FIELD, read_captures, read_fields
from .custodyindex import FILLERS as CUSTODY_FILLERS
from .errors import ArchiveError
from .fetch.model import Exchange, FetchResult
from .formatting import iso, parse_iso, plural
from .listingindex import item_target, rebuild_listing_items
from .recorder import display_path
from .robotsindex import rebuild_robots_changes
from .store import CaptureStore
from .warc import RecordRef, RevisitOf
from .warcfiles import OPEN_FILES, lastseen_warc_files, read_payload
from .watchlist import Settings, Target, Watchlist

__all__ = ["FILLERS", "NOT_REBUILT", "Reindexed", "reindex"]

REBUILT_TABLES = ("runs", "targets", "captures", "exchanges", "texts", "listing_items")
#: What a rebuilt index lacks, because no WARC record holds it (said by ``lastseen reindex`` and docs/archive.md).
NOT_REBUILT = (
    "events (each capture's verdict, reason, summary and diff, so `status` shows no last verdict until the next "
    "run and earlier runs' reports cannot be made again), alert state (which alerts were delivered or are "
    "still owed), the record of earlier recoveries, the volatile parts learned (relearned from the rebuilt "
    "captures' changed blocks), how each run ended (runs are marked `rebuilt`; `finished` is its last "
    "capture's end), its report and alert results, how long each exchange of a capture written before "
    "capture records took, and the flag `delisted` of a listing's items' captures")
BUILDING_SUFFIX, BROKEN_SUFFIX = ".rebuilding", ".broken-"


@dataclass
class Reindexed:
    """What ``lastseen reindex`` did, for its output."""

    index: Path
    files: int = 0                                   # WARC files read
    counts: dict[str, int] = field(default_factory=dict)
    kept: list[Path] = field(default_factory=list)   # the old index (and its -wal, -shm), as kept
    notes: list[str] = field(default_factory=list)   # what was rebuilt best-effort, or not at all


@dataclass
class _Response:
    """A response or revisit record, without its payload (read again when needed)."""

    record_id: str
    record_type: str
    uri: str
    date: str
    offset: int
    length: int
    ip: str | None
    truncated: str | None
    protocol: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    payload_sha1: str | None
    payload_sha256: str | None
    payload_length: int
    refers_to: RevisitOf | None


@dataclass
class _Request:
    record_id: str
    offset: int
    length: int
    method: str                         # its request line's method
    headers: list[tuple[str, str]]


@dataclass
class _Rebuild:
    """One rebuild in progress: the new index, what the watchlist says, what has been found."""

    root: Path
    store: CaptureStore
    watchlist: Watchlist | None
    out: Reindexed
    check: Callable[[], None] = lambda: None                     # may raise to stop (a signal)
    runs: dict[str, dict] = field(default_factory=dict)          # run id -> its row, as rebuilt
    unindexed: dict[str, tuple[str, int]] = field(default_factory=dict)  # response id -> (file, offset)
    unlisted: set[str] = field(default_factory=set)               # targets not in the watchlist
    legacy: int = 0                                               # captures grouped best-effort
    lost: dict[str, int] = field(default_factory=dict)            # what was not rebuilt -> how many

    @property
    def settings(self) -> Settings:
        return self.watchlist.settings if self.watchlist is not None else Settings()

    @functools.cached_property
    def listed(self) -> dict[str, Target]:  # the watchlist's targets by name
        return {t.name: t for t in self.watchlist.targets} if self.watchlist is not None else {}

    def lose(self, why: str, count: int = 1) -> None:
        self.lost[why] = self.lost.get(why, 0) + count


def reindex(
    root: str | os.PathLike, *, watchlist: Watchlist | None, wait: float = 0.0,
    check: Callable[[], None] | None = None, now: Callable[[], datetime] | None = None,
) -> Reindexed:
    """Rebuild ``root``'s index from its WARC files, under its lock; keep the old index beside it.
    ``check`` (called while waiting for the lock and between files) may raise to stop."""
    root = Path(root)
    warcs = root / WARC_DIR
    if not warcs.is_dir():
        raise ArchiveError(f"no WARC files to rebuild the index from: {warcs} does not exist; pass --archive")
    fd = take_lock(root / LOCK_NAME, wait, check, command="reindex")
    try:
        building = root / (DB_NAME + BUILDING_SUFFIX)
        _remove_index_files(building)  # left by a reindex that was killed
        out = Reindexed(root / DB_NAME)
        try:
            store = CaptureStore(building)
            try:
                store.bulk_load()
                job = _Rebuild(root, store, watchlist, out, check or (lambda: None))
                for fill in FILLERS:
                    fill(job)
                out.counts = store.counts(REBUILT_TABLES)
                store.seal()
            finally:
                store.close()
            out.kept = _swap_in(root / DB_NAME, building, now() if now else clock.now())
        except BaseException:
            _remove_index_files(building)
            raise
        return out
    finally:
        os.close(fd)


# -- the WARC files --------------------------------------------------------------------------------

def index_warc_files(job: _Rebuild) -> None:
    """Fill the new index from ``warcs/*.warc.gz``: runs, targets, captures, exchanges, texts."""
    warcs = job.root / WARC_DIR
    files = lastseen_warc_files(warcs)
    for path in files:
        job.check()
        with job.store.transaction():
            _index_file(job, path)
    job.out.files = len(files)
    for run_id, row in job.runs.items():
        job.store.update_run(run_id, finished=row["finished"], targets_due=row["targets_due"])
    notes = job.out.notes
    if job.watchlist is None:
        notes.append("no watchlist: every target was extracted with no select/ignore")
    elif job.unlisted:
        notes.append(f"{plural(len(job.unlisted), 'target')} not in {job.watchlist.path} extracted with no "
                     f"select/ignore: {', '.join(sorted(job.unlisted))}")
    if job.legacy:
        notes.append(f"{plural(job.legacy, 'capture')} from WARC files written before capture records rebuilt "
                     f"best-effort (grouped by URL and redirects, times from their records, no robots.txt or TLS "
                     f"facts); failed captures of those files left no record and cannot be rebuilt")
    notes.extend(f"not rebuilt: {why} ({count})" for why, count in sorted(job.lost.items()))
    for left in sorted(warcs.glob(OPEN_FILES)):
        notes.append(f"{display_path(left)} was left by a run that did not finish and was not read; the next "
                     f"`lastseen run` recovers it: run `lastseen reindex` again afterwards to index it")


def _index_file(job: _Rebuild, path: Path) -> None:
    warc_file = f"{WARC_DIR}/{path.name}"
    info: dict[str, str] = {}
    responses: dict[str, _Response] = {}
    requests: dict[str, _Request] = {}      # by the id of the response they belong to
    captured = False
    for rec in _records(path, job.out.notes):
        h = rec.headers
        if rec.kind in ("response", "revisit"):
            resp = _response(rec)
            responses[resp.record_id] = resp
        elif rec.kind == "request":
            requests[h.get_header("WARC-Concurrent-To") or ""] = _Request(
                h.get_header("WARC-Record-ID"), rec.offset, rec.length, rec.http.protocol if rec.http else "GET",
                list(rec.http.headers) if rec.http else [])
        elif rec.kind == "warcinfo" and not info:
            info = dict(reversed(read_fields(rec.block)))   # each name's first value
            info["date"] = h.get_header("WARC-Date") or ""
        elif rec.kind == "metadata":
            for capture in read_captures(rec.block, h.get_header("WARC-Target-URI")) or ():
                captured = True
                _from_capture_record(job, path, warc_file, info, capture, responses, requests)
    batched = info.get(WARCINFO_FIELD[0]) == str(WARCINFO_FIELD[1])  # a file whose captures are listed in batches
    if not captured and not batched and responses:
        _from_legacy_file(job, path, warc_file, info, responses, requests)
        return
    _unindexed(job, warc_file, responses.values())
    if responses:  # grouped by WARC-Concurrent-To, but no capture record lists them: no run committed their rows
        job.lose("exchanges written by a run that stopped before it recorded their capture (no index had them)",
                 len(responses))
        job.out.notes.append(f"{display_path(path)}: {plural(len(responses), 'exchange')} no capture record lists "
                             f"(the last written before a run stopped), left unindexed")


@dataclass(frozen=True)
class _Record:
    """A record read: warcio's WARC and HTTP headers, its gzip member, and its block (warcinfo,
    metadata) or the SHA-256 and length of its payload as stored (other records)."""

    kind: str
    headers: object
    http: object
    offset: int
    length: int
    block: bytes
    sha256: str
    size: int


def _records(path: Path, notes: list[str]):
    """Each record of ``path`` (:class:`_Record`); a damaged one ends the file, with a note."""
    try:
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for record in it:
                sha256, size, block = hashlib.sha256(), 0, b""
                if record.rec_type in ("warcinfo", "metadata"):
                    block = record.raw_stream.read()
                else:
                    while chunk := record.raw_stream.read(1 << 16):
                        sha256.update(chunk)
                        size += len(chunk)
                yield _Record(record.rec_type, record.rec_headers, record.http_headers, it.get_record_offset(),
                              it.get_record_length(), block, sha256.hexdigest(), size)
    except (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError) as exc:
        notes.append(f"{display_path(path)} could not be read past a damaged record ({exc}): what follows it "
                     f"was not indexed")


def _unindexed(job: _Rebuild, warc_file: str, responses) -> None:
    """Remember where response records no capture holds are, for revisits that refer to them."""
    for resp in responses:
        if resp.record_type == "response":
            job.unindexed[resp.record_id] = (warc_file, resp.offset)


def _response(rec: _Record) -> _Response:
    h, http = rec.headers, rec.http
    code, _, reason = (http.statusline if http else "").strip().partition(" ")
    revisit = None
    if rec.kind == "revisit":
        revisit = RevisitOf(h.get_header("WARC-Refers-To"), h.get_header("WARC-Refers-To-Target-URI"),
                            h.get_header("WARC-Refers-To-Date"))
    return _Response(
        record_id=h.get_header("WARC-Record-ID"), record_type=rec.kind, uri=h.get_header("WARC-Target-URI"),
        date=h.get_header("WARC-Date"), offset=rec.offset, length=rec.length, ip=h.get_header("WARC-IP-Address"),
        truncated=h.get_header("WARC-Truncated"), protocol=http.protocol if http else "HTTP/1.1",
        status=int(code) if code.isdigit() else 0, reason=reason, headers=list(http.headers) if http else [],
        payload_sha1=h.get_header("WARC-Payload-Digest"),
        payload_sha256=None if revisit else rec.sha256, payload_length=rec.size, refers_to=revisit,
    )


def _from_capture_record(job, path, warc_file, info, capture, responses, requests) -> None:
    """One capture, as its capture record names it (:class:`crawler.capturerecords.CaptureFacts`)."""
    one, exchanges, uri = capture, [], capture.url
    for line in capture.exchanges:
        role, request_id, response_id, *more = line.split(" ")
        if role == "resource":
            continue  # screenshots, DOM and text of browser captures: evidence, not exchanges to rebuild
        duration = int(more[0]) if more and more[0].isdigit() else None
        resp, req = responses.pop(response_id, None), requests.pop(response_id, None)
        if resp is None or req is None or req.record_id != request_id:
            job.lose("captures whose records are not where their capture record says")
            return
        exchanges.append((role, resp, req, duration))
    tls = {"yes": True, "no": False}.get(one.get("tls-verified", ""))
    _judge(job, path, warc_file, info, run_id=one.get("run") or info.get("ispartof"), name=one.get("target", ""),
           url=uri or "", started=one.get("started"), finished=one.get("finished"), exchanges=exchanges,
           error_kind=one.get("error-kind"), error=one.get("error"), robots=one.get("robots"),
           fetch=one.get("fetch") or "http", tls=(tls, one.get("tls-error")), role=one.get("role") or "page")


def _from_legacy_file(job, path, warc_file, info, responses, requests) -> None:
    """Captures of a file written before capture records: grouped by target URL and redirects."""
    by_url = {t.url: t for t in reversed(job.listed.values())}  # the first target with a URL, if two share it
    groups: list[tuple[Target, list]] = []
    follows = last = None
    ungrouped = []
    for resp in responses.values():
        req = requests.get(resp.record_id)
        if req is not None and resp.uri in by_url and resp.uri != follows:
            groups.append((by_url[resp.uri], []))
        elif resp.uri not in (follows, last):  # neither a hop nor a retry of the capture under way
            req = None
        last = resp.uri
        if req is not None and groups:
            groups[-1][1].append((resp, req))
        else:
            ungrouped.append(resp)
        location = next((v for k, v in resp.headers if k.lower() == "location"), None)
        follows = urljoin(resp.uri, location) if location and 300 <= resp.status < 400 else None
    if ungrouped:
        job.lose("exchanges in WARC files written before capture records that follow no watchlist target's URL",
                 len(ungrouped))
        _unindexed(job, warc_file, ungrouped)
    for target, pairs in groups:
        exchanges = [("redirect" if 300 <= resp.status < 400 and i < len(pairs) - 1 else "page", resp, req, None)
                     for i, (resp, req) in enumerate(pairs)]
        job.legacy += 1
        _judge(job, path, warc_file, info, run_id=info.get("ispartof"), name=target.name, url=target.url,
               started=pairs[0][0].date, finished=pairs[-1][0].date, exchanges=exchanges, error_kind=None,
               error=None, robots=None, fetch="http", tls=(None, None))


def _judge(job: _Rebuild, path: Path, warc_file: str, info: dict, *, run_id, name, url, started, finished,
           exchanges, error_kind, error, robots, fetch, tls, role="page") -> None:
    """Judge one capture as the recorder did (:func:`crawler.capture.assess`) and insert its rows."""
    if not run_id or not name or not started:
        job.lose("captures whose run or target cannot be told")
        return
    run = _run(job, run_id, info, started)
    target = _target(job, name, url or (exchanges[0][1].uri if exchanges else ""))
    if role in ("probe", "home", "sitemap", "robots"):  # whole pages of the host, not the target's
        target = replace(target, url=url or target.url, select="page", ignore=(), ignore_text=())
    rows, objs = [], []
    for seq, (ex_role, resp, req, duration) in enumerate(exchanges):  # ex_role: not the capture's role
        sha256, size = resp.payload_sha256, resp.payload_length
        if resp.refers_to is not None:
            original = _original(job, resp.refers_to.record_id)
            if original is None:
                job.lose("captures whose revisit refers to a record no longer in the archive (payload unknown)")
                return
            sha256, size = original["payload_sha256"], original["payload_length"]
        rows.append({
            "seq": seq, "role": ex_role, "url": resp.uri, "method": req.method, "status": resp.status,
            "started": resp.date, "duration_ms": duration, "ip": resp.ip, "warc_file": warc_file,
            "request_offset": req.offset, "request_length": req.length, "request_record_id": req.record_id,
            "response_offset": resp.offset, "response_length": resp.length, "response_record_id": resp.record_id,
            "record_type": resp.record_type, "payload_sha1": resp.payload_sha1, "payload_sha256": sha256,
            "payload_length": size, "truncated": resp.truncated,
        })
        headers = resp.headers
        if resp.truncated == "disconnect":  # the stored Content-Length is what arrived, not what was announced
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        objs.append(Exchange(
            url=resp.uri, method=req.method, request_headers=req.headers, started=parse_iso(resp.date).timestamp(), duration=0.0,
            protocol=resp.protocol, status=resp.status, reason=resp.reason, response_headers=headers, body=b"",
            ip=resp.ip, truncated=resp.truncated, role=ex_role,
        ))
    result = FetchResult(target=name, url=target.url, started=parse_iso(started).timestamp(),
                         finished=parse_iso(finished or started).timestamp(),
                         exchanges=objs, error_kind=error_kind, error=error, robots=robots, fetch=fetch)
    final = result.final
    response = revisit = None
    if final is not None:
        final.tls_verified, final.tls_error = tls
        resp = next(resp for (_, resp, _, _), ex in zip(exchanges, objs) if ex is final)
        response = RecordRef(resp.record_id, resp.offset, resp.length, resp.record_type)
        revisit = resp.refers_to
        where = {"warc_file": warc_file, "offset": resp.offset} if revisit is None else _original(
            job, revisit.record_id)
        final.body = read_payload(job.root / where["warc_file"], where["offset"])[0]
    written = Written(warc_file, display_path(path), rows, response, revisit)
    judged = assess(target, result, job.store.history(name), written, run_id=run_id,
                    max_body=job.settings.max_body, max_text=job.settings.max_text, load_text=job.store.text,
                    role=role)
    listed = job.listed.get(name)
    aux = role in ("probe", "home", "sitemap", "robots")  # the URL is not the target's: only a target not seen yet
    if not aux or not job.store.has_target(name):
        job.store.put_target({"name": name, "url": (listed or target).url,
                              "tags": json.dumps(list(listed.tags if listed else ())),
                              "first_seen": run["started"], "updated": run["started"]})
    job.store.insert_capture_rows(judged.capture, judged.exchanges, judged.text_row)
    run["targets_due"] += role == "page"
    run["finished"] = max(run["finished"] or "", iso(parse_iso(finished or started)))


def _run(job: _Rebuild, run_id: str, info: dict, started: str) -> dict:
    """The ``runs`` row of ``run_id``, inserted when first met (its start: the earliest warcinfo date)."""
    row = job.runs.get(run_id)
    if row is None:
        same = info.get("ispartof") == run_id
        software = info.get("software", "").split(" ")[0] if same else None
        row = {
            "id": run_id, "started": iso(parse_iso(info["date"] if same and info.get("date") else started)),
            "status": "rebuilt", "watchlist": info.get("watchlist") if same else None,
            "watchlist_sha256": info.get("watchlist-sha256") if same else None, "software": software or None,
            "targets_due": 0,
        }
        job.store.insert_run(dict(row))
        row["finished"] = None
        job.runs[run_id] = row
    return row


def _target(job: _Rebuild, name: str, url: str) -> Target:
    """The target as the watchlist has it now (its select/ignore), with the URL it had in this capture."""
    listed = job.listed.get(name)
    if listed is None and (item := item_target(job.listed, name, url)) is not None:
        listed = job.listed[name] = item  # a listing's item: its listing's keys, as the run had them
    if listed is None:
        if job.watchlist is not None:
            job.unlisted.add(name)
        return Target(name=name, url=url)
    return replace(listed, url=url)


def _original(job: _Rebuild, record_id: str) -> dict | None:
    """The response record a revisit refers to: indexed already, or seen and not indexed."""
    found = job.store.response_record(record_id)
    if found is None and record_id in job.unindexed:
        warc_file, offset = job.unindexed[record_id]
        body = read_payload(job.root / warc_file, offset)[0]
        found = {"warc_file": warc_file, "offset": offset, "payload_sha256": hashlib.sha256(body).hexdigest(),
                 "payload_length": len(body)}
    return found


#: What fills a new index, in order: one function per source of the archive, each given the rebuild.
FILLERS: tuple[Callable, ...] = (index_warc_files, rebuild_listing_items, rebuild_robots_changes, *CUSTODY_FILLERS)


# -- swapping the new index in ---------------------------------------------------------------------

def _swap_in(db: Path, building: Path, now: datetime) -> list[Path]:
    """Keep ``db`` (and its -wal, -shm) as ``<db>.broken-<time>``, then rename ``building`` to ``db``.

    The old index keeps its bytes (a hard link, or a copy where links are not
    possible); its write-ahead log is moved away before the new index takes
    its name, so SQLite never applies the old log to the new index.
    """
    kept = []
    if any(os.path.lexists(f"{db}{s}") for s in ("", "-wal", "-shm")):  # a log without its index goes too
        stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        broken, n = db.with_name(f"{db.name}{BROKEN_SUFFIX}{stamp}"), 1
        while any(os.path.lexists(f"{broken}{s}") for s in ("", "-wal", "-shm")):
            n += 1
            broken = db.with_name(f"{db.name}{BROKEN_SUFFIX}{stamp}-{n}")
        if db.exists():
            try:
                os.link(db, broken)
            except OSError:
                shutil.copy2(db, broken)
            kept.append(broken)
        for suffix in ("-wal", "-shm"):
            if os.path.lexists(f"{db}{suffix}"):
                os.replace(f"{db}{suffix}", f"{broken}{suffix}")
                kept.append(Path(f"{broken}{suffix}"))
    os.replace(building, db)
    _remove_index_files(building)
    with contextlib.suppress(OSError):  # the new name survives a power loss
        fd = os.open(db.parent, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return kept


def _remove_index_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
