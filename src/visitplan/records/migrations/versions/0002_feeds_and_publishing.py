"""Feeds (subscribable .ics URLs) and the CalDAV publish ledger.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("privacy", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("revoked_at", sa.DateTime),
        sa.Column("revoked_by", sa.String(200)),
    )
    op.create_table(
        "published_objects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("calendar_url", sa.String(1000), nullable=False),
        sa.Column("uid", sa.String(200), nullable=False),
        sa.Column("href", sa.Text, nullable=False),
        sa.Column("etag", sa.String(200)),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("calendar_url", "uid"),
    )


def downgrade() -> None:
    op.drop_table("published_objects")
    op.drop_table("feeds")
