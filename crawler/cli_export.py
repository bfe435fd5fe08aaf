"""``lastseen export``: captures packed as a WACZ for ReplayWeb.page and ``wacz validate`` (click; registered
by :mod:`crawler.cli`). Thin: the selection and the package are :mod:`crawler.export` and :mod:`crawler.wacz`.

It takes the archive's lock (its custody entry is appended under it: exit 3 while a run holds it, ``--wait``
as for ``lastseen run``) and writes nothing in ``warcs/``.
"""

from __future__ import annotations

from pathlib import Path

import click

from .cli_common import archive_option, only_option, wait_option, watchlist_option

__all__ = ["export"]


@click.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The WACZ file to write (FILE.wacz; never overwritten).",
)
@archive_option
@only_option("Only these targets (name, tag or LISTING/KEY; repeatable), as for `lastseen report`.")
@click.option(
    "--since",
    metavar="DURATION|DATE",
    default=None,
    help="Captures started since then: a duration back from now (7d) or an ISO 8601 date or date-time "
    "(UTC unless it says otherwise). Default: the first capture.",
)
@click.option(
    "--until",
    metavar="DATE",
    default=None,
    help="Captures started until then (ISO 8601; a bare date takes in that whole day). Default: now.",
)
@click.option(
    "--event",
    "event",
    metavar="EVENT_ID",
    default=None,
    help="One event's captures (RUN_ID:TARGET): the capture it judged and the one it was compared with.",
)
@wait_option()
@watchlist_option("The watchlist whose settings.signing_key signs the export (read when it exists).")
def export(out, archive_dir, only, since, until, event, wait, watchlist_path):
    """Write the chosen captures' WARC records, copied byte for byte, as a WACZ (ReplayWeb.page opens it).

    A revisit's original record is included, so the export depends on no record outside it. Its custody
    entry (the file's SHA-256) is appended under the archive's lock: exit 3 while a run holds it. With
    settings.signing_key, FILE.wacz.sha256, its signature FILE.wacz.sha256.sig and the public key
    FILE.wacz.pub.pem are written beside it.
    """
    from . import clock
    from .archive import Archive
    from .cli_common import wait_seconds
    from .errors import UsageError
    from .export import Selection
    from .export import export as write_export
    from .formatting import plural, printable

    waiting = wait_seconds(wait)
    path = Path(out)
    if path.suffix.lower() != ".wacz":
        raise UsageError(
            f"--out {printable(out)!r}: name it FILE.wacz (ReplayWeb.page opens .wacz files)"
        )
    if path.exists() or path.is_symlink():
        raise UsageError(
            f"--out {printable(out)!r} exists: an export is never overwritten; choose another name"
        )
    if not path.parent.is_dir():
        raise UsageError(
            f"--out {printable(out)!r}: the folder {printable(str(path.parent))!r} does not exist"
        )
    key = signing_key(watchlist_path)
    if key:
        from .manifests import export_files

        for beside in export_files(path).all():
            if beside.exists() or beside.is_symlink():
                raise UsageError(
                    f"{printable(str(beside))!r} exists: a signed export writes it beside --out and never "
                    f"overwrites it; choose another name"
                )
    selection = Selection(tuple(only), since, until, event)
    with Archive.open(Path(archive_dir), wait=waiting, command="export") as archive:
        done = write_export(archive, path, selection, clock.now(), signing_key=key)
    head = done.entry
    originals = (
        f" (and {plural(done.originals, 'original record')} of revisits)"
        if done.originals
        else ""
    )
    click.echo(
        f"lastseen export: wrote {printable(str(path))}: {plural(len(done.captures), 'capture')}, "
        f"{plural(len(done.records), 'WARC record')}{originals}, {plural(done.pages, 'page')}; "
        f"sha256 {done.written.sha256}, {done.written.size} bytes"
    )
    if key:
        sig = done.entry["content"]["signature"]
        click.echo(
            printable(
                f"signed: {path}.sha256.sig (key fingerprint {sig['key_fingerprint']}; public key {path}.pub.pem)"
            )
        )
    click.echo(f"Custody chain head: #{head['seq']} {head['sha256']}")


def signing_key(watchlist_path: str) -> str | None:
    """``settings.signing_key`` of the watchlist at ``watchlist_path`` when given or present, else None."""
    from .watchlist import load_watchlist

    given = (
        click.get_current_context().get_parameter_source("watchlist_path")
        != click.core.ParameterSource.DEFAULT
    )
    if not given and not Path(watchlist_path).exists():
        return None
    return load_watchlist(watchlist_path).settings.signing_key
