"""``lastseen add``: one target appended to a watchlist file, every other byte of the file kept.

The file is not re-emitted by a YAML library (one that round-trips, such as ruamel.yaml, still
rewrites indentation, spacing after ``:``, quoting, CRLF line ends and the BOM): the new entry is
text inserted where the ``targets:`` list ends, found from the marks of the node tree and tokens
that PyYAML composes (the same composing as :func:`~crawler.watchlist.parse_watchlist`). The entry
follows the list's own layout: a block list gets a block entry indented as its first entry, a flow
list (``targets: [...]``) a flow mapping; an empty ``targets: []`` or ``targets:`` (null) becomes a
block list, and a file without ``targets:`` (empty, comments only, settings only) gains one at its
end. CRLF line ends and a UTF-8 BOM are kept.

Before anything is written, the options are validated by the watchlist's own kinds (the messages of
``lastseen check``), duplicates of name or URL are refused, and the whole resulting text is parsed by
:func:`~crawler.watchlist.parse_watchlist`: it must be valid and hold exactly the old targets plus the
new one. The file is then replaced atomically (a temporary file in its folder, its permissions, then
a rename), through a symlink to the file it points to.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from ..errors import LastseenError, Problem, UsageError, WatchlistError
from .fields import TARGET_BY_NAME
from .yamlfile import FastLoader, compose, decode

__all__ = ["MAX_DERIVED_NAME", "Added", "add_target", "append_entry", "name_from_url"]

#: Names derived from a URL are cut to this many characters (a ``-2``... suffix may follow).
MAX_DERIVED_NAME = 80

_UNSAFE = re.compile(r"[^\w.\-]+")
_DOTS = re.compile(r"\.{2,}")
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]*")
_PLAIN_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_BOM = "\ufeff"
_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Added:
    """What ``lastseen add`` appended: the entry's values (URL in its canonical spelling) and where."""

    path: str
    name: str
    url: str
    tags: tuple[str, ...]
    every: str | None
    fetch: str | None
    line: int  # 1-based line of the entry's first line in the written file


def _validated(key: str, option: str, value):
    """``value`` converted by the watchlist's row ``key`` (check's rule); a usage error naming ``option``."""
    try:
        return TARGET_BY_NAME[key].kind.convert(value)
    except ValueError as exc:
        raise UsageError(f"{option} {value!r}: {exc}" if option else str(exc)) from None


def _segment(text: str) -> str:
    """``text`` with every run of characters other than letters, digits, ``_``, ``.`` and ``-`` made one ``-``,
    dot runs made one dot (no ``..``), controls and format characters dropped, ``-``/``.`` stripped."""
    out = _DOTS.sub(".", _UNSAFE.sub("-", text))
    out = "".join(c for c in out if c.isprintable())
    return out.strip("-.")


def _host_words(host: str) -> str:
    """The URL's host as people read it: IDNA labels decoded where they decode, ``www.`` dropped."""
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label = label.encode("ascii").decode("idna")
            except UnicodeError:
                pass
        labels.append(label)
    shown = ".".join(labels)
    return shown[4:] if shown.startswith("www.") and len(labels) > 2 else shown


def name_from_url(url: str, taken) -> str:
    """A target name for the canonical ``url``: its host and path (``vendor.example-press-2024``), made of
    letters, digits, ``_``, ``.`` and ``-`` only, at most :data:`MAX_DERIVED_NAME` characters, and unique
    among ``taken`` (compared ignoring case) by a ``-2``, ``-3``... suffix."""
    from urllib.parse import unquote

    parts = urlsplit(url)
    host = _host_words(parts.hostname or "")
    if parts.port:
        host += f"-{parts.port}"
    path = unquote(parts.path, errors="replace") + ("-" + unquote(parts.query, errors="replace") if parts.query else "")
    base = "-".join(part for part in (_segment(host), _segment(path)) if part)
    base = base[:MAX_DERIVED_NAME].strip("-.") or "target"
    folded = {name.casefold() for name in taken}
    name, n = base, 1
    while name.casefold() in folded:
        n += 1
        suffix = f"-{n}"
        name = base[: MAX_DERIVED_NAME - len(suffix)].rstrip("-.") + suffix
    return name


