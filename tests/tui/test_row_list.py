"""The fast table the agenda and the patient list are drawn with."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from tests.support.tui import screen_text
from visitplan.tui.widgets.row_list import RowList

pytestmark = pytest.mark.anyio


class OneList(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[int] = []

    def compose(self) -> ComposeResult:
        yield RowList(("Time", "Patient"))

    def on_mount(self) -> None:
        rows = [
            (f"{9 + n // 4:02d}:{n % 4 * 15:02d}", f"Patient {n} · MRN-{n:03d}") for n in range(50)
        ]
        self.query_one(RowList).set_rows(rows)
        self.query_one(RowList).focus()

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        self.selected.append(event.index)


async def test_keys_move_the_cursor_and_keep_it_in_view() -> None:
    app = OneList()
    async with app.run_test(size=(40, 10)) as pilot:
        rows = app.query_one(RowList)
        text = screen_text(app)
        assert text.splitlines()[0].split() == ["Time", "Patient"]
        assert "Patient 0 · MRN-000" in text
        await pilot.press("down", "down", "enter")
        assert app.selected == [2]
        await pilot.press("end")
        await pilot.pause()
        assert rows.cursor == 49
        assert "Patient 49 · MRN-049" in screen_text(app)
        assert "Patient 0 · MRN-000" not in screen_text(app)
        await pilot.press("home", "pagedown")
        assert rows.cursor == 8  # one screen down: 10 lines less the header and one of context
        await pilot.press("up")
        assert rows.cursor == 7


async def test_a_double_click_selects_the_row_under_the_mouse() -> None:
    app = OneList()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.click(RowList, offset=(3, 4), times=2)
        await pilot.pause()
        assert app.query_one(RowList).cursor == 3
        assert app.selected == [3]


async def test_no_rows_is_just_the_header() -> None:
    app = OneList()
    async with app.run_test(size=(40, 10)) as pilot:
        rows = app.query_one(RowList)
        rows.set_rows([])
        await pilot.press("down", "enter")
        assert rows.row_count == 0
        assert app.selected == []
        assert screen_text(app).split() == ["Time", "Patient"]
