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

    counts = Counter(e.verdict for e in result.events)
    order = ["changed", "vanished", "restored", "unreachable", "new", "unchanged"]
    parts = [f"{counts[v]} {v}" for v in order if counts[v]]
    parts += [f"{n} {v}" for v, n in counts.items() if v not in order]
    alerts = sum(1 for e in result.events if e.alert)
    body = ", ".join(parts) if parts else "nothing due"
    tail = f"; {alerts} alert{'s' if alerts != 1 else ''}" if alerts else ""
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

    console = Console()
    if not result.events:
        console.print(f"run {result.run_id}: nothing due")
        return
    table = Table(title=f"lastseen run {result.run_id}", title_justify="left")
    for col in ("target", "verdict", "status", "summary"):
        table.add_column(col, overflow="fold")
    styles = {"changed": "yellow", "vanished": "red", "unreachable": "magenta", "restored": "green"}
    for e in result.events:
        verdict = e.verdict + (f" ({e.reason})" if e.reason else "")
        style = styles.get(e.verdict)
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
    """Each target's last capture, last verdict, next due time and consecutive failures."""
    import sqlite3
    from datetime import datetime, timezone

    from .schedule import target_status
    from .watchlist import load_watchlist

    wl = load_watchlist(watchlist_path)
    db = Path(archive_dir) / "lastseen.db"
    conn = None
    if db.exists():
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise LastseenError(f"cannot read the index {db}: {exc}") from exc
    now = datetime.now(timezone.utc)
    try:
        rows = target_status(wl, conn, now)
    except sqlite3.Error as exc:
        raise LastseenError(f"cannot read the index {db}: {exc}") from exc
    finally:
        if conn is not None:
            conn.close()
    if as_json:
        doc = {"schema": 1, "now": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "targets": [r.to_json() for r in rows]}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{watchlist_path} · {db}", title_justify="left")
    for col in ("target", "last capture (UTC)", "status", "last verdict", "next due (UTC)", "failures"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r.name, _short(r.last_capture) or "never", str(r.last_status) if r.last_status else "-",
            (r.last_verdict or "-") + (f" ({r.last_reason})" if r.last_reason else ""),
            _short(r.next_due) or "next run", str(r.consecutive_failures) if r.consecutive_failures else "",
        )
    Console().print(table)


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
    """Write an HTML report of every event in a time window."""
    from datetime import timedelta

    from . import monitor

    seconds = _duration("--since", since)
    path = monitor.build_report(Path(archive_dir), Path(out_dir), since=timedelta(seconds=seconds))
    click.echo(str(path))


@cli.command()
def schema():
    """Print the watchlist's JSON Schema (for editors)."""
    from .watchlist import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


def main() -> None:
    cli(prog_name="lastseen")
