"""The agenda (home screen) against a real SQLite database: days, week, go to date,
and the visit actions that change the records."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import Input

from tests.support.tui import TODAY, TuiClinic, screen_text, settle
from visitplan.tui.screens.agenda import AgendaScreen
from visitplan.tui.screens.forms import (
    ConfirmScreen,
    DoneScreen,
    GoToDateScreen,
    Problems,
)
from visitplan.tui.screens.move import MoveScreen
from visitplan.tui.widgets.row_list import RowList

pytestmark = pytest.mark.anyio


def agenda_rows(app: object) -> list[str]:
    from visitplan.tui.app import VisitplanApp

    assert isinstance(app, VisitplanApp)
    screen = app.screen
    assert isinstance(screen, AgendaScreen)
    return [f"{v.start:%H:%M} {v.mrn} {v.label} {v.status}" for v in screen.rows]


def problems(app: object) -> str:
    """The inline messages of the form on top."""
    from visitplan.tui.app import VisitplanApp

    assert isinstance(app, VisitplanApp)
    return str(app.screen.query_one(Problems).content)


async def test_home_is_todays_agenda_in_time_order(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert agenda_rows(app) == [
            "09:00 P-1001 Session 1 of 6 scheduled",
            "10:30 P-1002 ESWT 1 of 3 scheduled",
            "14:00 P-1003 ESWT 2 of 3 scheduled",
        ]
        text = screen_text(app)
        assert "Mon 2026-12-14 · today · 3 visits" in text
        assert "○ scheduled" in text  # a symbol with the word, not colour alone


async def test_next_previous_today_and_go_to_date(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "Sun 2026-12-13 · closed: closed on Sundays" in screen_text(app)
        await pilot.press("t", "g")
        await settle(pilot)
        field = app.screen.query_one(Input)
        field.value = "2026-02-30"
        await settle(pilot)
        assert problems(app).startswith("✗ '2026-02-30' is not a real date")
        await pilot.press("enter")  # refused: the form stays open
        assert isinstance(app.screen, GoToDateScreen)
        field.value = "2026-12-21"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)
        assert agenda_rows(app) == [
            "10:30 P-1002 ESWT 2 of 3 scheduled",
            "14:00 P-1003 ESWT 3 of 3 scheduled",
        ]


async def test_week_view_lists_the_whole_week_with_its_days(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        text = screen_text(app)
        assert "Week of Mon 2026-12-14 to Sun 2026-12-20" in text
        assert "Mon 2026-12-14  09:00" in text
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert len(agenda_rows(app)) == 2  # P-1002 and P-1003 the week after


async def test_done_from_the_agenda_is_stored(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        app.screen.query_one("#time", Input).value = "09:10"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert agenda_rows(app)[0].endswith("P-1001 Session 1 of 6 completed")
        assert "✓ completed" in screen_text(app)
    with tui_clinic.desk() as desk:
        first = desk.visits(mrn="P-1001")[0]
        assert first.status == "completed"
        assert first.actual is not None
        assert f"{first.actual.astimezone(desk.calendar.tz):%H:%M}" == "09:10"


async def test_no_show_then_rebook_with_move(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "n")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert agenda_rows(app)[1] == "10:30 P-1002 ESWT 1 of 3 missed"
        assert "✗ missed" in screen_text(app)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, MoveScreen)
        app.screen.query_one("#date", Input).value = "2026-12-15"
        app.screen.query_one("#time", Input).value = "11:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)
    with tui_clinic.desk() as desk:
        visits = desk.visits(mrn="P-1002")
        assert desk.patient("P-1002").no_shows == 1
        first = visits[0]
        assert (first.status, f"{first.start:%Y-%m-%d %H:%M}") == ("scheduled", "2026-12-15 11:00")
        actions = [e.action for e in desk.history("P-1002")]
        assert "missed" in " ".join(actions)


async def test_move_carries_the_dependents_along(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        before = {v.key: v.start.date() for v in desk.visits(mrn="P-1002")}
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down", "v")
        await settle(pilot)
        app.screen.query_one("#date", Input).value = "2026-12-15"
        await pilot.press("ctrl+s")
        await settle(pilot)
    with tui_clinic.desk() as desk:
        after = {v.key: v.start.date() for v in desk.visits(mrn="P-1002")}
    assert after["application-1"] == dt.date(2026, 12, 15)
    # Each application is measured from the previous one: the day's delay carries on.
    assert after["application-2"] == before["application-2"] + dt.timedelta(days=1)
    assert after["outcome"] != before["outcome"]


async def test_move_outside_the_window_is_refused_inline_and_nothing_changes(
    tui_clinic: TuiClinic,
) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "v")
        await settle(pilot)
        app.screen.query_one("#date", Input).value = "2026-12-24"
        await settle(pilot)
        # The records' own check, in the form's words: no option names, no visit ids.
        assert problems(app) == (
            "✗ 9 days after its window (Mon 2026-12-14 to Tue 2026-12-15): "
            "tick 'Book anyway as a deviation' to book it anyway"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MoveScreen)  # still open, with the refusal in it
        assert problems(app).startswith("✗ 9 days after its window")
        assert "--" not in problems(app)
    with tui_clinic.desk() as desk:
        first = desk.visits(mrn="P-1002")[0]
        assert (first.start.date(), first.revision) == (TODAY, 1)


async def test_cancel_asks_first_and_then_cancels(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "x")
        await settle(pilot)
        await pilot.press("n")  # thought better of it
        await settle(pilot)
        assert len(agenda_rows(app)) == 3
        await pilot.press("x", "y")
        await settle(pilot)
        # The agenda leaves cancelled visits out.
        assert [r.split()[1] for r in agenda_rows(app)] == ["P-1001", "P-1002"]
    with tui_clinic.desk() as desk:
        statuses = [v.status for v in desk.visits(mrn="P-1003")]
    assert statuses[:2] == ["completed", "cancelled"]


async def test_an_empty_database_says_how_to_start(empty_tui_clinic: TuiClinic) -> None:
    app = empty_tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = " ".join(screen_text(app).split())
        assert "No patients yet" in text
        assert "visitplan demo" in text


async def test_another_workstations_change_appears_without_a_restart(
    tui_clinic: TuiClinic,
) -> None:
    app = tui_clinic.app(refresh_seconds=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert len(agenda_rows(app)) == 3
        with tui_clinic.desk() as other:
            visit = other.visits(mrn="P-1003")[1]
            other.cancel_visit(visit.id)
        for _ in range(30):
            await pilot.pause(0.1)
            await app.workers.wait_for_complete()
            if len(agenda_rows(app)) == 2:
                break
        assert len(agenda_rows(app)) == 2


async def test_every_footer_key_is_in_the_command_palette(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Done", "No-show", "Move", "Cancel", "Date", "Week", "Agenda", "Month"} <= titles
        assert app.screen.query_one(RowList).row_count == 3


async def test_the_day_read_ahead_is_on_the_first_screen_without_asking_again(
    tui_clinic: TuiClinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collections.abc import Sequence

    from visitplan.records.views import VisitView
    from visitplan.tui.app import make_app
    from visitplan.tui.records_adapter import RecordsData

    desk = tui_clinic.desk()
    data = RecordsData(desk)
    data.read_ahead(TODAY).join(timeout=10)
    asked: list[dt.date] = []
    agenda = data.agenda

    def counted(
        first: dt.date, days: int, clinician: str | None = None, cancelled: bool = False
    ) -> Sequence[VisitView]:
        asked.append(first)
        return agenda(first, days, clinician, cancelled)

    monkeypatch.setattr(data, "agenda", counted)
    app = make_app(data, tui_clinic.clinic, tui_clinic.catalog, today=TODAY, refresh_seconds=3600)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert "Mon 2026-12-14 · today · 3 visits" in screen_text(app)
            assert TODAY not in asked  # only the days either side were read
            assert asked
    finally:
        desk.close()


async def test_the_footer_fits_quit_and_the_keys_list_at_80_columns(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert footer.rstrip().endswith("? Keys ^q Quit")
        assert "[ Prev ] Next t Today" in footer
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(app)
        for _ in range(12):  # the list is longer than 24 lines: the rest, scrolled to
            await pilot.press("down", "down", "down")
            await settle(pilot)
            text += screen_text(app)
        # Every key of the agenda, the ones the footer had no room for too.
        for key, what in [("X", "Show cancelled"), ("f4", "Month"), ("c", "clinician")]:
            assert any(key in line and what in line for line in text.splitlines()), (key, text)
        await pilot.press("escape", "f4")
        await settle(pilot)
        assert "Prev month" in screen_text(app).splitlines()[-1]


async def test_the_footer_at_120_columns_is_every_key_in_order(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1].strip()
        assert footer == (
            "[ Prev ] Next t Today g Date d Done n No-show v Move x Cancel u Undo "
            "o Patient w Week c Clinician ? Keys ^q Quit"
        )


async def test_clinician_status_and_cancelled_filters(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        desk.add_patient("P-2001", "Eve Fictional")
        desk.add_clinician("Dr Kim")
        desk.enroll("P-2001", "eswt-plantar-fasciitis", TODAY, dt.time(16, 0), clinician="Dr Kim")
        desk.cancel_visit(desk.visits(mrn="P-1003")[1].id)
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert [r.split()[1] for r in agenda_rows(app)] == ["P-1001", "P-1002", "P-2001"]
        assert "Dr Kim" in screen_text(app)  # the clinician column
        await pilot.press("c")
        await settle(pilot)
        text = screen_text(app)
        assert "Everyone" in text
        assert "Dr Kim" in text
        assert "Dr Lee" in text
        await pilot.press("down", "down", "enter")  # Everyone, Dr Kim, Dr Lee
        await settle(pilot)
        assert [r.split()[1] for r in agenda_rows(app)] == ["P-1001", "P-1002"]
        assert "· 2 visits · Dr Lee" in screen_text(app)
        await pilot.press("X")  # cancelled visits too, dimmed, with the word
        await settle(pilot)
        assert agenda_rows(app)[-1] == "14:00 P-1003 ESWT 2 of 3 cancelled"
        assert "– cancelled" in screen_text(app)
        assert app.screen.query_one(RowList).dim == {2}
        await pilot.press("s")  # scheduled only
        await settle(pilot)
        assert len(agenda_rows(app)) == 2
        assert "scheduled only" in screen_text(app)
        await pilot.press("s", "s", "s")  # completed, missed, cancelled
        await settle(pilot)
        assert agenda_rows(app) == ["14:00 P-1003 ESWT 2 of 3 cancelled"]
        await pilot.press("s")  # every status again
        await settle(pilot)
        assert len(agenda_rows(app)) == 3
        await pilot.press("c", "home", "enter")  # the list opens on Dr Lee; Everyone
        await settle(pilot)
        assert len(agenda_rows(app)) == 4


async def test_why_a_visit_moved_is_shown_whole_under_it(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        visit = desk.visits(mrn="P-1002")[0]
        desk.move_visit(visit.id, dt.datetime(2026, 12, 18, 10, 30), force=True)
    app = tui_clinic.app(today=dt.date(2026, 12, 18))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = " ".join(screen_text(app).split())
        # The stored deviation, whole, on a line of its own (80 columns wrap it).
        assert (
            "↷ booked as a deviation: 3 days after its window (Mon 2026-12-14 to Tue 2026-12-15)"
        ) in text
        assert "⚠ outside its window Mon 2026-12-14 to Tue 2026-12-15" in text
        assert "✓ completed" not in text


async def test_the_move_form_warns_of_a_visit_that_ends_after_closing(
    tui_clinic: TuiClinic,
) -> None:
    """The records check the visit's end: a 45-minute session at 17:30 in a clinic
    that closes at 18:00 is booked with a warning, shown before saving."""
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("v")  # Ada's Session 1 of 6, 45 minutes
        await settle(pilot)
        app.screen.query_one("#time", Input).value = "17:30"
        await settle(pilot)
        assert problems(app) == (
            "✓ ctrl+s books it for Mon 2026-12-14 17:30; "
            "⚠ 17:30 on Mon 2026-12-14 ends at 18:15, after closing (09:00-18:00)"
        )
        app.screen.query_one("#time", Input).value = "17:15"
        await settle(pilot)
        assert problems(app) == "✓ ctrl+s books it for Mon 2026-12-14 17:15"
        app.screen.query_one("#time", Input).value = "17:30"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)
        assert "⚠ 17:30 on Mon 2026-12-14 ends at 18:15, after closing" in screen_text(app)


async def test_done_in_the_future_is_refused_before_saving(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert problems(app) == "✓ ctrl+s records it as done at Mon 2026-12-14 09:00"
        app.screen.query_one("#time", Input).value = "23:00"  # it is 18:00 now
        await settle(pilot)
        assert problems(app) == (
            "✗ Session 1 of 6 for Ada Example: Mon 2026-12-14 23:00 is in the future"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DoneScreen)
    with tui_clinic.desk() as desk:
        assert desk.visits(mrn="P-1001")[0].status == "scheduled"
