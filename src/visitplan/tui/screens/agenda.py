"""Agenda, the home screen: the day's (or week's) visits in time order."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static
from textual.worker import get_current_worker

from visitplan.records.views import VisitView
from visitplan.tui.screens.visit_actions import VISIT_BINDINGS, VisitActions
from visitplan.tui.widgets.footer import Footer
from visitplan.tui.widgets.row_list import RowList
from visitplan.tui.widgets.visits import visit_note, visit_status

EMPTY_DATABASE = (
    "No patients yet. To start: F3 (Patients), then ctrl+n to add a patient and e to "
    "enroll them; or run `visitplan demo` in a shell for a made-up clinic to explore."
)


COLUMNS = ("Time", "Patient", "Visit", "Kind", "Status", "Note")
# Seconds between showing a day and reading the days either side: time enough to
# paint it, well before a person presses [ or ].
NEIGHBOURS_AFTER = 0.1


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


class AgendaScreen(VisitActions):
    BINDINGS = [  # noqa: RUF012
        Binding("left_square_bracket", "step(-1)", "Prev", key_display="["),
        Binding("right_square_bracket", "step(1)", "Next", key_display="]"),
        Binding("t", "today", "Today"),
        Binding("g", "go_to", "Date"),
        Binding("w", "week", "Week"),
        *VISIT_BINDINGS,
        Binding("o", "open_patient", "Patient"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.day = dt.date(2000, 1, 1)
        self.week = False
        self.rows: list[VisitView] = []
        # The (first day, days) whose visits ``rows`` hold; None until the first load.
        self.shown_span: tuple[dt.date, int] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="agenda-title")
        yield RowList(COLUMNS, id="agenda")
        yield Static(id="agenda-empty", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.day = self.vp.today()
        self._columns()  # the first load comes with the screen's resume event
        self.query_one(RowList).focus()

    def _columns(self) -> None:
        self.query_one(RowList).columns = ("Day", *COLUMNS) if self.week else COLUMNS

    def span(self) -> tuple[dt.date, int]:
        return (monday_of(self.day), 7) if self.week else (self.day, 1)

    def show_day(self, day: dt.date) -> None:
        self.day = day
        self.reload()

    def reload(self) -> None:
        first, days = self.span()
        if self.shown_span is None and days == 1:
            # Read while the app was starting: shown before the first paint, the
            # screen is drawn once, with its visits, rather than empty and again.
            # (An empty day goes the usual way: its hint needs the patient count.)
            ready = self.vp.data.read_already(first)
            if ready:
                self._show(first, days, ready, empty=False)
                return
        self._paint_title(first, days, None)
        self._load(first, days)

    @work(thread=True, exclusive=True, group="load")
    def _load(self, first: dt.date, days: int) -> None:
        data = self.vp.data
        rows = list(data.agenda(first, days))
        empty = not rows and data.patient_count() == 0
        self.app.call_from_thread(self._show, first, days, rows, empty)

    @work(thread=True, exclusive=True, group="ahead")
    def _read_neighbours(self, first: dt.date, days: int) -> None:
        """Read the days either side, so that [ and ] show them at once."""
        # Not during the paint of this day: turning rows into views holds the
        # interpreter lock the paint needs. (Waiting for a refresh is not enough:
        # while the app starts, Textual holds its first paint back past refreshes.)
        time.sleep(NEIGHBOURS_AFTER)
        for other in (first + dt.timedelta(days=days), first - dt.timedelta(days=days)):
            if get_current_worker().is_cancelled:
                return
            self.vp.data.agenda(other, days)

    def _paint_title(self, first: dt.date, days: int, count: int | None) -> None:
        if days == 1:
            why = self.vp.calendar.closed_because(first)
            when = f"{first:%A %Y-%m-%d}" + (f" · closed: {why}" if why else "")
        else:
            when = f"Week of {first:%a %Y-%m-%d} to {first + dt.timedelta(days=days - 1):%a %m-%d}"
        if first <= self.vp.today() < first + dt.timedelta(days=days):
            when += " · today"
        counted = "" if count is None else f" · {count} visit{'s' if count != 1 else ''}"
        self.query_one("#agenda-title", Static).update(when + counted)

    def _show(self, first: dt.date, days: int, rows: Sequence[VisitView], empty: bool) -> None:
        if (first, days) != self.span():
            return  # the user has moved on to another day meanwhile
        keep = self.current_visit()
        self.rows = list(rows)
        self.shown_span = (first, days)
        lines = []
        cursor = 0
        for index, visit in enumerate(self.rows):
            cells = [
                f"{visit.start:%H:%M}",
                f"{visit.patient_name} · {visit.mrn}",
                visit.label,
                visit.kind,
                visit_status(visit),
                visit_note(visit),
            ]
            if self.week:
                cells.insert(0, f"{visit.start:%a %d}")
            lines.append(cells)
            if keep is not None and visit.id == keep.id:
                cursor = index
        self.query_one(RowList).set_rows(lines, cursor)
        self._paint_title(first, days, len(self.rows))
        hint = ""
        if empty:
            hint = EMPTY_DATABASE
        elif not self.rows:
            hint = "No visits. [ and ] change the day, g goes to a date, F4 shows the month."
        note = self.query_one("#agenda-empty", Static)
        note.update(hint)
        note.display = bool(hint)
        self._read_neighbours(first, days)

    def current_visit(self) -> VisitView | None:
        cursor = self.query_one(RowList).cursor
        return self.rows[cursor] if 0 <= cursor < len(self.rows) else None

    def action_step(self, direction: int) -> None:
        self.show_day(self.day + dt.timedelta(days=7 * direction if self.week else direction))

    def action_today(self) -> None:
        self.show_day(self.vp.today())

    def action_week(self) -> None:
        self.week = not self.week
        self.rows = []
        self._columns()
        self.reload()

    def action_go_to(self) -> None:
        from visitplan.tui.screens.forms import GoToDateScreen

        def chosen(day: dt.date | None) -> None:
            if day is not None:
                self.show_day(day)

        self.app.push_screen(GoToDateScreen(self.day), chosen)

    def action_open_patient(self) -> None:
        visit = self.current_visit()
        if visit is not None:
            self.vp.open_patient(visit.mrn)

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        self.action_open_patient()
