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

import json
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
from .compared import fingerprint as text_fingerprint
from .contract import Event
from .documents import DocumentLimits
from .extract import AUTO, PAGE
from .formatting import iso_precise
from .keyed import diff_by_kind
from .keywords import keyword_changes
from .reading import (
    EXTRACT_VERSION,
    compared_part,
    extract_key,
    markup_head,
    read_text,
    upgraded,
    whole_text,
)
from .significance import significance
from .summary import summarise
from .textforms import in_script_of
from .volatile import changed_keys, learn, leave_out

if TYPE_CHECKING:  # types only: this module does no IO and imports no IO module
    from .fetch.model import FetchResult
    from .store import History
    from .warc import RecordRef, RevisitOf
    from .watchlist import Target

__all__ = ["DIFF_TIMEOUT", "EXTRACT_VERSION", "Assessment", "Observed", "Written", "assess", "conclude",
           "extract_key", "observe", "whole_text"]

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
    text_row: list[tuple[str, str]] | None   # (sha256, text) rows: the compared text, the whole page's
    event_row: dict
    event: Event
    text: str | None = None             # the compared text, when it was extracted now
    learned: frozenset = frozenset()    # keys learned as volatile (stored with the rows)


@dataclass
class Observed:
    """A capture looked at but not yet judged: its rows, and what :func:`crawler.classify.classify` sees."""

    target: Target
    result: FetchResult
    history: History
    written: Written
    capture: dict
    text_row: list[tuple[str, str]] | None   # (sha256, text) rows: the compared text, the whole page's
    text: str | None                    # the compared text, when extracted now
    flags: list[str]
    observation: Observation
    previous: Previous
    learned: frozenset = frozenset()    # keys of blocks learned as volatile by this capture
    left_out: list = field(default_factory=list)   # blocks of its text left out as volatile
    #: the last good capture's anchor texts and description, read again now (extracted before they were
    #: kept): ``capture_id``, ``link_texts``, ``description`` for :meth:`~crawler.store.CaptureStore.fill_extraction`
    filled: dict | None = None

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
    documents: DocumentLimits | None = None,
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
    text_row = new_text = fingerprint = page_text = upgraded_text = filled = None
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
            markup, head_title = markup_head(dom.body if dom is not None else final.body,
                                         None if dom is not None else final.header("Content-Encoding"))
            if 200 <= final.status < 300:
                text_row, new_text, fingerprint = read_text(target, final, capture, history, flags, max_body,
                                                           max_text, rendered=dom.body if dom is not None else None,
                                                           documents=documents)
                if (good is not None and capture.get("extract_key") not in (None, good.extract_key)
                        and dom is None and load_body is not None):
                    # The extraction rules changed since the last good capture: it is read again under
                    # these rules from its archived payload, so an upgrade is not a change.
                    good, upgraded_text = upgraded(target, good, capture, fingerprint, new_text, max_body, max_text,
                                                    load_body, documents)
                    if good.link_texts is not None and history.good.link_texts is None:
                        filled = {"capture_id": good.id, "link_texts": good.link_texts,
                                  "description": good.description}
                page_text = capture.pop("_page_text", None)   # the whole page, when it is not what is compared
                if (page_text is not None and good is not None and good.page_text_sha256
                        and fingerprint == good.fingerprint
                        and capture.get("page_text_sha256") != good.page_text_sha256):
                    flags.append("outside-main")   # the page changed, its compared part did not
            else:
                capture["title"] = head_title
    flags.extend(f for f in result.flags if f not in flags)
    if result.error_kind == "robots":
        flags.append("robots-disallowed")
    if compared_part(target) not in (AUTO, PAGE) and fingerprint == EMPTY_TEXT_SHA256:
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
        page_text=page_text, selected=compared_part(target) != PAGE,
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
                    learned, left_out, filled)


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
    if (verdict.verdict in ("changed", "restored", "moved", "delisted") and good is not None and new_text is not None
            and capture.get("fingerprint") != good.fingerprint):
        old_text = seen.previous.good_text if seen.previous.good_text is not None else load_text(good.text_sha256)
        if old_text is not None:
            # shown in the new capture's script (equate_scripts: the old one may be in the other)
            old_text = in_script_of(old_text, new_text, target.equate_scripts)
            # by key for JSON and spreadsheets (paths, cells), else word by word (crawler.keyed's table)
            diff = diff_by_kind(old_text, new_text, capture.get("kind"), timeout=DIFF_TIMEOUT)
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


