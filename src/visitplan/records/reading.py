"""Rows to views: the read side shared by every operation.

A visit row holds only what changes; its label, kind, notes and assessments come
from the protocol snapshot its course was planned with, parsed once per Desk.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import pendulum
from sqlalchemy import ColumnElement, Connection, Row, Select, Table, func, or_, select

from visitplan.domain.clinic import as_pendulum
from visitplan.domain.protocol import Protocol, Step, parse_protocol, steps
from visitplan.errors import InputError
from visitplan.parsed_files import parsed_once
from visitplan.records import schema
from visitplan.records.views import (
    EnrollmentStatus,
    EnrollmentView,
    HistoryEntry,
    PatientView,
    VisitStatus,
    VisitView,
)

PATIENTS: Table = schema.PATIENTS
SNAPSHOTS: Table = schema.SNAPSHOTS
ENROLLMENTS: Table = schema.ENROLLMENTS
VISITS: Table = schema.VISITS
AUDIT: Table = schema.AUDIT
CLINICIANS: Table = schema.CLINICIANS


def to_utc(moment: dt.datetime) -> dt.datetime:
    """Aware datetime to the naive UTC stored in the database."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the records layer")
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def from_utc(stored: dt.datetime, tz: Any) -> pendulum.DateTime:
    # What pendulum.instance(...).in_timezone(tz) gives (same fields, zone and fold),
    # at a quarter of the cost: a busy day's agenda converts a thousand of these.
    return as_pendulum(stored.replace(tzinfo=dt.UTC).astimezone(tz), tz)


def utc_aware(stored: dt.datetime) -> dt.datetime:
    return stored.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: int
    protocol_id: str
    version: str
    title: str
    sha256: str
    protocol: Protocol
    steps: dict[str, Step]


class Snapshots:
    """Parsed protocol snapshots by id; they never change once written."""

    def __init__(self) -> None:
        self._by_id: dict[int, Snapshot] = {}

    def get(self, connection: Connection, snapshot_id: int) -> Snapshot:
        found = self._by_id.get(snapshot_id)
        if found is None:
            row = connection.execute(select(SNAPSHOTS).where(SNAPSHOTS.c.id == snapshot_id)).one()
            where = f"stored protocol {row.protocol_id} v{row.version}"
            # Kept as the catalog keeps its files: the same text validates once.
            protocol = parsed_once(
                "protocols", row.text, lambda: parse_protocol(row.text, where), Protocol
            )
            found = Snapshot(
                row.id,
                row.protocol_id,
                row.version,
                row.title,
                row.sha256,
                protocol,
                {s.key: s for s in steps(protocol)},
            )
            self._by_id[snapshot_id] = found
        return found


def visit_query() -> Select[Any]:
    """Visits with what a view needs from their course and patient."""
    return select(
        VISITS,
        ENROLLMENTS.c.snapshot_id,
        CLINICIANS.c.name.label("clinician"),
        PATIENTS.c.mrn,
        PATIENTS.c.name.label("patient_name"),
    ).select_from(
        VISITS.join(ENROLLMENTS, VISITS.c.enrollment_id == ENROLLMENTS.c.id)
        .join(PATIENTS, ENROLLMENTS.c.patient_id == PATIENTS.c.id)
        .outerjoin(CLINICIANS, VISITS.c.clinician_id == CLINICIANS.c.id)
    )


