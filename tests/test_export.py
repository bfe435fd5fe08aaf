"""``lastseen export`` (#16): captures packed as a WACZ, on three real runs on three days (``LASTSEEN_NOW``).

``notice`` changes on the second day; ``minutes`` never changes, so its later captures are revisit records
whose original lies in the first day's WARC file. Every export is checked with py-wacz's ``wacz validate``
(installed in pywb's virtualenv), replayed by pywb from the WACZ's WARC files alone (each page byte for byte
what the server sent that day), read back with zlib and warcio, and found on the record: its custody entry
holds the file's SHA-256, the chain still checks, and the archive's WARC files are as they were.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler import clock
from crawler.archive import Archive
from crawler.custody import check_chain
from crawler.custodycopy import read_copy
from crawler.events import event_id

from .archive_checks import wait_until
from .helpers import lastseen, write_watchlist
from .site import Site
from .test_replay import fetch, pywb_bin, wayback

#: Fixtures of another test module, used here by name.
_FIXTURES = (wayback,)

DAYS = ["2026-03-01", "2026-03-02", "2026-03-03"]
#: The clock when exports are made: the day after the last run.
EXPORT_NOW = "2026-03-04T10:00:00Z"
PAGES = {  # target: (tags, its text on each day)
    "notice": (["news"], ["Deadline 1 March", "Deadline 2 March", "Deadline 2 March"]),
    "minutes": (
        ["gov"],
        ["Minutes of the board", "Minutes of the board", "Minutes of the board"],
    ),
}


def _set_now(value: str | None) -> None:
    os.environ.pop(clock.ENV_OFFSET, None)
    if value is None:
        os.environ.pop(clock.ENV_NOW, None)
    else:
        os.environ[clock.ENV_NOW] = value
    clock._reset()


def _page(name: str, text: str) -> str:
    return f"<html><head><title>{name} notice</title></head><body><main><h1>{name}</h1><p>{text}</p></main></body></html>"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Three runs, one a day. Yields (project folder, {run id: day}, {(target, day): body the server sent})."""
    tmp = tmp_path_factory.mktemp("export")
    site = Site()
    saved = {k: os.environ.get(k) for k in (clock.ENV_NOW, clock.ENV_OFFSET)}
    runs, sent = {}, {}
    try:
        targets = [
            {"name": name, "url": site.url(f"/{name}"), "tags": tags, "every": "1d"}
            for name, (tags, _) in PAGES.items()
        ]
        write_watchlist(tmp / "watchlist.yaml", targets)
        for i, day in enumerate(DAYS):
            for name, (_, texts) in PAGES.items():
                site.set(f"/{name}", _page(name, texts[i]))
            _set_now(f"{day}T09:00:00Z")
            ran = lastseen(tmp, "run", "--json")
            assert ran.exit_code == 0, ran.stderr
            runs[ran.json["run"]["id"]] = day
            verdicts = {e["target"]: e["verdict"] for e in ran.json["events"]}
            assert verdicts["notice"] == (
                "changed" if i == 1 else "new" if i == 0 else "unchanged"
            ), verdicts
            assert verdicts["minutes"] == ("new" if i == 0 else "unchanged"), verdicts
            for name in PAGES:
                sent[(name, day)] = site.sent(f"/{name}")
        yield tmp, runs, sent
    finally:
        site.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        clock._reset()


@pytest.fixture
def now():
    _set_now(EXPORT_NOW)
    yield
    _set_now(None)


def _export(root: Path, out: str, *args: str):
    return lastseen(root, "export", "--out", out, *args)


def _wacz_validate(path: Path) -> str:
    tool = pywb_bin() / "wacz"
    if not tool.exists():
        pytest.fail(
            f"py-wacz is not installed beside pywb ({tool}): run `make pywb` (it installs wacz==0.6.0 into "
            f".venv-pywb) or `.venv-pywb/bin/pip install wacz==0.6.0`"
        )
    done = subprocess.run(
        [str(tool), "validate", "--file", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "Validation succeeded" in done.stdout, (
        done.stdout + done.stderr
    )
    return done.stdout


def _warc_files(root: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "archive" / "warcs").iterdir())
    }


