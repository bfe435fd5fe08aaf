"""What the click command modules share (:mod:`crawler.cli`, :mod:`crawler.cli_history`, :mod:`crawler.cli_report`,
:mod:`crawler.cli_export`)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["open_to_read", "wait_seconds"]


def open_to_read(archive_dir):
    """The archive opened for a command that only reads (no lock, no migration); its warnings (``.open``
    files a run left) go to stderr."""
    from .archive import Archive

    archive = Archive.open_readonly(Path(archive_dir))
    for line in archive.warnings:
        click.echo(line, err=True)
    return archive


def wait_seconds(value: str) -> float:
    """``--wait DURATION`` in seconds, at most a day (as for ``lastseen run``); a usage error (exit 2) otherwise."""
    from .errors import UsageError
    from .watchlist import parse_duration

    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        if "too large" not in str(exc):
            raise UsageError(f"--wait {value!r}: {exc}") from exc
        seconds = float("inf")
    if seconds > 86400:
        raise UsageError(f"--wait {value!r}: must be at most 1d")
    return seconds
