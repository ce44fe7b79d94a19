"""The scheduling engine: (protocol, clinic, start, time) -> planned visits.

Pure: no I/O, no clock, no globals. The records layer calls it to enroll a patient
and again, with some visits pinned, to carry a late or moved visit's dependents along.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import pendulum

from visitplan.domain.clinic import ClinicCalendar, as_pendulum
from visitplan.domain.diary import (
    Booking,
    Diary,
    Source,
    after,
    local_start,
    micros,
    moment,
    nearest_first,
)
from visitplan.domain.hours import Hours
from visitplan.domain.limits import check_day
from visitplan.domain.protocol import Offset, Protocol, Step, VisitDefinition
from visitplan.domain.working import ClinicianBookings
from visitplan.errors import InputError

__all__ = [
    "Booking",
    "ClinicianBookings",
    "Plan",
    "PlannedVisit",
    "add_offset",
    "dependents",
    "local_start",
    "plan",
]

UTC = dt.UTC
# How far the engine looks for an open day outside a visit's window before giving up.
_SEARCH_DAYS = 366
_ONE_DAY = dt.timedelta(days=1)
_MICRO = dt.timedelta(microseconds=1)


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


class _Held(NamedTuple):
    """A visit already placed in this plan, as later visits see it."""

    day: dt.date
    end: int  # microseconds since the epoch


class _Bounds(NamedTuple):
    """Where one visit may go: its target, its window, and the first day it may be on.

    ``floor`` is the day after the visit it is measured from when the offset is
    positive (that day itself when it is zero; the course start for visits measured
    from it), and in a fixed-grid series also the day after the occurrence before.
    The window never reaches back past the floor, so that staff are never offered a
    day the engine itself would refuse.
    """

    target: dt.date
    earliest: dt.date
    latest: dt.date
    floor: dt.date
    floor_after: str | None  # the key of the visit the floor comes from; None: the start
    strict: bool  # the floor is the day after that visit's
    cut: bool  # the protocol's window reached back past the floor


class _Rule(NamedTuple):
    """What the engine needs of one step beyond its anchor, as timedeltas."""

    offset: dt.timedelta | None  # None when the offset counts calendar months
    before: dt.timedelta
    after: dt.timedelta
    duration: dt.timedelta
    micros: int  # the duration
    grid: bool  # a fixed-grid series, measured from its first visit


class _Rules:
    """Each step's rule, made once per plan and shared by the steps that agree.

    ``timedelta(days=n)`` costs several times a date addition, and a course asks the
    same few over and over (a series shares its definition and its interval).
    """

    def __init__(self) -> None:
        self._rules: dict[tuple[str, int], _Rule] = {}

    def of(self, step: Step) -> _Rule:
        # The steps keep their offsets alive while the plan runs, so ids stay unique.
        key = (step.definition.key, id(step.offset))
        found = self._rules.get(key)
        if found is None:
            definition, offset = step.definition, step.offset
            repeat = definition.repeat
            duration = dt.timedelta(minutes=definition.duration_minutes)
            found = self._rules[key] = _Rule(
                None if offset.months else dt.timedelta(days=offset.days + 7 * offset.weeks),
                dt.timedelta(days=definition.window.before),
                dt.timedelta(days=definition.window.after),
                duration,
                duration // _MICRO,
                repeat is not None and repeat.measured_from == "first",
            )
        return found


def _bounds(step: Step, rule: _Rule, start: dt.date, held: Mapping[str, _Held]) -> _Bounds:
    anchor = step.anchor
    base = start if anchor is None else held[anchor].day
    target = add_offset(base, step.offset) if rule.offset is None else base + rule.offset
    earliest = target - rule.before
    latest = target + rule.after
    strict = target != base  # offsets are never negative: only a zero one stays put
    floor = base + _ONE_DAY if strict else base
    cut = earliest < floor
    if cut:
        earliest = floor
    if rule.grid and step.occurrence > 2:
        # A fixed grid is measured from its first visit, but its visits still come
        # one after another: never two on one day, never out of order.
        before = step.definition.occurrence_key(step.occurrence - 1)
        after_before = held[before].day + _ONE_DAY
        if after_before > floor:
            floor, anchor, strict = after_before, before, True
            if after_before <= latest and earliest < after_before:
                earliest, cut = after_before, True
    return _Bounds(target, earliest, latest, floor, anchor, strict, cut)


class _Labels:
    """Visit labels by key, for the messages; built on first use (most plans need none)."""

    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol
        self._labels: dict[str, str] | None = None

    def __getitem__(self, key: str) -> str:
        if self._labels is None:
            self._labels = {step.key: step.label for step in self._protocol.steps}
        return self._labels[key]


def plan(
    protocol: Protocol,
    calendar: ClinicCalendar,
    start: dt.date,
    time: dt.time,
    *,
    pinned: Mapping[str, dt.datetime] | None = None,
    bookings: Source = (),
    clinician: ClinicianBookings | None = None,
) -> Plan:
    """Plan a course starting on ``start`` with visits at local wall-clock ``time``.

    ``pinned`` visits keep the start they are given (done, moved by hand, or not
    affected by a change); the others follow their anchors. ``bookings`` are other
    visits already at the clinic, which count against its capacity: every booking
    that matters, or a function giving the bookings that touch one local day.

    With a ``clinician``, the course is planned on their calendar (the clinic's
    narrowed to their hours and leave) and a time is taken only when the clinic has
    room and they are free too: their own bookings (every course of theirs, in the
    same two forms) count against their capacity.
    """
    check_day(start, "course start")
    pinned = pinned or {}
    if clinician is None:
        diary = Diary(calendar, bookings)
    else:
        calendar = clinician.calendar
        diary = Diary(calendar, bookings, clinician=(clinician.capacity, clinician.bookings))
    zone, tz = calendar.zone, calendar.tz
    # A clinician's visit starts only while they work: outside hours of their own it
    # moves (one who works the clinic's hours keeps the clinic's rule: a warning).
    who = None if clinician is None or clinician.spec.hours is None else clinician.spec.name
    labels = _Labels(protocol)
    rules = _Rules()
    held: dict[str, _Held] = {}
    planned: list[PlannedVisit] = []
    for step in protocol.steps:
        rule = rules.of(step)
        b = _bounds(step, rule, start, held)
        duration = rule.duration
        if step.key in pinned:
            begin = pinned[step.key].astimezone(zone)
            end = after(begin, duration, zone)
            s = micros(begin)
            reason: str | None = None
            warnings: tuple[str, ...] = ()
        else:
            day_warnings: tuple[str, ...] = ()
            if b.target >= b.floor and calendar.closed_because(b.target) is None:
                day, reason = b.target, None  # the usual case, kept short
            else:
                day, reason, day_warnings = _choose_day(calendar, b, labels)
            anchor = None if step.anchor is None else held[step.anchor]
            # A visit on the same day as the visit it is measured from comes after it.
            follows = None
            if anchor is not None and anchor.day == day:
                follows = (anchor.end, labels[step.anchor or ""])
            begin, end, s, time_note, time_warnings = _choose_time(
                calendar, diary, day, time, duration, follows, who
            )
            if time_note:
                reason = f"{reason}; {time_note}" if reason else time_note
            warnings = (*day_warnings, *time_warnings) if day_warnings else time_warnings
        e = s + rule.micros
        planned.append(
            PlannedVisit(
                step.key,
                step,
                b.target,
                b.earliest,
                b.latest,
                as_pendulum(begin, tz),
                as_pendulum(end, tz),
                reason,
                warnings,
                pinned=step.key in pinned,
            )
        )
        first = begin.date()
        diary.add(first, end.date(), s, e)
        held[step.key] = _Held(first, e)
    planned.sort(key=lambda v: (v.start, v.key))
    return Plan(tuple(planned))


def _choose_day(
    calendar: ClinicCalendar, b: _Bounds, labels: _Labels
) -> tuple[dt.date, str | None, tuple[str, ...]]:
    """The target if it is open and allowed; else the nearest open day of the window
    on or after the floor (the later at equal distance); else the nearest open day
    outside the window on or after the floor, with a warning."""
    if b.target < b.floor:
        why = _floor_words(b, labels)
    else:
        closed = calendar.closed_because(b.target)
        if closed is None:
            return b.target, None, ()
        why = closed
    for day in nearest_first(b.target, max(b.earliest, b.floor), b.latest):
        if calendar.is_open(day):
            return day, why, ()
    high = max(b.target, b.floor) + dt.timedelta(days=_SEARCH_DAYS)
    for day in nearest_first(b.target, b.floor, high):
        if not b.earliest <= day <= b.latest and calendar.is_open(day):
            cut = f", {_floor_words(b, labels)}" if b.cut or b.floor > b.latest else ""
            warning = (
                f"no open day in its window {b.earliest} to {b.latest}{cut} (target "
                f"{b.target}: {why}); booked on {day}, outside the window: a protocol deviation"
            )
            return day, why, (warning,)
    raise InputError(f"the clinic is not open on any day within {_SEARCH_DAYS} days of {b.target}")


def _floor_words(b: _Bounds, labels: _Labels) -> str:
    """'after Session 3 of 6 on 2027-01-08', 'from the course start on 2027-01-04'."""
    what = "the course start" if b.floor_after is None else labels[b.floor_after]
    if b.strict:
        return f"after {what} on {b.floor - _ONE_DAY}"
    return f"from {what} on {b.floor}"


def _choose_time(
    calendar: ClinicCalendar,
    diary: Diary,
    day: dt.date,
    time: dt.time,
    duration: dt.timedelta,
    follows: tuple[int, str] | None,
    clinician: str | None = None,
) -> tuple[dt.datetime, dt.datetime, int, str | None, tuple[str, ...]]:
    """The asked time if the clinic has room then, else the nearest free start of the
    day with the whole visit inside opening hours, else the asked time with a warning.

    ``follows`` is (end, label) of a visit this one must not start before. With a
    ``clinician`` (their name; ``calendar`` is theirs) the asked time must also lie
    within their hours, or the visit moves to the nearest free start that does.
    Returns the start and end, the start in microseconds, a note on why it moved,
    warnings.
    """
    zone = calendar.zone
    begin = local_start(calendar, day, time)
    warnings: list[str] = []
    note: str | None = None
    if begin.hour != time.hour or begin.minute != time.minute:
        warnings.append(
            f"{_hm(time)} does not exist on {day} (the clocks go forward); booked at {_hm(begin)}"
        )
    s = micros(begin)
    not_before = None
    if follows is not None and s < follows[0]:
        ends = moment(follows[0], zone)
        if ends.date() == day:
            s, begin = follows[0], ends
            note = f"after {follows[1]}, which ends at {_hm(begin)}"
        else:  # it runs past midnight: this visit cannot follow it on the same day
            warnings.append(
                f"{follows[1]} ends at {_hm(ends)} on {ends.date()}; booked at {_hm(begin)} "
                "on the same day, before it ends"
            )
    if follows is not None and s >= follows[0]:
        not_before = follows[0]  # and a full clinic does not move it back before it
    end = after(begin, duration, zone)
    hours = calendar.hours(day)
    why = "was fully booked"
    if diary.fits(day, end.date(), s, s + duration // _MICRO):
        if hours is not None and not (
            hours.opens <= begin.time() < hours.closes
            and end.date() == day
            and end.time() <= hours.closes
        ):
            if clinician is None:
                warnings += _outside_hours(hours, day, begin, end)
                return begin, end, s, note, tuple(warnings)
            why = f"is outside {clinician}'s hours ({hours})"
        else:
            return begin, end, s, note, tuple(warnings)
    if hours is not None:
        for free in diary.free_starts(day, hours, duration, s, not_before=not_before):
            candidate = moment(free, zone)
            moved = f"{_hm(begin)} {why}; moved to {_hm(candidate)}"
            moved = f"{note}; {moved}" if note else moved
            return candidate, after(candidate, duration, zone), free, moved, tuple(warnings)
    if why != "was fully booked":
        warnings.append(
            f"no free time on {day} within {clinician}'s hours ({hours}); "
            f"booked at {_hm(begin)}, outside them"
        )
    else:
        warnings.append(
            f"no free time on {day} within opening hours; booked at {_hm(begin)} over capacity"
        )
    return begin, end, s, note, tuple(warnings)


def _hm(at: dt.datetime | dt.time) -> str:
    """HH:MM, several times cheaper than strftime (every moved visit says its times)."""
    return f"{at.hour:02d}:{at.minute:02d}"


def _outside_hours(hours: Hours, day: dt.date, begin: dt.datetime, end: dt.datetime) -> list[str]:
    """A warning when the visit does not lie wholly inside the day's opening hours
    (wall-clock times, as the hours are written)."""
    if not hours.opens <= begin.time() < hours.closes or begin.date() != day:
        return [f"{_hm(begin)} on {day} is outside opening hours ({hours})"]
    if end.date() != day or end.time() > hours.closes:
        return [f"{_hm(begin)} on {day} ends at {_hm(end)}, after closing ({hours})"]
    return []


def dependents(protocol: Protocol, key: str) -> set[str]:
    """Every step whose date the engine derives from ``key``'s, directly or through a
    chain: those measured from it, and in a fixed grid the occurrences after it (each
    comes after the one before). One pass over the protocol's cached steps."""
    out: set[str] = set()
    for step in protocol.steps:
        grid_before = None
        repeat = step.definition.repeat
        if repeat is not None and step.occurrence > 2 and repeat.measured_from == "first":
            grid_before = step.definition.occurrence_key(step.occurrence - 1)
        hangs = step.anchor is not None and (step.anchor == key or step.anchor in out)
        if hangs or (grid_before is not None and (grid_before == key or grid_before in out)):
            out.add(step.key)
    return out
