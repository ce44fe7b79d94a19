"""Modal forms and questions: each checks its fields as people type and changes
nothing until the change itself succeeds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from visitplan.errors import InputError
from visitplan.records.views import VisitView
from visitplan.tui.parsing import parse_date, parse_time
from visitplan.tui.screens.base import Modal


def _field(name: str, title: str, value: str = "") -> Input:
    field = Input(value=value, id=name, placeholder=title)
    field.border_title = title
    return field


class Problems(Static):
    """The inline messages under a form: ✗ for a problem, ✓ when it can be saved."""

    def say(self, problems: list[str], ready: str) -> None:
        self.update("\n".join(f"✗ {p}" for p in problems) if problems else f"✓ {ready}")
        self.set_class(bool(problems), "-invalid")


class ConfirmScreen(Modal[bool]):
    """A yes/no question; y or enter says yes, n or escape says no."""

    BINDINGS = [  # noqa: RUF012
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
    ]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="primary")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class GoToDateScreen(Modal[dt.date]):
    def __init__(self, current: dt.date) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Go to date", classes="question")
            yield _field("date", "Date (YYYY-MM-DD)", self.current.isoformat())
            yield Problems(id="problems", markup=False)

    @on(Input.Changed)
    def _check(self) -> None:
        _, problem = parse_date(self.query_one(Input).value)
        self.query_one(Problems).say([problem] if problem else [], "enter opens that day")

    @on(Input.Submitted)
    def _go(self) -> None:
        day, _ = parse_date(self.query_one(Input).value)
        if day is not None:
            self.dismiss(day)


class ExportScreen(Modal[Path]):
    """Where to save a calendar file."""

    def __init__(self, suggested: Path) -> None:
        super().__init__()
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Export the patient's calendar (.ics)", classes="question")
            yield _field("path", "File", str(self.suggested))
            yield Problems(id="problems", markup=False)

    @on(Input.Changed)
    def _check(self) -> None:
        path = Path(self.query_one(Input).value.strip()).expanduser()
        problems = []
        if not path.name:
            problems.append("a file name is needed")
        elif not path.parent.is_dir():
            problems.append(f"no directory {path.parent}")
        self.query_one(Problems).say(problems, "enter saves it")

    @on(Input.Submitted)
    def _save(self) -> None:
        path = Path(self.query_one(Input).value.strip()).expanduser()
        if path.name and path.parent.is_dir():
            self.dismiss(path)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a form did, for the notification."""

    message: str


