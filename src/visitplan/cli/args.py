"""Argument types shared by commands: each turns bad text into one clear line.

Dates may be written as people say them (``today``, ``tomorrow``, ``fri``), but
"today" is the clinic's, known only once the clinic file is read; so those types
return a ``Day`` or a ``Moment`` that the command resolves with the clinic's today.
Every limit comes from ``visitplan.domain.limits``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from visitplan.domain import limits

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_FORMS = (
    "YYYY-MM-DD, today, tomorrow, or a weekday (mon..sun or monday..sunday: the next "
    "one after today, so on a Monday 'mon' is in 7 days), in the clinic's time zone"
)
TIME_FORMS = "H:MM or HH:MM, 24-hour clock, clinic time"
MOMENT_FORMS = (
    "a date and a time ('2026-12-03 10:20', 'today 9:00', 'fri 14:30'), ISO 8601 with an "
    "offset, or a date alone for the visit's own time that day; dates as for --start"
)
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


@dataclass(frozen=True, slots=True)
class Day:
    """A date as typed: a calendar date, or a word counted from the clinic's today."""

    text: str
    fixed: dt.date | None = None
    ahead: int | None = None  # today 0, tomorrow 1
    weekday: int | None = None  # 0 is Monday

    def on(self, today: dt.date) -> dt.date:
        """The date meant, given the clinic's today; refused outside the served years."""
        if self.fixed is not None:
            return self.fixed
        if self.ahead is not None:
            days = self.ahead
        else:
            assert self.weekday is not None
            days = (self.weekday - today.weekday() - 1) % 7 + 1
        return limits.check_day(today + dt.timedelta(days=days), repr(self.text))


@dataclass(frozen=True, slots=True)
class Moment:
    """A date and time as typed (``day`` and ``time``), an exact ISO 8601 moment
    (``exact``), or a date alone (``time`` None): the visit's own time that day."""

    text: str
    day: Day | None = None
    time: dt.time | None = None
    exact: dt.datetime | None = None

    def on(self, today: dt.date) -> dt.datetime | dt.date:
        """What the Desk is given: a datetime (naive: clinic time), or a date."""
        if self.exact is not None:
            return self.exact
        assert self.day is not None
        day = self.day.on(today)
        return day if self.time is None else dt.datetime.combine(day, self.time)


class OutsideServedYears(argparse.ArgumentTypeError):
    """A well-formed date the calendar does not serve: said as such, not as a typo."""


def _served(text: str, day: dt.date) -> dt.date:
    problem = limits.outside(day)
    if problem:
        raise OutsideServedYears(f"{_shown(text)}: {problem}")
    return day


def _too_long(text: str) -> bool:
    return len(text) > 40


def _shown(text: str) -> str:
    return repr(text if not _too_long(text) else text[:40] + "...")


def date_arg(text: str) -> dt.date:
    """A calendar date written YYYY-MM-DD, within the served years."""
    try:
        if not _ISO_DATE.fullmatch(text.strip()):
            raise ValueError
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} is not a real date in the form YYYY-MM-DD"
        ) from None
    return _served(text, day)


def day_arg(text: str) -> Day:
    """A date as in DAY_FORMS."""
    word = text.strip().lower()
    if word == "today":
        return Day(text, ahead=0)
    if word == "tomorrow":
        return Day(text, ahead=1)
    for index, name in enumerate(WEEKDAY_NAMES):
        if word in (name, name[:3]):
            return Day(text, weekday=index)
    if _ISO_DATE.fullmatch(word):
        return Day(text, fixed=date_arg(word))
    raise argparse.ArgumentTypeError(
        f"{_shown(text)} is not a date: write YYYY-MM-DD, today, tomorrow or a weekday"
    )


def time_arg(text: str) -> dt.time:
    """A wall-clock time written H:MM or HH:MM."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} is not a time like 9:00 or 14:30 (24-hour clock)"
        )
    return dt.time(int(match.group(1)), int(match.group(2)))


def moment_arg(text: str) -> Moment:
    """A date and time as in MOMENT_FORMS."""
    stripped = text.strip()
    parts = stripped.split()
    try:
        if len(parts) == 1:
            return Moment(text, day=day_arg(parts[0]))
        if len(parts) == 2:
            return Moment(text, day=day_arg(parts[0]), time=time_arg(parts[1]))
    except OutsideServedYears:
        raise
    except argparse.ArgumentTypeError:
        pass  # perhaps ISO 8601: '2026-12-03T10:20', '2026-12-03 10:20:00+09:00'
    try:
        if _too_long(stripped) or len(stripped) < 16:
            raise ValueError
        exact = dt.datetime.fromisoformat(stripped)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} is not a date and time like '2026-03-02 14:30' or 'today 9:00'"
        ) from None
    _served(text, exact.date())
    return Moment(text, exact=exact)


def bounded_int(low: int, high: int, what: str) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high``; ``what`` names it in the one line."""

    def parse(text: str) -> int:
        stripped = text.strip()
        value = int(stripped) if re.fullmatch(r"[+-]?[0-9]{1,20}", stripped, re.ASCII) else None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{_shown(text)} is not {what} (a whole number from {low:,} to {high:,})"
            )
        return value

    return parse


# A count of 1 or more (no larger than an id, so that no number overflows downstream).
positive_int = bounded_int(1, limits.MAX_ID, "a count")
id_arg = bounded_int(1, limits.MAX_ID, "an id")
revision_arg = bounded_int(1, limits.MAX_ID, "a revision")


def clinic_today(timezone: str) -> dt.date:
    """Today's date in the clinic's zone, which is what 'today' means on the desk."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(timezone)).date()


def add_scope_options(parser: argparse.ArgumentParser, where: str) -> None:
    """SCOPE, --audience and --privacy, as `feed create` and `publish` read them."""
    parser.add_argument(
        "--audience",
        choices=("staff", "patient"),
        help=f"patient: that patient's own {where}, with reminders "
        "(default: patient for a patient scope, else staff)",
    )
    parser.add_argument(
        "--privacy",
        choices=("full", "initials", "none"),
        default="initials",
        help=f"how patients appear in a staff {where} (default initials with the MRN)",
    )


def add_lookback_option(parser: argparse.ArgumentParser, what: str) -> None:
    from visitplan.sync.feeds import LOOKBACK_DAYS

    parser.add_argument(
        "--lookback-days",
        type=bounded_int(1, limits.MAX_LOOKBACK_DAYS, "a number of days"),
        default=LOOKBACK_DAYS,
        metavar="N",
        help=f"{what} (default {LOOKBACK_DAYS}, at most {limits.MAX_LOOKBACK_DAYS})",
    )


def add_change_options(parser: argparse.ArgumentParser, what: str) -> None:
    """ID, --if-revision and --json: how a change to one stored ``what`` is asked for."""
    parser.add_argument("id", type=id_arg, metavar="ID")
    parser.add_argument(
        "--if-revision",
        type=revision_arg,
        metavar="N",
        help=f"refuse if the {what} changed since revision N was read",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
