"""The watchlist: a YAML file naming the pages to monitor, read into frozen dataclasses.

One registry drives three things (urlwatch's habit): the tables ``SETTINGS_FIELDS``,
``ALERTS_FIELD`` and ``TARGET_FIELDS`` -- each a :class:`Field` of a :class:`Kind` -- are what
:func:`parse_watchlist` validates against, what :func:`json_schema` describes (shipped as
``crawler/watchlist.schema.json`` for editors) and what :func:`reference_markdown` documents.
Add a key by adding a row (and the matching dataclass attribute); the rest follows.

Validation collects every problem, each with its 1-based line in the file and the target's
name when known, and raises one :class:`~crawler.errors.WatchlistError` listing them all.
Line numbers come from composing the YAML node tree with a ``SafeLoader`` subclass; no
object is ever built by an unsafe loader.

Regenerate the shipped schema after changing a table::

    python -m crawler.watchlist
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import difflib
import hashlib
import json
import math
import os
import re
import warnings
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import soupsieve
import yaml

from .errors import Problem, WatchlistError

__all__ = [
    "ALERTS_FIELD",
    "SETTINGS_FIELDS",
    "TARGET_FIELDS",
    "Field",
    "Kind",
    "Settings",
    "Target",
    "Watchlist",
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

SCHEMA_PATH = Path(__file__).with_name("watchlist.schema.json")
MAX_NAME_LENGTH = 200


# --------------------------------------------------------------------------- the dataclasses


@dataclass(frozen=True)
class Settings:
    """Run-wide settings; every attribute has a default (see ``SETTINGS_FIELDS``)."""

    concurrency: int = 16
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0
    timeout: float = 30.0
    user_agent: str = "lastseen/0.1 (+https://github.com/lastseen/lastseen)"
    retries: int = 2
    max_redirects: int = 10
    max_body: int = 50 * 2**20
    every: float | None = None


@dataclass(frozen=True)
class Target:
    """One page to watch. ``every`` is already resolved: a target without one gets ``settings.every``."""

    name: str
    url: str
    tags: tuple[str, ...] = ()
    every: float | None = None
    select: str | None = None
    ignore: tuple[str, ...] = ()
    line: int | None = dataclasses.field(default=None, compare=False)

    def matches(self, value: str) -> bool:
        """True when ``value`` is this target's name or one of its tags (for ``--only``)."""
        return value == self.name or value in self.tags


@dataclass(frozen=True)
class Watchlist:
    path: str
    settings: Settings
    alerts: tuple[str, ...]
    targets: tuple[Target, ...]
    sha256: str  # hex digest of the file's bytes: which watchlist a run used


# --------------------------------------------------------------------------- durations and sizes

_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_DURATION_UNITS: dict[str, Fraction] = {
    "w": Fraction(7 * 86400),
    "d": Fraction(86400),
    "h": Fraction(3600),
    "m": Fraction(60),
    "s": Fraction(1),
    "ms": Fraction(1, 1000),
}
_DURATION_PART = re.compile(rf"({_NUMBER})(ms|s|m|h|d|w)")
_DURATION_PATTERN = rf"(?:{_NUMBER}(?:ms|s|m|h|d|w))+|{_NUMBER}"
_DURATION_RE = re.compile(_DURATION_PATTERN)
DURATION_FORMS = "30s, 500ms, 15m, 6h, 1d, 2w, 1h30m, or a bare number of seconds such as 90"

_SIZE_UNITS: dict[str, int] = {"": 1, "b": 1}
for _power, _letter in enumerate("kmgt", start=1):
    for _suffix in (_letter, _letter + "b", _letter + "ib"):
        _SIZE_UNITS[_suffix] = 1024**_power
_SIZE_RE = re.compile(rf"({_NUMBER})([a-z]*)", re.IGNORECASE)
_SIZE_PATTERN = rf"{_NUMBER}(?:[bB]|[kKmMgGtT](?:[iI]?[bB])?)?"
SIZE_FORMS = "a whole number of bytes such as 1048576, or 512KB, 5MB, 1GB (1KB = 1024 bytes)"


def _describe(value: Any) -> str:
    """How a YAML value reads in an error message: 'a list', 'a boolean (true)'..."""
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"a date ({value.isoformat()})"
    return f"a {type(value).__name__}"


