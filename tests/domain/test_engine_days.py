"""The engine's day rule: a visit never falls on or before the day of the visit it is
measured from when its offset is positive, and never before the course start; and a
visit's end, not only its start, must be inside opening hours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from visitplan.domain.clinic import ClinicCalendar, parse_clinic
from visitplan.domain.engine import Booking, PlannedVisit, plan
from visitplan.domain.protocol import Protocol, parse_protocol

D = dt.date
TEN = dt.time(10, 0)
UTC = dt.UTC


def weekdays(extra: str = "", hours: str = "09:00-17:00", zone: str = "UTC") -> ClinicCalendar:
    days = "\n".join(f'{d} = "{hours}"' for d in ("mon", "tue", "wed", "thu", "fri"))
    text = f'name = "T"\ntimezone = "{zone}"\n{extra}\n[hours]\n{days}\n'
    return ClinicCalendar(parse_clinic(text, "clinic.toml"))


def series(count: int, every: str, window: str, *, grid: bool = False, minutes: int = 30) -> str:
    measured = ', measured_from = "first"' if grid else ""
    return f"""
[[visits]]
key = "s"
label = "S{{n}}"
kind = "treatment"
duration_minutes = {minutes}
anchor = "start"
repeat = {{ count = {count}, every = {every}{measured} }}
window = {window}
"""


def booked(day: dt.date, start: str, end: str) -> Booking:
    """A booking in UTC (the test clinics' zone) from "HH:MM" to "HH:MM"."""

    def at(hm: str) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.fromisoformat(hm), tzinfo=UTC)

    return Booking(at(start), at(end))


def protocol(body: str) -> Protocol:
    return parse_protocol('title = "T"\nversion = "1"\n' + body, "p.toml")


def days_of(visits: Sequence[PlannedVisit]) -> list[str]:
    return [f"{v.start:%a %m-%d}" for v in visits]


def test_a_daily_course_on_a_weekday_clinic_skips_the_weekend_instead_of_piling_up() -> None:
    daily = protocol(series(10, "{ days = 1 }", "{ before = 3, after = 3 }"))
    # 2026-12-03 is a Thursday. The case: sessions 4 to 10 all went on Friday.
    result = plan(daily, weekdays(), D(2026, 12, 3), TEN)
    assert days_of(result.visits) == [
        "Thu 12-03", "Fri 12-04", "Mon 12-07", "Tue 12-08", "Wed 12-09",
        "Thu 12-10", "Fri 12-11", "Mon 12-14", "Tue 12-15", "Wed 12-16",
    ]  # fmt: skip
    third = result.by_key()["s-3"]
    assert third.target == D(2026, 12, 5)
    assert third.reason == "closed on Saturdays"
    # Its window (target -3 to +3) is cut at the day after session 2: Friday is never offered.
    assert (third.earliest, third.latest) == (D(2026, 12, 5), D(2026, 12, 8))
    assert not result.warnings


def test_a_window_left_only_on_or_before_the_anchor_goes_outside_with_a_warning() -> None:
    # One day after a Friday visit, with a window only reaching back: Saturday is the
    # only day left after the anchor, and it is closed.
    daily = protocol(series(2, "{ days = 1 }", "{ before = 3, after = 0 }"))
    result = plan(daily, weekdays(), D(2027, 1, 8), TEN)
    second = result.by_key()["s-2"]
    assert second.start.date() == D(2027, 1, 11)
    assert (second.earliest, second.latest) == (D(2027, 1, 9), D(2027, 1, 9))
    assert result.warnings == (
        "S2: no open day in its window 2027-01-09 to 2027-01-09, after S1 on 2027-01-08 "
        "(target 2027-01-09: closed on Saturdays); booked on 2027-01-11, outside the window: "
        "a protocol deviation",
    )


def test_a_course_never_starts_before_its_start_date() -> None:
    single = protocol("""
[[visits]]
key = "v"
label = "V"
kind = "assessment"
duration_minutes = 30
anchor = "start"
window = { before = 3, after = 3 }
""")
    # Saturday 2027-01-09: Friday is nearer than Monday, but before the course starts.
    visit = plan(single, weekdays(), D(2027, 1, 9), TEN).visits[0]
    assert visit.start.date() == D(2027, 1, 11)
    assert visit.earliest == D(2027, 1, 9)


