"""What the records layer hands out: plain frozen values, never ORM objects.

Callers (the CLI, the TUI, the exporters, the feeds) may keep these as long as they
like; they never touch the database. Datetimes are aware: visit times in the clinic's
zone, bookkeeping times (updated_at, history) in UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from visitplan.domain.engine import Plan

VisitStatus = Literal["scheduled", "completed", "missed", "cancelled"]
EnrollmentStatus = Literal["active", "withdrawn"]
VISIT_STATUSES: tuple[VisitStatus, ...] = ("scheduled", "completed", "missed", "cancelled")
# A visit in one of these is settled: a cascade never moves it.
SETTLED: frozenset[str] = frozenset({"completed", "missed", "cancelled"})


@dataclass(frozen=True, slots=True)
class PatientView:
    mrn: str
    name: str
    phone: str | None
    email: str | None
    notes: str
    no_shows: int
    revision: int
    enrollments: int
    created_at: dt.datetime
    updated_at: dt.datetime
    notify: str = "none"  # 'email': the patient agreed to invitations and reminders


@dataclass(frozen=True, slots=True)
class EnrollmentView:
    id: int
    mrn: str
    patient_name: str
    protocol_id: str
    protocol_version: str
    protocol_title: str
    start: dt.date
    time: dt.time
    clinician: str | None
    status: EnrollmentStatus
    revision: int
    created_at: dt.datetime
    updated_at: dt.datetime
    # The protocol file now in the catalog has another version or other content.
    newer_version_available: bool = False
    current_version: str | None = None


@dataclass(frozen=True, slots=True)
class VisitView:
    id: int
    uid: str
    enrollment_id: int
    mrn: str
    patient_name: str
    clinician: str | None
    protocol_id: str
    key: str
    label: str
    kind: str
    status: VisitStatus
    target: dt.date
    earliest: dt.date
    latest: dt.date
    start: dt.datetime
    end: dt.datetime
    actual: dt.datetime | None
    revision: int
    sequence: int
    reason: str | None
    warnings: tuple[str, ...]
    deviation: str | None
    notes: str
    patient_notes: str
    assessments: tuple[str, ...]
    duration_minutes: int
    updated_at: dt.datetime
    # Placed by hand: a cascade leaves it where staff put it.
    pinned: bool = False
    # 'staff' or 'withdrawal' for a cancelled visit (a reinstatement undoes the latter).
    cancelled_by: str | None = None
    clinician_id: int | None = None
    # The stored protocol the visit's course was planned with.
    protocol_version: str = ""
    protocol_title: str = ""

    @property
    def in_window(self) -> bool:
        return self.earliest <= self.start.date() <= self.latest

    @property
    def is_open(self) -> bool:
        """Still owed: scheduled (a missed visit is booked again with move)."""
        return self.status == "scheduled"


@dataclass(frozen=True, slots=True)
class CourseProgress:
    """Where a patient stands, over their active courses (what the patient list shows)."""

    protocol_id: str  # the newest active course's, as are done and total
    done: int
    total: int  # cancelled visits not counted
    next_visit: dt.datetime | None  # the next scheduled visit still ahead, in any of them
    flags: tuple[str, ...] = ()  # what needs attention in any of them, sorted


@dataclass(frozen=True, slots=True)
class PatientMatch:
    """One line of a patient search; ``progress`` is None without an active course."""

    mrn: str
    name: str
    progress: CourseProgress | None = None


@dataclass(frozen=True, slots=True)
class EnrollmentDetail:
    """An enrollment with its visits in time order (what `enroll` prints)."""

    enrollment: EnrollmentView
    visits: tuple[VisitView, ...]
    warnings: tuple[str, ...] = ()
    # The engine's plan the visits were stored from: a form's check (a dry run) shows
    # it as its preview, instead of planning the course a second time.
    plan: Plan | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VisitChange:
    """The visit that was changed, every other visit the cascade moved, and the
    visits placed by hand that it left where they were (now ``days_from_target``
    days from their new target)."""

    visit: VisitView
    moved: tuple[VisitView, ...] = ()
    warnings: tuple[str, ...] = ()
    left: tuple[VisitView, ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    at: dt.datetime
    who: str
    action: str
    entity: Literal["patient", "enrollment", "visit"]
    entity_id: str
    mrn: str | None
    before: dict[str, Any] | None = field(default=None, hash=False)
    after: dict[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True, slots=True)
class ImportReport:
    patients: int
    enrollments: int
    visits: int
    already: int = 0  # rows that say only what the records already hold


@dataclass(frozen=True, slots=True)
class VisitStamp:
    """The few columns every change of a visit moves, for telling a changed visit from
    an unchanged one without reading it whole (CalDAV publishing)."""

    uid: str
    sequence: int
    revision: int
    updated_at: dt.datetime
    snapshot_id: int
    protocol_id: str
    mrn: str
    patient_revision: int
    patient_updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class MessageView:
    """One message of the outbox: owed to a patient about one visit, and where it stands.

    ``status``: pending (waiting until ``next_at``), sending (handed to the mail server,
    not yet confirmed), sent, failed (refused for good: the worklist shows it),
    superseded (a later change replaced it before it went), skipped (no longer
    applied when its time came; ``error`` says why). Times are aware UTC.
    """

    id: int
    visit_id: int
    mrn: str
    kind: str  # request, cancel, reminder
    status: str
    sequence: int
    due_at: dt.datetime
    next_at: dt.datetime
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    subject: str | None
    message_id: str | None
    error: str | None
