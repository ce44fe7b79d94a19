"""The export over the records layer, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import datetime as dt

import icalendar

from tests.ical.parsers import READERS
from visitplan.domain.ical import ExportOptions
from visitplan.exporting import Scope, export_from_desk
from visitplan.records.operations import Desk


def test_export_reads_the_stored_visits_on_every_backend(desk: Desk) -> None:
    desk.add_patient("200111", "Robin Sample")
    detail = desk.enroll("200111", "prolotherapy-knee-oa", dt.date(2026, 3, 2), dt.time(9, 30))
    stored = detail.visits
    desk.cancel_visit(stored[-1].id)

    data = export_from_desk(desk, Scope(patient="200111"), ExportOptions(audience="patient"))
    cal = icalendar.Calendar.from_ical(data)
    found = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(found) == {v.uid for v in stored}
    for visit in stored:
        event = found[visit.uid]
        assert event.decoded("DTSTART") == visit.start
        assert event["DTSTART"].params["TZID"] == "Asia/Seoul"
    assert found[stored[-1].uid]["STATUS"] == "CANCELLED"
    assert found[stored[-1].uid]["SEQUENCE"] == 1
    assert b"Robin" not in data
    assert export_from_desk(desk, Scope(patient="200111"), ExportOptions(audience="patient")) == (
        data
    )
    for reader in READERS.values():
        assert len(reader(data)) == len(stored)
