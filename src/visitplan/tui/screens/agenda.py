"""Agenda, the home screen: the day's (or week's) visits in time order, of everyone
or of one clinician, with cancelled visits shown on request."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static
from textual.worker import get_current_worker

from visitplan.records.views import VISIT_STATUSES, VisitView
from visitplan.tui.screens.base import deliver, deliver_latest
from visitplan.tui.screens.visit_actions import VISIT_BINDINGS, VisitActions
from visitplan.tui.widgets.footer import Footer
from visitplan.tui.widgets.row_list import RowList
from visitplan.tui.widgets.visits import patient_text, visit_note, visit_status
from visitplan.tui.wording import day_text

EMPTY_DATABASE = (
    "No patients yet. To start: F3 (Patients), then ctrl+n to add a patient and e to "
    "enroll them; or run `visitplan demo` in a shell for a made-up clinic to explore."
)

COLUMNS = ("Time", "Patient", "Visit", "Status", "Clinician")
# At 80 columns the clinician goes to the detail line under the list.
OPTIONAL = (4,)
# Seconds between showing a day and reading the days either side: time enough to
# paint it, well before a person presses [ or ].
NEIGHBOURS_AFTER = 0.1


@dataclass(frozen=True, slots=True)
class AgendaQuery:
    """What the agenda asks the records for: to tell a late answer from a current one."""

    first: dt.date
    days: int
    clinician: str | None
    cancelled: bool


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


class AgendaScreen(VisitActions):
    TITLE = "Agenda"
    BINDINGS = [  # noqa: RUF012
        Binding("left_square_bracket", "step(-1)", "Prev", key_display="[", tooltip="Previous day"),
        Binding("right_square_bracket", "step(1)", "Next", key_display="]", tooltip="Next day"),
        Binding("t", "today", "Today"),
        Binding("g", "go_to", "Date", tooltip="Go to a date"),
        *VISIT_BINDINGS,
        Binding("o", "open_patient", "Patient", tooltip="Open the visit's patient"),
        Binding("w", "week", "Week", tooltip="The whole week, or one day again"),
        Binding("c", "clinician", "Clinician", tooltip="Whose visits: one clinician or everyone"),
        Binding("s", "status", "Status", tooltip="Only one status, each in turn, then all"),
        Binding(
            "X",
            "show_cancelled",
            "Show cancelled",
            key_display="X",
            tooltip="Show cancelled visits too (dimmed), or hide them",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.day = dt.date(2000, 1, 1)
        self.week = False
        self.clinician: str | None = None  # None: everyone
        self.status: str | None = None  # None: every status
        self.cancelled = False  # cancelled visits shown (dimmed)
        self.read: list[VisitView] = []  # as read, before the status filter
        self.rows: list[VisitView] = []
        # The (first day, days) whose visits ``rows`` hold; None until the first load.
        self.shown_span: tuple[dt.date, int] | None = None
        self._shown_for: AgendaQuery | None = None
        # Why the day shown is closed, as the records said at its last read (None: open);
        # before that read, the calendar the app started with answers.
        self._closed_on: tuple[dt.date, str | None] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="agenda-title", markup=False)
        yield RowList(COLUMNS, optional=OPTIONAL, id="agenda")
        yield Static(id="agenda-empty", markup=False)
        yield Static(id="agenda-detail", classes="visit-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.day = self.vp.today()
        self._columns()  # the first load comes with the screen's resume event
        self.query_one(RowList).focus()

    def _columns(self) -> None:
        rows = self.query_one(RowList)
        if self.week:
            rows.columns, rows.optional = ("Day", *COLUMNS), tuple(i + 1 for i in OPTIONAL)
        else:
            rows.columns, rows.optional = COLUMNS, OPTIONAL

    def span(self) -> tuple[dt.date, int]:
        return (monday_of(self.day), 7) if self.week else (self.day, 1)

    def _wanted(self) -> AgendaQuery:
        return AgendaQuery(*self.span(), self.clinician, self.cancelled)

    def show_day(self, day: dt.date) -> None:
        self.day = day
        self.reload()

    def reload(self) -> None:
        first, days = self.span()
        if self._shown_for is None and days == 1 and self.clinician is None:
            # Read while the app was starting: shown before the first paint, the
            # screen is drawn once, with its visits, rather than empty and again.
            # (An empty day goes the usual way: its hint needs the patient count.)
            ready = self.vp.data.read_already(first)
            if ready:
                self._show(self._wanted(), ready, empty=False)
                return
        if self._shown_for != self._wanted():
            self._paint_title(first, days, None)  # the count follows with the visits
        self._load(self._wanted())

    @work(thread=True, exclusive=True, group="load")
    def _load(self, wanted: AgendaQuery) -> None:
        data = self.vp.data
        rows = list(data.agenda(wanted.first, wanted.days, wanted.clinician, wanted.cancelled))
        empty = not rows and data.patient_count() == 0
        # A closure made since the app started (here or elsewhere) shows in the title.
        closed = data.closed_days(wanted.first, wanted.first) if wanted.days == 1 else None
        deliver_latest(self, self._show, wanted, rows, empty, closed)

    @work(thread=True, exclusive=True, group="ahead")
    def _read_neighbours(self, wanted: AgendaQuery) -> None:
        """Read the days either side, so that [ and ] show them at once."""
        first, days = wanted.first, wanted.days
        # Not during the paint of this day: turning rows into views holds the
        # interpreter lock the paint needs. (Waiting for a refresh is not enough:
        # while the app starts, Textual holds its first paint back past refreshes.)
        time.sleep(NEIGHBOURS_AFTER)
        for other in (first + dt.timedelta(days=days), first - dt.timedelta(days=days)):
            if get_current_worker().is_cancelled:
                return
            self.vp.data.agenda(other, days, wanted.clinician, wanted.cancelled)

    def _paint_title(self, first: dt.date, days: int, count: int | None) -> None:
        if days == 1:
            known = self._closed_on
            if known is not None and known[0] == first:
                why = known[1]
            else:
                why = self.vp.calendar.closed_because(first)
            when = day_text(first) + (f" · closed: {why}" if why else "")
        else:
            last = first + dt.timedelta(days=days - 1)
            when = f"Week of {day_text(first)} to {day_text(last)}"
        if first <= self.vp.today() < first + dt.timedelta(days=days):
            when += " · today"
        if count is not None:
            when += f" · {count} visit{'s' if count != 1 else ''}"
        if self.clinician:
            when += f" · {self.clinician}"
        if self.status:
            when += f" · {self.status} only"
        if self.cancelled:
            when += " · cancelled shown"
        self.query_one("#agenda-title", Static).update(when)

    def _show(
        self,
        wanted: AgendaQuery,
        read: Sequence[VisitView],
        empty: bool,
        closed: Mapping[dt.date, str] | None = None,
    ) -> None:
        if wanted != self._wanted():
            return  # the person has moved on to another day (or filter) meanwhile
        if closed is not None:
            self._closed_on = (wanted.first, closed.get(wanted.first))
        first, days = self.span()
        keep = self.current_visit()
        self.read = list(read)
        self.shown_span = (first, days)
        self._shown_for = wanted
        self.rows = [v for v in self.read if self.status in (None, v.status)]
        lines, notes, dim = [], [], []
        cursor = 0
        for index, visit in enumerate(self.rows):
            cells = [
                f"{visit.start:%H:%M}",
                patient_text(visit),
                visit.label,
                visit_status(visit),
                visit.clinician or "",
            ]
            if self.week:
                cells.insert(0, day_text(visit.start.date()))
            lines.append(cells)
            notes.append(visit_note(visit))
            if visit.status == "cancelled":
                dim.append(index)
            if keep is not None and visit.id == keep.id:
                cursor = index
        self.query_one(RowList).set_rows(lines, cursor, notes=notes, dim=dim)
        self._paint_title(first, days, len(self.rows))
        hint = ""
        if empty:
            hint = EMPTY_DATABASE
        elif not self.rows:
            hint = "No visits. [ and ] change the day, g goes to a date, F4 shows the month."
            if self.clinician or self.status:
                hint = "No visits that match: c and s choose whose visits and which are shown."
        note = self.query_one("#agenda-empty", Static)
        note.update(hint)
        note.display = bool(hint)
        self._describe()
        self._read_neighbours(wanted)

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

    def action_clinician(self) -> None:
        self._choose_clinician()

    @work(thread=True, exclusive=True, group="clinicians")
    def _choose_clinician(self) -> None:
        names = list(self.vp.data.clinicians())
        deliver(self, self._ask_clinician, names)

    def _ask_clinician(self, names: list[str]) -> None:
        from visitplan.tui.screens.choose import Choice, ChoiceScreen

        if not self.is_current:
            return  # the person has gone elsewhere while the names were read
        choices: list[tuple[str, str | None]] = [("Everyone", None)]
        choices += [(name, name) for name in names]

        def chosen(choice: Choice[str | None] | None) -> None:
            if choice is not None:
                self.clinician = choice.value
                self.reload()

        heading = "Whose visits? (matched as written on each course)"
        self.app.push_screen(ChoiceScreen(heading, choices, self.clinician), chosen)

    def action_status(self) -> None:
        """Every status in turn, then all of them again."""
        statuses = [s for s in VISIT_STATUSES if self.cancelled or s != "cancelled"]
        order: list[str | None] = [None, *statuses]
        self.status = order[(order.index(self.status) + 1) % len(order)]
        if self._shown_for == self._wanted():
            self._show(self._wanted(), self.read, empty=False)
        else:
            self.reload()

    def action_show_cancelled(self) -> None:
        self.cancelled = not self.cancelled
        if not self.cancelled and self.status == "cancelled":
            self.status = None
        self.reload()

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        self.action_open_patient()
