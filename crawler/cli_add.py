"""``lastseen add``: append a target to the watchlist (registered on the ``lastseen`` group in cli.py).

Thin: :func:`crawler.watchlist.adding.add_target` validates, appends and writes; this prints what it added.
Exit status 2 when the URL or an option is invalid, the name or URL is already watched, the watchlist is
missing or invalid, or the result would not pass ``lastseen check`` (nothing is written then).
"""

from __future__ import annotations

import click


@click.command()
@click.argument("url")
@click.option(
    "--name",
    default=None,
    metavar="NAME",
    help="The target's name (default: made from the URL's host and path, unique in the watchlist).",
)
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag (repeatable).")
@click.option(
    "--every", default=None, metavar="DURATION", help="How often to check it, e.g. 6h (default: settings.every)."
)
@click.option("--fetch", default=None, metavar="http|browser", help="How it is fetched (default: settings.fetch).")
@click.option(
    "--watchlist",
    "watchlist_path",
    default="watchlist.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The watchlist file (it must exist; an empty file will do).",
)
def add(url, name, tags, every, fetch, watchlist_path):
    """Append a target to the watchlist, keeping every other byte of the file (comments, layout, quoting).

    The result is checked as `lastseen check` does before it is written (atomically); a duplicate name or URL
    is refused. The URL is written in its canonical spelling, the one fetched.
    """
    from .formatting import printable
    from .watchlist.adding import add_target

    added = add_target(watchlist_path, url, name=name, tags=tags, every=every, fetch=fetch)
    extras = [f"tags {', '.join(added.tags)}"] if added.tags else []
    extras += [f"every {added.every}"] if added.every else []
    extras += [f"fetch {added.fetch}"] if added.fetch else []
    more = f" ({'; '.join(extras)})" if extras else ""
    click.echo(printable(f"lastseen add: added {added.name}: {added.url}{more} to {added.path}, line {added.line}"))
