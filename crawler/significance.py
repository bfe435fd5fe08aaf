"""How much a change matters: a score from 0 to 1 and the parts it is made of (pure).

Every ``changed`` event gets ``significance``: ``{"score": 0.0–1.0, "parts": {...}}``.
The score only decides whether the change *alerts* (``alert_when:
{min_significance: X}``; default 0, every change alerts): the verdict stays
``changed`` whenever the compared text differs, so no real change is lost to
make noise go away.

The parts (documented in docs/verdicts.md, an open list):

- ``changed_share``: the share of the compared text inserted or deleted
  (characters inserted + deleted over the length of both texts); text that only
  moved counts :data:`MOVED_WEIGHT` of its length;
- ``changed_chars``, ``moved_chars``: those characters;
- ``title_changed``: the page's ``<title>`` differs;
- ``links_removed``, ``links_added``: links of the page that went away or came;
- ``keywords_appeared``, ``keywords_disappeared``: the target's keywords that
  appeared in or disappeared from the compared text (they always alert).

The score is ``min(1, TEXT_WEIGHT × changed_share + TITLE + LINK × links_removed
(at most LINKS_MAX))``, and 1 when a keyword appeared or disappeared. So a
visit counter in a long page scores about 0.001, a rewritten paragraph of a
five-paragraph article about 0.5, a changed title 0.3 or more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .diff import Diff

__all__ = ["LINK", "LINKS_MAX", "MOVED_WEIGHT", "TEXT_WEIGHT", "TITLE", "Significance", "significance"]

TEXT_WEIGHT = 2.5     # a change of 40 % of the text scores 1
TITLE = 0.3           # a changed title
LINK = 0.1            # each link removed...
LINKS_MAX = 0.3       # ... up to this
MOVED_WEIGHT = 0.1    # a moved block counts a tenth of its length


@dataclass(frozen=True)
class Significance:
    score: float
    parts: dict

    def to_json(self) -> dict:
        return {"score": self.score, "parts": self.parts}


def significance(diff: Diff | None, old_text: str | None, new_text: str | None, *,
                 old_title: str | None = None, new_title: str | None = None,
                 old_links: Iterable[str] = (), new_links: Iterable[str] = (),
                 appeared: Iterable[str] = (), disappeared: Iterable[str] = (),
                 moved_chars: int = 0) -> Significance:
    """The significance of a change from ``old_text`` to ``new_text`` (``diff`` between them, when computed).

    ``moved_chars`` is the length of text the diff reports as moved (inserted and deleted
    elsewhere unchanged): it counts :data:`MOVED_WEIGHT` of its length, not twice.
    """
    total = len(old_text or "") + len(new_text or "")
    if diff is not None and not moved_chars:
        moved_chars = sum(len(text) for op, text in diff.ops if op == 2)   # crawler.moves.MOVED_TO
    if diff is not None:
        changed = sum(len(text) for op, text in diff.ops if op != 0)
    else:  # compared by digest (binary content): all of it changed
        changed = total
    changed = max(0, changed - 2 * moved_chars) + int(MOVED_WEIGHT * moved_chars)
    share = changed / total if total else (1.0 if diff is None else 0.0)
    old_set, new_set = set(old_links), set(new_links)
    removed, added = len(old_set - new_set), len(new_set - old_set)
    title_changed = (old_title or "") != (new_title or "")
    appeared, disappeared = sorted(set(appeared)), sorted(set(disappeared))
    score = TEXT_WEIGHT * share + (TITLE if title_changed else 0.0) + min(LINKS_MAX, LINK * removed)
    if appeared or disappeared:
        score = 1.0
    parts = {
        "changed_share": round(share, 4), "changed_chars": changed, "moved_chars": moved_chars,
        "title_changed": title_changed, "links_removed": removed, "links_added": added,
        "keywords_appeared": appeared, "keywords_disappeared": disappeared,
    }
    return Significance(round(min(1.0, score), 4), parts)
