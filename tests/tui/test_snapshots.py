"""Every screen as a picture, at 80x24 and at 120x40, from a fixed database and a
frozen today. Update on purpose with `pytest tests/tui --snapshot-update`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input

from tests.support.tui import TuiClinic, mail_ada, settle
from visitplan.tui.app import VisitplanApp
from visitplan.tui.screens.enroll import EnrollScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


Step = Callable[[VisitplanApp], None]


def steps(
    *keys: str, first: Step | None = None, then: Step | None = None
) -> Callable[[Pilot[None]], object]:
    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        assert isinstance(pilot.app, VisitplanApp)
        if first is not None:
            first(pilot.app)
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


def enroll_dan(app: VisitplanApp) -> None:
    app.push_screen(EnrollScreen(mrn="P-1004", protocol_id="dextrose-prolotherapy"))


def enroll_chloe_again(app: VisitplanApp) -> None:
    # Chloe's ESWT course is running: the form offers a second one with a tick.
    app.push_screen(EnrollScreen(mrn="P-1003", protocol_id="eswt-plantar-fasciitis"))


def tick_rebook(app: VisitplanApp) -> None:
    app.screen.query_one("#rebook", Checkbox).value = True


def open_chloe(app: VisitplanApp) -> None:
    app.open_patient("P-1003")


def move_out_of_window(app: VisitplanApp) -> None:
    app.screen.query_one("#date", Input).value = "2026-12-24"


# name: (done first, keys, done after the keys)
SCREENS: dict[str, tuple[Step | None, Iterable[str], Step | None]] = {
    "agenda": (None, (), None),
    "agenda-week": (None, ("w",), None),
    "agenda-cancelled-shown": (None, ("down", "down", "x", "y", "X"), None),
    "agenda-keys": (None, ("question_mark",), None),
    "agenda-clinician": (None, ("c",), None),
    "go-to-date": (None, ("g",), None),
    "move-form": (None, ("down", "v"), None),
    "move-refused": (None, ("down", "v"), move_out_of_window),
    "done-form": (None, ("d",), None),
    "no-show-question": (None, ("n",), None),
    "patients": (None, ("f3",), None),
    "add-patient": (None, ("f3", "ctrl+n"), None),
    "patient": (open_chloe, (), None),
    "history": (open_chloe, ("h",), None),
    "edit-patient": (open_chloe, ("E",), None),
    "undo-question": (open_chloe, ("up", "u"), None),
    "export": (open_chloe, ("i",), None),
    "enroll": (enroll_dan, (), None),
    "enroll-another": (enroll_chloe_again, (), None),
    "month": (None, ("f4",), None),
    "close-day": (None, ("f4", "down", "C", *"snow"), None),
    "close-day-rebook": (None, ("f4", "down", "C", *"snow"), tick_rebook),
    "protocols": (None, ("f5",), None),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_snapshot(
    screen: str,
    size: tuple[int, int],
    tui_clinic: TuiClinic,
    snap_compare: Callable[..., bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, keys, then = SCREENS[screen]
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", "/home/frontdesk/Documents")
    assert snap_compare(
        tui_clinic.app(), terminal_size=size, run_before=steps(*keys, first=first, then=then)
    )


@pytest.mark.parametrize("size", SIZES)
def test_empty_database_snapshot(
    size: tuple[int, int], empty_tui_clinic: TuiClinic, snap_compare: Callable[..., bool]
) -> None:
    assert snap_compare(empty_tui_clinic.app(), terminal_size=size, run_before=steps())


def every_reason(clinic: TuiClinic) -> None:
    """A worklist with a row of each kind the test clinic can have."""
    with clinic.desk() as desk:
        desk.miss_visit(desk.visits(mrn="P-1002")[0].id)
        desk.add_closure(dt.date(2026, 12, 21), dt.date(2026, 12, 21), "snow", None)
        chloe = desk.visits(mrn="P-1003")[3]
        desk.move_visit(chloe.id, dt.datetime(2027, 4, 5, 14, 0), force=True)
        mail_ada(desk)


def nothing_to_do(clinic: TuiClinic) -> None:
    with clinic.desk() as desk:
        for visit in desk.visits(since=dt.date(2026, 12, 14), until=dt.date(2026, 12, 14)):
            desk.complete_visit(visit.id, visit.start)


def mail_and_move(clinic: TuiClinic) -> None:
    """Ada's invitations sent (one refused), then her Session 3 moved: an update owed."""
    with clinic.desk() as desk:
        mail_ada(desk)
        third = desk.visits(mrn="P-1001")[2]
        desk.move_visit(third.id, third.start + dt.timedelta(days=1))


def open_ada(app: VisitplanApp) -> None:
    app.open_patient("P-1001")


# name: (what the records hold first, done first in the app, keys)
PREPARED: dict[str, tuple[Callable[[TuiClinic], None], Step | None, Iterable[str]]] = {
    "worklist": (every_reason, None, ("f6",)),
    "worklist-empty": (nothing_to_do, None, ("f6",)),
    "patient-messages": (mail_and_move, open_ada, ()),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(PREPARED))
def test_prepared_snapshot(
    name: str, size: tuple[int, int], tui_clinic: TuiClinic, snap_compare: Callable[..., bool]
) -> None:
    prepare, first, keys = PREPARED[name]
    prepare(tui_clinic)
    run = steps(*keys, first=first)
    assert snap_compare(tui_clinic.app(), terminal_size=size, run_before=run)
