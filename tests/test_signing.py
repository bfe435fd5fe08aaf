"""Signing keys and signatures (#16): ``lastseen keygen`` (file modes, the default folder, never overwriting
without ``--force``, never inside an archive), detached Ed25519 signatures that the real ``openssl``
binary checks (and rejects once one byte changes), the fingerprint ``openssl`` reproduces, and
``settings.signing_key`` checked by the watchlist."""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

from crawler.signing import fingerprint, public_key_pem, sign_file, verify_signature

from .helpers import lastseen


def _openssl() -> str:
    path = shutil.which("openssl")
    assert path, (
        "these tests run the openssl command: install it (Debian: apt-get install openssl)"
    )
    version = subprocess.run(
        [path, "version"], capture_output=True, text=True, check=True
    ).stdout
    major = re.match(r"OpenSSL (\d+)\.", version)
    assert major and int(major.group(1)) >= 3, (
        f"openssl pkeyutl -rawin (Ed25519) needs OpenSSL 3.0 or later; this is {version.strip()}"
    )
    return path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _keygen(cwd: Path, *args: str):
    return lastseen(cwd, "keygen", *args)


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def test_keygen_writes_the_pair_in_the_users_config_folder_private_to_the_user(
    tmp_path, config_home
):
    ran = _keygen(tmp_path)
    assert ran.exit_code == 0, ran.stderr
    key, pub = (
        config_home / "lastseen" / "signing.key",
        config_home / "lastseen" / "signing.key.pub",
    )
    assert (_mode(key), _mode(pub), _mode(key.parent)) == (0o600, 0o644, 0o700)
    assert key.read_bytes().startswith(
        b"-----BEGIN PRIVATE KEY-----\n"
    )  # PKCS#8, unencrypted
    assert pub.read_bytes() == public_key_pem(key)
    assert str(key) in ran.stdout and str(pub) in ran.stdout
    # The fingerprint printed is what the documented openssl command prints.
    der = subprocess.run(
        [_openssl(), "pkey", "-pubin", "-in", str(pub), "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    assert (
        f"fingerprint (SHA-256 of the public key, DER): {hashlib.sha256(der).hexdigest()}\n"
        in ran.stdout
    )
    assert fingerprint(pub.read_bytes()) == hashlib.sha256(der).hexdigest()


def test_keygen_never_overwrites_without_force(tmp_path, config_home):
    key = tmp_path / "keys" / "mine.key"
    assert _keygen(tmp_path, "--key", str(key)).exit_code == 0
    assert _mode(key.parent) == 0o700  # a folder it made
    before = (key.read_bytes(), Path(f"{key}.pub").read_bytes())
    again = _keygen(tmp_path, "--key", str(key))
    assert again.exit_code == 2
    assert f"Error: {key} exists" in again.stderr and "--force" in again.stderr
    assert (key.read_bytes(), Path(f"{key}.pub").read_bytes()) == before
    # A public key alone in the way is refused too.
    other = tmp_path / "keys" / "other.key"
    Path(f"{other}.pub").write_text("someone's key\n")
    refused = _keygen(tmp_path, "--key", str(other))
    assert (
        refused.exit_code == 2
        and f"{other}.pub exists" in refused.stderr
        and not other.exists()
    )

    forced = _keygen(tmp_path, "--key", str(key), "--force")
    assert forced.exit_code == 0, forced.stderr
    after = (key.read_bytes(), Path(f"{key}.pub").read_bytes())
    assert (
        after[0] != before[0]
        and after[1] != before[1]
        and after[1] == public_key_pem(key)
    )
    assert (_mode(key), _mode(Path(f"{key}.pub"))) == (0o600, 0o644)


@pytest.mark.parametrize("mark", ["lastseen.db", "lastseen.lock"])
def test_keygen_refuses_a_path_inside_an_archive(tmp_path, config_home, mark):
    archive = tmp_path / "archive"
    (archive / "warcs").mkdir(parents=True)
    (archive / mark).write_bytes(b"")
    for inside in (
        archive / "signing.key",
        archive / "warcs" / "deeper" / "signing.key",
    ):
        ran = _keygen(tmp_path, "--key", str(inside))
        assert ran.exit_code == 2
        assert f"is inside the archive {archive}" in ran.stderr, ran.stderr
        assert not inside.exists() and not Path(f"{inside}.pub").exists()
    assert not (archive / "warcs" / "deeper").exists()
    # Through a symlink to the archive too.
    (tmp_path / "link").symlink_to(archive)
    assert _keygen(tmp_path, "--key", str(tmp_path / "link" / "k")).exit_code == 2


def _signed(tmp_path: Path, config_home: Path) -> tuple[Path, Path, Path, Path]:
    key = tmp_path / "k" / "signing.key"
    assert _keygen(tmp_path, "--key", str(key)).exit_code == 0
    manifest = tmp_path / "MANIFEST.sha256"
    manifest.write_bytes(
        b"".join(f"{i:064x}  file-{i}.warc.gz\n".encode() for i in range(50))
    )
    sig = sign_file(key, manifest)
    return key, Path(f"{key}.pub"), manifest, sig


def _openssl_verify(pub: Path, data: Path, sig: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            _openssl(),
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(pub),
            "-rawin",
            "-in",
            str(data),
            "-sigfile",
            str(sig),
        ],
        check=False,
        capture_output=True,
        text=True,
    )


