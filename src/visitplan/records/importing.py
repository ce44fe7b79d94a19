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

from visitplan.records import audit
from visitplan.records.import_file import Batch, Problems, Row, read_file
from visitplan.records.import_ledger import Ledger, Planned, Stored, TooMany, plan_courses
from visitplan.records.reading import AUDIT, ENROLLMENTS, PATIENTS, SNAPSHOTS, VISITS
from visitplan.records.views import ImportReport

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

    from visitplan.records.operations import Desk

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


def import_csv(desk: Desk, path: Path) -> ImportReport:
    batch, problems = read_file(desk, path)
    since = _since(batch)
    with desk._read() as c:
        copy = _read_copy(c, batch)
        decision = _decide(batch, copy, problems)
        if decision.todo:
            copy.bookings = _bookings(c, since)
    ledger = Ledger(desk.calendar)
    ledger.change_stored((), (copy.bookings or Counter()).elements())
    planned = plan_courses(ledger, decision.todo, problems)
    problems.check()
    if not decision.todo and batch.patients.keys() <= copy.patients.keys():
        return ImportReport(0, 0, 0, decision.already)
    for attempt in range(ATTEMPTS):
        last = attempt == ATTEMPTS - 1
        changed: set[dt.date] = set()
        try:
            with desk.write() as c:
                if _mark(c) != copy.mark:
                    again = Problems(path)
                    fresh = _read_copy(c, batch)
                    decision = _decide(batch, fresh, again)
                    again.check()
                    if decision.todo:
                        fresh.bookings = _bookings(c, since)
                        before, after = copy.bookings or Counter(), fresh.bookings
                        changed = ledger.change_stored(before - after, after - before)
                    else:
                        fresh.bookings = copy.bookings
                    copy = fresh
                    planned = plan_courses(
                        ledger, decision.todo, again, planned, changed, None if last else INSIDE
                    )
                    again.check()
                return _write(desk, c, batch, copy, decision, planned)
        except TooMany:
            again = Problems(path)
            planned = plan_courses(ledger, decision.todo, again, planned, changed)
            again.check()
    raise AssertionError("unreachable: the last attempt plans inside the transaction")


def _since(batch: Batch) -> dt.datetime:
    """The earliest booking that can matter: a year before the first course's start."""
    starts = [row.start for row in batch.rows if row.start is not None]
    first = min(starts, default=dt.date.max)
    if first <= dt.date.min + dt.timedelta(days=366):
        return dt.datetime.min
    return dt.datetime.combine(first - dt.timedelta(days=366), dt.time())


def _mark(c: Connection) -> int:
    return int(c.execute(select(func.coalesce(func.max(AUDIT.c.id), 0))).scalar_one())


def _read_copy(c: Connection, batch: Batch) -> _Copy:
    # The mark first: whatever is read after it is at least as new, so an unchanged
    # mark at write time means nothing read here has changed since.
    copy = _Copy(_mark(c), {}, {})
    lowered = sorted({patient["mrn"].lower() for patient in batch.patients.values()})
    for chunk in _chunks(lowered):
        query = select(PATIENTS).where(func.lower(PATIENTS.c.mrn).in_(chunk))
        for row in c.execute(query):
            key = row.mrn.strip().casefold()
            if key in batch.patients:
                copy.patients.setdefault(key, []).append(row)
    ids = sorted(rows[0].id for rows in copy.patients.values() if len(rows) == 1)
    columns = (
        ENROLLMENTS.c.id,
        ENROLLMENTS.c.patient_id,
        ENROLLMENTS.c.start_date,
        ENROLLMENTS.c.visit_time,
        ENROLLMENTS.c.clinician,
        ENROLLMENTS.c.status,
        SNAPSHOTS.c.protocol_id,
    )
    for chunk in _chunks(ids):
        query = (
            select(*columns)
            .join(SNAPSHOTS, SNAPSHOTS.c.id == ENROLLMENTS.c.snapshot_id)
            .where(ENROLLMENTS.c.patient_id.in_(chunk))
            .order_by(ENROLLMENTS.c.id)
        )
        for row in c.execute(query):
            copy.courses.setdefault(row.patient_id, []).append(row)
    return copy


