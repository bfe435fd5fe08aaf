"""Signed exports, ``lastseen verify`` of the exports it knows, and evidence bundles (#16).

Two real runs on two days (``LASTSEEN_NOW``) against a 127.0.0.1 site, with a signing key
(``lastseen keygen``'s :func:`~crawler.signing.generate_key`) and a local RFC 3161 authority (the one of
``tests/test_timestamps.py``): ``notice`` changes on the second day. Everything a bundle's README.txt says
to run is run exactly as written, with the third-party tools it names (``sha256sum``, ``openssl``,
``warcio``, py-wacz's ``wacz``, ``jq``), in the unzipped bundle.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from crawler import clock
from crawler.custodycopy import read_copy
from crawler.signing import generate_key

from .helpers import lastseen, write_watchlist
from .site import Site
from .test_timestamps import Authority, pki

#: Fixtures of another test module, used here by name.
_FIXTURES = (pki,)

ROOT = Path(__file__).resolve().parent.parent
DAYS = ["2026-05-01T09:00:00Z", "2026-05-02T09:00:00Z"]
LATER = "2026-05-03T10:00:00Z"  # when exports and bundles are made
TEXTS = {
    "notice": ["Tender deadline 1 June", "Tender deadline 15 June"],
    "minutes": ["Minutes of the board", "Minutes of the board"],
}


def _set_now(mp: pytest.MonkeyPatch, value: str) -> None:
    mp.delenv(clock.ENV_OFFSET, raising=False)
    mp.setenv(clock.ENV_NOW, value)
    clock._reset()


def _page(name: str, text: str) -> str:
    return f"<html><head><title>{name}</title></head><body><main><h1>{name}</h1><p>{text}</p></main></body></html>"


@pytest.fixture(scope="module")
def project(pki, tmp_path_factory):
    """Two runs, signed and time-stamped. Yields (project folder, {target: event id of day 2})."""
    tmp = tmp_path_factory.mktemp("bundle")
    keys = tmp_path_factory.mktemp("keys")
    pair = generate_key(keys / "signing.key")
    shutil.copy(pki / "good-ca.pem", tmp / "tsa-ca.pem")
    site, authority = Site(), Authority(pki)
    mp = pytest.MonkeyPatch()
    events = {}
    try:
        write_watchlist(
            tmp / "watchlist.yaml",
            [{"name": n, "url": site.url(f"/{n}"), "every": "1d"} for n in TEXTS],
            settings={
                "signing_key": str(pair.key),
                "timestamp_authority": authority.url,
                "timestamp_ca": "tsa-ca.pem",
            },
        )
        for i, day in enumerate(DAYS):
            for name, texts in TEXTS.items():
                site.set(f"/{name}", _page(name, texts[i]))
            _set_now(mp, day)
            ran = lastseen(tmp, "run", "--json")
            assert ran.exit_code == 0, ran.stderr
            assert ran.json["run"]["timestamp"]["status"] == "ok", ran.json["run"]
            events = {e["target"]: e for e in ran.json["events"]}
        assert events["notice"]["verdict"] == "changed", events
        assert events["minutes"]["verdict"] == "unchanged", events
        yield tmp, {k: e["event_id"] for k, e in events.items()}, pair
    finally:
        mp.undo()
        clock._reset()
        site.close()
        authority.close()


@pytest.fixture
def later(monkeypatch):
    _set_now(monkeypatch, LATER)


def _copy(project_dir: Path, tmp_path: Path) -> Path:
    """A copy of the project (archive and watchlist) to change without touching the module's."""
    dst = tmp_path / "project"
    shutil.copytree(project_dir, dst, symlinks=True)
    return dst


def _run(args: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False, **kw
    )


def _verify(root: Path) -> tuple[int, dict]:
    ran = lastseen(root, "verify", "--json")
    return ran.exit_code, json.loads(ran.stdout)


# -- signed exports --------------------------------------------------------------------------------


