"""History pages written while a run fetches: the run's tail left with only what needs the whole run.

A target's history page (:mod:`.history`) depends on its own events, final once the run has judged it and
committed its rows, and on three things known only when the run ends: the time its pages are generated and
the custody log's head, both in every page's footer, and the names of the run's change pages (two targets of
a run whose names give one slug share ``<slug>.html`` and ``<slug>-2.html`` in the run's order).

So :class:`HistoryStream` writes each page of a target handed to it but its footer to one spool file,
``targets/.streamed.tmp`` (the pages there before stay in place), naming each of the target's change pages
of this run ``<slug>.html``. When the run ends, :meth:`HistoryStream.finish` writes each page with its
footer in place (:func:`~.history._overwrite`: a new file renamed over each page cost some 0.2 ms of CPU a
page), for every target whose change pages got those names; the others' are left in the spool, and written
whole with the rest (:func:`~.front.write_archive_pages`); then the spool goes. The pages are those one
write at the end of the run gives, byte for byte.

``targets/.writing`` is there from the first page written: a writer killed before the end leaves it, and the
next run writes every page again (a page cut short while :meth:`~HistoryStream.finish` wrote it in place
included). A run that ends without pages (interrupted, failed) cancels (:meth:`HistoryStream.cancel`): the
spool and the folders made for its pages go, and so does the marker, unless it was there before (and
``targets/`` itself, when made for them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from ..slugs import target_slug
from .assets import ArchiveAssets, write_assets
from .history import TARGETS_DIR, WRITING, _Named, _overwrite, _Template, _write_target
from .render import _needs_page, _slug

__all__ = ["HistoryStream"]

_INDEX = ("index.html",)  # what most targets' streamed pages are (shared: no tuple per target)
SPOOL = ".streamed.tmp"  # in targets/: every streamed page, each an 8-byte length then its bytes
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
        # name -> its files, its change pages, where its files start in the spool
        self.done: dict[str, tuple[tuple[str, ...], tuple, int]] = {}
        self.failed = False
        self._made = not self.root.is_dir()  # the folder of the history pages, made for these
        self.root.mkdir(parents=True, exist_ok=True)
        marker = self.root / WRITING
        self.redo = marker.exists()  # a killed writer's: every page is written again at the end
        marker.touch()
        self._spool = None  # opened with the first page
        self._files: list[str] = []
        self._pages: dict[int, str] = {}

    def write_targets(self, store, targets: Iterable[tuple[str, str]]) -> None:
        """Write the pages of ``targets`` ((name, url), their events of this run final and committed) but
        their footers. A page that cannot be written stops the streaming: every page is written at the end."""
        if self.failed:
            return
        try:
            if self._spool is None:
                self._spool = open(self.root / SPOOL, "w+b")
            for name, url in targets:
                self.done.pop(name, None)  # a target handed again: its pages written again
                self._files, self._pages = [], {}
                start = self._spool.tell()
                _write_target(store, self.root, name, url, self.template, None, self.page_rows, stream=self)
                files = _INDEX if self._files == list(_INDEX) else tuple(self._files)
                self.done[name] = (files, tuple(sorted(self._pages.items())), start)
        except OSError:
            if self._spool is not None:
                self.done[name] = (tuple(self._files), (), 0)  # the folder it may have made, removed
            self.failed = True
            self._drop()

    def write(self, path: Path, content: str) -> None:
        """A page but its footer, to the spool: its length, then its bytes."""
        data = content.encode("utf-8", errors="replace")
        self._spool.write(len(data).to_bytes(8, "big"))
        self._spool.write(data)
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
        spool = self._spool
        spool.flush()
        for name, (files, streamed, start) in self.done.items():
            if tuple(sorted(named.get(name, ()))) != streamed:
                continue
            folder = self.root / target_slug(name)
            spool.seek(start)
            for file in files:
                size = int.from_bytes(spool.read(8), "big")
                _overwrite(folder / file, spool.read(size) + tail)
            finished.add(name)
        self.done.clear()
        self._close_spool()
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

    def _close_spool(self) -> None:
        if self._spool is not None:
            spool, self._spool = self._spool, None
            spool.close()
            (self.root / SPOOL).unlink(missing_ok=True)

    def _drop(self) -> None:
        try:
            self._close_spool()
        except OSError:
            pass
        for name in self.done:
            try:
                (self.root / target_slug(name)).rmdir()  # made for its pages (a folder with pages in it stays)
            except OSError:
                pass
        self.done.clear()
