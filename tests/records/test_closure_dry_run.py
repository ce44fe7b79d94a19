"""A closure tried out (the month view's check): the same report as the closure
itself, affected visits and rebookings alike, and nothing written or remembered, on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.records.helpers import Clock, at, enrolled
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.errors import InputError
from visitplan.records.clinic_ops import ClinicReport
from visitplan.records.operations import Desk, open_desk


@pytest.fixture
def early(db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog) -> Iterator[Desk]:
    with open_desk(
        db_url, seoul_clinic, catalog, "tester", clock=Clock(at("2026-04-01", "08:00"))
    ) as opened:
        yield opened


def said(report: ClinicReport) -> tuple[object, ...]:
    return (
        [(a.visit.id, a.problem) for a in report.affected],
        [(v.id, v.start, v.reason) for v in report.moved],
        [a.visit.id for a in report.still],
    )


@pytest.mark.parametrize("rebook", [False, True], ids=["report", "rebook"])
def test_a_closure_tried_out_says_what_the_closure_does_and_writes_nothing(
    early: Desk, rebook: bool
) -> None:
    visits = enrolled(early, "P1", "dextrose-prolotherapy", "2026-04-06")
    snow = visits["session-2"].start.date()
    before = [(v.id, v.start, v.revision) for v in early.visits()]
    version, history = early.data_version(), len(early.history())

    trial = early.add_closure(snow, reason="snow day", rebook=rebook, dry_run=True)
    assert [a.visit.id for a in trial.affected] == [visits["session-2"].id]
    assert bool(trial.moved) is rebook
    # Nothing kept: no closure, no visit moved, no audit, and the desk still plans
    # with the day open.
    assert early.closures() == []
    assert [(v.id, v.start, v.revision) for v in early.visits()] == before
    assert (early.data_version(), len(early.history())) == (version, history)
    assert early.calendar.closed_because(snow) is None

    real = early.add_closure(snow, reason="snow day", rebook=rebook)
    assert said(real) == said(trial)
    assert early.calendar.closed_because(snow) == "snow day"


def test_a_closure_tried_out_refuses_what_the_closure_refuses(early: Desk) -> None:
    enrolled(early, "P1", "dextrose-prolotherapy", "2026-04-06")
    with pytest.raises(InputError) as trial:
        early.add_closure(at("2026-04-08", "09:00").date(), reason="", dry_run=True)
    with pytest.raises(InputError) as real:
        early.add_closure(at("2026-04-08", "09:00").date(), reason="")
    assert trial.value.message == real.value.message
    with pytest.raises(InputError, match="unknown clinician"):
        early.add_closure(at("2026-04-08", "09:00").date(), clinician="Dr Nobody", dry_run=True)
    assert early.closures() == []
