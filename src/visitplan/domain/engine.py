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

from visitplan.domain.clinic import ClinicCalendar, Hours
from visitplan.domain.protocol import Offset, Protocol, Step, VisitDefinition, steps
from visitplan.errors import InputError

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
    result = pendulum.Date(day.year, day.month, day.day).add(
        months=offset.months, weeks=offset.weeks, days=offset.days
    )
    return dt.date(result.year, result.month, result.day)


@dataclass
class _Room:
    """Bookings per local date, to honour the clinic's capacity."""

    capacity: int
    by_day: defaultdict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, day: dt.date, start: dt.datetime, end: dt.datetime) -> None:
        self.by_day[day].append((start, end))

    def fits(self, day: dt.date, start: dt.datetime, end: dt.datetime) -> bool:
        overlapping = [(s, e) for s, e in self.by_day.get(day, ()) if s < end and start < e]
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
    pinned = pinned or {}
    tz = calendar.tz
    room = _Room(calendar.clinic.capacity)
    for booking in bookings:
        local = pendulum.instance(booking.start).in_timezone(tz)
        room.add(local.date(), booking.start, booking.end)
    slot = calendar.clinic.slot_minutes

    scheduled: dict[str, dt.date] = {}
    planned: list[PlannedVisit] = []
    for step in steps(protocol):
        base = start if step.anchor is None else scheduled[step.anchor]
        target = add_offset(base, step.offset)
        window = step.definition.window
        earliest = target - dt.timedelta(days=window.before)
        latest = target + dt.timedelta(days=window.after)
        duration = dt.timedelta(minutes=step.definition.duration_minutes)
        if step.key in pinned:
            begin = pendulum.instance(pinned[step.key]).in_timezone(tz)
            visit = PlannedVisit(
                step.key, step, target, earliest, latest, begin, begin + duration, pinned=True
            )
        else:
            day, reason, warnings = _choose_day(calendar, target, earliest, latest)
            begin, time_note, time_warnings = _choose_time(
                calendar, room, day, time, duration, slot
            )
            if time_note:
                reason = f"{reason}; {time_note}" if reason else time_note
            visit = PlannedVisit(
                step.key,
                step,
                target,
                earliest,
                latest,
                begin,
                begin + duration,
                reason,
                (*warnings, *time_warnings),
            )
        room.add(visit.start.date(), visit.start, visit.end)
        scheduled[step.key] = visit.start.date()
        planned.append(visit)
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


def local_start(calendar: ClinicCalendar, day: dt.date, time: dt.time) -> pendulum.DateTime:
    """``time`` on ``day`` in the clinic's zone; a time skipped by DST moves forward."""
    return pendulum.datetime(day.year, day.month, day.day, time.hour, time.minute, tz=calendar.tz)


def _choose_time(
    calendar: ClinicCalendar,
    room: _Room,
    day: dt.date,
    time: dt.time,
    duration: dt.timedelta,
    slot: int,
) -> tuple[pendulum.DateTime, str | None, tuple[str, ...]]:
    begin = local_start(calendar, day, time)
    warnings: list[str] = []
    if (begin.hour, begin.minute) != (time.hour, time.minute):
        warnings.append(
            f"{time:%H:%M} does not exist on {day} (the clocks go forward); booked at {begin:%H:%M}"
        )
    hours = calendar.hours(day)
    if room.fits(day, begin, begin + duration):
        if hours is not None and not _within(hours, begin, duration):
            warnings.append(f"{begin:%H:%M} on {day} is outside opening hours ({hours})")
        return begin, None, tuple(warnings)
    if hours is not None:
        for candidate in _nearby_starts(calendar, day, begin, hours, duration, slot):
            if room.fits(day, candidate, candidate + duration):
                note = f"{begin:%H:%M} was fully booked; moved to {candidate:%H:%M}"
                return candidate, note, tuple(warnings)
    warnings.append(
        f"no free time on {day} within opening hours; booked at {begin:%H:%M} over capacity"
    )
    return begin, None, tuple(warnings)


def _within(hours: Hours, begin: pendulum.DateTime, duration: dt.timedelta) -> bool:
    end = begin + duration
    return hours.opens <= begin.time() and end.date() == begin.date() and end.time() <= hours.closes


def _nearby_starts(
    calendar: ClinicCalendar,
    day: dt.date,
    begin: pendulum.DateTime,
    hours: Hours,
    duration: dt.timedelta,
    slot: int,
) -> list[pendulum.DateTime]:
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
