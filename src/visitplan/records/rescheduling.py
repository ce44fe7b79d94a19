"""Moving and cancelling visits, and the cascade that carries dependents along.

The cascade is the protocol's: when a visit happens on another day than planned
(done late or early, moved), the engine plans the course again from its stored
snapshot with every visit pinned except the changed visit's dependents that are
still open and were not placed by hand. A visit anchored on the course start never
moves because an earlier visit was late; a visit staff placed by hand stays where
they put it, and the change says how far it now is from its new target.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pendulum
from sqlalchemy import Connection, select

from visitplan.domain.deviation import days_word
from visitplan.domain.engine import dependents, plan
from visitplan.domain.limits import check_when
from visitplan.domain.protocol import Offset, Protocol, Window
from visitplan.errors import InputError, NeedsOverride
from visitplan.records.desk_base import seen_revision
from visitplan.records.reading import VISITS, from_utc, to_utc, visit_query, visit_views
from visitplan.records.views import SETTLED, VisitChange, VisitView

# `move_visit(..., to=FIRST_FREE)`: the first free time the visit can have.
FIRST_FREE = "first"

if TYPE_CHECKING:
    from visitplan.records.courses import CourseBuilding


def move(
    desk: CourseBuilding,
    visit_id: int,
    to: dt.datetime | dt.date | str | None,
    force: bool,
    expected: int | None,
    dry_run: bool,
    clinician: str | None = None,
) -> VisitChange:
    with desk.write(dry_run=dry_run) as c:
        row = desk._visit_row(c, visit_id)
        name = desk.visit_name(c, row)
        require(row, ("scheduled", "missed"), "moved", name)
        seen = seen_revision(name, row.revision, expected)
        # Handed to another clinician, it is booked on their days and hours.
        clinician_id = desk.state.clinician(clinician).id if clinician else row.clinician_id
        calendar = desk.calendar_for(clinician_id)
        tz = calendar.tz
        duration = row.end_at - row.start_at
        if to == FIRST_FREE:
            asked = _first_free(desk, c, row, name, clinician_id)
        else:
            asked = _asked(to, row, tz)
        day = asked.date()
        problems = []
        if not row.earliest <= day <= row.latest:
            problems.append(f"{day:%a %Y-%m-%d} is outside its window {_window(row)}")
        closed = calendar.closed_because(day)
        if closed:
            problems.append(f"the clinic is closed on {day:%a %Y-%m-%d} ({closed})")
        # A no-show booked again after its window is owed all the same: it goes in as
        # the deviation it is, with the no-show as its reason.
        rebooking = row.status == "missed"
        refusing = [p for p in problems if not (rebooking and "outside its window" in p)]
        if refusing and not force:
            raise NeedsOverride(
                f"{name} cannot move to {asked:%a %Y-%m-%d %H:%M}: " + "; ".join(refusing),
                override="force",
                consequence="books it anyway, as a deviation",
            )
        warnings: tuple[str, ...] = ()
        if closed:
            begin, reason = asked, None
        else:
            begin, reason, warnings = _place(desk, c, row, asked, duration, clinician_id)
        if rebooking:
            missed_on = from_utc(row.start_at, tz)
            reason = "; ".join(
                r for r in (f"rebooked after the no-show of {missed_on:%a %Y-%m-%d}", reason) if r
            )
        now = desk._stamp()
        changes: dict[str, Any] = {
            "status": "scheduled",
            "start_at": to_utc(begin),
            "end_at": to_utc(begin) + duration,
            "reason": reason,
            "warnings": json.dumps(list(warnings), ensure_ascii=False),
            "pinned": True,
            "clinician_id": clinician_id,
        }
        desk.change_visit(c, row, seen, changes, now, action="moved", mrn=row.mrn)
        old = from_utc(row.start_at, tz)
        cause = f"moved {_shift(old.date(), begin.date())}"
        moved: list[int] = []
        left: list[int] = []
        if begin.date() != old.date():
            moved, left = cascade(desk, c, row, begin, now, cause)
        return result(desk, c, visit_id, moved, left, warnings)


def cancel(desk: CourseBuilding, visit_id: int, expected: int | None, dry_run: bool) -> VisitChange:
    with desk.write(dry_run=dry_run) as c:
        row = desk._visit_row(c, visit_id)
        name = desk.visit_name(c, row)
        require(row, ("scheduled", "missed"), "cancelled", name)
        desk.change_visit(
            c,
            row,
            seen_revision(name, row.revision, expected),
            {"status": "cancelled", "cancelled_by": "staff"},
            desk._stamp(),
            action="cancelled",
            mrn=row.mrn,
        )
        return result(desk, c, visit_id, [], [], ())


def require(row: Any, allowed: tuple[str, ...], what: str, name: str) -> None:
    if row.status not in allowed:
        words = ", ".join(allowed[:-1]) + " or " + allowed[-1] if len(allowed) > 1 else allowed[0]
        raise InputError(f"{name} is {row.status}; only a {words} visit can be {what}")


def local(moment: dt.datetime, tz: Any) -> pendulum.DateTime:
    """A moment in the clinic's zone (a naive one is read as clinic time)."""
    if moment.tzinfo is None:
        return pendulum.instance(moment, tz=tz)
    return pendulum.instance(moment).in_timezone(tz)


