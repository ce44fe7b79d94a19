"""The worklist judges each open visit from a few columns and reads whole only those
that need someone: it must list what judging every whole visit lists, in the same
order, including a visit whose UTC date is not its clinic date. On SQLite and
PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from tests.records.helpers import Clock, enrolled
from tests.support.clinics import NEW_YORK_CLINIC
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import parse_clinic
from visitplan.domain.deviation import clinic_problem
from visitplan.records import worklist as worklist_module
from visitplan.records.operations import Desk, open_desk
from visitplan.records.reading import ENROLLMENTS, VISITS, visit_query, visit_views
from visitplan.records.worklist import WorkItem

NEW_YORK = ZoneInfo("America/New_York")
# Open into the evening, so that a visit within hours falls on the next UTC day.
LATE_CLINIC = "capacity = 4\n" + NEW_YORK_CLINIC.replace("08:00-17:00", "08:00-22:00")


def ny(day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=NEW_YORK)


@pytest.fixture
def clock() -> Clock:
    return Clock(ny("2026-04-01", "09:00"))


@pytest.fixture
def late_desk(db_url: str, catalog: ProtocolCatalog, clock: Clock) -> Iterator[Desk]:
    clinic = parse_clinic(LATE_CLINIC, "late.toml")
    with open_desk(db_url, clinic, catalog, "tester", clock=clock) as desk:
        yield desk


def _every_view_judged(desk: Desk) -> list[tuple[str, int]]:
    """The worklist as it was computed before: every open visit read whole, then judged."""
    now = desk.now()
    query = (
        visit_query()
        .where(VISITS.c.status.in_(("scheduled", "missed")), ENROLLMENTS.c.status == "active")
        .order_by(VISITS.c.start_at, VISITS.c.id)
    )
    with desk._read() as c:
        views = visit_views(c, c.execute(query), desk._snapshots, desk.calendar.tz)
    found = []
    for view in views:
        problem = clinic_problem(desk.calendar_for(view.clinician_id), view.start, view.end)
        if view.status == "missed":
            found.append(("owed", view.id))
        elif view.start < now:
            found.append(("overdue", view.id))
        elif problem is not None:
            found.append((problem[0], view.id))
        elif not view.in_window:
            found.append(("pinned-far" if view.pinned else "out-of-window", view.id))
    return found


def _count_views(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of every visit the worklist reads whole from now on."""
    built: list[int] = []
    views = worklist_module.visit_views

    def counting(*args: object, **kwargs: object) -> object:
        made = views(*args, **kwargs)  # type: ignore[arg-type]
        built.extend(v.id for v in made)
        return made

    monkeypatch.setattr(worklist_module, "visit_views", counting)
    return built


def _listed(items: list[WorkItem]) -> list[tuple[str, int]]:
    return [(item.reason, item.visit.id) for item in items]


def test_the_worklist_lists_what_judging_every_visit_lists(
    late_desk: Desk, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = late_desk
    past = enrolled(desk, "W1", "dextrose-prolotherapy", "2026-04-06", "09:00")
    evening = enrolled(desk, "W2", "dextrose-prolotherapy", "2026-04-06", "20:30")
    pinned = enrolled(desk, "W3", "dextrose-prolotherapy", "2026-04-07", "10:00")
    closed = enrolled(desk, "W4", "dextrose-prolotherapy", "2026-04-08", "11:00")
    gone = enrolled(desk, "W5", "dextrose-prolotherapy", "2026-04-06", "12:00")
    # Session 3 of W2 on the last day of its window, at 21:00 New York: 01:00 UTC the
    # next day, which is past the window in UTC but not where the clinic is.
    third = evening["session-3"]
    desk.move_visit(third.id, dt.datetime.combine(third.latest, dt.time(21, 0)))
    desk.move_visit(pinned["session-4"].id, pinned["session-4"].latest + dt.timedelta(days=5),
                    force=True)  # fmt: skip
    desk.add_closure(closed["session-5"].start.date(), reason="burst pipe")
    desk.withdraw(gone["session-1"].enrollment_id)
    clock.now = ny("2026-04-21", "10:00")
    desk.miss_visit(past["session-1"].id)

    # Building a view of a visit that needs no one would show here.
    built = _count_views(monkeypatch)
    items = desk.worklist()
    monkeypatch.undo()

    assert _listed(items) == _every_view_judged(desk)
    reasons = {(i.visit.mrn, i.visit.key): i.reason for i in items}
    assert reasons[("W1", "session-1")] == "owed"
    assert reasons[("W1", "session-2")] == "overdue"
    assert reasons[("W3", "session-4")] == "pinned-far"
    assert reasons[("W4", "session-5")] == "closed-day"
    assert ("W2", "session-3") not in reasons
    assert not any(mrn == "W5" for mrn, _ in reasons)
    assert sorted(built) == sorted(i.visit.id for i in items)


def test_the_head_is_the_worklist_cut_and_counts_it_whole(
    late_desk: Desk, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = late_desk
    for n in range(3):
        enrolled(desk, f"H{n}", "dextrose-prolotherapy", "2026-04-06", f"{9 + n:02d}:00")
    clock.now = ny("2026-06-01", "10:00")  # most sessions of each are overdue
    whole = desk.worklist()
    assert len(whole) > 8
    built = _count_views(monkeypatch)
    head = desk.worklist_head(4)
    assert head.items == whole[:4]
    assert head.total == len(whole)
    assert sorted(built) == sorted(i.visit.id for i in whole[:4])
