"""The record of every query answered (SQLAlchemy Core) on the store's metadata; migration
0015_queries creates exactly this: change both together."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from hub.store.models import Base, UTCDateTime

# Who asked about whom, which parts, why, and what each source answered (its status and how
# many values, never the values). The subject is kept as the identity index's keyed hash
# (hub/store/identities.py) and masked, as messages keep the numbers they name.
query_log = Table(
    "query_log",
    Base.metadata,
    Column("id", String(36), primary_key=True),
    Column("requester", String(64), nullable=False),
    Column("subject_hash", String(64), nullable=False),
    Column("subject_masked", String(32), nullable=False),
    Column("parts", String(500), nullable=False),
    Column("purpose", String(500), nullable=False),
    Column("asked_at", UTCDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("answered", Text, nullable=False),  # JSON: [{part, department, status, values}]
    Index("ix_query_log_asked_at", "asked_at"),
    Index("ix_query_log_subject_hash", "subject_hash"),
)
