"""A page's signals and significance tables, their values written inline (#17): the cells the ``value`` macro
wrote, byte for byte, for string, empty, null, number, list and mapping values with hostile keys and text; on
a change page (``detail.html``) and a first capture's (``capture.html``)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from crawler.report import write_report
from crawler.report.render import _environment

from .test_report import HOSTILE_IMG, HOSTILE_SCRIPT, T0, T1, capture, changed_diff, event

#: the tables' rows as they were before #17 inlined the macro (``m.value(..., true)``), verbatim
ROWS = ('{% import "_macros.html" as m %}{% for key, value in values | dictsort %}'
        '<tr><th scope="row"><code>{{ key }}</code></th><td>{{ m.value(value if value is string else (value | tojson), '
        'true) }}</td></tr>\n{% endfor %}')

VALUES = {"plain": "no change", "empty": "", "none": None, "number": 0.25, "zero": 0, "true": True,
          "list": [HOSTILE_SCRIPT, 1, None], "map": {"<k>": HOSTILE_IMG, "n": [1.5]}, HOSTILE_SCRIPT: HOSTILE_IMG,
          "bidi": "\u202eevil\u202c", "control": "a\x00b\x1bc", "surrogate": "lone \ud800"}


def _table(html: str, heading: str) -> str:
    """The rows of the ``<table class="evidence signals">`` after ``<h2>{heading}</h2>``."""
    part = html.split(f"<h2>{heading}</h2>", 1)[1]
    return re.search(r'<table class="evidence signals">\n<tbody>\n(.*?)</tbody>', part, re.S).group(1)


@pytest.mark.parametrize("verdict", ["changed", "new"])
def test_signals_and_significance_cells_are_the_macros(tmp_path, verdict):
    diff = changed_diff() if verdict == "changed" else None
    current = capture(11, "https://ministry.example/press", at=T1)
    e = event("Case", verdict, diff=diff, current=current, new_text="text", old_text="old" if diff else None,
              compared=capture(10, "https://ministry.example/press", at=T0) if diff else None)
    e = replace(e, signals=dict(VALUES), significance={"score": 0.5, "parts": dict(VALUES)})
    write_report(tmp_path, title="t", run_id="r", started=T0, finished=T1, events=[e], generated=T1)
    page = next(p for p in tmp_path.glob("*.html") if p.name != "index.html").read_text()
    expected = _environment().from_string(ROWS).render(values=VALUES)
    assert expected.count("<tr>") == len(VALUES)
    assert _table(page, "Signals") == expected
    if verdict == "changed":   # a first capture's page shows no significance
        assert _table(page, "Significance") == expected
    assert HOSTILE_SCRIPT not in page and "\u202e" not in page and "\x00" not in page
