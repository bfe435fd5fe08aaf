"""The index rows written without the template (crawler.report.index.RowWriter, #17): the same bytes as
index.html's own row markup, for hostile names, URLs, tags, reasons and summaries, on the index and on the
list pages of a large run. Everything in a row came from an archived page or the watchlist: hostile."""

from dataclasses import replace

import pytest

from crawler.report import index as index_module
from crawler.report import write_report

from .test_report import HOSTILE_IMG, HOSTILE_SCRIPT, HOSTILE_SVG, HOSTILE_URL, T0, T1, capture, event
from .xss_payloads import PAYLOADS

BEACON = "http://127.0.0.1:9/beacon"

# Values the template's autoescape and finalize change: markup, quotes, ampersands, C0/C1 controls, a lone
# surrogate, bidi overrides, IDNA and percent-encoded hosts and paths (shown decoded), empty strings.
NASTY = [HOSTILE_SCRIPT, HOSTILE_IMG, HOSTILE_SVG, HOSTILE_URL, "a & b 'c' \"d\"", "tab\tnul\x00esc\x1b\x85",
         "lone \ud800 surrogate", "\u202eevil\u202c \u2066x\u2069 \u061c", "{{ 7*7 }} {% raw %}", "",
         *(p.markup(BEACON) for p in PAYLOADS)]
URLS = ["https://xn--mnchen-3ya.example/%E2%80%AE?q=<script>&a=\"1\"", "https://h.example/caf%C3%A9'\"><svg>",
        HOSTILE_URL, "https://user@xn--80ak6aa92e.example:8443/</code>", "http://[::1]/&amp;"]


def hostile_events(n):
    """``n`` events, most of them quiet (unchanged or new, no alert), every field hostile in turn."""
    out = []
    for i in range(n):
        nasty = NASTY[i % len(NASTY)]
        url = URLS[i % len(URLS)] + f"/{i}"
        final = [url, URLS[(i + 1) % len(URLS)], None, ""][i % 4]
        status = [200, None, 404, 301][i % 4]
        verdict = ["unchanged", "new", "unchanged", "changed", "unreachable", "unchanged"][i % 6]
        current = capture(100 + i, url, at=T1, status=status, final_url=final)
        current = replace(current, final_url=None if status is None else final)
        out.append(event(f"{nasty} target {i}", verdict, url=url, tags=[nasty, f"t{i % 3}", ""][: 1 + i % 3],
                         reason=[None, "", nasty, "http-404"][i % 4], alert=i % 11 == 5,
                         summary=[nasty, "", "no change", None][i % 4], current=current))
    return out


def write(out_dir, events, **kw):
    write_report(out_dir, title="t <b>", run_id="r", started=T0, finished=T1, events=events, generated=T1, **kw)
    return {p.name: p.read_bytes() for p in sorted(out_dir.glob("*.html"))}


@pytest.mark.parametrize("page_rows, grouped", [(500, False), (7, False), (500, True), (7, True)])
def test_rows_written_without_the_template_are_its_bytes(tmp_path, monkeypatch, page_rows, grouped):
    events = hostile_events(len(NASTY) * len(URLS))
    if grouped:  # a window report: each target's events together, its first row on each page an anchor
        events = [e for e in events for _ in range(1 + events.index(e) % 3)]
    calls = {"plain": 0}
    real = index_module.RowWriter.__call__

    def counted(self, row):
        html = real(self, row)
        calls["plain"] += html is not None
        return html

    monkeypatch.setattr(index_module.RowWriter, "__call__", counted)
    fast = write(tmp_path / "fast", events, page_rows=page_rows, grouped=grouped)
    assert calls["plain"] > len(events) // 2, "most rows have the plain shape: the test must exercise RowWriter"
    monkeypatch.setattr(index_module.RowWriter, "__call__", lambda self, row: None)   # every row by the template
    slow = write(tmp_path / "template", events, page_rows=page_rows, grouped=grouped)
    assert fast.keys() == slow.keys()
    if page_rows == 7:
        assert "unchanged-1.html" in fast and "new-1.html" in fast
    if grouped:
        assert b'class="group-start"' in fast["unchanged-1.html" if page_rows == 7 else "index.html"]
    for name in fast:
        assert fast[name] == slow[name], f"{name}: RowWriter's rows differ from the template's"
    listed = b"".join(fast.values())
    assert b"<script>alert" not in listed and b"<svg onload" not in listed and b"<img src=x" not in listed
    assert "\u202e".encode() not in listed and b"\\u202e" in listed   # bidi controls shown, never applied


def test_index_copy_keeps_a_rows_fields_and_drops_the_rest():
    """index_copy builds its copy field by field (#17): the same as dataclasses.replace of what the index drops."""
    current = capture(7, "https://a.example/", at=T1, status=404, error="gone", flags=("js-shell",),
                      tls=(False, "expired"))
    full = replace(event("t", "vanished", reason="http-404", alert=True, summary="s", current=current,
                         compared=capture(6, "https://a.example/", at=T0), old_text="old", new_text="new"),
                   confirmed=True, signals={"a": 1}, significance={"score": 1}, page={"p": 1}, event_id="r:t",
                   screenshot=b"png", compared_screenshot=b"png")
    expected = replace(full, diff=None, old_text=None, new_text=None, screenshot=None, compared_screenshot=None,
                       page=None, compared=None, current=replace(
                           current, url="", status_chain=(), warc_file=None, warc_offset=None, warc_record_id=None,
                           record_type=None, payload_sha256=None, title=None, tls_error=None,
                           screenshot_record_id=None, screenshot_missing=None, document=None))
    assert index_module.index_copy(full) == expected