def visit_views(
    connection: Connection, rows: Iterable[Row[Any]], snapshots: Snapshots, tz: Any
) -> list[VisitView]:
    out = []
    for row in rows:
        snapshot = snapshots.get(connection, row.snapshot_id)
        step = snapshot.steps.get(row.key)
        if step is None:
            raise InputError(
                f"visit {row.id}: step {row.key!r} is not in its stored protocol "
                f"{snapshot.protocol_id} v{snapshot.version}"
            )
        definition = step.definition
        out.append(
            VisitView(
                id=row.id,
                uid=row.uid,
                enrollment_id=row.enrollment_id,
                mrn=row.mrn,
                patient_name=row.patient_name,
                clinician=row.clinician,
                protocol_id=snapshot.protocol_id,
                key=row.key,
                label=step.label,
                kind=definition.kind,
                status=cast(VisitStatus, row.status),
                target=row.target,
                earliest=row.earliest,
                latest=row.latest,
                start=from_utc(row.start_at, tz),
                end=from_utc(row.end_at, tz),
                actual=from_utc(row.actual_at, tz) if row.actual_at else None,
                revision=row.revision,
                sequence=row.sequence,
                reason=row.reason,
                warnings=tuple(json.loads(row.warnings)),
                deviation=row.deviation,
                notes=definition.notes,
                patient_notes=definition.patient_notes,
                assessments=definition.assessments,
                duration_minutes=definition.duration_minutes,
                updated_at=utc_aware(row.updated_at),
                pinned=bool(row.pinned),
                cancelled_by=row.cancelled_by,
                clinician_id=row.clinician_id,
                protocol_version=snapshot.version,
                protocol_title=snapshot.title,
            )
        )
    return out


def mrn_key(mrn: str) -> str:
    """What makes two MRNs the same: case and surrounding spaces do not count."""
    return mrn.strip().lower()


def mrn_matches(mrn: str) -> ColumnElement[bool]:
    """The patient whose MRN is ``mrn`` without regard to case (the unique index's rule)."""
    return func.lower(PATIENTS.c.mrn) == mrn_key(mrn)


def patient_search(text: str) -> ColumnElement[bool]:
    """What a patient search matches: the MRN or the name contains ``text``, any case."""
    pattern = f"%{text.lower()}%"
    return or_(func.lower(PATIENTS.c.mrn).like(pattern), func.lower(PATIENTS.c.name).like(pattern))


def patient_view(row: Row[Any], enrollments: int) -> PatientView:
    return PatientView(
        mrn=row.mrn,
        name=row.name,
        phone=row.phone,
        email=row.email,
        notes=row.notes,
        no_shows=row.no_shows,
        revision=row.revision,
        enrollments=enrollments,
        created_at=utc_aware(row.created_at),
        updated_at=utc_aware(row.updated_at),
        notify=row.notify,
    )


def enrollment_query() -> Select[Any]:
    return select(
        ENROLLMENTS,
        CLINICIANS.c.name.label("clinician"),
        PATIENTS.c.mrn,
        PATIENTS.c.name.label("patient_name"),
        SNAPSHOTS.c.protocol_id,
        SNAPSHOTS.c.version,
        SNAPSHOTS.c.title,
        SNAPSHOTS.c.sha256,
    ).select_from(
        ENROLLMENTS.join(PATIENTS, ENROLLMENTS.c.patient_id == PATIENTS.c.id)
        .join(SNAPSHOTS, ENROLLMENTS.c.snapshot_id == SNAPSHOTS.c.id)
        .outerjoin(CLINICIANS, ENROLLMENTS.c.clinician_id == CLINICIANS.c.id)
    )


def enrollment_view(row: Row[Any], current: tuple[str, str] | None) -> EnrollmentView:
    """``current``: (version, sha256) of the protocol file in the catalog now, if any."""
    return EnrollmentView(
        id=row.id,
        mrn=row.mrn,
        patient_name=row.patient_name,
        protocol_id=row.protocol_id,
        protocol_version=row.version,
        protocol_title=row.title,
        start=row.start_date,
        time=dt.time.fromisoformat(row.visit_time),
        clinician=row.clinician,
        status=cast(EnrollmentStatus, row.status),
        revision=row.revision,
        created_at=utc_aware(row.created_at),
        updated_at=utc_aware(row.updated_at),
        newer_version_available=current is not None and current[1] != row.sha256,
        current_version=current[0] if current else None,
    )


def history_entry(row: Row[Any]) -> HistoryEntry:
    return HistoryEntry(
        id=row.id,
        at=utc_aware(row.at),
        who=row.who,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        mrn=row.mrn,
        before=json.loads(row.before) if row.before else None,
        after=json.loads(row.after) if row.after else None,
    )
