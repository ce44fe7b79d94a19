"""`visitplan import FILE.csv`: patients and their courses from a spreadsheet.

Every row is checked before anything is written, and everything goes in one
transaction: all rows or none, even if the process is killed half-way.
Columns (header row required, any order): mrn, name, phone, email, notes,
protocol, start, time, clinician. Only mrn and name are required; a row with a
protocol also needs a start date. Rows are numbered as a spreadsheet shows them
(the header is row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from visitplan.catalog import ProtocolFile
from visitplan.domain.engine import Booking, Plan, plan
from visitplan.errors import InputError
from visitplan.records import audit
from visitplan.records.reading import AUDIT, ENROLLMENTS, PATIENTS, VISITS, from_utc
from visitplan.records.views import ImportReport

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

    from visitplan.records.operations import Desk

COLUMNS = ("mrn", "name", "phone", "email", "notes", "protocol", "start", "time", "clinician")


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    patient: dict[str, Any]
    notes: str
    protocol: ProtocolFile | None
    start: dt.date | None
    time: dt.time
    clinician: str | None
    clinician_id: int | None = None


def read_rows(desk: Desk, path: Path) -> list[Row]:
    """Every row checked; the first problem names the row and the column."""
    from visitplan.records.operations import DEFAULT_TIME, check_patient

    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [(h or "").strip().lower() for h in reader.fieldnames or []]
            unknown = [h for h in header if h not in COLUMNS]
            if unknown or "mrn" not in header or "name" not in header:
                raise InputError(
                    f"{path}: row 1: the header must name the columns mrn and name, "
                    f"and only {', '.join(COLUMNS)}"
                    + (f" (unknown: {', '.join(unknown)})" if unknown else "")
                )
            reader.fieldnames = header
            raw = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read the CSV file: {exc}") from None
    rows: list[Row] = []
    names: dict[str, tuple[int, str]] = {}
    for index, record in enumerate(raw, start=2):
        if None in record:
            raise InputError(f"{path}: row {index}: more cells than columns in the header")
        cell = {k: (v or "").strip() for k, v in record.items()}
        where = f"{path}: row {index}"
        try:
            patient = check_patient(cell["mrn"], cell["name"], cell.get("phone"), cell.get("email"))
        except InputError as exc:
            column = (
                "email" if "e-mail" in exc.message else "name" if "name" in exc.message else "mrn"
            )
            raise InputError(f"{where}, column {column}: {exc.message}") from None
        seen = names.get(patient["mrn"])
        if seen is not None and seen[1] != patient["name"]:
            raise InputError(
                f"{where}, column name: MRN {patient['mrn']} is named differently on row {seen[0]}"
            )
        names.setdefault(patient["mrn"], (index, patient["name"]))
        protocol = start = None
        time = DEFAULT_TIME
        if cell.get("protocol"):
            try:
                protocol = desk.catalog.get(cell["protocol"])
            except InputError as exc:
                raise InputError(f"{where}, column protocol: {exc.message}") from None
            start = _parse(
                cell.get("start", ""),
                dt.date.fromisoformat,
                f"{where}, column start",
                "a real date in the form YYYY-MM-DD",
            )
            if cell.get("time"):
                time = _parse(cell["time"], _hhmm, f"{where}, column time", "a time like 09:30")
        elif cell.get("start") or cell.get("time") or cell.get("clinician"):
            raise InputError(
                f"{where}, column protocol: a start, time or clinician needs a protocol"
            )
        clinician = clinician_id = None
        if cell.get("clinician"):
            try:
                who = desk.state.clinician(cell["clinician"])
            except InputError as exc:
                raise InputError(f"{where}, column clinician: {exc.message}") from None
            clinician, clinician_id = who.name, who.id
        rows.append(
            Row(
                index,
                patient,
                cell.get("notes", ""),
                protocol,
                start,
                time,
                clinician,
                clinician_id,
            )
        )
    if not rows:
        raise InputError(f"{path}: no rows under the header")
    return rows


def import_csv(desk: Desk, path: Path) -> ImportReport:
    rows = read_rows(desk, path)
    with desk.write() as c:
        now = desk._stamp()
        ids = _patients(desk, c, rows, now, path)
        ledger = _Ledger(desk, c, rows)
        snapshots: dict[str, int] = {}
        courses: list[tuple[Row, Plan]] = []
        for row in rows:
            if row.protocol is None or row.start is None:
                continue
            if row.protocol.id not in snapshots:
                snapshots[row.protocol.id] = desk.snapshot_id(c, row.protocol)
            courses.append((row, ledger.plan(row.protocol, row.start, row.time, row.clinician_id)))
        enrollment_ids = _enrollments(c, courses, ids, snapshots, now)
        visits: list[dict[str, Any]] = []
        entries = []
        for (row, result), enrollment_id in zip(courses, enrollment_ids, strict=True):
            visits += desk.visit_rows(enrollment_id, result, now, clinician_id=row.clinician_id)
            assert row.protocol is not None
            entries.append(
                audit.entry(
                    now,
                    desk.user,
                    "enrolled",
                    "enrollment",
                    enrollment_id,
                    row.patient["mrn"],
                    after={
                        "protocol": row.protocol.id,
                        "version": row.protocol.protocol.version,
                        "start": row.start,
                        "time": f"{row.time:%H:%M}",
                        "clinician": row.clinician,
                        "visits": len(result.visits),
                        "source": f"import row {row.number}",
                    },
                )
            )
        if visits:
            bulk_insert(c, VISITS, visits)
        if entries:
            bulk_insert(c, AUDIT, entries)
        new_patients = sum(1 for row in rows if ids[row.patient["mrn"]][1] == row.number)
        return ImportReport(new_patients, len(courses), len(visits))


def _patients(
    desk: Desk, c: Connection, rows: list[Row], now: dt.datetime, path: Path
) -> dict[str, tuple[int, int]]:
    """MRN -> (patient id, the row that added it; 0 when it was already stored)."""
    mrns = sorted({row.patient["mrn"] for row in rows})
    stored: dict[str, tuple[int, str]] = {}
    for chunk in range(0, len(mrns), 500):
        query = select(PATIENTS.c.id, PATIENTS.c.mrn, PATIENTS.c.name).where(
            PATIENTS.c.mrn.in_(mrns[chunk : chunk + 500])
        )
        stored.update({r.mrn: (r.id, r.name) for r in c.execute(query)})
    ids: dict[str, tuple[int, int]] = {}
    new: list[Row] = []
    for row in rows:
        mrn = row.patient["mrn"]
        if mrn in stored:
            if stored[mrn][1] != row.patient["name"]:
                raise InputError(
                    f"{path}: row {row.number}, column name: MRN {mrn} is already stored "
                    "under another name"
                )
            ids[mrn] = (stored[mrn][0], 0)
        elif mrn not in ids:
            ids[mrn] = (0, row.number)
            new.append(row)
    if new:
        params = [
            {
                **row.patient,
                "notes": row.notes,
                "no_shows": 0,
                "revision": 1,
                "created_at": now,
                "updated_at": now,
            }
            for row in new
        ]
        result = c.execute(
            insert(PATIENTS).returning(PATIENTS.c.id, sort_by_parameter_order=True), params
        )
        for row, patient_id in zip(new, result.scalars().all(), strict=True):
            ids[row.patient["mrn"]] = (patient_id, row.number)
        bulk_insert(
            c,
            AUDIT,
            [
                audit.entry(
                    now,
                    desk.user,
                    "patient added",
                    "patient",
                    row.patient["mrn"],
                    row.patient["mrn"],
                    after={**row.patient, "source": f"import row {row.number}"},
                )
                for row in new
            ],
        )
    return ids


def _enrollments(
    c: Connection,
    courses: list[tuple[Row, Plan]],
    ids: dict[str, tuple[int, int]],
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
                "patient_id": ids[row.patient["mrn"]][0],
                "snapshot_id": snapshots[row.protocol.id],
                "start_date": row.start,
                "visit_time": f"{row.time:%H:%M}",
                "clinician_id": row.clinician_id,
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


class _Ledger:
    """The clinic's bookings by local day, kept in memory while an import plans.

    The engine decides; this only chooses which bookings it needs to see, so that
    its answer is the one it would give with the whole day:
    - the asked time still has room (fewer than capacity at once, at its busiest
      moment): the engine keeps it whatever else it is told, so it needs none;
    - it is full: the engine looks for the nearest free start, and for starts
      within NEAR of the asked one the bookings overlapping that span are all that
      matter. If it still goes further, the plan is made again with whole days.
    Times are POSIX timestamps here: an import compares millions of them.
    """

    NEAR = 2 * 3600.0

    def __init__(self, desk: Desk, c: Connection, rows: list[Row]) -> None:
        self.desk = desk
        self.by_day: defaultdict[dt.date, list[tuple[float, float, Booking]]] = defaultdict(list)
        starts = [row.start for row in rows if row.start is not None]
        if starts:
            query = select(VISITS.c.start_at, VISITS.c.end_at).where(
                VISITS.c.status.in_(("scheduled", "completed")),
                VISITS.c.start_at >= min(starts) - dt.timedelta(days=366),
            )
            tz = desk.calendar.tz
            for r in c.execute(query):
                # In the clinic's zone already: the engine converts every booking it
                # is given, and that is cheap only for these.
                start, end = from_utc(r.start_at, tz), from_utc(r.end_at, tz)
                self.by_day[start.date()].append(
                    (start.timestamp(), end.timestamp(), Booking(start, end))
                )

    def plan(
        self, protocol: ProtocolFile, start: dt.date, time: dt.time, clinician_id: int | None
    ) -> Plan:
        calendar = self.desk.calendar_for(clinician_id)
        capacity = calendar.clinic.capacity
        rough = plan(protocol.protocol, calendar, start, time)
        needed: list[Booking] = []
        near: dict[str, float] = {}
        days = [visit.start.date() for visit in rough.visits]
        for day, visit in zip(days, rough.visits, strict=True):
            taken = self.by_day.get(day, [])
            begin, end = visit.start.timestamp(), visit.end.timestamp()
            overlapping = [(s, e, b) for s, e, b in taken if s < end and begin < e]
            # Two visits of the course on one day compete with each other too.
            if _peak(overlapping, begin) < capacity and days.count(day) == 1:
                continue
            low, high = begin - self.NEAR, end + self.NEAR
            needed += [b for s, e, b in taken if s < high and low < e]
            near[visit.key] = begin
        if not near:
            # Every visit has room at its asked time: the engine's first answer stands.
            result = rough
        else:
            result = plan(protocol.protocol, calendar, start, time, bookings=needed)
        chosen = result.by_key()
        if any(abs(chosen[k].start.timestamp() - t) > self.NEAR for k, t in near.items()):
            whole = [b for day in set(days) for _, _, b in self.by_day.get(day, [])]
            result = plan(protocol.protocol, calendar, start, time, bookings=whole)
        for visit in result.visits:
            self.by_day[visit.start.date()].append(
                (visit.start.timestamp(), visit.end.timestamp(), Booking(visit.start, visit.end))
            )
        return result


def _peak(overlapping: list[tuple[float, float, Booking]], begin: float) -> int:
    """Most bookings running at the same moment of a span they all overlap."""
    starts = sorted(max(s, begin) for s, _, _ in overlapping)
    ends = sorted(e for _, e, _ in overlapping)
    peak = running = j = 0
    for start in starts:
        while ends[j] <= start:
            running -= 1
            j += 1
        running += 1
        peak = max(peak, running)
    return peak


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


def _parse(text: str, parse: Any, where: str, expected: str) -> Any:
    try:
        return parse(text)
    except ValueError:
        raise InputError(f"{where}: {text!r} is not {expected}") from None


def _hhmm(text: str) -> dt.time:
    if len(text) != 5 or text[2] != ":":
        raise ValueError(text)
    return dt.time(int(text[:2]), int(text[3:]))
