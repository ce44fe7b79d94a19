"""Visits as an iCalendar file that Google, Outlook, Apple and Thunderbird import alike.

Pure: visits in, an ``icalendar.Calendar`` out; no files, database, clock or UI.
The same visits always give the same bytes: events in time order, DTSTAMP taken
from each visit's last change, one VTIMEZONE per zone in the form Outlook reads.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

import icalendar

from visitplan.domain.clinic import Clinic
from visitplan.domain.engine import PlannedVisit
from visitplan.domain.vtimezone import vtimezone
from visitplan.errors import InputError

Audience = Literal["staff", "patient"]
Privacy = Literal["full", "initials", "none"]
AUDIENCES: tuple[Audience, ...] = ("staff", "patient")
PRIVACY_LEVELS: tuple[Privacy, ...] = ("full", "initials", "none")

PRODID = "-//visitplan//visitplan treatment schedules//EN"
# The date an empty calendar's VTIMEZONE is written for when no range was asked for.
_EMPTY_DAY = dt.date(2000, 1, 1)
# Preview UIDs are uuid5 names under this namespace, so a preview is reproducible.
PREVIEW_NAMESPACE = uuid.UUID("6f0c1c9e-4a56-5b8e-9d57-3b1e2f6a7c10")

# Characters RFC 5545 forbids in TEXT, and line separators that parsers built on
# str.splitlines() would take for the end of a content line.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
# Folded pieces hold at most 74 octets (plus the space that starts the next),
# byte for byte as icalendar's own writer folds them.
_PIECE = 74
_ESCAPES = b"\\^"
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# What an address or a domain can never hold in a calendar: whitespace and controls.
_UNWRITABLE = re.compile(r"[\s\x00-\x1f\x7f\x85\u2028\u2029]")
# Initials are letters only; a name part is a run of letters and their combining marks.
_LETTERS = ("Lu", "Ll", "Lt", "Lo")
_MARKS = ("Mn", "Mc", "Me")
# A staff calendar shows enough to tell patients apart, never a readable name.
MAX_INITIALS = 4


@dataclass(frozen=True, slots=True)
class Patient:
    """Who a visit is for; how much of it shows depends on the export's privacy."""

    mrn: str
    name: str

    @property
    def initials(self) -> str:
        return initials(self.name)


def initials(name: str) -> str:
    """``O'Brien-Kim 😀`` is ``O.B.K.``: the first letter of each part of the name.

    Anything that is not a letter or a combining mark separates parts, so hyphens
    and apostrophes (``'``, ``’``, ``ʼ``) start a new part and emoji, digits and
    punctuation vanish. Scripts without case keep their letter: ``박 지민`` is
    ``박.지.``, ``محمد بن سلمان`` is ``م.ب.س.`` (a Korean name written as one word
    gives one initial, its family name's syllable). More than ``MAX_INITIALS``
    parts keep the first ones and the last (usually the family name).
    """
    firsts: list[str] = []
    in_part = False
    for char in unicodedata.normalize("NFC", name):
        category = unicodedata.category(char)
        if category in _LETTERS:
            if not in_part:
                upper = char.upper()
                # "ß".upper() is "SS": a letter that has no one-letter capital stays as it is.
                firsts.append(upper if len(upper) == 1 else char)
            in_part = True
        elif category not in _MARKS or not in_part:
            in_part = False
    if len(firsts) > MAX_INITIALS:
        firsts = [*firsts[: MAX_INITIALS - 1], firsts[-1]]
    return "".join(f"{letter}." for letter in firsts)


@dataclass(frozen=True, slots=True)
class CalendarVisit:
    """Everything the calendar shows of one visit, with times as aware datetimes."""

    uid: str
    sequence: int
    cancelled: bool
    start: dt.datetime
    end: dt.datetime
    zone: str
    kind: str
    label: str
    last_modified: dt.datetime
    patient: Patient | None = None
    course: str = ""
    notes: str = ""
    patient_notes: str = ""
    assessments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExportOptions:
    audience: Audience = "staff"
    privacy: Privacy = "initials"
    alarms: bool = True
    name: str = ""  # the calendar's name; empty: the clinic's name and "visits"
    # METHOD:PUBLISH for files and feeds; a CalDAV calendar object must not have one
    # (RFC 4791 section 4.1).
    method: bool = True


def clean_text(text: str) -> str:
    """Text any calendar program accepts: one kind of newline, no control characters."""
    return _FORBIDDEN.sub("", _LINE_BREAKS.sub("\n", text))


