"""The console's tables (SQLAlchemy Core) on the store's metadata; migration 0009_console
creates exactly these: change both together."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from hub.store.models import Base, UTCDateTime

# A logged-in browser: the row's id is the SHA-256 of the cookie's token, so a copy of the
# database opens no session.
console_sessions = Table(
    "console_sessions",
    Base.metadata,
    Column("id", String(64), primary_key=True),
    Column("username", String(200), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_console_sessions_expires_at", "expires_at"),
)

# Failed logins in a row, per "account:<name>" and per "address:<ip>".
console_login_failures = Table(
    "console_login_failures",
    Base.metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
)
