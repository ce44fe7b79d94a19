"""The scheduling engine: (protocol, clinic, start, time) -> planned visits.

Pure: no I/O, no clock, no globals. The records layer calls it to enroll a patient
and again, with some visits pinned, to carry a late or moved visit's dependents along.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pendulum

from visitplan.domain.clinic import ClinicCalendar, Hours, as_pendulum
from visitplan.domain.limits import check_day
from visitplan.domain.protocol import Offset, Protocol, Step, VisitDefinition
from visitplan.errors import InputError

UTC = dt.UTC
# How far the engine looks for an open day outside a visit's window before giving up.
_SEARCH_DAYS = 366


@dataclass(frozen=True, slots=True)
class Booking:
    """Time already taken at the clinic (another patient's visit)."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    key: str
    step: Step
    target: dt.date
    earliest: dt.date
    latest: dt.date
    start: pendulum.DateTime
    end: pendulum.DateTime
    reason: str | None = None
    warnings: tuple[str, ...] = ()
    pinned: bool = False

    @property
    def definition(self) -> VisitDefinition:
        return self.step.definition

    @property
    def label(self) -> str:
        return self.step.label

    @property
    def kind(self) -> str:
        return self.step.definition.kind

    @property
    def anchor(self) -> str | None:
        return self.step.anchor

    @property
    def shifted(self) -> bool:
        return self.start.date() != self.target

    @property
    def in_window(self) -> bool:
        return self.earliest <= self.start.date() <= self.latest


@dataclass(frozen=True, slots=True)
class Plan:
    visits: tuple[PlannedVisit, ...]

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f"{v.label}: {w}" for v in self.visits for w in v.warnings)

    def by_key(self) -> dict[str, PlannedVisit]:
        return {v.key: v for v in self.visits}


def add_offset(day: dt.date, offset: Offset) -> dt.date:
    """Calendar arithmetic: months clamp to the month's end (30 Nov + 3 months = 28/29 Feb)."""
    if offset.months:
        moved = pendulum.Date(day.year, day.month, day.day).add(months=offset.months)
        day = dt.date(moved.year, moved.month, moved.day)
    return day + dt.timedelta(days=offset.days + 7 * offset.weeks)


@dataclass
class _Room:
    """Bookings per local date, as UTC intervals, to honour the clinic's capacity."""

    capacity: int
    by_day: defaultdict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, day: dt.date, start: dt.datetime, end: dt.datetime) -> None:
        self.by_day[day].append((start.astimezone(UTC), end.astimezone(UTC)))

    def fits(self, day: dt.date, start: dt.datetime, end: dt.datetime) -> bool:
        taken = self.by_day.get(day)
        if not taken:
            return True
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        overlapping = [(s, e) for s, e in taken if s < end and start < e]
        if len(overlapping) < self.capacity:
            return True
        # The busiest moment of [start, end) is at its start or where another booking starts.
        moments = [start] + [s for s, _ in overlapping if start < s]
        return all(sum(1 for s, e in overlapping if s <= m < e) < self.capacity for m in moments)


def plan(
    protocol: Protocol,
    calendar: ClinicCalendar,
    start: dt.date,
    time: dt.time,
    *,
    pinned: Mapping[str, dt.datetime] | None = None,
    bookings: Iterable[Booking] = (),
) -> Plan:
    """Plan a course starting on ``start`` with visits at local wall-clock ``time``.

    ``pinned`` visits keep the start they are given (done, moved by hand, or not
    affected by a change); the others follow their anchors. ``bookings`` are other
    visits already at the clinic, which count against its capacity.
    """
    check_day(start, "course start")
    pinned = pinned or {}
    zone = calendar.zone
    room = _Room(calendar.clinic.capacity)
    for booking in bookings:
        room.add(booking.start.astimezone(zone).date(), booking.start, booking.end)
    slot = calendar.clinic.slot_minutes

    scheduled: dict[str, dt.date] = {}
    planned: list[PlannedVisit] = []
    for step in protocol.steps:
        base = start if step.anchor is None else scheduled[step.anchor]
        target = add_offset(base, step.offset)
        window = step.definition.window
        earliest = target - dt.timedelta(days=window.before)
        latest = target + dt.timedelta(days=window.after)
        duration = dt.timedelta(minutes=step.definition.duration_minutes)
        if step.key in pinned:
            begin = pinned[step.key].astimezone(zone)
            end = _after(begin, duration, zone)
            reason: str | None = None
            warnings: tuple[str, ...] = ()
        else:
            day, reason, day_warnings = _choose_day(calendar, target, earliest, latest)
            begin, end, time_note, time_warnings = _choose_time(
                calendar, room, day, time, duration, slot
            )
            if time_note:
                reason = f"{reason}; {time_note}" if reason else time_note
            warnings = (*day_warnings, *time_warnings)
        planned.append(
            PlannedVisit(
                step.key,
                step,
                target,
                earliest,
                latest,
                as_pendulum(begin, calendar.tz),
                as_pendulum(end, calendar.tz),
                reason,
                warnings,
                pinned=step.key in pinned,
            )
        )
        room.add(begin.date(), begin, end)
        scheduled[step.key] = begin.date()
    planned.sort(key=lambda v: (v.start, v.key))
    return Plan(tuple(planned))