def build_calendar(
    visits: Iterable[CalendarVisit],
    clinic: Clinic,
    options: ExportOptions,
    *,
    empty_on: tuple[dt.date, dt.date] | None = None,
) -> icalendar.Calendar:
    """One VEVENT per visit (cancelled ones too, so calendars remove them).

    RFC 5545 wants at least one component in a VCALENDAR: a calendar without
    visits holds the clinic zone's VTIMEZONE, for the local dates ``empty_on``
    (the range that was asked for; without one, 1 January 2000, so that the same
    empty records still give the same bytes).
    """
    _check_clinic(clinic)
    ordered = sorted(visits, key=lambda v: (v.start, v.uid))
    if options.audience == "patient":
        _one_patient(ordered)
    cal = icalendar.Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", PRODID)
    cal.add("CALSCALE", "GREGORIAN")
    if options.method:
        cal.add("METHOD", "PUBLISH")
    # icalendar does not know these two are TEXT: escape them by saying so.
    name = icalendar.vText(" ".join(clean_text(options.name or f"{clinic.name} visits").split()))
    cal.add("NAME", name)
    cal.add("X-WR-CALNAME", name)
    if ordered:
        blocks = _timezones(ordered)
    else:
        first, last = empty_on or (_EMPTY_DAY, _EMPTY_DAY)
        blocks = [vtimezone(clinic.timezone, first, last)]
    for block in blocks:
        cal.add_component(block)
    organizer = _organizer(clinic)
    location = clean_text(", ".join(p for p in (clinic.name, clinic.address) if p))
    for visit in ordered:
        cal.add_component(_event(visit, clinic, options, organizer, location))
    return cal


def _check_clinic(clinic: Clinic) -> None:
    """The clinic's values that go into every event unescaped (ORGANIZER's address, the
    UID's domain): a line break there would end the line, so icalendar refuses it."""
    for field, value in (("email", clinic.email), ("uid_domain", clinic.uid_domain)):
        if _UNWRITABLE.search(value):
            raise InputError(
                f"clinic file: {field} {value!r} holds a line break, a space or a control "
                "character, which no calendar can carry; correct it in the clinic file"
            )


def _one_patient(visits: Sequence[CalendarVisit]) -> None:
    mrns = {v.patient.mrn for v in visits if v.patient is not None}
    if len(mrns) > 1:
        raise InputError(
            f"a patient calendar holds one patient's visits; these visits are of {len(mrns)} "
            "patients (choose one with --patient)"
        )


def _timezones(visits: Sequence[CalendarVisit]) -> list[icalendar.Timezone]:
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    for visit in visits:
        zone = ZoneInfo(visit.zone)
        first = visit.start.astimezone(zone).date()
        last = visit.end.astimezone(zone).date()
        low, high = spans.get(visit.zone, (first, last))
        spans[visit.zone] = (min(low, first), max(high, last))
    return [vtimezone(zone, *spans[zone]) for zone in sorted(spans)]


def _organizer(clinic: Clinic) -> icalendar.vCalAddress:
    # PUBLISH needs an ORGANIZER; without a clinic email, an address at the UID domain.
    email = clinic.email or f"noreply@{clinic.uid_domain}"
    organizer = icalendar.vCalAddress(f"mailto:{email}")
    # A parameter value cannot hold a line break, escaped or not.
    organizer.params["CN"] = " ".join(clean_text(clinic.name).split())
    return organizer


def _event(
    visit: CalendarVisit,
    clinic: Clinic,
    options: ExportOptions,
    organizer: icalendar.vCalAddress,
    location: str,
) -> icalendar.Event:
    zone = ZoneInfo(visit.zone)
    stamp = visit.last_modified.astimezone(dt.UTC)
    summary = _summary(visit, clinic, options)
    event = icalendar.Event()
    event.add("UID", visit.uid if "@" in visit.uid else f"{visit.uid}@{clinic.uid_domain}")
    event.add("SEQUENCE", visit.sequence)
    event.add("DTSTAMP", stamp)
    event.add("LAST-MODIFIED", stamp)
    event.add("DTSTART", visit.start.astimezone(zone))
    event.add("DTEND", visit.end.astimezone(zone))
    event.add("SUMMARY", summary)
    if location:
        event.add("LOCATION", location)
    event.add("CATEGORIES", [clean_text(visit.kind)])
    event.add("DESCRIPTION", _description(visit, options))
    event.add("STATUS", "CANCELLED" if visit.cancelled else "CONFIRMED")
    event.add("CLASS", "PRIVATE")
    event.add("TRANSP", "OPAQUE")
    event.add("ORGANIZER", organizer)
    if options.audience == "patient" and options.alarms and not visit.cancelled:
        for minutes in sorted(set(clinic.reminders.minutes_before), reverse=True):
            event.add_component(_alarm(minutes, summary))
    return event


