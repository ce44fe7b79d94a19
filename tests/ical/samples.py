"""Synthetic visits with fixed ids and times, for the export tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from visitplan.domain.clinic import Clinic, Reminders
from visitplan.domain.ical import CalendarVisit, Patient

NEW_YORK = "America/New_York"
AWKWARD = "Comma, semi; back\\slash \"quoted\" 'single'\nnew line 😀 한국어 العربية"

CLINIC = Clinic(
    name="Hudson Sports Medicine",
    timezone=NEW_YORK,
    address="12 River Rd, Suite 3; Hudson, NY",
    email="desk@hudson.example",
    uid_domain="hudson.example",
    reminders=Reminders(minutes_before=(24 * 60, 120)),
)

ALEX = Patient("100234", "Alex Q. Example")
SARA = Patient("100577", "김가명 سارة Example, Jr.")


def local(day: str, time: str, zone: str = NEW_YORK) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=ZoneInfo(zone))


def visit(
    n: int,
    day: str,
    time: str = "09:00",
    *,
    patient: Patient | None = ALEX,
    minutes: int = 40,
    cancelled: bool = False,
    sequence: int = 0,
    zone: str = NEW_YORK,
    label: str = "Injection {n} of 4",
    notes: str = "Dextrose injection; check the knee",
    patient_notes: str = "Wear loose trousers",
    modified: str = "2026-02-01T10:00:00",
) -> CalendarVisit:
    start = local(day, time, zone)
    return CalendarVisit(
        uid=f"00000000-0000-4000-8000-{n:012d}",
        sequence=sequence,
        cancelled=cancelled,
        start=start,
        end=start + dt.timedelta(minutes=minutes),
        zone=zone,
        kind="treatment",
        label=label.format(n=n),
        last_modified=dt.datetime.fromisoformat(modified).replace(tzinfo=dt.UTC),
        patient=patient,
        course="Dextrose prolotherapy for knee osteoarthritis",
        notes=notes,
        patient_notes=patient_notes,
        assessments=("WOMAC", "Knee pain scale (KPS)"),
    )


def course() -> list[CalendarVisit]:
    """A course across both DST changes of 2026, one visit cancelled, one awkward."""
    return [
        visit(1, "2026-02-27"),
        visit(2, "2026-03-09", "08:30"),  # the day after clocks go forward
        visit(3, "2026-06-15", "16:45", notes=AWKWARD, patient_notes=AWKWARD, sequence=2),
        visit(4, "2026-11-02", "09:15", cancelled=True, sequence=1, modified="2026-10-20T08:00:00"),
    ]


def two_patients() -> list[CalendarVisit]:
    return [*course(), visit(5, "2026-04-01", "10:00", patient=SARA, label="Review")]
