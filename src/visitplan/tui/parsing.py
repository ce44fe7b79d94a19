"""Turning what people type into dates and times, with a message when it is not one.

Only the shape of the text is checked here; whether a date is allowed (open day,
inside the window) is for the engine and the records to say.
"""

from __future__ import annotations

import datetime as dt


def parse_date(text: str) -> tuple[dt.date | None, str | None]:
    text = text.strip()
    if not text:
        return None, "a date is needed (YYYY-MM-DD)"
    try:
        return dt.date.fromisoformat(text), None
    except ValueError:
        return None, f"{text!r} is not a real date (YYYY-MM-DD)"


def parse_time(text: str) -> tuple[dt.time | None, str | None]:
    text = text.strip()
    try:
        if len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
            raise ValueError
        return dt.time(int(text[:2]), int(text[3:])), None
    except ValueError:
        return None, f"{text!r} is not a time (HH:MM, 00:00 to 23:59)"
