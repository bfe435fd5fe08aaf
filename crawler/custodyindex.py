"""The custody log restored from its JSONL copy, for ``lastseen reindex`` (:mod:`crawler.reindex`).

No WARC record holds the custody log (docs/evidence.md): when the index is lost, its entries are read
back from ``archive/custody/*.jsonl`` (:func:`crawler.custodycopy.read_copy`), in ``seq`` order, their
chain checked (:func:`crawler.custody.check_chain`), and inserted as they are, so the chain and its head
are the ones published. Entries after the first that does not hold are left out, and said. A ``capture``
entry's ``capture_id`` names the capture in the index that was lost; its records are found by file and
offset. :data:`FILLERS` are the custody folder's fillers: this one, then the trusted timestamps'
(:mod:`crawler.timestampindex`), which need the restored log.
"""

from __future__ import annotations

from .custody import ChainError, check_chain
from .custodycopy import CUSTODY_DIR, read_copy
from .formatting import plural
from .timestampindex import rebuild_timestamps

__all__ = ["FILLERS", "rebuild_custody"]


def rebuild_custody(job) -> None:
    """Fill the new index's ``custody`` table from the JSONL copy (a ``reindex`` filler), and say so."""
    where = f"{job.root.name}/{CUSTODY_DIR}/*.jsonl"
    try:
        entries = sorted(
            read_copy(job.root),
            key=lambda e: e.get("seq", 0) if isinstance(e, dict) else 0,
        )
    except (OSError, ValueError) as exc:
        job.out.notes.append(
            f"custody log not restored: {where} cannot be read ({exc})"
        )
        return
    if not entries:
        job.out.notes.append(
            f"custody log: no copy in {where}; the log starts again with the next run"
        )
        return
    good, problem = [], None
    for entry in entries:
        try:
            check_chain([entry], after=good[-1] if good else None)
        except (ChainError, KeyError, TypeError) as exc:
            problem = str(exc)
            break
        good.append(entry)
    with job.store.transaction():
        for entry in good:
            job.check()
            job.store.insert_custody(entry)
    if good:
        head = good[-1]
        job.out.notes.append(
            f"custody log restored from {where}: {plural(len(good), 'line')}, the chain checked, "
            f"head #{head['seq']} {head['sha256']}"
        )
    if problem is not None:
        job.out.notes.append(
            f"custody log: {plural(len(entries) - len(good), 'later line')} of {where} left out: {problem}"
        )


#: What :mod:`crawler.reindex` runs for the custody folder, in order: the log, then its time-stamps.
FILLERS = (rebuild_custody, rebuild_timestamps)
