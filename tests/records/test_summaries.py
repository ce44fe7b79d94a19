"""Counts and overviews (the month grid, the patient list), on both backends: they
must agree with what the desk's full reads say."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.records.helpers import at, enrolled
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.records.operations import Desk, open_desk
from visitplan.records.views import CourseProgress, PatientMatch

# A Tuesday: the courses started on 2026-04-06 have had their first two sessions.
NOW = at("2026-04-21", "12:00")


@pytest.fixture
def clocked(db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog) -> Iterator[Desk]:
    with open_desk(db_url, seoul_clinic, catalog, "tester", clock=lambda: NOW) as opened:
        yield opened


def test_visits_per_day_counts_what_the_agenda_shows(desk: Desk) -> None:
    enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06", "10:00")
    second = enrolled(desk, "P2", "dextrose-prolotherapy", "2026-04-06", "11:00")
    enrolled(desk, "P3", "eswt-plantar-fasciitis", "2026-04-07", "14:00")
    desk.cancel_visit(second["session-2"].id)  # cancelled visits are not counted
    first, last = dt.date(2026, 4, 1), dt.date(2026, 9, 30)
    counts = desk.visits_per_day(first, last)
    expected = Counter(
        v.start.date() for v in desk.visits(since=first, until=last) if v.status != "cancelled"
    )
    assert counts == dict(expected)
    assert counts[dt.date(2026, 4, 20)] == 1
    assert desk.visits_per_day(dt.date(2026, 4, 6), dt.date(2026, 4, 7)) == {
        dt.date(2026, 4, 6): 2,
        dt.date(2026, 4, 7): 1,
    }
    assert desk.visits_per_day(dt.date(2026, 4, 8), dt.date(2026, 4, 9)) == {}


def test_patient_count(desk: Desk) -> None:
    assert desk.patient_count() == 0
    desk.add_patient("P1", "Synthetic Person")
    desk.add_patient("P2", "Another Example")
    assert desk.patient_count() == 2


def test_find_patients_is_one_screenful_of_the_desks_search(desk: Desk) -> None:
    for mrn, name in (("P-3", "Chloe Test"), ("P-1", "Ada Example"), ("P-2", "Ben Sample")):
        desk.add_patient(mrn, name)
    assert [m.mrn for m in desk.find_patients("", 2)] == ["P-1", "P-2"]
    assert [m.mrn for m in desk.find_patients("", 10)] == [p.mrn for p in desk.patients()]
    assert desk.find_patients("cHLo", 10) == [PatientMatch("P-3", "Chloe Test", None)]
    assert [m.mrn for m in desk.find_patients("p-2", 10)] == ["P-2"]
    assert [m.mrn for m in desk.find_patients("e", 10)] == [p.mrn for p in desk.patients("e")]
    assert desk.find_patients("nobody", 10) == []


def test_progress_counts_the_newest_course_and_flags_every_active_one(clocked: Desk) -> None:
    desk = clocked
    first = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06", "10:00")
    desk.complete_visit(first["session-1"].id, first["session-1"].start)
    second = enrolled(desk, "P2", "dextrose-prolotherapy", "2026-04-06", "11:00")
    desk.miss_visit(second["session-1"].id)
    desk.cancel_visit(second["follow-up"].id)
    desk.move_visit(second["session-3"].id, at("2026-05-12", "11:00"), force=True)
    older = enrolled(desk, "P3", "dextrose-prolotherapy", "2026-04-06", "14:00")
    desk.complete_visit(older["session-1"].id, older["session-1"].start)
    enrolled(desk, "P3", "eswt-plantar-fasciitis", "2026-04-27", "14:00")
    enrolled(desk, "P4", "eswt-plantar-fasciitis", "2026-04-07", "15:00")
    desk.withdraw(desk.enrollments("P4")[0].id)
    desk.add_patient("P5", "Not Enrolled")

    def next_visit(mrn: str) -> dt.datetime:
        return min(v.start for v in desk.visits(mrn=mrn, statuses=["scheduled"]) if v.start > NOW)

    progress = desk.course_progress(["P1", "P2", "P3", "P4", "P5", "nobody"])
    assert progress == {
        "P1": CourseProgress("dextrose-prolotherapy", 1, 7, next_visit("P1"), ("overdue",)),
        "P2": CourseProgress(
            "dextrose-prolotherapy",
            0,
            6,
            next_visit("P2"),
            ("needs rebooking", "out of window", "overdue"),
        ),
        # Counts from the newest course; the older one's overdue session still shows.
        "P3": CourseProgress(
            "eswt-plantar-fasciitis",
            0,
            len(desk.visits(enrollment_id=desk.enrollments("P3")[1].id)),
            next_visit("P3"),
            ("overdue",),
        ),
    }
    assert progress["P1"].next_visit == first["session-3"].start
    assert desk.course_progress([]) == {}
    found = desk.find_patients("", 10)
    assert found == [PatientMatch(m, desk.patient(m).name, progress.get(m)) for m in progress] + [
        PatientMatch("P4", "Synthetic Patient P4", None),
        PatientMatch("P5", "Not Enrolled", None),
    ]
