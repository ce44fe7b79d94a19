"""The application shell: one area per F-key (a Textual mode each, with its own
stack of screens), keys, the command palette, and what happens on an unexpected
error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import Clinic, ClinicCalendar
from visitplan.tui.data import ClinicData

# How often an open screen re-reads the records, so another workstation's
# change shows up without anyone pressing a key.
REFRESH_SECONDS = 5.0


class VisitplanApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "visitplan"
    # Start in the agenda's mode: Textual then builds the agenda as the first screen,
    # instead of a blank default screen that is switched away from (two more style
    # passes over the whole app before anything is painted).
    DEFAULT_MODE = "agenda"
    BINDINGS = [  # noqa: RUF012 (Textual reads this class attribute)
        Binding("f2", "area('agenda')", "Agenda"),
        Binding("f3", "area('patients')", "Patients"),
        Binding("f4", "area('month')", "Month"),
        Binding("f5", "area('protocols')", "Protocols"),
        Binding("f6", "area('worklist')", "Worklist"),
        Binding("question_mark", "keys", "Keys", key_display="?"),
        # F1 too: in a field, ? is a character like any other (the footer then shows F1).
        Binding("f1", "keys", "Keys"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        data: ClinicData,
        clinic: Clinic,
        catalog: ProtocolCatalog,
        *,
        today: dt.date | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        super().__init__()
        self.data = data
        self.clinic = clinic
        self.calendar = ClinicCalendar(clinic)
        self.catalog = catalog
        self.fixed_today = today
        self.refresh_seconds = refresh_seconds
        self.sub_title = clinic.name
        # Set when an unexpected error ended the app (see ``_handle_exception``).
        self.crash_report: Path | None = None
        self.crash_text: str | None = None
        from visitplan.tui.screens.agenda import AgendaScreen

        self.add_mode("agenda", AgendaScreen)
        self.add_mode("patients", _patients_screen)
        self.add_mode("month", _month_screen)
        self.add_mode("protocols", _protocols_screen)
        self.add_mode("worklist", _worklist_screen)

    def today(self) -> dt.date:
        """The clinic's today (fixed in tests and screenshots so they stay stable)."""
        if self.fixed_today is not None:
            return self.fixed_today
        import pendulum

        return pendulum.now(self.calendar.tz).date()

    # -- areas ----------------------------------------------------------------

    def action_area(self, mode: str) -> None:
        """Show an area's home screen (the agenda, the patient list, ...).

        What an area opened over its home (a patient, say) is closed as the area
        is left, so that each F-key always shows its own screen, and a screen opened
        from one area closes back into it, never into another. Forms are not left
        this way (their F-keys are off): what was typed is never dropped unseen.
        """
        if holds_input(self.screen):
            self.notify("Save (ctrl+s) or close (esc) the form first", severity="warning")
            return
        while len(self.screen_stack) > 1:
            if holds_input(self.screen):
                return  # cannot happen from a key; never drop a form
            self.pop_screen()
        if self.current_mode != mode:
            self.switch_mode(mode)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Hidden in a form's footer: a form is saved or closed, not left.
        return not (action == "area" and holds_input(self.screen))

    def open_day(self, day: dt.date) -> None:
        """Show a day's agenda (from the month grid)."""
        from visitplan.tui.screens.agenda import AgendaScreen

        self.action_area("agenda")
        screen = self.screen
        if isinstance(screen, AgendaScreen):
            screen.show_day(day)

    def open_patient(self, mrn: str) -> None:
        """A patient's screen, over the screen of the area it was opened from."""
        from visitplan.tui.screens.patient import PatientScreen

        self.push_screen(PatientScreen(mrn))

    def action_keys(self) -> None:
        """Every key of the screen on top, with what it does (the footer has room for
        only some at 80 columns)."""
        from visitplan.tui.screens.keys import KeysScreen, keys_of

        if not isinstance(self.screen, KeysScreen):
            self.push_screen(KeysScreen(self.screen.title or self.title, keys_of(self.screen)))

    # -- unexpected errors --------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Textual's own prints a traceback with every frame's local variables (patient
        names among them) as the app ends; ours writes a report without them."""
        from visitplan.tui.crash import crash_message, write_report

        if self.crash_text is None:
            context = {
                "screens": " > ".join(type(s).__name__ for s in self.screen_stack),
                "area": str(self.current_mode),
                "terminal": f"{self.size.width}x{self.size.height}",
            }
            self.crash_report = write_report(error, context)
            self.crash_text = crash_message(error, self.crash_report)
        super()._handle_exception(error)  # ends the app, with return code 1
        self._exit_renderables.clear()  # the traceback it prepared for the terminal

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every key shown in the footer is also a command in the palette."""
        yield from super().get_system_commands(screen)
        seen = {"quit"}
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.show or not binding.description or binding.action in seen:
                continue
            if not active.enabled:
                continue
            seen.add(binding.action)
            help_text = binding.tooltip or f"key: {binding.key_display or binding.key}"
            yield SystemCommand(
                binding.description,
                help_text,
                partial(self.call_later, self.run_action, binding.action, active.node),
            )


def holds_input(screen: Screen[object]) -> bool:
    """A form on top: leaving it must be the person's choice (save or esc)."""
    return bool(getattr(screen, "HOLDS_INPUT", False))


# The other main screens are imported when first shown, not before the agenda's
# first paint (their modules bring widgets the agenda does not use).


def _patients_screen() -> Screen[None]:
    from visitplan.tui.screens.patients import PatientsScreen

    return PatientsScreen()


def _month_screen() -> Screen[None]:
    from visitplan.tui.screens.month import MonthScreen

    return MonthScreen()


def _protocols_screen() -> Screen[None]:
    from visitplan.tui.screens.protocols import ProtocolsScreen

    return ProtocolsScreen()


def _worklist_screen() -> Screen[None]:
    from visitplan.tui.screens.worklist import WorklistScreen

    return WorklistScreen()


def make_app(
    data: ClinicData,
    clinic: Clinic,
    catalog: ProtocolCatalog,
    *,
    today: dt.date | None = None,
    refresh_seconds: float = REFRESH_SECONDS,
) -> VisitplanApp:
    """The one way to build the TUI: everything it needs is passed in."""
    return VisitplanApp(data, clinic, catalog, today=today, refresh_seconds=refresh_seconds)
