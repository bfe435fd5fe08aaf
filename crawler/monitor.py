"""One run of the monitor: due targets → fetch → record → report → alerts. Orchestration only.

The path of one run (docs/architecture.md draws it): the archive is opened
under its lock (:mod:`crawler.archive`: recovery of what a killed run left),
due targets are chosen (:mod:`crawler.schedule`), handed as jobs to a
:class:`~crawler.fetch.Fetcher`, and each result is recorded as it arrives
(:mod:`crawler.recorder`: WARC records, then :mod:`crawler.capture` judges it,
then index rows). Then the custody log's head is time-stamped (:mod:`crawler.timestamps`,
when an authority is set), the run's report is written (:mod:`crawler.report`) and
its alerts delivered (:mod:`crawler.alerts`). What the run did comes back as a
:class:`~crawler.contract.RunResult`, the ``--json`` contract.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

from . import __version__, clock
from .alerts import deliver_run_alerts, report_reference
from .archive import Archive
from .capturerecords import WARCINFO_FIELD
from .contract import Event, RunResult
from .documents import DocumentLimits
from .errors import ArchiveError, LastseenError, UsageError
from .fetch import Fetcher, FetchJob, discard_prestarted
from .formatting import iso, one_line, plural
from .interrupts import Interrupts
from .judge import RunJudge, origin_of
from .listingrun import ListingJudge, ListingState
from .pagewriter import PageWriter
from .recorder import Recorder, display_path
from .report import report_footer, write_run_pages, write_run_report
from .report.runstream import not_in_place
from .schedule import is_due, parse_times
from .signing import key_fingerprint
from .store import CaptureStore
from .timestamps import timestamp_head
from .warcfiles import WarcFileSet
from .watchlist import Target, Watchlist, fetch_options

__all__ = ["make_run_id", "run", "select_targets", "utcnow"]


def utcnow() -> datetime:
    return clock.now()


def make_run_id(now: datetime) -> str:
    """``20261122T101500Z-3f2a``: sortable, safe as a folder name."""
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def select_targets(watchlist: Watchlist, only: Sequence[str]) -> list[Target]:
    """Targets named (by name or tag) by ``--only``; all when empty. ``LISTING/KEY`` names one item of a
    listing (the listing's place in the order is kept, the listing itself is not fetched)."""
    if not only:
        return list(watchlist.targets)
    listings = [t for t in watchlist.targets if t.listing is not None]
    unmatched = [v for v in only if not any(t.matches(v) for t in watchlist.targets)
                 and not any(v.startswith(f"{t.name}/") for t in listings)]
    if unmatched:
        names = ", ".join(repr(v) for v in unmatched)
        raise UsageError(
            f"--only {names} matches no target name or tag in {watchlist.path}, nor an item of a listing "
            f"(LISTING/KEY); `lastseen check {watchlist.path}` lists what is there"
        )
    return [t for t in watchlist.targets if any(t.matches(v) or (t.listing is not None and v.startswith(f"{t.name}/"))
                                                for v in only)]


def _listing_states(store: CaptureStore, selected: list[Target], only: Sequence[str]) -> dict[str, ListingState]:
    """The listings among ``selected``, with what the index knows of their items (``--only LISTING/KEY``: that
    item only, unless the listing itself is named too)."""
    states = {}
    for t in selected:
        if t.listing is None:
            continue
        last, known = store.listing_items(t.name)
        whole = not only or any(t.matches(v) for v in only)
        states[t.name] = ListingState(t, last, known,
                                      only=None if whole else {v for v in only if v.startswith(f"{t.name}/")})
    return states


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
    pages: PageWriter | None = None,
) -> RunResult:
    """Run the monitor once. Raises :class:`LastseenError` only for tool failures.

    ``pages``: the archive pages' writer, forked by the caller before it read the watchlist
    (:mod:`crawler.pagewriter`); cancelled here when nothing is due. Without it, one is forked once targets
    are known to be due."""
    selected = select_targets(watchlist, only)
    _check_reports_dir(reports_dir)  # before anything is fetched, not after
    signer = key_fingerprint(watchlist.settings.signing_key)  # in the reports' footers (docs/evidence.md)
    started = now()
    run_id = make_run_id(started)
    with Interrupts() as interrupts, Archive.open(
        archive_dir, wait=wait, run_id=run_id, now=now, started=started,
        check=lambda: interrupts.check(" while waiting for the archive's lock; this run did nothing"),
    ) as archive:
        interrupts.check(" while opening the archive; this run fetched nothing")
        store = archive.store
        last = parse_times(store.last_run_starts())
        unconfirmed = store.unconfirmed_targets()
        listings = _listing_states(store, selected, only)

        def due_now(t: Target) -> bool:
            return force or is_due(t, watchlist, last.get(t.name), started, unconfirmed=t.name in unconfirmed)

        due = [t for t in selected if due_now(t) and not (t.name in listings and listings[t.name].only is not None)]
        if not listings:  # nothing asks again (a listing's items are judged due as they are found)
            last = None   # a name and a time per target, held through the run otherwise (100,000: 8.9 MB, #17)
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
                WARCINFO_FIELD[0]: WARCINFO_FIELD[1],   # its captures are listed in batch records (#17)
            },
        )
        recorder = Recorder(archive, files, run_id, {t.name: t for t in due}, watchlist.settings.max_body,
                            max_text=watchlist.settings.max_text, documents=DocumentLimits(
                                watchlist.settings.doc_timeout, watchlist.settings.doc_max_pages,
                                watchlist.settings.max_text))
        # The archive's pages are written by a child forked before anything is fetched (by the CLI before it
        # read the watchlist): it warms its templates meanwhile and holds nothing of the run's captures
        # (crawler.pagewriter).
        if not due:
            discard_prestarted()   # the fetcher `lastseen run` started early, if any: killed at once (#17)
        if not due and pages is not None:
            pages.cancel()
            pages = None
        elif due and pages is None:
            pages = PageWriter.fork(close=(archive.lock_fd,) if archive.lock_fd is not None else ())
        try:
            # A signal stops the fetcher at once (interrupts.stop); results already
            # sent are still recorded, then the loop ends.
            fetcher = Fetcher(fetch_options(watchlist), stop=interrupts.stop)
            try:
                try:
                    jobs = RunJobs(due)   # each job made when it is sent or asked for, not all at once (#17)
                    fetcher.submit_all(len(due), lambda i: due[i].url, jobs.make)
                    # Re-fetches and probes the verdicts need are submitted while results are read.
                    watch_robots = watchlist.settings.watch_robots
                    if listings:
                        judge = ListingJudge(recorder, jobs, fetcher.submit, listings=listings, is_due=due_now,
                                             watch_robots=watch_robots)
                        judge.started = stamp
                    else:
                        judge = RunJudge(recorder, jobs, fetcher.submit, watch_robots=watch_robots)
                    for t in due:
                        judge.watch(t)  # its host's robots.txt, once per run (settings.watch_robots)
                    if listings:
                        judge.start({t.name for t in due})
                    if pages is not None:  # history and report pages written as targets become final (crawler.pagewriter)
                        pages.stream(store.path, reports_dir, run_id, signing_fingerprint=signer,
                                     max_page=watchlist.settings.max_report_page, archive_root=archive.root)
                    for fetched in fetcher.results():
                        final = judge.take(fetched)
                        for event in final:
                            if on_event is not None:
                                on_event(event)
                        if pages is not None:
                            pages.captured(recorder, final)
                finally:
                    fetcher.close()  # the fetcher process is gone before anything else happens
                robots = judge.close_robots()
                judge = jobs = None  # every job's result is in: the report of a large run has their memory
                recorder.commit()
                files.close()   # its custody entry is committed before its rename (Recorder.commit)
                result.chain_head = store.custody_head()   # published: --json, the report's footer, the alerts
            except BaseException:
                recorder.salvage()
                _end_run(store, run_id, "failed", now)
                raise
            # Closed files renamed: events now point at final names already.
            order = [name for t in selected
                     for name in (t.name, *(listings[t.name].order if t.name in listings else ()))]
            # Read back from the recorder's file in order each time they are walked (crawler.runevents).
            result.events = recorder.events.in_order(order, lambda event: setattr(
                event, "robots_changed", robots.get(origin_of(recorder.targets[event.target].url))))
            for line in recorder.warnings():
                print(f"lastseen run {run_id}: {line}", file=sys.stderr, flush=True)
            if interrupts.received:
                # No report: it would present a partial run as the run. The captures
                # are committed (`lastseen report --since` shows them); the rest are due again.
                _end_run(store, run_id, "interrupted", now)
                interrupts.check(
                    f": {plural(len(result.events), 'target')} of {len(due)} captured and committed "
                    f"(run {run_id}, marked interrupted; no report written); the others are due again next run"
                )
            # The head, final now, time-stamped before the report that shows it (settings.timestamp_authority)
            result.timestamp = timestamp_head(store, archive.root, watchlist.settings, run_id, now=now)
            if result.timestamp["status"] == "failed":
                print(f"lastseen run {run_id}: the custody chain head was not time-stamped: "
                      f"{one_line(result.timestamp['error'])}; the next run tries again", file=sys.stderr, flush=True)
            if result.events:
                positions = {name: i for i, name in enumerate(order)}  # one map, for the pages and the report
                generated, footer = utcnow(), report_footer(store)
                # the report's pages the writer rendered while the run fetched: it puts them in place (runstream)
                delegated = pages.delegated if pages is not None else None
                if pages is not None:  # the targets captured: their history pages, and the front page
                    pages.write(store.path, reports_dir, run_id, **_archive_pages(
                        store, watchlist, recorder, order, positions, signer, generated=generated,
                        report={"generated": generated, "footer": footer}))
                report_args = {"max_page": watchlist.settings.max_report_page, "archive_root": archive.root,
                               "signing_fingerprint": signer}
                try:
                    result.report = display_path(write_run_report(
                        store, run_id, reports_dir / run_id, started=started, finished=now(), generated=generated,
                        order=positions, footer=footer, delegated=delegated or None, **report_args))
                    if delegated:  # those the writer did not put in place (it failed, or died): written here
                        pages.wait()
                        if missing := not_in_place(reports_dir / run_id, delegated):
                            write_run_pages(store, run_id, reports_dir / run_id, missing, generated=generated,
                                            footer=footer, **report_args)
                except BaseException:
                    # Captures committed, no report, no alerts: `failed` (its alerts are carried into the next run).
                    _end_run(store, run_id, "failed", now)
                    raise
                finally:
                    if pages is not None:
                        pages.wait()
            if interrupts.received:
                _end_run(store, run_id, "interrupted", now, report=result.report)
                interrupts.check(
                    f" while writing the report: all {len(due)} due targets were captured and committed and "
                    f"the report written (run {run_id}, marked interrupted); no alerts were sent"
                )
            report = None if result.report is None else report_reference(
                Path(result.report), reports_dir, watchlist.settings.report_url)
            result.alerts = deliver_run_alerts(watchlist.alerts, result, store, report=report)
            result.finished = now()
            store.update_run(
                run_id, status="completed", finished=iso(result.finished), report=result.report,
                alerts=json.dumps([a.to_json() for a in result.alerts]),
            )
        finally:
            if pages is not None:
                pages.wait()   # unless handed the pages to write, the child exits having written nothing
    return result


