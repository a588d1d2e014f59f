"""The record of every query answered (SQLAlchemy Core) on the store's metadata; migration
0015_queries creates exactly this: change both together."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

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

# QueryAsync's queries until their result is fetched (migration 0018_query_async): any API
# process answers GetQueryResult from these, and one whose process died is still answered.
# What names the person (the subject, the values) is sealed like message bodies.
query_async = Table(
    "query_async",
    Base.metadata,
    Column("id", String(36), primary_key=True),
    Column("requester", String(64), nullable=False),
    Column("deadline_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),  # pruned after it
    Column("finished_at", UTCDateTime, nullable=True),
    Column("request", LargeBinary, nullable=False),  # JSON: subject, purpose, askedAt, sections
    Index("ix_query_async_expires_at", "expires_at"),
)

# One row per source as its outcome comes in; a source with no row has not answered yet.
query_async_answers = Table(
    "query_async_answers",
    Base.metadata,
    Column(
        "query_id", String(36), ForeignKey("query_async.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("part", String(64), primary_key=True),
    Column("department", String(64), primary_key=True),
    Column("outcome", LargeBinary, nullable=False),  # JSON: status, answeredAt, facts, detail
)
