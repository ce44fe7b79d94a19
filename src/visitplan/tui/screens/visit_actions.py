"""Done, no-show, move, cancel and undo: the same forms from the agenda, the timeline
and the worklist."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding
from textual.widgets import Static

from visitplan.errors import InputError
from visitplan.records.views import VisitChange, VisitView
from visitplan.tui.screens.base import ClinicScreen, deliver, tell
from visitplan.tui.widgets.row_list import RowList
from visitplan.tui.widgets.visits import visit_detail
from visitplan.tui.wording import visit_name

if TYPE_CHECKING:
    # The forms are imported when first opened, not before the agenda's first paint.
    from visitplan.tui.screens.forms import Outcome

VISIT_BINDINGS = [
    Binding("d", "done", "Done", tooltip="Record the visit as done"),
    Binding("n", "no_show", "No-show", tooltip="The patient did not come"),
    Binding("v", "move", "Move", tooltip="Book at another time (rebooks a no-show)"),
    Binding("x", "cancel_visit", "Cancel", tooltip="Cancel the visit (kept on record)"),
    Binding("u", "undo", "Undo", tooltip="Undo a wrong done, no-show or cancellation"),
]


class VisitActions(ClinicScreen):
    """A screen with a highlighted visit (``current_visit``) that staff act on."""

    def current_visit(self) -> VisitView | None:
        raise NotImplementedError

    def _describe(self) -> None:
        """The highlighted visit in full, on the line under the list (``.visit-detail``)."""
        visit = self.current_visit()
        detail = self.query_one(".visit-detail", Static)
        detail.update(visit_detail(visit) if visit is not None else "")
        detail.display = visit is not None

    def on_row_list_highlighted(self, event: RowList.Highlighted) -> None:
        self._describe()

    def action_open_patient(self) -> None:
        """The highlighted visit's patient (where the screen binds it)."""
        visit = self.current_visit()
        if visit is not None:
            self.vp.open_patient(visit.mrn)

    def _open_visit(self, verb: str) -> VisitView | None:
        # Whether the visit can be changed so is for the records to say: each form
        # and question runs the change as a dry run first and shows their answer.
        visit = self.current_visit()
        if visit is None:
            self.notify(f"Choose a visit to {verb} first", severity="warning")
        return visit

    def _after_form(self, outcome: Outcome | None) -> None:
        if outcome is not None:
            self.notify(outcome.message)  # the screen re-reads as the form closes

    def action_done(self) -> None:
        from visitplan.tui.screens.forms import DoneScreen

        visit = self._open_visit("mark done")
        if visit is not None:
            self.app.push_screen(DoneScreen(visit), self._after_form)

    def action_move(self) -> None:
        from visitplan.tui.screens.move import MoveScreen

        visit = self._open_visit("move")
        if visit is not None:
            self.app.push_screen(MoveScreen(visit), self._after_form)

    def action_no_show(self) -> None:
        from visitplan.tui.screens.forms import confirm_change

        visit = self._open_visit("mark as a no-show")
        if visit is None:
            return
        data = self.vp.data

        def check() -> str:
            data.missed(visit, dry_run=True)
            return "y records the no-show; the visit stays owed (move books it again)"

        confirm_change(
            self,
            f"{visit.patient_name} ({visit.mrn}) did not come to {visit.label}?",
            "No-show",
            check,
            lambda: data.missed(visit),
            f"No-show recorded: {visit_name(visit)}; move (v) books it again",
        )

    def action_cancel_visit(self) -> None:
        from visitplan.tui.screens.forms import confirm_change

        visit = self._open_visit("cancel")
        if visit is None:
            return
        data = self.vp.data

        def check() -> str:
            data.cancel(visit, dry_run=True)
            return "y cancels it; it stays on record, and calendars are told"

        confirm_change(
            self,
            f"Cancel {visit.label} for {visit.patient_name} ({visit.mrn})?",
            "Cancel the visit",
            check,
            lambda: data.cancel(visit),
            f"Cancelled: {visit_name(visit)}",
        )

    def action_undo(self) -> None:
        visit = self._open_visit("undo")
        if visit is not None:
            self._check_undo(visit)

    @work(thread=True, exclusive=True, group="undo")
    def _check_undo(self, visit: VisitView) -> None:
        # The question says what the undo does, so it is asked after the dry run.
        try:
            change = self.vp.data.reopen(visit, dry_run=True)
        except InputError as exc:
            tell(self, exc.message, severity="warning", timeout=8)
            return
        deliver(self, self._ask_undo, visit, change)

    def _ask_undo(self, visit: VisitView, change: VisitChange) -> None:
        from visitplan.tui.screens.undo import UndoScreen, undo_summary

        if not self.is_current:
            return  # the person has gone elsewhere meanwhile
        data = self.vp.data
        done = undo_summary(visit, change).replace(" goes back ", " is back ", 1)

        def answered(yes: bool | None) -> None:
            if yes:
                self.change(lambda: data.reopen(visit), f"Undone: {done}")

        self.app.push_screen(UndoScreen(visit, change), answered)
