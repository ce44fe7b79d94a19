"""A course of planned visits as a table: what the enrollment preview shows."""

from __future__ import annotations

from visitplan.domain.engine import Plan, PlannedVisit
from visitplan.tui.widgets.row_list import RowList


def plan_note(visit: PlannedVisit) -> str:
    """Why a visit is not on its target, and anything staff must look at, in words."""
    parts = []
    if visit.warnings:
        parts.append("⚠ " + "; ".join(visit.warnings))
    if visit.shifted:
        parts.append(f"↷ moved from {visit.target:%a %m-%d}: {visit.reason or 'closed'}")
    elif visit.reason:
        parts.append(f"↷ {visit.reason}")
    return "  ".join(parts)


class PlanTable(RowList):
    """Read-only; rows are replaced whole each time the preview changes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(("Visit", "Date", "Time", "Window", "Note"), id=id)

    def show(self, plan: Plan) -> None:
        self.set_rows(
            [
                (
                    visit.label,
                    f"{visit.start:%a %Y-%m-%d}",
                    f"{visit.start:%H:%M}",
                    f"{visit.earliest:%m-%d}..{visit.latest:%m-%d}",
                    plan_note(visit),
                )
                for visit in plan.visits
            ],
            self.cursor,
        )
