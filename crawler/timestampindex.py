"""Trusted timestamps restored from their files, for ``lastseen reindex`` (:mod:`crawler.reindex`).

No WARC record holds the time-stamps (docs/evidence.md, "Trusted timestamps"): when the index is lost, each
token file ``archive/custody/timestamps/<seq>-<sha256[:16]>.tsr`` is read back once the custody log is
restored (:mod:`crawler.custodyindex`, the filler before this one) and kept when it still holds: its name
is that of entry ``seq`` of the restored log, and ``openssl ts -verify`` accepts it over that entry's hash
with one of the copies of the authority's certificates beside it (``ca-*.pem``). The authority's URL, when
each token was asked for, and failed attempts are not in the files: they are not restored (null).
"""

from __future__ import annotations

import re

from .formatting import plural
from .timestamps import TIMESTAMP_DIR
from .tsa import TimestampError, read_token, verify_token

__all__ = ["rebuild_timestamps"]

_NAME = re.compile(r"^(\d+)-([0-9a-f]{16})\.tsr$")


def rebuild_timestamps(job) -> None:
    """Fill the new index's ``timestamps`` table from the token files (a ``reindex`` filler), and say so."""
    folder = job.root / TIMESTAMP_DIR
    where = f"{job.root.name}/{TIMESTAMP_DIR}"
    try:
        files = sorted(
            (p for p in folder.glob("*.tsr") if _NAME.match(p.name)),
            key=lambda p: int(p.name.split("-")[0]),
        )
        cas = sorted(folder.glob("ca-*.pem"))
    except OSError as exc:
        job.out.notes.append(
            f"trusted timestamps not restored: {where} cannot be read ({exc})"
        )
        return
    if not files:
        return
    heads = {e["seq"]: e["sha256"] for e in job.store.custody_entries()}
    kept, left = 0, []
    for path in files:
        job.check()
        seq, prefix = _NAME.match(path.name).groups()
        sha256 = heads.get(int(seq))
        if sha256 is None or not sha256.startswith(prefix):
            left.append(f"{path.name} (no custody entry {seq} with that hash)")
            continue
        try:
            reply = path.read_bytes()
            ca = next(
                (
                    c
                    for c in cas
                    if verify_token(reply, digest=sha256, ca_file=c) is None
                ),
                None,
            )
            token = read_token(reply) if ca is not None else None
        except (OSError, TimestampError) as exc:
            left.append(f"{path.name} ({exc})")
            continue
        if token is None:
            left.append(f"{path.name} (does not verify with any ca-*.pem beside it)")
            continue
        job.store.add_timestamp(
            {
                "seq": int(seq),
                "sha256": sha256,
                "status": "ok",
                "gen_time": token.gen_time,
                "serial": token.serial,
                "token": reply,
                "token_file": f"{TIMESTAMP_DIR}/{path.name}",
                "ca_file": f"{TIMESTAMP_DIR}/{ca.name}",
            }
        )
        kept += 1
    if kept:
        job.out.notes.append(
            f"trusted timestamps restored from {where}: {plural(kept, 'token')}, each checked "
            f"with openssl ts -verify"
        )
    if left:
        job.out.notes.append(
            f"trusted timestamps: {plural(len(left), 'token')} of {where} left out: "
            + "; ".join(left)
        )
