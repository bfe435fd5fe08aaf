"""Manifests in ``sha256sum`` format and their detached Ed25519 signatures (docs/evidence.md, "Signatures").

A manifest is what ``sha256sum`` writes and ``sha256sum --strict -c`` checks: one line per file,
``<64 hex digits><two spaces><relative path>\\n``, paths sorted. With ``settings.signing_key`` it is
signed (:func:`sign_manifest`): ``<manifest>.sig`` holds the raw Ed25519 signature of its bytes, and the
public key's PEM is shipped beside it, so that anyone checks it with OpenSSL alone::

    openssl pkeyutl -verify -pubin -inkey <pub.pem> -rawin -in <manifest> -sigfile <manifest>.sig

A signed export (``lastseen export`` with a key) gets ``<out>.wacz.sha256`` (the WACZ's line),
``<out>.wacz.sha256.sig`` and ``<out>.wacz.pub.pem`` beside it (:func:`export_files`); a bundle holds its
``MANIFEST.sha256``, ``MANIFEST.sha256.sig`` and ``signing-key.pub.pem`` (:mod:`crawler.bundle`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .signing import fingerprint, public_key_pem, sign_file, signature_path

__all__ = [
    "ExportFiles",
    "export_files",
    "hash_file",
    "manifest_line",
    "sign_manifest",
    "write_manifest",
]

_CHUNK = 1 << 20


def hash_file(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of the file at ``path``, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def manifest_line(sha256: str, name: str) -> bytes:
    """One line of a manifest, as ``sha256sum`` writes it (a name holding no newline nor backslash)."""
    if "\n" in name or "\\" in name or "\r" in name:
        raise ValueError(f"a manifest cannot name {name!r}")
    return f"{sha256}  {name}\n".encode()


def write_manifest(folder: Path, names: list[str], out: Path) -> bytes:
    """Write the manifest of ``names`` (relative to ``folder``, '/'-separated) to ``out``; its bytes."""
    data = b"".join(
        manifest_line(hash_file(folder / name)[0], name) for name in sorted(names)
    )
    Path(out).write_bytes(data)
    return data


@dataclass(frozen=True)
class Signed:
    """A manifest signed: the signature's file, its SHA-256, the public key's PEM and its fingerprint."""

    signature: Path
    signature_sha256: str
    pub_pem: bytes
    key_fingerprint: str

    def to_json(self) -> dict:
        """What a custody entry records of it."""
        return {
            "signature_sha256": self.signature_sha256,
            "key_fingerprint": self.key_fingerprint,
        }


def sign_manifest(key_path: Path, manifest: Path) -> Signed:
    """Sign ``manifest`` with the key in ``key_path`` (``<manifest>.sig``)."""
    sig = sign_file(Path(key_path), Path(manifest))
    pub = public_key_pem(Path(key_path))
    return Signed(
        sig, hashlib.sha256(sig.read_bytes()).hexdigest(), pub, fingerprint(pub)
    )


@dataclass(frozen=True)
class ExportFiles:
    """The files a signed export writes beside ``<out>.wacz``."""

    manifest: Path  # <out>.wacz.sha256
    signature: Path  # <out>.wacz.sha256.sig
    pub: Path  # <out>.wacz.pub.pem

    def all(self) -> tuple[Path, Path, Path]:
        return (self.manifest, self.signature, self.pub)


def export_files(out: Path) -> ExportFiles:
    """Where a signed export's manifest, signature and public key go, beside ``out``."""
    out = Path(out)
    manifest = out.with_name(out.name + ".sha256")
    return ExportFiles(
        manifest, signature_path(manifest), out.with_name(out.name + ".pub.pem")
    )