class VisitForm(Modal[Outcome]):
    """Date and time of a visit; subclasses say what saving does."""

    heading = ""
    ready = "ctrl+s saves"

    BINDINGS = [Binding("ctrl+s", "save", "Save", priority=True)]  # noqa: RUF012

    def __init__(self, visit: VisitView) -> None:
        super().__init__()
        self.visit = visit
        self.saving = False

    def compose(self) -> ComposeResult:
        v = self.visit
        with Vertical(classes="dialog"):
            yield Label(
                f"{self.heading}: {v.label}, {v.patient_name} ({v.mrn})", classes="question"
            )
            yield Static(
                f"Target {v.target:%a %Y-%m-%d}, window {v.earliest:%m-%d}..{v.latest:%m-%d}; "
                f"now {v.start:%a %Y-%m-%d %H:%M}",
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
        self._check()

    def moment(self) -> tuple[dt.datetime | None, list[str]]:
        day, day_problem = parse_date(self.query_one("#date", Input).value)
        time, time_problem = parse_time(self.query_one("#time", Input).value)
        problems = [p for p in (day_problem, time_problem) if p]
        if day is None or time is None:
            return None, problems
        import pendulum

        tz = self.vp.calendar.tz
        when = pendulum.datetime(day.year, day.month, day.day, time.hour, time.minute, tz=tz)
        return when, problems

    @on(Input.Changed)
    def _check(self) -> None:
        when, problems = self.moment()
        notes: list[str] = []
        if when is not None:
            why = self.vp.calendar.closed_because(when.date())
            if why:
                notes.append(f"the clinic is closed that day: {why}")
            if not self.visit.earliest <= when.date() <= self.visit.latest:
                notes.append("outside the visit's window")
        ready = self.ready + (f" ({'; '.join(notes)})" if notes else "")
        self.query_one(Problems).say(problems, ready)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    @on(Input.Submitted)
    def action_save(self) -> None:
        when, problems = self.moment()
        if when is None or problems or self.saving:
            return
        self.saving = True
        self._save(when)

    @work(thread=True, exclusive=True)
    def _save(self, when: dt.datetime) -> None:
        try:
            message = self.apply(when)
        except InputError as exc:
            self.app.call_from_thread(self._refused, exc.message)
            return
        self.app.call_from_thread(self.dismiss, Outcome(message))

    def _refused(self, message: str) -> None:
        self.saving = False
        self.query_one(Problems).say([message], "")

    def apply(self, when: dt.datetime) -> str:
        raise NotImplementedError


class MoveScreen(VisitForm):
    heading = "Move"
    ready = "ctrl+s moves it and carries later visits along"

    def extra(self) -> ComposeResult:
        yield Checkbox(
            "Force: book outside the window or on a closed day (a deviation)", id="force"
        )

    def apply(self, when: dt.datetime) -> str:
        force = self.query_one("#force", Checkbox).value
        moved = self.vp.data.move(self.visit, when, force)
        also = f"; also moved: {', '.join(moved)}" if moved else ""
        return f"Moved {self.visit.label} to {when:%a %Y-%m-%d %H:%M}{also}"


class DoneScreen(VisitForm):
    heading = "Done"
    ready = "ctrl+s records it as done at this time"

    def apply(self, when: dt.datetime) -> str:
        self.vp.data.done(self.visit, when)
        return f"Done: {self.visit.label} for {self.visit.mrn}"


class AddPatientScreen(Modal[Outcome]):
    BINDINGS = [Binding("ctrl+s", "save", "Save", priority=True)]  # noqa: RUF012

    def __init__(self) -> None:
        super().__init__()
        self.taken: set[str] = set()
        self.saving = False

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
        self._check()

    def values(self) -> dict[str, str]:
        return {
            name: self.query_one(f"#{name}", Input).value.strip()
            for name in ("mrn", "name", "phone", "email")
        }

    def problems(self) -> list[str]:
        v = self.values()
        if not v["mrn"] and not v["name"]:
            return ["MRN and name: needed"]
        if v["mrn"] in self.taken:
            return [f"MRN {v['mrn']!r} is already a patient"]
        try:
            # The records layer's own check, so the form and the save agree.
            self.vp.data.check_patient(v["mrn"], v["name"], v["phone"], v["email"])
        except InputError as exc:
            return [exc.message]
        return []

    @on(Input.Changed)
    def _check(self) -> None:
        self.query_one(Problems).say(self.problems(), "ctrl+s saves")
        mrn = self.values()["mrn"]
        if mrn:
            self._look_up(mrn)

    @work(thread=True, exclusive=True, group="lookup")
    def _look_up(self, mrn: str) -> None:
        if self.vp.data.patient(mrn) is not None:
            self.app.call_from_thread(self._taken, mrn)

    def _taken(self, mrn: str) -> None:
        self.taken.add(mrn)
        self.query_one(Problems).say(self.problems(), "ctrl+s saves")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    @on(Input.Submitted)
    def action_save(self) -> None:
        if self.problems() or self.saving:
            self.query_one(Problems).say(self.problems() or ["saving…"], "")
            return
        self.saving = True
        self._save(self.values())

    @work(thread=True, exclusive=True, group="save")
    def _save(self, v: dict[str, str]) -> None:
        try:
            self.vp.data.add_patient(v["mrn"], v["name"], v["phone"] or None, v["email"] or None)
        except InputError as exc:
            self.app.call_from_thread(self._refused, exc.message)
            return
        self.app.call_from_thread(self.dismiss, Outcome(f"Added {v['mrn']}"))

    def _refused(self, message: str) -> None:
        self.saving = False
        self.query_one(Problems).say([message], "")
