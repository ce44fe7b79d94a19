"""Database fixtures: a fresh SQLite file always, and a fresh PostgreSQL schema
(dropped afterwards) wherever PostgreSQL can be had.

``db_url`` is parametrized over both backends, so every test that uses it (or
``desk``) runs twice. The PostgreSQL server is the one VISITPLAN_TEST_PG_URL names;
without it, a throwaway server started for the session (tests/support/pg_server.py)
wherever PostgreSQL's server programs are installed; else those tests are skipped,
saying why (or failing, where VISITPLAN_TEST_PG_REQUIRED is set, as in CI).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.pg_server import find_bindir, throwaway_server
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.records.operations import Desk, open_desk

PG_ENV = "VISITPLAN_TEST_PG_URL"
# Set by .ci/run: there, PostgreSQL tests that cannot run are a failure, not a skip.
PG_REQUIRED_ENV = "VISITPLAN_TEST_PG_REQUIRED"
NO_PG = (
    f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) "
    "or PostgreSQL's server programs (initdb, pg_ctl; Debian: apt-get install postgresql), "
    "and neither is here"
)


def pg_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def with_search_path(base: str, schema: str) -> str:
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """The PostgreSQL server of this session: $VISITPLAN_TEST_PG_URL, else a throwaway."""
    given = pg_base_url()
    if given is not None:
        yield given
        return
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get(PG_REQUIRED_ENV):
            pytest.fail(f"{NO_PG} ({PG_REQUIRED_ENV} is set)")
        pytest.skip(NO_PG)
    with throwaway_server(bindir) as url:
        yield url


@pytest.fixture
def pg_schema_url(pg_server_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a schema of their own, dropped afterwards."""
    base = pg_server_url
    from sqlalchemy import create_engine, text

    schema = f"vp_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(base, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.sqlite3'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'records.sqlite3'}"


@pytest.fixture
def desk(db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog) -> Iterator[Desk]:
    """A desk on an empty database, in the Seoul example clinic, as user 'tester'."""
    with open_desk(db_url, seoul_clinic, catalog, "tester") as opened:
        yield opened
