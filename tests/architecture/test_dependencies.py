"""Dependencies stated honestly: constraints.txt pins every distribution the suite runs
with, each declared range starts at its pin (so CI tests the lowest version allowed)
and has an upper bound, and this environment is the one pinned."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "install it, then run `bash .ci/lock` (see the README's Dependencies)"


def pins() -> dict[str, Version]:
    found: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not NAME==VERSION"
            found[canonicalize_name(name)] = Version(version)
    return found


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("requirement", declared(), ids=str)
def test_each_declared_range_starts_at_its_pin_and_is_bounded(requirement: Requirement) -> None:
    pinned = pins().get(canonicalize_name(requirement.name))
    assert pinned is not None, f"{requirement.name} is not in constraints.txt: {REGENERATE}"
    lower = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    assert lower == [pinned], f"{requirement}: the lower bound must be the pin, >={pinned}"
    assert any(s.operator == "<" for s in requirement.specifier), f"{requirement}: no upper bound"
    assert requirement.specifier.contains(pinned)


def closure(root: str, extras: frozenset[str]) -> set[str]:
    """Every distribution that installing ``root[extras]`` here brings in."""
    seen: set[str] = set()
    todo = [(root, extras)]
    while todo:
        name, wanted = todo.pop()
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in wanted or {""}]
            if requirement.marker is not None and not any(
                requirement.marker.evaluate(env) for env in environments
            ):
                continue
            key = canonicalize_name(requirement.name)
            if key not in seen:
                seen.add(key)
                todo.append((requirement.name, frozenset(requirement.extras)))
    return seen


def test_the_lock_is_complete_and_is_what_is_installed() -> None:
    pinned = pins()
    needed = closure("visitplan", frozenset({"test"}))
    assert {"textual", "sqlalchemy", "psycopg-binary", "pytest"} <= needed
    missing = sorted(needed - set(pinned))
    assert missing == [], f"not pinned in constraints.txt: {missing}: {REGENERATE}"
    drifted = sorted(
        f"{name} {metadata.version(name)} (pinned {pinned[name]})"
        for name in needed
        if Version(metadata.version(name)) != pinned[name]
    )
    assert drifted == [], (
        f"installed versions differ from constraints.txt: {drifted}; install with the "
        "README's test command, or, to move a pin, " + REGENERATE
    )


def test_ci_runs_the_readmes_test_command_word_for_word() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    (command,) = [
        line for line in readme if line.startswith("python3 -m venv") and "pytest" in line
    ]
    assert command in ci
    assert "pip install -q -c constraints.txt -e '.[test]'" in command
