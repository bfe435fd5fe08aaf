"""How much two extracted texts share, bounded in time (pure).

Texts are compared as sets of word *shingles*: every run of :data:`SHINGLE`
consecutive words (case-folded). Two measures come from the same sets:

- :func:`resemblance`, the Jaccard index ``|A ∩ B| / |A ∪ B|``: are the two
  pages the same page? (a page and the host's error page, a page and its home page);
- :func:`containment`, ``|A ∩ B| / |A|``: how much of the *old* text ``A`` is
  still in the new one? (a page that moved keeps its text, whatever was added
  around it; a soft-404 or a signpost keeps only the site's navigation).

Only the first :data:`MAX_WORDS` words of a text are read, so one comparison
costs a few milliseconds whatever the page (a 15-million-word page included).
Texts too short to make a shingle are compared word by word.
"""

from __future__ import annotations

__all__ = ["MAX_WORDS", "SHINGLE", "Shingles", "containment", "resemblance", "shingles"]

SHINGLE = 3
MAX_WORDS = 20_000

Shingles = frozenset


def shingles(text: str | None) -> frozenset:
    """The set of ``SHINGLE``-word runs of the first ``MAX_WORDS`` words of ``text`` (case-folded)."""
    if not text:
        return frozenset()
    # split() on a prefix: a page of millions of words is never split whole.
    words = text[: MAX_WORDS * 16].casefold().split()[:MAX_WORDS]
    if len(words) < SHINGLE:
        return frozenset(words)
    return frozenset(zip(*(words[i:] for i in range(SHINGLE))))


def resemblance(a: frozenset, b: frozenset) -> float:
    """Jaccard index of two shingle sets: 1.0 for the same text, 0.0 for nothing shared (two empty texts: 1.0)."""
    if not a and not b:
        return 1.0
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def containment(old: frozenset, new: frozenset) -> float:
    """Share of ``old``'s shingles found in ``new`` (1.0 when ``old`` is empty: nothing was lost)."""
    if not old:
        return 1.0
    return len(old & new) / len(old)
