"""Content types, kind sniffing and charsets: raw response bytes to a ``str`` (pure).

* **Content type**: :func:`_parse_content_type` splits a Content-Type header
  into its MIME type and parameters.
* **Kind** (:func:`sniff_kind`, :func:`_sniff`): ``html``, ``text`` or
  ``binary`` from the declared type, the byte order mark, magic bytes of
  common binary formats and the WHATWG "binary data bytes".
* **Charset**: the WHATWG label table (:func:`resolve_charset`), the BOM, the
  ``<meta>`` and ``<?xml encoding=...?>`` prescans, detection with
  ``charset_normalizer`` and :func:`_decode`, which applies them in the HTML
  standard's order.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable

from charset_normalizer import from_bytes

__all__ = ["resolve_charset", "sniff_kind"]

#: Bytes handed to charset_normalizer; more only costs time.
_DETECT_SAMPLE = 256 * 1024

#: Bytes examined by the ``<meta>`` prescan and the binary sniff.
_PRESCAN = 1024


def sniff_kind(body: bytes, content_type: str | None) -> str:
    """Return ``"html"``, ``"text"`` or ``"binary"`` for a body and its Content-Type."""
    mime, params = _parse_content_type(content_type)
    return _sniff(bytes(body), mime, params)


# --- content type and kind ----------------------------------------------------------

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/ecmascript",
        "application/x-javascript",
        "application/x-ndjson",
        "application/yaml",
        "application/x-yaml",
    }
)
#: Content-Types that say nothing: sniff as if the header were missing.
_UNKNOWN_TYPES = frozenset({"", "unknown/unknown", "application/unknown", "*/*", "application/x-unknown"})

_PARAM_RE = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _parse_content_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    if not content_type:
        return "", {}
    mime, _, rest = content_type.partition(";")
    params: dict[str, str] = {}
    for name, value in _PARAM_RE.findall(";" + rest):
        value = value.strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(name.lower(), value.strip())
    return mime.strip().lower(), params


def _is_xml(mime: str) -> bool:
    return mime in ("application/xml", "text/xml") or mime.endswith("+xml")


def _declared_kind(mime: str) -> str | None:
    if mime in _UNKNOWN_TYPES or "/" not in mime:
        return None
    if mime in _HTML_TYPES:
        return "html"
    if mime.startswith("text/") or mime in _TEXT_TYPES:
        return "text"
    if mime.endswith("+json") or mime.endswith("+xml"):
        return "text"
    return "binary"


#: Signatures of common binary formats (PDF, images, archives, media, fonts).
_MAGIC = (
    b"%PDF-",
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x01\x00",
    b"wOFF",
    b"wOF2",
    b"\x1aE\xdf\xa3",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\xd0\xcf\x11\xe0",
)
#: WHATWG "binary data bytes": C0 controls other than TAB, LF, FF, CR and ESC.
_BINARY_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_HTML_SNIFF = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<br",
    b"<p",
    b"<meta",
    b"<link",
)
_TAG_END = b" \t\n\r\x0c>"


def _bom(body: bytes) -> tuple[str, int] | None:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec, len(bom)
    return None


def _magic_binary(head: bytes) -> bool:
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return True
    if head[4:8] == b"ftyp":  # MP4, MOV, HEIC
        return True
    return head.startswith(_MAGIC)


def _binary_byte_count(head: bytes) -> int:
    return len(head) - len(head.translate(None, _BINARY_BYTES))


def _sniff(body: bytes, mime: str, params: dict[str, str]) -> str:
    head = body[:_PRESCAN]
    bom = _bom(head)
    wide = bool(bom and bom[0].startswith("utf-16")) or _is_wide_label(params.get("charset"))
    declared = _declared_kind(mime)

    if declared is not None:
        if declared == "binary":
            return "binary"
        # A body claimed as text that is plainly binary is compared by digest.
        if _magic_binary(head):
            return "binary"
        if not wide and _binary_byte_count(head) >= max(4, len(head) // 32):
            return "binary"
        return declared

    # No usable Content-Type: sniff (after the BOM and leading whitespace).
    if bom:
        codec, skip = bom
        lead = head[skip:].decode(codec, "replace").lstrip().lower().encode("ascii", "replace")
    else:
        lead = head.lstrip(b" \t\n\r\x0c").lower()
    if lead.startswith(b"<!--") or lead.startswith(b"<?xml") and b"<html" in lead:
        return "html"
    for pattern in _HTML_SNIFF:
        if lead.startswith(pattern):
            after = lead[len(pattern) : len(pattern) + 1]
            if not after or after in _TAG_END:
                return "html"
    if bom:
        return "text"
    if _magic_binary(head) or _binary_byte_count(head):
        return "binary"
    return "text" if _strict_decode(body, "utf-8") is not None else "binary"


# --- charsets --------------------------------------------------------------------

#: WHATWG Encoding Standard labels whose Python codec differs from the label's
#: own meaning (e.g. "iso-8859-1" is decoded as windows-1252 by every browser).
_WHATWG_LABELS: dict[str, str | None] = {}


def _labels(codec: str | None, *labels: str) -> None:
    for label in labels:
        _WHATWG_LABELS[label] = codec


_labels(
    "cp1252",
    "ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1",
    "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1", "latin1",
    "us-ascii", "windows-1252", "x-cp1252", "latin-1",
)
_labels(
    "cp1254",
    "cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9", "iso88599", "iso_8859-9",
    "iso_8859-9:1989", "l5", "latin5", "windows-1254", "x-cp1254",
)
_labels("cp874", "dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620", "windows-874")
_labels(
    "gb18030",
    "chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80", "gbk",
    "iso-ir-58", "x-gbk", "gb18030",
)
_labels("big5hkscs", "big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5")
_labels(
    "cp932",
    "csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis", "windows-31j", "x-sjis",
)
_labels(
    "cp949",
    "cseuckr", "csksc56011987", "euc-kr", "iso-ir-149", "korean", "ks_c_5601-1987",
    "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949",
)
_labels("euc_jp", "cseucpkdfmtjapanese", "euc-jp", "x-euc-jp")
_labels("iso2022_jp", "csiso2022jp", "iso-2022-jp")
_labels("koi8_u", "koi8-ru", "koi8-u")
_labels("koi8_r", "cskoi8r", "koi", "koi8", "koi8-r", "koi8_r")
_labels("iso8859_8", "iso-8859-8-i", "csiso88598i", "logical", "iso-8859-8-e", "csiso88598e")
_labels("mac_cyrillic", "x-mac-cyrillic", "x-mac-ukrainian")
_labels("mac_roman", "csmacintosh", "mac", "macintosh", "x-mac-roman")
_labels("utf-16-le", "utf-16", "utf-16le", "csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff")
_labels("utf-16-be", "utf-16be", "unicodefffe")
_labels("cp1252", "x-user-defined")
# The WHATWG "replacement" encoding: never decode these, detect instead.
_labels(None, "csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "iso-2022-kr", "replacement")

#: Python codecs that must never decode a web page (not web charsets, or XSS vectors).
_REFUSED_CODECS = frozenset(
    {"utf-7", "idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined", "utf-8-sig"}
)


def resolve_charset(label: str | None) -> str | None:
    """Map a charset label to the Python codec a browser would use; None if unknown."""
    if not label:
        return None
    key = label.strip().strip("\"'").strip().lower()
    if not key:
        return None
    if key in _WHATWG_LABELS:
        codec = _WHATWG_LABELS[key]
        return codecs.lookup(codec).name if codec else None
    try:
        info = codecs.lookup(key)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED_CODECS:
        return None
    return info.name


def _is_wide_label(label: str | None) -> bool:
    codec = resolve_charset(label)
    return bool(codec and (codec.startswith("utf-16") or codec.startswith("utf-32")))


def _strict_decode(data: bytes, codec: str) -> str | None:
    """Decode strictly, tolerating only a character cut off at the very end."""
    try:
        decoder = codecs.getincrementaldecoder(codec)("strict")
        return decoder.decode(data, final=False)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None


_META_TAG_RE = re.compile(rb"<meta[\s/]([^>]*)>?", re.I)
_COMMENT_RE = re.compile(rb"<!--.*?(?:-->|$)", re.S)
_ATTR_RE = re.compile(rb"""([^\s=/>]+)\s*(?:=\s*("[^"]*"?|'[^']*'?|[^\s>]+))?""")
_CONTENT_CHARSET_RE = re.compile(rb"""charset\s*=\s*["']?([^\s;"']+)""", re.I)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


