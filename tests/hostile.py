"""A hostile web server on 127.0.0.1 (port 0) that sends exactly the bytes a test needs.

``http.server`` always frames its responses correctly; a hostile server must be able to
lie: a Content-Length that is too short or too long, a body that never ends, a reset in
the middle of a body, one byte every 0.3 s forever, compression bombs, redirect loops,
bytes that are not HTTP at all. Each path is given a *behaviour*: a callable
``behaviour(conn, request)`` that writes raw bytes to the accepted socket. The server
reads the request head, records it (path, headers, arrival time) and hands over.

Behaviours are built by the functions below (``respond``, ``drip``, ``endless``...), and
:class:`HostileServer` serves them over plain TCP or, given a certificate, over TLS.
:func:`make_ca` and :func:`issue_cert` make a local certificate authority for TLS tests.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    at: float                                  # time.monotonic() when the head was read
    raw: bytes = b""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return None


Behaviour = Callable[[socket.socket, Request], None]


# --------------------------------------------------------------------------- behaviours


def head(status: int = 200, headers: Iterable[tuple[str, str]] = (), *, reason: str | None = None) -> bytes:
    """A status line and header block, exactly as given (no header is added)."""
    phrase = reason if reason is not None else {
        200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 429: "Too Many Requests",
        500: "Internal Server Error", 503: "Service Unavailable",
    }.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {phrase}".encode("latin-1")]
    for name, value in headers:
        lines.append(f"{name}: {value}".encode("latin-1") if isinstance(value, str) else name.encode() + b": " + value)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def respond(body: bytes = b"", status: int = 200, headers: Iterable[tuple[str, str]] = (), *,
            content_type: str | None = "text/html; charset=utf-8", content_length: int | None = None) -> Behaviour:
    """A complete response; ``content_length`` overrides the true length (a lie), then the connection closes."""
    hdrs = [("Content-Type", content_type)] if content_type else []
    hdrs += list(headers)
    hdrs += [("Content-Length", str(len(body) if content_length is None else content_length)), ("Connection", "close")]
    data = head(status, hdrs) + body

    def behaviour(conn, request):
        conn.sendall(data)

    return behaviour


def raw(data: bytes) -> Behaviour:
    """Exactly ``data`` (maybe not HTTP at all), then close."""

    def behaviour(conn, request):
        conn.sendall(data)

    return behaviour


def close_at_once() -> Behaviour:
    """Accept, read the request, close without a byte."""
    return lambda conn, request: None


def drip(interval: float = 0.3, *, in_head: bool = False) -> Behaviour:
    """Slowloris: one byte every ``interval`` seconds, forever (or until the client leaves).

    ``in_head=False`` sends a complete header block first (no length, so the body never
    ends); ``in_head=True`` drips the status line and headers themselves.
    """
    prefix = b"" if in_head else head(200, [("Content-Type", "text/html"), ("Connection", "close")])
    filler = b"HTTP/1.1 200 OK\r\nX-Slow: " if in_head else b"<p>"

    def behaviour(conn, request):
        if prefix:
            conn.sendall(prefix)
        i = 0
        while True:
            data = filler[i:i + 1] if i < len(filler) else b"a"
            conn.sendall(data)
            i += 1
            time.sleep(interval)

    return behaviour


def endless(chunk: bytes = b"<p>" + b"x" * 65530 + b"</p>", *, content_type: str = "text/html") -> Behaviour:
    """A body that never ends, as fast as the client reads (no Content-Length)."""

    def behaviour(conn, request):
        conn.sendall(head(200, [("Content-Type", content_type), ("Connection", "close")]))
        while True:
            conn.sendall(chunk)

    return behaviour


def reset_after(body: bytes, declared: int, *, chunked: bool = False) -> Behaviour:
    """Send the head (claiming ``declared`` bytes) and ``body``, then a TCP reset (RST)."""

    def behaviour(conn, request):
        if chunked:
            data = head(200, [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")])
            data += b"%x\r\n" % declared + body
        else:
            data = head(200, [("Content-Type", "text/html"), ("Content-Length", str(declared))]) + body
        conn.sendall(data)
        time.sleep(0.05)
        reset(conn)

    return behaviour


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The n-th request gets the n-th behaviour; the last one repeats."""
    state = {"n": 0}
    lock = threading.Lock()

    def behaviour(conn, request):
        with lock:
            n = state["n"]
            state["n"] += 1
        behaviours[min(n, len(behaviours) - 1)](conn, request)

    return behaviour


