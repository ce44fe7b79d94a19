"""Undo (u) on a visit: the records' own reopen runs as a dry run first; what it will
do is the question (y or enter does it, esc leaves everything as it was), and a
refusal is said in the TUI's words (visits by patient and label, never ids)."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import Static

from tests.support.tui import TuiClinic, screen_text, settle
from visitplan.tui.app import VisitplanApp
from visitplan.tui.screens.agenda import AgendaScreen
from visitplan.tui.screens.patient import PatientScreen
from visitplan.tui.screens.undo import UndoScreen

pytestmark = pytest.mark.anyio


def notified(app: VisitplanApp) -> list[str]:
    return [n.message for n in app._notifications]


def does(app: VisitplanApp) -> str:
    return str(app.screen.query_one("#undo-does", Static).content)


def chloe_done_a_day_late(clinic: TuiClinic) -> None:
    """Chloe's ESWT 1 recorded as done on Tuesday instead of Monday: her later
    visits were re-planned from the wrong day."""
    with clinic.desk() as desk:
        first = desk.visits(mrn="P-1003")[0]
        desk.reopen_visit(first.id)
        desk.complete_visit(first.id, dt.datetime(2026, 12, 8, 14, 0))
        assert desk.visits(mrn="P-1003")[1].start.date() == dt.date(2026, 12, 15)


async def test_undo_confirmed_puts_the_visit_and_its_followers_back(
    tui_clinic: TuiClinic,
) -> None:
    chloe_done_a_day_late(tui_clinic)
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_patient("P-1003")
        await settle(pilot)
        await pilot.press("up")  # from ESWT 2 (the first open visit) to ESWT 1
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UndoScreen)
        assert does(app) == (
            "ESWT 1 of 3 for Chloe Test goes back to scheduled at Mon 2026-12-07 14:00; "
            "ESWT 2 of 3 (Mon 2026-12-14 14:00), ESWT 3 of 3 (Mon 2026-12-21 14:00) and "
            "12-week review (Mon 2027-03-15 14:00) follow"
        )
        with tui_clinic.desk() as desk:  # the question wrote nothing
            assert desk.visits(mrn="P-1003")[0].status == "completed"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        assert any(
            m.startswith("Undone: ESWT 1 of 3 for Chloe Test is back") for m in notified(app)
        )
        row = next(line for line in screen_text(app).splitlines() if "ESWT 1 of 3  " in line)
        assert "Mon 2026-12-07 14:00" in row
        assert "○ scheduled" in row
    with tui_clinic.desk() as desk:
        visits = desk.visits(mrn="P-1003")
        assert visits[0].status == "scheduled"
        assert visits[0].start == dt.datetime(2026, 12, 7, 14, 0, tzinfo=visits[0].start.tzinfo)
        assert visits[1].start.date() == dt.date(2026, 12, 14)
        reopened = [e for e in desk.history("P-1003") if e.action == "reopened"]
        assert reopened[-1].who == "tester"


async def test_undo_cancelled_with_esc_or_n_writes_nothing(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        ben = desk.visits(mrn="P-1002")[0]
        desk.miss_visit(ben.id)
        before = desk.visits(mrn="P-1002")[0]
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down")  # Ben's ESWT 1 at 10:30
        for answer in ("escape", "n"):
            await pilot.press("u")
            await settle(pilot)
            assert isinstance(app.screen, UndoScreen)
            assert str(app.screen.query_one(".question").content) == (
                "Undo the no-show of ESWT 1 of 3 for Ben Sample (P-1002)?"
            )
            assert does(app) == (
                "ESWT 1 of 3 for Ben Sample goes back to scheduled at Mon 2026-12-14 10:30"
            )
            await pilot.press(answer)
            await settle(pilot)
            assert isinstance(app.screen, AgendaScreen)
    with tui_clinic.desk() as desk:
        after = desk.visits(mrn="P-1002")[0]
        assert (after.status, after.revision) == ("missed", before.revision)
        assert desk.patient("P-1002").no_shows == 1


async def test_a_refused_undo_says_why_in_the_desks_words(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        chloe = desk.enrollments("P-1003")[0]
        desk.withdraw(chloe.id)
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("u")  # Ada's Session 1: still scheduled
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)
        app.open_patient("P-1003")
        await settle(pilot)
        await pilot.press("home", "down", "u")  # ESWT 1, done, in a withdrawn course
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
    said = notified(app)
    assert said == [
        "Session 1 of 6 for Ada Example is scheduled: there is no done, no-show or "
        "cancellation to undo",
        "ESWT 1 of 3 for Chloe Test: its course is withdrawn, so its visits stay as they "
        "are until the course is reinstated",
    ]
    for message in said:
        assert "--" not in message
        assert not any(ch.isdigit() for ch in message.replace("1 of 6", "").replace("1 of 3", ""))
    with tui_clinic.desk() as desk:
        assert desk.visits(mrn="P-1001")[0].status == "scheduled"
        assert desk.visits(mrn="P-1003")[0].status == "completed"
