"""What the screens read, and the changes they ask for.

The screens never touch the database or the engine's rules directly: they talk to a
``ClinicData`` (the records layer, adapted in ``records_adapter``). Keeping this
seam here lets every screen be read, and tested, against one small surface. Visits
and patient searches come as the records' own frozen views, which hold no connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from visitplan.domain.engine import Plan
from visitplan.records.views import PatientMatch, VisitView

# Status words shown next to their symbol: never colour alone.
STATUS_SYMBOLS = {
    "scheduled": "○",
    "completed": "✓",
    "missed": "✗",
    "cancelled": "–",
}


def status_text(status: str) -> str:
    return f"{STATUS_SYMBOLS.get(status, '?')} {status}"


@dataclass(frozen=True, slots=True)
class EnrollmentCard:
    id: int
    revision: int
    protocol_id: str
    protocol_title: str
    protocol_version: str
    start: dt.date
    time: dt.time
    status: str
    clinician: str | None
    visits: tuple[VisitView, ...]
    newer_version: str | None = None

    @property
    def done(self) -> int:
        return sum(1 for v in self.visits if v.status == "completed")

    @property
    def total(self) -> int:
        return sum(1 for v in self.visits if v.status != "cancelled")


@dataclass(frozen=True, slots=True)
class HistoryRow:
    at: dt.datetime
    who: str
    what: str


@dataclass(frozen=True, slots=True)
class PatientCard:
    mrn: str
    name: str
    phone: str | None
    email: str | None
    no_shows: int
    enrollments: tuple[EnrollmentCard, ...] = field(default=())


class ClinicData(Protocol):
    """Everything the TUI reads and changes. Each call is a short transaction;
    the screens call them from worker threads. History comes oldest first."""

    def version(self) -> int:
        """A number that changes whenever any record changes (cheap to ask often)."""
        ...

    def check_patient(self, mrn: str, name: str, phone: str | None, email: str | None) -> None:
        """Raise InputError naming the first field that could not be saved."""
        ...

    def agenda(self, first: dt.date, days: int) -> Sequence[VisitView]: ...

    def read_already(self, day: dt.date) -> Sequence[VisitView] | None:
        """The day's agenda if it was read before the screens were built (else None),
        so that the first screen can be painted with it instead of empty."""
        ...

    def day_counts(self, first: dt.date, last: dt.date) -> dict[dt.date, int]: ...

    def patient_count(self) -> int: ...

    def search_patients(self, text: str, limit: int) -> Sequence[PatientMatch]: ...

    def patient(self, mrn: str) -> PatientCard | None: ...

    def history(self, mrn: str) -> Sequence[HistoryRow]: ...

    def add_patient(self, mrn: str, name: str, phone: str | None, email: str | None) -> None: ...

    def preview(self, mrn: str | None, protocol_id: str, start: dt.date, time: dt.time) -> Plan: ...

    def enroll(
        self, mrn: str, protocol_id: str, start: dt.date, time: dt.time, clinician: str | None
    ) -> int: ...

    def done(self, visit: VisitView, at: dt.datetime | None) -> None: ...

    def missed(self, visit: VisitView) -> None: ...

    def move(self, visit: VisitView, to: dt.datetime, force: bool) -> Sequence[str]: ...

    def cancel(self, visit: VisitView) -> None: ...

    def withdraw(self, enrollment: EnrollmentCard) -> None: ...

    def export_ics(self, mrn: str, path: Path) -> None:
        """Write the patient's own calendar (.ics) to ``path``, whole or not at all."""
        ...
