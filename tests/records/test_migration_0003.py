"""Revision 0003 on a database made by the previous release: every visit keeps its time
and UID, a withdrawal's cancellations become undoable, and the MRN index appears
unless old records already hold two MRNs that differ only in case."""

from __future__ import annotations

import datetime as dt

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, inspect, text

from visitplan.records import store

NOW = "2026-04-01 00:00:00"


def _upgrade(engine: Engine, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(store.MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def _old_records(engine: Engine, mrns: tuple[str, str]) -> None:
    with engine.begin() as c:
        for pid, mrn in enumerate(mrns, start=1):
            c.execute(
                text(
                    "INSERT INTO patients (id, mrn, name, notes, no_shows, revision, "
                    "created_at, updated_at) VALUES (:id, :mrn, 'Synthetic Person', '', 0, 1, "
                    ":now, :now)"
                ),
                {"id": pid, "mrn": mrn, "now": NOW},
            )
        c.execute(
            text(
                "INSERT INTO protocol_snapshots (id, protocol_id, version, title, sha256, text) "
                "VALUES (1, 'p', '1', 'P', 'x', '')"
            )
        )
        for eid, status in ((1, "withdrawn"), (2, "active")):
            c.execute(
                text(
                    "INSERT INTO enrollments (id, patient_id, snapshot_id, start_date, "
                    "visit_time, status, revision, created_at, updated_at) VALUES "
                    "(:id, 1, 1, '2026-04-06', '10:00', :status, 1, :now, :now)"
                ),
                {"id": eid, "status": status, "now": NOW},
            )
        for vid, eid, status in ((1, 1, "cancelled"), (2, 2, "cancelled"), (3, 2, "scheduled")):
            c.execute(
                text(
                    "INSERT INTO visits (id, uid, enrollment_id, key, status, target, earliest, "
                    "latest, start_at, end_at, revision, sequence, warnings, updated_at) VALUES "
                    "(:id, :uid, :eid, 'v', :status, '2026-04-06', '2026-04-06', '2026-04-06', "
                    "'2026-04-06 01:00:00', '2026-04-06 01:45:00', 1, 0, '[]', :now)"
                ),
                {"id": vid, "uid": f"u{vid}@x", "eid": eid, "status": status, "now": NOW},
            )


def _index_names(c: Connection) -> set[str]:
    # SQLAlchemy does not reflect SQLite's expression indexes; SQLite lists them.
    if c.dialect.name == "sqlite":
        return {row[1] for row in c.execute(text("PRAGMA index_list(patients)"))}
    return {str(i["name"]) for i in inspect(c).get_indexes("patients")}


def test_0003_keeps_visits_and_marks_who_cancelled(db_url: str) -> None:
    engine = store.make_engine(db_url)
    try:
        _upgrade(engine, "0002")
        _old_records(engine, ("P-1", "P-2"))
        _upgrade(engine, "0003")
        with engine.connect() as c:
            rows = c.execute(
                text("SELECT id, uid, start_at, pinned, cancelled_by FROM visits ORDER BY id")
            ).all()
            indexes = _index_names(c)
        assert [(r.id, r.uid, bool(r.pinned), r.cancelled_by) for r in rows] == [
            (1, "u1@x", False, "withdrawal"),
            (2, "u2@x", False, "staff"),
            (3, "u3@x", False, None),
        ]
        assert {str(r.start_at) for r in rows} == {str(dt.datetime(2026, 4, 6, 1, 0))}
        assert "ix_patients_mrn_key" in indexes
    finally:
        engine.dispose()


def test_0003_leaves_the_index_out_when_old_mrns_clash(db_url: str) -> None:
    engine = store.make_engine(db_url)
    try:
        _upgrade(engine, "0002")
        _old_records(engine, ("demo-1", "DEMO-1"))
        _upgrade(engine, "0003")
        assert store.current_revisions(engine) == {"0003"}
        with engine.connect() as c:
            count = c.execute(text("SELECT count(*) FROM patients")).scalar_one()
            names = _index_names(c)
        assert count == 2
        assert "ix_patients_mrn_key" not in names
    finally:
        engine.dispose()
