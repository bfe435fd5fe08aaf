"""A beacon on 127.0.0.1 (port 0): hostile payloads call it, so a test knows whether one ran or loaded.

A payload with id ``img-onerror`` requests ``beacon.url("img-onerror")``
(``http://127.0.0.1:<port>/hit/img-onerror``) when it runs; the beacon records
every request's path, whatever it is, and :meth:`Beacon.wait_for` waits on a
condition (no sleeping) until a given payload has called.
"""

from __future__ import annotations

import http.server
import threading
from typing import Self

_REPLY = b"<!doctype html><title>beacon</title>"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _record(self):
        self.server.beacon._heard(self.command, self.path)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(_REPLY)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(_REPLY)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._record()

    do_GET = do_HEAD = do_OPTIONS = _record


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a browser that closed a page hangs up


class Beacon:
    """Records ``(method, path)`` of every request; :meth:`url` is the address a payload calls."""

    def __init__(self) -> None:
        self._heard_so_far: list[tuple[str, str]] = []
        self._changed = threading.Condition()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.beacon = self
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, payload_id: str) -> str:
        return f"{self.origin}/hit/{payload_id}"

    def _heard(self, method: str, path: str) -> None:
        with self._changed:
            self._heard_so_far.append((method, path))
            self._changed.notify_all()

    @property
    def requests(self) -> list[tuple[str, str]]:
        with self._changed:
            return list(self._heard_so_far)

    def wait_for(self, payload_id: str, timeout: float) -> bool:
        """True as soon as ``payload_id`` has called; False if it has not within ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._called(payload_id), timeout)

    def _called(self, payload_id: str) -> bool:
        prefix = f"/hit/{payload_id}"
        return any(
            path == prefix or path[len(prefix) : len(prefix) + 1] in ("/", "?", "#")
            for _method, path in self._heard_so_far
            if path.startswith(prefix)
        )

    def clear(self) -> None:
        with self._changed:
            self._heard_so_far.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
