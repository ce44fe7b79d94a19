"""A real calendar program: khal imports the export, shows clinic times, takes updates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ical.records import ALEX, stored_clinic
from tests.support.cli import run_visitplan
from tests.support.khal import Khal

pytestmark = pytest.mark.slow


def test_khal_shows_every_visit_at_clinic_time_and_takes_a_move_and_a_cancel(
    tmp_path: Path, visitplan_home: dict[str, str], khal_for: Callable[[str], Khal]
) -> None:
    records = stored_clinic(tmp_path)
    khal = khal_for("America/New_York")
    out = tmp_path / "clinic.ics"

    def export_and_import() -> dict[str, dict[str, str]]:
        done = run_visitplan("export", *records.args(), "--all", "-o", str(out), env=visitplan_home)
        assert done.status == 0, done.err
        khal.import_file(out)
        listed = khal.events("2026-01-01", "2027-12-31")
        by_uid = {e["uid"]: e for e in listed}
        assert len(by_uid) == len(listed), "khal holds a visit twice"
        return by_uid

    shown = export_and_import()
    with records.desk() as desk:
        stored = desk.visits()
    assert set(shown) == {v.uid for v in stored}
    for visit in stored:
        assert shown[visit.uid]["start"] == f"{visit.start:%Y-%m-%d %H:%M}"
        assert shown[visit.uid]["end"] == f"{visit.end:%Y-%m-%d %H:%M}"

    later = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    with records.desk(later) as desk:
        moving, cancelling = desk.visits(mrn=ALEX[0])[1:3]
        desk.move_visit(moving.id, dt.datetime(2026, 3, 11, 15, 15), force=True)
        desk.cancel_visit(cancelling.id)

    again = export_and_import()
    assert set(again) == set(shown)
    assert again[moving.uid]["start"] == "2026-03-11 15:15"
    assert again[cancelling.uid]["status"] == "CANCELLED"
    assert len(khal.stored_files()) == len(stored)
