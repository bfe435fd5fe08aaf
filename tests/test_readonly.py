"""Commands that only read (status, report --since, show, diff) and the record recovery leaves (#6).

Read-only commands take no lock, migrate nothing and recover nothing: they work
while a run holds the archive's lock and on a read-only copy, and say when the
index needs `lastseen run` (older) or a newer lastseen. A run's start that cuts
back a WARC file a killed run left says so on stderr, in `run.recovered`, in
the index's `recoveries` table and in `lastseen status`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import zlib
from pathlib import Path

import pytest

from crawler.archive import Archive
from crawler.store import MIGRATIONS

from .archive_checks import outputs, start_run, verify_archive, wait_until
from .helpers import assert_contract, copy_project, lastseen, only_warc, record_at, write_watchlist
from .site import Site



# -- one real archive, copied for each test -----------------------------------------------------------

@pytest.fixture(scope="module")
def site():
    site = Site()
    for i in range(2):
        site.set(f"/p{i}", f"<html><head><title>page {i}</title></head><body><p>page {i} says {i}</p></body></html>")
    yield site
    site.close()


@pytest.fixture(scope="module")
def base(site, tmp_path_factory) -> tuple[Path, dict]:
    """A directory with watchlist.yaml and the archive of one completed run (its --json document)."""
    root = tmp_path_factory.mktemp("base")
    write_watchlist(root / "watchlist.yaml", [{"name": f"p{i}", "url": site.url(f"/p{i}")} for i in range(2)])
    ran = lastseen(root, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert not list((root / "archive").glob("lastseen.db-*")), "the run left its WAL files"
    return root, ran.json


@pytest.fixture
def project(base, tmp_path) -> Path:
    """A copy of the base directory (watchlist and archive) of this test's own."""
    return copy_project(base[0], tmp_path)


def _warc(project: Path) -> Path:
    return only_warc(project)


def _flocks(path: Path) -> list[str]:
    """Lines of /proc/locks for flocks on ``path`` (pid and state)."""
    st = path.stat()
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    return [line for line in Path("/proc/locks").read_text().splitlines() if where in line and "FLOCK" in line]


class _Held:
    """The archive's flock, held by this test as a run would hold it."""

    def __init__(self, project: Path):
        self.path = project / "archive" / "lastseen.lock"
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self):
        os.close(self.fd)


# -- reading while a run holds the lock --------------------------------------------------------------

def test_status_and_report_read_while_the_lock_is_held_and_never_take_it(project, monkeypatch):
    flocks = []
    real_flock = fcntl.flock
    held = _Held(project)
    pid_file = held.path.read_text()  # what the base run wrote
    monkeypatch.setattr(fcntl, "flock", lambda *a: (flocks.append(a), real_flock(*a))[1])
    try:
        status = lastseen(project, "status", "--json")
        assert status.exit_code == 0 and status.stderr == ""
        rows = {r["target"]: r for r in status.json["targets"]}
        assert {t: (r["last_verdict"], r["last_status"]) for t, r in rows.items()} == {
            "p0": ("new", 200), "p1": ("new", 200)}
        assert status.json["recovered"] == [] and status.json["recovered_older"] == 0
        table = lastseen(project, "status")
        assert table.exit_code == 0 and "p0" in table.stdout and "p1" in table.stdout and "recovered" not in table.stdout
        report = lastseen(project, "report", "--since", "7d", "--out", "weekly")
        assert report.exit_code == 0, report.stderr
        index = (project / "weekly" / "index.html").read_text()
        assert "p0" in index and "p1" in index and "new" in index
        # They never touched the lock: no flock call at all, and the test still holds it alone.
        assert flocks == []
        assert [line.split()[4] for line in _flocks(held.path)] == [str(os.getpid())]
        assert held.path.read_text() == pid_file  # no pid written either
    finally:
        held.release()


