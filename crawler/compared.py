"""The compared text of a capture: the extracted text with its noise taken out, and its fingerprint (pure).

What a capture is compared on (and diffed, and stored as its text) is the text
:func:`crawler.extract.extract` found (main content, a selection, or the whole
page), then:

1. every match of the target's ``ignore_text`` regular expressions removed
   (``settings.ignore_text`` and the target's, joined); a line left empty goes;
2. its fingerprint taken over the text *as compared*: with ``equate_scripts: sr``
   Serbian Cyrillic is read as Latin (:func:`crawler.textforms.equated`), so a
   page re-published in the other script has the same fingerprint.

The stored text keeps its own script: the report shows each capture as it was
published, and a diff is shown in the new capture's script.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence

from .textforms import equated

__all__ = ["compared_text", "fingerprint", "remove_matches"]


@functools.lru_cache(maxsize=256)
def _patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def remove_matches(text: str, patterns: Sequence[str]) -> str:
    """``text`` without the matches of ``patterns`` (in order), line by line; lines left empty are dropped.

    Matching is per line, so a pattern never swallows the text between two of its matches
    on different lines, and the text keeps its line structure (one block a line).
    """
    if not patterns or not text:
        return text
    compiled = _patterns(tuple(patterns))
    out = []
    for line in text.split("\n"):
        for pattern in compiled:
            line = pattern.sub("", line)
        line = " ".join(line.split())
        if line:
            out.append(line)
    return "\n".join(out)


def compared_text(text: str, ignore_text: Sequence[str] = ()) -> str:
    """The extracted ``text`` as compared: ``ignore_text`` matches removed."""
    return remove_matches(text, ignore_text)


def fingerprint(text: str, equate_scripts: str | None = None) -> str:
    """The SHA-256 (hex) of the compared text, read with its scripts equated."""
    return hashlib.sha256(equated(text, equate_scripts).encode("utf-8")).hexdigest()
