"""Clinicians as the clinic plans with them: who works which hours, and how many
patients each sees at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from visitplan.domain.hours import WEEKDAYS, Hours, Weekday

RANGE_EXAMPLE = "mon-fri=09:00-13:00,sat=09:00-12:00"


@dataclass(frozen=True, kw_only=True, slots=True)
class ClinicianSpec:
    """A clinician as the clinic file's ``[[clinicians]]`` (and `clinician add`) give one:
    working ``hours`` like RANGE_EXAMPLE (None: the clinic's opening hours), and how
    many patients they see at the same time (checked by ``clinic_file``)."""

    name: str
    hours: str | None = None
    capacity: int = 1

    @property
    def key(self) -> str:
        return name_key(self.name)

    def working_hours(self) -> Mapping[Weekday, Hours] | None:
        """Hours by weekday; None: the clinic's own."""
        return None if self.hours is None else parse_working_hours(self.hours)


def name_key(name: str) -> str:
    """What makes two clinician names one person: case and spacing do not count."""
    return " ".join(name.split()).casefold()


def parse_working_hours(text: str) -> dict[Weekday, Hours]:
    """``"mon-fri=09:00-13:00,sat=09:00-12:00"`` as hours per weekday."""
    found: dict[Weekday, Hours] = {}
    for part in (p.strip() for p in text.split(",")):
        days, sep, span = part.partition("=")
        if not sep:
            raise ValueError(f"{part!r} is not like {RANGE_EXAMPLE!r}")
        for day in _days(days.strip().lower(), part):
            if day in found:
                raise ValueError(f"{day} is given twice in {text!r}")
            found[day] = Hours.parse(span.strip())
    if not found:
        raise ValueError(f"no working hours in {text!r}")
    return found


def _days(text: str, part: str) -> list[Weekday]:
    first, dash, last = text.partition("-")
    if first not in WEEKDAYS or (dash and last not in WEEKDAYS):
        raise ValueError(f"{part!r}: days are mon, tue, wed, thu, fri, sat, sun, or a range")
    a = WEEKDAYS.index(first)
    b = WEEKDAYS.index(last) if dash else a
    if b < a:
        raise ValueError(f"{part!r}: a range of days runs forward, like mon-fri")
    return list(WEEKDAYS[a : b + 1])


def hours_words(hours: Mapping[Weekday, Hours]) -> str:
    """Hours per weekday written back in the form ``parse_working_hours`` reads."""
    return ",".join(f"{day}={hours[day]}" for day in WEEKDAYS if day in hours)
