"""Correcting a patient's record from the patient screen (E): the form starts from the
record as stored, checks with the records' own edit as a dry run, refuses to save over
someone else's change, and the change is in the patient's history."""

from __future__ import annotations

import pytest
from textual.widgets import Input, TextArea

from tests.support.tui import TuiClinic, screen_text, settle
from visitplan.tui.screens.forms import Problems
from visitplan.tui.screens.patient import PatientScreen
from visitplan.tui.screens.patient_edit import EditPatientScreen

pytestmark = pytest.mark.anyio


def problems(app: object) -> str:
    return str(app.screen.query_one(Problems).content)  # type: ignore[attr-defined]


async def test_edit_starts_from_the_record_and_saves_what_changed(tui_clinic: TuiClinic) -> None:
    with tui_clinic.desk() as desk:
        desk.update_patient("P-1003", notes="left knee\nprefers mornings", email="c@example.org")
    app = tui_clinic.app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_patient("P-1003")
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EditPatientScreen)
        assert form.query_one("#name", Input).value == "Chloe Test"
        assert form.query_one("#phone", Input).value == "010-0000-0000"
        assert form.query_one("#email", Input).value == "c@example.org"
        assert form.query_one("#notes", TextArea).text == "left knee\nprefers mornings"
        assert problems(app) == "✓ nothing changed yet"
        # The records' own rule, from the dry run: an address without @ is refused.
        form.query_one("#email", Input).value = "chloe.example.org"
        await settle(pilot)
        assert problems(app) == "✗ MRN P-1003: 'chloe.example.org' is not an e-mail address"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EditPatientScreen)  # refused, still open
        form.query_one("#email", Input).value = ""  # clears it
        form.query_one("#phone", Input).value = "010-1234-5678"
        form.query_one("#notes", TextArea).text = "left knee"
        await settle(pilot)
        assert problems(app) == "✓ ctrl+s saves the phone, e-mail and notes"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        text = screen_text(app)
        assert "010-1234-5678" in text
        assert "c@example.org" not in text
        # The records audited it; the history says which fields, never their values.
        await pilot.press("h")
        await settle(pilot)
        history = screen_text(app)
        assert "phone and e-mail and notes changed by tester" in history
        assert "left knee" not in history
    with tui_clinic.desk() as desk:
        patient = desk.patient("P-1003")
        assert (patient.phone, patient.email, patient.notes) == ("010-1234-5678", None, "left knee")
        changes = [e for e in desk.history("P-1003") if e.action == "patient changed"]
        assert changes[-1].who == "tester"
        assert set(changes[-1].after or {}) == {"phone", "email", "notes"}


async def test_an_edit_over_someone_elses_change_is_refused(tui_clinic: TuiClinic) -> None:
    app = tui_clinic.app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_patient("P-1001")
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        assert isinstance(app.screen, EditPatientScreen)
        # Another workstation corrects her phone while this form is open.
        with tui_clinic.desk() as other:
            other.update_patient("P-1001", phone="010-9999-9999")
        app.screen.query_one("#name", Input).value = "Ada Exemplar"
        await settle(pilot)
        stale = (
            "✗ Ada Example's record was changed by someone else since this form opened: "
            "close it (esc) and edit again to see their change"
        )
        assert problems(app) == stale
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EditPatientScreen)
        assert problems(app) == stale
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        assert app.screen.query_one("#phone", Input).value == "010-9999-9999"
    with tui_clinic.desk() as desk:
        patient = desk.patient("P-1001")
        assert (patient.name, patient.phone) == ("Ada Example", "010-9999-9999")
