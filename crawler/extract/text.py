"""Text normalisation shared by plain-text bodies, HTML text and titles (pure).

Each line is NFC-normalised, invisible characters (zero-width space and
joiners, word joiner, BOM, soft hyphen, NUL) are dropped and every run of
Unicode whitespace becomes one space; lines are stripped, empty ones dropped,
and joined with ``"\\n"``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

__all__ = ["normalise_text"]


def normalise_text(text: str) -> str:
    """Normalise plain text the way page text is: per line, then join with "\\n"."""
    return _join_lines(text.splitlines())


#: Invisible characters removed from text: zero-width space/joiners, word
#: joiner, BOM / zero-width no-break space, soft hyphen; NUL as the HTML parser does.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\x00"))


def _normalise_line(line: str) -> str:
    if line.isascii():
        if line.isprintable() and "  " not in line and line[:1] != " " and line[-1:] != " ":
            return line  # already normalised (NUL and other controls are not printable)
        line = line.translate(_INVISIBLE)
    else:
        line = unicodedata.normalize("NFC", line.translate(_INVISIBLE))
    # str.split() splits at runs of exactly the characters regex \s matches (str.isspace), and is
    # several times faster than re.sub(r"\s+", " ", line).strip() on a paragraph.
    return " ".join(line.split())


def _join_lines(lines: Iterable[str]) -> str:
    out = []
    for line in lines:
        line = _normalise_line(line)
        if line:
            out.append(line)
    return "\n".join(out)
