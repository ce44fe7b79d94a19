"""Clinicians as resources: the engine books a visit only when the clinic has room and
the visit's clinician works then and is free, over generated clinicians and courses."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.domain.test_engine_properties import protocols
from visitplan.domain.clinic import WEEKDAYS, Clinic, ClinicCalendar, clinic_json, parse_clinic
from visitplan.domain.clinic_file import stored_clinic, validate_clinic
from visitplan.domain.clinicians import ClinicianSpec
from visitplan.domain.engine import Booking, PlannedVisit, plan
from visitplan.domain.free_times import free_times
from visitplan.domain.protocol import Protocol
from visitplan.domain.protocol_file import validate_protocol
from visitplan.domain.working import clinician_calendar, with_clinician
from visitplan.errors import InputError

ZONES = ["UTC", "Asia/Seoul", "America/New_York", "Europe/Berlin", "Australia/Sydney"]
CLINIC_OPENS, CLINIC_CLOSES = dt.time(8, 0), dt.time(18, 0)


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def clinicians(draw: st.DrawFn, open_days: list[str], index: int) -> ClinicianSpec:
    days = draw(st.lists(st.sampled_from(open_days), min_size=1, unique=True))
    parts = []
    for day in sorted(days, key=WEEKDAYS.index):
        # Anywhere from 06:00 to 20:00, always overlapping the clinic's 08:00-18:00.
        opens = draw(st.integers(6 * 4, 16 * 4)) * 15
        closes = draw(st.integers(max(opens // 15 + 1, 9 * 4), 20 * 4)) * 15
        parts.append(f"{day}={_hm(opens)}-{_hm(closes)}")
    hours = draw(st.one_of(st.none(), st.just(",".join(parts))))
    return ClinicianSpec(name=f"Clinician {index}", hours=hours, capacity=draw(st.integers(1, 3)))


@st.composite
def settings_drawn(draw: st.DrawFn) -> tuple[Clinic, list[ClinicianSpec]]:
    open_days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=2, unique=True))
    people = [draw(clinicians(open_days, i)) for i in range(draw(st.integers(1, 3)))]
    clinic = validate_clinic(
        {
            "timezone": draw(st.sampled_from(ZONES)),
            "hours": dict.fromkeys(open_days, "08:00-18:00"),
            "capacity": draw(st.integers(1, 4)),
            "slot_minutes": draw(st.sampled_from([5, 15, 30])),
            "clinicians": [dataclasses.asdict(p) for p in people],
        },
        "clinic.toml",
    )
    return clinic, people


courses = st.lists(
    st.tuples(
        protocols(),
        st.dates(dt.date(2027, 1, 1), dt.date(2027, 3, 31)),
        st.builds(dt.time, st.integers(7, 18), st.sampled_from([0, 15, 30, 45])),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=6,
)


def most_at_once(visits: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most visits running at one moment (an end and a start at the same instant
    do not overlap)."""
    edges = sorted(
        [(s.astimezone(dt.UTC), 1) for s, _ in visits]
        + [(e.astimezone(dt.UTC), -1) for _, e in visits],
        key=lambda edge: (edge[0], edge[1]),
    )
    peak = running = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def over_capacity(visit: PlannedVisit) -> bool:
    return any("over capacity" in w for w in visit.warnings)


