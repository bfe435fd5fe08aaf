"""Queries of learned volatile parts (:mod:`crawler.volatile`): mixed into :class:`~crawler.store.CaptureStore`.

``captures.changed_keys`` holds, for each capture compared with a last good one,
the keys of the blocks it replaced (a JSON list; ``[]`` when nothing changed,
null when it was not compared). The ``volatile`` table holds the keys learned
per target, with the run that learned them; ``lastseen unlearn`` deletes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..volatile import WINDOW

__all__ = ["VolatileQueries"]


class VolatileQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``, ``self._reading``, ``self.transaction``)."""

    def _volatile_state(self, target: str) -> tuple[frozenset, tuple]:
        """(the keys learned for ``target``, the changed keys of its last compared captures, oldest first)."""
        learned = frozenset(k for (k,) in self.conn.execute("select key from volatile where target = ?", (target,)))
        recent = [frozenset(json.loads(keys)) for (keys,) in self.conn.execute(
            "select changed_keys from captures where target = ? and changed_keys is not null "
            "and coalesce(role, 'page') in ('page', 'refetch') order by id desc limit ?", (target, WINDOW - 1))]
        return learned, tuple(reversed(recent))

    def learn_volatile(self, target: str, keys: Iterable[str], run_id: str, at: str) -> None:
        """Remember ``keys`` as volatile for ``target``; call inside a transaction."""
        self.conn.executemany(
            "insert or ignore into volatile (target, key, run_id, learned) values (?, ?, ?, ?)",
            [(target, key, run_id, at) for key in sorted(keys)])

    def volatile_parts(self, targets: Iterable[str] | None = None) -> list[dict]:
        """The learned keys (``target``, ``key``, ``run_id``, ``learned``), of ``targets`` or all."""
        with self._reading():
            rows = self.conn.execute("select target, key, run_id, learned from volatile order by target, learned, key")
            names = [c[0] for c in rows.description]
            wanted = None if targets is None else set(targets)
            return [dict(zip(names, r)) for r in rows if wanted is None or r[0] in wanted]

    def unlearn(self, targets: Iterable[str]) -> int:
        """Forget the volatile parts of ``targets`` and the evidence they were learned from; how many were."""
        targets = list(targets)
        with self.transaction():
            marks = ",".join("?" * len(targets))
            n = self.conn.execute(f"delete from volatile where target in ({marks})", targets).rowcount
            self.conn.execute(f"update capture_rows set changed_keys = null where target in ({marks})", targets)
        return n