class RunJobs(Mapping):
    """The page jobs of a run's due targets by job id (``"0"``, ``"1"``...: their place in ``due``), each made
    when asked for (a frozen value: equal each time); ``by_target()`` the same by target name."""

    def __init__(self, due: Sequence[Target]):
        self.due = due

    def make(self, i: int) -> FetchJob:
        t = self.due[i]
        return FetchJob(id=str(i), target=t.name, url=t.url, fetch=t.fetch, options=t.mode_options())

    def __getitem__(self, key: str) -> FetchJob:
        if isinstance(key, str) and key.isascii() and key.isdigit() and str(int(key)) == key \
                and int(key) < len(self.due):
            return self.make(int(key))
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (str(i) for i in range(len(self.due)))

    def __len__(self) -> int:
        return len(self.due)

    def by_target(self) -> Mapping[str, FetchJob]:
        return _JobsByTarget(self)


class _JobsByTarget(Mapping):
    def __init__(self, jobs: RunJobs):
        self.jobs = jobs
        self.index = {t.name: i for i, t in enumerate(jobs.due)}

    def __getitem__(self, name: str) -> FetchJob:
        return self.jobs.make(self.index[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)


def _archive_pages(store: CaptureStore, watchlist: Watchlist, recorder: Recorder, order: list[str],
                   positions: dict[str, int], signer: str | None, **values) -> dict:
    """What the archive's pages of this run are written from (:func:`~crawler.report.front.write_archive_pages`,
    docs/history.md): the watchlist's targets (a listing's items after it), those the run captured, in order;
    the two made as :meth:`PageWriter.write` reads them, not held whole (#17)."""
    def targets():
        for t in watchlist.targets:
            yield t.name, t.url
            if t.listing is not None:
                yield from store.listing_item_targets(t.name)

    return {
        "targets": targets(),
        "captured": ((name, recorder.targets[name].url) for name in order if name in recorder.events),
        "order": positions,
        "signing_fingerprint": signer,
        **values,
    }


def _end_run(store: CaptureStore, run_id: str, status: str, now: Callable[[], datetime], **values) -> None:
    """Mark how a run ended; if even that cannot be written, the next start marks it aborted."""
    try:
        store.update_run(run_id, status=status, finished=iso(now()), **values)
    except LastseenError:
        pass


def _check_reports_dir(reports_dir: Path) -> None:
    """Create ``reports_dir`` and write (then remove) a probe file in it, so that a run whose
    report cannot be written fails before fetching anything. Raises :class:`ArchiveError`."""
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=reports_dir)
        try:
            os.write(fd, b"x")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        if reports_dir.exists() and not reports_dir.is_dir():
            why = "it is a file, not a directory"
        elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
            why = f"the disk is full ({exc.strerror})"
        else:
            why = exc.strerror or str(exc)
        raise ArchiveError(
            f"the reports directory {reports_dir} is not writable ({why}); nothing was fetched: "
            f"choose another with --reports or fix its permissions and free space, then run again"
        ) from exc
