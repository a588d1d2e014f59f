"""The alerts' tables (SQLAlchemy Core), on the store's metadata.

``migrations/versions/0008_observability.py`` creates exactly these; change both together.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

from hub.store.models import Base, UTCDateTime

# Whether each rule fires for each subject now: the one row every evaluating process races
# to flip, so an alert fires (and clears) once however many workers evaluate it.
alert_states = Table(
    "alert_states",
    Base.metadata,
    Column("rule", String(100), primary_key=True),
    Column("subject", String(500), primary_key=True),
    Column("firing", Boolean, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)

# Every firing and every recovery, kept: the alerts' history.
alert_events = Table(
    "alert_events",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(100), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("event", String(10), nullable=False),  # fired | cleared
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("detail", Text, nullable=False),
)