def _asked(to: dt.datetime | dt.date | str | None, row: Any, tz: Any) -> pendulum.DateTime:
    """The asked moment; a date alone means the visit's own time on that day, and
    nothing at all where it is (a visit handed to another clinician as it stands)."""
    if to is None:
        return from_utc(row.start_at, tz)

    check_when(to, "visit time")
    if isinstance(to, dt.datetime):
        return local(to, tz)
    if isinstance(to, dt.date):
        own = from_utc(row.start_at, tz)
        return pendulum.datetime(to.year, to.month, to.day, own.hour, own.minute, tz=tz)
    raise InputError(f"{to!r} is not a time to move a visit to")


def _first_free(
    desk: CourseBuilding, c: Connection, row: Any, name: str, clinician_id: int | None
) -> pendulum.DateTime:
    from visitplan.records.slots import free_times_for

    found = free_times_for(desk, c, row, clinician_id, 1)
    if not found:
        raise InputError(f"{name}: no free time within a year of its target")
    return found[0].start


def _window(row: Any) -> str:
    return f"{row.earliest:%a %Y-%m-%d} to {row.latest:%a %Y-%m-%d}"


def _shift(old: dt.date, new: dt.date) -> str:
    days = (new - old).days
    if days == 0:
        return "on the same day"
    return f"{days_word(abs(days))} {'later' if days > 0 else 'earlier'}"


def _place(
    desk: CourseBuilding,
    c: Connection,
    row: Any,
    asked: pendulum.DateTime,
    duration: dt.timedelta,
    clinician_id: int | None,
) -> tuple[pendulum.DateTime, str | None, tuple[str, ...]]:
    """The engine's choice of time on the asked day: the asked time if the clinic
    has room, else the nearest free start within opening hours, else a warning."""
    snapshot = desk._snapshots.get(c, row.snapshot_id)
    definition = dataclasses.replace(
        snapshot.steps[row.key].definition,
        anchor="start",
        offset=Offset(),
        repeat=None,
        window=Window(),
    )
    single = Protocol(title=snapshot.title, version=snapshot.version, visits=(definition,))
    day = asked.date()
    bookings, theirs = desk.booked(c, {day}, clinician_id, exclude_visit=row.id)
    calendar = desk.calendar_for(clinician_id)
    placed = plan(single, calendar, day, asked.time(), bookings=bookings, clinician=theirs).visits[
        0
    ]
    return placed.start, placed.reason, placed.warnings


def place_again(desk: CourseBuilding, c: Connection, row: Any) -> tuple[dict[str, Any], str] | None:
    """A visit coming back (a reinstated course's) at its old time, if the clinic
    still has room then; else the changes that put it at the nearest free time that
    day, and what happened in words."""
    booked = from_utc(row.start_at, desk.calendar.tz)
    duration = row.end_at - row.start_at
    begin, reason, warnings = _place(desk, c, row, booked, duration, row.clinician_id)
    if begin == booked and not warnings:
        return None
    changes = {
        "start_at": to_utc(begin),
        "end_at": to_utc(begin) + duration,
        "reason": reason,
        "warnings": json.dumps(list(warnings), ensure_ascii=False),
    }
    return changes, "; ".join(x for x in (reason, *warnings) if x)


