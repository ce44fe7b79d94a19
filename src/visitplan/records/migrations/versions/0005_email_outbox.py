"""Patients' consent to e-mail, and the outbox of messages owed to them.

Revision ID: 0005
Revises: 0003s
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every patient stored before consent was asked for is written to by no one.
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("notify", sa.String(10), nullable=False, server_default="none"))
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("visit_id", sa.Integer, sa.ForeignKey("visits.id"), nullable=False),
        sa.Column("uid", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("minutes_before", sa.Integer),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("next_at", sa.DateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("claimed_at", sa.DateTime),
        sa.Column("sent_at", sa.DateTime),
        sa.Column("message_id", sa.String(300)),
        sa.Column("recipient", sa.String(200)),
        sa.Column("subject", sa.Text),
        sa.Column("content", sa.LargeBinary),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_at"])
    op.create_index("ix_outbox_visit", "outbox", ["visit_id", "id"])


def downgrade() -> None:
    op.drop_table("outbox")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("notify")
