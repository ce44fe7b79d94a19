"""Changing the clinic (part of the Desk): its settings (`clinic load`), closures as
they happen (a snow day, a clinician's leave) and its clinicians.

A change that puts open visits on a closed day, outside opening hours or over
capacity says which; with ``rebook`` the engine books them again by its usual rules
(their cascades included) in the same transaction, and the report lists every move.
Without it they stay, and the worklist shows them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from visitplan.domain.clinic import Clinic
from visitplan.domain.clinicians import ClinicianSpec, name_key
from visitplan.domain.deviation import clinic_problem
from visitplan.errors import InputError
from visitplan.records import audit
from visitplan.records.clinic_settings import (
    CLINICIANS,
    CLOSURES,
    ClinicianRecord,
    ClosureRecord,
    read_state,
    store_settings,
)
from visitplan.records.courses import CourseBuilding
from visitplan.records.desk_base import STALE, seen_revision
from visitplan.records.reading import (
    ENROLLMENTS,
    VISITS,
    from_utc,
    to_utc,
    visit_query,
    visit_views,
)
from visitplan.records.views import VisitView

# A closure longer than this is a typo more often than a plan.
LONGEST_CLOSURE_DAYS = 366
UNCHANGED: Any = object()


@dataclass(frozen=True, slots=True)
class Affected:
    """An open visit that a clinic change leaves on a closed day, outside opening
    hours or over capacity, and what is wrong with it."""

    visit: VisitView
    problem: str


@dataclass(frozen=True, slots=True)
class ClinicReport:
    """What a clinic change did: the visits it affects, and (with rebooking) every
    visit it moved, the affected ones and their cascades."""

    what: str
    affected: tuple[Affected, ...] = ()
    moved: tuple[VisitView, ...] = ()
    still: tuple[Affected, ...] = ()  # affected visits the engine could not book better
    closure: ClosureRecord | None = None
    version: int | None = None


class ClinicRecords(CourseBuilding):
    """Part of the Desk: the clinic's settings, closures and clinicians."""

    # -- settings ------------------------------------------------------------------

    def load_clinic(
        self, clinic: Clinic, source: str, *, rebook: bool = False, dry_run: bool = False
    ) -> ClinicReport:
        """Make ``clinic`` (read from ``source``) the clinic of every workstation."""
        first = self.state.version is None
        with self.write(dry_run=dry_run) as c:
            before = self.state
            if before.valid and before.settings == clinic:
                version = before.version
                # A database's first write stores the clinic this desk was opened with:
                # for `clinic load`, that is the file being loaded.
                what = (
                    f"clinic version {version} loaded from {source}"
                    if first
                    else f"the clinic is unchanged (version {version})"
                )
            else:
                replaced = before.settings if before.valid else None
                version = store_settings(c, clinic, source, self.user, self._stamp(), replaced)
                what = f"clinic version {version} loaded from {source}"
            self._sync_clinicians(c, clinic)
            self._apply(read_state(c, clinic))
            return self._report(c, what, None, None, rebook, version=version)

    def _sync_clinicians(self, c: Connection, clinic: Clinic) -> None:
        """Clinicians declared in the clinic file are added, or changed to match it;
        others are left as they are (their visits still name them)."""
        for spec in clinic.clinicians:
            known = c.execute(select(CLINICIANS).where(CLINICIANS.c.name_key == spec.key)).first()
            if known is None:
                self._insert_clinician(c, spec)
            elif (known.hours, known.capacity) != (spec.hours, spec.capacity):
                self._update_clinician(c, known, spec, known.revision)

    # -- closures --------------------------------------------------------------------

    def closures(self) -> list[ClosureRecord]:
        with self._read() as c:
            return list(read_state(c, self.state.settings).closures)

    def add_closure(
        self,
        first: dt.date,
        last: dt.date | None = None,
        reason: str = "clinic closed",
        clinician: str | None = None,
        *,
        rebook: bool = False,
        dry_run: bool = False,
    ) -> ClinicReport:
        """Close the clinic (or one clinician: leave) from ``first`` to ``last``."""
        last = last or first
        reason = " ".join(reason.split())
        if last < first:
            raise InputError(f"closure: {last:%a %Y-%m-%d} is before {first:%a %Y-%m-%d}")
        if (last - first).days >= LONGEST_CLOSURE_DAYS:
            raise InputError(
                f"closure: {(last - first).days + 1} days is longer than the "
                f"{LONGEST_CLOSURE_DAYS} days one closure may last"
            )
        if not reason or len(reason) > 200 or not reason.isprintable():
            raise InputError("closure: the reason must be 1 to 200 printable characters")
        with self.write(dry_run=dry_run) as c:
            who = self.state.clinician(clinician) if clinician else None
            now = self._stamp()
            closure_id = int(
                c.execute(
                    insert(CLOSURES).returning(CLOSURES.c.id),
                    [
                        {
                            "first_day": first,
                            "last_day": last,
                            "reason": reason,
                            "clinician_id": who.id if who else None,
                            "created_at": now,
                            "created_by": self.user,
                        }
                    ],
                ).scalar_one()
            )
            audit.record(
                c,
                at=now,
                who=self.user,
                action="closure added",
                entity="closure",
                entity_id=closure_id,
                mrn=None,
                after={
                    "first_day": first,
                    "last_day": last,
                    "reason": reason,
                    "clinician": who.name if who else None,
                },
            )
            self._apply(read_state(c, self.state.settings))
            closure = next(x for x in self.state.closures if x.id == closure_id)
            whom = f" for {who.name}" if who else ""
            what = f"closure {closure_id} added{whom}: {_span(first, last)} ({reason})"
            days = set(closure.days())
            return self._report(c, what, days, who.id if who else None, rebook, closure=closure)

    def remove_closure(self, closure_id: int, *, dry_run: bool = False) -> ClosureRecord:
        """The days are open again; visits moved off them stay where they are."""
        with self.write(dry_run=dry_run) as c:
            closure = next((x for x in self.state.closures if x.id == closure_id), None)
            if closure is None:
                raise InputError(f"unknown closure id {closure_id}")
            c.execute(delete(CLOSURES).where(CLOSURES.c.id == closure_id))
            audit.record(
                c,
                at=self._stamp(),
                who=self.user,
                action="closure removed",
                entity="closure",
                entity_id=closure_id,
                mrn=None,
                before={
                    "first_day": closure.first_day,
                    "last_day": closure.last_day,
                    "reason": closure.reason,
                    "clinician": closure.clinician,
                },
            )
            self._apply(read_state(c, self.state.settings))
            return closure

    # -- clinicians ------------------------------------------------------------------

    def clinicians(self) -> list[ClinicianRecord]:
        with self._read() as c:
            return list(read_state(c, self.state.settings).clinicians)

    def add_clinician(
        self, name: str, hours: str | None = None, capacity: int = 1, *, dry_run: bool = False
    ) -> ClinicianRecord:
        spec = _spec(name, hours, capacity)
        with self.write(dry_run=dry_run) as c:
            known = c.execute(select(CLINICIANS.c.name).where(CLINICIANS.c.name_key == spec.key))
            same = known.scalar()
            if same is not None:
                raise InputError(f"clinician {spec.name!r} already exists (as {same!r})")
            clinician_id = self._insert_clinician(c, spec)
            self._apply(read_state(c, self.state.settings))
            return self.state.by_id(clinician_id)

    def edit_clinician(
        self,
        name: str,
        *,
        rename: str | None = None,
        hours: str | None = UNCHANGED,
        capacity: int | None = None,
        expected_revision: int | None = None,
        dry_run: bool = False,
    ) -> ClinicReport:
        """Change a clinician's name, hours (None: the clinic's) or capacity; the report
        lists their open visits now outside their hours."""
        with self.write(dry_run=dry_run) as c:
            record = self.state.clinician(name)
            row = c.execute(select(CLINICIANS).where(CLINICIANS.c.id == record.id)).one()
            spec = _spec(
                rename if rename is not None else row.name,
                row.hours if hours is UNCHANGED else hours,
                capacity if capacity is not None else row.capacity,
            )
            if spec.key != row.name_key:
                clash = c.execute(
                    select(CLINICIANS.c.name).where(CLINICIANS.c.name_key == spec.key)
                ).scalar()
                if clash is not None:
                    raise InputError(f"clinician {spec.name!r} already exists (as {clash!r})")
            seen = seen_revision(f"clinician {row.name}", row.revision, expected_revision)
            if (spec.name, spec.hours, spec.capacity) == (row.name, row.hours, row.capacity):
                return ClinicReport(f"clinician {row.name}: nothing to change")
            self._update_clinician(c, row, spec, seen)
            self._apply(read_state(c, self.state.settings))
            what = f"clinician {spec.name} changed (revision {seen + 1})"
            return self._report(c, what, None, record.id, False)

    def _insert_clinician(self, c: Connection, spec: ClinicianSpec) -> int:
        now = self._stamp()
        clinician_id = int(
            c.execute(
                insert(CLINICIANS).returning(CLINICIANS.c.id),
                [
                    {
                        "name": spec.name,
                        "name_key": spec.key,
                        "hours": spec.hours,
                        "capacity": spec.capacity,
                        "revision": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
            ).scalar_one()
        )
        audit.record(
            c,
            at=now,
            who=self.user,
            action="clinician added",
            entity="clinician",
            entity_id=clinician_id,
            mrn=None,
            after={"name": spec.name, "hours": spec.hours, "capacity": spec.capacity},
        )
        return clinician_id

    def _update_clinician(self, c: Connection, row: Any, spec: ClinicianSpec, seen: int) -> None:
        now = self._stamp()
        wanted = {"name": spec.name, "hours": spec.hours, "capacity": spec.capacity}
        changed = {k: v for k, v in wanted.items() if getattr(row, k) != v}
        done = c.execute(
            update(CLINICIANS)
            .where(CLINICIANS.c.id == row.id, CLINICIANS.c.revision == seen)
            .values(
                **changed,
                name_key=name_key(spec.name),
                revision=CLINICIANS.c.revision + 1,
                updated_at=now,
            )
        )
        if done.rowcount != 1:
            raise InputError(f"clinician {row.name}: {STALE}")
        audit.record(
            c,
            at=now,
            who=self.user,
            action="clinician changed",
            entity="clinician",
            entity_id=row.id,
            mrn=None,
            before={k: getattr(row, k) for k in changed},
            after=changed,
        )

    # -- what a change does to the visits -------------------------------------------

    def _report(
        self,
        c: Connection,
        what: str,
        days: set[dt.date] | None,
        clinician_id: int | None,
        rebook: bool,
        *,
        closure: ClosureRecord | None = None,
        version: int | None = None,
    ) -> ClinicReport:
        affected = self._affected(c, days, clinician_id)
        if not rebook or not affected:
            return ClinicReport(what, tuple(affected), closure=closure, version=version)
        from visitplan.records.rescheduling import rebook as book_again

        moved: list[int] = []
        now = self._stamp()
        for item in affected:
            row = self._visit_row(c, item.visit.id)
            if self._problem(c, row) is None:
                continue  # an earlier rebooking's cascade moved it already
            ids = book_again(self, c, row, f"booked again: {item.problem}", now)
            moved += [i for i in ids if i not in moved]
        rows = c.execute(visit_query().where(VISITS.c.id.in_(moved))).all()
        views = sorted(
            visit_views(c, rows, self._snapshots, self.calendar.tz), key=lambda v: (v.start, v.id)
        )
        still = tuple(a for a in self._affected(c, days, clinician_id))
        return ClinicReport(what, tuple(affected), tuple(views), still, closure, version)

    def _affected(
        self, c: Connection, days: set[dt.date] | None, clinician_id: int | None
    ) -> list[Affected]:
        """Open visits still ahead (of running courses; of one clinician, on some days)
        that the clinic as it is now cannot take as booked."""
        tz = self.calendar.tz
        query = visit_query().where(
            VISITS.c.status == "scheduled",
            ENROLLMENTS.c.status == "active",
            VISITS.c.start_at >= self._stamp(),
        )
        if clinician_id is not None:
            query = query.where(VISITS.c.clinician_id == clinician_id)
        if days:
            query = query.where(or_(*(_local_day(VISITS.c.start_at, d, tz) for d in days)))
        rows = c.execute(query.order_by(VISITS.c.start_at, VISITS.c.id)).all()
        found = []
        for row in rows:
            problem = self._problem(c, row)
            if problem is not None:
                view = visit_views(c, [row], self._snapshots, tz)[0]
                found.append(Affected(view, problem))
        return found

    def _problem(self, c: Connection, row: Any) -> str | None:
        """Why the clinic cannot take this visit as booked, or None."""
        calendar = self.calendar_for(row.clinician_id)
        start = from_utc(row.start_at, calendar.tz)
        problem = clinic_problem(calendar, start, from_utc(row.end_at, calendar.tz))
        if problem is not None and problem[0] == "closed-day":
            return f"closed on {start:%a %Y-%m-%d} ({calendar.closed_because(start.date())})"
        if problem is not None:
            return problem[1]
        if self._over_capacity(c, row, self.clinic.capacity):
            return (
                f"{start:%a %Y-%m-%d %H:%M} is over the clinic's capacity ({self.clinic.capacity})"
            )
        if row.clinician_id is not None:
            who = self.state.by_id(row.clinician_id).spec
            if self._over_capacity(c, row, who.capacity, row.clinician_id):
                return (
                    f"{start:%a %Y-%m-%d %H:%M}: {who.name} is already booked then "
                    f"(sees {who.capacity} at a time)"
                )
        return None

    def _over_capacity(
        self, c: Connection, row: Any, capacity: int, clinician_id: int | None = None
    ) -> bool:
        """More visits at some moment of this one than ``capacity`` (the clinic's; a
        clinician's, counting only theirs)."""
        query = select(VISITS.c.start_at, VISITS.c.end_at).where(
            VISITS.c.status.in_(("scheduled", "completed")),
            VISITS.c.start_at < row.end_at,
            VISITS.c.end_at > row.start_at,
            VISITS.c.id != row.id,
        )
        if clinician_id is not None:
            query = query.where(VISITS.c.clinician_id == clinician_id)
        others = c.execute(query).all()
        if len(others) < capacity:
            return False
        moments = [row.start_at] + [o.start_at for o in others if o.start_at > row.start_at]
        running: defaultdict[dt.datetime, int] = defaultdict(int)
        for moment in moments:
            running[moment] = 1 + sum(1 for o in others if o.start_at <= moment < o.end_at)
        return max(running.values()) > capacity


def _local_day(column: Any, day: dt.date, tz: Any) -> Any:
    import pendulum

    begin = pendulum.datetime(day.year, day.month, day.day, tz=tz)
    return (column >= to_utc(begin)) & (column < to_utc(begin.add(days=1)))


def _span(first: dt.date, last: dt.date) -> str:
    if first == last:
        return f"{first:%a %Y-%m-%d}"
    return f"{first:%a %Y-%m-%d} to {last:%a %Y-%m-%d}"


def _spec(name: str, hours: str | None, capacity: int) -> ClinicianSpec:
    from visitplan.domain.clinic_file import clinician

    return clinician(name, hours, capacity)
