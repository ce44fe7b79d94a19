"""Counts and overviews for screens that show many patients or days at once.

The month grid and the patient list must stay fast on a large clinic, so these
reads ask the database only for what they show: a count per day rather than the
day's visits, one screenful of patients rather than every match, and the bare
columns that progress needs rather than whole visit views.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import pendulum
from sqlalchemy import Connection, bindparam, func, select

from visitplan.records.reading import (
    ENROLLMENTS,
    PATIENTS,
    SNAPSHOTS,
    VISITS,
    from_utc,
    patient_search,
    to_utc,
)
from visitplan.records.views import CourseProgress, PatientMatch

if TYPE_CHECKING:
    from visitplan.records.desk_base import DeskBase


def visits_per_day(desk: DeskBase, first: dt.date, last: dt.date) -> dict[dt.date, int]:
    """Visits not cancelled on each local day from ``first`` to ``last`` (both
    included); days without any are left out."""
    # One indexed count per day: the local day's bounds in UTC differ with the
    # zone's offset, which a single GROUP BY over stored UTC times cannot follow.
    count = (
        select(func.count())
        .select_from(VISITS)
        .where(
            VISITS.c.start_at >= bindparam("since"),
            VISITS.c.start_at < bindparam("until"),
            VISITS.c.status != "cancelled",
        )
    )
    tz = desk.calendar.tz
    counts: dict[dt.date, int] = {}
    with desk._read() as c:
        day = first
        while day <= last:
            since = pendulum.datetime(day.year, day.month, day.day, tz=tz)
            found = c.execute(
                count, {"since": to_utc(since), "until": to_utc(since.add(days=1))}
            ).scalar_one()
            if found:
                counts[day] = int(found)
            day += dt.timedelta(days=1)
    return counts


def patient_count(desk: DeskBase) -> int:
    with desk._read() as c:
        return int(c.execute(select(func.count()).select_from(PATIENTS)).scalar_one())


def find_patients(desk: DeskBase, text: str, limit: int) -> list[PatientMatch]:
    """The first ``limit`` patients by MRN whose MRN or name contains ``text`` (any
    case; "" matches everyone), each with their progress."""
    query = select(PATIENTS.c.mrn, PATIENTS.c.name).order_by(PATIENTS.c.mrn).limit(limit)
    if text:
        query = query.where(patient_search(text))
    with desk._read() as c:
        patients = c.execute(query).all()
        progress = _progress(c, [p.mrn for p in patients], desk.calendar.tz, desk.now())
    return [PatientMatch(p.mrn, p.name, progress.get(p.mrn)) for p in patients]


def course_progress(desk: DeskBase, mrns: Collection[str]) -> dict[str, CourseProgress]:
    """Progress of each given patient who has an active course (others are left out)."""
    with desk._read() as c:
        return _progress(c, mrns, desk.calendar.tz, desk.now())


def _progress(
    c: Connection, mrns: Collection[str], tz: Any, now: dt.datetime
) -> dict[str, CourseProgress]:
    if not mrns:
        return {}
    query = (
        select(
            PATIENTS.c.mrn,
            ENROLLMENTS.c.id.label("enrollment"),
            SNAPSHOTS.c.protocol_id,
            VISITS.c.status,
            VISITS.c.start_at,
            VISITS.c.earliest,
            VISITS.c.latest,
        )
        .select_from(
            VISITS.join(ENROLLMENTS, VISITS.c.enrollment_id == ENROLLMENTS.c.id)
            .join(PATIENTS, ENROLLMENTS.c.patient_id == PATIENTS.c.id)
            .join(SNAPSHOTS, ENROLLMENTS.c.snapshot_id == SNAPSHOTS.c.id)
        )
        .where(PATIENTS.c.mrn.in_(list(mrns)), ENROLLMENTS.c.status == "active")
        .order_by(PATIENTS.c.mrn, ENROLLMENTS.c.id)
    )
    courses: dict[str, dict[int, list[Any]]] = defaultdict(dict)
    for row in c.execute(query):
        courses[row.mrn].setdefault(row.enrollment, []).append(row)
    stored_now = to_utc(now)
    return {mrn: _course_progress(by_course, stored_now, tz) for mrn, by_course in courses.items()}


def _course_progress(
    by_course: dict[int, list[Any]], stored_now: dt.datetime, tz: Any
) -> CourseProgress:
    # The counts and the protocol are the newest course's; attention is owed to all.
    latest = by_course[max(by_course)]
    counted = [r for r in latest if r.status != "cancelled"]
    flags: set[str] = set()
    upcoming: list[dt.datetime] = []
    for rows in by_course.values():
        for r in rows:
            if r.status == "missed":
                flags.add("needs rebooking")
            elif r.status == "scheduled":
                if r.start_at < stored_now:  # both naive UTC, as stored
                    flags.add("overdue")
                else:
                    upcoming.append(r.start_at)
                local_day = r.start_at.replace(tzinfo=dt.UTC).astimezone(tz).date()
                if not r.earliest <= local_day <= r.latest:
                    flags.add("out of window")
    return CourseProgress(
        protocol_id=latest[0].protocol_id,
        done=sum(1 for r in counted if r.status == "completed"),
        total=len(counted),
        next_visit=from_utc(min(upcoming), tz) if upcoming else None,
        flags=tuple(sorted(flags)),
    )
