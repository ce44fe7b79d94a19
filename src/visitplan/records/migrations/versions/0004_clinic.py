"""One clinic for every workstation: its settings, closures and clinicians live with
the records. A clinician named on an enrollment becomes a clinician record, and each
visit carries its own clinician (a visit can be handed to another).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinic_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("loaded_at", sa.DateTime, nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "clinicians",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False, unique=True),
        sa.Column("hours", sa.String(500)),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "closures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("clinician_id", sa.Integer, sa.ForeignKey("clinicians.id")),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_entity", "audit", ["entity", "id"])
    for table in ("enrollments", "visits"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("clinician_id", sa.Integer))
            batch.create_foreign_key(
                f"fk_{table}_clinician", "clinicians", ["clinician_id"], ["id"]
            )

    # Every name staff typed becomes one clinician (names that differ only in case or
    # spacing are one person), with the clinic's hours and one patient at a time.
    bind = op.get_bind()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    names = bind.execute(
        sa.text("SELECT DISTINCT clinician FROM enrollments WHERE clinician IS NOT NULL")
    ).scalars()
    ids: dict[str, int] = {}
    for name in names:
        shown = " ".join(str(name).split())
        key = shown.casefold()
        if not shown or key in ids:
            continue
        bind.execute(
            sa.text(
                "INSERT INTO clinicians (name, name_key, hours, capacity, revision, created_at, "
                "updated_at) VALUES (:name, :key, NULL, 1, 1, :now, :now)"
            ),
            {"name": shown, "key": key, "now": now},
        )
        ids[key] = bind.execute(
            sa.text("SELECT id FROM clinicians WHERE name_key = :key"), {"key": key}
        ).scalar_one()
    for name in bind.execute(
        sa.text("SELECT DISTINCT clinician FROM enrollments WHERE clinician IS NOT NULL")
    ).scalars():
        key = " ".join(str(name).split()).casefold()
        if key not in ids:
            continue
        bind.execute(
            sa.text("UPDATE enrollments SET clinician_id = :id WHERE clinician = :name"),
            {"id": ids[key], "name": name},
        )
    bind.execute(
        sa.text(
            "UPDATE visits SET clinician_id = (SELECT e.clinician_id FROM enrollments e "
            "WHERE e.id = visits.enrollment_id)"
        )
    )
    op.drop_index("ix_enrollments_clinician", table_name="enrollments")
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("clinician")
    op.create_index("ix_visits_clinician", "visits", ["clinician_id", "start_at"])


def downgrade() -> None:
    op.drop_index("ix_visits_clinician", table_name="visits")
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(sa.Column("clinician", sa.String(200)))
    op.execute(
        "UPDATE enrollments SET clinician = (SELECT c.name FROM clinicians c "
        "WHERE c.id = enrollments.clinician_id)"
    )
    op.create_index("ix_enrollments_clinician", "enrollments", ["clinician"])
    for table in ("visits", "enrollments"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_clinician", type_="foreignkey")
            batch.drop_column("clinician_id")
    op.drop_index("ix_audit_entity", table_name="audit")
    op.drop_table("closures")
    op.drop_table("clinicians")
    op.drop_table("clinic_versions")
