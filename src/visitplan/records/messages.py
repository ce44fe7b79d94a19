"""Messages to patients: what an outbox row says when it goes, and the outbox as staff
read it (part of the Desk).

A row is rendered from the visit and the patient as they are at that moment, so a
message always speaks of the visit's current state and goes to the current
address; ``visitplan.records.outbox`` keeps what was rendered while it is on its way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select

from visitplan.domain.clinic import Clinic
from visitplan.domain.invitations import (
    Envelope,
    Method,
    invitation,
    message_bytes,
    message_id,
    reminder,
)
from visitplan.errors import InputError
from visitplan.exporting import from_view
from visitplan.records.desk_base import DeskBase
from visitplan.records.reading import (
    ENROLLMENTS,
    PATIENTS,
    VISITS,
    to_utc,
    utc_aware,
    visit_query,
    visit_views,
)
from visitplan.records.schema import OUTBOX
from visitplan.records.views import MessageView


@dataclass(frozen=True, slots=True)
class Letter:
    """A rendered message: the bytes for the mail server, and what the outbox keeps."""

    sender: str
    recipient: str
    message_id: str
    subject: str
    sequence: int
    content: bytes


@dataclass(frozen=True, slots=True)
class Skip:
    """The row no longer applies (why, in staff's words)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """The row can never go as things are (why): failed, onto the worklist."""

    reason: str


def sender_address(clinic: Clinic) -> str:
    """From, the SMTP envelope's sender, and the ORGANIZER: the clinic's ``email``."""
    return clinic.email or f"noreply@{clinic.uid_domain}"


def valid_address(text: str) -> bool:
    try:
        address = Address(addr_spec=text)
    except (HeaderParseError, ValueError, IndexError):
        return False
    return bool(address.username and "." in address.domain and address.addr_spec == text)


def render(c: Any, desk: DeskBase, row: Any, now: dt.datetime) -> Letter | Skip | Refusal:
    """Outbox row ``row`` as it would go at ``now`` (naive UTC)."""
    found = c.execute(
        visit_query()
        .add_columns(PATIENTS.c.email, PATIENTS.c.notify)
        .where(VISITS.c.id == row.visit_id)
    ).one()
    if found.notify != "email":
        return Skip("the patient no longer agrees to e-mail")
    if not found.email:
        return Skip("the patient has no e-mail address")
    if not valid_address(found.email):
        return Refusal(f"{found.email!r} is not an e-mail address that mail can go to")
    view = visit_views(c, [found], desk._snapshots, desk.calendar.tz)[0]
    wanted = "cancelled" if row.kind == "cancel" else "scheduled"
    if view.status != wanted:
        return Skip(f"the visit is {view.status} now")
    if to_utc(view.end) <= now:
        return Skip("the visit is over")
    if row.kind == "reminder":
        if to_utc(view.start) - dt.timedelta(minutes=row.minutes_before) != row.due_at:
            return Skip("the visit moved; its new reminder replaces this one")
        if to_utc(view.start) <= now:
            return Skip("the visit has begun")
    clinic = desk.clinic
    what = f"reminder-{row.minutes_before}" if row.kind == "reminder" else row.kind
    identity = message_id(view.uid, view.sequence, what, clinic.uid_domain)
    when = now.replace(tzinfo=dt.UTC).astimezone(desk.calendar.zone)
    envelope = Envelope(sender_address(clinic), found.email, identity, when)
    visit = from_view(view, clinic.timezone)
    if row.kind == "reminder":
        message = reminder(visit, clinic, envelope)
    else:
        method: Method = "CANCEL" if row.kind == "cancel" else "REQUEST"
        message = invitation(visit, clinic, method, envelope, changed=_changed(c, row))
    return Letter(
        envelope.sender,
        envelope.recipient,
        identity,
        str(message["Subject"]),
        view.sequence,
        message_bytes(message),
    )


def _changed(c: Any, row: Any) -> bool:
    """Whether an earlier invitation for this visit may have reached the patient."""
    if row.kind != "request":
        return False
    earlier = select(OUTBOX.c.id).where(
        OUTBOX.c.visit_id == row.visit_id,
        OUTBOX.c.id < row.id,
        OUTBOX.c.kind == "request",
        OUTBOX.c.status.in_(("sending", "sent")),
    )
    return bool(c.execute(select(exists(earlier))).scalar_one())


def _message_query() -> Select[Any]:
    return select(OUTBOX, PATIENTS.c.mrn).select_from(
        OUTBOX.join(VISITS, OUTBOX.c.visit_id == VISITS.c.id)
        .join(ENROLLMENTS, VISITS.c.enrollment_id == ENROLLMENTS.c.id)
        .join(PATIENTS, ENROLLMENTS.c.patient_id == PATIENTS.c.id)
    )


def _view(row: Any) -> MessageView:
    return MessageView(
        id=row.id,
        visit_id=row.visit_id,
        mrn=row.mrn,
        kind=row.kind,
        status=row.status,
        sequence=row.sequence,
        due_at=utc_aware(row.due_at),
        next_at=utc_aware(row.next_at),
        attempts=row.attempts,
        created_at=utc_aware(row.created_at),
        sent_at=utc_aware(row.sent_at) if row.sent_at else None,
        subject=row.subject,
        message_id=row.message_id,
        error=row.error,
    )


class MessageRecords(DeskBase):
    """Part of the Desk: the e-mail owed and sent to patients, as staff read it."""

    def messages(self, mrn: str, limit: int = 10) -> list[MessageView]:
        """The patient's latest messages, newest first (what the patient screen shows)."""
        with self._read() as c:
            patient = self._patient_row(c, mrn)
            query = (
                _message_query()
                .where(ENROLLMENTS.c.patient_id == patient.id)
                .order_by(OUTBOX.c.id.desc())
                .limit(limit)
            )
            return [_view(r) for r in c.execute(query)]

    def outbox_messages(
        self, *, status: str | None = None, mrn: str | None = None, limit: int | None = None
    ) -> list[MessageView]:
        """Messages in the order they were owed (``visitplan notify list``)."""
        query = _message_query().order_by(OUTBOX.c.id)
        if status is not None:
            query = query.where(OUTBOX.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as c:
            if mrn is not None:
                query = query.where(ENROLLMENTS.c.patient_id == self._patient_row(c, mrn).id)
            return [_view(r) for r in c.execute(query)]

    def failed_messages(self) -> list[MessageView]:
        """Messages refused for good that no later message for their visit replaced:
        each needs someone to act (an address to correct, a patient to call). For the
        worklist; ``visit_id`` says which visit, ``error`` what the server said."""
        later = OUTBOX.alias("later")
        both_reminders = and_(later.c.kind == "reminder", OUTBOX.c.kind == "reminder")
        both_invitations = and_(later.c.kind != "reminder", OUTBOX.c.kind != "reminder")
        replaced = exists(
            select(later.c.id).where(
                later.c.visit_id == OUTBOX.c.visit_id,
                later.c.id > OUTBOX.c.id,
                or_(both_reminders, both_invitations),
            )
        )
        query = _message_query().where(OUTBOX.c.status == "failed", ~replaced)
        with self._read() as c:
            return [_view(r) for r in c.execute(query.order_by(OUTBOX.c.id))]

    def preview_messages(self, mrn: str) -> list[tuple[MessageView, Letter | Skip | Refusal]]:
        """The patient's pending messages as each would go now; nothing is sent or kept."""
        now = to_utc(self._clock())
        with self._read() as c:
            patient = self._patient_row(c, mrn)
            query = (
                _message_query()
                .where(ENROLLMENTS.c.patient_id == patient.id, OUTBOX.c.status == "pending")
                .order_by(OUTBOX.c.next_at, OUTBOX.c.id)
            )
            return [(_view(r), render(c, self, r, max(now, r.next_at))) for r in c.execute(query)]


def require_sender(clinic: Clinic) -> None:
    """The clinic must say who writes: patients reply to it and trust it."""
    if not clinic.email:
        raise InputError(
            'the clinic has no email: set email = "..." in its file (the address '
            "invitations come from and patients reply to) and `visitplan clinic load` it"
        )
