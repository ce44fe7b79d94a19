"""Every limit visitplan puts on what people and files give it, named once.

A value outside these limits is refused with one line where it comes in (a file, a
command-line value, a Desk call), so that nothing further down (the engine, the
database, an export) ever meets a date it cannot represent or a loop it cannot end.

Why the engine cannot run out of dates, given these limits: a course starts between
FIRST_DAY and LAST_DAY. Along any chain of visits, each target is its anchor's booked
day plus an offset; the offsets of one course add up to at most MAX_COURSE_DAYS
(months counted as 31 days), and a visit is booked at most MAX_SHIFT_DAYS from its
target (its window, or the engine's search for an open day outside it). With at most
MAX_STEPS visits in a course, every date the engine computes lies within
FIRST_DAY - MAX_STEPS * MAX_SHIFT_DAYS and
LAST_DAY + MAX_COURSE_DAYS + (MAX_STEPS + 1) * MAX_SHIFT_DAYS, that is, between the
years 1398 and 2730: far inside what ``datetime.date``, pendulum, zoneinfo and the
holidays package handle. A visit moved or done by hand is itself a date people give,
so it is held to the served years too, and the same bound holds for the visits
re-planned from it. ``protocols check`` also plans every file from the first and the
last allowed start (``plan_at_the_extremes``), so the bound is tested, not only argued.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from typing import Any

from visitplan.errors import InputError

# -- dates ------------------------------------------------------------------------

FIRST_YEAR = 1900
LAST_YEAR = 2200
FIRST_DAY = dt.date(FIRST_YEAR, 1, 1)
LAST_DAY = dt.date(LAST_YEAR, 12, 31)
SERVED = f"{FIRST_YEAR} to {LAST_YEAR}"

# -- command-line numbers ---------------------------------------------------------

# Database ids are signed 64-bit integers on SQLite and PostgreSQL alike.
MAX_ID = 2**63 - 1
MAX_AGENDA_DAYS = 366
MAX_LOOKBACK_DAYS = 3660
MAX_REFRESH_MINUTES = 7 * 24 * 60  # how often calendar apps are asked to poll a feed

# -- protocols --------------------------------------------------------------------

MAX_COURSE_DAYS = 10_000  # about 27 years, from the start to the end of the last window
MAX_OFFSET_DAYS = MAX_COURSE_DAYS
MAX_OFFSET_WEEKS = MAX_COURSE_DAYS // 7
MAX_OFFSET_MONTHS = 300
MONTH_DAYS = 31  # a month, counted at its longest when a course's span is bounded
MAX_WINDOW_DAYS = 366
# The engine looks this far outside a window for an open day (engine._SEARCH_DAYS).
SEARCH_DAYS = 366
MAX_SHIFT_DAYS = max(MAX_WINDOW_DAYS, SEARCH_DAYS)
MAX_REPEAT = 200
MAX_VISIT_DEFINITIONS = 100
MAX_STEPS = 500
MAX_DURATION_MINUTES = 24 * 60
LABEL_PLACEHOLDERS = ("n", "total")

# -- text -------------------------------------------------------------------------

MAX_KEY = 60
MAX_LABEL = 200  # a label, a title, a name, a version, an assessment, a closure reason
MAX_LINE = 2_000  # an address, a citation, a URL
MAX_TEXT = 10_000  # a description or notes: several paragraphs
MAX_ASSESSMENTS = 50

# -- files ------------------------------------------------------------------------

MAX_FILE_BYTES = 1_048_576
# Tables and arrays inside one another; a protocol file needs five.
MAX_NESTING = 16

# -- clinics ----------------------------------------------------------------------

MAX_CLOSURES = 10_000
MAX_CLINICIANS = 1_000
MAX_REMINDERS = 10
MAX_REMINDER_MINUTES = 4 * 7 * 24 * 60


def outside(day: dt.date) -> str | None:
    """What is wrong with ``day`` as a date people give, or None when it is served."""
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    return f"{day.isoformat()} is outside the years {SERVED}"


def check_day(day: dt.date, what: str) -> dt.date:
    """``day`` itself, or one line saying it is outside the years the calendar serves."""
    problem = outside(day)
    if problem:
        raise InputError(f"{what}: {problem}")
    return day


def check_moment(moment: dt.datetime, what: str) -> dt.datetime:
    """As ``check_day``, for a date and time (its own local date is what counts)."""
    check_day(moment.date(), what)
    return moment


def check_when(value: object, what: str) -> None:
    """Refuse a date, or a datetime's own date, outside the served years; any other
    value passes, for the caller to read (the Desk's visit changes call this first)."""
    if isinstance(value, dt.datetime):
        check_day(value.date(), what)
    elif isinstance(value, dt.date):
        check_day(value, what)


# -- text checks (used by the file models' validators) -----------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def check_line(text: str, limit: int = MAX_LABEL) -> str:
    """A one-line value: no line breaks or control characters, at most ``limit`` long."""
    return _checked(text, limit, _CONTROL, " (one line only)")


def check_text(text: str, limit: int = MAX_TEXT) -> str:
    """Text that may run over several lines (CRLF is taken as a line end)."""
    return _checked(text.replace("\r\n", "\n"), limit, _CONTROL_IN_TEXT, "")


def _checked(text: str, limit: int, control: re.Pattern[str], note: str) -> str:
    if len(text) > limit:
        raise ValueError(f"{len(text):,} characters long; at most {limit:,} are allowed")
    found = control.search(text)
    if found:
        raise ValueError(f"the control character {found.group()!r} is not allowed{note}")
    return text


def check_label(label: str) -> str:
    """A label template: plain text, ``{n}`` and ``{total}`` (no format spec or
    conversion, which would fail or mean something else when formatted), ``{{``
    and ``}}`` for braces."""
    check_line(label)
    try:
        parts = list(string.Formatter().parse(label))
    except ValueError as exc:
        raise ValueError(f"label {label!r} is not a valid template: {exc}") from None
    known = " and ".join(f"{{{name}}}" for name in LABEL_PLACEHOLDERS)
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in LABEL_PLACEHOLDERS:
            raise ValueError(f"label {label!r} uses {{{name}}}; only {known} are known")
        if spec or conversion:
            raise ValueError(
                f"label {label!r}: write {{{name}}} plainly (no ':' format or '!' conversion)"
            )
    return label


# -- files ------------------------------------------------------------------------


# The TOML tokens that matter to nesting; everything else (bare keys, numbers, dates,
# booleans, white space) is skipped. Strings and comments are whole tokens, so the
# brackets and dots inside them do not count; an unterminated one runs to the line end.
_TOML_TOKEN = re.compile(
    r'"""(?:[^\\]|\\.)*?"""'
    r"|'''.*?'''"
    r'|"(?:[^"\\\n]|\\.)*"?'
    r"|'[^'\n]*'?"
    r"|#[^\n]*"
    r"|[\[\]{},=.\n]",
    re.DOTALL,
)


def nesting_upper_bound(text: str, stop_above: int | None = None) -> int:
    """How deep TOML text nests, estimated from its tokens without parsing it.

    tomllib parses nested arrays and inline tables recursively, and a key dotted
    thousands of times costs it quadratic time and memory; this linear scan lets
    such a file be refused before it is parsed. It counts brackets, braces and the
    dots of keys (a table header's, or a dotted key's before its '='), and each part
    of a header twice (any part may name an array of tables, whose items nest once
    more), so it may count more than the parsed depth, never less. Given
    ``stop_above``, it stops as soon as the estimate exceeds it.
    """
    deepest = 1  # the document itself is a table
    stack: list[int] = []  # per open array or inline table: the key dots it hangs under
    carried = 0  # their sum
    inline: list[bool] = []  # is that one an inline table (keys) or an array (values)?
    header = 0  # how deep the current [table] or [[array of tables]] may be
    key = True  # reading a key (dots nest) rather than a value (dots are decimals)
    dots = 0
    line_start = True
    in_header = False
    for match in _TOML_TOKEN.finditer(text):
        token = match.group()
        if token == "\n":
            if not stack:
                key, dots, line_start, in_header = True, 0, True, False
            continue
        if token == "[" and line_start and not stack and not in_header:
            in_header, dots = True, 0
            continue
        if in_header:
            if token == ".":
                dots += 1
            elif token == "]":
                header, in_header, dots = 2 * (dots + 1), False, 0
                deepest = max(deepest, header + 1)
            continue
        line_start = False
        if token == "." and key:
            dots += 1
        elif token == "=":
            key = False
        elif token in "[{":
            stack.append(dots)
            carried += dots
            inline.append(token == "{")
            key, dots = token == "{", 0
        elif token in "]}":
            if stack:
                carried -= stack.pop()
                inline.pop()
            key, dots = False, 0
        elif token == ",":
            key, dots = bool(inline) and inline[-1], 0
        deepest = max(deepest, header + carried + dots + len(stack) + 1)
        if stop_above is not None and deepest > stop_above:
            break
    return deepest


def check_nesting(data: Any) -> None:
    """Refuse tables and arrays nested deeper than MAX_NESTING (walked without recursion,
    so a file nested thousands deep cannot exhaust the stack here either)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_NESTING:
            raise ValueError(
                f"tables, arrays or dotted keys are nested more than {MAX_NESTING} deep"
            )
        stack.extend((child, depth + 1) for child in children)


def plan_at_the_extremes(protocol: Any) -> None:
    """Plan ``protocol`` from the first and the last allowed start, on a clinic open
    every day and on one open one day a week: whatever the model's checks let through
    must plan without error from any start people may give."""
    from visitplan.domain.clinic import Clinic, ClinicCalendar
    from visitplan.domain.engine import plan
    from visitplan.domain.hours import WEEKDAYS

    every_day = Clinic(hours=dict.fromkeys(WEEKDAYS, "00:00-23:59"))
    one_day = Clinic(hours={"wed": "09:00-10:00"})
    for clinic in (every_day, one_day):
        calendar = ClinicCalendar(clinic)
        for start in (FIRST_DAY, LAST_DAY):
            plan(protocol, calendar, start, dt.time(9, 0))
