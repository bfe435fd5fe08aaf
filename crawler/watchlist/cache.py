"""A large watchlist, once validated, kept for the next command (#17): parsed again only when it changes.

Composing and validating 100,000 targets takes seconds (libyaml's node tree alone is half of it); every
``lastseen check``, ``status`` and ``run`` (every quarter of an hour from cron) reads the same file again.
So a watchlist of at least :data:`CACHE_MIN_BYTES` is kept, validated, in the user's cache folder
(``$LASTSEEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/lastseen/watchlists``, else
``~/.cache/lastseen/watchlists``), one file per watchlist path, and used only when all of these are
what they were when it was written (the key): the file's SHA-256, its path as given and absolute, the
home folder (``~`` in paths), lastseen's code (size and time of each of its modules) and the
libraries that validate (their folders' times change with any install), and the Python version.
Otherwise, and for any problem reading it, the file is parsed as always, so every error message and
line number is the parser's; only a valid watchlist is ever kept.

A watchlist naming files in its settings (``ca_certs``, ``signing_key``, ``timestamp_ca``) is never
kept: those files are checked (readable, a certificate, a private key only its owner reads) every time.

The file is a pickle read by an unpickler that builds only the watchlist's own dataclasses (any other
class or function named in it is refused, and the watchlist parsed), from a folder only this user can
write (made mode 0700; a file or folder others can write is not read).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
import tempfile
from pathlib import Path

from ..collector import collector_paused

__all__ = ["CACHE_MIN_BYTES", "cache_folder", "cached", "keep"]

#: Smaller watchlists (about 2,000 targets) are parsed every time: in a fraction of a second.
CACHE_MIN_BYTES = 256 * 1024

_ALLOWED = {
    ("crawler.watchlist.model", name)
    for name in ("Watchlist", "Settings", "HostSettings", "Target", "Listing", "ItemOverrides")
} | {("crawler.watchlist.textkinds", "AlertWhen")}


class _Refused(Exception):
    pass


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise _Refused(f"{module}.{name}")
        return super().find_class(module, name)


def cache_folder() -> Path | None:
    explicit = os.environ.get("LASTSEEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lastseen" / "watchlists" if os.path.isabs(base) else None


def _code() -> list:
    """What validation depends on: lastseen's modules and the folders of the libraries it validates with
    (found without importing them: a command reading a kept watchlist does not load its validators, #17)."""
    from importlib.util import find_spec

    package = Path(__file__).resolve().parent.parent
    stats = []
    for path in sorted(package.rglob("*.py")):
        st = path.stat()
        stats.append((str(path.relative_to(package)), st.st_size, st.st_mtime_ns))
    libraries = sorted({str(Path(find_spec(m).origin).resolve().parent.parent)
                        for m in ("ada_url", "soupsieve", "w3lib", "yaml")})
    return [stats, [(d, os.stat(d).st_mtime_ns) for d in libraries], sys.version]


def _key(name: str, digest: str) -> str:
    from .. import __version__

    parts = [__version__, name, os.path.abspath(name), os.path.expanduser("~"), digest, _code()]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _file(folder: Path, name: str) -> Path:
    return folder / (hashlib.sha256(os.path.abspath(name).encode()).hexdigest()[:32] + ".pickle")


def _safe(path: Path) -> bool:
    """Owned by this user and writable by no one else."""
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def cached(name: str, size: int, digest: str):
    """The watchlist kept for ``name`` if its key still holds, else None."""
    folder = cache_folder()
    if size < CACHE_MIN_BYTES or folder is None:
        return None
    path = _file(folder, name)
    try:
        if not (_safe(folder) and _safe(path)):
            return None
        with open(path, "rb") as f, collector_paused():
            key, watchlist = _Unpickler(f).load()
    except (OSError, EOFError, _Refused, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
        return None
    if key != _key(name, digest) or getattr(watchlist, "sha256", None) != digest:
        return None
    return watchlist


def keep(name: str, size: int, watchlist) -> None:
    """Keep a valid ``watchlist`` for the next command; silently not when it cannot be written."""
    folder = cache_folder()
    settings = watchlist.settings
    if size < CACHE_MIN_BYTES or folder is None or settings.ca_certs or settings.signing_key or settings.timestamp_ca:
        return
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _safe(folder):
            return
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".watchlist-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump((_key(name, watchlist.sha256), watchlist), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, _file(folder, name))
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        return
