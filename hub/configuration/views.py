"""The configuration as admins see it (CLI and SOAP admin API): plain dicts and lists."""

from __future__ import annotations

from typing import Any

from hub.configuration.loader import Configuration
from hub.configuration.state import PackageRow
from hub.versions.views import department_versions


def department_rows(configuration: Configuration) -> list[dict[str, Any]]:
    return [department_row(configuration, code) for code in configuration.departments.codes()]


def department_row(configuration: Configuration, code: str) -> dict[str, Any]:
    config = configuration.departments.get(code)
    return {
        "code": code,
        "name": config.name,
        "version": config.version,
        "origin": "package" if config.version else "file",
        "enabled": code not in configuration.disabled,
        "adapter": config.adapter,
        "endpoint": config.endpoint,
    }


def department_detail(
    configuration: Configuration, code: str, versions: list[PackageRow]
) -> dict[str, Any]:
    view = department_row(configuration, code)
    view["operations"] = dict(configuration.departments.get(code).operations)
    view["routes"] = [row for row in route_rows(configuration) if row["department"] == code]
    view["mappings"] = [m.name for m in configuration.mappings.all() if m.department == code]
    view["canonical_versions"] = department_versions(configuration.mappings.all(), code)
    view["versions"] = [
        {
            "version": row.version,
            "sha256": row.sha256,
            "source": row.source,
            "registered_at": row.registered_at.isoformat(),
            "registered_by": row.registered_by,
        }
        for row in versions
    ]
    return view


def route_rows(configuration: Configuration) -> list[dict[str, Any]]:
    entries = sorted(configuration.entries, key=lambda e: (e.message_type, e.role, e.department))
    return [
        {
            "message_type": entry.message_type,
            "role": entry.role,
            "department": entry.department,
            "origin": entry.origin,
            "when": entry.condition.describe() if entry.condition else None,
            "enabled": entry.department not in configuration.disabled,
        }
        for entry in entries
    ]
