"""How a stored visit reads in a table cell: status with a symbol, and its notes."""

from __future__ import annotations

from visitplan.records.views import VisitView
from visitplan.tui.data import status_text


def visit_note(visit: VisitView) -> str:
    parts = []
    if not visit.in_window and visit.status != "cancelled":
        parts.append(f"⚠ out of window ({visit.earliest:%m-%d}..{visit.latest:%m-%d})")
    parts += [f"⚠ {w}" for w in visit.warnings]
    # A deviation staff recorded says more than the planner's reason it replaced.
    why = visit.deviation or visit.reason
    if why:
        parts.append(f"↷ {why}")
    return "  ".join(parts)


def visit_status(visit: VisitView) -> str:
    return status_text(visit.status)
