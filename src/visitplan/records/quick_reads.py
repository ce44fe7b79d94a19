"""Quick reads: the agenda, a patient's visits and a patient, read through the
database's own driver (the standard library's sqlite3, or psycopg), for the commands
that print one of these and end.

The Desk's reads cost a third of a second before their query: SQLAlchemy, Alembic's
check, and pydantic validating again the clinic and the protocols that were validated
when they were stored. What these reads need from those stored texts is little (the
clinic's zone; each step's key, label and kind), so here they are read as plain JSON
and TOML. The answers are the Desk's views, built the same way (a test compares both
paths on both backends). Whenever anything is not as the plain case expects (no
database yet, another schema revision, no stored clinic, a MRN not found), a read
answers None, and the caller asks the Desk, which then says what is wrong in its words.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from visitplan.records.schema_heads import script_heads
from visitplan.records.views import EnrollmentView, PatientView, VisitView

UTC = dt.UTC
_VISIT_COLUMNS = (
    "v.id, v.uid, v.enrollment_id, v.key, v.status, v.target, v.earliest, v.latest, "
    "v.start_at, v.end_at, v.actual_at, v.revision, v.sequence, v.reason, v.warnings, "
    "v.deviation, v.updated_at, v.pinned, v.cancelled_by, v.clinician_id, e.snapshot_id, "
    "c.name, p.mrn, p.name"
)
_VISIT_FROM = (
    "FROM visits v JOIN enrollments e ON v.enrollment_id = e.id "
    "JOIN patients p ON e.patient_id = p.id LEFT JOIN clinicians c ON v.clinician_id = c.id"
)


@dataclass(frozen=True, slots=True)
class StepText:
    """What a view takes from one step of a stored protocol."""

    label: str
    kind: str
    duration_minutes: int
    notes: str
    patient_notes: str
    assessments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredProtocol:
    protocol_id: str
    version: str
    title: str
    sha256: str
    steps: dict[str, StepText]


def protocol_steps(text: str) -> dict[str, StepText]:
    """A stored (so already validated) protocol's steps by key, as ``domain.protocol``
    numbers and labels them: ``key-n`` when repeated, ``{n}`` and ``{total}`` filled."""
    out: dict[str, StepText] = {}
    for visit in tomllib.loads(text).get("visits", []):
        count = int((visit.get("repeat") or {}).get("count", 1))
        for n in range(1, count + 1):
            key = f"{visit['key']}-{n}" if count > 1 else visit["key"]
            out[key] = StepText(
                visit["label"].format(n=n, total=count),
                visit["kind"],
                int(visit["duration_minutes"]),
                visit.get("notes", ""),
                visit.get("patient_notes", ""),
                tuple(visit.get("assessments", ())),
            )
    return out


def connect_url(url: str) -> tuple[str, str] | None:
    """(backend, what its driver connects to) for the URLs the quick reads serve: a
    plain ``sqlite:///PATH`` to a database file that exists and can be written (as
    the Desk requires), or a PostgreSQL URL; None for any other."""
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite":
        if not rest.startswith("/") or "?" in rest or rest.startswith("/file:"):
            return None
        path = Path(rest[1:])
        if not path.is_file() or not os.access(path, os.W_OK):
            return None
        if not os.access(path.parent, os.W_OK):
            return None
        return "sqlite", str(path)
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        return "postgresql", "postgresql://" + rest
    return None


class QuickReads:
    """One read-only transaction on the records; None from a read means: ask the Desk."""

    def __init__(self, connection: Any, backend: str) -> None:
        self._c = connection
        self.backend = backend
        self._protocols: dict[int, StoredProtocol] = {}
        self.zone: ZoneInfo | None = None
        self.clinic: dict[str, Any] | None = None

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if self.backend == "postgresql":
            sql = sql.replace("?", "%s")
        cursor = self._c.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def _stamp(self, moment: dt.datetime) -> Any:
        """A UTC time as the records store it (SQLAlchemy's text on SQLite)."""
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        return f"{naive:%Y-%m-%d %H:%M:%S.%f}" if self.backend == "sqlite" else naive

    def ready(self) -> bool:
        """The schema is this release's and a clinic is stored: then its zone is read."""
        try:
            stored = {r[0] for r in self._rows("SELECT version_num FROM alembic_version")}
        except Exception:  # no such table: a new database, which the Desk creates
            return False
        if stored != set(script_heads()):
            return False
        rows = self._rows("SELECT settings FROM clinic_versions ORDER BY id DESC LIMIT 1")
        if not rows:
            return False
        self.clinic = json.loads(rows[0][0])
        self.zone = ZoneInfo(self.clinic["timezone"])
        return True

    def now(self) -> dt.datetime:
        assert self.zone is not None
        return dt.datetime.now(self.zone)

    # -- the reads -----------------------------------------------------------------

    def agenda(self, day: dt.date, days: int) -> list[VisitView]:
        """``Desk.agenda(day, days)``: the visits not cancelled, in time order."""
        assert self.zone is not None
        first = dt.datetime.combine(day, dt.time(), self.zone)
        after = dt.datetime.combine(day + dt.timedelta(days=days), dt.time(), self.zone)
        rows = self._rows(
            f"SELECT {_VISIT_COLUMNS} {_VISIT_FROM} WHERE v.start_at >= ? AND v.start_at < ? "
            "AND v.status IN ('scheduled', 'completed', 'missed') ORDER BY v.start_at, v.id",
            (self._stamp(first), self._stamp(after)),
        )
        return self._visit_views(rows)

    def patient_visits(self, mrn: str) -> list[VisitView] | None:
        """``Desk.visits(mrn=mrn)``; None for an MRN not on record."""
        found = self._patient_row(mrn)
        if found is None:
            return None
        rows = self._rows(
            f"SELECT {_VISIT_COLUMNS} {_VISIT_FROM} WHERE e.patient_id = ? "
            "ORDER BY v.start_at, v.id",
            (found[0],),
        )
        return self._visit_views(rows)

    def patient(self, mrn: str) -> tuple[PatientView, list[tuple[EnrollmentView, str]]] | None:
        """``Desk.patient(mrn)`` and ``Desk.enrollments(mrn)``, each course with the
        sha256 of its stored protocol text (``newer_version_available`` and
        ``current_version`` are left for the caller, who knows the catalog)."""
        row = self._patient_row(mrn)
        if row is None:
            return None
        courses = self._rows(
            "SELECT e.id, e.snapshot_id, e.start_date, e.visit_time, c.name, e.status, "
            "e.revision, e.created_at, e.updated_at FROM enrollments e "
            "LEFT JOIN clinicians c ON e.clinician_id = c.id WHERE e.patient_id = ? "
            "ORDER BY e.start_date, e.id",
            (row[0],),
        )
        patient = PatientView(
            mrn=row[1],
            name=row[2],
            phone=row[3],
            email=row[4],
            notes=row[5],
            no_shows=row[6],
            revision=row[7],
            enrollments=len(courses),
            created_at=_utc(row[8]),
            updated_at=_utc(row[9]),
            notify=row[10],
        )
        views = []
        for e in courses:
            stored = self._protocol(e[1])
            view = (
                EnrollmentView(
                    id=e[0],
                    mrn=row[1],
                    patient_name=row[2],
                    protocol_id=stored.protocol_id,
                    protocol_version=stored.version,
                    protocol_title=stored.title,
                    start=_day(e[2]),
                    time=dt.time.fromisoformat(e[3]),
                    clinician=e[4],
                    status=e[5],
                    revision=e[6],
                    created_at=_utc(e[7]),
                    updated_at=_utc(e[8]),
                ),
                stored.sha256,
            )
            views.append(view)
        return patient, views

    # -- helpers -------------------------------------------------------------------

    def _patient_row(self, mrn: str) -> Any:
        rows = self._rows(
            "SELECT id, mrn, name, phone, email, notes, no_shows, revision, created_at, "
            "updated_at, notify FROM patients WHERE lower(mrn) = ?",
            (mrn.strip().lower(),),
        )
        return rows[0] if rows else None

    def _protocol(self, snapshot_id: int) -> StoredProtocol:
        found = self._protocols.get(snapshot_id)
        if found is None:
            row = self._rows(
                "SELECT protocol_id, version, title, sha256, text FROM protocol_snapshots "
                "WHERE id = ?",
                (snapshot_id,),
            )[0]
            found = StoredProtocol(row[0], row[1], row[2], row[3], protocol_steps(row[4]))
            self._protocols[snapshot_id] = found
        return found

    def _visit_views(self, rows: Sequence[Any]) -> list[VisitView]:
        zone = self.zone
        out = []
        for r in rows:
            stored = self._protocol(r[20])
            step = stored.steps.get(r[3])
            if step is None:
                raise LookupError(r[3])  # the Desk names the visit and its protocol
            out.append(
                VisitView(
                    id=r[0],
                    uid=r[1],
                    enrollment_id=r[2],
                    mrn=r[22],
                    patient_name=r[23],
                    clinician=r[21],
                    protocol_id=stored.protocol_id,
                    key=r[3],
                    label=step.label,
                    kind=step.kind,
                    status=r[4],
                    target=_day(r[5]),
                    earliest=_day(r[6]),
                    latest=_day(r[7]),
                    start=_utc(r[8]).astimezone(zone),
                    end=_utc(r[9]).astimezone(zone),
                    actual=_utc(r[10]).astimezone(zone) if r[10] is not None else None,
                    revision=r[11],
                    sequence=r[12],
                    reason=r[13],
                    warnings=tuple(json.loads(r[14])),
                    deviation=r[15],
                    notes=step.notes,
                    patient_notes=step.patient_notes,
                    assessments=step.assessments,
                    duration_minutes=step.duration_minutes,
                    updated_at=_utc(r[16]),
                    pinned=bool(r[17]),
                    cancelled_by=r[18],
                    clinician_id=r[19],
                    protocol_version=stored.version,
                    protocol_title=stored.title,
                )
            )
        return out


def _utc(value: Any) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return stamp.replace(tzinfo=UTC)


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


@contextmanager
def quick_reads(url: str) -> Iterator[QuickReads | None]:
    """Quick reads on ``url`` in one read-only transaction, or None where the Desk
    must read (see the module's docstring)."""
    target = connect_url(url)
    if target is None:
        yield None
        return
    backend, where = target
    try:
        connection = _connect(backend, where)
    except Exception:  # the Desk says why, in one line
        yield None
        return
    try:
        reads = QuickReads(connection, backend)
        yield reads if reads.ready() else None
    finally:
        connection.close()


def _connect(backend: str, where: str) -> Any:
    if backend == "sqlite":
        import sqlite3

        # mode=rw: never create a file; the transaction is one consistent snapshot.
        connection = sqlite3.connect(f"file:{quote(where)}?mode=rw", uri=True, timeout=5)
        connection.execute("BEGIN")
        return connection
    import psycopg

    # The Desk's engine waits 5 s for the server, as here.
    server = psycopg.connect(where, connect_timeout=5)
    server.read_only = True
    return server
