"""What an admin does to the running configuration: register, check, disable, enable and
roll back departments; add and remove routes. Each change is checked against the whole
configuration it would produce, written in one transaction with its audit entry, and raises
the generation that every process watches. Used by the CLI and the SOAP admin API."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from hub.conditions import Condition
from hub.configuration import state
from hub.configuration.checks import (
    EXAMPLES,
    adapter_name_problem,
    canonical_examples,
    canonical_message_types,
    check_package,
    condition_errors,
    description_problems,
)
from hub.configuration.compile import CompiledPackage, compile_with_reasons
from hub.configuration.loader import Configuration, ConfigurationLoader
from hub.configuration.package import DepartmentPackage, describe
from hub.configuration.state import DepartmentState, PackageRow, RouteChange, StoredConfiguration
from hub.errors import ConfigurationError, NotFound, RegistrationRefused
from hub.routing import Role, RouteEntry


@dataclass
class Outcome:
    """What a command did: the department (or route), the version, what to know."""

    subject: str
    changed: bool
    version: int | None = None
    generation: int | None = None
    warnings: list[str] = field(default_factory=list)
    note: str = ""
    # "reachable" or "not reachable" when the endpoint was probed (only when asked for).
    endpoint: str | None = None


class ConfigurationAdmin:
    def __init__(
        self,
        loader: ConfigurationLoader,
        *,
        announce: Callable[[int], None] = lambda generation: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.loader = loader
        self.engine: Engine = loader.engine
        self.announce = announce
        self.clock = clock

    # -- reading ---------------------------------------------------------------------------

    def current(self) -> Configuration:
        return self.loader.load()

    def versions(self, code: str) -> list[PackageRow]:
        with self.engine.connect() as connection:
            return state.versions(connection, code)

    # -- departments -----------------------------------------------------------------------

    def check(self, package: DepartmentPackage, *, probe_endpoint: bool = False) -> Outcome:
        """Every check of a registration, nothing stored; RegistrationRefused lists all
        the errors. ``probe_endpoint``: also try to connect to the department's endpoint."""
        with self.engine.connect() as connection:
            stored = state.read(connection)
            version = _next_version(connection, package)
        code = describe(package).code
        reasons: list[str] = []
        if code in self.loader.base.departments:
            reasons.append(
                f"{code} is defined by the departments file; a package registers a new department"
            )
        workspace, schemas = self.loader.workspace, self.loader.schemas
        try:
            compiled, not_compiled = compile_with_reasons(package, version, workspace, schemas)
        except RegistrationRefused as refused:  # a schema reference: nothing may be compiled
            reasons += refused.reasons + _uncompiled_problems(package, version)
            raise RegistrationRefused(f"department {code}", reasons) from None
        reasons += not_compiled
        report = check_package(
            compiled,
            package,
            message_types=canonical_message_types(),
            probe_endpoint=probe_endpoint,
        )
        reasons += report.errors
        if not reasons:
            try:
                self.loader.assemble(_with_version(stored, code, version), extra=compiled)
            except ConfigurationError as exc:
                reasons.append(exc.message)
        if reasons:
            raise RegistrationRefused(f"department {code}", reasons)
        return Outcome(
            code, False, version=version, warnings=report.warnings, endpoint=report.endpoint
        )

    def register(
        self, package: DepartmentPackage, actor: str, *, probe_endpoint: bool = False
    ) -> Outcome:
        checked = self.check(package, probe_endpoint=probe_endpoint)
        code, sha = checked.subject, package.sha256()
        with self.engine.begin() as connection:
            state.lock(connection)
            stored = state.read(connection)
            active = stored.active_packages.get(code)
            if active is not None and active.sha256 == sha:
                checked.version, checked.note = active.version, "unchanged: already active"
                return checked
            version = _next_version(connection, package)
            if version != checked.version:  # someone registered meanwhile: check again
                raise RegistrationRefused(f"department {code}", ["registered meanwhile; retry"])
            at = self.clock()
            state.add_package(
                connection,
                PackageRow(code, version, package.to_zip(), sha, package.source, at, actor),
            )
            enabled = stored.states[code].enabled if code in stored.states else True
            state.set_state(connection, DepartmentState(code, enabled, version), at=at, actor=actor)
            checked.generation = state.changed(
                connection,
                at=at,
                actor=actor,
                subject=f"department {code}",
                details={"operation": "register", "version": version, "sha256": sha},
            )
        checked.changed = True
        return self._announced(checked)

    def set_enabled(self, code: str, enabled: bool, actor: str) -> Outcome:
        def change(stored: StoredConfiguration) -> DepartmentState:
            known = stored.states.get(code)
            if known is None and code not in self.loader.base.departments:
                raise NotFound(f"no department {code}")
            if known is None:
                return DepartmentState(code, enabled, None)
            return DepartmentState(code, enabled, known.active_version)

        operation = "enable" if enabled else "disable"
        return self._change_state(code, change, actor, {"operation": operation})

    def rollback(self, code: str, version: int, actor: str) -> Outcome:
        with self.engine.connect() as connection:
            row = state.package_row(connection, code, version)
        if row is None:
            raise NotFound(f"department {code} has no version {version}")
        compiled = self.loader.compiled(code, version, row.package)

        def change(stored: StoredConfiguration) -> DepartmentState:
            known = stored.states.get(code)
            return DepartmentState(code, known.enabled if known else True, version)

        details = {"operation": "rollback", "version": version}
        return self._change_state(code, change, actor, details, extra=compiled)

    # -- routes ----------------------------------------------------------------------------

    def add_route(
        self,
        message_type: str,
        department: str,
        role: Role,
        actor: str,
        condition: Condition | None = None,
    ) -> Outcome:
        entry = RouteEntry(message_type, department, role, condition, origin="admin")
        if message_type not in canonical_message_types():
            raise RegistrationRefused(
                f"route {_describe(entry)}", [f"unknown message type {message_type!r}"]
            )
        if condition is not None:
            samples = self._canonical_examples(department, message_type)
            if errors := condition_errors(condition, samples):
                raise RegistrationRefused(f"route {_describe(entry)}", errors)
        return self._change_route(entry, RouteChange(entry, "add"), actor)

    def remove_route(self, message_type: str, department: str, role: Role, actor: str) -> Outcome:
        entry = RouteEntry(message_type, department, role)
        current = {e.key for e in self.current().entries}
        if entry.key not in current:
            raise NotFound(f"no route {_describe(entry)}")
        return self._change_route(entry, RouteChange(entry, "remove"), actor)

    def _canonical_examples(self, department: str, message_type: str) -> dict[str, bytes]:
        """The receiver's registered canonical examples of the type (none for a department
        from the departments file: it has no package)."""
        compiled = self.current().packages.get(department)
        if compiled is None:
            return {}
        folder = compiled.folder / EXAMPLES
        files = {f.relative_to(folder).as_posix(): f for f in folder.rglob("*") if f.is_file()}
        chosen = canonical_examples(dict.fromkeys(files, b""), message_type)
        return {name: files[name].read_bytes() for name in chosen}

    # -- the transaction of every change -----------------------------------------------------

    def _change_state(
        self,
        code: str,
        change: Callable[[StoredConfiguration], DepartmentState],
        actor: str,
        details: dict[str, Any],
        extra: CompiledPackage | None = None,
    ) -> Outcome:
        with self.engine.begin() as connection:
            state.lock(connection)
            stored = state.read(connection)
            new_state = change(stored)
            if stored.states.get(code) == new_state:
                return Outcome(code, False, new_state.active_version, note="already so")
            trial = dataclasses.replace(stored, states={**stored.states, code: new_state})
            self._trial(trial, f"department {code}", extra)
            at = self.clock()
            state.set_state(connection, new_state, at=at, actor=actor)
            generation = state.changed(
                connection, at=at, actor=actor, subject=f"department {code}", details=details
            )
        return self._announced(Outcome(code, True, new_state.active_version, generation))

    def _change_route(self, entry: RouteEntry, change: RouteChange, actor: str) -> Outcome:
        subject = f"route {_describe(entry)}"
        with self.engine.begin() as connection:
            state.lock(connection)
            stored = state.read(connection)
            others = [c for c in stored.route_changes if c.entry.key != entry.key]
            trial = dataclasses.replace(stored, route_changes=[*others, change])
            self._trial(trial, subject)
            at = self.clock()
            state.set_route_change(connection, change, entry, at=at, actor=actor)
            details: dict[str, Any] = {"operation": f"route {change.action}"}
            if entry.condition is not None:
                details["condition"] = entry.condition.as_dict()
            generation = state.changed(
                connection, at=at, actor=actor, subject=subject, details=details
            )
        return self._announced(Outcome(subject, True, generation=generation))

    def _trial(
        self, stored: StoredConfiguration, subject: str, extra: CompiledPackage | None = None
    ) -> Configuration:
        """The configuration the change would make (``extra``: a package version to make
        active); refused, with why, if it cannot deliver what its routes promise."""
        if extra is not None:
            stored = _with_version(stored, extra.code, extra.description.department.version)
        try:
            return self.loader.assemble(stored, extra=extra)
        except ConfigurationError as exc:
            raise RegistrationRefused(subject, [exc.message]) from exc

    def _announced(self, outcome: Outcome) -> Outcome:
        if outcome.generation is not None:
            self.announce(outcome.generation)
        return outcome


def _uncompiled_problems(package: DepartmentPackage, version: int) -> list[str]:
    """What department.toml alone says is wrong, for a package that could not be compiled."""
    description = describe(package, version)
    problems = description_problems(description, package, canonical_message_types())
    misnamed = adapter_name_problem(description.department)
    return problems if misnamed is None else [*problems, misnamed]


def _next_version(connection: Connection, package: DepartmentPackage) -> int:
    code = describe(package).code
    known = state.versions(connection, code)
    return known[-1].version + 1 if known else 1


def _with_version(
    stored: StoredConfiguration, code: str, version: int | None
) -> StoredConfiguration:
    known = stored.states.get(code)
    enabled = known.enabled if known else True
    states = {**stored.states, code: DepartmentState(code, enabled, version)}
    active = {k: v for k, v in stored.active_packages.items() if k != code}
    return dataclasses.replace(stored, states=states, active_packages=active)


def _describe(entry: RouteEntry) -> str:
    text = f"{entry.department} {entry.role} {entry.message_type}"
    return text + (f" when {entry.condition.describe()}" if entry.condition else "")
