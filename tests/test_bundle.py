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
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from crawler import clock
from crawler.bundlereadme import PROMPT
from crawler.custodycopy import read_copy
from crawler.signing import generate_key

from .helpers import lastseen, write_watchlist
from .site import Site
from .test_replay import pywb_bin
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


# -- evidence bundles ------------------------------------------------------------------------------

#: Every file a signed, time-stamped bundle of an HTTP target holds.
BUNDLE_FILES = [
    "MANIFEST.sha256",
    "MANIFEST.sha256.sig",
    "README.txt",
    "captures.wacz",
    "change.html",
    "custody.jsonl",
    "signing-key.pub.pem",
    "timestamp.tsr",
    "tsa-ca.pem",
]


def _tools_env() -> dict:
    """PATH with py-wacz's ``wacz`` (pywb's virtualenv) and ``warcio`` (this virtualenv) first."""
    wacz = pywb_bin() / "wacz"
    if not wacz.exists():
        pytest.fail(
            f"py-wacz is not installed beside pywb ({wacz}): run `make pywb` or "
            f"`.venv-pywb/bin/pip install wacz==0.6.0`"
        )
    for tool in ("jq", "openssl", "sha256sum", "unzip", "bash"):
        assert shutil.which(tool), f"these tests need {tool}: apt install {tool}"
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [str(pywb_bin()), str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    return env


def readme_commands(readme: str) -> list[str]:
    """The commands README.txt gives, exactly as written (the lines starting with its prompt)."""
    return [
        line[len(PROMPT) :] for line in readme.splitlines() if line.startswith(PROMPT)
    ]


def run_commands(folder: Path, commands: list[str], *, stop: bool = False) -> list:
    """Run each command with bash in ``folder``: ``(command, exit status, stdout + stderr)``."""
    env, out = _tools_env(), []
    for command in commands:
        done = _run(["bash", "-c", command], folder, env=env)
        out.append((command, done.returncode, done.stdout + done.stderr))
        if stop and done.returncode != 0:
            break
    return out


@pytest.fixture(scope="module")
def bundled(project, tmp_path_factory):
    """The notice change bundled on a copy of the project. Yields (project copy, zip, unzipped folder,
    the command's output)."""
    src, events, _pair = project
    tmp = tmp_path_factory.mktemp("bundled")
    root = _copy(src, tmp)
    mp = pytest.MonkeyPatch()
    try:
        _set_now(mp, LATER)
        ran = lastseen(root, "bundle", events["notice"], "--out", str(tmp / "out"))
    finally:
        mp.undo()
        clock._reset()
    assert ran.exit_code == 0, ran.stderr
    (path,) = (tmp / "out").iterdir()
    with zipfile.ZipFile(path) as zf:
        zf.extractall(tmp / "unzipped")
    (folder,) = (tmp / "unzipped").iterdir()
    return root, path, folder, ran.stdout


def test_a_bundle_s_readme_commands_pass_as_written(bundled, project):
    root, path, folder, said = bundled
    events = project[1]
    assert path.name == f"lastseen-bundle-{events['notice'].replace(':', '_')}.zip"
    assert folder.name == path.name.removesuffix(".zip")
    assert sorted(p.name for p in folder.iterdir()) == BUNDLE_FILES
    commands = readme_commands((folder / "README.txt").read_text())
    assert len(commands) == 7, commands
    ran = run_commands(folder, commands)
    for command, status, output in ran:
        assert status == 0, f"{command}\n{output}"
    outputs = "\n".join(o for _, _, o in ran)
    for listed in BUNDLE_FILES[2:]:  # all but the manifest and its signature
        assert f"{listed}: OK" in outputs
    assert "Signature Verified Successfully" in outputs
    assert "Validation succeeded" in outputs
    assert "Verification: OK" in outputs
    assert re.search(r"chain holds: entries \d+ to \d+, head [0-9a-f]{64}", outputs)
    # the bundle is on the record, and the archive still holds
    entry = max(read_copy(root / "archive"), key=lambda e: e["seq"])
    assert entry["kind"] == "bundle" and entry["content"]["event"] == events["notice"]
    assert entry["content"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry["content"]["path"] == str(path)
    assert f"Custody chain head: #{entry['seq']} {entry['sha256']}" in said
    status, doc = _verify(root)
    assert status == 0 and doc["ok"], doc["problems"]
    assert doc["checked"]["exports"] == 1


def test_the_bundle_s_change_page_is_the_report_s(bundled, project):
    root, _path, folder, _ = bundled
    event = project[1]["notice"]
    page = (folder / "change.html").read_text()
    assert "Tender deadline <del>1</del><ins>15</ins> June" in page
    assert f"<code>lastseen bundle {event}</code>" in page
    assert (
        "<script" not in page
    )  # self-contained and inert, as the report's change pages
    # the run's own report shows the command that builds it, on the event's change page
    run_id = event.split(":", 1)[0]
    pages = [
        p.read_text()
        for p in (root / "reports" / run_id).glob("*.html")
        if p.name != "index.html"
    ]
    assert any(f"<code>lastseen bundle {event}</code>" in p for p in pages)


@pytest.mark.parametrize("name", BUNDLE_FILES)
def test_one_byte_changed_in_any_file_fails_a_readme_command(bundled, name, tmp_path):
    _root, _path, folder, _ = bundled
    work = tmp_path / folder.name
    shutil.copytree(folder, work)
    commands = readme_commands((folder / "README.txt").read_text())
    target = work / name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 1
    target.write_bytes(bytes(data))
    ran = run_commands(work, commands, stop=True)
    assert ran[-1][1] != 0, f"every command passed with one byte of {name} changed"


def test_exit_3_under_a_held_lock_and_2_for_an_unknown_event(project, later, tmp_path):
    from crawler.archive import Archive

    root, events, _pair = project
    root = _copy(root, tmp_path)
    out = tmp_path / "out"
    with Archive.open(root / "archive"):  # the real lock, as a run takes it
        ran = lastseen(root, "bundle", events["notice"], "--out", str(out))
    assert ran.exit_code == 3, ran.stderr
    assert "lastseen bundle --wait" in ran.stderr
    assert not any(out.iterdir())
    run_id = events["notice"].split(":", 1)[0]
    for unknown in (f"{run_id}:nobody", "not-an-event"):
        ran = lastseen(root, "bundle", unknown, "--out", str(out))
        assert ran.exit_code == 2, ran.stderr
        assert not any(out.iterdir())
    # a first capture has no change to bundle
    first = next(e for e in read_copy(root / "archive") if e["kind"] == "capture")
    ran = lastseen(
        root, "bundle", f"{first['content']['run']}:notice", "--out", str(out)
    )
    assert ran.exit_code == 2 and "first capture" in ran.stderr, ran.stderr


def test_readme_shows_names_and_urls_as_one_line_of_text():
    from crawler.bundlereadme import ReadmeFacts, readme_text

    facts = ReadmeFacts(
        event="20260501T090000Z-abcd:evil\x1b[2J\nname",
        target="evil\x1b[2J\nname",
        url="https://x.example/\u202eevil\r\nSet-Cookie: a",
        before="capture 1",
        after="capture 2",
        verdict="changed",
        made="2026-05-03T10:00:00Z",
        software="lastseen test",
        first_seq=1,
        head={"seq": 9, "sha256": "0" * 64},
    )
    text = readme_text(facts, [("README.txt", "this file")])
    assert "\x1b" not in text and "\u202e" not in text and "\r" not in text
    assert "  Target:      evil\\u001b[2J name\n" in text
    assert "  URL (text):  https://x.example/\\u202eevil Set-Cookie: a\n" in text


# -- docs ------------------------------------------------------------------------------------------

EVIDENCE = ROOT / "docs" / "evidence.md"
_START, _END = "<!-- bundle-example: start -->\n", "<!-- bundle-example: end -->\n"
_VARYING = [  # what differs from one test run to the next, shown as a placeholder
    (r"\b[0-9a-f]{64}\b", "<sha256>"),
    (r"urn:uuid:[0-9a-f-]{36}", "urn:uuid:…"),
    (r"\b(\d{8}T\d{6}Z)-[0-9a-f]{4}\b", r"\1-xxxx"),
    (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
    (r"lastseen-\d{20}-", "lastseen-<time>-"),
    (r"\boffset \d+", "offset N"),
    (r"#\d+", "#N"),
    (r"seq == \d+", "seq == N"),
    (r"entries \d+ to \d+", "entries N to N"),
    (r"capture \d+,", "capture N,"),
    (r"(fetched \d{4}-\d\d-\d\dT\d\d:\d\d):\d\dZ", r"\1:ssZ"),
    (r"lastseen \d+\.\d+\.\d+\S*", "lastseen <version>"),
    (r"Using configuration from \S+", "Using configuration from <openssl.cnf>"),
]


def _normalised(text: str) -> str:
    for pattern, repl in _VARYING:
        text = re.sub(pattern, repl, text)
    # The batch capture record (#17) is in the bundle only when the commit that wrote it held no other target's
    # capture, which depends on how fast the run went: the example shows the bundle without it.
    return re.sub(r"\n *offset N WARC-Record-ID <urn:uuid:…> metadata\n *digest pass(?=\n)", "", text)


def test_docs_show_a_bundle_s_readme_and_its_commands_real_output(
    bundled, update_golden, tmp_path
):
    """docs/evidence.md's "Evidence bundles" example is this bundle's README.txt and what its commands
    printed, run as written (``--update-golden`` rewrites it)."""
    _root, _path, folder, _ = bundled
    work = tmp_path / folder.name
    shutil.copytree(folder, work)
    readme = (work / "README.txt").read_text()
    shown = []
    for command, status, output in run_commands(work, readme_commands(readme)):
        assert status == 0, f"{command}\n{output}"
        shown.append(f"$ {command}\n{output.rstrip()}\n")
    block = (
        f"{_START}README.txt:\n\n```text\n{_normalised(readme).rstrip()}\n```\n\n"
        f"Its commands, run as written in the unzipped bundle (the real output; hashes, ids, times and "
        f"ports shown as placeholders):\n\n```console\n{_normalised(chr(10).join(shown)).rstrip()}\n```\n{_END}"
    )
    doc = EVIDENCE.read_text()
    assert _START in doc and _END in doc, (
        "docs/evidence.md lacks the bundle example's markers"
    )
    head, rest = doc.split(_START, 1)
    current, tail = rest.split(_END, 1)
    if update_golden:
        EVIDENCE.write_text(head + block + tail)
    else:
        assert _START + current + _END == block, (
            "docs/evidence.md's bundle example is stale: rerun this test with --update-golden"
        )


def test_the_change_page_s_bundle_command_is_shell_quoted_and_escaped(tmp_path):
    """An event id holding quotes, ``$(…)`` and markup is shown as one shell word, HTML-escaped."""
    import html
    import shlex
    from dataclasses import replace

    from .test_report import T1, capture, changed_diff, event

    nasty = "20260501T090000Z-abcd:it's $(touch pwned) <b>x</b>"
    shown = replace(
        event(
            "notice",
            "changed",
            compared=capture(9, "https://ministry.example/press", at=T1),
            diff=changed_diff(),
        ),
        event_id=nasty,
    )
    from crawler.report import write_change_page

    page = write_change_page(
        tmp_path / "change.html", shown, title="t", generated=clock.now()
    ).read_text()
    command = re.search(
        r'<p class="bundle-command">.*?<code>(.*?)</code>', page, re.DOTALL
    ).group(1)
    assert "<b>" not in command
    assert shlex.split(html.unescape(command)) == ["lastseen", "bundle", nasty]


def test_verify_flags_a_bundle_altered_after_the_fact(bundled):
    root, path, _folder, _ = bundled
    data = path.read_bytes()
    try:
        path.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
        status, doc = _verify(root)
        assert status == 4
        assert [(p["kind"], p["file"]) for p in doc["problems"]] == [
            ("export-altered", str(path))
        ]
    finally:
        path.write_bytes(data)
    assert _verify(root)[0] == 0
