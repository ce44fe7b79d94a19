"""Patient: each enrollment as a timeline of its visits; act on a visit, enroll,
withdraw, export the patient's calendar, read the history."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from visitplan.records.views import PatientView, VisitView
from visitplan.tui.data import EnrollmentCard, ExportChoice, PatientCard
from visitplan.tui.message_words import consent_text, message_line
from visitplan.tui.screens.base import deliver, deliver_latest, tell
from visitplan.tui.screens.forms import confirm_change
from visitplan.tui.screens.visit_actions import VISIT_BINDINGS, VisitActions
from visitplan.tui.widgets.footer import Footer
from visitplan.tui.widgets.row_list import RowList
from visitplan.tui.widgets.visits import visit_note, visit_status
from visitplan.tui.wording import day_text, moment_text, window_text

COLUMNS = ("Visit", "Scheduled", "Status", "Window")
OPTIONAL = (3,)  # at 80 columns the window is on the detail line


def enrollment_heading(card: EnrollmentCard) -> tuple[str, ...]:
    """The course's own row above its visits, spread over the timeline's columns."""
    return (
        f"▸ {card.protocol_id} v{card.protocol_version}",
        f"from {day_text(card.start)} {card.time:%H:%M}",
        f"■ {card.status}",
        f"{card.done} of {card.total} done",
    )


def enrollment_note(card: EnrollmentCard) -> str:
    parts = [card.protocol_title, card.clinician or "no clinician named"]
    if card.newer_version:
        parts.append(f"⚠ a newer version {card.newer_version} of the protocol exists")
    return " · ".join(parts)


class PatientScreen(VisitActions):
    TITLE = "Patient"
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Back"),
        *VISIT_BINDINGS,
        Binding("e", "enroll", "Enroll"),
        Binding("W", "withdraw", "Withdraw", key_display="W"),
        Binding(
            "R",
            "reinstate",
            "Reinstate",
            key_display="R",
            show=False,  # offered where it applies: on a withdrawn course
            tooltip="Reinstate a withdrawn course: the visits it cancelled are owed again",
        ),
        Binding("i", "export", "Export .ics"),
        Binding("h", "history", "History"),
        Binding("E", "edit_patient", "Edit patient", key_display="E"),
    ]

    def __init__(self, mrn: str) -> None:
        super().__init__()
        self.mrn = mrn
        self.card: PatientCard | None = None
        # One entry per table row: the enrollment it belongs to and its visit (None
        # for the enrollment's heading row).
        self.lines: list[tuple[EnrollmentCard, VisitView | None]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="patient-card", markup=False)
        yield RowList(COLUMNS, optional=OPTIONAL, id="timeline")
        yield Static(id="patient-messages", markup=False)
        yield Static(id="patient-detail", classes="visit-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Patient {self.mrn}"
        self.query_one("#patient-messages", Static).display = False  # until read
        # The first load comes with the screen's resume event.
        self.query_one(RowList).focus()

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        card = self.vp.data.patient(self.mrn)
        deliver_latest(self, self._show, card)

    def _show(self, card: PatientCard | None) -> None:
        header = self.query_one("#patient-card", Static)
        if card is None:
            header.update(f"No patient with MRN {self.mrn!r} (removed or never added).")
            return
        self.card = card
        contact = " · ".join(x for x in (card.phone, card.email) if x)
        no_shows = f" · {card.no_shows} no-show{'s' if card.no_shows != 1 else ''}"
        start = "" if card.enrollments else " · not enrolled yet: e enrolls in a protocol"
        header.update(
            f"{card.name} · MRN {card.mrn}"
            + (f" · {contact}" if contact else "")
            + no_shows
            + f" · {consent_text(card.notify)}"
            + start
        )
        self._show_messages(card)
        timeline = self.query_one(RowList)
        first_load = not self.lines
        self.lines = []
        cells: list[tuple[str, ...]] = []
        notes: list[str] = []
        dim: list[int] = []
        for enrollment in card.enrollments:
            cells.append(enrollment_heading(enrollment))
            notes.append(enrollment_note(enrollment))
            self.lines.append((enrollment, None))
            for visit in enrollment.visits:
                if visit.status == "cancelled":
                    dim.append(len(cells))
                cells.append(
                    (
                        f"  {visit.label}",
                        moment_text(visit.start),
                        visit_status(visit),
                        window_text(visit),
                    )
                )
                notes.append(visit_note(visit))
                self.lines.append((enrollment, visit))
        cursor = self._first_open_visit() if first_load else timeline.cursor
        timeline.set_rows(cells, cursor, notes=notes, dim=dim)
        self._describe()

    def _show_messages(self, card: PatientCard) -> None:
        """The latest e-mail to the patient, newest first (none: the line is hidden)."""
        labels = {v.id: v.label for e in card.enrollments for v in e.visits}
        zone = self.vp.calendar.zone
        lines = [message_line(m, labels, zone) for m in card.messages]
        box = self.query_one("#patient-messages", Static)
        box.update("\n".join(lines))
        box.display = bool(lines)

    def _first_open_visit(self) -> int:
        """Where staff usually act: the first visit still to happen."""
        for index, (_, visit) in enumerate(self.lines):
            if visit is not None and visit.is_open:
                return index
        return 0

    def _line(self) -> tuple[EnrollmentCard, VisitView | None] | None:
        row = self.query_one(RowList).cursor
        return self.lines[row] if 0 <= row < len(self.lines) else None

    def current_visit(self) -> VisitView | None:
        line = self._line()
        return line[1] if line else None

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_enroll(self) -> None:
        from visitplan.tui.screens.enroll import EnrollScreen

        def enrolled(enrollment: int | None) -> None:
            self.reload()

        self.app.push_screen(EnrollScreen(mrn=self.mrn), enrolled)

    def action_withdraw(self) -> None:
        line = self._line()
        if line is None:
            self.notify("No enrollment to withdraw", severity="warning")
            return
        enrollment = line[0]
        if enrollment.status != "active":
            self.notify(
                f"That course is already {enrollment.status} (R reinstates it)",
                severity="warning",
            )
            return
        data = self.vp.data

        def check() -> str:
            data.withdraw(enrollment, dry_run=True)
            return "y withdraws the course; its visits stay on record, and calendars are told"

        confirm_change(
            self,
            f"Withdraw {self.mrn} from {enrollment.protocol_title}? "
            "Every visit still open is cancelled.",
            "Withdraw",
            check,
            lambda: data.withdraw(enrollment),
            f"Withdrawn from {enrollment.protocol_title}; open visits cancelled",
        )

    def action_reinstate(self) -> None:
        line = self._line()
        if line is None or line[0].status != "withdrawn":
            self.notify("Only a withdrawn course can be reinstated", severity="warning")
            return
        enrollment = line[0]
        data = self.vp.data

        def check() -> str:
            moved = data.reinstate(enrollment, dry_run=True)
            does = "y reinstates the course; the visits its withdrawal cancelled are owed again"
            return "; ".join((does, *(f"⚠ {m}" for m in moved)))

        confirm_change(
            self,
            f"Reinstate {self.mrn}'s {enrollment.protocol_title}? Every visit its "
            "withdrawal cancelled is scheduled again; one already past is overdue.",
            "Reinstate",
            check,
            lambda: data.reinstate(enrollment),
            f"Reinstated {enrollment.protocol_title}; its cancelled visits are owed again",
        )

    def action_export(self) -> None:
        from visitplan.tui.screens.forms import ExportScreen

        def chosen(choice: ExportChoice | None) -> None:
            if choice is not None:
                self._export(choice)

        self.app.push_screen(ExportScreen(self.mrn), chosen)

    @work(thread=True, exclusive=True, group="export")
    def _export(self, choice: ExportChoice) -> None:
        from visitplan.errors import InputError

        try:
            self.vp.data.export_ics(self.mrn, choice)
        except InputError as exc:
            tell(self, f"Not exported: {exc.message}", severity="error", timeout=8)
            return
        tell(self, f"Calendar ({choice.audience}) saved to {choice.path}")

    def action_history(self) -> None:
        from visitplan.tui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(self.mrn))

    def action_edit_patient(self) -> None:
        self._open_edit()

    @work(thread=True, exclusive=True, group="edit")
    def _open_edit(self) -> None:
        from visitplan.errors import InputError

        try:
            patient = self.vp.data.patient_record(self.mrn)
        except InputError as exc:
            tell(self, exc.message, severity="error", timeout=8)
            return
        deliver(self, self._edit, patient)

    def _edit(self, patient: PatientView) -> None:
        from visitplan.tui.screens.forms import Outcome
        from visitplan.tui.screens.patient_edit import EditPatientScreen

        def saved(outcome: Outcome | None) -> None:
            if outcome is not None:
                self.notify(outcome.message)  # the screen re-reads as the form closes

        if self.is_current:  # not over a form opened meanwhile
            self.app.push_screen(EditPatientScreen(patient), saved)
