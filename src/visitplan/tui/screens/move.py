"""Moving a visit: a date and time typed, or one of the nearest free times the records
offer (inside the window first, each marked) picked from a list to fill them. The
check is the records' move run as a dry run, whichever way the time was given."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Label, OptionList
from textual.widgets.option_list import Option

from visitplan.errors import InputError
from visitplan.tui.screens.base import deliver
from visitplan.tui.screens.forms import VisitForm, change_summary
from visitplan.tui.wording import BOOK_ANYWAY, moment_text, visit_name

if TYPE_CHECKING:
    from visitplan.domain.free_times import FreeTime

# How many free times are offered: fewer on a short terminal, so that the form's
# check and buttons stay on screen at 80x24.
FREE_TIMES = 5
FREE_TIMES_SHORT = 3
SHORT = 30  # terminal lines


def free_time_text(free: FreeTime) -> str:
    return f"{moment_text(free.start)} · {free.describe()}"


class MoveScreen(VisitForm):
    heading = "Move"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.free: list[FreeTime] = []

    def extra(self) -> ComposeResult:
        yield Label("Free times, nearest first (enter fills in the date and time):")
        yield OptionList(id="free-times", compact=True, markup=False)
        yield Checkbox(BOOK_ANYWAY, id="force", tooltip="outside its window or on a closed day")

    def on_mount(self) -> None:
        # (VisitForm's on_mount focuses the date and runs the first check.)
        self.query_one(".dialog").add_class("-scrolls")
        self._fit()
        self.query_one(OptionList).add_option(Option("… asking the records", disabled=True))
        short = self.app.size.height < SHORT
        self._read_free_times(FREE_TIMES_SHORT if short else FREE_TIMES)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Never over the header and footer: a long check (a course's worth of visits
        moving along) scrolls the form instead."""
        self.query_one(".dialog").styles.max_height = max(self.app.size.height - 2, 8)

    @work(thread=True, exclusive=True, group="free-times")
    def _read_free_times(self, count: int) -> None:
        try:
            found, problem = list(self.vp.data.free_times(self.visit, count)), None
        except InputError as exc:
            found, problem = [], exc.message
        deliver(self, self._show_free_times, found, problem)

    def _show_free_times(self, found: Sequence[FreeTime], problem: str | None) -> None:
        self.free = list(found)
        times = self.query_one(OptionList)
        times.clear_options()
        if problem is not None or not found:
            times.add_option(Option(problem or "No free time near its window", disabled=True))
            return
        times.add_options(Option(free_time_text(f), id=str(i)) for i, f in enumerate(found))

    @on(OptionList.OptionSelected, "#free-times")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        free = self.free[event.option_index]
        # Filling the fields runs the check, as typing them would.
        self.query_one("#date", Input).value = free.start.date().isoformat()
        self.query_one("#time", Input).value = f"{free.start:%H:%M}"

    def options(self) -> tuple[Hashable, ...]:
        return (self.query_one("#force", Checkbox).value,)

    def ready(self, does: str) -> str:
        return f"ctrl+s books it for {does}"

    def attempt(self, typed: Any, *, dry_run: bool) -> str:
        when, force = typed
        change = self.vp.data.move(self.visit, when, force, dry_run=dry_run)
        if dry_run:
            return change_summary(change)
        return f"Moved {visit_name(self.visit)} to {change_summary(change)}"
