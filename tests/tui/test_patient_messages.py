"""The patient screen shows the patient's consent to e-mail and their latest messages
(what, about which visit, when, where it stands) from the records' outbox; consent is
edited in the patient edit form, through the records' own patient edit."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import Checkbox, Input, Static

from tests.support.tui import NOW, TuiClinic, mail_ada, settle
from visitplan.records import sending
from visitplan.tui.app import VisitplanApp
from visitplan.tui.screens.forms import Problems
from visitplan.tui.screens.patient import PatientScreen
from visitplan.tui.screens.patient_edit import EditPatientScreen

pytestmark = pytest.mark.anyio


def card(app: VisitplanApp) -> str:
    return str(app.screen.query_one("#patient-card", Static).content)


def messages(app: VisitplanApp) -> list[str]:
    box = app.screen.query_one("#patient-messages", Static)
    return str(box.content).splitlines() if box.display else []


def problems(app: VisitplanApp) -> str:
    return str(app.screen.query_one(Problems).content)


async def test_the_latest_messages_and_their_state(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        mail_ada(desk)
        # Session 3 moves a day, and what follows it: updates are owed; the mail
        # server refuses them too.
        third = desk.visits(mrn="P-1001")[2]
        desk.move_visit(third.id, third.start + dt.timedelta(days=1))
        now = NOW.replace(tzinfo=None)
        updates = sending.claim(desk, now, 100).messages
        assert updates
        for update in updates:
            sending.refused(desk, update.id, now, "550 5.1.1 <address>: Rejected")
        latest = desk.messages("P-1001", 3)
    assert [(m.kind, m.status) for m in latest] == [
        ("reminder", "pending"),
        ("request", "failed"),
        ("reminder", "pending"),
    ]
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_patient("P-1001")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        assert "ada@example.org" in card(app)
        assert card(app).endswith("· e-mail: agreed")
        # Newest first, times in the clinic's zone (18:00 in Seoul is 09:00 UTC).
        assert messages(app) == [
            "✉ Reminder · Session 4 of 6 · pending, goes Mon 2027-01-25 09:00",
            "✉ Update · Session 4 of 6 · failed (queued Mon 2026-12-14 18:00): see the "
            "worklist, F6",
            "✉ Reminder · Session 3 of 6 · pending, goes Mon 2027-01-11 09:00",
        ]
        await pilot.press("escape")
        await settle(pilot)
        app.open_patient("P-1003")  # never agreed to e-mail, never written to
        await settle(pilot)
        assert card(app).endswith("· e-mail: not agreed")
        assert messages(app) == []


async def test_a_sent_invitation_reads_as_sent(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        mail_ada(desk)
        sent = [m for m in desk.messages("P-1001", 3) if m.status == "sent"]
    assert len(sent) == 1
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_patient("P-1001")
        await settle(pilot)
        assert "✉ Invitation · Follow-up · sent Mon 2026-12-14 18:00" in messages(app)


async def test_consent_is_edited_in_the_patient_form(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_patient("P-1003")
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EditPatientScreen)
        consent = form.query_one("#notify", Checkbox)
        assert not consent.value
        consent.value = True
        await settle(pilot)
        # The records' own rule, from the dry run, in the form's words.
        assert problems(app) == (
            "✗ MRN P-1003: consent to e-mail needs the patient's e-mail address"
        )
        form.query_one("#email", Input).value = "chloe@example.org"
        await settle(pilot)
        assert problems(app) == "✓ ctrl+s saves the e-mail and consent to e-mail"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        assert card(app).endswith("· e-mail: agreed")
        # Her course is owed to her calendar now: the invitations wait in the outbox.
        owed = messages(app)
        assert owed
        assert all("pending" in line for line in owed)
        await pilot.press("h")
        await settle(pilot)
    with tui_clinic.desk() as desk:
        patient = desk.patient("P-1003")
        assert (patient.email, patient.notify) == ("chloe@example.org", "email")
        assert desk.outbox_messages(mrn="P-1003", status="pending")
        changes = [e for e in desk.history("P-1003") if e.action == "patient changed"]
        assert set(changes[-1].after or {}) == {"email", "notify"}
