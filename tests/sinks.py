"""A local alert sink: an HTTP endpoint on 127.0.0.1 (port 0) recording what Apprise's ``json://`` posts to it.

One copy for every test that delivers alerts (the ``alert_sink`` fixture in
``conftest.py`` wraps it; module-scoped scenarios use it as a context manager).
Every request is recorded as ``(path, headers, body)`` in :attr:`AlertSink.requests`;
:attr:`AlertSink.posts` are the bodies parsed as JSON. A path starting with
``/broken`` answers 500, so tests can watch a delivery fail.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with self.server.lock:
            self.server.requests.append((self.path, dict(self.headers), body))
        status = 500 if self.path.startswith("/broken") else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):  # keep the test output clean
        pass


class AlertSink:
    """Records alert deliveries; ``url`` is a ``json://`` Apprise URL posting to ``/hook``."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        self.server.daemon_threads = True
        self.server.requests = []
        self.server.lock = threading.Lock()
        self.port = self.server.server_address[1]
        self.url = self.json_url("/hook")
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def json_url(self, path: str = "/hook", *, userinfo: str | None = None) -> str:
        """The Apprise ``json://`` URL of ``path`` on this sink (``userinfo`` as ``user:password``)."""
        auth = f"{userinfo}@" if userinfo else ""
        return f"json://{auth}127.0.0.1:{self.port}{path}"

    @property
    def requests(self) -> list[tuple[str, dict, bytes]]:
        """Every request received, in order: ``(path, headers, raw body)``."""
        with self.server.lock:
            return list(self.server.requests)

    @property
    def posts(self) -> list:
        """The body of every request received, parsed as JSON (``{}`` for an empty body)."""
        return [json.loads(body or b"{}") for _path, _headers, body in self.requests]

    def clear(self) -> None:
        """Forget what was received so far."""
        with self.server.lock:
            self.server.requests.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
