"""A run's listings: their items found, new and removed ones judged, every item fetched as a child target.

:class:`ListingJudge` is the run's :class:`~crawler.judge.RunJudge` when the watchlist has
listings. When a listing's capture is judged good, its items are read (:mod:`crawler.listing`)
and stored with it (``listing_items``), and its items are submitted as child jobs, under their
hosts' politeness like any job: every item of a first capture (the baseline: no alert), an item
that appeared (``new`` / ``listed``, alerts), an item that left the listing (fetched again, due
or not: ``delisted`` when it still answers, else its usual ``vanished``), and the other items
when due. A listing not due, or whose capture failed, still has its due items fetched.
Sitemap indexes are read after their sitemaps (role ``sitemap``) are fetched and archived.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from .capture import Observed
from .classify import Verdict
from .codings import decode_content
from .contract import Event
from .errors import ExtractError
from .fetch import FetchJob
from .fetch.model import FetchResult
from .judge import RunJudge
from .listing import (
    MAX_SITEMAPS,
    Items,
    child_target,
    choose_items,
    name_items,
    page_items,
    read_sitemap,
)
from .store import History
from .watchlist import Target

__all__ = ["ListingJudge", "ListingState"]

_STILL_THERE = ("new", "unchanged", "changed", "restored")  # verdicts of an item that still answers


@dataclasses.dataclass
class ListingState:
    """One listing in this run: what the index knew, the items chosen for fetching, the contexts of each."""

    target: Target
    last: list[tuple[str, str | None]] | None  # (url, key) at its last capture with items; None: none yet
    known: dict[str, str]  # every item it ever had: url -> key
    only: set[str] | None = None  # --only LISTING/KEY: these children only
    contexts: dict[str, str] = dataclasses.field(default_factory=dict)  # child -> baseline/listed/delisted
    delisted: set[str] = dataclasses.field(default_factory=set)  # children no longer listed
    order: list[str] = dataclasses.field(default_factory=list)  # children submitted, in order
    pending: tuple | None = None  # a sitemap index awaiting its sitemaps: (seen, verdict, first)
    sitemaps: dict[str, bytes | None] = dataclasses.field(default_factory=dict)


class ListingJudge(RunJudge):
    """A :class:`RunJudge` that also runs the listings among its targets (see the module's docstring)."""

    def __init__(
        self, recorder, jobs, submit, *, listings: dict[str, ListingState], is_due: Callable[[Target], bool], **kwargs
    ):
        super().__init__(recorder, jobs, submit, **kwargs)
        self.listings = listings
        self.is_due = is_due
        self.parents: dict[str, ListingState] = {}  # child name -> its listing

    # -- starting: the listings not fetched in this run -------------------------------------------

    def start(self, fetched: set[str]) -> None:
        """Submit the due items of the listings that are not fetched in this run."""
        for state in self.listings.values():
            if state.target.name not in fetched:
                self._schedule(state, None)

    # -- a listing or an item judged --------------------------------------------------------------

    def take(self, result: FetchResult) -> list[Event]:
        job = self.jobs.get(result.job)
        if job is not None and job.role == "sitemap":
            return self._sitemap(job, result)
        return super().take(result)

    def finish(self, seen: Observed, verdict: Verdict, first) -> list[Event]:
        name = seen.target.name
        if name in self.listings:
            return self._listing(self.listings[name], seen, verdict, first)
        state = self.parents.get(name)
        if state is None:
            return super().finish(seen, verdict, first)
        context = state.contexts.get(name)
        if context == "baseline":
            verdict = dataclasses.replace(verdict, alert=False)
        elif context == "listed" and verdict.verdict == "new":
            verdict = dataclasses.replace(verdict, reason="listed", alert=True,
                                          evidence={**verdict.evidence, "listed_on": state.target.name})
        elif context == "delisted" and verdict.verdict in _STILL_THERE:
            verdict = dataclasses.replace(
                verdict,
                verdict="delisted",
                reason=None,
                alert=True,
                confirmed=None,
                evidence={**verdict.evidence, "delisted_from": state.target.name},
            )
        if name in state.delisted and "delisted" not in seen.flags:
            seen.flags.append("delisted")
        events = super().finish(seen, verdict, first)
        for event in events:
            event.parent = state.target.name
        return events

    def _listing(self, state: ListingState, seen: Observed, verdict: Verdict, first) -> list[Event]:
        final = seen.result.final
        body = None
        if verdict.good and final is not None and 200 <= final.status < 300 and not final.truncated:
            try:
                body = decode_content(final.body, final.header("Content-Encoding"), max_size=self.recorder.max_body)[0]
            except ExtractError:
                body = None
        if body is None:
            events = super().finish(seen, verdict, first)
            self._schedule(state, None)
            return events
        listing = state.target.listing
        if listing.sitemap:
            sitemap = read_sitemap(body, final.url)
            if sitemap.kind == "sitemapindex" and sitemap.locs:
                state.pending = (seen, verdict, first)
                job = self._job_of(state.target.name)
                for i, loc in enumerate(sitemap.locs[:MAX_SITEMAPS]):
                    state.sitemaps[loc] = None
                    self._submit(
                        FetchJob(
                            id=f"{job.id}/sitemap/{i}", target=state.target.name, url=loc, fetch="http", role="sitemap"
                        )
                    )
                return []
            urls = list(sitemap.locs)
        else:
            urls = page_items(body, final.header("Content-Type"), final.url, listing.links)
        return self._found(state, seen, verdict, first, urls)

    def _sitemap(self, job: FetchJob, result: FetchResult) -> list[Event]:
        """A sitemap of a sitemap index arrived: archive it; once all have, read the listing's items."""
        state = self.listings[result.target]
        target = dataclasses.replace(state.target, url=result.url, select="page", ignore=(), ignore_text=())
        seen = self.recorder.observe(result, "sitemap", history=History(None, None, None), target=target)
        seen.capture["good"], seen.capture["flags"] = 0, None
        self.recorder.queue_rows(seen.capture, seen.exchanges, seen.text_row)
        final = result.final
        body = b""
        if final is not None and 200 <= final.status < 300:
            try:
                body = decode_content(final.body, final.header("Content-Encoding"), max_size=self.recorder.max_body)[0]
            except ExtractError:
                body = b""
        state.sitemaps[job.url] = body
        if any(v is None for v in state.sitemaps.values()) or state.pending is None:
            return []
        urls = [loc for data in state.sitemaps.values() for loc in read_sitemap(data, "").locs if data]
        (seen_index, verdict, first), state.pending = state.pending, None
        return self._found(state, seen_index, verdict, first, urls)

    def _found(self, state: ListingState, seen: Observed, verdict: Verdict, first, urls: list[str]) -> list[Event]:
        """The listing's items are known: store them with its capture, flag it, and schedule its items."""
        listing = state.target.listing
        items = choose_items(
            state.target.url, urls, match=listing.match, cross_site=listing.cross_site, max_items=listing.max_items,
            documents=listing.documents,
        )
        keys = name_items(items.urls, state.known)
        state.known.update(keys)
        evidence = {**verdict.evidence, "items": len(items.urls)}
        if items.capped:
            evidence["items_capped"] = len(items.capped)
            seen.flags.append("listing-capped")
        if items.urls or items.capped:
            seen.capture["listing_items"] = [(u, keys[u]) for u in items.urls] + [(u, None) for u in items.capped]
        events = super().finish(seen, dataclasses.replace(verdict, evidence=evidence), first)
        self._schedule(state, items if items.urls or items.capped else None)
        return events

    # -- scheduling the items ---------------------------------------------------------------------

    def _schedule(self, state: ListingState, items: Items | None) -> None:
        """Submit the items to fetch: all of a baseline, new ones, removed ones, and the others when due."""
        found = set(items.urls) | set(items.capped) if items is not None else None
        before = [u for u, k in state.last or () if k is not None]
        listed_before = {u for u, _ in state.last or ()}
        current = found if found is not None else listed_before
        plan: list[tuple[str, str | None]] = []  # (url, context)
        if items is not None:
            for url in items.urls:
                if state.last is None:
                    plan.append((url, "baseline"))
                elif url not in listed_before:
                    plan.append((url, "listed"))
                else:
                    plan.append((url, None))
            plan += [(url, "delisted") for url in before if url not in found]
        else:
            plan += [(url, None) for url in before]
        planned = {url for url, _ in plan}
        plan += [(url, None) for url in state.known if url not in planned and (items is None or url not in found)]
        for url, context in plan:
            key = state.known.get(url)
            if key is None:
                continue
            child = child_target(state.target, url, key)
            if state.only is not None and child.name not in state.only:
                continue
            if url not in current:
                state.delisted.add(child.name)
            if context is None and not self.is_due(child):
                continue
            if context is not None:
                state.contexts[child.name] = context
            self._child(state, child)

    def _child(self, state: ListingState, child: Target) -> None:
        if child.name in self.parents:
            return
        self.parents[child.name] = state
        state.order.append(child.name)
        self.recorder.targets[child.name] = child
        self.recorder.store.upsert_targets(
            [
                {
                    "name": child.name,
                    "url": child.url,
                    "tags": json.dumps(list(child.tags)),
                    "first_seen": self.started,
                    "updated": self.started,
                }
            ]
        )
        job = FetchJob(
            id=f"item:{child.name}", target=child.name, url=child.url, fetch=child.fetch, options=child.mode_options()
        )
        self.page_jobs[child.name] = job
        self._submit(job)
        self.watch(child)

    started = ""  # the run's start, as stored (set by the monitor)
