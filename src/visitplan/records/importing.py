"""`visitplan import FILE.csv`: patients and their courses from a spreadsheet.

Columns (header row required, any order): mrn, name, phone, email, notes,
protocol, start, time, clinician. Only mrn and name are required; a row with a
protocol also needs a start date. All rows go in, or none, and other workstations
keep working while a long file is imported:

1. The file is read and every row checked (``import_file``), then checked against
   a copy of what the records hold for it (its patients, their courses, the
   clinic's bookings), read in one short read transaction.
2. Every new course is planned against that copy, outside any transaction
   (``import_ledger``).
3. Everything is written in one transaction. If anything was saved since the copy
   was read (the last audit id moved on), the copy is read again inside it, the rows
   are checked again, and only the courses whose days' bookings changed are planned
   again; if that is more than a few, the transaction is left (so that others are not
   kept waiting), the planning done outside, and the write tried again.

A row that says only what the records already hold is counted, not added (see
``_decide``): a file imported twice adds nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select

from visitplan.errors import InputError
from visitplan.records import audit, outbox
from visitplan.records.clinic_settings import CLINIC_ENTITIES
from visitplan.records.import_file import Batch, Problems, Row, read_file
from visitplan.records.import_ledger import Ledger, Planned, Stored, TooMany, plan_courses
from visitplan.records.reading import AUDIT, ENROLLMENTS, PATIENTS, SNAPSHOTS, VISITS, mrn_key
from visitplan.records.schema import CLINICIANS
from visitplan.records.views import ImportReport

if TYPE_CHECKING:
    from sqlalchemy import Connection, Dialect, Table

    from visitplan.records.courses import CourseBuilding

ATTEMPTS = 3
# Courses planned again inside the write transaction at most (about a tenth of a
# second of the engine); more, and the planning is done outside it first.
INSIDE = 200
CHUNK = 500  # values in one IN (...)


@dataclass
class _Copy:
    """What the records held for the file when read, and the last audit id then."""

    mark: int
    patients: dict[str, list[Any]]  # key -> stored patient rows (more than one: ambiguous)
    courses: dict[int, list[Any]]  # patient id -> their enrollments
    bookings: Counter[Stored] | None = None  # visits taking clinic time; None: not read


@dataclass
class _Decision:
    todo: list[Row] = field(default_factory=list)  # rows whose course is to be added
    already: int = 0  # rows that add nothing: what they say is stored


@dataclass
class _Work:
    """An import's copy of the records, what it decided and planned against it, and
    the clinic it planned with."""

    copy: _Copy
    decision: _Decision
    ledger: Ledger
    planned: dict[int, Planned]
    clinic: Any


class _ClinicChanged(Exception):
    """The clinic's calendar or clinicians changed since the courses were planned."""


def import_csv(desk: CourseBuilding, path: Path) -> ImportReport:
    with desk._read() as c:
        # The clinic as it is now: its clinicians are the ones the file may name.
        desk._sync_clinic(c, store_first=False)
    batch, problems = read_file(desk, path)
    since = _since(batch)
    work = _plan(desk, batch, since, problems)
    problems.check()
    if not work.decision.todo and batch.patients.keys() <= work.copy.patients.keys():
        return ImportReport(0, 0, 0, work.decision.already)
    made = _Rows(desk, batch)
    made.build(work)
    for attempt in range(ATTEMPTS):
        last = attempt == ATTEMPTS - 1
        try:
            with desk.write() as c:
                if _clinic(desk) != work.clinic:
                    raise _ClinicChanged
                if _mark(c) != work.copy.mark:
                    _check_again(c, batch, since, work, None if last else INSIDE)
                return _write(c, made, work)
        except TooMany as many:
            again = Problems(path)
            work.planned = plan_courses(
                work.ledger, work.decision.todo, again, work.planned, many.changed
            )
            again.check()
        except _ClinicChanged:
            # A closure added, a clinician's hours changed: every course planned anew.
            again = Problems(path)
            work = _plan(desk, batch, since, again)
            again.check()
        made.build(work)
    raise InputError(
        f"{path}: not imported: the records kept changing while the import tried to "
        f"save ({ATTEMPTS} times); try again"
    )


