"""Properties of every plan, over generated protocols, clinics and start dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visitplan.domain.clinic import WEEKDAYS, Clinic, ClinicCalendar
from visitplan.domain.clinic_file import validate_clinic
from visitplan.domain.engine import Booking, PlannedVisit, plan
from visitplan.domain.protocol import Protocol, Step
from visitplan.domain.protocol_file import validate_protocol

ZONES = [
    "UTC",
    "Asia/Seoul",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "America/Santiago",
    "Pacific/Chatham",
    "Asia/Kolkata",
]
COUNTRIES = [None, ("US", None), ("KR", None), ("DE", "BY"), ("GB", "ENG")]

offsets = st.one_of(
    st.builds(lambda d: {"days": d}, st.integers(0, 40)),
    st.builds(lambda w: {"weeks": w}, st.integers(0, 8)),
    st.builds(lambda m: {"months": m}, st.integers(0, 14)),
)
positive_offsets = offsets.filter(lambda o: any(o.values()))


@st.composite
def protocols(draw: st.DrawFn) -> Protocol:
    visits: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 4))):
        count = draw(st.integers(1, 6))
        if index == 0:
            anchor = "start"
        else:
            earlier = draw(st.sampled_from(visits))["key"]
            anchor = draw(
                st.sampled_from(["start", "previous", f"{earlier}.first", f"{earlier}.last"])
            )
        visit: dict[str, Any] = {
            "key": f"v{index}",
            "label": "Visit {n} of {total}",
            "kind": draw(st.sampled_from(["treatment", "follow-up", "assessment"])),
            "duration_minutes": draw(st.sampled_from([15, 30, 45, 60, 90])),
            "anchor": anchor,
            "offset": draw(offsets),
            "window": {"before": draw(st.integers(0, 10)), "after": draw(st.integers(0, 10))},
        }
        if count > 1:
            visit["repeat"] = {
                "count": count,
                "every": draw(positive_offsets),
                "measured_from": draw(st.sampled_from(["previous", "first"])),
            }
        visits.append(visit)
    return validate_protocol(
        {"title": "Generated", "version": "1", "visits": visits}, "generated.toml"
    )


@st.composite
def clinics(draw: st.DrawFn) -> Clinic:
    open_days = draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1))
    country = draw(st.sampled_from(COUNTRIES))
    closures = draw(st.lists(st.dates(dt.date(2020, 1, 1), dt.date(2036, 12, 31)), max_size=30))
    data: dict[str, Any] = {
        "timezone": draw(st.sampled_from(ZONES)),
        "hours": {day: "08:00-19:00" for day in open_days},
        "closures": [str(d) for d in closures],
        "capacity": draw(st.integers(1, 3)),
    }
    if country:
        data["holidays"] = {"country": country[0], "subdivision": country[1]}
    return validate_clinic(data, "clinic.toml")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    protocol=protocols(),
    clinic=clinics(),
    start=st.dates(dt.date(2020, 1, 1), dt.date(2034, 12, 31)),
    time=st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
)
def test_every_plan_keeps_its_promises(
    protocol: Protocol, clinic: Clinic, start: dt.date, time: dt.time
) -> None:
    calendar = ClinicCalendar(clinic)
    result = plan(protocol, calendar, start, time)
    visits = result.visits
    assert len(visits) == sum(v.count for v in protocol.visits)
    assert len({v.key for v in visits}) == len(visits)
    assert [v.start for v in visits] == sorted(v.start for v in visits)
    for visit in visits:
        day = visit.start.date()
        assert calendar.is_open(day), visit
        if not visit.earliest <= day <= visit.latest:
            assert any("outside the window" in w for w in visit.warnings), visit
        if visit.shifted:
            assert visit.reason, visit
        if (visit.start.hour, visit.start.minute) != (time.hour, time.minute):
            # Only three things may change the wall-clock time: a time that daylight
            # saving skips, a full clinic (capacity), and a visit on the same day as the
            # one it is measured from, which comes after it; each said in the visit.
            # The same day as the visit it is measured from moves it after that one.
            skipped = any("does not exist" in w for w in visit.warnings)
            reason = visit.reason or ""
            assert skipped or "was fully booked" in reason or "which ends at" in reason, visit
        assert str(visit.start.tzinfo) == clinic.timezone or clinic.timezone == "UTC"
        assert visit.end - visit.start == dt.timedelta(minutes=visit.definition.duration_minutes)


@st.composite
def bookings(draw: st.DrawFn, start: dt.date) -> list[Booking]:
    """Other patients' visits over the course's first months, some across midnight."""
    out = []
    for _ in range(draw(st.integers(0, 60))):
        day = start + dt.timedelta(days=draw(st.integers(0, 90)))
        begin = dt.datetime.combine(
            day, dt.time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))), dt.UTC
        )
        length = dt.timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 240])))
        out.append(Booking(begin, begin + length))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    protocol=protocols(),
    clinic=clinics(),
    start=st.dates(dt.date(2020, 1, 1), dt.date(2034, 12, 31)),
    time=st.builds(dt.time, st.integers(6, 20), st.sampled_from([0, 15, 30, 45])),
    data=st.data(),
)
def test_every_visit_falls_after_the_visit_it_is_measured_from(
    protocol: Protocol, clinic: Clinic, start: dt.date, time: dt.time, data: st.DataObject
) -> None:
    calendar = ClinicCalendar(clinic)
    taken = data.draw(bookings(start))
    first = plan(protocol, calendar, start, time, bookings=taken).by_key()
    # Some visits were done or moved by hand, days away from where they were planned.
    moved = data.draw(st.sets(st.sampled_from(sorted(first))))
    pinned = {
        key: first[key].start + dt.timedelta(days=data.draw(st.integers(-5, 9)), hours=1)
        for key in moved
    }
    result = plan(protocol, calendar, start, time, pinned=pinned, bookings=taken)
    by_key = result.by_key()
    for visit in result.visits:
        if visit.pinned:
            continue
        step, day = visit.step, visit.start.date()
        strict = not step.offset.is_zero()
        base = start if step.anchor is None else by_key[step.anchor].start.date()
        assert day > base if strict else day >= base, visit
        assert visit.earliest >= (base + dt.timedelta(days=1) if strict else base), visit
        if step.anchor is not None and day == base:
            anchor = by_key[step.anchor]
            if anchor.end.date() == day:
                assert visit.start >= anchor.end, (visit, anchor)
            else:
                assert any("before it ends" in w for w in visit.warnings), visit
        before = _grid_before(step)
        if before is not None:
            assert day > by_key[before].start.date(), visit
        if not visit.in_window:
            assert any("outside the window" in w for w in visit.warnings), visit
        _check_capacity(visit, result.visits, protocol, taken, clinic.capacity)
        if "was fully booked" in (visit.reason or ""):
            _check_inside_hours(calendar, visit)


def _grid_before(step: Step) -> str | None:
    repeat = step.definition.repeat
    if repeat is None or repeat.measured_from != "first" or step.occurrence < 2:
        return None
    return step.definition.occurrence_key(step.occurrence - 1)


def _check_capacity(
    visit: PlannedVisit,
    visits: tuple[PlannedVisit, ...],
    protocol: Protocol,
    taken: list[Booking],
    capacity: int,
) -> None:
    """Without an over-capacity warning, fewer than ``capacity`` others run at every
    moment of the visit: other bookings and the visits planned before it."""
    if any("over capacity" in w for w in visit.warnings):
        return
    order = [step.key for step in protocol.steps]
    earlier = set(order[: order.index(visit.key)])
    others = [(b.start, b.end) for b in taken]
    others += [(v.start, v.end) for v in visits if v.key in earlier]
    overlapping = [(s, e) for s, e in others if s < visit.end and visit.start < e]
    moments = [visit.start] + [s for s, _ in overlapping if s > visit.start]
    for m in moments:
        assert sum(1 for s, e in overlapping if s <= m < e) < capacity, (visit, m)


def _check_inside_hours(calendar: ClinicCalendar, visit: PlannedVisit) -> None:
    """A start the engine chose itself has the whole visit inside opening hours."""
    day = visit.start.date()
    hours = calendar.hours(day)
    assert hours is not None, visit
    opens = dt.datetime.combine(day, hours.opens, calendar.zone)
    closes = dt.datetime.combine(day, hours.closes, calendar.zone)
    assert opens <= visit.start, visit
    assert visit.end <= closes, visit
