"""Patients: adding, changing and finding them (part of the Desk)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from visitplan.errors import InputError
from visitplan.records import audit, outbox, summaries
from visitplan.records.desk_base import STALE, DeskBase
from visitplan.records.reading import ENROLLMENTS, PATIENTS, patient_search, patient_view
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
        fields = check_patient(mrn, name, phone, email, notify)
        with self.write(dry_run=dry_run) as c:
            if c.execute(select(PATIENTS.c.id).where(PATIENTS.c.mrn == fields["mrn"])).first():
                raise InputError(f"MRN {fields['mrn']!r} already exists")
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
            fields = check_patient(
                mrn,
                row.name if name is None else name,
                row.phone if phone is None else phone,
                row.email if email is None else email,
                row.notify if notify is None else notify,
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
            seen = row.revision if expected_revision is None else expected_revision
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


def check_patient(
    mrn: str, name: str, phone: str | None, email: str | None, notify: str | None = "none"
) -> dict[str, Any]:
    """Trimmed patient fields, or one line saying which is wrong.

    ``notify`` is the patient's consent to e-mail: 'email' or 'none' (empty: none)."""
    mrn, name = mrn.strip(), " ".join(name.split())
    if not mrn or len(mrn) > 64 or any(ch.isspace() for ch in mrn):
        raise InputError(f"MRN {mrn!r}: must be 1 to 64 characters without spaces")
    if not name or len(name) > 200:
        raise InputError(f"MRN {mrn}: the name must be 1 to 200 characters")
    phone = (phone or "").strip() or None
    email = (email or "").strip() or None
    if email is not None and ("@" not in email or " " in email):
        raise InputError(f"MRN {mrn}: {email!r} is not an e-mail address")
    notify = (notify or "").strip().lower() or "none"
    if notify not in NOTIFY_CHOICES:
        raise InputError(f"MRN {mrn}: notify {notify!r} is not one of {', '.join(NOTIFY_CHOICES)}")
    if notify == "email" and email is None:
        raise InputError(f"MRN {mrn}: notify email needs the patient's e-mail address")
    return {"mrn": mrn, "name": name, "phone": phone, "email": email, "notify": notify}
