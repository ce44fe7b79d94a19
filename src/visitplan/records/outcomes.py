"""What happened at a visit: done, a no-show, and putting a wrong outcome right.

Outcomes happen in real time: a visit is done at a moment that has passed, after its
course started and after the outcome of the visits before it; a no-show is recorded
once the visit's time has passed. A done time outside the window, on a closed day or
outside opening hours goes in as the deviation it is (the label says so).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pendulum
from sqlalchemy import Connection, func, select, update

from visitplan.domain.deviation import days_word
from visitplan.domain.limits import check_when
from visitplan.errors import InputError
from visitplan.records.desk_base import seen_revision
from visitplan.records.reading import AUDIT, PATIENTS, VISITS, from_utc, to_utc
from visitplan.records.rescheduling import cascade, local, require, result
from visitplan.records.views import VisitChange

if TYPE_CHECKING:
    from visitplan.records.courses import CourseBuilding

# A clock a minute ahead of the server's is still "now".
CLOCK_SLACK = dt.timedelta(minutes=1)
# Done without a time: refused once the window ended more than this long ago.
LATE_RECORDING = dt.timedelta(days=1)


def complete(
    desk: CourseBuilding,
    visit_id: int,
    at: dt.datetime | dt.date | None,
    expected: int | None,
    dry_run: bool,
) -> VisitChange:
    with desk.write(dry_run=dry_run) as c:
        row = desk._visit_row(c, visit_id)
        name = desk.visit_name(c, row)
        require(row, ("scheduled", "missed"), "marked done", name)
        seen = seen_revision(name, row.revision, expected)
        tz = desk.calendar.tz
        now = desk.now()
        booked = from_utc(row.start_at, tz)
        actual = _done_at(row, name, at, booked, now, tz)
        _check_done_time(desk, c, row, name, actual, now)
        stamp = desk._stamp()
        duration = row.end_at - row.start_at
        desk.change_visit(
            c,
            row,
            seen,
            {
                "status": "completed",
                "actual_at": to_utc(actual),
                "start_at": to_utc(actual),
                "end_at": to_utc(actual) + duration,
            },
            stamp,
            action="done",
            mrn=row.mrn,
        )
        moved: list[int] = []
        left: list[int] = []
        if actual.date() != booked.date():
            late = (actual.date() - booked.date()).days
            cause = f"done {days_word(abs(late))} {'late' if late > 0 else 'early'}"
            moved, left = cascade(desk, c, row, actual, stamp, cause)
        return result(desk, c, visit_id, moved, left, ())


def _done_at(
    row: Any,
    name: str,
    at: dt.datetime | dt.date | None,
    booked: pendulum.DateTime,
    now: pendulum.DateTime,
    tz: Any,
) -> pendulum.DateTime:
    """When the visit was done: as asked (a date alone: at its booked time that day),
    or without a time, as booked if that has passed (else now)."""
    check_when(at, "done time")
    if isinstance(at, dt.datetime):
        return local(at, tz)
    if isinstance(at, dt.date):
        return pendulum.datetime(at.year, at.month, at.day, booked.hour, booked.minute, tz=tz)
    if now.date() > row.latest + LATE_RECORDING:
        raise InputError(
            f"{name} was due by {row.latest:%a %Y-%m-%d}, more than a day ago: "
            "say when it was done",
            cli_hint="--at 'YYYY-MM-DD HH:MM'",
        )
    return booked if booked <= now else now


def _check_done_time(
    desk: CourseBuilding, c: Connection, row: Any, name: str, actual: pendulum.DateTime, now: Any
) -> None:
    if actual > now + CLOCK_SLACK:
        raise InputError(f"{name}: {actual:%a %Y-%m-%d %H:%M} is in the future")
    enrollment = desk._enrollment_row(c, row.enrollment_id)
    if actual.date() < enrollment.start_date:
        raise InputError(
            f"{name}: {actual:%a %Y-%m-%d %H:%M} is before its course started "
            f"({enrollment.start_date:%a %Y-%m-%d})"
        )
    snapshot = desk._snapshots.get(c, row.snapshot_id)
    order = [step.key for step in snapshot.protocol.steps]
    earlier = order[: order.index(row.key)] if row.key in order else []
    if not earlier:
        return
    last = c.execute(
        select(VISITS.c.key, VISITS.c.actual_at)
        .where(
            VISITS.c.enrollment_id == row.enrollment_id,
            VISITS.c.key.in_(earlier),
            VISITS.c.status == "completed",
        )
        .order_by(VISITS.c.actual_at.desc())
        .limit(1)
    ).first()
    if last is not None and to_utc(actual) < last.actual_at:
        before = from_utc(last.actual_at, desk.calendar.tz)
        raise InputError(
            f"{name}: {actual:%a %Y-%m-%d %H:%M} is before {snapshot.steps[last.key].label} "
            f"was done ({before:%a %Y-%m-%d %H:%M})"
        )


def miss(desk: CourseBuilding, visit_id: int, expected: int | None, dry_run: bool) -> VisitChange:
    with desk.write(dry_run=dry_run) as c:
        row = desk._visit_row(c, visit_id)
        name = desk.visit_name(c, row)
        require(row, ("scheduled",), "marked missed", name)
        booked = from_utc(row.start_at, desk.calendar.tz)
        if booked > desk.now():
            raise InputError(
                f"{name} is booked for {booked:%a %Y-%m-%d %H:%M}: a no-show can be recorded "
                "once that time has passed"
            )
        now = desk._stamp()
        desk.change_visit(
            c,
            row,
            seen_revision(name, row.revision, expected),
            {"status": "missed"},
            now,
            action="missed",
            mrn=row.mrn,
        )
        _count_no_show(c, row.mrn, +1, now)
        return result(desk, c, visit_id, [], [], ())


def reopen(desk: CourseBuilding, visit_id: int, expected: int | None, dry_run: bool) -> VisitChange:
    """Undo a wrong outcome: the visit is owed again, at the time it was booked for
    before it was marked done, and its dependents follow it back."""
    with desk.write(dry_run=dry_run) as c:
        row = desk._visit_row(c, visit_id)
        name = desk.visit_name(c, row)
        require(row, ("completed", "missed", "cancelled"), "reopened", name)
        seen = seen_revision(name, row.revision, expected)
        enrollment = desk._enrollment_row(c, row.enrollment_id)
        if enrollment.status != "active":
            raise InputError(
                f"{name}: its course {enrollment.id} is {enrollment.status}; "
                "reinstate the course first"
            )
        stamp = desk._stamp()
        changes: dict[str, Any] = {"status": "scheduled", "actual_at": None, "cancelled_by": None}
        if row.status == "completed":
            booked = _booked_before_done(c, row)
            if booked is not None:
                changes["start_at"] = booked
                changes["end_at"] = booked + (row.end_at - row.start_at)
        desk.change_visit(c, row, seen, changes, stamp, action="reopened", mrn=row.mrn)
        if row.status == "missed":
            _count_no_show(c, row.mrn, -1, stamp)
        moved: list[int] = []
        left: list[int] = []
        if "start_at" in changes:
            tz = desk.calendar.tz
            old, new = from_utc(row.start_at, tz), from_utc(changes["start_at"], tz)
            if old.date() != new.date():
                moved, left = cascade(desk, c, row, new, stamp, "its outcome was undone")
        return result(desk, c, visit_id, moved, left, ())


def _booked_before_done(c: Connection, row: Any) -> dt.datetime | None:
    """The start (naive UTC) the visit had before its last 'done', from the audit."""
    entry = c.execute(
        select(AUDIT.c.before)
        .where(
            AUDIT.c.entity == "visit",
            AUDIT.c.entity_id == str(row.id),
            AUDIT.c.action == "done",
        )
        .order_by(AUDIT.c.id.desc())
        .limit(1)
    ).scalar()
    before = json.loads(entry) if entry else {}
    if "start_at" not in before:
        return None
    return to_utc(dt.datetime.fromisoformat(before["start_at"]))


def _count_no_show(c: Connection, mrn: str, step: int, now: dt.datetime) -> None:
    c.execute(
        update(PATIENTS)
        .where(PATIENTS.c.mrn == mrn)
        .values(
            no_shows=func.max(PATIENTS.c.no_shows + step, 0)
            if c.dialect.name == "sqlite"
            else func.greatest(PATIENTS.c.no_shows + step, 0),
            revision=PATIENTS.c.revision + 1,
            updated_at=now,
        )
    )
