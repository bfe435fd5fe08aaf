"""``lastseen verify``'s check of the exports and bundles it knows (:data:`crawler.verify.CHECKS`).

Each ``export`` and ``bundle`` entry of the custody log records the file's absolute ``path``, SHA-256 and
size (entries written before exports recorded their path are not checked). A file still at that path is
hashed again: other bytes are ``export-altered``. A signed export's signature (``<out>.sha256.sig``, over
the manifest line ``<sha256>  <name>``) is checked against the public key beside it (``<out>.pub.pem``),
whose fingerprint must be the entry's: anything else is ``signature-invalid``. A bundle's signature is
inside its zip, which its hash covers. A file no longer at its path was handed out or moved: not a
problem, counted (``exports_elsewhere``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from .manifests import export_files, hash_file, manifest_line
from .signing import SigningError, fingerprint, verify_signature
from .verifyproblems import Problem

__all__ = ["check_exports"]

_KINDS = ("export", "bundle")


def check_exports(ctx) -> Iterable[Problem]:
    for entry in ctx.entries:
        content = entry["content"]
        if entry["kind"] not in _KINDS or not content.get("path"):
            continue
        path = Path(content["path"])
        if not path.is_file():
            ctx.checked["exports_elsewhere"] += 1
            continue
        try:
            sha, size = hash_file(path)
        except OSError:
            ctx.checked["exports_elsewhere"] += 1
            continue
        ctx.checked["exports"] += 1
        if (sha, size) != (content["sha256"], content["size"]):
            yield Problem(
                "export-altered",
                str(path),
                seq=entry["seq"],
                expected=content["sha256"],
                found=sha,
                message=f"{entry['kind']} of {content['size']} bytes, now {size}",
            )
        signed = content.get("signature")
        if entry["kind"] == "export" and signed:
            said = _signature_problem(path, content, signed)
            if said is not None:
                yield Problem(
                    "signature-invalid",
                    str(export_files(path).signature),
                    seq=entry["seq"],
                    expected=said[0],
                    found=said[1],
                    message=said[2],
                )


def _signature_problem(path: Path, content: dict, signed: dict):
    """None when the export's signature holds, else (expected, found, what is wrong)."""
    beside = export_files(path)
    try:
        signature = beside.signature.read_bytes()
    except OSError:
        return (
            signed["signature_sha256"],
            None,
            "the signature is not beside the export",
        )
    found = hashlib.sha256(signature).hexdigest()
    if found != signed["signature_sha256"]:
        return signed["signature_sha256"], found, "not the signature recorded"
    try:
        pub = beside.pub.read_bytes()
        key = fingerprint(pub)
    except (OSError, SigningError):
        return signed["key_fingerprint"], None, f"no public key in {beside.pub}"
    if key != signed["key_fingerprint"]:
        return signed["key_fingerprint"], key, f"{beside.pub} is another key"
    manifest = manifest_line(content["sha256"], content.get("out") or path.name)
    if not verify_signature(pub, manifest, signature):
        return (
            "a signature of the recorded SHA-256",
            found,
            "does not verify with the key",
        )
    return None
