"""``lastseen bundle EVENT_ID``: one change packed as a zip that anyone checks without lastseen (click;
registered by :mod:`crawler.cli`). Thin: the bundle is :mod:`crawler.bundle`.

It takes the archive's lock (its custody entry is appended under it: exit 3 while a run holds it, ``--wait``
as for ``lastseen export``); an unknown or malformed event id exits 2.
"""

from __future__ import annotations

from pathlib import Path

import click

from .cli_common import archive_option, wait_option, watchlist_option

__all__ = ["bundle"]


@click.command()
@click.argument("event", metavar="EVENT_ID")
@archive_option
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="The folder to write the zip in (made if missing). Default: reports/bundles.",
)
@wait_option()
@watchlist_option("The watchlist whose settings.signing_key signs the bundle's manifest (read when it exists).")
def bundle(event, archive_dir, out_dir, wait, watchlist_path):
    """Pack one change (EVENT_ID: RUN_ID:TARGET) as a zip anyone checks without lastseen.

    The zip holds a WACZ of the event's two captures, the report's change page, the custody entries that
    cover them up to the chain head, the timestamp token if any, MANIFEST.sha256 (signed with
    settings.signing_key) and a README.txt giving the third-party commands that check it all.
    """
    from . import clock
    from .archive import Archive
    from .bundle import DEFAULT_OUT, build_bundle
    from .cli_common import wait_seconds
    from .cli_export import signing_key
    from .errors import UsageError
    from .events import parse_event_id
    from .formatting import printable

    parse_event_id(event)  # exit 2 before anything is opened
    waiting = wait_seconds(wait)
    folder = Path(out_dir) if out_dir else DEFAULT_OUT
    key = signing_key(watchlist_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"--out {printable(str(folder))!r}: cannot make the folder ({exc.strerror or exc})"
        ) from exc
    with Archive.open(Path(archive_dir), wait=waiting, command="bundle") as archive:
        done = build_bundle(archive, event, folder, clock.now(), signing_key=key)
    said = [f"{len(done.files)} files", f"sha256 {done.sha256}", f"{done.size} bytes"]
    if done.fingerprint:
        said.append(f"signed (key fingerprint {done.fingerprint})")
    if done.token_seq is not None:
        said.append(f"time-stamp of entry #{done.token_seq}")
    click.echo(printable(f"lastseen bundle: wrote {done.path}: {', '.join(said)}"))
    click.echo(
        "Check it without lastseen: unzip it and follow its README.txt (sha256sum, openssl, wacz, warcio, jq)"
    )
    head = done.entry
    click.echo(f"Custody chain head: #{head['seq']} {head['sha256']}")
