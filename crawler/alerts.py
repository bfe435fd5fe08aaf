"""Alert sinks: tell people what changed, through Apprise.

:func:`compose_message` turns a run's alerting events into one plain-text
message; :func:`send_alerts` sends it to every configured Apprise URL
(``json://``, ``mailto://``, ``slack://``, ``tgram://`` …) *separately*, so a broken
sink never hides another sink's result, and returns one :class:`AlertResult` per URL.

:func:`deliver_run_alerts` is the bookkeeping of one run: which events alert,
which alerts earlier runs still owe (found by a run that was killed or
interrupted before alerting), and marking them delivered once a sink took them.

Nothing here raises and nothing prints: failures are results (the caller stores
them on the run), Apprise's own log lines go to the ``apprise`` logger of the
``logging`` module only. Sink URLs carry tokens and passwords, so results only
ever hold the URL as Apprise's privacy mode renders it (``json://user:****@host/…``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urljoin, urlsplit

from .formatting import one_line
from .tsa import display_url

__all__ = ["AlertItem", "AlertResult", "compose_message", "deliver_run_alerts", "mask_url", "report_reference",
           "robots_line", "run_robots", "send_alerts", "timestamp_line"]


@dataclass(frozen=True)
class AlertResult:
    """What happened when notifying one sink.

    ``sink`` is the sink URL with its secrets masked; ``error`` is a one-line
    human message when ``ok`` is False, else None.
    """

    sink: str
    ok: bool
    error: str | None = None

    def to_json(self) -> dict:
        """``{"sink": ..., "ok": ..., "error": ...}``; ``error`` is always present (null when ok)."""
        return {"sink": self.sink, "ok": self.ok, "error": self.error}


@dataclass(frozen=True)
class AlertItem:
    """One event worth telling someone about."""

    target: str
    verdict: str
    reason: str | None
    summary: str
    url: str


def compose_message(
    items: Sequence[AlertItem], *, run_id: str, report_path: str | None,
    carried: Sequence[tuple[str, AlertItem]] = (),
    robots: Sequence[tuple[str, dict]] = (),
    carried_robots: Sequence[tuple[str, str, dict]] = (),
    chain_head: dict | None = None,
    timestamp: dict | None = None,
) -> tuple[str, str]:
    """Build ``(title, body)`` for a run's alerts.

    The body has one line per item, ``target — verdict (reason): summary — url``
    (``(reason)`` and ``: summary`` left out when empty), one line per host in ``robots`` (origin, the
    archive crawlers' rules its robots.txt added: settings.watch_robots), the alerts of earlier runs that
    did not finish (``carried``: ``(run, item)``; ``carried_robots``: ``(run, origin, change)``), then the
    report path, and last the custody log's head (``chain_head``: ``Custody chain head: #<seq> <sha256>``),
    so that every recipient holds a witness of the archive's state (docs/evidence.md), followed by what became
    of its RFC 3161 time-stamp (``timestamp``, ``run.timestamp``: a line when obtained or failed, none when off).
    Every field is flattened to a single line, so captured text cannot forge
    extra lines in the message, and its control and bidi characters are written
    as visible ``\\uXXXX`` (:func:`crawler.formatting.one_line`), so it cannot act on
    the terminal or mail reader that shows the message, nor reorder its text.
    """
    count = len(items) + len(carried) + len(robots) + len(carried_robots)
    noun = "alert" if count == 1 else "alerts"
    title = f"lastseen: {count} {noun} in run {_one_line(run_id)}"
    lines = [_item_line(item) for item in items]
    lines.extend(robots_line(origin, change) for origin, change in robots)
    if carried or carried_robots:
        if lines:
            lines.append("")
        lines.append("Found by earlier runs that did not finish (killed or interrupted), not alerted then:")
        lines.extend(f"[run {_one_line(run)}] {_item_line(item)}" for run, item in carried)
        lines.extend(f"[run {_one_line(run)}] {robots_line(origin, change)}" for run, origin, change in carried_robots)
    if report_path:
        lines.append("")
        lines.append(f"Report: {_one_line(report_path)}")
    if chain_head:
        if not report_path:
            lines.append("")
        lines.append(f"Custody chain head: #{int(chain_head['seq'])} {_one_line(chain_head['sha256'])}")
        line = timestamp_line(timestamp)
        if line:
            lines.append(line)
    return title, "\n".join(lines)


def timestamp_line(timestamp: dict | None) -> str | None:
    """The chain head's time-stamp as the alert message says it (none when off)."""
    if not timestamp or timestamp.get("status") not in ("ok", "failed"):
        return None
    if timestamp["status"] == "ok":
        return (f"Trusted timestamp: {_one_line(timestamp.get('gen_time') or '?')} from "
                f"{_one_line(display_url(timestamp.get('authority') or 'the authority'))} "
                f"(token {_one_line(timestamp.get('token') or '?')})")
    return f"Trusted timestamp: failed ({_one_line(timestamp.get('error') or 'unknown error')}); the next run tries again"


def robots_line(origin: str, change: dict) -> str:
    """One host whose robots.txt newly shuts archive crawlers out of watched paths (settings.watch_robots)."""
    line = f"{_one_line(origin)}/robots.txt now shuts archive crawlers out of watched paths"
    if change.get("added"):
        line += ": added " + "; ".join(_one_line(r) for r in change["added"])
    if change.get("removed"):
        line += " (removed " + "; ".join(_one_line(r) for r in change["removed"]) + ")"
    return line


def _item_line(item: AlertItem) -> str:
    line = f"{_one_line(item.target)} — {_one_line(item.verdict)}"
    if item.reason:
        line += f" ({_one_line(item.reason)})"
    if item.summary:
        line += f": {_one_line(item.summary)}"
    return line + f" — {_one_line(item.url)}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def report_reference(index: Path, reports_dir: Path, report_url: str | None = None) -> str:
    """How an alert names a run's report: ``report_url`` joined with its path inside ``reports_dir``.

    Without ``report_url`` (``settings.report_url``), the absolute path of ``index``: the message is
    read elsewhere (a phone, a colleague's inbox), where a path relative to the run's directory means
    nothing. Path segments are percent-encoded for the URL.
    """
    index = Path(index).absolute()
    if not report_url:
        return str(index)
    try:
        inside = index.relative_to(Path(reports_dir).absolute())
    except ValueError:  # not under reports_dir: the path is all there is to say
        return str(index)
    base = report_url if report_url.endswith("/") else report_url + "/"
    return urljoin(base, "/".join(quote(part) for part in inside.parts))


def deliver_run_alerts(sinks: Sequence[str], result, store, *, report: str | None = None) -> list[AlertResult]:
    """Send a run's alert message, with alerts owed by earlier runs that never finished.

    ``result`` is the run's :class:`~crawler.contract.RunResult` (its
    ``carried`` list is filled here); ``store`` the archive's
    :class:`~crawler.store.CaptureStore`. A run killed or interrupted after
    recording a change never alerted it, and the next run compares with that
    capture (so it would not alert either): such events are carried into this
    message until one delivery succeeds. With no sink, the alerts are shown by
    the CLI (and ``--json``) and count as delivered. ``report`` names the run's report in the message
    (:func:`report_reference`; default ``result.report``).
    """
    items = [
        AlertItem(target=e.target, verdict=e.verdict, reason=e.reason, summary=e.summary, url=e.url)
        for e in result.events if e.alert
    ]
    owed = store.owed_alerts(exclude_run=result.run_id)
    result.carried = [
        {"run": o["run_id"], "target": o["target"], "verdict": o["verdict"], "reason": o["reason"],
         "summary": o["summary"] or "", "url": o["url"]}
        for o in owed
    ]
    owed_robots = store.owed_robots_alerts(exclude_run=result.run_id)
    result.carried_robots = [
        {"run": o["run_id"], "url": o["url"], "added": list(o["change"].get("added") or ()),
         "removed": list(o["change"].get("removed") or ())}
        for o in owed_robots
    ]
    robots = run_robots(result)
    if not items and not owed and not robots and not owed_robots:
        return []
    results: list[AlertResult] = []
    if sinks:
        carried = [
            (c["run"], AlertItem(target=c["target"], verdict=c["verdict"], reason=c["reason"],
                                 summary=c["summary"], url=c["url"]))
            for c in result.carried
        ]
        title, body = compose_message(items, run_id=result.run_id, report_path=report or result.report,
                                      carried=carried, robots=list(robots.items()),
                                      carried_robots=[(c["run"], _origin(c["url"]), c) for c in result.carried_robots],
                                      chain_head=result.chain_head, timestamp=result.timestamp)
        results = send_alerts(list(sinks), title, body)
        if not any(r.ok for r in results):
            return results  # still owed: the next run tries again
    store.mark_delivered(run_id=result.run_id, event_ids=[o["id"] for o in owed])
    store.mark_robots_delivered(run_id=result.run_id, capture_ids=[o["id"] for o in owed_robots])
    return results


def run_robots(result) -> dict[str, dict]:
    """The hosts whose robots.txt newly shut archive crawlers out in this run: origin -> the change."""
    robots: dict[str, dict] = {}
    for e in result.events:
        if e.robots_changed:
            robots.setdefault(_origin(e.url), e.robots_changed)
    return robots


def send_alerts(
    urls: Sequence[str], title: str, body: str, *, timeout: float = 10.0
) -> list[AlertResult]:
    """Notify each Apprise URL separately; one :class:`AlertResult` per URL, in order.

    ``timeout`` bounds each connect and each read (Apprise's ``cto``/``rto``)
    unless the URL sets ``cto``/``rto`` itself. Never raises.
    """
    results = []
    with _capture_apprise_log() as log:
        for url in urls:
            results.append(_send_one(url, title, body, timeout, log))
    return results


def mask_url(url: str) -> str:
    """The sink URL with secrets hidden: Apprise's privacy rendering, else ``scheme://host/…``."""
    plugin = _instantiate(url)
    if plugin is not None:
        try:
            return plugin.url(privacy=True)
        except Exception:
            pass
    return _fallback_mask(url)


# -- internals -------------------------------------------------------------------------------

def _one_line(text: str) -> str:
    return one_line(text)


@functools.cache
def _apprise():
    """Import Apprise and load its plugins once.

    Some of Apprise's plugin modules import deprecated stdlib modules (``imghdr``
    on Python 3.11/3.12); that is Apprise's to fix, so those DeprecationWarnings
    are ignored while its plugins load, and only then (lastseen runs with
    warnings as errors in its tests).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import apprise
        from apprise.plugins import N_MGR

        N_MGR.load_modules()
    return apprise


def _instantiate(url: str):
    try:
        return _apprise().Apprise.instantiate(url, suppress_exceptions=True)
    except Exception:
        return None


def _fallback_mask(url: str) -> str:
    """``scheme://host/…`` from a URL Apprise cannot parse; never userinfo, path or query."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return "<unparseable URL>"
    if not parts.scheme or not re.fullmatch(r"[a-z][a-z0-9+.-]*", parts.scheme):
        return "<unparseable URL>"
    if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]*", host):
        host = ""
    return f"{parts.scheme}://{host}/…"