def _prescan_meta(body: bytes) -> str | None:
    """WHATWG-style prescan: the first charset declared by a <meta> in 1024 bytes."""
    head = _COMMENT_RE.sub(b"", body[:_PRESCAN])
    for match in _META_TAG_RE.finditer(head):
        attrs: dict[bytes, bytes] = {}
        for name, value in _ATTR_RE.findall(match.group(1)):
            attrs.setdefault(name.lower(), value.strip(b"\"'"))
        label: bytes | None = None
        if attrs.get(b"charset"):
            label = attrs[b"charset"]
        elif attrs.get(b"http-equiv", b"").lower() == b"content-type":
            found = _CONTENT_CHARSET_RE.search(attrs.get(b"content", b""))
            label = found.group(1) if found else None
        if label:
            return label.decode("ascii", "replace")
    return None


def _prescan_xml(body: bytes) -> str | None:
    found = _XML_DECL_RE.match(body[:_PRESCAN])
    return found.group(1).decode("ascii") if found else None


def _prescan_xhtml(body: bytes) -> str | None:
    return _prescan_xml(body) or _prescan_meta(body)


def _detect(body: bytes) -> str | None:
    """Guess the codec of ``body`` with charset_normalizer; None if it cannot."""
    sample = body
    if len(body) > _DETECT_SAMPLE:
        # Cut at a byte no multi-byte encoding uses as a trail byte.
        cut = max(body.rfind(b"\n", 0, _DETECT_SAMPLE), body.rfind(b" ", 0, _DETECT_SAMPLE))
        sample = body[: cut + 1] if cut > 0 else body[:_DETECT_SAMPLE]
    best = from_bytes(sample).best()
    if best is None:
        return None
    try:
        return codecs.lookup(best.encoding).name
    except LookupError:  # pragma: no cover - charset_normalizer only names Python codecs
        return None


