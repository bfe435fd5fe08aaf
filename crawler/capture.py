"""One capture judged: a fetch result plus the target's history → rows, flags, verdict, summary (pure).

:func:`assess` is where a capture's meaning is decided, apart from any IO: it
takes the :class:`~crawler.fetch.model.FetchResult`, the target's
:class:`~crawler.store.History`, where the recorder wrote the records
(:class:`Written`) and a function that loads a stored text, and returns an
:class:`Assessment`: the ``captures`` row, the ``exchanges`` rows, the text to
store, the ``events`` row and the ``--json`` :class:`~crawler.contract.Event`.
The recorder (:mod:`crawler.recorder`) writes the WARC records first and the
rows afterwards; tests call :func:`assess` with no database at all.

Add a flag here (and describe it in :data:`crawler.contract.FLAGS`).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .classify import (
    CLASSIFY_HEADERS,
    EMPTY_TEXT,
    Observation,
    Previous,
    Verdict,
    classify,
)
from .codings import decode_content
from .compared import compared_text
from .compared import fingerprint as text_fingerprint
from .contract import Event
from .diff import diff_texts
from .errors import ExtractError
from .extract import extract
from .formatting import iso_precise
from .significance import significance
from .summary import summarise
from .volatile import changed_keys, leave_out, learn
from .textforms import in_script_of, keyword_changes

if TYPE_CHECKING:  # types only: this module does no IO and imports no IO module
    from .fetch.model import FetchResult
    from .store import History
    from .warc import RecordRef, RevisitOf
    from .watchlist import Target

__all__ = ["DIFF_TIMEOUT", "EXTRACT_VERSION", "Assessment", "Observed", "Written", "assess", "conclude",
           "extract_key", "observe", "whole_text"]

EXTRACT_VERSION = 1
DIFF_TIMEOUT = 5.0
EMPTY_TEXT_SHA256 = EMPTY_TEXT


@dataclass(frozen=True)
class Written:
    """Where the recorder wrote a fetch's records."""

    warc_file: str                      # relative to the archive root, e.g. ``warcs/lastseen-….warc.gz``
    warc_path: str                      # as shown to the user (relative to the current directory)
    exchanges: list[dict]               # one ``exchanges`` row per exchange, in order
    response: RecordRef | None          # the final response (or revisit) record
    revisit: RevisitOf | None           # what the final response record refers to, when a revisit
    screenshot: str | None = None       # the screenshot resource record's id (browser captures)
    response_uri: str | None = None     # the URL the final response came from


@dataclass
class Assessment:
    capture: dict
    exchanges: list[dict]
    text_row: tuple[str, str] | None
    event_row: dict
    event: Event
    text: str | None = None             # the compared text, when it was extracted now
    learned: frozenset = frozenset()    # keys learned as volatile (stored with the rows)


def extract_key(target: Target) -> str:
    """Identifies the extraction settings; equal keys and payloads give equal text."""
    parts = [EXTRACT_VERSION, target.select, list(target.ignore)]
    if target.ignore_text or target.equate_scripts:  # (absent, the key is what it was before they existed)
        parts += [list(target.ignore_text), target.equate_scripts]
    blob = json.dumps(parts)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class Observed:
    """A capture looked at but not yet judged: its rows, and what :func:`crawler.classify.classify` sees."""

    target: Target
    result: FetchResult
    history: History
    written: Written
    capture: dict
    text_row: tuple[str, str] | None
    text: str | None                    # the compared text, when extracted now
    flags: list[str]
    observation: Observation
    previous: Previous
    learned: frozenset = frozenset()    # keys of blocks learned as volatile by this capture
    left_out: list = field(default_factory=list)   # blocks of its text left out as volatile

    @property
    def exchanges(self) -> list[dict]:
        return self.written.exchanges


def assess(
    target: Target,
    result: FetchResult,
    history: History,
    written: Written,
    *,
    run_id: str,
    max_body: int,
    max_text: int | None = None,
    load_text: Callable[[str | None], str | None],
    role: str = "page",
) -> Assessment:
    """Judge one fetch of ``target`` against its history, on its own (no host evidence, no re-fetch).

    Pure but for ``load_text`` (a read). The monitor's recorder does the same in steps
    (:func:`observe`, :func:`~crawler.classify.classify` with what it fetched to confirm, :func:`conclude`).
    """
    seen = observe(target, result, history, written, run_id=run_id, max_body=max_body, max_text=max_text,
                   load_text=load_text, role=role)
    verdict = classify(seen.observation, seen.previous, confirm_after=target.confirm_after)
    judged = conclude(seen, verdict, run_id=run_id, load_text=load_text)
    if role not in ("page", "refetch"):
        judged.capture["good"] = 0   # a probe of the target's host is never its last good capture
    return judged


