"""Folder names for targets: safe on every filesystem, unique for every target name (pure).

A target's name is the operator's (or a listing item's path): any Unicode, ``/``, ``..``, 500
characters, names that differ only by case. :func:`target_slug` turns it into a lowercase
``[a-z0-9-]`` name of at most 81 characters. A name that already is such a name (``press-releases``)
is its own slug; any other name (``Press releases``, ``a/../b``, ``ministère``, ``con``) gets a
readable stem and the first 16 hex digits of its name's SHA-256 (``press-releases-3f2a…``). The two
kinds never meet (a name of the first kind never ends in ``-`` and 16 hex digits), so two names get the
same slug only if their hashes share 64 bits. Lowercase only: two names differing by case get different
slugs on case-insensitive filesystems too.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["MAX_STEM", "target_slug"]

#: Characters of the readable stem kept before the hash.
MAX_STEM = 64

_PLAIN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_HASHED = re.compile(r".*-[0-9a-f]{16}")
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
)


def target_slug(name: str) -> str:
    """The folder name of target ``name`` (``reports/targets/<slug>/``)."""
    if (
        len(name) <= MAX_STEM
        and _PLAIN.fullmatch(name)
        and not _HASHED.fullmatch(name)
        and name not in _RESERVED
    ):
        return name
    folded = (
        unicodedata.normalize("NFKD", name)
        .encode("ascii", "ignore")
        .decode("ascii")
        .lower()
    )
    stem = (
        re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:MAX_STEM].rstrip("-") or "target"
    )
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{stem}-{digest}"
