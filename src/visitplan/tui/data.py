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
from typing import TYPE_CHECKING, Literal, Protocol

from visitplan.domain.engine import Plan
from visitplan.records.views import (
    MessageView,
    PatientMatch,
    PatientView,
    VisitChange,
    VisitView,
)

if TYPE_CHECKING:
    from visitplan.domain.free_times import FreeTime
    from visitplan.records.clinic_ops import ClinicReport
    from visitplan.records.worklist import WorklistHead

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
class Enrolled:
    """A course enrolled (in a dry run, the one that would be) and the plan its visits
    were stored from: a form shows that plan as its preview."""

    course: int
    plan: Plan


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One change, as a sentence in the clinic's words (``at`` in the clinic's zone)."""

    at: dt.datetime
    who: str
    subject: str  # what changed: a visit's label, the course, the patient's record
    sentence: str


@dataclass(frozen=True, slots=True)
class ExportChoice:
    """What `visitplan export` asks for a patient's calendar, chosen in a form."""

    path: Path
    audience: Literal["staff", "patient"] = "patient"
    privacy: Literal["full", "initials", "none"] = "initials"
    alarms: bool = True


@dataclass(frozen=True, slots=True)
class PatientCard:
    mrn: str
    name: str
    phone: str | None
    email: str | None
    no_shows: int
    enrollments: tuple[EnrollmentCard, ...] = field(default=())
    notify: str = "none"  # "email": the patient agreed to invitations and reminders
    messages: tuple[MessageView, ...] = ()  # the latest e-mail to them, newest first


class ClinicData(Protocol):
    """Everything the TUI reads and changes. Each call is a short transaction;
    the screens call them from worker threads. History comes oldest first.

    Every change takes ``dry_run``: the records' own operation, rolled back, which is
    what a form's check runs, so that what the check accepts the save accepts too.
    Refusals come as ``InputError`` in the TUI's words (visits by patient and label,
    no command-line options)."""

    def version(self) -> int:
        """A number that changes whenever any record changes (cheap to ask often)."""
        ...

    def agenda(
        self, first: dt.date, days: int, clinician: str | None = None, cancelled: bool = False
    ) -> Sequence[VisitView]:
        """Visits from ``first`` for ``days`` days (of one clinician), in time order;
        cancelled ones too when ``cancelled``."""
        ...

    def read_already(self, day: dt.date) -> Sequence[VisitView] | None:
        """The day's agenda if it was read before the screens were built (else None),
        so that the first screen can be painted with it instead of empty."""
        ...

    def clinicians(self) -> Sequence[str]:
        """The clinic's clinicians (their records), sorted by name."""
        ...

    def day_counts(self, first: dt.date, last: dt.date) -> dict[dt.date, int]: ...

    def patient_count(self) -> int: ...

    def search_patients(self, text: str, limit: int) -> Sequence[PatientMatch]: ...

    def patient(self, mrn: str) -> PatientCard | None: ...

    def history(self, mrn: str) -> Sequence[HistoryRow]: ...

    def add_patient(
        self, mrn: str, name: str, phone: str | None, email: str | None, *, dry_run: bool = False
    ) -> None: ...

    def preview(
        self,
        mrn: str | None,
        protocol_id: str,
        start: dt.date,
        time: dt.time,
        clinician: str | None = None,
    ) -> Plan: ...

    def enroll(
        self,
        mrn: str,
        protocol_id: str,
        start: dt.date,
        time: dt.time,
        clinician: str | None,
        *,
        another: bool = False,
        dry_run: bool = False,
    ) -> Enrolled:
        """A second running course of the protocol is refused (``NeedsOverride``) unless
        ``another``. ``dry_run``: refused as it would be, else what it would store."""
        ...

    def done(
        self, visit: VisitView, at: dt.datetime | None, *, dry_run: bool = False
    ) -> VisitChange: ...

    def missed(self, visit: VisitView, *, dry_run: bool = False) -> VisitChange: ...

    def move(
        self, visit: VisitView, to: dt.datetime, force: bool, *, dry_run: bool = False
    ) -> VisitChange: ...

    def cancel(self, visit: VisitView, *, dry_run: bool = False) -> VisitChange: ...

    def reopen(self, visit: VisitView, *, dry_run: bool = False) -> VisitChange:
        """Undo a wrong done, no-show or cancellation: scheduled again, dependents follow."""
        ...

    def free_times(self, visit: VisitView, count: int) -> Sequence[FreeTime]:
        """The nearest times the visit could be booked at, its window's first."""
        ...

    def worklist(self, shown: int) -> WorklistHead:
        """The first ``shown`` visits that need someone, with why and what to do, and
        how many need someone in all."""
        ...

    def withdraw(self, enrollment: EnrollmentCard, *, dry_run: bool = False) -> None: ...

    def reinstate(self, enrollment: EnrollmentCard, *, dry_run: bool = False) -> tuple[str, ...]:
        """Undo a withdrawal; what it could not give back as it was (a visit moved
        because its time has since been taken)."""
        ...

    def export_ics(self, mrn: str, choice: ExportChoice) -> None:
        """Write the patient's calendar (.ics) as chosen, whole or not at all."""
        ...

    # -- a patient's record corrected; closures from the month (issues 12, 13) -----

    def patient_record(self, mrn: str) -> PatientView: ...

    def edit_patient(
        self,
        seen: PatientView,
        name: str,
        phone: str,
        email: str,
        notes: str,
        *,
        notify: str | None = None,
        dry_run: bool = False,
    ) -> PatientView:
        """Refused if the record changed since ``seen`` was read; ``notify`` None
        leaves the patient's e-mail consent as it is."""
        ...

    def closed_days(self, first: dt.date, last: dt.date) -> dict[dt.date, str]:
        """Why the clinic is closed, for each closed day in the range."""
        ...

    def leave(self, first: dt.date, last: dt.date) -> dict[dt.date, tuple[str, ...]]: ...

    def add_closure(
        self,
        first: dt.date,
        last: dt.date,
        reason: str,
        clinician: str | None,
        *,
        rebook: bool = False,
        dry_run: bool = False,
    ) -> ClinicReport: ...
