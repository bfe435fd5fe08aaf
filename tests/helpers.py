"""Shared test helpers: write watchlists, run the CLI, read WARCs back."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import yaml
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from crawler.cli import cli


def write_watchlist(path: Path, targets: list[dict], *, settings: dict | None = None, alerts: list | None = None) -> Path:
    doc = {"settings": {"concurrency": 16, "per_host_concurrency": 4, "per_host_delay": "0s", "timeout": "5s",
                        "retries": 1, **(settings or {})},
           "targets": targets}
    if alerts:
        doc["alerts"] = alerts
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@contextlib.contextmanager
def chdir(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


class Ran:
    def __init__(self, result):
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.exception = result.exception
        self._json = None

    @property
    def json(self) -> dict:
        if self._json is None:
            self._json = json.loads(self.stdout)
        return self._json

    def event(self, target: str) -> dict:
        for e in self.json["events"]:
            if e["target"] == target:
                return e
        raise KeyError(f"no event for {target!r}; events: {[e['target'] for e in self.json['events']]}")


def lastseen(cwd: Path, *args: str) -> Ran:
    with chdir(cwd):
        result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    ran = Ran(result)
    if result.exception and not isinstance(result.exception, SystemExit):
        import traceback

        raise AssertionError("".join(traceback.format_exception(result.exception))) from result.exception
    return ran


def warc_records(path: Path) -> list:
    """(offset, record type, headers, http headers, raw payload bytes) of every record."""
    out = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh, no_record_parse=False, arc2warc=False)
        for record in it:
            payload = record.raw_stream.read()
            out.append((it.get_record_offset(), record.rec_type, record.rec_headers, record.http_headers, payload))
    return out


def record_at(path: Path, offset: int):
    with open(path, "rb") as fh:
        fh.seek(offset)
        for record in ArchiveIterator(fh):
            return record.rec_type, record.rec_headers, record.http_headers, record.raw_stream.read()
    raise AssertionError(f"no record at {path}:{offset}")


CONTRACT_SCHEMA = json.loads((Path(__file__).parent / "contract.schema.json").read_text())


def _strict(schema):
    """The contract schema, closed: known words only (``examples`` → ``enum``), no unknown fields.

    The published contract is open (consumers ignore what they do not know);
    lastseen's own output must use only what it documents.
    """
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if out.get("type") == "string" and "examples" in out:
        out["enum"] = list(out.pop("examples"))
    if out.get("type") == "object" and "properties" in out:
        out["additionalProperties"] = False
    return out


STRICT_CONTRACT_SCHEMA = _strict(CONTRACT_SCHEMA)


def assert_contract(doc: dict) -> None:
    """``doc`` is valid ``--json`` output: the open contract, and only documented fields and words."""
    import jsonschema

    from crawler.verdicts import VERDICTS

    jsonschema.validate(doc, CONTRACT_SCHEMA)
    jsonschema.validate(doc, STRICT_CONTRACT_SCHEMA)
    for e in doc["events"]:
        assert e["reason"] is None or e["reason"] in VERDICTS[e["verdict"]].reason_names, e


def copy_project(base: Path, to: Path) -> Path:
    """A copy of a directory holding ``watchlist.yaml`` and ``archive/`` (a test's own archive to spoil)."""
    import shutil

    shutil.copy(base / "watchlist.yaml", to / "watchlist.yaml")
    shutil.copytree(base / "archive", to / "archive")
    return to


def only_warc(project: Path) -> Path:
    """The one closed lastseen WARC file of ``project``'s archive."""
    (path,) = (project / "archive" / "warcs").glob("lastseen-*.warc.gz")
    return path


def assert_no_script_but_ours(raw: str) -> int:
    """A report page runs no script but lastseen's own, allowed by its hash; returns how many it has (0 or 1).

    Every ``<script>`` of the page (read from the source, byte for byte) is inline, has no attribute, and
    is ``crawler/templates/report.js`` exactly; the page's CSP has ``default-src 'none'`` and a
    ``script-src`` that lists exactly the SHA-256 of those scripts (none: no ``script-src`` at all), so
    no ``'unsafe-inline'``, ``'unsafe-eval'``, nonce or source could let another one run.
    """
    import base64
    import hashlib
    import re

    import lxml.html

    from crawler.report.index import SCRIPT

    doc = lxml.html.document_fromstring(raw)
    [csp] = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    directives = {}
    for part in csp.split(";"):
        name, *values = part.split()
        assert name not in directives, csp
        directives[name] = values
    assert directives["default-src"] == ["'none'"], csp
    inline = re.findall(r"<script>(.*?)</script>", raw, flags=re.DOTALL)
    assert raw.lower().count("<script") == len(inline) == len(doc.xpath("//script")), "a script that is not ours"
    assert all(text == SCRIPT for text in inline), "an inline script that is not report.js"
    assert all(not el.attrib for el in doc.xpath("//script")), "a script with attributes (src, nonce...)"
    hashes = sorted({"'sha256-" + base64.b64encode(hashlib.sha256(t.encode()).digest()).decode() + "'" for t in inline})
    if hashes:
        assert directives["script-src"] == hashes, csp
    else:
        assert "script-src" not in directives, csp
    return len(inline)


def index_as_schema_19(index: Path) -> None:
    """Rewrite the index ``index`` as schema 19 wrote it (before #17's ``capture_rows``, ``exchange_rows`` and
    ``event_rows``):
    the same rows, every ``captures``, ``exchanges`` and ``events`` row whole (what the views read), in tables
    of those names; the file replaced."""
    import sqlite3

    import sqlite_utils

    from crawler.store.schema import CAPTURE_COLUMNS, EVENT_COLUMNS, EXCHANGE_COLUMNS, MIGRATIONS

    building = index.with_name(index.name + ".19")
    building.unlink(missing_ok=True)
    conn = sqlite3.connect(building, isolation_level=None)
    try:
        db = sqlite_utils.Database(conn)
        for migration in MIGRATIONS[:19]:
            migration(db)
        conn.execute("PRAGMA user_version=19")
        conn.execute("attach database ? as new", (str(index),))
        conn.execute("begin")
        columns = ", ".join(CAPTURE_COLUMNS)
        conn.execute(f"insert into main.captures ({columns}) select {columns} from new.captures")
        columns = ", ".join(EXCHANGE_COLUMNS)
        conn.execute(f"insert into main.exchanges ({columns}) select {columns} from new.exchanges")
        columns = ", ".join(EVENT_COLUMNS)
        conn.execute(f"insert into main.events ({columns}) select {columns} from new.events")
        for (table,) in conn.execute("select name from new.sqlite_master where type = 'table'").fetchall():
            if table not in ("capture_rows", "exchange_rows", "event_rows", "warc_files",
                             "target_stats") and not table.startswith(  # (schema 22's: summed up when upgraded)
                    "sqlite_"):
                conn.execute(f"insert into main.{table} select * from new.{table}")
        conn.execute("commit")
        conn.execute("detach database new")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    os.replace(building, index)
