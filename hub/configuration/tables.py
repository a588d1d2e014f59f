"""The runtime configuration's tables (SQLAlchemy Core), on the store's metadata.

``migrations/versions/0005_configuration.py`` creates exactly these; change both together.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from hub.store.models import Base, UTCDateTime

metadata = Base.metadata

# Every registered version of every department package, as a zip; never changed or deleted,
# so that an older version can be replayed with and rolled back to.
department_packages = Table(
    "department_packages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("package", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("source", String(500), nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("registered_by", String(200), nullable=False),
    UniqueConstraint("code", "version", name="uq_department_packages_code_version"),
)

# Per department: enabled or not, and which package version is in use (None: the
# department comes from the departments file).
department_states = Table(
    "department_states",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("active_version", Integer, nullable=True),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("changed_by", String(200), nullable=False),
)

# Admins' changes to the routes of the files and packages: "add" (with an optional JSON
# condition) or "remove", one row per message type, department and role.
route_changes = Table(
    "route_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_type", String(100), nullable=False),
    Column("department", String(64), nullable=False),
    Column("role", String(10), nullable=False),
    Column("action", String(8), nullable=False),
    Column("condition", Text, nullable=True),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("changed_by", String(200), nullable=False),
    UniqueConstraint("message_type", "department", "role", name="uq_route_changes_route"),
)

# One row (id 1): raised by every change, so that every process knows when to reload.
config_generation = Table(
    "config_generation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", Integer, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)
