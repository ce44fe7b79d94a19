"""The import's ledger shows the engine only the bookings it needs (near the asked
times; the clinic's left out where it has room; the clinician's whole day). Whatever
it leaves out, each course must be planned exactly as the engine plans it with every
booking of the clinic and of the course's clinician in view."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visitplan.catalog import ProtocolCatalog, protocol_dirs
from visitplan.domain.clinic import ClinicCalendar
from visitplan.domain.clinic_file import validate_clinic
from visitplan.domain.clinicians import ClinicianSpec
from visitplan.domain.diary import Source
from visitplan.domain.engine import Booking, ClinicianBookings, plan
from visitplan.domain.working import clinician_calendar
from visitplan.records.import_ledger import Ledger
from visitplan.records.reading import to_utc

CATALOG = ProtocolCatalog(protocol_dirs(env={}))
HOURS = [
    None,
    "mon-fri=09:00-12:00",
    "mon=13:00-17:00,wed=13:00-17:00,fri=13:00-17:00",
    "tue-thu=08:00-11:30",
]

rows = st.lists(
    st.tuples(
        st.sampled_from(["dextrose-prolotherapy", "eswt-plantar-fasciitis"]),
        st.dates(dt.date(2027, 1, 4), dt.date(2027, 1, 8)),
        st.sampled_from([dt.time(8), dt.time(9), dt.time(9, 30), dt.time(10), dt.time(16)]),
        st.sampled_from([None, 1, 2, 3]),
    ),
    min_size=10,
    max_size=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows,
    st.integers(1, 6),
    st.lists(st.integers(1, 3), min_size=3, max_size=3),
    st.lists(st.sampled_from(HOURS), min_size=3, max_size=3),
    st.lists(
        st.tuples(
            st.dates(dt.date(2027, 1, 4), dt.date(2027, 1, 22)),
            st.builds(dt.time, st.integers(8, 17), st.sampled_from([0, 30])),
            st.sampled_from([None, 1, 2, 3]),
        ),
        max_size=60,
    ),
)
def test_the_ledger_plans_as_the_engine_does_with_every_booking(
    courses: list[tuple[str, dt.date, dt.time, int | None]],
    capacity: int,
    capacities: list[int],
    hours: list[str | None],
    stored: list[tuple[dt.date, dt.time, int | None]],
) -> None:
    clinic = validate_clinic(
        {
            "timezone": "Asia/Seoul",
            "capacity": capacity,
            "hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "08:00-18:00"),
        },
        "clinic.toml",
    )
    calendar = ClinicCalendar(clinic)
    specs = {
        n: ClinicianSpec(name=f"Dr {n}", hours=hours[n - 1], capacity=capacities[n - 1])
        for n in (1, 2, 3)
    }
    calendars = {n: clinician_calendar(calendar, spec) for n, spec in specs.items()}

    def calendar_for(clinician_id: int | None) -> ClinicCalendar:
        return calendar if clinician_id is None else calendars[clinician_id]

    def clinician(clinician_id: int, bookings: Source) -> ClinicianBookings:
        return ClinicianBookings(specs[clinician_id], calendars[clinician_id], bookings)

    ledger = Ledger(calendar, calendar_for, clinician)
    # Visits already in the records (45 minutes each), some with a clinician.
    everyone: list[tuple[Booking, int | None]] = []
    came = []
    for day, time, who in stored:
        begin = dt.datetime.combine(day, time, calendar.zone)
        end = begin + dt.timedelta(minutes=45)
        everyone.append((Booking(begin, end), who))
        came.append((to_utc(begin), to_utc(end), who))
    ledger.change_stored((), came)

    for protocol_id, start, time, who in courses:
        entry = CATALOG.get(protocol_id)
        theirs = None
        if who is not None:
            theirs = clinician(who, [b for b, w in everyone if w == who])
        expected = plan(
            entry.protocol,
            calendar_for(who),
            start,
            time,
            bookings=[b for b, _ in everyone],
            clinician=theirs,
        )
        got = ledger.plan(entry, start, time, who).plan
        assert [(v.key, v.start, v.end) for v in got.visits] == [
            (v.key, v.start, v.end) for v in expected.visits
        ]
        assert got.warnings == expected.warnings
        everyone += [(Booking(v.start, v.end), who) for v in expected.visits]
