"""``lastseen report``: a report over any time window (click; registered by :mod:`crawler.cli`).

Thin, like the rest of the CLI: the window is :mod:`crawler.window`, which events and how they are
grouped :mod:`crawler.report.window`, the JSON document :mod:`crawler.report.window_json`.
Only reads the archive: no lock, nothing written in it (works on a read-only copy, and while a run
holds the lock).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .cli_common import archive_option, only_option, watchlist_option

__all__ = ["report"]


@click.command()
@click.option(
    "--since",
    required=True,
    metavar="DURATION|DATE",
    help="Start of the window: a duration back from its end (7d, 36h) or an ISO 8601 date or "
    "date-time (UTC unless it says otherwise).",
)
@click.option(
    "--until",
    metavar="DATE",
    default=None,
    help="End of the window (ISO 8601; a bare date takes in that whole day). Default: now.",
)
@only_option("Only these targets (name, tag or LISTING/KEY; repeatable), as for `lastseen run`.")
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, allow_dash=True),
    help="Output folder (default reports/window-<from>-<to>/); with --format json, `-` prints to stdout.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "json"]),
    default="html",
    show_default=True,
    help="index.html and a page per change, or report.json.",
)
@archive_option
@watchlist_option("Targets no longer in it are left out (unless --all).")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Include targets no longer in the watchlist (their history stays in the archive).",
)
def report(since, until, only, out_dir, fmt, archive_dir, watchlist_path, everything):
    """Write a report of every event in a time window, grouped by target (HTML, or JSON with --format json).

    Only reads the archive: works while a run holds its lock, and on a read-only copy.
    """
    from . import clock
    from .cli_common import open_to_read
    from .errors import UsageError
    from .formatting import printable
    from .report.window import read_scope, scope_notes, window_rows, write_window_report
    from .signing import key_fingerprint
    from .watchlist import load_watchlist
    from .window import parse_window

    now = clock.now()
    window = parse_window(since, until, now)
    if out_dir == "-" and fmt != "json":
        raise UsageError(
            "--out - prints the report on stdout, which only --format json does; give a folder"
        )
    given = (
        click.get_current_context().get_parameter_source("watchlist_path")
        != click.core.ParameterSource.DEFAULT
    )
    watchlist = (
        load_watchlist(watchlist_path)
        if given or Path(watchlist_path).exists()
        else None
    )
    with open_to_read(archive_dir) as archive:
        store = archive.require_store()
        scope = read_scope(watchlist, only, everything, store)
        rows, left_out, left_targets = window_rows(store, window, scope)
        notes = scope_notes(scope, left_out, left_targets, watchlist_path)
        for note in notes:
            click.echo(printable(note), err=True)
        out = (
            Path(out_dir)
            if out_dir not in (None, "-")
            else Path("reports") / window.folder()
        )
        if fmt == "json":
            from .report.window_json import window_json

            doc = window_json(store, window, scope, rows, generated=now, notes=notes)
            text = json.dumps(doc, ensure_ascii=False) + "\n"
            if out_dir == "-":
                sys.stdout.write(text)
                return
            path = _write_json(out, text)
        else:
            path = write_window_report(
                store,
                out,
                window,
                rows,
                generated=now,
                notes=notes,
                archive_root=archive.root,
                signing_fingerprint=key_fingerprint(
                    watchlist.settings.signing_key if watchlist else None
                ),
            )
    click.echo(printable(str(path)))


def _write_json(out: Path, text: str) -> Path:
    import os

    from .errors import ArchiveError

    path = out / "report.json"
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(".report.json.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ArchiveError(
            f"cannot write {path}: {exc.strerror or exc}; check that the folder is writable "
            f"and the disk is not full"
        ) from exc
    return path
