"""Free times on request: the nearest start times a visit could be booked at.

Pure, like the engine, and in the engine's order, so that the first free time is
where the engine itself would book the visit when the day it chooses has room. The
records' `visitplan slots` and `visit move --to first` call it, and so can the TUI's
move form (give the typed day and time as the target to list the times nearest
them): bookings may come as a function of the day, so a search reads only the days
it looks at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pendulum

from visitplan.domain.clinic import ClinicCalendar, as_pendulum
from visitplan.domain.deviation import days_word
from visitplan.domain.diary import Diary, Source, local_start, micros, moment, nearest_first
from visitplan.domain.working import ClinicianBookings
from visitplan.errors import InputError

# How far past the target (or "now") the search looks before it gives up.
SEARCH_DAYS = 366


@dataclass(frozen=True, slots=True)
class FreeTime:
    """A start time with room for the whole visit, inside opening hours."""

    start: pendulum.DateTime
    end: pendulum.DateTime
    # 0 inside the window; else how many days before (negative) or after (positive) it.
    days_outside: int

    @property
    def in_window(self) -> bool:
        return self.days_outside == 0

    @property
    def day(self) -> dt.date:
        return self.start.date()

    def describe(self) -> str:
        """'in the window', '2 days after the window', '1 day before the window'."""
        if self.in_window:
            return "in the window"
        side = "after" if self.days_outside > 0 else "before"
        return f"{days_word(abs(self.days_outside))} {side} the window"


def free_times(
    calendar: ClinicCalendar,
    bookings: Source,
    *,
    duration: dt.timedelta,
    target: dt.date,
    time: dt.time,
    earliest: dt.date,
    latest: dt.date,
    not_before: dt.datetime,
    count: int = 5,
    floor: dt.date | None = None,
    clinician: ClinicianBookings | None = None,
) -> tuple[FreeTime, ...]:
    """The ``count`` nearest free start times for a visit of ``duration``.

    Inside the window (``earliest`` to ``latest``) first, then outside it, each
    marked. In each part the days come nearest to ``target`` first (the later day at
    equal distance), and on each day the times nearest to the visit's ``time`` (the
    later at equal distance): the order the engine uses. A time is offered when the
    whole visit lies inside the day's opening hours, the day is open (no closure or
    holiday), the clinic has room for it at every moment (``bookings``: every booking
    that matters, or a function giving one local day's; leave out the visit's own),
    it starts at ``time`` or on the slot grid (every ``slot_minutes`` from opening),
    and it starts no earlier than ``not_before`` (pass "now": never in the past) nor
    on a day before ``floor`` (the first day the visit may be on at all: the day
    after the visit it is measured from). Fewer come back when the search finds
    fewer within a year.

    With a ``clinician`` the days and hours are theirs (their calendar) and a time
    is offered only when they are free too (their bookings, against their capacity;
    leave out the visit's own).
    """
    if count < 1:
        raise InputError(f"the number of free times must be at least 1 (got {count})")
    if not_before.tzinfo is None or duration <= dt.timedelta(0):
        raise ValueError("not_before must be aware and duration positive")
    if clinician is None:
        diary = Diary(calendar, bookings)
    else:
        calendar = clinician.calendar
        diary = Diary(calendar, bookings, clinician=(clinician.capacity, clinician.bookings))
    zone = calendar.zone
    first_day = not_before.astimezone(zone).date()
    if floor is not None and floor > first_day:
        first_day = floor
    nb = micros(not_before)
    found: list[FreeTime] = []
    inside = nearest_first(target, max(earliest, first_day), latest)
    high = max(target, first_day) + dt.timedelta(days=SEARCH_DAYS)
    outside = (d for d in nearest_first(target, first_day, high) if not earliest <= d <= latest)
    for days in (inside, outside):
        for day in days:
            for start in _on(diary, calendar, day, time, duration, nb):
                offset = (day - latest).days if day > latest else min(0, (day - earliest).days)
                end = (start.astimezone(dt.UTC) + duration).astimezone(zone)
                found.append(
                    FreeTime(as_pendulum(start, calendar.tz), as_pendulum(end, calendar.tz), offset)
                )
                if len(found) == count:
                    return tuple(found)
    return tuple(found)


def _on(
    diary: Diary,
    calendar: ClinicCalendar,
    day: dt.date,
    time: dt.time,
    duration: dt.timedelta,
    not_before: int,
) -> Iterator[dt.datetime]:
    hours = calendar.hours(day)
    if hours is None:
        return
    asked = micros(local_start(calendar, day, time))
    for start in diary.free_starts(
        day, hours, duration, asked, not_before=not_before, offer_near=True
    ):
        yield moment(start, calendar.zone)
