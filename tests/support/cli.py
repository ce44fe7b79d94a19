"""Running the real `visitplan` console script, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

VISITPLAN = Path(sys.executable).with_name("visitplan")


@dataclass(frozen=True)
class Result:
    status: int
    out: str
    err: str


def run_visitplan(
    *args: str, env: dict[str, str] | None = None, stdin: str = "", cwd: Path | None = None
) -> Result:
    """Run the installed entry point with a clean, explicit environment."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VISITPLAN_")}
    full_env.update(env or {})
    done = subprocess.run(
        [str(VISITPLAN), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.status == 2, result
    assert result.out == "", result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture
def visitplan_home(tmp_path: Path) -> dict[str, str]:
    """An environment whose config and data directories are empty temp folders."""
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "TZ": "Asia/Seoul",
    }
