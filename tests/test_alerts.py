"""Alert messages, and their delivery through Apprise to a local sink (the ``alert_sink`` fixture)."""

import json

import apprise
import pytest

from crawler.alerts import AlertItem, AlertResult, compose_message, mask_url, send_alerts

from .site import closed_port

ITEMS = [
    AlertItem(target="Ministry press page", verdict="changed", reason=None,
              summary="3 insertions, 1 deletion", url="https://ministry.example/press"),
    AlertItem(target="Detention list", verdict="vanished", reason="http-404",
              summary="page gone", url="https://ngo.example/list"),
    AlertItem(target="Ops blog", verdict="unreachable", reason="dns", summary="",
              url="https://ops.example/"),
]


def test_compose_message_lines():
    title, body = compose_message(ITEMS, run_id="run-42", report_path="/archive/reports/run-42/index.html")
    assert "run-42" in title and "3 alerts" in title
    lines = body.splitlines()
    assert lines[0] == ("Ministry press page — changed: 3 insertions, 1 deletion — "
                        "https://ministry.example/press")
    assert lines[1] == "Detention list — vanished (http-404): page gone — https://ngo.example/list"
    assert lines[2] == "Ops blog — unreachable (dns) — https://ops.example/"
    assert lines[-1] == "Report: /archive/reports/run-42/index.html"


def test_compose_message_flattens_newlines_and_handles_no_report():
    item = AlertItem(target="evil\nReport: fake", verdict="changed", reason=None,
                     summary="a\r\nb", url="https://x.example/")
    title, body = compose_message([item], run_id="r1", report_path=None)
    assert "1 alert " in title
    assert body == "evil Report: fake — changed: a b — https://x.example/"


def test_json_sink_receives_one_message(alert_sink):
    title, body = compose_message(ITEMS, run_id="run-42", report_path="/archive/reports/run-42/index.html")
    results = send_alerts([alert_sink.json_url("/hook")], title, body, timeout=5)
    assert results == [AlertResult(sink=results[0].sink, ok=True, error=None)]
    assert len(alert_sink.requests) == 1
    path, _headers, raw = alert_sink.requests[0]
    assert path == "/hook"
    payload = json.loads(raw)
    assert payload["title"] == title
    for line in body.splitlines():
        if line:
            assert line in payload["message"]
    assert "/archive/reports/run-42/index.html" in payload["message"]
    assert results[0].to_json() == {"sink": results[0].sink, "ok": True, "error": None}


def test_refused_port_is_a_failed_result_not_an_exception(capsys):
    port = closed_port()
    [result] = send_alerts([f"json://127.0.0.1:{port}/hook"], "t", "b", timeout=2)
    assert result.ok is False
    assert result.error
    assert f"127.0.0.1:{port}" in result.sink
    out, err = capsys.readouterr()
    assert out == "" and err == ""  # Apprise stays quiet on the console


def test_server_error_is_a_failed_result(alert_sink):
    [result] = send_alerts([alert_sink.json_url("/broken")], "t", "b", timeout=5)
    assert result.ok is False
    assert result.error
    assert len(alert_sink.requests) == 1


@pytest.mark.parametrize("url", ["garbage", "", "nosuchscheme://user:hunter2@host.example/x?token=hunter2", "json://"])
def test_invalid_url_is_a_clear_error(url, capsys):
    [result] = send_alerts([url], "t", "b")
    assert result.ok is False
    assert result.error.startswith("not a valid Apprise URL: ")
    assert "hunter2" not in result.sink and "hunter2" not in result.error
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_each_sink_is_notified_separately(alert_sink):
    urls = ["garbage", f"json://127.0.0.1:{closed_port()}/hook", alert_sink.json_url("/hook")]
    results = send_alerts(urls, "t", "body", timeout=2)
    assert [r.ok for r in results] == [False, False, True]
    assert len(alert_sink.requests) == 1


def test_masking_hides_password(alert_sink):
    url = alert_sink.json_url("/hook", userinfo="user:s3cr3tpw")
    [result] = send_alerts([url], "t", "b", timeout=5)
    assert result.ok
    assert "s3cr3tpw" not in result.sink
    assert "s3cr3tpw" not in json.dumps(result.to_json())
    assert "127.0.0.1" in result.sink
    assert "s3cr3tpw" not in mask_url(url)
    # the password was still used for the request
    _path, headers, _raw = alert_sink.requests[0]
    assert headers.get("Authorization", "").startswith("Basic ")


