"""The desk's plumbing: connections and transactions, the clock, and what every
subject's operations share (a row by its key, the revision-checked visit write).

The operations themselves are grouped by subject (``patients``, ``enrollments``,
``visits``) on top of this class; ``operations.Desk`` puts them together.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self

import pendulum
from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic, ClinicCalendar
from visitplan.domain.deviation import deviation
from visitplan.errors import InputError
from visitplan.records import audit, outbox, store
from visitplan.records.clinic_settings import (
    ClinicState,
    clinic_stamp,
    clinician_clinic,
    read_state,
    refuse_other_clinic,
    store_settings,
)
from visitplan.records.reading import (
    AUDIT,
    ENROLLMENTS,
    PATIENTS,
    VISITS,
    Snapshots,
    enrollment_query,
    from_utc,
    mrn_matches,
    to_utc,
    visit_query,
)
from visitplan.records.reads_by_version import ReadsByVersion

STALE = "changed by someone else since you opened it"
WRITE_LOCK = 0x76697369  # PostgreSQL advisory lock key of the records' writers


class DeskBase:
    """What every part of the Desk builds on."""

    def __init__(
        self,
        engine: Engine,
        clinic: Clinic,
        catalog: ProtocolCatalog,
        user: str,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        state: ClinicState | None = None,
        workstation: Clinic | None = None,
        workstation_source: str = "the clinic file",
    ) -> None:
        """``clinic`` is what the Desk plans with until the database holds one (then
        ``state``, read from it, wins); ``workstation`` is this workstation's own clinic
        file, if it has one, which must agree with the database's."""
        self.engine = engine
        self._workstation = workstation
        self._workstation_source = workstation_source
        self._apply(state or ClinicState(None, clinic))
        self.catalog = catalog
        self.user = user
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._snapshots = Snapshots()
        self._seen_version: int | None = None
        self._current: dict[str, tuple[str, str] | None] = {}
        # The bookings a form's check read, by days (see CourseBuilding.plan_course).
        self.bookings_read: ReadsByVersion[Any] = ReadsByVersion(4)

    # -- the clinic -------------------------------------------------------------

    @property
    def state(self) -> ClinicState:
        return self._clinic[0]

    @property
    def clinic(self) -> Clinic:
        """The database's clinic, its closures added (the workstation's before any)."""
        return self._clinic[1]

    @property
    def calendar(self) -> ClinicCalendar:
        return self._clinic[2]

    def _apply(self, state: ClinicState) -> None:
        clinic = state.clinic()
        # One assignment: worker threads never see one state's clinic with another's
        # calendar (each clinician's is made when first asked for, into its dict).
        self._clinic: tuple[ClinicState, Clinic, ClinicCalendar, dict[int, ClinicCalendar]] = (
            state,
            clinic,
            ClinicCalendar(clinic),
            {},
        )

    def calendar_for(self, clinician_id: int | None) -> ClinicCalendar:
        """The calendar a clinician's visits are planned with: the clinic's, narrowed
        to their working hours and leave (the clinic's own without a clinician)."""
        state, clinic, calendar, theirs = self._clinic
        if clinician_id is None:
            return calendar
        found = theirs.get(clinician_id)
        if found is None:
            spec = state.by_id(clinician_id).spec
            found = ClinicCalendar(
                clinician_clinic(clinic, spec, state.leave.get(clinician_id, {}))
            )
            theirs[clinician_id] = found
        return found

    def _sync_clinic(self, c: Connection, *, store_first: bool) -> None:
        """Catch up with clinic changes made since they were read (another
        workstation's closure, a `clinic load`); on the database's first write, store
        the clinic this workstation plans with."""
        state = self.state
        if state.version is not None and clinic_stamp(c) == state.stamp:
            return
        fresh = read_state(c, state.settings, lenient=not state.valid)
        if fresh.version is None and store_first:
            store_settings(
                c, state.settings, self._workstation_source, self.user, self._stamp(), None
            )
            self._sync_clinicians(c, state.settings)
            fresh = read_state(c, state.settings)
        elif fresh.version is not None and self._workstation is not None:
            refuse_other_clinic(fresh.settings, self._workstation, self._workstation_source)
        if fresh.version is not None or fresh.stamp != state.stamp:
            self._apply(fresh)

    def _sync_clinicians(self, c: Connection, clinic: Clinic) -> None:
        """The clinic file's [[clinicians]] into the records (see ``ClinicRecords``)."""

    # -- plumbing ---------------------------------------------------------------

    @property
    def url(self) -> str:
        return store.safe(self.engine.url)

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
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
    def write(self, *, dry_run: bool = False) -> Iterator[Connection]:
        """One write transaction (on SQLite it takes the write lock at once).

        ``dry_run`` runs the same statements and rolls them back: a form's check is
        the operation itself, so what it accepts the save accepts too.
        """
        try:
            with self.engine.connect() as connection:
                connection.execution_options(**{store.WRITE: True})
                transaction = connection.begin()
                try:
                    if connection.dialect.name == "postgresql":
                        # Wait for another writer as long as SQLite's busy timeout,
                        # then fail with one line (store.unreachable), never hang.
                        connection.execute(
                            select(
                                func.set_config("lock_timeout", f"{store.BUSY_TIMEOUT_MS}ms", True)
                            )
                        )
                        # One writer at a time, as SQLite's BEGIN IMMEDIATE gives: two
                        # workstations must not both book the last free slot.
                        connection.execute(select(func.pg_advisory_xact_lock(WRITE_LOCK)))
                    # Under the lock: every change plans with the clinic as it is now.
                    self._sync_clinic(connection, store_first=not dry_run)
                    # A clinic change tried out, or refused, is forgotten with it.
                    kept = self._clinic
                    try:
                        yield connection
                    except BaseException:
                        self._clinic = kept
                        raise
                except BaseException:
                    transaction.rollback()
                    raise
                if dry_run:
                    transaction.rollback()
                    self._clinic = kept
                else:
                    transaction.commit()
        except IntegrityError as exc:
            raise InputError(
                f"not saved: the change conflicts with stored records ({_first(exc)})"
            ) from None
        except DBAPIError as exc:
            raise store.unreachable(self.engine, exc) from None

    def data_version(self) -> int:
        """Changes whenever any patient, enrollment or visit changes (the last audit id).

        The last id is enough because every change writes the audit inside ``write``,
        which lets one writer in at a time: ids become visible in the order they were
        given, so a change can never commit below an id a reader has already seen.
        """
        with self._read() as c:
            version = audit_version(c)
            if version != self._seen_version:
                # Something changed: perhaps the clinic (a closure added elsewhere).
                self._seen_version = version
                self._sync_clinic(c, store_first=False)
            return version

    # -- shared by every subject ------------------------------------------------

    def _patient_row(self, c: Connection, mrn: str) -> Any:
        """The patient whose MRN is ``mrn`` without regard to case or surrounding spaces."""
        row = c.execute(select(PATIENTS).where(mrn_matches(mrn))).first()
        if row is None:
            raise InputError(f"unknown MRN {mrn.strip()!r}")
        return row

    def _enrollment_row(self, c: Connection, enrollment_id: int) -> Any:
        row = c.execute(enrollment_query().where(ENROLLMENTS.c.id == enrollment_id)).first()
        if row is None:
            raise InputError(f"unknown enrollment id {enrollment_id}")
        return row

    def _visit_row(self, c: Connection, visit_id: int) -> Any:
        row = c.execute(visit_query().where(VISITS.c.id == visit_id)).first()
        if row is None:
            raise InputError(f"unknown visit id {visit_id}")
        return row

    def visit_name(self, c: Connection, row: Any) -> str:
        """A visit as staff know it: its label and its patient ("Session 2 of 6 for P-1")."""
        step = self._snapshots.get(c, row.snapshot_id).steps.get(row.key)
        return f"{step.label if step else row.key} for {row.mrn}"

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
        """Write ``changes`` if the visit is still at revision ``seen``; audit it.

        The deviation label is derived again from the visit's new time and window
        whenever either changes, so it never names a day the visit has left.
        """
        changes = dict(changes)
        placing = {"status", "start_at", "end_at", "earliest", "latest", "clinician_id"}
        if "deviation" not in changes and placing & changes.keys():
            final = {k: changes.get(k, getattr(row, k)) for k in placing}
            changes["deviation"] = self.deviation_of(final)
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
        # In the same transaction: a patient is told of a saved change, and only of one.
        outbox.visits_changed(c, self, [row.id], now)

    def deviation_of(self, visit: Mapping[str, Any]) -> str | None:
        """The deviation label of a visit row's (or its parameters') time and window."""
        if visit["status"] == "cancelled":
            return None
        tz = self.calendar.tz
        return deviation(
            self.calendar_for(visit.get("clinician_id")),
            from_utc(visit["start_at"], tz),
            from_utc(visit["end_at"], tz),
            visit["earliest"],
            visit["latest"],
        )


def seen_revision(what: str, current: int, expected: int | None) -> int:
    """The revision a change is based on: the one the caller read (``expected``) or,
    without one, the current one. A stale one fails before anything is written."""
    if expected is None:
        return current
    if expected > current:
        raise InputError(f"{what} is at revision {current}; there is no revision {expected} yet")
    if expected != current:
        raise InputError(f"{what}: {STALE}")
    return expected


def _shown(key: str, value: Any, tz: Any) -> Any:
    """Audit values as staff read them: stored UTC times shown in clinic time."""
    if key.endswith("_at") and isinstance(value, dt.datetime):
        return from_utc(value, tz).isoformat()
    if key == "warnings" and isinstance(value, str):
        return json.loads(value)
    return value


def _first(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__


def audit_version(c: Connection) -> int:
    """The last audit id: it changes with every change to the records."""
    return int(c.execute(select(func.coalesce(func.max(AUDIT.c.id), 0))).scalar_one())
