"""Clinicians are resources (issue 13): every placement the records make (enroll and
its preview, move, free times, cascades, the import, rebooking) books a clinician's
visit only where they are free, counting every visit of theirs, on SQLite and
PostgreSQL alike. The clinic has room for four at once here, so only the clinician's
own capacity keeps their visits apart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.records.helpers import Clock, at, by_key
from tests.support.clinics import SEOUL_CLINIC
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic, parse_clinic
from visitplan.records.operations import Desk, open_desk
from visitplan.records.views import VisitView

ROOMY = SEOUL_CLINIC.replace(
    'closures = ["2026-12-31"]\n', 'closures = ["2026-12-31"]\ncapacity = 4\n'
)
PROTOCOL = "dextrose-prolotherapy"  # six 45-minute sessions two weeks apart, a follow-up
MONDAY = dt.date(2026, 4, 6)


@pytest.fixture
def roomy() -> Clinic:
    clinic = parse_clinic(ROOMY, "clinic.toml")
    assert clinic.capacity == 4
    return clinic


@pytest.fixture
def clock() -> Clock:
    return Clock(at("2026-04-01", "08:00"))


@pytest.fixture
def desk(db_url: str, roomy: Clinic, catalog: ProtocolCatalog, clock: Clock) -> Iterator[Desk]:
    with open_desk(db_url, roomy, catalog, "tester", clock=clock) as opened:
        opened.add_clinician("Dr Kim")
        opened.add_clinician("Dr Lee", capacity=2)
        yield opened


def enroll(
    desk: Desk, mrn: str, clinician: str | None, start: dt.date = MONDAY, time: str = "10:00"
) -> dict[str, VisitView]:
    desk.add_patient(mrn, f"Synthetic Patient {mrn}")
    detail = desk.enroll(mrn, PROTOCOL, start, dt.time.fromisoformat(time), clinician)
    return by_key(detail.visits)


def most_at_once(visits: list[VisitView]) -> int:
    edges = sorted([(v.start, 1) for v in visits] + [(v.end, -1) for v in visits])
    peak = running = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def assert_never_double_booked(desk: Desk) -> None:
    """No clinician sees more patients at once than their capacity, and the clinic
    never holds more than its own."""
    open_ = desk.visits(statuses=("scheduled", "completed"))
    assert most_at_once(open_) <= desk.clinic.capacity
    for record in desk.state.clinicians:
        theirs = [v for v in open_ if v.clinician == record.name]
        assert most_at_once(theirs) <= record.spec.capacity, record.name


def test_enroll_books_a_clinician_once_at_a_time_and_the_preview_agrees(desk: Desk) -> None:
    first = enroll(desk, "P1", "Dr Kim")
    assert first["session-1"].start == at("2026-04-06", "10:00")
    preview = desk.preview_enrollment(None, PROTOCOL, MONDAY, dt.time(10, 0), "dr kim")
    second = enroll(desk, "P2", "Dr Kim")
    # The clinic has room for four, but Dr Kim sees one patient at a time.
    assert second["session-1"].start == at("2026-04-06", "10:45")
    assert second["session-1"].reason == "10:00 was fully booked; moved to 10:45"
    assert [v.start for v in preview.visits] == [v.start for v in second.values()]
    # Another clinician at the same time is free, and Dr Lee sees two at once.
    assert enroll(desk, "P3", "Dr Lee")["session-1"].start == at("2026-04-06", "10:00")
    assert enroll(desk, "P4", "Dr Lee")["session-1"].start == at("2026-04-06", "10:00")
    assert enroll(desk, "P5", "Dr Lee")["session-1"].start == at("2026-04-06", "10:45")
    # Without a clinician only the clinic's capacity counts (four at 10:00 now).
    assert enroll(desk, "P6", None)["session-1"].start == at("2026-04-06", "10:00")
    assert_never_double_booked(desk)


def test_a_move_and_a_handover_find_the_clinician_free(desk: Desk) -> None:
    kim = enroll(desk, "P1", "Dr Kim")
    lee = enroll(desk, "P2", "Dr Lee", start=dt.date(2026, 4, 7))
    # Lee's Tuesday visit moved onto Kim's Monday time stays with Lee: Lee is free.
    moved = desk.move_visit(lee["session-1"].id, at("2026-04-06", "10:00"), force=True)
    assert moved.visit.start == at("2026-04-06", "10:00")
    # Handed to Kim at that time, it goes to the nearest time Kim is free.
    handed = desk.move_visit(
        lee["session-1"].id, at("2026-04-06", "10:00"), force=True, clinician="Dr Kim"
    )
    assert handed.visit.clinician == "Dr Kim"
    assert handed.visit.start == at("2026-04-06", "10:45")
    # And Kim's own visit asked onto that time goes around it too.
    again = desk.move_visit(kim["session-1"].id, at("2026-04-06", "10:45"))
    assert again.visit.start in {at("2026-04-06", "10:00"), at("2026-04-06", "11:30")}
    assert_never_double_booked(desk)


def test_free_times_and_move_to_first_leave_out_the_clinicians_busy_times(
    desk: Desk,
) -> None:
    tuesday = dt.date(2026, 4, 7)
    enroll(desk, "P1", "Dr Kim", start=tuesday, time="10:00")
    enroll(desk, "P2", "Dr Kim", start=tuesday, time="10:45")
    other = enroll(desk, "P3", "Dr Kim", start=tuesday)
    # 10:00 and 10:45 are taken: 09:15 is the nearest free time (it ends at 10:00).
    assert other["session-1"].start == at("2026-04-07", "09:15")
    _, times = desk.free_times(other["session-1"].id, count=8)
    on_tuesday = [t.start for t in times if t.day == tuesday]
    assert len(on_tuesday) == 8
    busy = (at("2026-04-07", "10:00"), at("2026-04-07", "11:30"))
    for start in on_tuesday:
        end = start + dt.timedelta(minutes=45)
        assert not (start < busy[1] and busy[0] < end), start
    # Nearest its own 09:15 first: itself, then 09:00 (09:30 would run into 10:00).
    assert on_tuesday[:2] == [at("2026-04-07", "09:15"), at("2026-04-07", "09:00")]
    assert at("2026-04-07", "11:30") in on_tuesday
    first = desk.move_visit(other["session-1"].id, "first")
    assert first.visit.start == times[0].start
    assert_never_double_booked(desk)


def test_a_cascade_after_a_late_visit_finds_the_clinician_free(desk: Desk, clock: Clock) -> None:
    first = enroll(desk, "P1", "Dr Kim")
    # Another patient of Kim's on Wednesday 22 April at 10:00, where P1's second
    # session lands once the first is done two days late.
    other = enroll(desk, "P2", "Dr Kim", start=dt.date(2026, 4, 22))
    assert other["session-1"].start == at("2026-04-22", "10:00")
    clock.set("2026-04-09", "08:00")
    change = desk.complete_visit(first["session-1"].id, at("2026-04-08", "10:00"))
    second = {v.key: v for v in change.moved}["session-2"]
    assert second.start.date() == dt.date(2026, 4, 22)
    assert second.start == at("2026-04-22", "10:45")
    assert "10:00 was fully booked" in (second.reason or "")
    assert_never_double_booked(desk)


def test_reopen_and_a_no_show_keep_the_clinician_single_booked(desk: Desk, clock: Clock) -> None:
    first = enroll(desk, "P1", "Dr Kim")
    enroll(desk, "P2", "Dr Kim", start=dt.date(2026, 4, 22))
    clock.set("2026-04-09", "08:00")
    desk.complete_visit(first["session-1"].id, at("2026-04-08", "10:00"))
    reopened = desk.reopen_visit(first["session-1"].id)
    assert reopened.visit.status == "scheduled"
    assert_never_double_booked(desk)
    clock.set("2026-04-06", "12:00")
    desk.miss_visit(first["session-1"].id)
    desk.move_visit(first["session-1"].id, "first")
    assert_never_double_booked(desk)


def test_the_import_books_each_clinician_once_at_a_time(desk: Desk, tmp_path: Path) -> None:
    enroll(desk, "P0", "Dr Kim")  # already stored: the file's courses go around it
    rows = ["mrn,name,protocol,start,time,clinician"]
    rows += [f"P{n},Synthetic Patient {n},{PROTOCOL},2026-04-06,10:00,Dr Kim" for n in range(1, 5)]
    rows += [f"L{n},Synthetic Patient L{n},{PROTOCOL},2026-04-06,10:00,dr lee" for n in range(3)]
    path = tmp_path / "patients.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = desk.import_csv(path)
    assert (report.patients, report.enrollments) == (7, 7)
    firsts = {
        v.mrn: v.start for v in desk.visits(since=MONDAY, until=MONDAY) if v.key == "session-1"
    }
    kim = sorted(firsts[m] for m in ("P0", "P1", "P2", "P3", "P4"))
    assert kim == [at("2026-04-06", t) for t in ("09:15", "10:00", "10:45", "11:30", "12:15")]
    lee = sorted(firsts[m] for m in ("L0", "L1", "L2"))
    assert lee == [at("2026-04-06", t) for t in ("10:00", "10:00", "10:45")]
    assert_never_double_booked(desk)


def test_a_closure_rebooks_a_clinicians_visits_where_they_are_free(desk: Desk) -> None:
    monday = enroll(desk, "P1", "Dr Kim")
    enroll(desk, "P2", "Dr Kim", start=dt.date(2026, 4, 7))
    report = desk.add_closure(MONDAY, reason="burst pipe", rebook=True)
    moved = {v.id: v for v in report.moved}
    rebooked = moved[monday["session-1"].id]
    assert rebooked.start == at("2026-04-07", "10:45")  # Tuesday 10:00 is Kim's with P2
    assert_never_double_booked(desk)


def test_a_clinic_load_that_lowers_a_capacity_reports_and_rebooks(desk: Desk) -> None:
    enroll(desk, "P1", "Dr Lee")
    enroll(desk, "P2", "Dr Lee")  # Lee sees two at once: both at 10:00
    lowered = parse_clinic(ROOMY + '[[clinicians]]\nname = "Dr Lee"\ncapacity = 1\n', "clinic.toml")
    report = desk.load_clinic(lowered, "clinic.toml", rebook=True)
    assert report.affected
    assert any("Dr Lee is already booked then" in a.problem for a in report.affected)
    assert desk.state.clinician("Dr Lee").spec.capacity == 1
    assert report.still == ()
    assert_never_double_booked(desk)


def test_the_clinic_files_clinicians_come_with_the_first_write_and_with_load(
    db_url: str, roomy: Clinic, catalog: ProtocolCatalog
) -> None:
    declared = parse_clinic(
        ROOMY + '[[clinicians]]\nname = "Dr Kim"\nhours = "mon-fri=09:00-12:00"\n', "clinic.toml"
    )
    with open_desk(db_url, declared, catalog, "tester") as desk:
        desk.add_patient("P1", "Synthetic One")  # the first write stores the clinic
        assert [(c.name, c.spec.hours) for c in desk.clinicians()] == [
            ("Dr Kim", "mon-fri=09:00-12:00")
        ]
        course = desk.enroll("P1", PROTOCOL, MONDAY, dt.time(13, 0), "Dr Kim")
        # 13:00 is after Kim's morning: the nearest time within it.
        assert course.visits[0].start == at("2026-04-06", "11:15")
        more = parse_clinic(
            ROOMY
            + '[[clinicians]]\nname = "Dr Kim"\nhours = "mon-fri=09:00-12:00"\n'
            + '[[clinicians]]\nname = "Dr Lee"\ncapacity = 3\n',
            "clinic.toml",
        )
        desk.load_clinic(more, "clinic.toml")
        assert [(c.name, c.spec.capacity) for c in desk.clinicians()] == [
            ("Dr Kim", 1),
            ("Dr Lee", 3),
        ]
