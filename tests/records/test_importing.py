"""CSV import: all rows or none, errors naming the row and column, and a process
killed in the middle leaves the database as it was."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.errors import InputError
from visitplan.records.operations import Desk, open_desk

GOOD = """\
mrn,name,phone,email,protocol,start,time,clinician
P1,Synthetic One,010-0000-0001,one@example.invalid,dextrose-prolotherapy,2026-04-06,10:00,Dr A
P2,Synthetic Two,,,eswt-plantar-fasciitis,2026-04-07,,
P1,Synthetic One,,,prolotherapy-knee-oa,2026-04-13,14:00,Dr B
P3,Synthetic Three,,,,,,
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "patients.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_adds_patients_and_courses(desk: Desk, tmp_path: Path) -> None:
    desk.add_clinician("Dr A")
    desk.add_clinician("Dr B")
    report = desk.import_csv(write(tmp_path, GOOD))
    assert (report.patients, report.enrollments, report.visits) == (3, 3, 7 + 4 + 7)
    assert [p.mrn for p in desk.patients()] == ["P1", "P2", "P3"]
    courses = desk.enrollments("P1")
    assert [(c.protocol_id, f"{c.time:%H:%M}", c.clinician) for c in courses] == [
        ("dextrose-prolotherapy", "10:00", "Dr A"),
        ("prolotherapy-knee-oa", "14:00", "Dr B"),
    ]
    assert f"{desk.visits(mrn='P2')[0].start:%H:%M}" == "09:00"
    assert [h.action for h in desk.history("P1")] == ["patient added", "enrolled", "enrolled"]


def test_import_honours_capacity_between_rows(desk: Desk, tmp_path: Path) -> None:
    rows = "mrn,name,protocol,start,time\n" + "".join(
        f"P{n},Synthetic {n},dextrose-prolotherapy,2026-04-06,10:00\n" for n in range(3)
    )
    desk.import_csv(write(tmp_path, rows))
    firsts = sorted(f"{v.start:%H:%M}" for v in desk.agenda(dt.date(2026, 4, 6)))
    assert firsts == ["09:15", "10:00", "10:45"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("P9,,dextrose-prolotherapy,2026-04-06,10:00", "row 3, column name"),
        ("P9,Synthetic Nine,no-such-protocol,2026-04-06,10:00", "row 3, column protocol"),
        ("P9,Synthetic Nine,dextrose-prolotherapy,2026-02-30,10:00", "row 3, column start"),
        ("P9,Synthetic Nine,dextrose-prolotherapy,2026-04-06,25:00", "row 3, column time"),
        ("P1,Another Name,dextrose-prolotherapy,2026-04-06,10:00", "row 3, column name"),
    ],
)
def test_a_bad_row_stops_everything(desk: Desk, tmp_path: Path, line: str, message: str) -> None:
    text = "mrn,name,protocol,start,time\nP1,Synthetic One,dextrose-prolotherapy,2026-04-06,10:00\n"
    with pytest.raises(InputError, match=message):
        desk.import_csv(write(tmp_path, text + line + "\n"))
    assert desk.patients() == []
    assert desk.data_version() == 0


def test_stored_mrn_under_another_name_is_refused(desk: Desk, tmp_path: Path) -> None:
    desk.add_patient("P1", "Stored Name")
    with pytest.raises(InputError, match="row 2, column name: MRN P1 is stored with another name"):
        desk.import_csv(write(tmp_path, "mrn,name\nP1,Other Name\n"))


def test_unknown_column_is_named(desk: Desk, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"row 1 \(the header\): unknown column 'birthday'"):
        desk.import_csv(write(tmp_path, "mrn,name,birthday\nP1,Synthetic One,2000-01-01\n"))


KILLED_IMPORT = """
import sys
from pathlib import Path
from visitplan.catalog import ProtocolCatalog, protocol_dirs
from visitplan.records import importing, operations

original = importing._Bulk.insert
def slow_insert(self, c, rows):
    # Hold the transaction open, half-written (patients and courses in, visits not
    # yet), until the test kills us.
    if self.table.name == "visits":
        Path(sys.argv[3]).touch()
        import time
        time.sleep(60)
    return original(self, c, rows)
importing._Bulk.insert = slow_insert
desk = operations.open_desk(sys.argv[1], None,
                            ProtocolCatalog(protocol_dirs(env={})), "crash-test")
desk.import_csv(Path(sys.argv[2]))
"""


