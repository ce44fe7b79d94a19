"""An enrollment's check (a dry run) and the preview may plan with the bookings the
last check read of the same days, but only while the records are unchanged: what
another workstation books meanwhile, or a change on this one, is planned around at
once, and the check's plan is always the one a fresh enrollment would store."""

from __future__ import annotations

import datetime as dt

import pytest

from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.records.operations import Desk, open_desk

START = dt.date(2027, 3, 8)  # a Monday
TEN = dt.time(10, 0)


def _starts(desk: Desk, mrn: str, time: dt.time = TEN) -> list[dt.datetime]:
    detail = desk.enroll(
        mrn, "dextrose-prolotherapy", START, time, "Dr Kim", another=True, dry_run=True
    )
    assert detail.plan is not None
    planned = [v.start for v in detail.plan.visits]
    assert planned == sorted(v.start for v in detail.visits)  # the plan is what it stored
    return planned


@pytest.fixture
def two(db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog) -> tuple[Desk, Desk]:
    here = open_desk(db_url, seoul_clinic, catalog, "desk-one")
    here.add_clinician("Dr Kim")
    for mrn in ("P1", "P2", "P3"):
        here.add_patient(mrn, f"Synthetic {mrn}")
    there = open_desk(db_url, seoul_clinic, catalog, "desk-two")
    return here, there


def test_a_booking_made_elsewhere_is_planned_around_at_once(two: tuple[Desk, Desk]) -> None:
    here, there = two
    try:
        first = _starts(here, "P1")
        assert [s.time() for s in first[:6]] == [TEN] * 6
        assert _starts(here, "P1") == first  # the same days again: the same plan
        # Another workstation gives Dr Kim's 10:00 to another patient.
        there.enroll("P2", "dextrose-prolotherapy", START, TEN, "Dr Kim")
        moved = _starts(here, "P1")
        assert moved != first
        assert all(s.time() != TEN for s in moved[:6])
        # As a desk that never checked plans it.
        assert _starts(there, "P1") == moved
        # The enrollment kept is the one checked.
        kept = here.enroll("P1", "dextrose-prolotherapy", START, TEN, "Dr Kim")
        assert [v.start for v in kept.visits] == moved
    finally:
        there.close()
        here.close()


def test_a_change_on_this_desk_is_planned_around_at_once(two: tuple[Desk, Desk]) -> None:
    here, there = two
    try:
        first = _starts(here, "P1")
        here.enroll("P3", "dextrose-prolotherapy", START, TEN, "Dr Kim")
        assert all(s.time() != TEN for s in _starts(here, "P1")[:6])
        # And freed again: P3's first visit cancelled, its time is P1's once more.
        (taken,) = [v for v in here.visits(mrn="P3") if v.start == first[0]]
        here.cancel_visit(taken.id)
        assert _starts(here, "P1")[0] == first[0]
    finally:
        there.close()
        here.close()
