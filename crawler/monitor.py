"""One run of the monitor: due targets → fetch → WARC → index → extract → diff → verdict → alerts → report.

The write order is what makes a crash harmless: each capture's WARC records
are written first, the WARC file is flushed and fsynced, and only then are the
index rows that point at them committed (in batches, so fsync costs little).
Rows name the WARC file's final name; :mod:`crawler.archive` finishes a
``.open`` file left by a killed run before anything else touches the archive.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import __version__
from .archive import WARC_DIR, Archive
from .classify import Observation, Previous, Verdict, classify
from .codings import decode_content
from .diff import Diff, diff_texts
from .errors import ExtractError, LastseenError, UsageError
from .extract import extract
from .fetch import FetchResult, fetch_http
from .interrupts import Interrupts
from .schedule import is_due, last_run_starts
from .store import CaptureStore, History
from .warc import RevisitOf, WarcFileSet, sha1_digest
from .watchlist import Target, Watchlist

EXTRACT_VERSION = 1
COMMIT_EVERY = 64          # captures per fsync + commit
COMMIT_SECONDS = 1.0       # ... or this long, whichever comes first
DIFF_TIMEOUT = 5.0
DETAIL_VERDICTS = ("changed", "vanished", "restored")
EMPTY_TEXT_SHA256 = hashlib.sha256(b"").hexdigest()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(ts: float | datetime | None) -> str | None:
    """UTC ISO 8601 with ``Z``, second precision (the JSON contract's form)."""
    if ts is None:
        return None
    if not isinstance(ts, datetime):
        ts = datetime.fromtimestamp(ts, timezone.utc)
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_precise(ts: float | datetime) -> str:
    if not isinstance(ts, datetime):
        ts = datetime.fromtimestamp(ts, timezone.utc)
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_run_id(now: datetime) -> str:
    """``20261122T101500Z-3f2a``: sortable, safe as a folder name."""
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def extract_key(target: Target) -> str:
    """Identifies the extraction settings; equal keys and payloads give equal text."""
    blob = json.dumps([EXTRACT_VERSION, target.select, list(target.ignore)])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def select_targets(watchlist: Watchlist, only: Sequence[str]) -> list[Target]:
    """Targets named (by name or tag) by ``--only``; all when empty."""
    if not only:
        return list(watchlist.targets)
    unmatched = [v for v in only if not any(t.matches(v) for t in watchlist.targets)]
    if unmatched:
        names = ", ".join(repr(v) for v in unmatched)
        raise UsageError(
            f"--only {names} matches no target name or tag in {watchlist.path}; "
            f"`lastseen check {watchlist.path}` lists what is there"
        )
    return [t for t in watchlist.targets if any(t.matches(v) for v in only)]


@dataclass
class Event:
    """One target's outcome in a run: the ``events`` items of the ``--json`` contract."""

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

    def to_json(self) -> dict:
        return {
            "target": self.target, "url": self.url, "final_url": self.final_url, "status": self.status,
            "status_chain": self.status_chain, "verdict": self.verdict, "reason": self.reason,
            "alert": self.alert, "summary": self.summary, "diff": self.diff,
            "capture_id": self.capture_id, "warc": self.warc, "flags": self.flags,
        }


@dataclass
class RunResult:
    run_id: str
    started: datetime
    finished: datetime | None
    report: str | None
    alerts: list = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    recovered: list = field(default_factory=list)
    carried: list[dict] = field(default_factory=list)  # alerts owed by runs that never finished

    def to_json(self) -> dict:
        return {
            "schema": 1,
            "run": {
                "id": self.run_id, "started": iso(self.started), "finished": iso(self.finished),
                "report": self.report, "alerts": [a.to_json() for a in self.alerts],
                "carried_alerts": self.carried,
            },
            "events": [e.to_json() for e in self.events],
        }


def _relpath(path: Path | str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def fetch_options(watchlist: Watchlist) -> dict:
    s = watchlist.settings
    return {
        "concurrency": s.concurrency, "per_host_concurrency": s.per_host_concurrency,
        "per_host_delay": s.per_host_delay, "timeout": s.timeout, "user_agent": s.user_agent,
        "retries": s.retries, "max_redirects": s.max_redirects, "max_body": s.max_body,
        "deadline": s.deadline, "retry_after_max": s.retry_after_max, "obey_robots": s.obey_robots,
        "ca_certs": s.ca_certs, "contact": s.contact,
        "hosts": {h.host: {"per_host_delay": h.per_host_delay, "per_host_concurrency": h.per_host_concurrency}
                  for h in watchlist.hosts},
    }


class _Recorder:
    """Turns fetch results into WARC records, index rows and events, in crash-safe order."""

    def __init__(self, archive: Archive, files: WarcFileSet, run_id: str, targets: dict[str, Target], max_body: int):
        self.archive = archive
        self.store: CaptureStore = archive.store
        self.files = files
        self.run_id = run_id
        self.targets = targets
        self.max_body = max_body
        self.pending: list[tuple] = []
        self.last_commit = time.monotonic()
        self.events: dict[str, Event] = {}

    # -- per result -----------------------------------------------------
    def record(self, result: FetchResult) -> None:
        target = self.targets[result.target]
        history = self.store.history(target.name)
        final = result.final
        warc_file, exchanges, response_ref, revisit = self._write_exchanges(result, history)

        capture = {
            "run_id": self.run_id, "target": target.name, "url": target.url,
            "final_url": final.url if final else None, "status": final.status if final else None,
            "status_chain": json.dumps([e.status for e in result.exchanges]),
            "started": iso_precise(result.started), "finished": iso_precise(result.finished),
            "duration_ms": int((result.finished - result.started) * 1000),
            "error_kind": result.error_kind, "error": result.error,
            "ip": final.ip if final else None, "robots": result.robots,
        }
        text_row = None
        new_text = None
        fingerprint = None
        flags: list[str] = []
        error_kind = result.error_kind
        if final is not None:
            final_row = exchanges[-1]
            capture.update({
                "content_type": final.header("Content-Type"), "warc_file": warc_file,
                "warc_offset": response_ref.offset, "warc_length": response_ref.length,
                "warc_record_id": response_ref.record_id, "record_type": response_ref.record_type,
                "payload_sha1": final_row["payload_sha1"], "payload_sha256": final_row["payload_sha256"],
                "payload_length": final_row["payload_length"], "truncated": final.truncated,
                "tls_verified": None if final.tls_verified is None else int(final.tls_verified),
                "tls_error": final.tls_error,
            })
            if final.tls_verified is False:
                flags.append("tls-unverified")
            if revisit is not None:
                capture.update({
                    "refers_to_record_id": revisit.record_id, "refers_to_uri": revisit.target_uri,
                    "refers_to_date": revisit.date,
                })
            if final.truncated == "length":
                flags.append("truncated")
            if final.truncated == "disconnect":
                # The connection dropped mid-body: what arrived is kept in the WARC
                # (WARC-Truncated: disconnect), but a partial page is not compared.
                flags.append("disconnected")
                error_kind = "reset"
                announced = final.header("Content-Length")
                capture["error"] = (
                    f"the connection was dropped after {len(final.body)} bytes of the body"
                    + (f" ({announced} announced)" if announced and announced.isdigit() else "")
                    + "; what arrived is archived, not compared"
                )
            elif 200 <= final.status < 300:
                text_row, new_text, fingerprint = self._extract(target, final, capture, history, flags)
        if result.error_kind == "robots":
            flags.append("robots-disallowed")
        if target.select and fingerprint == EMPTY_TEXT_SHA256:
            # The page was probably restructured: a selector that finds nothing
            # would otherwise make every later change invisible.
            flags.append("select-empty")
        capture["error_kind"] = error_kind
        response_ok = final is not None and error_kind is None

        verdict = classify(
            Observation(
                url=target.url, status=final.status if response_ok else None,
                final_url=final.url if response_ok else None, error_kind=error_kind,
                fingerprint=fingerprint,
            ),
            Previous(
                last_verdict=history.last_verdict,
                good_fingerprint=history.good.fingerprint if history.good else None,
                has_good=history.good is not None,
            ),
        )
        capture["good"] = int(verdict.good)
        capture["flags"] = json.dumps(flags) if flags else None
        diff = None
        if verdict.verdict in ("changed", "restored") and history.good is not None:
            old_text = self.store.text(history.good.text_sha256)
            if old_text is not None and new_text is not None:
                diff = diff_texts(old_text, new_text, timeout=DIFF_TIMEOUT)
        summary = _summary(verdict, result, diff, capture, history)
        if "disconnected" in flags:
            summary = capture["error"]  # "HTTP 200 OK" would hide that the body is incomplete
        event_row = {
            "run_id": self.run_id, "target": target.name,
            "compared_capture_id": history.good.id if history.good else None,
            "verdict": verdict.verdict, "reason": verdict.reason, "alert": int(verdict.alert),
            "summary": summary,
            "insertions": diff.insertions if diff else None, "deletions": diff.deletions if diff else None,
            "unit": diff.unit if diff else None, "fallback": int(diff.fallback) if diff else None,
            "diff_ops": json.dumps(diff.ops_to_json()) if diff else None,
        }
        event = Event(
            target=target.name, url=target.url, final_url=capture["final_url"], status=capture["status"],
            status_chain=[e.status for e in result.exchanges], verdict=verdict.verdict,
            reason=verdict.reason, alert=verdict.alert, summary=summary,
            diff=diff.to_json() if diff else None,
            flags=flags,
            warc=(
                {"file": _relpath(self.archive.root / warc_file), "offset": response_ref.offset,
                 "record_id": response_ref.record_id}
                if response_ref else None
            ),
        )
        self.events[target.name] = event
        self.pending.append((capture, exchanges, text_row, event_row, event))
        if len(self.pending) >= COMMIT_EVERY or time.monotonic() - self.last_commit >= COMMIT_SECONDS:
            self.commit()

    def _write_exchanges(self, result: FetchResult, history: History):
        """Write every exchange's records; return the file, exchange rows, final ref and revisit.

        The final response becomes a revisit record when its payload is the one
        the target's last stored response had (same digest, same status).
        """
        writer, warc_name = self.files.writer()
        warc_file = f"{WARC_DIR}/{warc_name}"
        final = result.final
        rows = []
        response_ref = revisit = None
        for seq, ex in enumerate(result.exchanges):
            sha1 = sha1_digest(ex.body)
            this_revisit = None
            p = history.payload
            if ex is final and p is not None and not ex.truncated and p.payload_sha1 == sha1 and p.status == ex.status:
                this_revisit = RevisitOf(p.record_id, p.uri, p.date)
            req_ref, resp_ref = writer.exchange(ex, revisit=this_revisit)
            if ex is final:
                response_ref, revisit = resp_ref, this_revisit
            rows.append({
                "seq": seq, "url": ex.url, "method": ex.method, "status": ex.status,
                "started": iso_precise(ex.started), "duration_ms": int(ex.duration * 1000), "ip": ex.ip,
                "warc_file": warc_file, "request_offset": req_ref.offset, "request_length": req_ref.length,
                "request_record_id": req_ref.record_id, "response_offset": resp_ref.offset,
                "response_length": resp_ref.length, "response_record_id": resp_ref.record_id,
                "record_type": resp_ref.record_type, "payload_sha1": sha1,
                "payload_sha256": hashlib.sha256(ex.body).hexdigest(), "payload_length": len(ex.body),
                "truncated": ex.truncated,
            })
        return warc_file, rows, response_ref, revisit

    def _extract(self, target: Target, final, capture: dict, history: History, flags: list[str]):
        key = extract_key(target)
        capture["extract_key"] = key
        good = history.good
        if good is not None and good.payload_sha256 == capture["payload_sha256"] and good.extract_key == key:
            # Same bytes, same extraction settings: same text. Skip the work.
            capture.update({
                "kind": good.kind, "text_sha256": good.text_sha256, "fingerprint": good.fingerprint,
                "title": good.title, "links": good.links, "charset": good.charset,
            })
            return None, None, good.fingerprint
        try:
            body, cut = decode_content(final.body, final.header("Content-Encoding"), max_size=self.max_body)
            if cut:
                flags.append("decoded-truncated")
            extracted = extract(
                body, final.header("Content-Type"), final.url, select=target.select, ignore=target.ignore
            )
        except ExtractError as exc:
            flags.append("extract-error")
            capture.update({
                "kind": "binary", "extract_error": str(exc),
                "fingerprint": hashlib.sha256(final.body).hexdigest(),
            })
            return None, None, capture["fingerprint"]
        capture.update({
            "kind": extracted.kind, "fingerprint": extracted.fingerprint, "title": extracted.title,
            "links": json.dumps(list(extracted.links)), "charset": extracted.charset,
        })
        if extracted.text is None:
            return None, None, extracted.fingerprint
        text_sha = hashlib.sha256(extracted.text.encode("utf-8")).hexdigest()
        capture["text_sha256"] = text_sha
        return (text_sha, extracted.text), extracted.text, extracted.fingerprint

    # -- durability -----------------------------------------------------
    def commit(self) -> None:
        if not self.pending:
            return
        self.files.sync()  # records on disk before any row points at them
        with self.store.transaction():
            for capture, exchanges, text_row, event_row, event in self.pending:
                event.capture_id = self.store.insert_capture(capture, exchanges, text_row, event_row)
        self.pending.clear()
        self.last_commit = time.monotonic()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(verdict: Verdict, result: FetchResult, diff: Diff | None, capture: dict, history: History) -> str:
    v = verdict.verdict
    final = result.final
    if v == "unreachable":
        if final is not None:
            return f"HTTP {final.status} {final.reason}".strip()
        return result.error or f"fetch failed ({verdict.reason})"
    if v == "vanished":
        if verdict.reason == "redirected":
            return f"redirected to the site's home page {capture['final_url']}"
        return f"HTTP {final.status} {final.reason}".strip()
    if v == "new":
        title = capture.get("title")
        return f"first capture: {title}" if title else "first capture"
    if v == "unchanged":
        return "no change"
    base = diff.summary() if diff is not None else "content differs (compared by digest)"
    if v == "restored":
        return f"back after {history.last_verdict}; {base}" if diff is None or diff.changed else f"back after {history.last_verdict}; text unchanged"
    return base


def run(
    watchlist: Watchlist,
    *,
    archive_dir: Path,
    reports_dir: Path,
    force: bool = False,
    only: Sequence[str] = (),
    now: Callable[[], datetime] = utcnow,
    wait: float = 0.0,
    on_start: Callable[[int], None] | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> RunResult:
    """Run the monitor once. Raises :class:`LastseenError` only for tool failures."""
    selected = select_targets(watchlist, only)
    started = now()
    run_id = make_run_id(started)
    with Interrupts() as interrupts, Archive.open(
        archive_dir, wait=wait,
        check=lambda: interrupts.check(" while waiting for the archive's lock; this run did nothing"),
    ) as archive:
        interrupts.check(" while opening the archive; this run fetched nothing")
        store = archive.store
        last = last_run_starts(store.conn)
        due = [t for t in selected if force or is_due(t, watchlist, last.get(t.name), started)]
        if on_start is not None:
            on_start(len(due))
        store.begin_run({
            "id": run_id, "started": iso(started), "status": "running", "watchlist": str(watchlist.path),
            "watchlist_sha256": watchlist.sha256, "targets_due": len(due),
            "software": f"lastseen/{__version__}",
        })
        stamp = iso(started)
        store.upsert_targets(
            {"name": t.name, "url": t.url, "tags": json.dumps(list(t.tags)), "first_seen": stamp, "updated": stamp}
            for t in due
        )
        result = RunResult(run_id, started, None, None, recovered=archive.recovered)
        files = WarcFileSet(
            archive.warc_dir,
            started=started,
            warcinfo={
                "software": f"lastseen/{__version__} (https://github.com/lastseen/lastseen)",
                "isPartOf": run_id,
                "description": "lastseen monitor run",
                "watchlist": os.path.basename(str(watchlist.path)),
                "watchlist-sha256": watchlist.sha256,
            },
        )
        recorder = _Recorder(archive, files, run_id, {t.name: t for t in due}, watchlist.settings.max_body)
        # A signal stops the fetcher at once (interrupts.stop); results already
        # sent are still recorded, then the loop ends.
        fetches = fetch_http(
            ({"name": t.name, "url": t.url} for t in due), fetch_options(watchlist), stop=interrupts.stop
        )
        try:
            try:
                for fetched in fetches:
                    recorder.record(fetched)
                    if on_event is not None:
                        on_event(recorder.events[fetched.target])
            finally:
                fetches.close()  # the fetcher process is gone before anything else happens
            recorder.commit()
            files.close()
        except BaseException:
            _salvage(recorder, files)
            _end_run(store, run_id, "failed", now)
            raise
        # Closed files renamed: events now point at final names already.
        result.events = [recorder.events[t.name] for t in due if t.name in recorder.events]
        if interrupts.received:
            # No report: it would present a partial run as the run. The captures
            # are committed (`lastseen report --since` shows them); the rest are due again.
            _end_run(store, run_id, "interrupted", now)
            interrupts.check(
                f": {_plural(len(result.events), 'target')} of {len(due)} captured and committed "
                f"(run {run_id}, marked interrupted; no report written); the others are due again next run"
            )
        if due:
            result.report = _relpath(write_run_report(
                store, run_id, reports_dir / run_id, started=started, finished=now(),
                order={t.name: i for i, t in enumerate(due)},
            ))
        if interrupts.received:
            _end_run(store, run_id, "interrupted", now, report=result.report)
            interrupts.check(
                f" while writing the report: all {len(due)} due targets were captured and committed and "
                f"the report written (run {run_id}, marked interrupted); no alerts were sent"
            )
        result.alerts = send_run_alerts(watchlist, result, store)
        result.finished = now()
        store.update_run(
            run_id, status="completed", finished=iso(result.finished), report=result.report,
            alerts=json.dumps([a.to_json() for a in result.alerts]),
        )
    return result


def _salvage(recorder: _Recorder, files: WarcFileSet) -> None:
    """After a failure: commit the captures whose records are whole, close the WARC file.

    Best effort, never masking the failure: a commit that fails too leaves its
    records unindexed (the targets are due again); a file whose torn last record
    could not be cut back keeps its ``.open`` name for recovery at the next start.
    """
    try:
        recorder.commit()
    except Exception:
        recorder.pending.clear()
    try:
        files.close()
    except Exception:
        pass


def _end_run(store: CaptureStore, run_id: str, status: str, now: Callable[[], datetime], **values) -> None:
    """Mark how a run ended; if even that cannot be written, the next start marks it aborted."""
    try:
        store.update_run(run_id, status=status, finished=iso(now()), **values)
    except LastseenError:
        pass


# -- reports and alerts -------------------------------------------------------

def _capture_view(row: dict | None):
    from .report import CaptureView

    if row is None:
        return None
    return CaptureView(
        id=row["id"], url=row["url"], final_url=row["final_url"], status=row["status"],
        status_chain=tuple(json.loads(row["status_chain"] or "[]")),
        started=datetime.fromisoformat(row["started"].replace("Z", "+00:00")),
        warc_file=row["warc_file"], warc_offset=row["warc_offset"], warc_record_id=row["warc_record_id"],
        record_type=row["record_type"], payload_sha256=row["payload_sha256"], title=row["title"],
        error=row["error"],
        tls_verified=None if row.get("tls_verified") is None else bool(row["tls_verified"]),
        tls_error=row.get("tls_error"), flags=tuple(json.loads(row.get("flags") or "[]")),
    )


def report_events(store: CaptureStore, rows: Iterable[dict]):
    """Build the report's events from index rows (texts loaded only where shown)."""
    from .report import ReportEvent

    for row in rows:
        current = store.capture(row["capture_id"])
        compared = store.capture(row["compared_capture_id"]) if row["compared_capture_id"] else None
        diff = None
        old_text = new_text = None
        if row["verdict"] in DETAIL_VERDICTS or row["diff_ops"]:
            if row["diff_ops"]:
                diff = Diff.ops_from_json(
                    json.loads(row["diff_ops"]), unit=row["unit"], fallback=bool(row["fallback"])
                )
            old_text = store.text(compared["text_sha256"]) if compared else None
            new_text = store.text(current["text_sha256"])
        yield ReportEvent(
            target=row["target"], url=row["target_url"] or current["url"],
            tags=tuple(json.loads(row["tags"] or "[]")), verdict=row["verdict"], reason=row["reason"],
            alert=bool(row["alert"]), summary=row["summary"] or "", current=_capture_view(current),
            compared=_capture_view(compared), diff=diff, old_text=old_text, new_text=new_text,
        )


def write_run_report(
    store: CaptureStore, run_id: str, out_dir: Path, *, started: datetime, finished: datetime,
    order: dict[str, int] | None = None,
) -> Path:
    from .report import write_report

    rows = store.events(run_id=run_id)
    if order:
        # Sort the light index rows (no texts) first; texts load one event at a time.
        rows = sorted(rows, key=lambda r: order.get(r["target"], len(order)))
    events = report_events(store, rows)
    return write_report(
        out_dir, title=f"lastseen run {run_id}", run_id=run_id, started=started, finished=finished,
        events=events, generated=utcnow(),
    )


def build_report(archive_dir: Path, out_dir: Path, *, since: timedelta, now: Callable[[], datetime] = utcnow) -> Path:
    """``lastseen report --since``: the same report for every event in a time window."""
    from .report import write_report

    end = now()
    start = end - since
    root = Path(archive_dir)
    if not (root / "lastseen.db").exists():
        raise LastseenError(f"no archive index at {root / 'lastseen.db'}; run `lastseen run` first or pass --archive")
    store = CaptureStore(root / "lastseen.db")
    try:
        events = report_events(store, store.events(since=iso(start)))
        return write_report(
            Path(out_dir), title=f"lastseen report {iso(start)} to {iso(end)}", run_id=None,
            started=start, finished=end, events=events, generated=end,
        )
    finally:
        store.close()


def send_run_alerts(watchlist: Watchlist, result: RunResult, store: CaptureStore) -> list:
    """Send the run's alert message, with alerts owed by earlier runs that never finished.

    A run killed or interrupted after recording a change never alerted it, and
    the next run compares with that capture (so it would not alert either):
    such events are carried into this message until one delivery succeeds.
    """
    from .alerts import AlertItem, compose_message, send_alerts

    items = [
        AlertItem(target=e.target, verdict=e.verdict, reason=e.reason, summary=e.summary, url=e.url)
        for e in result.events if e.alert
    ]
    owed = store.owed_alerts(exclude_run=result.run_id)
    result.carried = [
        {"run": o["run_id"], "target": o["target"], "verdict": o["verdict"], "reason": o["reason"],
         "summary": o["summary"] or "", "url": o["url"]}
        for o in owed
    ]
    if not items and not owed:
        return []
    results = []
    if watchlist.alerts:
        carried = [
            (c["run"], AlertItem(target=c["target"], verdict=c["verdict"], reason=c["reason"],
                                 summary=c["summary"], url=c["url"]))
            for c in result.carried
        ]
        title, body = compose_message(items, run_id=result.run_id, report_path=result.report, carried=carried)
        results = send_alerts(list(watchlist.alerts), title, body)
        if not any(r.ok for r in results):
            return results  # still owed: the next run tries again
    # Delivered, or shown (no sink: the --json output and cron's mail carry them).
    store.mark_delivered(run_id=result.run_id, event_ids=[o["id"] for o in owed])
    return results
