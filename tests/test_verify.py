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
import shutil
import sqlite3
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import jsonschema
import pytest
import yaml

from crawler import recorder
from crawler.store import MIGRATIONS
from crawler.verify import KINDS

from .archive_checks import outputs, start_run, wait_until
from .helpers import copy_project, index_as_schema_19, lastseen, write_watchlist
from .site import Site
from .test_custody import DAY_1, DAY_2, _entry_hash, _set_now, _warc_headers, as_killed_before_lines

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
    # Two captures a commit, whatever the pace: one custody entry lists two captures (#17), and each month's
    # JSONL holds the same lines on every test run (3 capture entries and a file entry).
    paced = pytest.MonkeyPatch()
    paced.setattr(recorder, "COMMIT_EVERY", 2)
    paced.setattr(recorder, "COMMIT_SECONDS", 3600.0)
    try:
        for day, when in enumerate((DAY_1, DAY_2)):
            _set_now(when)
            _pages(site, day)
            ran = lastseen(root, "run", "--json")
            assert ran.exit_code == 0, ran.stderr
    finally:
        _set_now(None)
        paced.undo()
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


EVIDENCE = ROOT / "docs" / "evidence.md"
_TABLE_HEAD = "| tampering | what `lastseen verify` said |\n| --- | --- |\n"


def _normalised(line: str) -> str:
    """A line of verify's output with what changes from archive to archive (ids, hashes, times, numbers)
    replaced by placeholders, as docs/evidence.md's table shows it."""
    line = re.sub(r"<urn:uuid:[0-9a-f-]+>", "<urn:uuid:…>", line)
    line = re.sub(
        r"(while decompressing data): [^)]+", r"\1: …", line
    )  # zlib's reason: where the flip fell
    line = re.sub(r"\b[0-9a-f]{64}\b", "<sha256>", line)
    line = re.sub(r"sha1:[A-Z2-7]{32}", "<sha1>", line)
    line = re.sub(r"lastseen-\d{20}-(\d{5})", r"lastseen-<time>-\1", line)
    return re.sub(r"(?<![\w</-])\d+(?![\w>-])", "N", line)


def said(project: Path, case: str, update_golden: bool) -> list[str]:
    """What ``lastseen verify`` printed (exit 4), each distinct problem line normalised; checked against (or,
    with ``--update-golden``, written into) the row ``case`` of docs/evidence.md's tampering table."""
    ran = lastseen(project, "verify")
    assert ran.exit_code == 4, ran.stdout + ran.stderr
    lines = [line for line in ran.stdout.splitlines() if line.split(":", 1)[0] in KINDS]
    assert lines and ran.stdout.splitlines()[-1].startswith(
        f"{len(lines)} problem{'s' if len(lines) > 1 else ''}: "
    )
    shown = list(dict.fromkeys(_normalised(line) for line in lines))
    row = f"| {case} | " + "<br>".join(f"`{x}`" for x in shown) + " |\n"
    doc = EVIDENCE.read_text()
    head, table = doc.split(_TABLE_HEAD, 1)
    rows, tail = ("", table[1:]) if table.startswith("\n") else table.split("\n\n", 1)
    rows = [r + "\n" for r in rows.split("\n") if r]
    mine = [r for r in rows if r.startswith(f"| {case} | ")]
    if update_golden:
        rows = [row if r in mine else r for r in rows] if mine else [*rows, row]
        EVIDENCE.write_text(head + _TABLE_HEAD + "".join(rows) + "\n" + tail)
    else:
        assert mine == [row], (
            f"docs/evidence.md's row for {case!r} is not what verify said: run with --update-golden"
        )
    return shown


