"""The outbox, on SQLite and PostgreSQL: written in the change's own transaction,
one pending state per visit, consent first, and the sender's bookkeeping."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select

from tests.notify.conftest import Clock
from tests.notify.support import PATIENT
from visitplan.errors import InputError
from visitplan.records import sending
from visitplan.records.messages import Letter
from visitplan.records.operations import Desk
from visitplan.records.reading import to_utc
from visitplan.records.schema import OUTBOX
from visitplan.records.views import MessageView, VisitView

START = dt.date(2026, 12, 7)  # a Monday, a week after the clock's "now"
MRN, NAME, EMAIL = PATIENT


def consenting(desk: Desk, mrn: str = MRN, email: str = EMAIL) -> tuple[VisitView, ...]:
    desk.add_patient(mrn, NAME, email=email, notify="email")
    return desk.enroll(mrn, "dextrose-prolotherapy", START, dt.time(10)).visits


def utc(moment: dt.datetime) -> dt.datetime:
    return dt.datetime.fromtimestamp(moment.timestamp(), dt.UTC)


def pending(desk: Desk) -> list[MessageView]:
    return desk.outbox_messages(status="pending")


def kinds(messages: list[MessageView]) -> Counter[str]:
    return Counter(m.kind for m in messages)


def send_everything_due(desk: Desk) -> list[sending.Outgoing]:
    """What a sender run does to the records, with the server saying yes to all."""
    now = to_utc(desk._clock())
    claimed = sending.claim(desk, now, 1000).messages
    for message in claimed:
        sending.delivered(desk, message.id, now)
    return claimed


def test_enrolling_owes_a_request_now_and_a_reminder_a_day_before_each_visit(
    mail_desk: Desk,
) -> None:
    visits = consenting(mail_desk)
    waiting = pending(mail_desk)
    assert kinds(waiting) == {"request": 7, "reminder": 7}
    for visit in visits:
        mine = {m.kind: m for m in waiting if m.visit_id == visit.id}
        assert mine["request"].due_at == mail_desk._clock()
        assert mine["reminder"].due_at == visit.start - dt.timedelta(days=1)
        assert mine["request"].sequence == visit.sequence


def test_without_consent_nothing_is_owed(mail_desk: Desk) -> None:
    mail_desk.add_patient("M-2", "Sam Sample", email="sam@mail.example")  # notify none
    visits = mail_desk.enroll("M-2", "dextrose-prolotherapy", START, dt.time(10)).visits
    mail_desk.move_visit(visits[0].id, dt.datetime(2026, 12, 8, 11, 0))
    mail_desk.cancel_visit(visits[1].id)
    assert mail_desk.outbox_messages() == []
    with pytest.raises(InputError, match="notify email needs the patient's e-mail address"):
        mail_desk.add_patient("M-3", "No Address", notify="email")
    with pytest.raises(InputError, match="notify 'sms' is not one of email, none"):
        mail_desk.add_patient("M-4", "Odd Value", email="x@mail.example", notify="sms")


def test_a_change_that_is_not_saved_owes_nothing(mail_desk: Desk) -> None:
    mail_desk.add_patient(MRN, NAME, email=EMAIL, notify="email")
    mail_desk.enroll(MRN, "dextrose-prolotherapy", START, dt.time(10), dry_run=True)
    assert mail_desk.outbox_messages() == []
    visits = mail_desk.enroll(MRN, "dextrose-prolotherapy", START, dt.time(10)).visits
    mail_desk.cancel_visit(visits[1].id)
    mail_desk.reopen_visit(visits[1].id)
    before = mail_desk.outbox_messages()
    with pytest.raises(InputError, match="changed by someone else"):
        mail_desk.move_visit(visits[1].id, dt.datetime(2026, 12, 22, 11), expected_revision=1)
    mail_desk.cancel_visit(visits[0].id, dry_run=True)
    assert mail_desk.outbox_messages() == before


def test_a_visit_changed_twice_before_sending_sends_only_its_latest_state(
    mail_desk: Desk,
) -> None:
    first = consenting(mail_desk)[0]
    mail_desk.move_visit(first.id, dt.datetime(2026, 12, 8, 11, 0))
    moved = mail_desk.move_visit(first.id, dt.datetime(2026, 12, 9, 14, 0)).visit
    mine = [m for m in pending(mail_desk) if m.visit_id == first.id]
    assert kinds(mine) == {"request": 1, "reminder": 1}
    request = next(m for m in mine if m.kind == "request")
    assert request.sequence == moved.sequence == first.sequence + 2
    (reminder,) = [m for m in mine if m.kind == "reminder"]
    assert reminder.due_at == moved.start - dt.timedelta(days=1)
    # Each visit has one pending request however many changes it went through.
    per_visit = Counter(m.visit_id for m in pending(mail_desk) if m.kind == "request")
    assert set(per_visit.values()) == {1}
    sent = send_everything_due(mail_desk)
    assert len(sent) == 7
    assert len({m.message_id for m in sent}) == 7


def test_a_visit_cancelled_before_anything_went_is_dropped_not_cancelled(
    mail_desk: Desk,
) -> None:
    first = consenting(mail_desk)[0]
    mail_desk.cancel_visit(first.id)
    assert [m for m in pending(mail_desk) if m.visit_id == first.id] == []


def test_after_sending_a_move_owes_a_request_and_a_cancel_a_cancel(
    mail_desk: Desk, clock: Clock
) -> None:
    visits = consenting(mail_desk)
    send_everything_due(mail_desk)
    assert kinds(pending(mail_desk)) == {"reminder": 7}
    clock.advance(minutes=5)
    change = mail_desk.move_visit(visits[0].id, dt.datetime(2026, 12, 8, 11, 0))
    requests = [m for m in pending(mail_desk) if m.kind == "request"]
    # The cascade moved the later sessions: each is owed its new state too.
    assert {m.visit_id for m in requests} == {visits[0].id, *(v.id for v in change.moved)}
    mail_desk.cancel_visit(visits[0].id)
    mine = [m for m in pending(mail_desk) if m.visit_id == visits[0].id]
    assert [m.kind for m in mine] == ["cancel"]
    assert mine[0].sequence == mail_desk.visit(visits[0].id).sequence
    letters = send_everything_due(mail_desk)
    assert any(m.message_id.startswith("<cancel.") for m in letters)


def test_withdrawing_a_course_cancels_what_was_sent(mail_desk: Desk) -> None:
    visits = consenting(mail_desk)
    send_everything_due(mail_desk)
    mail_desk.withdraw(mail_desk.enrollments(MRN)[0].id)
    assert kinds(pending(mail_desk)) == {"cancel": 7}
    assert {m.visit_id for m in pending(mail_desk)} == {v.id for v in visits}


def test_done_and_missed_visits_owe_no_reminder(mail_desk: Desk, clock: Clock) -> None:
    visits = consenting(mail_desk)
    send_everything_due(mail_desk)
    clock.now = utc(visits[0].start) + dt.timedelta(minutes=50)
    mail_desk.complete_visit(visits[0].id)
    assert [m for m in pending(mail_desk) if m.visit_id == visits[0].id] == []
    # A no-show is recorded once the visit's time has passed; its reminder was due
    # the day before and never went (nothing was sent since).
    clock.now = utc(visits[1].start) + dt.timedelta(minutes=20)
    mail_desk.miss_visit(visits[1].id)
    assert [m for m in pending(mail_desk) if m.visit_id == visits[1].id] == []


def test_consent_withdrawn_drops_what_waits_and_given_again_owes_the_course(
    mail_desk: Desk,
) -> None:
    consenting(mail_desk)
    mail_desk.update_patient(MRN, notify="none")
    assert pending(mail_desk) == []
    assert mail_desk.patient(MRN).notify == "none"
    mail_desk.update_patient(MRN, notify="email")
    assert kinds(pending(mail_desk)) == {"request": 7, "reminder": 7}
    entry = mail_desk.history(MRN)[-1]
    assert (entry.action, entry.after) == ("patient changed", {"notify": "email"})


def test_a_new_address_gets_the_course_again(mail_desk: Desk) -> None:
    consenting(mail_desk)
    send_everything_due(mail_desk)
    mail_desk.update_patient(MRN, email="alex.new@mail.example")
    sent = send_everything_due(mail_desk)
    assert len(sent) == 7
    assert {m.recipient for m in sent} == {"alex.new@mail.example"}
    assert send_everything_due(mail_desk) == []  # and once is enough


def test_the_patients_messages_newest_first(mail_desk: Desk) -> None:
    consenting(mail_desk)
    send_everything_due(mail_desk)
    latest = mail_desk.messages(MRN, limit=3)
    assert len(latest) == 3
    assert [m.id for m in latest] == sorted((m.id for m in latest), reverse=True)
    sent = [m for m in mail_desk.messages(MRN, limit=50) if m.status == "sent"]
    assert len(sent) == 7
    assert all(m.subject and m.subject.startswith("Appointment: ") for m in sent)
    assert all(m.sent_at is not None and m.message_id for m in sent)


def test_what_was_sent_is_not_kept_and_what_is_in_flight_is(mail_desk: Desk) -> None:
    consenting(mail_desk)
    now = to_utc(mail_desk._clock())
    claimed = sending.claim(mail_desk, now, 2).messages
    assert [m.id for m in sending.in_flight(mail_desk)] == [m.id for m in claimed]
    assert sending.in_flight(mail_desk)[0].content == claimed[0].content
    sending.delivered(mail_desk, claimed[0].id, now)
    sending.release(mail_desk, [claimed[1].id])
    assert sending.in_flight(mail_desk) == []
    with mail_desk.engine.connect() as c:
        kept = dict(c.execute(select(OUTBOX.c.id, OUTBOX.c.content)).all())
    assert kept[claimed[0].id] is None
    assert kept[claimed[1].id] is None


def test_temporary_failures_back_off_then_give_up(mail_desk: Desk, clock: Clock) -> None:
    consenting(mail_desk)
    now = to_utc(clock.now)
    first = sending.claim(mail_desk, now, 1).messages[0]
    retry = sending.deferred(mail_desk, first.id, now, "451 4.3.0 try again")
    assert retry == now + dt.timedelta(minutes=1)
    assert sending.claim(mail_desk, now, 100).messages[0].id != first.id  # not due yet
    later = now + dt.timedelta(days=3)
    # The rest went out meanwhile; the deferred one is claimed again when due.
    again = [m for m in sending.claim(mail_desk, later, 100).messages if m.id == first.id]
    assert again
    assert again[0].message_id == first.message_id
    assert sending.deferred(mail_desk, first.id, later, "451 4.3.0 still") is None
    (failed,) = [m for m in mail_desk.failed_messages() if m.id == first.id]
    assert failed.attempts == 2
    assert failed.error is not None
    assert "gave up" in failed.error


def test_failed_messages_stay_on_the_worklist_until_a_later_one_replaces_them(
    mail_desk: Desk, clock: Clock
) -> None:
    visits = consenting(mail_desk)
    now = to_utc(clock.now)
    for message in sending.claim(mail_desk, now, 100).messages:
        sending.refused(mail_desk, message.id, now, "550 5.1.1 <address>: no such user")
    failed = mail_desk.failed_messages()
    assert {m.visit_id for m in failed} == {v.id for v in visits}
    assert all(m.kind == "request" and m.error and m.error.startswith("550") for m in failed)
    clock.advance(minutes=5)
    mail_desk.update_patient(MRN, email="alex.fixed@mail.example")  # staff correct it
    assert mail_desk.failed_messages() == []
    assert len(mail_desk.outbox_messages(status="failed")) == 7  # the history stays


def test_a_row_that_no_longer_applies_is_skipped_with_why(mail_desk: Desk, clock: Clock) -> None:
    visits = consenting(mail_desk)
    send_everything_due(mail_desk)
    clock.now = utc(visits[0].start) + dt.timedelta(minutes=5)
    claimed = sending.claim(mail_desk, to_utc(clock.now), 100)
    assert claimed.messages == []
    (skipped,) = mail_desk.outbox_messages(status="skipped")
    assert skipped.visit_id == visits[0].id
    assert skipped.error == "the visit has begun"


def test_a_preview_renders_without_sending_or_keeping(mail_desk: Desk) -> None:
    consenting(mail_desk)
    before = mail_desk.outbox_messages()
    previews = mail_desk.preview_messages(MRN)
    assert len(previews) == 14
    letters = [letter for _, letter in previews if isinstance(letter, Letter)]
    assert len(letters) == 14
    assert {letter.recipient for letter in letters} == {EMAIL}
    assert mail_desk.outbox_messages() == before


def test_one_sender_at_a_time(mail_desk: Desk) -> None:
    with (
        sending.sender_lock(mail_desk),
        pytest.raises(InputError, match="another sender is running"),
        sending.sender_lock(mail_desk),
    ):
        pass
    with sending.sender_lock(mail_desk):
        pass  # free again once the first let go


def test_the_clinic_file_sets_when_reminders_go(db_url: str, catalog: object, clock: Clock) -> None:
    from tests.notify.support import MAIL_CLINIC
    from visitplan.catalog import ProtocolCatalog
    from visitplan.domain.clinic import parse_clinic
    from visitplan.records.operations import open_desk

    text = MAIL_CLINIC.replace("[hours]", "[reminders]\nemail_minutes_before = [2880, 60]\n[hours]")
    clinic = parse_clinic(text, "clinic.toml")
    assert isinstance(catalog, ProtocolCatalog)
    with open_desk(db_url, clinic, catalog, "tester", clock=clock) as desk:
        first = consenting(desk)[0]
        due = sorted(
            m.due_at for m in pending(desk) if m.visit_id == first.id and m.kind == "reminder"
        )
    assert due == [first.start - dt.timedelta(days=2), first.start - dt.timedelta(hours=1)]


def test_a_failed_e_mail_is_in_the_worklists_head_behind_any_backlog(
    mail_desk: Desk, clock: Clock
) -> None:
    consenting(mail_desk)
    for n in range(3):  # a backlog of courses entered late, their visits overdue
        mail_desk.add_patient(f"LATE{n}", f"Synthetic Late {n}")
        mail_desk.enroll(f"LATE{n}", "dextrose-prolotherapy", START, dt.time(11 + n))
    now = to_utc(clock.now)
    first = sending.claim(mail_desk, now, 1).messages[0]
    sending.refused(mail_desk, first.id, now, "550 5.1.1 <address>: Recipient address rejected")
    clock.advance(days=200)  # every visit's time has passed
    whole = mail_desk.worklist()
    assert whole[-1].reason == "message-failed"
    assert len(whole) > 5
    head = mail_desk.worklist_head(5)
    assert head.total == len(whole)
    assert [i.visit.id for i in head.items] == [i.visit.id for i in [*whole[:4], whole[-1]]]
    assert head.items[-1].detail == "550 5.1.1 <address>: Recipient address rejected"