def test_status_during_a_live_run_neither_disturbs_it_nor_warns(project, site):
    held = threading.Event()  # p1 answers once status has read the archive three times during the run
    site.set("/p1", "<html><body><p>page 1, slowly</p></body></html>", gate=held)
    try:
        proc = start_run(project, "--wait", "0s", "--force")
        lock = project / "archive" / "lastseen.lock"
        assert wait_until(lambda: lock.read_text().strip() == str(proc.pid), 30)
        seen = 0
        while proc.poll() is None:
            ran = lastseen(project, "status", "--json")
            assert ran.exit_code == 0 and ran.stderr == "", ran.stderr  # the run's .open file is its own: no warning
            assert [r["target"] for r in ran.json["targets"]] == ["p0", "p1"]
            seen += 1
            if seen == 3:
                held.set()
        out, err = outputs(project)
        assert proc.returncode == 0, err
        assert [e["verdict"] for e in json.loads(out)["events"]] == ["unchanged", "changed"]
        assert seen >= 3
    finally:
        held.set()
        site.set("/p1", "<html><head><title>page 1</title></head><body><p>page 1 says 1</p></body></html>")


# -- a read-only copy, read by another user -----------------------------------------------------------

def _listing(root: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [".", *dirnames, *filenames]:
            path = Path(dirpath, name)
            st = path.lstat()
            out[str(path.relative_to(root))] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, st.st_mode)
    return out


def _without_write_permission() -> tuple[list[str], dict]:
    """How to run ``python -m crawler`` so that file permissions apply: (argv prefix, env).

    root ignores ``chmod a-w``; ``setpriv`` (util-linux) drops the capabilities that let it
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER) from the bounding set, so the command
    runs as root but is refused every write a read-only archive forbids.
    """
    if os.geteuid() != 0:
        return [sys.executable, "-m", "crawler"], dict(os.environ)
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to run a command as root without write permission"
    drop = "--bounding-set=-dac_override,-dac_read_search,-fowner"
    return [setpriv, drop, "--", sys.executable, "-m", "crawler"], dict(os.environ)


