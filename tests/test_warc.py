"""The WARC writer and file set: record shapes, digests, rotation, crash recovery."""

from __future__ import annotations

import gzip
import itertools
from datetime import datetime, timezone

from crawler.archive import Archive
from crawler.fetch.model import Exchange
from crawler.warc import (
    RevisitOf, WarcFileSet, WarcWriter, complete_members_end, recover_open_files, sha1_digest,
    stored_response_headers,
)

from .helpers import warc_records

T0 = datetime(2026, 11, 22, 10, 15, tzinfo=timezone.utc)


def exchange(body=b"<p>hello</p>", **kw) -> Exchange:
    base = dict(
        url="https://vendor.example/case/belgrade?x=1", method="GET",
        request_headers=[("Host", "vendor.example"), ("User-Agent", "lastseen-test")],
        started=T0.timestamp(), duration=0.25, protocol="HTTP/1.1", status=200, reason="OK",
        response_headers=[("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"), ("Content-Length", "999")],
        body=body, ip="127.0.0.1",
    )
    base.update(kw)
    return Exchange(**base)


def ids():
    counter = itertools.count()
    return lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>"


def test_headers_describe_the_stored_payload():
    hdrs = dict(stored_response_headers(exchange(b"12345")))
    assert "Transfer-Encoding" not in hdrs and hdrs["Content-Length"] == "5"


def test_output_is_deterministic_given_ids_and_dates(tmp_path):
    outs = []
    for n in range(2):
        path = tmp_path / f"{n}.warc.gz"
        with open(path, "wb") as fh:
            w = WarcWriter(fh, make_id=ids())
            w.warcinfo(T0, "x.warc.gz", {"software": "lastseen/test"})
            w.exchange(exchange())
        outs.append(gzip.decompress(path.read_bytes()))
    assert outs[0] == outs[1]
    text = outs[0].decode()
    assert "WARC-Date: 2026-11-22T10:15:00.000000Z" in text
    assert f"WARC-Payload-Digest: {sha1_digest(b'<p>hello</p>')}" in text
    assert "WARC-Concurrent-To: <urn:uuid:00000000-0000-4000-8000-000000000001>" in text
    assert "GET /case/belgrade?x=1 HTTP/1.1" in text


def test_revisit_and_truncated_records(tmp_path):
    path = tmp_path / "r.warc.gz"
    with open(path, "wb") as fh:
        w = WarcWriter(fh, make_id=ids())
        _, first = w.exchange(exchange())
        _, rev = w.exchange(exchange(), revisit=RevisitOf(first.record_id, "https://vendor.example/x", "2026-11-21T00:00:00Z"))
        w.exchange(exchange(b"partial", truncated="length"))
    recs = warc_records(path)
    types = [r[1] for r in recs]
    assert types == ["response", "request", "revisit", "request", "response", "request"]
    revisit = recs[2][2]
    assert revisit.get_header("WARC-Refers-To") == first.record_id
    assert revisit.get_header("WARC-Payload-Digest") == sha1_digest(b"<p>hello</p>") and recs[2][4] == b""
    assert recs[4][2].get_header("WARC-Truncated") == "length"


def test_rotation_and_final_names(tmp_path):
    fs = WarcFileSet(tmp_path, started=T0, warcinfo={"software": "t"}, max_size=2000)
    names = set()
    for i in range(30):
        w, name = fs.writer()
        names.add(name)
        w.exchange(exchange(bytes([65 + i % 26]) * 500))
    fs.close()
    assert len(names) > 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # all closed, none .open
    for name in names:
        assert name.startswith("lastseen-20261122101500000000-") and name.endswith(".warc.gz")
        recs = warc_records(tmp_path / name)
        assert recs[0][1] == "warcinfo"


def test_recovery_cuts_a_torn_record_and_keeps_the_rest(tmp_path):
    fs = WarcFileSet(tmp_path, started=T0, warcinfo={"software": "t"})
    w, name = fs.writer()
    for i in range(3):
        w.exchange(exchange(f"<p>{i}</p>".encode()))
    fs.sync()
    good_end = (tmp_path / (name + ".open")).stat().st_size
    w.exchange(exchange(b"x" * 5000))
    fs.sync()
    fs._file.close()  # simulate a kill: file left .open ...
    open_path = tmp_path / (name + ".open")
    data = open_path.read_bytes()
    open_path.write_bytes(data[: good_end + (len(data) - good_end) // 2 + 7])  # ... mid-record
    assert complete_members_end(open_path) > 0
    recovered = recover_open_files(tmp_path)
    assert [r.name for r in recovered] == [name]
    assert not open_path.exists() and (tmp_path / name).exists()
    recs = warc_records(tmp_path / name)
    # warcinfo + 3 complete exchanges + the complete response of the 4th (its request was torn)
    assert [r[1] for r in recs][:7] == ["warcinfo"] + ["response", "request"] * 3
    assert recovered[0].cut_bytes > 0


def test_recovery_removes_a_file_with_no_complete_record(tmp_path):
    (tmp_path / "lastseen-x-00000.warc.gz.open").write_bytes(b"\x1f\x8b\x08\x00garbage")
    rec = recover_open_files(tmp_path)
    assert rec[0].removed and not list(tmp_path.iterdir())


def test_archive_open_recovers_and_forgets_rows_past_the_cut(tmp_path):
    archive = Archive.open(tmp_path)
    store = archive.store
    store.begin_run({"id": "r1", "started": "2026-11-22T10:15:00Z"})
    store.upsert_targets([{"name": "t", "url": "https://x.example/", "tags": "[]", "first_seen": "", "updated": ""}])
    fs = WarcFileSet(archive.warc_dir, started=T0, warcinfo={"software": "t"})
    w, name = fs.writer()
    _, kept = w.exchange(exchange(b"kept"))
    fs.sync()
    end = (archive.warc_dir / (name + ".open")).stat().st_size
    _, lost = w.exchange(exchange(b"lost" * 100))
    fs.sync()
    with store.transaction():
        for ref in (kept, lost):
            store.insert_capture(
                {"run_id": "r1", "target": "t", "url": "https://x.example/", "started": "2026-11-22T10:15:00Z",
                 "warc_file": f"warcs/{name}", "warc_offset": ref.offset, "warc_length": ref.length},
                [], None, {"run_id": "r1", "target": "t", "verdict": "new"},
            )
    fs._file.close()
    path = archive.warc_dir / (name + ".open")
    path.write_bytes(path.read_bytes()[: end + 10])
    archive.close()
    again = Archive.open(tmp_path)
    try:
        rows = again.store.conn.execute("select warc_offset from captures").fetchall()
        assert rows == [(kept.offset,)]
        assert again.aborted_runs == ["r1"]
        assert (again.warc_dir / name).exists()
    finally:
        again.close()
