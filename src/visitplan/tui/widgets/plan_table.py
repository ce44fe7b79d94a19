"""A course of planned visits as a table: what the enrollment preview shows."""

from __future__ import annotations

from visitplan.domain.engine import Plan, PlannedVisit
from visitplan.tui.widgets.row_list import RowList
from visitplan.tui.wording import day_text, with_weekdays


def plan_note(visit: PlannedVisit) -> str:
    """Why a visit is not on its target, and anything staff must look at, in words."""
    parts = []
    if visit.warnings:
        parts.append("⚠ " + "; ".join(with_weekdays(w) for w in visit.warnings))
    if visit.shifted:
        why = with_weekdays(visit.reason) if visit.reason else "closed"
        parts.append(f"↷ moved from {day_text(visit.target)}: {why}")
    elif visit.reason:
        parts.append(f"↷ {with_weekdays(visit.reason)}")
    return "  ".join(parts)


class PlanTable(RowList):
    """Read-only; rows are replaced whole each time the preview changes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(("Visit", "Date", "Time", "Window"), optional=(3,), id=id)

    def show(self, plan: Plan) -> None:
        self.set_rows(
            [
                (
                    visit.label,
                    day_text(visit.start.date()),
                    f"{visit.start:%H:%M}",
                    f"{day_text(visit.earliest)} to {day_text(visit.latest)}",
                )
                for visit in plan.visits
            ],
            self.cursor,
            notes=[plan_note(visit) for visit in plan.visits],
        )
