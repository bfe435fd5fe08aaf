"""``lastseen diff`` and ``lastseen show``: any two captures of a target compared, and what one capture
said, read from the archive without pywb. Both only read (no lock: they work while a run writes, and on
a read-only copy); targets and captures are picked by :mod:`crawler.pick`.

Archived text reaches a terminal or a pipe under the terminal rule (:func:`~crawler.formatting.printable`:
controls, ANSI escapes and bidi overrides shown as ``\\uXXXX``); files written with ``--out`` hold it exactly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import click

from .cli_common import archive_option
from .cli_common import open_to_read as _open_to_read
from .errors import ArchiveError, UsageError

__all__ = ["COMMANDS", "diff", "show"]

_CAPTURE_HELP = "a capture id, or an ISO 8601 date or date-time (UTC unless it says otherwise): the capture at or before it"


def _write_file(out: str, data: bytes | str) -> None:
    try:
        Path(out).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    except OSError as exc:
        raise ArchiveError(f"cannot write {out}: {exc.strerror or exc}") from exc


def _echo_lines(lines) -> None:
    """Lines of evidence on a terminal, as text (rich never parses them as markup)."""
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    for line in lines:
        console.print(Text(line, style="dim"))


@click.command()
@click.argument("target")
@click.option(
    "--at",
    "at",
    metavar="CAPTURE",
    help=f"The capture to show (default: the latest): {_CAPTURE_HELP}.",
)
@click.option(
    "--text",
    "form",
    flag_value="text",
    default=True,
    help="Its extracted text, as compared (the default).",
)
@click.option(
    "--raw",
    "form",
    flag_value="raw",
    help="Its archived body byte for byte, as `warcio extract --payload` gives it (to a file or a pipe).",
)
@click.option(
    "--headers",
    "form",
    flag_value="headers",
    help="Its HTTP status line and response headers.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="Write it to this file (exactly, no evidence lines).",
)
@archive_option
def show(target, at, form, out, archive_dir):
    """What a capture said: its extracted text (default), its archived body (--raw) or its HTTP headers.

    On a terminal the evidence lines come first (time, URL, status, WARC file, offset, record id,
    SHA-256). A revisit record's body is read from the record it refers to, as replay tools do.
    Only reads the archive.
    """
    from .archived import copy_payload, evidence_lines, http_headers, payload_record
    from .formatting import printable
    from .pick import pick_capture, require_text, resolve_target

    terminal = sys.stdout.isatty()
    if form == "raw" and out is None and terminal:
        raise UsageError(
            "--raw writes the archived body byte for byte, which a terminal would run as commands; "
            "use --out FILE or a pipe (| less, > file)"
        )
    with _open_to_read(archive_dir) as archive:
        store = archive.require_store()
        name = resolve_target(store, target)
        row = pick_capture(store, name, at, "--at")
        original = payload_record(store, row) if form == "raw" else None
        if form == "text":
            row = require_text(store, row, "--at")
            content: str | bytes | None = store.text(row["text_sha256"]) or ""
        elif form == "headers":
            content = "\n".join(http_headers(archive.root, row)) + "\n"
        else:
            content = None
        if terminal:
            _echo_lines(evidence_lines(row, _located(store, row)))
        if form == "raw":
            if out is not None:
                with _opened(out) as fh:
                    copy_payload(archive.root, original, fh)
            else:
                with _pipe():
                    sys.stdout.flush()
                    copy_payload(archive.root, original, sys.stdout.buffer)
                    sys.stdout.buffer.flush()
        elif out is not None:
            _write_file(out, content)
        else:
            text = printable(content)
            with _pipe():
                click.echo(text, nl=not text.endswith("\n"))
    if out is not None and terminal:
        click.echo(f"written to {printable(out)}")


@click.command()
@click.argument("target")
@click.option(
    "--from",
    "from_spec",
    metavar="CAPTURE",
    help=f"The older capture (default: the last good capture before --to): {_CAPTURE_HELP}.",
)
@click.option(
    "--to",
    "to_spec",
    metavar="CAPTURE",
    help=f"The newer capture (default: the latest): {_CAPTURE_HELP}.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="Write the change page the reports write (HTML, self-contained) to this file.",
)
@archive_option
def diff(target, from_spec, to_spec, out, archive_dir):
    """Compare two captures of a target: a word diff on the terminal, or with --out the reports' change page.

    On a terminal deletions are red and struck through, insertions green and underlined; piped, they are
    written [-deleted-] and {+inserted+}. Unchanged text is cut to a line or two around each change.
    A capture without text (a failed fetch) is refused, naming one to use. Only reads the archive.
    """
    from . import clock
    from .diff import diff_texts
    from .diffprint import plain, styled
    from .formatting import iso, one_line, parse_iso, printable
    from .keyed import diff_by_kind
    from .pick import pick_pair, resolve_target
    from .report import CONTEXT_CHARS

    with _open_to_read(archive_dir) as archive:
        store = archive.require_store()
        name = resolve_target(store, target)
        old, new = pick_pair(store, name, from_spec, to_spec)
        old_text, new_text = (
            store.text(old["text_sha256"]) or "",
            store.text(new["text_sha256"]) or "",
        )
        if out is not None:
            from .report import change_event, write_change_page

            # by key for JSON documents and spreadsheets (the reports' diff), else word by word
            changes = diff_by_kind(old_text, new_text, new.get("kind"), timeout=5.0)
            event = change_event(store, old, new, changes, archive_root=archive.root)
            title = f"lastseen diff {name}: capture {old['id']} to {new['id']}"
            path = write_change_page(
                Path(out), event, title=title, generated=clock.now(), chain_head=store.custody_head()
            )
            click.echo(f"{printable(str(path))}: {changes.summary()}")
            return
        changes = diff_texts(old_text, new_text, moves=False)
        head = [
            f"{sign} capture {row['id']} {iso(parse_iso(row['started']))} "
            f"{one_line(row.get('final_url') or row['url'])} HTTP {row.get('status')}"
            for sign, row in (("---", old), ("+++", new))
        ]
        if sys.stdout.isatty():
            from rich.console import Console
            from rich.text import Text

            console = Console(highlight=False)
            for line in head:
                console.print(Text(line, style="bold"))
            console.print(Text(changes.summary(), style="dim"))
            console.print(styled(changes.ops, context=CONTEXT_CHARS))
        else:
            text = plain(changes.ops, context=CONTEXT_CHARS)
            with _pipe():
                click.echo("\n".join([*head, changes.summary()]))
                click.echo(text, nl=not text.endswith("\n"))


@contextlib.contextmanager
def _pipe():
    """Stop quietly (exit 141, as ``cat`` does) when the reader of a pipe goes away (``| head``)."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing more to flush at exit
        sys.exit(128 + signal.SIGPIPE)


def _located(store, row: dict) -> dict | None:
    """Where a revisit's payload is (for its evidence lines), None when the index does not hold it."""
    if row.get("record_type") != "revisit" or not row.get("refers_to_record_id"):
        return None
    return store.response_record(row["refers_to_record_id"])


def _opened(out: str):
    try:
        return open(out, "wb")
    except OSError as exc:
        raise ArchiveError(f"cannot write {out}: {exc.strerror or exc}") from exc


#: The commands of this module, registered by :mod:`crawler.cli`.
COMMANDS = (diff, show)
