"""The records' tables, in SQLAlchemy Core.

Reading and writing use these directly: loading the ORM as well would cost every
`visitplan agenda` a sixth of a second. ``visitplan.records.tables`` maps them on
the declarative ``Base`` that other areas build their own tables on. Times are
stored as naive UTC, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

PATIENTS = Table(
    "patients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mrn", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("phone", String(64)),
    Column("email", String(200)),
    Column("notes", Text, nullable=False),
    Column("no_shows", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# The exact protocol text a course was planned with, stored once per content.
SNAPSHOTS = Table(
    "protocol_snapshots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("protocol_id", String(100), nullable=False),
    Column("version", String(50), nullable=False),
    Column("title", String(300), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("text", Text, nullable=False),
    UniqueConstraint("protocol_id", "sha256"),
)

ENROLLMENTS = Table(
    "enrollments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id"), nullable=False, index=True),
    Column("snapshot_id", Integer, ForeignKey("protocol_snapshots.id"), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("visit_time", String(5), nullable=False),  # local HH:MM
    Column("clinician", String(200), index=True),
    Column("status", String(20), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

VISITS = Table(
    "visits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(200), nullable=False, unique=True),
    Column("enrollment_id", Integer, ForeignKey("enrollments.id"), nullable=False),
    Column("key", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("target", Date, nullable=False),
    Column("earliest", Date, nullable=False),
    Column("latest", Date, nullable=False),
    Column("start_at", DateTime, nullable=False),
    Column("end_at", DateTime, nullable=False),
    Column("actual_at", DateTime),
    Column("revision", Integer, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("reason", Text),
    Column("warnings", Text, nullable=False),  # JSON list of lines
    Column("deviation", Text),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_visits_start_at", "start_at"),
    Index("ix_visits_enrollment", "enrollment_id", "start_at"),
)

# Append-only: the records layer only inserts here, and triggers refuse the rest.
AUDIT = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("who", String(200), nullable=False),
    Column("action", String(50), nullable=False),
    Column("entity", String(20), nullable=False),
    Column("entity_id", String(100), nullable=False),
    Column("mrn", String(64)),
    Column("before", Text),  # JSON object
    Column("after", Text),  # JSON object
    Index("ix_audit_mrn", "mrn", "id"),
)
