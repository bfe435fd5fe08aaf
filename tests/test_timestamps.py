"""Trusted timestamps of the custody chain head (#15): RFC 3161 tokens from a local authority on 127.0.0.1.

The authority is this file's own: an HTTP server in a thread that answers each query with ``openssl ts -reply``,
signing with a TSA certificate (extendedKeyUsage critical timeStamping) issued by a CA the test makes with
``openssl req`` and ``openssl x509``. Tokens are checked with the ``openssl ts -verify`` a third party would run,
never with lastseen's own code.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from crawler.alerts import compose_message
from crawler.timestamps import check_tokens
from crawler.tsa import TimestampError, stamp

from .helpers import assert_contract, copy_project, lastseen, write_watchlist
from .sinks import AlertSink
from .site import Site, closed_port

DAY_1, DAY_2 = "2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z"
LATER_1, LATER_2 = (
    "2026-03-02T09:10:00Z",
    "2026-03-02T09:20:00Z",
)  # nothing due: no new entry

_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_tsa]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
default_tsa = good
[good]
serial = {dir}/good.serial
crypto_device = builtin
signer_cert = {dir}/good-tsa.pem
certs = {dir}/good-ca.pem
signer_key = {dir}/good-tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[other]
serial = {dir}/other.serial
crypto_device = builtin
signer_cert = {dir}/other-tsa.pem
certs = {dir}/other-ca.pem
signer_key = {dir}/other-tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    openssl = shutil.which("openssl")
    assert openssl, "these tests need the openssl command: apt install openssl"
    return subprocess.run(
        [openssl, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """Two CAs (``good``, ``other``), each with a TSA certificate for time-stamping, and the openssl config."""
    d = tmp_path_factory.mktemp("pki")
    (d / "openssl.cnf").write_text(_CONFIG.format(dir=d))
    for name in ("good", "other"):
        (d / f"{name}.serial").write_text("01\n")
        _ok(
            _openssl(
                "req",
                "-config",
                "openssl.cnf",
                "-x509",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                f"{name}-ca.key",
                "-out",
                f"{name}-ca.pem",
                "-days",
                "3650",
                "-extensions",
                "v3_ca",
                "-subj",
                f"/CN=lastseen test {name} root",
                cwd=d,
            )
        )
        _ok(
            _openssl(
                "req",
                "-config",
                "openssl.cnf",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                f"{name}-tsa.key",
                "-out",
                f"{name}-tsa.csr",
                "-subj",
                f"/CN=lastseen test {name} TSA",
                cwd=d,
            )
        )
        _ok(
            _openssl(
                "x509",
                "-req",
                "-in",
                f"{name}-tsa.csr",
                "-CA",
                f"{name}-ca.pem",
                "-CAkey",
                f"{name}-ca.key",
                "-set_serial",
                "2",
                "-out",
                f"{name}-tsa.pem",
                "-days",
                "3650",
                "-extfile",
                "openssl.cnf",
                "-extensions",
                "v3_tsa",
                cwd=d,
            )
        )
    return d


def _query(digest: str, path: Path) -> bytes:
    _ok(
        _openssl(
            "ts", "-query", "-digest", digest, "-sha256", "-cert", "-out", str(path)
        )
    )
    return path.read_bytes()


def _answer(handler, status: int, body: bytes, headers=()) -> None:
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _hang(handler, tsa) -> None:
    tsa.release.wait(60)  # until the test has seen the client give up (bounded)
    _answer(handler, 500, b"")


_MISBEHAVIOURS = {
    "http-500": lambda h, tsa: _answer(h, 500, b"busy"),
    "redirect": lambda h, tsa: _answer(
        h, 302, b"", [("Location", tsa.url + "/elsewhere")]
    ),
    "garbage": lambda h, tsa: _answer(
        h,
        200,
        b"<html>not a time-stamp reply</html>",
        [("Content-Type", "application/timestamp-reply")],
    ),
    "hang": _hang,
}


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        tsa = self.server.tsa
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with tsa.lock:
            tsa.requests.append((self.path, dict(self.headers), body))
            n = len(tsa.requests)
            signer = tsa.signer
        if signer in _MISBEHAVIOURS:
            return _MISBEHAVIOURS[signer](self, tsa)
        if (
            signer == "replay"
        ):  # a good token, but over another query (another imprint and nonce)
            signer, body = "good", _query("00" * 32, tsa.pki / f"o{tsa.port}-{n}.tsq")
        query, reply = (
            tsa.pki / f"q{tsa.port}-{n}.tsq",
            tsa.pki / f"r{tsa.port}-{n}.tsr",
        )
        query.write_bytes(body)
        _ok(
            _openssl(
                "ts",
                "-reply",
                "-config",
                str(tsa.pki / "openssl.cnf"),
                "-section",
                signer,
                "-queryfile",
                str(query),
                "-out",
                str(reply),
            )
        )
        data = reply.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Authority:
    """A time-stamping authority on 127.0.0.1: ``url``, ``requests`` (path, headers, body), ``signer``."""

    def __init__(self, pki: Path, signer: str = "good"):
        self.pki, self.signer, self.requests, self.lock = (
            pki,
            signer,
            [],
            threading.Lock(),
        )
        self.release = threading.Event()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
        self.server.tsa = self
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/tsr"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=30)


def _imprint(token: Path) -> bytes:
    """The message imprint of a token, as ``openssl ts -reply -text`` prints it (its hex dump read back)."""
    text = _ok(_openssl("ts", "-reply", "-in", str(token), "-text"))
    dump = text.split("Message data:", 1)[1].split("Serial number:", 1)[0]
    return bytes.fromhex(
        "".join(re.findall(r"^\s+[0-9a-f]{4} - ([0-9a-f -]{47})", dump, re.MULTILINE))
        .replace("-", " ")
        .replace(" ", "")
    )


def _lines(project: Path) -> list[dict]:
    return [
        json.loads(line)
        for p in sorted((project / "archive" / "custody").glob("*.jsonl"))
        for line in p.read_bytes().splitlines()
    ]


def _rows(project: Path) -> list[tuple]:
    conn = sqlite3.connect(project / "archive" / "lastseen.db")
    try:
        return conn.execute(
            "select run_id, seq, sha256, status, token, token_file, error from timestamps "
            "order by id"
        ).fetchall()
    finally:
        conn.close()


def _footer(project: Path, doc: dict) -> str:
    return (
        (project / "reports" / doc["run"]["id"] / "index.html")
        .read_text()
        .rsplit("<footer>", 1)[1]
    )


def _watchlist(
    project: Path, site: Site, sink: AlertSink, authority: str | None
) -> None:
    settings = {"every": "1d"}
    if authority:
        settings.update(timestamp_authority=authority, timestamp_ca="tsa-ca.pem")
    write_watchlist(
        project / "watchlist.yaml",
        [{"name": "page", "url": site.url("/page")}],
        settings=settings,
        alerts=[sink.url],
    )


@pytest.fixture(scope="module")
def runs(pki, tmp_path_factory):
    """Four runs over one page, with the authority: up (day 1), down (day 2, the page changed: an alert), up
    with nothing due (the failed head is tried again), up with nothing due (the head holds a token: nothing sent).
    Yields (project, docs, posts per run, requests the authority received per run)."""
    from crawler import clock

    project = tmp_path_factory.mktemp("stamped")
    shutil.copy(pki / "good-ca.pem", project / "tsa-ca.pem")
    site, authority = Site(), Authority(pki)
    docs, posts, received = [], [], []
    mp = pytest.MonkeyPatch()
    try:
        with AlertSink() as sink:
            site.set("/page", "<html><body><p>The minister said yes.</p></body></html>")
            for when, up in (
                (DAY_1, True),
                (DAY_2, False),
                (LATER_1, True),
                (LATER_2, True),
            ):
                mp.delenv(clock.ENV_OFFSET, raising=False)
                mp.setenv(clock.ENV_NOW, when)
                clock._reset()
                if when == DAY_2:
                    site.set(
                        "/page",
                        "<html><body><p>The minister said no.</p></body></html>",
                    )
                _watchlist(
                    project,
                    site,
                    sink,
                    authority.url if up else f"http://127.0.0.1:{closed_port()}/tsr",
                )
                sink.clear()
                before = len(authority.requests)
                ran = lastseen(project, "run", "--json")
                assert ran.exit_code == 0, ran.stderr
                docs.append(ran.json)
                # a failure is said on stderr too (cron mails it), once
                assert (
                    "the custody chain head was not time-stamped: cannot reach"
                    in ran.stderr
                ) is (not up), ran.stderr
                posts.append(list(sink.posts))
                received.append(authority.requests[before:])
    finally:
        mp.undo()
        clock._reset()
        site.close()
        authority.close()
    return project, docs, posts, received


def test_a_run_with_an_authority_gets_a_token_openssl_accepts(runs, pki):
    project, docs, _, received = runs
    doc = docs[0]
    assert_contract(doc)
    head, stamp = doc["run"]["chain_head"], doc["run"]["timestamp"]
    assert stamp["status"] == "ok" and stamp["error"] is None
    assert (stamp["seq"], stamp["sha256"]) == (head["seq"], head["sha256"])
    # one query, as RFC 3161 over HTTP says
    ((path, headers, query),) = received[0]
    assert path == "/tsr" and headers["Content-Type"] == "application/timestamp-query"
    (project / "query.tsq").write_bytes(query)
    text = _ok(_openssl("ts", "-query", "-in", str(project / "query.tsq"), "-text"))
    assert "Hash Algorithm: sha256" in text and "Certificate required: yes" in text
    assert re.search(r"^Nonce: 0x[0-9A-F]+$", text, re.MULTILINE), text
    # the token in the archive: openssl accepts it over the head's hash with the authority's CA ...
    token = project / "archive" / stamp["token"]
    assert (
        stamp["token"] == f"custody/timestamps/{head['seq']}-{head['sha256'][:16]}.tsr"
    )
    out = _ok(
        _openssl(
            "ts",
            "-verify",
            "-digest",
            head["sha256"],
            "-in",
            str(token),
            "-CAfile",
            str(project / "tsa-ca.pem"),
        )
    )
    assert "Verification: OK" in out
    # ... and over the entry itself: the imprint is the SHA-256 of the head entry's canonical form
    entry = next(e for e in _lines(project) if e["seq"] == head["seq"])
    data = project / "entry.json"
    data.write_bytes(
        json.dumps(
            {k: v for k, v in entry.items() if k != "sha256"},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
    )
    assert "Verification: OK" in _ok(
        _openssl(
            "ts",
            "-verify",
            "-data",
            str(data),
            "-in",
            str(token),
            "-CAfile",
            str(project / "tsa-ca.pem"),
        )
    )
    assert _imprint(token) == bytes.fromhex(head["sha256"])
    # the copy of the CA beside the tokens, and the index's token is the file's bytes
    ca_copy = next((project / "archive" / "custody" / "timestamps").glob("ca-*.pem"))
    assert ca_copy.read_bytes() == (pki / "good-ca.pem").read_bytes()
    run_id, seq, sha, status, blob, token_file, _error = _rows(project)[0]
    assert (run_id, seq, sha, status, token_file) == (
        doc["run"]["id"],
        head["seq"],
        head["sha256"],
        "ok",
        stamp["token"],
    )
    assert bytes(blob) == token.read_bytes()
    # a token from another authority's CA does not pass for this one
    assert (
        _openssl(
            "ts",
            "-verify",
            "-digest",
            head["sha256"],
            "-in",
            str(token),
            "-CAfile",
            str(pki / "other-ca.pem"),
        ).returncode
        != 0
    )
    # the report's footer shows it
    footer = _footer(project, doc)
    assert f"Trusted timestamp of this head: {stamp['gen_time']}" in footer
    assert f"<code>{stamp['token']}</code>" in footer
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", stamp["gen_time"])


def test_an_authority_down_fails_nothing_but_its_stamp_and_the_next_run_stamps(runs):
    project, docs, posts, received = runs
    down, retry, idle = docs[1], docs[2], docs[3]
    for doc in docs:
        assert_contract(doc)
    # run 2: the authority's port is closed; the run completed (exit 0 checked by the fixture) and says so
    stamp = down["run"]["timestamp"]
    assert (
        stamp["status"] == "failed"
        and stamp["token"] is None
        and stamp["gen_time"] is None
    )
    assert (
        "cannot reach http://127.0.0.1:" in stamp["error"]
        and "refused" in stamp["error"].lower()
    )
    assert (stamp["seq"], stamp["sha256"]) == (
        down["run"]["chain_head"]["seq"],
        down["run"]["chain_head"]["sha256"],
    )
    assert received[1] == []
    assert down["events"][0]["verdict"] == "changed" and down["run"]["report"]
    footer = _footer(project, down)
    assert (
        "Trusted timestamp of this head: failed (cannot reach http://127.0.0.1:"
        in footer
    )
    assert "the next run tries again" in footer
    (post,) = posts[1]
    body = post["message"] if "message" in post else post["body"]
    lines = body.splitlines()
    assert lines[-2].startswith("Custody chain head: #")
    assert lines[-1].startswith(
        "Trusted timestamp: failed (cannot reach http://127.0.0.1:"
    )
    # run 3: nothing due, no new entry: the failed head is stamped now
    assert (
        retry["events"] == []
        and retry["run"]["chain_head"] == down["run"]["chain_head"]
    )
    stamp = retry["run"]["timestamp"]
    assert (
        stamp["status"] == "ok"
        and stamp["sha256"] == down["run"]["chain_head"]["sha256"]
    )
    assert len(received[2]) == 1
    assert "Verification: OK" in _ok(
        _openssl(
            "ts",
            "-verify",
            "-digest",
            stamp["sha256"],
            "-in",
            str(project / "archive" / stamp["token"]),
            "-CAfile",
            str(project / "tsa-ca.pem"),
        )
    )
    # run 4: the head holds its token: nothing is sent, the token is the one run 3 obtained
    assert received[3] == []
    assert idle["run"]["timestamp"] == stamp
    statuses = [(r[0], r[3]) for r in _rows(project)]
    assert statuses == [
        (docs[0]["run"]["id"], "ok"),
        (down["run"]["id"], "failed"),
        (retry["run"]["id"], "ok"),
    ]


def test_a_reply_signed_under_another_ca_is_refused_and_recorded(pki, tmp_path):
    shutil.copy(pki / "good-ca.pem", tmp_path / "tsa-ca.pem")
    site, authority = Site(), Authority(pki, signer="other")
    try:
        with AlertSink() as sink:
            site.set("/page", "<html><body><p>Hello.</p></body></html>")
            _watchlist(tmp_path, site, sink, authority.url)
            ran = lastseen(tmp_path, "run", "--json")
    finally:
        site.close()
        authority.close()
    assert ran.exit_code == 0, ran.stderr
    assert_contract(ran.json)
    stamp = ran.json["run"]["timestamp"]
    assert len(authority.requests) == 1
    assert stamp["status"] == "failed" and stamp["token"] is None
    assert "does not verify against timestamp_ca" in stamp["error"]
    assert not list((tmp_path / "archive").glob("custody/timestamps/*.tsr"))
    ((_, _, status, token, _, error),) = [r[1:] for r in _rows(tmp_path)]
    assert status == "failed" and token is None and error == stamp["error"]
    assert (
        check_tokens(
            sqlite3.connect(tmp_path / "archive" / "lastseen.db"), tmp_path / "archive"
        )
        == []
    )


def test_without_the_setting_nothing_is_sent(pki, tmp_path):
    site, authority = Site(), Authority(pki)
    try:
        with AlertSink() as sink:
            site.set("/page", "<html><body><p>Hello.</p></body></html>")
            _watchlist(tmp_path, site, sink, None)
            ran = lastseen(tmp_path, "run", "--json")
    finally:
        site.close()
        authority.close()
    assert ran.exit_code == 0, ran.stderr
    assert_contract(ran.json)
    assert authority.requests == []
    assert ran.json["run"]["timestamp"] == {
        "status": "off",
        "authority": None,
        "seq": None,
        "sha256": None,
        "requested": None,
        "gen_time": None,
        "token": None,
        "error": None,
    }
    assert not (tmp_path / "archive" / "custody" / "timestamps").exists()
    assert "Trusted timestamp" not in _footer(tmp_path, ran.json)


def test_check_tokens_names_a_token_altered_or_missing(runs, tmp_path):
    project = copy_project(runs[0], tmp_path)
    shutil.copy(runs[0] / "tsa-ca.pem", tmp_path / "tsa-ca.pem")
    archive = project / "archive"
    conn = sqlite3.connect(archive / "lastseen.db")
    try:
        assert check_tokens(conn, archive) == []
        first, second = (
            runs[1][0]["run"]["timestamp"]["token"],
            runs[1][2]["run"]["timestamp"]["token"],
        )
        token = archive / first
        data = bytearray(token.read_bytes())
        # one bit of the signed message imprint (a byte of the CA certificate the token carries as a courtesy
        # would only make the file differ from the index's copy: the signature does not cover it)
        at = data.find(bytes.fromhex(runs[1][0]["run"]["timestamp"]["sha256"]))
        assert at > 0
        data[at + 5] ^= 0x01
        token.write_bytes(bytes(data))
        (archive / second).unlink()
        problems = check_tokens(conn, archive)
    finally:
        conn.close()
    kinds = {(p["kind"], p["file"]) for p in problems}
    assert ("timestamp-mismatch", first) in kinds and (
        "timestamp-invalid",
        first,
    ) in kinds
    assert ("timestamp-missing", second) in kinds
    assert {p["file"] for p in problems} == {first, second}
    altered = next(p for p in problems if p["kind"] == "timestamp-mismatch")
    assert (
        altered["found"] == hashlib.sha256(bytes(data)).hexdigest()
        and altered["offset"] is None
    )


def test_lastseen_verify_checks_every_token_and_names_one_altered(runs, tmp_path):
    project = copy_project(runs[0], tmp_path)
    shutil.copy(runs[0] / "tsa-ca.pem", tmp_path / "tsa-ca.pem")
    clean = lastseen(project, "verify", "--json")
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    stamped = list(
        {d["run"]["timestamp"]["token"]: d["run"]["timestamp"] for d in runs[1] if d["run"]["timestamp"]["status"] == "ok"}.values()
    )  # a run whose head already holds a token says so: one token per head
    assert clean.json["checked"]["timestamps"] == len(stamped) == 2
    token = project / "archive" / stamped[0]["token"]
    data = bytearray(token.read_bytes())
    at = data.find(bytes.fromhex(stamped[0]["sha256"]))
    data[at] ^= 0x01  # the stamped imprint: the token no longer stamps the head it says
    token.write_bytes(bytes(data))
    ran = lastseen(project, "verify", "--json")
    assert ran.exit_code == 4, ran.stdout + ran.stderr
    named = {(p["kind"], p["file"]) for p in ran.json["problems"]}
    assert named == {
        ("timestamp-mismatch", stamped[0]["token"]),
        ("timestamp-invalid", stamped[0]["token"]),
    }
    said = lastseen(project, "verify")
    assert said.exit_code == 4 and f"timestamp-mismatch: {stamped[0]['token']}" in said.stdout


def test_the_alert_message_names_a_token_obtained():
    _, body = compose_message(
        [],
        run_id="r",
        report_path="/r/index.html",
        chain_head={"seq": 7, "sha256": "ab" * 32},
        timestamp={
            "status": "ok",
            "authority": "https://u:secret@tsa.example/tsr",
            "seq": 7,
            "sha256": "ab" * 32,
            "requested": "2026-03-01T09:00:00Z",
            "gen_time": "2026-03-01T09:00:01Z",
            "token": "custody/timestamps/7-ab.tsr",
            "error": None,
        },
    )
    assert body.splitlines()[-1] == (
        "Trusted timestamp: 2026-03-01T09:00:01Z from https://***@tsa.example/tsr "
        "(token custody/timestamps/7-ab.tsr)"
    )
    _, off = compose_message(
        [],
        run_id="r",
        report_path=None,
        chain_head={"seq": 7, "sha256": "ab" * 32},
        timestamp={"status": "off"},
    )
    assert off.splitlines()[-1].startswith("Custody chain head: #7")


def test_an_authority_needs_its_ca(tmp_path):
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [{"name": "p", "url": "https://example.test/"}],
        settings={"timestamp_authority": "https://tsa.example/tsr"},
    )
    ran = lastseen(tmp_path, "check", "watchlist.yaml")
    assert ran.exit_code == 2
    assert "timestamp_authority needs timestamp_ca" in ran.stderr + ran.stdout


def test_reindex_restores_the_tokens_from_their_files(runs, tmp_path):
    project = copy_project(runs[0], tmp_path)
    shutil.copy(runs[0] / "tsa-ca.pem", tmp_path / "tsa-ca.pem")
    archive = project / "archive"
    before = [(r[1], r[2], bytes(r[4]), r[5]) for r in _rows(project) if r[3] == "ok"]
    assert len(before) == 2
    # a token file whose name no entry of the log holds is left out, and said
    (archive / "custody" / "timestamps" / "999-0123456789abcdef.tsr").write_bytes(
        b"not a token"
    )
    for path in archive.glob("lastseen.db*"):
        path.unlink()  # the index is lost
    ran = lastseen(project, "reindex")
    assert ran.exit_code == 0, ran.stderr
    assert (
        "trusted timestamps restored from archive/custody/timestamps: 2 tokens, each checked"
        in ran.stdout
    )
    assert (
        "999-0123456789abcdef.tsr (no custody entry 999 with that hash)" in ran.stdout
    )
    assert [(r[1], r[2], bytes(r[4]), r[5]) for r in _rows(project)] == before
    conn = sqlite3.connect(archive / "lastseen.db")
    try:
        assert check_tokens(conn, archive) == []
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        ("http-500", "answered HTTP 500"),
        ("redirect", "answered HTTP 302"),
        ("garbage", "the reply is not an RFC 3161 time-stamp response"),
        ("replay", "does not verify against timestamp_ca"),
        ("other", "does not verify against timestamp_ca"),
        ("hang", "timed out"),
    ],
)
def test_a_bad_answer_is_refused_with_what_went_wrong(pki, behaviour, said):
    authority = Authority(pki, signer=behaviour)
    digest = hashlib.sha256(b"head").hexdigest()
    try:
        with pytest.raises(TimestampError) as caught:
            stamp(authority.url, digest, ca_file=pki / "good-ca.pem", timeout=1.0)
    finally:
        authority.close()
    assert said in str(caught.value)
    assert (
        len(authority.requests) == 1
    )  # one request, never followed elsewhere nor retried
    # the same query a good authority answers is accepted: what failed was the answer
    good = Authority(pki)
    try:
        token = stamp(good.url, digest, ca_file=pki / "good-ca.pem", timeout=30)
    finally:
        good.close()
    assert token.reply[:1] == b"0" and token.gen_time


def test_an_authority_is_an_http_url(tmp_path, pki):
    shutil.copy(pki / "good-ca.pem", tmp_path / "tsa-ca.pem")
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [{"name": "p", "url": "https://example.test/"}],
        settings={
            "timestamp_authority": "ftp://tsa.example/tsr",
            "timestamp_ca": "tsa-ca.pem",
        },
    )
    ran = lastseen(tmp_path, "check", "watchlist.yaml")
    assert ran.exit_code == 2
    assert "can name an RFC 3161 time-stamping authority" in ran.stderr + ran.stdout
    (tmp_path / "tsa-ca.pem").write_text("not a certificate")
    write_watchlist(
        tmp_path / "watchlist.yaml",
        [{"name": "p", "url": "https://example.test/"}],
        settings={
            "timestamp_authority": "https://tsa.example/tsr",
            "timestamp_ca": "tsa-ca.pem",
        },
    )
    ran = lastseen(tmp_path, "check", "watchlist.yaml")
    assert ran.exit_code == 2
    assert (
        "timestamp_ca:" in ran.stderr + ran.stdout
        and "holds no PEM certificate" in ran.stderr + ran.stdout
    )
