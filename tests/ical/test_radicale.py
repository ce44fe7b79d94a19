"""A real CalDAV server: every visit as its own resource, read back, updated in place."""

from __future__ import annotations

import dataclasses
import datetime as dt

import caldav
import pytest

from tests.ical.samples import CLINIC, course
from tests.support.radicale import RadicaleServer
from visitplan.domain.ical import CalendarVisit, ExportOptions, build_calendar, calendar_bytes

pytestmark = pytest.mark.slow


# caldav bumps SEQUENCE on every save by default; the export's own SEQUENCE must stand.


def one_event(visit: CalendarVisit) -> str:
    """A visit as a CalDAV resource: one VCALENDAR, its VTIMEZONE and one VEVENT."""
    return calendar_bytes(build_calendar([visit], CLINIC, ExportOptions())).decode("utf-8")


def test_each_visit_is_one_resource_and_an_update_replaces_it(radicale: RadicaleServer) -> None:
    with caldav.DAVClient(
        url=f"{radicale.url}/", username=radicale.user, password=radicale.password
    ) as client:
        calendar = client.principal().make_calendar(name="Clinic visits", cal_id="visits")
        visits = course()
        for visit in visits:
            calendar.save_event(one_event(visit), increase_seqno=False)

        stored = calendar.events()
        assert len(stored) == len(visits)
        read = {str(e.icalendar_component["UID"]): e.icalendar_component for e in stored}
        for visit in visits:
            event = read[f"{visit.uid}@hudson.example"]
            assert event.decoded("DTSTART") == visit.start
            assert event["SEQUENCE"] == visit.sequence

        moved = dataclasses.replace(
            visits[0],
            start=visits[0].start + dt.timedelta(days=2, hours=3),
            end=visits[0].end + dt.timedelta(days=2, hours=3),
            sequence=visits[0].sequence + 1,
        )
        calendar.save_event(one_event(moved), increase_seqno=False)

        after = calendar.events()
        assert len(after) == len(visits)
        uids = [str(e.icalendar_component["UID"]) for e in after]
        assert len(set(uids)) == len(uids)
        updated = next(
            e.icalendar_component
            for e in after
            if str(e.icalendar_component["UID"]).startswith(visits[0].uid)
        )
        assert updated.decoded("DTSTART") == moved.start
        assert updated["SEQUENCE"] == moved.sequence
    on_disk = list((radicale.storage / "collection-root" / "staff" / "visits").glob("*.ics"))
    assert len(on_disk) == len(visits)
