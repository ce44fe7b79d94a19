"""The records layer (``visitplan.records``) as the TUI's ``ClinicData``.

Mostly a translation of the desk's views into the rows the screens show. Four
reads the desk has no call for (visits per day of a month, the patient count, one
screenful of a patient search, and the progress of many patients at once) are
queries here over the records' own tables, so that the month grid and the patient
list stay fast on a large clinic. Reads are remembered until the data version
changes, which lets a screen read its neighbours (the next day, the next month)
ahead of the keypress that shows them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pendulum
from sqlalchemy import bindparam, func, or_, select

from visitplan.domain.engine import Plan
from visitplan.errors import InputError
from visitplan.tui.data import EnrollmentCard, HistoryRow, PatientCard, PatientRow, VisitRow

if TYPE_CHECKING:
    from visitplan.records.operations import Desk
    from visitplan.records.views import EnrollmentView, HistoryEntry, VisitView

T = TypeVar("T")
# Enough for the days and months either side of what is on screen.
_REMEMBERED = 16


def visit_row(view: VisitView) -> VisitRow:
    return VisitRow(
        id=view.id,
        revision=view.revision,
        mrn=view.mrn,
        patient=view.patient_name,
        enrollment_id=view.enrollment_id,
        key=view.key,
        label=view.label,
        kind=view.kind,
        status=view.status,
        start=view.start,
        end=view.end,
        target=view.target,
        earliest=view.earliest,
        latest=view.latest,
        reason=view.deviation or view.reason,
        warnings=view.warnings,
    )


def enrollment_card(view: EnrollmentView, visits: Sequence[VisitView]) -> EnrollmentCard:
    return EnrollmentCard(
        id=view.id,
        revision=view.revision,
        protocol_id=view.protocol_id,
        protocol_title=view.protocol_title,
        protocol_version=view.protocol_version,
        start=view.start,
        time=view.time,
        status=view.status,
        clinician=view.clinician,
        visits=tuple(visit_row(v) for v in visits),
        newer_version=view.current_version if view.newer_version_available else None,
    )


def history_row(entry: HistoryEntry) -> HistoryRow:
    what = f"{entry.action} ({entry.entity} {entry.entity_id})"
    if entry.before and entry.after:
        changed = [
            f"{key}: {entry.before.get(key)} → {value}"
            for key, value in entry.after.items()
            if entry.before.get(key) != value
        ]
        what += ": " + "; ".join(changed) if changed else ""
    elif entry.after:
        # Names and notes stay out of the history line: it is shown on a shared screen.
        shown = {k: v for k, v in entry.after.items() if k not in ("name", "notes")}
        what += ": " + ", ".join(f"{k} {v}" for k, v in shown.items())
    return HistoryRow(entry.at, entry.who, what)


class RecordsData:
    """``ClinicData`` over a records ``Desk``; safe to call from worker threads
    (each call opens its own connection from the desk's pool)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        # Recent reads, each with the data version it was read at: a read is reused
        # only while nothing in the database has changed since (see ``version``).
        self._recent: OrderedDict[tuple[Any, ...], tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()  # workers read in threads of their own

    def _remembered(self, key: tuple[Any, ...], read: Callable[[], T]) -> T:
        version = self.version()
        with self._lock:
            found = self._recent.get(key)
        if found is not None and found[0] == version:
            return cast(T, found[1])
        value = read()
        with self._lock:
            self._recent[key] = (version, value)
            while len(self._recent) > _REMEMBERED:
                self._recent.popitem(last=False)
        return value

    def read_ahead(self, day: dt.date) -> threading.Thread:
        """Start reading a day's agenda now, while the UI is still being built."""
        thread = threading.Thread(target=self.agenda, args=(day, 1), daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.desk.close()

    def version(self) -> int:
        return self.desk.data_version()

    def agenda(self, first: dt.date, days: int) -> Sequence[VisitRow]:
        return self._remembered(
            ("agenda", first, days), lambda: [visit_row(v) for v in self.desk.agenda(first, days)]
        )

    def day_counts(self, first: dt.date, last: dt.date) -> dict[dt.date, int]:
        return self._remembered(("counts", first, last), lambda: self._day_counts(first, last))

    def _day_counts(self, first: dt.date, last: dt.date) -> dict[dt.date, int]:
        """One indexed count per local day: no row is fetched or converted."""
        from visitplan.records.reading import VISITS, to_utc

        tz = self.desk.calendar.tz
        count = (
            select(func.count())
            .select_from(VISITS)
            .where(
                VISITS.c.start_at >= bindparam("since"),
                VISITS.c.start_at < bindparam("until"),
                VISITS.c.status != "cancelled",
            )
        )
        counts: dict[dt.date, int] = {}
        with self.desk.engine.connect() as c:
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

    def patient_count(self) -> int:
        from visitplan.records.reading import PATIENTS

        with self.desk.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(PATIENTS)).scalar_one())

    def search_patients(self, text: str, limit: int) -> Sequence[PatientRow]:
        from visitplan.records.reading import PATIENTS

        # The desk's own search returns every match; the list only ever shows ``limit``.
        query = select(PATIENTS.c.mrn, PATIENTS.c.name).order_by(PATIENTS.c.mrn).limit(limit)
        if text:
            pattern = f"%{text.lower()}%"
            query = query.where(
                or_(
                    func.lower(PATIENTS.c.mrn).like(pattern),
                    func.lower(PATIENTS.c.name).like(pattern),
                )
            )
        with self.desk.engine.connect() as c:
            patients = c.execute(query).all()
        progress = self._progress([p.mrn for p in patients])
        rows = []
        for p in patients:
            protocol, done, total, next_visit, flags = progress.get(p.mrn, ("", 0, 0, None, ()))
            rows.append(PatientRow(p.mrn, p.name, protocol, done, total, next_visit, flags))
        return rows

    def _progress(
        self, mrns: Sequence[str]
    ) -> dict[str, tuple[str, int, int, dt.datetime | None, tuple[str, ...]]]:
        """Per patient: the latest active course's title, visits done of the course's
        total, the next open visit, and what needs attention."""
        from visitplan.records.reading import (
            ENROLLMENTS,
            PATIENTS,
            SNAPSHOTS,
            VISITS,
            from_utc,
            to_utc,
        )

        if not mrns:
            return {}
        query = (
            select(
                PATIENTS.c.mrn,
                ENROLLMENTS.c.id.label("enrollment"),
                ENROLLMENTS.c.status.label("course_status"),
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
        tz = self.desk.calendar.tz
        now = to_utc(self.desk.now())
        courses: dict[str, dict[int, list[Any]]] = defaultdict(dict)
        with self.desk.engine.connect() as c:
            for row in c.execute(query):
                courses[row.mrn].setdefault(row.enrollment, []).append(row)
        out: dict[str, tuple[str, int, int, dt.datetime | None, tuple[str, ...]]] = {}
        for mrn, by_course in courses.items():
            latest = by_course[max(by_course)]
            counted = [r for r in latest if r.status != "cancelled"]
            done = sum(1 for r in counted if r.status == "completed")
            flags: set[str] = set()
            upcoming: list[dt.datetime] = []
            for rows in by_course.values():
                for r in rows:
                    if r.status == "missed":
                        flags.add("needs rebooking")
                    elif r.status == "scheduled":
                        if r.start_at < now:  # both naive UTC, as stored
                            flags.add("overdue")
                        else:
                            upcoming.append(r.start_at)
                        local_day = r.start_at.replace(tzinfo=dt.UTC).astimezone(tz).date()
                        if not r.earliest <= local_day <= r.latest:
                            flags.add("out of window")
            protocol = latest[0].protocol_id
            next_visit = from_utc(min(upcoming), tz) if upcoming else None
            out[mrn] = (protocol, done, len(counted), next_visit, tuple(sorted(flags)))
        return out

    def patient(self, mrn: str) -> PatientCard | None:
        if not mrn.strip():
            return None
        try:
            view = self.desk.patient(mrn)
        except InputError:
            return None
        visits: defaultdict[int, list[VisitView]] = defaultdict(list)
        for visit in self.desk.visits(mrn=mrn):
            visits[visit.enrollment_id].append(visit)
        cards = tuple(enrollment_card(e, visits[e.id]) for e in self.desk.enrollments(mrn))
        return PatientCard(view.mrn, view.name, view.phone, view.email, view.no_shows, cards)

    def history(self, mrn: str) -> Sequence[HistoryRow]:
        return [history_row(e) for e in self.desk.history(mrn)]

    def check_patient(self, mrn: str, name: str, phone: str | None, email: str | None) -> None:
        from visitplan.records.operations import check_patient

        check_patient(mrn, name, phone, email)

    def add_patient(self, mrn: str, name: str, phone: str | None, email: str | None) -> None:
        self.desk.add_patient(mrn, name, phone, email)

    def preview(self, mrn: str | None, protocol_id: str, start: dt.date, time: dt.time) -> Plan:
        return self.desk.preview_enrollment(mrn, protocol_id, start, time)

    def enroll(
        self, mrn: str, protocol_id: str, start: dt.date, time: dt.time, clinician: str | None
    ) -> int:
        return self.desk.enroll(mrn, protocol_id, start, time, clinician).enrollment.id

    def done(self, visit: VisitRow, at: dt.datetime | None) -> None:
        self.desk.complete_visit(visit.id, at, expected_revision=visit.revision)

    def missed(self, visit: VisitRow) -> None:
        self.desk.miss_visit(visit.id, expected_revision=visit.revision)

    def move(self, visit: VisitRow, to: dt.datetime, force: bool) -> Sequence[str]:
        change = self.desk.move_visit(visit.id, to, force=force, expected_revision=visit.revision)
        return [f"{v.label} to {v.start:%a %m-%d}" for v in change.moved]

    def cancel(self, visit: VisitRow) -> None:
        self.desk.cancel_visit(visit.id, expected_revision=visit.revision)

    def withdraw(self, enrollment: EnrollmentCard) -> None:
        self.desk.withdraw(enrollment.id, expected_revision=enrollment.revision)

    def export_ics(self, mrn: str, path: Path) -> None:
        from visitplan.domain.ical import ExportOptions
        from visitplan.exporting import Scope, export_from_desk, write_atomic

        self.desk.patient(mrn)  # an unknown MRN says so, rather than an empty calendar
        data = export_from_desk(self.desk, Scope(patient=mrn), ExportOptions(audience="patient"))
        write_atomic(path, data)
