"""One event's page in a run report: a change page (``detail.html``) or a first capture's (``capture.html``).

:func:`event_page` renders it, its screenshots written beside it; :func:`~.render.write_report` writes the pages
of a run's events with it, and the archive's page writer the pages of the events final while the run fetches
(:mod:`.runstream`), with :data:`FOOTER_SLOT` where the footer goes: the footer (``_footer.html``:
:func:`footer`) is known only when the run ends. The pages are the same, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from ..keywords import keyword_spans
from .documents import change_pages, metadata_changes
from .evidence import capture_rows, evidence_rows
from .keyed import keyed_table
from .render import (
    CONTEXT_CHARS,
    CSP,
    CSP_SCREENSHOTS,
    SCREENSHOT_DIR,
    ReportEvent,
    _screenshot_name,
    _write_atomic,
)
from .segments import _first_changes, _segments, highlighted
from .sidebyside import paragraph_views

__all__ = ["FOOTER_SLOT", "event_page", "footer"]

#: Where a page's footer goes when it is rendered before the footer is known (a C0 control: never in a rendered
#: value, ``render._finalize``; the page is split at its last one, after everything the page shows)
FOOTER_SLOT = "\x00footer\x00"


def event_page(env, common: dict, event: ReportEvent, out_dir: Path, written: set[str], max_page: int | None,
               *, footer_slot: str | None = None) -> str:
    """The HTML of ``event``'s page in the report written to ``out_dir`` (``common``: the report's values, as
    :func:`~.render.write_report` gives every page); its screenshots written to ``out_dir/screenshots`` unless
    in ``written`` (their names, then added). ``footer_slot``: rendered where the footer goes, instead of it."""
    slot = {} if footer_slot is None else {"footer_slot": Markup(footer_slot)}
    if event.verdict == "new" and event.diff is None:
        return env.get_template("capture.html").render(common, event=event, **slot,
                                                       **_capture_context(event, max_page))
    shots = _write_screenshots(out_dir, event, written)
    csp = Markup(CSP_SCREENSHOTS if shots and shots["images"] else CSP)  # images only where shown
    return env.get_template("detail.html").render(common, event=event, shots=shots, csp=csp, **slot,
                                                  **_detail_context(event, max_page))


def footer(env, common: dict) -> str:
    """The footer every page of a report written with ``common`` ends with (``_footer.html``)."""
    return env.get_template("_footer.html").render(common)


# -- screenshots ----------------------------------------------------------------------------------


def _write_screenshots(out_dir: Path, event: ReportEvent, written: set[str]) -> dict | None:
    """Write the event's screenshots; what its page shows of them (None: no screenshots to show).

    ``before`` (the compared capture) and ``after`` (this one): each None (not shown) or a
    dict of the capture (None: no earlier good capture), ``src`` (the relative path of its
    PNG file, None when there is no image), ``size`` (``(width, height)`` from the PNG, or
    None) and ``missing`` (why there is no image). Events without any screenshot (HTTP
    fetches) show none; a vanished page shows what it looked like, and its error page
    only when that capture has a screenshot too.
    """
    sides: dict[str, dict | None] = {}
    for key, capture, png in (("before", event.compared, event.compared_screenshot),
                              ("after", event.current, event.screenshot)):
        if capture is None or (png is None and capture.screenshot_missing is None):
            sides[key] = None
            continue
        src = None
        if png is not None:
            src = _screenshot_name(event, capture)
            if src not in written:
                (out_dir / SCREENSHOT_DIR).mkdir(exist_ok=True)
                _write_atomic(out_dir / src, png)
                written.add(src)
        sides[key] = {"capture": capture, "src": src, "size": _png_size(png) if png else None,
                      "missing": None if png else capture.screenshot_missing}
    if not any(sides.values()):
        return None
    vanished = event.verdict == "vanished"
    if vanished:
        after = sides["after"]
        if after is not None and after["src"] is None and event.current.screenshot_record_id is None:
            sides["after"] = None  # the page is gone: what it looked like, not that its error had no screenshot
    else:
        for key, capture in (("before", event.compared), ("after", event.current)):
            if sides[key] is None:
                why = "no earlier good capture" if capture is None else "none was loaded for this capture"
                sides[key] = {"capture": capture, "src": None, "size": None, "missing": why}
    return {**sides, "vanished": vanished,
            "images": any(side is not None and side["src"] is not None for side in sides.values())}


def _png_size(png: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None when it has none."""
    if len(png) >= 24 and png[12:16] == b"IHDR":
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        if 0 < width < 2**31 and 0 < height < 2**31:
            return width, height
    return None


