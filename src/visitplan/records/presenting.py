"""What the records commands print: JSON documents and plain tables.

Shared by the CLI command modules so that `visits`, `agenda` and `enroll` show a
visit the same way everywhere.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from typing import Any

from visitplan.catalog import ProtocolCatalog
from visitplan.records.operations import Desk, open_workstation_desk
from visitplan.records.views import (
    EnrollmentView,
    HistoryEntry,
    PatientView,
    VisitChange,
    VisitView,
)


def desk_from_args(args: argparse.Namespace) -> Desk:
    """The desk the common options (--clinic, --protocols, --db, --user) point at."""
    return open_workstation_desk(args.db, args.clinic, args.protocols, args.user)


def catalog_from_args(args: argparse.Namespace) -> ProtocolCatalog:
    from visitplan.catalog import ProtocolCatalog, protocol_dirs

    return ProtocolCatalog(protocol_dirs(args.protocols))


def dump(document: Any) -> None:
    print(json.dumps(document, ensure_ascii=False, indent=2))


def patient_document(p: PatientView) -> dict[str, Any]:
    return {
        "mrn": p.mrn,
        "name": p.name,
        "phone": p.phone,
        "email": p.email,
        "notify": p.notify,
        "notes": p.notes,
        "no_shows": p.no_shows,
        "enrollments": p.enrollments,
        "revision": p.revision,
        "created_at": p.created_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
    }


def enrollment_document(e: EnrollmentView) -> dict[str, Any]:
    return {
        "id": e.id,
        "mrn": e.mrn,
        "protocol": {"id": e.protocol_id, "version": e.protocol_version, "title": e.protocol_title},
        "start": e.start.isoformat(),
        "time": f"{e.time:%H:%M}",
        "clinician": e.clinician,
        "status": e.status,
        "revision": e.revision,
        "newer_version_available": e.newer_version_available,
    }


def visit_document(v: VisitView) -> dict[str, Any]:
    return {
        "id": v.id,
        "uid": v.uid,
        "enrollment_id": v.enrollment_id,
        "mrn": v.mrn,
        "clinician": v.clinician,
        "protocol": v.protocol_id,
        "key": v.key,
        "label": v.label,
        "kind": v.kind,
        "status": v.status,
        "start": v.start.isoformat(),
        "end": v.end.isoformat(),
        "target": v.target.isoformat(),
        "window": {"earliest": v.earliest.isoformat(), "latest": v.latest.isoformat()},
        "actual": v.actual.isoformat() if v.actual else None,
        "revision": v.revision,
        "sequence": v.sequence,
        "reason": v.reason,
        "deviation": v.deviation,
        "warnings": list(v.warnings),
        "pinned": v.pinned,
    }


def change_document(change: VisitChange) -> dict[str, Any]:
    return {
        "visit": visit_document(change.visit),
        "moved": [visit_document(v) for v in change.moved],
        "left": [visit_document(v) for v in change.left],
        "warnings": list(change.warnings),
    }


def history_document(h: HistoryEntry) -> dict[str, Any]:
    return {
        "id": h.id,
        "at": h.at.isoformat(),
        "who": h.who,
        "action": h.action,
        "entity": h.entity,
        "entity_id": h.entity_id,
        "mrn": h.mrn,
        "before": h.before,
        "after": h.after,
    }


def table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns; the last one is left ragged."""
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        ("  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1]).rstrip()
        for r in rows
    )


def visit_table(visits: Iterable[VisitView], *, with_patient: bool = False) -> str:
    head = ["ID", "DATE", "TIME", "STATUS", "KEY", "VISIT", "TARGET", "WINDOW", "REV"]
    if with_patient:
        head[4:4] = ["MRN", "CLINICIAN"]
    rows = [[*head, "UID"]]
    for v in visits:
        row = [
            str(v.id),
            f"{v.start:%a %Y-%m-%d}",
            f"{v.start:%H:%M}-{v.end:%H:%M}",
            v.status + ("!" if v.deviation or v.warnings else ""),
            v.key,
            v.label,
            f"{v.target:%m-%d}",
            f"{v.earliest:%m-%d}..{v.latest:%m-%d}",
            str(v.revision),
        ]
        if with_patient:
            row[4:4] = [v.mrn, v.clinician or "-"]
        rows.append([*row, v.uid])
    return table(rows)


def patient_words(v: VisitView) -> str:
    """A patient as the visit commands name them: MRN and initials (the staff export's)."""
    from visitplan.domain.ical import Patient

    return f"{v.mrn} {Patient(v.mrn, v.patient_name).initials}"


def change_lines(change: VisitChange) -> str:
    """What a change did, in words: the visit, why it is where it is, what the cascade
    moved (and why), and which visits placed by hand it left where they were."""
    v = change.visit
    lines = [
        f"visit {v.id}: {v.label} for {patient_words(v)}: {v.status}, "
        f"{v.start:%a %Y-%m-%d %H:%M} (rev {v.revision})"
    ]
    if v.reason:
        lines.append(f"  why: {v.reason}")
    if v.deviation:
        lines.append(f"! deviation: {v.deviation}")
    for m in change.moved:
        lines.append(f"  moved: visit {m.id} ({m.label}) to {m.start:%a %Y-%m-%d %H:%M}")
        if m.reason:
            lines.append(f"    why: {m.reason}")
    for p in change.left:
        off = (p.start.date() - p.target).days
        where = (
            "on its target day"
            if off == 0
            else (
                f"{abs(off)} day{'s' if abs(off) != 1 else ''} "
                f"{'after' if off > 0 else 'before'} its new target {p.target:%a %Y-%m-%d}"
            )
        )
        lines.append(
            f"  left where it was placed by hand: visit {p.id} ({p.label}) on "
            f"{p.start:%a %Y-%m-%d %H:%M}, {where}"
        )
        if p.deviation:
            lines.append(f"! deviation: {p.deviation}")
    lines += [f"! {w}" for w in change.warnings]
    return "\n".join(lines)


def placement_lines(visits: Iterable[VisitView]) -> list[str]:
    """Why the visits of a course are not simply at their asked day and time."""
    lines = []
    for v in visits:
        if v.reason:
            moved = f" (target {v.target:%a %Y-%m-%d})" if v.start.date() != v.target else ""
            lines.append(f"  {v.label} on {v.start:%a %Y-%m-%d %H:%M}{moved}: {v.reason}")
        if v.deviation:
            lines.append(f"! {v.label}: deviation: {v.deviation}")
    return lines
