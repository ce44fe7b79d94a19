"""`visitplan demo`: a small made-up clinic, so a new user sees something at once.

Names are synthetic (no real person); the courses start around today so the
agenda has visits in the past (some done, one missed) and in the future.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from visitplan.errors import InputError

if TYPE_CHECKING:
    from visitplan.records.operations import Desk

# (MRN, synthetic name, protocol, days from today to the start, time, clinician)
PATIENTS = (
    ("DEMO-001", "Avery Sample", "prolotherapy-knee-oa", -42, "09:00", "Dr Demo North"),
    ("DEMO-002", "Blake Placeholder", "dextrose-prolotherapy", -28, "10:30", "Dr Demo North"),
    ("DEMO-003", "Casey Fictional", "eswt-plantar-fasciitis", -10, "11:00", "Dr Demo South"),
    ("DEMO-004", "Dana Madeup", "prolotherapy-knee-bimonthly", -70, "14:00", "Dr Demo South"),
    ("DEMO-005", "Emery Testcase", "prolotherapy-knee-oa", 3, "09:00", "Dr Demo North"),
    ("DEMO-006", "Finley Example", "eswt-plantar-fasciitis", 7, "15:30", None),
)


def fill(desk: Desk) -> tuple[int, int]:
    """Adds the demo patients and courses; (patients, visits)."""
    known = {p.mrn for p in desk.patients("DEMO-")}
    if known:
        raise InputError("this database already has the demo patients (DEMO-001...)")
    today = desk.now().date()
    have = {r.spec.key for r in desk.clinicians()}
    for name in sorted({p[5] for p in PATIENTS if p[5]}):
        if name.casefold() not in have:
            desk.add_clinician(name)
    visits = 0
    missed = False
    for mrn, name, protocol, offset, time, clinician in PATIENTS:
        desk.add_patient(mrn, name, phone="+1 555 0100", email=f"{mrn.lower()}@example.invalid")
        detail = desk.enroll(
            mrn,
            protocol,
            today + dt.timedelta(days=offset),
            dt.time.fromisoformat(time),
            clinician,
        )
        visits += len(detail.visits)
        for visit in detail.visits:
            if visit.start >= desk.now():
                continue
            current = desk.visit(visit.id)
            if current.status != "scheduled" or current.start >= desk.now():
                continue
            if not missed and offset > -40:
                desk.miss_visit(visit.id)
                missed = True
            else:
                desk.complete_visit(visit.id, current.start)
    return len(PATIENTS), visits
