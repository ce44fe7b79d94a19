"""The outbox: the e-mail a change of the records owes a patient, written in the
transaction of that change.

Every Desk operation that changes visits calls ``visits_changed`` inside its own
transaction, so a crash never loses a message for a change that was saved and
never leaves one for a change that was not. A row is an intent: this visit, this
kind of message (request, cancel, reminder), due then. Per visit there is at most
one pending invitation (request or cancel) and one pending reminder per reminder
time: a newer change supersedes what had not gone yet, so a visit changed twice
before sending sends only its latest state.

The sender (``visitplan.sync.mail``) claims due rows: each is rendered from the
visit as it is at that moment and kept, bytes and Message-ID, while it is
``sending``. A sender that dies leaves them ``sending``; the next run sends those
bytes again, so the one message that was in flight reaches the server at most twice
and with the same Message-ID, which servers and clients take for one message. A
sending row is never superseded: it may already have reached the patient, which is
why a cancellation is owed for it. One sender runs at a time (``sender_lock``).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, or_, select, text, update

from visitplan.errors import InputError
from visitplan.records import store
from visitplan.records.reading import ENROLLMENTS, PATIENTS, VISITS
from visitplan.records.schema import OUTBOX

if TYPE_CHECKING:
    from visitplan.records.desk_base import DeskBase

INVITATIONS = ("request", "cancel")
STATUSES = ("pending", "sending", "sent", "failed", "superseded", "skipped")
# What may have reached the patient, or will: what a new change is compared with.
_LIVE = ("pending", "sending", "sent")
_CHUNK = 500  # ids per IN (...): SQLite's limit on bound parameters is far above it
# Temporary failures are tried again after 1, 2, 4 ... minutes, at most every six
# hours; after three days the message is failed and goes on the worklist.
FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_RETRY = dt.timedelta(hours=6)
GIVE_UP = dt.timedelta(days=3)
SENDER_LOCK = 0x76706D6C  # PostgreSQL advisory lock key of the one sender


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
    desk: DeskBase,
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
    for chunk in _chunks(drop):
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
        for chunk in _chunks(ids):
            for r in c.execute(query.where(column.in_(chunk))):
                consent = r.notify == "email" and bool(r.email)
                found[r.id] = _Visit(
                    r.id, r.uid, r.status, r.sequence, r.start_at, r.end_at, r.email, consent
                )
    return [found[k] for k in sorted(found)]


def _live_rows(c: Connection, visit_ids: list[int]) -> dict[int, list[Any]]:
    rows: dict[int, list[Any]] = {}
    for chunk in _chunks(visit_ids):
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


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


# -- the sender's side ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed message, exactly as it goes to the mail server (and would again)."""

    id: int
    sender: str
    recipient: str
    message_id: str
    content: bytes


def due(desk: DeskBase, now: dt.datetime) -> int:
    """How many messages a run would send now (in flight ones included)."""
    with desk._read() as c:
        return int(
            c.execute(
                select(func.count())
                .select_from(OUTBOX)
                .where(
                    or_(
                        OUTBOX.c.status == "sending",
                        (OUTBOX.c.status == "pending") & (OUTBOX.c.next_at <= now),
                    )
                )
            ).scalar_one()
        )


def waiting(desk: DeskBase) -> tuple[int, dt.datetime | None]:
    """Pending messages, and when the first of them is due (naive UTC)."""
    with desk._read() as c:
        count, first = c.execute(
            select(func.count(), func.min(OUTBOX.c.next_at)).where(OUTBOX.c.status == "pending")
        ).one()
    return int(count), first


def in_flight(desk: DeskBase) -> list[Outgoing]:
    """What a sender that stopped had claimed: sent again as it was."""
    with desk._read() as c:
        rows = c.execute(
            select(OUTBOX).where(OUTBOX.c.status == "sending").order_by(OUTBOX.c.id)
        ).all()
    from visitplan.records.messages import sender_address

    sender = sender_address(desk.clinic)
    return [
        Outgoing(r.id, sender, r.recipient, r.message_id, bytes(r.content))
        for r in rows
        if r.content is not None
    ]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claim's due rows: those to send now, and those settled without sending."""

    messages: list[Outgoing]
    skipped: list[int]
    failed: list[int]


