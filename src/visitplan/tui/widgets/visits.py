"""How a stored visit reads on screen: status with a symbol, why it is where it is,
and the line that says everything about the highlighted one."""

from __future__ import annotations

from visitplan.records.views import VisitView
from visitplan.tui.data import status_text
from visitplan.tui.wording import day_text, window_text, with_weekdays


def visit_note(visit: VisitView) -> str:
    """Warnings and why the visit moved, whole (shown on a line of their own)."""
    parts = []
    if not visit.in_window and visit.status != "cancelled":
        parts.append(f"⚠ outside its window {window_text(visit)}")
    parts += [f"⚠ {with_weekdays(w)}" for w in visit.warnings]
    # Both are kept: a deviation staff chose, and what the planner did or followed.
    if visit.deviation:
        parts.append(f"↷ booked as a deviation: {with_weekdays(visit.deviation)}")
    if visit.reason:
        parts.append(f"↷ {with_weekdays(visit.reason)}")
    return "  ".join(parts)


def patient_text(visit: VisitView) -> str:
    """Whose visit it is, as a list row shows it (the agenda, the worklist)."""
    return f"{visit.patient_name} · {visit.mrn}"


def visit_status(visit: VisitView) -> str:
    return status_text(visit.status)


def visit_detail(visit: VisitView) -> str:
    """The highlighted visit in one sentence: whose, with whom, its window."""
    who = f"{visit.label} for {visit.patient_name} ({visit.mrn})"
    clinician = f" · {visit.clinician}" if visit.clinician else " · no clinician named"
    return (
        f"{who}{clinician} · target {day_text(visit.target)}, window {window_text(visit)}"
        f" · {visit.duration_minutes} min"
    )
