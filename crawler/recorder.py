"""Recording captures, in crash-safe order: WARC records first, then index rows.

:class:`Recorder` takes each :class:`~crawler.fetch.model.FetchResult` of a run,
writes every exchange's records to the run's WARC files, has
:func:`crawler.capture.assess` judge it, and commits the rows in batches. Each
batch's capture record (one ``metadata`` record listing the captures written
since the last: target, run, their records in order, what a WARC cannot
otherwise say: the error, TLS verification, robots.txt decision;
:mod:`crawler.capturerecords`) is written before the rows it describes are
committed, and before its file is closed. The write order is what makes a
crash harmless: records are written, the WARC file is flushed and fsynced, and
only then are the rows that point at them committed (in batches, so fsync
costs little).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from . import clock
from .archive import WARC_DIR, Archive
from .capture import Assessment, Observed, Written, conclude, observe
from .capturerecords import batch_fields, batch_uri, capture_fields
from .classify import classify
from .contract import Event
from .custody import captures_content, compact_records
from .custodycopy import CustodyCopy
from .documents import DocumentLimits
from .fetch.model import FetchResult, Resource
from .formatting import iso_precise
from .runevents import RunEvents
from .store import History, StoredPayload
from .warc import RevisitOf, sha1_digest, warc_date
from .warcfiles import WarcFileSet, archived_body
from .watchlist import Target

__all__ = ["COMMIT_EVERY", "COMMIT_SECONDS", "Recorder", "display_path"]

_GZIP_MAGIC = b"\x1f\x8b"
COMMIT_EVERY = 64          # captures per fsync + commit
COMMIT_SECONDS = 1.0       # ... or this long, whichever comes first


def display_path(path: Path | str) -> str:
    """``path`` as shown to the user: relative to the current directory when possible."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


