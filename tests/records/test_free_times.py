"""Free times for a visit through the Desk and `visitplan slots`, and `visit move --to
first`: the window first, never in the past, never over capacity."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.records.helpers import Clock, at, enrolled
from visitplan.catalog import ProtocolCatalog
from visitplan.cli.main import main
from visitplan.domain.clinic import Clinic
from visitplan.records.operations import Desk, open_desk


@pytest.fixture
def early(db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog) -> Iterator[Desk]:
    with open_desk(
        db_url, seoul_clinic, catalog, "tester", clock=Clock(at("2026-04-01", "08:00"))
    ) as opened:
        yield opened


def test_free_times_come_inside_the_window_first_and_skip_taken_hours(early: Desk) -> None:
    first = enrolled(early, "P1", "dextrose-prolotherapy", "2026-04-06")
    other = enrolled(early, "P2", "dextrose-prolotherapy", "2026-04-20")  # takes 04-20 10:00
    s2 = first["session-2"]
    assert other["session-1"].start == at("2026-04-20", "10:45")  # P1's session 2 is at 10:00
    visit, times = early.free_times(s2.id, 6)
    assert visit.id == s2.id
    assert all(t.in_window for t in times)
    starts = [t.start for t in times]
    # Its own booked time has room (its own booking does not count against it); the
    # other patient's 10:45 does not.
    assert starts[0] == at("2026-04-20", "10:00")
    assert at("2026-04-20", "10:45") not in starts
    assert all(t.end.time() <= at("2026-04-20", "18:00").time() for t in times)


def test_move_to_first_takes_the_first_free_time(early: Desk) -> None:
    visits = enrolled(early, "P1", "dextrose-prolotherapy", "2026-04-06")
    s3 = visits["session-3"]
    _, times = early.free_times(s3.id, 1)
    moved = early.move_visit(s3.id, "first")
    assert moved.visit.start == times[0].start
    assert moved.visit.pinned


def test_slots_command_lists_times_and_marks_the_window(
    capsys: pytest.CaptureFixture[str], db_url: str, seoul_clinic_file: Path, early: Desk
) -> None:
    # The CLI runs on today's clock: a course far ahead has its whole window ahead too.
    common = ["--db", db_url, "--clinic", str(seoul_clinic_file)]
    assert main(["patient", "add", "P9", "--name", "Synthetic Nine", *common]) == 0
    assert main(["enroll", "P9", "eswt-plantar-fasciitis", "--start", "2099-03-09", *common]) == 0
    capsys.readouterr()
    visit_id = next(v for v in early.visits(mrn="P9") if v.key == "application-1").id
    assert main(["slots", str(visit_id), "--count", "3", "--json", *common]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["visit"]["id"] == visit_id
    assert len(document["times"]) == 3
    assert all(t["in_window"] for t in document["times"])
    assert document["times"][0]["start"].startswith("2099-03-09T09:00")
    assert main(["slots", str(visit_id), "--count", "2", *common]) == 0
    text = capsys.readouterr().out.splitlines()
    # The heading wraps to the terminal's width; the first time follows it.
    assert text[0].startswith(f"visit {visit_id}: ESWT 1 of 3 for S.N. MRN P9, now ")
    times = [line for line in text if "  in the window" in line]
    assert times[0] == "  Mon 2099-03-09 09:00-09:30  in the window"