def _choose_day(
    calendar: ClinicCalendar, target: dt.date, earliest: dt.date, latest: dt.date
) -> tuple[dt.date, str | None, tuple[str, ...]]:
    why = calendar.closed_because(target)
    if why is None:
        return target, None, ()
    one = dt.timedelta(days=1)
    for distance in range(1, max((target - earliest).days, (latest - target).days) + 1):
        # At equal distance the later day wins: healing intervals run long rather than short.
        for day in (target + one * distance, target - one * distance):
            if earliest <= day <= latest and calendar.is_open(day):
                return day, why, ()
    for distance in range(1, _SEARCH_DAYS + 1):
        for day in (target + one * distance, target - one * distance):
            if not earliest <= day <= latest and calendar.is_open(day):
                warning = (
                    f"no open day in its window {earliest} to {latest} (target {target}: "
                    f"{why}); booked on {day}, outside the window: a protocol deviation"
                )
                return day, why, (warning,)
    raise InputError(f"the clinic is not open on any day within {_SEARCH_DAYS} days of {target}")


def local_start(calendar: ClinicCalendar, day: dt.date, time: dt.time) -> dt.datetime:
    """``time`` on ``day`` in the clinic's zone; a time skipped by DST moves forward,
    an ambiguous one (clocks going back) is the first of the two."""
    wall = dt.datetime.combine(day, time, tzinfo=calendar.zone)
    # A wall time in a DST gap does not survive a round trip through UTC; the trip
    # itself gives the forward-moved time (02:30 becomes 03:30).
    return wall.astimezone(UTC).astimezone(calendar.zone)


def _after(begin: dt.datetime, duration: dt.timedelta, zone: dt.tzinfo) -> dt.datetime:
    """Elapsed time, not wall-clock time: a visit across a DST change still lasts as long."""
    return (begin.astimezone(UTC) + duration).astimezone(zone)


def _choose_time(
    calendar: ClinicCalendar,
    room: _Room,
    day: dt.date,
    time: dt.time,
    duration: dt.timedelta,
    slot: int,
) -> tuple[dt.datetime, dt.datetime, str | None, tuple[str, ...]]:
    begin = local_start(calendar, day, time)
    end = _after(begin, duration, calendar.zone)
    warnings: list[str] = []
    if (begin.hour, begin.minute) != (time.hour, time.minute):
        warnings.append(
            f"{time:%H:%M} does not exist on {day} (the clocks go forward); booked at {begin:%H:%M}"
        )
    hours = calendar.hours(day)
    if room.fits(day, begin, end):
        if hours is not None and not _within(hours, begin, end):
            warnings.append(f"{begin:%H:%M} on {day} is outside opening hours ({hours})")
        return begin, end, None, tuple(warnings)
    if hours is not None:
        for candidate in _nearby_starts(calendar, day, begin, hours, duration, slot):
            candidate_end = _after(candidate, duration, calendar.zone)
            if room.fits(day, candidate, candidate_end):
                note = f"{begin:%H:%M} was fully booked; moved to {candidate:%H:%M}"
                return candidate, candidate_end, note, tuple(warnings)
    warnings.append(
        f"no free time on {day} within opening hours; booked at {begin:%H:%M} over capacity"
    )
    return begin, end, None, tuple(warnings)


def _within(hours: Hours, begin: dt.datetime, end: dt.datetime) -> bool:
    return hours.opens <= begin.time() and end.date() == begin.date() and end.time() <= hours.closes


def _nearby_starts(
    calendar: ClinicCalendar,
    day: dt.date,
    begin: dt.datetime,
    hours: Hours,
    duration: dt.timedelta,
    slot: int,
) -> list[dt.datetime]:
    first = local_start(calendar, day, hours.opens)
    last = local_start(calendar, day, hours.closes) - duration
    step = dt.timedelta(minutes=slot)
    candidates = []
    moment = first
    while moment <= last:
        candidates.append(moment)
        moment = moment + step
    # Nearest to the asked time first; at equal distance, the later one.
    candidates.sort(key=lambda c: (abs((c - begin).total_seconds()), -c.timestamp()))
    return candidates