def test_openssl_verifies_a_signature_and_rejects_it_once_a_byte_of_the_data_changes(
    tmp_path, config_home
):
    _key, pub, manifest, sig = _signed(tmp_path, config_home)
    assert sig == tmp_path / "MANIFEST.sha256.sig" and len(sig.read_bytes()) == 64
    ok = _openssl_verify(pub, manifest, sig)
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout, (
        ok.stdout + ok.stderr
    )
    assert verify_signature(pub.read_bytes(), manifest.read_bytes(), sig.read_bytes())

    data = bytearray(manifest.read_bytes())
    for position in (0, len(data) // 2, len(data) - 1):
        changed = bytearray(data)
        changed[position] ^= 0x01
        manifest.write_bytes(bytes(changed))
        bad = _openssl_verify(pub, manifest, sig)
        assert bad.returncode != 0 and "Signature Verification Failure" in bad.stdout, (
            bad.stdout + bad.stderr
        )
        assert not verify_signature(pub.read_bytes(), bytes(changed), sig.read_bytes())
    manifest.write_bytes(bytes(data))
    # Another key's public key does not check it either.
    other = tmp_path / "other.key"
    assert _keygen(tmp_path, "--key", str(other)).exit_code == 0
    assert _openssl_verify(Path(f"{other}.pub"), manifest, sig).returncode != 0
    assert _openssl_verify(pub, manifest, sig).returncode == 0


def _watchlist(tmp_path: Path, signing_key: str) -> Path:
    path = tmp_path / "watchlist.yaml"
    path.write_text(
        "settings:\n"
        f"  signing_key: {signing_key}\n"
        "targets:\n"
        "  - name: page\n"
        "    url: https://example.test/page\n"
    )
    return path


def test_watchlist_signing_key_relative_to_its_folder(tmp_path, config_home):
    from crawler.watchlist import load_watchlist

    key = tmp_path / "keys" / "signing.key"
    assert _keygen(tmp_path, "--key", str(key)).exit_code == 0
    wl = load_watchlist(_watchlist(tmp_path, "keys/signing.key"))
    assert wl.settings.signing_key == str(key.resolve())
    ran = lastseen(tmp_path, "check", str(tmp_path / "watchlist.yaml"))
    assert ran.exit_code == 0, ran.stderr


def test_a_signing_key_inside_an_archive_is_refused_by_the_watchlist(
    tmp_path, config_home
):
    key = tmp_path / "keys" / "signing.key"
    assert _keygen(tmp_path, "--key", str(key)).exit_code == 0
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "lastseen.db").write_bytes(b"")
    shutil.copy(key, archive / "signing.key")  # copied in by hand: keygen would refuse
    _watchlist(tmp_path, "archive/signing.key")
    ran = lastseen(tmp_path, "check", str(tmp_path / "watchlist.yaml"))
    assert ran.exit_code == 2
    assert (
        f"signing_key: '{archive / 'signing.key'}' is inside the archive '{archive}'"
        in ran.stderr
    ), ran.stderr


def test_a_signing_key_others_can_read_is_refused_until_chmod_600(tmp_path, config_home):
    key = tmp_path / "keys" / "signing.key"
    assert _keygen(tmp_path, "--key", str(key)).exit_code == 0
    _watchlist(tmp_path, "keys/signing.key")
    key.chmod(0o640)  # a group can read it: anyone in it could sign for the archive
    ran = lastseen(tmp_path, "check", str(tmp_path / "watchlist.yaml"))
    assert ran.exit_code == 2
    assert (
        f"signing_key: the signing key {key} can be read or changed by other users (mode 0640); "
        f"make it private with: chmod 600 {key}"
    ) in ran.stderr, ran.stderr
    key.chmod(0o600)
    assert lastseen(tmp_path, "check", str(tmp_path / "watchlist.yaml")).exit_code == 0


