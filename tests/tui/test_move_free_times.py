"""The move form offers the nearest free times from the records (its window's first,
each marked); picking one fills the date and time, and the check and the save are
the records' move, as when they are typed. A no-show whose window has passed is
booked again without the "book anyway" tick."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, Input, OptionList

from tests.support.tui import TuiClinic, settle
from visitplan.tui.app import VisitplanApp
from visitplan.tui.screens.agenda import AgendaScreen
from visitplan.tui.screens.forms import Problems
from visitplan.tui.screens.move import MoveScreen, free_time_text
from visitplan.tui.screens.patient import PatientScreen

pytestmark = pytest.mark.anyio


def offered(app: VisitplanApp) -> list[str]:
    times = app.screen.query_one("#free-times", OptionList)
    return [str(times.get_option_at_index(i).prompt) for i in range(times.option_count)]


def problems(app: VisitplanApp) -> str:
    return str(app.screen.query_one(Problems).content)


async def pick(app: VisitplanApp, pilot: object, index: int) -> None:
    times = app.screen.query_one("#free-times", OptionList)
    times.focus()
    times.highlighted = index
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


async def test_picking_a_free_time_then_saving_moves_the_visit_there(
    tui_clinic: TuiClinic,
) -> None:
    with tui_clinic.desk() as desk:
        ben = desk.visits(mrn="P-1002")[0]  # ESWT 1 today at 10:30, window to Tuesday
        _, expected = desk.free_times(ben.id, 3)
    assert len(expected) == 3
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "v")
        await settle(pilot)
        assert isinstance(app.screen, MoveScreen)
        # Three at 80x24, as the records list them; their start at 10:30 has passed.
        assert offered(app) == [free_time_text(f) for f in expected]
        assert offered(app)[0] == "Tue 2026-12-15 10:30 · in the window"
        await pick(app, pilot, 1)
        chosen = expected[1]
        assert app.screen.query_one("#date", Input).value == chosen.start.date().isoformat()
        assert app.screen.query_one("#time", Input).value == f"{chosen.start:%H:%M}"
        assert problems(app).startswith(f"✓ ctrl+s books it for {chosen.start:%a %Y-%m-%d %H:%M}")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)
    with tui_clinic.desk() as desk:
        moved = desk.visits(mrn="P-1002")[0]
        assert moved.start == chosen.start
        assert moved.pinned
        assert moved.deviation is None


async def test_a_no_show_after_its_window_is_booked_again_without_the_tick(
    tui_clinic: TuiClinic,
) -> None:
    with tui_clinic.desk() as desk:
        first = desk.visits(mrn="P-1003")[0]  # ESWT 1 on Mon 2026-12-07, window to Tuesday
        desk.reopen_visit(first.id)
        desk.miss_visit(first.id)
        _, expected = desk.free_times(first.id, 5)
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_patient("P-1003")
        await settle(pilot)
        await pilot.press("home", "down", "v")  # ESWT 1, the no-show
        await settle(pilot)
        assert isinstance(app.screen, MoveScreen)
        assert offered(app) == [free_time_text(f) for f in expected]
        assert all(text.endswith("7 days after the window") for text in offered(app))
        await pick(app, pilot, 0)
        assert not app.screen.query_one("#force", Checkbox).value
        assert problems(app).startswith(
            "✓ ctrl+s books it for Tue 2026-12-15 14:00 (rebooked after the no-show of "
            "Mon 2026-12-07), as a deviation: 7 days after its window"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
    with tui_clinic.desk() as desk:
        rebooked = desk.visits(mrn="P-1003")[0]
        assert (rebooked.status, rebooked.start) == ("scheduled", expected[0].start)
        assert rebooked.deviation is not None
        assert "after its window" in rebooked.deviation
