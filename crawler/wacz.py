"""A WACZ 1.1.1 package (https://specs.webrecorder.net/wacz/1.1.1/), written by lastseen itself.

Layout, as py-wacz writes it (``wacz create``) and ReplayWeb.page reads it::

    archive/<name>.warc.gz     WARC files: an export's ``warcinfo`` record, then records copied byte for
                               byte as their gzip members (stored, not deflated, so they can be read in place)
    indexes/index.cdxj         the CDXJ index of those files (webrecorder's ``cdxj-indexer``, as py-wacz)
    pages/pages.jsonl          a header line, then one page per capture (url, ts, title, id, text)
    datapackage.json           frictionless data package: each file's path, ``sha256:`` hash and size
    datapackage-digest.json    the SHA-256 of datapackage.json

:class:`WaczWriter` takes records (gzip members, already read and checked by :mod:`crawler.export`) and
pages, and :meth:`WaczWriter.finish` indexes, zips and hashes. Times are given, never read here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import ArchiveError
from .formatting import utc
from .manifests import hash_file
from .warc import WarcWriter

__all__ = ["WACZ_VERSION", "WaczWriter", "Written"]

WACZ_VERSION = "1.1.1"
PAGES = "pages/pages.jsonl"
INDEX = "indexes/index.cdxj"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Written:
    """A WACZ written: its path, SHA-256 (hex) and size, and its datapackage.json's SHA-256 (hex)."""

    path: Path
    sha256: str
    size: int
    datapackage_sha256: str
    files: tuple[str, ...]


class WaczWriter:
    """Collects WARC records and pages in a temporary folder, then writes the WACZ (:meth:`finish`)."""

    def __init__(self, *, now: datetime, software: str):
        self.now = utc(now)
        self.software = software
        self._tmp = tempfile.TemporaryDirectory(prefix="lastseen-export-")
        self.dir = Path(self._tmp.name)
        (self.dir / "archive").mkdir()
        self._files: dict[str, object] = {}  # name -> open file
        self._pages: list[dict] = []

    def add_record(self, name: str, member: bytes, warcinfo: Mapping[str, str]) -> None:
        """Append a gzip member (one WARC record, as archived) to ``archive/<name>``; the file starts with a
        ``warcinfo`` record of ``warcinfo``'s fields when it is new."""
        fh = self._files.get(name)
        if fh is None:
            if (
                "/" in name
                or name.startswith(".")
                or not name.endswith((".warc.gz", ".warc"))
            ):
                raise ArchiveError(f"cannot export a WARC file named {name!r}")
            fh = open(self.dir / "archive" / name, "wb")  # noqa: SIM115 - closed in finish/close
            self._files[name] = fh
            WarcWriter(fh).warcinfo(self.now, name, dict(warcinfo))
        fh.write(member)

    def add_page(self, page: Mapping) -> None:
        """A line of pages/pages.jsonl: ``id``, ``url``, ``ts`` (ISO 8601), ``title``, optionally ``text``."""
        self._pages.append(dict(page))

    def finish(self, out: Path, *, title: str, description: str) -> Written:
        """Index the WARC files, write pages.jsonl, datapackage.json and its digest, zip them into ``out``
        (through a temporary file beside it, replaced into place) and hash the result."""
        for fh in self._files.values():
            fh.close()
        names = sorted(self._files)
        self._index(names)
        self._write_pages()
        members = [f"archive/{n}" for n in names] + [INDEX, PAGES]
        resources = [self._resource(m) for m in members]
        package = {
            "profile": "data-package",
            "resources": resources,
            "wacz_version": WACZ_VERSION,
            "title": title,
            "description": description,
            "created": self.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "software": self.software,
        }
        package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode(
            "utf-8"
        )
        package_sha256 = hashlib.sha256(package_bytes).hexdigest()
        digest = json.dumps(
            {"path": "datapackage.json", "hash": f"sha256:{package_sha256}"}, indent=2
        ).encode()
        out = Path(out)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
                for member in members:
                    stored = member.startswith(("archive/", "indexes/"))
                    self._zip_file(
                        zf,
                        member,
                        zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
                    )
                for member, data in (
                    ("datapackage.json", package_bytes),
                    ("datapackage-digest.json", digest),
                ):
                    zf.writestr(self._info(member, zipfile.ZIP_DEFLATED), data)
            sha, size = hash_file(tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ArchiveError(
                f"cannot write {out}: {exc.strerror or exc}; check that its folder exists and is writable "
                f"and that the disk is not full"
            ) from exc
        finally:
            self.close()
        return Written(out, sha, size, package_sha256, tuple(members))

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._tmp.cleanup()

    # -- parts ---------------------------------------------------------------------------------------

    def _index(self, names: list[str]) -> None:
        """indexes/index.cdxj with webrecorder's indexer, as py-wacz makes it: sorted, each request's fields
        appended to its response's line; ``filename`` relative to archive/."""
        from cdxj_indexer.main import CDXJIndexer

        inputs = [str(self.dir / "archive" / n) for n in names]
        (self.dir / "indexes").mkdir()
        CDXJIndexer(
            str(self.dir / INDEX),
            inputs,
            sort=True,
            post_append=True,
            fields="referrer",
        ).process_all()

    def _write_pages(self) -> None:
        (self.dir / "pages").mkdir()
        header = {"format": "json-pages-1.0", "id": "pages", "title": "Pages"}
        if any("text" in p for p in self._pages):
            header["hasText"] = True
        with open(self.dir / PAGES, "w", encoding="utf-8", newline="\n") as fh:
            fh.writelines(
                json.dumps(line, ensure_ascii=False) + "\n"
                for line in (header, *self._pages)
            )

    def _resource(self, member: str) -> dict:
        sha, size = hash_file(self.dir / member)
        return {
            "name": Path(member).name.lower(),
            "path": member,
            "hash": f"sha256:{sha}",
            "bytes": size,
        }

    def _info(self, member: str, compress: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(member, date_time=self.now.timetuple()[:6])
        info.compress_type = compress
        info.external_attr = 0o644 << 16
        return info

    def _zip_file(self, zf: zipfile.ZipFile, member: str, compress: int) -> None:
        path = self.dir / member
        big = path.stat().st_size >= zipfile.ZIP64_LIMIT
        with (
            open(path, "rb") as src,
            zf.open(self._info(member, compress), "w", force_zip64=big) as dst,
        ):
            shutil.copyfileobj(src, dst, _CHUNK)

