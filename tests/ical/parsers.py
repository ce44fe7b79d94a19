"""Three independent readers of .ics bytes, reduced to what every test compares."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import icalendar
import vobject
from ical.calendar_stream import IcsCalendarStream


@dataclass(frozen=True)
class Seen:
    uid: str
    start: dt.datetime  # in UTC
    end: dt.datetime
    status: str
    summary: str
    description: str


def _utc(value: Any) -> dt.datetime:
    assert isinstance(value, dt.datetime), value
    assert value.tzinfo is not None, f"floating time {value}"
    return value.astimezone(dt.UTC)


def with_icalendar(data: bytes) -> list[Seen]:
    cal = icalendar.Calendar.from_ical(data)
    return [
        Seen(
            str(e["UID"]),
            _utc(e.decoded("DTSTART")),
            _utc(e.decoded("DTEND")),
            str(e["STATUS"]),
            str(e["SUMMARY"]),
            str(e["DESCRIPTION"]),
        )
        for e in cal.walk("VEVENT")
    ]


def with_ical(data: bytes) -> list[Seen]:
    """The ``ical`` package, which validates every property with pydantic."""
    cal = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    return [
        Seen(
            e.uid or "",
            _utc(e.dtstart),
            _utc(e.dtend),
            str(e.status.value if e.status else ""),
            e.summary or "",
            e.description or "",
        )
        for e in cal.events
    ]


def with_vobject(data: bytes) -> list[Seen]:
    """vobject with validation; it builds its own tzinfo from the VTIMEZONE."""
    cal = vobject.readOne(data.decode("utf-8"), validate=True)
    cal.validate(raiseException=True)
    return [
        Seen(
            e.uid.value,
            _utc(e.dtstart.value),
            _utc(e.dtend.value),
            e.status.value,
            e.summary.value,
            e.description.value,
        )
        for e in getattr(cal, "vevent_list", [])
    ]


READERS = {"icalendar": with_icalendar, "ical": with_ical, "vobject": with_vobject}