def test_a_fixed_grid_keeps_its_visits_in_order_on_separate_days() -> None:
    grid = protocol(series(5, "{ days = 1 }", "{ before = 3, after = 3 }", grid=True))
    result = plan(grid, weekdays(), D(2026, 12, 3), TEN)
    assert days_of(result.visits) == [
        "Thu 12-03", "Fri 12-04", "Mon 12-07", "Tue 12-08", "Wed 12-09"
    ]  # fmt: skip
    fourth = result.by_key()["s-4"]
    # Measured from the first (Thursday + 3 days = Sunday), but after the third (Monday).
    assert fourth.target == D(2026, 12, 6)
    assert fourth.reason == "after S3 on 2026-12-07"
    assert fourth.earliest == D(2026, 12, 8)
    assert not result.warnings


def test_a_fixed_grid_that_drifts_past_a_window_says_so() -> None:
    grid = protocol(series(5, "{ days = 1 }", "{ before = 0, after = 0 }", grid=True))
    result = plan(grid, weekdays(), D(2026, 12, 3), TEN)
    assert days_of(result.visits) == [
        "Thu 12-03", "Fri 12-04", "Mon 12-07", "Tue 12-08", "Wed 12-09"
    ]  # fmt: skip
    fifth = result.by_key()["s-5"]
    assert fifth.target == D(2026, 12, 7)
    assert (fifth.earliest, fifth.latest) == (D(2026, 12, 7), D(2026, 12, 7))
    assert fifth.warnings == (
        "no open day in its window 2026-12-07 to 2026-12-07, after S4 on 2026-12-08 "
        "(target 2026-12-07: after S4 on 2026-12-08); booked on 2026-12-09, outside the "
        "window: a protocol deviation",
    )


def test_month_offsets_keep_the_rule() -> None:
    # A wide window before a one-month offset would reach back past the anchor.
    monthly = protocol(series(3, "{ months = 1 }", "{ before = 40, after = 3 }"))
    result = plan(monthly, weekdays(), D(2027, 1, 29), TEN)
    by_key = result.by_key()
    assert by_key["s-2"].target == D(2027, 2, 28)  # calendar months clamp at month end
    assert by_key["s-2"].earliest == D(2027, 1, 30)
    assert by_key["s-2"].start.date() == D(2027, 3, 1)  # 28 Feb is a Sunday: Monday is nearer
    assert by_key["s-3"].earliest == D(2027, 3, 2)


def test_a_same_day_visit_follows_the_visit_it_is_measured_from() -> None:
    course = protocol("""
[[visits]]
key = "injection"
label = "Injection"
kind = "treatment"
duration_minutes = 45
anchor = "start"

[[visits]]
key = "scan"
label = "Scan"
kind = "imaging"
duration_minutes = 20
anchor = "injection"
""")
    # Capacity 2: the clinic has room for both at 10:00, but one patient cannot be in two.
    calendar = weekdays("capacity = 2")
    by_key = plan(course, calendar, D(2027, 1, 4), TEN).by_key()
    assert by_key["scan"].start.isoformat() == "2027-01-04T10:45:00+00:00"
    assert by_key["scan"].reason == "after Injection, which ends at 10:45"
    # A full clinic then moves it later, never back before the injection.
    taken = [booked(D(2027, 1, 4), "10:45", "11:00")] * 2
    moved = plan(course, calendar, D(2027, 1, 4), TEN, bookings=taken).by_key()["scan"]
    assert moved.start.isoformat() == "2027-01-04T11:00:00+00:00"
    assert moved.reason == (
        "after Injection, which ends at 10:45; 10:45 was fully booked; moved to 11:00"
    )


