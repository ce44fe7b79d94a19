"""The month grid (counts, closed days, holidays by name) and the protocol browser."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import OptionList

from tests.support.tui import TuiClinic, screen_text, settle
from visitplan.domain.protocol import course_in_words
from visitplan.tui.screens.agenda import AgendaScreen
from visitplan.tui.screens.enroll import EnrollScreen
from visitplan.tui.screens.month import MonthScreen
from visitplan.tui.screens.protocols import ProtocolsScreen
from visitplan.tui.widgets.row_list import RowList

pytestmark = pytest.mark.anyio


async def test_month_counts_visits_and_names_closed_days(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MonthScreen)
        assert screen.counts[dt.date(2026, 12, 14)] == 3
        assert "December 2026" in screen_text(app)
        detail = str(screen.query_one("#day-detail").content)  # type: ignore[attr-defined]
        assert detail == "Mon 2026-12-14: open; 3 visits"
        # Down one week and across to Friday: Christmas Day, named.
        await pilot.press("down", "right", "right", "right", "right")
        await settle(pilot)
        detail = str(screen.query_one("#day-detail").content)  # type: ignore[attr-defined]
        assert detail == "Fri 2026-12-25: closed: Christmas Day; 0 visits"
        assert "25 ✕" in screen_text(app)  # the holiday named in the cell, wrapped
        assert "Christmas" in screen_text(app)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "January 2027" in screen_text(app)
        await pilot.press("t", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)
        assert app.screen.day == dt.date(2026, 12, 21)
        assert len(app.screen.rows) == 2


async def test_protocols_read_in_words_and_enroll_from_there(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, ProtocolsScreen)
        options = app.screen.query_one(OptionList)
        assert options.option_count == len(tui_clinic.catalog.ids)
        shown = str(app.screen.query_one("#protocol-text").content)  # type: ignore[attr-defined]
        course = course_in_words(tui_clinic.catalog.get("dextrose-prolotherapy").protocol)
        assert all(f"• {line}" in shown for line in course)
        assert "Source: Yoon Y" in shown
        await pilot.press("down")
        await settle(pilot)
        text = " ".join(screen_text(app).split())
        assert "Focused shock wave therapy" in text
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EnrollScreen)
        assert app.screen.protocol_id == "eswt-plantar-fasciitis"
        assert app.screen.query_one("#preview", RowList).row_count == 4
