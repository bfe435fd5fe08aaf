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

from .cli_common import WAIT_MAX, duration
from .cli_common import open_to_read as _open_to_read
from .cli_report import report
from .errors import LastseenError, UsageError
from .window import SINCE_MAX as _SINCE_MAX


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
    """Validate a watchlist (default watchlist.yaml). Exit status 2 when invalid.

    Each target's URL is shown as it will be fetched (its one canonical spelling).
    """
    from .formatting import printable
    from .watchlist import load_watchlist

    wl = load_watchlist(path)
    click.echo(f"{printable(path)}: OK, {len(wl.targets)} target{'s' if len(wl.targets) != 1 else ''}")
    for t in wl.targets:
        tags = f" [{', '.join(t.tags)}]" if t.tags else ""
        click.echo(printable(f"  {t.name}: {t.url}{tags}"))


#: Bounds of the command line's durations: a report window of 100 years (:mod:`crawler.window`), a wait for
#: the lock of a day (:data:`crawler.cli_common.WAIT_MAX`).
SINCE_MAX = _SINCE_MAX


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
    from .pagewriter import PageWriter

    wait_seconds = duration("--wait", wait, WAIT_MAX)
    pages = PageWriter.fork()  # before the watchlist is read: the child shares none of it (crawler.pagewriter)
    from .fetch import discard_prestarted, prestart

    progress = None
    try:
        # after the fork (the page writer holds none of its pipes) and before the monitor's imports (0.2 s of
        # CPU): the fetcher imports Scrapy meanwhile (#17)
        prestart()
        from . import monitor
        from .watchlist import load_watchlist

        wl = load_watchlist(watchlist_path)
        progress = _Progress() if sys.stderr.isatty() else None
        result = monitor.run(
            wl, archive_dir=Path(archive_dir), reports_dir=Path(reports_dir), force=force, only=only,
            wait=wait_seconds,
            on_start=progress.start if progress else None,
            on_event=progress.advance if progress else None,
            pages=pages,
        )
    finally:
        discard_prestarted()  # a run that fetched nothing: killed at once, not left to start Scrapy (#17)
        pages.cancel()  # done already when the run used it
        if progress:
            progress.stop()
    if as_json:
        result.write_json(sys.stdout)
    elif sys.stdout.isatty():
        _print_table(result)
    if summary:
        click.echo(_one_line(result), err=as_json)
    _print_problems(result, wl, interactive=sys.stdout.isatty() and not as_json)


class _Progress:
    """A rich progress bar on stderr, for terminals only.

    The last target and verdict are shown as text (``markup=False``, controls
    made visible): a target named ``[/]`` is a name, not markup.
    """

    def __init__(self):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(
            TextColumn("[bold]lastseen[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[last]}", markup=False), console=Console(stderr=True), transient=True,
        )
        self.task = None

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("fetch", total=total, last="")

    def advance(self, event) -> None:
        if self.task is not None:
            from .formatting import one_line

            self.bar.update(self.task, advance=1, last=one_line(f"{event.target}: {event.verdict}"))

    def stop(self) -> None:
        self.bar.stop()


def _one_line(result) -> str:
    """The ``--summary`` line (controls in the report path shown as ``\\uXXXX``)."""
    from collections import Counter

    from .formatting import one_line, plural
    from .verdicts import order

    counts = Counter(e.verdict for e in result.events)
    parts = [f"{counts[v]} {v}" for v in sorted(counts, key=order)]
    alerts = sum(1 for e in result.events if e.alert)
    body = ", ".join(parts) if parts else "nothing due"
    tail = f"; {plural(alerts, 'alert')}" if alerts else ""
    report = f"; report {one_line(result.report)}" if result.report else ""
    return f"lastseen run {one_line(result.run_id)}: {body}{tail}{report}"