def slow(body: bytes, delay: float, *, tracker: "Concurrency | None" = None) -> Behaviour:
    """Hold the response ``delay`` seconds; ``tracker`` counts requests in flight."""
    inner = respond(body)

    def behaviour(conn, request):
        if tracker is not None:
            tracker.enter()
        try:
            time.sleep(delay)
        finally:
            if tracker is not None:
                tracker.leave()  # before answering: a request that follows this one never overlaps it
        inner(conn, request)

    return behaviour


class Concurrency:
    """Counts requests in flight and remembers the most at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def enter(self):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self):
        with self.lock:
            self.now -= 1


def reset(conn: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN (SO_LINGER with a zero timeout)."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    conn.close()


# --------------------------------------------------------------------------- the server


class HostileServer:
    """Serves ``routes[path]`` behaviours on 127.0.0.1, one thread per connection.

    Unknown paths get a plain 404. ``requests`` lists every request received, in order.
    With ``tls=(cert_path, key_path)`` connections are wrapped in TLS first.
    """

    def __init__(self, *, tls: tuple[Path, Path] | None = None):
        self.routes: dict[str, Behaviour] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.context = None
        self.scheme = "http"
        if tls is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(*tls)
            self.scheme = "https"
        self.closed = False
        self.thread = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)
        self.thread.start()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, behaviour: Behaviour) -> str:
        """Serve ``behaviour`` at ``path``; returns the path's URL."""
        with self.lock:
            self.routes[path] = behaviour
        return self.url(path)

    def hits(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- internals ------------------------------------------------------
    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="hostile-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(30)
            if self.context is not None:
                try:
                    conn = self.context.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    return
            request = self._read_request(conn)
            if request is None:
                return
            with self.lock:
                self.requests.append(request)
                behaviour = self.routes.get(request.path)
            if behaviour is None:
                behaviour = respond(b"<html><body><h1>Not Found</h1></body></html>", 404)
            behaviour(conn, request)
        except (OSError, ssl.SSLError):
            pass  # the client hung up: what hostile servers are for
        finally:
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def _read_request(conn) -> Request | None:
        data = b""
        while b"\r\n\r\n" not in data:
            piece = conn.recv(65536)
            if not piece:
                return None
            data += piece
            if len(data) > 1 << 20:
                return None
        at = time.monotonic()
        head_bytes = data.split(b"\r\n\r\n", 1)[0]
        lines = head_bytes.decode("latin-1").split("\r\n")
        method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        return Request(method, path, headers, at, head_bytes)


class Unresponsive:
    """A port on 127.0.0.1 where connecting hangs: the listener's accept queue is full, so SYNs are dropped."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(3):  # never accepted: they fill the queue
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", self.port))
            except (BlockingIOError, OSError):
                pass
            self.fillers.append(filler)
        time.sleep(0.1)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        for s in (*self.fillers, self.sock):
            s.close()


# --------------------------------------------------------------------------- certificates


@dataclass
class CA:
    key: object
    cert: object
    path: Path                                 # the CA certificate, PEM

    @property
    def name(self):
        return self.cert.subject


def make_ca(directory: Path, name: str = "lastseen test CA") -> CA:
    """A self-signed certificate authority, its certificate written to ``directory/ca.pem``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = Path(directory) / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return CA(key, cert, path)


def issue_cert(ca: CA, directory: Path, *, names: Iterable[str] = ("127.0.0.1",), expired: bool = False,
               stem: str = "leaf") -> tuple[Path, Path]:
    """A server certificate for ``names`` (IP addresses or DNS names) signed by ``ca``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    names = list(names)
    key = ec.generate_private_key(ec.SECP256R1())
    sans = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = (now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)) if expired else (
        now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    directory = Path(directory)
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path

