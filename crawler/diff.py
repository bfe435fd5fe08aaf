"""Word-level differences between two extracted texts (pure, time-limited).

``diff_texts(old, new)`` returns a :class:`Diff` whose ``ops`` rebuild both
texts exactly: the ``0``/``-1`` ops concatenate to ``old``, the ``0``/``1``
ops to ``new``.

How: both texts are cut into tokens (words, whitespace runs, punctuation runs;
one token per CJK ideograph or kana, since those scripts do not space their
words). Each distinct token is mapped to one code point, as diff-match-patch's
``diff_linesToChars`` does for lines, the two code-point strings are diffed
with ``diff_main``, cleaned up semantically *at token level* (so an edit
never splits a word) and mapped back.

diff-match-patch gives up silently when it reaches its deadline: the part it
was working on comes back as "delete everything, insert everything", which
reads like a total rewrite. lastseen does not accept that quietly. The
bisection step is instrumented; if the deadline passed, the word diff is
thrown away and a line-level diff is computed instead, with
``fallback=True`` and ``unit="line"``. If even the line diff runs out of time
its coarse result is kept, still flagged ``fallback=True``. The worst case
therefore takes about twice ``timeout``.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from diff_match_patch import diff_match_patch

from crawler.errors import ArchiveError
from crawler.formatting import plural
from crawler.moves import MOVED_FROM, MOVED_TO, put_back, set_aside

__all__ = ["DELETE", "EQUAL", "INSERT", "KEYED_UNITS", "MOVED_FROM", "MOVED_TO", "UNITS", "Diff", "diff_texts",
           "tokenize_lines", "tokenize_words"]

DELETE, EQUAL, INSERT = -1, 0, 1

#: What a diff counts (``Diff.unit``, ``diff.unit`` of ``--json``): one row per unit, read by the run contract
#: and docs/run-json.md.
UNITS = {
    "word": "words: the word diff of a page's text",
    "line": "lines: the word diff ran out of time (`fallback: true`) and lines were diffed instead",
    "path": "JSON paths (`$.items[3].price`): a JSON document compared by key (crawler.keyed)",
    "cell": "spreadsheet cells (`Sheet1!C14`): a spreadsheet compared by key (crawler.keyed)",
}
#: Units of keyed diffs (:mod:`crawler.keyed`): insertions, deletions and ``changed_units`` count keys.
KEYED_UNITS = frozenset({"path", "cell"})

Op = tuple[int, str]


@dataclass(frozen=True)
class Diff:
    """The difference between two texts, as diff-match-patch style ops."""

    ops: tuple[Op, ...]  #: (op, text); op is -1 delete, 0 equal, 1 insert, -2/2 a paragraph moved from/to
    insertions: int  #: units (words, or lines on fallback) inserted; keyed units: keys added
    deletions: int  #: units deleted; keyed units: keys removed
    unit: str  #: "word" | "line" | "path" | "cell" (UNITS)
    fallback: bool  #: True when the word diff timed out and lines were diffed instead
    moves: int = 0  #: paragraphs that moved unchanged (crawler.moves); keyed units: keys that moved unchanged
    changed_units: int = 0  #: keyed units only: keys whose value changed

    @property
    def changed(self) -> bool:
        return any(op != EQUAL for op, _ in self.ops)

    @property
    def old(self) -> str:
        return "".join(text for op, text in self.ops if op in (DELETE, EQUAL, MOVED_FROM))

    @property
    def new(self) -> str:
        return "".join(text for op, text in self.ops if op in (INSERT, EQUAL, MOVED_TO))

    def summary(self) -> str:
        """A short English summary, e.g. ``"3 insertions, 1 deletion"`` or ``"1 cell changed, 2 added"``."""
        if self.unit in KEYED_UNITS and self.changed:
            counted = [(n, word) for n, word in ((self.changed_units, "changed"), (self.insertions, "added"),
                                                  (self.deletions, "removed"), (self.moves, "moved")) if n]
            if not counted:
                return "whitespace changes only"
            (first, word), *rest = counted
            return ", ".join([f"{plural(first, self.unit)} {word}", *(f"{n} {w}" for n, w in rest)])
        if not self.changed:
            text = "no changes"
        elif self.insertions == 0 and self.deletions == 0:
            text = "whitespace changes only"
        else:
            text = f"{plural(self.insertions, 'insertion')}, {plural(self.deletions, 'deletion')}"
        if self.moves:
            text = (f"{text}, " if self.insertions or self.deletions else "") + plural(self.moves, "paragraph") \
                + " moved"
        if self.fallback:
            text += " (line-level: word diff timed out)"
        return text

    def to_json(self) -> dict:
        out = {
            "insertions": self.insertions,
            "deletions": self.deletions,
            "unit": self.unit,
            "fallback": self.fallback,
            "moves": self.moves,
        }
        if self.unit in KEYED_UNITS:
            out["changed"] = self.changed_units
        return out

    def ops_to_json(self) -> list[list]:
        """The ops as JSON-ready ``[op, text]`` pairs (for the SQLite index)."""
        return [[op, text] for op, text in self.ops]

    @classmethod
    def ops_from_json(cls, ops: object, *, unit: str = "word", fallback: bool = False) -> Diff:
        """Rebuild a :class:`Diff` from :meth:`ops_to_json` output (counts are recomputed).

        ``unit`` and ``fallback`` come from the stored :meth:`to_json`.
        Malformed data raises :class:`~crawler.errors.ArchiveError`.
        """
        if unit not in UNITS:
            raise ArchiveError(f"stored diff has unknown unit {unit!r}; expected one of {', '.join(UNITS)}")
        if not isinstance(ops, list):
            raise ArchiveError(f"stored diff ops must be a JSON list, not {type(ops).__name__}")
        rebuilt: list[Op] = []
        for index, item in enumerate(ops):
            if (
                not isinstance(item, (list, tuple))
                or len(item) != 2
                or type(item[0]) is not int
                or item[0] not in (DELETE, EQUAL, INSERT, MOVED_FROM, MOVED_TO)
                or not isinstance(item[1], str)
            ):
                raise ArchiveError(
                    f"stored diff op #{index} is {item!r}; expected [op, text] with op -2, -1, 0, 1 or 2"
                )
            rebuilt.append((item[0], item[1]))
        return _make_diff(rebuilt, unit, bool(fallback))


# --- tokenisation ----------------------------------------------------------------


@functools.cache
def _word_re() -> re.Pattern[str]:
    # Python's \w misses combining marks that are not alphanumeric (Devanagari
    # vowel signs, Arabic harakat...). Add every mark so such words stay whole.
    ranges: list[tuple[int, int]] = []
    # Marks live in planes 0 and 1 and in the variation selectors of plane 14;
    # scanning only those keeps start-up cheap (a full scan costs ~0.4 s).
    for cp in itertools.chain(range(0x20000), range(0xE0000, 0xE1000)):
        ch = chr(cp)
        if unicodedata.category(ch)[0] == "M" and not ch.isalnum() and ch != "_":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    marks = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges
    )
    return re.compile(rf"[\w{marks}]+|\s+|[^\w\s{marks}]+")


#: Scripts written without spaces: one token per character.
_CJK_RE = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
)
_CJK_SPLIT_RE = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
    "|[^\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+"
)


def tokenize_words(text: str) -> list[str]:
    """Split ``text`` into words, whitespace runs and punctuation runs (lossless)."""
    tokens = _word_re().findall(text)
    if _CJK_RE.search(text) is None:
        return tokens
    out: list[str] = []
    for token in tokens:
        if _CJK_RE.search(token) is None:
            out.append(token)
        else:
            out.extend(_CJK_SPLIT_RE.findall(token))
    return out


_LINE_RE = re.compile(r"[^\n]*\n|[^\n]+")


def tokenize_lines(text: str) -> list[str]:
    """Split ``text`` into lines, each keeping its ``"\\n"`` (lossless)."""
    return _LINE_RE.findall(text)


_TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"word": tokenize_words, "line": tokenize_lines}


def _count_units(text: str, tokenize: Callable[[str], list[str]]) -> int:
    return sum(1 for token in tokenize(text) if not token.isspace())


def _make_diff(ops: Sequence[Op], unit: str, fallback: bool) -> Diff:
    if unit in KEYED_UNITS:   # counted by key (crawler.keyed imports this module: imported when needed)
        from crawler.keyed import count_keyed

        ops = tuple(ops)
        old = "".join(text for op, text in ops if op in (DELETE, EQUAL, MOVED_FROM))
        new = "".join(text for op, text in ops if op in (INSERT, EQUAL, MOVED_TO))
        added, removed, changed, moved = count_keyed(old, new, unit)
        return Diff(ops, added, removed, unit, fallback, moved, changed)
    tokenize = _TOKENIZERS[unit]
    insertions = sum(_count_units(text, tokenize) for op, text in ops if op == INSERT)
    deletions = sum(_count_units(text, tokenize) for op, text in ops if op == DELETE)
    return Diff(tuple(ops), insertions, deletions, unit, fallback, sum(1 for op, _ in ops if op == MOVED_TO))


# --- encoding tokens as code points ------------------------------------------------

#: Code points usable as token ids: all of Unicode but the surrogates (and 0).
_SURROGATES = range(0xD800, 0xE000)
_MAX_TOKENS = sys.maxunicode - len(_SURROGATES)


def _id_to_char(index: int) -> str:
    return chr(index if index < 0xD800 else index + len(_SURROGATES))


def _tokens_to_chars(
    tokens1: list[str], tokens2: list[str]
) -> tuple[str, str, dict[str, str]]:
    """Map each distinct token to one code point (never a surrogate); also return code point -> token."""
    table: list[str] = [""]  # id 0 unused, as in diff-match-patch
    ids: dict[str, str] = {}  # token -> its code point

    def add(token: str) -> str:
        char = ids[token] = _id_to_char(len(table))
        table.append(token)
        return char

    def encode(tokens: list[str], limit: int) -> str:
        # Ids in order of first appearance (dict.fromkeys keeps it), each token looked up once by C code.
        new = [token for token in dict.fromkeys(tokens) if token not in ids]
        if len(table) + len(new) <= limit:
            for token in new:
                add(token)
            return "".join(map(ids.__getitem__, tokens))
        chars = []
        for position, token in enumerate(tokens):
            char = ids.get(token)
            if char is None:
                if len(table) >= limit:
                    # Out of code points: the rest becomes one opaque token.
                    token = "".join(tokens[position:])
                    chars.append(ids.get(token) or add(token))
                    break
                char = add(token)
            chars.append(char)
        return "".join(chars)

    # Like diff-match-patch: two thirds of the id space for the first text.
    chars1 = encode(tokens1, _MAX_TOKENS * 2 // 3)
    chars2 = encode(tokens2, _MAX_TOKENS)
    return chars1, chars2, {char: token for token, char in ids.items()}


def _chars_to_text(ops: Iterable[Op], tokens: dict[str, str]) -> list[Op]:
    return [(op, "".join(map(tokens.__getitem__, chars))) for op, chars in ops]


# --- diffing -----------------------------------------------------------------------


class _DeadlineWatch(diff_match_patch):
    """diff-match-patch that remembers whether it ran out of time.

    ``diff_bisect`` is where the library bails out on its deadline (returning
    a coarse delete-all/insert-all); checking the clock after every call tells
    an honest result from a bail-out.
    """

    def __init__(self, timeout: float):
        super().__init__()
        self.Diff_Timeout = timeout
        self.timed_out = False

    def diff_bisect(self, text1, text2, deadline):  # noqa: D102 - see class docstring
        result = super().diff_bisect(text1, text2, deadline)
        if time.time() > deadline:
            self.timed_out = True
        return result


def _deadline(timeout: float) -> float:
    # diff-match-patch compares time.time() with the deadline; use the same clock.
    return time.time() + timeout if timeout > 0 else float(sys.maxsize)


def _diff_units(
    old: str, new: str, tokenize: Callable[[str], list[str]], timeout: float
) -> tuple[list[Op], bool]:
    """Diff two texts token by token; return (ops, timed_out)."""
    deadline = _deadline(timeout)
    chars1, chars2, table = _tokens_to_chars(tokenize(old), tokenize(new))
    dmp = _DeadlineWatch(timeout)
    ops = dmp.diff_main(chars1, chars2, False, deadline)
    dmp.diff_cleanupSemantic(ops)
    return _chars_to_text(ops, table), dmp.timed_out


def diff_texts(old: str, new: str, *, timeout: float = 5.0, moves: bool = True) -> Diff:
    """Diff ``old`` against ``new`` word by word within about ``timeout`` seconds.

    ``timeout=0`` means no limit. When the word diff runs out of time, a line
    diff (with its own ``timeout``) replaces it and the result says so
    (``fallback=True``, ``unit="line"``). With ``moves``, paragraphs that moved
    unchanged are set aside first and come back as moves (:mod:`crawler.moves`).
    """
    if timeout < 0:
        raise ValueError("timeout must be >= 0 (0 means no limit)")
    if old == new:
        return Diff(((EQUAL, old),) if old else (), 0, 0, "word", False)
    aside = set_aside(old, new) if moves else None
    if aside is not None:
        inner = diff_texts(aside.old, aside.new, timeout=timeout, moves=False)
        return _make_diff(put_back(inner.ops, aside), inner.unit, inner.fallback)
    head = tail = ""
    if min(len(old), len(new)) > _TRIM_FROM:
        # Large texts usually change in a few places: the lines they share at both
        # ends are equal whatever the diff, so only the middle is tokenized
        # (a 2 MB page no longer costs a million token objects to diff).
        p, q = _common_lines(old, new)
        head, tail = old[:p], old[len(old) - q:] if q else ""
        old, new = old[p:len(old) - q], new[p:len(new) - q]
    ops, timed_out = _diff_units(old, new, tokenize_words, timeout)
    unit = "word"
    if timed_out:
        ops, _ = _diff_units(old, new, tokenize_lines, timeout)
        unit = "line"
    return _make_diff(_framed(head, ops, tail), unit, timed_out)


#: Texts longer than this (characters) have their common leading and trailing lines set aside first.
_TRIM_FROM = 64 * 1024


def _common_lines(old: str, new: str) -> tuple[int, int]:
    """Lengths of the whole lines ``old`` and ``new`` share at their start and at their end (no overlap)."""
    n = min(len(old), len(new))
    lo, hi = 0, n
    while lo < hi:  # longest common prefix, by halving: C-speed slice compares
        mid = (lo + hi + 1) // 2
        if old[:mid] == new[:mid]:
            lo = mid
        else:
            hi = mid - 1
    prefix = old.rfind("\n", 0, lo) + 1  # back to just after a line break (0 when there is none)
    lo, hi = 0, n - prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[len(old) - mid:] == new[len(new) - mid:]:
            lo = mid
        else:
            hi = mid - 1
    start = len(old) - lo
    if lo and start > 0 and old[start - 1] != "\n":
        found = old.find("\n", start)  # forward to the start of a line
        start = len(old) if found == -1 else found + 1
    return prefix, len(old) - start


def _framed(head: str, ops: Sequence[Op], tail: str) -> list[Op]:
    """``ops`` with the equal ``head`` and ``tail`` put back, adjacent equal runs merged."""
    out: list[Op] = []
    for op, text in ((EQUAL, head), *ops, (EQUAL, tail)):
        if not text:
            continue
        if out and op == EQUAL and out[-1][0] == EQUAL:
            out[-1] = (EQUAL, out[-1][1] + text)
        else:
            out.append((op, text))
    return out
