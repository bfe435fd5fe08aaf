"""A keyed diff as a change page's table: key, before, after (JSON paths, spreadsheet cells).

For a diff whose unit is ``path`` or ``cell`` (:mod:`crawler.keyed`), :func:`keyed_table`
lists each key that changed value, was added or was removed, in order, for the change
page's table (``detail.html``). The values are the archived page's text: hostile, they
are escaped by the templates like any other. The table holds at most ``max_page // 2``
characters of keys and values (``settings.max_report_page``) and :data:`MAX_ROWS` rows;
each value is cut to :data:`MAX_VALUE` characters; the page says what it left out.
"""

from __future__ import annotations

from crawler.diff import KEYED_UNITS
from crawler.keyed import keyed_changes

__all__ = ["HEADINGS", "MAX_ROWS", "MAX_VALUE", "keyed_table"]

#: Rows a change page's table shows at most.
MAX_ROWS = 2000
#: Characters of a value shown (the whole value is in the index and the WARC record).
MAX_VALUE = 1000
#: The key column's heading, by unit.
HEADINGS = {"path": "Path", "cell": "Cell"}


def keyed_table(diff, max_page: int | None = None) -> dict | None:
    """``{"heading", "rows", "omitted", "moved"}`` of a keyed diff (None for any other diff); ``moved``: keys
    that moved with their value unchanged (cells of rows shifted by rows inserted or deleted above them), not listed.

    Each row: ``kind`` (``changed``, ``added``, ``removed``), ``key``, ``before`` and ``after``
    (None where there is none), ``cut`` (a value was shortened).
    """
    if diff.unit not in KEYED_UNITS:
        return None
    changes = keyed_changes(diff.old, diff.new, diff.unit)
    budget = None if max_page is None else max_page // 2
    rows: list[dict] = []
    used = 0
    for change in changes:
        before, after = _cut(change.old), _cut(change.new)
        size = len(change.key) + len(before[0] or "") + len(after[0] or "")
        if len(rows) >= MAX_ROWS or (
            budget is not None and rows and used + size > budget
        ):
            break
        used += size
        rows.append(
            {
                "kind": change.kind,
                "key": change.key,
                "before": before[0],
                "after": after[0],
                "cut": before[1] or after[1],
            }
        )
    return {
        "heading": HEADINGS[diff.unit],
        "rows": rows,
        "omitted": len(changes) - len(rows),
        "moved": diff.moves,
    }


def _cut(value: str | None) -> tuple[str | None, bool]:
    if value is None or len(value) <= MAX_VALUE:
        return value, False
    return value[:MAX_VALUE] + "\u2026", True