def inside(visit: PlannedVisit, calendar: ClinicCalendar) -> bool:
    hours = calendar.hours(visit.start.date())
    return (
        hours is not None
        and visit.end.date() == visit.start.date()
        and hours.opens <= visit.start.time()
        and visit.end.time() <= hours.closes
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(settings_drawn(), courses)
def test_no_clinician_is_booked_beyond_their_capacity(
    drawn: tuple[Clinic, list[ClinicianSpec]],
    enrolments: list[tuple[Protocol, dt.date, dt.time, int]],
) -> None:
    clinic, people = drawn
    calendar = ClinicCalendar(clinic)
    theirs_calendar = {p.key: clinician_calendar(calendar, p) for p in people}
    everyone: list[PlannedVisit] = []
    by_clinician: defaultdict[str, list[PlannedVisit]] = defaultdict(list)
    for protocol, start, time, pick in enrolments:
        who = people[pick % len(people)]
        mine = by_clinician[who.key]
        clinician = with_clinician(calendar, who, [Booking(v.start, v.end) for v in mine])
        try:
            result = plan(
                protocol,
                calendar,
                start,
                time,
                bookings=[Booking(v.start, v.end) for v in everyone],
                clinician=clinician,
            )
        except InputError:
            continue  # no open day for them within a year: refused, not booked
        everyone += result.visits
        mine += result.visits
        for visit in result.visits:
            # The day is always one both the clinic and the clinician work.
            assert theirs_calendar[who.key].is_open(visit.start.date())
            assert calendar.is_open(visit.start.date())
            if not visit.warnings:
                # Within their hours, which lie within the clinic's.
                assert inside(visit, theirs_calendar[who.key]), visit
                assert inside(visit, calendar), visit
    # Over capacity only ever with a warning that says so.
    booked = [v for v in everyone if not over_capacity(v)]
    assert most_at_once([(v.start, v.end) for v in booked]) <= clinic.capacity
    for who in people:
        theirs = [v for v in by_clinician[who.key] if not over_capacity(v)]
        assert most_at_once([(v.start, v.end) for v in theirs]) <= who.capacity, who


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(settings_drawn(), st.data())
def test_free_times_are_free_for_the_clinician(
    drawn: tuple[Clinic, list[ClinicianSpec]], data: st.DataObject
) -> None:
    clinic, people = drawn
    calendar = ClinicCalendar(clinic)
    who = people[0]
    theirs = clinician_calendar(calendar, who)
    zone = calendar.zone
    day = data.draw(st.dates(dt.date(2027, 1, 4), dt.date(2027, 1, 10)))
    busy = []
    for _ in range(data.draw(st.integers(0, 12))):
        start = dt.datetime.combine(
            day, dt.time(data.draw(st.integers(6, 19)), data.draw(st.sampled_from([0, 30]))), zone
        )
        busy.append(
            Booking(start, start + dt.timedelta(minutes=data.draw(st.sampled_from([30, 60]))))
        )
    duration = dt.timedelta(minutes=data.draw(st.sampled_from([15, 30, 60])))
    found = free_times(
        calendar,
        (),
        duration=duration,
        target=day,
        time=dt.time(9, 0),
        earliest=day,
        latest=day + dt.timedelta(days=6),
        not_before=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        count=10,
        clinician=with_clinician(calendar, who, busy),
    )
    longest = max(
        (
            dt.datetime.combine(d, h.closes) - dt.datetime.combine(d, h.opens)
            for d in (day + dt.timedelta(days=n) for n in range(7))
            if (h := theirs.hours(d)) is not None
        ),
        default=dt.timedelta(0),
    )
    # Someone working long enough for the visit on some weekday is free some time.
    assert bool(found) == (longest >= duration)
    for free in found:
        hours = theirs.hours(free.day)
        assert hours is not None
        assert hours.opens <= free.start.time()
        assert free.end.time() <= hours.closes
        assert free.end.date() == free.day
        overlapping = [b for b in busy if b.start < free.end and free.start < b.end]
        # Booked here, they would see at most their capacity at once.
        assert (
            most_at_once([(b.start, b.end) for b in overlapping] + [(free.start, free.end)])
            <= who.capacity
        )


SESSION = validate_protocol(
    {
        "title": "One session",
        "version": "1",
        "visits": [
            {
                "key": "s",
                "label": "Session",
                "kind": "treatment",
                "duration_minutes": 30,
                "anchor": "start",
            }
        ],
    },
    "session.toml",
)
ROOMY = """\
timezone = "Asia/Seoul"
capacity = 3
[hours]
mon = "09:00-17:00"
tue = "09:00-17:00"
[[clinicians]]
name = "Dr Kim"
hours = "mon=09:00-11:00"
[[clinicians]]
name = "Dr Lee"
capacity = 2
"""


def test_a_busy_clinician_moves_the_visit_while_another_clinician_is_free() -> None:
    clinic = parse_clinic(ROOMY, "clinic.toml")
    calendar = ClinicCalendar(clinic)
    monday = dt.date(2027, 1, 4)
    at_nine = dt.datetime(2027, 1, 4, 9, 0, tzinfo=calendar.zone)
    taken = [Booking(at_nine, at_nine + dt.timedelta(minutes=30))]
    kim, lee = clinic.clinician("dr kim"), clinic.clinician("DR LEE")

    first = plan(SESSION, calendar, monday, dt.time(9, 0), bookings=taken)
    assert first.visits[0].start.time() == dt.time(9, 0)  # the clinic has room for three

    busy = plan(
        SESSION,
        calendar,
        monday,
        dt.time(9, 0),
        bookings=taken,
        clinician=with_clinician(calendar, kim, taken),
    ).visits[0]
    assert busy.start.time() == dt.time(9, 30)
    assert busy.reason == "09:00 was fully booked; moved to 09:30"

    two_at_once = plan(
        SESSION,
        calendar,
        monday,
        dt.time(9, 0),
        bookings=taken,
        clinician=with_clinician(calendar, lee, taken),
    ).visits[0]
    assert two_at_once.start.time() == dt.time(9, 0)


def test_a_clinician_with_no_free_time_that_day_is_booked_with_a_warning() -> None:
    clinic = parse_clinic(ROOMY, "clinic.toml")
    calendar = ClinicCalendar(clinic)
    zone = calendar.zone
    kim = clinic.clinician("Dr Kim")
    morning = [
        Booking(
            dt.datetime(2027, 1, 4, 9, 0, tzinfo=zone), dt.datetime(2027, 1, 4, 11, 0, tzinfo=zone)
        )
    ]
    visit = plan(
        SESSION,
        calendar,
        dt.date(2027, 1, 4),
        dt.time(9, 0),
        clinician=with_clinician(calendar, kim, morning),
    ).visits[0]
    assert visit.warnings == (
        "no free time on 2027-01-04 within opening hours; booked at 09:00 over capacity",
    )


def test_a_clinician_works_only_their_own_days_and_hours() -> None:
    clinic = parse_clinic(ROOMY, "clinic.toml")
    calendar = ClinicCalendar(clinic)
    tuesday = dt.date(2027, 1, 5)
    visit = plan(
        SESSION,
        calendar,
        tuesday,
        dt.time(9, 0),
        clinician=with_clinician(calendar, clinic.clinician("Dr Kim")),
    ).visits[0]
    assert visit.start.date() == dt.date(2027, 1, 11)  # Kim works Mondays only
    assert visit.start.time() == dt.time(9, 0)


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (
            '[[clinicians]]\nname = "A"\ncapacity = 0\n',
            "clinicians[0].capacity: Input should be greater than or equal to 1",
        ),
        (
            '[[clinicians]]\nname = "A"\nhours = "mon 9-5"\n',
            "clinicians[0].hours: 'mon 9-5' is not like",
        ),
        (
            '[[clinicians]]\nname = "A"\nhours = "sun=09:00-10:00"\n',
            "clinicians: A never works while the clinic is open",
        ),
        (
            '[[clinicians]]\nname = "A"\n[[clinicians]]\nname = " a"\n',
            "clinicians: 'a' is listed twice",
        ),
        ('[[clinicians]]\nname = "A"\nroom = 2\n', "clinicians[0].room: unknown field"),
        ('[[clinicians]]\nhours = "mon=09:00-10:00"\n', "clinicians[0].name: missing field"),
    ],
)
def test_a_bad_clinician_in_the_clinic_file_is_one_line(extra: str, problem: str) -> None:
    text = 'timezone = "UTC"\n[hours]\nmon = "09:00-17:00"\n' + extra
    with pytest.raises(InputError) as caught:
        parse_clinic(text, "clinic.toml")
    message = caught.value.message
    assert message.startswith(f"clinic.toml: {problem}"), message
    assert "\n" not in message


def test_an_unknown_clinician_is_one_line_naming_those_known() -> None:
    clinic = parse_clinic(ROOMY, "clinic.toml")
    with pytest.raises(InputError) as caught:
        clinic.clinician("Dr Park")
    assert caught.value.message == (
        "unknown clinician 'Dr Park': the clinic file's [[clinicians]] are Dr Kim, Dr Lee"
    )


def test_clinicians_round_trip_through_the_stored_settings() -> None:
    clinic = parse_clinic(ROOMY, "clinic.toml")
    again = stored_clinic(clinic_json(clinic))
    assert again == clinic
    assert [c.name for c in again.clinicians] == ["Dr Kim", "Dr Lee"]
    assert again.clinicians[1].capacity == 2