def _members(data: bytes) -> list[tuple[int, int, bytes]]:
    """``(offset, length, uncompressed bytes)`` of each gzip member of a ``.warc.gz``, read with zlib alone."""
    out, offset = [], 0
    while offset < len(data):
        inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
        body = inflate.decompress(data[offset:])
        assert inflate.eof, f"a torn gzip member at {offset}"
        length = len(data) - offset - len(inflate.unused_data)
        out.append((offset, length, body))
        offset += length
    return out


def _header(record: bytes, name: str) -> str | None:
    for line in record.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        key, _, value = line.decode().partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def _archived_members(root: Path) -> dict[bytes, tuple[str, int]]:
    """Every gzip member of the archive's WARC files, by its bytes: (file, offset)."""
    out = {}
    for path in sorted((root / "archive" / "warcs").glob("*.warc.gz")):
        data = path.read_bytes()
        for offset, length, _ in _members(data):
            out[data[offset : offset + length]] = (path.name, offset)
    return out


def _last_entry(root: Path) -> dict:
    """The last entry of the custody log's JSONL copy."""
    return max(read_copy(root / "archive"), key=lambda e: e["seq"])


def _index_captures(root: Path) -> list[dict]:
    import sqlite3

    with sqlite3.connect(root / "archive" / "lastseen.db") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("select * from captures order by id")]