def test_killed_import_leaves_the_database_as_it_was(
    db_url: str, tmp_path: Path, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> None:
    with open_desk(db_url, seoul_clinic, catalog, "tester") as desk:
        desk.add_patient("P0", "Synthetic Before")
        desk.add_clinician("Dr A")
        desk.add_clinician("Dr B")
        before = desk.data_version()
    csv_path = write(tmp_path, GOOD)
    marker = tmp_path / "inside-transaction"
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_IMPORT, db_url, str(csv_path), str(marker)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    with open_desk(db_url, seoul_clinic, catalog, "tester") as desk:
        assert [p.mrn for p in desk.patients()] == ["P0"]
        assert desk.enrollments() == []
        assert desk.data_version() == before
        # And the database still takes writes (no lock left behind).
        desk.add_patient("P1", "Synthetic After")


def test_import_books_as_enrolling_row_by_row_would(
    tmp_path: Path, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> None:
    """The import keeps its own ledger of bookings; it must give the engine's answer."""
    clinic = replace(seoul_clinic, capacity=2)
    rows = [
        (f"P{n:02d}", f"2026-04-{6 + n % 3:02d}", f"{9 + n % 4:02d}:{(n * 15) % 60:02d}")
        for n in range(40)
    ]
    text = "mrn,name,protocol,start,time\n" + "".join(
        f"{mrn},Synthetic {mrn},dextrose-prolotherapy,{start},{time}\n" for mrn, start, time in rows
    )
    with open_desk(f"sqlite:///{tmp_path / 'a.db'}", clinic, catalog, "t") as imported:
        imported.import_csv(write(tmp_path, text))
        by_import = [(v.mrn, v.key, v.start, v.reason) for v in imported.visits()]
    with open_desk(f"sqlite:///{tmp_path / 'b.db'}", clinic, catalog, "t") as desk:
        for mrn, start, time in rows:
            desk.add_patient(mrn, f"Synthetic {mrn}")
            desk.enroll(
                mrn,
                "dextrose-prolotherapy",
                dt.date.fromisoformat(start),
                dt.time.fromisoformat(time),
            )
        by_enroll = [(v.mrn, v.key, v.start, v.reason) for v in desk.visits()]
    assert by_import == by_enroll
    assert any(reason and "fully booked" in reason for *_, reason in by_import)


# -- what is stored already (issue 12) ---------------------------------------------


def with_clinicians(desk: Desk) -> Desk:
    desk.add_clinician("Dr A")
    desk.add_clinician("Dr B")
    return desk


def test_the_same_file_twice_adds_nothing_the_second_time(desk: Desk, tmp_path: Path) -> None:
    with_clinicians(desk).import_csv(write(tmp_path, GOOD))
    version, visits = desk.data_version(), len(desk.visits())
    again = desk.import_csv(write(tmp_path, GOOD))
    assert (again.patients, again.enrollments, again.visits, again.already) == (0, 0, 0, 4)
    assert desk.data_version() == version
    assert len(desk.visits()) == visits
    assert len(desk.enrollments()) == 3


def test_a_withdrawn_course_from_the_same_start_is_not_imported_again(
    desk: Desk, tmp_path: Path
) -> None:
    with_clinicians(desk).import_csv(write(tmp_path, GOOD))
    first = desk.enrollments("P2")[0]
    desk.withdraw(first.id)
    again = desk.import_csv(write(tmp_path, GOOD))
    assert (again.enrollments, again.already) == (0, 4)
    assert [e.status for e in desk.enrollments("P2")] == ["withdrawn"]


def test_a_row_duplicating_a_running_course_names_it(desk: Desk, tmp_path: Path) -> None:
    desk.add_patient("P1", "Synthetic One")
    running = desk.enroll("P1", "dextrose-prolotherapy", dt.date(2026, 4, 6)).enrollment
    text = "mrn,name,protocol,start\nP1,Synthetic One,dextrose-prolotherapy,2026-05-04\n"
    with pytest.raises(InputError) as caught:
        desk.import_csv(write(tmp_path, text))
    assert (
        f"row 2, column protocol: MRN P1's dextrose-prolotherapy course is running "
        f"(enrollment {running.id}, from 2026-04-06)"
    ) in caught.value.message
    assert len(desk.enrollments("P1")) == 1


def test_a_new_course_after_a_withdrawn_one_is_imported(desk: Desk, tmp_path: Path) -> None:
    desk.add_patient("P1", "Synthetic One")
    desk.withdraw(desk.enroll("P1", "dextrose-prolotherapy", dt.date(2026, 4, 6)).enrollment.id)
    text = "mrn,name,protocol,start\nP1,Synthetic One,dextrose-prolotherapy,2026-05-04\n"
    report = desk.import_csv(write(tmp_path, text))
    assert (report.patients, report.enrollments, report.already) == (0, 1, 0)
    assert [e.status for e in desk.enrollments("P1")] == ["withdrawn", "active"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("P1,Synthetic One,,,dextrose-prolotherapy,2026-04-06,14:00,", "row 2, column time:"),
        ("P1,Synthetic One,,,dextrose-prolotherapy,2026-04-06,10:00,Dr B", "column clinician:"),
        ("P1,Synthetic Uno,,,,,,", "row 2, column name: MRN P1 is stored with another name"),
        ("P1,Synthetic One,010-9,,,,,", "row 2, column phone: MRN P1 is stored with another"),
        ("P1,Synthetic One,,b@example.invalid,,,,", "column email: MRN P1 is stored with no email"),
    ],
)
def test_a_row_contradicting_the_records_is_named(
    desk: Desk, tmp_path: Path, row: str, message: str
) -> None:
    desk.add_patient("P1", "Synthetic One", phone="010-1")
    with_clinicians(desk).enroll(
        "P1", "dextrose-prolotherapy", dt.date(2026, 4, 6), dt.time(10), "Dr A"
    )
    version = desk.data_version()
    header = "mrn,name,phone,email,protocol,start,time,clinician\n"
    with pytest.raises(InputError, match=message):
        desk.import_csv(write(tmp_path, header + row + "\n"))
    assert desk.data_version() == version


def test_cells_left_empty_are_not_a_contradiction(desk: Desk, tmp_path: Path) -> None:
    desk.add_patient("P1", "Synthetic One", phone="010-1", email="one@example.invalid")
    report = desk.import_csv(write(tmp_path, "mrn,name,phone,email\nP1,Synthetic One,,\n"))
    assert (report.patients, report.already) == (0, 1)


def test_mrns_match_without_regard_to_case_and_spaces(desk: Desk, tmp_path: Path) -> None:
    desk.add_patient("DEMO-001", "Synthetic Demo")
    text = (
        "mrn,name,protocol,start\n"
        "demo-001,Synthetic Demo,dextrose-prolotherapy,2026-04-06\n"
        " p7 ,Synthetic Seven,,\n"
        "P7,Synthetic Seven,eswt-plantar-fasciitis,2026-04-07\n"
    )
    report = desk.import_csv(write(tmp_path, text))
    assert (report.patients, report.enrollments) == (1, 2)
    assert [p.mrn for p in desk.patients()] == ["DEMO-001", "p7"]
    # The course and its audit entry are under the MRN as stored.
    assert [e.protocol_id for e in desk.enrollments("DEMO-001")] == ["dextrose-prolotherapy"]
    assert [h.action for h in desk.history("DEMO-001")] == ["patient added", "enrolled"]
    assert [e.protocol_id for e in desk.enrollments("p7")] == ["eswt-plantar-fasciitis"]


def test_a_patient_on_several_rows_is_one_patient(desk: Desk, tmp_path: Path) -> None:
    text = (
        "mrn,name,phone,email,notes\n"
        "P1,Synthetic One,,,\n"
        "p1,Synthetic One,010-1,,\n"
        "P1,Synthetic One,,one@example.invalid,prefers mornings\n"
    )
    report = desk.import_csv(write(tmp_path, text))
    assert report.patients == 1
    stored = desk.patient("P1")
    assert (stored.phone, stored.email, stored.notes) == (
        "010-1",
        "one@example.invalid",
        "prefers mornings",
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("P1,Synthetic One,010-1,\nP1,Synthetic One,010-2,\n", "row 3, column phone:"),
        ("P1,Synthetic One,,\nP1,Another One,,\n", "row 3, column name: MRN P1 has another"),
        (
            "P1,Synthetic One,,dextrose-prolotherapy\nP1,Synthetic One,,dextrose-prolotherapy\n",
            "row 3, column protocol: MRN P1 is enrolled in dextrose-prolotherapy on row 2",
        ),
    ],
)
def test_rows_of_one_patient_that_disagree_are_named(
    desk: Desk, tmp_path: Path, rows: str, message: str
) -> None:
    text = "mrn,name,phone,protocol,start\n" + "".join(
        line + (",2026-04-06" if line.endswith("prolotherapy") else ",") + "\n"
        for line in rows.splitlines()
    )
    with pytest.raises(InputError, match=message):
        desk.import_csv(write(tmp_path, text))
    assert desk.data_version() == 0
