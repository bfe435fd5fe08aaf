"""A change page's three views of its diff (inline, side by side, changes only), written without the template (#17).

A change page spent half its rendering in jinja's macros for these views: a call per segment, per cell and per
row, some 2 ms a page, and ``report --since 7d`` on a year-old archive writes some 500 change pages. Every value
goes through what autoescape does to a ``{{ }}`` value (the environment's ``finalize``, then
:func:`markupsafe.escape`): the HTML is what the macros wrote, byte for byte (tests/test_diff_html.py renders
both). ``detail.html`` calls them as ``diff_html.inline(...)``, ``diff_html.side_by_side(...)`` and
``diff_html.changes_only(...)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import jinja2
from markupsafe import Markup, escape

__all__ = ["DiffHtml"]

_CUT = '<span class="cut" title="unchanged text left out">…</span>'
_MOVED_LABEL = {
    "moved-from": '<span class="moved-label" dir="ltr">⇣ moved from here, unchanged:</span> ',
    "moved-to": '<span class="moved-label" dir="ltr">⇡ moved here, unchanged:</span> ',
}
_TABLE_HEAD = ('<table class="sbs">\n<thead>\n<tr><th scope="col">Before: last good capture</th>'
               '<th scope="col">After: this capture</th></tr>\n</thead>\n<tbody>\n')
_TABLE_TAIL = "</tbody>\n</table>\n"
#: each kind of change quoted in the changes-only view: the labels of its old and new side ("": not shown)
QUOTE_LABELS = {"changed": ("Before", "After"), "deleted": ("Deleted", ""), "inserted": ("", "Inserted"),
                "moved-from": ("Moved from here, unchanged", ""), "moved-to": ("", "Moved here, unchanged")}


class DiffHtml:
    """The views' HTML, escaped as the reports' environment ``env`` escapes a value."""

    def __init__(self, env: jinja2.Environment) -> None:
        self._finalize = env.finalize

    def out(self, value: object) -> str:
        """The template's ``{{ value }}``."""
        if type(value) is int:
            return str(value)
        return escape(self._finalize(value))

    def _marked(self, s) -> str:
        """A segment's text, its keywords highlighted."""
        if not s.marks:
            return self.out(s.text)
        out = self.out
        return "".join(f'<mark class="kw">{out(piece)}</mark>' if hit else out(piece) for piece, hit in s.pieces)

    def _change(self, s) -> str | None:
        """An inserted or deleted segment; None for any other kind."""
        kind = s.kind
        if kind == "ins":
            return f'<ins class="nl">{self._marked(s)}</ins>' if s.newline else f"<ins>{self._marked(s)}</ins>"
        if kind == "del":
            return f'<del class="nl">{self._marked(s)}</del>' if s.newline else f"<del>{self._marked(s)}</del>"
        return None

    def _pieces(self, segs: Sequence) -> str:
        """One side of a paragraph (:class:`~.sidebyside.Row` ``old`` or ``new``), on one line (pre-wrap)."""
        html = []
        for s in segs:
            piece = self._change(s)
            if piece is None:
                piece = _CUT if s.kind == "cut" else self._marked(s)
            html.append(piece)
        return "".join(html)

    def inline(self, segments: Sequence) -> Markup:
        """The inline view: :func:`~.segments._segments`' segments in one ``<div class="diff">``."""
        out, html = self.out, ['<div class="diff">']
        for s in segments:
            piece = self._change(s)
            if piece is None:
                kind = s.kind
                if kind == "skip":
                    piece = f'<span class="skip">{out(s.text)}</span>'
                elif kind == "moved-from":
                    piece = (f'<span class="moved-from" title="this paragraph moved, unchanged" dir="auto">'
                             f'<span dir="ltr">⇣ moved from here:</span> “{out(s.text)}”</span>\n')
                elif kind == "moved-to":
                    piece = (f'<span class="moved-to" dir="auto"><span class="moved-label" dir="ltr">⇡ moved here, '
                             f'unchanged:</span> {self._marked(s)}</span>\n')
                else:
                    piece = self._marked(s)
            html.append(piece)
        html.append("</div>\n")
        return Markup("".join(html))

    def _cell(self, segs: Sequence | None, kind: str, label: str) -> str:
        if segs is None:
            return '<td class="none"></td>'
        return f'<td dir="auto" data-label="{label}">{_MOVED_LABEL.get(kind, "")}{self._pieces(segs)}</td>'

    def side_by_side(self, rows: Sequence) -> Markup:
        """The side-by-side table of :func:`~.sidebyside.paragraph_views`' rows."""
        out, html = self.out, [_TABLE_HEAD]
        for r in rows:
            if r.kind == "skip":
                html.append(f'<tr class="row-skip"><td colspan="2"><span class="skip">… {out(format(r.lines, ","))} '
                            f'unchanged lines ({out(format(r.chars, ","))} characters) …</span></td></tr>\n')
            else:
                html.append(f'<tr class="row-{out(r.kind)}">{self._cell(r.old, r.kind, "Before")}'
                            f'{self._cell(r.new, r.kind, "After")}</tr>\n')
        html.append(_TABLE_TAIL)
        return Markup("".join(html))

    def changes_only(self, changes: Sequence[Sequence], total: int, pages: Sequence | None = None) -> Markup:
        """The changes only: each group of rows a numbered change, quotable; ``pages``: where each is (or None)."""
        out, html = self.out, ['<ol class="changes-only">\n']
        for i, group in enumerate(changes):
            n = out(i + 1)
            where = pages[i] if pages else None
            where = f' · <span class="where">{out(where)}</span>' if where else ""
            html.append(f'<li id="change-{n}">\n<h3>Change {n} of {out(total)}{where}</h3>\n')
            for r in group:
                old_label, new_label = QUOTE_LABELS[r.kind]
                html.append(f'<dl class="quote quote-{out(r.kind)}">\n')
                if r.old is not None and old_label:
                    html.append(f'<dt>{old_label}</dt><dd dir="auto">{self._pieces(r.old)}</dd>')
                if r.new is not None and new_label:
                    html.append(f'<dt>{new_label}</dt><dd dir="auto">{self._pieces(r.new)}</dd>')
                html.append("</dl>\n")
            html.append("</li>\n")
        html.append("</ol>\n")
        return Markup("".join(html))