def parse_duration(value: Any) -> float:
    """Seconds in ``value``: ``"30s"``, ``"500ms"``, ``"6h"``, ``"1d"``, ``"2w"``, ``"1h30m"``, or a number.

    A bare number (or numeric string) is seconds. Raises :class:`ValueError` saying which
    forms are valid. Zero is returned as 0.0; callers that need a positive duration check.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"a duration must be text such as 6h or a number of seconds, not {_describe(value)}; "
                         f"valid forms: {DURATION_FORMS}")
    if not isinstance(value, str):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"a duration must be finite, not {value!r}; valid forms: {DURATION_FORMS}")
        if value < 0:
            raise ValueError(f"a duration can't be negative ({value!r}); valid forms: {DURATION_FORMS}")
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"duration {value!r} is too large") from None
    text = value.strip()
    if text.startswith("-") and _DURATION_RE.fullmatch(text[1:]):
        raise ValueError(f"a duration can't be negative ({value!r}); valid forms: {DURATION_FORMS}")
    if not _DURATION_RE.fullmatch(text):
        raise ValueError(f"invalid duration {value!r}; write a number and a unit with no space, "
                         f"e.g. {DURATION_FORMS} (units: ms, s, m, h, d, w)")
    if text[-1].isdigit():  # bare number of seconds
        total = Fraction(text)
    else:
        total = sum((Fraction(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text)), Fraction(0))
    try:
        return float(total)  # exact arithmetic, then one rounding: format/parse round-trips
    except OverflowError:
        raise ValueError(f"duration {value!r} is too large") from None


def format_duration(seconds: float) -> str:
    """The canonical spelling of a duration: 5400 -> ``"1h30m"``; ``parse_duration`` inverts it."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a duration")
    if seconds == 0:
        return "0s"
    millis = round(seconds * 1000)
    if millis / 1000 != seconds:  # finer than a millisecond: plain decimal seconds
        return f"{format(Decimal(repr(float(seconds))), 'f')}s"
    parts = []
    remaining = Fraction(millis, 1000)
    for unit, size in _DURATION_UNITS.items():
        count = remaining // size
        if count:
            parts.append(f"{count}{unit}")
            remaining -= count * size
    return "".join(parts)


