"""Issue #17: a change page's diff views written without the template (crawler/report/diffhtml.py).

They are what ``_macros.html``'s macros wrote, byte for byte: the macros, as they were, are rendered here by the
reports' environment (autoescape, ``finalize``, trim_blocks) over segments and rows of every shape: real diffs'
(inline, side by side, changes only, keywords highlighted, bounded by a page budget) and hand-made ones with
hostile text.
"""

from __future__ import annotations

import itertools

from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.diff import diff_texts
from crawler.report.diffhtml import DiffHtml
from crawler.report.render import CONTEXT_CHARS, _environment
from crawler.report.segments import _Segment, _segments, highlighted
from crawler.report.sidebyside import Row, paragraph_views

#: ``_macros.html``'s macros for the three views before #17 wrote them in Python, verbatim
MACROS = "".join((
    '{% macro marked(s) %}{% if s.marks %}{% for piece, hit in s.pieces %}{% if hit %}<mark class="kw">{{ piece }}</mark>{% else %}{{ piece }}{% endif %}{% endfor %}{% else %}{{ s.text }}{% endif %}{% endmacro %}\n'
    '\n'
    '{% macro diff_body(segments) %}\n'
    '<div class="diff">{% for s in segments %}{% if s.kind == "ins" %}<ins{% if s.newline %} class="nl"{% endif %}>{{ marked(s) }}</ins>{% elif s.kind == "del" %}<del{% if s.newline %} class="nl"{% endif %}>{{ marked(s) }}</del>{% elif s.kind == "skip" %}<span class="skip">{{ s.text }}</span>{% elif s.kind == "moved-from" %}<span class="moved-from" title="this paragraph moved, unchanged" dir="auto"><span dir="ltr">⇣ moved from here:</span> “{{ s.text }}”</span>\n'
    '{% elif s.kind == "moved-to" %}<span class="moved-to" dir="auto"><span class="moved-label" dir="ltr">⇡ moved here, unchanged:</span> {{ marked(s) }}</span>\n'
    '{% else %}{{ marked(s) }}{% endif %}{% endfor %}</div>\n'
    '{% endmacro %}\n'
    '\n'
    '{#- The pieces of one side of a paragraph (render.sidebyside.Row.old or .new), on one line: pre-wrap. -#}\n'
    '{% macro pieces(segs) %}{% for s in segs %}{% if s.kind == "ins" %}<ins{% if s.newline %} class="nl"{% endif %}>{{ marked(s) }}</ins>{% elif s.kind == "del" %}<del{% if s.newline %} class="nl"{% endif %}>{{ marked(s) }}</del>{% elif s.kind == "cut" %}<span class="cut" title="unchanged text left out">…</span>{% else %}{{ marked(s) }}{% endif %}{% endfor %}{% endmacro %}\n'
    '\n'
    '{#- A cell of the side-by-side view: dir="auto", each paragraph in its own direction (the labels, dir="ltr", are not read for it). -#}\n'
    '{% macro side_cell(segs, kind, label) %}\n'
    '{%- if segs is none %}<td class="none"></td>\n'
    '{%- else %}<td dir="auto" data-label="{{ label }}">{% if kind == "moved-from" %}<span class="moved-label" dir="ltr">⇣ moved from here, unchanged:</span> {% elif kind == "moved-to" %}<span class="moved-label" dir="ltr">⇡ moved here, unchanged:</span> {% endif %}{{ pieces(segs) }}</td>\n'
    '{%- endif %}\n'
    '{%- endmacro %}\n'
    '\n'
    '{% macro side_by_side(rows) %}\n'
    '<table class="sbs">\n'
    '<thead>\n'
    '<tr><th scope="col">Before: last good capture</th><th scope="col">After: this capture</th></tr>\n'
    '</thead>\n'
    '<tbody>\n'
    '{% for r in rows %}\n'
    '{% if r.kind == "skip" %}\n'
    '<tr class="row-skip"><td colspan="2"><span class="skip">… {{ "{:,}".format(r.lines) }} unchanged lines ({{ "{:,}".format(r.chars) }} characters) …</span></td></tr>\n'
    '{% else %}\n'
    '<tr class="row-{{ r.kind }}">{{ side_cell(r.old, r.kind, "Before") }}{{ side_cell(r.new, r.kind, "After") }}</tr>\n'
    '{% endif %}\n'
    '{% endfor %}\n'
    '</tbody>\n'
    '</table>\n'
    '{% endmacro %}\n'
    '\n'
    '{#- The changes only: each a quotable before and after. -#}\n'
    '{% set QUOTE_LABELS = {"changed": ("Before", "After"), "deleted": ("Deleted", ""), "inserted": ("", "Inserted"),\n'
    '                       "moved-from": ("Moved from here, unchanged", ""), "moved-to": ("", "Moved here, unchanged")} %}\n'
    '{% macro changes_only(changes, total, pages=none) %}\n'
    '<ol class="changes-only">\n'
    '{% for group in changes %}\n'
    '<li id="change-{{ loop.index }}">\n'
    '<h3>Change {{ loop.index }} of {{ total }}{% if pages and pages[loop.index0] %} · <span class="where">{{ pages[loop.index0] }}</span>{% endif %}</h3>\n'
    '{% for r in group %}\n'
    '<dl class="quote quote-{{ r.kind }}">\n'
    '{% if r.old is not none and QUOTE_LABELS[r.kind][0] %}<dt>{{ QUOTE_LABELS[r.kind][0] }}</dt><dd dir="auto">{{ pieces(r.old) }}</dd>{% endif %}\n'
    '{% if r.new is not none and QUOTE_LABELS[r.kind][1] %}<dt>{{ QUOTE_LABELS[r.kind][1] }}</dt><dd dir="auto">{{ pieces(r.new) }}</dd>{% endif %}\n'
    '</dl>\n'
    '{% endfor %}\n'
    '</li>\n'
    '{% endfor %}\n'
    '</ol>\n'
    '{% endmacro %}\n'
))

