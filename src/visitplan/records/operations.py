"""The desk: everything staff do with the records, one transaction per change.

``open_desk`` is the one way in (the CLI, the TUI, the exporters and the tests all
use it). Each method reads and writes in a single transaction; a visit change
checks the revision the caller saw (or the one read in the same transaction) with
``UPDATE ... WHERE revision = :seen``, so no change is applied on top of data it did
not see. Results are frozen views (``visitplan.records.views``), never ORM objects.

The operations live by subject in ``patients``, ``enrollments`` and ``visits``, on
the plumbing in ``desk_base``; visit changes that cascade are in ``rescheduling``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from visitplan.catalog import ProtocolCatalog, machine_timezone
from visitplan.domain.clinic import Clinic, default_clinic
from visitplan.records import audit, store
from visitplan.records.clinic_ops import ClinicRecords
from visitplan.records.clinic_settings import read_state, refuse_other_clinic
from visitplan.records.desk_base import STALE, WRITE_LOCK
from visitplan.records.enrollments import DEFAULT_TIME, EnrollmentRecords
from visitplan.records.messages import MessageRecords
from visitplan.records.patients import PatientRecords, check_patient
from visitplan.records.reading import AUDIT, history_entry
from visitplan.records.views import HistoryEntry, ImportReport, VisitChange, VisitView
from visitplan.records.visits import VisitRecords

if TYPE_CHECKING:
    from visitplan.domain.free_times import FreeTime
    from visitplan.records.worklist import WorkItem, WorklistHead

__all__ = ["DEFAULT_TIME", "STALE", "WRITE_LOCK", "Desk", "check_patient", "open_desk"]


def open_desk(
    url: str | None,
    clinic: Clinic | None,
    catalog: ProtocolCatalog,
    user: str | None = None,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    migrate: bool = True,
    clinic_source: str = "the clinic file",
    check_clinic: bool = True,
) -> Desk:
    """A desk on the database at ``url`` (None: $VISITPLAN_DB, else the user's SQLite
    file), with the schema created or migrated first. ``user`` is who the audit
    trail names (default: the OS user); ``clock`` returns an aware "now" (tests).

    ``clinic`` is this workstation's clinic file (``clinic_source`` names it), or
    None without one. The database's clinic wins: a file that disagrees with it is
    refused in one line naming the first difference (unless ``check_clinic`` is off,
    for `clinic load`, which is how the clinic is changed). A database that holds no
    clinic yet takes the workstation's (or the default) on its first write."""
    engine = store.make_engine(url or store.default_url())
    try:
        if migrate:
            store.ensure_schema(engine)
        fallback = clinic or default_clinic(machine_timezone())
        try:
            with engine.connect() as c:
                state = read_state(c, fallback, lenient=not check_clinic)
        except DBAPIError as exc:
            raise store.unreachable(engine, exc) from None
        if state.version is not None and clinic is not None and check_clinic:
            refuse_other_clinic(state.settings, clinic, clinic_source)
    except BaseException:
        engine.dispose()
        raise
    return Desk(
        engine,
        fallback,
        catalog,
        user or audit.os_user(),
        clock=clock,
        state=state,
        workstation=clinic if check_clinic else None,
        workstation_source=clinic_source,
    )


def open_workstation_desk(
    db: str | None, clinic_file: str | None, protocols: Sequence[str], user: str | None
) -> Desk:
    """The desk a workstation's options (--db, --clinic, --protocols, --user) point at:
    the database's clinic, which this workstation's clinic file (if any) must agree with."""
    from visitplan.catalog import protocol_dirs, workstation_clinic

    found = workstation_clinic(clinic_file)
    catalog = ProtocolCatalog(protocol_dirs(protocols))
    return open_desk(db, found.clinic, catalog, user, clinic_source=found.source)


