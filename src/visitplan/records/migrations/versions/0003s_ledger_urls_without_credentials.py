"""The publish ledger keyed by calendar URLs without credentials (data only, no schema change).

Before this, `visitplan publish --caldav http://user:password@host/...` stored the
password in ``published_objects.calendar_url`` and kept a second ledger beside the
one of the same calendar without it. Each such row is now keyed by the URL without
``user:password@``; where both ledgers know a visit, the newer write is kept (its
ETag is the one the server has), so nothing is sent again and no password stays
stored. `visitplan publish` now refuses a password in the URL.

Revision ID: 0003s
Revises: 0004
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from alembic import op

revision: str = "0003s"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None

_LEDGER = sa.table(
    "published_objects",
    sa.column("id", sa.Integer),
    sa.column("calendar_url", sa.String),
    sa.column("uid", sa.String),
    sa.column("published_at", sa.DateTime),
)


def _without_credentials(url: str) -> str:
    # Kept here, not imported: a migration must do the same thing forever.
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_LEDGER).where(_LEDGER.c.calendar_url.like("%@%"))).all()
    for row in rows:
        clean = _without_credentials(row.calendar_url)
        if clean == row.calendar_url:
            continue  # an @ in the path, not in the host part
        same = (_LEDGER.c.calendar_url == clean) & (_LEDGER.c.uid == row.uid)
        other = connection.execute(sa.select(_LEDGER).where(same)).one_or_none()
        if other is not None and other.published_at >= row.published_at:
            connection.execute(sa.delete(_LEDGER).where(_LEDGER.c.id == row.id))
            continue
        if other is not None:
            connection.execute(sa.delete(_LEDGER).where(_LEDGER.c.id == other.id))
        connection.execute(
            sa.update(_LEDGER).where(_LEDGER.c.id == row.id).values(calendar_url=clean)
        )


def downgrade() -> None:
    # The passwords are gone on purpose; the cleaned rows are right for the old code too.
    pass
