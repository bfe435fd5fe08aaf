"""A report over any time window (``lastseen report``): which events, in which order, written how.

The events are those whose capture started in the window (:class:`crawler.window.Window`), of the
targets in scope (:class:`Scope`): the watchlist's targets and their listings' items, unless
``--all`` takes in every target the archive holds (targets removed from the watchlist keep their
history: evidence is never deleted); ``--only`` narrows either as it does for ``lastseen run``.
They are grouped by target (watchlist order, then targets no longer in it by name), each target's
events oldest first. The HTML report has the run report's look and its change pages
(:func:`crawler.report.render.write_report` with ``grouped``); the JSON one is
:mod:`crawler.report.window_json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

from ..errors import UsageError
from ..formatting import iso, parse_iso, plural
from ..store import CaptureStore
from ..watchlist import Watchlist
from ..window import Window
from .render import write_report
from .views import DEFAULT_MAX_PAGE, _json_tuple, report_events

__all__ = ["Scope", "group_rows", "read_scope", "window_rows", "write_window_report"]


@dataclass(frozen=True)
class Scope:
    """Which targets a window report takes in. ``watchlist`` None: there is none (every archived target)."""

    watchlist: Watchlist | None
    only: tuple[str, ...] = ()
    everything: bool = False  # --all
    known: dict[str, list[str]] = field(
        default_factory=dict
    )  # every target the archive or watchlist has: tags

    @cached_property
    def _order(self) -> tuple[dict[str, int], dict[str, int]]:
        """Watchlist targets' positions by name, and the listings' (dict lookups: a large window
        has many events of many targets)."""
        targets = self.watchlist.targets if self.watchlist is not None else ()
        return (
            {t.name: i for i, t in enumerate(targets)},
            {t.name: i for i, t in enumerate(targets) if t.listing is not None},
        )

    def _listing_of(self, name: str) -> int | None:
        """The position of the watchlist listing ``name`` is an item of (``<listing>/<key>``; keys hold no
        ``/``), if any."""
        return self._order[1].get(name.rsplit("/", 1)[0]) if "/" in name else None

    def in_watchlist(self, name: str) -> bool:
        return name in self._order[0] or self._listing_of(name) is not None

    def keeps(self, name: str, tags: Sequence[str]) -> bool:
        if not (self.everything or self.watchlist is None or self.in_watchlist(name)):
            return False
        return not self.only or any(
            _matches(v, name, tags, self.known) for v in self.only
        )

    def position(self, name: str) -> tuple[int, int, str]:
        """Where ``name``'s group goes: watchlist order (a listing's items just after it), then by name."""
        if name in self._order[0]:
            return (self._order[0][name], 0, "")
        listing = self._listing_of(name)
        if listing is not None:
            return (listing, 1, name)
        return (len(self._order[0]), 0, name)


def _matches(
    value: str, name: str, tags: Sequence[str], known: dict[str, list[str]]
) -> bool:
    """``--only value`` takes in target ``name``: its name, one of its tags, or the listing it is an item of."""
    return (
        value == name
        or value in tags
        or (value in known and name.startswith(f"{value}/"))
    )


def read_scope(
    watchlist: Watchlist | None,
    only: Sequence[str],
    everything: bool,
    store: CaptureStore | None,
) -> Scope:
    """The scope, with ``--only`` checked: a value matching no target is a usage error, as for ``lastseen run``
    (with ``--all`` or no watchlist, the archive's targets count too)."""
    known = store.target_tags() if store is not None else {}
    if watchlist is not None:
        for t in watchlist.targets:
            known.setdefault(t.name, list(t.tags))
    scope = Scope(watchlist, tuple(only), everything, known)
    if not only:
        return scope
    if watchlist is not None and not everything:
        from ..monitor import select_targets

        select_targets(watchlist, only)  # the very message `lastseen run --only` gives
        return scope
    unmatched = [
        v
        for v in only
        if not any(_matches(v, name, tags, known) for name, tags in known.items())
    ]
    if unmatched:
        where = (
            "the watchlist or the archive" if watchlist is not None else "the archive"
        )
        raise UsageError(
            f"--only {', '.join(repr(v) for v in unmatched)} matches no target name or tag in "
            f"{where}"
        )
    return scope


def window_rows(
    store: CaptureStore, window: Window, scope: Scope
) -> tuple[list[dict], int, int]:
    """The ``events`` rows of the window in scope, grouped and ordered; and how many events of how many
    targets not in the watchlist were left out (``--all`` takes them in)."""
    kept, left_out, left_targets = [], 0, set()
    # Read a second either side: ``started`` holds microseconds and ``iso`` whole seconds, and a stored time
    # compares below its own second's ("...:00.000018Z" < "...:00Z"); the window itself decides below.
    second = timedelta(seconds=1)
    for row in store.events(since=iso(window.start - second), until=iso(window.end + second)):
        started = parse_iso(row["started"])
        if started is None or started not in window:
            continue
        row["started_at"] = started
        tags = _json_tuple(row["tags"])  # a few distinct tag lists, parsed once each
        if scope.keeps(row["target"], tags):
            kept.append(row)
        elif (
            scope.watchlist is not None
            and not scope.in_watchlist(row["target"])
            and not scope.everything
        ):
            left_out += 1
            left_targets.add(row["target"])
    kept.sort(
        key=lambda r: (
            scope.position(r["target"]),
            r["target"],
            r["started_at"],
            r["id"],
        )
    )
    return kept, left_out, len(left_targets)


def group_rows(rows: Sequence[dict]) -> list[tuple[str, list[dict]]]:
    """``(target, its rows)`` in the order of ``rows`` (already grouped by :func:`window_rows`)."""
    groups: list[tuple[str, list[dict]]] = []
    for row in rows:
        if groups and groups[-1][0] == row["target"]:
            groups[-1][1].append(row)
        else:
            groups.append((row["target"], [row]))
    return groups


def scope_notes(
    scope: Scope, left_out: int, left_targets: int, watchlist_path: str | None
) -> list[str]:
    """What the report says about its scope: no watchlist, or targets no longer in it left out."""
    notes = []
    if scope.watchlist is None:
        notes.append(
            f"No watchlist at {watchlist_path}: every target in the archive is included."
        )
    elif left_out and not scope.everything:
        notes.append(
            f"{plural(left_out, 'event')} of {plural(left_targets, 'target')} no longer in the watchlist "
            f"left out; `lastseen report --all` includes them."
        )
    return notes


def write_window_report(
    store: CaptureStore,
    out_dir: Path,
    window: Window,
    rows: Sequence[dict],
    *,
    generated: datetime,
    notes: Sequence[str] = (),
    archive_root: Path | None = None,
    max_page: int | None = DEFAULT_MAX_PAGE,
    signing_fingerprint: str | None = None,
) -> Path:
    """Write the window's HTML report (index grouped by target, a change page per change); its index path.

    ``signing_fingerprint``: the watchlist's signing key's, shown in every page's footer (None: nothing)."""
    return write_report(
        Path(out_dir),
        title=f"lastseen report {iso(window.start)} to {iso(window.last)}",
        run_id=None,
        started=window.start,
        finished=window.last,
        events=report_events(store, rows, archive_root=archive_root, lean=True),
        generated=generated,
        max_page=max_page,
        grouped=True,
        notes=notes,
        chain_head=store.custody_head(),
        signing_fingerprint=signing_fingerprint,
    )
