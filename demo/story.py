"""The demo's web: five pages of three fictional sites, and what each of three runs finds there.

:data:`TARGETS` are the pages the demo watches; :data:`RUNS` say, run by run, what happened
to them (in words, for the terminal) and what the server answers for each path: a page of
``demo/pages/``, a status, a redirect. :class:`DemoSite` serves the current run's answers
on 127.0.0.1 (port 0), and saves the alert messages lastseen posts to it (Apprise's
``json://``) one JSON object a line in a file. Every name in the pages is made up.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

__all__ = ["RUNS", "TARGETS", "Answer", "DemoSite", "Run", "Target"]

PAGES = Path(__file__).resolve().parent / "pages"

CASE_STUDY = "/oculara/case-studies/safe-city-ravnograd"
REFERENCES = "/oculara/references/public-safety"
PRESS = "/oculara/press/2025-02-24-ravnograd-contract"
PRESS_MOVED = "/oculara/newsroom/2025/ravnograd-safe-city-contract"
TENDER = "/tenders/notices/RG-2025-014"
STATEMENT = "/ravnograd/saopstenja/bezbedan-grad"


@dataclass(frozen=True)
class Target:
    """A watched page: its watchlist name, path on the demo server, tags and other watchlist keys."""

    name: str
    path: str
    tags: tuple[str, ...]
    keys: dict[str, str] = field(default_factory=dict)


TARGETS = (
    Target("oculara-case-study", CASE_STUDY, ("vendor", "case-study")),
    Target("oculara-references", REFERENCES, ("vendor", "customers")),
    Target("oculara-press-release", PRESS, ("vendor", "press")),
    Target("ravnograd-tender", TENDER, ("procurement",)),
    # Serbian sites switch between Cyrillic and Latin script: the same words are no change.
    Target("ravnograd-statement", STATEMENT, ("city", "sr"), {"equate_scripts": "sr"}),
)


@dataclass(frozen=True)
class Answer:
    """What the server answers: a status, with a page of ``demo/pages/`` or a redirect's target path."""

    status: int
    page: str = ""
    location: str = ""


def _page(name: str) -> Answer:
    return Answer(200, name)


GONE = Answer(410, "gone.html")
NOT_FOUND = Answer(404, "not-found.html")
HOME = _page("index.html")


@dataclass(frozen=True)
class Run:
    """One run of the demo: what happened on the sites before it (in words), and the server's answers."""

    story: tuple[str, ...]
    answers: dict[str, Answer]


RUNS = (
    Run(
        (
            "Five pages are online: a vendor's case study, its references page and a press release,",
            "a tender notice and a city's statement in Serbian Cyrillic. lastseen has never seen them.",
        ),
        {
            CASE_STUDY: _page("case-study.html"),
            REFERENCES: _page("references.html"),
            PRESS: _page("press-release.html"),
            TENDER: _page("tender.html"),
            STATEMENT: _page("saopstenje.html"),
        },
    ),
    Run(
        (
            "The vendor edits its case study: 1,200 cameras become 1,950, and the paragraph on the",
            "police's use of facial recognition is removed. It takes its references page down (410 Gone).",
            "The tenders portal moves the notice's deadline from 14 March to 2 May.",
            "The city re-publishes its statement in Latin script, word for word.",
        ),
        {
            CASE_STUDY: _page("case-study-edited.html"),
            REFERENCES: GONE,
            PRESS: _page("press-release.html"),
            TENDER: _page("tender-extended.html"),
            STATEMENT: _page("saopstenje-latinica.html"),
        },
    ),
    Run(
        (
            "The references page is back. The press release moves to a new address (a 301 redirect),",
            "its text kept. The city's statement is back in Cyrillic, its cost raised from 4.8 to 6.2",
            "million euros.",
        ),
        {
            CASE_STUDY: _page("case-study-edited.html"),
            REFERENCES: _page("references.html"),
            PRESS: Answer(301, location=PRESS_MOVED),
            PRESS_MOVED: _page("press-release.html"),
            TENDER: _page("tender-extended.html"),
            STATEMENT: _page("saopstenje-izmenjeno.html"),
        },
    ),
)


class DemoSite:
    """The demo's web server on 127.0.0.1 (port 0): :attr:`run` (0, 1, 2) picks the answers of :data:`RUNS`."""

    def __init__(self, alerts_file: Path):
        self.run = 0
        self.alerts_file = alerts_file
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.site = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def alerts_url(self) -> str:
        """The Apprise URL that posts a run's alert message to this server."""
        return f"json://127.0.0.1:{self.port}/alerts"

    def answer(self, path: str) -> Answer:
        if path == "/":
            return HOME
        return RUNS[self.run].answers.get(path, NOT_FOUND)

    def save_alert(self, body: bytes) -> None:
        line = json.dumps(json.loads(body), ensure_ascii=False)
        with self._lock, self.alerts_file.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lastseen-demo/1.0"

    def do_GET(self) -> None:
        site: DemoSite = self.server.site
        answer = site.answer(self.path.split("?", 1)[0])
        body = (PAGES / answer.page).read_bytes() if answer.page else b""
        self.send_response(answer.status)
        if answer.location:
            self.send_header("Location", site.url(answer.location))
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/alerts":
            self.send_error(404)
            return
        self.server.site.save_alert(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:  # the terminal is for lastseen's output
        pass