def _plan(desk: CourseBuilding, batch: Batch, since: dt.datetime, problems: Problems) -> _Work:
    """Read what the records hold for the file, decide, and plan, with no transaction
    open while the engine works."""
    with desk._read() as c:
        copy = _read_copy(c, batch)
        decision = _decide(batch, copy, problems)
        if decision.todo:
            copy.bookings = _bookings(c, since)
    ledger = Ledger(desk.calendar, desk.calendar_for, desk.clinician_bookings)
    ledger.change_stored((), (copy.bookings or Counter()).elements())
    planned = plan_courses(ledger, decision.todo, problems)
    return _Work(copy, decision, ledger, planned, _clinic(desk))


def _check_again(
    c: Connection, batch: Batch, since: dt.datetime, work: _Work, budget: int | None
) -> None:
    """Inside the write transaction, after others saved: the copy read again, the rows
    checked again, and the courses on days whose bookings changed planned again (or
    TooMany, which names the days that changed, for planning outside)."""
    again = Problems(batch.path)
    fresh = _read_copy(c, batch)
    work.decision = _decide(batch, fresh, again)
    again.check()
    changed: set[dt.date] = set()
    if work.decision.todo:
        fresh.bookings = _bookings(c, since)
        before, after = work.copy.bookings or Counter(), fresh.bookings
        changed = work.ledger.change_stored(before - after, after - before)
    else:
        fresh.bookings = work.copy.bookings
    work.copy = fresh
    work.planned = plan_courses(
        work.ledger, work.decision.todo, again, work.planned, changed, budget
    )
    again.check()


def _clinic(desk: CourseBuilding) -> Any:
    """What planning depends on besides the bookings: the clinic's settings with its
    closures, and its clinicians with their hours and leave."""
    state = desk.state
    return (desk.clinic, state.clinicians, state.leave)


def _since(batch: Batch) -> dt.datetime:
    """The earliest booking that can matter: a year before the first course's start."""
    starts = [row.start for row in batch.rows if row.start is not None]
    first = min(starts, default=dt.date.max)
    if first <= dt.date.min + dt.timedelta(days=366):
        return dt.datetime.min
    return dt.datetime.combine(first - dt.timedelta(days=366), dt.time())


def _mark(c: Connection) -> int:
    """The last audit id of a change to patients, courses or visits (the clinic's own
    changes are told apart by ``_clinic``: a new database's first write stores it)."""
    query = select(func.coalesce(func.max(AUDIT.c.id), 0)).where(
        AUDIT.c.entity.not_in(CLINIC_ENTITIES)
    )
    return int(c.execute(query).scalar_one())


def _read_copy(c: Connection, batch: Batch) -> _Copy:
    # The mark first: whatever is read after it is at least as new, so an unchanged
    # mark at write time means nothing read here has changed since.
    copy = _Copy(_mark(c), {}, {})
    lowered = sorted(batch.patients)  # the keys: what func.lower gives a stored MRN
    for chunk in _chunks(lowered):
        query = select(PATIENTS).where(func.lower(PATIENTS.c.mrn).in_(chunk))
        for row in c.execute(query):
            key = mrn_key(row.mrn)
            if key in batch.patients:
                copy.patients.setdefault(key, []).append(row)
    ids = sorted(rows[0].id for rows in copy.patients.values() if len(rows) == 1)
    columns = (
        ENROLLMENTS.c.id,
        ENROLLMENTS.c.patient_id,
        ENROLLMENTS.c.start_date,
        ENROLLMENTS.c.visit_time,
        ENROLLMENTS.c.clinician_id,
        CLINICIANS.c.name.label("clinician"),
        ENROLLMENTS.c.status,
        SNAPSHOTS.c.protocol_id,
    )
    for chunk in _chunks(ids):
        query = (
            select(*columns)
            .select_from(
                ENROLLMENTS.join(SNAPSHOTS, SNAPSHOTS.c.id == ENROLLMENTS.c.snapshot_id).outerjoin(
                    CLINICIANS, CLINICIANS.c.id == ENROLLMENTS.c.clinician_id
                )
            )
            .where(ENROLLMENTS.c.patient_id.in_(chunk))
            .order_by(ENROLLMENTS.c.id)
        )
        for row in c.execute(query):
            copy.courses.setdefault(row.patient_id, []).append(row)
    return copy


