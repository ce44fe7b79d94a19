"""Patients: adding, changing and finding them (part of the Desk)."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from visitplan.domain.limits import MAX_TEXT
from visitplan.errors import InputError
from visitplan.records import audit, outbox, summaries
from visitplan.records.desk_base import STALE, DeskBase, seen_revision
from visitplan.records.reading import (
    ENROLLMENTS,
    PATIENTS,
    mrn_matches,
    patient_search,
    patient_view,
)
from visitplan.records.views import CourseProgress, PatientMatch, PatientView

NOTIFY_CHOICES = ("email", "none")  # how the patient agreed to be told of their visits


class PatientRecords(DeskBase):
    """Part of the Desk: the people it keeps records for."""

    def add_patient(
        self,
        mrn: str,
        name: str,
        phone: str | None = None,
        email: str | None = None,
        notes: str = "",
        *,
        notify: str = "none",
        dry_run: bool = False,
    ) -> PatientView:
        """``notify``: 'email' once the patient agreed to invitations and reminders."""
        fields = check_patient(mrn, name, phone, email, notes=notes, notify=notify)
        with self.write(dry_run=dry_run) as c:
            # Under the write lock, so no other workstation adds the same MRN meanwhile.
            same = c.execute(select(PATIENTS.c.mrn).where(mrn_matches(fields["mrn"]))).first()
            if same is not None:
                also = "" if same.mrn == fields["mrn"] else f" as {same.mrn!r} (case aside)"
                raise InputError(f"MRN {fields['mrn']!r} already exists{also}")
            now = self._stamp()
            c.execute(
                insert(PATIENTS),
                [
                    {
                        **fields,
                        "notes": notes,
                        "no_shows": 0,
                        "revision": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
            )
            audit.record(
                c,
                at=now,
                who=self.user,
                action="patient added",
                entity="patient",
                entity_id=fields["mrn"],
                mrn=fields["mrn"],
                after=fields,
            )
            return self._patient(c, fields["mrn"])

    def update_patient(
        self,
        mrn: str,
        *,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        notes: str | None = None,
        notify: str | None = None,
        expected_revision: int | None = None,
        dry_run: bool = False,
    ) -> PatientView:
        """Change the given fields (None: unchanged; "" clears phone or e-mail).

        A change of ``notify`` or of the e-mail address of a consenting patient makes
        the outbox owe them what it now should (the course again, at a new address)."""
        with self.write(dry_run=dry_run) as c:
            row = self._patient_row(c, mrn)
            mrn = row.mrn
            fields = check_patient(
                mrn,
                row.name if name is None else name,
                row.phone if phone is None else phone,
                row.email if email is None else email,
                notes=notes,
                notify=row.notify if notify is None else notify,
            )
            wanted = {
                "name": fields["name"],
                "phone": fields["phone"],
                "email": fields["email"],
                "notes": row.notes if notes is None else notes,
                "notify": fields["notify"],
            }
            changes = {k: v for k, v in wanted.items() if getattr(row, k) != v}
            if not changes:
                return self._patient(c, mrn)
            seen = seen_revision(f"patient {mrn}", row.revision, expected_revision)
            now = self._stamp()
            done = c.execute(
                update(PATIENTS)
                .where(PATIENTS.c.id == row.id, PATIENTS.c.revision == seen)
                .values(**changes, revision=PATIENTS.c.revision + 1, updated_at=now)
            )
            if done.rowcount != 1:
                raise InputError(f"patient {mrn}: {STALE}")
            audit.record(
                c,
                at=now,
                who=self.user,
                action="patient changed",
                entity="patient",
                entity_id=mrn,
                mrn=mrn,
                before={k: getattr(row, k) for k in changes},
                after=changes,
            )
            if {"notify", "email"} & changes.keys():
                outbox.visits_changed(c, self, (), now, patient_ids=[row.id])
            return self._patient(c, mrn)

    def patient(self, mrn: str) -> PatientView:
        with self._read() as c:
            return self._patient(c, mrn)

    def patients(self, search: str | None = None) -> list[PatientView]:
        """Every patient by MRN; ``search`` matches part of the MRN or the name."""
        counts = (
            select(ENROLLMENTS.c.patient_id, func.count().label("n"))
            .group_by(ENROLLMENTS.c.patient_id)
            .subquery()
        )
        query = (
            select(PATIENTS, func.coalesce(counts.c.n, 0).label("n"))
            .select_from(PATIENTS.outerjoin(counts, counts.c.patient_id == PATIENTS.c.id))
            .order_by(PATIENTS.c.mrn)
        )
        if search:
            query = query.where(patient_search(search))
        with self._read() as c:
            return [patient_view(row, row.n) for row in c.execute(query)]

    def patient_count(self) -> int:
        return summaries.patient_count(self)

    def find_patients(self, text: str, limit: int) -> list[PatientMatch]:
        """One screenful of ``patients(text)``, each with their progress."""
        return summaries.find_patients(self, text, limit)

    def course_progress(self, mrns: Collection[str]) -> dict[str, CourseProgress]:
        return summaries.course_progress(self, mrns)

    def _patient(self, c: Connection, mrn: str) -> PatientView:
        row = self._patient_row(c, mrn)
        n = c.execute(
            select(func.count()).select_from(ENROLLMENTS).where(ENROLLMENTS.c.patient_id == row.id)
        ).scalar_one()
        return patient_view(row, int(n))


# The longest value of each patient field: the patients table's column sizes
# (records/schema.py; a test keeps them equal), and for notes, a TEXT column, the
# domain's limit for text. The CSV import checks its cells against the same numbers.
LIMITS = {"mrn": 64, "name": 200, "phone": 64, "email": 200, "notes": MAX_TEXT}


class PatientFieldError(InputError):
    """``check_patient``'s refusal; ``field`` names the field (the import's column)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_patient(
    mrn: str,
    name: str,
    phone: str | None,
    email: str | None,
    *,
    notes: str | None = None,
    notify: str | None = "none",
) -> dict[str, Any]:
    """Trimmed patient fields, or one line saying which is wrong (``notes`` is only
    checked: it is kept as given). ``notify`` is the patient's consent to e-mail:
    'email' or 'none' (empty: none)."""
    mrn, name = mrn.strip(), " ".join(name.split())
    if not mrn or len(mrn) > LIMITS["mrn"] or not mrn.isprintable() or " " in mrn:
        raise PatientFieldError(
            "mrn", f"MRN {mrn[:70]!r}: must be 1 to 64 characters, without spaces or controls"
        )
    if not name or len(name) > LIMITS["name"]:
        raise PatientFieldError("name", f"MRN {mrn}: the name must be 1 to 200 characters")
    phone = (phone or "").strip() or None
    email = (email or "").strip() or None
    for field, value in (("name", name), ("phone", phone), ("email", email), ("notes", notes)):
        if value is None:
            continue
        if len(value) > LIMITS[field]:
            limit = LIMITS[field]
            raise PatientFieldError(
                field, f"MRN {mrn}: {field} of {len(value):,} characters, at most {limit:,}"
            )
        if _control(value, allowed="\t\n\r" if field == "notes" else ""):
            raise PatientFieldError(field, f"MRN {mrn}: the {field} holds a control character")
    if email is not None and ("@" not in email or " " in email):
        raise PatientFieldError("email", f"MRN {mrn}: {email[:70]!r} is not an e-mail address")
    notify = (notify or "").strip().lower() or "none"
    if notify not in NOTIFY_CHOICES:
        raise PatientFieldError(
            "notify", f"MRN {mrn}: notify {notify[:20]!r} is not one of {', '.join(NOTIFY_CHOICES)}"
        )
    if notify == "email" and email is None:
        raise PatientFieldError(
            "notify", f"MRN {mrn}: notify email needs the patient's e-mail address"
        )
    return {"mrn": mrn, "name": name, "phone": phone, "email": email, "notify": notify}


def _control(text: str, allowed: str) -> bool:
    """NUL, escape sequences and the like: PostgreSQL refuses NUL, and screens and
    calendars mangle the rest."""
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)
