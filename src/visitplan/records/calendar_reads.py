"""What feeds and CalDAV publishing read besides whole visit views.

Publishing again must cost little when little changed, and a feed is rebuilt on
every change, so these ask for bare columns: a stamp per visit, the course titles,
and the time of the last change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING

import pendulum
from sqlalchemy import func, select

from visitplan.records.reading import (
    AUDIT,
    ENROLLMENTS,
    PATIENTS,
    SNAPSHOTS,
    VISITS,
    enrollment_query,
    mrn_matches,
    to_utc,
)
from visitplan.records.views import VisitStamp

if TYPE_CHECKING:
    from visitplan.records.desk_base import DeskBase


def course_titles(
    desk: DeskBase, protocol_ids: Collection[str], mrn: str | None = None
) -> dict[str, str]:
    """Each protocol's title as its newest course (by start) was planned with, among
    every patient's courses or ``mrn``'s: ``exporting.course_titles`` without building
    every enrollment's view (a third of a re-publish's time otherwise)."""
    if not protocol_ids:
        return {}
    query = (
        enrollment_query()
        .with_only_columns(SNAPSHOTS.c.protocol_id, SNAPSHOTS.c.title)
        .where(SNAPSHOTS.c.protocol_id.in_(protocol_ids))
        .order_by(ENROLLMENTS.c.start_date, ENROLLMENTS.c.id)
    )
    if mrn is not None:
        query = query.where(mrn_matches(mrn))
    with desk._read() as c:
        return {row.protocol_id: row.title for row in c.execute(query)}


def last_change(desk: DeskBase) -> dt.datetime | None:
    """When the records last changed (the newest audit entry), as aware UTC."""
    with desk._read() as c:
        stored = c.execute(select(func.max(AUDIT.c.at))).scalar_one()
    return None if stored is None else stored.replace(tzinfo=dt.UTC)


def visit_stamps(
    desk: DeskBase, since: dt.date, *, mrn: str | None = None, clinician: str | None = None
) -> list[VisitStamp]:
    """The visits ``Desk.visits(since=..., mrn=..., clinician=...)`` would give, in the
    same order, as stamps. An unknown MRN is an error, as there."""
    midnight = pendulum.datetime(since.year, since.month, since.day, tz=desk.calendar.tz)
    query = (
        select(
            VISITS.c.uid,
            VISITS.c.sequence,
            VISITS.c.revision,
            VISITS.c.updated_at,
            ENROLLMENTS.c.snapshot_id,
            SNAPSHOTS.c.protocol_id,
            PATIENTS.c.mrn,
            PATIENTS.c.revision.label("patient_revision"),
            PATIENTS.c.updated_at.label("patient_updated_at"),
        )
        .select_from(
            VISITS.join(ENROLLMENTS, VISITS.c.enrollment_id == ENROLLMENTS.c.id)
            .join(PATIENTS, ENROLLMENTS.c.patient_id == PATIENTS.c.id)
            .join(SNAPSHOTS, ENROLLMENTS.c.snapshot_id == SNAPSHOTS.c.id)
        )
        .where(VISITS.c.start_at >= to_utc(midnight))
        .order_by(VISITS.c.start_at, VISITS.c.id)
    )
    if clinician is not None:
        query = query.where(VISITS.c.clinician_id == desk.state.clinician(clinician).id)
    with desk._read() as c:
        if mrn is not None:
            query = query.where(PATIENTS.c.id == desk._patient_row(c, mrn).id)
        return [VisitStamp(**row._mapping) for row in c.execute(query)]
