"""``lastseen verify``'s reading of one WARC file (:mod:`crawler.verify`): its bytes hashed, each gzip member
decompressed and its record's digests recomputed, then compared with the custody entries that list them.

A file is read once, front to back: its SHA-256 and size (for its ``file`` entry), and every gzip member in
turn (zlib; the length the entries give is tried first, so a member is decompressed once). For each record:
the SHA-256 of its uncompressed bytes, its ``WARC-Record-ID`` and ``WARC-Type``, and its ``WARC-Block-Digest``
and ``WARC-Payload-Digest`` recomputed as the writer computes them (``sha1:`` base32; the payload after the
HTTP headers, de-chunked, its content-coding kept; a revisit's payload digest is its original's, not
recomputed). :func:`compare_file` then names what differs from the entries: a record altered, moved,
missing, unreadable, whose digests do not hold, and a record no entry covers. Pure of the index: it gets the
entries' records as plain dicts, so it runs in a worker process too.
"""

from __future__ import annotations

import base64
import hashlib
import mmap
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FileFacts", "Member", "compare_file", "read_file"]

_GZIP = zlib.MAX_WBITS | 16
_CHUNK = 1 << 16


@dataclass
class Member:
    """One gzip member of a file and the record it holds (``error``: why it could not be read)."""

    offset: int
    length: int
    sha256: str | None = None
    record_id: str | None = None
    type: str | None = None
    block_digest: str | None = None  # the header's
    payload_digest: str | None = None
    block_sha1: str | None = None  # recomputed
    payload_sha1: str | None = (
        None  # recomputed (None: not recomputable, e.g. a revisit)
    )
    error: str | None = None


@dataclass
class FileFacts:
    """What reading one file found: its SHA-256 and size, and each member (when its records were read)."""

    file: str
    sha256: str
    size: int
    members: list[Member] = field(default_factory=list)


def _sha1(data) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def _header(lines: list[bytes], name: bytes) -> str | None:
    prefix = name.lower() + b":"
    for line in lines:
        if line.lower().startswith(prefix):
            return line[len(prefix) :].strip().decode("utf-8", "replace")
    return None


