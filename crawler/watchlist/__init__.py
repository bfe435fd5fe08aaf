"""The watchlist: a YAML file naming the pages to monitor, read into frozen dataclasses.

One registry drives three things (urlwatch's habit): the tables ``SETTINGS_FIELDS``,
``ALERTS_FIELD``, ``HOST_FIELDS`` and ``TARGET_FIELDS`` -- each a :class:`Field` of a :class:`Kind` -- are what
:func:`parse_watchlist` validates against, what :func:`json_schema` describes (shipped as
``crawler/watchlist.schema.json`` for editors) and what :func:`reference_markdown` documents.
Add a key by adding a row (and the matching dataclass attribute); the rest follows.

Validation collects every problem, each with its 1-based line in the file and the target's
name when known, and raises one :class:`~crawler.errors.WatchlistError` listing them all.
Line numbers come from composing the YAML node tree with a ``SafeLoader`` subclass; no
object is ever built by an unsafe loader.

The modules of this package, each named for what it holds:

- ``model``: the dataclasses ``Settings``, ``HostSettings``, ``Target``, ``Watchlist``;
- ``units``: durations and sizes, parsed and formatted;
- ``kinds``: kinds of value (``Kind``) and their converters;
- ``fields``: the registry (``Field`` rows per section);
- ``loader``: YAML with line numbers, validation, problem collection;
- ``cache``: a large watchlist kept validated between commands while it is unchanged;
- ``schema``: the JSON Schema and the Markdown reference.

Everything public is importable from ``crawler.watchlist`` itself. Regenerate the shipped
schema after changing a table::

    python -m crawler.watchlist
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..collector import collector_paused
from ..errors import Problem, WatchlistError
from . import cache
from .fields import (
    ALERTS_FIELD,
    EXTENSION_PREFIX,
    FETCH_SETTINGS,
    HOST_FIELDS,
    ITEM_FIELDS,
    LISTING_FIELDS,
    SETTINGS_FIELDS,
    TARGET_FIELDS,
    TOP_LEVEL,
    Field,
)
from .kinds import HOST_NAME_PATTERN, MAX_NAME_LENGTH, Kind, canonical_url, host_key
from .loader import Reader
from .yamlfile import compose, decode
from .model import HostSettings, ItemOverrides, Listing, Settings, Target, Watchlist
from .schema import SCHEMA_PATH, json_schema, reference_markdown, write_schema
from .units import DURATION_FORMS, SIZE_FORMS, format_duration, format_size, parse_duration, parse_size

__all__ = [
    "ALERTS_FIELD",
    "HOST_FIELDS",
    "ITEM_FIELDS",
    "LISTING_FIELDS",
    "SETTINGS_FIELDS",
    "TARGET_FIELDS",
    "Field",
    "HostSettings",
    "ItemOverrides",
    "Kind",
    "Listing",
    "Settings",
    "Target",
    "Watchlist",
    "canonical_url",
    "fetch_defaults",
    "fetch_options",
    "format_duration",
    "format_size",
    "json_schema",
    "load_watchlist",
    "parse_duration",
    "parse_size",
    "parse_watchlist",
    "reference_markdown",
    "write_schema",
]
# Also importable from here, as before the split into modules: SCHEMA_PATH, MAX_NAME_LENGTH,
# DURATION_FORMS, SIZE_FORMS, TOP_LEVEL, EXTENSION_PREFIX, HOST_NAME_PATTERN, host_key.


def parse_watchlist(text: str | bytes, path: str = "watchlist.yaml") -> Watchlist:
    """Parse and validate a watchlist's text; raise :class:`WatchlistError` listing every problem.

    Python's cyclic garbage collector is paused meanwhile (:mod:`crawler.collector`, #17): the node tree
    and the dataclasses hold no cycle, and the collections they set off took more than half the time.
    """
    with collector_paused():
        return _parse(text, path)


def _parse(text: str | bytes, path: str) -> Watchlist:
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    digest = hashlib.sha256(data).hexdigest()
    source = text if isinstance(text, str) else decode(data, path)
    loader, root = compose(source, path)
    reader = Reader(loader, os.path.dirname(os.path.abspath(path)))
    if root is None:
        raise WatchlistError(path, [Problem(1, None, "the watchlist is empty; it needs a 'targets:' list "
                                                     "(see the example watchlist.yaml)")])
    top = reader.mapping(root, None, "the top level")
    if top is None:
        raise WatchlistError(path, reader.problems)
    pairs = reader.pairs(top, None)
    known = list(TOP_LEVEL)
    reader.unknown_keys({k: v for k, v in pairs.items() if not k.startswith(EXTENSION_PREFIX)},
                        known, "the top level", None)
    settings = reader.settings(pairs)
    hosts = reader.hosts(pairs)
    alerts = reader.alerts(pairs)
    targets = reader.targets(pairs, settings, root)
    if reader.problems:
        problems = sorted(reader.problems, key=lambda p: p.line or 0)
        raise WatchlistError(path, problems)
    return Watchlist(path=path, settings=settings, alerts=alerts, targets=targets, sha256=digest, hosts=hosts)


def load_watchlist(path: str | os.PathLike[str]) -> Watchlist:
    """Read and parse the watchlist at ``path``; every failure is a :class:`WatchlistError`.

    A large watchlist validated before and unchanged since is read from the user's cache instead
    (:mod:`.cache`): the same :class:`Watchlist`, in a fraction of the time."""
    name = os.fspath(path)
    try:
        data = Path(name).read_bytes()
    except FileNotFoundError as exc:
        raise WatchlistError(name, [Problem(None, None, "file not found; check the path, or start from the "
                                                        "example watchlist.yaml shipped with lastseen")]) from exc
    except IsADirectoryError as exc:
        raise WatchlistError(name, [Problem(None, None, "is a directory; give the path of a watchlist "
                                                        "YAML file")]) from exc
    except PermissionError as exc:
        raise WatchlistError(name, [Problem(None, None, "permission denied; make the file readable by "
                                                        "this user (chmod u+r)")]) from exc
    except OSError as exc:
        raise WatchlistError(name, [Problem(None, None, f"cannot read the file: {exc.strerror or exc}")]) from exc
    kept = cache.cached(name, len(data), hashlib.sha256(data).hexdigest())  # a large one, unchanged (#17)
    if kept is not None:
        return kept
    watchlist = parse_watchlist(data, name)
    cache.keep(name, len(data), watchlist)
    return watchlist


def fetch_options(watchlist: Watchlist) -> dict:
    """The plain values the fetcher needs: every settings row marked ``fetch``, and the ``hosts:`` overrides."""
    options = {f.name: getattr(watchlist.settings, f.name) for f in FETCH_SETTINGS}
    options["hosts"] = {h.host: {f.name: getattr(h, f.name) for f in HOST_FIELDS} for h in watchlist.hosts}
    return options


def fetch_defaults() -> dict:
    """:func:`fetch_options` of a watchlist that sets nothing."""
    return {**{f.name: f.default for f in FETCH_SETTINGS}, "hosts": {}}
