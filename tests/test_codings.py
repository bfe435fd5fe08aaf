"""Tests for crawler.codings: Content-Encoding decoding with bounded output."""

from __future__ import annotations

import gzip
import struct
import tracemalloc
import zlib

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.codings import SUPPORTED_CODINGS, decode_content
from crawler.errors import ExtractError

PAGE = ("<html><body><p>Привет, мир! Hello, world.</p></body></html>\n" * 200).encode("utf-8")


def _deflate(data: bytes, wbits: int) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return c.compress(data) + c.flush()


def _gzip_of_zeros(megabytes: int) -> bytes:
    """A valid gzip stream of ``megabytes`` MiB of zeros, built without compressing them all.

    After a Z_FULL_FLUSH the compressor forgets its history, so every further
    MiB of zeros compresses to the same bytes: compress one MiB, repeat it.
    """
    mib = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    final = c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(mib, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF)
    return header + block * megabytes + final + trailer


# --- each coding ------------------------------------------------------------------


@pytest.mark.parametrize("header", ["gzip", "x-gzip", "GZIP", " gzip "])
def test_gzip(header):
    assert decode_content(gzip.compress(PAGE), header) == (PAGE, False)


def test_deflate_zlib_wrapped():
    assert decode_content(_deflate(PAGE, zlib.MAX_WBITS), "deflate") == (PAGE, False)


def test_deflate_raw():
    assert decode_content(_deflate(PAGE, -zlib.MAX_WBITS), "deflate") == (PAGE, False)


def test_brotli():
    assert decode_content(brotli.compress(PAGE), "br") == (PAGE, False)


@pytest.mark.parametrize("header", [None, "", "identity", "Identity", "identity, identity"])
def test_identity(header):
    assert decode_content(PAGE, header) == (PAGE, False)


def test_chain_is_undone_in_reverse_order():
    # "gzip, br": gzip was applied first, then brotli.
    body = brotli.compress(gzip.compress(PAGE))
    assert decode_content(body, "gzip, br") == (PAGE, False)


def test_chain_of_three_with_identity():
    body = gzip.compress(_deflate(PAGE, zlib.MAX_WBITS))
    assert decode_content(body, "deflate, identity, gzip") == (PAGE, False)


def test_multi_member_gzip():
    body = gzip.compress(PAGE[:1000]) + gzip.compress(PAGE[1000:])
    assert decode_content(body, "gzip") == (PAGE, False)


def test_trailing_junk_after_gzip_is_ignored():
    assert decode_content(gzip.compress(PAGE) + b"\r\n", "gzip") == (PAGE, False)


def test_empty_body_with_coding_header():
    for coding in ("gzip", "deflate", "br"):
        assert decode_content(b"", coding) == (b"", False)


def test_supported_codings_listed():
    assert set(SUPPORTED_CODINGS) >= {"gzip", "x-gzip", "deflate", "br", "identity"}


# --- bounds ----------------------------------------------------------------------


