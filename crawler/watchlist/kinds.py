"""Kinds of value a watchlist key can hold: how each is checked, converted, described and spelled.

A :class:`Kind` bundles a converter (YAML value -> Python value, or a :class:`ValueError` saying
how to fix it), its JSON Schema and its label in the docs. The registry rows in
:mod:`crawler.watchlist.fields` each name one of the kinds defined here.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import json
import math
import re
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import ada_url

from .units import (
    DURATION_FORMS,
    DURATION_PATTERN,
    SIZE_FORMS,
    SIZE_PATTERN,
    describe,
    format_duration,
    format_size,
    mask_password,
    parse_duration,
    parse_size,
)

__all__ = [
    "ALERT",
    "BASE_URL",
    "BOOLEAN",
    "CONTACT",
    "COUNT_0",
    "COUNT_1",
    "DURATION_ANY",
    "DURATION_POSITIVE",
    "HOST_NAME_PATTERN",
    "MAX_DURATION",
    "MAX_NAME_LENGTH",
    "MAX_PERIOD",
    "MAX_SIZE",
    "NAME",
    "PATH",
    "PERIOD",
    "PERIOD_ANY",
    "SELECTOR",
    "SETTLE",
    "SIZE",
    "TAG",
    "TEXT",
    "TSA_URL",
    "URL",
    "VIEWPORT",
    "Kind",
    "canonical_url",
    "host_key",
    "spell_yaml",
]

MAX_NAME_LENGTH = 200
#: Upper bounds of durations and sizes (a larger value is a typo, and would overflow date arithmetic):
MAX_PERIOD = 366 * 86400  # how often, and the jitter of it: a year (and a day)
MAX_DURATION = 86400  # one wait or one fetch (timeout, deadline, per_host_delay, retry_after_max): a day
MAX_SIZE = 2**30  # a body, a text, a page: 1GB


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
    maximum: str | None = None  # the upper bound of a duration or size, as written ("1d", "1GB")
    mapping: bool = False  # written as a YAML mapping of scalars (alert_when), converted as a dict


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


def _count(minimum: int, maximum: int | None = None) -> Kind:
    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number >= {minimum}, got {describe(value)}")
        if value < minimum:
            raise ValueError(f"must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum}, got {value}")
        return value

    if maximum is None:
        return Kind(f"integer ≥ {minimum}", convert, {"type": "integer", "minimum": minimum})
    return Kind(f"integer {minimum}–{maximum}", convert, {"type": "integer", "minimum": minimum, "maximum": maximum})


def _duration(*, allow_zero: bool, maximum: int) -> Kind:
    """A duration kind, bounded: its label, schema and messages all say the bound."""
    bound = f"{maximum // 86400}d" if maximum % 86400 == 0 else format_duration(maximum)  # 366d, not 52w2d

    def convert(value: Any) -> float:
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            if "too large" not in str(exc):
                raise
            seconds = math.inf
        if seconds == 0 and not allow_zero:
            raise ValueError(f"must be longer than zero, got {value!r}; e.g. {DURATION_FORMS}")
        if seconds > maximum:
            raise ValueError(f"must be at most {bound}, got {value!r}")
        return seconds

    number: dict[str, Any] = {"type": "number", "maximum": maximum}
    number["minimum" if allow_zero else "exclusiveMinimum"] = 0
    text = {"type": "string", "pattern": f"^(?:{DURATION_PATTERN})$", "description": f"at most {bound}"}
    schema = {"anyOf": [number, text]}
    label = f"duration {'≥ 0' if allow_zero else '> 0'}, at most {bound}"
    return Kind(label, convert, schema, format_duration, bound)


def _size(*, maximum: int) -> Kind:
    """A size kind, bounded like the durations."""
    bound = format_size(maximum)

    def convert(value: Any) -> int:
        size = parse_size(value)
        if size == 0:
            raise ValueError(f"must be larger than zero; write {SIZE_FORMS}")
        if size > maximum:
            raise ValueError(f"must be at most {bound}, got {value!r}")
        return size

    schema = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": maximum},
                        {"type": "string", "pattern": f"^{SIZE_PATTERN}$", "description": f"at most {bound}"}]}
    return Kind(f"size > 0, at most {bound}", convert, schema, format_size, bound)


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


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_HOST = re.compile(r"//[^/\\?#]*?([^/\\?#@]*)(?=[/\\?#]|$)")  # after any user info: host and port
#: A WHATWG serialisation that w3lib (Scrapy) leaves as it is: a plain host, a port, and only characters
#: neither percent-encodes. Others go through w3lib (tests/test_inputs.py checks the two agree).
_W3LIB_FIXED = re.compile(r"https?://(?:[a-z0-9.\-]+|\[[0-9a-f:.]+\])(?::[0-9]+)?"
                          r"/[A-Za-z0-9\-._~!$&()*+,;=:@/%]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@/?%]+)?"
                          r"(?:#[A-Za-z0-9\-._~!$&()*+,;=:@/?%]+)?")  # w3lib drops an empty ? or #


def _whatwg(url: str) -> ada_url.URL | None:
    """``url`` parsed by the WHATWG URL standard's rules (what a browser does), or None."""
    try:
        return ada_url.URL(url)
    except ValueError:
        return None


