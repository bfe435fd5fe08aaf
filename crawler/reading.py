"""Reading a capture's text with its target's settings (pure): what :mod:`crawler.capture` compares.

- :func:`read_text` (``_extract``): the compared text of a page (its main content, its
  ``select``ion, or the whole page; ``ignore_text`` out), its fingerprint (scripts equated),
  the whole page's text, and the flags extraction raises (``text-truncated``,
  ``auto-fallback``, ``js-shell``...); a document (PDF, DOCX, XLSX, ODT, ODS: recognised by its
  bytes) is read by :mod:`crawler.documents` in its worker process instead (``doc-truncated``,
  ``doc-encrypted``, ``no-text``), and ``captures.document`` describes it;
- :func:`upgraded`: the last good capture read again under the current rules from its
  archived payload, when the rules changed since (an upgrade is not a change);
- :func:`markup_head`: the start of any response's decoded body and its ``<title>`` (challenge
  pages are recognised whatever their status);
- :func:`whole_text`: the whole text of a page (a probe of a host).

:func:`extract_key` names the settings: equal keys and payloads give equal text.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from .codings import decode_content
from .compared import compared_text
from .compared import fingerprint as text_fingerprint
from .documents import (
    DOCUMENT_VERSION,
    FORMATS,
    DocumentLimits,
    document_format,
    read_document,
)
from .errors import ExtractError
from .extract import AUTO, extract
from .extract.main import library_version

if TYPE_CHECKING:
    from .store import History
    from .watchlist import Target

__all__ = ["EXTRACT_VERSION", "JS_SHELL_TEXT", "MARKUP_HEAD", "compared_part", "extract_key", "link_texts_json",
           "markup_head", "read_text", "upgraded", "whole_text"]

#: 2: main content by default (select: auto), lxml text walk;
#: 3: links' anchor text and the page's description (captures.link_texts, captures.description). The text is
#: what version 2 read; a capture of an earlier version is read again from its WARC record where its anchor
#: texts are needed (its last good capture by `run`, which stores them; change pages, in memory);
#: 4: JSON by structure (kind json: one `$.path: value` line per leaf, keys sorted; docs/json.md). A JSON
#: capture of an earlier version is read again from its WARC record as the last good capture (`upgraded`).
EXTRACT_VERSION = 4


def compared_part(target: Target) -> str:
    """What part of a page is compared: ``auto`` (its main content, the default), ``page``, or a CSS selector."""
    return target.select or AUTO


def extract_key(target: Target) -> str:
    """Identifies the extraction settings; equal keys and payloads give equal text."""
    parts = [EXTRACT_VERSION, compared_part(target), list(target.ignore)]
    if compared_part(target) == AUTO:  # another release of the library may find other main content
        parts.append(library_version())
    if target.ignore_text or target.equate_scripts:  # (absent, the key is what it was before they existed)
        parts += [list(target.ignore_text), target.equate_scripts]
    blob = json.dumps(parts)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def document_key(key: str) -> str:
    """The extraction key of a document read under ``key``'s settings (a capture of the same document read
    before documents were, as binary, is read again: an upgrade is not a change)."""
    return hashlib.sha256(f"{key}:documents:{DOCUMENT_VERSION}".encode()).hexdigest()[:16]


def _limits(documents: DocumentLimits | None, max_text: int | None) -> DocumentLimits:
    if documents is not None:
        return documents
    return DocumentLimits() if max_text is None else DocumentLimits(max_chars=max_text)


def _read_document(target: Target, body: bytes, fmt: str, capture: dict, flags: list[str],
                   limits: DocumentLimits):
    """A document's compared text (or its digest, when it has none), its flags and ``captures.document``."""
    document = read_document(body, fmt, limits)
    flags.extend(f for f in document.flags if f not in flags)
    capture.update({
        "kind": fmt, "title": None, "heading": None, "links": "[]", "charset": None, "link_texts": "{}",
        "description": None, "document": document.to_json(), "page_text_sha256": None,
    })
    if document.text is None:   # encrypted, a scan, or unreadable: compared by digest (and page count)
        if document.error is not None:
            flags.append("extract-error")
            capture["extract_error"] = document.error
        capture["fingerprint"] = hashlib.sha256(body).hexdigest()
        return None, None, capture["fingerprint"]
    text = compared_text(document.text, target.ignore_text)
    capture["fingerprint"] = fingerprint = text_fingerprint(text, target.equate_scripts)
    capture["text_sha256"] = capture["page_text_sha256"] = text_sha = hashlib.sha256(text.encode()).hexdigest()
    return [(text_sha, text)], text, fingerprint


