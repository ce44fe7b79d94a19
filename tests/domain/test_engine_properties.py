"""Properties of every plan, over generated protocols, clinics and start dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visitplan.domain.clinic import WEEKDAYS, Clinic, ClinicCalendar
from visitplan.domain.engine import plan
from visitplan.domain.protocol import Protocol

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
    return Protocol.model_validate({"title": "Generated", "version": "1", "visits": visits})


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
    return Clinic.model_validate(data)


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
            # Only two things may change the wall-clock time: a time that daylight saving
            # skips, and a full clinic (capacity), each said in the visit.
            skipped = any("does not exist" in w for w in visit.warnings)
            assert skipped or "was fully booked" in (visit.reason or ""), visit
        assert str(visit.start.tzinfo) == clinic.timezone or clinic.timezone == "UTC"
        assert visit.end - visit.start == dt.timedelta(minutes=visit.definition.duration_minutes)
