"""The front desk's rules: visits placed by hand stay put, a withdrawal's
cancellations can be undone, and MRNs are unique without regard to case.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("cancelled_by", sa.String(20)))
    # Visits cancelled before this revision: a withdrawn course's were cancelled by
    # its withdrawal (the only way its visits were cancelled in bulk); the others by
    # staff. Reinstating a course brings back only the former.
    visits = sa.table(
        "visits",
        sa.column("status", sa.String),
        sa.column("enrollment_id", sa.Integer),
        sa.column("cancelled_by", sa.String),
    )
    enrollments = sa.table(
        "enrollments", sa.column("id", sa.Integer), sa.column("status", sa.String)
    )
    op.execute(visits.update().where(visits.c.status == "cancelled").values(cancelled_by="staff"))
    withdrawn = sa.select(enrollments.c.id).where(enrollments.c.status == "withdrawn")
    op.execute(
        visits.update()
        .where(visits.c.status == "cancelled", visits.c.enrollment_id.in_(withdrawn))
        .values(cancelled_by="withdrawal")
    )
    # Two stored MRNs that differ only in case would make the index fail: then the
    # records keep them (the Desk refuses any new clash under its write lock) and the
    # index is left out rather than the upgrade refused.
    bind = op.get_bind()
    clashes = bind.execute(
        sa.text("SELECT lower(mrn) FROM patients GROUP BY lower(mrn) HAVING count(*) > 1")
    ).first()
    if clashes is None:
        op.create_index("ix_patients_mrn_key", "patients", [sa.text("lower(mrn)")], unique=True)


def downgrade() -> None:
    op.drop_index("ix_patients_mrn_key", table_name="patients", if_exists=True)
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("cancelled_by")
        batch.drop_column("pinned")
