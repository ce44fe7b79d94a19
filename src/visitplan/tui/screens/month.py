"""Month: a grid of days with their visit counts; closed days and holidays named."""

from __future__ import annotations

import calendar
import datetime as dt

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Header, Static
from textual.worker import get_current_worker

from visitplan.tui.screens.base import ClinicScreen, deliver_latest
from visitplan.tui.widgets.footer import Footer
from visitplan.tui.widgets.row_list import wrap
from visitplan.tui.wording import day_text

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Seven columns of at least this width (plus padding) fit an 80-column terminal;
# wider terminals get wider days, so that holiday names are not cut.
_CELL = 9
_PADDING = 2  # DataTable's cell padding, both sides together
_LINES = (3, 4)  # lines a day may take: the day, its visits, why it is closed


def cell_size(width: int, height: int, weeks: int) -> tuple[int, int]:
    """The width and the lines of a day's cell that fill ``width`` x ``height``."""
    cell = max(_CELL, (width - 1) // 7 - _PADDING)
    lines = max(_LINES[0], min(_LINES[1], (height - 1) // max(1, weeks)))
    return cell, lines


def month_weeks(year: int, month: int) -> list[list[dt.date]]:
    return calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


class MonthScreen(ClinicScreen):
    TITLE = "Month"
    BINDINGS = [  # noqa: RUF012
        Binding("enter", "open_day", "Open day"),
        Binding("pageup,[", "month(-1)", "Prev month", key_display="["),
        Binding("pagedown,]", "month(1)", "Next month", key_display="]"),
        Binding("t", "this_month", "Today"),
        Binding("C", "close_day", "Close day", key_display="C"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.first = dt.date(2000, 1, 1)
        self.weeks: list[list[dt.date]] = []
        self.counts: dict[dt.date, int] = {}
        # Why each closed day is closed, and who is on leave, as the records say (a
        # closure added at any workstation); None until read, the launch calendar then.
        self.closed: dict[dt.date, str] | None = None
        self.away: dict[dt.date, tuple[str, ...]] = {}
        self.wanted: dt.date | None = None
        # The first day of the grid whose counts are shown; None until the first load.
        self.counted_from: dt.date | None = None
        # The weeks as drawn: they lag ``weeks`` while a new month's counts load.
        self.drawn: list[list[dt.date]] = []
        self.cell = (_CELL, _LINES[0])

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="month-title")
        yield DataTable[Text](id="month-grid", cursor_type="cell", zebra_stripes=False)
        yield Static(id="day-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        grid = self.query_one(DataTable)
        self._add_columns()
        grid.focus()
        self.show_month(self.vp.today())

    def _add_columns(self) -> None:
        grid = self.query_one(DataTable)
        for name in _WEEKDAYS:
            grid.add_column(name, width=self.cell[0])

    def on_resize(self, event: events.Resize) -> None:
        grid = self.query_one(DataTable)
        # The grid's height: the screen less the header, title, detail and footer.
        size = cell_size(event.size.width, event.size.height - 4, len(self.weeks) or 6)
        if size != self.cell:
            self.cell = size
            if self.drawn:
                self.wanted = self._day_at(grid.cursor_coordinate)
            grid.clear(columns=True)
            self._add_columns()
            if self.drawn:
                self.paint()

    def show_month(self, day: dt.date) -> None:
        self.first = day.replace(day=1)
        self.wanted = day
        self.weeks = month_weeks(self.first.year, self.first.month)
        if not self.drawn:
            self.counts = {}
            self.paint()  # the grid at once; the counts follow
        # Otherwise the old month stays until the new one's counts are in (usually
        # read ahead already), so that the grid is drawn once per keypress.
        self.reload()

    def reload(self) -> None:
        if self.weeks:
            self._load(self.first, self.weeks[0][0], self.weeks[-1][-1])

    @work(thread=True, exclusive=True, group="load")
    def _load(self, month: dt.date, first: dt.date, last: dt.date) -> None:
        data = self.vp.data
        counts = data.day_counts(first, last)
        closed, away = data.closed_days(first, last), data.leave(first, last)
        deliver_latest(self, self._loaded, first, counts, closed, away)
        # Read the months either side now, so that [ and ] show them at once.
        for step in (1, -1):
            if get_current_worker().is_cancelled:
                return
            other = add_months(month, step)
            weeks = month_weeks(other.year, other.month)
            data.day_counts(weeks[0][0], weeks[-1][-1])

    def _loaded(
        self,
        first: dt.date,
        counts: dict[dt.date, int],
        closed: dict[dt.date, str],
        away: dict[dt.date, tuple[str, ...]],
    ) -> None:
        if not self.weeks or first != self.weeks[0][0]:
            return  # another month was asked for meanwhile
        self.counted_from = first
        known = (counts, closed, away)
        if known != (self.counts, self.closed, self.away) or self.drawn != self.weeks:
            self.counts, self.closed, self.away = known
            self.paint()

    def _closed_because(self, day: dt.date) -> str | None:
        if self.closed is not None and self.counted_from == (self.drawn or self.weeks)[0][0]:
            return self.closed.get(day)
        return self.vp.calendar.closed_because(day)

    def paint(self) -> None:
        self.drawn = self.weeks
        self.query_one("#month-title", Static).update(f"{self.first:%B %Y}")
        grid = self.query_one(DataTable)
        cursor = grid.cursor_coordinate
        grid.clear()
        for week in self.weeks:
            grid.add_row(*(self._cell(day) for day in week), height=self.cell[1])
        target = self.wanted
        self.wanted = None
        if target is not None:
            cursor = self._coordinate(target)
        grid.cursor_coordinate = cursor
        self._describe(cursor)

    def _cell(self, day: dt.date) -> Text:
        """The day, its visits, and why it is closed, wrapped over the lines the cell
        has (cut only where the cell has no more room; the line under the grid gives
        the whole name)."""
        width, height = self.cell
        why = self._closed_because(day)
        count = self.counts.get(day, 0)
        today = day == self.vp.today()
        first = f"{day.day:>2}" + (" today" if today else "") + (" ✕" if why else "")
        lines = [Text(first, style="bold" if today else "")]
        if count:
            lines.append(Text(f"{count} visit{'s' if count != 1 else ''}"))
        away = len(self.away.get(day, ()))
        if away and why is None and len(lines) < height:
            lines.append(Text(f"{away} on leave", style="dim"))
        if why is not None:
            holiday = not why.startswith("closed on")
            parts = wrap(why if holiday else "closed", width)
            room = max(1, height - len(lines))
            if len(parts) > room:
                parts = [*parts[: room - 1], " ".join(parts[room - 1 :])]
            style = "italic" if holiday else "dim"
            lines += [Text(part, style=style) for part in parts]
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        text = Text("\n").join(lines)
        if day.month != self.first.month:
            text.stylize("dim")
        return text

    def _coordinate(self, day: dt.date) -> Coordinate:
        for row, week in enumerate(self.weeks):
            if day in week:
                return Coordinate(row, week.index(day))
        return Coordinate(0, 0)

    def _day_at(self, coordinate: Coordinate) -> dt.date:
        return self.drawn[coordinate.row][coordinate.column]

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._describe(event.coordinate)

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        self.vp.open_day(self._day_at(event.coordinate))

    def _describe(self, coordinate: Coordinate) -> None:
        if not self.drawn:
            return
        day = self._day_at(coordinate)
        why = self._closed_because(day)
        count = self.counts.get(day, 0)
        state = f"closed: {why}" if why else "open"
        away = "".join(f"; on leave: {who}" for who in self.away.get(day, ()))
        self.query_one("#day-detail", Static).update(
            f"{day_text(day)}: {state}; {count} visit{'s' if count != 1 else ''}{away}"
        )

    def action_open_day(self) -> None:
        self.vp.open_day(self._day_at(self.query_one(DataTable).cursor_coordinate))

    def action_month(self, step: int) -> None:
        current = self._day_at(self.query_one(DataTable).cursor_coordinate)
        target = add_months(self.first, step)
        self.show_month(target.replace(day=min(current.day, 28)))

    def action_this_month(self) -> None:
        self.show_month(self.vp.today())

    def action_close_day(self) -> None:
        from visitplan.tui.screens.closure import CloseDayScreen
        from visitplan.tui.screens.forms import Outcome

        def closed(outcome: Outcome | None) -> None:
            if outcome is not None:
                self.notify(outcome.message)  # the grid re-reads as the form closes

        day = self._day_at(self.query_one(DataTable).cursor_coordinate)
        self.app.push_screen(CloseDayScreen(day), closed)