def rebook(
    desk: CourseBuilding, c: Connection, row: Any, cause: str, now: dt.datetime
) -> list[int]:
    """Book an open visit again where the clinic can take it: the first free time the
    engine offers (its window first, nearest its target and its time), its dependents
    carried along. The ids it moved, the visit first; none when nothing is free."""
    from visitplan.records.slots import free_times_for

    found = free_times_for(desk, c, row, row.clinician_id, 1)
    if not found:
        return []
    begin = found[0].start
    duration = row.end_at - row.start_at
    changes = {
        "start_at": to_utc(begin),
        "end_at": to_utc(begin) + duration,
        "reason": cause,
        "warnings": "[]",
        "pinned": False,
    }
    desk.change_visit(c, row, row.revision, changes, now, action="rebooked", mrn=row.mrn)
    moved = [row.id]
    if begin.date() != from_utc(row.start_at, desk.calendar.tz).date():
        moved += cascade(desk, c, row, begin, now, cause)[0]
    return moved


def cascade(
    desk: CourseBuilding,
    c: Connection,
    changed: Any,
    new_start: pendulum.DateTime,
    now: dt.datetime,
    cause: str,
) -> tuple[list[int], list[int]]:
    """Plan the changed visit's open dependents again.

    Returns the ids of the visits it moved, and of the visits placed by hand that it
    left where they are (their target and window follow their anchor; their time
    does not). ``cause`` says what happened to the changed visit ("done 3 days late").
    """
    snapshot = desk._snapshots.get(c, changed.snapshot_id)
    course = c.execute(select(VISITS).where(VISITS.c.enrollment_id == changed.enrollment_id)).all()
    follow = dependents(snapshot.protocol, changed.key)
    tz = desk.calendar.tz
    pinned: dict[str, dt.datetime] = {changed.key: new_start}
    for row in course:
        if row.key != changed.key and (
            row.key not in follow or row.status in SETTLED or row.pinned
        ):
            pinned[row.key] = from_utc(row.start_at, tz)
    enrollment = desk._enrollment_row(c, changed.enrollment_id)
    planned = desk.plan_course(
        c,
        snapshot.protocol,
        enrollment.start_date,
        dt.time.fromisoformat(enrollment.visit_time),
        pinned=pinned,
        exclude_enrollment=changed.enrollment_id,
        clinician_id=enrollment.clinician_id,
    ).by_key()
    label = snapshot.steps[changed.key].label
    moved: list[int] = []
    left: list[int] = []
    for row in course:
        if row.key not in follow or row.status in SETTLED:
            continue
        v = planned[row.key]
        window = {"target": v.target, "earliest": v.earliest, "latest": v.latest}
        if row.pinned:
            changes: dict[str, Any] = window
        else:
            why = "; ".join(r for r in (f"moved with {label}: {cause}", v.reason) if r)
            changes = {
                **window,
                "start_at": to_utc(v.start),
                "end_at": to_utc(v.end),
                "reason": why,
                "warnings": json.dumps(list(v.warnings), ensure_ascii=False),
                "pinned": False,
            }
        changes = {k: value for k, value in changes.items() if getattr(row, k) != value}
        if not any(k in changes for k in ("target", "start_at")):
            continue
        desk.change_visit(c, row, row.revision, changes, now, action="rescheduled", mrn=changed.mrn)
        (left if row.pinned else moved).append(row.id)
    return moved, left


def result(
    desk: CourseBuilding,
    c: Connection,
    visit_id: int,
    moved: list[int],
    left: list[int],
    warnings: tuple[str, ...],
) -> VisitChange:
    rows = c.execute(
        visit_query().where(VISITS.c.id.in_([visit_id, *moved, *left])).order_by(VISITS.c.start_at)
    ).all()
    views = {v.id: v for v in visit_views(c, rows, desk._snapshots, desk.calendar.tz)}

    def in_time_order(ids: list[int]) -> tuple[VisitView, ...]:
        return tuple(sorted((views[i] for i in ids), key=lambda v: (v.start, v.id)))

    return VisitChange(views[visit_id], in_time_order(moved), warnings, in_time_order(left))