def _bookings(c: Connection, since: dt.datetime) -> Counter[Stored]:
    query = select(VISITS.c.start_at, VISITS.c.end_at, VISITS.c.clinician_id).where(
        VISITS.c.status.in_(("scheduled", "completed")), VISITS.c.start_at >= since
    )
    return Counter((r.start_at, r.end_at, r.clinician_id) for r in c.execute(query))


def _decide(batch: Batch, copy: _Copy, problems: Problems) -> _Decision:
    """Which rows add a course, which are already stored, which contradict the records.

    A stored patient (the MRN compared without regard to case) must have the row's
    name, and its phone, e-mail and notes where the row gives them: an import adds
    patients and courses and changes none. A row's course is already stored when the
    patient has a course of that protocol from that start date (running or
    withdrawn), at the row's time and with its clinician; a different start while a
    course of that protocol is running is refused (one running course per patient
    and protocol).
    """
    decision = _Decision()
    for row in batch.rows:
        stored = copy.patients.get(row.key)
        if stored is None:
            if row.protocol is not None:
                decision.todo.append(row)
            continue
        if len(stored) > 1:
            spelled = ", ".join(sorted(p.mrn for p in stored))
            problems.add(row.number, "mrn", f"matches several stored patients ({spelled})")
            continue
        patient = stored[0]
        _compare_patient(row, patient, problems)
        if row.protocol is None:
            decision.already += 1
            continue
        courses = [e for e in copy.courses.get(patient.id, ()) if e.protocol_id == row.protocol.id]
        same = next((e for e in courses if e.start_date == row.start), None)
        running = next((e for e in courses if e.status == "active"), None)
        where = f"MRN {patient.mrn}'s {row.protocol.id} course"
        if same is not None:
            time = f"{row.time:%H:%M}"
            if same.visit_time != time:
                problems.add(
                    row.number,
                    "time",
                    f"{where} from {same.start_date} (enrollment {same.id}) is stored at "
                    f"{same.visit_time}, not {time}",
                )
            elif same.clinician_id != row.clinician_id:
                problems.add(
                    row.number,
                    "clinician",
                    f"{where} from {same.start_date} (enrollment {same.id}) is stored with "
                    f"{'clinician ' + repr(same.clinician) if same.clinician else 'no clinician'}",
                )
            else:
                decision.already += 1
        elif running is not None:
            problems.add(
                row.number,
                "protocol",
                f"{where} is running (enrollment {running.id}, from {running.start_date}); "
                "one running course per patient and protocol",
            )
        else:
            decision.todo.append(row)
    return decision


def _compare_patient(row: Row, patient: Any, problems: Problems) -> None:
    given = {**row.patient, "notes": row.notes}
    stored = {
        "name": patient.name,
        "phone": patient.phone,
        "email": patient.email,
        "notes": (patient.notes or "").strip() or None,
        "notify": patient.notify,
    }
    for name in ("name", "phone", "email", "notes", "notify"):
        value = given[name] or None
        if value is None or value == stored[name]:
            continue
        held = f"another {name}" if stored[name] else f"no {name}"
        problems.add(
            row.number,
            name,
            f"MRN {patient.mrn} is stored with {held} (an import adds patients and courses "
            "and changes none: correct the file, or the stored patient)",
        )


