"""The records as JSON documents: a visit, a course, a patient, a history entry and a
change, shown the same way by every command that prints one. (The text tables are
the CLI's: ``visitplan.cli.tables``.)
"""

from __future__ import annotations

from typing import Any

from visitplan.records.views import (
    EnrollmentView,
    HistoryEntry,
    PatientView,
    VisitChange,
    VisitView,
)


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
