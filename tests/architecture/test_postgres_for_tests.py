"""The suite's PostgreSQL: a newcomer's `python -m pytest` finds the server programs and
starts a throwaway server, without VISITPLAN_TEST_PG_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.db import PG_ENV
from tests.support.pg_server import SERVER_PROGRAMS, find_bindir

ROOT = Path(__file__).resolve().parents[2]


def fake_bindir(directory: Path, programs: tuple[str, ...] = SERVER_PROGRAMS) -> Path:
    directory.mkdir(parents=True)
    for name in programs:
        program = directory / name
        program.write_text("#!/bin/sh\n", encoding="utf-8")
        program.chmod(0o755)
    return directory


def test_a_client_only_pg_config_falls_back_to_the_newest_server(tmp_path: Path) -> None:
    client_only = fake_bindir(tmp_path / "client" / "bin", ("pg_config", "psql"))
    debian = tmp_path / "usr-lib-postgresql"
    fake_bindir(debian / "13" / "bin")
    newest = fake_bindir(debian / "16" / "bin")
    fake_bindir(debian / "9.6" / "bin")
    assert find_bindir(client_only, debian, path="") == newest


def test_server_programs_on_path_are_found_through_their_symlinks(tmp_path: Path) -> None:
    real = fake_bindir(tmp_path / "opt" / "pg" / "bin")
    on_path = tmp_path / "bin"
    on_path.mkdir()
    (on_path / "initdb").symlink_to(real / "initdb")
    found = find_bindir(None, tmp_path / "none", path=str(on_path), ask_pg_config=False)
    assert found == real


def test_no_server_programs_anywhere_is_none(tmp_path: Path) -> None:
    half = fake_bindir(tmp_path / "half" / "bin", ("initdb",))
    assert find_bindir(half, tmp_path / "none", path=str(half), ask_pg_config=False) is None


INNER_TEST = """
from pathlib import Path

from sqlalchemy import create_engine, text


def test_inner(pg_schema_url: str) -> None:
    engine = create_engine(pg_schema_url)
    with engine.connect() as connection:
        Path({report!r}).write_text(
            connection.execute(text("SHOW data_directory")).scalar() + "\\n"
            + connection.execute(text("SELECT current_schema()")).scalar()
        )
    engine.dispose()
"""


def test_without_the_url_the_suite_starts_and_removes_a_throwaway_server(tmp_path: Path) -> None:
    if find_bindir() is None:
        pytest.skip("PostgreSQL's server programs are not installed here")
    report = tmp_path / "server.txt"
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "test_inner.py").write_text(INNER_TEST.format(report=str(report)), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != PG_ENV}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.support.db", "-p", "no:cacheprovider",
         "--rootdir", str(inner), str(inner)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    data_directory, schema = report.read_text().splitlines()
    assert schema.startswith("vp_test_")
    # Not the machine's own server, and nothing left behind once the session ended.
    assert Path(data_directory).name == "data"
    assert Path(data_directory).parent.name.startswith("visitplan-pg-")
    assert not Path(data_directory).parent.exists()
