"""Kinds of value a watchlist key can hold: how each is checked, converted, described and spelled.

A :class:`Kind` bundles a converter (YAML value -> Python value, or a :class:`ValueError` saying
how to fix it), its JSON Schema and its label in the docs. The registry rows in
:mod:`crawler.watchlist.fields` each name one of the kinds defined here.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import soupsieve

from .units import (
    DURATION_FORMS,
    DURATION_PATTERN,
    SIZE_FORMS,
    SIZE_PATTERN,
    describe,
    format_duration,
    format_size,
    parse_duration,
    parse_size,
)

__all__ = [
    "ALERT",
    "BOOLEAN",
    "CONTACT",
    "COUNT_0",
    "COUNT_1",
    "DURATION_ANY",
    "DURATION_POSITIVE",
    "HOST_NAME_PATTERN",
    "MAX_NAME_LENGTH",
    "NAME",
    "PATH",
    "SELECTOR",
    "SIZE",
    "TAG",
    "TEXT",
    "URL",
    "Kind",
    "host_key",
    "spell_yaml",
]

MAX_NAME_LENGTH = 200


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
        raise ValueError(f"must be a string such as {example}, got {describe(value)}{hint}")
    return value


def _count(minimum: int) -> Kind:
    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number >= {minimum}, got {describe(value)}")
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
    schema = {"anyOf": [number, {"type": "string", "pattern": f"^(?:{DURATION_PATTERN})$"}]}
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


def _bool_convert(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {describe(value)}")
    return value


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _contact_convert(value: Any) -> str:
    text = _require_str(value, '"desk@example.org"')
    if _CONTROL.search(text) or text != text.strip() or not text:
        raise ValueError(f"must be an e-mail address or an http(s) URL without spaces, got {text!r}")
    if _EMAIL.fullmatch(text):
        return text
    if text.lower().startswith(("http://", "https://")) and not any(ch.isspace() for ch in text):
        return text
    raise ValueError(f"must be an e-mail address (desk@example.org) or an http(s) URL "
                     f"(https://example.org/contact) where site operators can reach you, got {text!r}")


def _path_convert(value: Any) -> str:
    path = _require_str(value, '"certs/national-root-ca.pem"')
    if not path.strip():
        raise ValueError("must not be empty; remove the key to trust only the system's CA certificates")
    if _CONTROL.search(path):
        raise ValueError(f"must not contain control characters, got {path!r}")
    return path


def host_key(value: Any) -> str:
    """A ``hosts:`` key as Scrapy names download slots: the URL's host name, lower case.

    ``Example.ORG`` -> ``example.org``, ``[::1]`` -> ``::1``, ``bücher.example`` -> its IDNA form.
    A URL, a port or a path is refused with a message saying what to write instead.
    """
    text = _require_str(value, "example.org")
    host = text.strip()
    if not host:
        raise ValueError("a host name must not be empty")
    if "://" in host:
        suggestion = urlsplit(host).hostname or "example.org"
        raise ValueError(f"{text!r} is a URL; write only its host name, e.g. {suggestion}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ipaddress.ip_address(host)
        return host.lower()
    except ValueError:
        pass
    if any(ch in host for ch in "/:@?#") or any(ch.isspace() for ch in host) or _CONTROL.search(host):
        raise ValueError(f"{text!r} is not a host name; write it as in a URL, without scheme, port or path, "
                         f"e.g. example.org (per-host settings apply to every port of a host)")
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise ValueError(f"{text!r} is not a valid host name ({exc})") from None
    return ascii_host.lower().rstrip(".")


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
                       {"type": "string", "pattern": f"^{SIZE_PATTERN}$"}]},
            format_size)
TEXT = Kind("string", _text_convert, {"type": "string", "pattern": _NO_CONTROL_PATTERN})
NAME = Kind("string", _name_convert,
            {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": _NO_CONTROL_PATTERN})
TAG = Kind("string", _tag_convert, {"type": "string", "pattern": _NO_CONTROL_PATTERN})
URL = Kind("http(s) URL", _url_convert, {"type": "string", "pattern": "^[hH][tT][tT][pP][sS]?://[^\\s/?#]+[^\\s]*$"})
SELECTOR = Kind("CSS selector", _selector_convert, dict(_STRING))
ALERT = Kind("Apprise URL", _alert_convert, dict(_STRING))
BOOLEAN = Kind("boolean", _bool_convert, {"type": "boolean"})
CONTACT = Kind("contact address", _contact_convert,
               {"type": "string", "pattern": "^(?:[^@\\s]+@[^@\\s]+\\.[^@\\s]+|[hH][tT][tT][pP][sS]?://\\S+)$"})
PATH = Kind("file path", _path_convert, {"type": "string", "pattern": _NO_CONTROL_PATTERN})


def _fetch_convert(value: Any) -> str:
    from ..fetch import FETCH_MODES

    mode = _require_str(value, "http")
    if mode not in FETCH_MODES:
        raise ValueError(f"unknown fetch mode {mode!r}; use one of: {', '.join(FETCH_MODES)}")
    return mode


def _fetch_schema() -> dict:
    from ..fetch import FETCH_MODES

    return {"type": "string", "enum": list(FETCH_MODES)}


FETCH = Kind("fetch mode", _fetch_convert, _fetch_schema())
HOST_NAME_PATTERN = "^(?:[^\\s/:@?#\\[\\]]+|\\[?[0-9A-Fa-f:.]+\\]?)$"


def spell_yaml(value: Any) -> str:
    """A value as it would be written in the YAML file (for messages and docs)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(spell_yaml(v) for v in value) + "]"
    if isinstance(value, str) and not re.fullmatch(r"[A-Za-z0-9_.\-/]+", value):
        return json.dumps(value)
    return str(value)
