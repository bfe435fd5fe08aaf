"""The registry: one :class:`Field` row per watchlist key, grouped by section.

``SETTINGS_FIELDS``, ``ALERTS_FIELD``, ``HOST_FIELDS`` and ``TARGET_FIELDS`` are what the loader
validates against, what the JSON Schema describes and what the reference docs list (urlwatch's
habit: one table, three uses). Add a key by adding a row here and the matching attribute to the
dataclass in :mod:`crawler.watchlist.model`; the assertions at the end keep the two in step.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

from .kinds import (
    ALERT,
    BASE_URL,
    BOOLEAN,
    CONFIRM_COUNT,
    CONTACT,
    COUNT_0,
    COUNT_1,
    DURATION_ANY,
    DURATION_POSITIVE,
    FETCH,
    MAX_NAME_LENGTH,
    NAME,
    PATH,
    PERIOD,
    PERIOD_ANY,
    SELECTOR,
    SETTLE,
    SIZE,
    TAG,
    TEXT,
    TSA_URL,
    URL,
    VIEWPORT,
    Kind,
)
from .listings import ITEMS, MATCH, item_kind, listing_kind
from .model import HostSettings, Listing, Settings, Target
from .textkinds import ALERT_WHEN, EQUATE_SCRIPTS, KEYWORD, REGEX

__all__ = [
    "ALERTS_FIELD",
    "EXTENSION_PREFIX",
    "FETCH_SETTINGS",
    "HOST_BY_NAME",
    "HOST_FIELDS",
    "ITEM_FIELDS",
    "LISTING_FIELDS",
    "SETTINGS_BY_NAME",
    "SETTINGS_FIELDS",
    "TARGET_BY_NAME",
    "TARGET_FIELDS",
    "TOP_LEVEL",
    "Field",
]


@dataclass(frozen=True)
class Field:
    """One key of the watchlist: a row of the registry."""

    name: str
    kind: Kind
    description: str
    default: Any = None
    required: bool = False
    nullable: bool = False  # `key: null` (an empty value) is allowed; lists treat it as empty
    many: bool = False  # a YAML list of `kind`, stored as a tuple
    example: Any = None
    fetch: bool = False  # a setting the fetcher needs: passed to it by `fetch_options()`
    mode: str | None = None  # a target key of this fetch mode only: passed in FetchJob.options (Target.mode_options)

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = copy.deepcopy(dict(self.kind.schema))
        if self.many:
            schema = {"type": "array", "items": schema}
        if self.nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        out: dict[str, Any] = {"description": self.description, **schema}
        if not self.required:
            out["default"] = self.spelled_default()
        return out

    def spelled_default(self) -> Any:
        if self.default is None:
            return None
        if self.many:
            return [self.kind.spell(item) for item in self.default]
        return self.kind.spell(self.default)

    def type_label(self) -> str:
        label = f"list of {self.kind.label}s" if self.many else self.kind.label
        return f"{label} or null" if self.nullable and not self.many else label


def _default(cls: type, name: str) -> Any:
    return cls.__dataclass_fields__[name].default


SETTINGS_FIELDS: tuple[Field, ...] = (
    Field("concurrency", COUNT_1,
          "Requests in flight at once, across all hosts.", _default(Settings, "concurrency"), fetch=True),
    Field("per_host_concurrency", COUNT_1,
          "Requests in flight at once to any one host. Keep it low: the sites watched are "
          "often small and a monitor should be unnoticeable.", _default(Settings, "per_host_concurrency"), fetch=True),
    Field("per_host_delay", DURATION_ANY,
          "Pause between two requests to the same host (may be 0).", _default(Settings, "per_host_delay"), fetch=True),
    Field("timeout", DURATION_POSITIVE,
          "Upper bound on one exchange, including DNS lookup, connecting and reading the body.",
          _default(Settings, "timeout"), fetch=True),
    Field("deadline", DURATION_POSITIVE,
          "Upper bound on the whole fetch of one target: every attempt, redirect hop and wait "
          "between them, from its first exchange. Past it the capture is `unreachable` / `timeout`.",
          _default(Settings, "deadline"), fetch=True),
    Field("user_agent", TEXT,
          "User-Agent header sent with every request. Say who you are and how to reach you.",
          _default(Settings, "user_agent"), fetch=True),
    Field("contact", CONTACT,
          "Where site operators can reach you: added to the User-Agent, and sent as the `From` "
          "header when it is an e-mail address.",
          _default(Settings, "contact"), fetch=True, nullable=True),
    Field("retries", COUNT_0,
          "Retries, within one run, of transient failures: timeouts, connection resets, 5xx and 429.",
          _default(Settings, "retries"), fetch=True),
    Field("retry_after_max", DURATION_ANY,
          "Longest `Retry-After` (on 429 and 503) waited for before a retry; a longer one, or one "
          "past the `deadline`, is not waited for and the response stands.",
          _default(Settings, "retry_after_max"), fetch=True),
    Field("max_redirects", COUNT_0,
          "Redirects followed for one capture before giving up on it.", _default(Settings, "max_redirects"), fetch=True),
    Field("max_body", SIZE,
          "Largest response body downloaded for one capture; a longer one is cut there, kept and "
          "flagged `truncated`. Also bounds decompression.",
          _default(Settings, "max_body"), fetch=True),
    Field("max_text", SIZE,
          "Most text kept from one page: its text is cut there (at a line break) and the capture flagged "
          "`text-truncated`; only the first 4× this much of the body is decoded, and an HTML page is read up to "
          "its (this ÷ 20)-th tag. Bounds the memory and time one hostile page can cost.",
          _default(Settings, "max_text")),
    Field("doc_timeout", DURATION_POSITIVE,
          "Longest time one document (PDF, DOCX, XLSX, ODT, ODS) may take to be read, in its worker process: "
          "past it the worker is killed (and replaced), the text read so far is compared and the capture "
          "flagged `doc-truncated`. See docs/documents.md.",
          _default(Settings, "doc_timeout")),
    Field("doc_max_pages", COUNT_1,
          "Most pages read from one PDF (or pages between explicit breaks of a DOCX or ODT, or sheets of a "
          "spreadsheet): those past it are not read, and the capture is flagged `doc-truncated`.",
          _default(Settings, "doc_max_pages")),
    Field("max_report_page", SIZE,
          "Largest evidence page a report writes for one change: past it, only the changes with a little "
          "context are shown (the page says so); the full texts stay in the index.",
          _default(Settings, "max_report_page")),
    Field("report_url", BASE_URL,
          "Where the reports folder is published on a web server, if it is: alert messages then name a run's "
          "report by this URL joined with its path inside the folder (`<run id>/index.html`). Left out or "
          "null: by its absolute path on this machine.",
          _default(Settings, "report_url"), nullable=True, example="https://reports.example.org/lastseen/"),
    Field("obey_robots", BOOLEAN,
          "Obey robots.txt. A disallowed target is not fetched: `unreachable` / `robots`. The "
          "decision is stored on every capture either way.",
          _default(Settings, "obey_robots"), fetch=True),
    Field("watch_robots", BOOLEAN,
          "Fetch the robots.txt of each host with a due target once per run (archived, role `robots`). When a "
          "rule is added that shuts out archive crawlers (`ia_archiver`, `archive.org_bot`, `*`) from a path of "
          "one of that host's targets, every event of its targets carries `robots_changed` and the alert says "
          "so. Other robots.txt changes are only archived. See docs/robots.md.",
          _default(Settings, "watch_robots")),
    Field("allow_private_redirects", BOOLEAN,
          "Follow a redirect from a public address to a loopback, private or link-local one (an internal "
          "service). Off: such a hop is not followed, the capture is `unreachable` / `http-3xx`, flagged "
          "`private-redirect`. Targets whose own URL is private are fetched either way.",
          _default(Settings, "allow_private_redirects"), fetch=True),
    Field("ca_certs", PATH,
          "PEM file of extra certificate authorities to trust, besides the system's (e.g. a "
          "national root CA); relative to the watchlist's folder. Certificates that do not verify "
          "are still captured, flagged `tls-unverified`.",
          _default(Settings, "ca_certs"), fetch=True, nullable=True),
    Field("timestamp_authority", TSA_URL,
          "An RFC 3161 time-stamping authority (its http(s) URL): at the end of each run the custody log's head "
          "is time-stamped there, and the token kept in the archive (`archive/custody/timestamps/`) and checked "
          "by `lastseen verify`. Needs `timestamp_ca`. A failure to reach it is recorded and shown (`--json`, the "
          "report, the alert) and does not fail the run; the next run tries again. Left out or null: nothing is "
          "sent anywhere. See docs/evidence.md, \"Trusted timestamps\".",
          _default(Settings, "timestamp_authority"), nullable=True, example="https://freetsa.org/tsr"),
    Field("timestamp_ca", PATH,
          "PEM file of the time-stamping authority's certificate chain (its root CA, and intermediates): a "
          "token whose signature does not chain to it is refused. Relative to the watchlist's folder; a copy is "
          "kept in the archive beside the tokens.",
          _default(Settings, "timestamp_ca"), nullable=True),
    Field("every", PERIOD,
          "Default for targets' `every`: how often a target is checked. Null means on every run.",
          _default(Settings, "every"), nullable=True),
    Field("jitter", PERIOD_ANY,
          "Spreads targets that share an `every` over different runs: each target waits a fixed extra "
          "share of this, derived from its name (0 = none). E.g. `every: 1d` with `jitter: 6h`.",
          _default(Settings, "jitter")),
    Field("fetch", FETCH,
          "Default for targets' `fetch`: how a target is fetched.", _default(Settings, "fetch")),
    Field("confirm_after", CONFIRM_COUNT,
          "Default for targets' `confirm_after`: failed captures in a row (`unreachable` or `blocked`) before "
          "a failure is confirmed and alerts. A target that has never been captured successfully alerts on "
          "its first failure; one awaiting confirmation is due again within an hour.",
          _default(Settings, "confirm_after")),
    Field("ignore_text", REGEX,
          "Regular expressions (Python `re`) whose matches are removed from every target's compared text "
          "before comparing (a visit counter, a build time); joined with each target's own `ignore_text`.",
          (), nullable=True, many=True, example=[r"Visited [0-9,]+ times"]),
    Field("keywords", KEYWORD,
          "Words or phrases that always alert when they appear in or disappear from a target's compared text, "
          "whatever the change's significance; matched as whole words or phrases (`kamer*` also matches words "
          "that begin with `kamer`: kamera, kamere), ignoring case and diacritics (`č` = `c`, `đ` = `dj` and `d`) "
          "and, with `equate_scripts: sr`, script. Joined with each target's `keywords`.",
          (), nullable=True, many=True, example=["Huawei", "facial recognition"]),
    Field("equate_scripts", EQUATE_SCRIPTS,
          "Default for targets' `equate_scripts`: `sr` makes Serbian text in Cyrillic and in Latin script the same "
          "text (a page re-published in the other script is unchanged; the diff is shown in the new capture's "
          "script). Null: scripts differ.",
          _default(Settings, "equate_scripts"), nullable=True, example="sr"),
    Field("alert_when", ALERT_WHEN,
          "Default for targets' `alert_when`: `{min_significance: X}` (0 to 1): a change whose significance is "
          "below X is still `changed` but does not alert (flag `below-threshold`), unless a keyword appeared or "
          "disappeared. 0: every change alerts.",
          _default(Settings, "alert_when"), example={"min_significance": 0.2}),
    Field("signing_key", PATH,
          "An Ed25519 private key (PEM, as `lastseen keygen` writes it; relative to the watchlist's folder): "
          "exports and evidence bundles get a detached signature of their manifest that `openssl pkeyutl "
          "-verify -rawin` checks, and every report page shows the public key's fingerprint. Keep it outside "
          "the archive. Left out or null: nothing is signed, and nothing says otherwise. See docs/evidence.md.",
          _default(Settings, "signing_key"), nullable=True, example="~/.config/lastseen/signing.key"),
    Field("browser_path", PATH,
          "The Chromium executable browser targets are loaded in. Left out or null: `LASTSEEN_CHROMIUM`, "
          "then Playwright's own Chromium (`playwright install chromium`), then `chromium`, `chromium-browser` "
          "or `google-chrome` on `PATH`. Where none is found, browser targets are `unreachable` / `browser` "
          "(HTTP targets are unaffected).",
          _default(Settings, "browser_path"), fetch=True, nullable=True),
    Field("browser_pages", COUNT_1,
          "Browser page loads in flight at once, across all hosts (one Chromium, a page each). Left out or "
          "null: the number of CPUs available to the process.",
          _default(Settings, "browser_pages"), fetch=True, nullable=True),
)

ALERTS_FIELD = Field(
    "alerts", ALERT,
    "Apprise URLs (https://github.com/caronc/apprise/wiki) notified when a run finds changes.",
    (), nullable=True, many=True, example=["json://127.0.0.1:8999/hook"])

#: The keys of a listing's ``item:`` mapping (overrides for its items).
ITEM_FIELDS: tuple[Field, ...] = (
    Field("select", SELECTOR,
          "The part of each item's page that is compared, as a target's `select`. Left out or null: `auto`; items "
          "never inherit the listing's own `select` (which selects the index page).", None, nullable=True,
          example="article"),
    Field("ignore", SELECTOR, "CSS selectors removed from each item's page before comparing. Left out or null: the "
                              "listing's `ignore`.", None, nullable=True, many=True, example=[".share-buttons"]),
    Field("fetch", FETCH, "How the items are fetched. Left out or null: the listing's `fetch`.", None,
          nullable=True, example="http"),
    Field("every", PERIOD, "How often each item is checked. Left out or null: the listing's `every`.", None,
          nullable=True, example="1d"),
)

#: The keys of a target's ``listing:`` mapping (docs/listings.md says what a listing does).
LISTING_FIELDS: tuple[Field, ...] = (
    Field("links", SELECTOR,
          "CSS selector of the links to follow in the index page: the `href` of each match and of the links "
          "inside it, made absolute. Not used with `sitemap: true`.", Listing.links, example="main li > a"),
    Field("match", MATCH,
          "A regular expression (Python `re`) searched in each absolute item URL: only URLs where it is found are "
          "items. Left out or null: every link found.", None, nullable=True, example="/press/[0-9]{4}/"),
    Field("sitemap", BOOLEAN,
          "The target's URL is a sitemap (sitemaps.org XML: a `urlset`, or a sitemap index whose sitemaps, gzipped "
          "or not, are fetched and archived too): its `<loc>` URLs are the items.", Listing.sitemap, example=False),
    Field("max_items", ITEMS,
          "Most items watched: those past it (in the listing's order) are not captured and never counted as "
          "removed; the listing's event is flagged `listing-capped`, the number left out in "
          "`evidence.items_capped`.", Listing.max_items, example=50),
    Field("cross_site", BOOLEAN,
          "Follow items on other hosts too. Off: only items on the listing's host (`www.` ignored).",
          Listing.cross_site, example=False),
    Field("documents", BOOLEAN,
          "Keep, of the links `links`, `match` and `cross_site` select, only documents: those whose path ends in "
          "`.pdf`, `.docx`, `.xlsx`, `.odt` or `.ods` (any case), so a notice list's attachments are watched, "
          "their text compared (docs/documents.md). Off: every selected link.",
          Listing.documents, example=True),
    Field("item", item_kind(ITEM_FIELDS), "Overrides for the items: `select`, `ignore`, `fetch`, `every` "
                                          "(the table below).", None, nullable=True, example={"select": "article"}),
)

TARGET_FIELDS: tuple[Field, ...] = (
    Field("name", NAME,
          f"Unique name of the target, used in reports and with `--only`; at most {MAX_NAME_LENGTH} "
          "characters, no control characters.", required=True, example="vendor-press"),
    Field("url", URL, "The page to watch: an http:// or https:// URL, without user name or password. It is "
                      "read as a browser reads it (the WHATWG URL standard) and kept in that one spelling, the "
                      "one fetched and shown by `lastseen check`: lower-case scheme and host, IDNA host, no "
                      "default port, `\\` read as `/`.", required=True,
          example="https://vendor.example/press"),
    Field("tags", TAG, "Labels for grouping and selecting targets (`--only TAG`).",
          (), nullable=True, many=True, example=["vendor", "press"]),
    Field("every", PERIOD,
          "How often to check this target, at most. Left out or null: `settings.every`.",
          None, nullable=True, example="6h"),
    Field("select", SELECTOR,
          "The part of the page that is compared (the rest is archived, and its text stored, but a change there "
          "only flags `outside-main`): `auto` (left out or null too) its main content, found by trafilatura, or "
          "the whole page when none is found (flag `auto-fallback`); `page` the whole page's text; anything "
          "else a CSS selector.", None, nullable=True, example="main"),
    Field("ignore", SELECTOR,
          "CSS selectors of elements removed before comparison (clocks, cookie banners, counters).",
          (), nullable=True, many=True, example=[".cookie-banner", "#clock"]),
    Field("fetch", FETCH,
          "How this target is fetched: `http`, a plain HTTP(S) request (redirects followed, every exchange "
          "archived as received), or `browser`, loaded in headless Chromium (every response the page loads "
          "archived, with a full-page screenshot and the rendered DOM, whose text is compared). Left out or "
          "null: `settings.fetch`.",
          None, nullable=True, example="browser"),
    Field("ignore_text", REGEX,
          "Regular expressions whose matches are removed from the compared text before comparing; added to "
          "`settings.ignore_text`.", (), nullable=True, many=True, example=[r"[0-9,]+ views"]),
    Field("keywords", KEYWORD,
          "Words or phrases that always alert when they appear or disappear (see `settings.keywords`); added to "
          "`settings.keywords`.", (), nullable=True, many=True, example=["Safe City"]),
    Field("equate_scripts", EQUATE_SCRIPTS,
          "`sr`: Serbian Cyrillic and Latin are the same text for this target. Left out or null: "
          "`settings.equate_scripts`.", None, nullable=True, example="sr"),
    Field("alert_when", ALERT_WHEN,
          "When a change of this target alerts: `{min_significance: X}`. Left out or null: "
          "`settings.alert_when`.", None, nullable=True, example={"min_significance": 0.1}),
    Field("confirm_after", CONFIRM_COUNT,
          "Failed captures in a row (`unreachable` or `blocked`) before this target's failure is confirmed "
          "and alerts (1: alert on the first). Left out or null: `settings.confirm_after`.",
          None, nullable=True, example=3),
    Field("wait_for", SELECTOR,
          "Browser targets: a CSS selector of an element that must be visible before the page is captured. "
          "If it never appears, the page is captured when `timeout` is up and flagged `browser-timeout`.",
          _default(Target, "wait_for"), nullable=True, example="#results", mode="browser"),
    Field("settle", SETTLE,
          "Browser targets: when the page counts as loaded: `load` (its load event), `networkidle` (then no "
          "network traffic for 500ms), or a duration to wait after the load event. All within `timeout`: a page "
          "that has not settled by then is captured as it is, flagged `browser-timeout`.",
          _default(Target, "settle"), example="networkidle", mode="browser"),
    Field("scroll", BOOLEAN,
          "Browser targets: scroll to the bottom of the page before capturing it, so lazily loaded content "
          "(images, infinite lists) is loaded.", _default(Target, "scroll"), example=True, mode="browser"),
    Field("viewport", VIEWPORT,
          "Browser targets: the window size, WIDTHxHEIGHT in pixels; the screenshot is this wide and as "
          "tall as the page.", _default(Target, "viewport"), example="1280x800", mode="browser"),
    Field("listing", listing_kind(LISTING_FIELDS),
          "Makes the target a listing: an index page (or, with `sitemap: true`, a sitemap) whose items are each "
          "watched as a child target named `<name>/<item key>`; new items alert (`new` / `listed`), removed "
          "ones are fetched again (`delisted`, or `vanished`). `true` for every default; the keys are in the "
          "`listing` table below and docs/listings.md. Items inherit this target's keys but `select`.",
          None, nullable=True, example={"match": "/press/"}),
)

HOST_FIELDS: tuple[Field, ...] = (
    Field("per_host_delay", DURATION_ANY,
          "Pause between two requests to this host. Left out or null: `settings.per_host_delay`.",
          None, nullable=True, example="5s"),
    Field("per_host_concurrency", COUNT_1,
          "Requests in flight at once to this host. Left out or null: `settings.per_host_concurrency`.",
          None, nullable=True, example=1),
)

TOP_LEVEL: dict[str, str] = {
    "settings": "Run-wide settings; every key is optional.",
    "hosts": "Politeness per host: a mapping of host names (as in the URLs, without port) to "
             "`per_host_delay` / `per_host_concurrency` overrides. Optional.",
    "alerts": ALERTS_FIELD.description,
    "targets": "The pages to watch, a list of mappings (may be empty). Required.",
}
EXTENSION_PREFIX = "x-"  # top-level keys starting with this are ignored: a place for YAML anchors

SETTINGS_BY_NAME = {f.name: f for f in SETTINGS_FIELDS}
FETCH_SETTINGS = tuple(f for f in SETTINGS_FIELDS if f.fetch)
TARGET_BY_NAME = {f.name: f for f in TARGET_FIELDS}
HOST_BY_NAME = {f.name: f for f in HOST_FIELDS}

assert set(SETTINGS_BY_NAME) == {f.name for f in dataclasses.fields(Settings)}, "SETTINGS_FIELDS != Settings"
assert set(TARGET_BY_NAME) | {"line", "parent"} == {f.name for f in dataclasses.fields(Target)}, "TARGET_FIELDS != Target"
assert set(HOST_BY_NAME) | {"host", "line"} == {f.name for f in dataclasses.fields(HostSettings)}, \
    "HOST_FIELDS != HostSettings"
