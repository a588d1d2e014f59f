"""Reading and writing the configuration tables. Every change raises the generation and is
written to the audit chain in the same transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from hub.conditions import Condition, parse_condition
from hub.configuration.tables import (
    config_generation,
    department_packages,
    department_states,
    route_changes,
)
from hub.routing import Role, RouteEntry
from hub.security import audit

GENERATION_ID = 1


@dataclass(frozen=True)
class PackageRow:
    code: str
    version: int
    package: bytes
    sha256: str
    source: str
    registered_at: datetime
    registered_by: str


@dataclass(frozen=True)
class DepartmentState:
    code: str
    enabled: bool
    active_version: int | None


@dataclass(frozen=True)
class RouteChange:
    entry: RouteEntry
    action: str  # add | remove


@dataclass(frozen=True)
class StoredConfiguration:
    generation: int
    states: dict[str, DepartmentState]
    active_packages: dict[str, PackageRow]
    route_changes: list[RouteChange]


def generation(connection: Connection) -> int:
    value = connection.execute(
        select(config_generation.c.generation).where(config_generation.c.id == GENERATION_ID)
    ).scalar_one_or_none()
    return int(value or 0)


def lock(connection: Connection) -> None:
    """Take the generation row first: configuration changes happen one at a time, each
    seeing the one before (and two registrations cannot pick the same version)."""
    connection.execute(
        update(config_generation)
        .where(config_generation.c.id == GENERATION_ID)
        .values(generation=config_generation.c.generation)
    )


def read(connection: Connection) -> StoredConfiguration:
    states = {
        row.code: DepartmentState(row.code, bool(row.enabled), row.active_version)
        for row in connection.execute(select(department_states))
    }
    active = {
        code: package
        for code, state in states.items()
        if state.active_version is not None
        and (package := package_row(connection, code, state.active_version)) is not None
    }
    changes = [
        RouteChange(_entry(row), row.action)
        for row in connection.execute(select(route_changes).order_by(route_changes.c.id))
    ]
    return StoredConfiguration(generation(connection), states, active, changes)


def package_row(connection: Connection, code: str, version: int) -> PackageRow | None:
    row = connection.execute(
        select(department_packages).where(
            department_packages.c.code == code, department_packages.c.version == version
        )
    ).one_or_none()
    if row is None:
        return None
    return PackageRow(
        row.code,
        row.version,
        row.package,
        row.sha256,
        row.source,
        row.registered_at,
        row.registered_by,
    )


def versions(connection: Connection, code: str) -> list[PackageRow]:
    """Every registered version of a department, oldest first (without the zips)."""
    rows = connection.execute(
        select(
            department_packages.c.version,
            department_packages.c.sha256,
            department_packages.c.source,
            department_packages.c.registered_at,
            department_packages.c.registered_by,
        )
        .where(department_packages.c.code == code)
        .order_by(department_packages.c.version)
    )
    return [
        PackageRow(code, r.version, b"", r.sha256, r.source, r.registered_at, r.registered_by)
        for r in rows
    ]


def add_package(connection: Connection, row: PackageRow) -> None:
    connection.execute(
        insert(department_packages).values(
            code=row.code,
            version=row.version,
            package=row.package,
            sha256=row.sha256,
            source=row.source[:500],
            registered_at=row.registered_at,
            registered_by=row.registered_by,
        )
    )


def set_state(
    connection: Connection,
    state: DepartmentState,
    *,
    at: datetime,
    actor: str,
) -> None:
    values = {
        "enabled": state.enabled,
        "active_version": state.active_version,
        "changed_at": at,
        "changed_by": actor,
    }
    changed = connection.execute(
        update(department_states).where(department_states.c.code == state.code).values(**values)
    ).rowcount
    if not changed:
        connection.execute(insert(department_states).values(code=state.code, **values))


def set_route_change(
    connection: Connection, change: RouteChange | None, key: RouteEntry, *, at: datetime, actor: str
) -> None:
    """Replace the admin change for ``key``'s route (None: forget it)."""
    connection.execute(
        delete(route_changes).where(
            route_changes.c.message_type == key.message_type,
            route_changes.c.department == key.department,
            route_changes.c.role == key.role,
        )
    )
    if change is None:
        return
    condition = change.entry.condition
    connection.execute(
        insert(route_changes).values(
            message_type=key.message_type,
            department=key.department,
            role=key.role,
            action=change.action,
            condition=json.dumps(condition.as_dict()) if condition else None,
            changed_at=at,
            changed_by=actor,
        )
    )


def changed(
    connection: Connection, *, at: datetime, actor: str, subject: str, details: dict[str, Any]
) -> int:
    """Raise the generation (every process reloads) and audit the change; the new generation."""
    connection.execute(
        update(config_generation)
        .where(config_generation.c.id == GENERATION_ID)
        .values(generation=config_generation.c.generation + 1, changed_at=at)
    )
    audit.append(
        connection,
        actor=actor,
        action=audit.ADMIN_CHANGE,
        subject=subject,
        at=at,
        details=details,
    )
    return generation(connection)


def _entry(row: Any) -> RouteEntry:
    condition: Condition | None = None
    if row.condition:
        condition = parse_condition(json.loads(row.condition), "route_changes", stored=True)
    role: Role = "sends" if row.role == "sends" else "receives"
    return RouteEntry(row.message_type, row.department, role, condition, origin="admin")
