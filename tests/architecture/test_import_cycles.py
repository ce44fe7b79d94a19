"""Each layer read top-down: no module of visitplan.records or visitplan.tui imports,
directly or through others of its package, a module that imports it back.

Every import counts, also those inside functions and under ``if TYPE_CHECKING:``: a
function-level import hides a circle from the interpreter, not from the reader."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Set
from pathlib import Path

import pytest

from tests.support.imports import import_names

SRC = Path(__file__).resolve().parents[2] / "src"


def modules_of(package: str) -> dict[str, Path]:
    folder = SRC / package.replace(".", "/")
    found = {}
    for path in sorted(folder.rglob("*.py")):
        name = path.relative_to(SRC).with_suffix("").as_posix().replace("/", ".")
        found[name.removesuffix(".__init__")] = path
    return found


def imports_of(module: str, path: Path, known: Set[str]) -> set[str]:
    """The modules of ``known`` that ``module`` imports anywhere in its text."""
    is_package = path.name == "__init__.py"
    package = module.split(".") if is_package else module.split(".")[:-1]
    names = import_names(path, package)
    return {name for name in names if name in known and name != module}


def import_graph(package: str) -> dict[str, set[str]]:
    modules = modules_of(package)
    return {name: imports_of(name, path, modules.keys()) for name, path in modules.items()}


def circles(graph: Mapping[str, Set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_circle_finder_finds_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_an_import_in_a_function_counts(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from p import a\n"
        "def f():\n    from p.b import thing\n    from . import c\n",
        encoding="utf-8",
    )
    assert imports_of("p.m", path, {"p.a", "p.b", "p.c", "p.m"}) == {"p.a", "p.b", "p.c"}


@pytest.mark.parametrize("package", ["visitplan.records", "visitplan.tui"])
def test_no_import_circle_within(package: str) -> None:
    graph = import_graph(package)
    assert len(graph) > 10, graph.keys()  # the scan sees the package's modules
    assert circles(graph) == []


def test_the_records_neither_read_command_lines_nor_print() -> None:
    # Presentation is the CLI's (visitplan.cli.tables): the records return views.
    found = []
    for module, path in modules_of("visitplan.records").items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                found.append(f"{module}:{node.lineno}: print")
        if "argparse" in imports_of(module, path, {"argparse"}):
            found.append(f"{module}: imports argparse")
    assert found == []
