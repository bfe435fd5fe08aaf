"""The rows of ``tests/scenarios/vanish.yaml`` as :class:`Scenario` values: :func:`load_scenarios`
reads and checks them (unknown keys, behaviours, sites and articles raise :class:`ScenarioError`
naming the row, never a skip), fills in defaults, and turns each run's ``serve`` into behaviour
names and :class:`Redirect` values and its ``expect`` (or a shorthand) into a full mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .pages import BEHAVIOURS
from .sites import PROFILES

EXPECT_KEYS = {"verdict", "reason", "alert", "confirmed", "flags", "final_url"}
SHORTHANDS = {"new", "unchanged"}   # {verdict: X, reason: null, alert: false, confirmed: null}
ROW_KEYS = {"id", "about", "site", "article", "path", "target", "unknown", "runs"}
REDIRECT_KEYS = {"redirect", "status", "serves"}


@dataclass(frozen=True)
class Redirect:
    location: str    # with {host} and {path} filled in
    status: int
    serves: str | None   # what the location serves; None: what its path serves anyway

    def words(self) -> str:
        return f"{self.status} → {self.location}"


@dataclass(frozen=True)
class Run:
    serve: tuple            # behaviour names or Redirects, for the 1st, 2nd... request of the URL in the run
    expect: dict            # verdict, reason, alert, confirmed, flags (list), final_url (suffix or None)


@dataclass(frozen=True)
class Scenario:
    id: str
    about: str
    site: str
    article: str
    path: str
    target: dict
    unknown: str
    runs: tuple[Run, ...]

    @property
    def host(self) -> str:
        return f"{self.id}.test"

    @property
    def url(self) -> str:
        return f"http://{self.host}{self.path}"

    def run(self, n: int) -> Run:
        """What run ``n`` (1-based) serves: a row with fewer runs keeps serving its last."""
        return self.runs[min(n, len(self.runs)) - 1]

    def redirects(self) -> list[Redirect]:
        return [s for r in self.runs for s in r.serve if isinstance(s, Redirect)]


class ScenarioError(ValueError):
    pass


def _problem(where: str, message: str):
    return ScenarioError(f"tests/scenarios/vanish.yaml, {where}: {message}")


def _expect(value, where: str) -> dict:
    if isinstance(value, str):
        if value not in SHORTHANDS:
            raise _problem(where, f"expect {value!r}: a shorthand is one of {sorted(SHORTHANDS)}, else a mapping")
        value = {"verdict": value}
    if not isinstance(value, dict) or not set(value) <= EXPECT_KEYS or "verdict" not in value:
        raise _problem(where, f"expect needs verdict and only {sorted(EXPECT_KEYS)}: {value!r}")
    out = {"verdict": value["verdict"], "reason": value.get("reason"), "alert": value.get("alert", False),
           "confirmed": value.get("confirmed"), "flags": list(value.get("flags", [])),
           "final_url": value.get("final_url")}
    if not isinstance(out["alert"], bool) or out["confirmed"] not in (True, False, None):
        raise _problem(where, f"alert is true/false, confirmed true/false/null: {value!r}")
    return out


def _serve(value, where: str, host: str, path: str) -> tuple:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _problem(where, "serve is empty")
    out = []
    for item in items:
        if isinstance(item, str):
            if item not in BEHAVIOURS:
                raise _problem(where, f"unknown behaviour {item!r}; known: {', '.join(BEHAVIOURS)}")
            out.append(item)
        elif isinstance(item, dict) and "redirect" in item and set(item) <= REDIRECT_KEYS:
            serves = item.get("serves")
            if serves is not None and serves not in BEHAVIOURS:
                raise _problem(where, f"unknown behaviour {serves!r} in serves")
            location = item["redirect"].replace("{host}", host).replace("{path}", path)
            target = urlsplit(location)
            if target.hostname and target.hostname != host and not target.hostname.endswith("." + host):
                raise _problem(where, f"a redirect may name {host} or a host under it, not {target.hostname}")
            out.append(Redirect(location, int(item.get("status", 301)), serves))
        else:
            raise _problem(where, f"serve is a behaviour, a list of them, or {{redirect, status, serves}}: {item!r}")
    return tuple(out)


def load_scenarios(path: Path) -> list[Scenario]:
    """The rows of the data file, checked: unknown keys, behaviours and sites are errors, not skips."""
    rows = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    scenarios, seen = [], set()
    for i, row in enumerate(rows, 1):
        where = f"row {i} ({row.get('id', '?')})"
        if not set(row) <= ROW_KEYS or not {"id", "about", "runs"} <= set(row):
            raise _problem(where, f"a row has id, about, runs and optionally {sorted(ROW_KEYS)}: {sorted(row)}")
        if row["id"] in seen:
            raise _problem(where, "duplicate id")
        seen.add(row["id"])
        site = row.get("site", "vendor")
        if site not in PROFILES:
            raise _problem(where, f"unknown site {site!r}; known: {', '.join(PROFILES)}")
        profile = PROFILES[site]
        article = row.get("article", next(iter(profile.articles)))
        if article not in profile.articles:
            raise _problem(where, f"site {site} has no article {article!r}; it has {', '.join(profile.articles)}")
        path = row.get("path", profile.articles[article].path)
        unknown = row.get("unknown", "not-found-404")
        if unknown not in BEHAVIOURS:
            raise _problem(where, f"unknown behaviour {unknown!r} for unknown paths")
        host = f"{row['id']}.test"
        runs = tuple(
            Run(_serve(r.get("serve"), f"{where} run {n}", host, path), _expect(r.get("expect"), f"{where} run {n}"))
            for n, r in enumerate(row["runs"], 1)
        )
        scenarios.append(Scenario(row["id"], " ".join(str(row["about"]).split()), site, article, path,
                                  dict(row.get("target") or {}), unknown, runs))
    return scenarios
