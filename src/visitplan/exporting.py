"""Stored visits to an .ics file: gather from the records, convert, write atomically."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from visitplan.atomic_files import write_atomic
from visitplan.domain.ical import (
    CalendarVisit,
    ExportOptions,
    Patient,
    build_calendar,
    calendar_bytes,
)
from visitplan.errors import InputError

if TYPE_CHECKING:
    from visitplan.records.operations import Desk
    from visitplan.records.views import VisitView


@dataclass(frozen=True, slots=True)
class Scope:
    """Which visits: one patient, one course, or all; optionally between two local dates."""

    patient: str | None = None
    enrollment: str | None = None
    first: dt.date | None = None
    last: dt.date | None = None


def enrollment_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"--enrollment {text!r}: an enrollment id is a whole number, like 12")
    return value


def scope_views(desk: Desk, scope: Scope) -> list[VisitView]:
    """The stored visits in scope, cancelled ones included, in time order."""
    return desk.visits(
        mrn=scope.patient,
        enrollment_id=None if scope.enrollment is None else enrollment_id(scope.enrollment),
        since=scope.first,
        until=scope.last,
    )


def course_titles(desk: Desk, views: Iterable[VisitView]) -> dict[str, str]:
    """Protocol titles as stored with each course (what it was planned with)."""
    wanted = {v.protocol_id for v in views}
    if not wanted:
        return {}
    mrns = {v.mrn for v in views}
    enrollments = desk.enrollments(next(iter(mrns))) if len(mrns) == 1 else desk.enrollments()
    return {e.protocol_id: e.protocol_title for e in enrollments if e.protocol_id in wanted}


def export_from_desk(desk: Desk, scope: Scope, options: ExportOptions) -> bytes:
    """The .ics bytes of the visits in ``scope``; the same records give the same bytes."""
    views = scope_views(desk, scope)
    visits = from_views(views, desk.clinic.timezone, course_titles(desk, views))
    if not options.name:
        what = "appointments" if options.audience == "patient" else "visits"
        options = dataclasses.replace(options, name=f"{desk.clinic.name} {what}")
    # An empty calendar still holds the clinic's VTIMEZONE, for the asked dates.
    first = scope.first or scope.last or desk.now().date()
    empty_on = (first, scope.last or first)
    return calendar_bytes(build_calendar(visits, desk.clinic, options, empty_on=empty_on))


def from_view(view: VisitView, zone: str, course: str = "") -> CalendarVisit:
    """A stored visit as the calendar shows it. The UID and SEQUENCE are the record's."""
    return CalendarVisit(
        uid=view.uid,
        sequence=view.sequence,
        cancelled=view.status == "cancelled",
        start=view.start,
        end=view.end,
        zone=zone,
        kind=view.kind,
        label=view.label,
        last_modified=view.updated_at,
        patient=Patient(view.mrn, view.patient_name),
        course=course,
        notes=view.notes,
        patient_notes=view.patient_notes,
        assessments=view.assessments,
    )


def from_views(
    views: Iterable[VisitView], zone: str, courses: dict[str, str] | None = None
) -> list[CalendarVisit]:
    """``courses`` maps protocol ids to titles, for the staff description."""
    titles = courses or {}
    return [from_view(v, zone, titles.get(v.protocol_id, v.protocol_id)) for v in views]


def write_output(data: bytes, output: str | None) -> None:
    """To ``output`` atomically, or to standard output when there is none (or it is '-')."""
    if output is None or output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_atomic(Path(output), data)