def claim(desk: DeskBase, now: dt.datetime, limit: int) -> Claimed:
    """Up to ``limit`` due rows: rendered and marked ``sending``, oldest owed first.

    A row that no longer applies (consent withdrawn, the visit over) is skipped, and
    one that can never go (an address that is not one) is failed, each with why.
    """
    from visitplan.records.messages import Letter, Refusal, render

    claimed = Claimed([], [], [])
    with desk.write() as c:
        rows = c.execute(
            select(OUTBOX)
            .where(OUTBOX.c.status == "pending", OUTBOX.c.next_at <= now)
            .order_by(OUTBOX.c.id)
            .limit(limit)
        ).all()
        for row in rows:
            letter = render(c, desk, row, now)
            if isinstance(letter, Letter):
                values: dict[str, Any] = {
                    "status": "sending",
                    "claimed_at": now,
                    "sequence": letter.sequence,
                    "message_id": letter.message_id,
                    "recipient": letter.recipient,
                    "subject": letter.subject,
                    "content": letter.content,
                }
                claimed.messages.append(
                    Outgoing(
                        row.id, letter.sender, letter.recipient, letter.message_id, letter.content
                    )
                )
            else:
                failed = isinstance(letter, Refusal)
                (claimed.failed if failed else claimed.skipped).append(row.id)
                status = "failed" if failed else "skipped"
                values = {"status": status, "error": letter.reason, "claimed_at": now}
            c.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(**values))
    return claimed


def delivered(desk: DeskBase, outbox_id: int, now: dt.datetime) -> None:
    """The server took it (250 after DATA). The bytes are not kept past this."""
    _finish(desk, outbox_id, status="sent", sent_at=now, content=None, error=None)


def refused(desk: DeskBase, outbox_id: int, now: dt.datetime, error: str) -> None:
    """Refused for good (5xx, or no address): on the worklist from now on."""
    _finish(desk, outbox_id, status="failed", content=None, error=error, claimed_at=now)


def deferred(desk: DeskBase, outbox_id: int, now: dt.datetime, error: str) -> dt.datetime | None:
    """A temporary failure (4xx): tried again later; when, or None once given up."""
    with desk.write() as c:
        row = c.execute(select(OUTBOX).where(OUTBOX.c.id == outbox_id)).one()
        attempts = row.attempts + 1
        if now - row.due_at >= GIVE_UP:
            error = f"gave up after {attempts} attempts over {GIVE_UP.days} days: {error}"
            values: dict[str, Any] = {"status": "failed", "attempts": attempts}
            next_at = None
        else:
            wait = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)
            next_at = now + wait
            values = {"status": "pending", "attempts": attempts, "next_at": next_at}
        c.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == outbox_id, OUTBOX.c.status == "sending")
            .values(**values, content=None, error=error)
        )
    return next_at


def release(desk: DeskBase, outbox_ids: Collection[int]) -> None:
    """Claimed but never handed to the server (the run stopped first): pending again."""
    if not outbox_ids:
        return
    with desk.write() as c:
        for chunk in _chunks(sorted(outbox_ids)):
            c.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(chunk), OUTBOX.c.status == "sending")
                .values(status="pending", content=None)
            )


def _finish(desk: DeskBase, outbox_id: int, **values: Any) -> None:
    with desk.write() as c:
        c.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == outbox_id, OUTBOX.c.status == "sending")
            .values(**values)
        )


@contextmanager
def sender_lock(desk: DeskBase) -> Iterator[None]:
    """Be the one sender (``notify send`` or ``serve --notify``) until the block ends.

    Only then is a ``sending`` row surely left by a sender that stopped. The lock
    goes with the process that holds it, however it ends: an advisory lock of its
    own session on PostgreSQL, an exclusive lock on a file beside an SQLite database.
    """
    busy = InputError(
        "another sender is running (visitplan notify send, or serve --notify); "
        "one at a time sends the outbox"
    )
    if desk.engine.dialect.name == "postgresql":
        with desk.engine.connect() as c:
            if not c.execute(select(func.pg_try_advisory_lock(SENDER_LOCK))).scalar_one():
                raise busy
            try:
                yield
            finally:
                c.execute(text(f"SELECT pg_advisory_unlock({SENDER_LOCK})"))
        return
    path = store.sqlite_path(desk.engine.url)
    if path is None or sys.platform == "win32":  # in memory, or no flock: one process
        yield
        return
    import fcntl

    lock = path.with_name(f"{path.name}.sender-lock")
    try:
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise InputError(f"{lock}: cannot open the sender's lock file: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        yield
    finally:
        os.close(fd)
