"""The sender's side of the outbox: claiming due rows, rendering them, and settling each.

Apart from ``outbox`` (which every change of the records calls) because rendering
needs the messages, and the messages need the desk, which queues through ``outbox``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, text, update

from visitplan.errors import InputError
from visitplan.records import store
from visitplan.records.desk_base import DeskBase
from visitplan.records.messages import Letter, Refusal, render, sender_address
from visitplan.records.outbox import chunks
from visitplan.records.schema import OUTBOX

# Temporary failures are tried again after 1, 2, 4 ... minutes, at most every six
# hours; after three days the message is failed and goes on the worklist.
FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_RETRY = dt.timedelta(hours=6)
GIVE_UP = dt.timedelta(days=3)
SENDER_LOCK = 0x76706D6C  # PostgreSQL advisory lock key of the one sender


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
        for chunk in chunks(sorted(outbox_ids)):
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
