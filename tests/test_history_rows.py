"""Issue #17: a history page's rows written without the template (crawler/report/historyrows.py).

They are the rows ``_history.html``'s loop wrote, byte for byte: the loop, as it was, is rendered here by the
reports' environment (autoescape, ``finalize``) over rows of every shape, hostile values included.
"""

from __future__ import annotations

import itertools

from crawler.report.history import HistoryRow
from crawler.report.historyrows import HistoryRows
from crawler.report.render import _environment

#: ``_history.html``'s loop over a page's rows before #17 wrote them in Python
LOOP = (
    '{% for r in rows %}\n'
    '<tr data-capture="{{ r.capture_id }}"{% if r.compared_capture_id %} data-compared="{{ r.compared_capture_id }}"'
    '{% endif %}{% if r.has_text %} data-text="1"{% endif %} data-label="{{ r.capture_id }} · {{ r.started }} · '
    '{{ r.verdict }}">\n'
    '<td data-label="#">{{ r.number }}</td>\n'
    '<td data-label="Capture"><code>{{ r.capture_id }}</code></td>\n'
    '<td data-label="Captured (UTC)"><code>{{ r.started }}</code></td>\n'
    '<td data-label="Verdict"><span class="badge {{ r.verdict|verdict_class }}">{{ r.verdict }}</span>'
    '{% if r.alert %}<span class="flag">alerted</span>{% endif %}{% if r.reason %} <code>{{ r.reason }}</code>'
    '{% endif %}</td>\n'
    '<td data-label="HTTP">{% if r.status is none %}<span class="muted">—</span>{% else %}<code>{{ r.status }}'
    '</code>{% endif %}</td>\n'
    '<td data-label="Size">{% if r.payload_length is none %}<span class="muted">—</span>{% else %}'
    '{{ "{:,}".format(r.payload_length) }} B{% endif %}</td>\n'
    '<td data-label="WARC record" class="warc">{% if r.warc_file %}<code>{{ r.warc_file }}</code><code>offset '
    '{{ r.warc_offset }}{% if r.record_type %} · {{ r.record_type }}{% endif %}</code><code>{{ r.warc_record_id }}'
    '</code>{% else %}<span class="muted">—</span>{% endif %}</td>\n'
    '<td data-label="Change">{% if r.page %}<a class="change" href="{{ r.page }}">{{ "capture page" if '
    'r.verdict == "new" and not r.compared_capture_id else "change page" }}</a>{% else %}<span class="muted">—'
    '</span>{% endif %}</td>\n'
    '</tr>\n'
    '{% endfor %}\n'
)

HOSTILE = '"><script>alert(1)</script>\u202e\x07&amp;'


def _rows() -> list[HistoryRow]:
    shapes = itertools.product(
        ("new", "changed", "vanished", "unreachable", HOSTILE),          # verdict
        (None, "", "http-404", HOSTILE),                                  # reason
        (None, 0, 7),                                                     # compared capture
        (None, 200, 404),                                                 # HTTP status
        (None, 0, 1234567),                                               # payload length
        (None, "warcs/lastseen-20260101.warc.gz", HOSTILE),               # WARC file
        (None, "../../run/x.html", HOSTILE),                              # change page
    )
    rows = []
    for i, (verdict, reason, compared, status, length, warc, page) in enumerate(shapes, 1):
        rows.append(HistoryRow(
            event_id=i, run_id="run", verdict=verdict, reason=reason, alert=i % 3 == 0, summary=None,
            capture_id=1000 + i, compared_capture_id=compared, has_diff=i % 2, started=HOSTILE if i % 11 == 0
            else "2026-03-01T09:00:00Z", status=status, payload_length=length, warc_file=warc,
            warc_offset=i * 100, warc_record_id=f"<urn:uuid:{i}>" if i % 5 else HOSTILE,
            record_type=(None, "response", "revisit", HOSTILE)[i % 4], has_text=i % 2, number=i, page=page))
    return rows


def test_rows_are_the_templates_byte_for_byte():
    env = _environment()
    rows = _rows()
    assert len(rows) > 4000
    assert HistoryRows(env)(rows) == env.from_string(LOOP).render(rows=rows)
    assert HistoryRows(env)([]) == env.from_string(LOOP).render(rows=[]) == ""


def test_hostile_values_are_inert():
    env = _environment()
    html = HistoryRows(env)(_rows())
    assert "<script>" not in html and "\u202e" not in html and "\x07" not in html
    assert "&lt;script&gt;" in html and "\\u202e" in html and "&amp;amp;" in html
