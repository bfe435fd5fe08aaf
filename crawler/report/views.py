"""What a report shows, assembled from the index: report events and ``lastseen report``.

:func:`report_events` turns ``events`` rows into :class:`~crawler.report.render.ReportEvent`
view-models (texts, diffs and screenshots loaded one event at a time, only where shown: a
first capture's text for its capture page, not its screenshot);
:func:`write_run_report` writes a run's report (:mod:`crawler.report.window` the report of a
time window, ``lastseen report``). Change what the report
shows here and in :mod:`crawler.report.render` and its templates.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Container, Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from io import BytesIO
from pathlib import Path, PurePosixPath

from warcio.archiveiterator import ArchiveIterator

from ..codings import decode_content
from ..diff import Diff
from ..events import event_id
from ..extract import PAGE, extract
from ..formatting import parse_iso
from ..store import CaptureStore
from ..timestamps import published
from ..verdicts import facts
from ..warcfiles import archived_body
from ..watchlist import Settings
from .documents import document_of
from .links import PAGE_VERDICTS, PageFacts, page_changes
from .render import CaptureView, ReportEvent, report_values, write_report

DEFAULT_MAX_PAGE = Settings().max_report_page
#: Bounds of a payload read again for its anchor texts (the settings' defaults: the report has no watchlist).
_MAX_BODY, _MAX_TEXT = Settings().max_body, Settings().max_text

#: A screenshot record bigger than this (its gzip member, or its PNG) is not shown: a full-page
#: screenshot of a very long page is a few MB; more means a damaged index or file.
MAX_SCREENSHOT = 64 * 1024 * 1024

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

__all__ = ["capture_view", "change_event", "report_events", "write_run_report"]


#: What the report's index shows of an event's capture (:func:`~.index.index_copy`), and the URL a target
#: without one in the index falls back to: all an event without a page of its own is read with when ``lean``.
INDEX_COLUMNS = ("id", "url", "final_url", "status", "started", "error", "tls_verified", "flags")


def capture_view(row: dict | None) -> CaptureView | None:
    """A ``captures`` row as the report shows it (a row of :data:`INDEX_COLUMNS` only: what the index keeps of
    it, :func:`~.index.index_copy`'s, the rest empty)."""
    if row is None:
        return None
    if "warc_file" not in row:
        return CaptureView(
            id=row["id"], url="", final_url=row["final_url"], status=row["status"], status_chain=(),
            started=parse_iso(row["started"]), warc_file=None, warc_offset=None, warc_record_id=None,
            record_type=None, payload_sha256=None, title=None, error=row["error"],
            tls_verified=None if row["tls_verified"] is None else bool(row["tls_verified"]),
            flags=_json_tuple(row["flags"]),
        )
    return CaptureView(
        id=row["id"], url=row["url"], final_url=row["final_url"], status=row["status"],
        status_chain=_json_tuple(row["status_chain"]),
        started=parse_iso(row["started"]),
        warc_file=row["warc_file"], warc_offset=row["warc_offset"], warc_record_id=row["warc_record_id"],
        record_type=row["record_type"], payload_sha256=row["payload_sha256"], title=row["title"],
        error=row["error"],
        tls_verified=None if row.get("tls_verified") is None else bool(row["tls_verified"]),
        tls_error=row.get("tls_error"), flags=_json_tuple(row.get("flags")),
        document=document_of(row.get("document")),
    )


@functools.lru_cache(maxsize=4096)
def _json_tuple(stored: str | None) -> tuple:
    """A stored JSON list (status chain, flags, tags) as a tuple; ``[]`` when empty. Cached: most rows of a large
    run store the same few (``[200]``, ``[]``), parsed 300,000 times in a report of 100,000 events (#17)."""
    return tuple(json.loads(stored or "[]"))


def report_events(store: CaptureStore, rows: Iterable[dict], *, archive_root: Path | None = None,
                  lean: bool = False, elsewhere: Container[str] = ()) -> Iterator[ReportEvent]:
    """The report's events from index rows (texts and screenshots loaded only where shown).

    Screenshots are read from the WARC files under ``archive_root``; without it,
    or when a file is missing or damaged, the event has no image and its page says why.
    ``lean``: an event without a page of its own (unchanged, no diff) comes without its compared capture,
    which only its page would show (a report's index does not: #17, the quiet targets of a large run).
    The captures are read 256 rows at a time. ``elsewhere``: targets whose pages another process writes
    (:mod:`.runstream`): their events come as ``lean`` makes an event without a page (its diff only, parsed).
    """
    for row, current, compared in _with_captures(store, rows, lean, elsewhere):
        current_view, compared_view = capture_view(current), capture_view(compared)
        diff = None
        old_text = new_text = None
        png = compared_png = page = None
        if row["target"] in elsewhere:  # its page written by another process: what the index shows, no more
            if row["diff_ops"]:
                diff = Diff.ops_from_json(json.loads(row["diff_ops"]), unit=row["unit"],
                                          fallback=bool(row["fallback"]))
        elif facts(row["verdict"], row["reason"]).detail or row["diff_ops"]:
            if row["diff_ops"]:
                diff = Diff.ops_from_json(
                    json.loads(row["diff_ops"]), unit=row["unit"], fallback=bool(row["fallback"])
                )
            old_text = store.text(compared["text_sha256"]) if compared else None
            new_text = store.text(current["text_sha256"])
            # A first capture's page shows its text; its screenshot stays in the archive (a first run
            # of many browser targets would copy every one into the report).
            refs = (None, None) if row["verdict"] == "new" else (
                store.screenshot(current["id"]), store.screenshot(compared["id"]) if compared else None)
            if any(refs):  # a browser capture on either side (HTTP events show no screenshots at all)
                current_view, png = _with_screenshot(current_view, refs[0], archive_root)
                if compared_view is not None:
                    compared_view, compared_png = _with_screenshot(compared_view, refs[1], archive_root)
            if row["verdict"] in PAGE_VERDICTS and compared is not None:
                page = page_changes(row["verdict"], page_facts(store, compared, archive_root),
                                    page_facts(store, current, archive_root))
        yield ReportEvent(
            target=row["target"], url=row["target_url"] or current["url"],
            tags=_json_tuple(row["tags"]), verdict=row["verdict"], reason=row["reason"],
            alert=bool(row["alert"]), summary=row["summary"] or "", current=current_view,
            compared=compared_view, diff=diff, old_text=old_text, new_text=new_text,
            screenshot=png, compared_screenshot=compared_png,
            confirmed=None if row.get("confirmed") is None else bool(row["confirmed"]),
            signals=_signals(row["evidence"]) if row.get("evidence") else None,
            significance=json.loads(row["significance"]) if row.get("significance") else None, page=page,
            event_id=event_id(row["run_id"], row["target"]),
        )


@functools.lru_cache(maxsize=256)
def _signals(stored: str) -> dict:
    """An event's stored evidence (its signals), parsed once for the events that share it: an unchanged
    verdict's, run after run (#17). Read-only: the report never changes an event's signals."""
    return json.loads(stored)


def _with_captures(store: CaptureStore, rows: Iterable[dict], lean: bool, elsewhere: Container[str] = (),
                   chunk: int = 256) -> Iterator[tuple[dict, dict, dict | None]]:
    """Each row with its capture and its compared capture (None: none, or not needed when ``lean``, nor for a
    target in ``elsewhere``)."""
    def needed(row: dict) -> bool:
        return (not lean or facts(row["verdict"], row["reason"]).detail or row["diff_ops"]) \
            and row["target"] not in elsewhere

    rows = iter(rows)
    while part := list(itertools.islice(rows, chunk)):
        shown = [r for r in part if needed(r)]
        captures = store.capture_rows([r["capture_id"] for r in shown]
                                      + [r["compared_capture_id"] for r in shown if r["compared_capture_id"]])
        rest = [r["capture_id"] for r in part if r["capture_id"] not in captures]
        captures.update(store.capture_rows(rest, INDEX_COLUMNS) if rest else {})
        for row in part:
            compared = row["compared_capture_id"]
            yield row, captures.get(row["capture_id"]), captures.get(compared) if compared and needed(row) else None


def change_event(store: CaptureStore, old: dict, new: dict, diff: Diff, *,
                 archive_root: Path | None = None) -> ReportEvent:
    """Two captures of a target compared as a change page shows them (``lastseen diff --out``): any two,
    not only a capture and the last good one before it. Verdict ``changed`` when the texts differ, else
    ``unchanged``; links, title and description compared; screenshots as the reports show them."""
    target = store.target_row(new["target"])
    verdict = "changed" if diff.changed else "unchanged"
    current_view, compared_view = capture_view(new), capture_view(old)
    png = compared_png = None
    refs = (store.screenshot(new["id"]), store.screenshot(old["id"]))
    if any(refs):
        current_view, png = _with_screenshot(current_view, refs[0], archive_root)
        compared_view, compared_png = _with_screenshot(compared_view, refs[1], archive_root)
    page = page_changes(verdict, page_facts(store, old, archive_root), page_facts(store, new, archive_root)) \
        if verdict in PAGE_VERDICTS else None
    return ReportEvent(
        target=new["target"], url=(target or {}).get("url") or new["url"],
        tags=tuple(json.loads((target or {}).get("tags") or "[]")), verdict=verdict, reason=None, alert=False,
        summary=diff.summary(), current=current_view, compared=compared_view, diff=diff,
        old_text=store.text(old["text_sha256"]), new_text=store.text(new["text_sha256"]),
        screenshot=png, compared_screenshot=compared_png, page=page,
    )


def page_facts(store: CaptureStore, row: dict, archive_root: Path | None) -> PageFacts:
    """A capture's links, their anchor texts, title and description, from its ``captures`` row.

    A capture extracted before anchor texts were kept (``link_texts`` null) is read again from its
    WARC record, in memory (nothing is written): the whole page's anchor texts, as the report does
    not know the target's ``select``. When that fails the page says why.
    """
    row = store.with_links(row)   # an unchanged recapture's are those of the capture it reused
    links = _json(row.get("links"), list)
    stored = _json(row.get("link_texts"), dict)
    seen = PageFacts(links=links, title=row.get("title"), description=row.get("description"), texts=stored or {})
    if links is None or stored is not None or row.get("kind") != "html":
        return seen
    read = _read_again(store, row, archive_root)
    if isinstance(read, str):
        return replace(seen, texts_missing=f"capture {row['id']} was archived before lastseen kept anchor texts "
                                             f"and descriptions, and {read}")
    return replace(seen, texts=read.link_texts, description=read.description)


def _json(stored: str | None, kind: type):
    try:
        value = json.loads(stored) if stored else None
    except ValueError:
        return None
    return value if isinstance(value, kind) else None


def _read_again(store: CaptureStore, row: dict, archive_root: Path | None):
    """The capture's payload extracted again (an :class:`~crawler.extract.Extracted`), or why it could not be."""
    if archive_root is None:
        return "the report was written without the archive's WARC files"
    content_type = coding = None
    if row.get("rendered_sha256"):   # a browser capture: its text and links came from the rendered DOM
        where = store.rendered_dom(row["id"])
        where = (where["warc_file"], where["offset"]) if where else (None, None)
        content_type = "text/html; charset=utf-8"
    elif row.get("record_type") == "revisit":
        original = store.response_record(row["refers_to_record_id"]) if row.get("refers_to_record_id") else None
        where = (original["warc_file"], original["offset"]) if original else (None, None)
    else:
        where = (row.get("warc_file"), row.get("warc_offset"))
    relative = PurePosixPath(where[0] or "")
    if where[0] is None or where[1] is None or relative.is_absolute() or ".." in relative.parts:
        return "the index does not say where its record is"
    try:
        stored = archived_body(archive_root, str(relative), where[1])
        if stored is None:
            return f"its record in {where[0]} could not be read"
        body, header_type, header_coding = stored
        if content_type is None:
            content_type, coding = header_type or row.get("content_type"), header_coding
        decoded, _ = decode_content(body, coding, max_size=_MAX_BODY)
        return extract(decoded, content_type, row.get("final_url") or row["url"], select=PAGE, max_text=_MAX_TEXT)
    except Exception as exc:  # noqa: BLE001 - damage in the archive costs the anchor texts, never the report
        return f"its record in {where[0]} is damaged ({_short(exc)})"


def _with_screenshot(view: CaptureView, ref: dict | None,
                     archive_root: Path | None) -> tuple[CaptureView, bytes | None]:
    """``view`` with its screenshot record (and why it is not shown, if it is not), and the PNG bytes."""
    if ref is None:
        why = "this capture has no screenshot record (an HTTP fetch, or the browser could not take one)"
        return replace(view, screenshot_missing=why), None
    png, why = read_screenshot(archive_root, ref)
    return replace(view, screenshot_record_id=ref["record_id"], screenshot_missing=why), png


def read_screenshot(archive_root: Path | None, ref: dict) -> tuple[bytes | None, str | None]:
    """The PNG of a screenshot record (``ref``: :meth:`~crawler.store.CaptureStore.screenshot`),
    or None and why it could not be read. Never raises: a damaged archive costs an image, not the report."""
    warc_file, offset, length, record_id = ref["warc_file"], ref["offset"], ref["length"], ref["record_id"]
    if archive_root is None:
        return None, "the report was written without the archive's WARC files"
    if not warc_file or offset is None or not length:
        return None, "the index does not say where its record is"
    if length > MAX_SCREENSHOT:
        return None, f"its record is larger than {MAX_SCREENSHOT // 2**20} MB ({length:,} bytes at offset {offset})"
    relative = PurePosixPath(warc_file)
    if relative.is_absolute() or ".." in relative.parts:  # (symlinks inside the archive are followed)
        return None, f"the index points outside the archive ({warc_file})"
    try:
        with open(Path(archive_root, relative), "rb") as fh:
            fh.seek(offset)
            member = fh.read(length)
    except FileNotFoundError:
        return None, f"the WARC file {warc_file} is missing"
    except OSError as exc:
        return None, f"cannot read the WARC file {warc_file}: {exc.strerror or exc}"
    where = f"the record at offset {offset} of {warc_file}"
    if len(member) < length:
        return None, f"{where} is cut short ({len(member):,} of {length:,} bytes; the file is damaged)"
    try:
        record = next(iter(ArchiveIterator(BytesIO(member), check_digests="raise")), None)
        if record is None:
            return None, f"no record at offset {offset} of {warc_file} (the file is damaged)"
        found = record.rec_headers.get_header("WARC-Record-ID")
        if record.rec_type != "resource" or found != record_id:
            return None, f"{where} is not its screenshot record {record_id} (the file changed since it was indexed)"
        png = record.content_stream().read(MAX_SCREENSHOT + 1)
    except Exception as exc:  # noqa: BLE001 - warcio, gzip, zlib, a bad digest: damage costs the image only
        return None, f"{where} is damaged ({_short(exc)})"
    if len(png) > MAX_SCREENSHOT:
        return None, f"its image is larger than {MAX_SCREENSHOT // 2**20} MB"
    if not png.startswith(_PNG_SIGNATURE):
        return None, f"{where} does not hold a PNG image"
    return png, None


def _short(exc: Exception, limit: int = 120) -> str:
    """An exception as one short line (warcio quotes the bytes it could not parse)."""
    line = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def write_run_report(
    store: CaptureStore, run_id: str, out_dir: Path, *, started: datetime, finished: datetime,
    generated: datetime, order: dict[str, int] | None = None, max_page: int | None = None,
    archive_root: Path | None = None, signing_fingerprint: str | None = None,
    footer: dict | None = None, delegated: dict[str, str | None] | None = None,
) -> Path:
    """Write the report of run ``run_id``; events in ``order`` (target name -> position) when given.

    ``archive_root`` is where the WARC files are (screenshots are read from them); ``signing_fingerprint``
    is shown in every page's footer (:func:`crawler.signing.key_fingerprint`), and ``footer``'s values
    (:func:`report_footer`, read now when not given). ``delegated``: targets whose pages the archive's page
    writer writes (:mod:`.runstream`), each one's page name set there (not written here)."""
    # Read in order a few hundred rows at a time (texts one event at a time): a run's index rows are some 1 KB
    # each, and a report of 100,000 events would otherwise hold them all.
    rows = store.run_events(run_id, order) if order else store.events(run_id=run_id)
    footer = report_footer(store) if footer is None else footer
    return write_report(
        out_dir, title=f"lastseen run {run_id}", run_id=run_id, started=started, finished=finished,
        events=report_events(store, rows, archive_root=archive_root, lean=True, elsewhere=delegated or ()),
        generated=generated, max_page=max_page, robots=store.robots_alerts(run_id),
        chain_head=footer["chain_head"], timestamp=footer["timestamp"],
        signing_fingerprint=signing_fingerprint, delegated=delegated,
    )


def report_footer(store: CaptureStore) -> dict:
    """What a run report's footer shows of the archive: the custody log's head (``chain_head``) and its
    RFC 3161 time-stamp (``timestamp``, as published), each None when there is none."""
    head = store.custody_head()
    stamped = store.head_timestamp(head["seq"], head["sha256"]) if head else None
    return {"chain_head": head, "timestamp": published(stamped) if stamped else None}


def write_run_pages(store: CaptureStore, run_id: str, out_dir: Path, pages: dict[str, str], *, generated: datetime,
                    footer: dict, max_page: int | None = None, archive_root: Path | None = None,
                    signing_fingerprint: str | None = None) -> None:
    """Write the pages of run ``run_id``'s report named in ``pages`` (target name -> file name) as
    :func:`write_run_report` would have: those another process was to write and did not (:mod:`.runstream`)."""
    from .eventpage import event_page
    from .render import _environment, _write_atomic

    env = _environment()
    common = run_page_values(run_id, generated=generated, footer=footer, signing_fingerprint=signing_fingerprint)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()
    rows = store.run_target_events(run_id, sorted(pages))
    for event in report_events(store, rows, archive_root=archive_root, lean=True):
        if pages.get(event.target) is not None:
            _write_atomic(out_dir / pages[event.target], event_page(env, common, event, out_dir, written, max_page))


def run_page_values(run_id: str, *, generated: datetime | None, footer: dict | None,
                    signing_fingerprint: str | None) -> dict:
    """The values :func:`write_run_report` renders its pages with (its run's times, which its event pages do not
    show, left out); ``footer`` as :func:`report_footer` gives it (None: rendered without, :mod:`.runstream`)."""
    footer = footer or {"chain_head": None, "timestamp": None}
    return report_values(f"lastseen run {run_id}", run_id, started=None, finished=None, generated=generated,
                         chain_head=footer["chain_head"], signing_fingerprint=signing_fingerprint,
                         timestamp=footer["timestamp"])
