"""Enrollments: putting a patient on a protocol's course, and ending it (part of the
Desk)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import Connection, select, update

from visitplan.domain.engine import Plan
from visitplan.errors import InputError, NeedsOverride
from visitplan.records import audit, outbox
from visitplan.records.courses import CourseBuilding
from visitplan.records.desk_base import STALE, seen_revision
from visitplan.records.reading import (
    ENROLLMENTS,
    SNAPSHOTS,
    VISITS,
    enrollment_query,
    enrollment_view,
    visit_query,
    visit_views,
)
from visitplan.records.views import EnrollmentDetail, EnrollmentView

DEFAULT_TIME = dt.time(9, 0)


class EnrollmentRecords(CourseBuilding):
    """Part of the Desk: each patient's courses."""

    def preview_enrollment(
        self,
        mrn: str | None,
        protocol_id: str,
        start: dt.date,
        time: dt.time = DEFAULT_TIME,
        clinician: str | None = None,
    ) -> Plan:
        """The plan `enroll` would store now (the clinic's bookings and capacity, the
        clinician's hours and leave honoured), without writing anything."""
        entry = self.catalog.get(protocol_id)
        who = self.state.clinician(clinician) if clinician and clinician.strip() else None
        with self._read() as c:
            if mrn is not None:
                self._patient_row(c, mrn)
            return self.plan_course(
                c, entry.protocol, start, time, clinician_id=who.id if who else None, unwritten=True
            )

    def enroll(
        self,
        mrn: str,
        protocol_id: str,
        start: dt.date,
        time: dt.time = DEFAULT_TIME,
        clinician: str | None = None,
        *,
        another: bool = False,
        done_through: dt.date | None = None,
        dry_run: bool = False,
    ) -> EnrollmentDetail:
        """Plan the course against the calendar and the bookings, and keep it.

        A second running course of one protocol for one patient is refused unless
        ``another``. A start in the past is allowed: visits already past are overdue
        (they need an outcome), or, up to ``done_through``, recorded as done at their
        planned time (a running course moved into visitplan).
        """
        entry = self.catalog.get(protocol_id)
        clinician = (clinician or "").strip() or None
        with self.write(dry_run=dry_run) as c:
            who = self.state.clinician(clinician) if clinician else None
            patient = self._patient_row(c, mrn)
            if not another:
                self._refuse_second_course(c, patient.id, patient.mrn, entry.id)
            today = self.now().date()
            if done_through is not None and not start <= done_through <= today:
                raise InputError(
                    f"done through {done_through:%a %Y-%m-%d}: it must lie between the "
                    f"course start ({start:%a %Y-%m-%d}) and today ({today:%a %Y-%m-%d})"
                )
            snapshot_id = self.snapshot_id(c, entry)
            result = self.plan_course(
                c,
                entry.protocol,
                start,
                time,
                clinician_id=who.id if who else None,
                # A check changes nothing before planning (the snapshot is no visit),
                # and is rolled back after; an enrollment kept reads afresh.
                unwritten=dry_run,
            )
            now = self._stamp()
            enrollment_id = self.insert_course(
                c,
                patient.id,
                snapshot_id,
                start,
                time,
                who.id if who else None,
                result,
                now,
                done_through,
            )
            audit.record(
                c,
                at=now,
                who=self.user,
                action="enrolled",
                entity="enrollment",
                entity_id=enrollment_id,
                mrn=patient.mrn,
                after={
                    "protocol": entry.id,
                    "version": entry.protocol.version,
                    "start": start,
                    "time": f"{time:%H:%M}",
                    "clinician": who.name if who else None,
                    "visits": len(result.visits),
                    **({"done_through": done_through} if done_through else {}),
                },
            )
            past = sum(
                1
                for v in result.visits
                if v.start < self.now() and (done_through is None or v.start.date() > done_through)
            )
            notes = (
                (
                    f"{past} visit{'s are' if past != 1 else ' is'} already past with no "
                    "outcome: overdue, on the worklist until recorded as done or a no-show",
                )
                if past
                else ()
            )
            # Visits of a new course are inserted, not changed: the outbox is told here.
            outbox.visits_changed(c, self, (), now, enrollment_ids=[enrollment_id])
            return self._detail(c, enrollment_id, (*result.warnings, *notes), result)

    def _refuse_second_course(
        self, c: Connection, patient_id: int, mrn: str, protocol_id: str
    ) -> None:
        running = c.execute(
            enrollment_query().where(
                ENROLLMENTS.c.patient_id == patient_id,
                ENROLLMENTS.c.status == "active",
                SNAPSHOTS.c.protocol_id == protocol_id,
            )
        ).first()
        if running is not None:
            raise NeedsOverride(
                f"{mrn} already has a running course of {protocol_id}: course {running.id} "
                f"from {running.start_date:%a %Y-%m-%d}",
                override="another",
                consequence="starts a second one beside it",
            )

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
            now = self._stamp()
            self._set_status(c, row, "withdrawn", expected_revision, now)
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
                    {"status": "cancelled", "cancelled_by": "withdrawal"},
                    now,
                    action="cancelled",
                    mrn=row.mrn,
                )
            outbox.visits_changed(c, self, [v.id for v in open_visits], now)
            return self._detail(c, enrollment_id, ())

    def reinstate(
        self,
        enrollment_id: int,
        expected_revision: int | None = None,
        *,
        another: bool = False,
        dry_run: bool = False,
    ) -> EnrollmentDetail:
        """Undo a withdrawal: the visits it cancelled are owed again. One that another
        patient's booking has since made too full goes to the nearest free time that
        day (and says so); one already past is overdue."""
        from visitplan.records.rescheduling import place_again

        with self.write(dry_run=dry_run) as c:
            row = self._enrollment_row(c, enrollment_id)
            if row.status != "withdrawn":
                raise InputError(
                    f"course {enrollment_id} is {row.status}; only a withdrawn course can be "
                    "reinstated"
                )
            if not another:
                self._refuse_second_course(c, row.patient_id, row.mrn, row.protocol_id)
            now = self._stamp()
            self._set_status(c, row, "active", expected_revision, now)
            cancelled = c.execute(
                visit_query()
                .where(
                    VISITS.c.enrollment_id == enrollment_id,
                    VISITS.c.status == "cancelled",
                    VISITS.c.cancelled_by == "withdrawal",
                )
                .order_by(VISITS.c.start_at)
            ).all()
            warnings = []
            for visit in cancelled:
                changes = {"status": "scheduled", "cancelled_by": None}
                note = place_again(self, c, visit) if visit.start_at > now else None
                if note is not None:
                    changes.update(note[0])
                    warnings.append(f"{self.visit_name(c, visit)}: {note[1]}")
                self.change_visit(
                    c, visit, visit.revision, changes, now, action="reinstated", mrn=row.mrn
                )
            return self._detail(c, enrollment_id, tuple(warnings))

    def _set_status(
        self, c: Connection, row: Any, status: str, expected: int | None, now: dt.datetime
    ) -> None:
        what = f"course {row.id}"
        seen = seen_revision(what, row.revision, expected)
        done = c.execute(
            update(ENROLLMENTS)
            .where(ENROLLMENTS.c.id == row.id, ENROLLMENTS.c.revision == seen)
            .values(status=status, revision=ENROLLMENTS.c.revision + 1, updated_at=now)
        )
        if done.rowcount != 1:
            raise InputError(f"{what}: {STALE}")
        audit.record(
            c,
            at=now,
            who=self.user,
            action="withdrawn" if status == "withdrawn" else "reinstated",
            entity="enrollment",
            entity_id=row.id,
            mrn=row.mrn,
            before={"status": row.status},
            after={"status": status},
        )

    def _enrollment(self, c: Connection, enrollment_id: int) -> EnrollmentView:
        row = self._enrollment_row(c, enrollment_id)
        return enrollment_view(row, self._current_version(row.protocol_id))

    def _detail(
        self,
        c: Connection,
        enrollment_id: int,
        warnings: tuple[str, ...],
        result: Plan | None = None,
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
            result,
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