def _scalar(value: str) -> str:
    """``value`` as one YAML scalar on one line: plain when nothing could misread it, else double-quoted,
    with every character that is not printable (controls, bidi and other format characters, line and
    paragraph separators, which YAML would read as line breaks) written as an escape."""
    if _PLAIN.fullmatch(value) and value.lower() not in _PLAIN_WORDS and not _looks_typed(value):
        return value
    quoted = json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar
    return "".join(c if c.isprintable() else _escape(c) for c in quoted)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _looks_typed(value: str) -> bool:
    """Would a plain ``value`` be read as something other than a string (a number, a date...)?"""
    return yaml.safe_load(value) != value


def _pairs(entry: dict) -> list[tuple[str, str]]:
    out = []
    for key, value in entry.items():
        if isinstance(value, (list, tuple)):
            out.append((key, "[" + ", ".join(_scalar(v) for v in value) + "]"))
        else:
            out.append((key, _scalar(value)))
    return out


def _end_of_content(text: str, before: int) -> int:
    """The index just after the last token (scalar, alias, bracket...) that starts before ``before``."""
    end = 0
    for token in yaml.scan(text, Loader=FastLoader or yaml.SafeLoader):
        if token.start_mark.index >= before:
            break
        if not isinstance(token, (yaml.BlockEndToken, yaml.StreamEndToken, yaml.StreamStartToken)):
            end = max(end, token.end_mark.index)
    return end


def _line_end(text: str, index: int) -> int:
    """The index after the line break ending the line that holds ``index`` (``len(text)`` on the last line);
    a line break is ``\\n``, ``\\r\\n`` or a lone ``\\r``, as YAML reads them."""
    if index > 0 and text[index - 1] in "\r\n":
        return index  # already at the start of a line (a block scalar ends with its line break)
    found = _BREAK.search(text, index)
    return len(text) if found is None else found.end()


def _block(pairs: list[tuple[str, str]], dash: int, key: int, nl: str) -> str:
    first = " " * dash + "-" + " " * max(1, key - dash - 1)
    rest = " " * max(key, dash + 2) if key > dash else " " * (dash + 2)
    lines = [(first if i == 0 else rest) + f"{k}: {v}" for i, (k, v) in enumerate(pairs)]
    return nl.join(lines) + nl


def _with_break(text: str, index: int, nl: str) -> tuple[str, int]:
    """``text`` with a line break at ``index`` (the end) when its last line has none."""
    if index == len(text) and text and not text.endswith(("\n", "\r")):
        return text + nl, index + len(nl)
    return text, index


