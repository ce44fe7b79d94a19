"""Visits: reading them by patient, course, clinician and day (part of the Desk;
changing them is in ``operations`` and ``rescheduling``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

import pendulum
from sqlalchemy import Connection

from visitplan.errors import InputError
from visitplan.records import calendar_reads, summaries
from visitplan.records.desk_base import DeskBase
from visitplan.records.reading import ENROLLMENTS, VISITS, to_utc, visit_query, visit_views
from visitplan.records.views import VisitStamp, VisitView


class VisitRecords(DeskBase):
    """Part of the Desk: the visits on record, as the agenda and timelines read them."""

    def visit(self, visit_id: int) -> VisitView:
        with self._read() as c:
            return self._visit(c, visit_id)

    def visit_by_uid(self, uid: str) -> VisitView:
        with self._read() as c:
            rows = c.execute(visit_query().where(VISITS.c.uid == uid)).all()
            if not rows:
                raise InputError(f"unknown visit UID {uid!r}")
            return visit_views(c, rows, self._snapshots, self.calendar.tz)[0]

    def visits(
        self,
        *,
        mrn: str | None = None,
        enrollment_id: int | None = None,
        clinician: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        statuses: Collection[str] | None = None,
    ) -> list[VisitView]:
        """Visits in time order, cancelled ones included unless ``statuses`` says
        otherwise; ``since``/``until`` are local clinic dates, both included."""
        query = visit_query().order_by(VISITS.c.start_at, VISITS.c.id)
        tz = self.calendar.tz
        if since is not None:
            query = query.where(VISITS.c.start_at >= to_utc(_midnight(since, tz)))
        if until is not None:
            query = query.where(VISITS.c.start_at < to_utc(_midnight(until, tz).add(days=1)))
        if clinician is not None:
            query = query.where(VISITS.c.clinician_id == self.state.clinician(clinician).id)
        if statuses is not None:
            query = query.where(VISITS.c.status.in_(tuple(statuses)))
        if enrollment_id is not None:
            query = query.where(VISITS.c.enrollment_id == enrollment_id)
        with self._read() as c:
            if mrn is not None:
                query = query.where(ENROLLMENTS.c.patient_id == self._patient_row(c, mrn).id)
            if enrollment_id is not None:
                self._enrollment_row(c, enrollment_id)
            return visit_views(c, c.execute(query), self._snapshots, tz)

    def agenda(self, day: dt.date, days: int = 1, clinician: str | None = None) -> list[VisitView]:
        """The clinic's visits (not cancelled) from ``day`` for ``days`` days."""
        return self.visits(
            since=day,
            until=day + dt.timedelta(days=days - 1),
            clinician=clinician,
            statuses=("scheduled", "completed", "missed"),
        )

    def visits_per_day(self, first: dt.date, last: dt.date) -> dict[dt.date, int]:
        """Visits not cancelled per local day, both ends included; empty days left out."""
        return summaries.visits_per_day(self, first, last)

    def visit_stamps(
        self, since: dt.date, *, mrn: str | None = None, clinician: str | None = None
    ) -> list[VisitStamp]:
        """``visits(since=...)``'s visits as the few columns that every change moves."""
        return calendar_reads.visit_stamps(self, since, mrn=mrn, clinician=clinician)

    def course_titles(
        self, protocol_ids: Collection[str], mrn: str | None = None
    ) -> dict[str, str]:
        """Each protocol's title as its newest course was planned with (of ``mrn``)."""
        return calendar_reads.course_titles(self, protocol_ids, mrn)

    def last_change(self) -> dt.datetime | None:
        """When the records last changed, as aware UTC (None: never)."""
        return calendar_reads.last_change(self)

    def _visit(self, c: Connection, visit_id: int) -> VisitView:
        return visit_views(c, [self._visit_row(c, visit_id)], self._snapshots, self.calendar.tz)[0]


def _midnight(day: dt.date, tz: Any) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, tz=tz)
