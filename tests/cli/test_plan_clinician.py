"""`visitplan plan --clinician NAME`: a preview on one clinician's hours, from the
clinic file's [[clinicians]], with no database (through the real entry point)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, run_visitplan
from tests.support.clinics import SEOUL_CLINIC

CLINICIANS = """
[[clinicians]]
name = "Dr Kim"
hours = "mon=09:00-11:00,wed=14:00-17:00"

[[clinicians]]
name = "Dr Lee"
capacity = 2
"""


@pytest.fixture
def clinic_file(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(SEOUL_CLINIC + CLINICIANS, encoding="utf-8")
    return path


def plan(clinic: Path, env: dict[str, str], *extra: str) -> tuple[int, str, str]:
    result = run_visitplan(
        "plan",
        "dextrose-prolotherapy",
        "--start",
        "2027-01-05",  # a Tuesday: Dr Kim works Mondays and Wednesdays
        "--clinic",
        str(clinic),
        *extra,
        env=env,
    )
    return result.status, result.out, result.err


def test_plan_with_a_clinician_keeps_to_their_days_and_hours(
    clinic_file: Path, visitplan_home: dict[str, str]
) -> None:
    status, out, err = plan(clinic_file, visitplan_home, "--clinician", "dr  KIM", "--json")
    assert status == 0, err
    visits = json.loads(out)["visits"]
    first = visits[0]
    # Tuesday is not Kim's: the nearest day of the window they work, a Wednesday,
    # and there the asked 09:00 is before their hours: the nearest start within them.
    assert first["start"] == "2027-01-06T14:00:00+09:00"
    assert first["reason"] == (
        "closed on Tuesdays; 09:00 is outside Dr Kim's hours (14:00-17:00); moved to 14:00"
    )
    assert first["warnings"] == []
    days = {v["start"][:10] for v in visits}
    import datetime as dt

    assert {dt.date.fromisoformat(d).strftime("%a") for d in days} <= {"Mon", "Wed"}


def test_plan_with_a_clinician_names_them_in_the_heading(
    clinic_file: Path, visitplan_home: dict[str, str]
) -> None:
    status, out, err = plan(clinic_file, visitplan_home, "--clinician", "Dr Lee", "--time", "10:00")
    assert status == 0, err
    heading = " ".join(out.split("VISIT")[0].split())
    assert heading.endswith("at Example Clinic, Asia/Seoul, with Dr Lee")
    # Dr Lee works the clinic's own hours: the plan is the clinic's.
    _, without, _ = plan(clinic_file, visitplan_home, "--time", "10:00")
    assert out.split("VISIT", 1)[1] == without.split("VISIT", 1)[1]


def test_an_unknown_clinician_is_one_line_and_exit_2(
    clinic_file: Path, visitplan_home: dict[str, str]
) -> None:
    result = run_visitplan(
        "plan",
        "dextrose-prolotherapy",
        "--start",
        "2027-01-05",
        "--clinic",
        str(clinic_file),
        "--clinician",
        "Dr Park",
        env=visitplan_home,
    )
    assert_one_line_error(
        result, "unknown clinician 'Dr Park'", "[[clinicians]] are Dr Kim, Dr Lee"
    )


def test_a_clinic_file_with_a_bad_clinician_is_one_line(
    tmp_path: Path, visitplan_home: dict[str, str]
) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text(SEOUL_CLINIC + '[[clinicians]]\nname = "Dr Kim"\ncapacity = 0\n', "utf-8")
    result = run_visitplan(
        "plan",
        "dextrose-prolotherapy",
        "--start",
        "2027-01-05",
        "--clinic",
        str(path),
        env=visitplan_home,
    )
    assert_one_line_error(result, "clinic.toml: clinicians[0].capacity")
