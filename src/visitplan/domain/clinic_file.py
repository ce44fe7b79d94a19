"""The clinic file's schema: pydantic models that check ``clinic.toml`` (and the
settings the records store) and become the plain values of ``clinic.py``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any

import pendulum
from pydantic import Field, field_validator, model_validator

from visitplan.domain import clinic as value
from visitplan.domain import limits
from visitplan.domain.clinicians import RANGE_EXAMPLE, ClinicianSpec, parse_working_hours
from visitplan.domain.file_models import FileModel, validated
from visitplan.domain.hours import Hours, Weekday
from visitplan.domain.protocol_file import Line, LongLine

# An address as calendar programs accept it in ORGANIZER: a dot-atom local part.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


class HolidaySource(FileModel):
    VALUE = value.HolidaySource

    country: Annotated[str, Field(min_length=2, max_length=3)]
    subdivision: Annotated[Line, Field(max_length=10)] | None = None

    @model_validator(mode="after")
    def _known(self) -> HolidaySource:
        from holidays.registry import EntityLoader

        # The registry knows the codes without loading every country's rules (which
        # costs more than a whole `visitplan agenda`); a subdivision needs the rules.
        if self.country not in set(EntityLoader.get_country_codes()):
            raise ValueError(f"unknown country code {self.country!r}")
        if self.subdivision is not None:
            import holidays

            value.import_country_rules(self.country)
            try:
                holidays.country_holidays(self.country, subdiv=self.subdivision, years=2026)
            except Exception as exc:
                raise ValueError(
                    f"{self.country!r} has no subdivision {self.subdivision!r} ({exc})"
                ) from None
        return self


class Closure(FileModel):
    VALUE = value.Closure

    date: dt.date
    reason: Line = "clinic closed"

    @field_validator("date")
    @classmethod
    def _served(cls, day: dt.date) -> dt.date:
        problem = limits.outside(day)
        if problem:
            raise ValueError(problem)
        return day


class Reminders(FileModel):
    """Alarms on patients' calendar entries, in minutes before the visit."""

    VALUE = value.Reminders

    minutes_before: Annotated[
        tuple[Annotated[int, Field(gt=0, le=limits.MAX_REMINDER_MINUTES)], ...],
        Field(max_length=limits.MAX_REMINDERS),
    ] = (24 * 60, 120)
    email_minutes_before: Annotated[
        tuple[Annotated[int, Field(gt=0, le=limits.MAX_REMINDER_MINUTES)], ...],
        Field(max_length=limits.MAX_REMINDERS),
    ] = (24 * 60,)


class Clinician(FileModel):
    """A clinician as the clinic file's ``[[clinicians]]`` (and `clinician add`) give one."""

    VALUE = ClinicianSpec

    name: Annotated[str, Field(min_length=1, max_length=200)]
    hours: str | None = Field(
        default=None,
        description=f"working hours like {RANGE_EXAMPLE!r}; unset: the clinic's opening hours",
    )
    capacity: Annotated[int, Field(ge=1, le=100)] = Field(
        default=1, description="patients the clinician sees at the same time"
    )

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        shown = " ".join(name.split())
        if not shown or any(not ch.isprintable() for ch in shown):
            raise ValueError(f"{name!r} is not a name (letters, spaces, no control characters)")
        return shown

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, hours: str | None) -> str | None:
        if hours is not None:
            parse_working_hours(hours)
        return hours


class Clinic(FileModel):
    VALUE = value.Clinic
    WHOLE_VALUE_RULE = value.check_clinicians

    name: Annotated[Line, Field(min_length=1)] = "Clinic"
    timezone: Annotated[str, Field(max_length=64)] = "UTC"
    address: LongLine = ""
    email: str = Field(
        default="", max_length=254, description="the ORGANIZER of exported calendars"
    )
    phone: Line = Field(default="", description="how patients reach the clinic (in e-mails)")
    bring: LongLine = Field(default="", description="what patients bring to a visit (in e-mails)")
    uid_domain: str = Field(
        default="visitplan.invalid",
        max_length=253,
        description="the part after '@' in calendar UIDs; set it to a domain the clinic owns",
    )
    holidays: HolidaySource | None = None
    closures: Annotated[tuple[Closure, ...], Field(max_length=limits.MAX_CLOSURES)] = ()
    hours: Mapping[Weekday, str] = Field(default_factory=value.weekdays_nine_to_five)
    capacity: Annotated[int, Field(ge=1, le=1000)] = 1
    slot_minutes: Annotated[int, Field(ge=1, le=240)] = Field(
        default=15, description="step used when looking for a free start time"
    )
    reminders: Reminders = Reminders.model_construct()
    procedure_in_summary: bool = Field(
        default=False, description="allow the visit label in staff calendar summaries"
    )
    clinicians: Annotated[tuple[Clinician, ...], Field(max_length=limits.MAX_CLINICIANS)] = Field(
        default=(), description="the clinic's clinicians ([[clinicians]]), added on load"
    )

    @field_validator("email")
    @classmethod
    def _address(cls, email: str) -> str:
        if not email:
            return email
        local, at, domain = email.rpartition("@")
        if (
            not at
            or not _LOCAL_PART.fullmatch(local)
            or len(local) > 64
            or value.domain_problem(domain)
        ):
            shown = email if len(email) <= 60 else email[:60] + "..."
            raise ValueError(f"{shown!r} is not an e-mail address like 'desk@clinic.example'")
        return email

    @field_validator("uid_domain")
    @classmethod
    def _domain(cls, name: str) -> str:
        problem = value.domain_problem(name)
        if problem:
            raise ValueError(problem)
        return name

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            pendulum.timezone(name)
        except Exception:
            raise ValueError(
                f"unknown time zone {name!r} (use an IANA name like 'Asia/Seoul')"
            ) from None
        return name

    @field_validator("closures", mode="before")
    @classmethod
    def _plain_dates(cls, given: Any) -> Any:
        if isinstance(given, list | tuple):
            return [{"date": item} if not isinstance(item, dict) else item for item in given]
        return given

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, hours: Mapping[Weekday, str]) -> Mapping[Weekday, str]:
        if not hours:
            raise ValueError(
                'the clinic is never open: list at least one day, like mon = "09:00-17:00"'
            )
        for day, text in hours.items():
            try:
                Hours.parse(text)
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
        return hours


def validate_clinic(data: Any, source: str) -> value.Clinic:
    """Data read from a clinic file, checked, as the domain's value; any problem
    becomes one InputError line naming ``source``."""
    checked: value.Clinic = validated(Clinic, data, source)
    return checked


def stored_clinic(settings: str) -> value.Clinic:
    """Settings the records stored (``clinic_json``), checked by today's rules; a
    ValueError when they fail them (``what_is_wrong`` words it)."""
    checked: value.Clinic = Clinic.model_validate_json(settings).checked_value()
    return checked


def clinician(name: str, hours: str | None, capacity: int) -> ClinicianSpec:
    """A clinician as `clinician add` and `clinician edit` give one, checked; one
    InputError line when it is not."""
    given = {"name": name, "hours": hours, "capacity": capacity}
    checked: ClinicianSpec = validated(Clinician, given, "clinician")
    return checked