def upgraded(target: Target, good, capture: dict, fingerprint: str | None, text: str | None, max_body: int,
              max_text: int | None, load_body, documents: DocumentLimits | None = None) -> tuple[object, str | None]:
    """The last good capture as the current extraction rules read it, and its text (None: unknown).

    The same payload (from the same URL) reads as this one does; another is read from its WARC
    record (``load_body``). When it cannot be read, the last good capture is as it was. Its
    anchor texts and description (``link_texts``, ``description``) are filled in when read.
    """
    if good.payload_sha256 is not None and good.payload_sha256 == capture.get("payload_sha256"):
        if good.final_url == capture.get("final_url") and "link_texts" in capture:
            good = replace(good, link_texts=capture["link_texts"], description=capture.get("description"))
        return replace(good, fingerprint=fingerprint), text
    stored = load_body(good)
    if stored is None:
        return good, None
    body, content_type, coding = stored
    try:
        decoded, _ = decode_content(body, coding, max_size=max_body)
        fmt = document_format(decoded, content_type or good.content_type)
        if fmt is not None:
            scratch: dict = {}
            _, old, print_ = _read_document(target, decoded, fmt, scratch, [], _limits(documents, max_text))
            return replace(good, fingerprint=print_, kind=fmt, document=scratch["document"]), old
        extracted = extract(decoded, content_type or good.content_type, good.final_url or target.url,
                            select=compared_part(target), ignore=target.ignore, max_text=max_text)
    except ExtractError:
        return good, None
    good = replace(good, link_texts=link_texts_json(extracted), description=extracted.description)
    if extracted.text is None:
        return replace(good, fingerprint=extracted.fingerprint), None
    old = compared_text(extracted.text, target.ignore_text)
    return replace(good, fingerprint=text_fingerprint(old, target.equate_scripts)), old


def link_texts_json(extracted) -> str:
    """``captures.link_texts``: a JSON object of the anchor text of each link that has one."""
    return json.dumps(extracted.link_texts, ensure_ascii=False)


#: Bytes of the decoded body that challenge detection reads.
MARKUP_HEAD = 64 * 1024
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title", re.I | re.S)


def markup_head(body: bytes, content_encoding: str | None) -> tuple[str, str | None]:
    """The start of the decoded body, lower-cased, and the ``<title>`` found in it (for any status)."""
    if not body:
        return "", None
    try:
        head, _ = decode_content(body, content_encoding, max_size=MARKUP_HEAD)
    except ExtractError:
        return "", None
    text = head.decode("utf-8", "replace")
    match = _TITLE_RE.search(text)
    title = " ".join(html.unescape(match.group(1)).split())[:500] or None if match else None
    return text.lower(), title


def whole_text(final, dom, max_body: int, max_text: int | None, *, with_body: bool = False):
    """The whole page's text, for a page whose ``select`` narrows the compared text or a probe of its host
    (with ``with_body``: and the decoded body, ``(text, body)``)."""
    body = b""
    try:
        if dom is not None:
            body, content_type = dom.body, "text/html; charset=utf-8"
        else:
            body, _ = decode_content(final.body, final.header("Content-Encoding"), max_size=max_body)
            content_type = final.header("Content-Type")
        text = extract(body, content_type, final.url, max_text=max_text).text
    except ExtractError:
        text = None
    return (text, body) if with_body else text