def _masked(url: str, parsed: ada_url.URL | None) -> str:
    """``url`` as messages show it: never its password."""
    if parsed is None:
        return mask_password(url)  # unparsable: mask anything that may be a password
    if "@" not in url or not parsed.password:
        return url  # the fetcher's parser sees no password in it
    return f"{parsed.protocol}//{parsed.username}:***@{parsed.host}{parsed.pathname}{parsed.search}{parsed.hash}"


def _serialise(parsed: ada_url.URL) -> str:
    href = parsed.href
    if _W3LIB_FIXED.fullmatch(href):
        return href
    from w3lib.url import safe_url_string  # here: a kept watchlist is read without it (#17)

    return safe_url_string(href)


def canonical_url(url: str) -> str:
    """The one spelling of a target's URL, what the fetcher requests: ``url`` parsed and serialised by
    the WHATWG URL standard (lower-case scheme and host, IDNA, no default port, ``\\`` read as ``/``,
    dot segments resolved: what a browser would fetch), then made safe by w3lib as Scrapy does with
    every request (a few more characters percent-encoded), so that ``scrapy.Request(c).url == c``.
    Raises :class:`ValueError` when the standard refuses ``url``.
    """
    parsed = _whatwg(url)
    if parsed is None:
        raise ValueError(f"{mask_password(url)!r} is not a valid URL")
    return _serialise(parsed)


def _url_convert(value: Any, *, allowed: str = "only http:// and https:// URLs with a host name can be watched, "
                                            "e.g. https://example.org/press") -> str:
    url = _require_str(value, "https://example.org/press")
    parsed = _whatwg(url)
    if "@" in url and parsed is not None and (parsed.username or parsed.password):
        raise ValueError(f"{_masked(url, parsed)!r} contains credentials (user name or password); lastseen sends "
                         f"none, and must not print or archive them: remove the 'user:password@' part (watch "
                         f"pages that need no login)")
    odd = _SPACE_OR_CONTROL.search(url)
    if odd and odd.group().isspace():
        raise ValueError(f"{_masked(url, parsed)!r} contains whitespace; remove it or percent-encode spaces as %20 "
                         f"({allowed})")
    if odd:
        raise ValueError(f"{_masked(url, parsed)!r} contains control characters; {allowed}")
    scheme = _SCHEME.match(url)
    if scheme is None or scheme.group(1).lower() not in ("http", "https"):
        named = f"'{scheme.group(1)}://'" if scheme else "no scheme"
        raise ValueError(f"{_masked(url, parsed)!r} has {named}: {allowed}")
    host = _HOST.match(url, scheme.end())
    if host is None:
        raise ValueError(f"{_masked(url, parsed)!r} needs '//' after '{scheme.group(0)}' ({allowed})")
    if not host.group(1) or host.group(1).startswith(":"):
        raise ValueError(f"{_masked(url, parsed)!r} has no host; {allowed}")
    if parsed is None:
        raise ValueError(f"{_masked(url, parsed)!r} is malformed (check the host, a port up to 65535, and the "
                         f"brackets around an IPv6 address); {allowed}")
    return _serialise(parsed)


