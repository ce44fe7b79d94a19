"""The import reads its CSV strictly: a stray quote, a column twice or unknown, NUL,
bytes that are not UTF-8 and cells over their limits are row errors naming the row
and the column, every bad row is reported in one run (the first 50, then a count),
and then nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import run_visitplan
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic
from visitplan.errors import InputError, InputErrors
from visitplan.records.import_file import LONGEST
from visitplan.records.operations import Desk, open_desk
from visitplan.records.patients import LIMITS
from visitplan.records.schema import CLINICIANS, PATIENTS

HEADER = "mrn,name,phone,email,notes,protocol,start,time,clinician\n"


@pytest.fixture
def lite(sqlite_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog) -> Iterator[Desk]:
    """Reading is the same on both backends; these tests need only one."""
    with open_desk(sqlite_url, seoul_clinic, catalog, "tester") as desk:
        yield desk


def refused(desk: Desk, tmp_path: Path, data: str | bytes) -> InputError:
    path = tmp_path / "patients.csv"
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    before = desk.data_version()
    with pytest.raises(InputError) as caught:
        desk.import_csv(path)
    assert desk.data_version() == before
    assert desk.patients() == []
    for line in caught.value.lines:
        assert "\n" not in line
    return caught.value


def test_a_stray_quote_does_not_swallow_the_rest_of_the_file(lite: Desk, tmp_path: Path) -> None:
    text = 'mrn,name,notes\nA1,Ann One,"allergic to latex\n' + "".join(
        f"A{n},Synthetic {n},\n" for n in range(2, 1000)
    )
    error = refused(lite, tmp_path, text)
    assert "row 2, column notes: a quote is opened and never closed" in error.message
    assert "runs over 999 lines" in error.message


def test_a_quote_closed_rows_later_still_cannot_hide_rows_in_a_one_line_column(
    lite: Desk, tmp_path: Path
) -> None:
    error = refused(lite, tmp_path, 'mrn,name,phone\nA1,Ann One,"010\nA2,Bo Two,011"\n')
    assert "row 2, column phone: holds a line break" in error.message


def test_notes_may_hold_line_breaks_inside_quotes(lite: Desk, tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_text('mrn,name,notes\r\nA1,Ann One,"line one\r\nline ""two"""\r\n', "utf-8")
    lite.import_csv(path)
    assert lite.patient("A1").notes == 'line one\r\nline "two"'


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("mrn,name,name", "column name twice (columns 2 and 3)"),
        ("mrn,name,birthday", "unknown column 'birthday'"),
        ("mrn,name,", "column 3 has no name"),
        ("mrn,phone", "no column name"),
        ('mrn,"name', "a quote is opened and never closed"),
        ("\ufeff\ufeffmrn,name", "unknown column '\\ufeffmrn'"),
    ],
)
def test_a_bad_header_is_row_1(lite: Desk, tmp_path: Path, header: str, fragment: str) -> None:
    error = refused(lite, tmp_path, header + "\nA1,Ann One,x\n")
    assert "row 1 (the header)" in error.message
    assert fragment in error.message


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("A1,Ann One,\x00", "row 2, column phone: holds a NUL character"),
        ("A1,Ann\x00One,", "row 2, column name: holds a NUL character"),
        ("A1,Ann One,,,\x1b[31m", "row 2, column notes: holds a control character (U+001B)"),
        ('A1,"Ann" One,', "row 2, column name: text after the closing quote"),
        ("A1,Ann One,1,,,,,,,x", "row 2: 10 cells, but the header names 9 columns"),
        ("A1,Ann One,,,,dextrose-prolotherapy,2026-4-6", "row 2, column start: '2026-4-6'"),
        ("A1,Ann One,,,,dextrose-prolotherapy,20260406", "column start: '20260406' is not"),
        ("A1,Ann One,,,,dextrose-prolotherapy,2026-04-06,+9:30", "row 2, column time:"),
        (
            "A1,Ann One,,,,dextrose-prolotherapy,0001-01-01",
            "row 2, column start: 0001-01-01 is outside the years 1900 to 2200",
        ),
        ("A1,Ann One,,,,,2026-04-06", "row 2, column protocol: a start, time or clinician"),
        ("A1,Ann One,,,,nope,2026-04-06", "row 2, column protocol: unknown protocol"),
        ("A 1,Ann One", "row 2, column mrn: MRN 'A 1': must be 1 to 64 characters"),
        ("A1,Ann One,,no-at-sign", "row 2, column email:"),
        (
            "A1,Ann One,,,,eswt-plantar-fasciitis,2026-04-06,,Dr Nobody",
            "row 2, column clinician: unknown clinician 'Dr Nobody' (known: none yet) "
            "(`visitplan clinician add NAME` adds one)",
        ),
    ],
)
def test_a_bad_cell_names_its_row_and_column(
    lite: Desk, tmp_path: Path, row: str, fragment: str
) -> None:
    error = refused(lite, tmp_path, HEADER + "A0,Synthetic Zero\n" + row + "\n")
    assert fragment.replace("row 2", "row 3") in error.message