class Desk(PatientRecords, EnrollmentRecords, VisitRecords, ClinicRecords, MessageRecords):
    """The records of one clinic, and the operations staff perform on them."""

    # -- visits: changing -------------------------------------------------------

    def complete_visit(
        self,
        visit_id: int,
        at: dt.datetime | dt.date | None = None,
        expected_revision: int | None = None,
        *,
        dry_run: bool = False,
    ) -> VisitChange:
        """Done at ``at`` (naive: clinic time; a date: at its booked time that day).

        Without ``at``: as booked, if that time has passed (else now); refused when
        the window ended more than a day ago. A different day carries the visit's open
        dependents along, as the protocol anchors them."""
        from visitplan.records import outcomes

        return outcomes.complete(self, visit_id, at, expected_revision, dry_run)

    def move_visit(
        self,
        visit_id: int,
        to: dt.datetime | dt.date | str | None,
        *,
        force: bool = False,
        expected_revision: int | None = None,
        dry_run: bool = False,
        clinician: str | None = None,
    ) -> VisitChange:
        """Booked at ``to`` (naive: clinic time; a date: the visit's own time that day;
        ``"first"``: its first free time), or the nearest free time that day.

        The visit is then placed by hand: later cascades leave it where it is. Outside
        the window or on a closed day it is refused unless ``force``, and then recorded
        as a deviation; a no-show booked again after its window needs no ``force``.
        ``clinician`` hands the visit to another clinician (booked on their hours)."""
        from visitplan.records import rescheduling

        return rescheduling.move(self, visit_id, to, force, expected_revision, dry_run, clinician)

    def miss_visit(
        self, visit_id: int, expected_revision: int | None = None, *, dry_run: bool = False
    ) -> VisitChange:
        """A no-show, once its time has passed: kept on record and counted; the step
        stays owed (move or cancel it)."""
        from visitplan.records import outcomes

        return outcomes.miss(self, visit_id, expected_revision, dry_run)

    def cancel_visit(
        self, visit_id: int, expected_revision: int | None = None, *, dry_run: bool = False
    ) -> VisitChange:
        """Cancelled and kept (calendars need the cancellation)."""
        from visitplan.records import rescheduling

        return rescheduling.cancel(self, visit_id, expected_revision, dry_run)

    def reopen_visit(
        self, visit_id: int, expected_revision: int | None = None, *, dry_run: bool = False
    ) -> VisitChange:
        """Undo a wrong done, no-show or cancellation: the visit is scheduled again (a
        done one at the time it was booked for), and its dependents follow."""
        from visitplan.records import outcomes

        return outcomes.reopen(self, visit_id, expected_revision, dry_run)

    def free_times(
        self, visit_id: int, count: int = 5, around: dt.datetime | None = None
    ) -> tuple[VisitView, tuple[FreeTime, ...]]:
        """The visit and the nearest times it could be booked at: inside its window
        first (nearest its target, or ``around``), then the nearest outside, each
        marked; opening hours, closures, capacity, its clinician and its length
        honoured; never in the past."""
        from visitplan.records.slots import free_times_for

        with self._read() as c:
            row = self._visit_row(c, visit_id)
            view = self._visit(c, visit_id)
            return view, free_times_for(self, c, row, row.clinician_id, count, around)

    def worklist(self) -> list[WorkItem]:
        """Open visits that need someone (overdue, owed, on a closed day, outside their
        window), each with what to do, in time order."""
        from visitplan.records.worklist import worklist

        return worklist(self)

    def worklist_head(self, limit: int) -> WorklistHead:
        """The worklist's first ``limit`` items (every failed e-mail among them), and
        how many it holds in all."""
        from visitplan.records.worklist import worklist_head

        return worklist_head(self, limit)

    # -- history, import, backup ------------------------------------------------

    def history(self, mrn: str | None = None, limit: int | None = None) -> list[HistoryEntry]:
        """The audit trail, oldest first (of one patient, or of everything)."""
        query = select(AUDIT).order_by(AUDIT.c.id)
        with self._read() as c:
            if mrn is not None:
                query = query.where(AUDIT.c.mrn == self._patient_row(c, mrn).mrn)
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
