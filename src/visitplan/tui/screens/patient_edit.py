"""Correcting a patient's record: name, phone, e-mail, consent to e-mail and notes, as
stored when the form opened. The check is the records' own edit run as a dry run, revision-checked:
if someone else saved the record meanwhile, the form says so rather than overwrite."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, TextArea

from visitplan.records.views import PatientView
from visitplan.tui.screens.forms import CheckedForm, Problems, _field

FIELDS = (
    ("name", "name"),
    ("phone", "phone"),
    ("email", "e-mail"),
    ("notify", "consent to e-mail"),
    ("notes", "notes"),
)
# The patient's consent (issue 15): invitations, updates and reminders go only with it.
CONSENT = "Agreed to e-mail"


def changed_fields(before: PatientView, after: PatientView) -> list[str]:
    """The fields an edit changes, as staff call them (never their values: the
    screen is shared)."""
    return [word for key, word in FIELDS if getattr(before, key) != getattr(after, key)]


class EditPatientScreen(CheckedForm):
    """Dismissed with an ``Outcome`` once saved, or None."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", priority=True)]  # noqa: RUF012

    def __init__(self, patient: PatientView) -> None:
        super().__init__()
        self.patient = patient

    def compose(self) -> ComposeResult:
        p = self.patient
        with Vertical(classes="dialog"):
            yield Label(f"Edit the record of {p.name} (MRN {p.mrn})", classes="question")
            with Horizontal(classes="fields"):
                yield _field("name", "Name", p.name)
                yield Checkbox(
                    CONSENT,
                    p.notify == "email",
                    id="notify",
                    tooltip="Calendar invitations, updates and reminders by e-mail",
                )
            with Horizontal(classes="fields"):
                yield _field("phone", "Phone (empty: none)", p.phone or "")
                yield _field("email", "E-mail (empty: none)", p.email or "")
            notes = TextArea(p.notes, id="notes", soft_wrap=True, show_line_numbers=False)
            notes.border_title = "Notes"
            yield notes
            yield Problems(id="problems", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self.check()

    def inputs(self) -> tuple[Hashable, list[str]]:
        typed = (
            *(self.query_one(f"#{name}", Input).value for name in ("name", "phone", "email")),
            self.query_one("#notes", TextArea).text,
            "email" if self.query_one("#notify", Checkbox).value else "none",
        )
        return typed, []

    def attempt(self, typed: Any, *, dry_run: bool) -> str:
        name, phone, email, notes, notify = typed
        after = self.vp.data.edit_patient(
            self.patient, name, phone, email, notes, notify=notify, dry_run=dry_run
        )
        changed = changed_fields(self.patient, after)
        if not changed:
            return "nothing changed yet" if dry_run else f"Nothing changed in {after.mrn}'s record"
        if dry_run:
            return "saves the " + _and(changed)
        return f"Saved the {_and(changed)} of {after.mrn}"

    def ready(self, does: str) -> str:
        return f"ctrl+s {does}" if does.startswith("saves") else does

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self.check()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
