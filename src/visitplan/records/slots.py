"""Free times for one visit, as the records know them: the domain's search over the
clinic's bookings, its calendar and the visit's clinician (part of the Desk)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from visitplan.domain.free_times import FreeTime, free_times
from visitplan.records.reading import VISITS, from_utc

if TYPE_CHECKING:
    from visitplan.records.courses import CourseBuilding
    from visitplan.records.desk_base import DeskBase

DEFAULT_COUNT = 5


def free_times_for(
    desk: CourseBuilding,
    c: Connection,
    row: Any,
    clinician_id: int | None,
    count: int = DEFAULT_COUNT,
    around: dt.datetime | None = None,
) -> tuple[FreeTime, ...]:
    """The nearest free start times for the visit ``row`` (a visit query row): its
    window first, nearest its target (or ``around``, a time typed in a form) and its
    own time of day; never in the past, never on or before the day of the visit it is
    measured from. ``clinician_id``: whose hours (the visit's own, or the one it is
    being handed to)."""
    calendar = desk.calendar_for(clinician_id)
    tz = calendar.tz
    booked = from_utc(row.start_at, tz)
    asked = booked if around is None else around.astimezone(tz)

    bookings, theirs = desk.day_bookings(c, clinician_id, exclude_visit=row.id)
    return free_times(
        calendar,
        bookings,
        clinician=theirs,
        duration=row.end_at - row.start_at,
        target=row.target if around is None else asked.date(),
        time=asked.time().replace(second=0, microsecond=0),
        earliest=row.earliest,
        latest=row.latest,
        not_before=desk.now(),
        count=count,
        floor=_floor(desk, c, row),
    )


def _floor(desk: DeskBase, c: Connection, row: Any) -> dt.date | None:
    """The first day the visit may be on: the day after the one it is measured from
    (that day itself for a zero offset); the course start for the first visit."""
    step = desk._snapshots.get(c, row.snapshot_id).steps.get(row.key)
    if step is None:
        return None
    if step.anchor is None:
        start: dt.date = desk._enrollment_row(c, row.enrollment_id).start_date
        return start
    anchor = c.execute(
        select(VISITS.c.start_at).where(
            VISITS.c.enrollment_id == row.enrollment_id, VISITS.c.key == step.anchor
        )
    ).scalar()
    if anchor is None:
        return None
    day = from_utc(anchor, desk.calendar.tz).date()
    return day if step.offset.is_zero() else day + dt.timedelta(days=1)
