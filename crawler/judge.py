"""Judging a run's fetches, with the fetches judging needs: re-fetches and probes of a host (IO-free).

:class:`RunJudge` takes every :class:`~crawler.fetch.model.FetchResult` of a
run, has the :class:`~crawler.recorder.Recorder` write and observe it, judges
it with :func:`crawler.classify.classify`, and asks the fetcher for more when
a verdict needs it, all within the same run:

- **host evidence** (``needs="host"``): a page that changed a lot may be a
  "not found" page served with 200. The host's answer to a random path (role
  ``probe``) and its home page (role ``home``) are fetched, once per host per
  run and only when a page needs them; the pages waiting for them are judged
  when both have arrived.
- **re-fetch** (``needs="refetch"``): a transition into ``vanished`` or
  ``moved`` is confirmed by fetching the URL again (role ``refetch``). The job
  is submitted when the first fetch is judged, so it queues behind the host's
  other targets and goes through the host's download slot, with its politeness.
  The re-fetch's event is the target's (its ``capture_id``), the first fetch's
  capture is kept without an event, and ``evidence.first_capture`` names it.

- **robots.txt** (``settings.watch_robots``): each host with a due target has its
  robots.txt fetched once per run (role ``robots``, :meth:`RunJudge.watch`). It is
  compared, when the run's fetches are done (:meth:`RunJudge.close_robots`), with the
  host's last one (:mod:`crawler.robotswatch`), against the paths of every target of that
  host fetched in the run; its capture keeps the comparison (``robots_changed``).

Every fetch is archived (request and response records, a capture record with
its role) and indexed as a capture with its role; only the target's own
final fetch has an event, so ``events`` keeps one per due target.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections import ChainMap
from collections.abc import Callable
from pathlib import PurePosixPath
from urllib.parse import urlsplit, urlunsplit

from .capture import Observed, conclude
from .classify import HostEvidence, HostPage, Verdict, classify
from .codings import decode_content
from .contract import Event
from .errors import ExtractError
from .fetch import FetchJob
from .fetch.model import FetchResult
from .reading import whole_text
from .recorder import Recorder
from .robotswatch import compare_robots, robots_text
from .store import History
from .warc import sha1_digest
from .watchlist import Target

__all__ = ["HOST_ROLES", "RunJudge", "host_key", "origin_of", "probe_url"]

#: Roles of fetches made to judge a host's pages, and the host page each stands for.
HOST_ROLES = {"probe": "error_page", "home": "home_page"}


def host_key(url: str, fetch: str) -> tuple[str, str]:
    """Which host a URL is on, for probes: scheme, host and port, and the fetch mode (a browser target's
    host pages are loaded in the browser too, so their text compares with what the browser saw)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}", fetch


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url``: one robots.txt per origin (RFC 9309 §2.3)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def probe_url(url: str, token: str) -> str:
    """A path the host surely does not have: ``/<token>`` at its root, with the page's file extension
    (``.html``, ``.php``, ``.aspx``: servers route by it)."""
    parts = urlsplit(url)
    suffix = PurePosixPath(parts.path).suffix
    suffix = suffix if suffix and len(suffix) <= 6 and suffix[1:].isalnum() else ""
    return urlunsplit((parts.scheme, parts.netloc, f"/lastseen-probe-{token}{suffix}", "", ""))


@dataclasses.dataclass
class _Host:
    pages: dict[str, HostPage | None]        # "error_page"/"home_page" -> the page, None while awaited
    waiting: list[tuple[Observed, tuple[Observed, Verdict] | None]]


@dataclasses.dataclass
class _Robots:
    urls: list[str]                          # the URLs of the host's targets fetched in this run
    seen: Observed | None = None             # its robots.txt, once arrived (rows queued at the run's end)


