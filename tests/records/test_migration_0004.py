"""Revision 0004 on a database of the previous release: clinicians typed on courses
become clinician records (one per person, whatever the case or spacing), every visit
carries its course's clinician, and every visit keeps its time and UID."""

from __future__ import annotations

from sqlalchemy import inspect, text

from tests.records.test_migration_0003 import _old_records, _upgrade
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.records import store
from visitplan.records.operations import open_desk


def test_0004_makes_clinicians_of_the_names_on_courses(
    db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> None:
    engine = store.make_engine(db_url)
    try:
        _upgrade(engine, "0002")
        _old_records(engine, ("P-1", "P-2"))  # enrollments 1 and 2, visits 1 to 3
        with engine.begin() as c:
            c.execute(text("UPDATE enrollments SET clinician = 'Dr  kim' WHERE id = 1"))
            c.execute(text("UPDATE enrollments SET clinician = 'DR KIM' WHERE id = 2"))
            before = c.execute(text("SELECT id, uid, start_at FROM visits ORDER BY id")).all()
        _upgrade(engine, "0004")
        with engine.connect() as c:
            clinicians = c.execute(text("SELECT id, name, name_key FROM clinicians")).all()
            courses = c.execute(text("SELECT clinician_id FROM enrollments ORDER BY id")).all()
            visits = c.execute(
                text("SELECT id, uid, start_at, clinician_id FROM visits ORDER BY id")
            ).all()
            columns = {col["name"] for col in inspect(c).get_columns("enrollments")}
        assert [(r.name, r.name_key) for r in clinicians] == [("Dr kim", "dr kim")]
        kim = clinicians[0].id
        assert [r.clinician_id for r in courses] == [kim, kim]
        assert [(v.id, v.uid, str(v.start_at)) for v in visits] == [
            (b.id, b.uid, str(b.start_at)) for b in before
        ]
        assert {v.clinician_id for v in visits} == {kim}
        assert "clinician" not in columns
        # The later revisions go on over these rows too (SQLite keeps its foreign keys on).
        _upgrade(engine, "heads")
        assert store.current_revisions(engine) == store._script_heads()
    finally:
        engine.dispose()
    # The upgraded database opens, takes the workstation's clinic on its first write,
    # and its visits name their clinician.
    with open_desk(db_url, seoul_clinic, catalog, "tester") as desk:
        assert [r.name for r in desk.clinicians()] == ["Dr kim"]
        desk.add_clinician("Dr Lee")
        assert desk.state.version == 1
