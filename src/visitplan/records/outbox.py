"""The outbox: the e-mail a change of the records owes a patient, written in the
transaction of that change.

Every Desk operation that changes visits calls ``visits_changed`` inside its own
transaction, so a crash never loses a message for a change that was saved and
never leaves one for a change that was not. A row is an intent: this visit, this
kind of message (request, cancel, reminder), due then. Per visit there is at most
one pending invitation (request or cancel) and one pending reminder per reminder
time: a newer change supersedes what had not gone yet, so a visit changed twice
before sending sends only its latest state.

The sender (``visitplan.sync.mail``, through ``sending``) claims due rows: each is rendered from the
visit as it is at that moment and kept, bytes and Message-ID, while it is
``sending``. A sender that dies leaves them ``sending``; the next run sends those
bytes again, so the one message that was in flight reaches the server at most twice
and with the same Message-ID, which servers and clients take for one message. A
sending row is never superseded: it may already have reached the patient, which is
why a cancellation is owed for it. One sender runs at a time (``sender_lock``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, insert, select, update

from visitplan.records.reading import ENROLLMENTS, PATIENTS, VISITS
from visitplan.records.schema import OUTBOX

if TYPE_CHECKING:
    from visitplan.domain.clinic import Clinic


class ClinicHolder(Protocol):
    """What queueing needs of the desk: its clinic's reminder times. (Not the desk
    itself: the desk queues through this module.)"""

    @property
    def clinic(self) -> Clinic: ...


INVITATIONS = ("request", "cancel")
STATUSES = ("pending", "sending", "sent", "failed", "superseded", "skipped")
# What may have reached the patient, or will: what a new change is compared with.
_LIVE = ("pending", "sending", "sent")
_CHUNK = 500  # ids per IN (...): SQLite's limit on bound parameters is far above it


@dataclass(frozen=True, slots=True)
class _Visit:
    id: int
    uid: str
    status: str
    sequence: int
    start_at: dt.datetime
    end_at: dt.datetime
    email: str | None
    consent: bool


def visits_changed(
    c: Connection,
    desk: ClinicHolder,
    visit_ids: Iterable[int],
    now: dt.datetime,
    *,
    enrollment_ids: Iterable[int] = (),
    patient_ids: Iterable[int] = (),
) -> int:
    """Make the outbox owe what these visits now call for; the number of rows added.

    Call it inside the transaction of the change, after the visits are written,
    with the visits it changed (or their courses, or their patients: enrolling,
    importing, a change of consent or address). ``now`` is the change's stored
    (naive UTC) time. Safe to call for any visit: one whose patient already has, or
    is owed, its current state sends nothing new.

    - A consenting patient's scheduled visit that is still ahead is owed a REQUEST
      of its current SEQUENCE (again to a new address), and a reminder at each of the
      clinic's ``email_minutes_before`` still ahead.
    - A cancelled visit is owed a CANCEL, if an invitation for it may have reached the
      patient; if none went, what was waiting is dropped and nothing is sent.
    - Done, missed and past visits, and patients without consent, are owed nothing:
      what was waiting for them is superseded.
    """
    visits = _visits(c, list(visit_ids), list(enrollment_ids), list(patient_ids))
    if not visits:
        return 0
    owed = _live_rows(c, [v.id for v in visits])
    minutes = desk.clinic.reminders.email_minutes_before
    drop: list[int] = []
    add: list[dict[str, Any]] = []
    for visit in visits:
        rows = owed.get(visit.id, [])
        _invitation(visit, [r for r in rows if r.kind in INVITATIONS], now, drop, add)
        _reminders(visit, [r for r in rows if r.kind == "reminder"], now, minutes, drop, add)
    for chunk in chunks(drop):
        c.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(chunk), OUTBOX.c.status == "pending")
            .values(status="superseded")
        )
    if add:
        c.execute(insert(OUTBOX), add)
    return len(add)


def _visits(
    c: Connection, visit_ids: list[int], enrollment_ids: list[int], patient_ids: list[int]
) -> list[_Visit]:
    query = select(
        VISITS.c.id,
        VISITS.c.uid,
        VISITS.c.status,
        VISITS.c.sequence,
        VISITS.c.start_at,
        VISITS.c.end_at,
        PATIENTS.c.email,
        PATIENTS.c.notify,
    ).select_from(
        VISITS.join(ENROLLMENTS, VISITS.c.enrollment_id == ENROLLMENTS.c.id).join(
            PATIENTS, ENROLLMENTS.c.patient_id == PATIENTS.c.id
        )
    )
    found: dict[int, _Visit] = {}
    for column, ids in (
        (VISITS.c.id, visit_ids),
        (VISITS.c.enrollment_id, enrollment_ids),
        (ENROLLMENTS.c.patient_id, patient_ids),
    ):
        for chunk in chunks(ids):
            for r in c.execute(query.where(column.in_(chunk))):
                consent = r.notify == "email" and bool(r.email)
                found[r.id] = _Visit(
                    r.id, r.uid, r.status, r.sequence, r.start_at, r.end_at, r.email, consent
                )
    return [found[k] for k in sorted(found)]


def _live_rows(c: Connection, visit_ids: list[int]) -> dict[int, list[Any]]:
    rows: dict[int, list[Any]] = {}
    for chunk in chunks(visit_ids):
        query = (
            select(OUTBOX)
            .where(OUTBOX.c.visit_id.in_(chunk), OUTBOX.c.status.in_(_LIVE))
            .order_by(OUTBOX.c.id)
        )
        for r in c.execute(query):
            rows.setdefault(r.visit_id, []).append(r)
    return rows


def _invitation(
    visit: _Visit,
    rows: list[Any],
    now: dt.datetime,
    drop: list[int],
    add: list[dict[str, Any]],
) -> None:
    pending = [r.id for r in rows if r.status == "pending"]
    reached = any(r.status != "pending" for r in rows)
    want = None
    if visit.consent and visit.end_at > now:
        if visit.status == "scheduled":
            want = "request"
        elif visit.status == "cancelled" and reached:
            want = "cancel"
    if want is None:
        drop += pending
        return
    latest = rows[-1] if rows else None
    if (
        latest is not None
        and (latest.kind, latest.sequence) == (want, visit.sequence)
        and (latest.status == "pending" or latest.recipient == visit.email)
    ):
        return  # the patient has this state already, or will have it
    drop += pending
    add.append(_row(visit, want, now, now))


def _reminders(
    visit: _Visit,
    rows: list[Any],
    now: dt.datetime,
    minutes_before: Sequence[int],
    drop: list[int],
    add: list[dict[str, Any]],
) -> None:
    wanted: dict[tuple[dt.datetime, int], None] = {}
    if visit.consent and visit.status == "scheduled":
        for minutes in sorted(set(minutes_before), reverse=True):
            due = visit.start_at - dt.timedelta(minutes=minutes)
            if due > now:
                wanted[(due, minutes)] = None
    for r in rows:
        key = (r.due_at, r.minutes_before)
        if key in wanted:
            del wanted[key]  # owed already, or on its way
        elif r.status == "pending":
            drop.append(r.id)
    for due, minutes in wanted:
        add.append(_row(visit, "reminder", due, now, minutes))


def _row(
    visit: _Visit, kind: str, due: dt.datetime, now: dt.datetime, minutes: int | None = None
) -> dict[str, Any]:
    return {
        "visit_id": visit.id,
        "uid": visit.uid,
        "kind": kind,
        "sequence": visit.sequence,
        "minutes_before": minutes,
        "status": "pending",
        "due_at": due,
        "next_at": due,
        "attempts": 0,
        "created_at": now,
    }


def chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
