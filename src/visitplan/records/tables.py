"""The records' tables on a declarative ``Base``, for other areas and for Alembic.

Its metadata is the records' own (``visitplan.records.schema``, where every table
is declared in SQLAlchemy Core), so one ``Base.metadata`` describes the whole
database, the feeds and the publish ledger included.
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


class Feed(Base):
    __table__ = schema.FEEDS


class PublishedObject(Base):
    __table__ = schema.PUBLISHED
