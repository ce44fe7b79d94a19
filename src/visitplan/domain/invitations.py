"""Calendar invitations and reminders by e-mail (iMIP, RFC 6047), built on the events
every export makes.

Pure: a visit in, an ``email.message.EmailMessage`` out; no SMTP, database, clock or
files. The calendar part is the patient audience's event (``ical.build_calendar``:
the same UID, SEQUENCE, text and VTIMEZONE as a patient's export) with METHOD
REQUEST or CANCEL and the patient as ATTENDEE. One message carries one visit: with
several UIDs in one REQUEST, Outlook takes the first event only and Thunderbird
treats the message as a plain import (see the README), so a course is one message
per visit.

Subjects never hold a name, and hold the visit's label (which may name a
procedure) only where the clinic file allows it in summaries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Literal

import icalendar
import pendulum

from visitplan.domain.clinic import Clinic
from visitplan.domain.ical import (
    CalendarVisit,
    ExportOptions,
    build_calendar,
    calendar_bytes,
    clean_text,
)

Method = Literal["REQUEST", "CANCEL"]
METHODS: tuple[Method, ...] = ("REQUEST", "CANCEL")


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who writes to whom, and the message's identity."""

    sender: str  # the clinic's address: From, and the event's ORGANIZER
    recipient: str  # the patient's: To, and the event's ATTENDEE
    message_id: str  # "<...>", from ``message_id``
    date: dt.datetime  # aware: when the message was made


def message_id(uid: str, sequence: int, what: str, domain: str) -> str:
    """One visit state announced one way always gets the same Message-ID, so a message
    sent again after a crash is one message to mail servers and clients.

    ``what``: "request", "cancel" or "reminder-<minutes>"; ``domain`` for a UID
    without one.
    """
    local, _, own = uid.rpartition("@") if "@" in uid else (uid, "", domain)
    return f"<{what}.{sequence}.{local}@{own}>"


def itip_calendar(
    visit: CalendarVisit, clinic: Clinic, method: Method, attendee: str
) -> icalendar.Calendar:
    """The patient's event as an iTIP REQUEST or CANCEL (RFC 5546) for ``attendee``."""
    if (method == "CANCEL") != visit.cancelled:
        raise ValueError(f"a {method} is for a {'' if visit.cancelled else 'not '}cancelled visit")
    # A CANCEL may not carry alarms (RFC 5546, 3.2.5); ical.py leaves them off
    # cancelled visits.
    cal = build_calendar([visit], clinic, ExportOptions(audience="patient"))
    cal["METHOD"] = icalendar.vText(method)
    # A calendar name belongs to a published calendar, not to a scheduling message.
    for key in ("NAME", "X-WR-CALNAME"):
        cal.pop(key, None)
    person = icalendar.vCalAddress(f"mailto:{attendee}")
    # No CN: the patient's name stays out of the message.
    person.params.update(
        {"CUTYPE": "INDIVIDUAL", "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION"}
    )
    # No replies wanted: the clinic's inbox is no place for automatic acceptances.
    person.params["RSVP"] = "FALSE"
    cal.events[0].add("ATTENDEE", person)
    return cal


def invitation(
    visit: CalendarVisit,
    clinic: Clinic,
    method: Method,
    envelope: Envelope,
    *,
    changed: bool = False,
) -> EmailMessage:
    """An iMIP message: a short text in the patient's words, and the calendar part
    (inline as ``text/calendar; method=...`` and as ``invite.ics``, the shape Google
    Calendar sends and every client reads). ``changed``: the patient was sent an
    earlier version of this visit."""
    data = calendar_bytes(itip_calendar(visit, clinic, method, envelope.recipient))
    event = _patient_event(visit, clinic)
    what, when = str(event["SUMMARY"]), _short_when(visit)
    if method == "CANCEL":
        subject = f"Cancelled: {what}, {when}"
        opening = f"Your appointment at {_name(clinic)} is cancelled:"
        closing = "The cancellation attached removes it from your calendar."
    elif changed:
        subject = f"Changed: {what}, now {when}"
        opening = f"Your appointment at {_name(clinic)} has changed. It is now:"
        closing = "The invitation attached moves it in your calendar."
    else:
        subject = f"Appointment: {what}, {when}"
        opening = f"Your appointment at {_name(clinic)}:"
        closing = (
            "The invitation attached puts it in your calendar; if it changes, a new "
            "message will move it there."
        )
    body = _body(visit, clinic, event, opening, closing)
    message = _message(clinic, envelope, subject, body)
    params = {"method": method, "charset": "utf-8"}
    message.add_alternative(data, "text", "calendar", cte="base64", params=params)
    message.add_attachment(
        data, "application", "ics", filename="invite.ics", params={"name": "invite.ics"}
    )
    _settle(message)
    return message