def _alarm(minutes: int, summary: str) -> icalendar.Alarm:
    alarm = icalendar.Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("TRIGGER", dt.timedelta(minutes=-minutes))
    alarm.add("DESCRIPTION", f"Reminder: {summary}")
    return alarm


def _who(patient: Patient | None, privacy: Privacy) -> str:
    if patient is None or privacy == "none":
        return ""
    shown = patient.name if privacy == "full" else patient.initials
    return clean_text(" ".join(p for p in (shown, f"MRN {patient.mrn}") if p))


def _what(visit: CalendarVisit, clinic: Clinic) -> str:
    # The label may name a procedure; it shows only where the clinic allows it.
    if clinic.procedure_in_summary:
        return clean_text(visit.label)
    return f"{clean_text(visit.kind).capitalize()} visit"


def _summary(visit: CalendarVisit, clinic: Clinic, options: ExportOptions) -> str:
    if options.audience == "patient":
        text = f"{_what(visit, clinic)} at {clean_text(clinic.name)}"
    else:
        who = _who(visit.patient, options.privacy)
        text = f"{who}: {_what(visit, clinic)}" if who else _what(visit, clinic)
    return f"Cancelled: {text}" if visit.cancelled else text


def _description(visit: CalendarVisit, options: ExportOptions) -> str:
    lines = []
    if visit.cancelled:
        lines.append("This visit is cancelled.")
    if options.audience == "patient":
        lines.append(visit.label)
        if visit.patient_notes:
            lines.append(visit.patient_notes)
    else:
        who = _who(visit.patient, options.privacy)
        if who:
            lines.append(f"Patient: {who}")
        lines.append(f"Visit: {visit.label} ({visit.kind})")
        if visit.course:
            lines.append(f"Course: {visit.course}")
        if visit.notes:
            lines.append(f"Notes: {visit.notes}")
        if visit.assessments:
            lines.append(f"Assessments: {', '.join(visit.assessments)}")
    return clean_text("\n".join(lines))


def from_plan(
    visits: Iterable[PlannedVisit], *, protocol_id: str, course: str, zone: str
) -> list[CalendarVisit]:
    """Calendar visits for a plan that is not stored (``visitplan plan --ics``).

    There are no records, so the UID is derived: uuid5 of the protocol id, the
    course's start date and the visit key (the same preview gives the same UIDs).
    DTSTAMP is midnight UTC of the course start: a preview has no change time and
    must not read the clock.
    """
    planned = list(visits)
    if not planned:
        return []
    starts = [v.target for v in planned if v.anchor is None] or [v.target for v in planned]
    course_start = min(starts)
    stamp = dt.datetime(course_start.year, course_start.month, course_start.day, tzinfo=dt.UTC)
    out = []
    for visit in planned:
        name = f"{protocol_id}/{course_start.isoformat()}/{visit.key}"
        definition = visit.definition
        out.append(
            CalendarVisit(
                uid=str(uuid.uuid5(PREVIEW_NAMESPACE, name)),
                sequence=0,
                cancelled=False,
                start=visit.start,
                end=visit.end,
                zone=zone,
                kind=visit.kind,
                label=visit.label,
                last_modified=stamp,
                course=course,
                notes=definition.notes,
                patient_notes=definition.patient_notes,
                assessments=definition.assessments,
            )
        )
    return out


def calendar_bytes(cal: icalendar.Calendar) -> bytes:
    """The file's bytes: UTF-8, CRLF, folded at 75 octets, exactly as ``cal.to_ical()``.

    icalendar folds every line character by character, a third of the export's
    time; ``fold`` makes the same cuts working on the encoded bytes.
    """
    return b"".join(fold(line.encode()) + b"\r\n" for line in cal.content_lines() if line)


def fold(line: bytes) -> bytes:
    """Cut before the 75th octet, never inside a UTF-8 character (icalendar's rule).

    Like icalendar, a cut that would leave a backslash or caret at the end of a
    piece moves it to the next, so no client splits an escape sequence.
    """
    if len(line) <= _PIECE:
        return line
    pieces = []
    start = 0
    while len(line) - start > _PIECE:
        end = start + _PIECE
        while line[end] & 0xC0 == 0x80:  # a continuation byte: back to the character's start
            end -= 1
        if line[end - 1] in _ESCAPES and end - 1 > start:
            end -= 1
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return b"\r\n ".join(pieces)