def test_masking_hides_tokens_of_token_urls():
    token = "TIiajkdnlazkcOXrIdevi7FQ"
    masked = mask_url(f"slack://T1JJ3T3L2/A1BRTD4JD/{token}")
    assert masked.startswith("slack://")
    assert token not in masked


def test_timeout_sets_connect_and_read_timeouts(monkeypatch):
    seen = {}
    plugin_cls = type(apprise.Apprise.instantiate("json://127.0.0.1:9/x"))  # the plugin send_alerts drives

    def fake_notify(self, **kwargs):
        seen["timeouts"] = (self.socket_connect_timeout, self.socket_read_timeout)
        return True

    monkeypatch.setattr(plugin_cls, "notify", fake_notify)
    assert send_alerts(["json://127.0.0.1:9/x"], "t", "b", timeout=1.5)[0].ok
    assert seen["timeouts"] == (1.5, 1.5)
    send_alerts(["json://127.0.0.1:9/x?cto=3&rto=7"], "t", "b", timeout=1.5)
    assert seen["timeouts"] == (3.0, 7.0)


def test_send_alerts_never_raises(monkeypatch):
    plugin_cls = type(apprise.Apprise.instantiate("json://127.0.0.1:9/x"))

    def explode(self, **kwargs):
        raise RuntimeError("plugin bug")

    monkeypatch.setattr(plugin_cls, "notify", explode)
    [result] = send_alerts(["json://127.0.0.1:9/x"], "t", "b")
    assert result.ok is False
    assert "plugin bug" in result.error


def test_terminal_injection_compose_message_shows_controls_as_text():
    """#7 defect 2: escape sequences, C1 and bidi controls from a page are visible ``\\uXXXX`` in the message."""
    hostile = "[link=https://evil.example/]x[/link]\x1b]0;pwned\x07\x1b[2J\x9b31m\x7f\u202egnp.exe\u2066"
    item = AlertItem(target="t\u200f", verdict="changed", reason="r\x00", summary=f"first\n{hostile}",
                     url="https://x.example/\u061c")
    title, body = compose_message([item], run_id="run\x1b[2J", report_path="/r/\u202eindex.html",
                                  carried=[("r0\x07", item)])
    assert title == "lastseen: 2 alerts in run run\\u001b[2J"
    shown = ("[link=https://evil.example/]x[/link]\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\u007f"
             "\\u202egnp.exe\\u2066")
    line = f"t\\u200f — changed (r\\u0000): first {shown} — https://x.example/\\u061c"
    assert body.splitlines() == [
        line, "", "Found by earlier runs that did not finish (killed or interrupted), not alerted then:",
        f"[run r0\\u0007] {line}", "", "Report: /r/\\u202eindex.html",
    ]
    for raw in ("\x1b", "\x07", "\x9b", "\x7f", "\x00", "\u202e", "\u2066", "\u200f", "\u061c"):
        assert raw not in title + body


# -- #11: alerts name the report where the reader can open it ------------------------------------------------


def test_report_reference_is_absolute_or_the_published_url(tmp_path):
    from crawler.alerts import report_reference

    reports = tmp_path / "reports"
    index = reports / "20260501T060000Z-ab12" / "index.html"
    assert report_reference(index, reports) == str(index.absolute())
    assert report_reference(index, reports, "https://reports.example.org/lastseen") == (
        "https://reports.example.org/lastseen/20260501T060000Z-ab12/index.html")
    assert report_reference(reports / "run one" / "index.html", reports, "https://r.example.org/a/") == (
        "https://r.example.org/a/run%20one/index.html")
    # a report outside the published folder cannot have its URL: its path is what there is
    elsewhere = tmp_path / "elsewhere" / "index.html"
    assert report_reference(elsewhere, reports, "https://r.example.org/") == str(elsewhere.absolute())


def test_compose_message_ends_with_the_custody_chain_head():
    head = {"seq": 42, "sha256": "ab" * 32}
    _, body = compose_message(ITEMS, run_id="run-42", report_path="/r/index.html", chain_head=head)
    assert body.splitlines()[-2:] == ["Report: /r/index.html", f"Custody chain head: #42 {'ab' * 32}"]
    _, body = compose_message(ITEMS[:1], run_id="r", report_path=None, chain_head=head)
    assert body.splitlines()[-2:] == ["", f"Custody chain head: #42 {'ab' * 32}"]
