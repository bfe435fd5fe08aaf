"""The two seams docs/scaling.md's plan for more than one machine rests on stay where it says.

- **The index**: every SQL statement is in ``crawler/store/`` (the ``CaptureStore`` and its mixins), so
  another database behind the same methods would change that package only.
- **The fetcher**: the rest of lastseen knows fetching only as ``FetchJob`` in, ``FetchResult`` out
  (``crawler.fetch`` and its plain-data ``crawler.fetch.model``), so the child process could be swapped for
  workers reading a shared queue.

A failure names the file and line, and says what to do instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import crawler

PACKAGE = Path(crawler.__file__).parent
SQL_CALLS = {"execute", "executemany", "executescript"}
SQL_MODULES = {"sqlite3", "sqlite_utils"}
#: What may be imported from ``crawler.fetch``'s modules outside it: the seam, and one process helper.
FETCH_SEAM = {"crawler.fetch": None, "crawler.fetch.model": None, "crawler.fetch.worker": {"die_with_parent"}}


def _modules(outside: str):
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent)
        if relative.parts[1] != outside:
            yield relative, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _absolute(relative: Path, node: ast.ImportFrom) -> str:
    """The module an ``import from`` names, made absolute."""
    if not node.level:
        return node.module or ""
    parts = list(relative.with_suffix("").parts)
    base = parts[: len(parts) - node.level]
    return ".".join(base + ([node.module] if node.module else []))


def test_every_sql_statement_is_in_the_store():
    found = []
    for relative, tree in _modules("store"):
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in SQL_CALLS):
                found.append(f"{relative}:{node.lineno}: .{node.func.attr}(...)")
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{relative}:{node.lineno}: import {n}" for n in names if n.split(".")[0] in SQL_MODULES]
    assert not found, (
        "SQL outside crawler/store/ (docs/scaling.md: another index database must change that package only); "
        "add a CaptureStore method in crawler/store/ and call it instead:\n  " + "\n  ".join(found)
    )


def test_the_fetcher_is_known_only_by_its_jobs_and_results():
    found = []
    for relative, tree in _modules("fetch"):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = _absolute(relative, node)
                names = {a.name for a in node.names}
            elif isinstance(node, ast.Import):
                module, names = node.names[0].name, set()
            else:
                continue
            if module == "crawler" and "fetch" in names:
                module, names = "crawler.fetch", set()
            if not module.startswith("crawler.fetch"):
                continue
            if module not in FETCH_SEAM or (FETCH_SEAM[module] is not None and not names <= FETCH_SEAM[module]):
                found.append(f"{relative}:{node.lineno}: from {module} import {', '.join(sorted(names))}")
    assert not found, (
        "fetching reached past its seam (docs/scaling.md: only FetchJob in, FetchResult out, from crawler.fetch "
        "and crawler.fetch.model):\n  " + "\n  ".join(found)
    )


def test_the_checks_see_what_they_guard():
    """The walk above reads the package it guards: the store's own statements and the monitor's fetcher are found."""
    store_calls = [node for path in (PACKAGE / "store").glob("*.py")
                   for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                   if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                   and node.func.attr in SQL_CALLS]
    assert len(store_calls) > 50
    monitor = dict(_modules("fetch"))[Path("crawler/monitor.py")]
    imported = {(_absolute(Path("crawler/monitor.py"), n), a.name) for n in ast.walk(monitor)
                if isinstance(n, ast.ImportFrom) for a in n.names}
    assert ("crawler.fetch", "Fetcher") in imported
