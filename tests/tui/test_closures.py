"""Closing a day from the month view (C): the form lists the visits the closure
affects (the closure run as a dry run) before anything is saved, can book them
again, and the grid then shows the day closed; closures made elsewhere show too."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from tests.support.tui import TuiClinic, settle
from visitplan.tui.app import VisitplanApp
from visitplan.tui.screens.agenda import AgendaScreen
from visitplan.tui.screens.closure import CloseDayScreen
from visitplan.tui.screens.forms import Problems
from visitplan.tui.screens.month import MonthScreen

pytestmark = pytest.mark.anyio

SNOW = dt.date(2026, 12, 21)  # Ben's ESWT 2 at 10:30 and Chloe's ESWT 3 at 14:00


def problems(app: VisitplanApp) -> str:
    return str(app.screen.query_one(Problems).content)


def cell(app: VisitplanApp, day: dt.date) -> str:
    """The day as the month grid draws it (under the form, if one is open)."""
    month = next(s for s in app.screen_stack if isinstance(s, MonthScreen))
    row, column = next((r, week.index(day)) for r, week in enumerate(month.drawn) if day in week)
    return str(month.query_one(DataTable).get_cell_at((row, column)))  # type: ignore[arg-type]


def detail(app: VisitplanApp) -> str:
    return str(app.screen.query_one("#day-detail").content)  # type: ignore[attr-defined]


async def open_form(app: VisitplanApp, pilot: object) -> CloseDayScreen:
    await pilot.press("f4")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    await pilot.press("down", "C")  # type: ignore[attr-defined]  # a week after today
    await settle(pilot)  # type: ignore[arg-type]
    form = app.screen
    assert isinstance(form, CloseDayScreen)
    return form


async def test_the_form_shows_the_affected_visits_and_the_grid_the_closed_day(
    tui_clinic: TuiClinic,
) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        assert form.query_one("#first", Input).value == "2026-12-21"
        assert "✕" not in cell(app, SNOW)
        # The records' own rule: a closure needs a reason.
        assert problems(app) == "✗ Closure: the reason must be 1 to 200 printable characters"
        await pilot.press(*"snow")
        await settle(pilot)
        assert problems(app) == (
            "✓ ctrl+s: closes Mon 2026-12-21; 2 open visits would be left on a closed day "
            "(the worklist shows them):\n"
            "• Mon 2026-12-21 10:30 ESWT 2 of 3 for Ben Sample\n"
            "• Mon 2026-12-21 14:00 ESWT 3 of 3 for Chloe Test"
        )
        with tui_clinic.desk() as desk:
            assert desk.closures() == []  # the check wrote nothing
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MonthScreen)
        assert "✕" in cell(app, SNOW)
        assert "snow" in cell(app, SNOW)
        assert detail(app) == "Mon 2026-12-21: closed: snow; 2 visits"
    with tui_clinic.desk() as desk:
        (closure,) = desk.closures()
        assert (closure.first_day, closure.last_day, closure.reason) == (SNOW, SNOW, "snow")
        assert closure.clinician is None
        # Left where they were, for staff to handle.
        assert [i.reason for i in desk.worklist() if i.visit.start.date() == SNOW] == [
            "closed-day",
            "closed-day",
        ]


async def test_rebooking_moves_them_where_the_check_said(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(app, pilot)
        form.query_one("#reason", Input).value = "burst pipe"
        form.query_one("#rebook", Checkbox).value = True
        await settle(pilot)
        said = problems(app)
        assert said.startswith(
            "✓ ctrl+s: closes Mon 2026-12-21; 2 open visits on a closed day; booked again, "
            "with what follows them:\n"
        )
        promised = [line.removeprefix("• ") for line in said.splitlines()[1:]]
        assert "ESWT 2 of 3 for Ben Sample → Tue 2026-12-22 10:30" in promised
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MonthScreen)
        assert "burst pipe" in cell(app, SNOW)
    with tui_clinic.desk() as desk:
        assert [v for v in desk.visits() if v.start.date() == SNOW] == []
        booked = {
            f"{v.label} for {v.patient_name} → {v.start:%a %Y-%m-%d %H:%M}" for v in desk.visits()
        }
        assert set(promised) <= booked


async def test_a_clinicians_leave_and_closures_made_elsewhere(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        # Another workstation's closure, before this one started.
        desk.add_closure(dt.date(2026, 12, 23), reason="inspection")
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(app, pilot)
        assert "inspection" in cell(app, dt.date(2026, 12, 23))
        form.query_one("#clinician", Select).value = "Dr Lee"
        form.query_one("#reason", Input).value = "conference"
        await settle(pilot)
        assert problems(app).startswith("✓ ctrl+s: closes Mon 2026-12-21 for Dr Lee; 2 open")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MonthScreen)
        # The clinic stays open; the day says who is away.
        assert "✕" not in cell(app, SNOW)
        assert "1 on leave" in cell(app, SNOW)
        assert detail(app) == "Mon 2026-12-21: open; 2 visits; on leave: Dr Lee: conference"
        assert "inspection" in cell(app, dt.date(2026, 12, 23))
        # A closure added at another workstation now shows at the next re-read.
        with tui_clinic.desk() as desk:
            desk.add_closure(dt.date(2026, 12, 22), reason="power cut")
        app.screen.reload()
        await settle(pilot)
        assert "power cut" in cell(app, dt.date(2026, 12, 22))


async def test_a_closure_the_records_refuse_is_said_and_not_saved(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        form.query_one("#reason", Input).value = "snow"
        form.query_one("#last", Input).value = "2026-12-18"
        await settle(pilot)
        assert problems(app) == "✗ Closure: Fri 2026-12-18 is before Mon 2026-12-21"
        form.query_one("#last", Input).value = "2026-12-32"
        await settle(pilot)
        assert problems(app).startswith("✗ To: ")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CloseDayScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MonthScreen)
    with tui_clinic.desk() as desk:
        assert desk.closures() == []


async def test_the_agenda_says_a_day_closed_since_the_app_started(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AgendaScreen)
        screen.show_day(SNOW)
        await settle(pilot)
        assert "closed" not in str(screen.query_one("#agenda-title", Static).content)
        with tui_clinic.desk() as desk:  # another workstation closes the day
            desk.add_closure(SNOW, reason="burst pipe")
        screen.reload()
        await settle(pilot)
        title = str(screen.query_one("#agenda-title", Static).content)
        assert f"{SNOW:%a %Y-%m-%d} · closed: burst pipe" in title
