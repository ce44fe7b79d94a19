"""Free times on request: the nearest start times with room for one visit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visitplan.domain.clinic import ClinicCalendar, Hours, parse_clinic
from visitplan.domain.engine import Booking, plan
from visitplan.domain.free_times import FreeTime, free_times
from visitplan.domain.protocol import parse_protocol
from visitplan.errors import InputError

D = dt.date
UTC = dt.UTC
HALF_HOUR = dt.timedelta(minutes=30)


def calendar(
    zone: str = "UTC", hours: str = "09:00-17:00", days: str = "mon tue wed thu fri", **extra: str
) -> ClinicCalendar:
    head = "\n".join(f"{k} = {v}" for k, v in extra.items())
    lines = "\n".join(f'{d} = "{hours}"' for d in days.split())
    return ClinicCalendar(parse_clinic(f'timezone = "{zone}"\n{head}\n[hours]\n{lines}\n', "c"))


def at(day: dt.date, hm: str, zone: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hm), tzinfo=zone)


def booked(day: dt.date, start: str, end: str) -> Booking:
    return Booking(at(day, start), at(day, end))


def times(found: tuple[FreeTime, ...]) -> list[str]:
    return [f"{f.start:%a %m-%d %H:%M}" for f in found]


def ask(cal: ClinicCalendar, bookings: Any = (), **given: Any) -> tuple[FreeTime, ...]:
    """A 30-minute visit targeted at Wednesday 2027-01-06 10:00, window Mon to Fri."""
    options: dict[str, Any] = {
        "duration": HALF_HOUR,
        "target": D(2027, 1, 6),
        "time": dt.time(10, 0),
        "earliest": D(2027, 1, 4),
        "latest": D(2027, 1, 8),
        "not_before": at(D(2027, 1, 1), "00:00"),
        "count": 5,
    }
    options.update(given)
    return free_times(cal, bookings, **options)


def only_on(day: dt.date) -> dict[str, Any]:
    """Target and window on one day, asked the week before."""
    return {
        "target": day,
        "earliest": day,
        "latest": day,
        "not_before": at(day - dt.timedelta(days=7), "00:00"),
    }


def test_nearest_to_the_visit_time_on_the_target_day_first() -> None:
    found = ask(calendar())
    assert times(found) == [
        "Wed 01-06 10:00", "Wed 01-06 10:15", "Wed 01-06 09:45", "Wed 01-06 10:30",
        "Wed 01-06 09:30",
    ]  # fmt: skip
    assert all(f.in_window and f.describe() == "in the window" for f in found)
    assert all(f.end - f.start == HALF_HOUR for f in found)


def test_capacity_counts_every_moment_of_the_visit() -> None:
    wednesday = D(2027, 1, 6)
    two = [booked(wednesday, "10:00", "10:30"), booked(wednesday, "10:15", "10:45")]
    # Capacity 2: both run from 10:15 to 10:30, so no visit may overlap that quarter:
    # 10:00 and 10:15 are out, 09:45 (ending at 10:15) and 10:30 are in.
    found = ask(calendar(capacity="2"), two)
    assert times(found) == [
        "Wed 01-06 09:45", "Wed 01-06 10:30", "Wed 01-06 09:30", "Wed 01-06 10:45",
        "Wed 01-06 09:15",
    ]  # fmt: skip
    # With room for three, every time has room again.
    assert times(ask(calendar(capacity="3"), two))[0] == "Wed 01-06 10:00"


def test_a_visit_may_end_as_the_next_begins() -> None:
    wednesday = D(2027, 1, 6)
    around = [booked(wednesday, "09:30", "10:00"), booked(wednesday, "10:30", "11:00")]
    found = ask(calendar(), around, count=3)
    assert times(found) == ["Wed 01-06 10:00", "Wed 01-06 11:00", "Wed 01-06 09:00"]


def test_a_full_day_moves_on_to_the_nearest_days_later_first() -> None:
    full = [booked(D(2027, 1, 6), "09:00", "17:00")]
    found = ask(calendar(), full, count=2, time=dt.time(9, 0))
    # Tuesday and Thursday are as near; the later day comes first, as in the engine.
    assert times(found) == ["Thu 01-07 09:00", "Thu 01-07 09:15"]
    # Thursday has 31 starts (09:00 to 16:30); then Tuesday.
    more = ask(calendar(), full, count=33, time=dt.time(9, 0))
    assert times(more)[31:] == ["Tue 01-05 09:00", "Tue 01-05 09:15"]


def test_closed_days_holidays_and_closures_are_never_offered() -> None:
    cal = calendar(holidays='{ country = "US" }', closures='["2027-01-07"]')
    found = ask(
        cal,
        target=D(2027, 1, 1),  # New Year's Day, a Friday; the window runs into the weekend
        earliest=D(2026, 12, 31),
        latest=D(2027, 1, 3),
        count=200,
        not_before=at(D(2026, 12, 30), "00:00"),
    )
    offered = {f.day for f in found}
    assert D(2026, 12, 31) in offered
    for closed in (D(2027, 1, 1), D(2027, 1, 2), D(2027, 1, 3), D(2027, 1, 7)):
        assert closed not in offered
    assert next(f.days_outside for f in found if f.day == D(2027, 1, 4)) == 1


def test_a_visit_that_would_end_after_closing_is_not_offered() -> None:
    found = ask(calendar(), duration=dt.timedelta(minutes=45), time=dt.time(16, 30), count=3)
    # 16:30 and 16:45 would end after 17:00; 16:15 ends at 17:00 exactly.
    assert times(found) == ["Wed 01-06 16:15", "Wed 01-06 16:00", "Wed 01-06 15:45"]


def test_an_asked_time_off_the_slot_grid_is_offered_first_when_free() -> None:
    found = ask(calendar(), time=dt.time(10, 10), count=3)
    assert times(found) == ["Wed 01-06 10:10", "Wed 01-06 10:15", "Wed 01-06 10:00"]


def test_never_before_now() -> None:
    now = at(D(2027, 1, 6), "11:07")
    found = ask(calendar(), not_before=now, count=3)
    assert times(found) == ["Wed 01-06 11:15", "Wed 01-06 11:30", "Wed 01-06 11:45"]
    assert all(f.start >= now for f in found)


def test_a_window_already_past_offers_the_soonest_times_after_it() -> None:
    # A no-show whose window ended last week: nothing inside; the soonest from now, marked.
    now = at(D(2027, 1, 13), "16:20")
    found = ask(calendar(), not_before=now, count=3)
    assert times(found) == ["Wed 01-13 16:30", "Thu 01-14 10:00", "Thu 01-14 10:15"]
    assert [f.days_outside for f in found] == [5, 6, 6]
    assert found[1].describe() == "6 days after the window"
    assert not any(f.in_window for f in found)


def test_inside_the_window_first_then_the_nearest_outside_each_marked() -> None:
    week = [booked(D(2027, 1, d), "09:00", "17:00") for d in range(4, 9)]
    found = ask(calendar(), week, count=3, not_before=at(D(2027, 1, 3), "00:00"))
    assert times(found) == ["Mon 01-11 10:00", "Mon 01-11 10:15", "Mon 01-11 09:45"]
    assert [f.describe() for f in found] == ["3 days after the window"] * 3
    # Friday 1 January is as far from the target as Monday 11 January: after
    # Monday's 31 starts, unless a floor (the day after the visit it is measured
    # from) keeps the days before it out.
    earlier = ask(calendar(), week, count=32, not_before=at(D(2026, 12, 20), "00:00"))
    assert times(earlier)[31] == "Fri 01-01 10:00"
    assert earlier[31].days_outside == -3
    assert earlier[31].describe() == "3 days before the window"
    floored = ask(
        calendar(), week, count=32, not_before=at(D(2026, 12, 20), "00:00"), floor=D(2027, 1, 4)
    )
    assert times(floored)[31] == "Tue 01-12 10:00"


@pytest.mark.parametrize(
    ("night", "hours_long", "wall_hours"),
    [
        # New York springs forward on 14 March 2027 (02:00 becomes 03:00) ...
        (D(2027, 3, 14), 5, {0, 1, 3, 4, 5}),
        # ... and falls back on 7 November 2027 (01:00-02:00 comes twice).
        (D(2027, 11, 7), 7, {0, 1, 2, 3, 4, 5}),
    ],
)
def test_daylight_saving_nights_are_as_long_as_they_really_are(
    night: dt.date, hours_long: int, wall_hours: set[int]
) -> None:
    cal = calendar("America/New_York", hours="00:00-06:00", days="sun")
    hour = dt.timedelta(hours=1)
    found = ask(cal, duration=hour, time=dt.time(0, 0), count=200, **only_on(night))
    inside = [f for f in found if f.in_window]
    # Every quarter hour of elapsed time from opening whose hour-long visit ends by 06:00.
    assert len(inside) == (hours_long - 1) * 4 + 1
    assert {f.start.hour for f in inside} == wall_hours
    # Each instant once (01:30 EDT and 01:30 EST are two; equal as wall-clock times).
    assert len({f.start.timestamp() for f in inside}) == len(inside)
    assert all(f.end - f.start == hour for f in inside)
    closes = dt.datetime.combine(night, dt.time(6, 0), cal.zone)
    assert max(f.end for f in inside) == closes


def test_an_ordinary_clinic_keeps_its_wall_clock_times_across_a_change() -> None:
    cal = calendar("Europe/Berlin")
    # Berlin springs forward on Sunday 28 March 2027: Friday and Monday both at 09:00.
    for day in (D(2027, 3, 26), D(2027, 3, 29)):
        first = ask(cal, time=dt.time(9, 0), count=1, **only_on(day))[0]
        assert f"{first.start:%H:%M}" == "09:00"
    assert first.start.utcoffset() == dt.timedelta(hours=2)


def test_bookings_may_come_as_a_function_of_the_day() -> None:
    wednesday = D(2027, 1, 6)
    bookings = [booked(wednesday, "09:00", "12:00"), booked(D(2027, 1, 7), "09:00", "17:00")]
    asked: list[dt.date] = []

    def on(day: dt.date) -> list[Booking]:
        asked.append(day)
        return [b for b in bookings if b.start.date() == day]

    listed = ask(calendar(), bookings, count=3)
    assert ask(calendar(), on, count=3) == listed
    assert asked == [wednesday]  # only the days it looked at, each once


def test_a_count_below_one_is_refused() -> None:
    with pytest.raises(InputError, match="at least 1"):
        ask(calendar(), count=0)


@st.composite
def clinic_bookings(draw: st.DrawFn) -> tuple[ClinicCalendar, list[Booking]]:
    cal = calendar(
        zone=draw(st.sampled_from(["UTC", "America/New_York", "Asia/Seoul"])),
        hours=draw(st.sampled_from(["09:00-17:00", "08:30-12:00", "00:00-06:00"])),
        days=" ".join(draw(st.sets(st.sampled_from(["mon", "wed", "sat", "sun"]), min_size=1))),
        capacity=str(draw(st.integers(1, 3))),
        slot_minutes=str(draw(st.sampled_from([10, 15, 20, 30]))),
    )
    out = []
    for _ in range(draw(st.integers(0, 80))):
        start = dt.datetime(2027, 3, 10, tzinfo=UTC) + dt.timedelta(
            minutes=15 * draw(st.integers(0, 4 * 24 * 10))
        )
        length = dt.timedelta(minutes=draw(st.sampled_from([15, 45, 240])))
        out.append(Booking(start, start + length))
    return cal, out


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    setup=clinic_bookings(),
    minutes=st.sampled_from([15, 30, 45, 90]),
    target_offset=st.integers(0, 8),
    before=st.integers(0, 2),
    after=st.integers(0, 2),
    time=st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 5, 30])),
    now_minutes=st.integers(0, 60 * 24 * 8),
    count=st.integers(1, 12),
)
def test_the_same_times_a_brute_force_search_finds(
    setup: tuple[ClinicCalendar, list[Booking]],
    minutes: int,
    target_offset: int,
    before: int,
    after: int,
    time: dt.time,
    now_minutes: int,
    count: int,
) -> None:
    """Over generated clinics (DST nights included) and bookings: the answer is the
    first ``count`` of every free start, listed one by one and sorted as documented."""
    cal, bookings = setup
    duration = dt.timedelta(minutes=minutes)
    target = D(2027, 3, 10) + dt.timedelta(days=target_offset)  # New York's change is on 14 March
    earliest, latest = target - dt.timedelta(days=before), target + dt.timedelta(days=after)
    now = dt.datetime(2027, 3, 10, tzinfo=UTC) + dt.timedelta(minutes=now_minutes)
    found = free_times(
        cal, bookings, duration=duration, target=target, time=time, earliest=earliest,
        latest=latest, not_before=now, count=count,
    )  # fmt: skip
    reference = _every_free_start(cal, bookings, duration, target, time, earliest, latest, now)
    # The reference looks 10 days either side of the target (every inside day, and the
    # outside days nearest first): enough whenever it finds ``count`` times there.
    if len(reference) >= count:
        assert [f.start for f in found] == reference[:count]
    for f in found:
        assert f.start >= now
        assert f.in_window == (earliest <= f.day <= latest)


def _every_free_start(
    cal: ClinicCalendar,
    bookings: list[Booking],
    duration: dt.timedelta,
    target: dt.date,
    time: dt.time,
    earliest: dt.date,
    latest: dt.date,
    now: dt.datetime,
) -> list[dt.datetime]:
    """Every start the documentation allows, checked one by one, in its order."""
    capacity, step = cal.clinic.capacity, cal.clinic.slot_minutes
    keyed = []
    for offset in range(-10, 11):
        day = target + dt.timedelta(days=offset)
        hours = cal.hours(day)
        if hours is None:
            continue
        opens = dt.datetime.combine(day, hours.opens, cal.zone).astimezone(UTC)
        closes = dt.datetime.combine(day, hours.closes, cal.zone).astimezone(UTC)
        asked = dt.datetime.combine(day, time, cal.zone).astimezone(UTC)
        grid = [opens + dt.timedelta(minutes=step * k) for k in range(24 * 60 // step + 1)]
        for moment in sorted({*grid, asked}):
            if not opens <= moment <= closes - duration:
                continue
            end = moment + duration
            busy = [(b.start, b.end) for b in bookings if b.start < end and moment < b.end]
            points = [moment] + [s for s, _ in busy if s > moment]
            free = all(sum(1 for s, e in busy if s <= p < e) < capacity for p in points)
            if free and moment >= now:
                outside = not earliest <= day <= latest
                distance = abs((day - target).days)
                keyed.append(
                    ((outside, distance, day < target, abs(moment - asked), moment < asked), moment)
                )
    keyed.sort()
    return [moment for _, moment in keyed]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    setup=clinic_bookings(),
    minutes=st.sampled_from([15, 30, 45, 90]),
    start_offset=st.integers(0, 8),
    before=st.integers(0, 3),
    after=st.integers(0, 3),
    data=st.data(),
)
def test_the_first_free_time_is_where_the_engine_books_when_its_day_has_room(
    setup: tuple[ClinicCalendar, list[Booking]],
    minutes: int,
    start_offset: int,
    before: int,
    after: int,
    data: st.DataObject,
) -> None:
    cal, bookings = setup
    # Mostly a time inside the clinic's hours (every open day has the same ones here).
    hours = Hours.parse(next(iter(cal.clinic.hours.values())))
    opens = hours.opens.hour * 60 + hours.opens.minute
    closes = hours.closes.hour * 60 + hours.closes.minute
    minute = data.draw(st.one_of(st.integers(opens, closes - minutes), st.integers(0, 1439)))
    time = dt.time(minute // 60, minute % 60)
    single = parse_protocol(
        f'title = "T"\nversion = "1"\n[[visits]]\nkey = "v"\nlabel = "V"\nkind = "review"\n'
        f'duration_minutes = {minutes}\nanchor = "start"\noffset = {{ days = 1 }}\n'
        f"window = {{ before = {before}, after = {after} }}\n",
        "p.toml",
    )
    start = D(2027, 3, 9) + dt.timedelta(days=start_offset)
    visit = plan(single, cal, start, time, bookings=bookings).visits[0]
    if visit.warnings:
        return  # over capacity, outside hours, a skipped time, out of the window: not offered
    first = free_times(
        cal,
        bookings,
        duration=dt.timedelta(minutes=minutes),
        target=visit.target,
        time=time,
        earliest=visit.earliest,
        latest=visit.latest,
        not_before=dt.datetime(2027, 1, 1, tzinfo=UTC),
        count=1,
    )
    assert first[0].start == visit.start
    assert first[0].in_window