class Recorder:
    """Turns fetch results into WARC records, index rows and events, in crash-safe order."""

    def __init__(self, archive: Archive, files: WarcFileSet, run_id: str, targets: dict[str, Target], max_body: int,
                 *, max_text: int | None = None, documents: DocumentLimits | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.archive = archive
        self.store = archive.store
        self.files = files
        self.run_id = run_id
        self.targets = targets
        self.max_body = max_body
        self.max_text = max_text
        self.documents = documents
        self.clock = clock
        self.pending: list[tuple] = []
        self.last_commit = clock()
        self.events = RunEvents()   # target -> its event; on disk once final (crawler.runevents)
        self._committed: list[Event] = []   # events of the last commit: final at the next one
        self._sizes: dict[str, int | None] = {}   # WARC file -> size, as found this run (None: missing)
        self._this_run: dict[tuple, RevisitOf] = {}  # sub-resources stored by this run: (url, sha1, status)
        self.damaged: dict[str, str] = {}          # WARC file -> what is wrong with it (revisits not written)
        self.fills: list[dict] = []                # last good captures' anchor texts read again (fill_extraction)
        self.copy = CustodyCopy(archive.root)      # the custody log's JSONL copy, written after each commit
        self._batch: list[tuple[str, str, list]] = []   # (file, URL, fields): captures no batch record lists yet
        self._listed: list[dict] = []               # batch records written, not yet committed: {warc_file, records}
        # A file's last batch record is written before it closes; its custody entry is committed (with the
        # rows still queued) before its rename.
        files.before_close = self._write_batch
        files.on_close = lambda name, sha256, size: self.commit(closing=(name, sha256, size))

    def observe(self, result: FetchResult, role: str = "page", history: History | None = None,
                target: Target | None = None) -> Observed:
        """Write ``result``'s records and look at it (:func:`crawler.capture.observe`); it is judged later.

        ``history`` is the target's (read now unless given: a re-fetch is judged against the history its
        first fetch saw); ``target`` overrides the watchlist's (a probe of the host reads the whole page).
        """
        target = target or self.targets[result.target]
        if history is None:
            history = self.store.history(target.name)
        writer, written = self._write(result, history)
        seen = observe(target, result, history, written, run_id=self.run_id, max_body=self.max_body,
                       max_text=self.max_text, load_text=self.store.text, role=role, load_body=self.stored_body,
                       documents=self.documents)
        if seen.filled is not None:   # stored with the next batch of rows
            self.fills.append(seen.filled)
        rows = written.exchanges
        if result.fetch == "browser" and written.response is not None:
            text = seen.text if seen.text is not None else self.store.text(seen.capture.get("text_sha256"))
            if text is not None:  # what was compared, beside the screenshot and the DOM it came from
                dom = result.resource("dom")
                rows.append(self._resource_row(writer, written.warc_file, len(rows), Resource(
                    "text", f"urn:text:{written.response_uri}", "text/plain; charset=utf-8", text.encode("utf-8"),
                    dom.date if dom is not None else result.finished), written.response.record_id))
        # listed in its file's next batch record, written before its rows are committed (or the file closes)
        self._batch.append((written.warc_file, result.url, capture_fields(result, rows, role)))
        # What the custody entry of its commit says of it (appended when its rows are committed): every record written.
        seen.capture["_custody"] = {"target": result.target, "role": role, "warc_file": written.warc_file,
                                    "records": compact_records(ref.custody() for ref in writer.take_refs())}
        return seen

    def stored_body(self, good) -> tuple[bytes, str | None, str | None] | None:
        """A good capture's payload as archived (content-coding kept), its Content-Type and Content-Encoding,
        read from its WARC record (a revisit's original); None when it cannot be read."""
        where = (good.warc_file, good.warc_offset)
        if good.record_type == "revisit":
            original = self.store.response_record(good.refers_to_record_id) if good.refers_to_record_id else None
            where = (original["warc_file"], original["offset"]) if original else (None, None)
        return archived_body(self.archive.root, *where)

    def record(self, result: FetchResult) -> Event:
        """Write ``result``'s records, judge it on its own, queue its rows; return its event."""
        seen = self.observe(result)
        verdict = classify(seen.observation, seen.previous, confirm_after=seen.target.confirm_after)
        return self.queue(conclude(seen, verdict, run_id=self.run_id, load_text=self.store.text))

    def queue(self, judged: Assessment, first: dict | None = None) -> Event:
        """Queue a judged capture's rows (committed in batches) and keep its event as the target's.

        ``first`` is the ``captures`` row of this run's first fetch when ``judged`` is its re-fetch:
        the event's ``evidence.first_capture`` is that row's id, known once it is inserted.
        """
        self.events[judged.event.target] = judged.event
        self.pending.append((judged.capture, judged.exchanges, judged.text_row, judged.event_row, judged.event,
                             first, judged.learned))
        self._maybe_commit()
        return judged.event

    def queue_rows(self, capture: dict, exchanges: list[dict], text_row: tuple[str, str] | None) -> None:
        """Queue the rows of a capture that has no event of its own (a first fetch awaiting its re-fetch,
        a probe of the host)."""
        self.pending.append((capture, exchanges, text_row, None, None, None, frozenset()))
        self._maybe_commit()

    def _maybe_commit(self) -> None:
        if len(self.pending) >= COMMIT_EVERY or self.clock() - self.last_commit >= COMMIT_SECONDS:
            self.commit()

    def _write(self, result: FetchResult, history: History):
        """Write every exchange's records, then the fetcher's resources (screenshot, DOM).

        The final response becomes a revisit record when its payload is the one the
        target's last stored response had (same digest, same status); a sub-resource,
        when a response with its URL, payload and status is stored already, by any
        target (a page's logo and scripts are stored once). Either only while the
        record referred to is where the index says.
        """
        writer, warc_name = self.files.writer()
        writer.take_refs()   # a new file's warcinfo record is the file's, not this capture's
        warc_file = f"{WARC_DIR}/{warc_name}"
        final = result.final
        rows = []
        response_ref = revisit = None
        for seq, ex in enumerate(result.exchanges):
            sha1 = sha1_digest(ex.body)
            this_revisit = None
            p = history.payload
            if (ex is final and p is not None and not ex.truncated and p.payload_sha1 == sha1 and p.status == ex.status
                    and self._record_present(p)):
                this_revisit = RevisitOf(p.record_id, p.uri, p.date)
            elif ex.role == "subresource" and not ex.truncated:
                this_revisit = self._earlier_copy(ex, sha1)
            req_ref, resp_ref = writer.exchange(ex, revisit=this_revisit)
            if ex is final:
                response_ref, revisit = resp_ref, this_revisit
            if this_revisit is None and ex.role == "subresource" and not ex.truncated:
                self._this_run[(ex.url, sha1, ex.status)] = RevisitOf(resp_ref.record_id, ex.url, warc_date(ex.started))
            rows.append({
                "seq": seq, "role": ex.role, "url": ex.url, "method": ex.method, "status": ex.status,
                "started": iso_precise(ex.started), "duration_ms": int(ex.duration * 1000), "ip": ex.ip,
                "warc_file": warc_file, "request_offset": req_ref.offset, "request_length": req_ref.length,
                "request_record_id": req_ref.record_id, "response_offset": resp_ref.offset,
                "response_length": resp_ref.length, "response_record_id": resp_ref.record_id,
                "record_type": resp_ref.record_type, "payload_sha1": sha1,
                "payload_sha256": hashlib.sha256(ex.body).hexdigest(), "payload_length": len(ex.body),
                "truncated": ex.truncated,
            })
        screenshot = None
        for res in result.resources:
            rows.append(self._resource_row(writer, warc_file, len(rows), res,
                                           response_ref.record_id if response_ref else None))
            if res.kind == "screenshot":
                screenshot = rows[-1]["response_record_id"]
        written = Written(warc_file, display_path(self.archive.root / warc_file), rows, response_ref, revisit,
                          screenshot=screenshot, response_uri=final.url if final is not None else result.url)
        return writer, written

    def _earlier_copy(self, ex, sha1: str) -> RevisitOf | None:
        """A stored response with this sub-resource's URL, payload and status (this run's first, or the index's)."""
        key = (ex.url, sha1, ex.status)
        if key in self._this_run:
            return self._this_run[key]
        stored = self.store.stored_response(ex.url, sha1, ex.status)
        if stored is not None and self._record_present(stored):
            return RevisitOf(stored.record_id, stored.uri, stored.date)
        return None

    @staticmethod
    def _resource_row(writer, warc_file: str, seq: int, res: Resource, concurrent_to: str | None) -> dict:
        """Write ``res`` as a ``resource`` record linked to the page's response; its ``exchanges`` row."""
        ref = writer.resource(res.uri, res.date, res.content_type, res.body, concurrent_to=concurrent_to)
        return {
            "seq": seq, "role": "resource", "url": res.uri, "method": None, "status": None,
            "started": iso_precise(res.date), "duration_ms": 0, "ip": None, "warc_file": warc_file,
            "request_offset": None, "request_length": None, "request_record_id": None,
            "response_offset": ref.offset, "response_length": ref.length, "response_record_id": ref.record_id,
            "record_type": ref.record_type, "payload_sha1": sha1_digest(res.body),
            "payload_sha256": hashlib.sha256(res.body).hexdigest(), "payload_length": len(res.body),
            "truncated": None,
        }

    def _record_present(self, payload: StoredPayload) -> bool:
        """Is the response record a revisit would refer to still where the index says, whole?

        The file must exist and a gzip member must start at the record's offset
        and end where the index says (at the end of the file or where the next
        member starts). A revisit is only evidence while its original is: when
        the original is gone or damaged, the full response is stored again.
        """
        if payload.warc_file is None or payload.offset is None or payload.length is None or payload.date is None:
            return False
        name = payload.warc_file
        if name in self.damaged:
            return False
        path = self.archive.root / name
        if name not in self._sizes:
            try:
                self._sizes[name] = path.stat().st_size
            except OSError:
                self._sizes[name] = None
        size = self._sizes[name]
        end = payload.offset + payload.length
        problem = None
        if size is None:
            problem = "missing"
        elif end > size:
            problem = f"shorter than the index says ({size} bytes, a record ends at {end})"
        else:
            try:
                with open(path, "rb") as fh:
                    fh.seek(payload.offset)
                    start_ok = fh.read(2) == _GZIP_MAGIC
                    fh.seek(end)
                    after = fh.read(2)
            except OSError as exc:
                problem = f"unreadable ({exc.strerror or exc})"
            else:
                if not start_ok or after not in (b"", _GZIP_MAGIC):
                    problem = f"changed: no record where the index says, at offset {payload.offset}"
        if problem is not None:
            self.damaged[name] = problem
            return False
        return True

    def warnings(self) -> list[str]:
        """One line per run naming the WARC files found missing or damaged (for stderr)."""
        if not self.damaged:
            return []
        files = "; ".join(f"{display_path(self.archive.root / n)}: {why}" for n, why in sorted(self.damaged.items()))
        return [
            f"warning: WARC files the index refers to are missing or damaged ({files}); unchanged pages "
            f"were stored in full instead of as revisits of their records"
        ]

    def commit(self, closing: tuple[str, str, int] | None = None) -> None:
        """Make the queued captures' records durable, then commit their rows with their custody entries
        (and, with ``closing``, the ``file`` entry of the WARC file about to be renamed: its name, SHA-256
        and size), then write the entries' JSONL lines."""
        if not self.pending and not self.fills and closing is None:
            return
        current = self.files.current
        if current is not None and closing is None:   # (a closing file's was written before its last fsync)
            self._write_batch(*current)   # the queued captures listed before their rows are committed
        self.files.sync()  # records on disk before any row points at them
        at = iso_precise(clock.now())
        groups: dict[str, list] = {}   # WARC file -> the captures committed with their records in it
        taken = []   # each row's custody facts, put back when the commit fails (salvage retries it)
        try:
            with self.store.transaction():
                for fill in self.fills:
                    self.store.fill_extraction(**fill)
                for capture, exchanges, text_row, event_row, event, first, learned in self.pending:
                    custody = capture.pop("_custody", None)
                    taken.append((capture, custody))
                    if event_row is None:
                        capture["id"] = self.store.insert_capture_rows(capture, exchanges, text_row)
                    else:
                        evidence = event_row["evidence"]
                        if first is not None and evidence is not None:
                            evidence["first_capture"] = first.get("id")
                        row = {**event_row, "evidence": json.dumps(evidence, ensure_ascii=False) if evidence else None}
                        event.capture_id = capture["id"] = self.store.insert_capture(capture, exchanges, text_row, row)
                        if learned:
                            self.store.learn_volatile(event.target, learned, self.run_id, capture["started"])
                    if custody is not None:
                        groups.setdefault(custody["warc_file"], []).append(
                            (capture["id"], custody["target"], custody["role"], custody["records"]))
                self._capture_entries(at, groups)
                if closing is not None:
                    name, sha256, size = closing
                    self.store.append_custody("file", at, {"file": f"{WARC_DIR}/{name}", "sha256": sha256,
                                                           "size": size})
        except BaseException:
            for capture, custody in taken:
                if custody is not None:
                    capture["_custody"] = custody
            raise
        # The last commit's events are final now (a listing's run names an event's parent after queueing it).
        self.events.final(self._committed)
        self._committed = [p[4] for p in self.pending if p[4] is not None]
        self.pending.clear()
        self.fills.clear()
        self._listed.clear()
        self.last_commit = self.clock()
        self.copy.complete(self.store, sync=closing is not None)   # fsynced with a closed file's entry

    def _capture_entries(self, at: str, groups: dict[str, list]) -> None:
        """One ``capture`` entry (``"v": 3``) per WARC file holding records of this commit: the captures committed
        whose records are in it, in order, and the batch capture records written to it since the last commit (a
        file closed with no capture of it waiting has an entry listing its batch record alone)."""
        batches: dict[str, list] = {}
        for listed in self._listed:
            batches.setdefault(listed["warc_file"], []).extend(listed["records"])
        for warc_file in [*groups, *(f for f in batches if f not in groups)]:
            self.store.append_custody("capture", at, captures_content(
                self.run_id, warc_file, groups.get(warc_file, []), batches.get(warc_file, [])))

    def _write_batch(self, writer, name: str) -> None:
        """Write the batch record of the captures written to this file that no record lists yet, and keep it for
        the next commit's custody entry of this file (:meth:`_capture_entries`)."""
        warc_file = f"{WARC_DIR}/{name}"
        batch = [(url, fields) for file, url, fields in self._batch if file == warc_file]  # (none of a file given up)
        if not batch:
            self._batch = []
            return
        writer.take_refs()   # only the batch record's ref follows (the captures took theirs)
        writer.metadata(batch_uri(self.run_id), clock.now(), batch_fields(self.run_id, batch))
        self._batch = []
        self._listed.append({"warc_file": warc_file,
                             "records": compact_records(ref.custody() for ref in writer.take_refs())})

    def salvage(self) -> None:
        """After a failure: commit the captures whose records are whole, close the WARC file.

        Best effort, never masking the failure: a commit that fails too leaves its
        records unindexed (the targets are due again); a file whose torn last record
        could not be cut back, or whose custody entry could not be committed, keeps its
        ``.open`` name for recovery at the next start.
        """
        try:
            self.commit()
        except Exception:
            self.pending.clear()
            self.fills.clear()
        try:
            self.files.close()   # its custody entry is committed before its rename
        except Exception:
            pass
