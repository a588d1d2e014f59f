"""The batch tables (SQLAlchemy Core), on the store's metadata so migrations compare them:
every rule-set version (never updated), and every batch with its report and decisions."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from hub.store.models import Base, UTCDateTime

metadata = Base.metadata

batch_rule_versions = Table(
    "batch_rule_versions",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("actor", String(120), nullable=False),
    Column("reason", Text, nullable=False),
    Column("made_at", UTCDateTime(), nullable=False),
    Column("definition", Text, nullable=False),  # JSON: the set as its file gives it
)

batches = Table(
    "batches",
    metadata,
    Column("batch_id", String(24), primary_key=True),
    Column("sender", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("record", Text, nullable=False),  # JSON: report, exclusions, commit (ledger.py)
    Index("ix_batches_sender_created", "sender", "created_at"),
)
