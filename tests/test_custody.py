"""The custody log (#15): a hash chain of entries per capture, closed WARC file and recovery, in the index and
in ``archive/custody/YYYY-MM.jsonl``; its head published in ``--json``, the report and the alert message.

Every digest is recomputed here from what lastseen wrote (each record's gzip member, decompressed by
zlib; each file's bytes; each JSONL line), never taken from lastseen's own code.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sqlite3
import subprocess
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler import clock, recorder
from crawler.warc import WarcWriter
from crawler.warcfiles import OPEN_SUFFIX, warc_filename

from .factories import make_exchange
from .helpers import assert_contract, copy_project, lastseen, write_watchlist
from .sinks import AlertSink
from .site import Site

DAY_1 = "2026-01-31T22:00:00Z"  # January's file
DAY_2 = "2026-02-02T09:00:00Z"  # February's


def _set_now(value: str | None) -> None:
    os.environ.pop(clock.ENV_OFFSET, None)
    if value is None:
        os.environ.pop(clock.ENV_NOW, None)
    else:
        os.environ[clock.ENV_NOW] = value
    clock._reset()


@pytest.fixture
def at(monkeypatch):
    """Set lastseen's clock for what follows (``LASTSEEN_NOW``), restored after the test."""
    monkeypatch.delenv(clock.ENV_OFFSET, raising=False)
    monkeypatch.delenv(clock.ENV_NOW, raising=False)
    yield _set_now
    _set_now(None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs a few days apart (January, then February) over three pages, one of which changes; alerts to a
    local sink. Yields (project, [run 1 --json, run 2 --json], sink posts per run)."""
    root = tmp_path_factory.mktemp("custody")
    site = Site()
    with AlertSink() as sink:
        for i in range(3):
            site.set(
                f"/p{i}",
                f"<html><head><title>page {i}</title></head><body><p>page {i} says {i}</p></body></html>",
            )
        write_watchlist(
            root / "watchlist.yaml",
            [{"name": f"p{i}", "url": site.url(f"/p{i}")} for i in range(3)],
            settings={"every": "1h"},
            alerts=[sink.url],
        )
        docs, posts = [], []
        # Two captures a commit, whatever the pace: one custody entry lists two captures (#17), and each month's
        # JSONL holds the same lines on every test run.
        paced = pytest.MonkeyPatch()
        paced.setattr(recorder, "COMMIT_EVERY", 2)
        paced.setattr(recorder, "COMMIT_SECONDS", 3600.0)
        try:
            for n, when in enumerate((DAY_1, DAY_2)):
                _set_now(when)
                if n == 1:
                    site.set(
                        "/p1",
                        "<html><head><title>page 1</title></head><body><p>page 1 now says "
                        "something else entirely</p></body></html>",
                    )
                sink.clear()
                ran = lastseen(root, "run", "--json")
                assert ran.exit_code == 0, ran.stderr
                docs.append(ran.json)
                posts.append(list(sink.posts))
        finally:
            _set_now(None)
            paced.undo()
            site.close()
    return root, docs, posts


def _db(project: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _lines(project: Path) -> list[dict]:
    """Every JSONL line, file by file in name order, each parsed."""
    out = []
    for path in sorted((project / "archive" / "custody").glob("*.jsonl")):
        data = path.read_bytes()
        assert data.endswith(b"\n"), f"{path} ends in a torn line"
        out += [json.loads(line) for line in data.splitlines()]
    return out


def _entry_hash(entry: dict) -> str:
    """As docs/evidence.md says: SHA-256 of the JSON of every field but ``sha256``, keys sorted, no spaces, UTF-8."""
    body = {k: v for k, v in entry.items() if k != "sha256"}
    return hashlib.sha256(
        json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
    ).hexdigest()


def _members(path: Path) -> dict[int, tuple[int, bytes]]:
    """Each gzip member of ``path`` by offset: its length and its bytes decompressed (zlib, not lastseen)."""
    data = path.read_bytes()
    out, offset = {}, 0
    while offset < len(data):
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        raw = d.decompress(data[offset:])
        assert d.eof, f"{path}: torn gzip member at {offset}"
        length = len(data) - offset - len(d.unused_data)
        out[offset] = (length, raw)
        offset += length
    return out


def _warc_headers(path: Path) -> dict[int, dict]:
    """Each record's WARC headers by offset, read back with warcio."""
    out = {}
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            out[it.get_record_offset()] = dict(record.rec_headers.headers)
    return out


def _check_chain(lines: list[dict]) -> None:
    prev = "0" * 64
    for n, line in enumerate(lines, 1):
        assert line["seq"] == n, f"line {n} has seq {line['seq']}"
        assert line["prev"] == prev, f"entry {n} does not link to entry {n - 1}"
        assert _entry_hash(line) == line["sha256"], (
            f"entry {n}: its hash is not over its fields"
        )
        prev = line["sha256"]


def as_killed_before_lines(project: Path, seqs: list[int]) -> None:
    """The index as a run killed after its commit, before the JSONL lines of entries ``seqs`` were written and
    fsynced, leaves it: a capture entry's content still waiting in ``custody_pending``, no line offset (#17)."""
    lines = {e["seq"]: e for e in _lines(project)}
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    with conn:
        for seq in seqs:
            if lines[seq]["kind"] == "capture":
                content = json.dumps(lines[seq]["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                conn.execute("insert into custody_pending (seq, content) values (?, ?)", (seq, content))
                conn.execute("delete from custody_lines where seq = ?", (seq,))
    conn.close()


# -- entries per capture and per file -------------------------------------------------------------------


def test_every_capture_has_an_entry_whose_record_digests_are_those_of_the_records_read_back(
    runs,
):
    project, _, _ = runs
    listed = [e["content"] for e in _lines(project) if e["kind"] == "capture"]
    # one entry per commit and WARC file (#17, "v": 3): the captures committed with their records in it, each
    # [capture_id, target, role, records], and the batch capture records written to it since the commit before
    captures = _db(
        project,
        "select id, warc_file, warc_offset, warc_record_id, target from captures order by id",
    )
    assert listed and all(c["v"] == 3 and set(c) == {"v", "run", "warc_file", "captures", "records"} for c in listed)
    by_capture = {}
    for content in listed:
        for cid, target, role, records in content["captures"]:
            assert cid not in by_capture
            by_capture[cid] = {"run": content["run"], "warc_file": content["warc_file"], "target": target,
                               "role": role, "records": records}
    assert captures and sorted(by_capture) == [c[0] for c in captures]
    # fewer entries than captures: a commit's captures share one (a batch capture record may be alone)
    assert sum(1 for c in listed if c["captures"]) < len(captures)
    covered = set()

    def check(warc_file, records):
        path = project / "archive" / warc_file
        members, headers = _members(path), _warc_headers(path)
        for r in records:
            length, raw = members[r["offset"]]
            assert r["length"] == length
            assert r["sha256"] == hashlib.sha256(raw).hexdigest()
            h = headers[r["offset"]]
            assert f"<urn:uuid:{r['uuid']}>" == h["WARC-Record-ID"] and r["type"] == h["WARC-Type"]
            covered.add((warc_file, r["offset"]))

    def compact(records):
        return [dict(zip(("type", "offset", "length", "uuid", "sha256"), r, strict=True)) for r in records]

    # the batches' capture records: each a metadata record listing captures (its block read back), listed once
    listing = {}  # (file, offset of a batch record) -> its block
    for content in listed:
        batch = compact(content["records"])
        assert [r["type"] for r in batch] == ["metadata"] * len(batch)
        assert batch or content["captures"]
        check(content["warc_file"], batch)
        for record in batch:
            raw = _members(project / "archive" / content["warc_file"])[record["offset"]][1]
            head, block = raw[:-4].split(b"\r\n\r\n", 1)
            assert b"WARC-Target-URI: urn:lastseen:captures:" + content["run"].encode() in head
            lines = block.decode().split("\r\n")
            assert lines[:2] == ["lastseen-capture: 2", f"run: {content['run']}"]
            assert (content["warc_file"], record["offset"]) not in listing
            listing[(content["warc_file"], record["offset"])] = block
    assert listing and sum(b.count(b"\r\ncapture: ") for b in listing.values()) == len(captures)
    for cid, warc_file, offset, record_id, target in captures:
        content = by_capture[cid]
        assert content["warc_file"] == warc_file and content["target"] == target
        # the compact form (#17): each record [type, offset, length, uuid, sha256], nothing else (its WARC
        # digests are in its headers, which its sha256 covers)
        records = compact(content["records"])
        # request, response (or revisit); its capture record is its batch's, listed by the entry's "records"
        assert {r["type"] for r in records} >= {"request"}
        assert "metadata" not in [r["type"] for r in records]
        assert any(
            f"<urn:uuid:{r['uuid']}>" == record_id and r["offset"] == offset for r in records
        )
        check(warc_file, records)
        # listed by the first batch record after its records in its file
        own = [r["offset"] for r in records]
        after = min(o for f, o in listing if f == warc_file and o > max(own))
        assert f" {record_id} ".encode() in listing[(warc_file, after)]
        assert f"target: {content['target']}\r\n".encode() in listing[(warc_file, after)]
    # every record of every file is a capture's or a batch's, but each file's warcinfo record
    for path in sorted((project / "archive" / "warcs").glob("*.warc.gz")):
        rel = f"warcs/{path.name}"
        types = {off: h["WARC-Type"] for off, h in _warc_headers(path).items()}
        assert {off for off in types if (rel, off) not in covered} == {0} and types[
            0
        ] == "warcinfo"


def test_every_closed_file_has_a_file_entry_with_its_sha256_and_size(runs):
    project, _, _ = runs
    files = {
        e["content"]["file"]: e["content"]
        for e in _lines(project)
        if e["kind"] == "file"
    }
    paths = sorted((project / "archive" / "warcs").glob("*.warc.gz"))
    assert len(paths) == 2 and sorted(files) == [f"warcs/{p.name}" for p in paths]
    for p in paths:
        data = p.read_bytes()
        assert files[f"warcs/{p.name}"] == {
            "file": f"warcs/{p.name}",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }


def test_the_chain_links_from_the_jsonl_alone_and_equals_the_index(runs):
    project, _, _ = runs
    lines = _lines(project)
    _check_chain(lines)
    # each entry where its month says: January's run in 2026-01.jsonl, February's in 2026-02.jsonl
    names = sorted(p.name for p in (project / "archive" / "custody").glob("*.jsonl"))
    assert names == ["2026-01.jsonl", "2026-02.jsonl"]
    for path in (project / "archive" / "custody").glob("*.jsonl"):
        assert {
            json.loads(line)["time"][:7] for line in path.read_bytes().splitlines()
        } == {path.stem}
    # a line is exactly the entry's canonical form
    for path in (project / "archive" / "custody").glob("*.jsonl"):
        for raw in path.read_bytes().splitlines():
            entry = json.loads(raw)
            assert (
                raw
                == json.dumps(
                    entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                ).encode()
            )
    rows = _db(
        project,
        "select seq, kind, time, prev, content, sha256 from custody order by seq",
    )
    # the index holds every entry's fields; a capture entry's content only in the copy (#17): its row holds its
    # WARC file, and the byte offset of its line; nothing waits in custody_pending once the lines are fsynced
    offsets = dict(_db(project, "select seq, offset from custody_lines"))
    assert _db(project, "select count(*) from custody_pending") == [(0,)]
    assert len(rows) == len(lines)
    for (s, k, t, p, c, h), line in zip(rows, lines, strict=True):
        assert {"seq": s, "kind": k, "time": t, "prev": p, "sha256": h} == {
            f: line[f] for f in ("seq", "kind", "time", "prev", "sha256")
        }
        if k == "capture":
            assert json.loads(c) == {"warc_file": line["content"]["warc_file"]}
            data = (project / "archive" / "custody" / f"{t[:7]}.jsonl").read_bytes()
            assert json.loads(data[offsets[s] :].split(b"\n", 1)[0]) == line
        else:
            assert json.loads(c) == line["content"] and s not in offsets


def _records_recipe() -> str:
    """docs/evidence.md's shell recipe that checks every record a ``capture`` entry lists (jq, zcat, sha256sum)."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "evidence.md").read_text()
    after = doc.split("Every record every `capture` entry lists", 1)[1]
    return after.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_docs_recipe_checks_every_record_against_its_entry_and_names_one_changed(runs, tmp_path):
    project = copy_project(runs[0], tmp_path)
    recipe = _records_recipe()
    clean = subprocess.run(["bash", "-c", recipe], cwd=project, capture_output=True, text=True, check=False)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")
    # one byte of a record changed, its member gzipped again (the records after it move: named too)
    # (a record of a capture a "v": 3 entry lists, #17: not its batch capture record)
    entry = next(e for e in _lines(project) if e["kind"] == "capture" and e["content"]["captures"])
    _, offset, length, _, _ = entry["content"]["captures"][0][3][0]
    path = project / "archive" / entry["content"]["warc_file"]
    data = path.read_bytes()
    raw = zlib.decompress(data[offset : offset + length], zlib.MAX_WBITS | 16)
    new = gzip.compress(raw[:-5] + bytes([raw[-5] ^ 1]) + raw[-4:], mtime=0)
    path.write_bytes(data[:offset] + new + data[offset + length :])
    found = subprocess.run(["bash", "-c", recipe], cwd=project, capture_output=True, text=True, check=False)
    named = f"{entry['content']['warc_file']} offset {offset}: not the record its entry lists"
    assert named in found.stdout.splitlines()


# -- the JSONL copy completed by the next run -----------------------------------------------------------


def test_lines_a_killed_run_did_not_write_are_completed_by_the_next_run(runs, tmp_path):
    """A run killed after its commit but before its JSONL lines: the index has the entries, the copy lacks
    them (the last lines deleted, and the line before them torn mid-write); the next run appends them."""
    project = copy_project(runs[0], tmp_path)
    before = _lines(project)
    path = project / "archive" / "custody" / "2026-02.jsonl"
    data = path.read_bytes().splitlines(keepends=True)
    assert len(data) >= 3
    as_killed_before_lines(project, [json.loads(line)["seq"] for line in data[-3:]])
    kept = (
        b"".join(data[:-3]) + data[-3][: len(data[-3]) // 2]
    )  # three lines missing, the first of them torn
    path.write_bytes(kept)
    ran = lastseen(project, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    after = _lines(project)
    assert after[: len(before)] == before  # the missing lines written back as they were
    assert len(after) > len(before)  # and this run's own after them
    _check_chain(after)
    rows = _db(project, "select seq, sha256 from custody order by seq")
    assert [(e["seq"], e["sha256"]) for e in after] == rows


def test_lines_a_killed_run_wrote_but_did_not_record_are_found_again_by_the_next_start(runs, tmp_path):
    """Killed after its lines were written, before they were fsynced and recorded (#17): their entries' content
    still waits in the index; the next start finds each line, exactly its entry, and keeps the content there
    only."""
    project = copy_project(runs[0], tmp_path)
    before = _lines(project)
    waiting = [e["seq"] for e in before[-4:] if e["kind"] == "capture"]
    assert waiting
    offsets = dict(_db(project, "select seq, offset from custody_lines"))
    as_killed_before_lines(project, waiting)
    ran = lastseen(project, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert _db(project, "select count(*) from custody_pending") == [(0,)]
    again = dict(_db(project, "select seq, offset from custody_lines"))
    assert {s: again[s] for s in waiting} == {s: offsets[s] for s in waiting}
    assert _lines(project)[: len(before)] == before
    verified = lastseen(project, "verify", "--json")
    assert verified.exit_code == 0, verified.stdout


# -- the chain head, published --------------------------------------------------------------------------


def test_the_chain_head_is_in_the_json_the_report_footers_and_the_alert_message(runs):
    project, docs, posts = runs
    lines = _lines(project)
    seq_at_end, heads = 0, []
    for doc, run_posts in zip(docs, posts):
        assert_contract(doc)
        head = doc["run"]["chain_head"]
        heads.append(head)
        # the last entry once the run's entries are committed: its own captures' entries and its file's come before
        run_entries = [
            e
            for e in lines
            if e["kind"] == "capture" and e["content"]["run"] == doc["run"]["id"]
        ]
        assert (
            run_entries
            and head["seq"] > max(e["seq"] for e in run_entries) > seq_at_end
        )
        entry = lines[head["seq"] - 1]
        assert (
            head == {"seq": entry["seq"], "sha256": entry["sha256"]}
            and entry["kind"] == "file"
        )
        seq_at_end = head["seq"]
        witness = f"Custody chain head: #{head['seq']} {head['sha256']}"
        # every page of the run's report says it in its footer
        report = project / "reports" / doc["run"]["id"]
        pages = sorted(report.glob("*.html"))
        assert pages
        for page in pages:
            footer = page.read_text().rsplit("<footer>", 1)[1]
            assert (
                f"Custody chain head: #{head['seq']} <code>{head['sha256']}</code>"
            ) in footer, page
        # and the alert message's last line (the first run alerts nothing: new targets are the baseline)
        if doc["run"]["alerts"]:
            (post,) = run_posts
            assert post["message"].splitlines()[-1] == witness
    assert heads[1] == {
        "seq": lines[-1]["seq"],
        "sha256": lines[-1]["sha256"],
    }  # the second run's is the last
    assert docs[1]["run"]["alerts"], "the changed page alerts"


# -- recovery entries and reindex --------------------------------------------------------------------------


def test_a_recovery_that_cuts_an_open_file_is_an_entry_followed_by_the_file_it_closed(
    runs, tmp_path
):
    """A run killed mid-record leaves a `.open` file (written here as WarcFileSet writes one, then torn): the
    next run's start cuts it back, and the chain records what it removed and the SHA-256 of what it kept."""
    project = copy_project(runs[0], tmp_path)
    warcs = project / "archive" / "warcs"
    t0 = datetime(2026, 2, 3, 8, 0, tzinfo=UTC)
    name = warc_filename(t0, 0)
    open_path = warcs / (name + OPEN_SUFFIX)
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
    whole = open_path.read_bytes()
    open_path.write_bytes(
        whole[: refs[1].offset + 20]
    )  # killed: the second record torn
    before = len(_lines(project))
    ran = lastseen(project, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    (cut,) = [r for r in ran.json["run"]["recovered"] if r["action"] == "cut"]
    kept = (warcs / name).read_bytes()
    assert cut["cut_at"] == len(kept) and cut["bytes_removed"] == refs[
        1
    ].offset + 20 - len(kept)
    lines = _lines(project)
    _check_chain(lines)
    recovery, file_entry = (
        lines[before],
        lines[before + 1],
    )  # the first entries of the run: at its start
    assert recovery["kind"] == "recovery" and recovery["content"] == {
        "file": f"warcs/{name}",
        "cut_at": len(kept),
        "bytes_removed": cut["bytes_removed"],
        "kept_sha256": hashlib.sha256(kept).hexdigest(),
        "aborted_run": "20260203T080000Z-dead",
        "run": ran.json["run"]["id"],
    }
    assert file_entry["kind"] == "file" and file_entry["content"] == {
        "file": f"warcs/{name}",
        "sha256": hashlib.sha256(kept).hexdigest(),
        "size": len(kept),
    }
    rows = _db(project, "select seq, sha256 from custody order by seq")
    assert [(e["seq"], e["sha256"]) for e in lines] == rows


def test_reindex_restores_the_custody_log_from_its_jsonl_copy_and_says_so(
    runs, tmp_path
):
    project = copy_project(runs[0], tmp_path)
    lines = _lines(project)
    for path in (project / "archive").glob("lastseen.db*"):
        path.unlink()  # the index is lost
    ran = lastseen(project, "reindex")
    assert ran.exit_code == 0, ran.stderr
    head = lines[-1]
    assert (
        f"custody log restored from archive/custody/*.jsonl: {len(lines)} lines, the chain checked, "
        f"head #{head['seq']} {head['sha256']}"
    ) in ran.stdout
    rows = _db(
        project,
        "select seq, kind, time, prev, content, sha256 from custody order by seq",
    )
    # restored whole (content in the rows: the copy is read once, not kept apart again)
    assert [
        {"seq": s, "kind": k, "time": t, "prev": p, "content": json.loads(c), "sha256": h}
        for s, k, t, p, c, h in rows
    ] == lines
    # the next run chains on from the restored head
    again = lastseen(project, "run", "--json")
    assert again.exit_code == 0, again.stderr
    after = _lines(project)
    _check_chain(after)
    assert (
        after[: len(lines)] == lines
        and again.json["run"]["chain_head"]["seq"] == after[-1]["seq"] > head["seq"]
    )


def test_reindex_keeps_the_chain_up_to_an_altered_line_and_names_it(runs, tmp_path):
    project = copy_project(runs[0], tmp_path)
    lines = _lines(project)
    path = project / "archive" / "custody" / "2026-01.jsonl"
    raw = path.read_bytes().splitlines(keepends=True)
    raw[1] = raw[1].replace(b'"kind":"', b'"kind":"x', 1)  # entry 2 altered (a capture or a file entry)
    path.write_bytes(b"".join(raw))
    for p in (project / "archive").glob("lastseen.db*"):
        p.unlink()
    ran = lastseen(project, "reindex")
    assert ran.exit_code == 0, ran.stderr
    assert "custody log restored from archive/custody/*.jsonl: 1 line," in ran.stdout
    assert (
        f"custody log: {len(lines) - 1} later lines of archive/custody/*.jsonl left out: entry 2: its sha256 "
        f"is not the hash of its fields"
    ) in ran.stdout
    assert _db(project, "select seq from custody") == [(1,)]