def test_export_is_a_valid_wacz_whose_records_are_the_archives_bytes(
    project, now, tmp_path
):
    root, runs, _sent = project
    before = _warc_files(root)
    out = tmp_path / "all.wacz"
    ran = _export(root, str(out))
    assert ran.exit_code == 0, ran.stderr
    assert f"wrote {out}" in ran.stdout and "Custody chain head: #" in ran.stdout
    _wacz_validate(out)
    assert _warc_files(root) == before  # read, never written

    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        infos = {i.filename: i for i in zf.infolist()}
        files = {n: zf.read(n) for n in names}
    warcs = [n for n in names if n.startswith("archive/")]
    assert sorted(n.removeprefix("archive/") for n in warcs) == sorted(
        before
    )  # one per archived file, same name
    assert {
        "indexes/index.cdxj",
        "pages/pages.jsonl",
        "datapackage.json",
        "datapackage-digest.json",
    } <= set(names)
    assert all(infos[n].compress_type == zipfile.ZIP_STORED for n in warcs)

    package = json.loads(files["datapackage.json"])
    assert package["profile"] == "data-package" and package["wacz_version"] == "1.1.1"
    assert package["created"] == "2026-03-04T10:00:00Z"
    for resource in package["resources"]:
        data = files[resource["path"]]
        assert resource["hash"] == "sha256:" + hashlib.sha256(
            data
        ).hexdigest() and resource["bytes"] == len(data)
    assert {r["path"] for r in package["resources"]} == set(names) - {
        "datapackage.json",
        "datapackage-digest.json",
    }
    digest = json.loads(files["datapackage-digest.json"])
    assert (
        digest["hash"]
        == "sha256:" + hashlib.sha256(files["datapackage.json"]).hexdigest()
    )

    # Every record but each file's first (the export's warcinfo) is a gzip member of the archive, byte for byte;
    # and every record of every capture is there (the index's final records, exchanges and metadata).
    archived = _archived_members(root)
    exported: set[tuple[str, int]] = set()
    for name in warcs:
        data = files[name]
        members = _members(data)
        first = members[0][2]
        assert _header(first, "WARC-Type") == "warcinfo" and b"lastseen export" in first
        for offset, length, _ in members[1:]:
            member = data[offset : offset + length]
            assert member in archived, (
                f"{name} at {offset} is not a record of the archive"
            )
            assert archived[member][0] == name.removeprefix("archive/")
            exported.add(archived[member])
    captures = _index_captures(root)
    for c in captures:
        if c["warc_file"]:
            assert (Path(c["warc_file"]).name, c["warc_offset"]) in exported
    every_record = {
        (file, offset) for (file, offset) in archived.values() if offset > 0
    }  # all but warcinfos
    assert exported == every_record  # no selection: every record of every capture

    # warcio checks every record's digests in the WACZ's WARC files, as a third party would.
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(folder)
    warcio = Path(sys.executable).parent / "warcio"
    checked = subprocess.run(
        [
            str(warcio),
            "check",
            *map(str, sorted((folder / "archive").glob("*.warc.gz"))),
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The index points at each record: filename, offset and length into the WACZ's WARC files.
    lines = files["indexes/index.cdxj"].decode().splitlines()
    assert lines == sorted(lines) and len(lines) >= len(captures)
    for line in lines:
        _, _, blob = line.split(" ", 2)
        entry = json.loads(blob)
        data = files[f"archive/{entry['filename']}"]
        offset, length = int(entry["offset"]), int(entry["length"])
        record = zlib.decompress(data[offset : offset + length], zlib.MAX_WBITS | 16)
        assert _header(record, "WARC-Target-URI") == entry["url"]

    # One page per capture of a target's own page: both targets on all three days, with the text compared.
    pages = [
        json.loads(line) for line in files["pages/pages.jsonl"].decode().splitlines()
    ]
    assert pages[0]["format"] == "json-pages-1.0" and pages[0]["hasText"] is True
    seen = sorted((p["target"], runs[p["run"]]) for p in pages[1:])
    assert seen == sorted((t, d) for t in PAGES for d in DAYS)
    for p in pages[1:]:
        assert (
            p["text"]
            == f"{p['target']}\n" + PAGES[p["target"]][1][DAYS.index(runs[p["run"]])]
        )
        assert p["title"] == f"{p['target']} notice" and p["ts"].startswith(
            runs[p["run"]]
        )


def test_pywb_replays_every_exported_page_byte_identical(
    project, now, tmp_path, wayback
):
    root, runs, sent = project
    out = tmp_path / "replay.wacz"
    assert _export(root, str(out)).exit_code == 0
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(folder)
        pages = [
            json.loads(line)
            for line in zf.read("pages/pages.jsonl").decode().splitlines()[1:]
        ]
    base, index = wayback(
        sorted((folder / "archive").glob("*.warc.gz"))
    )  # the WACZ's WARC files alone
    assert "warc/revisit" in index
    assert len(pages) == 6
    for page in pages:
        ts = page["ts"][:19].replace("-", "").replace("T", "").replace(":", "")
        status, _, body = fetch(f"{base}/{ts}id_/{page['url']}")
        assert status == 200
        assert body == sent[(page["target"], runs[page["run"]])], page


def test_a_revisits_original_is_in_the_export(project, now, tmp_path, wayback):
    """The last day's capture of `minutes` is a revisit of the first day's response: exported alone (one
    day, one target), its original comes along, and pywb replays it from the export alone."""
    root, runs, sent = project
    out = tmp_path / "revisit.wacz"
    ran = _export(
        root, str(out), "--only", "minutes", "--since", DAYS[2], "--until", DAYS[2]
    )
    assert ran.exit_code == 0, ran.stderr
    assert "original record" in ran.stdout
    _wacz_validate(out)
    with zipfile.ZipFile(out) as zf:
        zf.extractall(tmp_path / "unzipped")
        warcs = sorted((tmp_path / "unzipped" / "archive").glob("*.warc.gz"))
        pages = [
            json.loads(line)
            for line in zf.read("pages/pages.jsonl").decode().splitlines()[1:]
        ]
    assert [(p["target"], runs[p["run"]]) for p in pages] == [("minutes", DAYS[2])]
    records = {}
    for path in warcs:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                records[record.rec_headers.get_header("WARC-Record-ID")] = (
                    record.rec_type
                )
    revisits = []
    for path in warcs:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "revisit":
                    revisits.append(record.rec_headers.get_header("WARC-Refers-To"))
    assert revisits and all(records.get(ref) == "response" for ref in revisits)
    assert len(warcs) == 2  # the day's file, and the first day's for the originals
    base, _ = wayback(warcs)
    page = pages[0]
    ts = page["ts"][:19].replace("-", "").replace("T", "").replace(":", "")
    status, _, body = fetch(f"{base}/{ts}id_/{page['url']}")
    assert (
        status == 200
        and body == sent[("minutes", DAYS[0])] == sent[("minutes", DAYS[2])]
    )


def test_the_export_is_on_the_custody_record(project, now, tmp_path):
    root = project[0]
    out = tmp_path / "record.wacz"
    ran = _export(root, str(out), "--only", "news")
    assert ran.exit_code == 0, ran.stderr
    copy = sorted(read_copy(root / "archive"), key=lambda e: e["seq"])
    head = check_chain(copy)  # the chain still holds, export entry and all
    entry = copy[-1]
    assert entry["kind"] == "export" and ran.stdout.strip().endswith(
        f"#{head['seq']} {head['sha256']}"
    )
    data = out.read_bytes()
    content = entry["content"]
    assert content["out"] == "record.wacz"
    assert content["sha256"] == hashlib.sha256(data).hexdigest() and content[
        "size"
    ] == len(data)
    with zipfile.ZipFile(out) as zf:
        assert (
            content["datapackage_sha256"]
            == hashlib.sha256(zf.read("datapackage.json")).hexdigest()
        )
    assert content["selection"] == {
        "only": ["news"],
        "since": None,
        "until": None,
        "event": None,
    }
    notice = [c["id"] for c in _index_captures(root) if c["target"] == "notice"]
    assert content["captures"] == notice
    # the record ids listed are exactly those copied (each file's warcinfo is the export's own)
    with zipfile.ZipFile(out) as zf:
        ids = []
        for name in sorted(n for n in zf.namelist() if n.startswith("archive/")):
            for _, _, record in _members(zf.read(name))[1:]:
                ids.append(_header(record, "WARC-Record-ID"))
    assert sorted(content["records"]) == sorted(ids)
    # the index holds the same entry (the JSONL copy is its copy)
    with Archive.open_readonly(root / "archive") as archive:
        indexed = list(archive.store.custody_entries(after=entry["seq"] - 1))
    assert indexed == [entry]
    # and lastseen verify finds the archive whole, the export's entry in its chain and copy
    verified = lastseen(root, "verify", "--json")
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    assert verified.json["chain_head"] == head


def test_only_since_and_until_choose_the_captures(project, now, tmp_path):
    root = project[0]
    captures = _index_captures(root)

    def chosen(*args: str) -> list[int]:
        out = tmp_path / f"sel-{len(list(tmp_path.iterdir()))}.wacz"
        ran = _export(root, str(out), *args)
        assert ran.exit_code == 0, ran.stderr
        return _last_entry(root)["content"]["captures"]

    def ids(pred) -> list[int]:
        return [c["id"] for c in captures if pred(c)]

    assert chosen("--only", "minutes") == ids(lambda c: c["target"] == "minutes")
    assert chosen("--only", "gov", "--only", "notice") == [c["id"] for c in captures]
    assert chosen("--since", DAYS[1]) == ids(lambda c: c["started"] >= DAYS[1])
    assert chosen("--until", DAYS[0]) == ids(lambda c: c["started"] < DAYS[1])
    assert chosen("--since", "2d") == ids(
        lambda c: c["started"] >= DAYS[2]
    )  # back from 4 March 10:00
    assert chosen(
        "--only", "notice", "--since", DAYS[1], "--until", f"{DAYS[1]}T23:59:59Z"
    ) == ids(lambda c: c["target"] == "notice" and c["started"].startswith(DAYS[1]))


def test_event_exports_the_change_and_what_it_was_compared_with(project, now, tmp_path):
    root, runs, _sent = project
    (run_id,) = [r for r, d in runs.items() if d == DAYS[1]]
    out = tmp_path / "event.wacz"
    ran = _export(root, str(out), "--event", event_id(run_id, "notice"))
    assert ran.exit_code == 0, ran.stderr
    _wacz_validate(out)
    with zipfile.ZipFile(out) as zf:
        pages = [
            json.loads(line)
            for line in zf.read("pages/pages.jsonl").decode().splitlines()[1:]
        ]
    assert sorted((p["target"], runs[p["run"]], p["text"]) for p in pages) == [
        ("notice", DAYS[0], "notice\nDeadline 1 March"),
        ("notice", DAYS[1], "notice\nDeadline 2 March"),
    ]
    entry = _last_entry(root)
    assert entry["content"]["selection"]["event"] == f"{run_id}:notice"


@pytest.mark.parametrize(
    "args, says",
    [
        (["--only", "nothing-of-the-kind"], "matches no target"),
        (
            ["--since", "2027-01-01T00:00:00Z", "--until", "2027-01-02"],
            "nothing to export",
        ),
        (["--since", "yesterday"], "--since"),
        (["--event", "no-colon-here"], "is not an event id: an event id is <run id>:<target name>"),
        (["--event", "20260302T090000Z-0000:notice"], "no event of target"),
        (
            ["--event", "20260302T090000Z-0000:notice", "--only", "news"],
            "without --only",
        ),
    ],
)
def test_bad_or_empty_selections_exit_2_and_write_nothing(
    project, now, tmp_path, args, says
):
    root = project[0]
    seq = _last_entry(root)["seq"]
    out = tmp_path / "none.wacz"
    ran = _export(root, str(out), *args)
    assert ran.exit_code == 2 and says in ran.stderr, ran.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert _last_entry(root)["seq"] == seq  # nothing on the record


def test_an_existing_file_is_never_overwritten(project, now, tmp_path):
    root = project[0]
    out = tmp_path / "kept.wacz"
    out.write_bytes(b"someone else's file")
    ran = _export(root, str(out))
    assert ran.exit_code == 2 and "never overwritten" in ran.stderr
    assert out.read_bytes() == b"someone else's file"
    ran = _export(root, str(tmp_path / "export.zip"))
    assert ran.exit_code == 2 and "FILE.wacz" in ran.stderr


def test_exit_3_while_a_run_holds_the_lock(project, now, tmp_path):
    root = project[0]
    out = tmp_path / "locked.wacz"
    with Archive.open(root / "archive"):  # the real lock, as a run takes it
        ran = _export(root, str(out))
    assert ran.exit_code == 3, ran.stderr
    assert (
        "`lastseen export` did nothing" in ran.stderr
        and "lastseen export --wait" in ran.stderr
    )
    assert not out.exists()


def _holds_open(pid: int, path: Path) -> bool:
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        return any(
            os.path.realpath(fd) == str(path.resolve()) for fd in fd_dir.iterdir()
        )
    except OSError:
        return False


def test_wait_waits_for_the_lock_then_exports(project, now, tmp_path):
    root = project[0]
    lock = root / "archive" / "lastseen.lock"
    out = tmp_path / "waited.wacz"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crawler",
                "export",
                "--out",
                str(out),
                "--wait",
                "2m",
            ],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert wait_until(
                lambda: _holds_open(proc.pid, lock) or proc.poll() is not None, 60
            )
            assert proc.poll() is None, (
                proc.communicate()
            )  # waiting for the lock, having written nothing
            assert not out.exists()
        except BaseException:
            proc.kill()
            raise
    finally:
        os.close(fd)  # the run "ends": the lock is free
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr.decode()
    assert out.exists() and b"Custody chain head" in stdout
    _wacz_validate(out)


def test_gzip_served_page_replays_as_archived(tmp_path, wayback):
    """A page served gzip-compressed keeps its content-coding in the export (its record's bytes are the
    archive's) and pywb replays it from the WACZ as sent."""
    site = Site()
    try:
        body = "<html><body><p>" + "procurement notice " * 200 + "</p></body></html>"
        site.set("/gz", body, gzip=True, chunked=True)
        write_watchlist(
            tmp_path / "watchlist.yaml", [{"name": "gz", "url": site.url("/gz")}]
        )
        assert lastseen(tmp_path, "run", "--json").exit_code == 0
        sent = site.sent("/gz")
    finally:
        site.close()
    ran = _export(tmp_path, "gz.wacz")
    assert ran.exit_code == 0, ran.stderr
    _wacz_validate(tmp_path / "gz.wacz")
    with zipfile.ZipFile(tmp_path / "gz.wacz") as zf:
        zf.extractall(tmp_path / "unzipped")
        (page,) = [
            json.loads(line)
            for line in zf.read("pages/pages.jsonl").decode().splitlines()[1:]
        ]
    base, _ = wayback(sorted((tmp_path / "unzipped" / "archive").glob("*.warc.gz")))
    ts = page["ts"][:19].replace("-", "").replace("T", "").replace(":", "")
    status, headers, got = fetch(
        f"{base}/{ts}id_/{page['url']}", {"Accept-Encoding": "gzip"}
    )
    assert status == 200
    if headers.get("Content-Encoding") == "gzip":
        assert got == sent  # replayed with its content-coding: exactly the bytes sent
    else:
        assert got == gzip.decompress(sent)
    assert gzip.decompress(sent) == body.encode()


def test_a_damaged_record_stops_the_export_and_writes_nothing(tmp_path, site):
    """One byte of a response's gzip member changed in the archive: the export names the file and offset,
    exits 1 and writes no file, and nothing is added to the custody log."""
    site.set("/p", _page("p", "Deadline 1 March"))
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p", "url": site.url("/p")}])
    ran = lastseen(tmp_path, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    warc = ran.event("p")["warc"]
    path = tmp_path / warc["file"]
    data = bytearray(path.read_bytes())
    data[warc["offset"] + 40] ^= 0xFF  # inside the deflate stream
    path.write_bytes(bytes(data))
    seq = _last_entry(tmp_path)["seq"]
    ran = _export(tmp_path, "damaged.wacz")
    assert ran.exit_code == 1
    assert (
        f"offset {warc['offset']}" in ran.stderr
        and "nothing was exported" in ran.stderr
    )
    assert not (tmp_path / "damaged.wacz").exists()
    assert [p.name for p in tmp_path.iterdir() if p.suffix in (".wacz", ".tmp")] == []
    assert _last_entry(tmp_path)["seq"] == seq


def test_a_custody_line_altered_stops_the_export_and_writes_nothing(tmp_path, site):
    """A capture entry's content is kept only in the JSONL copy (#17): its line changed (the target renamed, its
    sha256 kept), the export refuses to vouch for the records it would list, naming the entry and the file."""
    site.set("/p", _page("p", "Deadline 1 March"))
    write_watchlist(tmp_path / "watchlist.yaml", [{"name": "p", "url": site.url("/p")}])
    ran = lastseen(tmp_path, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    (path,) = (tmp_path / "archive" / "custody").glob("*.jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    # the entry of the commit holding the page's capture (one entry a commit, #17)
    entry = next(json.loads(x) for x in lines if json.loads(x)["kind"] == "capture"
                 and any(c[2] == "page" for c in json.loads(x)["content"]["captures"]))
    captures = [[c[0], "q" if c[2] == "page" else c[1], *c[2:]] for c in entry["content"]["captures"]]
    forged = {**entry, "content": {**entry["content"], "captures": captures}}
    path.write_bytes(b"".join(
        json.dumps(forged, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        if json.loads(x)["seq"] == entry["seq"] else x for x in lines))
    seq = _last_entry(tmp_path)["seq"]
    ran = _export(tmp_path, "altered.wacz")
    assert ran.exit_code == 1
    assert f"custody entry #{entry['seq']} is kept only in " in ran.stderr and path.name in ran.stderr
    assert "`lastseen verify`" in ran.stderr
    assert not (tmp_path / "altered.wacz").exists()
    assert _last_entry(tmp_path)["seq"] == seq


def test_a_browser_capture_is_exported_whole_with_its_sub_resources_originals(
    tmp_path, site, wayback
):
    """Two runs of a browser target; the second's unchanged sub-resources are revisits. Exported alone, the
    second run's capture brings its screenshot, DOM and text records and the originals of its revisits, and
    pywb replays each of its sub-resources from the export as the server sent them."""
    from .test_browser_run import _serve

    _serve(site, "Belgrade police bought 1000 cameras for Safe City.")
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [{"name": "seen", "url": site.url("/case"), "fetch": "browser"}],
    )
    assert lastseen(tmp_path, "run", "--json").exit_code == 0
    _serve(site, "Belgrade police bought 2000 cameras and drones for Safe City.")
    second = lastseen(tmp_path, "run", "--json")
    assert second.exit_code == 0, second.stderr
    assert second.event("seen")["verdict"] == "changed"
    sent = {
        p: site.sent(p)
        for p in ("/case", "/style.css", "/app.js", "/data.json", "/logo.png")
    }
    out = tmp_path / "browser.wacz"
    ran = _export(tmp_path, str(out), "--since", second.json["run"]["started"])
    assert ran.exit_code == 0, ran.stderr
    _wacz_validate(out)
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(folder)
    warcs = sorted((folder / "archive").glob("*.warc.gz"))
    assert (
        len(warcs) == 2
    )  # the second run's file, and the first's for the revisits' originals
    records, revisits = {}, []
    for path in warcs:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                uri = record.rec_headers.get_header("WARC-Target-URI")
                records[record.rec_headers.get_header("WARC-Record-ID")] = (
                    record.rec_type,
                    uri,
                )
                if record.rec_type == "revisit":
                    revisits.append(record.rec_headers.get_header("WARC-Refers-To"))
    kinds = {uri: kind for kind, uri in records.values() if kind == "resource"}
    for urn in ("screenshot", "dom", "text"):
        assert kinds.get(f"urn:{urn}:{site.url('/case')}") == "resource", sorted(kinds)
    assert revisits and all(
        records.get(ref, ("",))[0] == "response" for ref in revisits
    )
    base, index = wayback(warcs)
    for path, body in sent.items():
        url = site.url(path)
        lines = [line for line in index.splitlines() if f'"url": "{url}"' in line]
        assert lines, f"{url} is not in the export"
        ts = max(line.split(" ")[1] for line in lines)  # the second run's record of it
        status, _, got = fetch(f"{base}/{ts}id_/{url}")
        assert status == 200 and got == body, path


def test_hostile_names_stay_data_in_the_package(tmp_path, site):
    """A target named with markup and Markdown: datapackage.json's title and description (which readers
    render as Markdown) hold counts only; pages.jsonl holds the name and the page's title exactly, as JSON."""
    name = "<img src=x onerror=alert(1)>[link](javascript:alert(2))"
    title = "<script>alert(3)</script>"
    site.set(
        "/h",
        f"<html><head><title>{title}</title></head><body><p>Tender</p></body></html>",
    )
    write_watchlist(
        tmp_path / "watchlist.yaml", [{"name": name, "url": site.url("/h")}]
    )
    ran = lastseen(tmp_path, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    ran = _export(tmp_path, "hostile.wacz", "--only", name)
    assert ran.exit_code == 0, ran.stderr
    _wacz_validate(tmp_path / "hostile.wacz")
    with zipfile.ZipFile(tmp_path / "hostile.wacz") as zf:
        package = json.loads(zf.read("datapackage.json"))
        (page,) = [
            json.loads(line)
            for line in zf.read("pages/pages.jsonl").decode().splitlines()[1:]
        ]
    assert re.fullmatch(r"lastseen export: \d+ captures? of 1 target", package["title"])
    assert (
        "<" not in package["description"] and "javascript" not in package["description"]
    )
    assert (page["target"], page["title"]) == (name, title)