def _print_problems(result, watchlist, *, interactive: bool) -> None:
    """What cron should mail: failed alert deliveries, and the alerts themselves when no sink
    is configured or every sink failed (so the news is not lost), with the run id and the
    report's absolute path. Each field is flattened to one line, its controls made visible."""
    from .formatting import one_line

    for a in result.alerts:
        if not a.ok:
            click.echo(f"lastseen: alert to {one_line(a.sink)} failed: {one_line(a.error or 'unknown error')}",
                       err=True)
    if interactive:
        return
    if not watchlist.alerts:
        why = "no `alerts:` sink configured"
    elif result.alerts and not any(a.ok for a in result.alerts):
        why = "not delivered: every alert sink failed"
    else:
        return
    from .alerts import robots_line, run_robots
    from .judge import origin_of

    alerting = [e for e in result.events if e.alert]
    robots = run_robots(result)
    if not alerting and not result.carried and not robots and not result.carried_robots:
        return

    def line(target, verdict, reason, summary, url) -> str:
        reason = f" ({one_line(reason)})" if reason else ""
        return f"{one_line(target)}: {one_line(verdict)}{reason}: {one_line(summary or '')} <{one_line(url)}>"

    total = len(alerting) + len(result.carried) + len(robots) + len(result.carried_robots)
    click.echo(f"lastseen run {one_line(result.run_id)}: {total} alert(s) ({why})", err=True)
    for e in alerting:
        click.echo(f"  {line(e.target, e.verdict, e.reason, e.summary, e.url)}", err=True)
    for c in result.carried:
        click.echo(f"  [earlier run {one_line(c['run'])}, not finished] "
                   f"{line(c['target'], c['verdict'], c['reason'], c['summary'], c['url'])}", err=True)
    for origin, change in robots.items():
        click.echo(f"  {robots_line(origin, change)}", err=True)
    for c in result.carried_robots:
        click.echo(f"  [earlier run {one_line(c['run'])}, not finished] {robots_line(origin_of(c['url']), c)}", err=True)
    if result.report:
        click.echo(f"  report: {one_line(Path(result.report).absolute())}", err=True)


def _print_table(result) -> None:
    """The run's table on a terminal. Every value is a ``rich.text.Text`` (never parsed as
    markup) on one line with its controls made visible: archived text is shown, not obeyed."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .formatting import one_line
    from .verdicts import facts

    def text(value, style: str = "") -> Text:
        return Text(one_line(value), style=style or "")

    console = Console()
    if not result.events:
        console.print(text(f"run {result.run_id}: nothing due"))
        return
    table = Table(title=text(f"lastseen run {result.run_id}"), title_justify="left")
    for col in ("target", "verdict", "status", "summary"):
        table.add_column(col, overflow="fold")
    for e in result.events:
        verdict = e.verdict + (f" ({e.reason})" if e.reason else "")
        table.add_row(text(e.target), text(verdict, facts(e.verdict, e.reason).colour),
                      text(e.status if e.status is not None else "-"), text(e.summary or ""))
    console.print(table)
    if result.report:
        console.print(text(f"report: {result.report}"))
    for a in result.alerts:
        console.print(text(f"alert {a.sink}: {'sent' if a.ok else 'FAILED ' + (a.error or '')}"))


@cli.command()
@click.option("--watchlist", "watchlist_path", default="watchlist.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="The watchlist file.")
@click.option("--archive", "archive_dir", default="archive", show_default=True,
              type=click.Path(file_okay=False), help="Where WARC files and the index live.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--only", multiple=True, metavar="NAME_OR_TAG",
              help="Only these targets (name or tag; repeatable), with the volatile parts learned for them.")
@click.option("--all", "everything", is_flag=True,
              help="Also the targets in the archive that are no longer in the watchlist (marked so).")
def status(watchlist_path, archive_dir, as_json, only, everything):
    """Each target's last capture, last verdict, next due time and consecutive failures; a listing's items
    under it (`(delisted)`: no longer listed, still watched).

    With --only, also the volatile parts learned for those targets (`lastseen unlearn` forgets them).
    Targets no longer in the watchlist keep their history in the archive; --all shows them too, after the
    others, marked `(not in the watchlist)`.
    Only reads: works while a run holds the archive's lock, and on a read-only copy.
    """

    from .collector import collector_paused
    from .status import print_status, read_status
    from .watchlist import load_watchlist

    wl = load_watchlist(watchlist_path)
    with collector_paused():  # objects for every target, no cycle: no collection walking them all (#17)
        with _open_to_read(archive_dir) as archive:
            shown = read_status(wl, archive, _utcnow(), only, everything=everything)
        if as_json:
            sys.stdout.write(json.dumps(shown.to_json(), ensure_ascii=False) + "\n")
            return
        print_status(shown, f"{watchlist_path} · {archive.index_path}")


@cli.command()
@click.option("--watchlist", "watchlist_path", default="watchlist.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="The watchlist file.")
@click.option("--archive", "archive_dir", default="archive", show_default=True,
              type=click.Path(file_okay=False), help="Where WARC files and the index live.")
@click.option("--only", multiple=True, required=True, metavar="NAME_OR_TAG",
              help="The targets whose learned volatile parts to forget (name or tag; repeatable).")
@click.option("--wait", "wait", default="0s", metavar="DURATION", show_default=True,
              help="How long to wait for a run to release the archive's lock.")
def unlearn(watchlist_path, archive_dir, only, wait):
    """Forget the volatile parts learned for targets: they are compared whole again, and relearned from new
    evidence only. Takes the archive's lock (exit 3 while a run holds it)."""
    from .archive import Archive
    from .monitor import select_targets
    from .watchlist import load_watchlist

    names = [t.name for t in select_targets(load_watchlist(watchlist_path), only)]
    with Archive.open(Path(archive_dir), wait=duration("--wait", wait, WAIT_MAX)) as archive:
        n = archive.store.unlearn(names)
    click.echo(f"lastseen unlearn: forgot {n} volatile part{'s' if n != 1 else ''} of {', '.join(names)}")


