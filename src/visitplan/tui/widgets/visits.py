"""How a stored visit reads in a table cell: status with a symbol, and its notes."""

from __future__ import annotations

from visitplan.tui.data import VisitRow, status_text


def visit_note(visit: VisitRow) -> str:
    parts = []
    if not visit.in_window and visit.status != "cancelled":
        parts.append(f"⚠ out of window ({visit.earliest:%m-%d}..{visit.latest:%m-%d})")
    parts += [f"⚠ {w}" for w in visit.warnings]
    if visit.reason:
        parts.append(f"↷ {visit.reason}")
    return "  ".join(parts)


def visit_status(visit: VisitRow) -> str:
    return status_text(visit.status)