def test_bytes_that_are_not_utf8_are_named_by_row_and_column(lite: Desk, tmp_path: Path) -> None:
    data = b"mrn,name,notes\nA1,Ann One,ok\nA2,Bo Two,caf\xe9\n"
    error = refused(lite, tmp_path, data)
    assert "row 3, column notes: not UTF-8 text" in error.message
    error = refused(lite, tmp_path, "mrn,name\nA1,Ann\n".encode("utf-16"))
    assert "the file is UTF-16" in error.message


@pytest.mark.parametrize("column", ["mrn", "name", "phone", "email", "notes", "clinician"])
def test_a_cell_over_its_limit_is_refused_and_one_at_it_is_kept(
    lite: Desk, tmp_path: Path, column: str
) -> None:
    def row(length: int) -> str:
        cells = {"mrn": "A1", "name": "Ann One", "protocol": "", "start": ""}
        if column == "email":
            cells[column] = "a" * (length - len("@example.invalid")) + "@example.invalid"
        else:
            cells[column] = "x" * length
        if column == "clinician":
            cells |= {"protocol": "eswt-plantar-fasciitis", "start": "2026-04-06"}
        return ",".join(cells) + "\n" + ",".join(cells.values()) + "\n"

    limit = LONGEST[column]
    error = refused(lite, tmp_path, row(limit + 1))
    assert f"row 2, column {column}: {limit + 1:,} characters, at most {limit:,}" in error.message
    path = tmp_path / "ok.csv"
    path.write_text(row(limit), encoding="utf-8")
    if column == "clinician":
        lite.add_clinician("x" * limit)
    assert lite.import_csv(path).patients == 1


def test_limits_are_the_tables_column_sizes() -> None:
    for name in ("mrn", "name", "phone", "email"):
        assert LIMITS[name] == PATIENTS.c[name].type.length, name  # type: ignore[attr-defined]
    assert LONGEST["clinician"] == CLINICIANS.c.name.type.length  # type: ignore[attr-defined]
    assert LIMITS["notes"] == 10_000


def test_the_desk_refuses_what_the_import_refuses(lite: Desk) -> None:
    with pytest.raises(InputError, match="phone of 65 characters, at most 64"):
        lite.add_patient("A1", "Ann One", phone="1" * 65)
    with pytest.raises(InputError, match="notes of 10,001 characters, at most 10,000"):
        lite.add_patient("A1", "Ann One", notes="n" * 10_001)
    with pytest.raises(InputError, match="the name holds a control character"):
        lite.add_patient("A1", "Ann\x00One")
    lite.add_patient("A1", "Ann One", notes="n" * 10_000)
    with pytest.raises(InputError, match="email of 201 characters"):
        lite.update_patient("A1", email="e" * 189 + "@example.org")


