"""A word diff for a terminal or a pipe (``lastseen diff`` without ``--out``).

The diff's ops become the report's segments (:mod:`crawler.report.segments`: unchanged runs collapsed
to a line or two around each change, every change kept), then either

- :func:`plain`: ``[-deleted-]{+inserted+}`` around the changes (as ``git diff --word-diff=plain``),
  for a pipe or a file; or
- :func:`styled`: a ``rich.text.Text``, deletions red and struck through, insertions green and
  underlined, collapsed runs dim, for a terminal.

Every piece of archived text is made printable first (:func:`~crawler.formatting.printable`: control
characters, ANSI escapes and bidi overrides shown as ``\\uXXXX``), and rich never parses it as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from .formatting import printable
from .report.segments import _segments

__all__ = ["DELETED", "INSERTED", "plain", "styled"]

#: rich styles of the two kinds of change.
DELETED, INSERTED, SKIPPED = "red strike", "green underline", "dim italic"


def _pieces(
    ops: Sequence[tuple[int, str]], context: int | None
) -> list[tuple[str, str]]:
    """(kind, printable text) pieces: ``equal``, ``ins``, ``del`` or ``skip``."""
    segments, _ = _segments(tuple(ops), context)
    return [(seg.kind, printable(seg.text)) for seg in segments]


def plain(ops: Sequence[tuple[int, str]], *, context: int | None) -> str:
    """The diff as text with ``[-…-]`` and ``{+…+}`` around deletions and insertions."""
    out = []
    for kind, text in _pieces(ops, context):
        if kind == "del":
            out.append(f"[-{text}-]")
        elif kind == "ins":
            out.append(f"{{+{text}+}}")
        elif kind == "skip":
            out.append(f"\n{text}\n")
        else:
            out.append(text)
    return "".join(out)


def styled(ops: Sequence[tuple[int, str]], *, context: int | None):
    """The diff as a ``rich.text.Text`` (styles, never markup)."""
    from rich.text import Text

    text = Text()
    for kind, piece in _pieces(ops, context):
        style = {"del": DELETED, "ins": INSERTED, "skip": SKIPPED}.get(kind, "")
        text.append(f"\n{piece}\n" if kind == "skip" else piece, style=style)
    return text
