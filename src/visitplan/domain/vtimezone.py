"""VTIMEZONE blocks in the one form every calendar program reads.

Outlook desktop ignores RDATE lists and reads only one STANDARD and at most one
DAYLIGHT observance, each with a yearly RRULE; anything else and it shows events
an hour off. So instead of listing every transition (icalendar's
``add_missing_timezones``), this module finds the zone's transitions over the
exported years, checks that they follow one yearly rule, and writes that rule.
A zone whose offset does not change over the dates is one fixed STANDARD.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar

from visitplan.errors import InputError

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY = dt.timedelta(days=1)
# Any valid RFC 5545 date works as the onset of a zone that never changes.
_FIXED_ONSET = dt.datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of UTC offset, with the wall-clock time it happens at (old offset)."""

    at_utc: dt.datetime
    before: dt.timedelta
    after: dt.timedelta
    name: str

    @property
    def wall(self) -> dt.datetime:
        return (self.at_utc + self.before).replace(tzinfo=None)


def transitions(zone: ZoneInfo, first: dt.date, last: dt.date) -> list[Transition]:
    """Every offset change between the start of ``first`` and the end of ``last``."""
    moment = dt.datetime(first.year, first.month, first.day, tzinfo=dt.UTC) - _DAY
    end = dt.datetime(last.year, last.month, last.day, tzinfo=dt.UTC) + 2 * _DAY
    found = []
    offset = _offset(zone, moment)
    while moment < end:
        following = moment + _DAY
        if _offset(zone, following) != offset:
            at = _bisect(zone, moment, following)
            after = _offset(zone, at)
            found.append(Transition(at, offset, after, at.astimezone(zone).tzname() or ""))
            offset = after
        moment = following
    return found


def _offset(zone: ZoneInfo, moment: dt.datetime) -> dt.timedelta:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _bisect(zone: ZoneInfo, low: dt.datetime, high: dt.datetime) -> dt.datetime:
    """The first second in (low, high] with the offset of ``high``."""
    target = _offset(zone, high)
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            middle = low + dt.timedelta(seconds=1)
        if _offset(zone, middle) == target:
            high = middle
        else:
            low = middle
    return high


@dataclass(frozen=True, slots=True)
class Observance:
    """A STANDARD or DAYLIGHT block: an onset, the offsets either side, a yearly rule."""

    kind: str  # "STANDARD" or "DAYLIGHT"
    onset: dt.datetime
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str
    rule: dict[str, object] | None


def observances(zone_name: str, first: dt.date, last: dt.date) -> list[Observance]:
    """The observances that describe ``zone_name`` from ``first`` to ``last`` exactly.

    The whole calendar years around the dates are examined (from the year before,
    so that every date has an onset before it), which keeps the rule the same
    whatever part of a year is exported.
    """
    zone = _zone(zone_name)
    found = transitions(zone, dt.date(first.year - 1, 1, 1), dt.date(last.year, 12, 31))
    if not found:
        return [_fixed(zone, first)]
    yearly = _yearly(found, first.year - 1, last.year)
    if yearly is not None:
        return yearly
    if not transitions(zone, first, last):
        # The rules changed nearby (a zone that dropped DST) but not within the dates.
        return [_fixed(zone, first)]
    raise InputError(
        f"time zone {zone_name}: its offset changes between {first} and {last} in a way "
        "no single yearly rule describes; export a shorter range of dates"
    )


def _zone(zone_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone_name)
    except (ValueError, KeyError, OSError):
        raise InputError(f"unknown time zone {zone_name!r}") from None


def _fixed(zone: ZoneInfo, day: dt.date) -> Observance:
    noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=zone)
    offset = noon.utcoffset()
    assert offset is not None
    return Observance("STANDARD", _FIXED_ONSET, offset, offset, noon.tzname() or "", None)


def _yearly(
    found: Sequence[Transition], first_year: int, last_year: int
) -> list[Observance] | None:
    """One DAYLIGHT and one STANDARD rule if the transitions follow them, else None."""
    offsets = {t.after for t in found} | {t.before for t in found}
    if len(offsets) != 2:
        return None
    standard, daylight = sorted(offsets)
    out: list[Observance] = []
    for kind, to in (("DAYLIGHT", daylight), ("STANDARD", standard)):
        changes = [t for t in found if t.after == to]
        if [t.wall.year for t in changes] != list(range(first_year, last_year + 1)):
            return None
        rule = _rule([t.wall for t in changes])
        if rule is None:
            return None
        head = changes[0]
        out.append(Observance(kind, head.wall, head.before, head.after, head.name, rule))
    return out


def _rule(walls: Sequence[dt.datetime]) -> dict[str, object] | None:
    """A yearly RRULE that yields exactly these wall times, one a year, or None."""
    head = walls[0]
    if any((w.month, w.time()) != (head.month, head.time()) for w in walls):
        return None
    base: dict[str, object] = {"FREQ": "YEARLY", "BYMONTH": head.month}
    if any(w.weekday() != head.weekday() for w in walls):
        if all(w.day == head.day for w in walls):
            return base | {"BYMONTHDAY": head.day}
        return None
    weekday = _WEEKDAYS[head.weekday()]
    if all(w.day + 7 > calendar.monthrange(w.year, w.month)[1] for w in walls):
        return base | {"BYDAY": f"-1{weekday}"}
    if len({(w.day - 1) // 7 for w in walls}) == 1:
        return base | {"BYDAY": f"{(head.day - 1) // 7 + 1}{weekday}"}
    # "The Friday on or after the 23rd": the weekday within a seven-day span of dates.
    lowest = max(w.day for w in walls) - 6
    shortest = min(calendar.monthrange(w.year, w.month)[1] for w in walls)
    if lowest >= 1 and all(w.day >= lowest for w in walls) and lowest + 6 <= shortest:
        return base | {"BYDAY": weekday, "BYMONTHDAY": list(range(lowest, lowest + 7))}
    return None


def vtimezone(zone_name: str, first: dt.date, last: dt.date) -> icalendar.Timezone:
    """The VTIMEZONE for ``zone_name``, valid for every time from ``first`` to ``last``."""
    block = icalendar.Timezone()
    block.add("TZID", zone_name)
    for item in observances(zone_name, first, last):
        part = (
            icalendar.TimezoneStandard()
            if item.kind == "STANDARD"
            else icalendar.TimezoneDaylight()
        )
        part.add("DTSTART", item.onset)
        part.add("TZOFFSETFROM", item.offset_from)
        part.add("TZOFFSETTO", item.offset_to)
        if item.name:
            part.add("TZNAME", item.name)
        if item.rule is not None:
            part.add("RRULE", item.rule)
        block.add_component(part)
    return block