def test_every_bad_row_is_reported_in_one_run(lite: Desk, tmp_path: Path) -> None:
    rows = [f"A{n},Synthetic {n},{'x' * 65 if n % 2 else ''}" for n in range(200)]
    rows[10] = "A10,,"  # and a second kind of problem
    error = refused(lite, tmp_path, "mrn,name,phone\n" + "\n".join(rows) + "\n")
    assert isinstance(error, InputErrors)
    assert len(error.problems) == 50
    assert error.problems[0].endswith("row 3, column phone: 65 characters, at most 64")
    assert "row 12, column name: MRN A10: the name must be" in error.problems[5]
    assert error.message.endswith(
        "101 rows have problems, the first 50 listed above; nothing was imported"
    )
    assert error.lines == (*error.problems, error.message)


def test_empty_rows_are_skipped_and_count_as_rows(lite: Desk, tmp_path: Path) -> None:
    error = refused(lite, tmp_path, "mrn,name\nA1,Ann One\n\n,\nA2,\n")
    assert "row 5, column name" in error.message


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("", "the file is empty"),
        ("mrn,name\n", "no rows under the header"),
        ("mrn,name\n" + "x" * 1_000_001, "line 2 is over 1,000,000 characters long"),
    ],
)
def test_a_file_that_is_no_list_of_patients_is_one_line(
    lite: Desk, tmp_path: Path, data: str, fragment: str
) -> None:
    error = refused(lite, tmp_path, data)
    assert fragment in error.message
    assert len(error.lines) == 1


def test_the_command_prints_one_line_per_bad_row_then_the_count(
    tmp_path: Path, seoul_clinic_file: Path, visitplan_home: dict[str, str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "mrn,name,phone,start\nA1,Ann One,\x00,\nA2,Bo Two,,\nA3,,,2026-04-06\n", "utf-8"
    )
    env = {
        **visitplan_home,
        "VISITPLAN_DB": f"sqlite:///{tmp_path / 'r.sqlite3'}",
        "VISITPLAN_CLINIC": str(seoul_clinic_file),
    }
    result = run_visitplan("import", str(path), env=env)
    assert result.status == 2
    assert result.out == ""
    assert result.err.splitlines() == [
        f"visitplan: {path}: row 2, column phone: holds a NUL character",
        f"visitplan: {path}: row 4, column name: MRN A3: the name must be 1 to 200 characters; "
        "column protocol: a start, time or clinician needs a protocol",
        f"visitplan: {path}: 2 rows have problems; nothing was imported",
    ]
    path.write_text("mrn,name\nA1,Ann One\n", "utf-8")
    assert run_visitplan("import", str(path), env=env).out == (
        f"{path}: 1 new patient, 0 courses, 0 visits\n"
    )
    again = run_visitplan("import", str(path), env=env)
    assert (again.status, again.err) == (0, "")
    assert again.out == f"{path}: nothing new imported: 1 row says only what the records hold\n"


def test_a_quote_closed_rows_later_in_notes_does_not_hide_them(lite: Desk, tmp_path: Path) -> None:
    """The quote opened in row 2's notes closes at the end of row 4: csv reads one row
    whose notes hold rows 3 and 4. Those lines read like rows of the file: refused."""
    text = 'mrn,name,notes\nA1,Ann One,"allergic to latex\nA2,Bo Two,\nA3,Cy Three,12 inch"\n'
    error = refused(lite, tmp_path, text)
    assert "row 2, column notes: line 2 of the cell reads like a row of this file" in error.message


def test_a_course_that_cannot_be_planned_is_a_row_error(lite: Desk, tmp_path: Path) -> None:
    lite.add_clinician("Dr Weekend", hours="sat=09:00-12:00")
    error = refused(
        lite,
        tmp_path,
        "mrn,name,protocol,start,clinician\n"
        "A1,Ann One,dextrose-prolotherapy,2026-04-06,Dr Weekend\n",
    )
    assert "row 2, column start: no course from 2026-04-06 can be planned: Dr Weekend never" in (
        error.message
    )