@pytest.mark.parametrize("wal_files", [False, True], ids=["clean-index", "with-wal-files"])
def test_a_read_only_copy_is_read_without_write_permission_and_left_unchanged(base, wal_files):
    top = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="lastseen-ro-"))
    out = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="lastseen-out-"))
    try:
        os.chmod(top, 0o755)
        os.chmod(out, 0o777)
        shutil.copy(base[0] / "watchlist.yaml", top / "watchlist.yaml")
        shutil.copytree(base[0] / "archive", top / "archive")
        db = top / "archive" / "lastseen.db"
        if wal_files:  # as a reader on a writable archive leaves them: the index's -wal and -shm files
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            conn.execute("select count(*) from captures").fetchone()
            conn.close()
            assert (top / "archive" / "lastseen.db-shm").exists()
        else:
            assert not list(db.parent.glob("lastseen.db-*"))
        for dirpath, dirnames, filenames in os.walk(top):
            for name in [*dirnames, *filenames]:
                path = Path(dirpath, name)
                path.chmod(path.stat().st_mode & ~0o222)
        top.chmod(0o555)
        before = _listing(top)

        argv, env = _without_write_permission()
        probe = subprocess.run([*argv[:-2], "-c", f"open({str(db)!r}, 'ab')"], env=env, capture_output=True)
        assert probe.returncode != 0 and b"Permission denied" in probe.stderr  # the copy really is read-only

        def cli(*args):
            return subprocess.run([*argv, *args], cwd=top, env=env, capture_output=True, text=True, timeout=120)

        status = cli("status", "--json")
        assert status.returncode == 0 and status.stderr == "", status.stderr
        doc = json.loads(status.stdout)
        assert [(r["target"], r["last_verdict"], r["captures"]) for r in doc["targets"]] == [
            ("p0", "new", 1), ("p1", "new", 1)]
        table = cli("status")
        assert table.returncode == 0 and "p0" in table.stdout and "p1" in table.stdout, table.stderr
        report = cli("report", "--since", "7d", "--out", str(out / "weekly"))
        assert report.returncode == 0, report.stderr
        index = (out / "weekly" / "index.html").read_text()
        assert "p0" in index and "p1" in index
        window = cli("report", "--since", "2000-01-01", "--all", "--format", "json", "--out", "-")
        assert window.returncode == 0, window.stderr
        assert [t["target"] for t in json.loads(window.stdout)["targets"]] == ["p0", "p1"]
        # lastseen show and diff (#14): the capture at or before a date long after it, whatever the clock
        shown = cli("show", "p0", "--at", "2999-01-01")
        assert shown.returncode == 0 and shown.stderr == "" and shown.stdout.strip(), shown.stderr
        raw = subprocess.run([*argv, "show", "p0", "--raw"], cwd=top, env=env, capture_output=True, timeout=120,
                             check=False)
        assert raw.returncode == 0 and raw.stdout.startswith(b"<html>"), raw.stderr
        diffed = cli("diff", "p0", "--from", "2999-01-01", "--to", "2999-01-01")
        assert diffed.returncode == 0 and diffed.stdout.splitlines()[2] == "no changes", diffed.stderr
        page = cli("diff", "p0", "--from", "2999-01-01", "--out", str(out / "p0.html"))
        assert page.returncode == 0 and (out / "p0.html").is_file(), page.stderr
        # lastseen verify (#15): every record and file checked against the custody log, nothing written
        checked = cli("verify", "--json")
        assert checked.returncode == 0 and checked.stderr == "", checked.stderr
        assert json.loads(checked.stdout)["ok"] is True and json.loads(checked.stdout)["checked"]["records"] > 0
        assert _listing(top) == before
    finally:
        for dirpath, dirnames, filenames in os.walk(top):
            os.chmod(dirpath, 0o755)
        shutil.rmtree(top, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


# -- index versions ------------------------------------------------------------------------------------

def _set_user_version(project: Path, version: int) -> None:
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    conn.execute(f"PRAGMA user_version={version}")
    conn.close()


def _user_version(project: Path) -> int:
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_an_index_that_needs_a_migration_points_at_lastseen_run(project):
    _set_user_version(project, len(MIGRATIONS) - 1)
    for args in (("status",), ("status", "--json"), ("report", "--since", "7d", "--out", "weekly")):
        ran = lastseen(project, *args)
        assert ran.exit_code == 1 and ran.stdout == ""
        assert ran.stderr.count("\n") == 1 and ran.stderr.startswith("Error: "), ran.stderr
        assert "`lastseen run`" in ran.stderr and "lastseen.db" in ran.stderr
    assert _user_version(project) == len(MIGRATIONS) - 1  # read-only commands migrate nothing
    assert not (project / "weekly").exists()


def test_an_index_from_a_newer_lastseen_is_refused_by_every_command(project):
    from crawler import __version__

    _set_user_version(project, 99)
    warcs = project / "archive" / "warcs"
    listing = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in warcs.iterdir()}
    for args in (("status",), ("report", "--since", "7d", "--out", "weekly"), ("run", "--json")):
        ran = lastseen(project, *args)
        assert ran.exit_code == 1 and ran.stdout == "", (args, ran.stderr)
        assert ran.stderr.count("\n") == 1 and ran.stderr.startswith("Error: "), ran.stderr
        assert "schema 99" in ran.stderr and f"schema {len(MIGRATIONS)}" in ran.stderr, ran.stderr
        assert __version__ in ran.stderr and "upgrade lastseen" in ran.stderr
    assert _user_version(project) == 99
    assert {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in warcs.iterdir()} == listing


def test_no_index_yet(tmp_path, base):
    shutil.copy(base[0] / "watchlist.yaml", tmp_path / "watchlist.yaml")
    status = lastseen(tmp_path, "status", "--json")
    assert status.exit_code == 0 and status.stderr == ""
    assert [(r["target"], r["last_capture"]) for r in status.json["targets"]] == [("p0", None), ("p1", None)]
    table = lastseen(tmp_path, "status")
    assert table.exit_code == 0 and table.stdout.count("never") == 2
    report = lastseen(tmp_path, "report", "--since", "7d", "--out", "weekly")
    assert report.exit_code == 1
    assert report.stderr == (
        "Error: no archive index at archive/lastseen.db; run `lastseen run` first or pass --archive\n"
    )
    assert not (tmp_path / "archive").exists()  # nothing created


# -- an unfinished WARC file ---------------------------------------------------------------------------

