"""Small helpers shared by the records tests (fixtures live in tests/support/db.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from visitplan.records.operations import Desk
from visitplan.records.views import VisitView

SEOUL = ZoneInfo("Asia/Seoul")


def at(day: str, time: str = "10:00") -> dt.datetime:
    """A moment in the Seoul example clinic's zone."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SEOUL)


def by_key(visits: list[VisitView] | tuple[VisitView, ...]) -> dict[str, VisitView]:
    return {v.key: v for v in visits}


def days(visits: list[VisitView] | tuple[VisitView, ...]) -> dict[str, str]:
    """key -> scheduled local date, the shape most cascade assertions want."""
    return {v.key: v.start.date().isoformat() for v in visits}


def enrolled(
    desk: Desk, mrn: str, protocol: str, start: str, time: str = "10:00"
) -> dict[str, VisitView]:
    if mrn not in {p.mrn for p in desk.patients()}:
        desk.add_patient(mrn, f"Synthetic Patient {mrn}")
    detail = desk.enroll(mrn, protocol, dt.date.fromisoformat(start), dt.time.fromisoformat(time))
    return by_key(detail.visits)


class Clock:
    """A clock the test sets: the Desk asks it for "now" (aware)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, day: str, time: str = "10:00") -> None:
        self.now = at(day, time)
