"""Reading a watchlist's YAML with line numbers, validating it and collecting every problem.

The text is composed into a node tree (which carries line marks) by :mod:`.yamlfile`;
no object is ever built by an unsafe loader. :class:`Reader` walks the tree, converts each value
through its registry row (:mod:`crawler.watchlist.fields`) and records a
:class:`~crawler.errors.Problem` -- line, target name when known, message -- for everything
wrong, so that one :class:`~crawler.errors.WatchlistError` can list them all.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import Problem
from .fields import (
    ALERTS_FIELD,
    HOST_BY_NAME,
    SETTINGS_BY_NAME,
    TARGET_BY_NAME,
    TARGET_FIELDS,
    TOP_LEVEL,
    Field,
)
from .kinds import host_key, spell_yaml
from .model import HostSettings, Settings, Target
from .units import describe
from .yamlfile import (
    _MAP_TAG,
    _MERGE_TAG,
    _NULL_TAG,
    _SEQ_TAG,
    _STR_TAG,
    MAX_DEPTH,
    LineLoader,
    _line,
    _merge_too_deep,
)

__all__ = ["Reader"]

_VALUE_TAG = "tag:yaml.org,2002:value"  # the `=` key, which PyYAML's flatten_mapping makes a string

def _node_word(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    return "a value"


def _unknown_key_message(key: str, known: list[str], where: str) -> str:
    if where.startswith("hosts:"):
        message = f"unknown key '{key}' in {where}"
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if close:
            return f"{message}; did you mean '{close[0]}'?"
        return f"{message}; only {' and '.join(known)} can be set per host"
    if key in TOP_LEVEL and where == "settings":
        return f"'{key}' is a top-level key, not a setting; move it out of 'settings:' (no indentation)"
    if key in SETTINGS_BY_NAME and key not in known:
        return f"'{key}' is a setting for all targets; move it under 'settings:'"
    if where != "a target" and key in TARGET_BY_NAME and key not in known:
        return f"'{key}' belongs to a target, not to {where}; put it in an entry under 'targets:'"
    message = f"unknown key '{key}' in {where}"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    return f"{message}; known keys: {', '.join(known)}"


class Reader:
    """Walks the composed node tree, converting values through the registry and collecting problems."""

    def __init__(self, loader: LineLoader, base: str = "."):
        self.loader = loader
        self.base = base  # the watchlist's folder: relative paths in it are relative to it
        self.problems: list[Problem] = []
        self._converted: dict[tuple[int, str, str], Any] = {}  # :meth:`convert`'s values, by field, tag and text

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
        merges = False
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE_TAG:
                merges = True
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
        if not merges and not any(k.tag == _VALUE_TAG for k, _ in node.value):
            # nothing for flatten_mapping to do (merge keys, `=` keys made strings): the keys as they are
            return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.tag == _STR_TAG}
        merged = yaml.MappingNode(node.tag, list(node.value), node.start_mark, node.end_mark, node.flow_style)
        try:
            if merges and _merge_too_deep(node):  # own keys only, then
                self.report(_line(node), target, f"merge keys ('<<: *anchor') chained more than {MAX_DEPTH} "
                                                 f"mappings deep; merge fewer anchors into each other")
            else:
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
            return describe(build(self.loader, node)) if build else f"a '{node.tag}' value"
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
                                          f"({spell_yaml(spec.spelled_default())})")
            return False, None
        if spec.many:
            if not (isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG):
                got = _node_word(node) if not isinstance(node, yaml.ScalarNode) else self.describe_scalar(node)
                hint = f"; write {spec.name}: [{spell_yaml(node.value)}]" if isinstance(node, yaml.ScalarNode) else ""
                self.report(line, target, f"{spec.name}: expected a list of {spec.kind.label}s, got {got}{hint}")
                return False, None
            items, ok = [], True
            for item in node.value:
                item_ok, value = self.item(spec, item, target)
                ok = ok and item_ok
                items.append(value)
            return ok, tuple(items)
        if spec.kind.mapping and isinstance(node, yaml.MappingNode):
            return self.mapping_value(spec, node, line, target)
        if not isinstance(node, yaml.ScalarNode):
            self.report(line, target, f"{spec.name}: expected a {spec.kind.label}, got {_node_word(node)}")
            return False, None
        return self.convert(spec, node, line, target)

    def mapping_value(self, spec: Field, node: yaml.MappingNode, line: int, target: str | None) -> tuple[bool, Any]:
        """A key whose value is a mapping (``alert_when``, ``listing``), converted as a dict by its kind."""
        ok, raw = self.plain(spec, node, target)
        if not ok:
            return False, None
        try:
            return True, spec.kind.convert(raw)
        except ValueError as exc:
            self.report(line, target, f"{spec.name}: {exc}")
            return False, None

    def plain(self, spec: Field, node: yaml.Node, target: str | None) -> tuple[bool, Any]:
        """A value inside a mapping key's value as plain Python (string keys, scalars, lists, mappings)."""
        if self.bad_tag(node, target, spec.name):
            return False, None
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, target, spec.name)
        if isinstance(node, yaml.SequenceNode):
            items = [self.plain(spec, item, target) for item in node.value]
            return all(ok for ok, _ in items), [value for _, value in items]
        raw = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                self.report(_line(key_node), target, f"{spec.name}: each key must be a plain string, e.g. "
                                                     f"{spec.name}: {spell_yaml(spec.example)}")
                return False, None
            ok, value = self.plain(spec, value_node, target)
            if not ok:
                return False, None
            raw[key_node.value] = value
        return True, raw

    def item(self, spec: Field, node: yaml.Node, target: str | None) -> tuple[bool, Any]:
        if self.bad_tag(node, target, spec.name):
            return False, None
        if not isinstance(node, yaml.ScalarNode):
            self.report(_line(node), target,
                        f"{spec.name}: each item must be a {spec.kind.label}, got {_node_word(node)}")
            return False, None
        return self.convert(spec, node, _line(node), target)

    def convert(self, spec: Field, node: yaml.ScalarNode, line: int, target: str | None) -> tuple[bool, Any]:
        # a kind's conversion depends on the scalar alone: each distinct (key, tag, text) converted once,
        # so the `every: 1d` and `tags: [police]` of 100,000 targets are parsed once each (#17)
        key = (id(spec), node.tag, node.value)
        if key in self._converted:
            return True, self._converted[key]
        ok, raw = self.scalar(node, target, spec.name)
        if not ok:
            return False, None
        try:
            value = spec.kind.convert(raw)
        except ValueError as exc:
            self.report(line, target, f"{spec.name}: {exc}")
            return False, None
        self._converted[key] = value
        return True, value

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
        self.unknown_keys(entries, list(SETTINGS_BY_NAME), "settings", None)
        values = {}
        for name, (key_node, value_node) in entries.items():
            if name in SETTINGS_BY_NAME:
                ok, value = self.field(SETTINGS_BY_NAME[name], key_node, value_node, None)
                if ok:
                    values[name] = value
        if values.get("ca_certs"):
            values["ca_certs"] = self.pem_file(values["ca_certs"], _line(entries["ca_certs"][0]), "ca_certs")
        if values.get("signing_key"):
            values["signing_key"] = self.signing_key(values["signing_key"], _line(entries["signing_key"][0]))
        if values.get("timestamp_ca"):
            values["timestamp_ca"] = self.pem_file(values["timestamp_ca"], _line(entries["timestamp_ca"][0]),
                                                   "timestamp_ca")
        if values.get("timestamp_authority") and ("timestamp_ca" not in entries
                                                or self.is_null(entries["timestamp_ca"][1])):
            self.report(_line(entries["timestamp_authority"][0]), None,
                        "timestamp_authority needs timestamp_ca: the PEM file of the authority's certificate "
                        "chain, which its tokens are checked against")
        if values.get("browser_path"):
            # relative to the watchlist's folder; whether it is a Chromium is found out when one is needed
            # (browser targets are then `unreachable` / `browser`, HTTP targets unaffected)
            values["browser_path"] = str(Path(self.base) / os.path.expanduser(values["browser_path"]))
        return Settings(**values)

    def pem_file(self, path: str, line: int, what: str) -> str | None:
        """``path`` resolved against the watchlist's folder; a problem unless it holds PEM certificates."""
        from cryptography.x509 import load_pem_x509_certificates

        resolved = Path(self.base) / os.path.expanduser(path)
        try:
            load_pem_x509_certificates(resolved.read_bytes())
        except OSError as exc:
            self.report(line, None, f"{what}: cannot read {str(resolved)!r} ({exc.strerror or exc}); give the path "
                                    f"of a PEM file, relative to the watchlist's folder or absolute")
            return None
        except ValueError:
            self.report(line, None, f"{what}: {str(resolved)!r} holds no PEM certificate; it should contain "
                                    f"'-----BEGIN CERTIFICATE-----' blocks")
            return None
        return str(resolved.resolve())

    def signing_key(self, path: str, line: int) -> str | None:
        """``path`` resolved against the watchlist's folder; a problem unless it holds an Ed25519 private key."""
        from ..errors import SigningError
        from ..signing import archive_holding, load_private_key

        resolved = Path(self.base) / os.path.expanduser(path)
        try:
            load_private_key(resolved)
        except SigningError as exc:
            self.report(line, None, f"signing_key: {exc}")
            return None
        archive = archive_holding(resolved)
        if archive is not None:
            self.report(line, None, f"signing_key: {str(resolved)!r} is inside the archive {str(archive)!r}; move "
                                    "it out (whoever holds a copy of the archive must not be able to sign for it)")
            return None
        return str(resolved.resolve())

    def hosts(self, pairs: Mapping[str, tuple[yaml.Node, yaml.Node]]) -> tuple[HostSettings, ...]:
        if "hosts" not in pairs or self.is_null(pairs["hosts"][1]):
            return ()
        node = self.mapping(pairs["hosts"][1], None, "hosts")
        if node is None:
            return ()
        out: dict[str, HostSettings] = {}
        first: dict[str, int] = {}
        for name, (key_node, value_node) in self.pairs(node, None).items():
            line = _line(key_node)
            try:
                host = host_key(name)
            except ValueError as exc:
                self.report(line, None, f"hosts: {exc}")
                continue
            if host in first:
                self.report(line, None, f"hosts: {name!r} is the same host as the entry on line {first[host]}; "
                                        f"keep one of them")
                continue
            first[host] = line
            where = f"hosts: {host}"
            if self.is_null(value_node):
                out[host] = HostSettings(host, line=line)
                continue
            mapping = self.mapping(value_node, None, where)
            if mapping is None:
                continue
            entries = self.pairs(mapping, None)
            self.unknown_keys(entries, list(HOST_BY_NAME), where, None)
            values = {}
            for field_name, (field_key, field_value) in entries.items():
                if field_name in HOST_BY_NAME:
                    ok, value = self.field(HOST_BY_NAME[field_name], field_key, field_value, None)
                    if ok:
                        values[field_name] = value
            out[host] = HostSettings(host, line=line, **values)
        return tuple(out.values())

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
        for listing in (t for t in targets if t.listing is not None):
            for other in targets:
                if other.name.startswith(f"{listing.name}/"):
                    self.report(other.line, other.name,
                                f"the name starts with '{listing.name}/', the names of the items of the listing "
                                f"on line {listing.line}; rename this target (or the listing)")
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
            ok, value = self.field(TARGET_BY_NAME["name"], *entries["name"], None)
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
        self.unknown_keys(entries, list(TARGET_BY_NAME), "a target", name)
        values: dict[str, Any] = {"every": settings.every, "fetch": settings.fetch,
                                  "confirm_after": settings.confirm_after,
                                  "equate_scripts": settings.equate_scripts, "alert_when": settings.alert_when}
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
        if values["fetch"] is None:
            values["fetch"] = settings.fetch
        for inherited in ("confirm_after", "equate_scripts", "alert_when"):
            if values[inherited] is None:
                values[inherited] = getattr(settings, inherited)
        for joined in ("ignore_text", "keywords"):  # the settings' list, then the target's own
            own = tuple(values.get(joined) or ())
            values[joined] = tuple(settings.__dict__[joined]) + tuple(v for v in own if v not in settings.__dict__[joined])
        listing = values.get("listing")
        item_fetch = listing.item.fetch if listing is not None and listing.item is not None else None
        for spec in TARGET_FIELDS:  # a listing's browser keys may be for its items (`item: {fetch: browser}`)
            if spec.mode not in (None, values["fetch"], item_fetch) and values.get(spec.name) is not None:
                also = f" (or `item: {{fetch: {spec.mode}}}` for its items)" if listing is not None else ""
                self.report(_line(entries[spec.name][0]), name,
                            f"{spec.name}: applies to targets fetched with `fetch: {spec.mode}` only, and this "
                            f"one is fetched with `{values['fetch']}`; add `fetch: {spec.mode}`{also} or remove "
                            f"'{spec.name}'")
        if len(self.problems) > before:
            return None
        return Target(name=name, line=line, **values)