def test_a_signed_export_checks_with_openssl_and_is_on_the_record(
    project, later, tmp_path
):
    root, events, pair = project
    root = _copy(root, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    ran = lastseen(
        root, "export", "--out", str(out / "notice.wacz"), "--event", events["notice"]
    )
    assert ran.exit_code == 0, ran.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "notice.wacz",
        "notice.wacz.pub.pem",
        "notice.wacz.sha256",
        "notice.wacz.sha256.sig",
    ]
    wacz = (out / "notice.wacz").read_bytes()
    assert (out / "notice.wacz.sha256").read_text() == (
        f"{hashlib.sha256(wacz).hexdigest()}  notice.wacz\n"
    )
    assert (out / "notice.wacz.pub.pem").read_bytes() == pair.pub.read_bytes()
    assert f"key fingerprint {pair.fingerprint}" in ran.stdout
    # third-party tools alone: the manifest's line holds, and the signature with the public key
    assert (
        _run(["sha256sum", "--strict", "-c", "notice.wacz.sha256"], out).returncode == 0
    )
    check = [
        "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "notice.wacz.pub.pem", "-rawin",
        "-in", "notice.wacz.sha256", "-sigfile", "notice.wacz.sha256.sig",
    ]  # fmt: skip
    done = _run(check, out)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout
    # the custody entry: the path, the signature's SHA-256 and the key's fingerprint
    entry = max(read_copy(root / "archive"), key=lambda e: e["seq"])
    assert entry["kind"] == "export"
    assert entry["content"]["path"] == str(out / "notice.wacz")
    assert entry["content"]["signature"] == {
        "signature_sha256": hashlib.sha256(
            (out / "notice.wacz.sha256.sig").read_bytes()
        ).hexdigest(),
        "key_fingerprint": pair.fingerprint,
    }
    status, doc = _verify(root)
    assert status == 0 and doc["ok"], doc["problems"]
    assert doc["checked"]["exports"] == 1 and doc["checked"]["exports_elsewhere"] == 0
    # one byte of the manifest changed: openssl refuses it
    manifest = out / "notice.wacz.sha256"
    data = manifest.read_bytes()
    manifest.write_bytes(data[:3] + bytes([data[3] ^ 1]) + data[4:])
    done = _run(check, out)
    assert done.returncode != 0 and "Signature Verification Failure" in done.stdout


def test_without_a_key_nothing_is_signed_nor_said(project, later, tmp_path):
    root, events, _pair = project
    root = _copy(root, tmp_path)
    wl = root / "watchlist.yaml"
    wl.write_text(re.sub(r"(?m)^  signing_key: .*\n", "", wl.read_text()))
    out = tmp_path / "out"
    out.mkdir()
    ran = lastseen(
        root, "export", "--out", str(out / "n.wacz"), "--event", events["notice"]
    )
    assert ran.exit_code == 0, ran.stderr
    assert [p.name for p in out.iterdir()] == ["n.wacz"]
    assert "sign" not in ran.stdout.lower()
    entry = max(read_copy(root / "archive"), key=lambda e: e["seq"])
    assert "signature" not in entry["content"]


def test_verify_flags_an_export_altered_after_the_fact(project, later, tmp_path):
    root, events, _pair = project
    root = _copy(root, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    wacz = out / "notice.wacz"
    assert (
        lastseen(
            root, "export", "--out", str(wacz), "--event", events["notice"]
        ).exit_code
        == 0
    )
    seq = max(read_copy(root / "archive"), key=lambda e: e["seq"])["seq"]
    # handed out (moved away): counted, not a problem
    wacz.rename(tmp_path / "moved.wacz")
    status, doc = _verify(root)
    assert status == 0 and doc["checked"]["exports_elsewhere"] == 1, doc
    (tmp_path / "moved.wacz").rename(wacz)
    # one byte changed in place: export-altered, exit 4
    data = bytearray(wacz.read_bytes())
    data[len(data) // 2] ^= 1
    wacz.write_bytes(bytes(data))
    status, doc = _verify(root)
    assert status == 4
    ((problem,),) = [[p for p in doc["problems"] if p["kind"] == "export-altered"]]
    assert problem["file"] == str(wacz) and problem["seq"] == seq
    assert problem["found"] == hashlib.sha256(bytes(data)).hexdigest()
    data[len(data) // 2] ^= 1
    wacz.write_bytes(bytes(data))
    assert _verify(root)[0] == 0
    # the signature replaced by another's: signature-invalid, exit 4
    sig = out / "notice.wacz.sha256.sig"
    sig.write_bytes(bytes(64))
    status, doc = _verify(root)
    assert status == 4 and [p["kind"] for p in doc["problems"]] == ["signature-invalid"]
    sig.unlink()
    status, doc = _verify(root)
    assert status == 4 and [p["kind"] for p in doc["problems"]] == ["signature-invalid"]
