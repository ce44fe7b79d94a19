"""Closing the clinic on a day (a snow day, a burst pipe), or one clinician (leave),
from the month view. The check is the closure itself run as a dry run: it lists the
open visits the closure would leave on a closed day, or, with rebooking ticked,
where the engine would book each of them (and what moves along), before anything
is saved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select

from visitplan.tui.parsing import parse_date
from visitplan.tui.screens.base import deliver
from visitplan.tui.screens.forms import CheckedForm, Problems, _field
from visitplan.tui.wording import day_text, moment_text, visit_name, with_weekdays

if TYPE_CHECKING:
    from visitplan.records.clinic_ops import ClinicReport

REBOOK = "Book them again"
# Visits listed in the form; the rest are counted (the worklist has them all).
SHOWN = 6


def span_text(first: dt.date, last: dt.date) -> str:
    return day_text(first) if first == last else f"{day_text(first)} to {day_text(last)}"


def report_lines(report: ClinicReport, rebook: bool) -> list[str]:
    """What a closure does to the visits, a line each, at most ``SHOWN`` of them."""
    if not report.affected:
        return ["no open visit is booked then"]
    n = len(report.affected)
    visits = f"{n} open visit{'s' if n != 1 else ''}"
    if not rebook:
        lines = [f"{visits} would be left on a closed day (the worklist shows them):"]
        lines += [f"• {moment_text(a.visit.start)} {visit_name(a.visit)}" for a in report.affected]
    else:
        stuck = {a.visit.id for a in report.still}
        lines = [f"{visits} on a closed day; booked again, with what follows them:"]
        lines += [f"• {visit_name(v)} → {moment_text(v.start)}" for v in report.moved]
        lines += [
            f"• {visit_name(a.visit)} stays: {with_weekdays(a.problem)}"
            for a in report.affected
            if a.visit.id in stuck
        ]
    if len(lines) > SHOWN + 1:
        lines = [*lines[:SHOWN], f"… and {len(lines) - SHOWN} more"]
    return lines


class CloseDayScreen(CheckedForm):
    """Dismissed with an ``Outcome`` once saved, or None."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", priority=True)]  # noqa: RUF012

    def __init__(self, day: dt.date) -> None:
        super().__init__()
        self.day = day

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Close the clinic from {day_text(self.day)}", classes="question")
            with Horizontal(classes="fields"):
                yield _field("first", "From", self.day.isoformat())
                yield _field("last", "To", self.day.isoformat())
                yield _field("reason", "Reason")
            with Horizontal(classes="fields"):
                yield Select[str]([], prompt="The whole clinic", id="clinician")
                yield Checkbox(REBOOK, id="rebook")
            yield Problems(id="problems", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Close the day (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        who = self.query_one("#clinician", Select)
        who.query_one("SelectCurrent").border_title = "For (one clinician: leave)"
        self.query_one("#reason", Input).focus()
        self._load_clinicians()
        self.check()

    @work(thread=True, exclusive=True, group="clinicians")
    def _load_clinicians(self) -> None:
        deliver(self, self._show_clinicians, self.vp.data.clinicians())

    def _show_clinicians(self, names: Sequence[str]) -> None:
        self.query_one("#clinician", Select).set_options((name, name) for name in names)

    def inputs(self) -> tuple[Hashable, list[str]]:
        first, first_problem = parse_date(self.query_one("#first", Input).value)
        last, last_problem = parse_date(self.query_one("#last", Input).value)
        problems = [f"From: {first_problem}"] if first_problem else []
        problems += [f"To: {last_problem}"] if last_problem else []
        who = self.query_one("#clinician", Select)
        typed = (
            first,
            last,
            self.query_one("#reason", Input).value,
            None if who.is_blank() else str(who.value),
            self.query_one("#rebook", Checkbox).value,
        )
        return typed, problems

    def attempt(self, typed: Any, *, dry_run: bool) -> str:
        first, last, reason, clinician, rebook = typed
        report = self.vp.data.add_closure(
            first, last, reason, clinician, rebook=rebook, dry_run=dry_run
        )
        whom = f" for {clinician}" if clinician else ""
        if dry_run:
            lines = report_lines(report, rebook)
            return f"closes {span_text(first, last)}{whom}; " + "\n".join(lines)
        moved = len(report.moved)
        said = f"Closed {span_text(first, last)}{whom} ({' '.join(reason.split())})"
        if rebook and report.affected:
            return f"{said}: {moved} visit{'s' if moved != 1 else ''} booked again"
        if report.affected:
            return f"{said}: {len(report.affected)} open visits on the worklist"
        return said

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self.check()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()
