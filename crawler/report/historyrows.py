"""The rows of a history page's table (``_history.html``), written without the template (#17).

A target's newest history page holds up to ``HISTORY_PAGE_ROWS`` (100) captures and is written again every run
that captures it: a year of daily runs of 1,000 targets writes up to 100,000 rows a run, and jinja's loop over
them (some 40 µs a row, 4 ms a page of 95) came to more CPU than the rest of the run's tail. Every value goes
through what autoescape does to a ``{{ }}`` value (the environment's ``finalize``, then
:func:`markupsafe.escape`): the rows are those the template's loop wrote, byte for byte
(tests/test_history_rows.py renders both).
"""

from __future__ import annotations

from collections.abc import Iterable

import jinja2
from markupsafe import Markup, escape

__all__ = ["HistoryRows"]

_MUTED = '<span class="muted">—</span>'


class HistoryRows:
    """``rows`` (:class:`~crawler.report.history.HistoryRow`) as the table's body: each ``<tr>...</tr>`` and a
    line end."""

    def __init__(self, env: jinja2.Environment) -> None:
        self._finalize, self._verdict_class = env.finalize, env.filters["verdict_class"]
        self._verdicts: dict[str, tuple[str, str]] = {}  # verdict -> (as a value, its badge)
        self._files: dict[str, str] = {}  # WARC file -> as a value

    def out(self, value: object) -> str:
        """The template's ``{{ value }}`` (a number's digits: what escaping gives it)."""
        if type(value) is int:
            return str(value)
        return escape(self._finalize(value))

    def _file(self, path: str) -> str:
        known = self._files.get(path)
        if known is None:
            known = self.out(path)
            if len(self._files) < 256:  # a page's rows share a few WARC files
                self._files[path] = known
        return known

    def _verdict(self, verdict: str) -> tuple[str, str]:
        known = self._verdicts.get(verdict)
        if known is None:
            out = self.out
            known = (out(verdict), f'<span class="badge {out(self._verdict_class(verdict))}">{out(verdict)}</span>')
            if len(self._verdicts) < 64:
                self._verdicts[verdict] = known
        return known

    def __call__(self, rows: Iterable) -> Markup:
        out, muted = self.out, _MUTED
        html = []
        for r in rows:
            capture = out(r.capture_id)
            verdict, badge = self._verdict(r.verdict)
            compared = f' data-compared="{out(r.compared_capture_id)}"' if r.compared_capture_id else ""
            started = out(r.started)
            if r.warc_file:
                kind = f" · {out(r.record_type)}" if r.record_type else ""
                warc = (f"<code>{self._file(r.warc_file)}</code><code>offset {out(r.warc_offset)}{kind}</code>"
                        f"<code>{out(r.warc_record_id)}</code>")
            else:
                warc = muted
            if r.page:
                label = "capture page" if r.verdict == "new" and not r.compared_capture_id else "change page"
                change = f'<a class="change" href="{out(r.page)}">{out(label)}</a>'
            else:
                change = muted
            text = ' data-text="1"' if r.has_text else ""
            flag = '<span class="flag">alerted</span>' if r.alert else ""
            reason = f" <code>{out(r.reason)}</code>" if r.reason else ""
            status = muted if r.status is None else f"<code>{out(r.status)}</code>"
            size = muted if r.payload_length is None else f"{out(format(r.payload_length, ','))} B"
            html.append(
                f'<tr data-capture="{capture}"{compared}{text} data-label="{capture} · {started} · {verdict}">\n'
                f'<td data-label="#">{out(r.number)}</td>\n'
                f'<td data-label="Capture"><code>{capture}</code></td>\n'
                f'<td data-label="Captured (UTC)"><code>{started}</code></td>\n'
                f'<td data-label="Verdict">{badge}{flag}{reason}</td>\n'
                f'<td data-label="HTTP">{status}</td>\n'
                f'<td data-label="Size">{size}</td>\n'
                f'<td data-label="WARC record" class="warc">{warc}</td>\n'
                f'<td data-label="Change">{change}</td>\n'
                '</tr>\n'
            )
        return Markup("".join(html))
