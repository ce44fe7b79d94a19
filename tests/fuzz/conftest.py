"""Module-wide places for the fuzz suite: hypothesis runs many examples per test, so
per-example state lives in files these fixtures make once and the tests overwrite."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.cli.harness import seed_database
from tests.support.clinics import SEOUL_CLINIC


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def seoul_file(workdir: Path) -> Path:
    path = workdir / "seoul.toml"
    path.write_text(SEOUL_CLINIC, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def template_db(workdir: Path, seoul_file: Path) -> str:
    """A closed database with one patient whose course began five weeks ago, so that
    some of its visits lie in the past (done) and some ahead (moved)."""
    url = f"sqlite:///{workdir / 'template.sqlite3'}"
    start = dt.datetime.now(ZoneInfo("Asia/Seoul")).date() - dt.timedelta(weeks=5)
    seed_database(url, seoul_file, start=start.isoformat())
    return url