def _bool_convert(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {describe(value)}")
    return value


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _contact_convert(value: Any) -> str:
    text = _require_str(value, '"desk@example.org"')
    if _CONTROL.search(text) or text != text.strip() or not text:
        raise ValueError(f"must be an e-mail address or an http(s) URL without spaces, got {mask_password(text)!r}")
    if _EMAIL.fullmatch(text):
        return text
    if text.lower().startswith(("http://", "https://")) and not any(ch.isspace() for ch in text):
        return text
    raise ValueError(f"must be an e-mail address (desk@example.org) or an http(s) URL "
                     f"(https://example.org/contact) where site operators can reach you, got {mask_password(text)!r}")


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
        try:
            suggestion = urlsplit(host).hostname or "example.org"
        except ValueError:
            suggestion = "example.org"
        raise ValueError(f"{mask_password(text)!r} is a URL; write only its host name, e.g. {suggestion}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ipaddress.ip_address(host)
        return host.lower()
    except ValueError:
        pass
    if any(ch in host for ch in "/:@?#") or any(ch.isspace() for ch in host) or _CONTROL.search(host):
        raise ValueError(f"{mask_password(text)!r} is not a host name; write it as in a URL, without scheme, port "
                         f"or path, e.g. example.org (per-host settings apply to every port of a host)")
    if host.isascii():
        return host.lower().rstrip(".")
    parsed = _whatwg(f"http://{host}/")  # IDNA as targets' URLs have it (UTS 46: straße.de is not strasse.de)
    if parsed is None:
        raise ValueError(f"{text!r} is not a valid host name (IDNA refuses it)")
    return parsed.hostname.rstrip(".")


def _selector_convert(value: Any) -> str:
    import soupsieve  # here: a kept watchlist is read without it (and the bs4 it brings, #17)

    selector = _require_str(value, '"main" or "#content article"')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            soupsieve.compile(selector)
        except Exception as exc:  # whatever soupsieve raises (pseudo-elements such as ::before too) is a refusal
            reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            if "Pseudo-element" in reason:  # soupsieve's word for ::before, ::first-line...
                reason += " (pseudo-elements such as ::before or ::first-line are not elements of the page: " \
                          "select the element itself, e.g. p instead of p::first-line)"
            raise ValueError(f"invalid CSS selector {selector!r}: {reason}") from None
    if caught:
        raise ValueError(f"CSS selector {selector!r} uses a deprecated form: {caught[0].message}")
    return selector


def _alert_convert(value: Any) -> str:
    url = _require_str(value, '"mailtos://user:password@example.org"')
    if not url.strip():
        raise ValueError("an alert must be a non-empty Apprise URL such as json://127.0.0.1:8999/hook")
    from ..alerts import _instantiate, mask_url  # Apprise itself judges its URLs (imported only when used)

    if _instantiate(url) is None:
        raise ValueError(f"Apprise cannot use {mask_url(url)!r} (shown masked): an unknown service, a malformed "
                         f"URL, or a service that needs a package not installed; see "
                         f"https://github.com/caronc/apprise/wiki for the URL of each service")
    return url


_STRING = {"type": "string", "minLength": 1}
COUNT_1, COUNT_0 = _count(1), _count(0)
CONFIRM_COUNT = _count(1, 100)  # confirm_after: the index looks 100 events back (store.STATE_HORIZON)
# every duration and size is bounded (its label, the schema and the docs say so)
DURATION_POSITIVE = _duration(allow_zero=False, maximum=MAX_DURATION)
DURATION_ANY = _duration(allow_zero=True, maximum=MAX_DURATION)
PERIOD = _duration(allow_zero=False, maximum=MAX_PERIOD)
PERIOD_ANY = _duration(allow_zero=True, maximum=MAX_PERIOD)
SIZE = _size(maximum=MAX_SIZE)
TEXT = Kind("string", _text_convert, {"type": "string", "pattern": _NO_CONTROL_PATTERN})
NAME = Kind("string", _name_convert,
            {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": _NO_CONTROL_PATTERN})
TAG = Kind("string", _tag_convert, {"type": "string", "pattern": _NO_CONTROL_PATTERN})
URL = Kind("http(s) URL", _url_convert,
           {"type": "string", "pattern": "^[hH][tT][tT][pP][sS]?://[^\\s/\\\\?#@]+(?:[/\\\\?#]\\S*)?$"})
#: Where reports are published (``settings.report_url``): an http(s) URL, as a target's.
BASE_URL = Kind("http(s) URL", functools.partial(
    _url_convert, allowed="only an http:// or https:// URL with a host name can say where reports are published, "
                          "e.g. https://reports.example.org/lastseen/"), URL.schema)
#: An RFC 3161 time-stamping authority (``settings.timestamp_authority``): an http(s) URL, as a target's.
TSA_URL = Kind("http(s) URL", functools.partial(
    _url_convert, allowed="only an http:// or https:// URL with a host name can name an RFC 3161 time-stamping "
                          "authority, e.g. https://freetsa.org/tsr"), URL.schema)
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
SETTLE_EVENTS = ("load", "networkidle")  # Playwright's load states a page load may settle on


def _settle_convert(value: Any) -> str | float:
    """``load``, ``networkidle``, or a duration after the load event (seconds)."""
    if isinstance(value, str) and value in SETTLE_EVENTS:
        return value
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise ValueError(f"must be load, networkidle, or a duration after the load event such as 2s, "
                         f"got {describe(value)}") from None
    if seconds > MAX_DURATION:
        raise ValueError(f"must be at most 1d, got {value!r}")
    return seconds


SETTLE = Kind("load, networkidle or duration", _settle_convert,
              {"anyOf": [{"type": "string", "enum": list(SETTLE_EVENTS)},
                         {"type": "number", "minimum": 0, "maximum": MAX_DURATION},
                         {"type": "string", "pattern": f"^(?:{DURATION_PATTERN})$"}]},
              lambda value: value if isinstance(value, str) else format_duration(value))

VIEWPORT_MIN, VIEWPORT_MAX = 100, 10000  # pixels, each side
_VIEWPORT = re.compile(r"([0-9]{1,6})x([0-9]{1,6})")


def _viewport_convert(value: Any) -> tuple[int, int]:
    text = _require_str(value, '"1280x800"')
    match = _VIEWPORT.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"must be WIDTHxHEIGHT in pixels, e.g. 1280x800, got {text!r}")
    width, height = int(match.group(1)), int(match.group(2))
    if not (VIEWPORT_MIN <= width <= VIEWPORT_MAX and VIEWPORT_MIN <= height <= VIEWPORT_MAX):
        raise ValueError(f"width and height must each be between {VIEWPORT_MIN} and {VIEWPORT_MAX} pixels, "
                         f"got {text!r}")
    return width, height


VIEWPORT = Kind("WIDTHxHEIGHT", _viewport_convert, {"type": "string", "pattern": "^[0-9]+x[0-9]+$"},
                lambda value: f"{value[0]}x{value[1]}")
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
