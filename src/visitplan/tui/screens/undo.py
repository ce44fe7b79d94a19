"""Undo (u): a wrong done, no-show or cancellation put right. The question is asked
only once the records' own undo, run as a dry run, has said what it will do; y (or
enter) does it, n or esc leaves everything as it was."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from visitplan.records.views import VisitChange, VisitView
from visitplan.tui.screens.base import Modal
from visitplan.tui.wording import moment_text, visit_name, with_weekdays

OUTCOMES = {"completed": "done", "missed": "no-show", "cancelled": "cancellation"}


def undo_question(visit: VisitView) -> str:
    what = OUTCOMES.get(visit.status, visit.status)
    return f"Undo the {what} of {visit_name(visit)} ({visit.mrn})?"


def undo_summary(visit: VisitView, change: VisitChange) -> str:
    """What the undo will do (or did), from its dry run."""
    text = f"{visit_name(visit)} goes back to scheduled at {moment_text(change.visit.start)}"
    if change.moved:
        followers = [f"{m.label} ({moment_text(m.start)})" for m in change.moved]
        both = ", ".join(followers[:-1]) + " and " + followers[-1]
        text += f"; {followers[0]} follows" if len(followers) == 1 else f"; {both} follow"
    for placed in change.left:
        text += f"; {placed.label} stays where it was placed by hand"
    for warning in change.warnings or change.visit.warnings:
        text += f"; ⚠ {with_weekdays(warning)}"
    return text


class UndoScreen(Modal[bool]):
    """Dismissed with True (undo it) or False/None (leave it)."""

    BINDINGS = [  # noqa: RUF012
        Binding("y", "answer(True)", "Undo"),
        Binding("n", "answer(False)", "Keep"),
    ]
    HOLDS_INPUT = False  # a question: an F-key closes it, answering no

    def __init__(self, visit: VisitView, change: VisitChange) -> None:
        super().__init__()
        self.visit = visit
        self.change = change

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(undo_question(self.visit), classes="question")
            yield Static(undo_summary(self.visit, self.change), id="undo-does", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Undo (y)", id="yes", variant="primary")
                yield Button("Keep it (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()  # enter says yes

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
