"""The WARC writer and file set: record shapes, digests, golden records, rotation, crash recovery."""

from __future__ import annotations

import gzip
import http.client
import itertools
import re
import subprocess
import sys
import zlib
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

import crawler.warc
from crawler.archive import Archive
from crawler.warc import RevisitOf, WarcWriter, sha1_digest, stored_response_headers, warc_date
from crawler.warcfiles import WARC_SPEC, WarcFileSet, complete_members_end, recover_open_files

from .factories import T0, make_exchange
from .helpers import warc_records

GOLDEN = Path(__file__).parent / "golden" / "warc" / "records.txt"
WARCIO = Path(sys.executable).with_name("warcio")


def ids():
    counter = itertools.count()
    return lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>"


def test_headers_describe_the_stored_payload():
    hdrs = dict(stored_response_headers(make_exchange(b"12345")))
    assert "Transfer-Encoding" not in hdrs and hdrs["Content-Length"] == "5"


def test_output_is_deterministic_given_ids_and_dates(tmp_path):
    outs = []
    for n in range(2):
        path = tmp_path / f"{n}.warc.gz"
        with open(path, "wb") as fh:
            w = WarcWriter(fh, make_id=ids())
            w.warcinfo(T0, "x.warc.gz", {"software": "lastseen/test"})
            w.exchange(make_exchange())
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
        _, first = w.exchange(make_exchange())
        _, rev = w.exchange(make_exchange(), revisit=RevisitOf(first.record_id, "https://vendor.example/x", "2026-11-21T00:00:00Z"))
        w.exchange(make_exchange(b"partial", truncated="length"))
    recs = warc_records(path)
    types = [r[1] for r in recs]
    assert types == ["response", "request", "revisit", "request", "response", "request"]
    revisit = recs[2][2]
    assert revisit.get_header("WARC-Refers-To") == first.record_id
    assert revisit.get_header("WARC-Payload-Digest") == sha1_digest(b"<p>hello</p>") and recs[2][4] == b""
    assert recs[4][2].get_header("WARC-Truncated") == "length"


# -- resource and metadata records ----------------------------------------------------------------

SCREENSHOT = (  # a PNG signature and a 1x1 IHDR chunk: binary, with CR/LF bytes in it
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)


def parse_warc_fields(block: bytes) -> list[tuple[str, str]]:
    """(name, value) pairs of an application/warc-fields block, read by http.client's own parser."""
    assert block == b"" or block.endswith(b"\r\n")
    message = http.client.parse_headers(BytesIO(block + b"\r\n"))
    return list(message.items())


def read_records(path: Path) -> list:
    """(type, WARC headers, HTTP headers, raw block after any HTTP headers) per record, digests verified."""
    out = []
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh, check_digests="raise"):
            out.append((record.rec_type, record.rec_headers, record.http_headers, record.raw_stream.read()))
    return out


def test_resource_record(tmp_path):
    path = tmp_path / "r.warc.gz"
    with open(path, "wb") as fh:
        w = WarcWriter(fh, make_id=ids())
        _, response = w.exchange(make_exchange())
        ref = w.resource(
            "urn:screenshot:https://vendor.example/case/belgrade?x=1", T0, "image/png", SCREENSHOT,
            concurrent_to=response.record_id,
            extra={"WARC-Identified-Payload-Type": "image/png", "WARC-Truncated": None},
        )
    assert ref.record_type == "resource" and ref.record_id.startswith("<urn:uuid:00000000-0000-4000-8000-")
    rtype, headers, http_headers, block = read_records(path)[-1]
    assert (rtype, http_headers, block) == ("resource", None, SCREENSHOT)
    assert headers.get_header("WARC-Target-URI") == "urn:screenshot:https://vendor.example/case/belgrade?x=1"
    assert headers.get_header("WARC-Date") == "2026-11-22T10:15:00.000000Z"
    assert headers.get_header("Content-Type") == "image/png"
    assert headers.get_header("Content-Length") == str(len(SCREENSHOT))
    assert headers.get_header("WARC-Block-Digest") == sha1_digest(SCREENSHOT)
    assert headers.get_header("WARC-Payload-Digest") == sha1_digest(SCREENSHOT)
    assert headers.get_header("WARC-Concurrent-To") == response.record_id
    assert headers.get_header("WARC-Identified-Payload-Type") == "image/png"
    assert headers.get_header("WARC-Truncated") is None  # None values are left out


