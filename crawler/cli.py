"""The ``lastseen`` command (click). Thin: it parses arguments, calls the library, prints.

Exit status: 0 the command completed (whatever a run found); 1 the tool itself
failed; 2 invalid watchlist or usage; 3 another run holds the archive's lock;
130/143 a run interrupted by SIGINT/SIGTERM (what was fetched is kept).
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


def _duration(option: str, value: str) -> float:
    from .watchlist import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"{option} {value!r}: {exc}") from exc


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
@click.option("--summary", is_flag=True, help="Print a one-line summary (to stderr with --json).")
@click.option("--wait", "wait", default="0s", metavar="DURATION", show_default=True,
              help="How long to wait for another run to release the archive's lock.")
def run(watchlist_path, archive_dir, reports_dir, force, only, as_json, summary, wait):
    """Fetch due targets, archive them, classify, alert and write the run's report.

    On a terminal it shows progress and a table; from cron (no terminal) it
    prints nothing unless something needs attention, so cron mails only problems.
    """
    from . import monitor
    from .watchlist import load_watchlist

    wait_seconds = _duration("--wait", wait)
    wl = load_watchlist(watchlist_path)
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        result = monitor.run(
            wl, archive_dir=Path(archive_dir), reports_dir=Path(reports_dir), force=force, only=only,
            wait=wait_seconds,
            on_start=progress.start if progress else None,
            on_event=progress.advance if progress else None,
        )
    finally:
        if progress:
            progress.stop()
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    elif sys.stdout.isatty():
        _print_table(result)
    if summary:
        click.echo(_one_line(result), err=as_json)
    _print_problems(result, wl, interactive=sys.stdout.isatty() and not as_json)


class _Progress:
    """A rich progress bar on stderr, for terminals only."""

    def __init__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("[bold]lastseen[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[last]}"), console=Console(stderr=True), transient=True,
        )
        self.task = None

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("fetch", total=total, last="")

    def advance(self, event) -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=1, last=f"{event.target}: {event.verdict}")

    def stop(self) -> None:
        self.bar.stop()


def _one_line(result) -> str:
    from collections import Counter

    from .formatting import plural
    from .verdicts import order

    counts = Counter(e.verdict for e in result.events)
    parts = [f"{counts[v]} {v}" for v in sorted(counts, key=order)]
    alerts = sum(1 for e in result.events if e.alert)
    body = ", ".join(parts) if parts else "nothing due"
    tail = f"; {plural(alerts, 'alert')}" if alerts else ""
    report = f"; report {result.report}" if result.report else ""
    return f"lastseen run {result.run_id}: {body}{tail}{report}"


def _print_problems(result, watchlist, *, interactive: bool) -> None:
    """What cron should mail: failed alert deliveries, and alerts when no sink is configured."""
    for a in result.alerts:
        if not a.ok:
            click.echo(f"lastseen: alert to {a.sink} failed: {a.error or 'unknown error'}", err=True)
    if interactive or watchlist.alerts:
        return
    alerting = [e for e in result.events if e.alert]
    if alerting or result.carried:
        total = len(alerting) + len(result.carried)
        click.echo(f"lastseen run {result.run_id}: {total} alert(s) (no `alerts:` sink configured)", err=True)
        for e in alerting:
            reason = f" ({e.reason})" if e.reason else ""
            click.echo(f"  {e.target}: {e.verdict}{reason}: {e.summary} <{e.url}>", err=True)
        for c in result.carried:
            reason = f" ({c['reason']})" if c["reason"] else ""
            click.echo(f"  [earlier run {c['run']}, not finished] {c['target']}: {c['verdict']}{reason}: "
                       f"{c['summary']} <{c['url']}>", err=True)
        if result.report:
            click.echo(f"  report: {result.report}", err=True)


def _print_table(result) -> None:
    from rich.console import Console
    from rich.table import Table

    from .verdicts import facts

    console = Console()
    if not result.events:
        console.print(f"run {result.run_id}: nothing due")
        return
    table = Table(title=f"lastseen run {result.run_id}", title_justify="left")
    for col in ("target", "verdict", "status", "summary"):
        table.add_column(col, overflow="fold")
    for e in result.events:
        verdict = e.verdict + (f" ({e.reason})" if e.reason else "")
        style = facts(e.verdict, e.reason).colour
        table.add_row(e.target, f"[{style}]{verdict}[/]" if style else verdict,
                      str(e.status) if e.status is not None else "-", e.summary)
    console.print(table)
    if result.report:
        console.print(f"report: {result.report}")
    for a in result.alerts:
        console.print(f"alert {a.sink}: {'sent' if a.ok else 'FAILED ' + (a.error or '')}")


@cli.command()
@click.option("--watchlist", "watchlist_path", default="watchlist.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="The watchlist file.")
@click.option("--archive", "archive_dir", default="archive", show_default=True,
              type=click.Path(file_okay=False), help="Where WARC files and the index live.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def status(watchlist_path, archive_dir, as_json):
    """Each target's last capture, last verdict, next due time and consecutive failures.

    Only reads: works while a run holds the archive's lock, and on a read-only copy.
    """
    from datetime import datetime, timedelta, timezone

    from .formatting import iso, parse_iso
    from .schedule import target_status
    from .watchlist import load_watchlist

    wl = load_watchlist(watchlist_path)
    now = datetime.now(timezone.utc)
    with _open_to_read(archive_dir) as archive:
        records = archive.store.target_records() if archive.store is not None else {}
        recovered, older = archive.recoveries(since=now - timedelta(days=RECOVERIES_SHOWN_DAYS))
    rows = target_status(wl, records, now)
    if as_json:
        doc = {
            "schema": 1, "now": iso(now), "targets": [r.to_json() for r in rows],
            "recovered": [r.status_json() for r in recovered], "recovered_older": older,
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    db = archive.index_path
    table = Table(title=f"{watchlist_path} · {db}", title_justify="left")
    for col in ("target", "last capture (UTC)", "status", "last verdict", "next due (UTC)", "failures"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r.name, _short(r.last_capture) or "never", str(r.last_status) if r.last_status else "-",
            (r.last_verdict or "-") + (f" ({r.last_reason})" if r.last_reason else ""),
            _short(r.next_due) or "next run", str(r.consecutive_failures) if r.consecutive_failures else "",
        )
    console = Console()
    console.print(table)
    for rec in recovered:
        when = _short(parse_iso(rec.at)) or "?"
        console.print(escape(f"recovered {when} by run {rec.run or '?'}: {rec.describe()}"), soft_wrap=True)
    if older:
        console.print(f"{older} older {'recovery' if older == 1 else 'recoveries'} (more than {RECOVERIES_SHOWN_DAYS} "
                      f"days ago) in the index's recoveries table", soft_wrap=True, markup=False)


#: ``lastseen status`` lists the recoveries of this many days (and counts older ones).
RECOVERIES_SHOWN_DAYS = 30


def _open_to_read(archive_dir):
    """The archive opened for a command that only reads; warnings (left ``.open`` files) go to stderr."""
    from .archive import Archive

    archive = Archive.open_readonly(Path(archive_dir))
    for line in archive.warnings:
        click.echo(line, err=True)
    return archive


def _short(t) -> str | None:
    return t.strftime("%Y-%m-%d %H:%M") if t else None


@cli.command()
@click.option("--watchlist", "watchlist_path", default="watchlist.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="The watchlist file.")
@click.option("--archive", "archive_dir", default="archive", show_default=True, type=click.Path(file_okay=False))
@click.option("--reports", "reports_dir", default="reports", show_default=True, type=click.Path(file_okay=False))
@click.option("--interval", default=15, show_default=True, type=click.IntRange(1, 59),
              help="Minutes between cron runs (targets still run only when due).")
def cron(watchlist_path, archive_dir, reports_dir, interval):
    """Print a crontab line that runs lastseen from here, with absolute paths."""
    import shlex

    exe = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "lastseen" else None
    command = shlex.quote(str(exe)) if exe and exe.exists() else f"{shlex.quote(sys.executable)} -m crawler"
    cwd = Path.cwd().resolve()
    args = " ".join(
        f"--{name} {shlex.quote(str((cwd / value).resolve()))}"
        for name, value in (("watchlist", watchlist_path), ("archive", archive_dir), ("reports", reports_dir))
    )
    click.echo(f"*/{interval} * * * * cd {shlex.quote(str(cwd))} && {command} run {args} --wait 5m")


@cli.command()
@click.option("--since", required=True, metavar="DURATION", help="Time window, e.g. 24h, 7d.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--archive", "archive_dir", default="archive", show_default=True, type=click.Path(file_okay=False))
def report(since, out_dir, archive_dir):
    """Write an HTML report of every event in a time window.

    Only reads the archive: works while a run holds its lock, and on a read-only copy.
    """
    from datetime import timedelta

    from .report import build_report

    seconds = _duration("--since", since)
    with _open_to_read(archive_dir) as archive:
        path = build_report(archive.require_store(), Path(out_dir), since=timedelta(seconds=seconds), now=_utcnow)
    click.echo(str(path))


def _utcnow():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


@cli.command()
def schema():
    """Print the watchlist's JSON Schema (for editors)."""
    from .watchlist import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


def main() -> None:
    cli(prog_name="lastseen")
