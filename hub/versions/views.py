"""What admins see of the versions: which version each department receives and what it loses
(`govhub departments show`, the catalogue, `govhub versions`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hub.mapping import Mapping
from hub.versions.catalog import BASE_VERSION
from hub.versions.model import ModelVersions, default_versions


@dataclass(frozen=True)
class Received:
    """The version ``department`` receives ``message_type`` in, and what a record sent in a
    newer version loses on its way there (empty: nothing)."""

    department: str
    message_type: str
    version: str
    lossy: tuple[str, ...] = ()


def received_versions(
    mappings: Iterable[Mapping], versions: ModelVersions | None = None
) -> list[Received]:
    """One entry per outbound mapping of a type with more than one version."""
    versions = versions or default_versions()
    declared = versions.declared_by(mappings)
    versioned = set(versions.table.types())
    entries = []
    for (department, message_type), version in sorted(declared.items()):
        if message_type not in versioned:
            continue
        newest = versions.table.versions_of(message_type)[-1].version
        lossy = tuple(
            f"from {step.source.version}: {step.lossy}"
            for step in versions.lossy_steps(message_type, newest, version)
        )
        entries.append(Received(department, message_type, version, lossy))
    return entries


def department_versions(mappings: Iterable[Mapping], code: str) -> list[dict[str, Any]]:
    """For `govhub departments show`: each type CODE receives, in which version, and what it
    loses (a receiver on 1.0 of a type that has a 2.0 gets the lossy form)."""
    return [
        {"message_type": r.message_type, "version": r.version, "lossy": list(r.lossy) or None}
        for r in received_versions(mappings)
        if r.department == code
    ]


def version_rows(mappings: Iterable[Mapping]) -> list[dict[str, Any]]:
    """For `govhub versions`: every version of every versioned type, with who receives it."""
    versions = default_versions()
    received = received_versions(mappings, versions)
    rows = []
    for message_type in versions.table.types():
        for version in versions.table.versions_of(message_type):
            rows.append(
                {
                    "message_type": message_type,
                    "version": version.version,
                    "status": version.status,
                    "schema": version.schema,
                    "follows": version.follows,
                    "lossy_down": version.lossy,
                    "receivers": [
                        r.department
                        for r in received
                        if r.message_type == message_type and r.version == version.version
                    ],
                    "base": version.version == BASE_VERSION,
                }
            )
    return rows
