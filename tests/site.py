"""A fixture web site on 127.0.0.1 (port 0) whose pages tests change between runs.

Each route answers with exactly the bytes the test set (optionally gzipped,
chunked, delayed); :meth:`Site.sent` returns the body bytes last sent on the
wire for a path (after content-coding, before chunking), so WARC tests compare
the archive with what the server really sent.
"""

from __future__ import annotations

import datetime
import gzip as gzip_mod
import http.server
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    headers: list = field(default_factory=list)
    gzip: bool = False
    chunked: bool = False
    delay: float = 0.0
    gate: threading.Event | None = None  # the answer waits until the test sets it (at most two minutes)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fixture/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        site: Site = self.server.site
        path = self.path
        with site.lock:
            site.hit_counts[path] = site.hit_counts.get(path, 0) + 1
            site.requests.append((path, dict(self.headers)))
            page = site.pages.get(path)
        if page is None:
            page = Page(b"<html><body><h1>Not Found</h1></body></html>", 404, [("Content-Type", "text/html")])
        if page.delay:
            time.sleep(page.delay)
        if page.gate is not None:
            page.gate.wait(120)
        body = page.body
        if page.gzip:
            body = gzip_mod.compress(body, mtime=0)
        with site.lock:
            site.sent_bodies[path] = body
        try:
            self.send_response(page.status)
            for k, v in page.headers:
                self.send_header(k, v)
            if page.gzip:
                self.send_header("Content-Encoding", "gzip")
            if page.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                step = max(1, len(body) // 3 or 1)
                for i in range(0, len(body), step):
                    piece = body[i:i + step]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # clients (timeouts) hang up on purpose


class _Server6(_Server):
    address_family = socket.AF_INET6


def ipv6_loopback_available() -> bool:
    """Can a server bind ::1 here? (Not in every container.)"""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                          serialization.NoEncryption())
    )
    return cert_path, key_path


class Site:
    def __init__(self, *, tls_dir: Path | None = None, host: str = "127.0.0.1"):
        self.pages: dict[str, Page] = {}
        self.sent_bodies: dict[str, bytes] = {}
        self.hit_counts: dict[str, int] = {}
        self.requests: list = []
        self.lock = threading.Lock()
        server_class = _Server6 if ":" in host else _Server
        self.server = server_class((host, 0), _Handler)
        self.server.site = self
        self.scheme = "http"
        if tls_dir is not None:
            cert, key = self_signed_cert(Path(tls_dir))
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.host = host
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{path}"

    def set(self, path: str, body: bytes | str = b"", *, status: int = 200, content_type: str | None = "text/html; charset=utf-8",
            headers: list | None = None, gzip: bool = False, chunked: bool = False, delay: float = 0.0,
            gate: threading.Event | None = None) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        hdrs = []
        if content_type:
            hdrs.append(("Content-Type", content_type))
        hdrs.extend(headers or [])
        with self.lock:
            self.pages[path] = Page(body, status, hdrs, gzip, chunked, delay, gate)

    def redirect(self, path: str, location: str, status: int = 301) -> None:
        self.set(path, b"", status=status, content_type=None, headers=[("Location", location)])

    def remove(self, path: str) -> None:
        with self.lock:
            self.pages.pop(path, None)

    def sent(self, path: str) -> bytes:
        with self.lock:
            return self.sent_bodies[path]

    def hits(self, path: str) -> int:
        with self.lock:
            return self.hit_counts.get(path, 0)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