#: ``lastseen cron --interval``: minutes that divide an hour, then whole hours that divide a day.
_CRON_MINUTES = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
_CRON_HOURS = (1, 2, 3, 4, 6, 8, 12, 24)


def _cron_times(ctx, param, minutes: int) -> str:
    """The five time fields of a crontab line running every ``minutes``; a usage error when cron can't."""
    if minutes in _CRON_MINUTES:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    if minutes % 60 == 0 and minutes // 60 in _CRON_HOURS:
        hours = minutes // 60
        return {1: "0 * * * *", 24: "0 0 * * *"}.get(hours, f"0 */{hours} * * *")
    works = ", ".join(map(str, (*_CRON_MINUTES, *(60 * h for h in _CRON_HOURS))))
    raise click.BadParameter(f"{minutes} minutes is not a steady cron interval; use one of {works} "
                             f"(minutes that divide an hour, or whole hours that divide a day)")


def _cron_escape(line: str) -> str:
    """``line`` as crontab must hold it: cron ends a command at ``%`` (the rest becomes its input) unless
    it is written ``\\%``, and then drops the backslash. A backslash just before a ``%`` (only ever inside
    shlex's single quotes) is kept apart from it by ``''``, so that cron leaves it be.
    """
    return line.replace("\\%", "\\''%").replace("%", "\\%")


