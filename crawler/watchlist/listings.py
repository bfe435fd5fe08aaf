"""Kinds of the ``listing`` key: an index page or a sitemap whose items are watched as child targets.

``listing:`` is a mapping (or ``listing: true`` for every default) whose keys are the rows of
:data:`crawler.watchlist.fields.LISTING_FIELDS`, and its ``item:`` mapping's keys the rows of
``ITEM_FIELDS``: :class:`~crawler.watchlist.fields.Field` rows like every other key, so one table
drives the checks, the JSON Schema and the ``listing`` section of docs/watchlist.md. This module
holds the converters those rows' kinds use; what a listing does in a run is :mod:`crawler.listing`
and docs/listings.md.
"""

from __future__ import annotations

import re
from typing import Any

from .kinds import Kind, _count, _require_str
from .model import ItemOverrides, Listing
from .units import describe

__all__ = ["ITEMS", "MATCH", "MAX_ITEMS", "item_kind", "listing_kind"]

MAX_ITEMS = 10_000  # items one listing may watch (max_items' upper bound)
_MAX_MATCH = 1000  # characters of the `match` regular expression


def _match_convert(value: Any) -> str:
    pattern = _require_str(value, r'"/press/[0-9]{4}/" or "\.pdf$"')
    if not pattern.strip():
        raise ValueError("a match pattern must not be empty; leave the key out to keep every link")
    if len(pattern) > _MAX_MATCH:
        raise ValueError(f"a match pattern may be at most {_MAX_MATCH} characters, got {len(pattern)}")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(
            f"invalid regular expression {pattern!r}: {exc} (Python `re` syntax, searched in the "
            f"absolute URL; escape literal characters such as . ? with a backslash)"
        ) from None
    return pattern


ITEMS = _count(1, MAX_ITEMS)
MATCH = Kind("regular expression", _match_convert, {"type": "string", "minLength": 1, "format": "regex"})


def _convert_mapping(value: Any, fields, where: str, example: str) -> dict[str, Any]:
    """``value`` (a dict of plain values) checked against the registry rows ``fields``: converted values by key."""
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping such as {example}, got {describe(value)}")  # noqa: TRY004 (a refusal)
    by_name = {f.name: f for f in fields}
    unknown = sorted(str(k) for k in value if k not in by_name)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)} in {where}; known: {', '.join(by_name)}")
    out: dict[str, Any] = {}
    for name, raw in value.items():
        spec = by_name[name]
        try:
            if raw is None:
                if not spec.nullable:
                    raise ValueError("needs a value; remove the key to use the default")
                continue
            if spec.many:
                if not isinstance(raw, list):
                    raise ValueError(f"expected a list of {spec.kind.label}s, got {describe(raw)}")
                out[name] = tuple(spec.kind.convert(v) for v in raw)
            else:
                out[name] = spec.kind.convert(raw)
        except ValueError as exc:
            raise ValueError(f"{where}.{name}: {exc}") from None
    return out


def item_kind(fields) -> Kind:
    """The kind of ``listing.item``, checked against the rows ``fields``."""

    def convert(value: Any) -> ItemOverrides:
        return ItemOverrides(**_convert_mapping(value, fields, "listing.item", "{select: article}"))

    schema = {"type": "object", "additionalProperties": False, "properties": {f.name: f.schema() for f in fields}}
    return Kind(
        "mapping",
        convert,
        schema,
        mapping=True,
        spell=lambda v: None if v is None else {k: x for k, x in vars(v).items() if x is not None},
    )


def listing_kind(fields) -> Kind:
    """The kind of ``listing``: a mapping of the rows ``fields``, or ``true`` for all their defaults."""

    def convert(value: Any) -> Listing:
        if value is True:
            return Listing()
        if value is False:
            raise ValueError("`listing: false` is not needed: leave the key out for an ordinary target")
        return Listing(**_convert_mapping(value, fields, "listing", "{match: '/press/'} or true"))

    mapping = {"type": "object", "additionalProperties": False, "properties": {f.name: f.schema() for f in fields}}
    return Kind(
        "mapping or true",
        convert,
        {"anyOf": [mapping, {"const": True}]},
        mapping=True,
        spell=lambda v: None if v is None else {f.name: f.kind.spell(getattr(v, f.name)) for f in fields},
    )
