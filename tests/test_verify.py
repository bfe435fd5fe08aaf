"""``lastseen verify`` (#15): real archives made by real runs against a local server, then tampered with as an
adversary would; each tampering is named (kind, file, offset, record id) with exit 4, a clean archive gives 0,
also while a run is writing. Tampered bytes are made here with zlib and hashlib, never with lastseen's code.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import sqlite3
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import jsonschema
import pytest

from .archive_checks import outputs, start_run
from .helpers import copy_project, lastseen, write_watchlist
from .site import Site
from .test_custody import DAY_1, DAY_2, _set_now

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "verify.schema.json").read_text())


@pytest.fixture(scope="module")
def site():
    s = Site()
    yield s
    s.close()


def _pages(site: Site, day: int) -> None:
    for i in range(5):
        site.set(
            f"/p{i}",
            f"<html><head><title>page {i}</title></head><body><p>page {i} says {i + day * 0}"
            f"</p></body></html>",
        )
    # content-coding kept, transfer-coding removed: the payload digest is over the gzipped bytes
    site.set(
        "/z",
        f"<html><body><p>zipped page, day {day}</p></body></html>",
        gzip=True,
        chunked=True,
    )
    if day:
        site.set(
            "/p1",
            "<html><head><title>page 1</title></head><body><p>page 1 now says something else</p>"
            "</body></html>",
        )


@pytest.fixture(scope="module")
def base(site, tmp_path_factory) -> Path:
    """Two runs, in January and in February (two WARC files, two months of JSONL), over four pages."""
    root = tmp_path_factory.mktemp("verify")
    write_watchlist(
        root / "watchlist.yaml",
        [
            {
                "name": f"p{i}",
                "url": site.url(f"/p{i}"),
                "tags": ["odd"] if i % 2 else [],
            }
            for i in range(5)
        ]
        + [{"name": "z", "url": site.url("/z")}],
        settings={"every": "1h", "watch_robots": False},
    )
    try:
        for day, when in enumerate((DAY_1, DAY_2)):
            _set_now(when)
            _pages(site, day)
            ran = lastseen(root, "run", "--json")
            assert ran.exit_code == 0, ran.stderr
    finally:
        _set_now(None)
    return root


@pytest.fixture
def project(base, tmp_path) -> Path:
    return copy_project(base, tmp_path)


def verify(project: Path, *args: str):
    ran = lastseen(project, "verify", "--json", *args)
    doc = json.loads(ran.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert ran.exit_code == (0 if doc["ok"] else 4), ran.stderr
    return doc


def verify_lines(project: Path) -> tuple[int, list[str]]:
    ran = lastseen(project, "verify")
    return ran.exit_code, ran.stdout.splitlines()


def problems(doc: dict) -> list[tuple]:
    return [
        (p["kind"], p["file"], p["offset"], p["record_id"]) for p in doc["problems"]
    ]


def _db(project: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    try:
        with conn:
            return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _entries(project: Path) -> list[dict]:
    rows = _db(project, "select seq, kind, content from custody order by seq")
    return [{"seq": s, "kind": k, **json.loads(c)} for s, k, c in rows]


def _records(project: Path, name: str) -> list[dict]:
    """The records the capture entries list for WARC file ``name`` (archive-relative), by offset."""
    out = [
        dict(r, seq=e["seq"])
        for e in _entries(project)
        if e["kind"] == "capture" and e["warc_file"] == name
        for r in e["records"]
    ]
    return sorted(out, key=lambda r: r["offset"])


def _warcs(project: Path) -> list[str]:
    return sorted(
        f"warcs/{p.name}" for p in (project / "archive" / "warcs").glob("*.warc.gz")
    )


def _sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def _splice(path: Path, offset: int, length: int, new: bytes) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:offset] + new + data[offset + length :])


def _member(path: Path, record: dict) -> bytes:
    data = path.read_bytes()[record["offset"] : record["offset"] + record["length"]]
    return zlib.decompress(data, zlib.MAX_WBITS | 16)


def _response(project: Path, name: str, target_path: str) -> dict:
    """The response record of ``target_path`` in file ``name``."""
    for r in _records(project, name):
        if r["type"] == "response" and target_path in _member(
            project / "archive" / name, r
        )[:600].decode("latin-1"):
            return r
    raise AssertionError(f"no response record of {target_path} in {name}")


def _moved(records: list[dict], after: int, delta: int, name: str) -> list[tuple]:
    return [
        ("record-moved", name, r["offset"], r["record_id"])
        for r in records
        if r["offset"] > after and delta
    ]


# -- a clean archive ----------------------------------------------------------------------------------


def test_a_clean_archive_holds_every_record_file_and_line(project):
    doc = verify(project)
    assert (
        doc["ok"] is True
        and doc["problems"] == []
        and doc["pending"] == []
        and doc["open_files"] == []
    )
    entries = _entries(project)
    assert (
        doc["chain_head"]["seq"]
        == len(entries)
        == doc["checked"]["entries"]
        == doc["checked"]["lines"]
    )
    assert doc["checked"]["files"] == 2
    assert doc["checked"]["records"] == sum(
        len(e["records"]) for e in entries if e["kind"] == "capture"
    )
    assert doc["checked"]["bytes"] == sum(
        (project / "archive" / n).stat().st_size for n in _warcs(project)
    )
    code, lines = verify_lines(project)
    assert code == 0 and len(lines) == 1 and lines[0].startswith("everything holds: ")
    assert (
        f"chain head #{doc['chain_head']['seq']} {doc['chain_head']['sha256']}"
        in lines[0]
    )


def test_entries_not_yet_in_the_jsonl_copy_are_pending_not_problems(project):
    path = project / "archive" / "custody" / "2026-02.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(
        b"".join(lines[:-2]) + lines[-2][:10]
    )  # two lines not written, one of them torn
    doc = verify(project)
    assert doc["ok"] is True and doc["problems"] == []
    assert [p["seq"] for p in doc["pending"]] == [
        json.loads(line)["seq"] for line in lines[-2:]
    ]
    code, out = verify_lines(project)
    assert code == 0 and [x.split(" (")[0] for x in out[:2]] == [
        f"pending: entry #{p['seq']}" for p in doc["pending"]
    ]


def test_a_clean_archive_holds_while_a_run_is_writing(project, site):
    class Gate(
        threading.Event
    ):  # the page's handler waits on it; ``arrived`` says the run is mid-way
        arrived = threading.Event()

        def wait(self, timeout=None):
            self.arrived.set()
            return super().wait(timeout)

    gate = Gate()
    site.set("/p2", "<html><body><p>page 2, held</p></body></html>", gate=gate)
    proc = start_run(project, "--force")
    try:
        assert gate.arrived.wait(60), "the run never asked for /p2"
        doc = verify(project)
        assert doc["ok"] is True, doc["problems"]
        assert [f["file"].endswith(".warc.gz.open") for f in doc["open_files"]] == [
            True
        ]
        assert doc["open_files"][0]["why"] == "being written by the run going on"
    finally:
        gate.set()
        proc.wait(120)
        _pages(site, 1)
    assert proc.returncode == 0, outputs(project)[1]
    doc = verify(project)
    assert (
        doc["ok"] is True and doc["open_files"] == [] and doc["checked"]["files"] == 3
    )


# -- tampering ----------------------------------------------------------------------------------------


def test_one_payload_byte_changed_and_the_member_gzipped_again(project):
    name = _warcs(project)[0]
    path = project / "archive" / name
    rec = _response(project, name, "/p0")
    raw = _member(path, rec)
    new = gzip.compress(raw.replace(b"page 0 says 0", b"page 0 says 9"), mtime=0)
    _splice(path, rec["offset"], rec["length"], new)
    doc = verify(project)
    delta = len(new) - rec["length"]
    assert problems(doc) == [
        ("file-altered", name, None, None),
        ("record-altered", name, rec["offset"], rec["record_id"]),
        *_moved(_records(project, name), rec["offset"], delta, name),
    ]
    altered = doc["problems"][1]
    assert (
        altered["expected"] == rec["sha256"]
        and altered["found"]
        == hashlib.sha256(raw.replace(b"page 0 says 0", b"page 0 says 9")).hexdigest()
    )


def test_one_byte_of_a_compressed_member_flipped(project):
    name = _warcs(project)[1]
    path = project / "archive" / name
    rec = _response(project, name, "/p1")
    data = bytearray(path.read_bytes())
    data[rec["offset"] + rec["length"] // 2] ^= 0x01
    path.write_bytes(bytes(data))
    doc = verify(project)
    assert problems(doc) == [
        ("file-altered", name, None, None),
        ("record-unreadable", name, rec["offset"], rec["record_id"]),
    ]


def test_a_record_rewritten_with_its_digests_recomputed_passes_warcio_check_but_not_verify(
    project,
):
    name = _warcs(project)[0]
    path = project / "archive" / name
    rec = _response(project, name, "/p1")
    raw = _member(path, rec)
    head, _, rest = raw.partition(b"\r\n\r\n")
    block = rest[:-4]
    http_head, _, payload = block.partition(b"\r\n\r\n")
    forged_payload = payload.replace(b"page 1 says 1", b"page 1 said 1")  # same length
    assert forged_payload != payload
    forged_block = http_head + b"\r\n\r\n" + forged_payload
    head = re.sub(
        rb"WARC-Block-Digest: \S+",
        b"WARC-Block-Digest: " + _sha1(forged_block).encode(),
        head,
    )
    head = re.sub(
        rb"WARC-Payload-Digest: \S+",
        b"WARC-Payload-Digest: " + _sha1(forged_payload).encode(),
        head,
    )
    new = gzip.compress(head + b"\r\n\r\n" + forged_block + b"\r\n\r\n", mtime=0)
    _splice(path, rec["offset"], rec["length"], new)
    check = subprocess.run(
        [str(Path(sys.executable).with_name("warcio")), "check", "-v", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, (
        check.stdout + check.stderr
    )  # warcio finds every digest right
    assert "digest pass" in check.stdout and "digest fail" not in check.stdout
    doc = verify(project)
    delta = len(new) - rec["length"]
    assert problems(doc) == [
        ("file-altered", name, None, None),
        ("record-altered", name, rec["offset"], rec["record_id"]),
        *_moved(_records(project, name), rec["offset"], delta, name),
    ]
    assert (
        "its WARC digests were recomputed to match (warcio check passes on it)"
        in doc["problems"][1]["message"]
    )


def test_one_warc_header_changed(project):
    name = _warcs(project)[1]
    path = project / "archive" / name
    rec = _response(project, name, "/z")
    raw = _member(path, rec)
    forged = re.sub(
        rb"(WARC-Date: \d{4})", lambda m: m.group(1)[:-1] + b"5", raw, count=1
    )
    assert forged != raw
    new = gzip.compress(forged, mtime=0)
    _splice(path, rec["offset"], rec["length"], new)
    doc = verify(project)
    delta = len(new) - rec["length"]
    assert problems(doc) == [
        ("file-altered", name, None, None),
        ("record-altered", name, rec["offset"], rec["record_id"]),
        *_moved(_records(project, name), rec["offset"], delta, name),
    ]
    assert (
        doc["problems"][1]["message"] == "its WARC headers differ, its block does not"
    )


def test_a_record_deleted(project):
    name = _warcs(project)[0]
    path = project / "archive" / name
    records = _records(project, name)
    rec = next(r for r in records if r["type"] == "request")
    _splice(path, rec["offset"], rec["length"], b"")
    doc = verify(project)
    assert problems(doc) == [
        ("file-altered", name, None, None),
        *[
            (
                "record-missing" if r is rec else "record-moved",
                name,
                r["offset"],
                r["record_id"],
            )
            for r in records
            if r["offset"] >= rec["offset"]
        ],
    ]
    moved = [p for p in doc["problems"] if p["kind"] == "record-moved"]
    assert all(p["found"] == p["expected"] - rec["length"] for p in moved)


def test_a_file_deleted(project):
    name = _warcs(project)[1]
    (project / "archive" / name).unlink()
    doc = verify(project)
    assert problems(doc) == [("file-missing", name, None, None)]


def test_a_file_truncated(project):
    name = _warcs(project)[0]
    path = project / "archive" / name
    records = _records(project, name)
    cut = records[-2]["offset"] + 10
    path.write_bytes(path.read_bytes()[:cut])
    doc = verify(project)
    assert problems(doc) == [
        ("file-altered", name, None, None),
        ("record-unreadable", name, records[-2]["offset"], records[-2]["record_id"]),
        ("record-missing", name, records[-1]["offset"], records[-1]["record_id"]),
    ]
    assert doc["problems"][0]["message"].startswith(f"truncated: {cut} of ")


def _jsonl(project: Path, month: str) -> tuple[Path, list[bytes]]:
    path = project / "archive" / "custody" / f"{month}.jsonl"
    return path, path.read_bytes().splitlines(keepends=True)


def test_jsonl_lines_deleted_changed_and_reordered(project):
    path, lines = _jsonl(project, "2026-01")
    assert len(lines) >= 7
    seqs = [json.loads(x)["seq"] for x in lines]
    changed = json.loads(lines[3])
    changed["content"]["url"] = changed["content"]["url"].replace(
        "/p", "/q"
    )  # its sha256 kept
    edited = json.dumps(changed, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    kept = [
        lines[0],
        lines[2],
        lines[1],
        edited,
        lines[4],
        *lines[6:],
    ]  # 1 and 2 swapped, 3 changed, 5 deleted
    path.write_bytes(b"".join(kept))
    at = [sum(len(x) for x in kept[:i]) for i in range(len(kept))]
    doc = verify(project)
    assert [(p["kind"], p["file"], p["offset"], p["seq"]) for p in doc["problems"]] == [
        ("line-reordered", "custody/2026-01.jsonl", at[2], seqs[1]),
        ("line-altered", "custody/2026-01.jsonl", at[3], seqs[3]),
        ("line-missing", "custody/2026-01.jsonl", None, seqs[5]),
    ]
    assert (
        doc["problems"][1]["expected"]
        == json.loads(lines[3])["sha256"]
        != doc["problems"][1]["found"]
    )


# -- docs ---------------------------------------------------------------------------------------------


def test_the_schema_file_and_the_docs_kinds_table_are_the_code_s():
    from crawler.verify import KINDS
    from crawler.verifyjson import schema_text

    assert (ROOT / "docs" / "verify.schema.json").read_text() == schema_text(), (
        "docs/verify.schema.json is stale: regenerate it with python -m crawler.verifyjson"
    )
    doc = (ROOT / "docs" / "evidence.md").read_text()
    section = doc.split("\n## lastseen verify\n", 1)[1]
    for kind, meaning in KINDS.items():
        assert f"| `{kind}` | {meaning} |" in section, (
            f"docs/evidence.md does not explain {kind}"
        )
