"""Which target and which captures a command means: ``lastseen diff`` and ``lastseen show`` (and the
``lastseen diff`` commands history pages print).

- :func:`resolve_target`: a target the index knows, by its exact name (a listing's item is ``LISTING/KEY``);
- :func:`parse_capture`: a CAPTURE as typed: a capture id (``42``), an ISO 8601 date-time (UTC unless it
  says otherwise: ``2026-03-01T09:00``, ``2026-03-01T10:00+01:00``) or a date (``2026-03-01``, the whole day);
- :func:`pick_capture`: that capture of a target: by id, or the capture at or before the time (a date: the
  last capture made on or before that day); the latest when none is given;
- :func:`pick_pair`: the two captures ``lastseen diff`` compares: ``--to`` (default: the latest capture)
  and ``--from`` (default: the last good capture before it, the one a run would have compared it with),
  each required to have text;
- :func:`diff_command`: the ``lastseen diff`` command for two captures, quoted for a POSIX shell.

Every refusal is a :class:`~crawler.errors.UsageError` (exit 2) that says what to type instead. Names and
messages are made printable (:func:`~crawler.formatting.one_line`): a target's name is shown, not obeyed.
Only reads the index (a :class:`~crawler.store.CaptureStore`, read-only or not).
"""

from __future__ import annotations

import difflib
import re
import shlex
from datetime import UTC, datetime, time

from .errors import UsageError
from .formatting import iso, iso_precise, one_line, parse_iso

__all__ = [
    "diff_command",
    "parse_capture",
    "pick_capture",
    "pick_pair",
    "require_text",
    "resolve_target",
]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CAPTURE_FORMS = "a capture id (e.g. 42), an ISO 8601 date (2026-03-01) or date-time (2026-03-01T09:00:00Z)"


def resolve_target(store, name: str) -> str:
    """``name`` if the index knows that target; else a :class:`UsageError` naming the closest names."""
    if store.target_row(name) is not None:
        return name
    # Names holding what was typed, else the closest of those with its first letter (at most 2,000 compared,
    # so that a typo costs well under a second among 100,000 targets).
    close = store.target_names(containing=name, limit=5) if name else []
    if not close and name:
        close = difflib.get_close_matches(
            name, store.target_names(first_letter=name[0], limit=2_000), n=5, cutoff=0.6
        )
    hint = (
        f"; did you mean {', '.join(repr(one_line(n)) for n in close)}?"
        if close
        else ""
    )
    return _refuse(
        f"no target named {one_line(name)!r} in the archive{hint} (names are exact; a listing's item is "
        f"LISTING/KEY, as `lastseen status --only LISTING` lists them)"
    )


def parse_capture(spec: str, option: str) -> int | datetime:
    """A capture id, or the latest instant a capture may have begun (aware UTC) for a date or date-time."""
    text = spec.strip()
    if text.isdigit():
        return int(text)
    if _DATE.fullmatch(text):
        try:
            day = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            return _refuse(f"{option} {spec!r} is not a date; give {_CAPTURE_FORMS}")
        # A date is the whole day: the capture as the page stood at the end of it.
        return datetime.combine(day, time.max, tzinfo=UTC)
    try:
        when = datetime.fromisoformat(
            text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
        )
    except ValueError:
        return _refuse(
            f"{option} {one_line(spec)!r} is neither a capture id nor a date; give {_CAPTURE_FORMS}"
        )
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def pick_capture(store, target: str, spec: str | None, option: str) -> dict:
    """The ``captures`` row of ``target`` that ``spec`` names (the latest when None)."""
    shown = repr(one_line(target))
    if spec is None:
        row = store.own_capture(target)
        return row if row is not None else _refuse(f"target {shown} has no capture yet")
    wanted = parse_capture(spec, option)
    if isinstance(wanted, int):
        row = store.own_capture_by_id(wanted)
        if row is None:
            return _refuse(
                f"{option} {wanted}: the archive holds no capture {wanted} of {shown}; give another "
                f"id, or a date"
            )
        if row["target"] != target:
            return _refuse(
                f"{option} {wanted}: capture {wanted} is of target {one_line(row['target'])!r}, "
                f"not {shown}"
            )
        return row
    row = store.own_capture(target, at_or_before=iso_precise(wanted))
    if row is None:
        first = store.own_capture(target, first=True)
        if first is None:
            return _refuse(f"target {shown} has no capture yet")
        return _refuse(
            f"{option} {one_line(spec)!r} is before the first capture of {shown} "
            f"(capture {first['id']}, {_when(first)})"
        )
    return row


def pick_pair(
    store, target: str, from_spec: str | None, to_spec: str | None
) -> tuple[dict, dict]:
    """(old, new): the captures ``lastseen diff`` compares, both with text."""
    new = require_text(store, pick_capture(store, target, to_spec, "--to"), "--to")
    if from_spec is None:
        old = store.own_capture(target, before_id=new["id"], good=True)
        if old is None:
            return _refuse(
                f"no good capture of {one_line(target)!r} before capture {new['id']} "
                f"({_when(new)}) to compare it with; name one with --from CAPTURE"
            )
    else:
        old = pick_capture(store, target, from_spec, "--from")
    return require_text(store, old, "--from"), new


def require_text(store, row: dict, option: str) -> dict:
    """``row`` if the capture has text; else a :class:`UsageError` saying why not and which capture to use."""
    if row.get("text_sha256") is not None:
        return row
    if row.get("error"):
        why = f"it failed ({one_line(row['error'])})"
    elif row.get("extract_error"):
        why = f"its body could not be read as text ({one_line(row['extract_error'])})"
    else:
        kind = one_line(row.get("content_type") or row.get("kind") or "no text")
        why = f"its response (HTTP {row.get('status')}, {kind}) holds no text"
    target = row["target"]
    before = store.own_capture(target, before_id=row["id"], with_text=True)
    if before is not None:
        instead = f"use {option} {before['id']} (the last capture with text before it, {_when(before)})"
    else:
        later = store.own_capture(target, with_text=True)
        instead = (
            f"use {option} {later['id']} (its latest capture with text, {_when(later)})"
            if later
            else f"{one_line(target)!r} has no capture with text yet"
        )
    return _refuse(
        f"{option}: capture {row['id']} of {one_line(target)!r} ({_when(row)}) has no text to compare: "
        f"{why}; {instead}"
    )


def diff_command(target: str, from_id: int, to_id: int) -> str:
    """``lastseen diff TARGET --from A --to B``, the name quoted for a POSIX shell (``--`` before one
    starting with ``-``). Shown as text (escaped) wherever it is printed."""
    name = shlex.quote(target)
    return (
        f"lastseen diff --from {int(from_id)} --to {int(to_id)} -- {name}"
        if target.startswith("-")
        else f"lastseen diff {name} --from {int(from_id)} --to {int(to_id)}"
    )


def _when(row: dict) -> str:
    return iso(parse_iso(row["started"])) or "?"


def _refuse(message: str):
    raise UsageError(message)