def _decode(
    body: bytes, header_label: str | None, prescan: Callable[[bytes], str | None] | None
) -> tuple[str, str, str]:
    """Return (text, codec, source) following the HTML standard's order."""
    bom = _bom(body)
    if bom:
        codec, skip = bom
        data = body[skip:]
        text = _strict_decode(data, codec)
        return (text if text is not None else data.decode(codec, "replace")), codec, "bom"

    # A label Python (or the WHATWG) does not know counts as no label, so an
    # unknown header charset hands over to the <meta> prescan.
    codec, source = resolve_charset(header_label), "header"
    if codec is None and prescan is not None:
        codec, source = resolve_charset(prescan(body)), "meta"
        if codec is not None and codec.startswith(("utf-16", "utf-32")):
            codec = "utf-8"  # a declaration readable as ASCII is not in UTF-16
    if codec is not None:
        text = _strict_decode(body, codec)
        if text is not None:
            return text, codec, source
        # The bytes are not in the declared charset: detection decides.

    # Detection. Bytes that are valid UTF-8 are UTF-8 (detectors agree, and
    # this is both faster and steadier on short pages).
    text = _strict_decode(body, "utf-8")
    if text is not None:
        return text, "utf-8", "detected"
    codec = _detect(body)
    if codec is not None and codec not in _REFUSED_CODECS:
        text = _strict_decode(body, codec)
        if text is None:  # the sample decoded; the rest has a few stray bytes
            text = body.decode(codec, "replace")
        return text, codec, "detected"
    return body.decode("utf-8", "replace"), "utf-8", "default"
