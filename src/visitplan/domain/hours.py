"""Opening and working hours: a day's hours as local wall-clock times, and the weekdays
they are written for (shared by the clinic and its clinicians)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Opening hours are local wall-clock times only: no seconds, no UTC offset.
_HOURS = re.compile(r" *([01]?[0-9]|2[0-3]):([0-5][0-9]) *- *([01]?[0-9]|2[0-3]):([0-5][0-9]) *")


@dataclass(frozen=True, slots=True)
class Hours:
    """Opening hours of one day, as local wall-clock times."""

    opens: dt.time
    closes: dt.time

    @classmethod
    def parse(cls, text: str) -> Hours:
        match = _HOURS.fullmatch(text) if len(text) <= 40 else None
        if match is None:
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise ValueError(f"{shown!r} is not opening hours like '09:00-18:00'")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        opens, closes = dt.time(h1, m1), dt.time(h2, m2)
        if closes <= opens:
            raise ValueError(f"{text!r} closes before it opens")
        return cls(opens, closes)

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"
