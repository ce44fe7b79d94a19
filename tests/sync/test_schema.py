"""Migration 0002 builds exactly the feed and ledger tables that `records.schema` declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from visitplan.records.schema import FEEDS, PUBLISHED
from visitplan.records.store import ensure_schema, make_engine
from visitplan.records.tables import Base

MINE = {FEEDS.name, PUBLISHED.name}


def _about_mine(diff: Any) -> bool:
    """Whether a diff entry (a tuple, or a list of tuples) concerns one of our tables."""
    entry = diff[0] if isinstance(diff, list) else diff
    for part in entry[1:]:
        table = getattr(part, "table", None)
        name = table.name if table is not None else getattr(part, "name", part)
        if name in MINE:
            return True
    return False


def test_the_migration_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        ensure_schema(engine)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= MINE
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert [d for d in diffs if _about_mine(d)] == []
    finally:
        engine.dispose()
