"""Turn a department package into what the hub runs: the department's settings (WSDL path
resolved), its schemas and its compiled mappings, each stamped with the package version.

A package is written once to a folder named by its hash (schemas include each other by
relative path, and zeep reads a WSDL from a file); the folder is the same for every process
on a host, so it is written once and only read afterwards.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import jsonschema
from lxml import etree

from hub.configuration.package import DepartmentPackage, Description, describe
from hub.configuration.references import is_relative_inside, reference_problems
from hub.departments import DepartmentConfig
from hub.errors import ConfigurationError, RegistrationRefused
from hub.mapping.engine import Mapping, compile_mapping
from hub.mapping.fileformat import DIRECTIONS, read_spec
from hub.schemas import SchemaRegistry

MAPPINGS = "mappings"
SCHEMAS = "schemas"


class PackageSchemas(SchemaRegistry):
    """The package's own schemas (``departments/<CODE>/...``) from its folder; every other
    path (canonical, header) from the hub's shared registry, compiled once for all."""

    def __init__(self, code: str, folder: Path, shared: SchemaRegistry) -> None:
        super().__init__(root=folder)
        self.prefix = f"departments/{code}/"
        self.shared = shared

    def xml_schema(self, relative_path: str) -> etree.XMLSchema:
        if not relative_path.startswith(self.prefix):
            self._shared_exists(relative_path)
            return self.shared.xml_schema(relative_path)
        return super().xml_schema(relative_path)

    def validate_xml(self, element: etree._Element, relative_path: str) -> None:
        if not relative_path.startswith(self.prefix):
            return self.shared.validate_xml(element, relative_path)
        return super().validate_xml(element, relative_path)

    def json_validator(self, relative_path: str) -> jsonschema.protocols.Validator:
        if not relative_path.startswith(self.prefix):
            self._shared_exists(relative_path)
            return self.shared.json_validator(relative_path)
        return super().json_validator(relative_path)

    def validate_json(self, document: object, relative_path: str) -> None:
        if not relative_path.startswith(self.prefix):
            return self.shared.validate_json(document, relative_path)
        return super().validate_json(document, relative_path)

    def _shared_exists(self, relative_path: str) -> None:
        """A schema path outside the package names one of the hub's own (canonical/...); when
        there is none, say how to name the package's file, not where the hub is installed."""
        shared = (self.shared.root / relative_path).resolve()
        if shared.is_file() and self.shared.root.resolve() in shared.parents:
            return
        name = relative_path.removeprefix(f"{SCHEMAS}/")
        raise ConfigurationError(
            f"schema {relative_path} is not in the package: a schema of the package is named "
            f"{self.prefix}<path under schemas/>, e.g. {self.prefix}{name} for {SCHEMAS}/{name}"
        )

    def local_path(self, relative_path: str) -> Path:
        return self.root / relative_path[len(self.prefix) :]

    def _existing(self, relative_path: str) -> Path:
        if not is_relative_inside(relative_path[len(self.prefix) :]):
            raise ConfigurationError(
                f"schema {relative_path} must be a relative path inside the package's schemas/"
            )
        path = self.local_path(relative_path).resolve()
        if not path.is_file() or self.root.resolve() not in path.parents:
            inside = f"{SCHEMAS}/{relative_path[len(self.prefix) :]}"
            raise ConfigurationError(f"schema {relative_path}: {inside} is not in the package")
        return path


@dataclass(frozen=True)
class CompiledPackage:
    description: Description
    mappings: tuple[Mapping, ...]
    schemas: PackageSchemas
    folder: Path
    sha256: str
    # False when the wsdl setting was refused: nothing may read the file it names.
    wsdl_usable: bool = True

    @property
    def code(self) -> str:
        return self.description.code

    def mapping(self, direction: str, message_type: str) -> Mapping | None:
        return next(
            (
                m
                for m in self.mappings
                if (m.direction, m.message_type) == (direction, message_type)
            ),
            None,
        )


