"""The builders of the JSON documents (``visitplan.cli.documents``): the records' views
in, documents out, the same for every command that prints one.

Visit times come from the records already in the clinic's zone; bookkeeping times
(created, updated, audited, sent) are stored in UTC and are given here the clinic's
``zone``, so that every time a script reads carries the same offset rules. Nothing
here imports more than the standard library: the quick reads use it too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from visitplan.catalog import ProtocolFile
    from visitplan.cli import documents as doc
    from visitplan.domain.clinic import Clinic
    from visitplan.domain.engine import Plan, PlannedVisit
    from visitplan.domain.free_times import FreeTime
    from visitplan.records.clinic_ops import Affected, ClinicReport
    from visitplan.records.clinic_settings import ClinicianRecord, ClosureRecord
    from visitplan.records.views import (
        EnrollmentDetail,
        EnrollmentView,
        HistoryEntry,
        ImportReport,
        MessageView,
        PatientView,
        VisitChange,
        VisitView,
    )
    from visitplan.records.worklist import WorkItem
    from visitplan.sync.feeds import Feed
    from visitplan.sync.mail import SendReport
    from visitplan.sync.publish import PublishReport


def moment(value: dt.datetime, zone: dt.tzinfo) -> str:
    """An aware time as ISO 8601 in the clinic's zone."""
    return value.astimezone(zone).isoformat()


