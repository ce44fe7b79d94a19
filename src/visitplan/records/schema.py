"""The records' tables, in SQLAlchemy Core.

Reading and writing use these directly: loading the ORM as well would cost every
`visitplan agenda` a sixth of a second. ``visitplan.records.tables`` maps them on
the declarative ``Base`` that other areas build their own tables on. Times are
stored as naive UTC, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
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
# MRNs are unique without regard to case (revision 0003).
Index("ix_patients_mrn_key", func.lower(PATIENTS.c.mrn), unique=True)

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
    # The course's clinician: its visits' own unless one is handed to another.
    Column("clinician_id", Integer, ForeignKey("clinicians.id", name="fk_enrollments_clinician")),
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
    # Placed by hand (moved, or rebooked): a cascade leaves it where staff put it.
    Column("pinned", Boolean, nullable=False, server_default=false()),
    # Who cancelled it: 'staff', or 'withdrawal' (which a reinstatement undoes).
    Column("cancelled_by", String(20)),
    Column("clinician_id", Integer, ForeignKey("clinicians.id", name="fk_visits_clinician")),
    Index("ix_visits_start_at", "start_at"),
    Index("ix_visits_clinician", "clinician_id", "start_at"),
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
    # The clinic's own changes (settings, closures, clinicians), found without a scan.
    Index("ix_audit_entity", "entity", "id"),
)

# The clinic's settings, one row per version loaded (revision 0004): the newest is
# the clinic every workstation plans and shows times with. ``settings`` is the
# validated clinic as JSON.
CLINIC_VERSIONS = Table(
    "clinic_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("settings", Text, nullable=False),
    Column("source", String(1000), nullable=False),
    Column("loaded_at", DateTime, nullable=False),
    Column("loaded_by", String(200), nullable=False),
)

# The people who treat: a visit is booked only when its clinician works and is free.
CLINICIANS = Table(
    "clinicians",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_key", String(200), nullable=False, unique=True),  # casefolded name
    Column("hours", String(500)),  # "mon-fri=09:00-13:00,sat=09:00-12:00"; NULL: the clinic's
    Column("capacity", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# Days the clinic (or one clinician: leave) does not work, added as they happen.
CLOSURES = Table(
    "closures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("clinician_id", Integer, ForeignKey("clinicians.id")),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    sqlite_autoincrement=True,
)


# Feeds and CalDAV publishing (Alembic revision "0002"); ``visitplan.sync.store``
# reads and writes them. The token itself is never stored, only its SHA-256.
FEEDS = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scope", String(300), nullable=False),  # 'clinic', 'clinician:NAME', 'patient:MRN'
    Column("audience", String(20), nullable=False),
    Column("privacy", String(20), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", DateTime),
    Column("revoked_by", String(200)),
)

# One calendar object as this program last wrote it to one CalDAV calendar. The
# fingerprint hashes the visit's revision and the export settings, so an unchanged
# visit is recognised without serializing it again.
PUBLISHED = Table(
    "published_objects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("calendar_url", String(1000), nullable=False),
    Column("uid", String(200), nullable=False),
    Column("href", Text, nullable=False),
    Column("etag", String(200)),
    Column("sequence", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("published_at", DateTime, nullable=False),
    UniqueConstraint("calendar_url", "uid"),
)


# E-mail to patients (Alembic revision "0005"). Consent first: a patient is written
# to only when staff recorded 'email' here. Appended rather than declared above so
# that the patients table reads as it did before e-mail existed.
PATIENTS.append_column(Column("notify", String(10), nullable=False, server_default="none"))

# The outbox: every message a change of the records owes a patient, written in the
# transaction of that change (``visitplan.records.outbox``). A row is an intent
# (which visit, which kind of message, due when); the message itself is rendered
# from the visit as it is when the sender claims the row, and kept in ``content``
# only while it may be on its way, so a resend after a crash is the same bytes.
OUTBOX = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("visit_id", Integer, ForeignKey("visits.id"), nullable=False),
    Column("uid", String(200), nullable=False),  # the visit's, for its Message-IDs
    Column("kind", String(10), nullable=False),  # request, cancel, reminder
    Column("sequence", Integer, nullable=False),  # the visit's SEQUENCE it speaks of
    Column("minutes_before", Integer),  # reminders
    Column("status", String(12), nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("next_at", DateTime, nullable=False),  # due_at, or the retry after a failure
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("claimed_at", DateTime),
    Column("sent_at", DateTime),
    Column("message_id", String(300)),
    Column("recipient", String(200)),
    Column("subject", Text),
    Column("content", LargeBinary),
    Column("error", Text),
    Index("ix_outbox_due", "status", "next_at"),
    Index("ix_outbox_visit", "visit_id", "id"),
)
