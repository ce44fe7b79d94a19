"""What makes a visit's time a deviation from its protocol or its clinic.

Derived from the visit's current time alone, so that the label is recomputed on
every change and always describes where the visit is now (never the day it used to
be on).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from visitplan.domain.clinic import ClinicCalendar


def days_word(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def window_words(earliest: dt.date, latest: dt.date) -> str:
    return f"{earliest:%a %Y-%m-%d} to {latest:%a %Y-%m-%d}"


def deviation(
    calendar: ClinicCalendar,
    start: dt.datetime,
    end: dt.datetime,
    earliest: dt.date,
    latest: dt.date,
) -> str | None:
    """How ``start``-``end`` (aware) departs from the window and the clinic's hours,
    in words; None when it does not."""
    day = start.astimezone(calendar.zone).date()
    parts = []
    if day < earliest:
        parts.append(
            f"{days_word((earliest - day).days)} before its window "
            f"({window_words(earliest, latest)})"
        )
    elif day > latest:
        parts.append(
            f"{days_word((day - latest).days)} after its window ({window_words(earliest, latest)})"
        )
    problem = clinic_problem(calendar, start, end)
    if problem is not None:
        parts.append(problem[1])
    return "; ".join(parts) or None


Problem = Literal["closed-day", "outside-hours"]


def clinic_problem(
    calendar: ClinicCalendar, start: dt.datetime, end: dt.datetime
) -> tuple[Problem, str] | None:
    """Whether the clinic (as ``calendar`` has it) cannot take a visit from ``start`` to
    ``end``: closed that day, or open but not for the whole visit."""
    local_start = start.astimezone(calendar.zone)
    local_end = end.astimezone(calendar.zone)
    day = local_start.date()
    closed = calendar.closed_because(day)
    if closed:
        return "closed-day", f"on a day the clinic is closed ({closed})"
    hours = calendar.hours(day)
    inside = (
        hours is not None
        and hours.opens <= local_start.time()
        and local_end.date() == day
        and local_end.time() <= hours.closes
    )
    if hours is not None and not inside:
        return (
            "outside-hours",
            f"{local_start:%H:%M}-{local_end:%H:%M} is outside opening hours ({hours})",
        )
    return None
