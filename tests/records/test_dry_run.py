"""A dry run is the operation itself, rolled back: it refuses what the real change
refuses, answers what it would answer, and leaves every table as it was."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.records.helpers import at, enrolled
from visitplan.errors import InputError
from visitplan.records.operations import Desk


def test_a_dry_run_answers_like_the_change_and_writes_nothing(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    first = visits["session-1"]
    version = desk.data_version()
    history = len(desk.history())

    trial = desk.move_visit(first.id, at("2026-04-07", "11:00"), dry_run=True)
    assert trial.visit.start == at("2026-04-07", "11:00")
    assert {m.key for m in trial.moved} == {f"session-{n}" for n in range(2, 7)} | {"follow-up"}

    assert desk.visit(first.id).start == first.start
    assert desk.visit(first.id).revision == first.revision
    assert (desk.data_version(), len(desk.history())) == (version, history)

    real = desk.move_visit(first.id, at("2026-04-07", "11:00"))
    assert real.visit.start == trial.visit.start
    assert [m.start for m in real.moved] == [m.start for m in trial.moved]


def test_a_dry_run_refuses_what_the_change_refuses(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    first = visits["session-1"]
    outside = at("2026-05-20", "10:00")
    with pytest.raises(InputError) as trial:
        desk.move_visit(first.id, outside, dry_run=True)
    with pytest.raises(InputError) as real:
        desk.move_visit(first.id, outside)
    assert trial.value.message == real.value.message


def test_dry_runs_of_every_change_leave_the_records_alone(desk: Desk) -> None:
    visits = enrolled(desk, "P1", "dextrose-prolotherapy", "2026-04-06")
    first = visits["session-1"]
    version = desk.data_version()
    desk.add_patient("P2", "Synthetic Second", dry_run=True)
    desk.update_patient("P1", phone="010-0000-0000", dry_run=True)
    desk.enroll("P1", "eswt-plantar-fasciitis", dt.date(2026, 4, 6), dry_run=True)
    desk.miss_visit(first.id, dry_run=True)
    desk.cancel_visit(first.id, dry_run=True)
    enrollment = desk.enrollments("P1")[0]
    desk.withdraw(enrollment.id, dry_run=True)
    assert desk.data_version() == version
    assert [p.mrn for p in desk.patients()] == ["P1"]
    assert desk.patient("P1").phone is None
    assert len(desk.enrollments("P1")) == 1
    assert desk.visit(first.id).status == "scheduled"
    assert desk.enrollment(enrollment.id).status == "active"
