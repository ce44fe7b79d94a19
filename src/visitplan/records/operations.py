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
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.records import audit, store
from visitplan.records.desk_base import STALE, WRITE_LOCK
from visitplan.records.enrollments import DEFAULT_TIME, EnrollmentRecords
from visitplan.records.messages import MessageRecords
from visitplan.records.patients import PatientRecords, check_patient
from visitplan.records.reading import AUDIT, history_entry
from visitplan.records.views import HistoryEntry, ImportReport, VisitChange
from visitplan.records.visits import VisitRecords

__all__ = ["DEFAULT_TIME", "STALE", "WRITE_LOCK", "Desk", "check_patient", "open_desk"]


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


class Desk(PatientRecords, EnrollmentRecords, VisitRecords, MessageRecords):
    """The records of one clinic, and the operations staff perform on them."""

    # -- visits: changing -------------------------------------------------------

    def complete_visit(
        self,
        visit_id: int,
        at: dt.datetime | None = None,
        expected_revision: int | None = None,
        *,
        dry_run: bool = False,
    ) -> VisitChange:
        """Done, at ``at`` (default now). A different day carries the visit's open
        dependents along, as the protocol anchors them."""
        from visitplan.records import rescheduling

        return rescheduling.complete(self, visit_id, at, expected_revision, dry_run)

    def move_visit(
        self,
        visit_id: int,
        to: dt.datetime,
        *,
        force: bool = False,
        expected_revision: int | None = None,
        dry_run: bool = False,
    ) -> VisitChange:
        """Booked at ``to`` (naive: clinic time), or the nearest free time that day.

        Outside the window or on a closed day it is refused unless ``force``, and
        then recorded as a deviation. A missed visit moved is owed again."""
        from visitplan.records import rescheduling

        return rescheduling.move(self, visit_id, to, force, expected_revision, dry_run)

    def miss_visit(
        self, visit_id: int, expected_revision: int | None = None, *, dry_run: bool = False
    ) -> VisitChange:
        """A no-show: kept on record and counted; the step stays owed (move or cancel it)."""
        from visitplan.records import rescheduling

        return rescheduling.miss(self, visit_id, expected_revision, dry_run)

    def cancel_visit(
        self, visit_id: int, expected_revision: int | None = None, *, dry_run: bool = False
    ) -> VisitChange:
        """Cancelled and kept (calendars need the cancellation)."""
        from visitplan.records import rescheduling

        return rescheduling.cancel(self, visit_id, expected_revision, dry_run)

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
