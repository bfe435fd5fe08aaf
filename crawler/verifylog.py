"""``lastseen verify``'s checks of the custody log itself (:data:`crawler.verify.CHECKS`): its chain
(:func:`check_chain`), its JSONL copy against the index (:func:`check_copy`), and the index's rows against
its entries (:func:`check_index`). Each is ``(ctx) -> Iterable[Problem]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .custody import GENESIS, canonical, capture_records, entry_hash
from .custodycopy import CUSTODY_DIR
from .store.custody import line_at
from .verifyproblems import Context, Problem

__all__ = ["check_chain", "check_copy", "check_index", "read_entries", "read_lines"]


def _link(entry: dict, prev: dict | None) -> tuple[str, object, object] | None:
    """What is wrong with ``entry`` after ``prev`` (None: the first): ``(what, expected, found)``, or None."""
    seq, prev_hash = (prev["seq"] + 1, prev["sha256"]) if prev else (1, GENESIS)
    if entry["seq"] != seq:
        return "its seq is not the one after the entry before's", seq, entry["seq"]
    if entry["prev"] != prev_hash:
        return (
            "its prev is not the sha256 of the entry before",
            prev_hash,
            entry["prev"],
        )
    if entry_hash(entry) != entry["sha256"]:
        return (
            "its sha256 is not the hash of its fields",
            entry_hash(entry),
            entry["sha256"],
        )
    return None


def _parsed(raw: bytes | None) -> dict | None:
    try:
        line = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    return line if isinstance(line, dict) and isinstance(line.get("content"), dict) else None


def read_entries(store, root: Path, lines: list[tuple[str, int, bytes]]) -> tuple[list[dict], dict]:
    """The index's entries in order, whole, and :attr:`Context.copy_only`: a content the index keeps only in the
    copy (#17) is read from the first line of its seq among ``lines`` (the copy as read before the index), else
    from the line at the offset the index records (written since); with neither it is lost (its row's
    ``{"warc_file"}`` stands in, listing no record)."""
    by_seq: dict[int, tuple[str, int, dict]] = {}
    for file, offset, raw in lines:
        line = _parsed(raw)
        if line is not None and isinstance(line.get("seq"), int):
            by_seq.setdefault(line["seq"], (file, offset, line))
    entries, copy_only = [], {}
    for row in store.custody_rows():
        offset, stub = row.pop("line"), row.pop("stub")
        if row["content"] is None:
            month = f"{CUSTODY_DIR}/{row['time'][:7]}.jsonl"
            found = by_seq.get(row["seq"])
            if found is None and offset is not None:
                line = _parsed(line_at(root, row["time"], offset))
                if line is not None and line.get("seq") == row["seq"]:
                    found = (month, offset, line)
            if found is not None:
                row["content"] = found[2]["content"]
                copy_only[row["seq"]] = {"file": found[0], "offset": found[1], "line": found[2], "stub": stub}
            else:
                row["content"] = {**stub, "records": []}
                copy_only[row["seq"]] = {"file": month, "offset": offset, "line": None, "stub": stub}
        entries.append(row)
    return entries, copy_only


def _fields(line: dict) -> dict:
    return {k: line.get(k) for k in ("seq", "kind", "time", "prev", "sha256")}


def check_chain(ctx: Context) -> Iterable[Problem]:
    """Each entry links to the one before and hashes to its ``sha256`` (:func:`crawler.custody.check_chain`'s
    rules, every entry that breaks them named, not only the first). An entry whose content is kept only in the
    copy and does not hash is its line's problem (``line-altered``), one whose line is gone ``line-missing``."""
    prev = None
    for entry in ctx.entries:
        ctx.checked["entries"] += 1
        where = ctx.copy_only.get(entry["seq"])
        if where is not None and where["line"] is None:
            yield Problem(
                "line-missing",
                where["file"],
                where["offset"],
                seq=entry["seq"],
                expected=entry["sha256"],
                found=None,
                message="its content is kept only in the copy, and no line holds it",
            )
            prev = entry
            continue
        if where is not None and where["stub"] != {"warc_file": entry["content"].get("warc_file")}:
            yield Problem(
                "chain-broken",
                "lastseen.db",
                seq=entry["seq"],
                expected=entry["content"].get("warc_file"),
                found=where["stub"].get("warc_file"),
                message="its row's warc_file is not its content's",
            )
        wrong = _link(entry, prev)
        line = where["line"] if where is not None else None
        if (
            wrong is not None
            and line is not None
            and wrong[0] == "its sha256 is not the hash of its fields"
            and _fields(line) == _fields(entry)
        ):  # the index's fields are the line's: its content was altered
            yield Problem(
                "line-altered",
                where["file"],
                where["offset"],
                seq=entry["seq"],
                expected=entry["sha256"],
                found=wrong[1],
                message="its content, kept only in the copy, does not hash to its index entry's sha256 (found: "
                "the hash of its fields)",
            )
        elif wrong is not None:
            what, expected, found = wrong
            yield Problem(
                "chain-broken",
                "lastseen.db",
                seq=entry["seq"],
                expected=expected,
                found=found,
                message=what,
            )
        prev = entry
    if not ctx.entries:
        captures = ctx.store.archived_capture_count()
        if captures:
            yield Problem(
                "chain-missing",
                "lastseen.db",
                expected="a custody entry per capture",
                found="no entry",
                message=f"the index holds {captures} captures but no custody log: its chain was removed, "
                f"or the archive was replaced by one made without it",
            )


def check_copy(ctx: Context) -> Iterable[Problem]:
    by_seq = {e["seq"]: e for e in ctx.entries}
    seen: set[int] = set()
    last = 0
    for file, offset, raw in ctx.lines:
        ctx.checked["lines"] += 1
        try:
            line = json.loads(raw)
            seq = line["seq"]
            if not isinstance(seq, int):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            yield Problem(
                "line-altered",
                file,
                offset,
                message="not a custody entry",
                found=raw[:80].decode("utf-8", "replace"),
            )
            continue
        entry = by_seq.get(seq)
        if entry is None or seq in seen:
            yield Problem(
                "line-extra",
                file,
                offset,
                seq=seq,
                found=line.get("sha256") if isinstance(line, dict) else None,
                message="a second line of this entry"
                if seq in seen
                else "the index has no such entry",
            )
            continue
        seen.add(seq)
        if raw != canonical(entry):
            try:
                found = entry_hash(line)
            except (KeyError, TypeError, ValueError):
                found = None
            yield Problem(
                "line-altered",
                file,
                offset,
                seq=seq,
                expected=entry["sha256"],
                found=found,
                message="not exactly its index entry (found: the hash of its fields)",
            )
        if seq < last:
            yield Problem(
                "line-reordered",
                file,
                offset,
                seq=seq,
                expected=f"after entry #{seq - 1}",
                found=f"after entry #{last}",
                message="out of seq order",
            )
        last = max(last, seq)
        month = f"{CUSTODY_DIR}/{entry['time'][:7]}.jsonl"
        if file != month:
            yield Problem(
                "line-misplaced",
                file,
                offset,
                seq=seq,
                expected=month,
                found=file,
                message="in another month's file",
            )
    top = max(seen, default=0)
    for entry in ctx.entries:
        if entry["seq"] in seen:
            continue
        if entry["seq"] in ctx.copy_only and ctx.copy_only[entry["seq"]]["line"] is None:
            continue  # lost: check_chain names it
        if entry["seq"] < top:
            month = f"{CUSTODY_DIR}/{entry['time'][:7]}.jsonl"
            yield Problem(
                "line-missing",
                month,
                seq=entry["seq"],
                expected=entry["sha256"],
                found=None,
                message="no line of the copy holds this entry",
            )
        else:
            ctx.pending.append({k: entry[k] for k in ("seq", "kind", "time", "sha256")})


def _covered(ctx: Context) -> set[tuple[str, int, str]]:
    return {
        (e["content"]["warc_file"], r["offset"], r["record_id"])
        for e in ctx.entries
        if e["kind"] == "capture"
        for r in capture_records(e["content"])
    }


def check_index(ctx: Context) -> Iterable[Problem]:
    if not ctx.entries:
        return  # chain-missing says it once
    covered = _covered(ctx)
    for file, offset, record_id in ctx.store.indexed_records():
        ctx.checked["index_rows"] += 1
        if (file, offset, record_id) not in covered:
            yield Problem(
                "unchained",
                file,
                offset,
                record_id,
                expected="a capture entry listing it",
                found="none",
                message="the index points at a record no custody entry lists",
            )


def read_lines(root: Path) -> list[tuple[str, int, bytes]]:
    """Every whole line of the JSONL copy: ``(file relative to the archive, byte offset, line without its
    newline)``, file by file (by month); a torn last line (a run writing it) is left out."""
    out = []
    for path in sorted((Path(root) / CUSTODY_DIR).glob("*.jsonl")):
        data = path.read_bytes()
        offset = 0
        for line in data.splitlines(keepends=True):
            if line.endswith(b"\n"):
                out.append((f"{CUSTODY_DIR}/{path.name}", offset, line[:-1]))
            offset += len(line)
    return out
