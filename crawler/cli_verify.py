"""``lastseen verify``: the archive checked against its custody log (click; registered by :mod:`crawler.cli`).

Thin: the checks are :mod:`crawler.verify`. Only reads (no lock, nothing written): works while a run
writes and on a read-only copy. Exit 0 when everything holds, 4 when anything does not.
"""

from __future__ import annotations

import json

import click

from .cli_common import archive_option, only_option

__all__ = ["EXIT_PROBLEMS", "verify"]

#: The exit status when verify finds a problem (README, "Exit status").
EXIT_PROBLEMS = 4


@click.command()
@archive_option
@click.option(
    "--since",
    metavar="DURATION|DATE",
    help="Re-read only the records of captures entered since then (7d, 36h, or an ISO 8601 date); "
    "the chain, the copy and every file's SHA-256 are always checked whole.",
)
@only_option("Re-read only these targets' records (name, tag or LISTING/KEY; repeatable).")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object (docs/verify.schema.json).",
)
def verify(archive_dir, since, only, as_json):
    """Check the archive against its custody log: every record the index points at re-read and its digests
    recomputed, every closed WARC file's SHA-256, the chain, and its JSONL copy.

    Names each record or line that is altered, missing, moved or that no entry explains; exit 0 when
    everything holds, 4 when anything does not. Only reads the archive.
    """
    from pathlib import Path

    from . import clock
    from .archive import LOCK_NAME, lock_held
    from .cli_common import open_to_read
    from .formatting import printable
    from .verify import verify as run_verify
    from .window import parse_window

    start = parse_window(since, None, clock.now()).start if since else None
    with open_to_read(archive_dir) as archive:
        store = archive.require_store()
        running = lock_held(Path(archive_dir) / LOCK_NAME)
        found = run_verify(
            archive.root, store, since=start, only=tuple(only), running=running
        )
    if as_json:
        click.echo(json.dumps(found.to_json(), ensure_ascii=False))
    else:
        from rich.console import Console
        from rich.text import Text

        console = Console(highlight=False, soft_wrap=True)
        for problem in found.problems:
            console.print(Text(printable(problem.line()), style="red"))
        for item in found.open_files:
            console.print(
                Text(
                    printable(f"open: {item['file']}: {item['why']}; skipped"),
                    style="dim",
                )
            )
        if (
            found.pending
        ):  # one line, however many: a lost copy would otherwise print the whole log
            first, last = found.pending[0]["seq"], found.pending[-1]["seq"]
            which = f"#{first}" if first == last else f"#{first} to #{last}"
            console.print(
                Text(
                    f"pending: {len(found.pending)} entries ({which}) not yet in the JSONL copy; "
                    f"the next `lastseen run` writes them",
                    style="dim",
                )
            )
        console.print(Text(found.summary(), style="green" if found.ok else "bold red"))
    if not found.ok:
        click.get_current_context().exit(EXIT_PROBLEMS)
