"""A captured page replays through pywb (its own virtualenv) byte-identical to what the server sent."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from .helpers import lastseen, write_watchlist
from .site import Site

ROOT = Path(__file__).resolve().parent.parent


def pywb_bin() -> Path:
    """pywb's bin directory: $LASTSEEN_PYWB_BIN, else the repo's .venv-pywb (made by `make pywb`)."""
    candidates = [os.environ.get("LASTSEEN_PYWB_BIN"), str(ROOT / ".venv-pywb" / "bin")]
    for c in candidates:
        if c and (Path(c) / "wayback").exists():
            return Path(c)
    pytest.fail("pywb is not installed: run `make pywb` (it lives in .venv-pywb, apart from Scrapy's "
                "dependencies) or set LASTSEEN_PYWB_BIN to its bin directory")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def wayback(tmp_path):
    bindir = pywb_bin()
    coll = tmp_path / "pywb"
    coll.mkdir()
    procs = []

    def start(warcs: list[Path]) -> str:
        subprocess.run([str(bindir / "wb-manager"), "init", "evidence"], cwd=coll, check=True, capture_output=True)
        subprocess.run([str(bindir / "wb-manager"), "add", "evidence", *map(str, warcs)], cwd=coll, check=True,
                       capture_output=True)
        index = (coll / "collections" / "evidence" / "indexes" / "index.cdxj").read_text()
        port = free_port()
        proc = subprocess.Popen([str(bindir / "wayback"), "-p", str(port), "-b", "127.0.0.1"], cwd=coll,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, "wayback exited early"
                time.sleep(0.2)
        else:
            pytest.fail("wayback did not start within 60 s")
        return f"http://127.0.0.1:{port}/evidence", index

    yield start
    for p in procs:
        p.terminate()
        p.wait(10)


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, dict(resp.headers), resp.read()


def test_pywb_replays_captures_byte_identical(tmp_path, wayback):
    site = Site()
    try:
        plain = ("<!doctype html><html><head><title>Safe City</title></head><body><p>"
                 "Belgrade police case study, version one.</p></body></html>")
        compressed = "<html><body><p>" + "procurement notice " * 200 + "</p></body></html>"
        site.set("/plain", plain)
        site.set("/gz", compressed, gzip=True, chunked=True)
        write_watchlist(tmp_path / "watchlist.yaml", [
            {"name": "plain", "url": site.url("/plain")},
            {"name": "gz", "url": site.url("/gz")},
        ])
        r1 = lastseen(tmp_path, "run", "--json")
        r2 = lastseen(tmp_path, "run", "--json")  # unchanged: revisit records
        assert r1.exit_code == 0 and r2.exit_code == 0
        sent_plain = site.sent("/plain")
        sent_gz = site.sent("/gz")
    finally:
        site.close()
    assert r2.event("plain")["verdict"] == "unchanged"
    warcs = sorted((tmp_path / "archive" / "warcs").glob("*.warc.gz"))
    base, index = wayback(warcs)
    # wb-manager exits 0 even when it indexed nothing: check the index itself.
    assert site.url("/plain") in index and "warc/revisit" in index

    for ran in (r1, r2):  # the response record, then the revisit resolved to it
        e = ran.event("plain")
        ts = e["warc"] and _timestamp(index, e["url"], ran is r2)
        status, headers, body = fetch(f"{base}/{ts}id_/{e['url']}")
        assert status == 200
        assert body == sent_plain

    e = r1.event("gz")
    ts = _timestamp(index, e["url"], False)
    status, headers, body = fetch(f"{base}/{ts}id_/{e['url']}", {"Accept-Encoding": "gzip"})
    if headers.get("Content-Encoding") == "gzip":
        assert body == sent_gz  # replayed with its content-coding, exactly the bytes sent
    else:
        assert body == gzip.decompress(sent_gz)
    assert gzip.decompress(sent_gz) == compressed.encode()


def _timestamp(index: str, url: str, revisit: bool) -> str:
    for line in index.splitlines():
        key, ts, blob = line.split(" ", 2)
        if f'"url": "{url}"' in blob and (("warc/revisit" in blob) == revisit):
            return ts
    raise AssertionError(f"{url} ({'revisit' if revisit else 'response'}) not in the pywb index:\n{index}")
