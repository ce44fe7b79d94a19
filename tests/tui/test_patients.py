"""Patients, a patient's timeline, adding a patient, enrolling with the live
preview, withdrawal, export and history, on a real SQLite database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from icalendar import Calendar
from textual.widgets import DataTable, Input, Select

from tests.support.tui import TuiClinic, screen_text, settle
from visitplan.tui.app import VisitplanApp
from visitplan.tui.screens.enroll import EnrollScreen
from visitplan.tui.screens.forms import AddPatientScreen, ConfirmScreen, ExportScreen, Problems
from visitplan.tui.screens.history import HistoryScreen
from visitplan.tui.screens.patient import PatientScreen
from visitplan.tui.screens.patients import PatientsScreen
from visitplan.tui.widgets.row_list import RowList

pytestmark = pytest.mark.anyio


def shown(app: VisitplanApp, selector: str) -> str:
    return str(app.screen.query_one(selector).content)  # type: ignore[attr-defined]


def table_column(app: VisitplanApp, selector: str, column: int) -> list[str]:
    widget = app.screen.query_one(selector)
    if isinstance(widget, RowList):
        return [row[column] for row in widget.rows]
    assert isinstance(widget, DataTable)
    return [str(widget.get_row_at(i)[column]) for i in range(widget.row_count)]


async def test_search_as_you_type_by_name_or_mrn(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, PatientsScreen)
        assert table_column(app, "#patients", 0) == ["P-1001", "P-1002", "P-1003", "P-1004"]
        await pilot.press(*"chl")
        await settle(pilot)
        assert table_column(app, "#patients", 0) == ["P-1003"]
        # Progress and where the course stands, in words.
        row = app.screen.query_one(RowList).rows[0]
        assert row[2] == "eswt-plantar-fasciitis"
        assert row[3] == "1 of 4 done"  # three applications and the review
        await pilot.press("backspace", "backspace", "backspace", *"1002")
        await settle(pilot)
        assert table_column(app, "#patients", 0) == ["P-1002"]
        await pilot.press("backspace", *"999")
        await settle(pilot)
        assert "No patient matches '100999'." in shown(app, "#patients-empty")
        await pilot.press("ctrl+a", "ctrl+k", *"ada", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        assert app.screen.mrn == "P-1001"


async def test_flags_say_what_needs_attention(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        visit = desk.visits(mrn="P-1002")[0]
        desk.miss_visit(visit.id)
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        flags = dict(
            zip(table_column(app, "#patients", 0), table_column(app, "#patients", 5), strict=True)
        )
        assert "needs rebooking" in flags["P-1002"]
        # 18:00 now: Ada's 09:00 session was not recorded as done.
        assert "overdue" in flags["P-1001"]
        assert flags["P-1004"] == ""


async def test_add_patient_checks_as_you_type_and_refuses_a_duplicate(
    tui_clinic: TuiClinic,
) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, AddPatientScreen)
        await pilot.press(*"P-1001", "tab", *"Ada Again")
        await settle(pilot)
        # The records' own refusal, from the dry run of adding her.
        assert str(app.screen.query_one(Problems).content) == "✗ MRN 'P-1001' already exists"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AddPatientScreen)  # nothing saved, still open
        app.screen.query_one("#mrn", Input).value = "P 2001"
        app.screen.query_one("#name", Input).value = "Eve Fictional"
        await settle(pilot)
        assert "without spaces" in str(app.screen.query_one(Problems).content)
        app.screen.query_one("#mrn", Input).value = "P-2001"
        app.screen.query_one("#email", Input).value = "eve.example.org"
        await settle(pilot)
        assert "not an e-mail address" in str(app.screen.query_one(Problems).content)
        app.screen.query_one("#email", Input).value = "eve@example.org"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PatientsScreen)
        assert "P-2001" in table_column(app, "#patients", 0)
    with tui_clinic.desk() as desk:
        assert [p.mrn for p in desk.patients()].count("P-2001") == 1
        assert desk.patient("P-2001").email == "eve@example.org"


async def test_enroll_previews_the_course_and_saves_it(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_patient("P-1004")
        await settle(pilot)
        assert "not enrolled yet" in shown(app, "#patient-card")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EnrollScreen)
        app.screen.query_one(Select).value = "dextrose-prolotherapy"
        app.screen.query_one("#start", Input).value = "2026-12-11"
        app.screen.query_one("#time", Input).value = "09:00"
        await settle(pilot)
        dates = table_column(app, "#preview", 1)
        notes = app.screen.query_one("#preview", RowList).notes
        assert len(dates) == 7
        assert dates[0] == "Fri 2026-12-11"
        # Session 2 falls on Christmas Day: the engine moves it (the weekend after
        # is closed too) and says why.
        assert dates[1] == "Thu 2026-12-24"
        assert "↷ moved from Fri 2026-12-25: Christmas Day" in notes[1]
        # An impossible date is shown inline and keeps the last good preview.
        app.screen.query_one("#start", Input).value = "2026-13-01"
        await settle(pilot)
        assert "✗ Start: '2026-13-01' is not a real date" in shown(app, "#enroll-problems")
        assert len(table_column(app, "#preview", 1)) == 7
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EnrollScreen)
        app.screen.query_one("#start", Input).value = "2026-12-11"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        text = screen_text(app)
        assert "dextrose-prolotherapy v1.0" in text
    with tui_clinic.desk() as desk:
        visits = desk.visits(mrn="P-1004")
        assert [f"{v.start:%Y-%m-%d}" for v in visits][:2] == ["2026-12-11", "2026-12-24"]


async def test_enroll_preview_shows_capacity_conflicts(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(EnrollScreen(mrn="P-1004", protocol_id="eswt-plantar-fasciitis"))
        await settle(pilot)
        # Ben's ESWT 1 is at 10:30 today and the clinic treats one patient at a time.
        app.screen.query_one("#time", Input).value = "10:30"
        await settle(pilot)
        first_time = table_column(app, "#preview", 2)[0]
        note = app.screen.query_one("#preview", RowList).notes[0]
        assert first_time != "10:30"
        assert "fully booked" in note


async def test_enroll_names_an_unknown_mrn_and_saves_nothing(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(EnrollScreen())
        await settle(pilot)
        await pilot.press(*"NOPE")
        await settle(pilot)
        assert "no patient 'NOPE'" in shown(app, "#enroll-problems")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EnrollScreen)
    with tui_clinic.desk() as desk:
        assert len(desk.enrollments()) == 3


async def test_timeline_withdraw_history_and_export(tui_clinic: TuiClinic, tmp_path: Path) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_patient("P-1003")
        await settle(pilot)
        labels = table_column(app, "#timeline", 0)
        assert labels[0].startswith("▸ eswt-plantar-fasciitis v1.0")
        statuses = table_column(app, "#timeline", 2)
        assert statuses[1:] == ["✓ completed", "○ scheduled", "○ scheduled", "○ scheduled"]
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        target = tmp_path / "chloe.ics"
        app.screen.query_one("#path", Input).value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        calendar = Calendar.from_ical(target.read_bytes())
        assert len(calendar.walk("VEVENT")) == 4
        await pilot.press("W", "y")
        await settle(pilot)
        statuses = table_column(app, "#timeline", 2)
        assert statuses[0] == "■ withdrawn"
        assert statuses[1:] == ["✓ completed", "– cancelled", "– cancelled", "– cancelled"]
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        history = app.screen.query_one("#history", RowList)
        lines = [f"{row[1]}: {note}" for row, note in zip(history.rows, history.notes, strict=True)]
        # Newest first, as sentences in the clinic's words and time zone.
        assert lines[:4] == [
            "12-week review: cancelled by tester",
            "ESWT 3 of 3: cancelled by tester",
            "ESWT 2 of 3: cancelled by tester",
            "Course eswt-plantar-fasciitis: withdrawn by tester; its open visits were cancelled",
        ]
        assert "ESWT 1 of 3: done at Mon 2026-12-07 14:00, recorded by tester" in lines
        assert any(": enrolled by tester, starting Mon 2026-12-07 at 14:00" in x for x in lines)
        assert history.rows[-1][0] == "Mon 2026-12-14 18:00"  # Seoul time, not UTC
        assert "Patient record: added by tester" in lines
        text = " ".join(lines)
        assert "Chloe" not in text  # names and contact details stay off the history
        assert "010-0000" not in text
        assert "start_at" not in text  # no field names, no ISO times
        assert "T14:00" not in text
    with tui_clinic.desk() as desk:
        assert desk.enrollments("P-1003")[0].status == "withdrawn"


async def test_export_to_a_missing_directory_is_refused_inline(
    tui_clinic: TuiClinic, tmp_path: Path
) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_patient("P-1001")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        app.screen.query_one("#path", Input).value = str(tmp_path / "nowhere" / "x.ics")
        await settle(pilot)
        assert "no folder" in str(app.screen.query_one(Problems).content)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ExportScreen)
    assert not (tmp_path / "nowhere").exists()


async def test_a_stale_change_is_refused_with_the_records_message(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Another workstation moves Ada's session after this screen read it.
        with tui_clinic.desk() as other:
            visit = other.visits(mrn="P-1001")[0]
            other.move_visit(visit.id, dt.datetime(2026, 12, 14, 11, 0))
        await pilot.press("n")
        await settle(pilot)
        # The question's dry run already says so, naming the visit as staff do.
        said = str(app.screen.query_one(Problems).content)
        assert said == (
            "✗ Session 1 of 6 for Ada Example: changed by someone else since you opened it"
        )
        await pilot.press("y")  # refused: nothing to say yes to
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
    with tui_clinic.desk() as desk:
        assert desk.visits(mrn="P-1001")[0].status == "scheduled"
        assert desk.patient("P-1001").no_shows == 0


async def test_a_bare_file_name_is_saved_in_the_documents_folder(
    tui_clinic: TuiClinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started_in = tmp_path / "started-here"
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    (tmp_path / "Documents").mkdir()
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(tmp_path / "Documents"))
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_patient("P-1001")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        app.screen.query_one("#path", Input).value = "ada.ics"
        await settle(pilot)
        said = str(app.screen.query_one(Problems).content)
        assert said == f"✓ ctrl+s saves it as {tmp_path / 'Documents' / 'ada.ics'}"
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert Calendar.from_ical((tmp_path / "Documents" / "ada.ics").read_bytes())
    assert list(started_in.iterdir()) == []


async def test_a_withdrawal_made_by_mistake_is_reinstated(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_patient("P-1003")
        await settle(pilot)
        await pilot.press("R")  # a running course: nothing to reinstate
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        await pilot.press("W", "y")
        await settle(pilot)
        assert table_column(app, "#timeline", 2)[2:] == ["– cancelled"] * 3
        await pilot.press("W")  # already withdrawn: the way back is named
        await settle(pilot)
        assert any("R reinstates it" in str(n.message) for n in app._notifications)
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        said = str(app.screen.query_one(Problems).content)
        assert said.startswith("✓ y reinstates the course"), said
        await pilot.press("y")
        await settle(pilot)
        statuses = table_column(app, "#timeline", 2)
        assert statuses[0] == "■ active"
        assert statuses[1:] == ["✓ completed", "○ scheduled", "○ scheduled", "○ scheduled"]
    with tui_clinic.desk() as desk:
        assert desk.enrollments("P-1003")[0].status == "active"
        assert any(e.action == "reinstated" for e in desk.history("P-1003"))


async def test_a_reinstatement_beside_a_running_course_is_refused(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        course = desk.enrollments("P-1003")[0]
        desk.withdraw(course.id)
        desk.enroll("P-1003", course.protocol_id, course.start)
        before = [(v.id, v.status) for v in desk.visits(mrn="P-1003")]
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_patient("P-1003")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PatientScreen)
        rows = [i for i, line in enumerate(screen.lines) if line[1] is None]
        withdrawn = next(i for i in rows if screen.lines[i][0].status == "withdrawn")
        screen.query_one("#timeline", RowList).cursor = withdrawn
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        said = str(app.screen.query_one(Problems).content)
        assert "already has a running course" in said, said
        assert said.endswith("withdraw that one first to reinstate this one"), said
        assert "course 1" not in said  # no record ids at the desk
        await pilot.press("y")  # refused: the answer changes nothing
        await settle(pilot)
    with tui_clinic.desk() as desk:
        assert [(v.id, v.status) for v in desk.visits(mrn="P-1003")] == before
