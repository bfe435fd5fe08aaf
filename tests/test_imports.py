"""Import rules between the modules of ``crawler/`` (STYLE.md §1-2), read statically with :mod:`ast`.

Nothing is imported: every module is parsed and its imports resolved (relative
ones against its package). Imports under ``if TYPE_CHECKING:`` do not count:
they never run. Imports inside functions do: they run when called.

The pure core (``crawler.extract``, ``diff``, ``classify``, ``evidence``, ``verdicts``,
``formatting``) must not reach fetching, storage, WARC or the network, not even
through another module of ``crawler``: those rules follow imports inside
``crawler/`` (and importing ``crawler.a.b`` runs ``crawler/a/__init__.py``).
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "crawler"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes_that_run(tree: ast.AST):
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:`` (its ``else:`` does run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


class ImportGraph:
    """The modules of the package at ``root`` and the imports each one runs."""

    def __init__(self, root: Path):
        self.root = root
        self.modules = {self._name(p): p for p in sorted(root.rglob("*.py"))}
        self._imports: dict[str, list[tuple[str, int]]] = {}

    def _name(self, path: Path) -> str:
        parts = list(path.relative_to(self.root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)

    def under(self, prefix: str) -> list[str]:
        """``prefix`` and the modules below it."""
        return [m for m in self.modules if m == prefix or m.startswith(prefix + ".")]

    def imports_of(self, module: str) -> list[tuple[str, int]]:
        """``(imported module, line)`` for each import ``module`` runs, relative imports resolved.

        ``from X import name`` yields ``X`` and ``X.name`` (``name`` may be a submodule).
        """
        if module not in self._imports:
            path = self.modules[module]
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            out = set()
            for node in _nodes_that_run(tree):
                if isinstance(node, ast.Import):
                    out.update((alias.name, node.lineno) for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    if node.level:
                        assert node.level <= len(package), f"{path}:{node.lineno}: relative import above {package[0]}"
                        base = package[: len(package) - node.level + 1]
                        target = ".".join(base + ([node.module] if node.module else []))
                    else:
                        target = node.module
                    if node.module:
                        out.add((target, node.lineno))
                    out.update((f"{target}.{alias.name}", node.lineno) for alias in node.names if alias.name != "*")
            self._imports[module] = sorted(out, key=lambda item: (item[1], item[0]))
        return self._imports[module]

    def _runs_on_import(self, name: str) -> list[str]:
        """The modules of the package that importing ``name`` runs: it and its parent packages."""
        parts = name.split(".")
        return [m for m in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if m in self.modules]

    def chains(self, module: str, *, transitive: bool):
        """``(imported name, how)`` for every import ``module`` runs; ``how`` names the way there.

        With ``transitive``, the imports of the package's modules it imports count too.
        """
        seen = {module}
        queue = [(module, module)]
        while queue:
            current, chain = queue.pop(0)
            for name, line in self.imports_of(current):
                where = f"{chain} (line {line})"
                yield name, where
                if transitive:
                    for inner in self._runs_on_import(name):
                        if inner not in seen:
                            seen.add(inner)
                            queue.append((inner, f"{where} -> {inner}"))


def _matches(name: str, patterns: tuple[str, ...]) -> str | None:
    """The pattern ``name`` falls under (``crawler.fetch*`` covers ``crawler.fetch.http``), if any."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name, pattern + ".*"):
            return pattern
    return None


GRAPH = ImportGraph(ROOT)

PURE = ("crawler.extract", "crawler.diff", "crawler.classify", "crawler.evidence", "crawler.verdicts",
        "crawler.formatting", "crawler.textforms", "crawler.compared", "crawler.significance", "crawler.summary",
        "crawler.volatile", "crawler.moves", "crawler.keywords", "crawler.reading", "crawler.keyed",
        "crawler.custody")