def _bookings(c: Connection, since: dt.datetime) -> Counter[Stored]:
    query = select(VISITS.c.start_at, VISITS.c.end_at).where(
        VISITS.c.status.in_(("scheduled", "completed")), VISITS.c.start_at >= since
    )
    return Counter((r.start_at, r.end_at) for r in c.execute(query))


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
            elif (same.clinician or None) != row.clinician:
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
    }
    for name in ("name", "phone", "email", "notes"):
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


def _write(
    desk: Desk,
    c: Connection,
    batch: Batch,
    copy: _Copy,
    decision: _Decision,
    planned: dict[int, Planned],
) -> ImportReport:
    now = desk._stamp()
    ids, mrns, new = _patients(desk, c, batch, copy, now)
    snapshots: dict[str, int] = {}
    courses: list[tuple[Row, Planned]] = []
    for row in decision.todo:
        assert row.protocol is not None
        if row.protocol.id not in snapshots:
            snapshots[row.protocol.id] = desk.snapshot_id(c, row.protocol)
        courses.append((row, planned[row.number]))
    enrollment_ids = _enrollments(c, courses, ids, snapshots, now)
    visits: list[dict[str, Any]] = []
    entries = []
    for (row, course), enrollment_id in zip(courses, enrollment_ids, strict=True):
        visits += desk.visit_rows(enrollment_id, course.plan, now)
        assert row.protocol is not None
        entries.append(
            audit.entry(
                now,
                desk.user,
                "enrolled",
                "enrollment",
                enrollment_id,
                mrns[row.key],
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
        )
    bulk_insert(c, VISITS, visits)
    bulk_insert(c, AUDIT, entries)
    return ImportReport(new, len(courses), len(visits), decision.already)


def _patients(
    desk: Desk, c: Connection, batch: Batch, copy: _Copy, now: dt.datetime
) -> tuple[dict[str, int], dict[str, str], int]:
    """Key -> patient id, key -> the MRN as stored, and how many were added."""
    ids = {key: rows[0].id for key, rows in copy.patients.items()}
    mrns = {key: rows[0].mrn for key, rows in copy.patients.items()}
    new = [key for key in batch.patients if key not in copy.patients]
    if not new:
        return ids, mrns, 0
    params = [
        {
            **batch.patients[key],
            "no_shows": 0,
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        }
        for key in new
    ]
    result = c.execute(
        insert(PATIENTS).returning(PATIENTS.c.id, sort_by_parameter_order=True), params
    )
    for key, patient_id in zip(new, result.scalars().all(), strict=True):
        ids[key] = int(patient_id)
        mrns[key] = batch.patients[key]["mrn"]
    entries = []
    for key in new:
        fields = {k: v for k, v in batch.patients[key].items() if k != "notes"}
        entries.append(
            audit.entry(
                now,
                desk.user,
                "patient added",
                "patient",
                fields["mrn"],
                fields["mrn"],
                after={**fields, "source": f"import row {batch.first_row[key]}"},
            )
        )
    bulk_insert(c, AUDIT, entries)
    return ids, mrns, len(new)


def _enrollments(
    c: Connection,
    courses: list[tuple[Row, Planned]],
    ids: dict[str, int],
    snapshots: dict[str, int],
    now: dt.datetime,
) -> list[int]:
    if not courses:
        return []
    params = []
    for row, _ in courses:
        assert row.protocol is not None
        params.append(
            {
                "patient_id": ids[row.key],
                "snapshot_id": snapshots[row.protocol.id],
                "start_date": row.start,
                "visit_time": f"{row.time:%H:%M}",
                "clinician": row.clinician,
                "status": "active",
                "revision": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    result = c.execute(
        insert(ENROLLMENTS).returning(ENROLLMENTS.c.id, sort_by_parameter_order=True), params
    )
    return [int(i) for i in result.scalars().all()]


def bulk_insert(c: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Many rows at once, inside the import's transaction.

    On PostgreSQL through COPY (a third of an executemany's time for 70,000 visits);
    elsewhere an executemany.
    """
    if not rows:
        return
    if c.dialect.name != "postgresql":
        c.execute(insert(table), rows)
        return
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    raw = c.connection.driver_connection
    if raw is None:
        raise RuntimeError("the import's connection was closed")
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]
