"""The configuration a process runs with: the departments and routes files and the shipped
mappings (the base), with the registered packages, department states and admins' route
changes from the database on top."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from hub.bundle import network_of
from hub.configuration import state
from hub.configuration.compile import CompiledPackage, compile_package
from hub.configuration.package import package_from_zip
from hub.configuration.state import StoredConfiguration
from hub.departments import (
    DepartmentConfig,
    DepartmentDirectory,
    parse_endpoint_overrides,
    with_endpoint,
)
from hub.errors import ConfigurationError
from hub.mapping import Mapping, MappingRegistry
from hub.routing import RouteEntry, RoutingTable, read_route_file
from hub.schemas import SchemaRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Configuration:
    generation: int
    departments: DepartmentDirectory
    routes: RoutingTable
    mappings: MappingRegistry
    # Every route in force, disabled departments' included (``routes list`` shows them).
    entries: tuple[RouteEntry, ...]
    packages: dict[str, CompiledPackage] = field(default_factory=dict)
    disabled: frozenset[str] = frozenset()


@dataclass(frozen=True)
class BaseConfiguration:
    """What the files say; read once per process."""

    departments: dict[str, DepartmentConfig]
    entries: tuple[RouteEntry, ...]
    mappings: MappingRegistry
    # GOVHUB_DEPARTMENT_ENDPOINTS: also for departments registered at runtime.
    endpoints: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_files(
        cls, departments_file: Path, routes_file: Path, endpoints: str, schemas: SchemaRegistry
    ) -> BaseConfiguration:
        overrides = parse_endpoint_overrides(endpoints)
        directory = DepartmentDirectory.from_file(departments_file).with_endpoints(overrides)
        for code in sorted(set(overrides) - set(directory.codes())):
            log.info("endpoint override for %s applies once %s is registered", code, code)
        return cls(
            {config.code: config for config in directory},
            tuple(read_route_file(routes_file)),
            MappingRegistry(schemas=schemas),
            overrides,
        )


class ConfigurationLoader:
    def __init__(
        self, base: BaseConfiguration, engine: Engine, schemas: SchemaRegistry, workspace: Path
    ) -> None:
        self.base = base
        self.engine = engine
        self.schemas = schemas
        self.workspace = workspace
        self._compiled: dict[tuple[str, int], CompiledPackage] = {}
        self._lock = threading.Lock()

    def generation(self) -> int:
        with self.engine.connect() as connection:
            return state.generation(connection)

    def load(self) -> Configuration:
        with self.engine.connect() as connection:
            stored = state.read(connection)
        return self.assemble(stored)

    def assemble(
        self, stored: StoredConfiguration, extra: CompiledPackage | None = None
    ) -> Configuration:
        """The configuration ``stored`` describes (with ``extra`` as the active version of its
        department: a registration being checked). Raises ConfigurationError if it cannot
        deliver what its routes promise."""
        packages = {
            code: self.compiled(row.code, row.version, row.package)
            for code, row in stored.active_packages.items()
        }
        if extra is not None:
            packages[extra.code] = extra
        departments = dict(self.base.departments)
        departments.update(
            {
                code: with_endpoint(p.description.department, self.base.endpoints)
                for code, p in packages.items()
            }
        )
        disabled = frozenset(code for code, s in stored.states.items() if not s.enabled)
        entries = _apply_changes(
            [*self.base.entries, *(r for p in packages.values() for r in p.description.routes)],
            stored,
        )
        mappings = self.base.mappings.with_mappings(
            m for p in packages.values() for m in p.mappings
        )
        mappings.archive = self.archived_mapping
        routes = RoutingTable.from_entries(e for e in entries if e.department not in disabled)
        routes.check_against(set(departments))
        configuration = Configuration(
            stored.generation,
            DepartmentDirectory(departments, disabled),
            routes,
            mappings,
            tuple(entries),
            packages,
            disabled,
        )
        check_deliverable(configuration)
        return configuration

    def compiled(self, code: str, version: int, package: bytes) -> CompiledPackage:
        """A stored package version, compiled once per process."""
        key = (code, version)
        with self._lock:
            if key not in self._compiled:
                source = f"{code} version {version}"
                self._compiled[key] = compile_package(
                    package_from_zip(package, source), version, self.workspace, self.schemas
                )
            return self._compiled[key]

    def archived_mapping(self, name: str) -> Mapping | None:
        """An older version of a package's mapping, for a replay pinned to it."""
        department, direction, rest = [*name.split("/", 2), "", ""][:3]
        message_type, _, version = rest.partition("@")
        if not version.isdigit():
            return None
        with self.engine.connect() as connection:
            row = state.package_row(connection, department, int(version))
        if row is None:
            return None
        return self.compiled(row.code, row.version, row.package).mapping(direction, message_type)


def _apply_changes(entries: Iterable[RouteEntry], stored: StoredConfiguration) -> list[RouteEntry]:
    by_key = {entry.key: entry for entry in entries}
    for change in stored.route_changes:
        if change.action == "remove":
            by_key.pop(change.entry.key, None)
        else:
            by_key[change.entry.key] = change.entry
    return list(by_key.values())


def check_deliverable(configuration: Configuration) -> None:
    """Every receiver of every route has an outbound mapping and an operation for it; all
    gaps are reported at once, instead of as failed deliveries later."""
    gaps = []
    routes, departments = configuration.routes, configuration.departments
    for message_type in routes.message_types():
        for receiver in routes.route(message_type).receivers:
            if "/" in receiver:  # DIVISION/CODE: the canonical record goes to another hub
                continue
            if network_of(departments.get(receiver)) is not None:
                continue  # a bundle carries the canonical message: nothing to translate here
            if configuration.mappings.find(receiver, "outbound", message_type) is None:
                gaps.append(f"no outbound mapping {receiver}/outbound/{message_type}")
            if message_type not in departments.get(receiver).operations:
                gaps.append(f"department {receiver} has no operation for {message_type}")
    if gaps:
        raise ConfigurationError("routes cannot be delivered: " + "; ".join(gaps))