def parse_size(value: Any) -> int:
    """Bytes in ``value``: a whole number of bytes, or ``"512KB"``, ``"5MB"``, ``"1GB"`` (KiB-based).

    Units are case-insensitive; ``K``/``KB``/``KiB`` all mean 1024. Raises :class:`ValueError`.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"a size must be a number of bytes or text such as 5MB, not {_describe(value)}; "
                         f"valid forms: {SIZE_FORMS}")
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise ValueError(f"invalid size {value!r}; valid forms: {SIZE_FORMS}")
        value = int(value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a size can't be negative ({value}); valid forms: {SIZE_FORMS}")
        return value
    match = _SIZE_RE.fullmatch(value.strip())
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"invalid size {value!r}; write {SIZE_FORMS}, with no space before the unit")
    total = Fraction(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    if total.denominator != 1:
        raise ValueError(f"size {value!r} is not a whole number of bytes; valid forms: {SIZE_FORMS}")
    return int(total)


def format_size(size: int) -> str:
    """The shortest exact spelling of ``size``: 52428800 -> ``"50MB"``, 1000 -> ``"1000"``."""
    for unit, power in (("TB", 4), ("GB", 3), ("MB", 2), ("KB", 1)):
        if size and size % 1024**power == 0:
            return f"{size // 1024**power}{unit}"
    return str(size)


# --------------------------------------------------------------------------- kinds of value


@dataclass(frozen=True)
class Kind:
    """A kind of value: how to check and convert it, its JSON Schema and its name in the docs.

    ``convert`` takes the value YAML produced and returns the Python value, raising
    :class:`ValueError` with a message that says how to fix it. ``spell`` turns a Python value
    back into how it is written in the file (for defaults in the schema and the docs).
    """

    label: str
    convert: Callable[[Any], Any]
    schema: Mapping[str, Any]
    spell: Callable[[Any], Any] = lambda value: value


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NO_CONTROL_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"


def _require_str(value: Any, example: str) -> str:
    if not isinstance(value, str):
        if isinstance(value, bool):
            hint = "; put it in quotes (YAML reads yes/no/on/off/true/false as booleans)"
        elif isinstance(value, (int, float)):
            hint = f"; put it in quotes: \"{value}\""
        elif isinstance(value, (datetime.date, datetime.datetime)):
            hint = "; put it in quotes (YAML reads it as a date)"
        else:
            hint = ""
        raise ValueError(f"must be a string such as {example}, got {_describe(value)}{hint}")
    return value


def _count(minimum: int) -> Kind:
    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number >= {minimum}, got {_describe(value)}")
        if value < minimum:
            raise ValueError(f"must be >= {minimum}, got {value}")
        return value

    return Kind(f"integer ≥ {minimum}", convert, {"type": "integer", "minimum": minimum})


def _duration(*, allow_zero: bool) -> Kind:
    def convert(value: Any) -> float:
        seconds = parse_duration(value)
        if seconds == 0 and not allow_zero:
            raise ValueError(f"must be longer than zero, got {value!r}; e.g. {DURATION_FORMS}")
        return seconds

    number: dict[str, Any] = {"type": "number"}
    number["minimum" if allow_zero else "exclusiveMinimum"] = 0
    schema = {"anyOf": [number, {"type": "string", "pattern": f"^(?:{_DURATION_PATTERN})$"}]}
    return Kind("duration ≥ 0" if allow_zero else "duration > 0", convert, schema, format_duration)


def _size_convert(value: Any) -> int:
    size = parse_size(value)
    if size == 0:
        raise ValueError(f"must be larger than zero; write {SIZE_FORMS}")
    return size


def _text_convert(value: Any) -> str:
    text = _require_str(value, '"lastseen/0.1 (+mailto:you@example.org)"')
    if not text.strip():
        raise ValueError("must not be empty")
    if _CONTROL.search(text):
        raise ValueError(f"must not contain control characters (newlines, tabs...), got {text!r}")
    return text


def _name_convert(value: Any) -> str:
    name = _require_str(value, '"vendor-press"')
    if not name.strip():
        raise ValueError("must not be empty; give each target a short unique name such as vendor-press")
    if _CONTROL.search(name):
        raise ValueError(f"must not contain control characters (newlines, tabs...), got {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"is {len(name)} characters long; keep it to {MAX_NAME_LENGTH} at most")
    return name


def _tag_convert(value: Any) -> str:
    tag = _require_str(value, "vendor")
    if not tag.strip():
        raise ValueError("a tag must not be empty")
    if _CONTROL.search(tag):
        raise ValueError(f"a tag must not contain control characters, got {tag!r}")
    return tag


def _url_convert(value: Any) -> str:
    url = _require_str(value, "https://example.org/press")
    allowed = "only http:// and https:// URLs with a host name can be watched, e.g. https://example.org/press"
    if url != url.strip() or any(ch.isspace() for ch in url):
        raise ValueError(f"{url!r} contains whitespace; remove it or percent-encode spaces as %20 ({allowed})")
    if _CONTROL.search(url):
        raise ValueError(f"{url!r} contains control characters; {allowed}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError(f"{url!r} is malformed ({exc}); {allowed}") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"'{parts.scheme}://'" if parts.scheme else "no scheme"
        raise ValueError(f"{url!r} has {shown}: {allowed}")
    try:
        host, _ = parts.hostname, parts.port  # .port raises on a malformed port
    except ValueError as exc:
        raise ValueError(f"{url!r} is malformed ({exc}); {allowed}") from None
    if not host:
        raise ValueError(f"{url!r} has no host; {allowed}")
    return url


def _selector_convert(value: Any) -> str:
    selector = _require_str(value, '"main" or "#content article"')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            soupsieve.compile(selector)
        except soupsieve.SelectorSyntaxError as exc:
            reason = str(exc).splitlines()[0]
            raise ValueError(f"invalid CSS selector {selector!r}: {reason}") from None
        except (ValueError, TypeError) as exc:  # pragma: no cover - soupsieve raises SelectorSyntaxError
            raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from None
    if caught:
        raise ValueError(f"CSS selector {selector!r} uses a deprecated form: {caught[0].message}")
    return selector


def _alert_convert(value: Any) -> str:
    url = _require_str(value, '"mailtos://user:password@example.org"')
    if not url.strip():
        raise ValueError("an alert must be a non-empty Apprise URL such as json://127.0.0.1:8999/hook")
    return url


_STRING = {"type": "string", "minLength": 1}
COUNT_1, COUNT_0 = _count(1), _count(0)
DURATION_POSITIVE, DURATION_ANY = _duration(allow_zero=False), _duration(allow_zero=True)
SIZE = Kind("size > 0", _size_convert,
            {"anyOf": [{"type": "integer", "minimum": 1},
                       {"type": "string", "pattern": f"^{_SIZE_PATTERN}$"}]},
            format_size)
TEXT = Kind("string", _text_convert, {"type": "string", "pattern": _NO_CONTROL_PATTERN})
NAME = Kind("string", _name_convert,
            {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": _NO_CONTROL_PATTERN})
TAG = Kind("string", _tag_convert, {"type": "string", "pattern": _NO_CONTROL_PATTERN})
URL = Kind("http(s) URL", _url_convert, {"type": "string", "pattern": "^[hH][tT][tT][pP][sS]?://[^\\s/?#]+[^\\s]*$"})
SELECTOR = Kind("CSS selector", _selector_convert, dict(_STRING))
ALERT = Kind("Apprise URL", _alert_convert, dict(_STRING))


# --------------------------------------------------------------------------- the registry


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
          "Requests in flight at once, across all hosts.", _default(Settings, "concurrency")),
    Field("per_host_concurrency", COUNT_1,
          "Requests in flight at once to any one host. Keep it low: the sites watched are "
          "often small and a monitor should be unnoticeable.", _default(Settings, "per_host_concurrency")),
    Field("per_host_delay", DURATION_ANY,
          "Pause between two requests to the same host (may be 0).", _default(Settings, "per_host_delay")),
    Field("timeout", DURATION_POSITIVE,
          "Upper bound on one exchange, including DNS lookup, connecting and reading the body.",
          _default(Settings, "timeout")),
    Field("user_agent", TEXT,
          "User-Agent header sent with every request. Say who you are and how to reach you.",
          _default(Settings, "user_agent")),
    Field("retries", COUNT_0,
          "Retries, within one run, of transient failures: timeouts, connection resets, 5xx and 429.",
          _default(Settings, "retries")),
    Field("max_redirects", COUNT_0,
          "Redirects followed for one capture before giving up on it.", _default(Settings, "max_redirects")),
    Field("max_body", SIZE,
          "Largest response body downloaded for one capture.",
          _default(Settings, "max_body")),
    Field("every", DURATION_POSITIVE,
          "Default for targets' `every`: how often a target is checked. Null means on every run.",
          _default(Settings, "every"), nullable=True),
)

ALERTS_FIELD = Field(
    "alerts", ALERT,
    "Apprise URLs (https://github.com/caronc/apprise/wiki) notified when a run finds changes.",
    (), nullable=True, many=True, example=["json://127.0.0.1:8999/hook"])

TARGET_FIELDS: tuple[Field, ...] = (
    Field("name", NAME,
          f"Unique name of the target, used in reports and with `--only`; at most {MAX_NAME_LENGTH} "
          "characters, no control characters.", required=True, example="vendor-press"),
    Field("url", URL, "The page to watch: an http:// or https:// URL.", required=True,
          example="https://vendor.example/press"),
    Field("tags", TAG, "Labels for grouping and selecting targets (`--only TAG`).",
          (), nullable=True, many=True, example=["vendor", "press"]),
    Field("every", DURATION_POSITIVE,
          "How often to check this target, at most. Left out or null: `settings.every`.",
          None, nullable=True, example="6h"),
    Field("select", SELECTOR,
          "CSS selector of the part of the page that is compared; the rest is archived but ignored.",
          None, nullable=True, example="main"),
    Field("ignore", SELECTOR,
          "CSS selectors of elements removed before comparison (clocks, cookie banners, counters).",
          (), nullable=True, many=True, example=[".cookie-banner", "#clock"]),
)

TOP_LEVEL: dict[str, str] = {
    "settings": "Run-wide settings; every key is optional.",
    "alerts": ALERTS_FIELD.description,
    "targets": "The pages to watch, a list of mappings (may be empty). Required.",
}
EXTENSION_PREFIX = "x-"  # top-level keys starting with this are ignored: a place for YAML anchors

_SETTINGS_BY_NAME = {f.name: f for f in SETTINGS_FIELDS}
_TARGET_BY_NAME = {f.name: f for f in TARGET_FIELDS}

assert set(_SETTINGS_BY_NAME) == {f.name for f in dataclasses.fields(Settings)}, "SETTINGS_FIELDS != Settings"
assert set(_TARGET_BY_NAME) | {"line"} == {f.name for f in dataclasses.fields(Target)}, "TARGET_FIELDS != Target"


# --------------------------------------------------------------------------- reading YAML with lines


class _LineLoader(yaml.SafeLoader):
    """SafeLoader used only to compose the node tree (which carries line marks) and build scalars."""


_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _node_word(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    return "a value"


def _unknown_key_message(key: str, known: list[str], where: str) -> str:
    if key in _SETTINGS_BY_NAME and key not in known:
        return f"'{key}' is a setting for all targets; move it under 'settings:'"
    if where != "a target" and key in _TARGET_BY_NAME and key not in known:
        return f"'{key}' belongs to a target, not to {where}; put it in an entry under 'targets:'"
    message = f"unknown key '{key}' in {where}"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    return f"{message}; known keys: {', '.join(known)}"


class _Reader:
    """Walks the composed node tree, converting values through the registry and collecting problems."""

    def __init__(self, loader: _LineLoader):
        self.loader = loader
        self.problems: list[Problem] = []

    def report(self, line: int | None, target: str | None, message: str) -> None:
        self.problems.append(Problem(line, target, message))

    # ---- nodes

    def scalar(self, node: yaml.ScalarNode, target: str | None, what: str) -> tuple[bool, Any]:
        build = self.loader.yaml_constructors.get(node.tag)
        if build is None or node.tag == _MERGE_TAG:
            self.report(_line(node), target, f"{what}: unsupported YAML tag '{node.tag}'; remove it")
            return False, None
        try:
            return True, build(self.loader, node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            self.report(_line(node), target, f"{what}: cannot read value: {exc}")
            return False, None

    def bad_tag(self, node: yaml.Node, target: str | None, what: str) -> bool:
        """Report a list or mapping with an explicit tag (``!!python/...``, ``!!set``, ``!custom``)."""
        expected = {yaml.SequenceNode: _SEQ_TAG, yaml.MappingNode: _MAP_TAG}.get(type(node))
        if expected is None or node.tag == expected:
            return False
        self.report(_line(node), target, f"{what}: unsupported YAML tag '{node.tag}'; remove it")
        return True

    def is_null(self, node: yaml.Node) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG

    def pairs(self, node: yaml.MappingNode, target: str | None) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Keys of a mapping -> (key node, value node); reports duplicate and non-string keys."""
        first_line: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE_TAG:
                continue
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR_TAG):
                shown = (self.describe_scalar(key_node) if isinstance(key_node, yaml.ScalarNode)
                         else _node_word(key_node))
                hint = "; put the key in quotes" if isinstance(key_node, yaml.ScalarNode) else ""
                self.report(_line(key_node), target, f"keys must be plain strings, got {shown}{hint}")
                continue
            key = key_node.value
            if key in first_line:
                self.report(_line(key_node), target,
                            f"duplicate key '{key}' (first on line {first_line[key]}); remove one of them: "
                            f"YAML would silently keep only the last")
            else:
                first_line[key] = _line(key_node)
        merged = yaml.MappingNode(node.tag, list(node.value), node.start_mark, node.end_mark, node.flow_style)
        try:
            self.loader.flatten_mapping(merged)  # YAML merge keys (`<<: *anchor`), without touching `node`
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            self.report(mark.line + 1 if mark else _line(node), target,
                        f"bad merge key: {getattr(exc, 'problem', exc)}")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in merged.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
                if key_node.tag == _STR_TAG:
                    out[key_node.value] = (key_node, value_node)  # later (own) keys override merged ones
        return out

    def mapping(self, node: yaml.Node, target: str | None, what: str) -> yaml.MappingNode | None:
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
            return node
        if isinstance(node, yaml.MappingNode):
            self.report(_line(node), target, f"{what}: unsupported YAML tag '{node.tag}'; remove it")
            return None
        got = _node_word(node) if not isinstance(node, yaml.ScalarNode) else self.describe_scalar(node)
        self.report(_line(node), target, f"{what} must be a mapping of keys to values, got {got}")
        return None

    def describe_scalar(self, node: yaml.ScalarNode) -> str:
        build = self.loader.yaml_constructors.get(node.tag)
        try:
            return _describe(build(self.loader, node)) if build else f"a '{node.tag}' value"
        except (yaml.YAMLError, ValueError, TypeError):
            return "a value"

    # ---- fields

    def field(self, spec: Field, key_node: yaml.Node, node: yaml.Node, target: str | None) -> tuple[bool, Any]:
        """Convert one key's value per its registry row; (False, None) when a problem was reported."""
        line = _line(key_node)
        if self.bad_tag(node, target, spec.name):
            return False, None
        if self.is_null(node):
            if spec.nullable:
                return True, () if spec.many else None
            if spec.required:
                self.report(line, target, f"{spec.name}: needs a value, e.g. {spec.name}: {spec.example}")
            else:
                self.report(line, target, f"{spec.name}: needs a value; remove the key to use the default "
                                          f"({_spell_yaml(spec.spelled_default())})")
            return False, None
        if spec.many:
            if not (isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG):
                got = _node_word(node) if not isinstance(node, yaml.ScalarNode) else self.describe_scalar(node)
                hint = f"; write {spec.name}: [{_spell_yaml(node.value)}]" if isinstance(node, yaml.ScalarNode) else ""
                self.report(line, target, f"{spec.name}: expected a list of {spec.kind.label}s, got {got}{hint}")
                return False, None
            items, ok = [], True
            for item in node.value:
                item_ok, value = self.item(spec, item, target)
                ok = ok and item_ok
                items.append(value)
            return ok, tuple(items)
        if not isinstance(node, yaml.ScalarNode):
            self.report(line, target, f"{spec.name}: expected a {spec.kind.label}, got {_node_word(node)}")
            return False, None
        return self.convert(spec, node, line, target)

    def item(self, spec: Field, node: yaml.Node, target: str | None) -> tuple[bool, Any]:
        if self.bad_tag(node, target, spec.name):
            return False, None
        if not isinstance(node, yaml.ScalarNode):
            self.report(_line(node), target,
                        f"{spec.name}: each item must be a {spec.kind.label}, got {_node_word(node)}")
            return False, None
        return self.convert(spec, node, _line(node), target)

    def convert(self, spec: Field, node: yaml.ScalarNode, line: int, target: str | None) -> tuple[bool, Any]:
        ok, raw = self.scalar(node, target, spec.name)
        if not ok:
            return False, None
        try:
            return True, spec.kind.convert(raw)
        except ValueError as exc:
            self.report(line, target, f"{spec.name}: {exc}")
            return False, None

    def unknown_keys(self, pairs: Mapping[str, tuple[yaml.Node, yaml.Node]], known: list[str],
                     where: str, target: str | None) -> None:
        for key, (key_node, _) in pairs.items():
            if key not in known:
                self.report(_line(key_node), target, _unknown_key_message(key, known, where))

    # ---- sections

    def settings(self, pairs: Mapping[str, tuple[yaml.Node, yaml.Node]]) -> Settings:
        if "settings" not in pairs or self.is_null(pairs["settings"][1]):
            return Settings()
        node = self.mapping(pairs["settings"][1], None, "settings")
        if node is None:
            return Settings()
        entries = self.pairs(node, None)
        self.unknown_keys(entries, list(_SETTINGS_BY_NAME), "settings", None)
        values = {}
        for name, (key_node, value_node) in entries.items():
            if name in _SETTINGS_BY_NAME:
                ok, value = self.field(_SETTINGS_BY_NAME[name], key_node, value_node, None)
                if ok:
                    values[name] = value
        return Settings(**values)

    def alerts(self, pairs: Mapping[str, tuple[yaml.Node, yaml.Node]]) -> tuple[str, ...]:
        if "alerts" not in pairs:
            return ()
        ok, value = self.field(ALERTS_FIELD, *pairs["alerts"], None)
        return value if ok else ()

    def targets(self, pairs: Mapping[str, tuple[yaml.Node, yaml.Node]], settings: Settings,
                root: yaml.Node) -> tuple[Target, ...]:
        if "targets" not in pairs:
            if difflib.get_close_matches("targets", list(pairs), n=1, cutoff=0.6):
                return ()  # already reported as a misspelling ("did you mean 'targets'?")
            self.report(_line(root), None, "no 'targets:' list; add one with an entry per page to watch "
                                           "(an empty list, 'targets: []', is allowed)")
            return ()
        key_node, node = pairs["targets"]
        if self.is_null(node):
            return ()
        if not (isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG):
            got = _node_word(node) if not isinstance(node, yaml.ScalarNode) else self.describe_scalar(node)
            self.report(_line(key_node), None, f"targets must be a list of mappings (each entry starting "
                                               f"with '- name: ...'), got {got}")
            return ()
        targets, seen = [], {}
        for index, item in enumerate(node.value, start=1):
            target = self.target(index, item, settings, seen)
            if target is not None:
                targets.append(target)
        return tuple(targets)

    def target(self, index: int, node: yaml.Node, settings: Settings, seen: dict[str, int]) -> Target | None:
        line = _line(node)
        if isinstance(node, yaml.ScalarNode) and not self.is_null(node):
            self.report(line, None, f"target #{index} must be a mapping with 'name' and 'url', got "
                                    f"{self.describe_scalar(node)}; write '- name: ...' with 'url: ...' "
                                    f"on the next line, indented under it")
            return None
        mapping = self.mapping(node, None, f"target #{index}")
        if mapping is None:
            return None
        before = len(self.problems)
        entries = self.pairs(mapping, None)
        name = None
        if "name" in entries:
            ok, value = self.field(_TARGET_BY_NAME["name"], *entries["name"], None)
            if ok:
                name = value
                if name in seen:
                    self.report(_line(entries["name"][0]), name,
                                f"duplicate target name (first used on line {seen[name]}); names must be unique")
                else:
                    seen[name] = _line(entries["name"][0])
        else:
            self.report(line, None, f"target #{index} has no 'name'; add a unique one, e.g. name: vendor-press")
        # problems found before the name was known (duplicate keys) are attributed to it now
        for problem in self.problems[before:]:
            problem.target = problem.target or name
        self.unknown_keys(entries, list(_TARGET_BY_NAME), "a target", name)
        values: dict[str, Any] = {"every": settings.every}
        for spec in TARGET_FIELDS[1:]:
            if spec.name in entries:
                ok, value = self.field(spec, *entries[spec.name], name)
                if ok:
                    values[spec.name] = value
            elif spec.required:
                self.report(line, name, f"missing '{spec.name}'; add it, e.g. {spec.name}: {spec.example}")
        if len(self.problems) > before:
            return None
        if values["every"] is None:
            values["every"] = settings.every
        return Target(name=name, line=line, **values)


