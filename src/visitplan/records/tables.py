"""The records' tables on a declarative ``Base``, for other areas and for Alembic.

Other areas add their own tables on this ``Base`` (and their own Alembic revisions
after "0001"); its metadata is the records' own (``visitplan.records.schema``), so
one ``Base.metadata`` describes the whole database.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from visitplan.records import schema


class Base(DeclarativeBase):
    metadata: ClassVar[MetaData] = schema.metadata


class Patient(Base):
    __table__ = schema.PATIENTS


class ProtocolSnapshot(Base):
    __table__ = schema.SNAPSHOTS


class Enrollment(Base):
    __table__ = schema.ENROLLMENTS


class Visit(Base):
    __table__ = schema.VISITS


class AuditEntry(Base):
    __table__ = schema.AUDIT