def observe(
    target: Target,
    result: FetchResult,
    history: History,
    written: Written,
    *,
    run_id: str,
    max_body: int,
    max_text: int | None = None,
    load_text: Callable[[str | None], str | None],
    role: str = "page",
    load_body: Callable[[object], tuple[bytes, str | None, str | None] | None] | None = None,
) -> Observed:
    """The ``captures`` row of one fetch, its text, and the :class:`Observation` and :class:`Previous` to judge it."""
    final = result.final
    chain = result.chain
    capture = {
        "run_id": run_id, "target": target.name, "url": target.url,
        "final_url": final.url if final else None, "status": final.status if final else None,
        "status_chain": json.dumps([e.status for e in chain]),
        "started": iso_precise(result.started), "finished": iso_precise(result.finished),
        "duration_ms": int((result.finished - result.started) * 1000),
        "error_kind": result.error_kind, "error": result.error,
        "ip": final.ip if final else None, "robots": result.robots, "fetch": result.fetch, "role": role,
    }
    text_row = new_text = fingerprint = page_text = upgraded_text = None
    markup = ""
    flags: list[str] = []
    error_kind = result.error_kind
    ref = written.response
    good = history.good
    if final is not None:
        final_row = next(row for row in reversed(written.exchanges) if row["response_record_id"] == ref.record_id)
        capture.update({
            "content_type": final.header("Content-Type"), "warc_file": written.warc_file,
            "warc_offset": ref.offset, "warc_length": ref.length,
            "warc_record_id": ref.record_id, "record_type": ref.record_type,
            "payload_sha1": final_row["payload_sha1"], "payload_sha256": final_row["payload_sha256"],
            "payload_length": final_row["payload_length"], "truncated": final.truncated,
            "tls_verified": None if final.tls_verified is None else int(final.tls_verified),
            "tls_error": final.tls_error,
        })
        if final.tls_verified is False:
            flags.append("tls-unverified")
        if written.revisit is not None:
            capture.update({
                "refers_to_record_id": written.revisit.record_id, "refers_to_uri": written.revisit.target_uri,
                "refers_to_date": written.revisit.date,
            })
        if final.truncated == "length":
            flags.append("truncated")
        if final.truncated == "disconnect":
            # The connection dropped mid-body: what arrived is kept in the WARC
            # (WARC-Truncated: disconnect), but a partial page is not compared.
            flags.append("disconnected")
            error_kind = "reset"
            announced = final.header("Content-Length")
            capture["error"] = (
                f"the connection was dropped after {len(final.body)} bytes of the body"
                + (f" ({announced} announced)" if announced and announced.isdigit() else "")
                + "; what arrived is archived, not compared"
            )
        else:
            dom = result.resource("dom")
            markup, head_title = _markup(dom.body if dom is not None else final.body,
                                         None if dom is not None else final.header("Content-Encoding"))
            if 200 <= final.status < 300:
                text_row, new_text, fingerprint = _extract(target, final, capture, history, flags, max_body,
                                                           max_text, rendered=dom.body if dom is not None else None)
                if (good is not None and capture.get("extract_key") not in (None, good.extract_key)
                        and dom is None and load_body is not None):
                    # The extraction rules changed since the last good capture: it is read again under
                    # these rules from its archived payload, so an upgrade is not a change.
                    good, upgraded_text = _upgraded(target, good, capture, fingerprint, new_text, max_body, max_text,
                                                    load_body)
                if target.select and fingerprint != (good.fingerprint if good else None) and "kind" in capture:
                    page_text, decoded = whole_text(final, dom, max_body, max_text, with_body=True)
                    if dom is None and _looks_like_a_script_shell(capture["kind"], page_text, decoded):
                        flags.append("js-shell")
            else:
                capture["title"] = head_title
    flags.extend(f for f in result.flags if f not in flags)
    if result.error_kind == "robots":
        flags.append("robots-disallowed")
    if target.select and fingerprint == EMPTY_TEXT_SHA256:
        # The page was probably restructured: a selector that finds nothing
        # would otherwise make every later change invisible.
        flags.append("select-empty")
    capture["error_kind"] = error_kind
    response_ok = final is not None and error_kind is None
    good_text = compared_new = None
    learned, left_out = frozenset(), []
    if good is not None and response_ok and fingerprint is not None:
        if fingerprint == good.fingerprint:
            capture["changed_keys"] = "[]"   # compared: nothing changed (counts in the volatile window)
        else:
            good_text = upgraded_text if upgraded_text is not None else load_text(good.text_sha256)
            if good_text is not None and new_text is not None:
                keys = changed_keys(good_text, new_text)
                capture["changed_keys"] = json.dumps(sorted(keys))
                learned = learn((*history.recent_keys, keys)) - history.volatile
                active = history.volatile | learned
                if active:  # compared without the blocks learned as volatile (both sides)
                    compared_new, left_out = leave_out(new_text, active)
                    good_text = leave_out(good_text, active)[0]
                    if text_fingerprint(compared_new, target.equate_scripts) == \
                            text_fingerprint(good_text, target.equate_scripts):
                        fingerprint, compared_new = good.fingerprint, None   # only volatile blocks changed
    observation = Observation(
        url=target.url, status=final.status if response_ok else None,
        final_url=final.url if response_ok else None, error_kind=error_kind,
        fingerprint=fingerprint, title=capture.get("title"), heading=capture.get("heading"),
        text=compared_new if compared_new is not None or left_out else new_text,
        headers=tuple((k.lower(), v) for k, v in final.response_headers if k.lower() in CLASSIFY_HEADERS)
        if final is not None else (),
        chain=tuple((e.status, e.url) for e in chain), flags=tuple(flags), markup=markup if response_ok else "",
        page_text=page_text, selected=bool(target.select),
    )
    previous = Previous(
        last_verdict=history.last_verdict,
        good_fingerprint=good.fingerprint if good else None,
        has_good=good is not None,
        recent_verdicts=history.recent_verdicts,
        good_title=good.title if good else None,
        good_final_url=good.final_url if good else None,
        good_text=good_text,
        state=history.state,
        failures=history.failures,
    )
    return Observed(target, result, history, written, capture, text_row, new_text, flags, observation, previous,
                    learned, left_out)


