"""Ed25519 signing keys and detached signatures that standard tools check (docs/evidence.md, "Signatures").

``lastseen keygen`` makes a key pair (:func:`generate_key`): the private key as unencrypted PKCS#8 PEM,
mode 0600, by default at ``$XDG_CONFIG_HOME/lastseen/signing.key`` (else ``~/.config/lastseen/``; that
folder 0700), and its public key as PEM (SubjectPublicKeyInfo) beside it, ``<key>.pub``. A key is never
written over without ``force``, and never inside an archive (a folder holding ``lastseen.db`` or
``lastseen.lock``, or below one): whoever holds the archive must not hold the means to sign for it.

With ``settings.signing_key`` a manifest gets a detached signature (:func:`sign_file`): the raw 64 bytes
of Ed25519 over the file's bytes, in ``<manifest>.sig``, which OpenSSL 3 checks::

    openssl pkeyutl -verify -pubin -inkey signing.key.pub -rawin -in MANIFEST -sigfile MANIFEST.sig

A public key's fingerprint (:func:`fingerprint`) is the SHA-256 (hex) of its DER SubjectPublicKeyInfo::

    openssl pkey -pubin -in signing.key.pub -outform DER | sha256sum

Errors are :class:`~crawler.errors.SigningError` (exit 2) naming the file and what to do.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .errors import SigningError

__all__ = [
    "FINGERPRINT_COMMAND",
    "KeyPair",
    "archive_holding",
    "default_key_path",
    "fingerprint",
    "generate_key",
    "key_fingerprint",
    "load_private_key",
    "public_key_pem",
    "sign_file",
    "signature_path",
    "verify_signature",
]

#: Files that make a folder an archive (crawler.archive.DB_NAME, LOCK_NAME).
_ARCHIVE_MARKS = ("lastseen.db", "lastseen.lock")

#: How a person computes :func:`fingerprint` with OpenSSL, given the public key's file.
FINGERPRINT_COMMAND = "openssl pkey -pubin -in {pub} -outform DER | sha256sum"

_MAKE_ONE = 'make one with `lastseen keygen` (docs/evidence.md, "Signatures")'


@dataclass(frozen=True)
class KeyPair:
    """What :func:`generate_key` wrote: the private key's file, the public key's, and the fingerprint."""

    key: Path
    pub: Path
    fingerprint: str


def default_key_path(environ: dict[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/lastseen/signing.key``, else ``~/.config/lastseen/signing.key``.

    A relative ``XDG_CONFIG_HOME`` is ignored, as the XDG Base Directory specification says."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or ""
    root = (
        Path(base)
        if os.path.isabs(base)
        else Path(env.get("HOME") or Path.home()) / ".config"
    )
    return root / "lastseen" / "signing.key"


def archive_holding(path: Path) -> Path | None:
    """The archive folder ``path`` would be in (it, or a folder above it, holds ``lastseen.db`` or
    ``lastseen.lock``), or None."""
    here = Path(os.path.abspath(path)).parent
    for folder in (here, *here.parents):
        real = folder.resolve()
        if any((real / mark).exists() for mark in _ARCHIVE_MARKS):
            return folder
    return None


def generate_key(path: Path | None = None, *, force: bool = False) -> KeyPair:
    """Make an Ed25519 key pair at ``path`` (default :func:`default_key_path`) and ``<path>.pub``.

    :class:`SigningError` when either file exists (unless ``force``) or ``path`` is inside an archive.
    """
    key_path = Path(path) if path is not None else default_key_path()
    pub_path = key_path.with_name(key_path.name + ".pub")
    archive = archive_holding(key_path)
    if archive is not None:
        raise SigningError(
            f"{key_path} is inside the archive {archive}: keep the signing key outside every archive (whoever "
            f"holds a copy of the archive must not be able to sign for it); the default is {default_key_path()}"
        )
    if not force:
        for existing in (key_path, pub_path):
            if existing.exists() or existing.is_symlink():
                raise SigningError(
                    f"{existing} exists; lastseen keygen never replaces a key (what it signed would no longer "
                    f"check against a new one): give another --key PATH, or --force to replace it"
                )
    if key_path.exists() and key_path.is_dir():
        raise SigningError(
            f"{key_path} is a folder; give the path of the key file to write"
        )
    _make_folder(key_path.parent, own=path is None)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pub = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        _write(key_path, pem, 0o600, replace=force)
        _write(pub_path, pub, 0o644, replace=True)
    except OSError as exc:
        raise SigningError(
            f"cannot write the key {key_path}: {exc.strerror or exc}"
        ) from exc
    return KeyPair(key_path, pub_path, fingerprint(pub))


def _make_folder(folder: Path, *, own: bool) -> None:
    """Create ``folder`` (and its parents) mode 0700; lastseen's own folder (``own``) is made 0700 even when
    it exists."""
    try:
        created = not folder.exists()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if created or own:
            os.chmod(folder, 0o700)
    except OSError as exc:
        raise SigningError(
            f"cannot make the folder {folder} for the signing key: {exc.strerror or exc}"
        ) from exc


def _write(path: Path, data: bytes, mode: int, *, replace: bool) -> None:
    """Write ``path`` whole, fsynced, with ``mode``; without ``replace``, never over an existing file."""
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the path appeared meanwhile
            os.unlink(tmp)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in PEM file ``path``; :class:`SigningError` naming the file otherwise."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningError(
            f"cannot read the signing key {path} ({exc.strerror or exc}); {_MAKE_ONE}"
        ) from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:
        raise SigningError(
            f"the signing key {path} is encrypted with a password; lastseen signs unattended, "
            f"{_MAKE_ONE}"
        ) from exc
    except (ValueError, UnicodeError) as exc:
        raise SigningError(f"{path} holds no PEM private key; {_MAKE_ONE}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(
            f"{path} holds a {type(key).__name__.removeprefix('_')} key, not an Ed25519 one; "
            f"{_MAKE_ONE}"
        )
    _private_to_its_owner(Path(path))
    return key


def _private_to_its_owner(path: Path) -> None:
    """A private key others can read or write is refused, as ssh refuses one (POSIX modes only)."""
    if os.name != "posix":
        return
    try:
        mode = path.stat().st_mode & 0o777
    except OSError as exc:
        raise SigningError(f"cannot read the signing key {path} ({exc.strerror or exc}); {_MAKE_ONE}") from exc
    if mode & 0o077:
        raise SigningError(
            f"the signing key {path} can be read or changed by other users (mode {mode:04o}); "
            f"make it private with: chmod 600 {path}"
        )


def public_key_pem(key_path: Path) -> bytes:
    """The PEM (SubjectPublicKeyInfo) of the public key of the private key in ``key_path``."""
    return (
        load_private_key(key_path)
        .public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _public_key(pub_pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pub_pem)
    except (ValueError, UnicodeError) as exc:
        raise SigningError("not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(
            f"a {type(key).__name__.removeprefix('_')} public key, not an Ed25519 one"
        )
    return key


def fingerprint(pub_pem: bytes) -> str:
    """SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo: what :data:`FINGERPRINT_COMMAND` prints."""
    der = _public_key(pub_pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def key_fingerprint(key_path: str | os.PathLike[str] | None) -> str | None:
    """The fingerprint of the public key of the private key in ``key_path`` (``settings.signing_key``),
    or None without a key: what report pages show."""
    return None if key_path is None else fingerprint(public_key_pem(Path(key_path)))


def signature_path(manifest: Path) -> Path:
    """``<manifest>.sig``."""
    manifest = Path(manifest)
    return manifest.with_name(manifest.name + ".sig")


def sign_file(key_path: Path, manifest_path: Path) -> Path:
    """Sign ``manifest_path``'s bytes with the key in ``key_path``: the raw 64-byte Ed25519 signature,
    written (fsynced) to ``<manifest>.sig``, whose path is returned."""
    key = load_private_key(key_path)
    out = signature_path(manifest_path)
    try:
        signature = key.sign(Path(manifest_path).read_bytes())
        _write(out, signature, 0o644, replace=True)
    except OSError as exc:
        raise SigningError(
            f"cannot sign {manifest_path}: {exc.strerror or exc}"
        ) from exc
    return out


def verify_signature(pub_pem: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the public key's Ed25519 signature of ``data``."""
    try:
        _public_key(pub_pem).verify(signature, data)
    except InvalidSignature:
        return False
    return True
