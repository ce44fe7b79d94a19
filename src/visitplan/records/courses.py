"""Building a course: the protocol snapshot, the plan against the clinic's
bookings, and the rows that keep it. Shared by enrolling, re-planning and importing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import pendulum
from sqlalchemy import Connection, and_, insert, or_, select
from sqlalchemy.exc import IntegrityError

from visitplan.catalog import ProtocolFile
from visitplan.domain.deviation import deviation
from visitplan.domain.diary import UTC, FiledBooking, Source
from visitplan.domain.engine import Booking, ClinicianBookings, Plan, plan
from visitplan.records.desk_base import DeskBase, audit_version
from visitplan.records.reading import ENROLLMENTS, SNAPSHOTS, VISITS, to_utc


class CourseBuilding(DeskBase):
    """Part of the Desk: what every way of creating or re-planning a course needs."""

    def snapshot_id(self, c: Connection, entry: ProtocolFile) -> int:
        """The stored copy of this exact protocol text, made on first use."""
        digest = hashlib.sha256(entry.text.encode("utf-8")).hexdigest()
        where = and_(SNAPSHOTS.c.protocol_id == entry.id, SNAPSHOTS.c.sha256 == digest)
        found = c.execute(select(SNAPSHOTS.c.id).where(where)).scalar()
        if found is not None:
            return int(found)
        try:
            with c.begin_nested():
                c.execute(
                    insert(SNAPSHOTS),
                    [
                        {
                            "protocol_id": entry.id,
                            "version": entry.protocol.version,
                            "title": entry.protocol.title,
                            "sha256": digest,
                            "text": entry.text,
                        }
                    ],
                )
        except IntegrityError:
            pass  # another workstation stored the same text a moment ago
        return int(c.execute(select(SNAPSHOTS.c.id).where(where)).scalar_one())

    def plan_course(
        self,
        c: Connection,
        protocol: Any,
        start: dt.date,
        time: dt.time,
        pinned: Mapping[str, dt.datetime] | None = None,
        exclude_enrollment: int | None = None,
        clinician_id: int | None = None,
        *,
        unwritten: bool = False,
    ) -> Plan:
        """The engine's plan against the clinic's other bookings, on the days and hours
        the course's clinician works.

        The engine chooses days from the calendar alone, and only times from the
        bookings; so a first plan tells which days' bookings the real one needs.
        ``unwritten``: nothing in this transaction has changed a visit yet, so the
        bookings of the same days read at the same data version may serve again (a
        form's check, as its person types the time, asks for the same week's).
        """
        calendar = self.calendar_for(clinician_id)
        rough = plan(protocol, calendar, start, time, pinned=pinned)
        days = {v.start.date() for v in rough.visits}
        bookings, theirs = self.booked(
            c, days, clinician_id, exclude_enrollment=exclude_enrollment, reuse=unwritten
        )
        return plan(
            protocol, calendar, start, time, pinned=pinned, bookings=bookings, clinician=theirs
        )

    def bookings(
        self,
        c: Connection,
        days: Collection[dt.date],
        *,
        exclude_enrollment: int | None = None,
        exclude_visit: int | None = None,
    ) -> list[Booking]:
        """Visits that take clinic time (scheduled or completed) on the given local days."""
        return [b for b, _ in self._booked_rows(c, days, exclude_enrollment, exclude_visit)]

    def booked(
        self,
        c: Connection,
        days: Collection[dt.date],
        clinician_id: int | None,
        *,
        exclude_enrollment: int | None = None,
        exclude_visit: int | None = None,
        reuse: bool = False,
    ) -> tuple[list[Booking], ClinicianBookings | None]:
        """The clinic's bookings on the given local days, and the clinician's among
        them (every course and patient of theirs) with their calendar and capacity.

        Read inside the write transaction that stores the plan, under the records'
        one-writer lock: two workstations cannot both take a clinician's last time.
        ``reuse``: the same read at the same data version may serve (see plan_course).
        """
        if reuse:
            rows = self._booked_rows_again(c, days, exclude_enrollment, exclude_visit)
        else:
            rows = self._booked_rows(c, days, exclude_enrollment, exclude_visit)
        bookings = [b for b, _ in rows]
        if clinician_id is None:
            return bookings, None
        theirs = [b for b, who in rows if who == clinician_id]
        return bookings, self.clinician_bookings(clinician_id, theirs)

    def clinician_bookings(self, clinician_id: int, bookings: Source) -> ClinicianBookings:
        """A clinician as the engine plans with them, their bookings given."""
        spec = self.state.by_id(clinician_id).spec
        return ClinicianBookings(spec, self.calendar_for(clinician_id), bookings)

    def day_bookings(
        self, c: Connection, clinician_id: int | None, *, exclude_visit: int | None = None
    ) -> tuple[Callable[[dt.date], list[Booking]], ClinicianBookings | None]:
        """The clinic's and the clinician's bookings as functions of one local day, for
        a search that reads only the days it looks at (each day read once)."""
        read: dict[dt.date, list[tuple[Booking, int | None]]] = {}

        def rows(day: dt.date) -> list[tuple[Booking, int | None]]:
            found = read.get(day)
            if found is None:
                found = read[day] = self._booked_rows(c, {day}, None, exclude_visit)
            return found

        def clinic(day: dt.date) -> list[Booking]:
            return [b for b, _ in rows(day)]

        def theirs(day: dt.date) -> list[Booking]:
            return [b for b, who in rows(day) if who == clinician_id]

        if clinician_id is None:
            return clinic, None
        return clinic, self.clinician_bookings(clinician_id, theirs)

    def _booked_rows_again(
        self,
        c: Connection,
        days: Collection[dt.date],
        exclude_enrollment: int | None,
        exclude_visit: int | None,
    ) -> Sequence[tuple[Booking, int | None]]:
        """``_booked_rows``, or what it gave at this data version: every change to a
        visit writes the audit in its transaction, so an equal last audit id (read in
        this transaction) means the same rows."""
        version = audit_version(c)
        key = (frozenset(days), exclude_enrollment, exclude_visit, self.calendar.zone.key)
        found: Sequence[tuple[Booking, int | None]] | None = self.bookings_read.get(key, version)
        if found is None:
            found = tuple(self._booked_rows(c, days, exclude_enrollment, exclude_visit))
            self.bookings_read.put(key, version, found)
        return found

    def _booked_rows(
        self,
        c: Connection,
        days: Collection[dt.date],
        exclude_enrollment: int | None,
        exclude_visit: int | None,
    ) -> list[tuple[Booking, int | None]]:
        if not days:
            return []
        tz = self.calendar.tz
        ranges = []
        for day in days:
            begin = pendulum.datetime(day.year, day.month, day.day, tz=tz)
            ranges.append(
                and_(
                    VISITS.c.start_at >= to_utc(begin),
                    VISITS.c.start_at < to_utc(begin.add(days=1)),
                )
            )
        query = select(VISITS.c.start_at, VISITS.c.end_at, VISITS.c.clinician_id).where(
            VISITS.c.status.in_(("scheduled", "completed")), or_(*ranges)
        )
        if exclude_enrollment is not None:
            query = query.where(VISITS.c.enrollment_id != exclude_enrollment)
        if exclude_visit is not None:
            query = query.where(VISITS.c.id != exclude_visit)
        # Filed here, from the stored UTC: the diary needs only instants and local
        # days, and a busy week's thousands of bookings as pendulum DateTimes cost
        # more than the plan they are read for. (All rows at once: row by row,
        # SQLAlchemy asks the driver for each.)
        zone, file = self.calendar.zone, FiledBooking.of
        return [
            (file(start.replace(tzinfo=UTC), end.replace(tzinfo=UTC), zone), who)
            for start, end, who in c.execute(query).all()
        ]

    def insert_course(
        self,
        c: Connection,
        patient_id: int,
        snapshot_id: int,
        start: dt.date,
        time: dt.time,
        clinician_id: int | None,
        result: Plan,
        now: dt.datetime,
        done_through: dt.date | None = None,
    ) -> int:
        enrollment_id = int(
            c.execute(
                insert(ENROLLMENTS).returning(ENROLLMENTS.c.id),
                [
                    {
                        "patient_id": patient_id,
                        "snapshot_id": snapshot_id,
                        "start_date": start,
                        "visit_time": f"{time:%H:%M}",
                        "clinician_id": clinician_id,
                        "status": "active",
                        "revision": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
            ).scalar_one()
        )
        c.execute(
            insert(VISITS),
            self.visit_rows(enrollment_id, result, now, done_through, clinician_id),
        )
        return enrollment_id

    def visit_rows(
        self,
        enrollment_id: int,
        result: Plan,
        now: dt.datetime,
        done_through: dt.date | None = None,
        clinician_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """The visits of a new course; up to ``done_through``, done at their planned time."""
        from uuid import uuid4

        calendar = self.calendar_for(clinician_id)
        rows = []
        for v in result.visits:
            done = done_through is not None and v.start.date() <= done_through
            rows.append(
                {
                    "uid": f"{uuid4()}@{self.clinic.uid_domain}",
                    "enrollment_id": enrollment_id,
                    "key": v.key,
                    "status": "completed" if done else "scheduled",
                    "target": v.target,
                    "earliest": v.earliest,
                    "latest": v.latest,
                    "start_at": to_utc(v.start),
                    "end_at": to_utc(v.end),
                    "actual_at": to_utc(v.start) if done else None,
                    "revision": 1,
                    "sequence": 0,
                    "reason": v.reason,
                    "warnings": json.dumps(list(v.warnings), ensure_ascii=False)
                    if v.warnings
                    else "[]",
                    "deviation": deviation(calendar, v.start, v.end, v.earliest, v.latest),
                    "updated_at": now,
                    "pinned": False,
                    "cancelled_by": None,
                    "clinician_id": clinician_id,
                }
            )
        return rows