def _spell_yaml(value: Any) -> str:
    """A value as it would be written in the YAML file (for messages and docs)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_spell_yaml(v) for v in value) + "]"
    if isinstance(value, str) and not re.fullmatch(r"[A-Za-z0-9_.\-/]+", value):
        return json.dumps(value)
    return str(value)


# --------------------------------------------------------------------------- entry points


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise WatchlistError(path, [Problem(line, None, f"not valid UTF-8 (byte {exc.start}); "
                                                        f"save the file with UTF-8 encoding")]) from None


def _compose(text: str, path: str) -> tuple[_LineLoader, yaml.Node | None]:
    loader = None
    try:
        loader = _LineLoader(text)  # the reader rejects unprintable characters here
        return loader, loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = ": ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        if "'\\t'" in reason:
            reason += "; indent with spaces, not tabs"
        elif "single document" in reason:
            reason += "; remove the '---' separator: a watchlist is one YAML document"
        problem = Problem(mark.line + 1 if mark else None, None, f"malformed YAML: {reason}")
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        problem = Problem(line, None, f"malformed YAML: character U+{ord(char[:1] or ' '):04X} is not allowed "
                                      f"in YAML; remove it")
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error above carries a mark
        problem = Problem(None, None, f"malformed YAML: {exc}")
    finally:
        if loader is not None:
            loader.dispose()  # parsing is over; the loader still builds scalars
    raise WatchlistError(path, [problem])


def parse_watchlist(text: str | bytes, path: str = "watchlist.yaml") -> Watchlist:
    """Parse and validate a watchlist's text; raise :class:`WatchlistError` listing every problem."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    digest = hashlib.sha256(data).hexdigest()
    source = text if isinstance(text, str) else _decode(data, path)
    loader, root = _compose(source, path)
    reader = _Reader(loader)
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
    alerts = reader.alerts(pairs)
    targets = reader.targets(pairs, settings, root)
    if reader.problems:
        problems = sorted(reader.problems, key=lambda p: p.line or 0)
        raise WatchlistError(path, problems)
    return Watchlist(path=path, settings=settings, alerts=alerts, targets=targets, sha256=digest)


