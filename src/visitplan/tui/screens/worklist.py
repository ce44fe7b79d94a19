"""Worklist (F6): every visit that needs someone, as the records find them (overdue,
a no-show still owed, on a closed day, outside hours or its window, an e-mail that
failed), each with what to do, and the visit actions to do it from the row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from visitplan.records.views import VisitView
from visitplan.tui.screens.base import deliver_latest
from visitplan.tui.screens.visit_actions import VISIT_BINDINGS, VisitActions
from visitplan.tui.widgets.footer import Footer
from visitplan.tui.widgets.row_list import RowList
from visitplan.tui.widgets.visits import patient_text
from visitplan.tui.wording import moment_text, with_weekdays

if TYPE_CHECKING:
    from visitplan.records.worklist import WorkItem

COLUMNS = ("Time", "Patient", "Visit", "Why")

# The records' reasons, in the front desk's words.
REASONS = {
    "overdue": "overdue",
    "owed": "no-show, owed",
    "out-of-window": "outside window",
    "closed-day": "closed day",
    "outside-hours": "outside hours",
    "pinned-far": "placed far off",
    "message-failed": "e-mail failed",
}
# What to do, with this screen's keys.
TODO = {
    "overdue": "Its time has passed: d records it as done, n as a no-show",
    "owed": "A no-show: v books it again, x cancels it",
    "out-of-window": "Outside its window: v moves it into the window, or keep it as a deviation",
    "closed-day": "The clinic (or its clinician) is closed that day: v moves it to an open day",
    "outside-hours": "It runs outside opening hours: v moves it to another time",
    "pinned-far": "Placed by hand, now outside its window: v moves it, or keep it as a deviation",
    "message-failed": "An e-mail to the patient about it was refused: o opens the patient (E "
    "corrects their address), or tell them another way",
}
# Rows shown at most: a database whose courses were entered after the fact without
# their outcomes has tens of thousands (63,359 in the 10,000-patient benchmark).
SHOWN = 1000
NOTHING = (
    "Nothing needs anyone: every visit whose time has passed has an outcome, every open "
    "one is in its window on an open day, and no e-mail to a patient has failed."
)


def todo(item: WorkItem) -> str:
    said = TODO.get(item.reason, item.todo)
    if item.detail:  # what the mail server said (never the address)
        said += f" (the mail server said: {with_weekdays(item.detail)})"
    return said


class WorklistScreen(VisitActions):
    TITLE = "Worklist"
    BINDINGS = [  # noqa: RUF012
        *VISIT_BINDINGS,
        Binding("o", "open_patient", "Patient", tooltip="Open the visit's patient"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[WorkItem] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="worklist-title", markup=False)
        yield RowList(COLUMNS, id="worklist")
        yield Static(id="worklist-empty", markup=False)
        yield Static(id="worklist-detail", classes="visit-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#worklist-title", Static).update("… reading the worklist")
        self.query_one("#worklist-empty", Static).display = False
        self.query_one(RowList).focus()  # the first load comes with the resume event

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        head = self.vp.data.worklist(SHOWN)
        items = head.items
        # The rows' words are made here, off the UI thread.
        rows = [
            (moment_text(i.visit.start), patient_text(i.visit), i.visit.label, REASONS[i.reason])
            for i in items
        ]
        deliver_latest(self, self._show, items, rows, [todo(i) for i in items], head.total)

    def _show(
        self,
        items: Sequence[WorkItem],
        rows: Sequence[tuple[str, ...]],
        notes: Sequence[str],
        count: int,
    ) -> None:
        cursor = self._keep(self._item(), items)
        self.items = list(items)
        self.query_one(RowList).set_rows(rows, cursor, notes=notes)
        title = f"{count} visit{'s' if count != 1 else ''} need{'s' if count == 1 else ''} someone"
        if count > len(items):
            title += f" (the first {len(items)} shown, oldest first)"
        self.query_one("#worklist-title", Static).update(title if count else "Nothing to do")
        empty = self.query_one("#worklist-empty", Static)
        empty.update(NOTHING if not count else "")
        empty.display = not count
        self._describe()

    def _keep(self, current: WorkItem | None, items: Sequence[WorkItem]) -> int:
        """Where the cursor goes as the list is read again: the same visit (its reason
        may have changed: a no-show now owed), else the row that took its place."""
        if current is None:
            return 0
        same = [i for i, item in enumerate(items) if item.visit.id == current.visit.id]
        exact = [i for i in same if items[i].reason == current.reason]
        fallback = min(self.query_one(RowList).cursor, len(items) - 1)
        return (exact or same or [max(fallback, 0)])[0]

    def _item(self) -> WorkItem | None:
        cursor = self.query_one(RowList).cursor
        return self.items[cursor] if 0 <= cursor < len(self.items) else None

    def current_visit(self) -> VisitView | None:
        item = self._item()
        return item.visit if item is not None else None

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        self.action_open_patient()
