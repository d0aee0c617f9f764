"""The sandbox's modules import one another without a cycle (issue 17) and stay under ~600 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import core.sandbox

PACKAGE = Path(core.sandbox.__file__).parent


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "core.sandbox":
                out.update(alias.name for alias in node.names)
            elif node.module.startswith("core.sandbox."):
                out.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[2] for a in node.names if a.name.startswith("core.sandbox."))
    return out


def test_no_import_cycle_inside_the_sandbox_even_through_late_imports():
    graph = {p.stem: _imports(p) & {q.stem for q in PACKAGE.glob("*.py")} for p in PACKAGE.glob("*.py")}
    assert graph["store"] and graph["entities"]
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, "import cycle: " + " -> ".join(path + (node,))
        if node in done:
            return
        for nxt in graph.get(node, ()):
            visit(nxt, path + (node,))
        done.add(node)

    for module in graph:
        visit(module, ())


def test_modules_stay_small():
    sizes = {p.name: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py")}
    assert max(sizes.values()) <= 600, sizes
