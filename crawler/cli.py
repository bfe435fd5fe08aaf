"""The ``lastseen`` command (click). Thin: it parses arguments, calls the library, prints.

Exit status: 0 the command completed (whatever a run found); 1 the tool itself
failed; 2 invalid watchlist or usage; 3 another run holds the archive's lock.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import LastseenError, UsageError


def _fail(exc: LastseenError) -> None:
    click.echo(f"Error: {exc}", err=True)
    sys.exit(exc.exit_code)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LastseenError as exc:
            _fail(exc)
        except click.UsageError as exc:
            exc.exit_code = 2
            raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lastseen", prog_name="lastseen")
def cli():
    """lastseen: archive watched pages as WARC evidence and report what changed or vanished."""


@cli.command()
@click.argument("path", default="watchlist.yaml", type=click.Path(dir_okay=False))
def check(path):
    """Validate a watchlist (default watchlist.yaml). Exit status 2 when invalid."""
    from .watchlist import load_watchlist

    wl = load_watchlist(path)
    click.echo(f"{path}: OK, {len(wl.targets)} target{'s' if len(wl.targets) != 1 else ''}")
    for t in wl.targets:
        tags = f" [{', '.join(t.tags)}]" if t.tags else ""
        click.echo(f"  {t.name}: {t.url}{tags}")


@cli.command()
@click.option("--watchlist", "watchlist_path", default="watchlist.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="The watchlist file.")
@click.option("--archive", "archive_dir", default="archive", show_default=True,
              type=click.Path(file_okay=False), help="Where WARC files and the index live.")
@click.option("--reports", "reports_dir", default="reports", show_default=True,
              type=click.Path(file_okay=False), help="Where run reports are written.")
@click.option("--force", is_flag=True, help="Fetch every selected target, due or not.")
@click.option("--only", multiple=True, metavar="NAME_OR_TAG",
              help="Only targets with this name or tag (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
def run(watchlist_path, archive_dir, reports_dir, force, only, as_json):
    """Fetch due targets, archive them, classify, alert and write the run's report."""
    from . import monitor
    from .watchlist import load_watchlist

    wl = load_watchlist(watchlist_path)
    result = monitor.run(
        wl, archive_dir=Path(archive_dir), reports_dir=Path(reports_dir), force=force, only=only,
    )
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        return
    _print_summary(result)


def _print_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not result.events:
        console.print(f"run {result.run_id}: nothing due")
        return
    table = Table(title=f"lastseen run {result.run_id}", title_justify="left")
    for col in ("target", "verdict", "status", "summary"):
        table.add_column(col)
    for e in result.events:
        verdict = e.verdict + (f" ({e.reason})" if e.reason else "")
        style = {"changed": "yellow", "vanished": "red", "unreachable": "magenta", "restored": "green"}.get(e.verdict)
        table.add_row(e.target, f"[{style}]{verdict}[/]" if style else verdict,
                      str(e.status) if e.status is not None else "-", e.summary, )
    console.print(table, markup=True)
    if result.report:
        console.print(f"report: {result.report}")
    for a in result.alerts:
        console.print(f"alert {a.sink}: {'sent' if a.ok else 'FAILED ' + (a.error or '')}")


@cli.command()
@click.option("--since", required=True, metavar="DURATION", help="Time window, e.g. 24h, 7d.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--archive", "archive_dir", default="archive", show_default=True, type=click.Path(file_okay=False))
def report(since, out_dir, archive_dir):
    """Write an HTML report of every event in a time window."""
    from datetime import timedelta

    from . import monitor
    from .watchlist import parse_duration

    try:
        seconds = parse_duration(since)
    except ValueError as exc:
        raise UsageError(f"--since {since!r}: {exc}") from exc
    path = monitor.build_report(Path(archive_dir), Path(out_dir), since=timedelta(seconds=seconds))
    click.echo(str(path))


@cli.command()
def schema():
    """Print the watchlist's JSON Schema (for editors)."""
    from .watchlist import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


def main() -> None:
    cli(prog_name="lastseen")
