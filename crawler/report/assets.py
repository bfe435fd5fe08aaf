"""The archive pages' shared files: ``reports/assets/lastseen-<hash>.css`` and ``history-<hash>.js``.

The archive's front page and target history pages (:mod:`.front`, :mod:`.history`) live together
under ``reports/`` and are many (one history page per target: 100,000 in a large first run). Instead
of repeating the stylesheet and the history script inline in each (9 KB of a 13 KB page), they link
two files written once: ``assets/lastseen-<hash>.css`` (``crawler/templates/_archive.css``: the run
reports' stylesheet and these pages' few rules) and ``assets/history-<hash>.js``
(``crawler/templates/history.js``). ``<hash>`` is the first 16 hex digits of the file's SHA-256:
a file is never rewritten with other content, so a page written by an older lastseen keeps the
stylesheet and script it was written with, and a new version never breaks old pages. Run reports do
not use them: a run's report stays a folder of single files that open alone.

Safety. The pages' Content-Security-Policy (:func:`archive_csp`) allows styles from the reports
themselves (``'self' file:``, as screenshots are: from disk, Chromium's ``'self'`` matches ``file:``
URLs, other browsers need ``file:``; over HTTP ``'self'`` is the reports' own server) and no inline
style. Scripts: a history page carries one inline line, the loader (:data:`LOADER`), allowed by its
SHA-256 with ``'strict-dynamic'``: the loader adds the ``<script>`` of ``history-<hash>.js`` (a path
fixed here, relative to the page), which ``'strict-dynamic'`` trusts because a trusted script added
it; any ``<script src>`` in the markup itself, from anywhere, is refused (``'strict-dynamic'`` ignores
``'self'`` and every host), and no other inline script runs. A hash source with an ``integrity``
attribute does not work from disk (Chromium checks integrity only on CORS responses, and ``file:``
pages make none), nor does a script-src ``'self'`` stay as strict. Captured text is escaped text
(:mod:`.render`), so none of it can add an element at all.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import jinja2

from .index import load_script, script_source
from .render import _TEMPLATES, CSP

__all__ = [
    "ASSETS_DIR",
    "ArchiveAssets",
    "archive_assets",
    "archive_csp",
    "write_assets",
]

#: The folder of the shared files, inside the reports folder.
ASSETS_DIR = "assets"

#: Styles from the reports' own files only; nothing inline.
_STYLE = "style-src 'self' file:"


def archive_csp(loader: str | None = None) -> str:
    """The CSP of an archive page: :data:`~crawler.report.render.CSP` with styles from the reports' own
    files (not inline); with ``loader``, that one inline script and the scripts it adds."""
    csp = CSP.replace("style-src 'unsafe-inline'", _STYLE)
    if loader is None:
        return csp
    return f"{csp}; script-src {script_source(loader)} 'strict-dynamic'"


@dataclass(frozen=True, slots=True)
class ArchiveAssets:
    """The shared files' names and contents, and what a page carries to use them."""

    css_name: str  # lastseen-<hash>.css
    css: bytes
    js_name: str  # history-<hash>.js
    js: bytes
    loader: str  # the history pages' inline script: adds the <script> of js_name
    history_csp: str
    front_csp: str

    def stylesheet(self, depth: int) -> str:
        """The stylesheet's URL from a page ``depth`` folders below the reports folder."""
        return "../" * depth + f"{ASSETS_DIR}/{self.css_name}"


def _named(stem: str, content: bytes, suffix: str) -> str:
    return f"{stem}-{hashlib.sha256(content).hexdigest()[:16]}{suffix}"


def archive_assets(env: jinja2.Environment) -> ArchiveAssets:
    """The shared files as this lastseen writes them (the stylesheet rendered by ``env``)."""
    css = env.get_template("_archive.css").render().encode("utf-8")
    js = load_script(_TEMPLATES / "history.js").encode("ascii")
    css_name, js_name = _named("lastseen", css, ".css"), _named("history", js, ".js")
    # history pages are reports/targets/<slug>/*.html: two folders down
    loader = (
        '(function(){var s=document.createElement("script");'
        f's.src="../../{ASSETS_DIR}/{js_name}";document.currentScript.after(s);}}());'
    )
    return ArchiveAssets(
        css_name=css_name,
        css=css,
        js_name=js_name,
        js=js,
        loader=loader,
        history_csp=archive_csp(loader),
        front_csp=archive_csp(),
    )


def write_assets(reports_dir: Path, assets: ArchiveAssets) -> None:
    """Write the shared files under ``reports_dir/assets/`` unless there already (same name, same
    content). Raises :class:`OSError` when they cannot be written."""
    folder = Path(reports_dir) / ASSETS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in ((assets.css_name, assets.css), (assets.js_name, assets.js)):
        path = folder / name
        try:
            if path.read_bytes() == content:
                continue
        except OSError:
            pass
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(content)
        os.replace(tmp, path)
