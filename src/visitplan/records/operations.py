"""The desk: everything staff do with the records, one transaction per change.

``open_desk`` is the one way in (the CLI, the TUI, the exporters and the tests all
use it). Each method reads and writes in a single transaction; a visit change
checks the revision the caller saw (or the one read in the same transaction) with
``UPDATE ... WHERE revision = :seen``, so no change is applied on top of data it did
not see. Results are frozen views (``visitplan.records.views``), never ORM objects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pendulum
from sqlalchemy import Connection, Engine, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic, ClinicCalendar
from visitplan.domain.engine import Plan
from visitplan.errors import InputError
from visitplan.records import audit, store
from visitplan.records.courses import CourseBuilding
from visitplan.records.reading import (
    AUDIT,
    ENROLLMENTS,
    PATIENTS,
    VISITS,
    Snapshots,
    enrollment_query,
    enrollment_view,
    from_utc,
    history_entry,
    patient_view,
    to_utc,
    visit_query,
    visit_views,
)
from visitplan.records.views import (
    EnrollmentDetail,
    EnrollmentView,
    HistoryEntry,
    ImportReport,
    PatientView,
    VisitChange,
    VisitView,
)

DEFAULT_TIME = dt.time(9, 0)
STALE = "changed by someone else since you opened it"
WRITE_LOCK = 0x76697369  # PostgreSQL advisory lock key of the records' writers


def open_desk(
    url: str | None,
    clinic: Clinic,
    catalog: ProtocolCatalog,
    user: str | None = None,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    migrate: bool = True,
) -> Desk:
    """A desk on the database at ``url`` (None: $VISITPLAN_DB, else the user's SQLite
    file), with the schema created or migrated first. ``user`` is who the audit
    trail names (default: the OS user); ``clock`` returns an aware "now" (tests)."""
    engine = store.make_engine(url or store.default_url())
    try:
        if migrate:
            store.ensure_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return Desk(engine, clinic, catalog, user or audit.os_user(), clock=clock)


class Desk(CourseBuilding):
    """The records of one clinic, and the operations staff perform on them."""

    def __init__(
        self,
        engine: Engine,
        clinic: Clinic,
        catalog: ProtocolCatalog,
        user: str,
        *,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.clinic = clinic
        self.calendar = ClinicCalendar(clinic)
        self.catalog = catalog
        self.user = user
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._snapshots = Snapshots()
        self._current: dict[str, tuple[str, str] | None] = {}

    # -- plumbing ---------------------------------------------------------------

    @property
    def url(self) -> str:
        return store.safe(self.engine.url)

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Desk:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def now(self) -> pendulum.DateTime:
        """The current time in the clinic's zone."""
        return pendulum.instance(self._clock()).in_timezone(self.calendar.tz)

    def _stamp(self) -> dt.datetime:
        return to_utc(self._clock())

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection, connection.begin():
                yield connection
        except DBAPIError as exc:
            raise store.unreachable(self.engine, exc) from None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction (on SQLite it takes the write lock at once)."""
        try:
            with self.engine.connect() as connection:
                connection.execution_options(**{store.WRITE: True})
                with connection.begin():
                    if connection.dialect.name == "postgresql":
                        # One writer at a time, as SQLite's BEGIN IMMEDIATE gives: two
                        # workstations must not both book the last free slot.
                        connection.execute(select(func.pg_advisory_xact_lock(WRITE_LOCK)))
                    yield connection
        except IntegrityError as exc:
            raise InputError(
                f"not saved: the change conflicts with stored records ({_first(exc)})"
            ) from None
        except DBAPIError as exc:
            raise store.unreachable(self.engine, exc) from None

    def data_version(self) -> int:
        """Changes whenever any patient, enrollment or visit changes (the last audit id)."""
        with self._read() as c:
            return int(c.execute(select(func.coalesce(func.max(AUDIT.c.id), 0))).scalar_one())

    # -- patients ---------------------------------------------------------------

    def add_patient(
        self,
        mrn: str,
        name: str,
        phone: str | None = None,
        email: str | None = None,
        notes: str = "",
    ) -> PatientView:
        fields = check_patient(mrn, name, phone, email)
        with self.write() as c:
            if c.execute(select(PATIENTS.c.id).where(PATIENTS.c.mrn == fields["mrn"])).first():
                raise InputError(f"MRN {fields['mrn']!r} already exists")
            now = self._stamp()
            c.execute(
                insert(PATIENTS),
                [
                    {
                        **fields,
                        "notes": notes,
                        "no_shows": 0,
                        "revision": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
            )
            audit.record(
                c,
                at=now,
                who=self.user,
                action="patient added",
                entity="patient",
                entity_id=fields["mrn"],
                mrn=fields["mrn"],
                after=fields,
            )
            return self._patient(c, fields["mrn"])

    def update_patient(
        self,
        mrn: str,
        *,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        notes: str | None = None,
        expected_revision: int | None = None,
    ) -> PatientView:
        """Change the given fields (None: unchanged; "" clears phone or e-mail)."""
        with self.write() as c:
            row = self._patient_row(c, mrn)
            fields = check_patient(
                mrn,
                row.name if name is None else name,
                row.phone if phone is None else phone,
                row.email if email is None else email,
            )
            wanted = {
                "name": fields["name"],
                "phone": fields["phone"],
                "email": fields["email"],
                "notes": row.notes if notes is None else notes,
            }
            changes = {k: v for k, v in wanted.items() if getattr(row, k) != v}
            if not changes:
                return self._patient(c, mrn)
            seen = row.revision if expected_revision is None else expected_revision
            now = self._stamp()
            done = c.execute(
                update(PATIENTS)
                .where(PATIENTS.c.id == row.id, PATIENTS.c.revision == seen)
                .values(**changes, revision=PATIENTS.c.revision + 1, updated_at=now)
            )
            if done.rowcount != 1:
                raise InputError(f"patient {mrn}: {STALE}")
            audit.record(
                c,
                at=now,
                who=self.user,
                action="patient changed",
                entity="patient",
                entity_id=mrn,
                mrn=mrn,
                before={k: getattr(row, k) for k in changes},
                after=changes,
            )
            return self._patient(c, mrn)

    def patient(self, mrn: str) -> PatientView:
        with self._read() as c:
            return self._patient(c, mrn)

    def patients(self, search: str | None = None) -> list[PatientView]:
        """Every patient by MRN; ``search`` matches part of the MRN or the name."""
        counts = (
            select(ENROLLMENTS.c.patient_id, func.count().label("n"))
            .group_by(ENROLLMENTS.c.patient_id)
            .subquery()
        )
        query = (
            select(PATIENTS, func.coalesce(counts.c.n, 0).label("n"))
            .select_from(PATIENTS.outerjoin(counts, counts.c.patient_id == PATIENTS.c.id))
            .order_by(PATIENTS.c.mrn)
        )
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(
                or_(
                    func.lower(PATIENTS.c.mrn).like(pattern),
                    func.lower(PATIENTS.c.name).like(pattern),
                )
            )
        with self._read() as c:
            return [patient_view(row, row.n) for row in c.execute(query)]

    def _patient_row(self, c: Connection, mrn: str) -> Any:
        row = c.execute(select(PATIENTS).where(PATIENTS.c.mrn == mrn)).first()
        if row is None:
            raise InputError(f"unknown MRN {mrn!r}")
        return row

    def _patient(self, c: Connection, mrn: str) -> PatientView:
        row = self._patient_row(c, mrn)
        n = c.execute(
            select(func.count()).select_from(ENROLLMENTS).where(ENROLLMENTS.c.patient_id == row.id)
        ).scalar_one()
        return patient_view(row, int(n))

    # -- enrollments ------------------------------------------------------------

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
    ) -> EnrollmentDetail:
        """Plan the course against the calendar and the bookings, and keep it."""
        entry = self.catalog.get(protocol_id)
        clinician = (clinician or "").strip() or None
        with self.write() as c:
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
        self, enrollment_id: int, expected_revision: int | None = None
    ) -> EnrollmentDetail:
        """End a course: its open visits are cancelled (and kept, for the calendars)."""
        with self.write() as c:
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
            return self._detail(c, enrollment_id, ())

    def _enrollment_row(self, c: Connection, enrollment_id: int) -> Any:
        row = c.execute(enrollment_query().where(ENROLLMENTS.c.id == enrollment_id)).first()
        if row is None:
            raise InputError(f"unknown enrollment id {enrollment_id}")
        return row

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

    # -- visits: reading --------------------------------------------------------

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
            query = query.where(ENROLLMENTS.c.clinician == clinician)
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

    def _visit_row(self, c: Connection, visit_id: int) -> Any:
        row = c.execute(visit_query().where(VISITS.c.id == visit_id)).first()
        if row is None:
            raise InputError(f"unknown visit id {visit_id}")
        return row

    def _visit(self, c: Connection, visit_id: int) -> VisitView:
        return visit_views(c, [self._visit_row(c, visit_id)], self._snapshots, self.calendar.tz)[0]

    # -- visits: changing -------------------------------------------------------

    def complete_visit(
        self, visit_id: int, at: dt.datetime | None = None, expected_revision: int | None = None
    ) -> VisitChange:
        """Done, at ``at`` (default now). A different day carries the visit's open
        dependents along, as the protocol anchors them."""
        from visitplan.records import rescheduling

        return rescheduling.complete(self, visit_id, at, expected_revision)

    def move_visit(
        self,
        visit_id: int,
        to: dt.datetime,
        *,
        force: bool = False,
        expected_revision: int | None = None,
    ) -> VisitChange:
        """Booked at ``to`` (naive: clinic time), or the nearest free time that day.

        Outside the window or on a closed day it is refused unless ``force``, and
        then recorded as a deviation. A missed visit moved is owed again."""
        from visitplan.records import rescheduling

        return rescheduling.move(self, visit_id, to, force, expected_revision)

    def miss_visit(self, visit_id: int, expected_revision: int | None = None) -> VisitChange:
        """A no-show: kept on record and counted; the step stays owed (move or cancel it)."""
        from visitplan.records import rescheduling

        return rescheduling.miss(self, visit_id, expected_revision)

    def cancel_visit(self, visit_id: int, expected_revision: int | None = None) -> VisitChange:
        """Cancelled and kept (calendars need the cancellation)."""
        from visitplan.records import rescheduling

        return rescheduling.cancel(self, visit_id, expected_revision)

    def change_visit(
        self,
        c: Connection,
        row: Any,
        seen: int,
        changes: Mapping[str, Any],
        now: dt.datetime,
        *,
        action: str,
        mrn: str | None,
    ) -> None:
        """Write ``changes`` if the visit is still at revision ``seen``; audit it."""
        timing = {"status", "start_at", "end_at"}
        bump = 1 if any(k in timing and getattr(row, k) != v for k, v in changes.items()) else 0
        done = c.execute(
            update(VISITS)
            .where(VISITS.c.id == row.id, VISITS.c.revision == seen)
            .values(
                **changes,
                revision=VISITS.c.revision + 1,
                sequence=VISITS.c.sequence + bump,
                updated_at=now,
            )
        )
        if done.rowcount != 1:
            raise InputError(f"visit {row.id}: {STALE}")
        tz = self.calendar.tz
        changed = [k for k, v in changes.items() if getattr(row, k) != v]
        audit.record(
            c,
            at=now,
            who=self.user,
            action=action,
            entity="visit",
            entity_id=row.id,
            mrn=mrn,
            before={k: _shown(k, getattr(row, k), tz) for k in changed},
            after={k: _shown(k, changes[k], tz) for k in changed},
        )

    # -- history, import, backup ------------------------------------------------

    def history(self, mrn: str | None = None, limit: int | None = None) -> list[HistoryEntry]:
        """The audit trail, oldest first (of one patient, or of everything)."""
        query = select(AUDIT).order_by(AUDIT.c.id)
        with self._read() as c:
            if mrn is not None:
                self._patient_row(c, mrn)
                query = query.where(AUDIT.c.mrn == mrn)
            if limit is not None:
                query = query.order_by(None).order_by(AUDIT.c.id.desc()).limit(limit)
            entries = [history_entry(row) for row in c.execute(query)]
        return sorted(entries, key=lambda e: e.id)

    def import_csv(self, path: Path) -> ImportReport:
        """Patients and courses from a CSV file: all rows, or none."""
        from visitplan.records.importing import import_csv

        return import_csv(self, path)

    def backup(self, path: Path) -> None:
        """A consistent copy of an SQLite database, safe while others use it."""
        from visitplan.records.backup import backup

        backup(self.engine, path)


def check_patient(mrn: str, name: str, phone: str | None, email: str | None) -> dict[str, Any]:
    """Trimmed patient fields, or one line saying which is wrong."""
    mrn, name = mrn.strip(), " ".join(name.split())
    if not mrn or len(mrn) > 64 or any(ch.isspace() for ch in mrn):
        raise InputError(f"MRN {mrn!r}: must be 1 to 64 characters without spaces")
    if not name or len(name) > 200:
        raise InputError(f"MRN {mrn}: the name must be 1 to 200 characters")
    phone = (phone or "").strip() or None
    email = (email or "").strip() or None
    if email is not None and ("@" not in email or " " in email):
        raise InputError(f"MRN {mrn}: {email!r} is not an e-mail address")
    return {"mrn": mrn, "name": name, "phone": phone, "email": email}


def _midnight(day: dt.date, tz: Any) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, tz=tz)


def _shown(key: str, value: Any, tz: Any) -> Any:
    """Audit values as staff read them: stored UTC times shown in clinic time."""
    if key.endswith("_at") and isinstance(value, dt.datetime):
        return from_utc(value, tz).isoformat()
    if key == "warnings" and isinstance(value, str):
        return json.loads(value)
    return value


def _first(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
