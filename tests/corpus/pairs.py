"""The signal corpus: real pages, the before/after pairs made from them, and their table (pure).

``tests/corpus/pairs.yaml`` is the table: each pair names a page under ``tests/corpus/pages/``
(real pages from the test fixtures of packages on PyPI and npm, see ``SOURCES.md``, and a few
pages made for the corpus), a label (``change``: a careful investigator wants an alert;
``noise``: they do not), a kind, the target keys its watchlist entry needs, and the transform
that makes it, as data:

- ``base``: operations applied to the page to make the *before* (e.g. a footer visit counter
  added, so that the edit can change it); optional;
- ``edit``: operations applied to the *before* to make the *after*;
- ``swap: true``: the two are exchanged (the edit undone rather than done: a cookie banner that
  disappears, a page re-published from Latin into Cyrillic).

Operations, each a mapping whose first key names it:

- ``{replace: OLD, with: NEW}``: OLD occurs exactly once (``count: N``: exactly N times, all
  replaced);
- ``{insert: HTML, after: ANCHOR}`` or ``{insert: HTML, before: ANCHOR}``: ANCHOR occurs exactly
  once; ``after_open: TAG`` inserts just after the first ``<TAG ...>`` start tag that is not
  in a comment (``<!--[if IE]><body class="ie"><![endif]-->``);
- ``{remove: TAG, containing: SNIPPET}``: the ``TAG`` element around the one occurrence of
  SNIPPET is removed, from its start tag to its end tag;
- ``{regex: PATTERN, with: REPLACEMENT, count: N}``: every match replaced; ``count`` is the number of
  matches expected (``any``: at least one);
- ``{transliterate: sr-latin}`` or ``{transliterate: sr-cyrillic}``: Serbian text (outside tags,
  scripts, styles, comments and character references) written in the other script.

Operations work on the page's text, decoded as the page declares (UTF-8, else its ``<meta>``
charset) and encoded back the same way, so every byte the edit does not touch stays as it was.
Nothing here reads a clock or the network: ``bench/signal_report.py`` and
``tests/test_corpus.py`` build the same pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).resolve().parent
PAGES = CORPUS / "pages"
TABLE = CORPUS / "pairs.yaml"
LABELS = ("change", "noise")
PAIR_KEYS = {"id", "label", "kind", "source", "keys", "description", "base", "edit", "swap"}
#: verdicts that count as "the pair alerted" for a change (with ``event["alert"]`` true)
ALERT_VERDICTS = ("changed", "moved", "vanished")


class CorpusError(ValueError):
    """The table or a transform is wrong; the message names the pair and the operation."""


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    about: str


@dataclass(frozen=True)
class Pair:
    id: str
    label: str
    kind: str
    source: str
    keys: dict
    description: str
    base: tuple = ()
    edit: tuple = ()
    swap: bool = False


@dataclass(frozen=True)
class Built:
    before: bytes
    after: bytes
    charset: str


@dataclass(frozen=True)
class Corpus:
    kinds: dict[str, Kind]
    pairs: list[Pair] = field(default_factory=list)

    def pair(self, pair_id: str) -> Pair:
        for p in self.pairs:
            if p.id == pair_id:
                return p
        raise KeyError(pair_id)


# -- the table ------------------------------------------------------------------------------------


def load_corpus(path: Path = TABLE) -> Corpus:
    """The table, checked: unknown keys, labels, kinds and pages are errors naming the pair."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or set(doc) != {"kinds", "pairs"}:
        raise CorpusError(f"{path}: a mapping with `kinds` and `pairs`")
    kinds = {}
    for name, row in doc["kinds"].items():
        if set(row) != {"label", "about"} or row["label"] not in LABELS:
            raise CorpusError(f"kind {name}: needs label ({' or '.join(LABELS)}) and about")
        kinds[name] = Kind(name, row["label"], " ".join(str(row["about"]).split()))
    pairs, seen = [], set()
    for i, row in enumerate(doc["pairs"], 1):
        where = f"pair {i} ({row.get('id', '?')})"
        missing = {"id", "label", "kind", "source", "description", "edit"} - set(row)
        if missing or not set(row) <= PAIR_KEYS:
            raise CorpusError(f"{where}: missing {sorted(missing)} or unknown {sorted(set(row) - PAIR_KEYS)}")
        if row["id"] in seen or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", row["id"]):
            raise CorpusError(f"{where}: ids are unique, lower-case letters, digits and dashes")
        seen.add(row["id"])
        if row["label"] not in LABELS:
            raise CorpusError(f"{where}: label is one of {LABELS}, not {row['label']!r}")
        kind = kinds.get(row["kind"])
        if kind is None or kind.label != row["label"]:
            raise CorpusError(f"{where}: kind {row['kind']!r} is not a {row['label']} kind of the `kinds` table")
        if not (PAGES / row["source"]).is_file():
            raise CorpusError(f"{where}: no page tests/corpus/pages/{row['source']}")
        keys = row.get("keys") or {}
        if not isinstance(keys, dict):
            raise CorpusError(f"{where}: keys is a mapping of watchlist target keys")
        for part in ("base", "edit"):
            for n, op in enumerate(row.get(part) or (), 1):
                _check_op(op, f"{where} {part} op {n}")
        if not row["edit"]:
            raise CorpusError(f"{where}: an empty edit makes no pair")
        pairs.append(Pair(row["id"], row["label"], row["kind"], row["source"], dict(keys),
                          " ".join(str(row["description"]).split()),
                          tuple(row.get("base") or ()), tuple(row["edit"]), bool(row.get("swap", False))))
    return Corpus(kinds, pairs)


