"""The fetcher acknowledges a response's head at once, so a server's body is not held by Nagle (#17).

A server that writes a response's head and body in two ``send()`` calls with
Nagle on (``http.server`` does: ``tests.site.Site`` is one) sends the body only
once the head is acknowledged; a client that acknowledges in delayed mode, as
Linux does on a reused keep-alive connection, makes every response wait for its
delayed-ACK timer. Timers are not measured here: the kernel counts each ACK its
delayed-ACK timer had to send (``TcpExtDelayedACKs`` in ``/proc/net/netstat``).
The count is per network namespace, so the probe runs in a namespace of its own
(``unshare --net``), where the only traffic is its own: a plain keep-alive client
first (the server does make such a client wait), then lastseen's fetcher.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = 24
PAGE = (
    "<!DOCTYPE html><title>Notice {i}</title><p>"
    + "The council bought cameras. " * 300
    + "</p>"
)


def _delayed_acks() -> int:
    """ACKs sent by the delayed-ACK timer in this network namespace so far."""
    lines = [
        line.split()
        for line in Path("/proc/net/netstat").read_text().splitlines()
        if line.startswith("TcpExt:")
    ]
    return int(dict(zip(lines[0][1:], lines[1][1:]))["DelayedACKs"])


def _loopback_up() -> None:
    """Bring ``lo`` up in a fresh network namespace (SIOCGIFFLAGS / SIOCSIFFLAGS, IFF_UP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, 0x8913, struct.pack("16sh", b"lo", 0))
        flags = struct.unpack("16sh", ifr[:18])[1]
        fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 1))


def _plain_client(host: str, port: int, paths: list[str]) -> list[bytes]:
    """Keep-alive GETs on one connection, each sent as soon as the last body is read."""
    bodies = []
    with socket.create_connection((host, port)) as conn:
        buf = b""
        for path in paths:
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            while b"\r\n\r\n" not in buf:
                buf += conn.recv(65536)
            head, buf = buf.split(b"\r\n\r\n", 1)
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(buf) < length:
                buf += conn.recv(65536)
            bodies.append(buf[:length])
            buf = buf[length:]
    return bodies


def _counting_site(**kwargs):
    """A ``tests.site.Site`` with ``PAGES`` pages of ~8 KB, and the list of connections it accepts."""
    from tests.site import Site, _Handler

    connections = []

    class Counting(_Handler):
        def setup(self):
            super().setup()
            connections.append(self.client_address)

    site = Site(**kwargs)
    site.server.RequestHandlerClass = Counting
    paths = [f"/notice/{i}" for i in range(PAGES)]
    for i, path in enumerate(paths):
        site.set(path, PAGE.format(i=i))
    return site, paths, connections


def _fetch_one_at_a_time(site, paths: list[str], connections: list) -> dict:
    """Fetch ``paths`` with lastseen's fetcher, one request per host; delayed ACKs, connections, bodies."""
    from crawler.fetch import Fetcher, FetchJob
    from crawler.watchlist import fetch_defaults

    options = {
        **fetch_defaults(),
        "per_host_concurrency": 1,
        "per_host_delay": 0.0,
        "retries": 0,
        "timeout": 30.0,
    }
    connections.clear()
    before = _delayed_acks()
    with Fetcher(options) as fetcher:
        for i, path in enumerate(paths):
            fetcher.submit(FetchJob(id=str(i), target=f"n{i}", url=site.url(path)))
        results = {r.job: r for r in fetcher.results()}
    return {
        "delayed_acks": _delayed_acks() - before,
        "connections": len(connections),
        "bodies_ok": all(
            results[str(i)].final.body == site.sent(path)
            for i, path in enumerate(paths)
        ),
    }


def probe(tls_dir: str) -> dict:
    """Run in a private network namespace: delayed ACKs for a plain client, then for the fetcher (http, https)."""
    _loopback_up()
    out = {}
    site, paths, connections = _counting_site()
    try:
        before = _delayed_acks()
        plain = _plain_client(site.host, site.port, paths)
        out["plain"] = {
            "delayed_acks": _delayed_acks() - before,
            "connections": len(connections),
            "bodies_ok": all(
                body == site.sent(path) for body, path in zip(plain, paths)
            ),
        }
        out["http"] = _fetch_one_at_a_time(site, paths, connections)
        out["hits"] = sum(site.hits(p) for p in paths)
    finally:
        site.close()
    site, paths, connections = _counting_site(tls_dir=Path(tls_dir))
    try:
        out["https"] = _fetch_one_at_a_time(site, paths, connections)
    finally:
        site.close()
    return out


def _in_private_network(*argv: str) -> subprocess.CompletedProcess:
    namespace = (
        ["unshare", "--net"]
        if os.geteuid() == 0
        else ["unshare", "--net", "--map-root-user"]
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
        ),
    )
    try:
        return subprocess.run(
            [*namespace, *argv],
            check=False,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except FileNotFoundError as exc:
        raise AssertionError(
            "`unshare` is missing: install util-linux (Debian: apt-get install util-linux)"
        ) from exc


def test_the_fetcher_does_not_wait_for_its_delayed_ack_timer_on_a_nagle_server(
    tmp_path,
):
    proc = _in_private_network(
        sys.executable, "-m", "tests.test_quickack", str(tmp_path)
    )
    assert proc.returncode == 0, (
        "the probe could not run in a network namespace of its own (`unshare --net`: run the tests as root, "
        f"or enable unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1):\n{proc.stderr[-3000:]}"
    )
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    # Every body arrived whole, each page once to each client.
    assert got["hits"] == 2 * PAGES
    assert (
        got["plain"]["bodies_ok"]
        and got["http"]["bodies_ok"]
        and got["https"]["bodies_ok"]
    ), got
    # The server makes a client that acknowledges in delayed mode wait for its timer: for every
    # response but the first, which comes while a new connection still acknowledges at once.
    assert got["plain"]["delayed_acks"] >= PAGES // 2, got
    # The fetcher, one request at a time on one kept-alive connection, acknowledges as it reads,
    # over TLS too (its records are written the same way: the head's, then the body's).
    for scheme in ("http", "https"):
        assert got[scheme]["connections"] == 1, (scheme, got)
        assert got[scheme]["delayed_acks"] <= PAGES // 8, (scheme, got)


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1])))
