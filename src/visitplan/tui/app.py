"""The application shell: modes (one per main screen), keys, command palette."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial

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
        Binding("f2", "switch_mode('agenda')", "Agenda"),
        Binding("f3", "switch_mode('patients')", "Patients"),
        Binding("f4", "switch_mode('month')", "Month"),
        Binding("f5", "switch_mode('protocols')", "Protocols"),
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
        from visitplan.tui.screens.agenda import AgendaScreen

        self.add_mode("agenda", AgendaScreen)
        self.add_mode("patients", _patients_screen)
        self.add_mode("month", _month_screen)
        self.add_mode("protocols", _protocols_screen)

    def today(self) -> dt.date:
        """The clinic's today (fixed in tests and screenshots so they stay stable)."""
        if self.fixed_today is not None:
            return self.fixed_today
        import pendulum

        return pendulum.now(self.calendar.tz).date()

    def open_day(self, day: dt.date) -> None:
        """Show a day's agenda (from the month grid, or go-to-date)."""
        from visitplan.tui.screens.agenda import AgendaScreen

        self.switch_mode("agenda")
        screen = self.screen
        if isinstance(screen, AgendaScreen):
            screen.show_day(day)

    def open_patient(self, mrn: str) -> None:
        from visitplan.tui.screens.patient import PatientScreen

        self.push_screen(PatientScreen(mrn))

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