def test_a_late_visit_carries_the_next_one_past_its_own_day() -> None:
    daily = protocol(series(3, "{ days = 1 }", "{ before = 1, after = 5 }"))
    # Session 2 done on Friday instead of Tuesday: session 3 goes after it, on Monday.
    pinned = {"s-2": dt.datetime(2027, 1, 8, 10, tzinfo=UTC)}
    by_key = plan(daily, weekdays(), D(2027, 1, 4), TEN, pinned=pinned).by_key()
    assert by_key["s-3"].target == D(2027, 1, 9)
    assert by_key["s-3"].start.date() == D(2027, 1, 11)


def test_a_visit_that_would_end_after_closing_warns() -> None:
    single = protocol(series(1, "{ days = 1 }", "{ before = 0, after = 0 }", minutes=45))
    visit = plan(single, weekdays(), D(2027, 1, 4), dt.time(16, 45)).visits[0]
    assert visit.start.strftime("%H:%M") == "16:45"
    assert visit.warnings == ("16:45 on 2027-01-04 ends at 17:30, after closing (09:00-17:00)",)
    fits = plan(single, weekdays(), D(2027, 1, 4), dt.time(16, 15)).visits[0]
    assert fits.warnings == ()


def test_a_full_clinic_never_moves_a_visit_to_a_time_that_ends_after_closing() -> None:
    single = protocol(series(1, "{ days = 1 }", "{ before = 0, after = 0 }", minutes=45))
    calendar = weekdays()
    taken = [booked(D(2027, 1, 4), "15:45", "16:15")]
    # 16:15 is the nearest free start and ends at 17:00 exactly: allowed.
    visit = plan(single, calendar, D(2027, 1, 4), dt.time(16, 0), bookings=taken).visits[0]
    assert visit.start.strftime("%H:%M") == "16:15"
    # Later 16:30 would be as near as 15:00 but ends at 17:15: the earlier one is chosen.
    later = [*taken, booked(D(2027, 1, 4), "16:15", "16:30")]
    visit = plan(single, calendar, D(2027, 1, 4), dt.time(15, 45), bookings=later).visits[0]
    assert visit.start.strftime("%H:%M") == "15:00"
    assert visit.reason == "15:45 was fully booked; moved to 15:00"


def test_a_full_clinic_on_a_daylight_saving_night_moves_by_elapsed_time() -> None:
    # Open 00:00-06:00 on Sundays in New York; on 14 March 2027 the clocks skip 02:00-03:00.
    sundays = ClinicCalendar(
        parse_clinic('timezone = "America/New_York"\n[hours]\nsun = "00:00-06:00"\n', "c.toml")
    )
    single = protocol(series(1, "{ days = 1 }", "{ before = 0, after = 0 }", minutes=60))
    zone = sundays.zone
    # Taken until 02:00 EST, which is 03:00 EDT: the next free start is 03:00, never a
    # wall-clock time the night does not have.
    until = dt.datetime(2027, 3, 14, 7, tzinfo=UTC)
    taken = [Booking(dt.datetime(2027, 3, 14, 0, tzinfo=zone), until)]
    visit = plan(single, sundays, D(2027, 3, 14), dt.time(1, 0), bookings=taken).visits[0]
    assert visit.start.isoformat() == "2027-03-14T03:00:00-04:00"
    assert visit.end.isoformat() == "2027-03-14T04:00:00-04:00"
    assert visit.reason == "01:00 was fully booked; moved to 03:00"
    assert visit.warnings == ()


def test_bookings_may_come_as_a_function_of_the_day() -> None:
    daily = protocol(series(6, "{ days = 1 }", "{ before = 1, after = 3 }"))
    taken = [booked(D(2027, 1, d), "10:00", "10:30") for d in range(4, 12)]
    asked: list[dt.date] = []

    def on(day: dt.date) -> list[Booking]:
        asked.append(day)
        return [b for b in taken if b.start.date() == day]

    listed = plan(daily, weekdays(), D(2027, 1, 4), TEN, bookings=taken)
    assert plan(daily, weekdays(), D(2027, 1, 4), TEN, bookings=on) == listed
    assert {v.start.strftime("%H:%M") for v in listed.visits} == {"10:30"}
    assert sorted(asked) == sorted({v.start.date() for v in listed.visits})