class _Bulk:
    """Rows of one table as its driver takes them, converted before the write
    transaction (SQLAlchemy's conversion of dates and times to SQLite's text takes
    a second for 70,000 visits), then sent at once: on PostgreSQL through COPY (a
    third of an executemany's time), on SQLite through the driver's executemany."""

    def __init__(self, dialect: Dialect, table: Table, *, ids: bool) -> None:
        """``ids``: the rows carry their own (see ``ids``); else the database gives them."""
        self.table = table
        self.columns = [c.name for c in table.columns if ids or c.name != "id"]
        self.convert = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if dialect.name == "sqlite"
            else None
            for name in self.columns
        ]

    def values(self, row: dict[str, Any]) -> list[Any]:
        return [f(row[n]) if f else row[n] for n, f in zip(self.columns, self.convert, strict=True)]

    def at(self, column: str) -> int:
        return self.columns.index(column)

    def ids(self, c: Connection, count: int) -> list[int]:
        """``count`` new ids for the table's rows, taken as its inserts would: on
        PostgreSQL from its sequence; on SQLite after the largest (what SQLite gives
        a rowid without AUTOINCREMENT, and no one else writes while we hold the lock).
        Inserting with them lets the rows go in at once rather than one RETURNING
        statement each (SQLite) or a 14,000-parameter one per thousand (PostgreSQL)."""
        name = self.table.name
        if c.dialect.name == "postgresql":
            query = select(func.nextval(func.pg_get_serial_sequence(name, "id"))).select_from(
                func.generate_series(1, count)
            )
            return sorted(int(i) for i in c.execute(query).scalars())
        largest = c.execute(select(func.coalesce(func.max(self.table.c.id), 0))).scalar_one()
        return list(range(int(largest) + 1, int(largest) + 1 + count))

    def insert(self, c: Connection, rows: list[list[Any]]) -> None:
        if not rows:
            return
        names = ", ".join(f'"{name}"' for name in self.columns)
        if c.dialect.name == "sqlite":
            marks = ", ".join("?" * len(self.columns))
            sql = f'INSERT INTO "{self.table.name}" ({names}) VALUES ({marks})'
            c.exec_driver_sql(sql, [tuple(row) for row in rows])
        elif c.dialect.name == "postgresql":
            raw = c.connection.driver_connection
            if raw is None:
                raise RuntimeError("the import's connection was closed")
            copy_sql = f'COPY "{self.table.name}" ({names}) FROM STDIN'
            with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            c.execute(insert(self.table), [dict(zip(self.columns, r, strict=True)) for r in rows])


class _Rows:
    """What each new patient and course becomes in the tables, built before the
    write transaction (UIDs, UTC times, JSON), so that it holds the lock only to
    insert them; a course planned again inside it is built there. Ids that only the
    inserts give are filled in then."""

    def __init__(self, desk: CourseBuilding, batch: Batch) -> None:
        self.desk = desk
        self.batch = batch
        self.now = desk._stamp()
        dialect = desk.engine.dialect
        self.patients = _Bulk(dialect, PATIENTS, ids=True)
        self.enrollments = _Bulk(dialect, ENROLLMENTS, ids=True)
        self.visits = _Bulk(dialect, VISITS, ids=False)
        self.audit = _Bulk(dialect, AUDIT, ids=False)
        self._courses: dict[int, tuple[Planned, list[list[Any]], list[Any]]] = {}
        self._patients: dict[str, tuple[list[Any], list[Any]]] = {}

    def build(self, work: _Work) -> None:
        """Every new course's and patient's rows, before the write transaction."""
        for row in work.decision.todo:
            self.course(row, work.planned[row.number])
        for key in self.batch.patients.keys() - work.copy.patients.keys():
            self.patient(key)

    def course(self, row: Row, course: Planned) -> tuple[list[list[Any]], list[Any]]:
        """The visits' rows and the audit entry (enrollment id and MRN to fill in)."""
        built = self._courses.get(row.number)
        if built is None or built[0] is not course:
            assert row.protocol is not None
            desk = self.desk
            entry = audit.entry(
                self.now,
                desk.user,
                "enrolled",
                "enrollment",
                0,
                None,
                after={
                    "protocol": row.protocol.id,
                    "version": row.protocol.protocol.version,
                    "start": row.start,
                    "time": f"{row.time:%H:%M}",
                    "clinician": row.clinician,
                    "visits": len(course.plan.visits),
                    "source": f"import row {row.number}",
                },
            )
            made = desk.visit_rows(0, course.plan, self.now, clinician_id=row.clinician_id)
            visits = [self.visits.values(v) for v in made]
            built = (course, visits, self.audit.values(entry))
            self._courses[row.number] = built
        return built[1], built[2]

    def patient(self, key: str) -> tuple[list[Any], list[Any]]:
        """The patient's row (its id to fill in) and its audit entry."""
        if key not in self._patients:
            patient, now = self.batch.patients[key], self.now
            shown = {k: v for k, v in patient.items() if k != "notes"}
            entry = audit.entry(
                now,
                self.desk.user,
                "patient added",
                "patient",
                patient["mrn"],
                patient["mrn"],
                after={**shown, "source": f"import row {self.batch.first_row[key]}"},
            )
            row = {"id": 0, **patient, "notify": patient["notify"] or "none"}
            row.update(no_shows=0, revision=1)
            self._patients[key] = (
                self.patients.values({**row, "created_at": now, "updated_at": now}),
                self.audit.values(entry),
            )
        return self._patients[key]