def read_text(target: Target, final, capture: dict, history: History, flags: list[str], max_body: int,
              max_text: int | None = None, rendered: bytes | None = None, documents: DocumentLimits | None = None):
    """Extract the compared text: of the rendered DOM for a browser capture (what a person saw),
    else of the final response's body (a document's, read within ``documents``' limits)."""
    key = extract_key(target)
    capture["extract_key"] = key
    good = history.good
    expected = document_key(key) if good is not None and good.kind in FORMATS else key
    if rendered is not None:
        capture["rendered_sha256"] = hashlib.sha256(rendered).hexdigest()
        same = good is not None and good.rendered_sha256 == capture["rendered_sha256"]
    else:
        same = good is not None and good.rendered_sha256 is None and good.payload_sha256 == capture["payload_sha256"]
    if same and good.extract_key == expected and good.kind != "binary":
        # Same bytes, same extraction settings: same text. Skip the work. (A binary body is read again:
        # it may be a document read as binary before documents were read.)
        capture["extract_key"] = expected
        flags.extend(f for f in _REUSED_FLAGS if f in json.loads(good.flags or "[]"))
        capture.update({
            "kind": good.kind, "text_sha256": good.text_sha256, "fingerprint": good.fingerprint,
            "title": good.title, "heading": good.heading, "links": good.links, "charset": good.charset,
            "page_text_sha256": good.page_text_sha256, "link_texts": good.link_texts,
            "description": good.description, "document": good.document, "reused": good.id,
        })
        if rendered is None and good.final_url == final.url:
            # Not stored again: found by URL and payload where they are read (CaptureStore.with_links)
            capture.update({"links": None, "link_texts": None})
        return None, None, good.fingerprint
    try:
        if rendered is not None:
            body, content_type = rendered, "text/html; charset=utf-8"
        else:
            body, cut = decode_content(final.body, final.header("Content-Encoding"), max_size=max_body)
            if cut:
                flags.append("decoded-truncated")
            content_type = final.header("Content-Type")
            fmt = document_format(body, content_type)
            if fmt is not None:
                capture["extract_key"] = document_key(key)
                return _read_document(target, body, fmt, capture, flags, _limits(documents, max_text))
        extracted = extract(body, content_type, final.url, select=compared_part(target), ignore=target.ignore,
                            max_text=max_text)
    except ExtractError as exc:
        flags.append("extract-error")
        capture.update({
            "kind": "binary", "extract_error": str(exc),
            "fingerprint": hashlib.sha256(final.body).hexdigest(),
        })
        return None, None, capture["fingerprint"]
    if extracted.truncated:
        flags.append("text-truncated")
    if extracted.main == "auto-fallback":
        flags.append("auto-fallback")
    flags.extend(f for f in extracted.flags if f not in flags)   # json-invalid, json-too-deep
    page = extracted.page_text if extracted.page_text is not None else extracted.text
    if rendered is None and _looks_like_a_script_shell(extracted.kind, page, body):
        flags.append("js-shell")
    capture.update({
        "kind": extracted.kind, "fingerprint": extracted.fingerprint, "title": extracted.title,
        "heading": extracted.heading, "links": json.dumps(list(extracted.links)), "charset": extracted.charset,
        "link_texts": link_texts_json(extracted), "description": extracted.description,
    })
    if extracted.text is None:
        return None, None, extracted.fingerprint
    text = compared_text(extracted.text, target.ignore_text)
    capture["fingerprint"] = fingerprint = text_fingerprint(text, target.equate_scripts)
    text_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    capture["text_sha256"] = text_sha
    rows = [(text_sha, text)]
    if page is not None and page != extracted.text:  # the whole page's text, stored too (outside-main)
        capture["page_text_sha256"] = page_sha = hashlib.sha256(page.encode("utf-8")).hexdigest()
        rows.append((page_sha, page))
        capture["_page_text"] = page
    else:
        capture["page_text_sha256"] = text_sha if page is not None else None
    return rows, text, fingerprint


#: Flags of a body served as JSON but compared as text (kept by a capture whose payload is the last good one's).
JSON_FLAGS = ("json-invalid", "json-too-deep")
#: Flags of a capture's text that a capture of the same bytes, read the same way, carries too.
_REUSED_FLAGS = ("text-truncated", "auto-fallback", "doc-truncated", "doc-encrypted", "no-text", *JSON_FLAGS)

#: A page whose visible text is shorter than this (characters) while it carries more script than text
#: is probably built by JavaScript.
JS_SHELL_TEXT = 100
_SCRIPT_RE = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
_SRC_RE = re.compile(rb"\bsrc\s*=", re.I)
_EXTERNAL_SCRIPT_WEIGHT = 1000   # a script loaded from elsewhere counts as this many characters of script


def _looks_like_a_script_shell(kind: str, text: str | None, body: bytes) -> bool:
    """An HTML page with almost no text of its own and more script than text: the shell JavaScript fills."""
    if kind != "html" or text is None or len(text) >= JS_SHELL_TEXT:
        return False
    weight = 0
    for attrs, code in _SCRIPT_RE.findall(body[: 4 * 2**20]):
        weight += _EXTERNAL_SCRIPT_WEIGHT if _SRC_RE.search(attrs) else len(code.strip())
        if weight > len(text):
            return True
    return False
