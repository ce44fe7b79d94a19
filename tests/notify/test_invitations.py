"""The messages themselves (pure): iTIP that libical accepts, the patient audience's
text, subjects that name no one and no procedure, the same bytes every time."""

from __future__ import annotations

import dataclasses
import datetime as dt
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.notify.support import (
    MAIL_CLINIC,
    calendar_part,
    itip_problems,
    strict_parse,
    text_part,
    the_event,
)
from visitplan.domain.clinic import parse_clinic
from visitplan.domain.ical import CalendarVisit, ExportOptions, Patient, build_calendar
from visitplan.domain.invitations import (
    Envelope,
    invitation,
    itip_calendar,
    message_bytes,
    message_id,
    reminder,
)

SEOUL = ZoneInfo("Asia/Seoul")
CLINIC = parse_clinic(MAIL_CLINIC, "clinic.toml")
# Monday 7 December 2026, 08:00 in Seoul: still Sunday in UTC.
VISIT = CalendarVisit(
    uid="0f5d9a3e-1111-4c5e-9e0a-5b7a2c3d4e5f@clinic.example",
    sequence=2,
    cancelled=False,
    start=dt.datetime(2026, 12, 7, 8, 0, tzinfo=SEOUL),
    end=dt.datetime(2026, 12, 7, 8, 45, tzinfo=SEOUL),
    zone="Asia/Seoul",
    kind="treatment",
    label="Session 1 of 6",
    last_modified=dt.datetime(2026, 11, 30, 1, 2, 3, tzinfo=dt.UTC),
    patient=Patient("M-1001", "Alex Quincy Example"),
    course="Ultrasound-guided dextrose prolotherapy",
    notes="Injection at the piriformis insertion",
    patient_notes="Prolotherapy session.",
)
TO = "alex.patient@mail.example"


def envelope(visit: CalendarVisit, what: str) -> Envelope:
    mid = message_id(visit.uid, visit.sequence, what, CLINIC.uid_domain)
    return Envelope("desk@clinic.example", TO, mid, dt.datetime(2026, 11, 30, 9, tzinfo=SEOUL))


def parsed(raw: bytes):  # type: ignore[no-untyped-def]
    return message_from_bytes(raw, policy=policy.default)


def test_a_request_is_imip_with_the_visits_uid_sequence_organizer_and_attendee() -> None:
    raw = message_bytes(invitation(VISIT, CLINIC, "REQUEST", envelope(VISIT, "request")))
    assert (
        b"\r\nSubject: Appointment: Treatment visit at Example Clinic, Mon 7 Dec 2026, 08:00\r\n"
        in raw
    )
    message = parsed(raw)
    assert (
        message["Subject"]
        == "Appointment: Treatment visit at Example Clinic, Mon 7 Dec 2026, 08:00"
    )
    assert message["From"].addresses[0].addr_spec == "desk@clinic.example"
    assert str(message["To"]) == TO  # the address alone: no name beside it
    assert message["Message-ID"] == f"<request.2.{VISIT.uid}>"
    assert message["Auto-Submitted"] == "auto-generated"
    method, data = calendar_part(message)
    assert method == "REQUEST"
    event = the_event(data)
    assert str(event["UID"]) == VISIT.uid
    assert int(event["SEQUENCE"]) == 2
    assert str(event["ORGANIZER"]) == "mailto:desk@clinic.example"
    assert str(event["ATTENDEE"]) == f"mailto:{TO}"
    assert "CN" not in event["ATTENDEE"].params
    assert event["ATTENDEE"].params["RSVP"] == "FALSE"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.walk("VALARM"), "a request carries the patient export's reminders"
    assert itip_problems(data) == []
    strict = strict_parse(data)
    assert [e.uid for e in strict.events] == [VISIT.uid]
    # The attachment is the same calendar, for clients that read only attachments.
    (attached,) = [p for p in message.walk() if p.get_filename() == "invite.ics"]
    assert attached.get_payload(decode=True) == data


def test_a_cancel_carries_status_cancelled_and_no_alarm() -> None:
    cancelled = dataclasses.replace(VISIT, cancelled=True, sequence=3)
    message = parsed(
        invitation(cancelled, CLINIC, "CANCEL", envelope(cancelled, "cancel")).as_bytes()
    )
    method, data = calendar_part(message)
    assert method == "CANCEL"
    event = the_event(data)
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (VISIT.uid, 3)
    assert str(event["STATUS"]) == "CANCELLED"
    assert not event.walk("VALARM")  # RFC 5546 3.2.5: no VALARM in a CANCEL
    assert itip_problems(data) == []
    assert message["Subject"].startswith("Cancelled: ")


def test_the_itip_check_can_fail() -> None:
    """libical really checks: a REQUEST without an ORGANIZER is refused."""
    cal = itip_calendar(VISIT, CLINIC, "REQUEST", TO)
    del cal.walk("VEVENT")[0]["ORGANIZER"]
    problems = itip_problems(cal.to_ical())
    assert problems
    assert "ORGANIZER" in problems[0]


