"""Each F-key area keeps to itself: what it opens closes back into it, its F-key
shows its own screen, and a form is never left with an F-key. And an unexpected
error ends the app with a report that holds no patient data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.support.tui import TuiClinic, screen_text, settle
from visitplan.tui.screens.agenda import AgendaScreen
from visitplan.tui.screens.month import MonthScreen
from visitplan.tui.screens.move import MoveScreen
from visitplan.tui.screens.patient import PatientScreen
from visitplan.tui.screens.patients import PatientsScreen

pytestmark = pytest.mark.anyio


def stack_names(app: object) -> list[str]:
    from visitplan.tui.app import VisitplanApp

    assert isinstance(app, VisitplanApp)
    return [type(s).__name__ for s in app.screen_stack]


async def test_a_patient_opened_from_the_agenda_closes_back_into_it(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert stack_names(app) == ["AgendaScreen", "PatientScreen"]
        await pilot.press("escape")  # crashed with NoScreen before
        await settle(pilot)
        assert stack_names(app) == ["AgendaScreen"]
        assert "Mon 2026-12-14 · today · 3 visits" in screen_text(app)
        await pilot.press("o", "f3")
        await settle(pilot)
        assert app.current_mode == "patients"
        assert stack_names(app) == ["PatientsScreen"]
        await pilot.press("f2")
        await settle(pilot)
        # The agenda, as it was left: not the patient opened on it before F3.
        assert stack_names(app) == ["AgendaScreen"]
        assert isinstance(app.screen, AgendaScreen)
        assert app.screen.day == dt.date(2026, 12, 14)


async def test_a_patient_opened_from_the_list_closes_back_into_the_list(
    tui_clinic: TuiClinic,
) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press(*"chl", "enter")
        await settle(pilot)
        assert stack_names(app) == ["PatientsScreen", "PatientScreen"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PatientsScreen)
        assert [row[0] for row in app.screen.query_one("#patients").rows] == ["P-1003"]  # type: ignore[attr-defined]


async def test_enter_on_a_day_of_the_month_shows_that_day_and_esc_does_not_leave_it(
    tui_clinic: TuiClinic,
) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("o", "f4")  # a patient left open on the agenda
        await settle(pilot)
        assert isinstance(app.screen, MonthScreen)
        await pilot.press("down", "enter")  # Mon 2026-12-21
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)
        assert app.screen.day == dt.date(2026, 12, 21)
        await pilot.press("escape")  # nothing to close: the day stays
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)
        assert app.screen.day == dt.date(2026, 12, 21)
        assert "Mon 2026-12-21" in screen_text(app)


async def test_f_keys_do_not_leave_a_form(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "Patients" not in footer  # not offered
        await pilot.press("f3", "f4")
        await settle(pilot)
        assert isinstance(app.screen, MoveScreen)
        assert app.current_mode == "agenda"
        await pilot.press("escape", "f3")
        await settle(pilot)
        assert isinstance(app.screen, PatientsScreen)


async def test_a_screen_closed_while_it_reads_is_not_painted(tui_clinic: TuiClinic) -> None:
    """Esc pressed before the patient's read came back: the read is dropped."""
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(5):
            await pilot.press("o", "escape", "o", "f3", "f2")
        await settle(pilot)
        assert stack_names(app) == ["AgendaScreen"]
        assert app.return_code is None


async def test_an_unexpected_error_writes_a_report_without_patient_data(
    tui_clinic: TuiClinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    def broken(screen: PatientScreen) -> None:
        # Local variables and the message must not reach the report. (The report
        # quotes each frame's line of source: code, which names no one.)
        name, mrn = "Chloe Test", "P-1003"
        raise ValueError(f"cannot export {name} {mrn}")

    monkeypatch.setattr(PatientScreen, "action_export", broken)
    app = tui_clinic.app()

    async def export_from_chloes_screen() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            app.open_patient("P-1003")
            await settle(pilot)
            await pilot.press("i")
            await settle(pilot)

    with pytest.raises(ValueError, match="cannot export"):  # run_test re-raises it
        await export_from_chloes_screen()
    assert app.return_code == 1
    assert app.crash_report is not None
    assert app.crash_report.parent == tmp_path / "state" / "visitplan"
    report = app.crash_report.read_text(encoding="utf-8")
    assert "builtins.ValueError" in report
    assert "in broken" in report
    assert "screens: AgendaScreen > PatientScreen" in report
    assert "Chloe" not in report
    assert "P-1003" not in report
    assert app.crash_text is not None
    assert str(app.crash_report) in app.crash_text
    assert "Chloe" not in app.crash_text
