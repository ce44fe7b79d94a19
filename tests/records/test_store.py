"""The database itself: file mode, SQLite settings, migrations, URLs."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.errors import InputError
from visitplan.records import store
from visitplan.records.operations import Desk, open_desk


def test_sqlite_file_is_private_and_tuned(
    tmp_path: Path, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> None:
    path = tmp_path / "clinic.sqlite3"
    with open_desk(f"sqlite:///{path}", seoul_clinic, catalog, "tester") as desk:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with desk.engine.connect() as c:
            assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert c.execute(text("PRAGMA busy_timeout")).scalar() == store.BUSY_TIMEOUT_MS


def test_schema_is_created_once_at_the_head(db_url: str) -> None:
    engine = store.make_engine(db_url)
    try:
        assert store.ensure_schema(engine) is True
        assert store.ensure_schema(engine) is False
        assert store.current_revisions(engine) == store._script_heads()
        tables = set(inspect(engine).get_table_names())
        assert {"patients", "enrollments", "visits", "audit", "protocol_snapshots"} <= tables
    finally:
        engine.dispose()


def test_default_url_prefers_the_environment(tmp_path: Path) -> None:
    assert store.default_url({"VISITPLAN_DB": "sqlite:///x.db"}) == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a URL like sqlite:///FILE"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot be used: connection failed"),
        ("sqlite:////nonexistent-dir-for-visitplan/x.db", "no directory"),
    ],
)
def test_unusable_url_is_one_clear_line(
    url: str, message: str, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> None:
    with pytest.raises(InputError, match=message) as caught:
        open_desk(url, seoul_clinic, catalog)
    assert "\n" not in caught.value.message


def test_foreign_keys_are_enforced(
    sqlite_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> None:
    orphan = text(
        "INSERT INTO enrollments (patient_id, snapshot_id, start_date, visit_time, "
        "status, revision, created_at, updated_at) VALUES "
        "(42, 42, '2026-01-01', '09:00', 'active', 1, '2026-01-01', '2026-01-01')"
    )
    with (
        open_desk(sqlite_url, seoul_clinic, catalog, "tester") as desk,
        desk.engine.connect() as c,
        pytest.raises(IntegrityError, match="FOREIGN KEY"),
    ):
        c.execute(orphan)


def test_unknown_schema_revision_is_one_line(sqlite_url: str) -> None:
    engine = store.make_engine(sqlite_url)
    try:
        store.ensure_schema(engine)
        with engine.begin() as c:
            c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(InputError, match="at schema revision 9999, which this visitplan"):
            store.ensure_schema(engine)
    finally:
        engine.dispose()


def test_audit_trail_is_append_only_in_the_database(desk: Desk) -> None:
    desk.add_patient("P1", "Synthetic Person")
    for statement in ("UPDATE audit SET who = 'someone'", "DELETE FROM audit"):
        with (
            desk.engine.begin() as c,
            pytest.raises(DBAPIError, match="the audit trail is append-only"),
        ):
            c.execute(text(statement))
    assert [h.who for h in desk.history("P1")] == ["tester"]