class RunJudge:
    """Judges one run's fetch results, submitting the re-fetches and probes its verdicts need."""

    def __init__(self, recorder: Recorder, jobs: dict[str, FetchJob], submit: Callable[[FetchJob], None], *,
                 token: Callable[[], str] = lambda: secrets.token_hex(6), watch_robots: bool = False):
        self.recorder = recorder
        self.jobs = ChainMap({}, jobs)   # job id -> job, the follow-ups' then the run's (made when asked: RunJobs)
        by_target = getattr(jobs, "by_target", None)
        self.page_jobs = ChainMap({}, by_target() if by_target is not None
                                  else {j.target: j for j in jobs.values() if j.role == "page"})
        self.submit = submit
        self.token = token
        self.hosts: dict[tuple[str, str], _Host] = {}
        self.firsts: dict[str, tuple[Observed, Verdict]] = {}   # target -> its first fetch, awaiting re-fetch
        self.watch_robots = watch_robots
        self.robots: dict[str, _Robots] = {}   # origin -> its robots.txt in this run

    def watch(self, target: Target) -> None:
        """With ``watch_robots``, fetch the robots.txt of ``target``'s host (once per run) and watch its path."""
        if not self.watch_robots or urlsplit(target.url).scheme not in ("http", "https"):
            return
        origin = origin_of(target.url)
        robots = self.robots.get(origin)
        if robots is None:
            robots = self.robots[origin] = _Robots([])
            self._submit(FetchJob(id=f"robots:{origin}", target=target.name, url=f"{origin}/robots.txt",
                                  fetch="http", role="robots"))
        robots.urls.append(target.url)

    def close_robots(self) -> dict[str, dict]:
        """Compare each robots.txt fetched with its host's last one and queue its rows; the changes that
        newly shut archive crawlers out of a watched path, by origin (``{"added": [...], "removed": [...]}``)."""
        alerts: dict[str, dict] = {}
        for origin, robots in self.robots.items():
            seen = robots.seen
            if seen is None:
                continue
            final = seen.result.final
            new = None
            if final is not None and not final.truncated:
                new = robots_text(final.status, self._decoded(final.body, final.header("Content-Encoding")))
            old = None
            last = self.recorder.store.last_robots(seen.result.url, before_run=self.recorder.run_id)
            if last is not None:
                stored = self.recorder.stored_body(last) if 200 <= last.status < 300 else (b"", None, None)
                old = robots_text(last.status, self._decoded(stored[0], stored[2])) if stored is not None else None
            change = compare_robots(old, new, robots.urls)
            seen.capture["robots_changed"] = json.dumps(change) if change else None
            self.recorder.queue_rows(seen.capture, seen.exchanges, seen.text_row)
            if change and change["alert"]:
                alerts[origin] = {"added": change["added"], "removed": change["removed"]}
        return alerts

    def take(self, result: FetchResult) -> list[Event]:
        """Record and judge ``result``; the events that are final now (none while a follow-up is awaited)."""
        job = self.jobs.get(result.job) or FetchJob(id=str(result.job), target=result.target, url=result.url,
                                                    fetch=result.fetch)
        for exchange in result.exchanges:   # an attempt at the URL is what the job was for
            if exchange.role == "page" and job.role != "page":
                exchange.role = job.role
        if job.role in HOST_ROLES:
            return self._host_page(job, result)
        if job.role == "robots":
            return self._robots(job, result)
        first = self.firsts.pop(result.target, None) if job.role == "refetch" else None
        seen = self.recorder.observe(result, job.role, history=first[0].history if first else None)
        return self._judge(seen, first)

    def _judge(self, seen: Observed, first: tuple[Observed, Verdict] | None) -> list[Event]:
        target = seen.target
        key = host_key(target.url, seen.result.fetch)
        host = self.hosts.get(key)
        evidence = None
        if host is not None and all(page is not None for page in host.pages.values()):
            evidence = HostEvidence(**host.pages)
        verdict = classify(seen.observation, seen.previous, evidence, confirm_after=target.confirm_after,
                           first=first[1] if first else None)
        if verdict.needs == "host":
            self._ask_host(key, target, seen, first)
            return []
        if verdict.needs == "refetch":
            judged = conclude(seen, verdict, run_id=self.recorder.run_id, load_text=self.recorder.store.text)
            judged.capture["good"] = 0   # not the last good capture before it is confirmed
            self.recorder.queue_rows(judged.capture, judged.exchanges, judged.text_row)
            self.firsts[target.name] = (seen, verdict)
            job = self._job_of(target.name)
            self._submit(dataclasses.replace(job, id=f"{job.id}/refetch", role="refetch"))
            return []
        return self.finish(seen, verdict, first)

    def finish(self, seen: Observed, verdict: Verdict, first: tuple[Observed, Verdict] | None) -> list[Event]:
        """A fetch judged for good: its rows queued, its event (a listing's run may do more: crawler.listingrun)."""
        judged = conclude(seen, verdict, run_id=self.recorder.run_id, load_text=self.recorder.store.text,
                          first=first)
        return [self.recorder.queue(judged, first[0].capture if first else None)]

    def _ask_host(self, key, target, seen: Observed, first) -> None:
        host = self.hosts.get(key)
        if host is None:
            job = self._job_of(target.name)
            origin = key[0]
            host = self.hosts[key] = _Host({"error_page": None, "home_page": None}, [])
            self._submit(FetchJob(id=f"probe:{origin}:{key[1]}", target=target.name,
                                  url=probe_url(target.url, self.token()), fetch=job.fetch, role="probe",
                                  options=job.options))
            self._submit(FetchJob(id=f"home:{origin}:{key[1]}", target=target.name, url=f"{origin}/",
                                  fetch=job.fetch, role="home", options=job.options))
        host.waiting.append((seen, first))

    def _host_page(self, job: FetchJob, result: FetchResult) -> list[Event]:
        """A probe or home page arrived: archive it, and judge the pages that waited for it."""
        target = dataclasses.replace(self.recorder.targets[result.target], url=result.url, select="page", ignore=(),
                                     ignore_text=())
        seen = self.recorder.observe(result, job.role, history=History(None, None, None), target=target)
        capture = seen.capture
        capture["good"] = 0
        capture["flags"] = None
        self.recorder.queue_rows(capture, seen.exchanges, seen.text_row)
        final = result.final
        text = seen.text
        if text is None and final is not None and not final.truncated:  # a 404 page's text counts too
            text = whole_text(final, result.resource("dom"), self.recorder.max_body, self.recorder.max_text)
        page = HostPage(url=result.url, status=final.status if final is not None else None,
                        final_url=final.url if final is not None else None, text=text)
        host = self.hosts[host_key(job.url, job.fetch)]
        host.pages[HOST_ROLES[job.role]] = page
        if any(p is None for p in host.pages.values()):
            return []
        waiting, host.waiting = host.waiting, []
        events: list[Event] = []
        for seen_page, first in waiting:
            events += self._judge(seen_page, first)
        return events

    def _decoded(self, body: bytes | None, coding: str | None) -> bytes | None:
        try:
            return decode_content(body or b"", coding, max_size=self.recorder.max_body)[0]
        except ExtractError:
            return None

    def _robots(self, job: FetchJob, result: FetchResult) -> list[Event]:
        """A robots.txt arrived: archive it now; it is compared (and indexed) at the run's end."""
        target = dataclasses.replace(self.recorder.targets[result.target], url=result.url, select="page", ignore=(),
                                     ignore_text=())
        # the host's robots.txt as it was last archived, by any target: unchanged, it is archived as a revisit
        final, payload = result.final, None
        if final is not None and not final.truncated:
            payload = self.recorder.store.stored_response(final.url, sha1_digest(final.body), final.status)
        seen = self.recorder.observe(result, "robots", history=History(None, None, payload), target=target)
        seen.capture["good"], seen.capture["flags"] = 0, None
        self.robots[origin_of(job.url)].seen = seen
        return []

    def _job_of(self, target: str) -> FetchJob:
        return self.page_jobs[target]

    def _submit(self, job: FetchJob) -> None:
        self.jobs[job.id] = job
        self.submit(job)