def _pem_of_another_kind(path: Path) -> Path:
    ec = generate_private_key(SECP256R1())
    path.write_bytes(
        ec.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing", "cannot read the signing key"),
        ("not-pem", "holds no PEM private key"),
        ("public", "holds no PEM private key"),
        ("ec", "not an Ed25519 one"),
    ],
)
def test_a_bad_signing_key_names_the_file_and_how_to_make_one(
    tmp_path, config_home, case, expected
):
    bad = tmp_path / f"bad-{case}.key"
    if case == "not-pem":
        bad.write_text("hello\n")
    elif case == "public":
        key = tmp_path / "real.key"
        assert _keygen(tmp_path, "--key", str(key)).exit_code == 0
        shutil.copy(f"{key}.pub", bad)
    elif case == "ec":
        _pem_of_another_kind(bad)
    _watchlist(tmp_path, bad.name)
    ran = lastseen(tmp_path, "check", str(tmp_path / "watchlist.yaml"))
    assert ran.exit_code == 2
    assert (
        str(bad) in ran.stderr
        and expected in ran.stderr
        and "lastseen keygen" in ran.stderr
    ), ran.stderr
    assert re.search(r"watchlist\.yaml:2: signing_key: ", ran.stderr), ran.stderr


def test_keygen_is_documented():
    root = Path(__file__).resolve().parent.parent
    evidence = (root / "docs" / "evidence.md").read_text()
    section = evidence.split("\n## Signatures\n", 1)[1]
    for needle in (
        "lastseen keygen",
        "signing.key",
        "0600",
        "openssl pkeyutl -verify -pubin -inkey",
        "-rawin",
        "openssl pkey -pubin",
        "sha256sum",
        "--force",
    ):
        assert needle in section, (
            f"docs/evidence.md, Signatures, does not say {needle!r}"
        )


def _footers(folder: Path) -> dict[str, list[str]]:
    """Every HTML page under ``folder``: the text of its footer's signing-key paragraphs."""
    import lxml.html

    return {
        str(page.relative_to(folder)): [
            p.text_content()
            for p in lxml.html.parse(str(page))
            .getroot()
            .xpath('//footer//p[@class="signing-key"]')
        ]
        for page in sorted(folder.rglob("*.html"))
    }


def test_every_report_page_shows_the_fingerprint_with_a_key_and_nothing_without(
    tmp_path, config_home, site
):
    from .helpers import write_watchlist

    key = tmp_path / "keys" / "signing.key"
    assert _keygen(tmp_path, "--key", str(key)).exit_code == 0
    der = subprocess.run(
        [_openssl(), "pkey", "-pubin", "-in", f"{key}.pub", "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    expected = hashlib.sha256(der).hexdigest()
    targets = [
        {"name": "page", "url": site.url("/page")},
        {"name": "other", "url": site.url("/other")},
    ]
    site.set("/other", "<html><body><p>Stays the same</p></body></html>")
    for signed in (True, False):
        project = tmp_path / ("signed" if signed else "unsigned")
        project.mkdir()
        write_watchlist(
            project / "watchlist.yaml",
            targets,
            settings={"signing_key": str(key)} if signed else {},
        )
        for text in ("Budget 10 million", "Budget 12 million"):
            site.set("/page", f"<html><body><p>{text}</p></body></html>")
            ran = lastseen(project, "run", "--json")
            assert ran.exit_code == 0, ran.stderr
        assert ran.event("page")["verdict"] == "changed"
        window = lastseen(
            project,
            "report",
            "--since",
            "1d",
            "--out",
            str(project / "reports" / "window"),
        )
        assert window.exit_code == 0, window.stderr
        footers = _footers(project / "reports")
        run_folder = Path(ran.json["run"]["report"]).parent.name
        kinds = {
            "front page": "index.html",
            "history page": next(
                p for p in footers if p.startswith("targets/") and p.count("/") == 2
            ),
            "run index": f"{run_folder}/index.html",
            "change page": f"{run_folder}/page.html",
            "window index": "window/index.html",
            "window change page": "window/page.html",
        }
        for kind, page in kinds.items():
            assert page in footers, f"no {kind} ({page}) among {sorted(footers)}"
        for page, shown in footers.items():
            if signed:
                assert (
                    len(shown) == 1
                    and f"Signing key fingerprint: {expected} " in shown[0]
                ), (page, shown)
            else:
                assert shown == [], page
                assert "Signing key" not in (project / "reports" / page).read_text(), (
                    page
                )
