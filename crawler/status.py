"""``lastseen status``: each watchlist target's state, each listing's items under it; as a table or JSON.

Targets the archive holds that the watchlist no longer has (their evidence is kept) are left out unless
``--all`` is given: then they follow, by name, marked ``(not in the watchlist)`` (``in_watchlist: false``
in JSON), with no next due time.

The index is read in a fixed number of queries whatever the number of targets and items
(:meth:`~crawler.store.CaptureStore.target_records`, :meth:`~crawler.store.CaptureStore.listings_items`,
the recoveries and, with ``--only``, the volatile parts learned). A listing's items are those it
ever had (docs/listings.md): first those of its last capture, in its order, then those no longer
listed (``listed: false``; still watched), each with its state like any target's; then how many
its last capture listed past ``max_items`` (not watched; their URLs in ``--json``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .formatting import iso, one_line, parse_iso
from .schedule import TargetStatus, state_of
from .watchlist import Watchlist

__all__ = ["RECOVERIES_SHOWN_DAYS", "Status", "print_status", "read_status"]

#: ``lastseen status`` lists the recoveries of this many days (and counts older ones).
RECOVERIES_SHOWN_DAYS = 30


@dataclass(frozen=True)
class Status:
    """What ``lastseen status`` shows."""

    now: datetime
    rows: list[TargetStatus]
    recovered: list
    recovered_older: int
    volatile: list[dict] | None  # with --only: the volatile parts learned for the targets shown

    def to_json(self) -> dict:
        doc = {
            "schema": 1,
            "now": iso(self.now),
            "targets": [r.to_json() for r in self.rows],
            "recovered": [r.status_json() for r in self.recovered],
            "recovered_older": self.recovered_older,
        }
        if self.volatile is not None:
            doc["volatile"] = self.volatile
        return doc


def read_status(
    watchlist: Watchlist, archive, now: datetime, only: Sequence[str] = (), *, everything: bool = False
) -> Status:
    """The state of the targets ``only`` names (all when empty; ``LISTING/KEY`` names one item) and their items.

    With ``everything`` (``--all``), also the targets the archive holds that are no longer in the watchlist
    (nor items of one of its listings), after the watchlist's, by name; with ``only``, those it names.
    """
    store = archive.store
    archived = store.known_targets() if everything and store is not None else {}
    gone_named = [v for v in only if v in archived and not any(t.name == v for t in watchlist.targets)]
    wanted = [v for v in only if v not in gone_named]
    if only and not wanted:
        selected = []
    elif wanted:
        from .monitor import select_targets  # here, not above: the run's modules are not the table's (#17)

        selected = select_targets(watchlist, wanted)
    else:
        selected = list(watchlist.targets)
    records = store.target_records() if store is not None else {}
    listings = [t for t in selected if t.listing is not None]
    items = store.listings_items([t.name for t in listings]) if store is not None and listings else {}
    rows = []
    for t in selected:
        row = state_of(t, watchlist, records.get(t.name), now)
        if t.listing is not None:
            from .listing import child_target  # only for listings: it brings the extraction's modules (#17)

            whole = not only or any(t.matches(v) for v in only)
            last, known = items.get(t.name, ([], {}))
            listed = {url for url, _ in last}
            order = [url for url, key in last if key is not None] + [url for url in known if url not in listed]
            children = []
            for url in dict.fromkeys(order):
                child = child_target(t, url, known[url])
                if whole or child.name in only:
                    children.append(state_of(child, watchlist, records.get(child.name), now, listed=url in listed))
            capped = tuple(url for url, key in last if key is None) if whole else ()
            row = replace(row, items=tuple(children), items_capped=capped)
        rows.append(row)
    if everything:
        rows += _gone(watchlist, rows, archived, records, gone_named if only else None)
    recovered, older = archive.recoveries(since=now - timedelta(days=RECOVERIES_SHOWN_DAYS))
    volatile = None
    if only:
        names = [r.name for r in rows] + [i.name for r in rows for i in r.items or ()]
        volatile = store.volatile_parts(names) if store is not None else []
    return Status(now, rows, recovered, older, volatile)


def _gone(watchlist: Watchlist, rows: list[TargetStatus], known: dict, records: dict, named) -> list[TargetStatus]:
    """The rows of the targets in the archive (``known``) that the watchlist no longer has, by name (``named``:
    only those); an item of a listing the watchlist still has is its listing's, not gone."""
    shown = {r.name for r in rows} | {i.name for r in rows for i in r.items or ()}
    listings = tuple(f"{t.name}/" for t in watchlist.targets if t.listing is not None)
    watched = {t.name for t in watchlist.targets}
    out = []
    for name in sorted(known if named is None else named):
        if name in shown or name in watched or name.startswith(listings):
            continue
        url, tags = known[name]
        rec = records.get(name)
        out.append(
            TargetStatus(
                name=name, url=url, tags=tags,
                last_capture=parse_iso(rec.last_capture) if rec else None,
                last_status=rec.last_status if rec else None,
                last_verdict=rec.last_verdict if rec else None,
                last_reason=rec.last_reason if rec else None,
                last_good=parse_iso(rec.last_good) if rec else None,
                next_due=None, consecutive_failures=rec.consecutive_failures if rec else 0,
                captures=rec.captures if rec else 0, unconfirmed=False, in_watchlist=False,
            )
        )  # fmt: skip
    return out


