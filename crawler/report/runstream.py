"""A run report's event pages written while the run fetches: the run's tail left with the report's index.

The page a run report gives an event (:mod:`.eventpage`: a change page, a vanished page's, a first capture's)
depends on the event, final once the run has judged its target and committed its rows, and on two things known
only when the run ends: its name (two targets whose names give one slug get ``<slug>.html`` and
``<slug>-2.html``, in the run's order) and its footer (when the report was generated, the custody log's head
and its time-stamp). The page itself never shows its own name.

So the archive's page writer (:mod:`crawler.pagewriter`), handed the run's targets as they become final,
renders each one's page but its footer (:data:`~.eventpage.FOOTER_SLOT`) to ``<run>/.streaming/<event id>.part``
(its screenshots, if any, beside the report's pages already). When the run ends, :meth:`RunPageStream.finish`
is given the names and the footer: it appends the footer and the page's last lines to each, and renames it to
its name. Meanwhile the monitor writes the report's index and not those pages (``delegated``, in
:func:`~.views.write_run_report`); once the writer is done, a page it did not put in place (it failed, or was
killed) is written by the monitor (:func:`~.views.write_run_pages`). The pages are those
:func:`~.views.write_run_report` writes alone, byte for byte.

A run that ends without a report (interrupted, failed) cancels (:meth:`RunPageStream.cancel`): the folder of
the parts goes, the screenshots written for them, and the run's folder when it was made for them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from ..errors import LastseenError
from .eventpage import FOOTER_SLOT, event_page, footer
from .render import SCREENSHOT_DIR, _needs_page
from .views import report_events, run_page_values

__all__ = ["PARTS", "RunPageStream", "not_in_place"]

PARTS = ".streaming"  # in the run's report folder: each page but its footer, ``<event id>.part``


class RunPageStream:
    """The event pages of a run's report, rendered as the run's targets become final, put in place at its end."""

    def __init__(self, reports_dir: Path, run_id: str, *, env, max_page: int | None = None,
                 archive_root: Path | None = None, signing_fingerprint: str | None = None) -> None:
        self.out_dir = Path(reports_dir) / run_id
        self.parts = self.out_dir / PARTS
        self.run_id, self.env, self.max_page, self.archive_root = run_id, env, max_page, archive_root
        self.signing_fingerprint = signing_fingerprint
        self.common = run_page_values(run_id, generated=None, footer=None, signing_fingerprint=signing_fingerprint)
        self.done: dict[str, tuple[int, str]] = {}  # target -> (its event's id, the page's end after the footer)
        self.failed = False
        self._made = None  # whether the run's folder was made for these pages (known when the first is written)
        self._shots: set[str] = set()  # the screenshots written, as the pages name them
        self._ends: dict[str, str] = {}  # the pages' ends (one or two strings, shared)

    def write_targets(self, store, names: list[str]) -> None:
        """Render the pages of ``names``' events of this run (final, their rows committed) but their footers.
        A page that cannot be rendered or written stops the streaming: the monitor writes the rest."""
        if self.failed or not names:
            return
        try:
            rows = store.run_target_events(self.run_id, list(names))
            for row, event in zip(rows, report_events(store, rows, archive_root=self.archive_root, lean=True)):
                if not _needs_page(event):
                    continue
                if self._made is None:
                    self._made = not self.out_dir.exists()
                self.parts.mkdir(parents=True, exist_ok=True)
                html = event_page(self.env, self.common, event, self.out_dir, self._shots, self.max_page,
                                  footer_slot=FOOTER_SLOT)
                head, end = html.rsplit(FOOTER_SLOT, 1)  # the last one: the slot is after all the page shows
                with open(self.parts / f"{int(row['id'])}.part", "wb") as fh:
                    fh.write(head.encode("utf-8", errors="replace"))
                self.done[event.target] = (int(row["id"]), self._ends.setdefault(end, end))
        except (OSError, LastseenError):
            self.failed = True

    def finish(self, pages: Mapping[int, str], *, generated: datetime, report_footer: dict) -> set[str]:
        """Put each page written in place as ``pages`` (event id -> file name: the names the report gives them)
        names it, its footer ``report_footer``'s (:func:`~.views.report_footer`) and ``generated``'s; return
        the targets whose pages are in place. One that cannot be written is left to the monitor."""
        common = run_page_values(self.run_id, generated=generated, footer=report_footer,
                                 signing_fingerprint=self.signing_fingerprint)
        tail = footer(self.env, common).encode("utf-8", errors="replace")
        placed: set[str] = set()
        try:
            for target, (event_id, end) in self.done.items():
                name = pages.get(event_id)
                if name is None:
                    continue
                part = self.parts / f"{event_id}.part"
                with open(part, "ab") as fh:
                    fh.write(tail + end.encode("utf-8", errors="replace"))
                os.chmod(part, 0o644)
                os.replace(part, self.out_dir / name)
                placed.add(target)
        except OSError:
            pass
        finally:
            self.done.clear()
            shutil.rmtree(self.parts, ignore_errors=True)
        return placed

    def cancel(self) -> None:
        """No report this run: the parts go, the screenshots written for them, the run's folder if made for them."""
        self.done.clear()
        shutil.rmtree(self.parts, ignore_errors=True)
        for name in self._shots:
            try:
                (self.out_dir / name).unlink()
            except OSError:
                pass
        for folder in ((self.out_dir / SCREENSHOT_DIR,) if self._shots else ()) + ((self.out_dir,) if self._made
                                                                                    else ()):
            try:
                folder.rmdir()
            except OSError:
                pass


def not_in_place(out_dir: Path, delegated: Mapping[str, str | None]) -> dict[str, str]:
    """Once the writer is done: the pages of ``delegated`` (target -> its page's name) not in ``out_dir``, for
    the monitor to write; what a writer killed before the end left of its parts is deleted."""
    shutil.rmtree(Path(out_dir) / PARTS, ignore_errors=True)
    return {name: page for name, page in delegated.items() if page is not None and not (Path(out_dir) / page).exists()}
