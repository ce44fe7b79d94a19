"""The clinic calendar: where and when visits can happen."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pendulum
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from visitplan.domain import limits
from visitplan.domain.clinicians import ClinicianSpec, name_key
from visitplan.domain.hours import WEEKDAYS, Hours, Weekday
from visitplan.domain.protocol import Line, LongLine, describe_validation, load_toml
from visitplan.errors import InputError

_DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A host name (RFC 1123 labels; an internationalised one in its xn-- form).
DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# An address as calendar programs accept it in ORGANIZER: a dot-atom local part.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class HolidaySource(_Strict):
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

            _import_country_rules(self.country)
            try:
                holidays.country_holidays(self.country, subdiv=self.subdivision, years=2026)
            except Exception as exc:
                raise ValueError(
                    f"{self.country!r} has no subdivision {self.subdivision!r} ({exc})"
                ) from None
        return self


def _import_country_rules(country: str) -> None:
    """Import the one module of ``holidays.countries`` that defines ``country``.

    holidays finds a country's rules lazily, by importing its module; but importing any
    module of that package first runs the package's ``__init__``, which imports all ~250
    countries (~110 ms, as long as the rest of a `visitplan plan`). Imported here under
    a stand-in for the package (and holidays' own import lock), the module is then in
    ``sys.modules``, where holidays' lookup finds it. Should a release of holidays not
    allow that, the package is imported as it always was.
    """
    import importlib
    import importlib.machinery
    import importlib.util
    import sys
    from pathlib import Path

    from holidays import registry

    package = "holidays.countries"
    if package in sys.modules:
        return
    module = next((m for m, names in registry.COUNTRIES.items() if country in names), None)
    if module is None:
        return
    with registry.IMPORT_LOCK:
        if package in sys.modules or f"{package}.{module}" in sys.modules:
            return
        spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
        spec.submodule_search_locations = [str(Path(registry.__file__).with_name("countries"))]
        sys.modules[package] = importlib.util.module_from_spec(spec)
        try:
            importlib.import_module(f"{package}.{module}")
        except Exception:
            pass  # holidays' own lookup imports the whole package, and reports any problem
        finally:
            del sys.modules[package]


class Closure(_Strict):
    date: dt.date
    reason: Line = "clinic closed"

    @field_validator("date")
    @classmethod
    def _served(cls, day: dt.date) -> dt.date:
        problem = limits.outside(day)
        if problem:
            raise ValueError(problem)
        return day


class Reminders(_Strict):
    """Alarms on patients' calendar entries, in minutes before the visit."""

    minutes_before: Annotated[
        tuple[Annotated[int, Field(gt=0, le=limits.MAX_REMINDER_MINUTES)], ...],
        Field(max_length=limits.MAX_REMINDERS),
    ] = (24 * 60, 120)
    # E-mail reminders to consenting patients (``visitplan notify``): one is enough.
    email_minutes_before: Annotated[
        tuple[Annotated[int, Field(gt=0, le=limits.MAX_REMINDER_MINUTES)], ...],
        Field(max_length=limits.MAX_REMINDERS),
    ] = (24 * 60,)


def domain_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a host name, or None."""
    if len(name) > 253 or not DOMAIN.fullmatch(name):
        shown = name if len(name) <= 60 else name[:60] + "..."
        return f"{shown!r} is not a domain name like 'clinic.example'"
    return None


class Clinic(_Strict):
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
    hours: Mapping[Weekday, str] = Field(
        default_factory=lambda: {d: "09:00-17:00" for d in WEEKDAYS[:5]}
    )
    capacity: Annotated[int, Field(ge=1, le=1000)] = 1
    slot_minutes: Annotated[int, Field(ge=1, le=240)] = Field(
        default=15, description="step used when looking for a free start time"
    )
    reminders: Reminders = Reminders.model_construct()
    procedure_in_summary: bool = Field(
        default=False, description="allow the visit label in staff calendar summaries"
    )
    clinicians: Annotated[tuple[ClinicianSpec, ...], Field(max_length=limits.MAX_CLINICIANS)] = (
        Field(default=(), description="the clinic's clinicians ([[clinicians]]), added on load")
    )

    @field_validator("email")
    @classmethod
    def _address(cls, email: str) -> str:
        if not email:
            return email
        local, at, domain = email.rpartition("@")
        if not at or not _LOCAL_PART.fullmatch(local) or len(local) > 64 or domain_problem(domain):
            shown = email if len(email) <= 60 else email[:60] + "..."
            raise ValueError(f"{shown!r} is not an e-mail address like 'desk@clinic.example'")
        return email

    @field_validator("uid_domain")
    @classmethod
    def _domain(cls, name: str) -> str:
        problem = domain_problem(name)
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
    def _plain_dates(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [{"date": item} if not isinstance(item, dict) else item for item in value]
        return value

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

    @model_validator(mode="after")
    def _clinicians_work_here(self) -> Clinic:
        seen: set[str] = set()
        for spec in self.clinicians:
            if spec.key in seen:
                raise ValueError(f"clinicians: {spec.name!r} is listed twice")
            seen.add(spec.key)
            own = spec.working_hours()
            if own is not None and not any(
                overlap(Hours.parse(text), own.get(day)) for day, text in self.hours.items()
            ):
                raise ValueError(
                    f"clinicians: {spec.name} never works while the clinic is open "
                    f"(their hours {spec.hours!r} against the clinic's)"
                )
        return self

    def clinician(self, name: str) -> ClinicianSpec:
        """The clinician of that name in the clinic file (case and spacing aside)."""
        key = name_key(name)
        for spec in self.clinicians:
            if spec.key == key:
                return spec
        known = ", ".join(sorted(s.name for s in self.clinicians)) or "none"
        raise InputError(
            f"unknown clinician {' '.join(name.split())!r}: the clinic file's "
            f"[[clinicians]] are {known}"
        )


def overlap(opening: Hours, theirs: Hours | None) -> Hours | None:
    """The part of a day's opening hours a clinician works, or None."""
    if theirs is None:
        return None
    opens, closes = max(opening.opens, theirs.opens), min(opening.closes, theirs.closes)
    return Hours(opens, closes) if opens < closes else None


def parse_clinic(text: str, source: str) -> Clinic:
    data = load_toml(text, source)
    try:
        return Clinic.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{source}: {describe_validation(exc)}") from None


def as_pendulum(moment: dt.datetime, tz: Any) -> pendulum.DateTime:
    """``moment``'s wall-clock fields and fold as a pendulum DateTime in ``tz``.

    The zone arithmetic is done on stdlib datetimes, which is several times cheaper;
    this wraps the result once, for the code that works in pendulum.
    """
    return pendulum.DateTime(
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
        tzinfo=tz,
        fold=moment.fold,
    )


def default_clinic(timezone: str) -> Clinic:
    """Open Monday to Friday 09:00-17:00 in the given zone, no holidays.

    Every field but the zone is its default, so only the zone is checked: validating
    would first have pydantic build the clinic's validators, which costs more than the
    rest of a `visitplan plan` without a clinic file.
    """
    pendulum.timezone(timezone)  # an unknown zone raises, as validation would refuse it
    return Clinic.model_construct(name="Clinic", timezone=timezone)


def holidays_in(source: HolidaySource, year: int) -> dict[dt.date, str]:
    """The public holidays of ``source``'s country (and subdivision) in ``year``, by
    their English names."""
    import holidays

    _import_country_rules(source.country)
    found = holidays.country_holidays(
        source.country, subdiv=source.subdivision, years=year, language="en_US"
    )
    return {day: str(name) for day, name in found.items()}


HolidayTable = Callable[[HolidaySource, int], Mapping[dt.date, str]]


@dataclass
class ClinicCalendar:
    """Answers 'is the clinic open on this date, and if not why' quickly.

    Holidays are computed per year on first use and kept: planning asks the same
    dates over and over.
    """

    clinic: Clinic
    # Where a year's holidays come from: the holidays library, unless a command passes
    # a copy kept from an earlier run (importing the library is a third of a `plan`).
    holidays_of: HolidayTable = field(default=holidays_in, compare=False, repr=False)
    _hours: tuple[Hours | None, ...] = field(init=False)
    _closed: dict[dt.date, str] = field(init=False)
    _years: set[int] = field(init=False, default_factory=set)
    # The TUI plans in worker threads sharing one calendar: one loads a year while the
    # others wait, so none sees the year as known before its holidays are in.
    _loading: threading.Lock = field(
        init=False, default_factory=threading.Lock, compare=False, repr=False
    )
    tz: Any = field(init=False)  # pendulum's Timezone, a zoneinfo.ZoneInfo subclass
    zone: ZoneInfo = field(init=False)  # the plain ZoneInfo: stdlib arithmetic on it is fast

    def __post_init__(self) -> None:
        self._hours = tuple(
            Hours.parse(self.clinic.hours[d]) if d in self.clinic.hours else None for d in WEEKDAYS
        )
        self._closed = {c.date: c.reason for c in self.clinic.closures}
        self.tz = pendulum.timezone(self.clinic.timezone)
        self.zone = ZoneInfo(self.clinic.timezone)

    def hours(self, day: dt.date) -> Hours | None:
        """Opening hours on that date, or None when closed."""
        return None if self.closed_because(day) else self._hours[day.weekday()]

    def closed_because(self, day: dt.date) -> str | None:
        """Why the clinic is closed on that date ('Christmas Day'), or None when open."""
        if day.year not in self._years:
            self._load_year(day.year)
        reason = self._closed.get(day)
        if reason is not None:
            return reason
        if self._hours[day.weekday()] is None:
            return f"closed on {_DAY_NAMES[day.weekday()]}"
        return None

    def is_open(self, day: dt.date) -> bool:
        return self.closed_because(day) is None

    def _load_year(self, year: int) -> None:
        with self._loading:
            if year in self._years:
                return
            source = self.clinic.holidays
            if source is not None:
                for day, name in self.holidays_of(source, year).items():
                    # An explicit closure's own reason wins over the holiday's name.
                    self._closed.setdefault(day, name)
            self._years.add(year)
