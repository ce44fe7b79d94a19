"""Patients, enrollments, queries, revisions and the audit trail, on both backends."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tests.records.helpers import at, by_key, days, enrolled
from visitplan.catalog import ProtocolCatalog, bundled_protocols_dir
from visitplan.domain.clinic import Clinic
from visitplan.errors import InputError
from visitplan.records.operations import Desk, open_desk


def test_patient_add_show_list(desk: Desk) -> None:
    added = desk.add_patient(" P-100 ", "Synthetic  Person", phone="010-0000-0000")
    assert (added.mrn, added.name, added.phone, added.email) == (
        "P-100",
        "Synthetic Person",
        "010-0000-0000",
        None,
    )
    desk.add_patient("P-099", "Another Example", email="another@example.invalid")
    assert [p.mrn for p in desk.patients()] == ["P-099", "P-100"]
    assert [p.mrn for p in desk.patients("another")] == ["P-099"]
    assert desk.patient("P-100").no_shows == 0


def test_duplicate_mrn_and_bad_fields_are_refused(desk: Desk) -> None:
    desk.add_patient("P1", "Synthetic Person")
    with pytest.raises(InputError, match="MRN 'P1' already exists"):
        desk.add_patient("P1", "Someone Else")
    with pytest.raises(InputError, match="is not an e-mail address"):
        desk.add_patient("P2", "Synthetic Person", email="not-an-address")
    with pytest.raises(InputError, match="without spaces"):
        desk.add_patient("P 3", "Synthetic Person")
    with pytest.raises(InputError, match="unknown MRN 'P9'"):
        desk.patient("P9")
    assert [p.mrn for p in desk.patients()] == ["P1"]


def test_update_patient_checks_the_revision(desk: Desk) -> None:
    desk.add_patient("P1", "Synthetic Person")
    changed = desk.update_patient("P1", phone="010-1234-5678", expected_revision=1)
    assert (changed.phone, changed.revision) == ("010-1234-5678", 2)
    with pytest.raises(InputError, match="changed by someone else since you opened it"):
        desk.update_patient("P1", notes="prefers mornings", expected_revision=1)
    assert desk.patient("P1").notes == ""


def test_enroll_stores_the_plan_with_lasting_uids(desk: Desk) -> None:
    desk.add_patient("P1", "Synthetic Person")
    desk.add_clinician("Dr Test")
    detail = desk.enroll(
        "P1", "dextrose-prolotherapy", dt.date(2026, 4, 6), dt.time(10, 0), "Dr Test"
    )
    assert detail.enrollment.protocol_version == "1.0"
    assert detail.enrollment.clinician == "Dr Test"
    assert len(detail.visits) == 7
    first = detail.visits[0]
    assert first.uid.endswith("@visitplan.invalid")
    assert (first.revision, first.sequence, first.status) == (1, 0, "scheduled")
    assert first.start == at("2026-04-06")
    assert first.end == at("2026-04-06", "10:45")
    assert first.label == "Session 1 of 6"
    assert first.patient_notes == "Prolotherapy session."
    assert len({v.uid for v in detail.visits}) == 7
    assert [v.id for v in desk.visits(mrn="P1")] == [v.id for v in detail.visits]


def test_unknown_protocol_or_patient_writes_nothing(desk: Desk) -> None:
    desk.add_patient("P1", "Synthetic Person")
    version = desk.data_version()
    with pytest.raises(InputError, match="unknown protocol 'nope'"):
        desk.enroll("P1", "nope", dt.date(2026, 4, 6))
    with pytest.raises(InputError, match="unknown MRN 'P2'"):
        desk.enroll("P2", "dextrose-prolotherapy", dt.date(2026, 4, 6))
    with pytest.raises(InputError, match="unknown visit id 999"):
        desk.miss_visit(999)
    assert desk.data_version() == version
    assert desk.enrollments() == []


def test_capacity_books_the_nearest_free_time(desk: Desk) -> None:
    enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    desk.add_patient("P2", "Second Example")
    version = desk.data_version()
    preview = desk.preview_enrollment(
        "P2", "dextrose-prolotherapy", dt.date(2026, 4, 6), dt.time(10, 0)
    )
    assert desk.data_version() == version
    detail = desk.enroll("P2", "dextrose-prolotherapy", dt.date(2026, 4, 6), dt.time(10, 0))
    starts = [f"{v.start:%H:%M}" for v in detail.visits]
    assert starts == ["10:45"] * 6 + ["10:30"]  # the follow-up lasts 30 minutes
    assert detail.visits[0].reason == "10:00 was fully booked; moved to 10:45"
    assert [f"{v.start:%H:%M}" for v in preview.visits] == starts


def test_moving_into_a_full_slot_takes_the_nearest_free_time(desk: Desk) -> None:
    enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-09")
    other = enrolled(desk, "P2", "dextrose-prolotherapy", "2026-04-08", "10:00")
    # Inside P2's window (a first session never goes before its course starts).
    change = desk.move_visit(other["session-1"].id, at("2026-04-09", "10:00"))
    assert f"{change.visit.start:%H:%M}" == "10:45"
    assert change.visit.reason == "10:00 was fully booked; moved to 10:45"


def test_course_keeps_its_protocol_snapshot(
    tmp_path: Path, db_url: str, seoul_clinic: Clinic
) -> None:
    folder = tmp_path / "protocols"
    shutil.copytree(bundled_protocols_dir(), folder, ignore=shutil.ignore_patterns("*.json"))
    with open_desk(db_url, seoul_clinic, ProtocolCatalog([folder]), "tester") as desk:
        visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    path = folder / "dextrose-prolotherapy.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('version = "1.0"', 'version = "2.0"').replace("weeks = 2", "weeks = 3"),
        encoding="utf-8",
    )
    with open_desk(db_url, seoul_clinic, ProtocolCatalog([folder]), "tester") as desk:
        course = desk.enrollments("P1")[0]
        assert (course.protocol_version, course.newer_version_available) == ("1.0", True)
        assert course.current_version == "2.0"
        desk.complete_visit(visits["session-1"].id, at("2026-04-08"))
        # Re-planned from the stored 1.0 text: still two weeks apart.
        assert days(desk.visits(mrn="P1"))["session-2"] == "2026-04-22"


def test_queries_by_enrollment_clinician_and_range(desk: Desk) -> None:
    desk.add_patient("P1", "Synthetic Person")
    desk.add_clinician("Dr A")
    desk.add_clinician("Dr B")
    a = desk.enroll("P1", "dextrose-prolotherapy", dt.date(2026, 4, 6), dt.time(10, 0), "Dr A")
    b = desk.enroll("P1", "eswt-plantar-fasciitis", dt.date(2026, 4, 7), dt.time(14, 0), "Dr B")
    assert {v.enrollment_id for v in desk.visits(enrollment_id=b.enrollment.id)} == {
        b.enrollment.id
    }
    assert {v.clinician for v in desk.visits(clinician="Dr A")} == {"Dr A"}
    window = desk.visits(since=dt.date(2026, 4, 6), until=dt.date(2026, 4, 7))
    assert [(v.enrollment_id, v.key) for v in window] == [
        (a.enrollment.id, "session-1"),
        (b.enrollment.id, "application-1"),
    ]
    assert [v.key for v in desk.agenda(dt.date(2026, 4, 6), days=1)] == ["session-1"]
    assert desk.visit_by_uid(window[1].uid).id == window[1].id


def test_withdraw_cancels_open_visits_and_keeps_them(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    desk.complete_visit(visits["session-1"].id, at("2026-04-06"))
    course = desk.enrollments("P1")[0]
    detail = desk.withdraw(course.id, expected_revision=course.revision)
    assert detail.enrollment.status == "withdrawn"
    statuses = by_key(detail.visits)
    assert statuses["session-1"].status == "completed"
    assert {statuses[k].status for k in statuses if k != "session-1"} == {"cancelled"}
    assert statuses["session-2"].sequence == 1
    assert desk.agenda(dt.date(2026, 4, 20)) == []
    with pytest.raises(InputError, match="already withdrawn"):
        desk.withdraw(course.id)


def test_stale_revision_fails_and_writes_nothing(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    seen = visits["session-2"].revision
    desk.move_visit(visits["session-2"].id, at("2026-04-21"), expected_revision=seen)
    version = desk.data_version()
    with pytest.raises(InputError, match="changed by someone else since you opened it"):
        desk.cancel_visit(visits["session-2"].id, expected_revision=seen)
    assert desk.data_version() == version
    assert desk.visit(visits["session-2"].id).status == "scheduled"


def test_history_is_the_audit_trail(
    desk: Desk, db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    with open_desk(db_url, seoul_clinic, catalog, "second-user") as other:
        other.miss_visit(visits["session-1"].id)
    history = desk.history("P1")
    assert [(h.action, h.who) for h in history] == [
        ("patient added", "tester"),
        ("enrolled", "tester"),
        ("missed", "second-user"),
    ]
    assert history[2].before == {"status": "scheduled"}
    assert history[2].after == {"status": "missed"}
    assert history[0].at.tzinfo is not None
    assert desk.data_version() == max(h.id for h in history)