def _short(t) -> str | None:
    """``2026-11-20 06:00`` (``%Y-%m-%d %H:%M``; isoformat's C code, a third of strftime's time: #17)."""
    return t.isoformat(" ", "minutes")[:16] if t else None


def _failures(r: TargetStatus) -> str:
    """``2 of 3, unconfirmed`` while a failure awaits confirmation; the count once confirmed."""
    if not r.consecutive_failures:
        return ""
    if r.unconfirmed:
        return f"{r.consecutive_failures} of {r.confirm_after}, unconfirmed"
    return str(r.consecutive_failures)


def _volatile_words(key: str) -> str:
    """A learned key in words: ``the block shaped "Visited # times"``, ``the block after "Quotes"``."""
    kind, _, shape = key.partition(":")
    if kind == "line":
        return f'the block shaped "{shape}"'
    return f'the block after "{shape}"' if shape else "the first block"


def print_status(status: Status, title: str) -> None:
    """The table on stdout (an item indented under its listing), then volatile parts and recoveries.

    On a terminal (or with ``COLUMNS`` set) the table fits its width, long cells wrapped; written to a pipe
    or a file it is as wide as its widest cells, each target's row one line (what ``grep`` finds).

    The table is drawn by :func:`crawler.texttable.draw_table` (rich's look, in time linear in the rows: a
    rich table of 100,000 rows took 80 s); every cell is made one printable line first, so a name or
    verdict is shown as text, never parsed as markup nor sent to the terminal as a control.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.text import Text

    from .texttable import draw_table

    def text(value) -> Text:  # a name or verdict is shown as text, never parsed as markup
        return Text(one_line(value))

    cells = []
    for row in status.rows:
        mark = "" if row.in_watchlist else " (not in the watchlist)"
        for r, name in [(row, one_line(row.name) + mark)] + [
            (i, "  " + one_line(i.name) + ("" if i.listed else " (delisted)")) for i in row.items or ()
        ]:
            cells.append((  # times and numbers formatted here; the index's words made one printable line
                name,
                _short(r.last_capture) or "never",
                one_line(r.last_status) if r.last_status else "-",
                one_line((r.last_verdict or "-") + (f" ({r.last_reason})" if r.last_reason else "")),
                _short(r.next_due) or ("next run" if r.in_watchlist else "-"),
                _failures(r),
            ))  # fmt: skip
        if row.items_capped:
            more = len(row.items_capped)
            cells.append((f"  … {more} more {'item' if more == 1 else 'items'} past max_items (not watched: "
                          f"raise listing.max_items to watch them)", "", "", "", "", ""))
    console = Console()
    # a terminal's width (or COLUMNS'); a pipe or a file gets each row on one line, for grep (#17)
    width = console.width if console.is_terminal or os.environ.get("COLUMNS", "").isdigit() else None
    headers = ("target", "last capture (UTC)", "status", "last verdict", "next due (UTC)", "failures")
    table = draw_table(headers, cells, width, ascii_only=not console.encoding.startswith("utf"))
    console.file.write(one_line(title) + "\n" + "\n".join(table) + "\n")
    console.file.flush()
    for v in status.volatile or ():  # learned volatile parts: left out of the compared text
        console.print(
            text(
                f"volatile in {v['target']}: {_volatile_words(v['key'])} (learned "
                f"{_short(parse_iso(v['learned']))}, run {v['run_id']}; `lastseen unlearn --only "
                f"{v['target']}` forgets it)"
            ),
            soft_wrap=True,
        )
    for rec in status.recovered:
        when = _short(parse_iso(rec.at)) or "?"
        console.print(escape(f"recovered {when} by run {rec.run or '?'}: {rec.describe()}"), soft_wrap=True)
    if status.recovered_older:
        older = status.recovered_older
        console.print(
            f"{older} older {'recovery' if older == 1 else 'recoveries'} (more than {RECOVERIES_SHOWN_DAYS} "
            f"days ago) in the index's recoveries table",
            soft_wrap=True,
            markup=False,
        )