def compile_package(
    package: DepartmentPackage, version: int, workspace: Path, shared: SchemaRegistry
) -> CompiledPackage:
    """Everything the package holds, compiled; RegistrationRefused lists every problem."""
    compiled, reasons = compile_with_reasons(package, version, workspace, shared)
    if reasons:
        raise RegistrationRefused(f"department {compiled.code}", reasons)
    return compiled


def compile_with_reasons(
    package: DepartmentPackage, version: int, workspace: Path, shared: SchemaRegistry
) -> tuple[CompiledPackage, list[str]]:
    """What of the package compiles, and why the rest does not: a registration check goes
    on with the other checks, so that one round names every problem."""
    description = describe(package, version)
    # Before anything is written or compiled: no schema may lead the compiler outside.
    outside = reference_problems(package)
    if outside:
        raise RegistrationRefused(f"department {description.code}", outside)
    sha = package.sha256()
    folder = materialize(package, workspace / description.code / sha[:20])
    schemas = PackageSchemas(description.code, folder / SCHEMAS, shared)
    reasons: list[str] = []
    wsdl_reasons: list[str] = []
    department = _with_wsdl(description, schemas, wsdl_reasons)
    reasons += wsdl_reasons
    mappings = _mappings(package, description.code, version, folder, schemas, reasons)
    described = dataclasses.replace(description, department=department)
    compiled = CompiledPackage(
        described, tuple(mappings), schemas, folder, sha, wsdl_usable=not wsdl_reasons
    )
    return compiled, _named(reasons, folder, package)


def materialize(package: DepartmentPackage, folder: Path) -> Path:
    """Write the package's files to ``folder`` unless they are there already."""
    if folder.is_dir():
        return folder
    scratch = folder.parent / f".{folder.name}.{uuid.uuid4().hex}"
    for name, data in package.files.items():
        target = scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(scratch, folder)
    except OSError:  # another process wrote the same package first
        shutil.rmtree(scratch, ignore_errors=True)
    return folder


def _with_wsdl(
    description: Description, schemas: PackageSchemas, reasons: list[str]
) -> DepartmentConfig:
    department = description.department
    if not department.wsdl:
        return department
    if not department.wsdl.startswith(schemas.prefix):
        reasons.append(f"department.toml: wsdl must be {schemas.prefix}<path under schemas/>")
        return department
    if not is_relative_inside(department.wsdl[len(schemas.prefix) :]):
        reasons.append("department.toml: wsdl must be a relative path inside schemas/ (no ..)")
        return department
    path = schemas.local_path(department.wsdl)
    if not path.is_file():
        reasons.append(f"department.toml: wsdl {department.wsdl} is not in the package's schemas/")
    return dataclasses.replace(department, wsdl=str(path))


def _mappings(
    package: DepartmentPackage,
    code: str,
    version: int,
    folder: Path,
    schemas: SchemaRegistry,
    reasons: list[str],
) -> list[Mapping]:
    compiled = []
    for name in sorted(package.under(MAPPINGS)):
        direction, _, file_name = name.partition("/")
        where = f"{MAPPINGS}/{name}"
        if direction not in DIRECTIONS or "/" in file_name or not file_name.endswith(".toml"):
            reasons.append(f"{where}: expected mappings/<inbound|outbound>/<MessageType>.toml")
            continue
        try:
            spec = read_spec(folder / MAPPINGS / name)
            expected = (code, direction, file_name.removesuffix(".toml"))
            if (spec.department, spec.direction, spec.message_type) != expected:
                raise ConfigurationError(
                    f"{where}: its [mapping] table says {spec.department}/{spec.direction}/"
                    f"{spec.message_type}; in this package it must be {'/'.join(expected)}"
                )
            # The package version is the mapping's version: one number names both the
            # mapping and the schemas it was compiled against.
            compiled.append(compile_mapping(dataclasses.replace(spec, version=version), schemas))
        except ConfigurationError as exc:
            reasons.append(exc.message)
    return compiled


def _named(reasons: list[str], folder: Path, package: DepartmentPackage) -> list[str]:
    """Reasons name the package as the admin knows it, not the folder it was written to."""
    return [reason.replace(str(folder), package.source) for reason in reasons]
