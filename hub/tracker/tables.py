"""The tracker's one table (SQLAlchemy Core, on the store's metadata): exemptions. Migration
0021_tracker creates exactly this and the reveal index below: change them together.

Everything else the tracker shows is read from what the hub already keeps (hub/tracker/trail.py)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from hub.security.tables import audit_log
from hub.store.models import Base, UTCDateTime

# A department's access to one person kept from that person's view until a date, with the
# reason operators see and who granted it. The person is the identity index's keyed hash.
tracker_exemptions = Table(
    "tracker_exemptions",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("department", String(64), nullable=False),
    Column("subject_hash", String(64), nullable=False),
    Column("subject_masked", String(32), nullable=False),
    Column("until", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("granted_by", String(200), nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Index("ix_tracker_exemptions_subject_hash", "subject_hash"),
)

# Reveals are audit entries whose subject is a message id: a partial index finds a person's
# without indexing every entry of the chain (accepted, attempts...), which ingest writes.
REVEAL_INDEX = Index(
    "ix_audit_log_reveal_subject",
    audit_log.c.subject,
    postgresql_where=audit_log.c.action == "reveal",
    sqlite_where=audit_log.c.action == "reveal",
)
