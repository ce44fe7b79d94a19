"""The engine over real calendar edge cases."""

from __future__ import annotations

import datetime as dt

import pytest

from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic, ClinicCalendar, parse_clinic
from visitplan.domain.engine import Booking, add_offset, dependents, plan
from visitplan.domain.protocol import Offset, Protocol, parse_protocol

D = dt.date
NINE_THIRTY = dt.time(9, 30)


def clinic(zone: str = "UTC", days: str = "mon tue wed thu fri sat sun", **extra: str) -> Clinic:
    hours = "\n".join(f'{d} = "08:00-18:00"' for d in days.split())
    head = "\n".join(f"{k} = {v}" for k, v in extra.items())
    return parse_clinic(f'name = "Test"\ntimezone = "{zone}"\n{head}\n[hours]\n{hours}\n', "t")


def protocol(body: str) -> Protocol:
    return parse_protocol('title = "T"\nversion = "1"\n' + body, "p.toml")


SERIES = """
[[visits]]
key = "session"
label = "Session {n} of {total}"
kind = "treatment"
duration_minutes = 45
anchor = "start"
repeat = { count = 6, every = { weeks = 2 } }
window = { before = 3, after = 3 }

[[visits]]
key = "follow-up"
label = "Follow-up"
kind = "follow-up"
duration_minutes = 30
anchor = "session.last"
offset = { months = 3 }
window = { before = 7, after = 14 }
"""


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2027, 11, 30), 3, D(2028, 2, 29)),
        (D(2027, 1, 31), 1, D(2027, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2026, 8, 31), 3, D(2026, 11, 30)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2026, 12, 15), 3, D(2027, 3, 15)),
    ],
)
def test_calendar_months_clamp_to_month_end(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_offset(day, Offset(months=months)) == expected


def test_follow_up_three_calendar_months_after_last_session_in_a_leap_year() -> None:
    # Sessions every two weeks from 2027-09-21 end on 2027-11-30; +3 months is 29 Feb 2028.
    result = plan(protocol(SERIES), ClinicCalendar(clinic()), D(2027, 9, 21), NINE_THIRTY)
    visits = result.by_key()
    assert visits["session-6"].start.date() == D(2027, 11, 30)
    assert visits["follow-up"].target == D(2028, 2, 29)
    assert visits["follow-up"].start.date() == D(2028, 2, 29)
    assert [v.key for v in result.visits] == [*(f"session-{n}" for n in range(1, 7)), "follow-up"]


def test_seed_protocol_in_seoul_moves_off_christmas(
    catalog: ProtocolCatalog, seoul_calendar: ClinicCalendar
) -> None:
    seed = catalog.get("dextrose-prolotherapy").protocol
    result = plan(seed, seoul_calendar, D(2026, 12, 11), NINE_THIRTY)
    second = result.by_key()["session-2"]
    assert second.target == D(2026, 12, 25)
    assert second.reason == "Christmas Day"
    # 26 Dec is a Saturday (closed), so the nearest open day is the day before.
    assert second.start.date() == D(2026, 12, 24)
    assert second.shifted
    # Each session is measured from the one actually held before it: the shift carries on.
    assert result.by_key()["session-3"].target == D(2027, 1, 7)
    assert second.start.isoformat() == "2026-12-24T09:30:00+09:00"
    assert not result.warnings


def test_korean_lunar_new_year_and_reason_names(seoul_calendar: ClinicCalendar) -> None:
    # Seollal 2027 falls on 6-8 February (a Saturday to a Monday, plus a substitute day).
    assert seoul_calendar.closed_because(D(2027, 2, 8)) is not None
    assert "Korean New Year" in (seoul_calendar.closed_because(D(2027, 2, 8)) or "")
    assert seoul_calendar.closed_because(D(2026, 12, 31)) == "clinic closed"
    assert seoul_calendar.closed_because(D(2026, 12, 27)) == "closed on Sundays"
    assert seoul_calendar.is_open(D(2026, 12, 30))


def test_us_thanksgiving_moves_to_the_later_day_at_equal_distance(new_york_clinic: Clinic) -> None:
    calendar = ClinicCalendar(new_york_clinic)
    single = protocol("""
[[visits]]
key = "visit"
label = "Visit"
kind = "assessment"
duration_minutes = 30
anchor = "start"
window = { before = 2, after = 2 }
""")
    # Thanksgiving 2026 is Thursday 26 November; Wednesday and Friday are both one day away.
    visit = plan(single, calendar, D(2026, 11, 26), dt.time(10, 0)).visits[0]
    assert visit.reason == "Thanksgiving Day"
    assert visit.start.date() == D(2026, 11, 27)


@pytest.mark.parametrize(
    ("zone", "start", "offsets"),
    [
        # Spring forward: New York on 14 March 2027, Berlin on 28 March 2027.
        ("America/New_York", D(2027, 3, 1), ["-05:00", "-04:00", "-04:00"]),
        ("Europe/Berlin", D(2027, 3, 15), ["+01:00", "+02:00", "+02:00"]),
        # Fall back: New York on 1 November 2026, Berlin on 25 October 2026.
        ("America/New_York", D(2026, 10, 19), ["-04:00", "-05:00", "-05:00"]),
        ("Europe/Berlin", D(2026, 10, 12), ["+02:00", "+01:00", "+01:00"]),
        ("Australia/Sydney", D(2026, 9, 21), ["+10:00", "+11:00", "+11:00"]),
    ],
)
def test_local_time_holds_across_daylight_saving(
    zone: str, start: dt.date, offsets: list[str]
) -> None:
    series = protocol("""
[[visits]]
key = "s"
label = "S{n}"
kind = "treatment"
duration_minutes = 60
anchor = "start"
repeat = { count = 3, every = { weeks = 2 } }
""")
    result = plan(series, ClinicCalendar(clinic(zone)), start, NINE_THIRTY)
    assert [v.start.strftime("%H:%M") for v in result.visits] == ["09:30"] * 3
    assert [v.start.isoformat()[-6:] for v in result.visits] == offsets
    assert all(v.end - v.start == dt.timedelta(hours=1) for v in result.visits)


def test_a_time_skipped_by_daylight_saving_is_a_warning() -> None:
    single = protocol("""
[[visits]]
key = "v"
label = "V"
kind = "review"
duration_minutes = 30
anchor = "start"
""")
    visit = plan(
        single, ClinicCalendar(clinic("Europe/Berlin")), D(2027, 3, 28), dt.time(2, 30)
    ).visits[0]
    assert visit.start.strftime("%H:%M") == "03:30"
    assert any("does not exist" in w for w in visit.warnings)


def test_closures_and_a_window_with_no_open_day_warn_and_name_the_day() -> None:
    closed = ", ".join(f'"2027-01-{d:02d}"' for d in range(4, 15))
    calendar = ClinicCalendar(clinic(closures=f"[{closed}]"))
    single = protocol("""
[[visits]]
key = "v"
label = "Review"
kind = "review"
duration_minutes = 30
anchor = "start"
offset = { days = 5 }
window = { before = 2, after = 3 }
""")
    result = plan(single, calendar, D(2027, 1, 4), NINE_THIRTY)
    visit = result.visits[0]
    assert visit.target == D(2027, 1, 9)
    assert visit.start.date() == D(2027, 1, 15)
    assert not visit.in_window
    assert result.warnings == (
        "Review: no open day in its window 2027-01-07 to 2027-01-12 (target 2027-01-09: "
        "clinic closed); booked on 2027-01-15, outside the window: a protocol deviation",
    )


def test_a_closure_keeps_its_own_reason_over_a_holiday() -> None:
    calendar = ClinicCalendar(
        clinic(
            holidays='{ country = "US" }',
            closures='[{ date = "2026-12-25", reason = "staff party" }]',
        )
    )
    assert calendar.closed_because(D(2026, 12, 25)) == "staff party"
    assert calendar.closed_because(D(2027, 1, 1)) == "New Year's Day"


def test_anchor_on_the_start_does_not_follow_a_shifted_visit() -> None:
    course = protocol("""
[[visits]]
key = "a"
label = "A"
kind = "treatment"
duration_minutes = 30
anchor = "start"
window = { after = 5 }

[[visits]]
key = "b"
label = "B"
kind = "assessment"
duration_minutes = 30
anchor = "a"
offset = { days = 7 }

[[visits]]
key = "c"
label = "C"
kind = "assessment"
duration_minutes = 30
anchor = "start"
offset = { days = 10 }
""")
    weekdays = ClinicCalendar(clinic(days="mon tue wed thu fri"))
    # 2027-01-02 is a Saturday: A moves to Monday the 4th; B follows it, C does not.
    by_key = plan(course, weekdays, D(2027, 1, 2), NINE_THIRTY).by_key()
    assert by_key["a"].start.date() == D(2027, 1, 4)
    assert by_key["b"].target == D(2027, 1, 11)
    assert by_key["c"].target == D(2027, 1, 12)
    assert dependents(course, "a") == {"b"}


def test_fixed_grid_series_and_chains(catalog: ProtocolCatalog) -> None:
    knee = catalog.get("prolotherapy-knee-bimonthly").protocol
    assert dependents(knee, "injection-1") == {"injection-2", "injection-3", "evaluation"}
    # A fixed grid hangs on its first visit, but each visit must come after the one
    # before it, so a late second injection can push the third (never the evaluation).
    assert dependents(knee, "injection-2") == {"injection-3"}
    assert dependents(knee, "injection-3") == set()
    seed = catalog.get("dextrose-prolotherapy").protocol
    assert dependents(seed, "session-4") == {"session-5", "session-6", "follow-up"}
    pinned = {"injection-1": dt.datetime(2027, 1, 20, 9, 30, tzinfo=dt.UTC)}
    by_key = plan(
        knee, ClinicCalendar(clinic()), D(2027, 1, 15), NINE_THIRTY, pinned=pinned
    ).by_key()
    assert by_key["injection-1"].pinned
    assert by_key["injection-2"].target == D(2027, 3, 20)
    assert by_key["evaluation"].target == D(2027, 7, 20)


def test_capacity_moves_to_the_nearest_free_time_then_warns() -> None:
    calendar = ClinicCalendar(clinic(capacity="1"))
    single = protocol("""
[[visits]]
key = "v"
label = "V"
kind = "treatment"
duration_minutes = 30
anchor = "start"
""")
    utc = dt.UTC
    taken = [
        Booking(
            dt.datetime(2027, 1, 4, 9, 30, tzinfo=utc), dt.datetime(2027, 1, 4, 10, 0, tzinfo=utc)
        )
    ]
    visit = plan(single, calendar, D(2027, 1, 4), NINE_THIRTY, bookings=taken).visits[0]
    # 09:00-09:30 and 10:00-10:30 are both free and equally near: the later one wins.
    assert visit.start.strftime("%H:%M") == "10:00"
    assert visit.reason == "09:30 was fully booked; moved to 10:00"
    full = [
        Booking(dt.datetime(2027, 1, 4, 8, tzinfo=utc), dt.datetime(2027, 1, 4, 18, tzinfo=utc))
    ]
    crowded = plan(single, calendar, D(2027, 1, 4), NINE_THIRTY, bookings=full).visits[0]
    assert crowded.start.strftime("%H:%M") == "09:30"
    assert any("over capacity" in w for w in crowded.warnings)


def test_capacity_of_two_allows_two_at_once() -> None:
    calendar = ClinicCalendar(clinic(capacity="2"))
    single = protocol("""
[[visits]]
key = "v"
label = "V"
kind = "treatment"
duration_minutes = 30
anchor = "start"
""")
    utc = dt.UTC
    one = [
        Booking(dt.datetime(2027, 1, 4, 9, 30, tzinfo=utc), dt.datetime(2027, 1, 4, 10, tzinfo=utc))
    ]
    assert plan(single, calendar, D(2027, 1, 4), NINE_THIRTY, bookings=one).visits[0].reason is None
    two = one * 2
    assert plan(single, calendar, D(2027, 1, 4), NINE_THIRTY, bookings=two).visits[0].reason


def test_outside_opening_hours_is_a_warning() -> None:
    single = protocol("""
[[visits]]
key = "v"
label = "V"
kind = "treatment"
duration_minutes = 30
anchor = "start"
""")
    calendar = ClinicCalendar(clinic())
    visit = plan(single, calendar, D(2027, 1, 4), dt.time(18, 0)).visits[0]
    assert visit.warnings == ("18:00 on 2027-01-04 is outside opening hours (08:00-18:00)",)
    early = plan(single, calendar, D(2027, 1, 4), dt.time(7, 45)).visits[0]
    assert early.warnings == ("07:45 on 2027-01-04 is outside opening hours (08:00-18:00)",)
    last = plan(single, calendar, D(2027, 1, 4), dt.time(17, 30)).visits[0]
    assert last.warnings == ()