def _write(c: Connection, made: _Rows, work: _Work) -> ImportReport:
    copy, decision, planned = work.copy, work.decision, work.planned
    ids = {key: rows[0].id for key, rows in copy.patients.items()}
    mrns = {key: rows[0].mrn for key, rows in copy.patients.items()}
    new = [key for key in made.batch.patients if key not in copy.patients]
    patients: list[list[Any]] = []
    entries: list[list[Any]] = []
    for key, patient_id in zip(new, made.patients.ids(c, len(new)), strict=True):
        values, entry = made.patient(key)
        values[made.patients.at("id")] = ids[key] = patient_id
        mrns[key] = made.batch.patients[key]["mrn"]
        patients.append(values)
        entries.append(entry)
    made.patients.insert(c, patients)
    snapshots: dict[str, int] = {}
    enrollments: list[list[Any]] = []
    visits: list[list[Any]] = []
    course_of = made.visits.at("enrollment_id")
    entity, mrn = made.audit.at("entity_id"), made.audit.at("mrn")
    numbers = made.enrollments.ids(c, len(decision.todo))
    consenting: list[int] = []
    for row, enrollment_id in zip(decision.todo, numbers, strict=True):
        stored = copy.patients.get(row.key)
        notify = stored[0].notify if stored else made.batch.patients[row.key]["notify"]
        if notify == "email":
            consenting.append(enrollment_id)
        assert row.protocol is not None
        if row.protocol.id not in snapshots:
            snapshots[row.protocol.id] = made.desk.snapshot_id(c, row.protocol)
        enrollment = {
            "id": enrollment_id,
            "patient_id": ids[row.key],
            "snapshot_id": snapshots[row.protocol.id],
            "start_date": row.start,
            "visit_time": f"{row.time:%H:%M}",
            "clinician_id": row.clinician_id,
            "status": "active",
            "revision": 1,
            "created_at": made.now,
            "updated_at": made.now,
        }
        enrollments.append(made.enrollments.values(enrollment))
        rows, entry = made.course(row, planned[row.number])
        for visit in rows:
            visit[course_of] = enrollment_id
        entry = list(entry)
        entry[entity], entry[mrn] = str(enrollment_id), mrns[row.key]
        entries.append(entry)
        visits += rows
    made.enrollments.insert(c, enrollments)
    made.visits.insert(c, visits)
    made.audit.insert(c, entries)
    # Inserted, not changed: the outbox is told here, for the patients who agreed.
    outbox.visits_changed(c, made.desk, (), made.now, enrollment_ids=consenting)
    return ImportReport(len(new), len(enrollments), len(visits), decision.already)


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]