def conclude(seen: Observed, verdict: Verdict, *, run_id: str, load_text: Callable[[str | None], str | None],
             first: tuple[Observed, Verdict] | None = None) -> Assessment:
    """The rows and the ``--json`` event of a judged capture.

    ``first`` is this run's first fetch of the target when ``seen`` is its re-fetch:
    the event names it (``evidence.first_capture``, filled in when its row is
    inserted) and is flagged ``flapped`` when the two disagree.
    """
    target, result, history, written, capture = seen.target, seen.result, seen.history, seen.written, seen.capture
    flags = list(seen.flags)
    evidence = dict(verdict.evidence)
    if first is not None:
        first_seen, first_verdict = first
        evidence.update(first_verdict=first_verdict.verdict, first_reason=first_verdict.reason,
                        first_status=first_seen.capture.get("status"), first_capture=None)
        if first_verdict.verdict != verdict.verdict:
            flags.append("flapped")
    capture["good"] = int(verdict.good)
    capture["flags"] = json.dumps(flags) if flags else None
    good = history.good
    new_text = seen.observation.text if seen.left_out else seen.text   # without volatile blocks, when any
    if seen.left_out or seen.learned:
        evidence["volatile_left_out"] = [line[:200] for line in seen.left_out[:20]]
        if seen.learned:
            evidence["volatile_learned"] = sorted(seen.learned)
    diff = None
    old_text = None
    if (verdict.verdict in ("changed", "restored", "moved") and good is not None and new_text is not None
            and capture.get("fingerprint") != good.fingerprint):
        old_text = seen.previous.good_text if seen.previous.good_text is not None else load_text(good.text_sha256)
        if old_text is not None:
            # shown in the new capture's script (equate_scripts: the old one may be in the other)
            old_text = in_script_of(old_text, new_text, target.equate_scripts)
            diff = diff_texts(old_text, new_text, timeout=DIFF_TIMEOUT)
    sig = None
    if verdict.verdict == "changed":
        appeared = disappeared = frozenset()
        if target.keywords and new_text is not None:
            appeared, disappeared = keyword_changes(old_text, new_text, target.keywords, target.equate_scripts)
        sig = significance(diff, old_text, new_text, old_title=good.title if good else None,
                           new_title=capture.get("title"), old_links=_links(good.links if good else None),
                           new_links=_links(capture.get("links")), appeared=appeared, disappeared=disappeared)
        if (appeared or disappeared) and target.equate_scripts:
            sig.parts["scripts"] = target.equate_scripts   # how the report finds them again
        below = sig.score < target.alert_when.min_significance
        if verdict.alert and below and not (sig.parts["keywords_appeared"] or sig.parts["keywords_disappeared"]):
            verdict = replace(verdict, alert=False)
            flags.append("below-threshold")
            capture["flags"] = json.dumps(flags)
    summary = summarise(verdict, result, diff, capture, history, target, evidence, sig.to_json() if sig else None)
    final_chain = result.chain
    ref = written.response
    event_row = {
        "run_id": run_id, "target": target.name,
        "compared_capture_id": good.id if good else None,
        "verdict": verdict.verdict, "reason": verdict.reason, "alert": int(verdict.alert),
        "summary": summary,
        "insertions": diff.insertions if diff else None, "deletions": diff.deletions if diff else None,
        "unit": diff.unit if diff else None, "fallback": int(diff.fallback) if diff else None,
        "diff_ops": json.dumps(diff.ops_to_json()) if diff else None,
        "confirmed": None if verdict.confirmed is None else int(verdict.confirmed),
        "significance": json.dumps(sig.to_json()) if sig else None,
        "evidence": evidence or None,    # serialised when inserted (first_capture is known then)
    }
    event = Event(
        target=target.name, url=target.url, final_url=capture["final_url"], status=capture["status"],
        status_chain=[e.status for e in final_chain], verdict=verdict.verdict,
        reason=verdict.reason, alert=verdict.alert, summary=summary,
        diff=diff.to_json() if diff else None, flags=flags,
        warc=({"file": written.warc_path, "offset": ref.offset, "record_id": ref.record_id} if ref else None),
        fetch=result.fetch, confirmed=verdict.confirmed, evidence=evidence or None,
        significance=sig.to_json() if sig else None,
    )
    if result.fetch == "browser":
        event.screenshot = written.screenshot
        event.subresources = {"archived": sum(1 for e in result.exchanges if e.role == "subresource"),
                              "failed": len(result.failed)}
    return Assessment(capture, written.exchanges, seen.text_row, event_row, event, seen.text, seen.learned)