def test_an_open_file_is_a_warning_unless_a_run_holds_the_lock(project):
    warcs = project / "archive" / "warcs"
    name = "lastseen-20261127100000000000-00000.warc.gz.open"
    shutil.copy(_warc(project), warcs / name)
    (warcs / "notes.warc.gz.open").write_bytes(b"not written by lastseen")  # ignored: not its name
    listing = _listing(warcs)

    ran = lastseen(project, "status")
    assert ran.exit_code == 0 and "p0" in ran.stdout
    assert ran.stderr == (
        f"warning: archive/warcs/{name} was left by a run that did not finish; "
        f"the next `lastseen run` will recover it\n"
    )
    report = lastseen(project, "report", "--since", "7d", "--out", "weekly")
    assert report.exit_code == 0 and report.stderr == ran.stderr

    held = _Held(project)
    try:
        quiet = lastseen(project, "status", "--json")
        assert quiet.exit_code == 0 and quiet.stderr == ""  # the holder is writing it
    finally:
        held.release()
    assert _listing(warcs) == listing  # nothing recovered, nothing touched


# -- recovery leaves a record ----------------------------------------------------------------------------

def _members(path: Path) -> list[int]:
    """Start offsets of the gzip members (records) of ``path``."""
    data = path.read_bytes()
    starts, pos = [], 0
    while pos < len(data):
        starts.append(pos)
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        d.decompress(data[pos:])
        pos = len(data) - len(d.unused_data)
    return starts


def _kill_mid_record(project: Path, base_json: dict) -> tuple[Path, int, int, str]:
    """Make the base run look SIGKILLed while writing its last record: file ``.open`` and torn, run unfinished.

    Returns the final path, where the cut will be (the start of the torn record), the torn size and
    the URI of the torn record.
    """
    final = _warc(project)
    # The last capture's request record, torn half-way (its capture record, after it, never written):
    # a capture's own metadata record comes last, after its exchanges' records.
    last, capture_record = _members(final)[-2:]
    assert record_at(final, capture_record)[0] == "metadata" and record_at(final, last)[0] == "request"
    uri = record_at(final, last)[1].get_header("WARC-Target-URI")
    data = final.read_bytes()
    torn = last + (capture_record - last) // 2
    open_path = final.with_name(final.name + ".open")
    open_path.write_bytes(data[:torn])
    final.unlink()
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    with conn:
        conn.execute("update runs set finished = null, status = 'running' where id = ?", (base_json["run"]["id"],))
    conn.close()
    return final, last, torn, uri


def _captures_in(project: Path, final: Path) -> dict[int, tuple[int, int]]:
    """The captures of ``final``, by id (a target's page and its host's robots.txt share the target's name)."""
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    try:
        return {c: (o, n) for c, o, n in conn.execute(
            "select id, warc_offset, warc_length from captures where warc_file = ?", (f"warcs/{final.name}",))}
    finally:
        conn.close()


def _capture_of_request(project: Path, final: Path, offset: int) -> set[int]:
    """The capture whose exchange's request record starts at ``offset`` of ``final`` (a page or a robots.txt)."""
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    try:
        return {c for (c,) in conn.execute("select capture_id from exchanges where warc_file = ? and request_offset = ?",
                                           (f"warcs/{final.name}", offset))}
    finally:
        conn.close()