def message_bytes(message: EmailMessage) -> bytes:
    """The message as it goes to the server: CRLF, and each header on one line up to
    RFC 5322's 998 octets. (Folded at 78, a long subject moves whole onto a
    continuation line, which Python's own parser then reads with a leading space.)
    Bodies were encoded when they were set, at 76 characters a line."""
    return message.as_bytes(policy=SMTP.clone(max_line_length=998))


def reminder(visit: CalendarVisit, clinic: Clinic, envelope: Envelope) -> EmailMessage:
    """A plain e-mail before the visit (the calendar already holds the event)."""
    event = _patient_event(visit, clinic)
    opening = f"A reminder of your appointment at {_name(clinic)}:"
    subject = f"Reminder: {event['SUMMARY']}, {_short_when(visit)}"
    return _message(clinic, envelope, subject, _body(visit, clinic, event, opening, ""))


def _message(clinic: Clinic, envelope: Envelope, subject: str, body: str) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(_name(clinic), addr_spec=envelope.sender)
    message["To"] = Address(addr_spec=envelope.recipient)
    message["Subject"] = subject
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = envelope.message_id
    # RFC 3834: out-of-office replies and the like stay away from the clinic's inbox.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, cte="quoted-printable")
    return message


def _settle(message: EmailMessage) -> None:
    """Boundaries from the Message-ID, so one message is always the same bytes; and
    MIME-Version once, at the top, where RFC 2045 puts it."""
    tag = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:24]
    for depth, part in enumerate(p for p in message.walk() if p.is_multipart()):
        part.set_boundary(f"=_visitplan_{tag}_{depth}")
    for part in message.walk():
        if part is not message:
            del part["MIME-Version"]


def _name(clinic: Clinic) -> str:
    return " ".join(clean_text(clinic.name).split())


def _patient_event(visit: CalendarVisit, clinic: Clinic) -> icalendar.Event:
    """The visit as the patient's calendar shows it while it stands: the patient
    audience's SUMMARY and DESCRIPTION, whatever the message says of it."""
    standing = dataclasses.replace(visit, cancelled=False)
    cal = build_calendar([standing], clinic, ExportOptions(audience="patient", alarms=False))
    return cal.events[0]


def _local(moment: dt.datetime, zone: str) -> pendulum.DateTime:
    return pendulum.instance(moment).in_timezone(zone)


def _short_when(visit: CalendarVisit) -> str:
    return _local(visit.start, visit.zone).format("ddd D MMM YYYY, HH:mm", locale="en")


def _body(
    visit: CalendarVisit, clinic: Clinic, event: icalendar.Event, opening: str, closing: str
) -> str:
    start, end = _local(visit.start, visit.zone), _local(visit.end, visit.zone)
    details = str(event.get("DESCRIPTION", "")).splitlines()
    what = [str(event["SUMMARY"]), *(line for line in details if line.strip())]
    day = start.format("dddd D MMMM YYYY", locale="en")
    rows = [
        ("What", what),
        ("When", [f"{day}, {start:%H:%M} to {end:%H:%M} (clinic time, {visit.zone})"]),
        ("Where", [str(event.get("LOCATION", _name(clinic)))]),
    ]
    if clinic.bring.strip():
        rows.append(("Bring", clean_text(clinic.bring).splitlines()))
    lines = [opening, ""]
    for label, values in rows:
        lines += [f"{label + ':':<7}{values[0]}", *(f"{'':7}{v}" for v in values[1:])]
    lines.append("")
    if closing:
        lines += [closing, ""]
    lines.append(_contact(clinic))
    lines.append("To stop these e-mails, tell the clinic.")
    return "\n".join(lines) + "\n"


def _contact(clinic: Clinic) -> str:
    ways = [f"phone {clean_text(clinic.phone).strip()}"] if clinic.phone.strip() else []
    if clinic.email:
        ways.append(f"e-mail {clinic.email}")
    reach = f": {', '.join(ways)}" if ways else ""
    return f"To change or cancel, contact {_name(clinic)}{reach}."
