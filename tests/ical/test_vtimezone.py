"""VTIMEZONE blocks: Outlook's form, and the same offsets as zoneinfo at every moment."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest

from visitplan.domain.vtimezone import vtimezone
from visitplan.errors import InputError

ZONES = [
    "America/New_York",
    "Europe/London",
    "Europe/Dublin",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Santiago",
    "Asia/Jerusalem",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    "Asia/Seoul",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "UTC",
]
FIRST, LAST = dt.date(2026, 1, 1), dt.date(2028, 12, 31)


def moments(first: dt.date, last: dt.date, step: dt.timedelta) -> list[dt.datetime]:
    moment = dt.datetime(first.year, first.month, first.day, tzinfo=dt.UTC)
    end = dt.datetime(last.year, last.month, last.day, tzinfo=dt.UTC) + dt.timedelta(days=1)
    out = []
    while moment < end:
        out.append(moment)
        moment += step
    return out


@pytest.mark.parametrize("zone", ZONES)
def test_outlook_form_one_standard_at_most_one_daylight_yearly_rules(zone: str) -> None:
    block = icalendar.Timezone.from_ical(vtimezone(zone, FIRST, LAST).to_ical())
    standard = block.walk("STANDARD")
    daylight = block.walk("DAYLIGHT")
    assert len(standard) == 1
    assert len(daylight) <= 1
    text = block.to_ical().decode()
    assert "RDATE" not in text
    if daylight:
        assert all(part["RRULE"]["FREQ"] == ["YEARLY"] for part in (*standard, *daylight))
    else:
        only = standard[0]
        assert only["TZOFFSETFROM"].td == only["TZOFFSETTO"].td
        assert "RRULE" not in only


@pytest.mark.parametrize("zone", ZONES)
def test_vtimezone_offsets_equal_zoneinfo_every_hour_of_the_range(zone: str) -> None:
    real = ZoneInfo(zone)
    written = icalendar.Calendar.from_ical(vtimezone(zone, FIRST, LAST).to_ical()).to_tz()
    for moment in moments(FIRST, LAST, dt.timedelta(minutes=30)):
        assert moment.astimezone(written).utcoffset() == moment.astimezone(real).utcoffset(), (
            zone,
            moment,
        )


def test_wall_times_next_to_transitions_resolve_like_zoneinfo() -> None:
    zone = "America/New_York"
    written = icalendar.Calendar.from_ical(vtimezone(zone, FIRST, LAST).to_ical()).to_tz()
    for wall in (
        "2026-03-08T01:59",
        "2026-03-08T03:00",
        "2026-11-01T00:59",
        "2026-11-01T02:00",
        "2027-03-14T03:30",
        "2028-11-05T12:00",
    ):
        naive = dt.datetime.fromisoformat(wall)
        assert naive.replace(tzinfo=written).utcoffset() == (
            naive.replace(tzinfo=ZoneInfo(zone)).utcoffset()
        ), wall


def test_a_range_inside_one_year_still_describes_the_whole_year() -> None:
    block = vtimezone("Europe/London", dt.date(2026, 7, 1), dt.date(2026, 7, 2))
    assert len(block.walk("DAYLIGHT")) == 1
    written = icalendar.Calendar.from_ical(block.to_ical()).to_tz()
    january = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)
    assert january.astimezone(written).utcoffset() == dt.timedelta(0)


def test_zone_without_one_yearly_rule_is_refused_in_one_line() -> None:
    # Morocco moves its clocks around Ramadan: no single yearly rule describes it.
    with pytest.raises(InputError, match=r"Africa/Casablanca.*single yearly rule"):
        vtimezone("Africa/Casablanca", FIRST, LAST)


def test_unknown_zone_is_an_input_error() -> None:
    with pytest.raises(InputError, match="Mars/Olympus"):
        vtimezone("Mars/Olympus", FIRST, LAST)


def test_every_exported_event_gets_zoneinfos_offset_from_its_vtimezone() -> None:
    from tests.ical.samples import CLINIC, course, visit
    from visitplan.domain.ical import ExportOptions, build_calendar, calendar_bytes

    visits = [
        *course(),
        visit(10, "2026-03-29", "01:30", zone="Europe/London"),  # an hour before the change
        visit(11, "2026-03-29", "03:30", zone="Europe/London"),
        visit(12, "2026-10-04", "09:00", zone="Australia/Sydney"),
        visit(13, "2027-01-04", "09:00", zone="Asia/Seoul"),
    ]
    cal = icalendar.Calendar.from_ical(
        calendar_bytes(build_calendar(visits, CLINIC, ExportOptions()))
    )
    written = {str(t["TZID"]): t.to_tz() for t in cal.walk("VTIMEZONE")}
    for event in cal.walk("VEVENT"):
        for name in ("DTSTART", "DTEND"):
            zone = str(event[name].params["TZID"])
            wall = event.decoded(name).replace(tzinfo=None)
            assert wall.replace(tzinfo=written[zone]).utcoffset() == (
                wall.replace(tzinfo=ZoneInfo(zone)).utcoffset()
            ), (zone, wall)


def test_a_weekday_on_or_after_a_date_rule_over_many_years() -> None:
    # Israel: the Friday before the last Sunday of March (the Friday on or after the 23rd).
    first, last = dt.date(2020, 1, 1), dt.date(2030, 12, 31)
    block = vtimezone("Asia/Jerusalem", first, last)
    assert "BYMONTHDAY=23,24,25,26,27,28,29" in block.to_ical().decode()
    written = icalendar.Calendar.from_ical(block.to_ical()).to_tz()
    real = ZoneInfo("Asia/Jerusalem")
    for moment in moments(first, last, dt.timedelta(hours=1)):
        assert moment.astimezone(written).utcoffset() == moment.astimezone(real).utcoffset(), moment