# -- view data ----------------------------------------------------------------------------------


def _keywords_of(event: ReportEvent) -> tuple[list[str], str | None]:
    """The keywords a change made appear or disappear (its significance says), and the scripts they equate."""
    parts = (event.significance or {}).get("parts") or {}
    words = [*(parts.get("keywords_appeared") or []), *(parts.get("keywords_disappeared") or [])]
    return [w for w in words if isinstance(w, str)], parts.get("scripts")


def _detail_context(event: ReportEvent, max_page: int | None = None) -> dict:
    diff = event.diff
    ctx: dict = {"evidence": evidence_rows(event.compared, event.current), "diff": None,
                 "metadata_changes": metadata_changes(event.compared.document if event.compared else None,
                                                      event.current.document),
                 "old_text": event.old_text, "new_text": event.new_text, "texts_cut": False, "max_page": max_page}
    if diff is not None:
        ops = tuple(diff.ops)
        segments, collapsed = _segments(ops, CONTEXT_CHARS)
        chars = sum(len(text) for _op, text in ops)
        shown = sum(len(s.text) for s in segments)
        full = _segments(ops, None)[0] if collapsed else None
        page = None if max_page is None else max_page // 2  # half a page; side by side and changes only a quarter each
        too_large = page is not None and full is not None and shown + chars > page
        omitted = 0
        if page is not None and shown > page:
            segments, omitted = _first_changes(segments, page)
        keywords, scripts = _keywords_of(event)
        spans_of = None
        if keywords:  # the keywords that appeared or disappeared, highlighted wherever they are
            def spans_of(text, keywords=keywords, scripts=scripts):
                return [(a, b) for a, b, _ in keyword_spans(text, keywords, scripts)]

            segments = highlighted(segments, spans_of)
            full = highlighted(full, spans_of) if full is not None else None
        ctx["diff"] = {
            "summary": diff.summary(),
            "unit": diff.unit,
            "fallback": bool(diff.fallback),
            "changed": any(op != 0 and text for op, text in ops),
            "segments": segments,
            "full": None if too_large else full,
            "too_large": too_large or omitted > 0,
            "omitted": omitted,
            "chars": chars,
            **paragraph_views(ops, max_page, spans_of),
            "keyed": keyed_table(diff, max_page),   # JSON paths, spreadsheet cells: key, before, after
        }
        pages = change_pages(ctx["diff"]["change_lines"], event.compared.document if event.compared else None,
                             event.current.document)
        ctx["diff"]["change_pages"] = pages if any(pages) else None
    elif max_page is not None:
        for key in ("old_text", "new_text"):
            text = ctx[key]
            if text is not None and len(text) > max_page // 2:
                ctx[key], ctx["texts_cut"] = text[: max_page // 2], True
    return ctx


def _capture_context(event: ReportEvent, max_page: int | None = None) -> dict:
    """A first capture's page: its evidence (one column) and its text, cut at ``max_page`` characters."""
    text, cut = event.new_text, False
    if max_page is not None and text is not None and len(text) > max_page:
        text, cut = text[:max_page], True
    rows = capture_rows(event.current)
    return {"evidence": rows, "text": text, "text_cut": cut, "max_page": max_page}
