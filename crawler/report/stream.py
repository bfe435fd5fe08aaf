"""History pages written while a run fetches: the run's tail left with only what needs the whole run.

A target's history page (:mod:`.history`) depends on its own events, final once the run has judged it and
committed its rows, and on three things known only when the run ends: the time its pages are generated and
the custody log's head, both in every page's footer, and the names of the run's change pages (two targets of
a run whose names give one slug share ``<slug>.html`` and ``<slug>-2.html`` in the run's order).

So :class:`HistoryStream` writes each page of a target handed to it but its footer, under the page's
temporary name (``.index.html.tmp``: the page there before stays in place), naming each of the target's
change pages of this run ``<slug>.html``. When the run ends, :meth:`HistoryStream.finish` appends the footer
to each and renames it over the page, for every target whose change pages got those names; the others' are
deleted, and written whole with the rest (:func:`~.front.write_archive_pages`). The pages are those one
write at the end of the run gives, byte for byte.

``targets/.writing`` is there from the first page written: a writer killed before the end leaves it, and the
next run writes every page again. A run that ends without pages (interrupted, failed) cancels
(:meth:`HistoryStream.cancel`): the temporary files and the folders made for them go, and so does the
marker, unless it was there before (and ``targets/`` itself, when made for them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from ..slugs import target_slug
from .assets import ArchiveAssets, write_assets
from .history import TARGETS_DIR, WRITING, _Named, _Template, _write_target
from .render import _needs_page, _slug

__all__ = ["HistoryStream"]

_INDEX = ("index.html",)  # what most targets' streamed pages are (shared: no tuple per target)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the frame's time while streaming: only its footer shows it


class HistoryStream:
    """The history pages of a run's targets, written as they become final, finished when the run ends."""

    def __init__(self, reports_dir: Path, run_id: str, *, env, assets: ArchiveAssets, page_rows: int,
                 signing_fingerprint: str | None = None) -> None:
        self.reports_dir, self.run_id, self.assets = Path(reports_dir), run_id, assets
        self.root = self.reports_dir / TARGETS_DIR
        self.page_rows = max(1, page_rows)
        self.template = _Template(env, assets, _EPOCH, self.page_rows, None, signing_fingerprint)
        self.template._tail = ""  # the footer: appended by finish()
        self.done: dict[str, tuple[tuple[str, ...], tuple]] = {}  # name -> its files, its change pages
        self.failed = False
        self._made = not self.root.is_dir()  # the folder of the history pages, made for these
        self.root.mkdir(parents=True, exist_ok=True)
        marker = self.root / WRITING
        self.redo = marker.exists()  # a killed writer's: every page is written again at the end
        marker.touch()
        self._files: list[str] = []
        self._pages: dict[int, str] = {}

    def write_targets(self, store, targets: Iterable[tuple[str, str]]) -> None:
        """Write the pages of ``targets`` ((name, url), their events of this run final and committed) but
        their footers. A page that cannot be written stops the streaming: every page is written at the end."""
        if self.failed:
            return
        try:
            for name, url in targets:
                self._forget(name)
                self._files, self._pages = [], {}
                _write_target(store, self.root, name, url, self.template, None, self.page_rows, stream=self)
                files = _INDEX if self._files == list(_INDEX) else tuple(self._files)
                self.done[name] = (files, tuple(sorted(self._pages.items())))
        except OSError:
            self.done[name] = (tuple(self._files), ())  # what it wrote of the target it failed on
            self.failed = True
            self._drop()

    def write(self, path: Path, content: str) -> None:
        """A page but its footer, under its temporary name (:func:`~.history._write`'s)."""
        with open(path.with_name(f".{path.name}.tmp"), "wb") as fh:
            fh.write(content.encode("utf-8", errors="replace"))
        self._files.append(path.name)

    def pages(self, name: str, rows: list[dict]) -> dict[int, str]:
        """The change pages of ``name``'s events of this run among ``rows``, each ``<slug>.html``."""
        own = f"{_slug(name)}.html"
        self._pages = {
            r["event_id"]: own for r in rows
            if r["run_id"] == self.run_id
            and _needs_page(_Named(name, r["verdict"], r["reason"], True if r["has_diff"] else None))
        }
        return self._pages

    def finish(self, store, template: _Template, pages: Mapping[int, str]) -> set[str]:
        """Append ``template``'s footer to the pages written and put them in place; return the targets done.

        ``pages``: the run's change pages as its report names them (:func:`~.history.run_change_pages`): a
        target whose pages named one of its change pages otherwise, or any page written with another frame,
        is not done (its files deleted)."""
        same = (template._head, template._middle, template.page_rows) == (
            self.template._head, self.template._middle, self.page_rows)
        if self.failed or not same or not self.done:
            self._drop()
            return set()
        named: dict[str, list] = {}
        for event_id, target, *_ in store.run_page_events(self.run_id):
            if target in self.done and event_id in pages:
                named.setdefault(target, []).append((event_id, pages[event_id]))
        tail = template._tail.encode("utf-8", errors="replace")
        write_assets(self.reports_dir, self.assets)  # what the pages link, before they are in place
        finished = set()
        for name, (files, streamed) in self.done.items():
            folder = self.root / target_slug(name)
            if tuple(sorted(named.get(name, ()))) != streamed:
                for file in files:
                    (folder / f".{file}.tmp").unlink(missing_ok=True)
                continue
            for file in files:
                tmp = folder / f".{file}.tmp"
                with open(tmp, "ab") as fh:
                    fh.write(tail)
                os.replace(tmp, folder / file)
            finished.add(name)
        self.done.clear()
        return finished

    def cancel(self) -> None:
        """No pages this run: the temporary files go, the folders made for them, the marker if it was not there."""
        self._drop()
        if not self.redo:  # no page was put in place
            (self.root / WRITING).unlink(missing_ok=True)
            if self._made:
                try:
                    self.root.rmdir()
                except OSError:
                    pass

    def _forget(self, name: str) -> None:
        """A target handed again (its pages are written again)."""
        if name in self.done:
            folder = self.root / target_slug(name)
            for file in self.done.pop(name)[0]:
                (folder / f".{file}.tmp").unlink(missing_ok=True)

    def _drop(self) -> None:
        for name, (files, _) in self.done.items():
            folder = self.root / target_slug(name)
            for file in files:
                try:
                    (folder / f".{file}.tmp").unlink(missing_ok=True)
                except OSError:
                    pass
            try:
                folder.rmdir()  # made for these files (a folder with pages in it stays)
            except OSError:
                pass
        self.done.clear()