def _dechunk(body: bytes) -> bytes | None:
    """A chunked body's payload (None when it is not well chunked)."""
    out, pos = bytearray(), 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            return None
        try:
            size = int(body[pos:end].split(b";")[0].strip() or b"x", 16)
        except ValueError:
            return None
        if size == 0:
            return bytes(out)
        out += body[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2


def _facts(member: Member, raw: bytes) -> None:
    """Fill ``member`` from its record's uncompressed bytes."""
    member.sha256 = hashlib.sha256(raw).hexdigest()
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        member.error = "no end of WARC headers"
        return
    lines = raw[:head_end].split(b"\r\n")[1:]
    member.record_id = _header(lines, b"WARC-Record-ID")
    member.type = _header(lines, b"WARC-Type")
    member.block_digest = _header(lines, b"WARC-Block-Digest")
    member.payload_digest = _header(lines, b"WARC-Payload-Digest")
    try:
        length = int(_header(lines, b"Content-Length") or "")
    except ValueError:
        member.error = "no Content-Length"
        return
    block = memoryview(raw)[head_end + 4 : head_end + 4 + length]
    if len(block) != length or raw[head_end + 4 + length :] != b"\r\n\r\n":
        member.error = (
            "its block is not Content-Length bytes long followed by CRLF CRLF"
        )
        return
    member.block_sha1 = _sha1(block)
    if member.payload_digest is None or member.type == "revisit":
        return
    content_type = (_header(lines, b"Content-Type") or "").lower()
    if not content_type.startswith("application/http"):
        member.payload_sha1 = _sha1(block)
        return
    data = bytes(block)
    http_end = data.find(b"\r\n\r\n")
    if http_end < 0:
        return
    payload = data[http_end + 4 :]
    http_lines = data[:http_end].split(b"\r\n")[1:]
    if "chunked" in (_header(http_lines, b"Transfer-Encoding") or "").lower():
        payload = _dechunk(payload)
        if payload is None:
            return
    member.payload_sha1 = _sha1(payload)


def _decompress(view: memoryview, offset: int, hint: int | None) -> tuple[bytes, int]:
    """The gzip member at ``offset``: its bytes decompressed and its length; ``hint`` is the length to try
    first. Raises :class:`zlib.error` (or EOFError at the end of the data) when no whole member is there."""
    d = zlib.decompressobj(_GZIP)
    out = []
    pos = offset
    step = hint if hint and hint > 0 else _CHUNK
    while not d.eof:
        if pos >= len(view):
            raise EOFError("the file ends inside this gzip member")
        chunk = view[pos : pos + step]
        out.append(d.decompress(chunk))
        pos += len(chunk)
        step = _CHUNK
    return b"".join(out), pos - offset - len(d.unused_data)


def read_file(path: Path, file: str, starts: dict[int, int] | None) -> FileFacts:
    """Read ``path`` (archive-relative ``file``) once: its SHA-256 and size and, unless ``starts`` is None, every
    member (``starts``: each entry's offset and length, the first try). A member that cannot be read is one
    :class:`Member` with its ``error``; reading goes on at the next offset an entry gives, if any."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        # mapped, not read: a 1 GB file costs no 1 GB of memory, and is still read once, front to back
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    try:
        return _read(data, file, starts)
    finally:
        if size:
            data.close()


def _read(data, file: str, starts: dict[int, int] | None) -> FileFacts:
    facts = FileFacts(file, hashlib.sha256(data).hexdigest(), len(data))
    if starts is None:
        return facts
    view = memoryview(data)
    later = sorted(starts)
    pos = 0
    while pos < len(data):
        try:
            raw, length = _decompress(view, pos, starts.get(pos))
        except (zlib.error, EOFError) as exc:
            resume = next((o for o in later if o > pos), len(data))
            facts.members.append(
                Member(pos, resume - pos, error=f"not a whole gzip member ({exc})")
            )
            pos = resume
            continue
        member = Member(pos, length)
        _facts(member, raw)
        facts.members.append(member)
        pos += length
    return facts


def _problem(kind, file, record, found, message, *, offset=None, expected=None) -> dict:
    if record.get("capture") is not None:   # one of the captures a "v": 3 entry lists (#17): named
        message = f"capture {record['capture']}'s record: {message}"
    return {
        "kind": kind,
        "file": file,
        "offset": record["offset"] if offset is None else offset,
        "record_id": record.get("record_id"),
        "seq": record.get("seq"),
        "expected": expected,
        "found": found,
        "message": message,
    }


def _what_differs(record: dict, member: Member) -> str:
    parts = []
    if member.record_id != record.get("record_id"):
        parts.append(f"its WARC-Record-ID is {member.record_id}")
    if "block_digest" not in record:  # a "v": 2 entry: the digests as written are covered by its sha256 only
        if member.block_sha1 is not None and member.block_sha1 != member.block_digest:
            parts.append("its block differs")
        elif member.block_sha1 is not None:
            parts.append("its WARC headers or its block differ; its WARC digests hold (warcio check passes on it)")
    elif member.block_sha1 is not None and member.block_sha1 != record.get(
        "block_digest"
    ):
        parts.append("its block differs")
        if member.block_digest == member.block_sha1:
            parts.append(
                "its WARC digests were recomputed to match (warcio check passes on it)"
            )
    elif member.block_sha1 is not None:
        parts.append("its WARC headers differ, its block does not")
    return "; ".join(parts) or "its bytes differ"


def compare_file(
    facts: FileFacts,
    records: list[dict],
    *,
    scope: set[int] | None,
    vouched: bool = False,
) -> tuple[list[dict], int, int]:
    """The problems of ``facts``'s records against the entries' ``records`` (each with its entry's ``seq``),
    how many records were checked, and how many no entry lists in a ``vouched`` file. ``scope``: the offsets
    whose problems are told (None: all). The first ``warcinfo`` record is the file's own (its ``file`` entry
    covers it); any other member no entry lists is unexplained, unless the file is ``vouched`` for (its
    SHA-256 and size are its ``file`` entry's): then a run wrote it but never committed it (a failed
    commit, or a run killed and its file cut back by the next), and the ``file`` entry covers its bytes."""
    file = facts.file
    problems: list[dict] = []
    by_offset = {m.offset: m for m in facts.members}
    by_id = {m.record_id: m for m in facts.members if m.record_id}
    listed = {r.get("record_id") for r in records}
    claimed: set[int] = set()
    checked = 0
    for record in sorted(records, key=lambda r: r["offset"]):
        offset = record["offset"]
        if scope is not None and offset not in scope:
            claimed.add(offset)
            continue
        checked += 1
        member = by_offset.get(offset)
        if (
            member is not None
            and member.error is None
            and member.record_id == record.get("record_id")
        ):
            claimed.add(offset)
        elif member is not None and member.error is not None:
            claimed.add(offset)
            problems.append(
                _problem(
                    "record-unreadable",
                    file,
                    record,
                    None,
                    f"it cannot be read: {member.error}",
                    expected=record.get("sha256"),
                )
            )
            continue
        else:
            elsewhere = by_id.get(record.get("record_id"))
            if elsewhere is not None:
                claimed.add(elsewhere.offset)
                problems.append(
                    _problem(
                        "record-moved",
                        file,
                        record,
                        elsewhere.offset,
                        f"it is at offset {elsewhere.offset}, not at {offset}",
                        expected=offset,
                    )
                )
                member = elsewhere
            elif member is not None and member.record_id not in listed:
                claimed.add(offset)  # altered in place (its id too)
            else:
                why = (
                    f"the file ends at {facts.size} bytes"
                    if offset >= facts.size
                    else "no record starts there"
                )
                problems.append(
                    _problem(
                        "record-missing",
                        file,
                        record,
                        None,
                        f"not in the file: {why}",
                        expected=record.get("sha256"),
                    )
                )
                continue
        if member.sha256 != record.get("sha256"):
            problems.append(
                _problem(
                    "record-altered",
                    file,
                    record,
                    member.sha256,
                    _what_differs(record, member),
                    offset=member.offset,
                    expected=record.get("sha256"),
                )
            )
            continue
        bad = [
            (name, got, want)
            for name, got, want in (
                ("WARC-Block-Digest", member.block_sha1, member.block_digest),
                ("WARC-Payload-Digest", member.payload_sha1, member.payload_digest),
            )
            if got is not None and got != want
        ]
        for name, got, want in bad:
            problems.append(
                _problem(
                    "digest-mismatch",
                    file,
                    record,
                    got,
                    f"its {name} is not its digest",
                    offset=member.offset,
                    expected=want,
                )
            )
    unlisted = 0
    for member in facts.members:
        if member.offset in claimed or (
            member.offset == 0 and member.type == "warcinfo"
        ):
            continue
        if vouched and member.error is None:
            unlisted += 1
        elif member.error is not None:
            problems.append(
                _problem(
                    "record-unreadable",
                    file,
                    {"offset": member.offset},
                    None,
                    f"{member.length} bytes no entry lists and no tool can read ({member.error})",
                )
            )
        else:
            problems.append(
                _problem(
                    "record-unexplained",
                    file,
                    {"offset": member.offset, "record_id": member.record_id},
                    member.sha256,
                    f"a {member.type} record no custody entry lists",
                )
            )
    return problems, checked, unlisted
