"""The front desk's rules through the command line: the same Desk, its refusals in one
line with the option that helps, and every change saying what it did."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pendulum
import pytest

from visitplan.cli.main import main

PAST = "2026-04-06"  # a Monday long gone: every visit of this course is in the past


def _next_monday_in_a_month() -> str:
    today = pendulum.now("Asia/Seoul").date()
    day = today + dt.timedelta(days=28)
    return (day + dt.timedelta(days=(7 - day.weekday()) % 7)).isoformat()


class Desk:
    def __init__(self, capsys: pytest.CaptureFixture[str], db: str, clinic: Path) -> None:
        self.capsys = capsys
        self.common = ["--db", db, "--clinic", str(clinic), "--user", "cli-tester"]

    def run(self, *args: str) -> tuple[int, str, str]:
        status = main([*args, *self.common])
        out, err = self.capsys.readouterr()
        return status, out, err

    def ok(self, *args: str) -> str:
        status, out, err = self.run(*args)
        assert status == 0, err
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def refused(self, *args: str) -> str:
        status, out, err = self.run(*args)
        assert (status, out) == (2, ""), (status, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        return lines[0]


@pytest.fixture
def vp(capsys: pytest.CaptureFixture[str], db_url: str, seoul_clinic_file: Path) -> Desk:
    desk = Desk(capsys, db_url, seoul_clinic_file)
    desk.ok("patient", "add", "P1", "--name", "Synthetic One")
    return desk


def _visit_ids(course: Any) -> dict[str, int]:
    return {v["key"]: v["id"] for v in course["visits"]}


def test_a_second_course_is_refused_unless_another(vp: Desk) -> None:
    course = vp.json("enroll", "P1", "dextrose-prolotherapy", "--start", PAST)
    line = vp.refused("enroll", "P1", "dextrose-prolotherapy", "--start", "2026-05-04")
    assert line == (
        "visitplan: P1 already has a running course of dextrose-prolotherapy: "
        f"course {course['course']['id']} from Mon 2026-04-06 "
        "(--another starts a second one beside it)"
    )
    vp.ok("enroll", "P1", "dextrose-prolotherapy", "--start", "2026-05-04", "--another")
    assert len(vp.json("patient", "show", "P1")["courses"]) == 2


def test_outcomes_of_a_course_entered_late(vp: Desk) -> None:
    out = vp.ok("enroll", "P1", "dextrose-prolotherapy", "--start", PAST, "--time", "10:00")
    assert "7 visits are already past with no outcome: overdue" in out
    items = vp.json("worklist")["items"]
    assert [i["reason"] for i in items] == ["overdue"] * 7
    first = items[0]["visit"]["id"]
    line = vp.refused("visit", "done", str(first))
    assert "was due by Thu 2026-04-09, more than a day ago: say when it was done" in line
    assert "(--at 'YYYY-MM-DD HH:MM')" in line
    done = vp.ok("visit", "done", str(first), "--at", "2026-04-06 10:20")
    # One sentence, wrapped to the terminal's 80 columns.
    assert " ".join(done.split()).startswith(
        f"visit {first}: Session 1 of 6 for S.O. MRN P1: completed, Mon 2026-04-06 10:20 (rev 2)"
    )
    reopened = vp.json("visit", "reopen", str(first))
    assert reopened["visit"]["status"] == "scheduled"
    assert reopened["visit"]["start"].startswith("2026-04-06T10:00")
    line = vp.refused("visit", "missed", str(first), "--if-revision", "9")
    assert "at revision 3; there is no revision 9" in line


def test_a_move_says_what_it_carried_along_and_why(vp: Desk) -> None:
    start = _next_monday_in_a_month()
    ids = _visit_ids(vp.json("enroll", "P1", "dextrose-prolotherapy", "--start", start))
    day = dt.date.fromisoformat(start)
    line = vp.refused(
        "visit", "move", str(ids["session-1"]), "--to", f"{day + dt.timedelta(days=10)} 10:00"
    )
    assert line.endswith("(--force books it anyway, as a deviation)")
    assert "Session 1 of 6 for P1 cannot move to" in line
    out = vp.ok(
        "visit", "move", str(ids["session-1"]), "--to", f"{day + dt.timedelta(days=1)} 11:00"
    )
    lines = out.splitlines()
    assert lines[0].startswith(
        f"visit {ids['session-1']}: Session 1 of 6 for S.O. MRN P1: scheduled"
    )
    assert f"  moved: visit {ids['session-2']} (Session 2 of 6) to " in out
    assert "    why: moved with Session 1 of 6: moved 1 day later" in out


def test_patient_edit_and_course_reinstate(vp: Desk) -> None:
    assert vp.ok("patient", "edit", "p1", "--phone", "010-0000-0000") == (
        "patient P1 changed (revision 2)\n"
    )
    assert vp.ok("patient", "edit", "P1", "--phone", "010-0000-0000") == (
        "patient P1: nothing to change\n"
    )
    assert "changed by someone else" in vp.refused(
        "patient", "edit", "P1", "--name", "Synthetic Uno", "--if-revision", "1"
    )
    assert "say what to change" in vp.refused("patient", "edit", "P1")
    course = vp.json("enroll", "P1", "dextrose-prolotherapy", "--start", PAST)["course"]["id"]
    withdrawn = vp.json("enrollment", "withdraw", str(course))
    assert {v["status"] for v in withdrawn["visits"]} == {"cancelled"}
    back = vp.json("enrollment", "reinstate", str(course))
    assert back["course"]["status"] == "active"
    assert {v["status"] for v in back["visits"]} == {"scheduled"}
    assert "only a withdrawn course" in vp.refused("enrollment", "reinstate", str(course))