def test_gzip_bomb_stops_at_max_size():
    body = _gzip_of_zeros(1024)  # 1 GiB of zeros in about 1 MiB
    assert len(body) < 2 * 2**20
    tracemalloc.start()
    try:
        decoded, truncated = decode_content(body, "gzip", max_size=10 * 2**20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert truncated is True
    assert len(decoded) == 10 * 2**20
    assert decoded.count(0) == len(decoded)
    # Bounded work: the decoder stopped near max_size, it did not inflate the GiB and cut it
    # (the result, one copy of it and one step of the decoder; its speed is measured by `make bench`).
    assert peak < 4 * 10 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_zeros_stream_helper_is_a_valid_gzip():
    body = _gzip_of_zeros(3)
    assert gzip.decompress(body) == bytes(3 << 20)
    assert decode_content(body, "gzip", max_size=3 << 20) == (bytes(3 << 20), False)


def test_brotli_bomb_stops_at_max_size():
    body = brotli.compress(bytes(64 * 2**20), quality=1)
    decoded, truncated = decode_content(body, "br", max_size=2**20)
    assert (len(decoded), truncated) == (2**20, True)


def test_deflate_bomb_stops_at_max_size():
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        body = _deflate(bytes(16 * 2**20), wbits)
        decoded, truncated = decode_content(body, "deflate", max_size=12345)
        assert (len(decoded), truncated) == (12345, True)


def test_exactly_max_size_is_not_truncated():
    assert decode_content(gzip.compress(PAGE), "gzip", max_size=len(PAGE)) == (PAGE, False)
    assert decode_content(gzip.compress(PAGE), "gzip", max_size=len(PAGE) - 1) == (PAGE[:-1], True)


def test_identity_body_over_max_size_is_cut():
    assert decode_content(PAGE, None, max_size=10) == (PAGE[:10], True)


def test_bomb_inside_a_chain_is_bounded():
    body = brotli.compress(gzip.compress(bytes(8 * 2**20)))
    decoded, truncated = decode_content(body, "gzip, br", max_size=1000)
    assert (len(decoded), truncated) == (1000, True)


# --- incomplete and corrupt streams ------------------------------------------------


def test_cut_gzip_returns_prefix_marked_truncated():
    body = gzip.compress(PAGE)
    decoded, truncated = decode_content(body[: len(body) // 2], "gzip")
    assert truncated is True
    assert 0 < len(decoded) < len(PAGE)
    assert PAGE.startswith(decoded)


def test_cut_gzip_missing_only_trailer():
    body = gzip.compress(PAGE)
    decoded, truncated = decode_content(body[:-8], "gzip")
    assert truncated is True and PAGE.startswith(decoded)


def test_cut_brotli_returns_prefix_marked_truncated():
    data = "".join(f"line {i}: {i * i:x}\n" for i in range(20000)).encode()
    body = brotli.compress(data)
    decoded, truncated = decode_content(body[: len(body) * 3 // 4], "br")
    assert truncated is True and data.startswith(decoded) and decoded


def test_gzip_cut_before_any_output_raises():
    with pytest.raises(ExtractError, match="gzip"):
        decode_content(gzip.compress(PAGE)[:5], "gzip")


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_corrupt_data_raises(coding):
    with pytest.raises(ExtractError, match="corrupt"):
        decode_content(b"this is plainly not compressed data, sorry" * 3, coding)


def test_corrupt_gzip_body_raises():
    body = bytearray(gzip.compress(PAGE))
    body[20:40] = b"\xff" * 20
    with pytest.raises(ExtractError):
        decode_content(bytes(body), "gzip")


def test_unknown_coding_raises_with_hint():
    with pytest.raises(ExtractError, match=r"unknown Content-Encoding 'zstd'.*gzip"):
        decode_content(b"abc", "zstd")


def test_unknown_coding_in_chain_raises_before_decoding():
    with pytest.raises(ExtractError, match="compress"):
        decode_content(gzip.compress(PAGE), "gzip, compress")


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300), coding=st.sampled_from(["gzip", "deflate", "br", "gzip, br"]))
def test_arbitrary_bytes_decode_or_raise_extract_error(body, coding):
    try:
        decoded, truncated = decode_content(body, coding, max_size=4096)
    except ExtractError:
        return
    assert len(decoded) <= 4096
    assert isinstance(truncated, bool)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=5000), cap=st.integers(min_value=0, max_value=6000))
def test_round_trip_respects_cap(data, cap):
    for body, coding in (
        (gzip.compress(data), "gzip"),
        (_deflate(data, -zlib.MAX_WBITS), "deflate"),
        (brotli.compress(data), "br"),
    ):
        decoded, truncated = decode_content(body, coding, max_size=cap)
        assert decoded == data[:cap]
        assert truncated is (len(data) > cap)
