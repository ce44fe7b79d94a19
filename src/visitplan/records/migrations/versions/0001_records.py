"""Patients, protocol snapshots, enrollments, visits and the audit trail.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mrn", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(64)),
        sa.Column("email", sa.String(200)),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("no_shows", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "protocol_snapshots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("protocol_id", sa.String(100), nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.UniqueConstraint("protocol_id", "sha256"),
    )
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patient_id", sa.Integer, sa.ForeignKey("patients.id"), nullable=False),
        sa.Column(
            "snapshot_id", sa.Integer, sa.ForeignKey("protocol_snapshots.id"), nullable=False
        ),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("visit_time", sa.String(5), nullable=False),
        sa.Column("clinician", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_enrollments_patient_id", "enrollments", ["patient_id"])
    op.create_index("ix_enrollments_clinician", "enrollments", ["clinician"])
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(200), nullable=False, unique=True),
        sa.Column("enrollment_id", sa.Integer, sa.ForeignKey("enrollments.id"), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("target", sa.Date, nullable=False),
        sa.Column("earliest", sa.Date, nullable=False),
        sa.Column("latest", sa.Date, nullable=False),
        sa.Column("start_at", sa.DateTime, nullable=False),
        sa.Column("end_at", sa.DateTime, nullable=False),
        sa.Column("actual_at", sa.DateTime),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("warnings", sa.Text, nullable=False),
        sa.Column("deviation", sa.Text),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_visits_start_at", "visits", ["start_at"])
    op.create_index("ix_visits_enrollment", "visits", ["enrollment_id", "start_at"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.String(100), nullable=False),
        sa.Column("mrn", sa.String(64)),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
    )
    op.create_index("ix_audit_mrn", "audit", ["mrn", "id"])
    _append_only("audit")


def _append_only(table: str) -> None:
    """The database itself refuses to change or delete audit rows."""
    message = "the audit trail is append-only"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_append_only ON audit")
        op.execute("DROP FUNCTION audit_append_only()")
    for table in ("audit", "visits", "enrollments", "protocol_snapshots", "patients"):
        op.drop_table(table)
