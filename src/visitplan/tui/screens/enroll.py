"""Enroll: choose a protocol, a start date and a time, and see the whole course
planned by the engine before anything is saved. The ✓ is the enrollment itself run
as a dry run, so what it accepts the save accepts too."""

from __future__ import annotations

import contextlib
import datetime as dt
import time as clock
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Header, Input, Select, Static
from textual.worker import get_current_worker

from visitplan.domain.engine import Plan
from visitplan.domain.protocol import course_in_words
from visitplan.errors import InputError, NeedsOverride
from visitplan.tui.parsing import parse_date, parse_time
from visitplan.tui.screens.base import clinic_app, deliver, deliver_latest
from visitplan.tui.widgets.footer import Footer
from visitplan.tui.widgets.plan_table import PlanTable
from visitplan.tui.wording import ENROLL_ANOTHER, day_text

if TYPE_CHECKING:
    from visitplan.tui.data import ClinicData

# Seconds after the last keystroke before the preview and the dry run.
DEBOUNCE = 0.2


class EnrollScreen(Screen[int | None]):
    """Dismissed with the new enrollment's id, or None when left without saving."""

    TITLE = "Enroll"
    HOLDS_INPUT = True  # left with esc or saved, never with an F-key
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "save", "Enroll", priority=True),
        Binding("escape", "leave", "Back"),
    ]

    def __init__(self, mrn: str | None = None, protocol_id: str | None = None) -> None:
        super().__init__()
        self.mrn = mrn
        self.protocol_id = protocol_id
        self.plan: Plan | None = None
        self.problems: list[str] = []
        self.saving = False
        # What the form held when the preview on screen was made (the benchmark waits
        # on it, as on the patient list's shown_text).
        self.shown_typed: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        vp = clinic_app(self)
        yield Header()
        with VerticalScroll(id="enroll-body"):
            with Horizontal(id="enroll-fields"):
                yield self._field("mrn", "MRN", self.mrn or "")
                yield self._field("start", "Start", vp.today().isoformat())
                yield self._field("time", "Time", "09:00")
                # The clinician records, read as the screen opens (see on_mount).
                yield Select[str]([], prompt="No clinician", id="clinician")
            choices = [(e.protocol.title, e.id) for e in vp.catalog.all()]
            yield Select(
                choices,
                prompt="Protocol",
                value=self.protocol_id if self.protocol_id else choices[0][1],
                allow_blank=False,
                id="protocol",
            )
            yield Static(id="enroll-problems", markup=False)
            # Offered when the patient already has a running course of the protocol.
            another = Checkbox(ENROLL_ANOTHER, id="another")
            another.display = False
            yield another
            yield Static(id="course", markup=False)
            yield PlanTable(id="preview")
            yield Static(id="preview-summary", markup=False)
        yield Footer()

    def _field(self, name: str, title: str, value: str) -> Input:
        field = Input(value=value, id=name, placeholder=title)
        field.border_title = title
        return field

    def on_mount(self) -> None:
        if self.mrn:
            self.query_one("#start", Input).focus()
        else:
            self.query_one("#mrn", Input).focus()
        # The field's title, as the inputs beside it have theirs.
        self.query_one("#clinician", Select).query_one("SelectCurrent").border_title = "Clinician"
        self._load_clinicians()
        self.refresh_preview()

    @work(thread=True, exclusive=True, group="clinicians")
    def _load_clinicians(self) -> None:
        names = clinic_app(self).data.clinicians()
        deliver(self, self._show_clinicians, names)

    def _show_clinicians(self, names: Sequence[str]) -> None:
        self.query_one("#clinician", Select).set_options((name, name) for name in names)

    def _clinician(self) -> str | None:
        chosen = self.query_one("#clinician", Select)
        return None if chosen.is_blank() else str(chosen.value)

    def _another(self) -> bool:
        return self.query_one("#another", Checkbox).value

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self.refresh_preview()

    def _form(self) -> tuple[str, str, dt.date | None, dt.time | None, list[str]]:
        mrn = self.query_one("#mrn", Input).value.strip()
        protocol_id = str(self.query_one("#protocol", Select).value)
        start, start_problem = parse_date(self.query_one("#start", Input).value)
        time, time_problem = parse_time(self.query_one("#time", Input).value)
        problems = [f"Start: {start_problem}"] if start_problem else []
        problems += [f"Time: {time_problem}"] if time_problem else []
        return mrn, protocol_id, start, time, problems

    def refresh_preview(self) -> None:
        mrn, protocol_id, start, time, problems = self._form()
        entry = clinic_app(self).catalog.get(protocol_id)
        course = [
            entry.protocol.description.strip(),
            *(f"• {c}" for c in course_in_words(entry.protocol)),
        ]
        self.query_one("#course", Static).update("\n".join(line for line in course if line))
        if start is None or time is None:
            self._show_problems(problems, keep_plan=True)
            return
        box = self.query_one("#enroll-problems", Static)
        box.update("… checking with the records")
        box.set_class(False, "-invalid")
        self.problems = []  # a save meanwhile is the enrollment itself: it checks too
        self._plan(
            self._typed(),
            mrn,
            protocol_id,
            start,
            time,
            self._clinician(),
            self._another(),
            problems,
        )

    def _typed(self) -> tuple[str, ...]:
        return tuple(
            str(self.query_one(f"#{name}").value)  # type: ignore[attr-defined]
            for name in ("mrn", "start", "time", "clinician", "protocol", "another")
        )

    @work(thread=True, exclusive=True, group="preview")
    def _plan(
        self,
        typed: tuple[str, ...],
        mrn: str,
        protocol_id: str,
        start: dt.date,
        time: dt.time,
        clinician: str | None,
        another: bool,
        problems: list[str],
    ) -> None:
        clock.sleep(DEBOUNCE)
        if get_current_worker().is_cancelled:
            return  # typed on: a newer preview is coming
        data = clinic_app(self).data
        problems = list(problems)
        plan: Plan | None = None
        second = False  # a running course of the protocol: the tick is offered
        checked = False  # the enrollment's own check ran (and refused, if plan is None)
        try:
            if not mrn:
                problems.append("MRN: whose course is this? type the patient's MRN")
            elif not _on_record(data, mrn):
                problems.append(f"MRN: no patient {mrn!r} (add them on Patients with ctrl+n)")
            if problems:
                plan = data.preview(None, protocol_id, start, time, clinician)
            else:
                # The check is the enrollment itself, rolled back; the plan it would
                # have stored is the preview (one planning a keystroke, not two).
                checked = True
                plan = data.enroll(
                    mrn, protocol_id, start, time, clinician, another=another, dry_run=True
                ).plan
        except NeedsOverride as exc:
            problems.append(exc.message)
            second = exc.override == "another"
        except InputError as exc:
            problems.append(exc.message)
        if plan is None and checked:
            # Refused (a second course not ticked, say): the course is still shown as
            # it would be planned, beside the reason.
            with contextlib.suppress(InputError):  # refused for the reason already said
                plan = data.preview(mrn, protocol_id, start, time, clinician)
        deliver_latest(self, self._show, typed, plan, problems, second)

    def _show(
        self, typed: tuple[str, ...], plan: Plan | None, problems: list[str], second: bool
    ) -> None:
        if typed != self._typed():
            return  # typed on meanwhile
        self.shown_typed = typed
        tick = self.query_one("#another", Checkbox)
        tick.display = second or tick.value  # once ticked, it stays to be unticked
        if plan is not None:
            self.plan = plan
            self.query_one(PlanTable).show(plan)
            moved = sum(1 for v in plan.visits if v.shifted or v.reason)
            warned = sum(1 for v in plan.visits if v.warnings)
            summary = f"{len(plan.visits)} visits, {moved} moved, {warned} with warnings"
            if plan.visits:
                summary += f"; last on {day_text(plan.visits[-1].start.date())}"
            self.query_one("#preview-summary", Static).update(summary)
        self._show_problems(problems, keep_plan=plan is None)

    def _show_problems(self, problems: list[str], *, keep_plan: bool) -> None:
        self.problems = problems
        box = self.query_one("#enroll-problems", Static)
        box.update("\n".join(f"✗ {p}" for p in problems) if problems else "✓ ready: ctrl+s enrolls")
        box.set_class(bool(problems), "-invalid")

    def action_save(self) -> None:
        mrn, protocol_id, start, time, problems = self._form()
        if problems or self.problems or start is None or time is None or self.saving:
            if not self.saving:
                why = "; ".join(problems or self.problems)
                self.notify(f"Not saved: {why}", severity="error")
            return
        self.saving = True
        self._save(mrn, protocol_id, start, time, self._clinician(), self._another())

    @work(thread=True, exclusive=True, group="save")
    def _save(
        self,
        mrn: str,
        protocol_id: str,
        start: dt.date,
        time: dt.time,
        clinician: str | None,
        another: bool,
    ) -> None:
        data = clinic_app(self).data
        try:
            enrollment = data.enroll(
                mrn, protocol_id, start, time, clinician, another=another
            ).course
        except InputError as exc:
            deliver(self, self._failed, exc.message)
            return
        deliver(self, self._saved, mrn, enrollment)

    def _failed(self, message: str) -> None:
        self.saving = False
        self.notify(f"Not saved: {message}", severity="error", timeout=8)

    def _saved(self, mrn: str, enrollment: int) -> None:
        self.notify(f"Enrolled {mrn} in {self.query_one('#protocol', Select).value}")
        self.dismiss(enrollment)

    def action_leave(self) -> None:
        self.dismiss(None)


def _on_record(data: ClinicData, mrn: str) -> bool:
    """Whether a patient has this MRN (their record alone: the whole card, with every
    course and message, is read for nothing at each keystroke)."""
    try:
        data.patient_record(mrn)
    except InputError:
        return False
    return True