def _links(stored: str | None) -> list[str]:
    """A capture's links as stored (a JSON list), or none."""
    try:
        return list(json.loads(stored)) if stored else []
    except (ValueError, TypeError):
        return []


def _upgraded(target: Target, good, capture: dict, fingerprint: str | None, text: str | None, max_body: int,
              max_text: int | None, load_body) -> tuple[object, str | None]:
    """The last good capture as the current extraction rules read it, and its text (None: unknown).

    The same payload reads as this one does; another is read from its WARC record
    (``load_body``). When it cannot be read, the last good capture is as it was.
    """
    if good.payload_sha256 is not None and good.payload_sha256 == capture.get("payload_sha256"):
        return replace(good, fingerprint=fingerprint), text
    stored = load_body(good)
    if stored is None:
        return good, None
    body, content_type, coding = stored
    try:
        decoded, _ = decode_content(body, coding, max_size=max_body)
        extracted = extract(decoded, content_type or good.content_type, good.final_url or target.url,
                            select=target.select, ignore=target.ignore, max_text=max_text)
    except ExtractError:
        return good, None
    if extracted.text is None:
        return replace(good, fingerprint=extracted.fingerprint), None
    old = compared_text(extracted.text, target.ignore_text)
    return replace(good, fingerprint=text_fingerprint(old, target.equate_scripts)), old


#: Bytes of the decoded body that challenge detection reads.
MARKUP_HEAD = 64 * 1024
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title", re.I | re.S)


