"""Migration 0005: exactly the outbox and the consent column `records.schema` declares,
and patients stored before it are written to by no one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import column, insert, inspect, select, table

from visitplan.records.schema import OUTBOX, PATIENTS
from visitplan.records.store import MIGRATIONS, ensure_schema, make_engine
from visitplan.records.tables import Base


def _about_mine(diff: Any) -> bool:
    entry = diff[0] if isinstance(diff, list) else diff
    text = repr(entry)
    return "outbox" in text or "notify" in text


def test_the_migration_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        ensure_schema(engine)
        with engine.connect() as connection:
            assert OUTBOX.name in inspect(connection).get_table_names()
            columns = {c["name"] for c in inspect(connection).get_columns("patients")}
            assert "notify" in columns
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert [d for d in diffs if _about_mine(d)] == []
    finally:
        engine.dispose()


def test_patients_stored_before_consent_existed_are_not_written_to(db_url: str) -> None:
    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
        now = dt.datetime(2026, 1, 1)
        old = {"mrn": "OLD-1", "name": "Old Patient", "email": "old@mail.example", "notes": "",
               "no_shows": 0, "revision": 1, "created_at": now, "updated_at": now}  # fmt: skip
        # The patients table as revision 0002 has it: without the consent column.
        patients_0002 = table("patients", *(column(name) for name in old))
        with engine.begin() as connection:
            connection.execute(insert(patients_0002), [old])
        assert ensure_schema(engine) is True
        with engine.connect() as connection:
            assert connection.execute(select(PATIENTS.c.notify)).scalar_one() == "none"
    finally:
        engine.dispose()
