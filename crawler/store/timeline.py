"""Reads for ``lastseen diff`` and ``lastseen show``: a target's own captures, picked by id or by time."""

from __future__ import annotations

from .records import OWN_ROLES

#: A target's own captures (a probe of its host, its home page or its host's robots.txt are not).
_OWN = f"coalesce(role, 'page') in ({', '.join(repr(r) for r in OWN_ROLES)})"


class TimelineQueries:
    """Mixed into :class:`~crawler.store.CaptureStore` (``self.conn``, ``self._reading``)."""

    def target_row(self, name: str) -> dict | None:
        """The ``targets`` row of this exact name (a listing's items too: ``LISTING/KEY``), or None."""
        with self._reading():
            cur = self.conn.execute("select * from targets where name = ?", (name,))
            row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row)) if row else None

    def target_names(
        self,
        *,
        containing: str | None = None,
        first_letter: str | None = None,
        limit: int = 10_000,
    ) -> list[str]:
        """Target names the index knows, sorted, at most ``limit``: those ``containing`` a text (ASCII letters
        in any case) or starting with ``first_letter`` (either case), if asked."""
        where, args = "", []
        if containing is not None:
            where, args = "where instr(lower(name), lower(?)) > 0", [containing]
        elif first_letter is not None:
            where, args = (
                "where substr(name, 1, 1) in (?, ?)",
                [first_letter.lower(), first_letter.upper()],
            )
        with self._reading():
            cur = self.conn.execute(
                f"select name from targets {where} order by name limit ?",
                (*args, limit),
            )
            return [name for (name,) in cur]

    def own_capture(
        self,
        target: str,
        *,
        at_or_before: str | None = None,
        before_id: int | None = None,
        good: bool = False,
        with_text: bool = False,
        first: bool = False,
    ) -> dict | None:
        """One of ``target``'s own captures as a ``captures`` row: the latest (the first in time with ``first``) whose
        ``started`` is at or before ``at_or_before`` (ISO 8601 as stored), whose id is below ``before_id``,
        that is its last good capture (``good``) or has text (``with_text``), as asked; None when none is."""
        where, args = ["target = ?", _OWN], [target]
        if at_or_before is not None:
            where.append("started <= ?")
            args.append(at_or_before)
        if before_id is not None:
            where.append("id < ?")
            args.append(before_id)
        if good:
            where.append("good = 1")
        if with_text:
            where.append("text_sha256 is not null")
        way = "asc" if first else "desc"
        # In time (a clock set wrong once can make ids and times disagree) when a time is asked or the first
        # capture is; else by id, the order captures were made in.
        order = (
            f"started {way}, id {way}"
            if at_or_before is not None or first
            else f"id {way}"
        )
        sql = f"select * from captures where {' and '.join(where)} order by {order} limit 1"
        with self._reading():
            cur = self.conn.execute(sql, args)
            row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row)) if row else None

    def own_capture_by_id(self, capture_id: int) -> dict | None:
        """Capture ``capture_id`` if it is some target's own capture (else None: a probe, or no such id)."""
        with self._reading():
            cur = self.conn.execute(
                f"select * from captures where id = ? and {_OWN}", (capture_id,)
            )
            row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row)) if row else None
