"""HTTP content-codings (``Content-Encoding``) undone, with a bound on the output.

Pure: bytes in, bytes out. Every decoder streams with an explicit output
limit (``zlib.decompressobj(...).decompress(data, max_length)`` and
``brotli.Decompressor.process(data, output_buffer_limit=...)``), so a
decompression bomb costs at most ``max_size`` bytes of memory and stops there
with ``truncated=True``. A body cut off mid-stream (a dropped connection)
yields what could be decoded, also with ``truncated=True``; data that is not
what its coding claims raises :class:`~crawler.errors.ExtractError`.

Supported codings: ``gzip`` / ``x-gzip``, ``deflate`` (zlib-wrapped as RFC 9110
says, and raw deflate as some servers send it), ``br`` and ``identity``. A
header listing several codings (``gzip, br``) names them in the order they
were applied, so they are undone in reverse.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import brotli

from crawler.errors import ExtractError

__all__ = ["DEFAULT_MAX_SIZE", "SUPPORTED_CODINGS", "decode_content"]

DEFAULT_MAX_SIZE = 50 * 2**20

#: Largest piece asked of a decoder in one call; keeps memory flat while looping.
_STEP = 1 << 20

_GZIP_MAGIC = b"\x1f\x8b"


class _Incomplete(Exception):
    """Internal: the stream ended before the decoder reached its end marker."""

    def __init__(self, partial: bytes):
        super().__init__("incomplete stream")
        self.partial = partial


def decode_content(
    body: bytes, content_encoding: str | None, *, max_size: int = DEFAULT_MAX_SIZE
) -> tuple[bytes, bool]:
    """Undo the Content-Encoding of ``body``; return ``(decoded, truncated)``.

    ``content_encoding`` is the raw header value (``None``, ``""`` and
    ``identity`` mean the body is as sent). Codings are applied in reverse
    order of listing. The output never exceeds ``max_size`` bytes: a larger
    result is cut there and ``truncated`` is True. A stream that ends early
    returns the bytes decoded so far with ``truncated=True`` provided at least
    one byte decoded; otherwise, and for corrupt data or an unknown coding,
    :class:`~crawler.errors.ExtractError` is raised.
    """
    if max_size < 0:
        raise ValueError("max_size must be >= 0")
    codings = _parse_codings(content_encoding)
    for coding in codings:
        if coding not in _DECODERS:
            raise ExtractError(
                f"unknown Content-Encoding {coding!r} (in {content_encoding!r}); "
                f"lastseen decodes {', '.join(SUPPORTED_CODINGS)}"
            )

    data = bytes(body)
    truncated = False
    for coding in reversed(codings):
        decoder = _DECODERS[coding]
        if decoder is None:  # identity
            continue
        if not data:
            # An empty body (HEAD, 204, 304) carries the header but no stream.
            continue
        try:
            data, cut = decoder(data, max_size)
        except _Incomplete as inc:
            # A previous step that was cut short hands on an incomplete stream;
            # an empty result is then expected, not an error.
            if not inc.partial and not truncated:
                raise ExtractError(
                    f"{coding} stream ended before any data could be decoded "
                    f"(body of {len(data)} bytes is truncated or not {coding})"
                ) from None
            data, cut = inc.partial, True
        truncated = truncated or cut
    if len(data) > max_size:
        data, truncated = data[:max_size], True
    return data, truncated


def _parse_codings(header: str | None) -> list[str]:
    if not header:
        return []
    return [part.strip().lower() for part in header.split(",") if part.strip()]


# --- zlib family -----------------------------------------------------------------


def _inflate(data: bytes, wbits: int, max_size: int, *, multi_member: bool) -> tuple[bytes, bool]:
    """Inflate ``data`` with bounded output. Raises zlib.error or _Incomplete."""
    out = bytearray()
    pending = data
    while True:
        d = zlib.decompressobj(wbits)
        while not d.eof:
            room = max_size + 1 - len(out)  # one byte more than allowed detects overflow
            piece = d.decompress(pending, min(_STEP, room))
            out += piece
            if len(out) > max_size:
                del out[max_size:]
                return bytes(out), True
            pending = d.unconsumed_tail
            if not pending and not piece:
                break
        if not d.eof:
            raise _Incomplete(bytes(out))
        pending = d.unused_data
        # gzip allows several members back to back (RFC 1952 §2.2); anything
        # else after the end marker is trailing junk, ignored as browsers do.
        if not (multi_member and pending.startswith(_GZIP_MAGIC)):
            return bytes(out), False


def _gunzip(data: bytes, max_size: int) -> tuple[bytes, bool]:
    try:
        # 32 + MAX_WBITS: accept a gzip header, or a zlib one from a confused server.
        return _inflate(data, 32 + zlib.MAX_WBITS, max_size, multi_member=True)
    except zlib.error as exc:
        raise ExtractError(
            f"corrupt gzip data ({exc}); the body does not match its Content-Encoding"
        ) from exc


def _looks_zlib_wrapped(data: bytes) -> bool:
    if len(data) < 2:
        return False
    cmf, flg = data[0], data[1]
    return cmf & 0x0F == 8 and (cmf >> 4) <= 7 and (cmf * 256 + flg) % 31 == 0


def _inflate_deflate(data: bytes, max_size: int) -> tuple[bytes, bool]:
    # RFC 9110 "deflate" is zlib-wrapped, but many servers send raw deflate.
    first_error: zlib.error | None = None
    if _looks_zlib_wrapped(data):
        try:
            return _inflate(data, zlib.MAX_WBITS, max_size, multi_member=False)
        except zlib.error as exc:
            first_error = exc
    try:
        return _inflate(data, -zlib.MAX_WBITS, max_size, multi_member=False)
    except zlib.error as exc:
        raise ExtractError(
            f"corrupt deflate data ({first_error or exc}); "
            "neither zlib-wrapped nor raw deflate decodes it"
        ) from exc


# --- brotli ----------------------------------------------------------------------


def _brotli_has_limit() -> bool:
    try:
        brotli.Decompressor().process(b"", output_buffer_limit=1)
    except TypeError:
        return False
    except brotli.error:  # pragma: no cover - accepted the keyword, complained otherwise
        return True
    return True


_BROTLI_LIMIT = _brotli_has_limit()
#: Input fed per call when the installed brotli cannot limit its output.
_BROTLI_FEED = 1024


def _unbrotli(data: bytes, max_size: int) -> tuple[bytes, bool]:
    d = brotli.Decompressor()
    out = bytearray()
    try:
        if _BROTLI_LIMIT:
            # output_buffer_limit is a soft bound (output may overshoot a little),
            # so the result is also cut by hand below.
            feed = [data]
            while True:
                room = max_size + 1 - len(out)
                piece = d.process(feed.pop() if feed else b"", output_buffer_limit=min(_STEP, room))
                out += piece
                if len(out) > max_size:
                    del out[max_size:]
                    return bytes(out), True
                if not feed and (d.can_accept_more_data() or not piece):
                    break
        else:  # pragma: no cover - old brotli: bound by feeding small slices
            for start in range(0, len(data), _BROTLI_FEED):
                out += d.process(data[start : start + _BROTLI_FEED])
                if len(out) > max_size:
                    del out[max_size:]
                    return bytes(out), True
    except brotli.error as exc:
        raise ExtractError(
            f"corrupt brotli data ({exc}); the body does not match its Content-Encoding"
        ) from exc
    if not d.is_finished():
        raise _Incomplete(bytes(out))
    return bytes(out), False


_Decoder = Callable[[bytes, int], tuple[bytes, bool]]

_DECODERS: dict[str, _Decoder | None] = {
    "identity": None,
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _inflate_deflate,
    "br": _unbrotli,
}

SUPPORTED_CODINGS: tuple[str, ...] = tuple(_DECODERS)