def load_watchlist(path: str | os.PathLike[str]) -> Watchlist:
    """Read and parse the watchlist at ``path``; every failure is a :class:`WatchlistError`."""
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
    return parse_watchlist(data, name)


# --------------------------------------------------------------------------- schema and docs


def _mapping_schema(fields: tuple[Field, ...], description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "description": description,
        "type": "object",
        "properties": {f.name: f.schema() for f in fields},
        "additionalProperties": False,
    }
    required = [f.name for f in fields if f.required]
    if required:
        schema["required"] = required
    return schema


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the watchlist file, built from the registry.

    It checks shapes, types and formats; what it can't express (unique target names, valid CSS,
    zero durations written as text) is still caught by :func:`parse_watchlist`.
    """
    settings = _mapping_schema(SETTINGS_FIELDS, TOP_LEVEL["settings"])
    target = _mapping_schema(TARGET_FIELDS, "One page to watch.")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/lastseen/lastseen/blob/main/crawler/watchlist.schema.json",
        "title": "lastseen watchlist",
        "description": "The pages lastseen archives and watches for changes. Generated from "
                       "crawler/watchlist.py; do not edit by hand.",
        "type": "object",
        "properties": {
            "settings": {"anyOf": [settings, {"type": "null"}], "description": TOP_LEVEL["settings"]},
            "alerts": ALERTS_FIELD.schema(),
            "targets": {"anyOf": [{"type": "array", "items": target}, {"type": "null"}],
                        "description": TOP_LEVEL["targets"]},
        },
        "patternProperties": {f"^{EXTENSION_PREFIX}": {"description": "Ignored; a place for YAML anchors."}},
        "required": ["targets"],
        "additionalProperties": False,
    }


def write_schema(path: str | os.PathLike[str] = SCHEMA_PATH) -> None:
    """Write :func:`json_schema` to ``path`` (by default the copy shipped in the package)."""
    Path(path).write_text(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _table(fields: tuple[Field, ...]) -> list[str]:
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for f in fields:
        default = "*required*" if f.required else f"`{_spell_yaml(f.spelled_default())}`"
        description = f.description.replace("|", "\\|")
        rows.append(f"| `{f.name}` | {f.type_label()} | {default} | {description} |")
    return rows


def reference_markdown() -> str:
    """The watchlist reference in Markdown, generated from the registry (for ``docs/``)."""
    lines = [
        "# Watchlist reference",
        "",
        "A watchlist is a YAML file with three top-level keys. Unknown keys are errors (with a",
        "suggestion), except top-level keys starting with `x-`, which are ignored and can hold",
        "YAML anchors. Every problem is reported at once, with its line number.",
        "",
        "| key | description |",
        "|---|---|",
        *(f"| `{key}` | {text} |" for key, text in TOP_LEVEL.items()),
        "",
        "## `settings`",
        "",
        *_table(SETTINGS_FIELDS),
        "",
        "## `alerts`",
        "",
        f"{ALERTS_FIELD.description} A list of strings, e.g.:",
        "",
        "```yaml",
        "alerts:",
        *(f"  - {_spell_yaml(url)}" for url in ALERTS_FIELD.example),
        "```",
        "",
        "## `targets`",
        "",
        "Each entry is a mapping:",
        "",
        *_table(TARGET_FIELDS),
        "",
        "```yaml",
        "targets:",
        *(f"  {'- ' if i == 0 else '  '}{f.name}: {_spell_yaml(f.example)}"
          for i, f in enumerate(TARGET_FIELDS)),
        "```",
        "",
        "## Durations",
        "",
        f"A number and a unit with no space: {DURATION_FORMS}. Units: `ms`, `s`, `m` (minutes), `h`, `d`, `w`.",
        "`every` and `timeout` must be longer than zero; `per_host_delay` may be `0`.",
        "",
        "## Sizes",
        "",
        f"Either {SIZE_FORMS}. Units are case-insensitive; `K`, `KB` and `KiB` all mean 1024 bytes.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m crawler.watchlist: regenerate the shipped schema
    write_schema()
    print(f"wrote {SCHEMA_PATH}")