def _db(project: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    try:
        with conn:
            return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _entries(project: Path) -> list[dict]:
    """Every entry's seq, kind and content: a capture entry's content from its line of the copy, where the index
    keeps it (#17)."""
    lines = {}
    for path in (project / "archive" / "custody").glob("*.jsonl"):
        for raw in path.read_bytes().splitlines():
            line = json.loads(raw)
            lines[line["seq"]] = line["content"]
    rows = _db(project, "select seq, kind, content from custody order by seq")
    return [{"seq": s, "kind": k, **(lines[s] if k == "capture" else json.loads(c))} for s, k, c in rows]


def _lines_of(project: Path) -> list[dict]:
    """Every line of the JSONL copy, parsed, in seq order."""
    out = []
    for path in (project / "archive" / "custody").glob("*.jsonl"):
        out += [json.loads(raw) for raw in path.read_bytes().splitlines()]
    return sorted(out, key=lambda e: e["seq"])


def _record(r) -> dict:
    """A capture entry's record as a dict: ``[type, offset, length, uuid, sha256]`` (``"v": 2``, #17), or the
    object an entry written before lists."""
    if isinstance(r, dict):
        return r
    kind, offset, length, uuid, sha256 = r
    return {"type": kind, "offset": offset, "length": length, "record_id": f"<urn:uuid:{uuid}>", "sha256": sha256}


def _listed(entry: dict) -> list[dict]:
    """Every record a capture entry lists, as dicts, in order: a ``"v": 3`` entry's (#17) each capture's (with its
    ``capture`` id), then its batch capture records; an entry of an earlier form's ``records``."""
    if entry.get("v") != 3:
        return [_record(r) for r in entry["records"]]
    return [dict(_record(r), capture=cid) for cid, _, _, records in entry["captures"] for r in records] + [
        _record(r) for r in entry["records"]]


def _records(project: Path, name: str) -> list[dict]:
    """The records the capture entries list for WARC file ``name`` (archive-relative), by offset."""
    out = [
        dict(r, seq=e["seq"])
        for e in _entries(project)
        if e["kind"] == "capture" and e["warc_file"] == name
        for r in _listed(e)
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


def _regzip(raw: bytes, length: int) -> bytes:
    """``raw`` as a gzip member of another length than ``length`` (the records after it move), at the
    highest compression level that gives one."""
    for level in range(9, 0, -1):
        member = gzip.compress(raw, compresslevel=level, mtime=0)
        if len(member) != length:
            return member
    raise AssertionError("every compression level gives the member's length")


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
        len(_listed(e)) for e in entries if e["kind"] == "capture"
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
    as_killed_before_lines(project, [json.loads(line)["seq"] for line in lines[-2:]])
    path.write_bytes(
        b"".join(lines[:-2]) + lines[-2][:10]
    )  # two lines not written, one of them torn
    doc = verify(project)
    assert doc["ok"] is True and doc["problems"] == []
    assert [p["seq"] for p in doc["pending"]] == [
        json.loads(line)["seq"] for line in lines[-2:]
    ]
    code, out = verify_lines(project)
    first, last = doc["pending"][0]["seq"], doc["pending"][1]["seq"]
    assert code == 0 and out[0] == (
        f"pending: 2 entries (#{first} to #{last}) not yet in the JSONL copy; the next `lastseen run` writes them"
    )
    assert out[1].startswith("everything holds: ") and out[1].endswith(
        "; 2 entries pending in the copy"
    )


def test_a_clean_archive_holds_while_a_run_is_writing(project, site):
    """A run holding /p2 while 70 more pages are fetched: its first 64 captures are committed (entries
    naming its ``.open`` file) before /p2 answers. verify, meanwhile, finds everything holds and skips the
    ``.open`` file; and again once the run has ended."""

    class Gate(
        threading.Event
    ):  # /p2's handler waits on it; ``arrived`` says the run asked for /p2
        arrived = threading.Event()

        def wait(self, timeout=None):
            self.arrived.set()
            return super().wait(timeout)

    extra = [{"name": f"x{i}", "url": site.url(f"/x{i}")} for i in range(70)]
    for i in range(70):
        site.set(f"/x{i}", f"<html><body><p>extra page {i}</p></body></html>")
    watchlist = yaml.safe_load((project / "watchlist.yaml").read_text())
    write_watchlist(
        project / "watchlist.yaml",
        watchlist["targets"] + extra,
        settings=watchlist["settings"],
    )
    before = verify(project)
    (captures,), = _db(project, "select count(*) from captures")
    gate = Gate()
    site.set("/p2", "<html><body><p>page 2, held</p></body></html>", gate=gate)
    proc = start_run(project, "--force")
    try:
        assert gate.arrived.wait(60), "the run never asked for /p2"
        seq = before["chain_head"]["seq"]
        # 64 captures committed (with their custody entry: one a commit, #17)
        assert wait_until(
            lambda: _db(project, "select count(*) from captures")[0][0] >= captures + 64, 60
        ), "the run committed no captures while /p2 was held"
        doc = verify(project)
        assert doc["ok"] is True, doc["problems"]
        assert [
            (f["file"].endswith(".warc.gz.open"), f["why"]) for f in doc["open_files"]
        ] == [(True, "being written by the run going on")]
        assert (
            doc["chain_head"]["seq"] > seq
        )  # the run's entries, whose records are in the open file
        assert (
            doc["checked"]["records"] == before["checked"]["records"]
        )  # those are skipped
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


def test_one_payload_byte_changed_and_the_member_gzipped_again(project, update_golden):
    name = _warcs(project)[0]
    path = project / "archive" / name
    rec = _response(project, name, "/p0")
    raw = _member(path, rec)
    new = _regzip(raw.replace(b"page 0 says 0", b"page 0 says 9"), rec["length"])
    _splice(path, rec["offset"], rec["length"], new)
    said(
        project,
        "one byte of a payload changed, its gzip member compressed again",
        update_golden,
    )
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


def test_one_byte_of_a_compressed_member_flipped(project, update_golden):
    name = _warcs(project)[1]
    path = project / "archive" / name
    rec = _response(project, name, "/p1")
    data = bytearray(path.read_bytes())
    data[rec["offset"] + rec["length"] // 2] ^= 0x01
    path.write_bytes(bytes(data))
    said(project, "one byte of a compressed member flipped", update_golden)
    doc = verify(project)
    assert problems(doc) == [
        ("file-altered", name, None, None),
        ("record-unreadable", name, rec["offset"], rec["record_id"]),
    ]


def test_a_record_rewritten_with_its_digests_recomputed_passes_warcio_check_but_not_verify(
    project, update_golden
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
    new = _regzip(head + b"\r\n\r\n" + forged_block + b"\r\n\r\n", rec["length"])
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
    said(
        project,
        "a record rewritten with its WARC digests recomputed (`warcio check` passes)",
        update_golden,
    )
    doc = verify(project)
    delta = len(new) - rec["length"]
    assert problems(doc) == [
        ("file-altered", name, None, None),
        ("record-altered", name, rec["offset"], rec["record_id"]),
        *_moved(_records(project, name), rec["offset"], delta, name),
    ]
    # a "v": 2 entry holds the record's SHA-256, not its digests (#17): headers or block, the digests hold
    assert doc["problems"][1]["message"] == (  # the capture it was written for named (#17: an entry a commit)
        f"capture {rec['capture']}'s record: "
        "its WARC headers or its block differ; its WARC digests hold (warcio check passes on it)"
    )
    assert _db(project, "select id from captures where warc_file = ? and warc_offset = ?", name, rec["offset"]) == [
        (rec["capture"],)]  # the capture whose response it is


def test_one_warc_header_changed(project, update_golden):
    name = _warcs(project)[1]
    path = project / "archive" / name
    rec = _response(project, name, "/z")
    raw = _member(path, rec)
    forged = re.sub(
        rb"(WARC-Date: \d{4})", lambda m: m.group(1)[:-1] + b"5", raw, count=1
    )
    assert forged != raw
    new = _regzip(forged, rec["length"])
    _splice(path, rec["offset"], rec["length"], new)
    said(project, "one WARC header changed (`WARC-Date`)", update_golden)
    doc = verify(project)
    delta = len(new) - rec["length"]
    assert problems(doc) == [
        ("file-altered", name, None, None),
        ("record-altered", name, rec["offset"], rec["record_id"]),
        *_moved(_records(project, name), rec["offset"], delta, name),
    ]
    assert doc["problems"][1]["message"] == (  # the capture it was written for named (#17: an entry a commit)
        f"capture {rec['capture']}'s record: "
        "its WARC headers or its block differ; its WARC digests hold (warcio check passes on it)"
    )
    assert _db(project, "select id from captures where warc_file = ? and warc_offset = ?", name, rec["offset"]) == [
        (rec["capture"],)]  # the capture whose response it is


def _as_written_before_17(project: Path, v: int | None = None) -> None:
    """Rewrite the custody log (index and JSONL copy) as the code before #17 wrote it: a ``capture`` entry per
    capture (a ``"v": 3`` entry's captures each given one, its batch records listed by the last; the entries
    numbered anew), without ``v``, each record an object with its ``WARC-Block-Digest`` and
    ``WARC-Payload-Digest`` (read back with warcio), every entry's ``prev`` and ``sha256`` recomputed here
    (docs/evidence.md's canonical form). ``v=2``: as the code of #17 before ``"v": 3`` wrote it instead: ``"v": 2``,
    the URL asked for, records compact, a capture entry's content kept only in the copy (its row ``{"warc_file"}``,
    its line's offset in ``custody_lines``)."""
    headers = {name: _warc_headers(project / "archive" / name) for name in _warcs(project)}
    urls = dict(_db(project, "select id, url from captures"))
    rows = []
    for e in _lines_of(project):
        if e["kind"] != "capture":
            rows.append((e["kind"], e["time"], e["content"]))
            continue
        c = e["content"]
        assert c.pop("v") == 3
        split = [{"capture_id": cid, "run": c["run"], "target": target, "role": role, "warc_file": c["warc_file"],
                  "records": records} for cid, target, role, records in c["captures"]]
        if split:
            split[-1]["records"] = split[-1]["records"] + c["records"]
        else:
            split = [{"run": c["run"], "warc_file": c["warc_file"], "records": c["records"]}]
        if v == 2:
            split = [{"v": 2, **x, **({"url": urls[x["capture_id"]]} if "capture_id" in x else {"captures": 1})}
                     for x in split]
        rows += [("capture", e["time"], content) for content in split]
    prev, lines = "0" * 64, []
    for seq, (kind, time, content) in enumerate(rows, 1):
        if kind == "capture" and v is None:
            records = []
            for r in map(_record, content["records"]):
                h = headers[content["warc_file"]][r["offset"]]
                records.append({**r, "block_digest": h.get("WARC-Block-Digest"),
                                "payload_digest": h.get("WARC-Payload-Digest")})
            content["records"] = records
        entry = {"seq": seq, "kind": kind, "time": time, "prev": prev, "content": content}
        entry["sha256"] = _entry_hash(entry)
        lines.append(entry)
        prev = entry["sha256"]
    offsets = {}
    for path in (project / "archive" / "custody").glob("*.jsonl"):
        data = b""
        for e in lines:
            if e["time"][:7] == path.stem:
                offsets[e["seq"]] = len(data)
                data += json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
        path.write_bytes(data)
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    with conn:  # what migration 19 finds (v None): every content in its row
        for table in ("custody_lines", "custody_pending", "custody"):
            conn.execute(f"delete from {table}")
        for e in lines:
            copy_only = v == 2 and e["kind"] == "capture"
            content = {"warc_file": e["content"]["warc_file"]} if copy_only else e["content"]
            conn.execute("insert into custody (seq, kind, time, prev, content, sha256) values (?, ?, ?, ?, ?, ?)",
                         (e["seq"], e["kind"], e["time"], e["prev"],
                          json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
                          e["sha256"]))
            if copy_only:
                conn.execute("insert into custody_lines (seq, offset) values (?, ?)", (e["seq"], offsets[e["seq"]]))
    conn.close()


def test_entries_written_before_the_compact_form_still_verify_and_name_a_header_changed(project):
    _as_written_before_17(project)
    assert verify(project)["problems"] == []
    name = _warcs(project)[1]
    rec = _response(project, name, "/z")
    assert set(rec) == {"type", "record_id", "offset", "length", "sha256", "block_digest", "payload_digest", "seq"}
    path = project / "archive" / name
    forged = re.sub(rb"(WARC-Date: \d{4})", lambda m: m.group(1)[:-1] + b"5", _member(path, rec), count=1)
    new = _regzip(forged, rec["length"])
    _splice(path, rec["offset"], rec["length"], new)
    doc = verify(project)
    assert problems(doc) == [
        ("file-altered", name, None, None),
        ("record-altered", name, rec["offset"], rec["record_id"]),
        *_moved(_records(project, name), rec["offset"], len(new) - rec["length"], name),
    ]
    # the entry holds the digests as written: what changed is said exactly, as before #17
    assert doc["problems"][1]["message"] == "its WARC headers differ, its block does not"


def test_an_archive_of_schema_18_upgraded_by_a_run_verifies_old_and_new_entries(project, site):
    """An archive as the code before #17 left it (schema 18: every entry whole in its row, records with their
    digests), upgraded by the next run (migration 19): its old entries stay whole in the index, the run's are
    kept only in the copy; verify holds, and names a changed line of each."""
    _as_written_before_17(project)
    index_as_schema_19(project / "archive" / "lastseen.db")   # (captures whole, as before migration 20 too)
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    with conn:
        conn.execute("drop table custody_pending")
        conn.execute("drop table custody_lines")
        conn.execute("pragma user_version = 18")
    conn.close()
    old = _lines_of(project)
    _set_now("2026-02-03T09:00:00Z")
    try:
        ran = lastseen(project, "run", "--json", "--force")
    finally:
        _set_now(None)
    assert ran.exit_code == 0, ran.stderr
    assert _db(project, "pragma user_version") == [(len(MIGRATIONS),)]   # (migrations 19 and 20)
    lines = _lines_of(project)
    assert lines[: len(old)] == old
    new = [e for e in lines[len(old):] if e["kind"] == "capture"]
    assert new and all(e["content"]["v"] == 3 for e in new)   # one entry a commit (#17)
    rows = dict(_db(project, "select seq, content from custody where kind = 'capture'"))
    assert all("records" in json.loads(rows[e["seq"]]) for e in old if e["kind"] == "capture")
    assert all(json.loads(rows[e["seq"]]) == {"warc_file": e["content"]["warc_file"]} for e in new)
    assert verify(project)["problems"] == []
    # one old entry's line and one new entry's line changed, their sha256 kept
    for month, entry in (("2026-01", next(e for e in old if e["kind"] == "capture")), ("2026-02", new[0])):
        path = project / "archive" / "custody" / f"{month}.jsonl"
        raw = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        forged = json.dumps({**entry, "content": {**entry["content"], "target": "elsewhere"}}, sort_keys=True,
                            separators=(",", ":"), ensure_ascii=False).encode()
        data = path.read_bytes()
        assert data.count(raw + b"\n") == 1
        path.write_bytes(data.replace(raw + b"\n", forged + b"\n"))
    doc = verify(project)
    assert sorted((p["kind"], p["file"], p["seq"]) for p in doc["problems"]) == [
        ("line-altered", "custody/2026-01.jsonl", next(e for e in old if e["kind"] == "capture")["seq"]),
        ("line-altered", "custody/2026-02.jsonl", new[0]["seq"]),
    ]


def test_an_archive_of_an_entry_a_capture_goes_on_with_an_entry_a_commit_and_verifies_whole(project, site):
    """An archive whose capture entries are one a capture (``"v": 2``, #17 before ``"v": 3``) gone on by a run of
    the current code, one entry a commit: verify holds over both forms; a record changed under each is named,
    the new entry's with its capture; a whole export holds every record of both."""
    _as_written_before_17(project, v=2)
    assert verify(project)["problems"] == []
    old = _lines_of(project)
    assert sum(e["kind"] == "capture" for e in old) == len(_db(project, "select id from captures"))
    _set_now("2026-02-03T09:00:00Z")
    try:
        ran = lastseen(project, "run", "--json", "--force")
    finally:
        _set_now(None)
    assert ran.exit_code == 0, ran.stderr
    lines = _lines_of(project)
    assert lines[: len(old)] == old
    new = [e for e in lines[len(old):] if e["kind"] == "capture"]
    assert new and all(e["content"]["v"] == 3 for e in new)
    assert sum(len(e["content"]["captures"]) for e in new) == 6 > len(new)   # six captures, fewer entries
    assert verify(project)["problems"] == []
    exported = lastseen(project, "export", "--out", "all.wacz")
    assert exported.exit_code == 0, exported.stderr
    listed = {(e["content"]["warc_file"], _record(r)["offset"]) for e in lines if e["kind"] == "capture"
              for r in (e["content"]["records"] if e["content"].get("v") == 2 else
                        [*e["content"]["records"], *(r for c in e["content"]["captures"] for r in c[3])])}
    exported = _lines_of(project)[-1]   # its export entry: every record listed, of both forms, copied
    assert exported["kind"] == "export" and len(exported["content"]["records"]) == len(listed)
    # a WARC-Date changed (digests hold) in the old layout's last file and in the new run's file
    names = _warcs(project)
    for name in (names[1], names[2]):
        rec = next(r for r in _records(project, name) if r["type"] == "request")
        path = project / "archive" / name
        raw = _member(path, rec)
        changed = raw.replace(b"WARC-Date: 2026-0", b"WARC-Date: 2025-0", 1)
        assert changed != raw
        _splice(path, rec["offset"], rec["length"], gzip.compress(changed, mtime=0))
    doc = verify(project)
    altered = {p["file"]: p["message"] for p in doc["problems"] if p["kind"] == "record-altered"}
    assert set(altered) == {names[1], names[2]}
    assert altered[names[1]].startswith("its WARC headers or its block differ")   # a "v": 2 entry: its capture's
    cid = next(r for r in _records(project, names[2]) if r["type"] == "request")["capture"]
    assert altered[names[2]].startswith(f"capture {cid}'s record: its WARC headers or its block differ")


def test_a_record_deleted(project, update_golden):
    name = _warcs(project)[0]
    path = project / "archive" / name
    records = _records(project, name)
    rec = next(r for r in records if r["type"] == "request")
    _splice(path, rec["offset"], rec["length"], b"")
    said(project, "a record deleted", update_golden)
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


def test_a_file_deleted(project, update_golden):
    name = _warcs(project)[1]
    (project / "archive" / name).unlink()
    said(project, "a WARC file deleted", update_golden)
    doc = verify(project)
    assert problems(doc) == [("file-missing", name, None, None)]


def test_a_file_truncated(project, update_golden):
    name = _warcs(project)[0]
    path = project / "archive" / name
    records = _records(project, name)
    cut = records[-2]["offset"] + 10
    path.write_bytes(path.read_bytes()[:cut])
    said(project, "a WARC file truncated", update_golden)
    doc = verify(project)
    assert problems(doc) == [
        ("file-altered", name, None, None),
        ("record-unreadable", name, records[-2]["offset"], records[-2]["record_id"]),
        ("record-missing", name, records[-1]["offset"], records[-1]["record_id"]),
    ]
    assert doc["problems"][0]["message"].startswith(f"{cut} bytes, not ")


def _jsonl(project: Path, month: str) -> tuple[Path, list[bytes]]:
    path = project / "archive" / "custody" / f"{month}.jsonl"
    return path, path.read_bytes().splitlines(keepends=True)


def test_jsonl_lines_deleted_changed_and_reordered(project, update_golden):
    # one capture entry a commit (#17): January's first two lines swapped, February's first capture entry
    # changed and its second deleted
    path, lines = _jsonl(project, "2026-01")
    path2, lines2 = _jsonl(project, "2026-02")
    seqs, seqs2 = [json.loads(x)["seq"] for x in lines], [json.loads(x)["seq"] for x in lines2]
    captures = [i for i, x in enumerate(lines2) if json.loads(x)["kind"] == "capture"]
    assert len(lines) >= 3 and captures[:2] == [0, 1]
    c, d = captures[:2]
    changed = json.loads(lines2[c])
    changed["content"]["captures"][0][1] += "-renamed"  # a capture's target; its sha256 kept
    edited = json.dumps(changed, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    path.write_bytes(b"".join([lines[1], lines[0], *lines[2:]]))  # 1 and 2 swapped
    path2.write_bytes(b"".join([edited, *lines2[d + 1 :]]))  # c changed, d deleted
    said(project, "JSONL lines reordered, changed and deleted", update_golden)
    doc = verify(project)
    # c and d are capture entries, whose content only the copy holds (#17): c's no longer hashes to its
    # index entry; d's is gone, at the offset the index recorded, and with it the list of its captures' records,
    # so the index rows pointing at them are unchained
    deleted = json.loads(lines2[d])
    found = [(p["kind"], p["file"], p["offset"], p["seq"]) for p in doc["problems"]]
    assert found[:3] == [
        ("line-altered", "custody/2026-02.jsonl", 0, seqs2[c]),
        ("line-missing", "custody/2026-02.jsonl", len(lines2[c]), seqs2[d]),
        ("line-reordered", "custody/2026-01.jsonl", len(lines[1]), seqs[0]),
    ]
    offsets = {_record(r)["offset"] for r in deleted["content"]["records"]} | {
        _record(r)["offset"] for capture in deleted["content"]["captures"] for r in capture[3]}
    assert found[3:] and all(
        kind == "unchained" and file == deleted["content"]["warc_file"] and offset in offsets
        for kind, file, offset, _ in found[3:]
    )
    # every capture of the deleted line: its final record unchained
    finals = _db(project, "select warc_offset from captures where id in (%s)" % ",".join(
        str(capture[0]) for capture in deleted["content"]["captures"]))
    assert {o for (o,) in finals} <= {offset for _, _, offset, _ in found[3:]}
    assert (
        doc["problems"][0]["expected"]
        == changed["sha256"]
        != doc["problems"][0]["found"]
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


def test_the_whole_archive_replaced_by_a_consistent_one_without_the_chain(
    project, update_golden
):
    """The index's custody table emptied and the JSONL copy removed: the captures, WARC files and index
    agree with one another, but nothing vouches for them."""
    _db(project, "delete from custody")
    shutil.rmtree(project / "archive" / "custody")
    assert (
        lastseen(project, "status").exit_code == 0
    )  # a consistent archive: its commands work
    said(
        project,
        "the whole archive replaced by a consistent one without the chain",
        update_golden,
    )
    doc = verify(project)
    assert doc["chain_head"] is None
    assert problems(doc) == [
        ("chain-missing", "lastseen.db", None, None),
        *[("file-unrecorded", name, None, None) for name in _warcs(project)],
    ]


def test_an_archive_whose_chain_is_another_archive_s(
    project, site, tmp_path, update_golden
):
    """Index and WARC files of another archive (the same targets, fetched later) under this one's chain."""
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(project / "watchlist.yaml", other / "watchlist.yaml")
    assert lastseen(other, "run").exit_code == 0
    chain = _db(
        project,
        "select seq, kind, time, prev, content, sha256 from custody order by seq",
    )
    shutil.rmtree(project / "archive" / "warcs")
    shutil.copytree(other / "archive" / "warcs", project / "archive" / "warcs")
    shutil.copy(other / "archive" / "lastseen.db", project / "archive" / "lastseen.db")
    _db(project, "delete from custody")
    for row in chain:
        _db(project, "insert into custody values (?, ?, ?, ?, ?, ?)", *row)
    said(
        project,
        "the index and WARC files of another archive under this one's chain",
        update_golden,
    )
    doc = verify(project)
    kinds = {p["kind"] for p in doc["problems"]}
    assert kinds == {"unchained", "file-missing", "file-unrecorded"}, problems(doc)
    assert [
        p["file"] for p in doc["problems"] if p["kind"] == "file-unrecorded"
    ] == _warcs(project)


def test_a_record_appended_that_no_entry_lists(project, update_golden):
    name = _warcs(project)[0]
    path = project / "archive" / name
    size = path.stat().st_size
    body = b"WARC-Type: note\r\n"
    record = (
        b"WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
        b"WARC-Date: 2026-01-31T22:00:05Z\r\nContent-Type: text/plain\r\n"
        b"WARC-Block-Digest: " + _sha1(body).encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body + b"\r\n\r\n"
    )
    with open(path, "ab") as fh:
        fh.write(gzip.compress(record, mtime=0))
    said(project, "a record added that no entry lists", update_golden)
    doc = verify(project)
    assert problems(doc) == [
        ("file-altered", name, None, None),
        (
            "record-unexplained",
            name,
            size,
            "<urn:uuid:00000000-0000-4000-8000-000000000001>",
        ),
    ]


def test_an_entry_of_the_index_altered(project, update_golden):
    # a capture entry's row holds its fields but its content (kept only in the copy, #17): its time moved
    ((seq, time),) = _db(
        project,
        "select seq, time from custody where kind = 'capture' order by seq limit 1",
    )
    _db(project, "update custody set time = ? where seq = ?", time[:-2] + str((int(time[-2]) + 1) % 10) + "Z",
        seq)
    said(project, "a custody entry of the index altered", update_golden)
    doc = verify(project)
    assert [(p["kind"], p["file"], p["seq"]) for p in doc["problems"]] == [
        ("chain-broken", "lastseen.db", seq),
        ("line-altered", "custody/2026-01.jsonl", seq),
    ]


def test_a_capture_entry_s_row_naming_another_warc_file(project):
    """What the row of an entry kept only in the copy holds, its WARC file (what export finds entries by), is
    checked against the content its line holds."""
    ((seq, content),) = _db(
        project,
        "select seq, content from custody where kind = 'capture' order by seq limit 1",
    )
    other = _warcs(project)[1]
    assert json.loads(content)["warc_file"] != other
    _db(project, "update custody set content = ? where seq = ?", json.dumps({"warc_file": other}), seq)
    doc = verify(project)
    assert [(p["kind"], p["file"], p["seq"], p["found"]) for p in doc["problems"]] == [
        ("chain-broken", "lastseen.db", seq, other),
    ]
    assert doc["problems"][0]["message"] == "its row's warc_file is not its content's"


def test_since_and_only_restrict_the_records_re_read_not_the_files(project):
    name = _warcs(project)[0]  # January's
    path = project / "archive" / name
    rec = _response(project, name, "/p0")
    data = bytearray(path.read_bytes())
    data[rec["offset"] + rec["length"] // 2] ^= 0x01
    path.write_bytes(bytes(data))
    whole = verify(project)
    only_p0 = verify(project, "--only", "p0")
    only_odd = verify(project, "--only", "odd")  # p1 and p3
    since = verify(project, "--since", "2026-02-01")
    for doc in (whole, only_p0):
        assert ("record-unreadable", name, rec["offset"], rec["record_id"]) in problems(
            doc
        ) or ("record-altered", name, rec["offset"], rec["record_id"]) in problems(doc)
    for doc in (only_odd, since):
        assert problems(doc) == [
            ("file-altered", name, None, None)
        ]  # the file's SHA-256 always
    assert whole["checked"]["records"] > only_odd["checked"]["records"] > 0
    assert only_p0["scope"] == {"since": None, "only": ["p0"]}
    assert since["scope"]["since"] == "2026-02-01T00:00:00Z"
    assert whole["checked"]["files"] == since["checked"]["files"] == 2
    nothing = lastseen(project, "verify", "--only", "nobody")
    assert nothing.exit_code == 2 and "nobody" in nothing.stderr


def test_an_open_file_a_killed_run_left_is_listed_and_skipped(project):
    left = (
        project
        / "archive"
        / "warcs"
        / "lastseen-20260203000000000000-00000.warc.gz.open"
    )
    left.write_bytes((project / "archive" / _warcs(project)[0]).read_bytes()[:100])
    doc = verify(project)
    assert doc["ok"] is True and doc["open_files"] == [
        {
            "file": f"warcs/{left.name}",
            "why": "left by a run that did not finish; the next `lastseen run` recovers it",
        }
    ]


def test_another_check_is_one_function_appended_to_checks(project, monkeypatch):
    """How the trusted timestamps' check plugs in: a function ``(ctx) -> Iterable[Problem]`` in CHECKS."""
    from crawler import verify as verify_module
    from crawler.verifyproblems import Problem

    def tokens(ctx):
        yield Problem(
            "chain-broken",
            "custody/tokens",
            seq=ctx.entries[-1]["seq"],
            message="a token's check",
        )

    monkeypatch.setattr(verify_module, "CHECKS", [*verify_module.CHECKS, tokens])
    code, lines = verify_lines(project)
    assert code == 4 and lines[0].startswith("chain-broken: custody/tokens entry #")
    assert lines[0].endswith(": a token's check") and lines[1].startswith("1 problem: ")


def test_files_read_by_two_processes_say_what_one_says(project, monkeypatch):
    from crawler import verify as verify_module

    name = _warcs(project)[1]
    path = project / "archive" / name
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01
    path.write_bytes(bytes(data))
    one = verify(project)
    monkeypatch.setattr(verify_module, "PARALLEL_BYTES", 0)
    two = verify(project)
    assert two == one and [p["kind"] for p in one["problems"]] == [
        "file-altered",
        "record-unreadable",
    ]


def test_a_file_a_recovery_cut_holds_with_its_uncommitted_records_vouched_for(project):
    """A run killed mid-record (its ``.open`` file written here as WarcFileSet writes one, then torn, its
    whole records never committed): the next run cuts it back and records the cut; verify finds everything
    holds, the records no entry lists counted as vouched for by the file's entry."""
    from datetime import UTC, datetime

    from crawler.warc import WarcWriter
    from crawler.warcfiles import OPEN_SUFFIX, warc_filename

    from .factories import make_exchange

    t0 = datetime(2026, 2, 3, 8, 0, tzinfo=UTC)
    name = warc_filename(t0, 0)
    open_path = project / "archive" / "warcs" / (name + OPEN_SUFFIX)
    with open(open_path, "xb", buffering=0) as fh:
        writer = WarcWriter(fh)
        writer.warcinfo(
            t0, name, {"software": "t", "isPartOf": "20260203T080000Z-dead"}
        )
        refs = [
            writer.exchange(
                make_exchange(body, url="https://x.example/", started=t0.timestamp())
            )[1]
            for body in (b"kept", b"lost" * 500)
        ]
    open_path.write_bytes(open_path.read_bytes()[: refs[1].offset + 20])
    left = verify(project)
    assert left["ok"] is True and [f["file"] for f in left["open_files"]] == [
        f"warcs/{name}{OPEN_SUFFIX}"
    ]
    _set_now("2026-02-04T09:00:00Z")
    try:
        assert lastseen(project, "run").exit_code == 0
    finally:
        _set_now(None)
    doc = verify(project)
    assert doc["ok"] is True, doc["problems"]
    assert (
        doc["checked"]["unlisted_records"] == 2
    )  # the kept exchange's response and request
    assert doc["open_files"] == [] and doc["checked"]["files"] == 4


def test_verify_changes_nothing_in_the_archive(project):
    """Every file byte for byte, size and time, clean or not (SQLite's own ``-shm`` file of a reader aside:
    a read-only copy, where it cannot be made, is read as well: tests/test_readonly.py)."""

    def listing() -> dict:
        return {
            str(p.relative_to(project)): (
                p.stat().st_size,
                p.stat().st_mtime_ns,
                p.read_bytes(),
            )
            for p in sorted(project.rglob("*"))
            if p.is_file() and not p.name.endswith(("-shm", "-wal"))
        }

    before = listing()
    assert verify(project)["ok"] is True
    assert lastseen(project, "verify").exit_code == 0
    assert listing() == before
    path = project / "archive" / _warcs(project)[0]
    data = bytearray(path.read_bytes())
    data[-50] ^= 0x01
    path.write_bytes(bytes(data))
    before = listing()
    assert verify(project)["ok"] is False
    assert listing() == before