def append_entry(text: str, entry: dict, path: str = "watchlist.yaml") -> str:
    """``text`` (a watchlist, BOM removed) with ``entry`` (key -> string or list of strings) appended to its
    ``targets:`` list. Every other character of ``text`` is kept."""
    nl = "\r\n" if "\r\n" in text else "\r" if "\r" in text and "\n" not in text else "\n"
    pairs = _pairs(entry)
    loader, root = compose(text, path)
    try:
        if root is None:  # empty, or comments only
            text, at = _with_break(text, len(text), nl)
            return _insert(text, at, "targets:" + nl + _block(pairs, 2, 4, nl))
        if not isinstance(root, yaml.MappingNode) or root.flow_style:
            raise WatchlistError(
                path,
                [
                    Problem(
                        root.start_mark.line + 1,
                        None,
                        "lastseen add needs a watchlist "
                        "written as a block mapping ('targets:' at the start of a line); "
                        "check it with `lastseen check`",
                    )
                ],
            )
        key_node, value = next(
            ((k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "targets"), (None, None)
        )
        if value is None:  # no targets: key; a new one at the end, at the top level's indentation
            text, at = _with_break(text, len(text), nl)
            indent = " " * root.start_mark.column
            return _insert(text, at, indent + "targets:" + nl + _block(pairs, len(indent) + 2, len(indent) + 4, nl))
        if isinstance(value, yaml.SequenceNode) and value.value and value.flow_style:
            end = value.value[-1].end_mark.index  # after the last entry: `, {...}` before the `]`
            flow = ", ".join(f"{k}: {v}" for k, v in pairs)
            return _insert(text, end, f", {{{flow}}}")
        if isinstance(value, yaml.SequenceNode) and value.value:
            first = value.value[0]
            dash = value.start_mark.column
            key = first.start_mark.column if isinstance(first, yaml.MappingNode) and not first.flow_style else dash + 2
            at = _line_end(text, _end_of_content(text, value.end_mark.index))
            text, at = _with_break(text, at, nl)
            return _insert(text, at, _block(pairs, dash, key, nl))
        empty = isinstance(value, yaml.SequenceNode) or (
            isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:null"
        )
        if not empty:
            raise WatchlistError(
                path,
                [Problem(value.start_mark.line + 1, None, "'targets' must be a list; check it with `lastseen check`")],
            )
        # `targets: []`, `targets: ~` or `targets:`: the value removed, a block list after the key's line
        start, stop = value.start_mark.index, value.end_mark.index
        after = _line_end(text, stop)
        rest = text[stop:after]
        if not rest.strip():  # nothing after the value on its line: drop the spaces before it too
            start = len(text[:start].rstrip(" \t"))
        text, at = _with_break(text[:start] + text[stop:], after - (stop - start), nl)
        indent = key_node.start_mark.column
        return _insert(text, at, _block(pairs, indent + 2, indent + 4, nl))
    finally:
        loader.dispose()


def _insert(text: str, at: int, block: str) -> str:
    return text[:at] + block + text[at:]


def add_target(
    path: str | os.PathLike[str],
    url: str,
    *,
    name: str | None = None,
    tags=(),
    every: str | None = None,
    fetch: str | None = None,
) -> Added:
    """Append a target to the watchlist at ``path``; nothing is written unless the result passes ``check``."""
    from . import load_watchlist, parse_watchlist

    shown = os.fspath(path)
    if not Path(shown).exists():
        raise WatchlistError(
            shown,
            [
                Problem(
                    None,
                    None,
                    "file not found; lastseen add appends to an existing "
                    "watchlist: create it first (an empty file will do: touch "
                    f"{shown}), or give its path with --watchlist",
                )
            ],
        )
    real = os.path.realpath(shown)
    try:
        data = Path(real).read_bytes()
    except OSError:
        load_watchlist(shown)  # raises the WatchlistError that says what is wrong with the file
        raise
    try:
        old_targets = parse_watchlist(data, shown).targets
    except WatchlistError:
        # empty, or no `targets:` yet: the result, checked below, is then valid; any other problem stays in
        # the result, whose check refuses it with that problem's message
        old_targets = ()
    url = _validated("url", "", url)  # its message quotes the URL
    tags = tuple(_validated("tags", "--tag", t) for t in tags)
    if every is not None:
        _validated("every", "--every", every)
    if fetch is not None:
        _validated("fetch", "--fetch", fetch)
    for t in old_targets:
        if t.url == url:
            raise UsageError(f"{url} is already watched in {shown}: target {t.name!r} (line {t.line})")
    if name is None:
        name = name_from_url(url, [t.name for t in old_targets])
    else:
        name = _validated("name", "--name", name)
    for t in old_targets:
        if t.name == name:
            raise UsageError(f"a target named {name!r} is already in {shown} (line {t.line}); choose another --name")
    entry: dict = {"name": name, "url": url}
    if tags:
        entry["tags"] = list(tags)
    if every is not None:
        entry["every"] = every
    if fetch is not None:
        entry["fetch"] = fetch
    text = decode(data, shown)
    bom = _BOM if data.startswith(_BOM.encode("utf-8")) else ""
    new_text = append_entry(text, entry, shown)
    new = parse_watchlist(new_text, shown)  # check on the result: its WatchlistError names the problem and line
    if [t.name for t in new.targets] != [t.name for t in old_targets] + [name] or new.targets[-1].url != url:
        raise LastseenError(
            f"lastseen add could not append to {shown} safely (its layout was not understood); "
            f"nothing was written: add the target by hand"
        )
    _replace(real, (bom + new_text).encode("utf-8"))
    return Added(shown, name, url, tags, every, fetch, new.targets[-1].line or 0)


def _replace(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file beside it with its permissions, then a rename."""
    folder = os.path.dirname(path) or "."
    mode = os.stat(path).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=".lastseen-add-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