def test_resource_without_concurrent_to_and_extra(tmp_path):
    path = tmp_path / "r.warc.gz"
    with open(path, "wb") as fh:
        WarcWriter(fh, make_id=ids()).resource("urn:dom:https://x.example/", T0.timestamp(), "text/html", b"")
    rtype, headers, _, block = read_records(path)[0]
    assert rtype == "resource" and block == b""
    assert headers.get_header("WARC-Concurrent-To") is None
    assert headers.get_header("WARC-Block-Digest") == sha1_digest(b"")


@pytest.mark.parametrize("name", ["WARC-Type", "warc-record-id", "Content-Length", "WARC-Block-Digest",
                                  "WARC-Concurrent-To", "X Bad", "X-Bad:", "X-Bad\r\nWARC-Type"])
def test_resource_extra_may_not_replace_its_own_headers_or_forge_names(tmp_path, name):
    with open(tmp_path / "r.warc.gz", "wb") as fh:
        w = WarcWriter(fh, make_id=ids())
        with pytest.raises(ValueError):
            w.resource("urn:x:y", T0, "text/plain", b"x", extra={name: "v"})
        assert fh.tell() == 0  # nothing half-written


def test_metadata_record(tmp_path):
    fields = [
        ("via", "https://vendor.example/"),
        ("outlink", "https://vendor.example/a L a/@href"),
        ("fetchTimeMs", 250),
        ("skipped", None),
        ("outlink", "https://vendor.example/b L a/@href"),
        ("title", "Beograd \u2013 \u0411\u0435\u043e\u0433\u0440\u0430\u0434"),
    ]
    path = tmp_path / "m.warc.gz"
    with open(path, "wb") as fh:
        w = WarcWriter(fh, make_id=ids())
        ref = w.metadata(
            "https://vendor.example/case/belgrade?x=1", T0, fields,
            concurrent_to="<urn:uuid:aaaa>", refers_to="<urn:uuid:bbbb>",
        )
    assert ref.record_type == "metadata"
    rtype, headers, http_headers, block = read_records(path)[0]
    assert rtype == "metadata" and http_headers is None
    assert headers.get_header("Content-Type") == "application/warc-fields"
    assert headers.get_header("WARC-Concurrent-To") == "<urn:uuid:aaaa>"
    assert headers.get_header("WARC-Refers-To") == "<urn:uuid:bbbb>"
    assert headers.get_header("WARC-Block-Digest") == sha1_digest(block)
    assert headers.get_header("WARC-Payload-Digest") == sha1_digest(block)
    assert block.startswith(b"via: https://vendor.example/\r\noutlink: https://vendor.example/a L a/@href\r\n")
    parsed = parse_warc_fields(block)  # http.client reads the bytes as latin-1: decode the values back
    assert [(k, v.encode("latin-1").decode("utf-8")) for k, v in parsed] == [
        (k, str(v)) for k, v in fields if v is not None
    ]


def test_metadata_without_links_or_fields(tmp_path):
    path = tmp_path / "m.warc.gz"
    with open(path, "wb") as fh:
        WarcWriter(fh, make_id=ids()).metadata("https://x.example/", T0, [])
    rtype, headers, _, block = read_records(path)[0]
    assert (rtype, block) == ("metadata", b"")
    assert headers.get_header("WARC-Concurrent-To") is None and headers.get_header("WARC-Refers-To") is None


EVIL = "\r\nWARC-Type: response\r\nX-Evil: 1\n\r\n\rX-Evil: 2"


