"""Patients: search as you type by name or MRN; where each stands in their course."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Key
from textual.widgets import Header, Input, Static

from visitplan.records.views import PatientMatch
from visitplan.tui.screens.agenda import EMPTY_DATABASE
from visitplan.tui.screens.base import ClinicScreen, deliver_latest
from visitplan.tui.screens.forms import AddPatientScreen, Outcome
from visitplan.tui.widgets.footer import Footer
from visitplan.tui.widgets.row_list import RowList
from visitplan.tui.wording import moment_text

# Enough to fill a tall terminal; typing more narrows it.
SHOWN = 60


def patient_line(row: PatientMatch) -> tuple[str, ...]:
    course = row.progress
    if course is None:
        return (row.mrn, row.name, "—", "—", "—", "")
    return (
        row.mrn,
        row.name,
        course.protocol_id,
        f"{course.done} of {course.total} done" if course.total else "—",
        moment_text(course.next_visit) if course.next_visit else "—",
        " ".join(f"⚠ {flag}" for flag in course.flags),
    )


class PatientsScreen(ClinicScreen):
    TITLE = "Patients"
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+n", "add", "Add patient", priority=True),
        Binding("ctrl+f", "search", "Search"),
        Binding("ctrl+o", "open", "Open"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[PatientMatch] = []
        # The search whose results ``rows`` hold; None until the first load.
        self.shown_text: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        search = Input(placeholder="name or MRN; ↓ to the list, enter opens", id="search")
        search.border_title = "Search"
        yield search
        yield RowList(
            ("MRN", "Name", "Protocol", "Progress", "Next visit", "Flags"),
            optional=(2,),
            id="patients",
        )
        yield Static(id="patients-empty", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def reload(self) -> None:
        self._load(self.query_one(Input).value.strip())

    @on(Input.Changed, "#search")
    def _typed(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="load")
    def _load(self, text: str) -> None:
        data = self.vp.data
        rows = list(data.search_patients(text, SHOWN))
        empty = not rows and not text and data.patient_count() == 0
        deliver_latest(self, self._show, text, rows, empty)

    def _show(self, text: str, rows: Sequence[PatientMatch], empty: bool) -> None:
        if text != self.query_one(Input).value.strip():
            return  # typed on meanwhile; a newer search is coming
        keep = self.current_mrn()
        self.rows = list(rows)
        self.shown_text = text
        lines = [patient_line(row) for row in self.rows]
        cursor = next((i for i, row in enumerate(self.rows) if row.mrn == keep), 0)
        self.query_one(RowList).set_rows(lines, cursor)
        hint = EMPTY_DATABASE if empty else ("" if rows else f"No patient matches {text!r}.")
        if len(rows) == SHOWN:
            hint = f"The first {SHOWN} matches are shown; type more of a name or MRN to narrow."
        note = self.query_one("#patients-empty", Static)
        note.update(hint)
        note.display = bool(hint)

    def current_mrn(self) -> str | None:
        cursor = self.query_one(RowList).cursor
        return self.rows[cursor].mrn if 0 <= cursor < len(self.rows) else None

    def on_key(self, event: Key) -> None:
        if event.key == "down" and self.query_one(Input).has_focus:
            self.query_one(RowList).focus()
            event.stop()

    @on(Input.Submitted, "#search")
    def action_open(self) -> None:
        mrn = self.current_mrn()
        if mrn is not None:
            self.vp.open_patient(mrn)

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        self.action_open()

    def action_search(self) -> None:
        self.query_one(Input).focus()

    def action_add(self) -> None:
        def added(outcome: Outcome | None) -> None:
            if outcome is not None:
                self.notify(outcome.message)  # the list re-reads as the form closes

        self.app.push_screen(AddPatientScreen(), added)
