"""A clinician as the engine plans with them: the clinic as they work it (their hours
inside the clinic's, their leave closed), and the time they are already booked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

from visitplan.domain.clinic import Clinic, ClinicCalendar, Closure, overlap
from visitplan.domain.clinicians import ClinicianSpec
from visitplan.domain.diary import Source
from visitplan.domain.hours import Hours
from visitplan.errors import InputError


def clinician_clinic(
    clinic: Clinic, clinician: ClinicianSpec, leave: Mapping[dt.date, str] | None = None
) -> Clinic:
    """The clinic as one clinician works it: open when both the clinic and they are
    (their hours within the clinic's), and closed on their days of leave too."""
    own = clinician.working_hours()
    hours = {}
    for day, text in clinic.hours.items():
        if own is None:
            hours[day] = text
            continue
        both = overlap(Hours.parse(text), own.get(day))
        if both is not None:
            hours[day] = str(both)
    if not hours:
        raise InputError(
            f"{clinician.name} never works while the clinic is open: check their hours "
            f"({clinician.hours}) against the clinic's"
        )
    closures = (
        *clinic.closures,
        *(
            Closure(date=day, reason=f"{clinician.name}: {why}")
            for day, why in (leave or {}).items()
        ),
    )
    return replace(clinic, hours=hours, closures=closures)


@dataclass(frozen=True, slots=True)
class ClinicianBookings:
    """A clinician for the engine: who they are (their capacity: patients at once),
    the calendar they work (``clinician_calendar``), and the visits they already have
    (every one that matters, or a function giving those touching one local day; on
    every course and patient, leaving out the visits being planned)."""

    spec: ClinicianSpec
    calendar: ClinicCalendar
    bookings: Source = ()

    @property
    def capacity(self) -> int:
        return self.spec.capacity


def clinician_calendar(
    calendar: ClinicCalendar | Clinic,
    clinician: ClinicianSpec,
    leave: Mapping[dt.date, str] | None = None,
) -> ClinicCalendar:
    """The clinic's calendar narrowed to the clinician's hours and leave."""
    if isinstance(calendar, ClinicCalendar):
        return ClinicCalendar(
            clinician_clinic(calendar.clinic, clinician, leave), calendar.holidays_of
        )
    return ClinicCalendar(clinician_clinic(calendar, clinician, leave))


def with_clinician(
    calendar: ClinicCalendar | Clinic,
    clinician: ClinicianSpec,
    bookings: Source = (),
    leave: Mapping[dt.date, str] | None = None,
) -> ClinicianBookings:
    """A clinician with their calendar made from the clinic's (a preview's, a test's)."""
    return ClinicianBookings(clinician, clinician_calendar(calendar, clinician, leave), bookings)