def test_the_method_must_fit_the_visit() -> None:
    with pytest.raises(ValueError, match="cancelled"):
        itip_calendar(VISIT, CLINIC, "CANCEL", TO)
    with pytest.raises(ValueError, match="cancelled"):
        itip_calendar(dataclasses.replace(VISIT, cancelled=True), CLINIC, "REQUEST", TO)


def test_the_calendar_part_is_the_patient_exports_event() -> None:
    """Same VTIMEZONE, SUMMARY, DESCRIPTION, times and alarms as a patient's .ics."""
    exported = build_calendar([VISIT], CLINIC, ExportOptions(audience="patient"))
    sent = itip_calendar(VISIT, CLINIC, "REQUEST", TO)
    assert sent.walk("VTIMEZONE")[0].to_ical() == exported.walk("VTIMEZONE")[0].to_ical()
    ours, theirs = sent.walk("VEVENT")[0], exported.walk("VEVENT")[0]
    for key in ("UID", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "LOCATION"):
        assert ours[key].to_ical() == theirs[key].to_ical(), key
    assert [a.to_ical() for a in ours.walk("VALARM")] == [
        a.to_ical() for a in theirs.walk("VALARM")
    ]


def test_the_text_says_what_when_with_the_clinics_weekday_where_what_to_bring_whom_to_call() -> (
    None
):
    text = text_part(
        parsed(invitation(VISIT, CLINIC, "REQUEST", envelope(VISIT, "request")).as_bytes())
    )
    assert "Monday 7 December 2026, 08:00 to 08:45 (clinic time, Asia/Seoul)" in text
    assert "Sunday" not in text
    assert "Session 1 of 6" in text
    assert "Prolotherapy session." in text
    assert "Where: Example Clinic, 1 Example-ro, Seoul" in text
    assert "Bring: Your ID card" in text
    assert "+82 2 0000 0000" in text
    assert "desk@clinic.example" in text
    # Staff words and the patient's name stay out of it.
    for staff_only in ("piriformis", "Alex", "M-1001", "Ultrasound-guided"):
        assert staff_only not in text


def test_a_changed_visit_says_so_and_a_reminder_is_plain_text() -> None:
    changed = invitation(VISIT, CLINIC, "REQUEST", envelope(VISIT, "request"), changed=True)
    assert (
        changed["Subject"]
        == "Changed: Treatment visit at Example Clinic, now Mon 7 Dec 2026, 08:00"
    )
    note = parsed(reminder(VISIT, CLINIC, envelope(VISIT, "reminder-1440")).as_bytes())
    assert note["Subject"] == "Reminder: Treatment visit at Example Clinic, Mon 7 Dec 2026, 08:00"
    assert note.get_content_type() == "text/plain"
    assert "A reminder of your appointment" in text_part(note)


def test_the_same_state_gives_the_same_message_id_and_bytes() -> None:
    first = invitation(VISIT, CLINIC, "REQUEST", envelope(VISIT, "request")).as_bytes()
    again = invitation(VISIT, CLINIC, "REQUEST", envelope(VISIT, "request")).as_bytes()
    assert first == again
    ids = {
        message_id(VISIT.uid, seq, what, "x")
        for seq in (0, 1)
        for what in ("request", "cancel", "reminder-1440")
    }
    assert len(ids) == 6
    assert (
        message_id("no-domain", 0, "request", "clinic.example")
        == "<request.0.no-domain@clinic.example>"
    )


words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(name=words, label=words, notes=words, staff=words, course=words, cancelled=st.booleans())
def test_no_subject_holds_more_than_the_kind_the_clinic_and_the_time(
    name: str, label: str, notes: str, staff: str, course: str, cancelled: bool
) -> None:
    """Whatever the name, label and notes, a subject is the kind of visit, the clinic
    and the time: nothing else can leak into it."""
    visit = dataclasses.replace(
        VISIT, patient=Patient("M-1", name), label=label, patient_notes=notes, notes=staff,
        course=course, cancelled=cancelled,
    )  # fmt: skip
    method = "CANCEL" if cancelled else "REQUEST"
    subjects = [
        invitation(visit, CLINIC, method, envelope(visit, method.lower()))["Subject"],
        reminder(visit, CLINIC, envelope(visit, "reminder-1440"))["Subject"],
    ]
    stem = "Treatment visit at Example Clinic, Mon 7 Dec 2026, 08:00"
    first = f"Cancelled: {stem}" if cancelled else f"Appointment: {stem}"
    assert subjects == [first, f"Reminder: {stem}"]


def test_the_label_shows_in_subjects_only_where_the_clinic_allows_it() -> None:
    allowed = dataclasses.replace(CLINIC, procedure_in_summary=True)
    subject = invitation(VISIT, allowed, "REQUEST", envelope(VISIT, "request"))["Subject"]
    assert subject == "Appointment: Session 1 of 6 at Example Clinic, Mon 7 Dec 2026, 08:00"