def test_hostile_values_cannot_add_a_header(tmp_path):
    path = tmp_path / "h.warc.gz"
    with open(path, "wb") as fh:
        w = WarcWriter(fh, make_id=ids())
        w.resource(
            "urn:screenshot:https://x.example/" + EVIL, T0, "image/png" + EVIL, SCREENSHOT,
            concurrent_to="<urn:uuid:aaaa>" + EVIL, extra={"WARC-Identified-Payload-Type": "image/png" + EVIL},
        )
        w.metadata(
            "https://x.example/" + EVIL, T0, [("title", "t" + EVIL), ("outlink", EVIL)],
            concurrent_to="<urn:uuid:aaaa>" + EVIL, refers_to="<urn:uuid:bbbb>" + EVIL,
        )
        w.warcinfo(T0, "f.warc.gz" + EVIL, {"watchlist": "w.yaml" + EVIL})
        w.exchange(make_exchange(
            url="https://x.example/" + EVIL, reason="OK" + EVIL,
            request_headers=[("Host", "x.example" + EVIL)],
            response_headers=[("Content-Type", "text/html" + EVIL), ("Set-Cookie", "a=1\nLocation: https://evil/")],
        ))
    records = read_records(path)
    expected_names = {
        "resource": ["WARC-Type", "WARC-Record-ID", "WARC-Date", "WARC-Target-URI", "WARC-Concurrent-To",
                     "WARC-Identified-Payload-Type", "WARC-Payload-Digest", "WARC-Block-Digest", "Content-Type",
                     "Content-Length"],
        "metadata": ["WARC-Type", "WARC-Record-ID", "WARC-Date", "WARC-Target-URI", "WARC-Concurrent-To",
                     "WARC-Refers-To", "WARC-Payload-Digest", "WARC-Block-Digest", "Content-Type", "Content-Length"],
        "warcinfo": ["WARC-Type", "WARC-Record-ID", "WARC-Date", "WARC-Filename", "WARC-Block-Digest",
                     "Content-Type", "Content-Length"],
        "response": ["WARC-Type", "WARC-Record-ID", "WARC-Date", "WARC-Target-URI", "WARC-IP-Address",
                     "WARC-Payload-Digest", "WARC-Block-Digest", "Content-Type", "Content-Length"],
        "request": ["WARC-Type", "WARC-Record-ID", "WARC-Date", "WARC-Target-URI", "WARC-IP-Address",
                    "WARC-Concurrent-To", "WARC-Payload-Digest", "WARC-Block-Digest", "Content-Type",
                    "Content-Length"],
    }
    assert [r[0] for r in records] == ["resource", "metadata", "warcinfo", "response", "request"]
    for rtype, headers, http_headers, block in records:
        assert [name for name, _ in headers.headers] == expected_names[rtype], rtype
        for name, value in headers.headers:
            assert "\r" not in value and "\n" not in value
        if http_headers is not None:
            assert "X-Evil" not in [n for n, _ in http_headers.headers] and not http_headers.get_header("Location")
    resource, metadata, warcinfo, response, _ = records
    # a URI keeps what it said, percent-encoded; other values have their line breaks blanked
    assert resource[1].get_header("WARC-Target-URI") == (
        "urn:screenshot:https://x.example/%0D%0AWARC-Type:%20response%0D%0AX-Evil:%201%0A%0D%0A%0DX-Evil:%202"
    )
    assert resource[1].get_header("Content-Type") == "image/png WARC-Type: response X-Evil: 1 X-Evil: 2"
    assert [k for k, _ in parse_warc_fields(metadata[3])] == ["title", "outlink"]
    assert [k for k, _ in parse_warc_fields(warcinfo[3])] == ["watchlist"]
    assert response[2].statusline == "200 OK WARC-Type: response X-Evil: 1 X-Evil: 2"
    # the payload and its digest are untouched
    assert response[3] == b"<p>hello</p>" and resource[3] == SCREENSHOT


@pytest.mark.parametrize("name", ["", "two words", "colon:", "line\r\nbreak", 7])
def test_warc_fields_names_are_checked(tmp_path, name):
    with open(tmp_path / "m.warc.gz", "wb") as fh:
        w = WarcWriter(fh, make_id=ids())
        with pytest.raises(ValueError, match="not a valid"):
            w.metadata("https://x.example/", T0, [(name, "v")])


# -- golden records -------------------------------------------------------------------------------

PAGE = b"<html><title>Belgrade</title><p>hello</p></html>\n"
# gzip.compress(PAGE, mtime=0), written out so that the golden output does not depend on the zlib build.
GZIPPED_PAGE = (
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xb3\xc9(\xc9\xcd\xb1\xb3)\xc9,\xc9I\xb5sJ\xcdI/JLI\xb5"
    b"\xd1\x87\xf0m\n\xec2Rsr\xf2m\xf4\x0b\xecl\xf4\xc1*\xb9\x00\xa5\xd8\xf1\x9a1\x00\x00\x00"
)
GOLDEN_TYPES = ["warcinfo", "response", "request", "revisit", "request", "resource", "metadata"]


