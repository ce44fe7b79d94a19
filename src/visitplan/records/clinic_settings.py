"""The clinic as the records keep it: one settings version per `clinic load`, the
closures added as they happen, and the clinicians.

Every workstation plans and shows times with the database's clinic, never with its
own file: a workstation whose clinic file says otherwise is refused (naming the
first difference) before it reads or writes anything.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, func, insert, select

from visitplan.domain.clinic import Clinic, Closure, clinic_json
from visitplan.domain.clinicians import ClinicianSpec
from visitplan.domain.working import clinician_clinic
from visitplan.errors import InputError
from visitplan.records import audit, schema

CLINIC_VERSIONS = schema.CLINIC_VERSIONS
CLINICIANS = schema.CLINICIANS
CLOSURES = schema.CLOSURES
AUDIT = schema.AUDIT
# Audit entities whose changes alter the clinic's calendar or its people.
CLINIC_ENTITIES = ("clinic", "closure", "clinician")
__all__ = ["clinician_clinic"]  # the domain's, where the Desk has always found it


@dataclass(frozen=True, slots=True)
class ClinicianRecord:
    id: int
    spec: ClinicianSpec
    revision: int

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True, slots=True)
class ClosureRecord:
    id: int
    first_day: dt.date
    last_day: dt.date
    reason: str
    clinician_id: int | None
    clinician: str | None
    created_at: dt.datetime
    created_by: str

    def days(self) -> list[dt.date]:
        n = (self.last_day - self.first_day).days
        return [self.first_day + dt.timedelta(days=i) for i in range(n + 1)]


@dataclass(frozen=True, slots=True)
class ClinicState:
    """Everything the Desk plans with, as read in one transaction."""

    version: int | None  # None: the database holds no clinic yet
    settings: Clinic  # as loaded (or the workstation's, before the first write)
    closures: tuple[ClosureRecord, ...] = ()
    clinicians: tuple[ClinicianRecord, ...] = ()
    stamp: int = 0  # the last audit id of a clinic change: tells when to read again
    leave: dict[int, dict[dt.date, str]] = field(default_factory=dict)
    # False: the stored version fails today's rules and ``settings`` is the fallback
    # (only `clinic load`, which replaces it, reads the records like that).
    valid: bool = True
    # When and by whom the stored version was loaded (None before the first write).
    loaded_at: dt.datetime | None = None
    loaded_by: str | None = None

    def clinic(self) -> Clinic:
        """The settings with every clinic-wide closure added (a clinician's leave is
        theirs alone: see ``leave``)."""
        added = [
            Closure(date=day, reason=c.reason)
            for c in self.closures
            if c.clinician_id is None
            for day in c.days()
        ]
        if not added:
            return self.settings
        return replace(self.settings, closures=(*self.settings.closures, *added))

    def clinician(self, name: str) -> ClinicianRecord:
        """The clinician of that name (case and spacing aside), or one clear line."""
        key = " ".join(name.split()).casefold()
        for record in self.clinicians:
            if record.spec.key == key:
                return record
        known = ", ".join(sorted(r.name for r in self.clinicians)) or "none yet"
        raise InputError(
            f"unknown clinician {' '.join(name.split())!r} (known: {known})",
            cli_hint="`visitplan clinician add NAME` adds one",
        )

    def by_id(self, clinician_id: int) -> ClinicianRecord:
        return next(r for r in self.clinicians if r.id == clinician_id)


def read_state(c: Connection, fallback: Clinic, *, lenient: bool = False) -> ClinicState:
    """The clinic as stored; ``fallback`` (the workstation's) while none is, or, when
    ``lenient``, while the stored one fails today's rules."""
    newest = select(CLINIC_VERSIONS).order_by(CLINIC_VERSIONS.c.id.desc()).limit(1)
    row = c.execute(newest).first()
    valid = True
    try:
        settings = fallback if row is None else _stored_clinic(row.id, row.settings)
    except InputError:
        if not lenient:
            raise
        settings, valid = fallback, False
    clinicians = tuple(
        ClinicianRecord(
            r.id, ClinicianSpec(name=r.name, hours=r.hours, capacity=r.capacity), r.revision
        )
        for r in c.execute(select(CLINICIANS).order_by(CLINICIANS.c.name_key))
    )
    names = {r.id: r.name for r in clinicians}
    closures = tuple(
        ClosureRecord(
            r.id,
            r.first_day,
            r.last_day,
            r.reason,
            r.clinician_id,
            names.get(r.clinician_id) if r.clinician_id is not None else None,
            r.created_at.replace(tzinfo=dt.UTC),
            r.created_by,
        )
        for r in c.execute(select(CLOSURES).order_by(CLOSURES.c.first_day, CLOSURES.c.id))
    )
    leave: defaultdict[int, dict[dt.date, str]] = defaultdict(dict)
    for closure in closures:
        if closure.clinician_id is not None:
            for day in closure.days():
                leave[closure.clinician_id].setdefault(day, closure.reason)
    return ClinicState(
        None if row is None else int(row.id),
        settings,
        closures,
        clinicians,
        clinic_stamp(c),
        dict(leave),
        valid,
        None if row is None else row.loaded_at.replace(tzinfo=dt.UTC),
        None if row is None else row.loaded_by,
    )


def _stored_clinic(version: int, settings: str) -> Clinic:
    """A stored version, checked again by today's rules (a release may have tightened
    them since it was loaded); what it checked to is kept like a clinic file's (every
    Desk opens with it, and it rarely changes), so a Desk need not import pydantic."""
    from visitplan.parsed_files import parsed_once

    def checked() -> Clinic:
        from visitplan.domain.clinic_file import stored_clinic
        from visitplan.domain.file_models import what_is_wrong

        try:
            return stored_clinic(settings)
        except ValueError as exc:
            raise InputError(
                f"the database's clinic (version {version}) is not valid any more: "
                f"{what_is_wrong(exc)}; load a corrected clinic file with "
                "`visitplan clinic load`"
            ) from None

    return parsed_once("stored-clinics", settings, checked, Clinic)


def clinic_stamp(c: Connection) -> int:
    return int(
        c.execute(
            select(func.coalesce(func.max(AUDIT.c.id), 0)).where(
                AUDIT.c.entity.in_(CLINIC_ENTITIES)
            )
        ).scalar_one()
    )


def store_settings(
    c: Connection,
    clinic: Clinic,
    source: str,
    who: str,
    now: dt.datetime,
    before: Clinic | None,
) -> int:
    """A new settings version, audited with the fields that changed.

    Versions are numbered 1, 2, 3... by the records themselves (under the write lock),
    not by a sequence, which a dry run would leave with a gap."""
    version = 1 + int(
        c.execute(select(func.coalesce(func.max(CLINIC_VERSIONS.c.id), 0))).scalar_one()
    )
    c.execute(
        insert(CLINIC_VERSIONS),
        [
            {
                "id": version,
                "settings": clinic_json(clinic),
                "source": source[:1000],
                "loaded_at": now,
                "loaded_by": who,
            }
        ],
    )
    old = {} if before is None else _shown(before)
    new = _shown(clinic)
    changed = [k for k in new if old.get(k) != new[k]]
    audit.record(
        c,
        at=now,
        who=who,
        action="clinic loaded" if before is not None else "clinic stored",
        entity="clinic",
        entity_id=version,
        mrn=None,
        before={k: old.get(k) for k in changed} if before is not None else None,
        after={"source": source, **{k: new[k] for k in changed}},
    )
    return version


def _shown(clinic: Clinic) -> dict[str, Any]:
    return dict(json.loads(clinic_json(clinic)))


def first_difference(stored: Clinic, workstation: Clinic, source: str) -> str | None:
    """One line naming the first setting where the workstation's file and the
    database's clinic disagree, and the way out; None when they agree."""
    old, new = _shown(stored), _shown(workstation)
    for key in old:
        if old[key] == new.get(key):
            continue
        if key == "timezone":
            what = f"is in {old[key]}; {source} says {new[key]}"
        else:
            what = f"has {key} = {_value(old[key])}; {source} says {_value(new.get(key))}"
        return (
            f"this database's clinic {what}: use `visitplan clinic load` to change the clinic, "
            "or work without a clinic file"
        )
    return None


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def refuse_other_clinic(stored: Clinic, workstation: Clinic, source: str) -> None:
    line = first_difference(stored, workstation, source)
    if line is not None:
        raise InputError(line)