OPS = {
    "replace": ({"replace", "with"}, {"count"}),
    "insert": ({"insert"}, {"after", "before", "after_open"}),
    "remove": ({"remove", "containing"}, set()),
    "regex": ({"regex", "with", "count"}, set()),
    "transliterate": ({"transliterate"}, set()),
}


def _check_op(op: Any, where: str) -> None:
    if not isinstance(op, dict) or not op:
        raise CorpusError(f"{where}: an operation is a mapping")
    name = next(iter(op))
    if name not in OPS:
        raise CorpusError(f"{where}: unknown operation {name!r}; known: {', '.join(OPS)}")
    required, optional = OPS[name]
    if not required <= set(op) or not set(op) <= required | optional:
        raise CorpusError(f"{where}: {name} takes {sorted(required)} and optionally {sorted(optional)}")
    if name == "insert" and len(set(op) & {"after", "before", "after_open"}) != 1:
        raise CorpusError(f"{where}: insert takes one of after, before, after_open")
    if name == "transliterate" and op["transliterate"] not in SCRIPTS:
        raise CorpusError(f"{where}: transliterate to one of {', '.join(SCRIPTS)}")


# -- building a pair ------------------------------------------------------------------------------


def page_text(name: str) -> tuple[str, str]:
    """A corpus page decoded: (text, charset): UTF-8, else the charset its ``<meta>`` declares."""
    raw = (PAGES / name).read_bytes()
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        m = re.search(rb"""charset\s*=\s*["']?([\w.:-]+)""", raw[:4096], re.IGNORECASE)
        if not m:
            raise CorpusError(f"{name}: not UTF-8 and no <meta> charset") from None
        charset = m.group(1).decode("ascii").lower()
        return raw.decode(charset), charset


def build(pair: Pair) -> Built:
    """The pair's before and after bodies, in the page's own charset."""
    text, charset = page_text(pair.source)
    before = apply_ops(text, pair.base, f"{pair.id} base")
    after = apply_ops(before, pair.edit, f"{pair.id} edit")
    if after == before:
        raise CorpusError(f"{pair.id}: the edit leaves the page as it was")
    if pair.swap:
        before, after = after, before
    return Built(before.encode(charset, "xmlcharrefreplace"), after.encode(charset, "xmlcharrefreplace"), charset)


def apply_ops(text: str, ops, where: str) -> str:
    for n, op in enumerate(ops, 1):
        text = _apply(text, op, f"{where} op {n} ({next(iter(op))})")
    return text


def _once(text: str, needle: str, where: str) -> int:
    n = text.count(needle)
    if n != 1:
        raise CorpusError(f"{where}: {needle[:80]!r} occurs {n} times; an anchor occurs exactly once")
    return text.index(needle)


def _apply(text: str, op: dict, where: str) -> str:
    if "replace" in op:
        old, new, count = op["replace"], op["with"], op.get("count", 1)
        if text.count(old) != count:
            raise CorpusError(f"{where}: {old[:80]!r} occurs {text.count(old)} times, not {count}")
        return text.replace(old, new)
    if "insert" in op:
        if "after_open" in op:
            comments = [m.span() for m in re.finditer(r"<!--.*?-->", text, re.DOTALL)]
            starts = [m for m in re.finditer(rf"<{re.escape(op['after_open'])}\b[^>]*>", text, re.IGNORECASE)
                      if not any(a < m.start() < b for a, b in comments)]  # not one in <!--[if IE]>...
            if not starts:
                raise CorpusError(f"{where}: no <{op['after_open']}> start tag outside comments")
            at = starts[0].end()
        elif "after" in op:
            at = _once(text, op["after"], where) + len(op["after"])
        else:
            at = _once(text, op["before"], where)
        return text[:at] + op["insert"] + text[at:]
    if "remove" in op:
        tag, at = op["remove"], _once(text, op["containing"], where)
        starts = [m.start() for m in re.finditer(rf"<{re.escape(tag)}[\s>]", text[:at], re.IGNORECASE)]
        end = re.compile(rf"</{re.escape(tag)}\s*>", re.IGNORECASE).search(text, at)
        if not starts or not end or re.search(rf"</{re.escape(tag)}\s*>", text[starts[-1]:at], re.IGNORECASE):
            raise CorpusError(f"{where}: no <{tag}> element around {op['containing'][:60]!r}")
        return text[:starts[-1]] + text[end.end():]
    if "regex" in op:
        pattern = re.compile(op["regex"], re.DOTALL)
        found = len(pattern.findall(text))
        if (op["count"] == "any" and not found) or (op["count"] != "any" and found != op["count"]):
            raise CorpusError(f"{where}: {op['regex']!r} matches {found} times, not {op['count']}")
        return pattern.sub(op["with"], text)
    if "transliterate" in op:
        return transliterate(text, op["transliterate"])
    raise CorpusError(f"{where}: unknown operation")