def write_golden_warc(path: Path) -> None:
    """One of each record kind, with counter ids and fixed dates, so the output is byte-exact."""
    with open(path, "wb") as fh:
        w = WarcWriter(fh, make_id=ids())
        w.warcinfo(T0, path.name, {
            "software": "lastseen/test",
            "format": "WARC File Format 1.1",
            "conformsTo": WARC_SPEC,
        })
        page = make_exchange(GZIPPED_PAGE, response_headers=[
            ("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"), ("Vary", "Accept-Encoding"),
        ])
        _, response = w.exchange(page)
        later = make_exchange(GZIPPED_PAGE, started=(T0 + timedelta(days=1)).timestamp(),
                              response_headers=page.response_headers)
        w.exchange(later, revisit=RevisitOf(response.record_id, page.url, warc_date(page.started)))
        shot = w.resource(
            "urn:screenshot:" + page.url, T0 + timedelta(seconds=2), "image/png", SCREENSHOT,
            concurrent_to=response.record_id, extra={"WARC-Identified-Payload-Type": "image/png"},
        )
        w.metadata(
            page.url, T0 + timedelta(seconds=2),
            [("viewport", "1280x800"), ("outlink", "https://vendor.example/a L a/@href"),
             ("outlink", "https://vendor.example/b L a/@href")],
            concurrent_to=response.record_id, refers_to=shot.record_id,
        )


def gzip_members(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, decompressed bytes) of each gzip member, each decompressed on its own."""
    members = []
    offset = 0
    while offset < len(data):
        decomp = zlib.decompressobj(zlib.MAX_WBITS | 16)
        out = decomp.decompress(data[offset:])
        assert decomp.eof, f"the file ends inside the gzip member at {offset}"
        members.append((offset, out))
        offset = len(data) - len(decomp.unused_data)
    return members


def _escape(line: bytes) -> str:
    """Printable ASCII as itself, everything else (and backslash) escaped: one byte string, one text line."""
    named = {0x5C: "\\\\", 0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t"}
    return "".join(named.get(b) or (chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}") for b in line)


def render_member(n: int, data: bytes) -> str:
    """A gzip member's bytes as text: a ``#`` title line, then ``| `` and one escaped line per line."""
    kind = re.search(rb"^WARC-Type: (\S+)\r$", data, re.M)
    title = f"# member {n}: {kind.group(1).decode() if kind else '?'}"
    return "\n".join([title] + ["| " + _escape(line) for line in data.splitlines(keepends=True)]) + "\n"


GOLDEN_PREAMBLE = """\
# WARC records written by tests/test_warc.py::write_golden_warc, one gzip member each,
# decompressed. Each member starts with a '# member' line; each of its lines follows as
# '| ' + the line with \\r, \\n, \\t, \\\\ and non-ASCII bytes escaped.
# Regenerate: pytest tests/test_warc.py --update-golden, then review the diff.

"""


def split_golden(text: str) -> list[str]:
    return [m for m in re.split(r"(?m)^(?=# member )", text) if m.startswith("# member ")]


def test_golden_records(tmp_path, update_golden):
    path = tmp_path / "golden.warc.gz"
    write_golden_warc(path)
    members = gzip_members(path.read_bytes())
    produced = [render_member(n, data) for n, (_, data) in enumerate(members)]
    if update_golden:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(GOLDEN_PREAMBLE + "\n".join(produced), encoding="ascii", newline="\n")
    assert GOLDEN.exists(), f"{GOLDEN} is missing: run pytest with --update-golden and review it"
    expected = split_golden(GOLDEN.read_text(encoding="ascii"))
    fix = f"if the change is intended, rerun with --update-golden and review the diff of {GOLDEN}"
    for n, (got, want) in enumerate(zip(produced, expected)):
        assert got.rstrip("\n") == want.rstrip("\n"), f"member {n} differs; {fix}"
    assert len(produced) == len(expected), f"{len(produced)} members written, {len(expected)} expected; {fix}"
    # one record per member, as warcio's own writer tests have it
    for _, data in members:
        assert data.startswith(b"WARC/1.1\r\n") and data.endswith(b"\r\n\r\n")
        assert data.count(b"\r\nWARC-Record-ID: ") == 1


