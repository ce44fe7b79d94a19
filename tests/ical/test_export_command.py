"""`visitplan export` end to end: real SQLite records, the real console script."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import icalendar
import pytest

from tests.ical.parsers import READERS
from tests.ical.records import ALEX, SAM, Records, stored_clinic
from tests.support.cli import assert_one_line_error, run_visitplan


@pytest.fixture
def records(tmp_path: Path) -> Records:
    return stored_clinic(tmp_path)


def export(records: Records, env: dict[str, str], *args: str) -> bytes:
    out = Path(records.clinic_file.parent / "out.ics")
    result = run_visitplan("export", *records.args(), *args, "-o", str(out), env=env)
    assert result.status == 0, result.err
    assert result.out == ""
    return out.read_bytes()


def events(data: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def test_all_visits_for_staff_with_initials_every_parser_accepts(
    records: Records, visitplan_home: dict[str, str]
) -> None:
    data = export(records, visitplan_home, "--all")
    with records.desk() as desk:
        stored = desk.visits()
    found = events(data)
    assert [str(e["UID"]) for e in found] == [v.uid for v in stored]
    assert [e.decoded("DTSTART") for e in found] == [v.start for v in stored]
    for name in (ALEX[1], SAM[1]):
        assert name.encode() not in data
    assert b"A.Q.E. MRN 100234" in data
    for reader in READERS.values():
        assert len(reader(data)) == len(stored)


def test_same_records_give_byte_identical_files_on_stdout_too(
    records: Records, visitplan_home: dict[str, str]
) -> None:
    first = export(records, visitplan_home, "--all")
    assert export(records, visitplan_home, "--all") == first
    shown = run_visitplan("export", *records.args(), "--all", env=visitplan_home)
    assert shown.status == 0
    assert shown.out.encode() == first.replace(b"\r\n", b"\n")  # text mode reads CRLF as \n


def test_patient_calendar_has_only_that_patient_with_reminders(
    records: Records, visitplan_home: dict[str, str]
) -> None:
    data = export(records, visitplan_home, "--patient", ALEX[0], "--audience", "patient")
    with records.desk() as desk:
        own = {v.uid for v in desk.visits(mrn=ALEX[0])}
    assert {str(e["UID"]) for e in events(data)} == own
    for secret in (SAM[0], SAM[1], ALEX[1], b"MRN"):
        assert (secret if isinstance(secret, bytes) else secret.encode()) not in data
    assert all(len(e.walk("VALARM")) == 2 for e in events(data))
    quiet = export(
        records, visitplan_home, "--patient", ALEX[0], "--audience", "patient", "--no-alarms"
    )
    assert b"VALARM" not in quiet


def test_enrollment_and_date_range_scopes(records: Records, visitplan_home: dict[str, str]) -> None:
    with records.desk() as desk:
        (course,) = desk.enrollments(SAM[0])
        expected = [v.uid for v in desk.visits(enrollment_id=course.id)]
    data = export(records, visitplan_home, "--enrollment", str(course.id))
    assert [str(e["UID"]) for e in events(data)] == expected
    spring = export(records, visitplan_home, "--all", "--from", "2026-03-09", "--to", "2026-04-30")
    days = {e.decoded("DTSTART").date() for e in events(spring)}
    assert days == {dt.date(2026, 3, 9), dt.date(2026, 4, 6)}
    empty = export(records, visitplan_home, "--all", "--from", "2030-01-01")
    assert events(empty) == []
    for reader in READERS.values():
        assert reader(empty) == []


def test_moved_and_cancelled_visits_keep_their_uid_with_a_higher_sequence(
    records: Records, visitplan_home: dict[str, str]
) -> None:
    before = {str(e["UID"]): e for e in events(export(records, visitplan_home, "--all"))}
    later = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    with records.desk(later) as desk:
        first, second = desk.visits(mrn=ALEX[0])[1:3]
        desk.move_visit(first.id, dt.datetime(2026, 3, 10, 14, 30), force=True)
        desk.cancel_visit(second.id)
    after = {str(e["UID"]): e for e in events(export(records, visitplan_home, "--all"))}
    assert after.keys() == before.keys()
    moved, cancelled = after[first.uid], after[second.uid]
    assert moved.decoded("DTSTART") == dt.datetime(
        2026, 3, 10, 14, 30, tzinfo=moved.decoded("DTSTART").tzinfo
    )
    assert moved["SEQUENCE"] > before[first.uid]["SEQUENCE"]
    assert cancelled["STATUS"] == "CANCELLED"
    assert cancelled["SEQUENCE"] > before[second.uid]["SEQUENCE"]
    assert cancelled.decoded("DTSTAMP") == later


def test_output_replaces_the_old_file_and_leaves_no_temp_files(
    records: Records, visitplan_home: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "calendars" / "clinic.ics"
    target.parent.mkdir()
    target.write_bytes(b"old")
    done = run_visitplan("export", *records.args(), "--all", "-o", str(target), env=visitplan_home)
    assert done.status == 0, done.err
    assert target.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")
    assert [p.name for p in target.parent.iterdir()] == ["clinic.ics"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--all", "--audience", "patient"], ["--audience patient", "--patient"]),
        (["--all", "--from", "2026-05-01", "--to", "2026-04-01"], ["--to 2026-04-01"]),
        (["--patient", "999999"], ["999999"]),
        (["--enrollment", "first"], ["--enrollment", "first"]),
        (["--all", "-o", "/nonexistent-dir/x.ics"], ["/nonexistent-dir"]),
        (["--all", "--privacy", "everything"], ["--privacy"]),
        ([], ["--patient", "--all"]),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    records: Records, visitplan_home: dict[str, str], args: list[str], fragments: list[str]
) -> None:
    result = run_visitplan("export", *records.args(), *args, env=visitplan_home)
    assert_one_line_error(result, *fragments)
    assert not Path("/nonexistent-dir").exists()