def _markup(body: bytes, content_encoding: str | None) -> tuple[str, str | None]:
    """The start of the decoded body, lower-cased, and the ``<title>`` found in it (for any status)."""
    if not body:
        return "", None
    try:
        head, _ = decode_content(body, content_encoding, max_size=MARKUP_HEAD)
    except ExtractError:
        return "", None
    text = head.decode("utf-8", "replace")
    match = _TITLE_RE.search(text)
    title = " ".join(html.unescape(match.group(1)).split())[:500] or None if match else None
    return text.lower(), title


def whole_text(final, dom, max_body: int, max_text: int | None, *, with_body: bool = False):
    """The whole page's text, for a page whose ``select`` narrows the compared text or a probe of its host
    (with ``with_body``: and the decoded body, ``(text, body)``)."""
    body = b""
    try:
        if dom is not None:
            body, content_type = dom.body, "text/html; charset=utf-8"
        else:
            body, _ = decode_content(final.body, final.header("Content-Encoding"), max_size=max_body)
            content_type = final.header("Content-Type")
        text = extract(body, content_type, final.url, max_text=max_text).text
    except ExtractError:
        text = None
    return (text, body) if with_body else text


def _extract(target: Target, final, capture: dict, history: History, flags: list[str], max_body: int,
             max_text: int | None = None, rendered: bytes | None = None):
    """Extract the compared text: of the rendered DOM for a browser capture (what a person saw),
    else of the final response's body."""
    key = extract_key(target)
    capture["extract_key"] = key
    good = history.good
    if rendered is not None:
        capture["rendered_sha256"] = hashlib.sha256(rendered).hexdigest()
        same = good is not None and good.rendered_sha256 == capture["rendered_sha256"]
    else:
        same = good is not None and good.rendered_sha256 is None and good.payload_sha256 == capture["payload_sha256"]
    if same and good.extract_key == key:
        # Same bytes, same extraction settings: same text. Skip the work.
        if "text-truncated" in (good.flags or ""):
            flags.append("text-truncated")
        capture.update({
            "kind": good.kind, "text_sha256": good.text_sha256, "fingerprint": good.fingerprint,
            "title": good.title, "heading": good.heading, "links": good.links, "charset": good.charset,
        })
        return None, None, good.fingerprint
    try:
        if rendered is not None:
            body, content_type = rendered, "text/html; charset=utf-8"
        else:
            body, cut = decode_content(final.body, final.header("Content-Encoding"), max_size=max_body)
            if cut:
                flags.append("decoded-truncated")
            content_type = final.header("Content-Type")
        extracted = extract(body, content_type, final.url, select=target.select, ignore=target.ignore,
                            max_text=max_text)
    except ExtractError as exc:
        flags.append("extract-error")
        capture.update({
            "kind": "binary", "extract_error": str(exc),
            "fingerprint": hashlib.sha256(final.body).hexdigest(),
        })
        return None, None, capture["fingerprint"]
    if extracted.truncated:
        flags.append("text-truncated")
    if rendered is None and not target.select and _looks_like_a_script_shell(extracted.kind, extracted.text, body):
        flags.append("js-shell")
    capture.update({
        "kind": extracted.kind, "fingerprint": extracted.fingerprint, "title": extracted.title,
        "heading": extracted.heading, "links": json.dumps(list(extracted.links)), "charset": extracted.charset,
    })
    if extracted.text is None:
        return None, None, extracted.fingerprint
    text = compared_text(extracted.text, target.ignore_text)
    capture["fingerprint"] = fingerprint = text_fingerprint(text, target.equate_scripts)
    text_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    capture["text_sha256"] = text_sha
    return (text_sha, text), text, fingerprint


#: A page whose visible text is shorter than this (characters) while it carries more script than text
#: is probably built by JavaScript.
JS_SHELL_TEXT = 100
_SCRIPT_RE = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
_SRC_RE = re.compile(rb"\bsrc\s*=", re.I)
_EXTERNAL_SCRIPT_WEIGHT = 1000   # a script loaded from elsewhere counts as this many characters of script


def _looks_like_a_script_shell(kind: str, text: str | None, body: bytes) -> bool:
    """An HTML page with almost no text of its own and more script than text: the shell JavaScript fills."""
    if kind != "html" or text is None or len(text) >= JS_SHELL_TEXT:
        return False
    weight = 0
    for attrs, code in _SCRIPT_RE.findall(body[: 4 * 2**20]):
        weight += _EXTERNAL_SCRIPT_WEIGHT if _SRC_RE.search(attrs) else len(code.strip())
        if weight > len(text):
            return True
    return False