def maybe_moment(value: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    return None if value is None else moment(value, zone)


def protocol_ref(protocol_id: str, version: str, title: str) -> doc.ProtocolRef:
    return {"id": protocol_id, "version": version, "title": title}


def visit(v: VisitView) -> doc.Visit:
    return {
        "id": v.id,
        "uid": v.uid,
        "course_id": v.enrollment_id,
        "mrn": v.mrn,
        "clinician": v.clinician,
        "protocol": protocol_ref(v.protocol_id, v.protocol_version, v.protocol_title),
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


def visits(views: Iterable[VisitView]) -> list[doc.Visit]:
    return [visit(v) for v in views]


def course(e: EnrollmentView) -> doc.Course:
    return {
        "id": e.id,
        "mrn": e.mrn,
        "protocol": protocol_ref(e.protocol_id, e.protocol_version, e.protocol_title),
        "start": e.start.isoformat(),
        "time": f"{e.time:%H:%M}",
        "clinician": e.clinician,
        "status": e.status,
        "revision": e.revision,
        "newer_version_available": e.newer_version_available,
        "current_version": e.current_version,
    }


def course_detail(detail: EnrollmentDetail) -> doc.CourseDetail:
    return {
        "course": course(detail.enrollment),
        "visits": visits(detail.visits),
        "warnings": list(detail.warnings),
    }


def patient(p: PatientView, courses: Sequence[EnrollmentView], zone: dt.tzinfo) -> doc.Patient:
    notify: Any = p.notify
    return {
        "mrn": p.mrn,
        "name": p.name,
        "phone": p.phone,
        "email": p.email,
        "notify": notify,
        "notes": p.notes,
        "no_shows": p.no_shows,
        "revision": p.revision,
        "created_at": moment(p.created_at, zone),
        "updated_at": moment(p.updated_at, zone),
        "courses": [course(e) for e in courses],
    }


def patients(
    views: Iterable[PatientView], courses: Iterable[EnrollmentView], zone: dt.tzinfo
) -> list[doc.Patient]:
    """Every patient with their own courses (``courses``: anyone's, in order)."""
    by_mrn: dict[str, list[EnrollmentView]] = {}
    for e in courses:
        by_mrn.setdefault(e.mrn, []).append(e)
    return [patient(p, by_mrn.get(p.mrn, []), zone) for p in views]


def change(c: VisitChange) -> doc.Change:
    return {
        "visit": visit(c.visit),
        "moved": visits(c.moved),
        "left": visits(c.left),
        "warnings": list(c.warnings),
    }


# Stored audit field names, as the documents name them.
_HISTORY_NAMES = {
    "start_at": "start",
    "end_at": "end",
    "actual_at": "actual",
    "enrollment_id": "course_id",
}
_HISTORY_ENTITIES = {"enrollment": "course"}


def history_entry(
    h: HistoryEntry,
    zone: dt.tzinfo,
    protocols: Mapping[str, doc.ProtocolRef] | None = None,
    clinicians: Mapping[int, str] | None = None,
) -> doc.HistoryEntry:
    """An audit entry in the documents' words. ``protocols``: each course's protocol by
    the course id, for an enrollment's entry, which stored only the protocol's id;
    ``clinicians``: names by id, for a visit handed to another clinician, whose entry
    stored the id."""
    entity: Any = _HISTORY_ENTITIES.get(h.entity, h.entity)
    ref = (protocols or {}).get(h.entity_id) if entity == "course" else None
    names = clinicians or {}
    return {
        "id": h.id,
        "at": moment(h.at, zone),
        "who": h.who,
        "action": h.action,
        "entity": entity,
        "entity_id": h.entity_id,
        "mrn": h.mrn,
        "before": _history_fields(h.before, zone, ref, names),
        "after": _history_fields(h.after, zone, ref, names),
    }


def _history_fields(
    fields: Mapping[str, Any] | None,
    zone: dt.tzinfo,
    ref: doc.ProtocolRef | None,
    clinicians: Mapping[int, str],
) -> dict[str, Any] | None:
    if fields is None:
        return None
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "clinician_id":  # a visit names its clinician, as its document does
            out["clinician"] = clinicians.get(value, value) if value is not None else None
            continue
        name = _HISTORY_NAMES.get(key, key)
        timed = key.endswith("_at") and isinstance(value, str)
        out[name] = _rezoned(value, zone) if timed else value
    if ref is not None and out.get("protocol") == ref["id"]:
        out["protocol"] = dict(ref)
        out.pop("version", None)
    return out


def _rezoned(text: str, zone: dt.tzinfo) -> str:
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if stamp.tzinfo is None:  # written as UTC without its offset
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(zone).isoformat()


def work_item(i: WorkItem) -> doc.WorkItem:
    return {"reason": i.reason, "visit": visit(i.visit), "todo": i.todo, "detail": i.detail}


def worklist(items: Iterable[WorkItem]) -> doc.Worklist:
    return {"items": [work_item(i) for i in items]}


def slots(v: VisitView, times: Iterable[FreeTime]) -> doc.Slots:
    return {
        "visit": visit(v),
        "times": [
            {
                "start": t.start.isoformat(),
                "end": t.end.isoformat(),
                "in_window": t.in_window,
                "days_outside": t.days_outside,
            }
            for t in times
        ],
    }


def message(m: MessageView, zone: dt.tzinfo) -> doc.Message:
    return {
        "id": m.id,
        "visit_id": m.visit_id,
        "mrn": m.mrn,
        "kind": m.kind,
        "status": m.status,
        "sequence": m.sequence,
        "due_at": moment(m.due_at, zone),
        "next_at": moment(m.next_at, zone),
        "attempts": m.attempts,
        "sent_at": maybe_moment(m.sent_at, zone),
        "subject": m.subject,
        "message_id": m.message_id,
        "error": m.error,
    }


def send_report(r: SendReport, zone: dt.tzinfo) -> doc.SendReport:
    return {
        "sent": list(r.sent),
        "failed": list(r.failed),
        "deferred": list(r.deferred),
        "skipped": r.skipped,
        "waiting": r.waiting,
        "next_due": maybe_moment(r.next_due, zone),
        "stopped": r.stopped,
    }


def feed(f: Feed, zone: dt.tzinfo) -> doc.Feed:
    return {
        "id": f.id,
        "scope": str(f.settings.scope),
        "audience": f.settings.audience,
        "privacy": f.settings.privacy,
        "created_at": moment(_aware(f.created_at), zone),
        "created_by": f.created_by,
        "revoked_at": maybe_moment(_aware(f.revoked_at) if f.revoked_at else None, zone),
    }


def _aware(stamp: dt.datetime) -> dt.datetime:
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def clinician(record: ClinicianRecord) -> doc.Clinician:
    return {
        "id": record.id,
        "name": record.name,
        "hours": record.spec.hours,
        "capacity": record.spec.capacity,
        "revision": record.revision,
    }


def closure(c: ClosureRecord, zone: dt.tzinfo) -> doc.Closure:
    return {
        "id": c.id,
        "first_day": c.first_day.isoformat(),
        "last_day": c.last_day.isoformat(),
        "reason": c.reason,
        "clinician": c.clinician,
        "created_at": moment(_aware(c.created_at), zone),
        "created_by": c.created_by,
    }


def _affected(a: Affected) -> doc.Affected:
    return {"problem": a.problem, "visit": visit(a.visit)}


def clinic_report(report: ClinicReport, zone: dt.tzinfo) -> doc.ClinicReport:
    return {
        "what": report.what,
        "version": report.version,
        "closure": closure(report.closure, zone) if report.closure else None,
        "affected": [_affected(a) for a in report.affected],
        "moved": visits(report.moved),
        "still": [_affected(a) for a in report.still],
    }


def clinic(
    version: int | None,
    loaded_at: dt.datetime | None,
    loaded_by: str | None,
    settings: dict[str, Any],
    zone: dt.tzinfo,
) -> doc.Clinic:
    return {
        "version": version,
        "loaded_at": maybe_moment(_aware(loaded_at) if loaded_at else None, zone),
        "loaded_by": loaded_by,
        "settings": settings,
    }


def protocol(entry: ProtocolFile, *, full: bool = False) -> doc.Protocol:
    p = entry.protocol
    out: doc.Protocol = {
        "id": entry.id,
        "version": p.version,
        "title": p.title,
        "visits": sum(v.count for v in p.visits),
        "path": str(entry.path),
    }
    if full:
        from visitplan.domain.protocol import course_in_words

        out["description"] = p.description.strip()
        out["reference"] = (
            {"citation": p.reference.citation, "doi": p.reference.doi} if p.reference else None
        )
        out["course"] = list(course_in_words(p))
    return out


def planned_visit(v: PlannedVisit) -> doc.PlannedVisit:
    return {
        "key": v.key,
        "kind": v.kind,
        "label": v.label,
        "target": v.target.isoformat(),
        "start": v.start.isoformat(),
        "end": v.end.isoformat(),
        "window": {"earliest": v.earliest.isoformat(), "latest": v.latest.isoformat()},
        "shifted": v.shifted,
        "reason": v.reason,
        "anchor": v.anchor,
        "duration_minutes": v.definition.duration_minutes,
        "assessments": list(v.definition.assessments),
        "warnings": list(v.warnings),
    }


def plan(entry: ProtocolFile, clinic: Clinic, result: Plan) -> doc.Plan:
    p = entry.protocol
    return {
        "protocol": protocol_ref(entry.id, p.version, p.title),
        "clinic": {"name": clinic.name, "timezone": clinic.timezone},
        "visits": [planned_visit(v) for v in result.visits],
        "warnings": list(result.warnings),
    }


def imported(r: ImportReport) -> doc.Imported:
    return {
        "patients": r.patients,
        "courses": r.enrollments,
        "visits": r.visits,
        "already": r.already,
    }


def published(scope: object, url: str, report: PublishReport) -> doc.Published:
    return {
        "scope": str(scope),
        "url": url,
        "created": list(report.created),
        "updated": list(report.updated),
        "unchanged": report.unchanged,
        "recorded": list(report.recorded),
        "conflicts": list(report.conflicts),
    }


def done(sentence: str) -> doc.Done:
    return {"done": sentence}
