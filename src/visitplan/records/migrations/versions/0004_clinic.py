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
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table in ("enrollments", "visits"):
        if sqlite:
            # SQLite adds a column with its reference in place. Alembic's batch mode
            # would copy the table instead, and dropping the old enrollments table
            # fails while the visits refer to it (foreign keys are on).
            bind.execute(
                sa.text(f"ALTER TABLE {table} ADD COLUMN clinician_id INTEGER "
                        f"CONSTRAINT fk_{table}_clinician REFERENCES clinicians (id)")
            )  # fmt: skip
        else:
            op.add_column(table, sa.Column("clinician_id", sa.Integer))
            op.create_foreign_key(
                f"fk_{table}_clinician", table, "clinicians", ["clinician_id"], ["id"]
            )

    # Every name staff typed becomes one clinician (names that differ only in case or
    # spacing are one person, spelt as on the earliest course), with the clinic's
    # hours and one patient at a time.
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    typed = bind.execute(
        sa.text("SELECT id, clinician FROM enrollments WHERE clinician IS NOT NULL ORDER BY id")
    ).all()
    ids: dict[str, int] = {}
    for enrollment_id, name in typed:
        shown = " ".join(str(name).split())
        key = shown.casefold()
        if not shown:
            continue
        if key not in ids:
            bind.execute(
                sa.text(
                    "INSERT INTO clinicians (name, name_key, hours, capacity, revision, "
                    "created_at, updated_at) VALUES (:name, :key, NULL, 1, 1, :now, :now)"
                ),
                {"name": shown, "key": key, "now": now},
            )
            ids[key] = bind.execute(
                sa.text("SELECT id FROM clinicians WHERE name_key = :key"), {"key": key}
            ).scalar_one()
        bind.execute(
            sa.text("UPDATE enrollments SET clinician_id = :cid WHERE id = :eid"),
            {"cid": ids[key], "eid": enrollment_id},
        )
    bind.execute(
        sa.text(
            "UPDATE visits SET clinician_id = (SELECT e.clinician_id FROM enrollments e "
            "WHERE e.id = visits.enrollment_id)"
        )
    )
    op.drop_index("ix_enrollments_clinician", table_name="enrollments")
    if sqlite:
        bind.execute(sa.text("ALTER TABLE enrollments DROP COLUMN clinician"))  # 3.35 and later
    else:
        op.drop_column("enrollments", "clinician")
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
