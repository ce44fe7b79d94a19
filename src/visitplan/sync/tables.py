"""The sync area's tables, on the records' ``Base`` (Alembic revision "0002").

Times are naive UTC, as in the records' own tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from visitplan.records.tables import Base


class FeedRow(Base):
    """A subscribable feed. The token itself is never stored, only its SHA-256."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(300))  # 'clinic', 'clinician:NAME', 'patient:MRN'
    audience: Mapped[str] = mapped_column(String(20))
    privacy: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class PublishedObject(Base):
    """One calendar object as this program last wrote it to one CalDAV calendar."""

    __tablename__ = "published_objects"
    __table_args__ = (UniqueConstraint("calendar_url", "uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_url: Mapped[str] = mapped_column(String(1000))
    uid: Mapped[str] = mapped_column(String(200))
    href: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(Integer)
    # What was written: the visit's revision and the export settings, hashed, so
    # that an unchanged visit is recognised without serializing it again.
    fingerprint: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime)
