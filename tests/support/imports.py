"""Reading a module's import statements from its text, for the architecture tests."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path


def import_names(path: Path, package: Sequence[str]) -> set[str]:
    """Every dotted name the file's import statements use (with what a ``from`` import
    takes), including those inside functions and ``if TYPE_CHECKING:``; relative
    imports are resolved against ``package``, the parts of the importing package."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            names.add(source)
            # ``from visitplan.records import outbox`` imports a module too.
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names
