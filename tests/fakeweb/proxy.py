"""The fake web's server: :class:`FakeWeb` answers as an HTTP proxy on 127.0.0.1, port 0, for
every scenario's hosts (plain requests by absolute URI; ``CONNECT`` answered 200, then TLS with a
self-signed certificate), routes each request to the behaviour the current run says (:meth:`FakeWeb.step`),
and records every request with its run so tests can count fetches and probes; :func:`proxy_env`
is the environment that sends a run through it.
"""

from __future__ import annotations

import email.utils
import http.server
import io
import ssl
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..site import self_signed_cert
from .pages import render
from .scenarios import Redirect, Scenario
from .sites import PROFILES
from .template import HTML, Context, Response


@dataclass(frozen=True)
class Request:
    run: int
    scheme: str
    host: str
    path: str        # with the query
    status: int      # what was answered

    @property
    def bare_path(self) -> str:
        return urlsplit(self.path).path


class _Writer(io.RawIOBase):
    """A file that writes all it is given to a (TLS) socket."""

    def __init__(self, sock):
        self.sock = sock

    def writable(self):
        return True

    def write(self, data):
        self.sock.sendall(data)
        return len(data)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tunnel: str | None = None   # the host of a CONNECT tunnel this connection now carries

    def log_message(self, *args):
        pass

    def do_GET(self):
        web: FakeWeb = self.server.web
        if self.tunnel is not None:
            scheme, host, path = "https", self.tunnel, self.path
        else:
            parts = urlsplit(self.path)
            if parts.scheme:
                scheme, host = parts.scheme, parts.hostname or ""
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            else:
                scheme, host, path = "http", (self.headers.get("Host") or "").rsplit(":", 1)[0], self.path
        resp = web.answer(scheme, host.lower(), path)
        self._send(resp)

    def do_CONNECT(self):
        web: FakeWeb = self.server.web
        host = self.path.rsplit(":", 1)[0].lower()
        if not web.knows(host):
            self._send(Response(502, b"unknown host\n", [("Content-Type", "text/plain")]))
            self.close_connection = True
            return
        self.send_response_only(200, "Connection established")
        self.end_headers()
        try:
            tls = web.tls_context.wrap_socket(self.connection, server_side=True)
        except (OSError, ssl.SSLError):
            self.close_connection = True
            return
        # From here on this connection carries the tunnel's requests, in TLS.
        self.connection = tls
        self.rfile = tls.makefile("rb", -1)
        self.wfile = _Writer(tls)
        self.tunnel = host
        self.close_connection = False

    def finish(self):
        super().finish()
        if self.tunnel is not None:
            self.connection.close()

    def _send(self, resp: Response) -> None:
        try:
            self.send_response_only(resp.status)
            names = {k.lower() for k, _ in resp.headers}
            if "server" not in names:
                self.send_header("Server", "nginx/1.24.0")
            self.send_header("Date", email.utils.formatdate(usegmt=True))
            for k, v in resp.headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            self.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-handshake, on purpose or not


class FakeWeb:
    """Every scenario's host behind one proxy on 127.0.0.1, port 0; :meth:`step` selects the run."""

    def __init__(self, scenarios: list[Scenario], *, tls_dir: Path):
        self.scenarios = {s.id: s for s in scenarios}
        self.hosts: dict[str, Scenario] = {}
        for s in scenarios:
            self.hosts[s.host] = s
            for r in s.redirects():
                h = urlsplit(r.location).hostname
                if h:
                    self.hosts[h] = s
        self.lock = threading.Lock()
        self.run = 0
        self.requests: list[Request] = []
        self._counts: Counter = Counter()   # (run, host, bare path) -> requests so far
        cert, key = self_signed_cert(Path(tls_dir))
        self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls_context.load_cert_chain(cert, key)
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.web = self
        self.port = self.server.server_address[1]
        self.proxy = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # -- control

    def step(self, n: int) -> None:
        """Serve run ``n`` (1-based) of every scenario from now on."""
        with self.lock:
            self.run = n

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- what was asked

    def requests_in(self, run: int, host: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.run == run and (host is None or r.host == host)]

    def hits(self, run: int, host: str, path: str) -> int:
        """Requests of ``path`` (query ignored) on ``host`` in ``run``, http and https together."""
        bare = urlsplit(path).path
        return sum(1 for r in self.requests_in(run, host) if r.bare_path == bare)

    def probes(self, run: int, scenario: Scenario) -> list[Request]:
        """Requests in ``run`` to the scenario's hosts for anything but its target, ``/``, ``/robots.txt`` and
        redirect targets."""
        known = {(scenario.host, scenario.path)}
        for r in scenario.redirects():
            parts = urlsplit(r.location)
            known.add((parts.hostname or scenario.host, parts.path or "/"))
        return [r for r in self.requests_in(run) if self.hosts.get(r.host) is scenario
                and r.bare_path not in ("/", "/robots.txt") and (r.host, r.bare_path) not in known]

    # -- answering

    def knows(self, host: str) -> bool:
        return host in self.hosts

    def answer(self, scheme: str, host: str, path: str) -> Response:
        scenario = self.hosts.get(host)
        bare = urlsplit(path).path
        with self.lock:
            run = self.run
            self._counts[(run, host, bare)] += 1
            nth = self._counts[(run, host, bare)]
        if scenario is None:
            resp = Response(502, f"the fake web has no host {host!r}\n".encode(), [("Content-Type", "text/plain")])
        else:
            resp = self._route(scenario, run, nth, scheme, host, path)
        with self.lock:
            self.requests.append(Request(run, scheme, host, path, resp.status))
        return resp

    def _route(self, s: Scenario, run: int, nth: int, scheme: str, host: str, path: str) -> Response:
        profile = PROFILES[s.site]
        ctx = Context(profile, profile.articles[s.article], scheme, host, path, s.path)
        bare = urlsplit(path).path
        current = s.run(max(run, 1))
        if host == s.host and bare == s.path and scheme == "http":
            item = current.serve[min(nth, len(current.serve)) - 1]
            if isinstance(item, Redirect):
                return Response(item.status, b"", [("Location", item.location), ("Content-Type", HTML)])
            return render(item, ctx)
        # Redirect targets of this run or an earlier one (the latest wins).
        for r in reversed([r for rn in s.runs[:max(run, 1)] for r in rn.serve if isinstance(r, Redirect)]):
            parts = urlsplit(r.location)
            if (parts.hostname or host) == host and (parts.path or "/") == bare and (parts.scheme or scheme) == scheme:
                if r.serves is not None:
                    return render(r.serves, ctx)
                break
        if bare == "/":
            return render("home", ctx)
        if bare.startswith("/login"):
            return render("login", ctx)
        if bare.startswith("/search"):
            return render("search", ctx)
        return render(s.unknown, ctx)


def proxy_env(web: FakeWeb) -> dict[str, str | None]:
    """The environment a run needs to go through ``web`` (None: unset)."""
    return {"http_proxy": web.proxy, "https_proxy": web.proxy, "HTTP_PROXY": web.proxy, "HTTPS_PROXY": web.proxy,
            "no_proxy": None, "NO_PROXY": None, "all_proxy": None, "ALL_PROXY": None}
