"""The watchlist as frozen dataclasses: what :func:`crawler.watchlist.parse_watchlist` returns.

Every attribute here has a row in the registry (:mod:`crawler.watchlist.fields`), which checks
at import time that the two agree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .textkinds import AlertWhen

__all__ = ["HostSettings", "ItemOverrides", "Listing", "Settings", "Target", "Watchlist"]


@dataclass(frozen=True)
class Settings:
    """Run-wide settings; every attribute has a default (see ``SETTINGS_FIELDS``)."""

    concurrency: int = 16
    per_host_concurrency: int = 1
    per_host_delay: float = 1.0
    timeout: float = 30.0
    deadline: float = 120.0
    user_agent: str = "lastseen/0.1 (+https://github.com/lastseen/lastseen)"
    contact: str | None = None
    retries: int = 2
    retry_after_max: float = 60.0
    max_redirects: int = 10
    max_body: int = 50 * 2**20
    max_text: int = 2 * 2**20
    max_report_page: int = 5 * 2**20
    doc_timeout: float = 30.0
    doc_max_pages: int = 2000
    report_url: str | None = None
    obey_robots: bool = False
    watch_robots: bool = True
    allow_private_redirects: bool = False
    ca_certs: str | None = None
    signing_key: str | None = None  # an Ed25519 private key's PEM file, resolved (crawler.signing)
    timestamp_authority: str | None = None
    timestamp_ca: str | None = None
    every: float | None = None
    jitter: float = 0.0
    fetch: str = "http"
    confirm_after: int = 3
    ignore_text: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    equate_scripts: str | None = None
    alert_when: AlertWhen = AlertWhen()
    browser_path: str | None = None
    browser_pages: int | None = None  # None: the number of CPUs available to the process


@dataclass(frozen=True)
class HostSettings:
    """Politeness overrides for one host (the ``hosts:`` section); None means "as in settings"."""

    host: str
    per_host_delay: float | None = None
    per_host_concurrency: int | None = None
    line: int | None = dataclasses.field(default=None, compare=False)


@dataclass(frozen=True)
class ItemOverrides:
    """``listing.item``: what a listing's items do differently from it (None: as the listing)."""

    select: str | None = None
    ignore: tuple[str, ...] | None = None
    fetch: str | None = None
    every: float | None = None


@dataclass(frozen=True)
class Listing:
    """``listing``: how a target's items are found (``LISTING_FIELDS`` in :mod:`.fields`)."""

    links: str = "a[href]"
    match: str | None = None
    sitemap: bool = False
    max_items: int = 200
    cross_site: bool = False
    documents: bool = False
    item: ItemOverrides | None = None


@dataclass(frozen=True, slots=True)  # no __dict__ each: 100,000 targets held by a run (#17)
class Target:
    """One page to watch. ``every``, ``fetch``, ``confirm_after``, ``equate_scripts`` and ``alert_when`` are
    already resolved (a target without them gets the ``settings`` values); ``ignore_text`` and ``keywords``
    are the settings' list joined with the target's."""

    name: str
    url: str
    tags: tuple[str, ...] = ()
    every: float | None = None
    select: str | None = None
    ignore: tuple[str, ...] = ()
    fetch: str = "http"
    confirm_after: int = 3
    ignore_text: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    equate_scripts: str | None = None
    alert_when: AlertWhen = AlertWhen()
    wait_for: str | None = None
    settle: str | float = "networkidle"
    scroll: bool = False
    viewport: tuple[int, int] = (1280, 800)
    listing: Listing | None = None
    line: int | None = dataclasses.field(default=None, compare=False)
    parent: str | None = None   # a listing's item: the listing's name (not a watchlist key: derived)

    def mode_options(self) -> dict:
        """The options of this target's fetch mode, as plain JSON values (``FetchJob.options``).

        They are the target keys whose registry row names this mode (``Field.mode``).
        """
        from .fields import TARGET_FIELDS  # (fields imports this module)

        return {f.name: _plain(getattr(self, f.name)) for f in TARGET_FIELDS if f.mode == self.fetch}

    def matches(self, value: str) -> bool:
        """True when ``value`` is this target's name or one of its tags (for ``--only``)."""
        return value == self.name or value in self.tags


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Watchlist:
    path: str
    settings: Settings
    alerts: tuple[str, ...]
    targets: tuple[Target, ...]
    sha256: str  # hex digest of the file's bytes: which watchlist a run used
    hosts: tuple[HostSettings, ...] = ()

    def host(self, name: str) -> HostSettings | None:
        """The overrides for host ``name`` (as in a URL), if the watchlist has any."""
        key = name.lower().strip("[]")
        return next((h for h in self.hosts if h.host == key), None)
