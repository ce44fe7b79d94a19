"""Every screen as a picture, at 80x24 and at 120x40, from a fixed database and a
frozen today. Update on purpose with `pytest tests/tui --snapshot-update`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.support.tui import TuiClinic, settle
from visitplan.tui.app import VisitplanApp
from visitplan.tui.screens.enroll import EnrollScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def steps(
    *keys: str, then: Callable[[VisitplanApp], None] | None = None
) -> Callable[[Pilot[None]], object]:
    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        assert isinstance(pilot.app, VisitplanApp)
        if then is not None:
            then(pilot.app)
            await settle(pilot)
        # A blinking cursor would make the picture depend on the moment it is taken.
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    return run


def enroll_ben(app: VisitplanApp) -> None:
    app.push_screen(EnrollScreen(mrn="P-1004", protocol_id="dextrose-prolotherapy"))


def open_chloe(app: VisitplanApp) -> None:
    app.open_patient("P-1003")


SCREENS: dict[str, tuple[Iterable[str], Callable[[VisitplanApp], None] | None]] = {
    "agenda": ((), None),
    "agenda-week": (("w",), None),
    "patients": (("f3",), None),
    "patient": ((), open_chloe),
    "enroll": ((), enroll_ben),
    "month": (("f4",), None),
    "protocols": (("f5",), None),
    "move-form": (("down", "v"), None),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_snapshot(
    screen: str, size: tuple[int, int], tui_clinic: TuiClinic, snap_compare: Callable[..., bool]
) -> None:
    keys, then = SCREENS[screen]
    assert snap_compare(tui_clinic.app(), terminal_size=size, run_before=steps(*keys, then=then))


@pytest.mark.parametrize("size", SIZES)
def test_empty_database_snapshot(
    size: tuple[int, int], empty_tui_clinic: TuiClinic, snap_compare: Callable[..., bool]
) -> None:
    assert snap_compare(empty_tui_clinic.app(), terminal_size=size, run_before=steps())
