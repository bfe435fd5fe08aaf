"""JSON payloads read by structure: one ``<path>: <value>`` line per leaf, keys sorted (pure).

A JSON document is compared as what it says, not as how it is laid out: it is parsed
and written out again as one line per leaf value, in document order with each object's
keys sorted, each line its JSONPath-like path, ``": "`` and the value as JSON::

    $.items[0].name: "Camera"
    $.items[0].price: 12.5
    $.meta["updated at"]: "2024-05-01"
    $.tags: []

So reordered keys or another indentation are no change, and a changed value reads as its
path (``$.items[3].price: 12.5 → 13``, :mod:`crawler.keyed`). A key that is a plain name
(``[A-Za-z_][A-Za-z0-9_]*``) is written ``.name``, any other as a JSON string in brackets,
``["a b"]``; array items are ``[index]``; an empty object or array is a leaf (``{}``,
``[]``); a document that is one scalar is ``$: 42``. Numbers are kept as written (``12.50``
stays ``12.50``; no float rounding, no limit on integer digits); strings are JSON strings,
so a newline in a value is ``\\n`` and every line is one leaf. A key that appears twice in
one object keeps both of its values, in document order (``$.a: 1``, ``$.a: 2``): nothing the
payload said is hidden, and the order is the document's, so the text is deterministic.

Bounds: the text stops at ``max_text`` characters (``truncated``); a document nested deeper
than :data:`MAX_DEPTH` (a hostile ``[[[[…`` of 100,000 levels) is not read by structure: it is
compared as text and flagged ``json-too-deep``. A body served as JSON that does not parse is
compared as text and flagged ``json-invalid``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["MAX_DEPTH", "JsonText", "is_json_type", "looks_like_json", "read_json"]

#: Deeper documents are compared as text (flag ``json-too-deep``).
MAX_DEPTH = 200

_JSON_TYPES = frozenset({"application/json", "text/json", "application/x-json"})
#: Types under which a body that parses as a JSON object or array is read as JSON (servers mislabel it).
_SNIFFED_TYPES = frozenset({"", "text/plain", "application/octet-stream"})
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Line breaks JSON leaves unescaped that some readers split lines on.
_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def is_json_type(mime: str) -> bool:
    """``application/json``, ``*/*+json`` and their aliases."""
    return mime in _JSON_TYPES or mime.endswith("+json")


def looks_like_json(mime: str, body: bytes) -> bool:
    """A body of a type that says nothing much (``text/plain``, ``application/octet-stream``, none)
    that starts like a JSON object or array: worth trying to parse."""
    if mime not in _SNIFFED_TYPES:
        return False
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"{", b"[")


@dataclass(frozen=True)
class JsonText:
    """What :func:`read_json` made of a body: the text (None when it is not read as JSON) and a flag."""

    text: str | None
    flag: str | None = None  # "json-invalid" | "json-too-deep"
    truncated: bool = False


class _Literal(str):
    """A number or constant as the document wrote it."""


class _Pairs(list):
    """An object's (key, value) pairs, duplicates kept."""


class _TooDeep(Exception):
    pass


def read_json(
    decoded: str, max_text: int | None = None, *, sniffed: bool = False
) -> JsonText:
    """The keyed text of a JSON document, or why it is compared as text.

    ``sniffed``: the type did not say JSON; only an object or array counts, and a body that
    does not parse is plain text (no flag).
    """
    try:
        value = json.loads(
            decoded.lstrip("\ufeff"),
            object_pairs_hook=_Pairs,
            parse_int=_Literal,
            parse_float=_Literal,
            parse_constant=_Literal,
        )
    except RecursionError:
        return JsonText(None, "json-too-deep")
    except ValueError:
        return JsonText(None, None if sniffed else "json-invalid")
    if sniffed and not isinstance(value, list):
        return JsonText(None)
    lines: list[str] = []
    size = 0
    try:
        for line in _leaves(value):
            size += len(line) + 1
            if max_text is not None and size - 1 > max_text:
                return JsonText("\n".join(lines), None, True)
            lines.append(line)
    except _TooDeep:
        return JsonText(None, "json-too-deep")
    return JsonText("\n".join(lines))


def _leaves(value: object):
    """``path: value`` of each leaf, in document order, keys sorted (iterative: depth costs no stack)."""
    stack: list[tuple[str, object, int]] = [("$", value, 0)]
    while stack:
        path, node, depth = stack.pop()
        if isinstance(node, _Pairs):
            if not node:
                yield f"{path}: {{}}"
                continue
            if depth >= MAX_DEPTH:
                raise _TooDeep
            # sorted is stable: a key's duplicates stay in document order
            ordered = sorted(node, key=lambda pair: pair[0])
            for key, child in ordered[::-1]:  # pushed last first: popped in order
                stack.append((path + _step(key), child, depth + 1))
        elif isinstance(node, list):
            if not node:
                yield f"{path}: []"
                continue
            if depth >= MAX_DEPTH:
                raise _TooDeep
            for index in range(len(node) - 1, -1, -1):
                stack.append((f"{path}[{index}]", node[index], depth + 1))
        else:
            yield f"{path}: {_scalar(node)}"


def _step(key: str) -> str:
    if _NAME_RE.fullmatch(key):
        return "." + key
    return "[" + json.dumps(key, ensure_ascii=False).translate(_BREAKS) + "]"


def _scalar(value: object) -> str:
    if isinstance(value, _Literal):
        return str(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False).translate(_BREAKS)