IO_AND_NETWORK = (
    "crawler.fetch*", "crawler.store", "crawler.warc", "crawler.archive", "crawler.recorder", "crawler.monitor",
    "scrapy", "twisted", "playwright", "sqlite3", "sqlite_utils", "warcio", "socket", "ssl", "http.client",
    "urllib.request", "requests", "apprise", "click",
)
#: The one module that may import the CLI: ``python -m crawler``.
CLI_ENTRY = "crawler.__main__"

# (rule, subject: a module and the modules below it, forbidden imports, follow imports inside crawler/)
RULES = [
    *[(f"pure-{pure.rsplit('.', 1)[1]}", pure, IO_AND_NETWORK, True) for pure in PURE],
    ("nothing-imports-cli", "crawler", ("crawler.cli",), False),
    ("warc-not-store", "crawler.warc", ("crawler.store", "crawler.archive"), True),
    ("store-not-fetch", "crawler.store", ("crawler.fetch*",), True),
]

CASES = [
    pytest.param(rule, module, forbidden, transitive, id=f"{rule}:{module}")
    for rule, prefix, forbidden, transitive in RULES
    for module in GRAPH.under(prefix)
    if not (rule == "nothing-imports-cli" and module in (CLI_ENTRY, "crawler.cli"))
]


def violations(graph: ImportGraph, module: str, forbidden: tuple[str, ...], *, transitive: bool) -> list[str]:
    return sorted({
        f"{how} imports {name} (forbidden: {pattern})"
        for name, how in graph.chains(module, transitive=transitive)
        if (pattern := _matches(name, forbidden))
    })


@pytest.mark.parametrize("rule, module, forbidden, transitive", CASES)
def test_import_rule(rule, module, forbidden, transitive):
    broken = violations(GRAPH, module, forbidden, transitive=transitive)
    assert not broken, f"rule {rule}: {module} must not import {', '.join(forbidden)}, but\n  " + "\n  ".join(broken)


def test_every_rule_has_modules_to_check():
    for rule, prefix, _forbidden, _transitive in RULES:
        assert GRAPH.under(prefix), f"rule {rule}: there is no {prefix} under {ROOT}; update tests/test_imports.py"
    assert CLI_ENTRY in GRAPH.modules


# -- the checker itself -------------------------------------------------------------------------


def test_the_checker_resolves_relative_imports_and_skips_type_checking(tmp_path):
    pkg = tmp_path / "crawler"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text("import click\n")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\nfrom .. import cli\n")
    (pkg / "sub" / "leaf.py").write_text(
        "import typing\n"
        "from .. import store\n"
        "from ..fetch.http import fetch\n"
        "if typing.TYPE_CHECKING:\n    import scrapy\nelse:\n    import socket\n"
        "def later():\n    import sqlite3\n"
    )
    graph = ImportGraph(pkg)
    assert {name for name, _ in graph.imports_of("crawler.sub")} == {"crawler.sub.leaf", "crawler.cli"}
    leaf = {name for name, _ in graph.imports_of("crawler.sub.leaf")}
    assert leaf == {"typing", "crawler.store", "crawler.fetch.http", "crawler.fetch.http.fetch", "socket", "sqlite3"}
    [found] = violations(graph, "crawler.sub", ("sqlite3",), transitive=True)
    assert found == "crawler.sub (line 1) -> crawler.sub.leaf (line 9) imports sqlite3 (forbidden: sqlite3)"
    assert violations(graph, "crawler.sub", ("sqlite3",), transitive=False) == []
    assert violations(graph, "crawler.sub", ("crawler.fetch*",), transitive=False) == []
    assert len(violations(graph, "crawler.sub.leaf", ("crawler.fetch*",), transitive=False)) == 2
    # the CLI's own imports count only for what imports it (click here), not for crawler.sub
    assert violations(graph, "crawler.sub", ("click",), transitive=False) == []
    assert violations(graph, "crawler.sub", ("click",), transitive=True)