def test_a_killed_runs_file_is_cut_and_the_cut_is_recorded_and_shown(project, base):
    final, cut_at, torn, uri = _kill_mid_record(project, base[1])
    aborted = base[1]["run"]["id"]
    before = _captures_in(project, final)
    lost = _capture_of_request(project, final, cut_at)  # the capture the torn record was part of
    # the last capture written: a page, or its host's robots.txt (settings.watch_robots)
    assert len(lost) == 1 and lost < set(before) and uri.rsplit("/", 1)[1] in ("p0", "p1", "robots.txt")
    empty = project / "archive" / "warcs" / "lastseen-20000101000000000000-00000.warc.gz.open"
    empty.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)  # killed before its first record was whole

    ran = lastseen(project, "run", "--json")
    assert ran.exit_code == 0, ran.stderr
    assert_contract(ran.json)
    run_id = ran.json["run"]["id"]
    expected = [
        {"action": "cut", "file": f"archive/warcs/{empty.name[:-5]}", "cut_at": 0, "bytes_removed": 24,
         "rows_deleted": 0, "aborted_run": None},
        {"action": "cut", "file": f"archive/warcs/{final.name}", "cut_at": cut_at, "bytes_removed": torn - cut_at,
         "rows_deleted": 1, "aborted_run": aborted},
    ]
    assert ran.json["run"]["recovered"] == expected
    # Told on stderr, one line each (cron mails it).
    lines = [line for line in ran.stderr.splitlines() if "recovered" in line]
    assert lines == [
        f"lastseen run {run_id}: recovered archive/warcs/{empty.name[:-5]} deleted, it held no complete record "
        f"(24 bytes removed, 0 captures deleted) from an unknown run",
        f"lastseen run {run_id}: recovered archive/warcs/{final.name} cut at {cut_at} bytes "
        f"({torn - cut_at} bytes removed, 1 capture deleted) from run {aborted}",
    ]
    assert not empty.exists() and final.stat().st_size == cut_at
    assert set(_captures_in(project, final)) == set(before) - lost
    verify_archive(project / "archive")

    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    try:
        rows = conn.execute(
            "select run_id, action, file, cut_at, bytes_removed, rows_deleted, aborted_run, moved_to, details "
            "from recoveries order by id").fetchall()
        statuses = dict(conn.execute("select id, status from runs"))
    finally:
        conn.close()
    assert rows == [
        (run_id, "cut", f"warcs/{empty.name[:-5]}", 0, 24, 0, None, None, None),
        (run_id, "cut", f"warcs/{final.name}", cut_at, torn - cut_at, 1, aborted, None, None),
    ]
    assert statuses == {aborted: "aborted", run_id: "completed"}

    status = lastseen(project, "status", "--json")
    assert status.exit_code == 0 and status.stderr == ""
    shown = status.json["recovered"]
    assert [{k: v for k, v in r.items() if k not in ("at", "recovered_by")} for r in shown] == expected
    assert {r["recovered_by"] for r in shown} == {run_id} and all(r["at"].endswith("Z") for r in shown)
    assert status.json["recovered_older"] == 0
    table = lastseen(project, "status")
    when = shown[1]["at"][:16].replace("T", " ")
    assert (
        f"recovered {when} by run {run_id}: archive/warcs/{final.name} cut at {cut_at} bytes "
        f"({torn - cut_at} bytes removed, 1 capture deleted) from run {aborted}"
    ) in table.stdout.splitlines()

    again = lastseen(project, "run", "--json")  # nothing left to recover
    assert again.exit_code == 0 and again.json["run"]["recovered"] == []
    assert "recovered" not in again.stderr


def test_the_record_is_committed_before_the_file_is_cut(project, base):
    """A kill after the record and before the cut: the next start recovers again, recorded again."""
    final, cut_at, torn, _ = _kill_mid_record(project, base[1])
    open_path = final.with_name(final.name + ".open")

    def killed(recovery):
        raise KeyboardInterrupt  # the recovering process dies here, its record committed

    with pytest.raises(KeyboardInterrupt):
        Archive.open(project / "archive", run_id="first", on_recovery=killed)
    assert open_path.stat().st_size == torn  # not cut yet
    with Archive.open(project / "archive", run_id="second", on_recovery=None) as archive:
        assert [r.to_json()["rows_deleted"] for r in archive.recovered] == [0]  # deleted by the first
    assert final.stat().st_size == cut_at and not open_path.exists()
    status = lastseen(project, "status", "--json")
    assert [(r["recovered_by"], r["cut_at"], r["bytes_removed"], r["rows_deleted"]) for r in status.json["recovered"]] == [
        ("first", cut_at, torn - cut_at, 1), ("second", cut_at, torn - cut_at, 0)]


def test_status_counts_recoveries_older_than_30_days(project):
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    with conn:
        for at in ("2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z"):
            conn.execute("insert into recoveries (run_id, at, action, file, cut_at, bytes_removed, rows_deleted) "
                         "values ('old', ?, 'cut', 'warcs/x.warc.gz', 10, 5, 0)", (at,))
    conn.close()
    status = lastseen(project, "status", "--json")
    assert status.json["recovered"] == [] and status.json["recovered_older"] == 2
    table = lastseen(project, "status")
    assert "2 older recoveries (more than 30 days ago)" in table.stdout
    assert "recovered 2020" not in table.stdout
