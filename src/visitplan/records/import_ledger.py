"""The clinic's bookings by local day, kept in memory while an import plans its
courses outside any transaction, and the re-planning of only the courses whose days
changed when the records moved on before the import could write.

The engine decides; the ledger only chooses which bookings it needs to see, so that
its answer is the one it would give with the whole day:
- the asked time still has room (fewer than capacity at once, at its busiest
  moment): the engine keeps it whatever else it is told, so it needs none;
- it is full: the engine looks for the nearest free start, and for starts within
  NEAR of the asked one the bookings overlapping that span are all that matter. If
  it still goes further, the plan is made again with whole days.
The same holds for the clinician's own bookings against their capacity; and when the
clinic has room all through that span, only the clinician's bookings can move the
visit, so the clinic's are left out.
A course's plan depends only on the bookings of the days the engine chose from the
calendar alone (its first, booking-free plan), so a course whose days hold the same
bookings as when it was planned would be planned the same again.
Times are POSIX timestamps here: an import compares millions of them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from visitplan.catalog import ProtocolFile
from visitplan.domain.clinic import ClinicCalendar
from visitplan.domain.diary import FiledBooking, Source
from visitplan.domain.engine import Booking, ClinicianBookings, Plan, plan
from visitplan.errors import InputError
from visitplan.records.import_file import Problems, Row
from visitplan.records.reading import from_utc

Entry = tuple[float, float, Booking]
# A booking as the visits table holds it: naive UTC, and whose visit it is.
Stored = tuple[dt.datetime, dt.datetime, int | None]


@dataclass(frozen=True, slots=True)
class Planned:
    plan: Plan
    looked: frozenset[dt.date]  # the days whose bookings the plan depends on
    booked: frozenset[tuple[dt.date, float, float]]  # what it adds to them
    clinician_id: int | None = None  # whose visits they are
    # The visits as the ledger files them (made once: a plan kept again inside the
    # write transaction is filed again, under the lock).
    entries: tuple[tuple[dt.date, Entry], ...] = ()


class TooMany(Exception):
    """More courses to re-plan than a write transaction should hold its lock for;
    ``changed`` are the days whose bookings changed, to plan again outside it."""

    def __init__(self, changed: set[dt.date]) -> None:
        super().__init__(f"{len(changed)} days changed")
        self.changed = changed


class Ledger:
    NEAR = 2 * 3600.0

    def __init__(
        self,
        calendar: ClinicCalendar,
        calendar_for: Callable[[int | None], ClinicCalendar],
        clinician: Callable[[int, Source], ClinicianBookings],
    ) -> None:
        """``calendar``: the clinic's; ``calendar_for``: a clinician's, and
        ``clinician`` a clinician with their bookings, for the engine (the Desk's)."""
        self.calendar = calendar
        self.calendar_for = calendar_for
        self.clinician = clinician
        self.stored: defaultdict[dt.date, list[Entry]] = defaultdict(list)
        self.ours: defaultdict[dt.date, list[Entry]] = defaultdict(list)
        # The same bookings again by clinician: (clinician id, day) -> theirs.
        self.stored_theirs: defaultdict[tuple[int, dt.date], list[Entry]] = defaultdict(list)
        self.ours_theirs: defaultdict[tuple[int, dt.date], list[Entry]] = defaultdict(list)

    def change_stored(self, gone: Iterable[Stored], came: Iterable[Stored]) -> set[dt.date]:
        """Bookings that left the records and came into them; the days they touch."""
        days: set[dt.date] = set()
        for start_at, end_at, who in came:
            day, entry = self._entry(start_at, end_at)
            self.stored[day].append(entry)
            if who is not None:
                self.stored_theirs[who, day].append(entry)
            days.add(day)
        for start_at, end_at, who in gone:
            day, (begin, end, _) = self._entry(start_at, end_at)
            _remove(self.stored[day], begin, end)
            if who is not None:
                _remove(self.stored_theirs[who, day], begin, end)
            days.add(day)
        return days

    def _entry(self, start_at: dt.datetime, end_at: dt.datetime) -> tuple[dt.date, Entry]:
        # In the clinic's zone already: the engine converts every booking it is
        # given, and that is cheap only for these.
        tz = self.calendar.tz
        start, end = from_utc(start_at, tz), from_utc(end_at, tz)
        booking = FiledBooking.of(start, end, self.calendar.zone)
        return start.date(), (start.timestamp(), end.timestamp(), booking)

    def forget_ours(self) -> None:
        self.ours.clear()
        self.ours_theirs.clear()

    def keep(self, planned: Planned) -> None:
        who = planned.clinician_id
        for day, entry in planned.entries:
            self.ours[day].append(entry)
            if who is not None:
                self.ours_theirs[who, day].append(entry)

    def _taken(self, day: dt.date) -> list[Entry]:
        return self.stored.get(day, []) + self.ours.get(day, [])

    def _theirs(self, clinician_id: int | None, day: dt.date) -> list[Entry]:
        if clinician_id is None:
            return []
        key = (clinician_id, day)
        return self.stored_theirs.get(key, []) + self.ours_theirs.get(key, [])

    def plan(
        self, protocol: ProtocolFile, start: dt.date, time: dt.time, clinician_id: int | None
    ) -> Planned:
        """The course planned on its clinician's days and hours (the clinic's without
        one), against every booking of the clinic and, among them, the clinician's."""
        calendar = self.calendar_for(clinician_id)
        capacity = calendar.clinic.capacity
        theirs_capacity = self.clinician(clinician_id, ()).capacity if clinician_id else 0
        # The clinician with none of their bookings: the days, and their hours.
        rough = self._plan(protocol, calendar, start, time, clinician_id, [], [])
        needed: list[Booking] = []
        needed_theirs: list[Booking] = []
        near: dict[str, float] = {}
        days = [visit.start.date() for visit in rough.visits]
        for day, visit in zip(days, rough.visits, strict=True):
            taken = self._taken(day)
            mine = self._theirs(clinician_id, day)
            begin, end = visit.start.timestamp(), visit.end.timestamp()
            overlapping = [(s, e, b) for s, e, b in taken if s < end and begin < e]
            busy = [(s, e, b) for s, e, b in mine if s < end and begin < e]
            # Two visits of the course on one day compete with each other too.
            if (
                _peak(overlapping, begin) < capacity
                and (not busy or _peak(busy, begin) < theirs_capacity)
                and days.count(day) == 1
            ):
                continue
            low, high = begin - self.NEAR, end + self.NEAR
            span = [(s, e, b) for s, e, b in taken if s < high and low < e]
            # Where the clinic has room all through the span (with the course's own
            # visits that day), only the clinician can be what moves the visit.
            if _peak(span, low) + days.count(day) > capacity:
                needed += [b for _, _, b in span]
            # The clinician's few visits that day, all of them: wherever the engine
            # then goes that day, it knows when they are free.
            needed_theirs += [b for _, _, b in mine]
            near[visit.key] = begin
        if not near:
            # Every visit has room at its asked time: the engine's first answer stands.
            result = rough
        else:
            result = self._plan(
                protocol, calendar, start, time, clinician_id, needed, needed_theirs
            )
        chosen = result.by_key()
        far = {
            chosen[k].start.date()
            for k, t in near.items()
            if abs(chosen[k].start.timestamp() - t) > self.NEAR
        }
        # Gone further than the span looked at: the clinic's other bookings that day
        # matter, unless it has room all day.
        if any(_peak(self._taken(day), 0.0) + days.count(day) > capacity for day in far):
            whole = [b for day in set(days) for _, _, b in self._taken(day)]
            whole_theirs = [b for day in set(days) for _, _, b in self._theirs(clinician_id, day)]
            result = self._plan(protocol, calendar, start, time, clinician_id, whole, whole_theirs)
        booked = frozenset(
            (v.start.date(), v.start.timestamp(), v.end.timestamp()) for v in result.visits
        )
        zone = self.calendar.zone
        entries = tuple(
            (
                v.start.date(),
                (v.start.timestamp(), v.end.timestamp(), FiledBooking.of(v.start, v.end, zone)),
            )
            for v in result.visits
        )
        planned = Planned(
            result, frozenset(days) | {day for day, _, _ in booked}, booked, clinician_id, entries
        )
        self.keep(planned)
        return planned

    def _plan(
        self,
        protocol: ProtocolFile,
        calendar: ClinicCalendar,
        start: dt.date,
        time: dt.time,
        clinician_id: int | None,
        bookings: list[Booking],
        theirs: list[Booking],
    ) -> Plan:
        who = None if clinician_id is None else self.clinician(clinician_id, theirs)
        return plan(protocol.protocol, calendar, start, time, bookings=bookings, clinician=who)


def _remove(taken: list[Entry], begin: float, end: float) -> None:
    index = next(i for i, (s, e, _) in enumerate(taken) if s == begin and e == end)
    del taken[index]


def plan_courses(
    ledger: Ledger,
    rows: list[Row],
    problems: Problems,
    before: dict[int, Planned] | None = None,
    changed: Iterable[dt.date] = (),
    budget: int | None = None,
) -> dict[int, Planned]:
    """Each row's course planned in file order, each against the records' bookings
    and the courses of the rows above it.

    With ``before`` (plans made against an older copy of the records, whose bookings
    differ on the ``changed`` days), a plan is kept when nothing on its days changed,
    and made again otherwise; a course whose visits then differ changes its days for
    the rows below. More than ``budget`` plans made again raises TooMany.
    """
    before = before or {}
    wanted = {row.number: row for row in rows}
    changed = set(changed)
    dirty = set(changed)
    planned: dict[int, Planned] = {}
    made = 0
    ledger.forget_ours()
    for number in sorted(wanted.keys() | before.keys()):
        old, row = before.get(number), wanted.get(number)
        if row is None:
            # No longer to be written (someone stored this course meanwhile).
            assert old is not None
            dirty |= {day for day, _, _ in old.booked}
            continue
        if old is not None and not old.looked & dirty:
            ledger.keep(old)
            planned[number] = old
            continue
        made += 1
        if budget is not None and made > budget:
            raise TooMany(changed)
        new = _plan_row(ledger, row, problems)
        moved = (new.booked if new else frozenset()) ^ (old.booked if old else frozenset())
        dirty |= {day for day, _, _ in moved}
        if new is not None:
            planned[number] = new
    return planned


def _plan_row(ledger: Ledger, row: Row, problems: Problems) -> Planned | None:
    assert row.protocol is not None
    assert row.start is not None
    try:
        return ledger.plan(row.protocol, row.start, row.time, row.clinician_id)
    except InputError as exc:
        problems.add(
            row.number, "start", f"no course from {row.start} can be planned: {exc.message}"
        )
    return None


def _peak(overlapping: list[Entry], begin: float) -> int:
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
