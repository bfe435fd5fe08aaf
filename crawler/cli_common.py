"""What the click command modules share (:mod:`crawler.cli`, :mod:`crawler.cli_history`, :mod:`crawler.cli_report`)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["open_to_read"]


def open_to_read(archive_dir):
    """The archive opened for a command that only reads (no lock, no migration); its warnings (``.open``
    files a run left) go to stderr."""
    from .archive import Archive

    archive = Archive.open_readonly(Path(archive_dir))
    for line in archive.warnings:
        click.echo(line, err=True)
    return archive