def test_golden_warc_reads_back(tmp_path):
    path = tmp_path / "golden.warc.gz"
    write_golden_warc(path)
    offsets = [offset for offset, _ in gzip_members(path.read_bytes())]
    seen = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh, check_digests="raise")
        for record in it:
            raw = record.raw_stream.read()
            seen.append((it.get_record_offset(), record.rec_type))
            if record.rec_type == "response":
                assert raw == GZIPPED_PAGE  # stored with its content-coding, de-chunked
                assert gzip.decompress(raw) == PAGE
                assert record.http_headers.get_header("Content-Encoding") == "gzip"
                assert record.http_headers.get_header("Content-Length") == str(len(GZIPPED_PAGE))
                assert record.http_headers.get_header("Transfer-Encoding") is None
                assert record.rec_headers.get_header("WARC-Payload-Digest") == sha1_digest(GZIPPED_PAGE)
            elif record.rec_type == "revisit":
                assert raw == b"" and record.http_headers.get_header("Transfer-Encoding") is None
            elif record.rec_type == "resource":
                assert raw == SCREENSHOT
            elif record.rec_type == "metadata":
                assert [k for k, _ in parse_warc_fields(raw)] == ["viewport", "outlink", "outlink"]
    assert seen == list(zip(offsets, GOLDEN_TYPES))
    with open(path, "rb") as fh:  # warcio decodes the content-coding back to the page
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                assert record.content_stream().read() == PAGE


def test_golden_warc_passes_warcio_check(tmp_path):
    path = tmp_path / "golden.warc.gz"
    write_golden_warc(path)
    done = subprocess.run([str(WARCIO), "check", "-v", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "digest pass" in done.stdout and "fail" not in done.stdout.lower()


def test_rotation_and_final_names(tmp_path):
    fs = WarcFileSet(tmp_path, started=T0, warcinfo={"software": "t"}, max_size=2000)
    names = set()
    for i in range(30):
        w, name = fs.writer()
        names.add(name)
        w.exchange(make_exchange(bytes([65 + i % 26]) * 500))
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
        w.exchange(make_exchange(f"<p>{i}</p>".encode()))
    fs.sync()
    good_end = (tmp_path / (name + ".open")).stat().st_size
    w.exchange(make_exchange(b"x" * 5000))
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
    _, kept = w.exchange(make_exchange(b"kept"))
    fs.sync()
    end = (archive.warc_dir / (name + ".open")).stat().st_size
    _, lost = w.exchange(make_exchange(b"lost" * 100))
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


def _members(data: bytes) -> list[bytes]:
    """Each gzip member of ``data``, as it is stored (compressed)."""
    members = []
    while data:
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        d.decompress(data)
        members.append(data[: len(data) - len(d.unused_data)])
        data = d.unused_data
    return members


def test_records_at_the_lower_gzip_level_are_the_same_records(tmp_path, monkeypatch):
    """#17: members written at GZIP_LEVEL (6) decompress to exactly the records warcio's level 9 held, with
    the same digests and custody hashes; warcio reads them, checks their digests and decodes the page."""
    page = (Path(__file__).parent / "pages" / "main" / "chinadaily_article.html").read_bytes()
    written, refs = {}, {}
    for level in (9, crawler.warc.GZIP_LEVEL):
        monkeypatch.setattr(crawler.warc, "GZIP_LEVEL", level)
        path = tmp_path / f"level{level}.warc.gz"
        with open(path, "wb") as fh:
            w = WarcWriter(fh, make_id=ids())
            w.warcinfo(T0, "lastseen.warc.gz", {"software": "lastseen/test"})
            w.exchange(make_exchange(page, response_headers=[("Content-Type", "text/html; charset=utf-8")]))
            w.exchange(make_exchange(gzip.compress(page, mtime=0), response_headers=[
                ("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")]))
            refs[level] = [(r.record_id, r.record_type, r.sha256, r.block_digest, r.payload_digest) for r in w.refs]
        written[level] = path.read_bytes()
    old, new = _members(written[9]), _members(written[crawler.warc.GZIP_LEVEL])
    assert crawler.warc.GZIP_LEVEL == 6 and len(old) == len(new) == 5
    assert [gzip.decompress(m) for m in new] == [gzip.decompress(m) for m in old]   # the same records, byte for byte
    assert all(m[8] == 0 for m in new) and all(m[8] == 2 for m in old)   # gzip's XFL: default level, level 9
    assert written[6] != written[9] and refs[6] == refs[9]   # other compressed bytes; same ids, hashes, digests
    path = tmp_path / "level6.warc.gz"
    done = subprocess.run([str(WARCIO), "check", "-v", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("digest pass") >= 4 and "fail" not in done.stdout.lower()
    with open(path, "rb") as fh:
        bodies = [r.content_stream().read() for r in ArchiveIterator(fh, check_digests="raise")
                  if r.rec_type == "response"]
    assert bodies == [page, page]