def _send_one(url: str, title: str, body: str, timeout: float, log: _LogRecorder) -> AlertResult:
    try:
        plugin = _instantiate(url)
        if plugin is None:
            masked = _fallback_mask(url)
            return AlertResult(sink=masked, ok=False, error=f"not a valid Apprise URL: {masked}")
        try:
            sink = plugin.url(privacy=True)
        except Exception:
            sink = _fallback_mask(url)
        _bound_time(plugin, url, timeout)
        log.clear()
        try:
            text = _apprise().NotifyFormat.TEXT
            ok = bool(plugin.notify(body=body, title=title, body_format=text))
        except Exception as exc:  # Apprise plugins may raise on misconfiguration
            return AlertResult(sink=sink, ok=False, error=_one_line(f"{type(exc).__name__}: {exc}"))
        if ok:
            return AlertResult(sink=sink, ok=True)
        return AlertResult(sink=sink, ok=False, error=log.summary() or "the sink did not accept the notification")
    except Exception as exc:  # last line of defence: send_alerts never raises
        return AlertResult(sink=_fallback_mask(url), ok=False, error=_one_line(f"{type(exc).__name__}: {exc}"))


def _bound_time(plugin, url: str, timeout: float) -> None:
    """Apply ``timeout`` as connect/read timeout unless the URL's ``cto``/``rto`` say otherwise."""
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:
        query = {}
    if "cto" not in query and hasattr(plugin, "socket_connect_timeout"):
        plugin.socket_connect_timeout = float(timeout)
    if "rto" not in query and hasattr(plugin, "socket_read_timeout"):
        plugin.socket_read_timeout = float(timeout)


class _LogRecorder(logging.Handler):
    """Keeps Apprise's warnings of the current send, to explain a failure."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(_one_line(record.getMessage()))
        except Exception:
            pass

    def clear(self) -> None:
        self.messages.clear()

    def summary(self) -> str:
        # Apprise logs a headline ("Failed to send JSON notification: ...") then details.
        return "; ".join(dict.fromkeys(m for m in self.messages if m))[:500]


_capture_lock = threading.Lock()


@contextlib.contextmanager
def _capture_apprise_log() -> Iterator[_LogRecorder]:
    """Attach a :class:`_LogRecorder` to the ``apprise`` logger for the duration.

    Having a handler also keeps Python's last-resort handler from printing
    Apprise's warnings on stderr when the application configured no logging;
    records still propagate to whatever the application did configure.
    """
    recorder = _LogRecorder()
    logger = logging.getLogger("apprise")
    with _capture_lock:
        logger.addHandler(recorder)
        try:
            yield recorder
        finally:
            logger.removeHandler(recorder)
