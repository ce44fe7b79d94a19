"""What the screens need of the app, as a type of its own: the screens are opened by
the app, so they must not import it back (the app module imports the screens)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from visitplan.catalog import ProtocolCatalog
from visitplan.domain.clinic import ClinicCalendar
from visitplan.tui.data import ClinicData


@runtime_checkable
class Shell(Protocol):
    """The clinic's app as a screen sees it (``VisitplanApp`` is one)."""

    data: ClinicData
    calendar: ClinicCalendar
    catalog: ProtocolCatalog
    refresh_seconds: float

    def today(self) -> dt.date: ...

    def open_day(self, day: dt.date) -> None: ...

    def open_patient(self, mrn: str) -> None: ...
