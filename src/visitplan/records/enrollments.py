"""Enrollments: putting a patient on a protocol's course, and ending it (part of the
Desk)."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import Connection, select, update

from visitplan.domain.engine import Plan
from visitplan.errors import InputError
from visitplan.records import audit, outbox
from visitplan.records.courses import CourseBuilding
from visitplan.records.desk_base import STALE, DeskBase
from visitplan.records.reading import (
    ENROLLMENTS,
    VISITS,
    enrollment_query,
    enrollment_view,
    visit_query,
    visit_views,
)
from visitplan.records.views import EnrollmentDetail, EnrollmentView

DEFAULT_TIME = dt.time(9, 0)


class EnrollmentRecords(DeskBase, CourseBuilding):
    """Part of the Desk: each patient's courses."""

    def preview_enrollment(
        self, mrn: str | None, protocol_id: str, start: dt.date, time: dt.time = DEFAULT_TIME
    ) -> Plan:
        """The plan `enroll` would store now (the clinic's bookings and capacity
        honoured), without writing anything."""
        entry = self.catalog.get(protocol_id)
        with self._read() as c:
            if mrn is not None:
                self._patient_row(c, mrn)
            return self.plan_course(c, entry.protocol, start, time)

    def enroll(
        self,
        mrn: str,
        protocol_id: str,
        start: dt.date,
        time: dt.time = DEFAULT_TIME,
        clinician: str | None = None,
        *,
        dry_run: bool = False,
    ) -> EnrollmentDetail:
        """Plan the course against the calendar and the bookings, and keep it."""
        entry = self.catalog.get(protocol_id)
        clinician = (clinician or "").strip() or None
        with self.write(dry_run=dry_run) as c:
            patient = self._patient_row(c, mrn)
            snapshot_id = self.snapshot_id(c, entry)
            result = self.plan_course(c, entry.protocol, start, time)
            now = self._stamp()
            enrollment_id = self.insert_course(
                c, patient.id, snapshot_id, start, time, clinician, result, now
            )
            audit.record(
                c,
                at=now,
                who=self.user,
                action="enrolled",
                entity="enrollment",
                entity_id=enrollment_id,
                mrn=mrn,
                after={
                    "protocol": entry.id,
                    "version": entry.protocol.version,
                    "start": start,
                    "time": f"{time:%H:%M}",
                    "clinician": clinician,
                    "visits": len(result.visits),
                },
            )
            outbox.visits_changed(c, self, (), now, enrollment_ids=[enrollment_id])
            return self._detail(c, enrollment_id, result.warnings)

    def enrollment(self, enrollment_id: int) -> EnrollmentView:
        with self._read() as c:
            return self._enrollment(c, enrollment_id)

    def enrollments(self, mrn: str | None = None) -> list[EnrollmentView]:
        query = enrollment_query().order_by(ENROLLMENTS.c.start_date, ENROLLMENTS.c.id)
        with self._read() as c:
            if mrn is not None:
                patient = self._patient_row(c, mrn)
                query = query.where(ENROLLMENTS.c.patient_id == patient.id)
            return [
                enrollment_view(r, self._current_version(r.protocol_id)) for r in c.execute(query)
            ]

    def enrollment_detail(self, enrollment_id: int) -> EnrollmentDetail:
        with self._read() as c:
            return self._detail(c, enrollment_id, ())

    def withdraw(
        self, enrollment_id: int, expected_revision: int | None = None, *, dry_run: bool = False
    ) -> EnrollmentDetail:
        """End a course: its open visits are cancelled (and kept, for the calendars)."""
        with self.write(dry_run=dry_run) as c:
            row = self._enrollment_row(c, enrollment_id)
            if row.status == "withdrawn":
                raise InputError(f"enrollment {enrollment_id} is already withdrawn")
            seen = row.revision if expected_revision is None else expected_revision
            now = self._stamp()
            done = c.execute(
                update(ENROLLMENTS)
                .where(ENROLLMENTS.c.id == enrollment_id, ENROLLMENTS.c.revision == seen)
                .values(status="withdrawn", revision=ENROLLMENTS.c.revision + 1, updated_at=now)
            )
            if done.rowcount != 1:
                raise InputError(f"enrollment {enrollment_id}: {STALE}")
            audit.record(
                c,
                at=now,
                who=self.user,
                action="withdrawn",
                entity="enrollment",
                entity_id=enrollment_id,
                mrn=row.mrn,
                before={"status": row.status},
                after={"status": "withdrawn"},
            )
            open_visits = c.execute(
                select(VISITS).where(
                    VISITS.c.enrollment_id == enrollment_id,
                    VISITS.c.status.in_(("scheduled", "missed")),
                )
            ).all()
            for visit in open_visits:
                self.change_visit(
                    c,
                    visit,
                    visit.revision,
                    {"status": "cancelled"},
                    now,
                    action="cancelled",
                    mrn=row.mrn,
                )
            outbox.visits_changed(c, self, [v.id for v in open_visits], now)
            return self._detail(c, enrollment_id, ())

    def _enrollment(self, c: Connection, enrollment_id: int) -> EnrollmentView:
        row = self._enrollment_row(c, enrollment_id)
        return enrollment_view(row, self._current_version(row.protocol_id))

    def _detail(
        self, c: Connection, enrollment_id: int, warnings: tuple[str, ...]
    ) -> EnrollmentDetail:
        rows = c.execute(
            visit_query()
            .where(VISITS.c.enrollment_id == enrollment_id)
            .order_by(VISITS.c.start_at, VISITS.c.id)
        )
        return EnrollmentDetail(
            self._enrollment(c, enrollment_id),
            tuple(visit_views(c, rows, self._snapshots, self.calendar.tz)),
            warnings,
        )

    def _current_version(self, protocol_id: str) -> tuple[str, str] | None:
        """(version, sha256) of the protocol file as it is in the catalog now."""
        if protocol_id not in self._current:
            try:
                entry = self.catalog.get(protocol_id)
            except InputError:
                self._current[protocol_id] = None
            else:
                digest = hashlib.sha256(entry.text.encode("utf-8")).hexdigest()
                self._current[protocol_id] = (entry.protocol.version, digest)
        return self._current[protocol_id]
