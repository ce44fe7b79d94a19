"""One clinic for every workstation (issue 13): the database keeps the clinic, a
workstation whose file disagrees is refused, and closures and clinicians change what
is planned from then on. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.cli.harness import run_main
from tests.records.helpers import Clock, at, by_key, enrolled
from tests.support.cli import assert_one_line_error, run_visitplan
from tests.support.clinics import SEOUL_CLINIC
from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic, parse_clinic
from visitplan.errors import InputError
from visitplan.records.operations import Desk, open_desk

START = "2026-04-06"  # a Monday


@pytest.fixture
def early(db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog) -> Iterator[Desk]:
    """A desk whose "now" is before the course starts (the whole course is ahead)."""
    with open_desk(
        db_url, seoul_clinic, catalog, "tester", clock=Clock(at("2026-04-01", "08:00"))
    ) as opened:
        yield opened


def _utc_file(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(SEOUL_CLINIC.replace("Asia/Seoul", "UTC"), encoding="utf-8")
    return path


# -- the clinic lives with the records ---------------------------------------------


def test_the_first_write_stores_the_clinic_and_a_bare_workstation_uses_it(
    db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> None:
    with open_desk(db_url, seoul_clinic, catalog, "first") as desk:
        assert desk.state.version is None  # nothing written yet
        desk.add_patient("P1", "Synthetic One")
        assert desk.state.version == 1
        entry = desk.history()[0]
        assert (entry.action, entry.entity) == ("clinic stored", "clinic")
    with open_desk(db_url, None, catalog, "second") as bare:
        assert bare.clinic == seoul_clinic
        assert bare.calendar.closed_because(dt.date(2026, 5, 5)) == "Children's Day"


def test_a_workstation_with_another_clinic_file_is_refused_and_writes_nothing(
    db_url: str,
    seoul_clinic: Clinic,
    catalog: ProtocolCatalog,
    tmp_path: Path,
    visitplan_home: dict[str, str],
) -> None:
    with open_desk(db_url, seoul_clinic, catalog, "tester") as desk:
        enrolled(desk, "P1", "dextrose-prolotherapy", START)
        before = desk.data_version()
    utc = _utc_file(tmp_path)
    moved = run_visitplan(
        "visit", "move", "1", "--to", "2026-04-07 10:00", "--db", db_url, "--clinic", str(utc),
        env={**visitplan_home, "TZ": "UTC"},
    )  # fmt: skip
    assert_one_line_error(
        moved,
        "this database's clinic is in Asia/Seoul; clinic.toml says UTC: use "
        "`visitplan clinic load` to change the clinic",
    )
    with open_desk(db_url, None, catalog, "tester") as desk:
        assert desk.data_version() == before
        assert desk.visit(1).start == at(START, "10:00")


def test_stored_times_never_depend_on_the_workstations_zone(
    db_url: str,
    seoul_clinic: Clinic,
    catalog: ProtocolCatalog,
    visitplan_home: dict[str, str],
) -> None:
    with open_desk(db_url, seoul_clinic, catalog, "tester") as desk:
        enrolled(desk, "P1", "dextrose-prolotherapy", START, "10:00")
    for machine in ("UTC", "America/New_York", "Pacific/Kiritimati"):
        env = {**visitplan_home, "TZ": machine}
        # A workstation without a clinic file, in another zone, moves a visit...
        moved = run_visitplan(
            "visit", "move", "2", "--to", "2026-04-21 11:00", "--db", db_url, env=env
        )
        assert moved.status == 0, moved
        listed = run_visitplan("visits", "P1", "--json", "--db", db_url, env=env)
        second = next(v for v in json.loads(listed.out) if v["id"] == 2)
        # ...at 11:00 in Seoul, whatever its own clock says.
        assert second["start"] == "2026-04-21T11:00:00+09:00"


def test_clinic_load_changes_the_clinic_audits_the_differences_and_reports_visits(
    early: Desk, db_url: str, catalog: ProtocolCatalog
) -> None:
    visits = enrolled(early, "P1", "dextrose-prolotherapy", START, "17:00")
    shorter = parse_clinic(SEOUL_CLINIC.replace("09:00-18:00", "09:00-17:00"), "new.toml")
    trial = early.load_clinic(shorter, "new.toml", dry_run=True)
    assert early.clinic.hours["mon"] == "09:00-18:00"  # a dry run changes nothing
    assert len(trial.affected) == 7
    report = early.load_clinic(shorter, "new.toml")
    assert report.version == 2
    # The sessions last 45 minutes and the follow-up 30: each now ends after 17:00.
    assert {a.problem.split(" is ")[0] for a in report.affected} == {"17:00-17:45", "17:00-17:30"}
    entry = early.history()[-1]
    assert entry.action == "clinic loaded"
    assert entry.before == {
        "hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-18:00")
    }
    # Without --rebook they stay and go on the worklist.
    assert {i.reason for i in early.worklist()} == {"outside-hours"}
    # Loading it again with --rebook books them inside the new hours.
    again = early.load_clinic(shorter, "new.toml", rebook=True)
    assert again.version == 2  # unchanged settings: no new version
    assert {v.id for v in again.moved} == {v.id for v in visits.values()}
    assert all(v.end.time() <= dt.time(17, 0) for v in again.moved)
    assert early.worklist() == []
    # And the workstation's file now agrees only if it says the same.
    with pytest.raises(InputError, match="has hours ="):
        open_desk(db_url, parse_clinic(SEOUL_CLINIC, "old.toml"), catalog)


def test_a_stored_clinic_that_fails_todays_rules_is_one_line_until_replaced(
    db_url: str, seoul_clinic: Clinic, catalog: ProtocolCatalog
) -> None:
    with open_desk(db_url, seoul_clinic, catalog, "tester") as desk:
        desk.add_patient("P1", "Synthetic One")
        with desk.engine.begin() as c:
            c.execute(text('UPDATE clinic_versions SET settings = \'{"timezone": "Mars/Base"}\''))
    with pytest.raises(InputError, match=r"clinic \(version 1\) is not valid any more"):
        open_desk(db_url, None, catalog)
    with open_desk(db_url, seoul_clinic, catalog, "tester", check_clinic=False) as desk:
        assert desk.load_clinic(seoul_clinic, "seoul.toml").version == 2
    with open_desk(db_url, None, catalog) as desk:
        assert desk.clinic == seoul_clinic


# -- closures as they happen -------------------------------------------------------


def test_a_closure_reports_what_it_affects_and_rebooks_on_request(early: Desk) -> None:
    visits = enrolled(early, "P1", "dextrose-prolotherapy", START)
    s2 = visits["session-2"]
    snow = s2.start.date()
    report = early.add_closure(snow, reason="snow day")
    assert [a.visit.id for a in report.affected] == [s2.id]
    assert "snow day" in report.affected[0].problem
    assert [i.reason for i in early.worklist()] == ["closed-day"]
    # Every planning afterwards treats the day as closed...
    early.add_patient("P2", "Synthetic Two")
    second = early.enroll("P2", "eswt-plantar-fasciitis", snow)
    assert second.visits[0].start.date() != snow
    # ...and with rebook the affected visit moves by the engine's rules, its
    # dependents with it, in one change.
    early.remove_closure(report.closure.id if report.closure else 0)
    rebooked = early.add_closure(snow, reason="snow day", rebook=True)
    moved = by_key(rebooked.moved)
    assert moved["session-2"].start.date() != snow
    assert moved["session-2"].reason is not None
    assert moved["session-2"].reason == f"booked again: closed on {snow:%a %Y-%m-%d} (snow day)"
    assert set(moved) >= {"session-2", "session-3"}
    assert early.worklist() == []


def test_a_clinicians_leave_touches_only_their_visits(early: Desk) -> None:
    early.add_clinician("Dr Kim")
    early.add_clinician("Dr Lee")
    early.add_patient("P1", "Synthetic One")
    early.add_patient("P2", "Synthetic Two")
    kim = early.enroll("P1", "dextrose-prolotherapy", dt.date(2026, 4, 6), clinician="dr kim")
    lee = early.enroll("P2", "dextrose-prolotherapy", dt.date(2026, 4, 6), dt.time(11), "Dr Lee")
    assert {v.clinician for v in kim.visits} == {"Dr Kim"}
    leave_day = by_key(kim.visits)["session-2"].start.date()
    report = early.add_closure(leave_day, clinician="Dr Kim", reason="leave", rebook=True)
    assert [a.visit.mrn for a in report.affected] == ["P1"]
    assert all(v.mrn == "P1" for v in report.moved)
    assert (
        by_key(early.visits(mrn="P2"))["session-2"].start == by_key(lee.visits)["session-2"].start
    )
    # A new course with Dr Kim avoids the leave; one with Dr Lee does not need to.
    early.add_patient("P3", "Synthetic Three")
    later = early.enroll("P3", "eswt-plantar-fasciitis", leave_day, clinician="Dr Kim")
    assert later.visits[0].start.date() != leave_day
    assert [c.clinician for c in early.closures()] == ["Dr Kim"]


# -- clinicians are resources -----------------------------------------------------


def test_a_clinicians_hours_narrow_their_visits_days(early: Desk) -> None:
    early.add_clinician("Dr Park", hours="mon-wed=09:00-13:00")
    early.add_patient("P1", "Synthetic One")
    course = early.enroll(
        "P1", "eswt-plantar-fasciitis", dt.date(2026, 4, 9), dt.time(10), "Dr Park"
    )  # a Thursday start
    assert {v.start.weekday() for v in course.visits} <= {0, 1, 2}
    assert all(v.end.time() <= dt.time(13, 0) for v in course.visits)
    with pytest.raises(InputError, match=r"unknown clinician 'Dr Nobody' \(known: Dr Park\)"):
        early.enroll("P1", "dextrose-prolotherapy", dt.date(2026, 4, 6), clinician="Dr Nobody")
    with pytest.raises(InputError, match="unknown clinician"):
        early.agenda(dt.date(2026, 4, 6), clinician="Dr Nobody")
    assert early.agenda(dt.date(2026, 4, 13), 7, clinician="DR PARK")


def test_a_visit_is_handed_to_another_clinician(early: Desk) -> None:
    early.add_clinician("Dr Kim")
    early.add_clinician("Dr Park", hours="mon-fri=14:00-18:00")
    early.add_patient("P1", "Synthetic One")
    course = early.enroll("P1", "dextrose-prolotherapy", dt.date(2026, 4, 6), clinician="Dr Kim")
    s2 = by_key(course.visits)["session-2"]
    handed = early.move_visit(s2.id, at("2026-04-20", "15:00"), clinician="Dr Park")
    assert (handed.visit.clinician, handed.visit.start) == ("Dr Park", at("2026-04-20", "15:00"))
    assert early.move_visit(s2.id, None, clinician="Dr Kim").visit.clinician == "Dr Kim"


def test_clinicians_are_added_once_and_edited_with_their_revision(early: Desk) -> None:
    early.add_clinician("Dr Kim")
    with pytest.raises(InputError, match=r"clinician 'dr kim' already exists \(as 'Dr Kim'\)"):
        early.add_clinician("dr  kim")
    with pytest.raises(InputError, match="days are mon, tue"):
        early.add_clinician("Dr Bad", hours="someday=09:00-10:00")
    report = early.edit_clinician("Dr Kim", hours="mon-fri=09:00-12:00", expected_revision=1)
    assert report.what == "clinician Dr Kim changed (revision 2)"
    with pytest.raises(InputError, match="changed by someone else"):
        early.edit_clinician("Dr Kim", capacity=2, expected_revision=1)
    (kim,) = early.clinicians()
    assert (kim.spec.hours, kim.revision) == ("mon-fri=09:00-12:00", 2)


# -- the command line ----------------------------------------------------------------


def test_the_clinic_closure_and_clinician_commands(
    db_url: str, seoul_clinic_file: Path, tmp_path: Path
) -> None:
    common = ["--db", db_url, "--user", "desk"]
    loaded = run_main(["clinic", "load", str(seoul_clinic_file), *common])
    assert loaded.status == 0, loaded
    assert loaded.out.startswith("clinic version 1 loaded from")
    shown = json.loads(run_main(["clinic", "show", "--json", *common]).out)
    assert (shown["version"], shown["settings"]["timezone"]) == (1, "Asia/Seoul")
    added = run_main(["clinician", "add", "Dr Kim", "--hours", "mon-fri=09:00-13:00", *common])
    assert added.out == "clinician Dr Kim added (mon-fri=09:00-13:00, capacity 1)\n"
    people = json.loads(run_main(["clinician", "list", "--json", *common]).out)
    assert [p["name"] for p in people] == ["Dr Kim"]
    closed = run_main(
        ["closure", "add", "2099-01-05", "--to", "2099-01-06", "--reason", "burst pipe", *common]
    )
    assert closed.status == 0, closed
    assert closed.out.splitlines() == [
        "closure 1 added: Mon 2099-01-05 to Tue 2099-01-06 (burst pipe)",
        "No open visit is affected.",
    ]
    listed = json.loads(run_main(["closure", "list", "--json", *common]).out)
    assert [(c["first_day"], c["reason"]) for c in listed] == [("2099-01-05", "burst pipe")]
    removed = run_main(["closure", "remove", "1", *common])
    assert removed.out.startswith("closure 1 removed")
    bad = run_main(["closure", "add", "2099-01-06", "--to", "2099-01-05", *common])
    assert (bad.status, bad.err.strip()) == (
        2,
        "visitplan: closure: Mon 2099-01-05 is before Tue 2099-01-06",
    )
    unknown = run_main(["closure", "remove", "7", *common])
    assert (unknown.status, unknown.err.strip()) == (2, "visitplan: unknown closure id 7")
    assert run_main(["clinic", "load", str(_utc_file(tmp_path)), *common]).status == 0