HOSTILE = '"><script>alert(1)</script>\u202e\x07&amp;\ud800'
_KINDS = ("equal", "ins", "del", "skip", "cut", "moved-from", "moved-to")


def _both(env):
    return DiffHtml(env), env.from_string(MACROS).module


def _spans(word):
    def spans_of(text):
        out, at = [], text.find(word)
        while at >= 0:
            out.append((at, at + len(word)))
            at = text.find(word, at + 1)
        return out
    return spans_of


def _hand_segments() -> list[_Segment]:
    texts = ("", "plain", "two\nlines\n", HOSTILE, "a <b> & \"c\" 'd'")
    marks = ((), ((0, 1),), ((0, 2), (3, 5)))
    out = []
    for kind, text, newline, mark in itertools.product(_KINDS, texts, (False, True), marks):
        mark = tuple((a, b) for a, b in mark if b <= len(text))
        out.append(_Segment(kind, text, newline, mark))
    return out


def _hand_rows() -> list[Row]:
    segs = _hand_segments()
    sides = (None, (), tuple(segs[:5]), tuple(segs[::7]), tuple(segs[3::11]))
    rows = [Row("skip", lines=n, chars=c) for n, c in ((1, 0), (12, 1234), (10**6, 10**9))]
    for kind in ("equal", "changed", "inserted", "deleted", "moved-from", "moved-to"):
        rows += [Row(kind, old, new) for old, new in itertools.product(sides, sides)]
    return rows


def test_hand_made_segments_and_rows_are_the_macros_byte_for_byte():
    env = _environment()
    new, old = _both(env)
    segs, rows = _hand_segments(), _hand_rows()
    assert len(segs) == 210 and len(rows) > 100
    assert new.inline(segs) == old.diff_body(segs)
    assert new.inline([]) == old.diff_body([])
    assert new.side_by_side(rows) == old.side_by_side(rows)
    assert new.side_by_side([]) == old.side_by_side([])
    changes = [tuple(r for r in rows if r.kind not in ("skip", "equal"))[i::9] for i in range(9)]  # never equal
    where = [None, "", "page 2", HOSTILE, "p. 7", None, "x", "", "y"]
    for pages in (None, [], where):
        total = len(changes) + 3
        assert new.changes_only(changes, total, pages) == old.changes_only(changes, total, pages)
    assert new.changes_only([], 0) == old.changes_only([], 0)


def test_hostile_text_is_inert():
    html = DiffHtml(_environment()).side_by_side(_hand_rows())
    assert "<script>" not in html and "\u202e" not in html and "\x07" not in html and "\ud800" not in html
    assert "&lt;script&gt;" in html and "\\u202e" in html and "&amp;amp;" in html


_WORDS = st.sampled_from(["alpha", "beta", "<b>", "&", "\u202e", "police", "Belgrade", "\n", "\n\n", " ", "x" * 40])
_TEXTS = st.lists(_WORDS, max_size=60).map(" ".join)


def _check(old_text: str, new_text: str, max_page: int | None, keyword: str | None) -> None:
    env = _environment()
    new, old = _both(env)
    ops = tuple(diff_texts(old_text, new_text).ops)
    spans_of = _spans(keyword) if keyword else None
    for context in (CONTEXT_CHARS, None, 20):
        segments = _segments(ops, context)[0]
        if spans_of:
            segments = highlighted(segments, spans_of)
        assert new.inline(segments) == old.diff_body(segments)
    views = paragraph_views(ops, max_page, spans_of)
    assert new.side_by_side(views["rows"]) == old.side_by_side(views["rows"])
    pages = [f"page {i}" if i % 2 else None for i in range(len(views["changes"]))]
    for where in (None, pages):
        assert (new.changes_only(views["changes"], views["changes_total"], where)
                == old.changes_only(views["changes"], views["changes_total"], where))


@settings(max_examples=150, deadline=None)
@given(_TEXTS, _TEXTS, st.sampled_from([None, 400, 40_000]), st.sampled_from([None, "police", "Belgrade"]))
@example("one\ntwo\nthree\nfour\nfive", "four\nfive\none\ntwo\nthree", None, None)  # a paragraph moved
@example("Belgrade police\n" * 300, "Belgrade police\n" * 150 + "Safe City\n" + "Belgrade police\n" * 150, 2000,
         "police")
def test_real_diffs_are_the_macros_byte_for_byte(old_text, new_text, max_page, keyword):
    _check(old_text, new_text, max_page, keyword)
