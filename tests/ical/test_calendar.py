"""What every exported file must hold, and what it must never hold."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tests.ical.samples import ALEX, CLINIC, SARA, course, two_patients, visit
from visitplan.domain.clinic import Reminders
from visitplan.domain.ical import (
    AUDIENCES,
    PRIVACY_LEVELS,
    CalendarVisit,
    ExportOptions,
    build_calendar,
    calendar_bytes,
)
from visitplan.errors import InputError


def export(visits: list[CalendarVisit], **options: object) -> bytes:
    return calendar_bytes(build_calendar(visits, CLINIC, ExportOptions(**options)))  # type: ignore[arg-type]


def parsed(data: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(data)


@pytest.mark.parametrize("audience", AUDIENCES)
def test_calendar_properties(audience: str) -> None:
    cal = parsed(export(course(), audience=audience))
    assert cal["VERSION"] == "2.0"
    assert cal["PRODID"].startswith("-//visitplan//")
    assert cal["CALSCALE"] == "GREGORIAN"
    assert cal["METHOD"] == "PUBLISH"
    assert cal["NAME"] == cal["X-WR-CALNAME"] == "Hudson Sports Medicine visits"


def test_one_event_per_visit_with_every_required_property() -> None:
    visits = course()
    cal = parsed(export(visits))
    events = cal.walk("VEVENT")
    assert len(events) == len(visits)
    for event, source in zip(events, visits, strict=True):
        assert "RRULE" not in event
        assert "RDATE" not in event
        assert event["UID"] == f"{source.uid}@hudson.example"
        assert event["SEQUENCE"] == source.sequence
        assert event.decoded("DTSTAMP") == source.last_modified
        assert event.decoded("LAST-MODIFIED") == source.last_modified
        assert event["DTSTART"].params["TZID"] == "America/New_York"
        assert event["DTEND"].params["TZID"] == "America/New_York"
        assert event.decoded("DTSTART") == source.start
        assert event.decoded("DTEND") == source.end
        assert event["CLASS"] == "PRIVATE"
        assert event["LOCATION"] == "Hudson Sports Medicine, 12 River Rd, Suite 3; Hudson, NY"
        assert [str(c) for c in event["CATEGORIES"].cats] == ["treatment"]
        assert str(event["ORGANIZER"]) == "mailto:desk@hudson.example"
        assert event["ORGANIZER"].params["CN"] == "Hudson Sports Medicine"
        assert event["STATUS"] == ("CANCELLED" if source.cancelled else "CONFIRMED")
    assert [t["TZID"] for t in cal.walk("VTIMEZONE")] == ["America/New_York"]


def test_dtstamp_is_utc_and_comes_from_the_last_change() -> None:
    data = export(course())
    stamps = re.findall(rb"^DTSTAMP:(\S+)$", data.replace(b"\r\n", b"\n"), re.M)
    assert stamps == [b"20260201T100000Z"] * 3 + [b"20261020T080000Z"]


def test_every_tzid_has_its_vtimezone() -> None:
    visits = [*course(), visit(9, "2026-05-05", zone="Asia/Seoul")]
    data = export(visits)
    used = set(re.findall(rb";TZID=([^:;]+):", data))
    cal = parsed(data)
    assert used == {b"America/New_York", b"Asia/Seoul"}
    assert {str(t["TZID"]).encode() for t in cal.walk("VTIMEZONE")} == used


def test_uid_holds_no_personal_data_and_is_stable() -> None:
    data = export(two_patients(), privacy="full")
    for event in parsed(data).walk("VEVENT"):
        uid = str(event["UID"])
        assert re.fullmatch(r"[0-9a-f-]+@hudson\.example", uid)
        for patient in (ALEX, SARA):
            assert patient.mrn not in uid
            assert all(part not in uid for part in patient.name.split())
    assert data == export(two_patients(), privacy="full")


def test_cancelled_visit_stays_marked_cancelled() -> None:
    events = parsed(export(course())).walk("VEVENT")
    cancelled = [e for e in events if e["STATUS"] == "CANCELLED"]
    assert len(cancelled) == 1
    assert str(cancelled[0]["SUMMARY"]).startswith("Cancelled: ")


def test_same_visits_in_any_order_give_the_same_bytes_in_time_order() -> None:
    visits = two_patients()
    first = export(visits)
    shuffled = visits[:]
    random.Random(4).shuffle(shuffled)
    assert export(shuffled) == first
    starts = [e.decoded("DTSTART") for e in parsed(first).walk("VEVENT")]
    assert starts == sorted(starts)


def test_alarms_only_for_patients_and_only_when_wanted() -> None:
    staff = parsed(export(course(), audience="staff"))
    assert staff.walk("VALARM") == []
    patient = parsed(export(course(), audience="patient"))
    for event in patient.walk("VEVENT"):
        triggers = [a.decoded("TRIGGER") for a in event.walk("VALARM")]
        if event["STATUS"] == "CANCELLED":
            assert triggers == []
        else:
            assert triggers == [-dt.timedelta(days=1), -dt.timedelta(hours=2)]
            assert all(a["ACTION"] == "DISPLAY" for a in event.walk("VALARM"))
    quiet = parsed(export(course(), audience="patient", alarms=False))
    assert quiet.walk("VALARM") == []


def test_reminders_come_from_the_clinic_file() -> None:
    clinic = dataclasses.replace(CLINIC, reminders=Reminders(minutes_before=(30,)))
    cal = build_calendar(course()[:1], clinic, ExportOptions(audience="patient"))
    assert [a.decoded("TRIGGER") for a in cal.walk("VALARM")] == [-dt.timedelta(minutes=30)]


@pytest.mark.parametrize("privacy", PRIVACY_LEVELS)
def test_privacy_decides_how_the_patient_appears_to_staff(privacy: str) -> None:
    events = parsed(export(course(), privacy=privacy)).walk("VEVENT")
    for event in events:
        text = str(event["SUMMARY"]) + str(event["DESCRIPTION"])
        assert ("Alex Q. Example" in text) is (privacy == "full")
        assert ("A.Q.E." in text) is (privacy == "initials")
        assert ("MRN 100234" in text) is (privacy != "none")


def test_default_privacy_is_initials_never_the_full_name() -> None:
    data = export(course())
    assert b"Alex" not in data
    assert b"A.Q.E. MRN 100234" in data


def test_no_procedure_in_summary_unless_the_clinic_allows_it() -> None:
    for event in parsed(export(course(), privacy="full")).walk("VEVENT"):
        assert "Injection" not in str(event["SUMMARY"])
        assert "Injection" in str(event["DESCRIPTION"])
    allowed = dataclasses.replace(CLINIC, procedure_in_summary=True)
    cal = build_calendar(course(), allowed, ExportOptions())
    assert all("Injection" in str(e["SUMMARY"]) for e in cal.walk("VEVENT"))


def test_staff_see_notes_and_assessments_patients_only_their_notes() -> None:
    staff = parsed(export(course())).walk("VEVENT")[0]
    assert "Dextrose injection; check the knee" in str(staff["DESCRIPTION"])
    assert "WOMAC" in str(staff["DESCRIPTION"])
    patient = parsed(export(course(), audience="patient")).walk("VEVENT")[0]
    description = str(patient["DESCRIPTION"])
    assert "Wear loose trousers" in description
    assert "Dextrose" not in description
    assert "WOMAC" not in description
    assert "MRN" not in description
    assert "A.Q.E." not in description


def test_patient_calendar_holds_one_patient_only() -> None:
    with pytest.raises(InputError, match="one patient"):
        export(two_patients(), audience="patient")


@pytest.mark.parametrize("audience", AUDIENCES)
def test_lines_crlf_folded_at_75_octets_without_splitting_utf8(audience: str) -> None:
    long_note = '😀한국어 العربية, ; \\ " ' * 40
    visits = [dataclasses.replace(v, notes=long_note, patient_notes=long_note) for v in course()]
    data = export(visits, audience=audience, privacy="full")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.endswith(b"END:VCALENDAR\r\n")
    for line in data.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # each physical line is whole UTF-8 on its own
    assert any(len(line) > 70 for line in data.split(b"\r\n"))


def test_control_characters_and_stray_line_breaks_never_reach_the_file() -> None:
    nasty = "a\rb\r\nc\x00d\x1be\u2028f\x85g\x0bh\x7f"
    data = export([dataclasses.replace(course()[0], notes=nasty, label=nasty)])
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert not re.search(rb"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]", data)
    assert "\u2028".encode() not in data
    assert "\x85".encode() not in data
    event = parsed(data).walk("VEVENT")[0]
    assert "a\nb\nc" in str(event["DESCRIPTION"])


def test_times_are_written_in_the_visit_zone_whatever_zone_they_arrive_in() -> None:
    source = course()[0]
    moved = dataclasses.replace(
        source,
        start=source.start.astimezone(ZoneInfo("Asia/Tokyo")),
        end=source.end.astimezone(dt.UTC),
    )
    assert export([moved]) == export([source])
