"""What the click command modules share (:mod:`crawler.cli`, :mod:`crawler.cli_history`, :mod:`crawler.cli_report`,
:mod:`crawler.cli_export`, :mod:`crawler.cli_bundle`, :mod:`crawler.cli_verify`): their common options and
how they read them."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = [
    "WAIT_MAX",
    "archive_option",
    "duration",
    "only_option",
    "open_to_read",
    "wait_option",
    "wait_seconds",
    "watchlist_option",
]

#: The longest wait for the archive's lock: a day.
WAIT_MAX = (86400, "1d")

#: ``--archive DIR``, as every command that opens the archive takes it.
archive_option = click.option(
    "--archive",
    "archive_dir",
    default="archive",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where WARC files and the index live.",
)


def watchlist_option(help: str):
    """``--watchlist PATH`` (default ``watchlist.yaml``), said what the command reads it for."""
    return click.option(
        "--watchlist",
        "watchlist_path",
        default="watchlist.yaml",
        show_default=True,
        type=click.Path(dir_okay=False),
        help=help,
    )


def wait_option(help: str = "How long to wait for a run to release the archive's lock."):
    """``--wait DURATION`` (default ``0s``): read with :func:`wait_seconds`."""
    return click.option("--wait", "wait", default="0s", metavar="DURATION", show_default=True, help=help)


def only_option(help: str):
    """``--only NAME_OR_TAG``, repeatable (a name, a tag or ``LISTING/KEY``)."""
    return click.option("--only", multiple=True, metavar="NAME_OR_TAG", help=help)


def open_to_read(archive_dir):
    """The archive opened for a command that only reads (no lock, no migration); its warnings (``.open``
    files a run left) go to stderr."""
    from .archive import Archive

    archive = Archive.open_readonly(Path(archive_dir))
    for line in archive.warnings:
        click.echo(line, err=True)
    return archive


def duration(option: str, value: str, maximum: tuple[float, str]) -> float:
    """Seconds in ``value`` (``option``'s), at most ``maximum`` (seconds, as said); a usage error (exit 2)
    otherwise."""
    from .errors import UsageError
    from .watchlist import parse_duration

    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        if "too large" not in str(exc):
            raise UsageError(f"{option} {value!r}: {exc}") from exc
        seconds = float("inf")
    if seconds > maximum[0]:
        raise UsageError(f"{option} {value!r}: must be at most {maximum[1]}")
    return seconds


def wait_seconds(value: str) -> float:
    """``--wait DURATION`` in seconds, at most a day (as for ``lastseen run``); a usage error (exit 2) otherwise."""
    return duration("--wait", value, WAIT_MAX)
