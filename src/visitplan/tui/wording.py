"""How the TUI says things: one date format, visits by patient and label, and the
records' refusals in the screen's own terms.

Every date on screen reads ``Tue 2026-12-01`` (weekday and ISO date), with the
time after it where there is one. The records' messages are written for the
command line (visit ids, option names); here they are reworded for people at the
front desk, without changing what they say.
"""

from __future__ import annotations

import datetime as dt
import re

from visitplan.records.views import VisitView

# What the move form's checkbox says; refusals that it would lift point to it.
BOOK_ANYWAY = "Book anyway as a deviation"
# What the enroll form's checkbox says, for a patient already on that protocol.
ENROLL_ANOTHER = "Enroll in another course anyway"


def day_text(day: dt.date) -> str:
    return f"{day:%a %Y-%m-%d}"


def moment_text(moment: dt.datetime) -> str:
    return f"{moment:%a %Y-%m-%d %H:%M}"


def window_text(visit: VisitView) -> str:
    return f"{day_text(visit.earliest)} to {day_text(visit.latest)}"


def visit_name(visit: VisitView) -> str:
    """A visit as staff call it: its label and whose it is."""
    return f"{visit.label} for {visit.patient_name}"


_ISO_DAY = re.compile(r"(?<![\w-])(\d{4})-(\d{2})-(\d{2})(?![\w-])")
_WEEKDAY_BEFORE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) $")
# Command-line advice in parentheses ("(--force books it anyway ...)").
_OPTION_ADVICE = re.compile(r"\s*\([^()]*--[a-z][a-z-]*[^()]*\)")


def with_weekdays(text: str) -> str:
    """ISO dates in a sentence get their weekday, as every date in the TUI has."""

    def named(match: re.Match[str]) -> str:
        before = text[: match.start()]
        try:
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return match[0]
        if _WEEKDAY_BEFORE.search(before):
            return match[0]
        return day_text(day)

    return _ISO_DAY.sub(named, text)


def refusal(message: str, visit: VisitView | None = None) -> str:
    """A records refusal as the TUI says it: the visit named, no command-line words."""
    if visit is not None:
        message = re.sub(rf"\bvisit {visit.id}\b", visit_name(visit), message)
        # The records name a visit's patient by MRN; on screen, by name.
        message = message.replace(f"{visit.label} for {visit.mrn}", visit_name(visit))
    message = re.sub(r"\bvisit (\d+)\b", "the visit", message)
    message = re.sub(r"\benrollment (\d+)\b", "the course", message)
    message = _OPTION_ADVICE.sub("", message)
    # The patient edit form's tick, not the command line's value.
    message = message.replace("notify email needs", "consent to e-mail needs")
    message = message[:1].upper() + message[1:]
    return with_weekdays(message)


def needs_deviation(deviation: str) -> str:
    """A move the records refuse unless it is booked as a deviation, and what lifts it."""
    return f"{with_weekdays(deviation)}: tick '{BOOK_ANYWAY}' to book it anyway"


# "course 12 from Mon 2026-12-07": the records' id means nothing at the desk.
_COURSE_ID = re.compile(r": course \d+ from\b")


def needs_another(message: str) -> str:
    """A second running course of one protocol, and the tick that starts it anyway."""
    said = refusal(_COURSE_ID.sub(", started", message))
    return f"{said}: tick '{ENROLL_ANOTHER}' to start a second one beside it"


def running_already(message: str) -> str:
    """A withdrawn course not reinstated because the patient runs another of it."""
    said = refusal(_COURSE_ID.sub(", started", message))
    return f"{said}: withdraw that one first to reinstate this one"


def stale_patient(name: str) -> str:
    """A patient edit over a record someone else saved meanwhile."""
    return (
        f"{name}'s record was changed by someone else since this form opened: "
        "close it (esc) and edit again to see their change"
    )


# The records' refusals of `visit reopen`, in terms of the TUI's undo (u).
_NOTHING_TO_UNDO = re.compile(
    r"^(?P<visit>.+) is scheduled; only a completed, missed or cancelled visit can be reopened$"
)
_COURSE_NOT_RUNNING = re.compile(r"its course \d+ is (?P<status>\w+); reinstate the course first")


def undo_refusal(message: str) -> str:
    """Why an undo is refused, once ``refusal`` has named the visit."""
    found = _NOTHING_TO_UNDO.match(message)
    if found:
        return f"{found['visit']} is scheduled: there is no done, no-show or cancellation to undo"
    return _COURSE_NOT_RUNNING.sub(
        r"its course is \g<status>, so its visits stay as they are until the course is"
        " reinstated",
        message,
    )
