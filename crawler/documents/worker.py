"""The document worker: a process of its own that turns documents into text, one at a time.

Started by :class:`crawler.documents.pool.DocumentPool` as ``python -m crawler.documents.worker``;
never imported by the run. It limits its own address space (``RLIMIT_AS``, :data:`MEMORY_LIMIT`),
says it is ready, then reads jobs from stdin and answers on stdout, in frames of a 4-byte
big-endian length and that many bytes:

A library's own bound (pypdf's ``LimitReachedError``: nesting, reference loops, decompression) is a
cut too (``doc-truncated``); any other exception is the document's ``error``.

* job (in): a JSON header ``{"format", "max_pages", "max_chars", "length"}``, then ``length`` bytes;
* events (out), JSON, as they come: ``{"meta": {...}, "pages": n, "paged": bool}``, ``{"part": text}``
  (a page, or a sheet, its text normalised as page text is), ``{"flag": word}``, and last
  ``{"done": true}`` (with ``"error"`` when the document could not be read at all, ``"exit"`` when
  the worker ends after it).

A document that exhausts the memory limit ends with ``doc-truncated`` and the worker exits (the
pool starts another); one that runs past the time limit is killed by the pool. Either way what
was sent before is kept.
"""

from __future__ import annotations

import json
import resource
import struct
import sys

__all__ = ["MEMORY_LIMIT", "main"]

#: Address space the worker may use: its interpreter and the four libraries take about 150 MiB;
#: the rest leaves room for a large document (a 50 MB body, ``settings.max_body``'s default, parsed
#: by pypdf takes a few times its size), and stops a bomb long before it troubles the machine.
MEMORY_LIMIT = 1024 * 2**20

_LENGTH = struct.Struct(">I")

#: Exceptions by which a library says a document hit one of its bounds (pypdf's nesting, reference loops
#: and decompression limits): the document is cut off there (``doc-truncated``), not unreadable.
_LIMITS = frozenset({"LimitReachedError"})


def _limit_memory() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _read_exact(stream, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _send(stream, event: dict) -> None:
    data = json.dumps(event, ensure_ascii=False).encode("utf-8")
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def _readers():
    # Imported now, not on the first document: the time limit is the document's, not the libraries'.
    import docx  # noqa: F401
    import odf.opendocument  # noqa: F401
    import openpyxl  # noqa: F401
    import pypdf  # noqa: F401

    from .pdf import read_pdf
    from .sheets import read_ods, read_xlsx
    from .textdocs import read_docx, read_odt

    return {
        "pdf": read_pdf,
        "docx": read_docx,
        "odt": read_odt,
        "xlsx": read_xlsx,
        "ods": read_ods,
    }


def _run(out, readers, header: dict, body: bytes) -> bool:
    """Answer one job; False when the worker should exit (its memory is spent)."""
    from crawler.extract.text import normalise_text

    chars = 0
    try:
        for event in readers[header["format"]](body, header["max_pages"]):
            if "part" in event:
                event["part"] = normalise_text(event["part"])
                chars += len(event["part"])
            _send(out, event)
            if chars > header["max_chars"]:
                _send(out, {"flag": "text-truncated"})
                break
    except MemoryError:
        _send(out, {"flag": "doc-truncated", "done": True, "exit": True})
        return False
    except RecursionError:
        _send(out, {"flag": "doc-truncated", "done": True})
        return True
    except Exception as exc:  # noqa: BLE001 - a hostile file may break a library anywhere: that is its answer
        if (
            type(exc).__name__ in _LIMITS
        ):  # a library's own bound (nesting, loops, decompression) was hit
            _send(out, {"flag": "doc-truncated", "done": True})
        else:
            _send(out, {"done": True, "error": f"{type(exc).__name__}: {exc}"[:500]})
        return True
    _send(out, {"done": True})
    return True


def main() -> int:
    _limit_memory()
    readers = _readers()
    stdin, out = sys.stdin.buffer, sys.stdout.buffer
    _send(out, {"ready": True})
    while True:
        size = _read_exact(stdin, _LENGTH.size)
        if size is None:
            return 0
        header = json.loads(_read_exact(stdin, _LENGTH.unpack(size)[0]) or b"{}")
        body = _read_exact(stdin, header["length"])
        if body is None:
            return 0
        if not _run(out, readers, header, body):
            return 0


if __name__ == "__main__":
    sys.exit(main())
