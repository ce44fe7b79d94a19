"""Migration 0002 builds exactly the feed and ledger tables that `records.schema` declares;
0003s takes passwords out of the ledger's calendar URLs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from visitplan.records.schema import FEEDS, PUBLISHED
from visitplan.records.store import MIGRATIONS, ensure_schema, make_engine
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


def _ledger_row(url: str, uid: str, etag: str, at: dt.datetime) -> dict[str, object]:
    return {
        "calendar_url": url, "uid": uid, "href": f"/desk/c/{uid}.ics", "etag": etag,
        "sequence": 0, "fingerprint": "f" * 64, "published_at": at,
    }  # fmt: skip


def test_migration_0003s_takes_passwords_out_of_the_ledger(db_url: str) -> None:
    """Rows stored with ``user:password@`` in the URL are re-keyed by the URL without it;
    where both ledgers know a visit, the newer write (the server's ETag) is kept."""
    clean = "http://127.0.0.1:5232/desk/c/"
    secret = "http://desk:hunter2@127.0.0.1:5232/desk/c/"
    other = "http://desk:older@127.0.0.1:5232/desk/c/"
    early, late = dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)
    engine = make_engine(db_url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
        with engine.begin() as connection:
            connection.execute(
                insert(PUBLISHED),
                [
                    _ledger_row(secret, "only-secret", "a", early),
                    _ledger_row(secret, "newer-secret", "b-new", late),
                    _ledger_row(clean, "newer-secret", "b-old", early),
                    _ledger_row(secret, "newer-clean", "c-old", early),
                    _ledger_row(clean, "newer-clean", "c-new", late),
                    _ledger_row(other, "only-secret", "a-older", dt.datetime(2025, 1, 1)),
                    _ledger_row("http://example.test/a@b/", "at-in-path", "d", early),
                ],
            )
        assert ensure_schema(engine)
        with engine.connect() as connection:
            rows = {(r.calendar_url, r.uid): r.etag for r in connection.execute(select(PUBLISHED))}
    finally:
        engine.dispose()
    assert rows == {
        (clean, "only-secret"): "a",
        (clean, "newer-secret"): "b-new",
        (clean, "newer-clean"): "c-new",
        ("http://example.test/a@b/", "at-in-path"): "d",
    }