@cli.command()
@click.option("--watchlist", "watchlist_path", default="watchlist.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="The watchlist file.")
@click.option("--archive", "archive_dir", default="archive", show_default=True, type=click.Path(file_okay=False))
@click.option("--reports", "reports_dir", default="reports", show_default=True, type=click.Path(file_okay=False))
@click.option("--interval", "times", default=15, show_default=True, type=int, callback=_cron_times,
              help="Minutes between cron runs (targets still run only when due): 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, "
                   "30, or whole hours that divide a day (60, 120, 180, 240, 360, 480, 720, 1440).")
def cron(watchlist_path, archive_dir, reports_dir, times):
    """Print a crontab line that runs lastseen from here, with absolute paths.

    The line is on stdout; a comment saying how to install it comes first, on stderr.
    """
    import shlex

    exe = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "lastseen" else None
    command = shlex.quote(str(exe)) if exe and exe.exists() else f"{shlex.quote(sys.executable)} -m crawler"
    cwd = Path.cwd().resolve()
    args = " ".join(
        f"--{name} {shlex.quote(str((cwd / value).resolve()))}"
        for name, value in (("watchlist", watchlist_path), ("archive", archive_dir), ("reports", reports_dir))
    )
    line = f"{times} cd {shlex.quote(str(cwd))} && {command} run {args} --wait 5m"
    if "\n" in line or "\r" in line:
        raise UsageError("a path holds a line break, which a crontab line cannot; run from another folder")
    click.echo("# lastseen: to install, run `crontab -e` and paste the next line (cron mails what it prints)",
               err=True)
    click.echo(_cron_escape(line))


def _utcnow():
    from . import clock

    return clock.now()


@cli.command()
@click.option("--archive", "archive_dir", default="archive", show_default=True,
              type=click.Path(file_okay=False), help="Where WARC files and the index live.")
@click.option("--watchlist", "watchlist_path", default="watchlist.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="Targets' select/ignore for extraction (optional).")
@click.option("--wait", "wait", default="0s", metavar="DURATION", show_default=True,
              help="How long to wait for a run to release the archive's lock.")
def reindex(archive_dir, watchlist_path, wait):
    """Rebuild the index (lastseen.db) from the WARC files; the old one is kept as lastseen.db.broken-<time>.

    Takes the archive's lock (exit 3 while a run holds it). Events and alert state
    are not in the WARC files and are not rebuilt; it says so.
    """
    from .formatting import plural, printable
    from .interrupts import Interrupts
    from .recorder import display_path
    from .reindex import NOT_REBUILT
    from .reindex import reindex as rebuild
    from .watchlist import load_watchlist

    wait_seconds = duration("--wait", wait, WAIT_MAX)
    given = click.get_current_context().get_parameter_source("watchlist_path") != click.core.ParameterSource.DEFAULT
    wl = load_watchlist(watchlist_path) if given or Path(watchlist_path).exists() else None
    with Interrupts() as interrupts:
        done = rebuild(Path(archive_dir), watchlist=wl, wait=wait_seconds, check=lambda: interrupts.check(
            "; reindex changed nothing: the index is as it was"))
    counts = ", ".join(plural(n, table.rstrip("s").replace("_", " ")) for table, n in done.counts.items())
    click.echo(f"lastseen reindex: rebuilt {display_path(done.index)} from {plural(done.files, 'WARC file')}: "
               f"{counts}")
    click.echo(f"  the old index is kept as {', '.join(display_path(k) for k in done.kept)}" if done.kept
               else "  there was no index to keep")
    click.echo(f"  not rebuilt, since no WARC record holds them: {NOT_REBUILT}")
    for note in done.notes:
        click.echo(printable(f"  {note}"))


@cli.command()
@click.argument("which", default="watchlist", type=click.Choice(["watchlist", "report"]))
def schema(which):
    """Print the watchlist's JSON Schema (for editors), or that of `lastseen report --format json`."""
    if which == "report":
        from .report.window_json import schema_text

        click.echo(schema_text(), nl=False)
        return
    from .watchlist import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


def main() -> None:
    cli(prog_name="lastseen")


from .cli_add import add  # commands of modules of their own, registered on the group
from .cli_export import export

cli.add_command(add)
cli.add_command(export)
cli.add_command(report)
from .cli_history import COMMANDS as _HISTORY_COMMANDS  # diff, show

for _command in _HISTORY_COMMANDS:
    cli.add_command(_command)
from .cli_keygen import keygen  # lastseen keygen (#16)

cli.add_command(keygen)
from .cli_verify import verify as _verify  # lastseen verify

cli.add_command(_verify)

from .cli_bundle import bundle as _bundle  # lastseen bundle

cli.add_command(_bundle)