# -- Serbian in either script ---------------------------------------------------------------------

_CYR = "АБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШ"
_LAT = ["A", "B", "V", "G", "D", "Đ", "E", "Ž", "Z", "I", "J", "K", "L", "Lj", "M", "N", "Nj", "O", "P", "R",
        "S", "T", "Ć", "U", "F", "H", "C", "Č", "Dž", "Š"]
_TO_LATIN = {**dict(zip(_CYR, _LAT)), **{c.lower(): lat.lower() for c, lat in zip(_CYR, _LAT)}}
_TO_CYRILLIC = {lat: c for c, lat in _TO_LATIN.items()}
_TO_CYRILLIC.update({"LJ": "Љ", "NJ": "Њ", "DŽ": "Џ"})
_LATIN_TOKEN = re.compile("LJ|Lj|lj|NJ|Nj|nj|DŽ|Dž|dž|[A-Za-zĐđŽžĆćČčŠš]")
#: markup that keeps its spelling: tags, scripts, styles, comments, character references
_PROTECTED = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>|&#?\w+;", re.DOTALL | re.IGNORECASE)


def _latin(s: str) -> str:
    out = []
    for i, ch in enumerate(s):
        lat = _TO_LATIN.get(ch, ch)
        if len(lat) == 2 and ch.isupper() and ((i + 1 < len(s) and s[i + 1].isupper())
                                               or (i and s[i - 1].isupper())):
            lat = lat.upper()  # ЉУБАВ -> LJUBAV, not LjUBAV
        out.append(lat)
    return "".join(out)


def _cyrillic(s: str) -> str:
    return _LATIN_TOKEN.sub(lambda m: _TO_CYRILLIC.get(m.group(0), m.group(0)), s)


SCRIPTS = {"sr-latin": _latin, "sr-cyrillic": _cyrillic}


def transliterate(html: str, script: str) -> str:
    """Serbian text of ``html`` in the other script; markup, scripts and references untouched."""
    convert = SCRIPTS[script]
    out, pos = [], 0
    for m in _PROTECTED.finditer(html):
        out.append(convert(html[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(convert(html[pos:]))
    return "".join(out)


# -- the table in docs/signal.md ------------------------------------------------------------------


def _keys_cell(keys: dict) -> str:
    if not keys:
        return ""
    return "`" + yaml.safe_dump(keys, default_flow_style=True, allow_unicode=True, width=10_000).strip() + "`"


def _ops_cell(pair: Pair) -> str:
    def names(ops):
        return ", ".join(next(iter(op)) + (f" {op['transliterate']}" if "transliterate" in op else "") for op in ops)

    parts = [f"base: {names(pair.base)}"] if pair.base else []
    parts.append(("edit (swapped): " if pair.swap else "edit: ") + names(pair.edit))
    return "; ".join(parts)


def _md(s: str) -> str:
    return s.replace("|", "\\|")


def markdown_tables(corpus: Corpus) -> str:
    """The kinds and the pairs as Markdown tables (docs/signal.md shows them between markers)."""
    counts: dict[str, int] = {}
    for p in corpus.pairs:
        counts[p.kind] = counts.get(p.kind, 0) + 1
    lines = ["| kind | label | pairs | what it is |", "| --- | --- | --- | --- |"]
    for k in corpus.kinds.values():
        lines.append(f"| `{k.name}` | {k.label} | {counts.get(k.name, 0)} | {_md(k.about)} |")
    total = {label: sum(p.label == label for p in corpus.pairs) for label in LABELS}
    lines += ["", f"{len(corpus.pairs)} pairs: " + ", ".join(f"{n} {label}" for label, n in total.items()) + ".", "",
              "| id | label | kind | page | target keys | transform | what differs |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for p in corpus.pairs:
        lines.append(f"| `{p.id}` | {p.label} | `{p.kind}` | `{p.source}` | {_md(_keys_cell(p.keys))} | "
                     f"{_ops_cell(p)} | {_md(p.description)} |")
    return "\n".join(lines) + "\n"


# -- watchlist keys -------------------------------------------------------------------------------


def split_keys(keys: dict, known) -> tuple[dict, dict]:
    """A pair's target keys as (those the installed watchlist schema knows, those it does not).

    Pairs name keys that lastseen may not have yet (``equate_scripts``, ``keywords``...);
    runs leave the unknown ones out, and say so, rather than have ``lastseen check`` refuse them.
    """
    kept = {k: v for k, v in keys.items() if k in known}
    return kept, {k: v for k, v in keys.items() if k not in known}
