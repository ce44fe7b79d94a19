"""The clinic calendar: where and when visits can happen."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pendulum

from visitplan.domain.clinicians import ClinicianSpec, name_key
from visitplan.domain.hours import WEEKDAYS, Hours, Weekday
from visitplan.domain.protocol import load_toml
from visitplan.errors import InputError

_DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A host name (RFC 1123 labels; an internationalised one in its xn-- form).
DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


@dataclass(frozen=True, kw_only=True, slots=True)
class HolidaySource:
    """Whose public holidays close the clinic: a country code and perhaps a subdivision."""

    country: str
    subdivision: str | None = None


def import_country_rules(country: str) -> None:
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


@dataclass(frozen=True, kw_only=True, slots=True)
class Closure:
    date: dt.date
    reason: str = "clinic closed"


@dataclass(frozen=True, kw_only=True, slots=True)
class Reminders:
    """Alarms on patients' calendar entries, in minutes before the visit."""

    minutes_before: tuple[int, ...] = (24 * 60, 120)
    # E-mail reminders to consenting patients (``visitplan notify``): one is enough.
    email_minutes_before: tuple[int, ...] = (24 * 60,)


def domain_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a host name, or None."""
    if len(name) > 253 or not DOMAIN.fullmatch(name):
        shown = name if len(name) <= 60 else name[:60] + "..."
        return f"{shown!r} is not a domain name like 'clinic.example'"
    return None


def weekdays_nine_to_five() -> dict[Weekday, str]:
    """The default opening hours (the clinic file's, as its model fills them in too)."""
    return {d: "09:00-17:00" for d in WEEKDAYS[:5]}


@dataclass(frozen=True, kw_only=True)
class Clinic:
    """The clinic file, checked (``clinic_file``): where it is, when it is open, how
    many patients it sees at once, how it closes, and its clinicians."""

    name: str = "Clinic"
    timezone: str = "UTC"
    address: str = ""
    email: str = ""  # the ORGANIZER of exported calendars
    phone: str = ""  # how patients reach the clinic (in e-mails)
    bring: str = ""  # what patients bring to a visit (in e-mails)
    uid_domain: str = "visitplan.invalid"  # the part after '@' in calendar UIDs
    holidays: HolidaySource | None = None
    closures: tuple[Closure, ...] = ()
    hours: Mapping[Weekday, str] = field(default_factory=weekdays_nine_to_five)
    capacity: int = 1
    slot_minutes: int = 15  # step used when looking for a free start time
    reminders: Reminders = Reminders()
    procedure_in_summary: bool = False  # the visit label in staff calendar summaries
    clinicians: tuple[ClinicianSpec, ...] = ()

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


def check_clinicians(clinic: Clinic) -> None:
    """Refuse, with ValueError, a clinician listed twice or one who never works while
    the clinic is open."""
    seen: set[str] = set()
    for spec in clinic.clinicians:
        if spec.key in seen:
            raise ValueError(f"clinicians: {spec.name!r} is listed twice")
        seen.add(spec.key)
        own = spec.working_hours()
        if own is not None and not any(
            overlap(Hours.parse(text), own.get(day)) for day, text in clinic.hours.items()
        ):
            raise ValueError(
                f"clinicians: {spec.name} never works while the clinic is open "
                f"(their hours {spec.hours!r} against the clinic's)"
            )


def parse_clinic(text: str, source: str) -> Clinic:
    """Validate clinic text; any problem becomes one InputError line naming ``source``."""
    from visitplan.domain.clinic_file import validate_clinic

    return validate_clinic(load_toml(text, source), source)


def clinic_json(clinic: Clinic) -> str:
    """The clinic's settings as the records store them: compact JSON, fields in file
    order, dates as ISO dates (the same text pydantic writes for the file model)."""
    return json.dumps(asdict(clinic), separators=(",", ":"), ensure_ascii=False, default=_iso_date)


def _iso_date(item: Any) -> str:
    if isinstance(item, dt.date):
        return item.isoformat()
    raise TypeError(f"{type(item).__name__} is not a clinic setting")


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

    Every field but the zone is its default, so only the zone needs checking.
    """
    pendulum.timezone(timezone)  # an unknown zone raises, as validation would refuse it
    return Clinic(timezone=timezone)


def holidays_in(source: HolidaySource, year: int) -> dict[dt.date, str]:
    """The public holidays of ``source``'s country (and subdivision) in ``year``, by
    their English names."""
    import holidays

    import_country_rules(source.country)
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
