"""Modal forms and questions. Each checks what is typed by running the change itself
as a dry run (the records' own operation, rolled back) a moment after typing stops,
and shows the records' answer: ✓ with what saving will do, or ✗ with why not. So a
✓ is never followed by a refusal, and no rule is written twice."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static
from textual.worker import get_current_worker

from visitplan.errors import InputError
from visitplan.records.views import VisitChange, VisitView
from visitplan.tui.data import ExportChoice
from visitplan.tui.parsing import parse_date, parse_time
from visitplan.tui.screens.base import ClinicScreen, Modal, deliver
from visitplan.tui.wording import (
    day_text,
    moment_text,
    visit_name,
    window_text,
    with_weekdays,
)

# Seconds after the last keystroke before the dry run: one check per pause, not
# one per character (each is a short write transaction, rolled back).
DEBOUNCE = 0.25


def _field(name: str, title: str, value: str = "") -> Input:
    field = Input(value=value, id=name, placeholder=title)
    field.border_title = title
    return field


class Problems(Static):
    """The inline messages under a form: ✗ for a problem, ✓ when it can be saved."""

    def say(self, problems: list[str], ready: str) -> None:
        self.update("\n".join(f"✗ {p}" for p in problems) if problems else f"✓ {ready}")
        self.set_class(bool(problems), "-invalid")
        self.set_class(False, "-checking")

    def checking(self) -> None:
        self.update("… checking with the records")
        self.set_class(False, "-invalid")
        self.set_class(True, "-checking")


def change_summary(change: VisitChange) -> str:
    """What a visit change does (or did): where the visit goes, what moves with it,
    and anything staff must look at."""
    visit = change.visit
    parts = [moment_text(visit.start)]
    if visit.reason:
        parts.append(f"({with_weekdays(visit.reason)})")
    text = " ".join(parts)
    if visit.deviation and not visit.in_window:  # (the hours' deviation is a warning too)
        text += f", as a deviation: {with_weekdays(visit.deviation)}"
    if visit.warnings:
        text += "; ⚠ " + "; ⚠ ".join(with_weekdays(w) for w in visit.warnings)
    if change.moved:
        text += "; also moves " + ", ".join(
            f"{m.label} to {moment_text(m.start)}" for m in change.moved
        )
    return text


class CheckedForm(Modal[Any]):
    """A form whose check is its change run as a dry run (``attempt``)."""

    def inputs(self) -> tuple[Hashable, list[str]]:
        """What is typed (to tell whether a check is still about it) and the problems
        of its shape (a date that is not one), which need no dry run."""
        raise NotImplementedError

    def attempt(self, typed: Any, *, dry_run: bool) -> str:
        """Run the change (from a worker thread); what it does, in words."""
        raise NotImplementedError

    def ready(self, does: str) -> str:
        return f"ctrl+s: {does}"

    def __init__(self) -> None:
        super().__init__()
        self.saving = False

    def check(self) -> None:
        typed, problems = self.inputs()
        box = self.query_one(Problems)
        if problems:
            box.say(problems, "")
            return
        box.checking()
        self._dry_run(typed)

    @work(thread=True, exclusive=True, group="check")
    def _dry_run(self, typed: Hashable) -> None:
        time.sleep(DEBOUNCE)
        if get_current_worker().is_cancelled:
            return  # typed on: a newer check is coming
        try:
            does, problems = self.attempt(typed, dry_run=True), []
        except InputError as exc:
            does, problems = "", [exc.message]
        deliver(self, self._checked, typed, does, problems)

    def _checked(self, typed: Hashable, does: str, problems: list[str]) -> None:
        if self.saving or typed != self.inputs()[0]:
            return
        self.query_one(Problems).say(problems, self.ready(does))

    def action_save(self) -> None:
        typed, problems = self.inputs()
        if problems:
            self.query_one(Problems).say(problems, "")
            return
        if self.saving:
            return
        self.saving = True
        self.query_one(Problems).update("… saving")
        self._save(typed)

    @work(thread=True, exclusive=True, group="save")
    def _save(self, typed: Hashable) -> None:
        try:
            message = self.attempt(typed, dry_run=False)
        except InputError as exc:
            deliver(self, self._refused, exc.message)
            return
        deliver(self, self.dismiss, Outcome(message))

    def _refused(self, message: str) -> None:
        self.saving = False
        self.query_one(Problems).say([message], "")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)


class ConfirmScreen(Modal[bool]):
    """A yes/no question; y or enter says yes, n or escape says no. With ``check``
    (the change as a dry run), a change the records would refuse says why at once
    and cannot be said yes to."""

    BINDINGS = [  # noqa: RUF012
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
    ]
    HOLDS_INPUT = False  # a question: an F-key closes it, answering no

    def __init__(
        self, question: str, yes: str = "Yes", check: Callable[[], str] | None = None
    ) -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.check = check
        self.refused = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="question")
            if self.check is not None:
                yield Problems(id="problems", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="primary")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()
        if self.check is not None:
            self.query_one(Problems).checking()
            self._dry_run(self.check)

    @work(thread=True, exclusive=True, group="check")
    def _dry_run(self, check: Callable[[], str]) -> None:
        try:
            does, problems = check(), []
        except InputError as exc:
            does, problems = "", [exc.message]
        deliver(self, self._checked, does, problems)

    def _checked(self, does: str, problems: list[str]) -> None:
        self.refused = bool(problems)
        self.query_one(Problems).say(problems, does)
        self.query_one("#yes", Button).disabled = self.refused
        if self.refused:
            self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        if yes and self.refused:
            return  # the reason is on screen
        self.dismiss(yes)


def confirm_change(
    screen: ClinicScreen,
    question: str,
    yes: str,
    check: Callable[[], str],
    job: Callable[[], object],
    done: str,
) -> None:
    """Ask ``question`` (the answer's button says ``yes``) under what ``check``, the
    change run as a dry run, says it does; on yes, ``screen`` makes the change (``job``)."""

    def answered(agreed: bool | None) -> None:
        if agreed:
            screen.change(job, done)

    screen.app.push_screen(ConfirmScreen(question, yes, check), answered)


class GoToDateScreen(Modal[dt.date]):
    def __init__(self, current: dt.date) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Go to date", classes="question")
            yield _field("date", "Date (YYYY-MM-DD)", self.current.isoformat())
            yield Problems(id="problems", markup=False)

    def on_mount(self) -> None:
        self._check()

    @on(Input.Changed)
    def _check(self) -> None:
        day, problem = parse_date(self.query_one(Input).value)
        ready = f"enter opens {day_text(day)}" if day is not None else ""
        self.query_one(Problems).say([problem] if problem else [], ready)

    @on(Input.Submitted)
    def _go(self) -> None:
        day, _ = parse_date(self.query_one(Input).value)
        if day is not None:
            self.dismiss(day)


Audience = Literal["staff", "patient"]
Privacy = Literal["full", "initials", "none"]
AUDIENCES: list[tuple[str, Audience]] = [
    ("For the patient: what they should know, with reminders", "patient"),
    ("For staff: notes and assessments", "staff"),
]
PRIVACY: list[tuple[str, Privacy]] = [
    ("Patient shown by initials and MRN", "initials"),
    ("Patient's full name", "full"),
    ("No patient details", "none"),
]


def documents() -> Path:
    from platformdirs import user_documents_dir

    return Path(user_documents_dir())


def suggested_export(mrn: str, audience: str) -> Path:
    return documents() / f"{mrn}-{audience}.ics"


class ExportScreen(Modal[ExportChoice]):
    """The patient's calendar as a file: for whom, how private, where. A file that
    exists already is replaced only after asking."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", priority=True)]  # noqa: RUF012

    def __init__(self, mrn: str) -> None:
        super().__init__()
        self.mrn = mrn
        # The proposed file follows the audience until the person types their own.
        self.proposed = suggested_export(mrn, "patient")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Export the calendar of {self.mrn} (.ics)", classes="question")
            yield Select(AUDIENCES, value="patient", allow_blank=False, id="audience")
            yield Select(PRIVACY, value="initials", allow_blank=False, id="privacy")
            yield Checkbox("Reminders (alarms) in the patient's calendar", True, id="alarms")
            yield _field("path", "File", str(self.proposed))
            yield Problems(id="problems", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#audience", Select).focus()
        self._check()

    def choice(self) -> tuple[ExportChoice | None, list[str]]:
        path = Path(self.query_one("#path", Input).value.strip()).expanduser()
        if path.name and not path.is_absolute():
            # A bare name goes where the form proposed, never into whatever folder the
            # app happened to be started from.
            path = documents() / path
        problems = []
        if not path.name:
            problems.append("a file name is needed")
        elif not path.parent.is_dir() and path.parent != documents():
            problems.append(f"no folder {path.parent}")
        elif path.is_dir():
            problems.append(f"{path} is a folder; add a file name")
        if problems:
            return None, problems
        audience = cast(Audience, self.query_one("#audience", Select).value)
        privacy = cast(Privacy, self.query_one("#privacy", Select).value)
        alarms = self.query_one("#alarms", Checkbox).value
        return ExportChoice(path, audience, privacy, alarms), []

    @on(Select.Changed, "#audience")
    def _audience(self) -> None:
        audience = str(self.query_one("#audience", Select).value)
        field = self.query_one("#path", Input)
        if Path(field.value.strip()).expanduser() == self.proposed:
            self.proposed = suggested_export(self.mrn, audience)
            field.value = str(self.proposed)
        staff = audience == "staff"
        self.query_one("#privacy", Select).disabled = not staff
        self.query_one("#alarms", Checkbox).disabled = staff
        self._check()

    @on(Input.Changed)
    @on(Select.Changed, "#privacy")
    @on(Checkbox.Changed)
    def _check(self) -> None:
        choice, problems = self.choice()
        ready = "ctrl+s saves it"
        typed = Path(self.query_one("#path", Input).value.strip()).expanduser()
        if choice is not None and not typed.is_absolute():
            ready = f"ctrl+s saves it as {choice.path}"
        if choice is not None and not choice.path.parent.is_dir():
            ready = f"ctrl+s saves it (and makes your documents folder {choice.path.parent})"
        elif choice is not None and choice.path.exists():
            ready = f"ctrl+s replaces {choice.path.name} (you will be asked first)"
        self.query_one(Problems).say(problems, ready)

    @on(Input.Submitted)
    def action_save(self) -> None:
        choice, problems = self.choice()
        if choice is None:
            self.query_one(Problems).say(problems, "")
            return
        if not choice.path.exists():
            try:
                choice.path.parent.mkdir(parents=True, exist_ok=True)  # documents only
            except OSError as exc:
                self.query_one(Problems).say([f"cannot make {choice.path.parent}: {exc}"], "")
                return
            self.dismiss(choice)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(choice)

        question = f"{choice.path} exists already. Replace it?"
        self.app.push_screen(ConfirmScreen(question, "Replace"), answered)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a form did, for the notification."""

    message: str


class VisitForm(CheckedForm):
    """Date and time of a visit; subclasses say what saving does."""

    heading = ""

    BINDINGS = [Binding("ctrl+s", "save", "Save", priority=True)]  # noqa: RUF012

    def __init__(self, visit: VisitView) -> None:
        super().__init__()
        self.visit = visit

    def compose(self) -> ComposeResult:
        v = self.visit
        with Vertical(classes="dialog"):
            yield Label(f"{self.heading} {visit_name(v)} ({v.mrn})", classes="question")
            yield Static(
                f"Now {moment_text(v.start)}\nTarget {day_text(v.target)}, window {window_text(v)}",
                markup=False,
            )
            with Horizontal(classes="fields"):
                yield _field("date", "Date", self.start_value().date().isoformat())
                yield _field("time", "Time", f"{self.start_value():%H:%M}")
            yield from self.extra()
            yield Problems(id="problems", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def start_value(self) -> dt.datetime:
        return self.visit.start

    def extra(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.query_one("#date", Input).focus()
        self.check()

    def inputs(self) -> tuple[Hashable, list[str]]:
        day, day_problem = parse_date(self.query_one("#date", Input).value)
        time_of_day, time_problem = parse_time(self.query_one("#time", Input).value)
        problems = [p for p in (day_problem, time_problem) if p]
        if day is None or time_of_day is None:
            return None, problems
        # Clinic time, as the records take a naive time.
        return (dt.datetime.combine(day, time_of_day), *self.options()), problems

    def options(self) -> tuple[Hashable, ...]:
        return ()

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self.check()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()


class DoneScreen(VisitForm):
    heading = "Done:"

    def ready(self, does: str) -> str:
        return f"ctrl+s records it as done at {does}"

    def attempt(self, typed: Any, *, dry_run: bool) -> str:
        (when,) = typed
        change = self.vp.data.done(self.visit, when, dry_run=dry_run)
        if dry_run:
            return change_summary(change)
        return f"Done: {visit_name(self.visit)} at {change_summary(change)}"


class AddPatientScreen(CheckedForm):
    BINDINGS = [Binding("ctrl+s", "save", "Save", priority=True)]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Add a patient", classes="question")
            with Horizontal(classes="fields"):
                yield _field("mrn", "MRN")
                yield _field("name", "Name")
            with Horizontal(classes="fields"):
                yield _field("phone", "Phone (optional)")
                yield _field("email", "E-mail (optional)")
            yield Problems(id="problems", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#mrn", Input).focus()
        self.check()

    def inputs(self) -> tuple[Hashable, list[str]]:
        values = tuple(
            self.query_one(f"#{name}", Input).value.strip()
            for name in ("mrn", "name", "phone", "email")
        )
        if not values[0] and not values[1]:
            return values, ["MRN and name: needed"]
        return values, []

    def ready(self, does: str) -> str:
        return "ctrl+s saves"

    def attempt(self, typed: Any, *, dry_run: bool) -> str:
        mrn, name, phone, email = typed
        self.vp.data.add_patient(mrn, name, phone or None, email or None, dry_run=dry_run)
        return f"Added {mrn}"

    @on(Input.Changed)
    def _changed(self) -> None:
        self.check()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()
