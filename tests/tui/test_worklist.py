"""The worklist (F6): what the records' worklist holds, one row per visit with its
patient, label, time, why in words and what to do; the visit actions work from a
row and the list re-reads after each; an empty worklist says so."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import OptionList

from tests.support.tui import TuiClinic, screen_text, settle
from visitplan.tui.app import VisitplanApp
from visitplan.tui.screens.forms import ConfirmScreen, DoneScreen
from visitplan.tui.screens.move import MoveScreen
from visitplan.tui.screens.patient import PatientScreen
from visitplan.tui.screens.undo import UndoScreen
from visitplan.tui.screens.worklist import NOTHING, REASONS, WorklistScreen
from visitplan.tui.widgets.row_list import RowList

pytestmark = pytest.mark.anyio

OVERDUE = "Its time has passed: d records it as done, n as a no-show"
OWED = "A no-show: v books it again, x cancels it"


def rows(app: VisitplanApp) -> list[tuple[str, ...]]:
    """The worklist's rows as (time, patient, visit, why) and the note under each."""
    screen = app.screen
    assert isinstance(screen, WorklistScreen)
    listed = screen.query_one(RowList)
    return [(*cells, note) for cells, note in zip(listed.rows, listed.notes, strict=True)]


async def open_worklist(app: VisitplanApp, pilot: object) -> None:
    await settle(pilot)  # type: ignore[arg-type]
    await pilot.press("f6")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, WorklistScreen)


async def press(pilot: object, *keys: str) -> None:
    await pilot.press(*keys)  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


async def test_rows_and_the_visit_actions_from_a_row(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_worklist(app, pilot)
        # Today's three visits are over at 18:00 and have no outcome.
        assert rows(app) == [
            ("Mon 2026-12-14 09:00", "Ada Example · P-1001", "Session 1 of 6", "overdue", OVERDUE),
            ("Mon 2026-12-14 10:30", "Ben Sample · P-1002", "ESWT 1 of 3", "overdue", OVERDUE),
            ("Mon 2026-12-14 14:00", "Chloe Test · P-1003", "ESWT 2 of 3", "overdue", OVERDUE),
        ]
        text = screen_text(app)
        assert "3 visits need someone" in text
        # The ? list has F6 among the keys (the footer at 80 columns has no room).
        await press(pilot, "question_mark")
        keys = ""
        for _ in range(12):  # scrolled down through the list
            keys += screen_text(app)
            await press(pilot, "down", "down", "down")
        assert any("f6" in line and "Worklist" in line for line in keys.splitlines())
        await press(pilot, "escape")
        # Ben did not come: n, y. The list re-reads: he is owed a visit now.
        await press(pilot, "down", "n")
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "y")
        assert rows(app)[1] == (
            "Mon 2026-12-14 10:30",
            "Ben Sample · P-1002",
            "ESWT 1 of 3",
            "no-show, owed",
            OWED,
        )
        assert app.screen.query_one(RowList).cursor == 1  # still on his row
        # That was a mistake: u undoes it, asked first.
        await press(pilot, "u")
        assert isinstance(app.screen, UndoScreen)
        await press(pilot, "y")
        assert rows(app)[1][3] == "overdue"
        # He came after all, but the time is to be rebooked: v, a free time, ctrl+s.
        await press(pilot, "v")
        assert isinstance(app.screen, MoveScreen)
        times = app.screen.query_one("#free-times", OptionList)
        times.focus()
        times.highlighted = 0
        await press(pilot, "enter")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, WorklistScreen)
        assert [r[1] for r in rows(app)] == ["Ada Example · P-1001", "Chloe Test · P-1003"]
        # Ada's session happened as booked: d, ctrl+s.
        await press(pilot, "home", "d")
        assert isinstance(app.screen, DoneScreen)
        await press(pilot, "ctrl+s")
        assert [r[1] for r in rows(app)] == ["Chloe Test · P-1003"]
        # o (or enter) opens the patient, in the worklist's own area; esc comes back.
        await press(pilot, "o")
        assert isinstance(app.screen, PatientScreen)
        assert app.current_mode == "worklist"
        await press(pilot, "escape")
        assert isinstance(app.screen, WorklistScreen)
        # x cancels it, asked first; then nothing is left, and the list says so.
        await press(pilot, "x", "y")
        assert rows(app) == []
        assert NOTHING.split(":")[0] in screen_text(app)
    with tui_clinic.desk() as desk:
        ben = desk.visits(mrn="P-1002")[0]
        assert (ben.status, ben.start.date()) == ("scheduled", dt.date(2026, 12, 15))
        assert desk.visits(mrn="P-1001")[0].status == "completed"
        assert desk.visits(mrn="P-1003")[1].status == "cancelled"
        assert desk.worklist() == []


async def test_every_reason_in_words_and_an_empty_worklist(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        for mrn in ("P-1001", "P-1002"):
            visit = next(v for v in desk.visits(mrn=mrn) if v.is_open)
            desk.complete_visit(visit.id, visit.start)
        chloe = desk.visits(mrn="P-1003")[1]
        desk.miss_visit(chloe.id)
        desk.add_closure(dt.date(2026, 12, 21), dt.date(2026, 12, 21), "snow", None)
        ada = desk.visits(mrn="P-1001")[1]
        desk.move_visit(ada.id, dt.datetime(2027, 1, 4, 9, 0), force=True)
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_worklist(app, pilot)
        found = {(r[1].split(" · ")[1], r[2]): (r[0], r[3], r[4]) for r in rows(app)}
        assert found[("P-1003", "ESWT 2 of 3")] == ("Mon 2026-12-14 14:00", "no-show, owed", OWED)
        assert found[("P-1002", "ESWT 2 of 3")] == (
            "Mon 2026-12-21 10:30",
            "closed day",
            "The clinic (or its clinician) is closed that day: v moves it to an open day",
        )
        assert found[("P-1001", "Session 2 of 6")][:2] == ("Mon 2027-01-04 09:00", "placed far off")
        # Every visit and none other: what the records' worklist holds.
        with tui_clinic.desk() as desk:
            expected = {(i.visit.mrn, i.visit.label) for i in desk.worklist()}
        assert set(found) == expected
        for _, why, todo in found.values():
            assert why in REASONS.values()
            assert "--" not in todo
            assert "visitplan" not in todo
        assert len(found) == len(rows(app))
    with tui_clinic.desk() as desk:
        for item in desk.worklist():
            desk.cancel_visit(item.visit.id)
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_worklist(app, pilot)
        assert rows(app) == []
        text = " ".join(screen_text(app).split())
        assert NOTHING in text
        assert "Time Patient Visit Why" in text  # the list is there, only empty


async def test_a_long_worklist_shows_its_oldest_rows_and_says_how_many(
    tui_clinic: TuiClinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from visitplan.tui.screens import worklist

    monkeypatch.setattr(worklist, "SHOWN", 2)  # (1,000 in use)
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_worklist(app, pilot)
        assert [r[1] for r in rows(app)] == ["Ada Example · P-1001", "Ben Sample · P-1002"]
        assert "3 visits need someone (the first 2 shown, oldest first)" in screen_text(app)
