"""The retry pauses' table (SQLAlchemy Core), on the store's metadata.

``migrations/versions/0008_observability.py`` creates exactly this; change both together.
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from hub.store.models import Base, UTCDateTime

# One row per paused department: who paused it, when and why. Resuming deletes the row (the
# audit log keeps both).
retry_pauses = Table(
    "retry_pauses",
    Base.metadata,
    Column("department", String(64), primary_key=True),
    Column("paused_by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("paused_at", UTCDateTime, nullable=False),
)
