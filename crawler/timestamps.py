"""Trusted timestamps of the custody log's head: stamped at the end of a run, kept, and checked.

With ``settings.timestamp_authority`` (and ``timestamp_ca``), the end of each run (:func:`timestamp_head`,
called by :mod:`crawler.monitor` once the run's last entry is committed, before its report is written)
has the chain head time-stamped with RFC 3161 (:mod:`crawler.tsa`): the message imprint is the head entry's
``sha256`` itself, i.e. the SHA-256 of the entry's canonical form (docs/evidence.md). The DER
``TimeStampResp`` is stored in the index (table ``timestamps``) and written to
``archive/custody/timestamps/<seq>-<sha256[:16]>.tsr``, beside a copy of the authority's certificates
(``ca-<sha256 of the PEM file[:16]>.pem``), so the JSONL log and the tokens can be checked with ``openssl``
alone. A head that holds a token is not stamped again (a run that added no entry sends nothing); a head
whose stamping failed is tried again by the next run, or superseded by the next run's head. A failure never
fails the run: it is recorded (status ``failed``, with why) and published as a success is (``run.timestamp``
in ``--json``, the report's footer, the alert message). Without the setting nothing is sent anywhere.

:func:`check_tokens` is ``lastseen verify``'s check of every stored token.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from .contract import timestamp_off
from .formatting import iso
from .store.timestamps import custody_hash_at, granted_tokens
from .tsa import TimestampError, display_url, stamp, verify_token

__all__ = ["TIMESTAMP_DIR", "check_tokens", "published", "timestamp_head", "token_name"]

#: The tokens' folder, in the archive.
TIMESTAMP_DIR = "custody/timestamps"


def token_name(seq: int, sha256: str) -> str:
    """The token file of the head ``seq`` / ``sha256``, relative to the archive."""
    return f"{TIMESTAMP_DIR}/{seq}-{sha256[:16]}.tsr"


def published(row: dict) -> dict:
    """An attempt's row as ``run.timestamp`` (and the report's footer) show it."""
    return {
        "status": row["status"],
        "authority": row.get("authority"),
        "seq": row["seq"],
        "sha256": row["sha256"],
        "requested": row.get("requested"),
        "gen_time": row.get("gen_time"),
        "token": row.get("token_file"),
        "error": row.get("error"),
    }


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole (a temporary file fsynced, then renamed, then the folder fsynced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _keep_ca(root: Path, ca_file: str) -> str:
    """A copy of the authority's certificates in the archive (named by their SHA-256); its relative path."""
    pem = Path(ca_file).read_bytes()
    name = f"{TIMESTAMP_DIR}/ca-{hashlib.sha256(pem).hexdigest()[:16]}.pem"
    if not (root / name).is_file():
        _write_new(root / name, pem)
    return name


def timestamp_head(
    store, root: Path, settings, run_id: str, *, now: Callable[[], datetime]
) -> dict:
    """Time-stamp the chain head unless it holds a token already; record the attempt; ``run.timestamp``."""
    url = settings.timestamp_authority
    if not url:
        return timestamp_off()
    head = store.custody_head()
    if head is None:
        return timestamp_off(
            display_url(url), "the custody log is empty: nothing to time-stamp"
        )
    held = store.head_token(head["seq"], head["sha256"])
    if held is not None:
        return published(held)
    row = {
        "run_id": run_id,
        "seq": head["seq"],
        "sha256": head["sha256"],
        "authority": display_url(url),
        "requested": iso(now()),
    }
    try:
        token = stamp(
            url,
            head["sha256"],
            ca_file=settings.timestamp_ca,
            timeout=settings.timeout,
            https_ca=settings.ca_certs,
        )
        name = token_name(head["seq"], head["sha256"])
        try:
            ca_copy = _keep_ca(root, settings.timestamp_ca)
            _write_new(root / name, token.reply)
        except OSError as exc:
            raise TimestampError(
                f"the token could not be written to {root.name}/{name} "
                f"({exc.strerror or exc})"
            ) from exc
        row.update(
            status="ok",
            gen_time=token.gen_time,
            serial=token.serial,
            token=token.reply,
            token_file=name,
            ca_file=ca_copy,
        )
    except TimestampError as exc:
        row.update(status="failed", error=str(exc))
    store.add_timestamp(row)
    return published(row)


def _problem(kind: str, file: str | None, expected, found) -> dict:
    return {
        "kind": kind,
        "file": file,
        "offset": None,
        "record_id": None,
        "expected": expected,
        "found": found,
    }


def check_tokens(store_or_conn, archive_root: Path) -> list[dict]:
    """Every stored token that does not hold, as ``lastseen verify`` problems:

    - ``timestamp-missing``: its file (``custody/timestamps/…tsr``) is gone;
    - ``timestamp-mismatch``: its file's bytes are not the index's token (``expected``/``found``: their
      SHA-256), or the head it stamps is not the custody log's entry at that ``seq`` (the entry's hash, the
      stamped one);
    - ``timestamp-invalid``: a token (the index's, or its file when they differ) that ``openssl ts -verify``
      refuses over the entry's hash with the archive's copy of the authority's certificates (``found``: why).

    ``store_or_conn``: a :class:`~crawler.store.CaptureStore` or a bare ``sqlite3`` connection (read only)."""
    conn = getattr(store_or_conn, "conn", store_or_conn)
    root = Path(archive_root)
    problems = []
    for row in granted_tokens(conn):
        name = row["token_file"] or token_name(row["seq"], row["sha256"])
        entry = custody_hash_at(conn, row["seq"])
        if entry != row["sha256"]:
            problems.append(_problem("timestamp-mismatch", name, entry, row["sha256"]))
        digest = entry or row["sha256"]
        ca = root / row["ca_file"] if row["ca_file"] else None
        if ca is None or not ca.is_file():
            problems.append(
                _problem(
                    "timestamp-invalid",
                    name,
                    f"the authority's certificates in {row['ca_file']}",
                    "no such file",
                )
            )
            ca = None
        tokens = [bytes(row["token"])]
        try:
            data = (root / name).read_bytes()
        except FileNotFoundError:
            problems.append(
                _problem(
                    "timestamp-missing",
                    name,
                    hashlib.sha256(tokens[0]).hexdigest(),
                    None,
                )
            )
        except OSError as exc:
            problems.append(
                _problem(
                    "timestamp-missing",
                    name,
                    hashlib.sha256(tokens[0]).hexdigest(),
                    f"unreadable ({exc.strerror or exc})",
                )
            )
        else:
            if data != tokens[0]:
                problems.append(
                    _problem(
                        "timestamp-mismatch",
                        name,
                        hashlib.sha256(tokens[0]).hexdigest(),
                        hashlib.sha256(data).hexdigest(),
                    )
                )
                tokens.append(data)
        if ca is None:
            continue
        for token in tokens:
            try:
                why = verify_token(token, digest=digest, ca_file=ca)
            except TimestampError as exc:
                why = str(exc)
            if why is not None:
                problems.append(
                    _problem(
                        "timestamp-invalid",
                        name,
                        f"a token over {digest} signed for {row['ca_file']}",
                        why,
                    )
                )
    return problems
